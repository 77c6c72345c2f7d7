//! A small demo made whole: every secret works, and the file of secrets is the owner's alone.

use std::os::unix::fs::PermissionsExt;

use super::*;

#[test]
fn every_secret_of_a_demo_opens_what_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let today = Date::new(2026, 3, 1).unwrap();
    let seen = std::cell::RefCell::new(Vec::new());
    let made = build(&data, 300, today, &|file, n| {
        if n.is_none() {
            seen.borrow_mut().push(file.to_owned());
        }
    })
    .unwrap();
    assert_eq!(*seen.borrow(), ["people.csv", "dmf.txt"]);
    assert_eq!(credentials(&data).unwrap(), made);
    let mode = std::fs::metadata(data.join(CREDENTIALS_FILE))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let keys = KeyStore::open(&data.join(KEYS_FILE)).unwrap();
    for role in Role::ALL {
        let key = keys.authenticate(&made.keys[role.code()]).unwrap();
        assert_eq!(key.role, role);
    }
    let second = keys.authenticate(&made.keys["caseworker2"]).unwrap();
    assert_eq!(
        (second.role, second.name.as_str()),
        (Role::Caseworker, "demo-caseworker-2")
    );

    let users = Users::open(&data.join(USERS_FILE)).unwrap();
    for (name, password) in &made.console {
        users.login(name, password, now_ms()).unwrap();
    }
    assert_eq!(made.console.len(), 4);

    let programs = Programs::open(&data.join(PROGRAMS_FILE)).unwrap();
    let state = programs.state().unwrap();
    let agency = keys.authenticate(&made.keys["agency"]).unwrap();
    assert_eq!(programs.agreement_of_key(agency.id).unwrap(), Some(1));
    assert!(state.agreement(1).unwrap().approved.is_some());

    let person = example(&data).unwrap();
    let dead = std::fs::read_to_string(data.join(SYNTH_DIR).join("truth_deaths.csv")).unwrap();
    assert!(
        !dead
            .lines()
            .any(|l| l.starts_with(&format!("{},", person.ssn)))
    );
    assert_eq!(person.dob.len(), 10);
}

#[test]
fn a_temporary_folder_is_new_each_time() {
    let a = temporary_folder().unwrap();
    let b = temporary_folder().unwrap();
    assert_ne!(a, b);
    assert!(
        a.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("dmf-demo-")
    );
}
