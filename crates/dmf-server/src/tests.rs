//! Unit tests of API keys, disclosure accounting, rate limits, console users and the API
//! description.

fn assert_send_sync<T: Send + Sync>() {}

mod keys {
    use super::assert_send_sync;
    use crate::keys::*;

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
        assert_eq!(version, 2);
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
}

mod accounting {
    use super::assert_send_sync;
    use crate::accounting::*;

    fn disclosure(ssn: u32, at_ms: i64, purpose: &str) -> Disclosure {
        Disclosure {
            ssn,
            at_ms,
            key_id: 7,
            key_name: "state-benefits".into(),
            purpose: purpose.into(),
            fields: vec!["death_date".into(), "verification".into()],
        }
    }

    #[test]
    fn shareable_between_threads() {
        assert_send_sync::<Accounting>();
    }

    #[test]
    fn many_threads_then_flush_then_reopen() {
        const THREADS: u32 = 4;
        const PER_THREAD: u32 = 50_000;
        const PEOPLE: u32 = 1_000;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accounting.sqlite");
        let acc = Accounting::open(&path).unwrap();
        std::thread::scope(|s| {
            for t in 0..THREADS {
                let acc = &acc;
                s.spawn(move || {
                    // Half one at a time, half in batches, as the routes do.
                    let purpose = if t % 2 == 0 { "verify" } else { "feed" };
                    let mut batch = Vec::new();
                    for i in 0..PER_THREAD {
                        let d = disclosure(i % PEOPLE, i64::from(t * PER_THREAD + i), purpose);
                        // Made durable together by the flush below.
                        if i % 2 == 0 {
                            let _ = acc.record(d);
                        } else {
                            batch.push(d);
                            if batch.len() == 997 {
                                let _ = acc.record_many(std::mem::take(&mut batch));
                            }
                        }
                    }
                    let _ = acc.record_many(batch);
                });
            }
        });
        acc.flush().unwrap();
        let half = u64::from(THREADS * PER_THREAD / 2);
        let want = vec![("feed".to_owned(), half), ("verify".to_owned(), half)];
        assert_eq!(acc.counts().unwrap(), want);
        let one = acc.for_person(3).unwrap();
        assert_eq!(one.len(), (THREADS * PER_THREAD / PEOPLE) as usize);
        assert!(one.iter().all(|d| d.ssn == 3));
        assert!(one.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
        drop(acc);

        let acc = Accounting::open(&path).unwrap();
        assert_eq!(acc.counts().unwrap(), want);
        assert_eq!(acc.for_person(3).unwrap(), one);
    }

    #[test]
    fn for_person_is_oldest_first_and_sees_its_own_writes() {
        let dir = tempfile::tempdir().unwrap();
        let acc = Accounting::open(&dir.path().join("a.sqlite")).unwrap();
        let mut no_fields = disclosure(1, 20, "file");
        no_fields.fields.clear();
        let mut one_field = disclosure(1, 20, "file");
        one_field.fields = vec!["ssn".into()];
        // Out of order in time; equal times keep the order they were recorded in.
        let recorded = [
            disclosure(1, 30, "verify"),
            disclosure(2, 5, "verify"),
            no_fields.clone(),
            disclosure(1, 10, "feed"),
            one_field.clone(),
        ];
        for d in recorded {
            let _ = acc.record(d);
        }
        let want = vec![
            disclosure(1, 10, "feed"),
            no_fields,
            one_field,
            disclosure(1, 30, "verify"),
        ];
        assert_eq!(acc.for_person(1).unwrap(), want);
        assert_eq!(acc.for_person(2).unwrap(), vec![disclosure(2, 5, "verify")]);
        assert_eq!(acc.for_person(3).unwrap(), vec![]);
        let counts = acc.counts().unwrap();
        let want = [("feed", 1), ("file", 2), ("verify", 2)];
        assert_eq!(
            counts,
            want.map(|(p, n)| (p.to_owned(), n)).to_vec(),
            "by purpose"
        );
    }

    /// A ticket is durable once the batch holding it is committed: what `durable` returns for
    /// is read back by another connection, and later tickets are greater.
    #[test]
    fn a_ticket_is_durable_when_its_batch_is_committed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.sqlite");
        let acc = Accounting::open(&path).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let first = acc.record(disclosure(5, 1, "verify"));
        let second = acc.record_many((0..3).map(|i| disclosure(6, i, "feed")).collect());
        assert!(second > first);
        rt.block_on(acc.durable(second)).unwrap();
        let conn = rusqlite::Connection::open(&path).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM disclosures", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 4);
        // An old ticket is durable at once.
        rt.block_on(acc.durable(first)).unwrap();
    }

