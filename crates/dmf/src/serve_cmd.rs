//! `dmf serve` and the demo: the HTTP service.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use dmf_server::{App, Config};

use clap::Args;

use crate::args::{AlertArgs, Database, Today};

/// Whether logs may carry colour codes: on a terminal only, and never with `NO_COLOR` set to
/// anything (no-color.org); a log file or journal would otherwise hold escape codes.
fn log_colour() -> bool {
    use std::io::IsTerminal as _;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

pub(crate) fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(log_colour())
        .with_writer(std::io::stderr)
        .try_init();
}

/// The connection limits the flags give, over the defaults.
fn conn_limits(args: &ConnArgs) -> Result<dmf_server::ConnLimits> {
    let d = dmf_server::ConnLimits::default();
    let secs = |flag: &str, s: u64| {
        if s == 0 {
            bail!("--{flag} must be at least 1 second");
        }
        Ok(std::time::Duration::from_secs(s))
    };
    let max_connections = args.max_connections.unwrap_or(d.max_connections);
    let max_anonymous = args.max_anonymous.unwrap_or((max_connections / 2).max(1));
    if max_connections == 0 || max_anonymous == 0 || max_anonymous > max_connections {
        bail!(
            "--max-connections ({max_connections}) and --max-anonymous ({max_anonymous}) must be \
             at least 1, and --max-anonymous at most --max-connections"
        );
    }
    Ok(dmf_server::ConnLimits {
        header_timeout: secs("header-timeout", args.header_timeout)?,
        body_timeout: secs("body-timeout", args.body_timeout)?,
        send_timeout: secs("send-timeout", args.send_timeout)?,
        max_connections,
        max_anonymous,
    })
}

pub fn serve(args: &ServeArgs, quiet: bool) -> Result<ExitCode> {
    init_tracing();
    // Every flag is checked and the address taken before a demo is built: a mistake or a port
    // in use costs no build, and leaves no folder behind.
    if args.rate == 0 || args.burst == 0 {
        bail!("--rate and --burst must be at least 1");
    }
    let mut config = Config {
        rate_per_second: args.rate,
        rate_burst: args.burst,
        alert_thresholds: args.thresholds.thresholds()?,
        conn: conn_limits(&args.conn)?,
        ..Config::default()
    };
    config.today = args.today.today;
    let letters = &args.letters;
    if letters.letter_check_rate == 0 {
        bail!("--letter-check-rate must be at least 1");
    }
    config.public_url = letters
        .public_url
        .as_deref()
        .map(dmf_server::services::letters::PublicUrl::parse)
        .transpose()
        .context("--public-url")?;
    config.letterhead = letters
        .letterhead
        .iter()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    config.letter_contact = letters
        .letter_contact
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    config.letter_check_rate = letters.letter_check_rate;
    if args.demo && args.database.url().is_some() {
        bail!("--demo makes an embedded registry: leave out --database (and DMF_DATABASE_URL)");
    }
    let existing = match (&args.data, args.demo) {
        (Some(d), false) => Some(d.clone()),
        (None, false) => bail!("give --data DIR, or --demo"),
        (Some(d), true) if d.exists() => {
            bail!("--demo makes a new data folder; {} exists", d.display())
        }
        (_, true) => None,
    };
    let listener = std::net::TcpListener::bind(&args.listen)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    // A demo folder made here is removed if the start fails after all.
    let mut made = None;
    let data = match existing {
        Some(d) => d,
        None => {
            let dir = match &args.data {
                Some(d) => d.clone(),
                None => dmf_demo::temporary_folder()?,
            };
            made = Some(crate::cleanup::Made::new(&dir));
            demo_into(&dir, args, quiet)?;
            dir
        }
    };
    tracing::info!(data = %data.display(), "loading the registry");
    let database = args.database.url();
    let app = Arc::new(App::with_service(
        crate::backend::open(&data, database)?,
        config,
        crate::backend::service(&data, database)?,
    )?);
    if let Some(url) = database {
        follow(app.clone(), url.to_owned());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // The last handle to the app is dropped after the runtime: a database client's connections
    // may not be closed from inside it.
    let keep = app.clone();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::from_std(listener)
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        if args.demo {
            print_demo(&data, &addr.to_string())?;
        } else {
            println!("listening on http://{addr}");
        }
        // Started: the demo folder is the user's now, kept when the service stops.
        if let Some(made) = &mut made {
            made.keep();
        }
        dmf_server::serve(app, listener, shutdown_signal()).await?;
        anyhow::Ok(())
    })?;
    drop(runtime);
    drop(keep);
    Ok(ExitCode::SUCCESS)
}

