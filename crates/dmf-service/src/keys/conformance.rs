//! What every [`KeyStorage`] backend must do, as plain functions that panic on a failure. A
//! backend's tests call [`run_all`] with a maker of fresh, empty stores.

use super::{KeyError, KeyStorage, KeyStore, NewKey, RELOAD_EVERY, Role};

const NOW: i64 = 1_700_000_000_000;

/// Runs every check, each on a fresh store from `fresh`.
pub fn run_all(fresh: &mut dyn FnMut() -> Box<dyn KeyStorage>) {
    every_role_creates_and_authenticates(fresh());
    names_are_unique_even_after_revocation(fresh());
    revocation_and_quotas_are_kept(fresh());
    exported_keys_import_and_keep_working(fresh(), fresh());
    a_jurisdiction_round_trips(fresh(), fresh());
}

/// A key of `role` with the scope its role needs.
pub fn key_of(name: &str, role: Role) -> NewKey {
    let mut new = NewKey::plain(name, role);
    match role {
        Role::Reporter => new.source = Some("funeral_home".into()),
        Role::Authority => new.authority = Some("Social Security Administration".into()),
        Role::Subscriber => new.certified = true,
        _ => {}
    }
    new
}

pub fn every_role_creates_and_authenticates(db: Box<dyn KeyStorage>) {
    let store = KeyStore::new(db).unwrap();
    assert!(store.list().unwrap().is_empty());
    for (i, role) in Role::ALL.into_iter().enumerate() {
        let (key, secret) = store
            .create(key_of(role.code(), role), NOW + i as i64)
            .unwrap();
        assert!(secret.starts_with(&format!("dmf_{}_", role.code())));
        assert_eq!(store.authenticate(&secret), Some(key.clone()));
        assert_eq!(store.get(key.id), Some(key));
    }
    let listed = store.list().unwrap();
    assert_eq!(listed.len(), Role::ALL.len());
    assert!(listed.windows(2).all(|w| w[0].id < w[1].id), "oldest first");
    assert_eq!(store.authenticate("dmf_identity_nothing"), None);
}

pub fn names_are_unique_even_after_revocation(db: Box<dyn KeyStorage>) {
    let store = KeyStore::new(db).unwrap();
    store
        .create(NewKey::plain("bank", Role::Identity), NOW)
        .unwrap();
    assert_eq!(
        store.create(NewKey::plain("bank", Role::Benefits), NOW),
        Err(KeyError::NameTaken("bank".into()))
    );
    assert!(store.revoke("bank").unwrap());
    assert!(!store.revoke("bank").unwrap());
    assert!(!store.revoke("nobody").unwrap());
    assert_eq!(
        store.create(NewKey::plain("bank", Role::Identity), NOW),
        Err(KeyError::NameTaken("bank".into()))
    );
}

/// Revocations and allowances are stored, not only held in memory.
pub fn revocation_and_quotas_are_kept(db: Box<dyn KeyStorage>) {
    let store = KeyStore::new(db).unwrap();
    let (key, secret) = store
        .create(
            NewKey {
                daily_quota: Some(3),
                ..NewKey::plain("agency", Role::Benefits)
            },
            NOW,
        )
        .unwrap();
    assert_eq!(key.daily_quota, Some(3));
    assert!(store.set_quota("agency", Some(u64::MAX)).unwrap());
    assert!(!store.set_quota("missing", Some(1)).unwrap());
    assert_eq!(store.list().unwrap()[0].daily_quota, Some(i64::MAX as u64));
    assert!(store.set_quota("agency", None).unwrap());
    assert!(store.revoke("agency").unwrap());
    assert_eq!(store.authenticate(&secret), None);
    // Read back from the storage, not the memory.
    let later = std::time::Instant::now() + RELOAD_EVERY + std::time::Duration::from_secs(1);
    assert_eq!(store.authenticate_at(&secret, later), None);
    let listed = store.list().unwrap();
    assert!(listed[0].revoked);
    assert_eq!(listed[0].daily_quota, None);
}

pub fn exported_keys_import_and_keep_working(from: Box<dyn KeyStorage>, to: Box<dyn KeyStorage>) {
    let from = KeyStore::new(from).unwrap();
    let (_, kept) = from
        .create(key_of("reporter", Role::Reporter), NOW)
        .unwrap();
    let (_, gone) = from
        .create(key_of("old", Role::Subscriber), NOW + 1)
        .unwrap();
    assert!(from.revoke("old").unwrap());
    let to = KeyStore::new(to).unwrap();
    for (key, hash) in from.export().unwrap() {
        to.import(&key, &hash).unwrap();
    }
    assert_eq!(to.list().unwrap(), from.list().unwrap());
    assert_eq!(
        to.authenticate(&kept).map(|k| k.name),
        Some("reporter".into())
    );
    assert_eq!(to.authenticate(&gone), None);
    // Keys made after the import are numbered after the imported ones.
    let (next, _) = to
        .create(NewKey::plain("next", Role::Identity), NOW + 2)
        .unwrap();
    assert!(next.id > 2, "{next:?}");
}

/// A state reporter's jurisdiction is stored as given in capitals, read back by every way a
/// key is read, and carried by an export into another store; a state key without one keeps
/// none.
pub fn a_jurisdiction_round_trips(from: Box<dyn KeyStorage>, to: Box<dyn KeyStorage>) {
    let state = |name: &str, jurisdiction: Option<&str>| NewKey {
        source: Some("state".into()),
        jurisdiction: jurisdiction.map(str::to_owned),
        ..NewKey::plain(name, Role::Reporter)
    };
    let from = KeyStore::new(from).unwrap();
    let (ny, ny_secret) = from.create(state("albany", Some("NY")), NOW).unwrap();
    assert_eq!(ny.jurisdiction.as_deref(), Some("NY"));
    let (yc, _) = from.create(state("nyc", Some("yc")), NOW + 1).unwrap();
    assert_eq!(yc.jurisdiction.as_deref(), Some("YC"), "stored in capitals");
    let (none, _) = from.create(state("unbound", None), NOW + 2).unwrap();
    assert_eq!(none.jurisdiction, None);
    let wanted = vec![Some("NY".to_owned()), Some("YC".to_owned()), None];
    let stored = |store: &KeyStore| -> Vec<Option<String>> {
        store
            .export()
            .unwrap()
            .into_iter()
            .map(|(k, _)| k.jurisdiction)
            .collect()
    };
    assert_eq!(stored(&from), wanted);
    // Read back from the storage, not the memory.
    let later = std::time::Instant::now() + RELOAD_EVERY + std::time::Duration::from_secs(1);
    assert_eq!(from.authenticate_at(&ny_secret, later), Some(ny));

    let to = KeyStore::new(to).unwrap();
    for (key, hash) in from.export().unwrap() {
        to.import(&key, &hash).unwrap();
    }
    assert_eq!(stored(&to), wanted);
    assert_eq!(to.list().unwrap(), from.list().unwrap());
    assert_eq!(
        to.authenticate(&ny_secret).and_then(|k| k.jurisdiction),
        Some("NY".into())
    );
}