    #[test]
    fn drop_writes_what_is_still_queued() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.sqlite");
        let acc = Accounting::open(&path).unwrap();
        let _ = acc.record_many((0..25_000).map(|i| disclosure(9, i, "feed")).collect());
        drop(acc);
        let acc = Accounting::open(&path).unwrap();
        assert_eq!(acc.counts().unwrap(), vec![("feed".to_owned(), 25_000)]);
    }

    #[test]
    fn the_table_is_append_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.sqlite");
        let acc = Accounting::open(&path).unwrap();
        let _ = acc.record(disclosure(1, 1, "verify"));
        acc.flush().unwrap();
        let conn = rusqlite::Connection::open(&path).unwrap();
        for sql in [
            "UPDATE disclosures SET purpose = 'nothing'",
            "DELETE FROM disclosures",
        ] {
            let err = conn.execute(sql, []).unwrap_err().to_string();
            assert!(err.contains("append-only"), "{sql}: {err}");
        }
        assert_eq!(acc.for_person(1).unwrap().len(), 1);
    }

    #[test]
    fn a_file_of_another_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.sqlite");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 2).unwrap();
        drop(conn);
        let err = Accounting::open(&path).unwrap_err();
        assert!(
            matches!(err, AccountingError::NotAnAccountingFile { .. }),
            "{err}"
        );
    }
}

mod ratelimit {
    use std::time::{Duration, Instant};

    use super::assert_send_sync;
    use crate::ratelimit::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn shareable_between_threads() {
        assert_send_sync::<RateLimiter>();
    }

    #[test]
    fn burst_then_refused_then_refilled() {
        let limiter = RateLimiter::new(10, 5);
        let t0 = Instant::now();
        for _ in 0..5 {
            assert_eq!(limiter.check(1, 1, t0), Ok(()));
        }
        // One token refills every 100 ms.
        assert_eq!(limiter.check(1, 1, t0), Err(100 * MS));
        assert_eq!(limiter.check(1, 1, t0 + 40 * MS), Err(60 * MS));
        assert_eq!(limiter.check(1, 1, t0 + 100 * MS), Ok(()));
        assert_eq!(limiter.check(1, 1, t0 + 100 * MS), Err(100 * MS));
        // Waiting exactly as told is enough.
        let later = t0 + 100 * MS + 100 * MS;
        assert_eq!(limiter.check(1, 1, later), Ok(()));
        // A long pause refills to the burst, no further.
        let rested = later + Duration::from_secs(60);
        assert_eq!(limiter.check(1, 5, rested), Ok(()));
        assert_eq!(limiter.check(1, 1, rested), Err(100 * MS));
    }