/// Keeps a node of a shared database current: woken by the database's notifications, and at
/// least every second in any case, so that a missed notification only delays.
fn follow(app: Arc<App>, url: String) {
    std::thread::spawn(move || {
        loop {
            let mut listener = match dmf_postgres::listen(&url) {
                Ok(l) => Some(l),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for new events; polling");
                    None
                }
            };
            loop {
                let woke = match listener.as_mut() {
                    Some(l) => l.wait(std::time::Duration::from_secs(1)).map(|_| ()),
                    None => {
                        std::thread::sleep(std::time::Duration::from_secs(1));
                        Ok(())
                    }
                };
                if let Err(e) = app.follow() {
                    tracing::warn!(error = %e, "cannot follow the database");
                }
                if let Err(e) = woke {
                    tracing::warn!(error = %e, "lost the notification connection; reconnecting");
                    break;
                }
                if listener.is_none() {
                    break;
                }
            }
        }
    });
}

pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Makes the demo registry in `dir`, a progress bar a file.
fn demo_into(dir: &Path, args: &ServeArgs, quiet: bool) -> Result<()> {
    eprintln!(
        "making a demo registry of {} people in {}",
        args.demo_people,
        dir.display()
    );
    let bar = std::cell::RefCell::new(None);
    dmf_demo::build(dir, args.demo_people, args.today.get(), &|file, n| {
        let mut bar = bar.borrow_mut();
        match n {
            Some(n) => bar
                .get_or_insert_with(|| crate::progress::spinner(file, quiet))
                .set_position(n),
            None => {
                if let Some(b) = bar.take() {
                    b.finish_and_clear();
                }
            }
        }
    })?;
    Ok(())
}

