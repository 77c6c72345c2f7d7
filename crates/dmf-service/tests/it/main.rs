//! The service stores on a real PostgreSQL server: each store's conformance suite, then what
//! only a database several nodes share shows. Each test has a fresh database of its own.

mod pg_stores;
mod pg_workflow;

use std::sync::Arc;

use dmf_postgres::PgStore;
use dmf_postgres::testing::TestDb;
use dmf_service::{accounting, keys, programs, users, workflow};

/// Fresh migrated databases from the test server, kept until the test ends; `None` (after
/// reporting SKIPPED) when there is no server and skipping was asked for.
struct Databases {
    server: dmf_postgres::testing::Server,
    made: Vec<TestDb>,
}

impl Databases {
    fn new() -> Option<Databases> {
        Some(Databases {
            server: dmf_postgres::testing::server()?,
            made: Vec::new(),
        })
    }

    /// A pool on a database of its own.
    fn fresh(&mut self) -> dmf_postgres::Pool {
        let db = self.server.migrated();
        let pool = PgStore::connect(&db.url).unwrap().pool();
        self.made.push(db);
        pool
    }
}

#[test]
fn api_keys_on_postgres_pass_the_conformance_suite() {
    let Some(mut dbs) = Databases::new() else {
        return;
    };
    keys::conformance::run_all(&mut || Box::new(keys::postgres::PgKeys::new(dbs.fresh())));
}

#[test]
fn console_users_on_postgres_pass_the_conformance_suite() {
    let Some(mut dbs) = Databases::new() else {
        return;
    };
    users::conformance::run_all(&mut || {
        Box::new(users::postgres::PgUsers::open(dbs.fresh()).unwrap())
    });
}

#[test]
fn the_workflow_on_postgres_passes_the_conformance_suite() {
    let Some(mut dbs) = Databases::new() else {
        return;
    };
    workflow::conformance::run_all(&mut || {
        let db = workflow::postgres::PgWorkflow::open(dbs.fresh()).unwrap();
        (Box::new(db.clone()), Box::new(db))
    });
}

#[test]
fn the_accounting_on_postgres_passes_the_conformance_suite() {
    let Some(mut dbs) = Databases::new() else {
        return;
    };
    accounting::conformance::run_all(&mut || {
        Arc::new(accounting::postgres::PgDisclosures::open(dbs.fresh()).unwrap())
    });
}

#[test]
fn the_program_journal_on_postgres_passes_the_conformance_suite() {
    let Some(mut dbs) = Databases::new() else {
        return;
    };
    programs::conformance::run_all(&mut || {
        Box::new(programs::postgres::PgJournal::new(dbs.fresh()))
    });
}