    #[test]
    fn costs_are_taken_and_retry_covers_the_shortfall() {
        // (per_second, burst, costs taken at t0, next cost, expected result at t0)
        type Case = (u32, u32, &'static [u32], u32, Result<(), Duration>);
        let cases: [Case; 6] = [
            (10, 5, &[3], 2, Ok(())),
            (10, 5, &[3], 3, Err(100 * MS)),
            (10, 5, &[5], 5, Err(500 * MS)),
            (1, 3, &[1, 1], 2, Err(Duration::from_secs(1))),
            (1000, 1000, &[1000], 1, Err(MS)),
            (3, 3, &[3], 1, Err(Duration::from_nanos(333_333_333))),
        ];
        for (per_second, burst, taken, next, want) in cases {
            let limiter = RateLimiter::new(per_second, burst);
            let t0 = Instant::now();
            for &cost in taken {
                assert_eq!(limiter.check(1, cost, t0), Ok(()));
            }
            let got = limiter.check(1, next, t0);
            assert_eq!(
                got, want,
                "{per_second}/s burst {burst} {taken:?} then {next}"
            );
            if let Err(wait) = got {
                assert_eq!(limiter.check(1, next, t0 + wait), Ok(()));
            }
        }
    }

    #[test]
    fn keys_are_independent() {
        let limiter = RateLimiter::new(1, 2);
        let t0 = Instant::now();
        // Ids that share a shard, and negative ones, still get their own buckets.
        for id in [1, 17, 33, -1] {
            assert_eq!(limiter.check(id, 2, t0), Ok(()), "{id}");
            assert!(limiter.check(id, 1, t0).is_err(), "{id}");
        }
        assert_eq!(limiter.check(2, 2, t0), Ok(()));
    }

    #[test]
    fn impossible_requests_are_refused_for_good() {
        let t0 = Instant::now();
        let cases = [(10, 5, 6), (10, 0, 1), (0, 5, 1)];
        for (per_second, burst, cost) in cases {
            let limiter = RateLimiter::new(per_second, burst);
            let got = limiter.try_take(1, cost, t0);
            assert_eq!(got, Err(RateLimitError::TooCostly { cost, burst }));
            assert_eq!(limiter.check(1, cost, t0), Err(Duration::MAX));
            let later = t0 + Duration::from_secs(3600);
            assert_eq!(limiter.check(1, cost, later), Err(Duration::MAX));
        }
        // A refused oversize request takes nothing.
        let limiter = RateLimiter::new(10, 5);
        assert!(limiter.check(1, 6, t0).is_err());
        assert_eq!(limiter.check(1, 5, t0), Ok(()));
    }

    #[test]
    fn free_requests_and_clock_going_backwards() {
        let limiter = RateLimiter::new(10, 2);
        let t1 = Instant::now() + Duration::from_secs(1);
        assert_eq!(limiter.check(1, 2, t1), Ok(()));
        assert_eq!(limiter.check(1, 0, t1), Ok(()));
        // An earlier instant (another thread's) gains no tokens and loses none.
        let earlier = t1 - Duration::from_millis(500);
        assert_eq!(
            limiter.check(1, 1, earlier),
            Err(Duration::from_millis(600))
        );
        assert_eq!(limiter.check(1, 1, t1 + 100 * MS), Ok(()));
    }

    const DAY: i64 = 86_400_000;

    #[test]
    fn a_daily_allowance_is_taken_whole_or_not_at_all_and_renews_at_midnight() {
        // (taken before, asked, what happens)
        let cases: [(&[u64], u64, Result<(), u64>); 5] = [
            (&[], 10, Ok(())),
            (&[], 11, Err(10)),
            (&[4], 7, Err(6)),
            (&[4, 6], 1, Err(0)),
            (&[4, 5], 1, Ok(())),
        ];
        let noon = 20_000 * DAY + DAY / 2;
        for (before, asked, want) in cases {
            let q = DailyQuotas::default();
            for &n in before {
                q.take(7, 10, n, noon).unwrap();
            }
            let got = q.take(7, 10, asked, noon).map_err(|e| e.left);
            assert_eq!(got, want, "{before:?} then {asked}");
            // A refusal takes nothing.
            if want.is_err() {
                let left = 10 - before.iter().sum::<u64>();
                assert_eq!(q.left(7, 10, noon), left);
            }
        }
        let q = DailyQuotas::default();
        q.take(7, 10, 10, noon).unwrap();
        let e = q.take(7, 10, 1, noon).unwrap_err();
        assert_eq!(e.retry_after, Duration::from_millis((DAY / 2) as u64));
        // Another key has its own; the next UTC day starts whole.
        assert_eq!(q.take(8, 10, 10, noon), Ok(()));
        assert_eq!(q.left(7, 10, 20_001 * DAY), 10);
        assert_eq!(q.take(7, 10, 10, 20_001 * DAY), Ok(()));
    }
}

mod users {
    use crate::users::*;

    const NOW: i64 = 1_700_000_000_000;
    const MINUTE: i64 = 60_000;

    fn store() -> (tempfile::TempDir, Users) {
        let dir = tempfile::tempdir().unwrap();
        let users = Users::open(&dir.path().join("users.sqlite")).unwrap();
        (dir, users)
    }

    #[test]
    fn creation_checks_name_password_and_uniqueness() {
        let (_dir, users) = store();
        let check = |name: &str, password: &str, expect: &str| {
            let got = match users.create(name, UserRole::Caseworker, password, NOW) {
                Ok(u) => format!("ok {}", u.name),
                Err(e) => e.to_string(),
            };
            assert!(got.contains(expect), "{name:?}: {got}");
        };
        check("alice", "correct horse battery", "ok alice");
        check("ALICE", "correct horse battery", "exists already");
        check("bob", "short", "at least 12 characters");
        check("", "correct horse battery", "1 to 64 characters");
        check("bob smith", "correct horse battery", "letters, digits");
        check("bob<script>", "correct horse battery", "letters, digits");
        check(
            "bob.smith@agency",
            "correct horse battery",
            "ok bob.smith@agency",
        );
        let listed: Vec<_> = users.list().unwrap().into_iter().map(|u| u.name).collect();
        assert_eq!(listed, ["alice", "bob.smith@agency"]);
        for role in UserRole::ALL {
            assert_eq!(UserRole::parse(role.code()), Some(role));
        }
        assert_eq!(UserRole::parse("admin"), None);
    }

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
            .query_row("SELECT password FROM users", [], |r| r.get(0))
            .unwrap();
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(!stored.contains("correct horse"));
    }

