//! What every [`UserStore`] backend must do, as plain functions that panic on a failure. A
//! backend's tests call [`run_all`] with a maker of fresh, empty stores.

use super::{
    IDLE_MS, LOCKOUT_MS, LoginError, MAX_FAILURES, SESSION_MS, UserRole, UserStore, Users,
};

const NOW: i64 = 1_700_000_000_000;
const MINUTE: i64 = 60_000;

/// Runs every check, each on a fresh store from `fresh`.
pub fn run_all(fresh: &mut dyn FnMut() -> Box<dyn UserStore>) {
    creation_checks_name_password_and_uniqueness(fresh());
    sessions_open_on_the_right_password_and_expire(fresh());
    repeated_failures_lock_the_account_even_for_the_right_password(fresh());
    users_are_read_by_id(fresh());
}

pub fn users_are_read_by_id(db: Box<dyn UserStore>) {
    let users = Users::new(db);
    assert_eq!(users.get(1).unwrap(), None);
    let alice = users
        .create("alice", UserRole::Oversight, "correct horse battery", NOW)
        .unwrap();
    let bob = users
        .create("bob", UserRole::Supervisor, "correct horse battery", NOW)
        .unwrap();
    assert_ne!(alice.id, bob.id);
    assert_eq!(users.get(alice.id).unwrap(), Some(alice.clone()));
    assert_eq!(users.get(bob.id).unwrap(), Some(bob.clone()));
    assert_eq!(users.get(bob.id + 100).unwrap(), None);
    assert_eq!(users.list().unwrap(), [alice, bob]);
}

pub fn creation_checks_name_password_and_uniqueness(db: Box<dyn UserStore>) {
    let users = Users::new(db);
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

pub fn sessions_open_on_the_right_password_and_expire(db: Box<dyn UserStore>) {
    let users = Users::new(db);
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

pub fn repeated_failures_lock_the_account_even_for_the_right_password(db: Box<dyn UserStore>) {
    let users = Users::new(db);
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
