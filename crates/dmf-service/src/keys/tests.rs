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

/// A key's role, source and jurisdiction given; the jurisdiction stored, or the refusal.
type JurisdictionCase = (
    Role,
    Option<&'static str>,
    Option<&'static str>,
    Result<Option<&'static str>, KeyError>,
);

/// Which keys may be bound to a jurisdiction, and how it is stored: a case a line.
#[test]
fn a_jurisdiction_binds_only_a_states_reporter_key() {
    use dmf_vrdr::UnknownJurisdiction;
    let unknown = |given: &str| {
        Err(KeyError::UnknownJurisdiction(UnknownJurisdiction(
            given.into(),
        )))
    };
    #[rustfmt::skip]
    let cases: &[JurisdictionCase] = &[
        (Role::Reporter, Some("state"), Some("NY"), Ok(Some("NY"))),
        (Role::Reporter, Some("state"), None, Ok(None)),
        (Role::Reporter, Some("state"), Some("YC"), Ok(Some("YC"))),
        (Role::Reporter, Some("state"), Some("PR"), Ok(Some("PR"))),
        // Letters in either case are taken, and stored in capitals.
        (Role::Reporter, Some("state"), Some("ny"), Ok(Some("NY"))),
        (Role::Reporter, Some("state"), Some("Dc"), Ok(Some("DC"))),
        (Role::Reporter, Some("state"), Some("ZZ"), unknown("ZZ")),
        (Role::Reporter, Some("state"), Some("zz"), unknown("zz")),
        (Role::Reporter, Some("state"), Some(" NY"), unknown(" NY")),
        (Role::Reporter, Some("state"), Some("NYC"), unknown("NYC")),
        (Role::Reporter, Some("state"), Some("New York"), unknown("New York")),
        (Role::Reporter, Some("state"), Some(""), unknown("")),
        (Role::Reporter, Some("funeral_home"), Some("NY"),
            Err(KeyError::JurisdictionNotState("funeral_home".into()))),
        (Role::Reporter, Some("hospital"), Some("ZZ"),
            Err(KeyError::JurisdictionNotState("hospital".into()))),
        (Role::Reporter, None, Some("NY"), Err(KeyError::SourceRequired)),
        (Role::Authority, None, Some("NY"), Err(KeyError::JurisdictionNotAllowed(Role::Authority))),
        (Role::Identity, None, Some("NY"), Err(KeyError::JurisdictionNotAllowed(Role::Identity))),
        (Role::Agency, None, Some("NY"), Err(KeyError::JurisdictionNotAllowed(Role::Agency))),
    ];
    let (_dir, store) = store();
    for (i, (role, source, jurisdiction, want)) in cases.iter().enumerate() {
        let mut new = new_key(&format!("key {i}"), *role);
        new.source = source.map(str::to_owned);
        new.jurisdiction = jurisdiction.map(str::to_owned);
        let shown = format!("{new:?}");
        let got = store.create(new, NOW).map(|(k, _)| k.jurisdiction);
        let want = want.clone().map(|j| j.map(str::to_owned));
        assert_eq!(got, want, "{shown}");
    }
    // What was made is what is stored.
    let stored: Vec<_> = store.list().unwrap();
    assert_eq!(stored.len(), 6);
    assert_eq!(
        stored[4].jurisdiction.as_deref(),
        Some("NY"),
        "{:?}",
        stored[4]
    );
    let err = KeyError::JurisdictionNotState("funeral_home".into()).to_string();
    assert_eq!(
        err,
        "only reporter keys of source state have a jurisdiction, not reporter keys of source \
         funeral_home"
    );
    let err = unknown("ZZ").unwrap_err().to_string();
    assert!(
        err.contains("\"ZZ\" is not an NCHS jurisdiction id"),
        "{err}"
    );
}

/// A key file of schema version 3, before jurisdictions, is upgraded in place with its keys,
/// which are bound to none.
#[test]
fn a_key_file_before_jurisdictions_is_upgraded_with_its_keys() {
    use sha2::Digest;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.sqlite");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE api_keys (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
                 role TEXT NOT NULL, certified INTEGER NOT NULL, source TEXT, authority TEXT,
                 secret_sha256 BLOB NOT NULL UNIQUE, created_at INTEGER NOT NULL,
                 revoked INTEGER NOT NULL DEFAULT 0,
                 daily_quota INTEGER CHECK (daily_quota >= 0));
             PRAGMA user_version = 3;",
        )
        .unwrap();
        for (name, source, quota) in [("albany", "state", None), ("home", "funeral_home", Some(9))]
        {
            let digest: [u8; 32] = sha2::Sha256::digest(name.as_bytes()).into();
            conn.execute(
                "INSERT INTO api_keys (name, role, certified, source, secret_sha256, created_at,
                                       daily_quota)
                 VALUES (?1, 'reporter', 0, ?2, ?3, 5, ?4)",
                rusqlite::params![name, source, &digest[..], quota],
            )
            .unwrap();
        }
    }
    let store = KeyStore::open(&path).unwrap();
    let old = store.list().unwrap();
    assert_eq!(
        old.iter()
            .map(|k| (
                k.name.as_str(),
                k.source.as_deref(),
                k.daily_quota,
                k.jurisdiction.as_deref()
            ))
            .collect::<Vec<_>>(),
        [
            ("albany", Some("state"), None, None),
            ("home", Some("funeral_home"), Some(9), None)
        ]
    );
    assert!(store.authenticate("albany").is_some());
    let (made, _) = store
        .create(
            NewKey {
                source: Some("state".into()),
                jurisdiction: Some("NY".into()),
                ..NewKey::plain("new york", Role::Reporter)
            },
            NOW,
        )
        .unwrap();
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 4);
    drop(conn);
    let store = KeyStore::open(&path).unwrap();
    assert_eq!(store.list().unwrap()[2], made);
}

/// The table refuses a jurisdiction on any other key, or not in capitals, even from a caller
/// that skips [`NewKey::check`].
#[test]
fn the_key_file_itself_refuses_a_misplaced_jurisdiction() {
    use super::sqlite::SqliteKeys;
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteKeys::open(&dir.path().join("keys.sqlite")).unwrap();
    let cases = [
        ("funeral_home", "NY", false),
        ("state", "ny", false),
        ("state", "NY", true),
    ];
    for (i, (source, jurisdiction, ok)) in cases.into_iter().enumerate() {
        let new = NewKey {
            source: Some(source.into()),
            jurisdiction: Some(jurisdiction.into()),
            ..NewKey::plain(&format!("k{i}"), Role::Reporter)
        };
        let stored = db.insert(&new, &[i as u8; 32], NOW);
        assert_eq!(stored.is_ok(), ok, "{source} {jurisdiction}: {stored:?}");
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
    assert_eq!(version, 4);
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
