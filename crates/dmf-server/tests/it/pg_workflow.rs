//! The workflow and user stores on PostgreSQL as the server holds them: called from async code,
//! they step off the runtime themselves. (The stores themselves are tested in `dmf-service`.)

use dmf_postgres::PgStore;
use dmf_postgres::testing::{TestDb, TestRole, server};
use dmf_server::users::{UserRole, Users};
use dmf_server::workflow::Workflow;
use dmf_server::{ServiceDb, Stores};

const NOW: i64 = 1_700_000_000_000;
const PASSWORD: &str = "correct horse battery";

/// One node's stores, on a pool of its own.
struct Node {
    workflow: Workflow,
    users: Users,
}

fn node(url: &str) -> Node {
    let pool = PgStore::connect(url).unwrap().pool();
    let stores = Stores::open(&ServiceDb::Postgres(pool)).unwrap();
    Node {
        workflow: stores.workflow,
        users: stores.users,
    }
}

/// A migrated database and two nodes on it, connected as a `dmf_writer` login so that the
/// grants are shown to be enough. The nodes come first so that they are dropped first.
fn two_nodes() -> Option<(Node, Node, TestDb, TestRole)> {
    let server = server()?;
    let db = server.migrated();
    let role = server.writer_role();
    let url = db.url_as(&role.name);
    Some((node(&url), node(&url), db, role))
}

/// The synchronous driver refuses to run on a runtime's thread; the handlers call these stores
/// directly, so they must step aside themselves.
#[test]
fn the_stores_can_be_called_from_async_code() {
    let Some((a, b, _db, _role)) = two_nodes() else {
        return;
    };
    a.users
        .create("alice", UserRole::Caseworker, PASSWORD, NOW)
        .unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let token = runtime.block_on(async move {
        // On a worker thread, as a request handler runs.
        let token = tokio::spawn(async move {
            a.workflow.served(1, 5).unwrap();
            let s = a.users.login("alice", PASSWORD, NOW).unwrap();
            assert!(a.users.session(&s.token, NOW + 1).unwrap().is_some());
            s.token
        })
        .await
        .unwrap();
        // And on the thread that entered the runtime.
        b.workflow.served(1, 9).unwrap();
        assert_eq!(b.workflow.position(1).unwrap().served, 9);
        assert!(b.users.session(&token, NOW + 2).unwrap().is_some());
        token
    });
    assert!(!token.is_empty());
}
