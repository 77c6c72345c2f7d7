//! Unit tests of console users on a SQLite file, and the conformance suite on it.

use crate::users::*;

const NOW: i64 = 1_700_000_000_000;

#[test]
fn passwords_are_stored_as_argon2id_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.sqlite");
    let users = Users::open(&path).unwrap();
    users
        .create("alice", UserRole::Supervisor, "correct horse battery", NOW)
        .unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let stored: String = conn
        .query_row("SELECT password FROM console_users", [], |r| r.get(0))
        .unwrap();
    assert!(stored.starts_with("$argon2id$"), "{stored}");
    assert!(!stored.contains("correct horse"));
}

#[test]
fn sqlite_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    conformance::run_all(&mut || {
        n += 1;
        Box::new(sqlite::SqliteUsers::open(&dir.path().join(format!("{n}.sqlite"))).unwrap())
    });
}

/// A user file written when its tables had the names of the first schema is upgraded in
/// place: users, sessions and the login record kept under the names PostgreSQL uses.
#[test]
fn a_user_file_of_the_first_schema_is_upgraded_with_its_users_and_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.sqlite");
    let (token, csrf) = {
        let users = Users::open(&path).unwrap();
        users
            .create("alice", UserRole::Supervisor, "correct horse battery", NOW)
            .unwrap();
        let s = users.login("alice", "correct horse battery", NOW).unwrap();
        (s.token, s.csrf)
    };
    // Back to the first schema's names, as a file written before the rename holds them.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "ALTER TABLE console_users RENAME TO users;
             ALTER TABLE console_sessions RENAME TO sessions;
             ALTER TABLE console_logins RENAME TO logins;
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let users = Users::open(&path).unwrap();
    let s = users.session(&token, NOW + 1).unwrap().unwrap();
    assert_eq!((s.user.name.as_str(), s.csrf), ("alice", csrf));
    let conn = rusqlite::Connection::open(&path).unwrap();
    let logins: i64 = conn
        .query_row("SELECT count(*) FROM console_logins", [], |r| r.get(0))
        .unwrap();
    assert_eq!(logins, 1);
    let err = conn
        .execute("DELETE FROM console_logins", [])
        .unwrap_err()
        .to_string();
    assert!(err.contains("append-only"), "{err}");
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 2);
}
