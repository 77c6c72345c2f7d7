//! For tests, here and in other crates: the PostgreSQL server under test (from
//! `DMF_TEST_DATABASE_URL`), a fresh database (and, where needed, a login role) per test,
//! dropped again at the end, so tests are isolated and run in parallel.

use std::str::FromStr;
use std::time::Duration;

use postgres::{Client, Config, NoTls};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A server on which the test user may create databases and roles.
#[derive(Debug)]
pub struct Server {
    admin_url: String,
}

/// The server from `DMF_TEST_DATABASE_URL` (or a local default). `None` only when it cannot be
/// reached and `DMF_SKIP_POSTGRES=1` says to skip; otherwise an unreachable server fails.
pub fn server() -> Option<Server> {
    let url = std::env::var("DMF_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
    let reached = Config::from_str(&url).and_then(|mut config| {
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        config.connect(NoTls)
    });
    match reached {
        Ok(_) => Some(Server { admin_url: url }),
        Err(e) if std::env::var("DMF_SKIP_POSTGRES").as_deref() == Ok("1") => {
            // Written past the test runner's capture (which shows a passing test's output to
            // no one), so a run says what it skipped next to the tests it ran.
            let test = std::thread::current().name().unwrap_or("a test").to_owned();
            let line = format!(
                "SKIPPED {test}: no PostgreSQL (DMF_SKIP_POSTGRES=1; {})\n",
                with_causes(&e)
            );
            use std::io::Write as _;
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
            None
        }
        Err(e) => panic!(
            "cannot reach the PostgreSQL server for tests: {}\n\
             Set DMF_TEST_DATABASE_URL to a server where this user may create databases and \
             roles (default {DEFAULT_URL}), or start PostgreSQL locally, or set \
             DMF_SKIP_POSTGRES=1 to skip these tests knowingly.",
            with_causes(&e)
        ),
    }
}

/// An error and its causes, where the server's own words are.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(&format!(": {c}"));
        cause = c.source();
    }
    text
}

/// A name no other test uses: `prefix` and 16 random hex digits.
pub fn unique(prefix: &str) -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("random bytes");
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{hex}")
}

/// `base` with connection parameters overridden, in whichever form `base` is written.
fn with_params(base: &str, params: &[(&str, &str)]) -> String {
    if base.contains("://") {
        let mut url = base.to_owned();
        for (key, value) in params {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&format!("{key}={value}"));
        }
        url
    } else {
        let mut url = base.to_owned();
        for (key, value) in params {
            url.push_str(&format!(" {key}={value}"));
        }
        url
    }
}

impl Server {
    pub fn admin(&self) -> Client {
        Client::connect(&self.admin_url, NoTls).expect("admin connection")
    }

    /// A new, empty database.
    pub fn database(&self) -> TestDb {
        let name = unique("dmf_t_");
        self.admin()
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create a test database");
        TestDb {
            admin_url: self.admin_url.clone(),
            url: with_params(&self.admin_url, &[("dbname", &name)]),
            name,
        }
    }

    /// A new database migrated to the current schema.
    pub fn migrated(&self) -> TestDb {
        let db = self.database();
        assert_eq!(crate::migrate(&db.url).unwrap(), crate::SCHEMA_VERSION);
        db
    }

    /// A new login role that is a member of `dmf_writer`.
    pub fn writer_role(&self) -> TestRole {
        let name = unique("dmf_t_role_");
        self.admin()
            .batch_execute(&format!("CREATE ROLE {name} LOGIN IN ROLE dmf_writer"))
            .expect("create a test role");
        TestRole {
            admin_url: self.admin_url.clone(),
            name,
        }
    }
}

/// A database of one test, dropped (connections and all) when this is.
#[derive(Debug)]
pub struct TestDb {
    admin_url: String,
    name: String,
    pub url: String,
}

impl TestDb {
    /// A connection as the server's test user, which owns everything in the database.
    pub fn owner(&self) -> Client {
        Client::connect(&self.url, NoTls).expect("owner connection")
    }

    /// The URL of another database on the same server.
    pub fn url_as_database(&self, name: &str) -> String {
        with_params(&self.url, &[("dbname", name)])
    }

    /// The URL of this database for another user.
    pub fn url_as(&self, user: &str) -> String {
        with_params(&self.url, &[("user", user)])
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let dropped = Client::connect(&self.admin_url, NoTls).and_then(|mut admin| {
            admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
        });
        if let Err(e) = dropped {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}

/// A login role of one test, dropped when this is.
#[derive(Debug)]
pub struct TestRole {
    admin_url: String,
    pub name: String,
}

impl Drop for TestRole {
    fn drop(&mut self) {
        let dropped = Client::connect(&self.admin_url, NoTls).and_then(|mut admin| {
            admin.batch_execute(&format!("DROP ROLE IF EXISTS {}", self.name))
        });
        if let Err(e) = dropped {
            eprintln!("could not drop test role {}: {e}", self.name);
        }
    }
}