    #[test]
    fn sessions_open_on_the_right_password_and_expire() {
        let (_dir, users) = store();
        users
            .create("alice", UserRole::Caseworker, "correct horse battery", NOW)
            .unwrap();
        assert!(matches!(
            users.login("alice", "wrong password!", NOW),
            Err(LoginError::Invalid)
        ));
        assert!(matches!(
            users.login("nobody", "correct horse battery", NOW),
            Err(LoginError::Invalid)
        ));
        let s = users
            .login("Alice", "correct horse battery", NOW)
            .expect("names are not case-sensitive");
        assert_ne!(s.token, s.csrf);
        let found = users.session(&s.token, NOW + MINUTE).unwrap().unwrap();
        assert_eq!((found.user.name.as_str(), found.csrf), ("alice", s.csrf));
        assert!(users.session("not a token", NOW).unwrap().is_none());
        // Idle too long: gone, and stays gone.
        assert!(
            users
                .session(&s.token, NOW + IDLE_MS + 2 * MINUTE)
                .unwrap()
                .is_none()
        );
        assert!(users.session(&s.token, NOW + 2 * MINUTE).unwrap().is_none());
        // Kept alive by use, but not beyond the longest session.
        let s = users.login("alice", "correct horse battery", NOW).unwrap();
        let mut t = NOW;
        while t + IDLE_MS / 2 < NOW + SESSION_MS {
            t += IDLE_MS / 2;
            assert!(users.session(&s.token, t).unwrap().is_some(), "at {t}");
        }
        assert!(
            users
                .session(&s.token, NOW + SESSION_MS + MINUTE)
                .unwrap()
                .is_none()
        );
        // Signing out ends it.
        let s = users.login("alice", "correct horse battery", NOW).unwrap();
        users.logout(&s.token).unwrap();
        assert!(users.session(&s.token, NOW).unwrap().is_none());
    }

    #[test]
    fn repeated_failures_lock_the_account_even_for_the_right_password() {
        let (_dir, users) = store();
        users
            .create("alice", UserRole::Caseworker, "correct horse battery", NOW)
            .unwrap();
        for i in 1..MAX_FAILURES {
            assert!(
                matches!(
                    users.login("alice", "guess", NOW + i),
                    Err(LoginError::Invalid)
                ),
                "attempt {i}"
            );
        }
        assert!(matches!(
            users.login("alice", "guess", NOW + MAX_FAILURES),
            Err(LoginError::Locked { minutes: 15 })
        ));
        let locked = users.login("alice", "correct horse battery", NOW + MINUTE);
        assert!(
            matches!(locked, Err(LoginError::Locked { minutes: 15 })),
            "{locked:?}"
        );
        // After the lockout the right password works, and the count starts again.
        let after = NOW + LOCKOUT_MS + MAX_FAILURES + 1;
        assert!(users.login("alice", "correct horse battery", after).is_ok());
        assert!(matches!(
            users.login("alice", "guess", after),
            Err(LoginError::Invalid)
        ));
    }
}

mod openapi {
    use serde_json::Value;

    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r);
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    /// Every reference names a schema of the document, every body says what it is taken in,
    /// and every route has one success.
    #[test]
    fn the_description_holds_together() {
        let doc = crate::openapi::document();
        let mut all = Vec::new();
        refs(&doc, &mut all);
        assert!(!all.is_empty());
        for r in all {
            let name = r.strip_prefix("#/components/schemas/").unwrap_or(r);
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "{r} names no schema"
            );
        }
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if let Some(body) = op.get("requestBody") {
                    assert!(
                        !body["content"].as_object().unwrap().is_empty(),
                        "{method} {path}"
                    );
                }
                let successes: Vec<&String> = op["responses"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .filter(|s| s.starts_with('2'))
                    .collect();
                assert!(!successes.is_empty(), "{method} {path}");
                for s in successes {
                    assert_eq!(
                        op["responses"][s]["content"].as_object().unwrap().len(),
                        1,
                        "{method} {path} {s}"
                    );
                }
            }
        }
    }
}

mod errors {
    use crate::error::{ApiError, Code};

    /// A 5xx answer carried the internal error's text to the client (a file path, a database's
    /// words): now it carries an incident number, and the log has the detail.
    #[test]
    fn a_5xx_answer_sent_the_internal_text_to_the_client() {
        let detail = "cannot write /srv/dmf/accounting.sqlite: disk I/O error";
        let e = ApiError::internal(detail);
        assert_eq!(e.code, Code::Internal);
        let body = e.body().to_string();
        assert!(!body.contains("accounting.sqlite"), "{body}");
        assert!(!body.contains("disk I/O"), "{body}");
        let message = e.body()["error"]["message"].as_str().unwrap().to_owned();
        let incident = message
            .strip_prefix("internal error (incident ")
            .and_then(|m| m.split_once(')'))
            .map(|(n, _)| n)
            .unwrap_or_else(|| panic!("{message}"));
        assert!(
            incident.len() == 8 && incident.bytes().all(|b| b.is_ascii_hexdigit()),
            "{message}"
        );
        // Two failures are told apart.
        assert_ne!(ApiError::internal(detail).message, e.message);
    }
}
