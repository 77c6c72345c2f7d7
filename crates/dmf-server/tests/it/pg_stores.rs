//! API keys and disclosure accounting in PostgreSQL as the server holds them: called from async
//! tasks, they step off the runtime themselves. (The stores themselves are tested in
//! `dmf-service`.)

use std::sync::Arc;
use std::time::{Duration, Instant};

use dmf_postgres::PgStore;
use dmf_postgres::testing::TestDb;
use dmf_server::accounting::Disclosure;
use dmf_server::keys::{NewKey, RELOAD_EVERY, Role};
use dmf_server::{ServiceDb, Stores};

/// Later than any reload could be due, so that the store reads the table again.
fn after_reload(from: Instant) -> Instant {
    from + RELOAD_EVERY + Duration::from_secs(1)
}

/// The stores of a node of its own on `db`, as the server opens them.
fn stores(db: &TestDb) -> Stores {
    Stores::open(&ServiceDb::Postgres(
        PgStore::connect(&db.url).unwrap().pool(),
    ))
    .unwrap()
}

fn disclosure(ssn: u32, at_ms: i64, key_name: &str, purpose: &str) -> Disclosure {
    Disclosure {
        ssn,
        at_ms,
        key_id: 7,
        key_name: key_name.into(),
        purpose: purpose.into(),
        fields: vec!["death_date".into(), "verification".into()],
    }
}

#[test]
fn the_stores_can_be_used_from_async_tasks_on_a_multi_thread_runtime() {
    let Some(pg) = dmf_postgres::testing::server() else {
        return;
    };
    let db = pg.migrated();
    let store = Arc::new(stores(&db).keys);
    let acc = Arc::new(stores(&db).accounting);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (task_store, task_acc) = (Arc::clone(&store), Arc::clone(&acc));
    let (key, found, disclosed) = rt.block_on(async {
        tokio::spawn(async move {
            let (key, secret) = task_store
                .create(NewKey::plain("async", Role::Identity), 1)
                .unwrap();
            // Forces a reload, which queries the database, on this worker.
            let found = task_store.authenticate_at(&secret, after_reload(Instant::now()));
            task_store.authenticate(&secret);
            assert_eq!(task_store.list().unwrap().len(), 1);
            let _ = task_acc.record(disclosure(123_456_789, 5, "async", "identity"));
            let disclosed = task_acc.for_person(123_456_789).unwrap();
            (key, found, disclosed)
        })
        .await
        .unwrap()
    });
    assert_eq!(found, Some(key));
    assert_eq!(
        disclosed,
        vec![disclosure(123_456_789, 5, "async", "identity")]
    );
    // On the blocking pool too, as the server's handlers read the accounting.
    let (task_store, task_acc) = (Arc::clone(&store), Arc::clone(&acc));
    let counts = rt
        .block_on(async {
            tokio::task::spawn_blocking(move || {
                assert!(task_store.revoke("async").unwrap());
                task_acc.counts()
            })
            .await
        })
        .unwrap()
        .unwrap();
    assert_eq!(counts, vec![("identity".to_owned(), 1)]);
    // And directly inside `block_on`.
    assert_eq!(rt.block_on(async { store.list() }).unwrap().len(), 1);
}

/// The last handle on a pool closes its connections, which blocks like any query: stores
/// dropped by a task on a worker step off the runtime for that too.
#[test]
fn the_stores_can_be_dropped_by_an_async_task() {
    let Some(pg) = dmf_postgres::testing::server() else {
        return;
    };
    let db = pg.migrated();
    let node = stores(&db);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listed = rt.block_on(async move {
        tokio::spawn(async move {
            let listed = node.keys.list().unwrap().len();
            drop(node);
            listed
        })
        .await
        .unwrap()
    });
    assert_eq!(listed, 0);
}
