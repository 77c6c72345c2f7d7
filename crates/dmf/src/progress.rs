//! Progress bars on standard error, hidden with `--quiet` or when stderr is not a terminal.

use indicatif::{
    HumanBytes, HumanCount, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle,
};

/// A rate in whole units a second ("12,346/s"): indicatif's own `per_sec` shows fractions
/// ("12345.6789/s") that read as noise.
fn whole_rate(per_sec: f64) -> String {
    format!("{}/s", HumanCount(per_sec.max(0.0).round() as u64))
}

/// A byte rate in whole units ("12 MiB/s").
fn whole_byte_rate(per_sec: f64) -> String {
    let text = HumanBytes(per_sec.max(0.0).round() as u64).to_string();
    // HumanBytes keeps two decimals ("11.77 MiB"); whole units are enough for a rate.
    let whole = match text.split_once(' ') {
        Some((n, unit)) => match n.parse::<f64>() {
            Ok(n) => format!("{} {unit}", n.round()),
            Err(_) => text,
        },
        None => text,
    };
    format!("{whole}/s")
}

/// `template` with the `{rate}` and `{byte_rate}` keys these bars use in place of indicatif's.
fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .expect("valid template")
        .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = w.write_str(&whole_rate(s.per_sec()));
        })
        .with_key(
            "byte_rate",
            |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&whole_byte_rate(s.per_sec()));
            },
        )
}

/// A bar counting `unit`s up to `total`.
pub fn bar(total: u64, unit: &str, quiet: bool) -> ProgressBar {
    let target = if quiet {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr_with_hz(8)
    };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    let template = format!(
        "{{elapsed_precise}} [{{wide_bar}}] {{human_pos}}/{{human_len}} {unit} ({{rate}}, {{eta}} left)"
    );
    bar.set_style(style(&template));
    bar
}

/// A bar counting bytes up to `total`.
pub fn bytes_bar(total: u64, quiet: bool) -> ProgressBar {
    let bar = bar(total, "", quiet);
    bar.set_style(style(
        "{elapsed_precise} [{wide_bar}] {bytes}/{total_bytes} ({byte_rate}, {eta} left)",
    ));
    bar
}

/// A counter without a known total.
pub fn spinner(unit: &str, quiet: bool) -> ProgressBar {
    let target = if quiet {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr_with_hz(8)
    };
    let bar = ProgressBar::with_draw_target(None, target);
    let template = format!("{{elapsed_precise}} {{spinner}} {{human_pos}} {unit} ({{rate}})");
    bar.set_style(style(&template));
    bar
}

/// A bar for a run of phases, each named in its message (`set_message`), with its own length.
pub fn phases(quiet: bool) -> ProgressBar {
    let target = if quiet {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr_with_hz(8)
    };
    let bar = ProgressBar::with_draw_target(Some(0), target);
    bar.set_style(style(
        "{elapsed_precise} {msg:>10} [{wide_bar}] {human_pos}/{human_len} ({rate})",
    ));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Progress rates were shown with four decimals ("12345.6789/s").
    #[test]
    fn progress_rates_were_shown_with_fractions() {
        for (rate, expect) in [
            (0.0, "0/s"),
            (0.4, "0/s"),
            (12_345.678_9, "12,346/s"),
            (1_999_999.5, "2,000,000/s"),
            (-1.0, "0/s"),
        ] {
            assert_eq!(whole_rate(rate), expect);
        }
        for (rate, expect) in [
            (512.0, "512 B/s"),
            (12_345_678.0, "12 MiB/s"),
            (1_610_612_736.0, "2 GiB/s"),
        ] {
            assert_eq!(whole_byte_rate(rate), expect);
        }
    }
}