/// Example requests against the demo, with a real person from its population.
fn print_demo(data: &Path, addr: &str) -> Result<()> {
    let creds = dmf_demo::credentials(data)?;
    let person = dmf_demo::example(data)?;
    let (ssn, first, last, dob) = (&person.ssn, &person.first, &person.last, &person.dob);
    let key = |r: &str| creds.keys.get(r).cloned().unwrap_or_default();
    println!("dmf demo listening on http://{addr}");
    println!("data folder: {}", data.display());
    println!("API keys:    {}/demo-credentials.json", data.display());
    println!();
    let query = format!(
        "{{\"ssn\":\"{ssn}\",\"first\":\"{first}\",\"last\":\"{last}\",\"dob\":\"{dob}\"}}"
    );
    println!("# identity check (a bank): a code and the death indicator, nothing more");
    println!(
        "curl -s http://{addr}/v1/verify/identity -H 'Authorization: Bearer {}' -H 'Content-Type: application/json' -d '{query}'",
        key("identity")
    );
    println!(
        "# employment eligibility (an employer): authorized, mismatch or final nonconfirmation"
    );
    println!(
        "curl -s http://{addr}/v1/verify/employment -H 'Authorization: Bearer {}' -H 'Content-Type: application/json' -d '{query}'",
        key("employment")
    );
    println!(
        "# a report naming someone else under this SSN is held (outcome \"held\"): it changes nothing"
    );
    println!(
        "curl -s http://{addr}/v1/reports/death -H 'Authorization: Bearer {}' -H 'Content-Type: application/json' -d '{{\"ssn\":\"{ssn}\",\"first\":\"Bob\",\"last\":\"Smith\",\"dod\":\"{}\",\"evidence\":\"EDRS-0\"}}'",
        key("reporter"),
        crate::today()
    );
    println!("# ... and waits for two caseworkers, with each field that differs (a caseworker)");
    println!(
        "curl -s http://{addr}/v1/held -H 'Authorization: Bearer {}'",
        key("caseworker")
    );
    println!("# a death report from a state naming this person: recorded as deceased");
    println!(
        "curl -s http://{addr}/v1/reports/death -H 'Authorization: Bearer {}' -H 'Content-Type: application/json' -d '{{\"ssn\":\"{ssn}\",\"first\":\"{first}\",\"last\":\"{last}\",\"dob\":\"{dob}\",\"dod\":\"{}\",\"evidence\":\"EDRS-1\"}}'",
        key("reporter"),
        crate::today()
    );
    println!(
        "# then a benefit program sees \"deceased\": true; the bank's identity key above still sees false:"
    );
    println!(
        "# a death only a state reported goes to federal benefit programs alone (42 U.S.C. 405(r))"
    );
    println!(
        "curl -s http://{addr}/v1/verify/benefits -H 'Authorization: Bearer {}' -H 'Content-Type: application/json' -d '{query}'",
        key("benefits")
    );
    println!("# who saw this person's record (a caseworker)");
    println!(
        "curl -s http://{addr}/v1/people/{ssn}/accounting -H 'Authorization: Bearer {}'",
        key("caseworker")
    );
    println!("# the signed log and the statistics (public)");
    println!("curl -s http://{addr}/v1/log/checkpoint");
    println!("curl -s 'http://{addr}/v1/stats?period=month'");
    println!("# another agency matches its list under computer-matching agreement 1");
    println!(
        "curl -s http://{addr}/v1/agreements/1/matches -H 'Authorization: Bearer {}' -H 'Content-Type: application/x-ndjson' -d '{{\"id\":\"case-1\",\"first\":\"{first}\",\"last\":\"{last}\",\"dob\":\"{dob}\"}}'",
        key("agency")
    );
    println!("# every route: http://{addr}/openapi.json");
    println!(
        "# the caseworker console: http://{addr}/console (users and passwords under \"console\" in demo-credentials.json)"
    );
    Ok(())
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The data folder of the registry.
    #[arg(long, required_unless_present = "demo")]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub database: Database,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Make a demo registry (a synthetic population, one key per role in
    /// DATA/demo-credentials.json) in a new folder (--data, or a temporary one) and serve it.
    #[arg(long)]
    pub demo: bool,
    /// People of the demo population.
    #[arg(long, default_value_t = 1_000_000)]
    pub demo_people: u64,
    #[command(flatten)]
    pub today: Today,
    /// Requests (records, in a batch) a second each API key may make on average.
    #[arg(long, default_value_t = 2_000)]
    pub rate: u32,
    /// Requests (records) an API key may make at once beyond its rate.
    #[arg(long, default_value_t = 4_000)]
    pub burst: u32,
    #[command(flatten)]
    pub thresholds: AlertArgs,
    #[command(flatten)]
    pub conn: ConnArgs,
    #[command(flatten)]
    pub letters: LetterArgs,
}

/// What correction letters print, and how often anyone may check one.
#[derive(Debug, Args)]
pub struct LetterArgs {
    /// The address the public reaches the registry at (such as https://registry.example.gov),
    /// printed on correction letters for their check page; a request's Host is never used.
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// A line of the letters' letterhead: the office's name, then each line of its address
    /// (give it once a line; default: the log's origin).
    #[arg(long, value_name = "LINE")]
    pub letterhead: Vec<String>,
    /// Who the person or a bank may ask about a letter, printed as "Questions: TEXT".
    #[arg(long, value_name = "TEXT")]
    pub letter_contact: Option<String>,
    /// Letter checks a second by everyone together (the public page and the API), with five
    /// seconds' worth at once.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub letter_check_rate: u32,
}

/// How many connections, and how long a client may stall.
#[derive(Debug, Args)]
pub struct ConnArgs {
    /// Seconds a client has to send a request's headers (and the longest a kept-alive
    /// connection may sit idle).
    #[arg(long, default_value_t = 15, value_name = "SECONDS")]
    pub header_timeout: u64,
    /// Seconds a request body may send nothing before it is cut with 408.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub body_timeout: u64,
    /// Seconds a client may read nothing of an answer before it is disconnected.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub send_timeout: u64,
    /// Most open connections (default: three quarters of the open-file limit).
    #[arg(long)]
    pub max_connections: Option<usize>,
    /// Most open connections that have shown no key or session yet; a new one closes the
    /// oldest (default: half of --max-connections).
    #[arg(long)]
    pub max_anonymous: Option<usize>,
}
