//! Unit tests of API keys on a SQLite file, and the conformance suite on it.

use crate::keys::*;

fn assert_send_sync<T: Send + Sync>() {}

const NOW: i64 = 1_700_000_000_000;

fn store() -> (tempfile::TempDir, KeyStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = KeyStore::open(&dir.path().join("keys.sqlite")).unwrap();
    (dir, store)
}

fn new_key(name: &str, role: Role) -> NewKey {
    let mut new = NewKey::plain(name, role);
    match role {
        Role::Reporter => new.source = Some("funeral_home".into()),
        Role::Authority => new.authority = Some("Social Security Administration".into()),
        Role::Subscriber => new.certified = true,
        _ => {}
    }
    new
}

#[test]
fn shareable_between_threads() {
    assert_send_sync::<KeyStore>();
}

#[test]
fn role_codes_round_trip() {
    for role in Role::ALL {
        assert_eq!(role.code().parse::<Role>(), Ok(role));
        assert_eq!(role.to_string(), role.code());
    }
    let err = "admin".parse::<Role>().unwrap_err();
    assert_eq!(err, KeyError::UnknownRole("admin".into()));
    let shown = err.to_string();
    for role in Role::ALL {
        assert!(shown.contains(role.code()), "{shown}");
    }
}

#[test]
fn every_role_creates_and_authenticates() {
    let (_dir, store) = store();
    for role in Role::ALL {
        let (key, secret) = store.create(new_key(role.code(), role), NOW).unwrap();
        let prefix = format!("dmf_{}_", role.code());
        let random = secret.strip_prefix(&prefix).expect(&secret);
        assert_eq!(random.len(), 43, "{secret}");
        assert!(
            random
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{secret}"
        );
        assert_eq!(key.role, role);
        assert_eq!(key.created_at, NOW);
        assert!(!key.revoked);
        assert_eq!(store.authenticate(&secret), Some(key.clone()));
        assert_eq!(store.get(key.id), Some(key));
    }
    let listed = store.list().unwrap();
    assert_eq!(
        listed.iter().map(|k| k.role).collect::<Vec<_>>(),
        Role::ALL.to_vec()
    );
    assert_eq!(store.get(9_999), None);
}

#[test]
fn secrets_differ_and_near_misses_fail() {
    let (_dir, store) = store();
    let (_, a) = store.create(new_key("a", Role::Identity), NOW).unwrap();
    let (_, b) = store.create(new_key("b", Role::Identity), NOW).unwrap();
    assert_ne!(a, b);
    let mut flipped = a.clone().into_bytes();
    let last = flipped.last_mut().unwrap();
    *last = if *last == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    for wrong in [
        "",
        "dmf_identity_",
        &a[..a.len() - 1],
        &format!("{a}x"),
        &format!(" {a}"),
        &flipped,
    ] {
        assert_eq!(store.authenticate(wrong), None, "{wrong:?}");
    }
}

#[test]
fn create_enforces_the_rules() {
    let long = "n".repeat(MAX_NAME_CHARS + 1);
    let cases: Vec<(NewKey, KeyError)> = vec![
        (NewKey::plain("", Role::Identity), KeyError::EmptyName),
        (
            NewKey::plain(&long, Role::Identity),
            KeyError::NameTooLong(MAX_NAME_CHARS + 1),
        ),
        (
            NewKey::plain("tab\there", Role::Identity),
            KeyError::NameControlChar,
        ),
        (
            NewKey::plain("line\n", Role::Identity),
            KeyError::NameControlChar,
        ),
        (
            NewKey {
                certified: true,
                ..NewKey::plain("c", Role::Benefits)
            },
            KeyError::CertifiedNotSubscriber(Role::Benefits),
        ),
        (NewKey::plain("r", Role::Reporter), KeyError::SourceRequired),
        (
            NewKey {
                source: Some("ouija".into()),
                ..NewKey::plain("r", Role::Reporter)
            },
            KeyError::UnknownSource(
                "ouija"
                    .parse::<dmf_model::DeathSource>()
                    .unwrap_err()
                    .to_string(),
            ),
        ),
        (
            NewKey {
                source: Some("state".into()),
                ..NewKey::plain("s", Role::Subscriber)
            },
            KeyError::SourceNotAllowed(Role::Subscriber),
        ),
        (
            NewKey::plain("a", Role::Authority),
            KeyError::AuthorityRequired,
        ),
        (
            NewKey {
                authority: Some("  ".into()),
                ..NewKey::plain("a", Role::Authority)
            },
            KeyError::AuthorityRequired,
        ),
        (
            NewKey {
                authority: Some("SSA".into()),
                ..NewKey::plain("o", Role::Oversight)
            },
            KeyError::AuthorityNotAllowed(Role::Oversight),
        ),
    ];
    let (_dir, store) = store();
    for (new, want) in cases {
        let shown = format!("{new:?}");
        assert_eq!(store.create(new, NOW).unwrap_err(), want, "{shown}");
    }
    assert_eq!(store.list().unwrap(), vec![]);

    // The boundaries themselves are accepted.
    let longest = "é".repeat(MAX_NAME_CHARS);
    store
        .create(NewKey::plain(&longest, Role::Identity), NOW)
        .unwrap();
    for source in dmf_model::DeathSource::ALL {
        let new = NewKey {
            source: Some(source.code().into()),
            ..NewKey::plain(source.code(), Role::Reporter)
        };
        let (key, _) = store.create(new, NOW).unwrap();
        assert_eq!(key.source.as_deref(), Some(source.code()));
    }
}

