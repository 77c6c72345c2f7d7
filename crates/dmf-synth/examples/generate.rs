//! Generates a data set and prints the summary and the speed:
//! `generate PEOPLE SEED AS_OF DIR [CLIENTS [REPORT_DAYS]]`.

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if !(5..=7).contains(&args.len()) {
        eprintln!("usage: generate PEOPLE SEED AS_OF DIR [CLIENTS [REPORT_DAYS]]");
        std::process::exit(2);
    }
    let mut config = dmf_synth::Config::new(
        args[1].parse().expect("PEOPLE"),
        args[2].parse().expect("SEED"),
        args[3].parse().expect("AS_OF as YYYY-MM-DD"),
    );
    if let Some(clients) = args.get(5) {
        config.clients = Some(clients.parse().expect("CLIENTS"));
    }
    if let Some(days) = args.get(6) {
        config.report_days = days.parse().expect("REPORT_DAYS");
    }
    let started = Instant::now();
    let summary = dmf_synth::generate(&config, args[4].as_ref(), &|_| {}).expect("generate");
    let seconds = started.elapsed().as_secs_f64();
    println!("{summary:?}");
    println!(
        "{seconds:.3} s, {:.0} people/s",
        config.people as f64 / seconds
    );
}
