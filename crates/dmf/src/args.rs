//! Arguments more than one command takes, each defined once and parsed by clap into its type.

use std::path::PathBuf;

use clap::Args;
use dmf_model::Date;

/// Where the registry's events live, for every command that opens a registry.
#[derive(Debug, Args)]
pub struct Database {
    /// The PostgreSQL database of the registry (`postgres://USER@HOST:PORT/DB`): its events,
    /// and then also its API keys, console users and agreements. By default the data folder's
    /// embedded store and files. `init` and `restore` take an empty one.
    #[arg(long = "database", env = "DMF_DATABASE_URL")]
    pub url: Option<String>,
}

impl Database {
    /// The database's URL, if one was given.
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }
}

/// Thresholds of the intake anomaly alerts; each left out keeps its default.
#[derive(Debug, Args, Clone, Default)]
pub struct AlertArgs {
    /// Days of a group's history each day is compared with [default: 28].
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(i32).range(1..=3650))]
    pub alert_window: Option<i32>,
    /// Standard deviations above the usual daily count for a volume alert [default: 6].
    #[arg(long, value_name = "SD")]
    pub alert_volume_z: Option<f64>,
    /// Fewest reports on a day for a volume alert [default: 50].
    #[arg(long, value_name = "N")]
    pub alert_min_volume: Option<u64>,
    /// A day of a group with too little history alerts from this many [default: 1000].
    #[arg(long, value_name = "N")]
    pub alert_new_group: Option<u64>,
    /// Deaths under this age count as young for the age alert [default: 65].
    #[arg(long, value_name = "YEARS")]
    pub alert_young_age: Option<u16>,
    /// Standard errors above the expected young share for an age alert [default: 6].
    #[arg(long, value_name = "SE")]
    pub alert_age_z: Option<f64>,
    /// Fewest ages on a day for an age alert [default: 30].
    #[arg(long, value_name = "N")]
    pub alert_age_min: Option<usize>,
    /// Points of share above expected for an age alert, 0-1 [default: 0.15].
    #[arg(long, value_name = "SHARE")]
    pub alert_age_excess: Option<f64>,
    /// Standard errors above a group's usual share held for their identity for a mismatch
    /// alert [default: 6].
    #[arg(long, value_name = "SE")]
    pub alert_mismatch_z: Option<f64>,
    /// Fewest held for their identity on a day for a mismatch alert [default: 20].
    #[arg(long, value_name = "N")]
    pub alert_mismatch_min: Option<u64>,
    /// Points of share above the usual for a mismatch alert, 0-1 [default: 0.10].
    #[arg(long, value_name = "SHARE")]
    pub alert_mismatch_excess: Option<f64>,
}

impl AlertArgs {
    pub fn thresholds(&self) -> anyhow::Result<dmf_registry::oversight::anomaly::Thresholds> {
        for (flag, v) in [
            ("--alert-volume-z", self.alert_volume_z),
            ("--alert-age-z", self.alert_age_z),
            ("--alert-age-excess", self.alert_age_excess),
            ("--alert-mismatch-z", self.alert_mismatch_z),
            ("--alert-mismatch-excess", self.alert_mismatch_excess),
        ] {
            if v.is_some_and(|v| !v.is_finite() || v <= 0.0) {
                anyhow::bail!("{flag} must be a positive number");
            }
        }
        for (flag, v) in [
            ("--alert-age-excess", self.alert_age_excess),
            ("--alert-mismatch-excess", self.alert_mismatch_excess),
        ] {
            if v.is_some_and(|v| v >= 1.0) {
                anyhow::bail!("{flag} is a share: give a number below 1");
            }
        }
        Ok(dmf_registry::oversight::anomaly::Thresholds {
            window_days: self.alert_window,
            new_group_volume: self.alert_new_group,
            volume_z: self.alert_volume_z,
            min_volume: self.alert_min_volume,
            young_age: self.alert_young_age,
            age_z: self.alert_age_z,
            age_min_n: self.alert_age_min,
            age_min_excess: self.alert_age_excess,
            held_z: self.alert_mismatch_z,
            held_min: self.alert_mismatch_min,
            held_min_excess: self.alert_mismatch_excess,
        })
    }
}

/// A registry to open: its data folder, and where its events live.
#[derive(Debug, Args)]
pub struct RegistryArgs {
    /// The data folder of the registry.
    #[arg(long)]
    pub data: PathBuf,
    #[command(flatten)]
    pub database: Database,
}

/// The day a command acts for.
#[derive(Debug, Clone, Copy, Args)]
pub struct Today {
    /// The day to act as today, YYYY-MM-DD (default: today's date in UTC).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub today: Option<Date>,
}

impl Today {
    /// The day given, or today's.
    pub fn get(self) -> Date {
        self.today.unwrap_or_else(crate::today)
    }
}

/// How a command prints its result.
#[derive(Debug, Clone, Copy, Args)]
pub struct Output {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}