/// A key file written before keys had a daily allowance is upgraded in place, its keys
/// kept, rather than refused.
#[test]
fn a_key_file_of_the_first_schema_is_upgraded_with_its_keys() {
    use sha2::Digest;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.sqlite");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE keys (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
                 role TEXT NOT NULL, certified INTEGER NOT NULL, source TEXT, authority TEXT,
                 secret_sha256 BLOB NOT NULL UNIQUE, created_at INTEGER NOT NULL,
                 revoked INTEGER NOT NULL DEFAULT 0);
             PRAGMA user_version = 1;",
        )
        .unwrap();
        let digest: [u8; 32] = sha2::Sha256::digest(b"dmf_identity_old").into();
        conn.execute(
            "INSERT INTO keys (name, role, certified, secret_sha256, created_at)
             VALUES ('old', 'identity', 0, ?1, 5)",
            [&digest[..]],
        )
        .unwrap();
    }
    let store = KeyStore::open(&path).unwrap();
    let old = store.authenticate("dmf_identity_old").unwrap();
    assert_eq!((old.name.as_str(), old.daily_quota), ("old", None));
    assert!(store.set_quota("old", Some(25)).unwrap());
    assert!(!store.set_quota("missing", Some(25)).unwrap());
    drop(store);
    let store = KeyStore::open(&path).unwrap();
    assert_eq!(store.list().unwrap()[0].daily_quota, Some(25));
    let (made, _) = store
        .create(
            NewKey {
                daily_quota: Some(3),
                ..NewKey::plain("new", Role::Benefits)
            },
            NOW,
        )
        .unwrap();
    assert_eq!(made.daily_quota, Some(3));
}

#[test]
fn names_are_unique_even_after_revocation() {
    let (_dir, store) = store();
    store.create(new_key("bank", Role::Benefits), NOW).unwrap();
    let again = store.create(new_key("bank", Role::Identity), NOW);
    assert_eq!(again.unwrap_err(), KeyError::NameTaken("bank".into()));
    assert!(store.revoke("bank").unwrap());
    let again = store.create(new_key("bank", Role::Benefits), NOW);
    assert_eq!(again.unwrap_err(), KeyError::NameTaken("bank".into()));
    assert_eq!(store.list().unwrap().len(), 1);
}

#[test]
fn revoked_keys_no_longer_authenticate() {
    let (_dir, store) = store();
    let (kept, kept_secret) = store.create(new_key("kept", Role::Oversight), NOW).unwrap();
    let (gone, gone_secret) = store.create(new_key("gone", Role::Reporter), NOW).unwrap();
    assert!(store.revoke("gone").unwrap());
    assert!(!store.revoke("gone").unwrap(), "already revoked");
    assert!(!store.revoke("nobody").unwrap());
    assert_eq!(store.authenticate(&gone_secret), None);
    assert_eq!(store.authenticate(&kept_secret), Some(kept));
    assert!(store.get(gone.id).unwrap().revoked);
    let listed = store.list().unwrap();
    assert_eq!(
        listed.iter().map(|k| k.revoked).collect::<Vec<_>>(),
        [false, true]
    );
}

#[test]
fn reopening_keeps_keys_and_the_file_holds_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.sqlite");
    let (live, live_secret, dead_secret);
    {
        let store = KeyStore::open(&path).unwrap();
        (live, live_secret) = store.create(new_key("live", Role::Authority), NOW).unwrap();
        (_, dead_secret) = store
            .create(new_key("dead", Role::Subscriber), NOW)
            .unwrap();
        store.revoke("dead").unwrap();
        assert!(!format!("{store:?}").contains(&live_secret));
    }
    let store = KeyStore::open(&path).unwrap();
    assert_eq!(store.authenticate(&live_secret), Some(live.clone()));
    assert_eq!(store.authenticate(&dead_secret), None);
    assert_eq!(store.list().unwrap().len(), 2);
    drop(store);

    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 3);
    drop(conn);
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        for secret in [&live_secret, &dead_secret] {
            let random = secret.splitn(3, '_').nth(2).unwrap().as_bytes();
            assert_eq!(random.len(), 43);
            assert!(!bytes.windows(random.len()).any(|w| w == random));
        }
    }
}

#[test]
fn a_file_of_another_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.sqlite");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 7).unwrap();
    drop(conn);
    let err = KeyStore::open(&path).unwrap_err();
    assert!(matches!(err, KeyError::NotAKeyStore { .. }), "{err}");
}

#[test]
fn authenticates_from_many_threads_while_keys_are_created() {
    let (_dir, store) = store();
    let (key, secret) = store.create(new_key("hot", Role::Identity), NOW).unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..2_000 {
                    assert_eq!(store.authenticate(&secret).as_ref(), Some(&key));
                }
            });
        }
        s.spawn(|| {
            for i in 0..20 {
                store
                    .create(new_key(&format!("k{i}"), Role::Employment), NOW)
                    .unwrap();
            }
        });
    });
    assert_eq!(store.list().unwrap().len(), 21);
}

#[test]
fn keys_made_or_revoked_by_another_process_take_effect_after_a_reload() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.sqlite");
    let server = KeyStore::open(&path).unwrap();
    let cli = KeyStore::open(&path).unwrap();
    let start = std::time::Instant::now();
    let (_, secret) = cli
        .create(NewKey::plain("late", Role::Identity), 0)
        .unwrap();
    let later = start + RELOAD_EVERY + std::time::Duration::from_millis(1);
    assert!(server.authenticate_at(&secret, later).is_some());
    assert!(cli.revoke("late").unwrap());
    let even_later = later + RELOAD_EVERY + std::time::Duration::from_millis(1);
    assert!(server.authenticate_at(&secret, even_later).is_none());
}

#[test]
fn sqlite_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    super::conformance::run_all(&mut || {
        n += 1;
        Box::new(super::sqlite::SqliteKeys::open(&dir.path().join(format!("{n}.sqlite"))).unwrap())
    });
}
