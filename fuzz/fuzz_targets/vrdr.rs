//! FHIR VRDR request bodies as `POST /v1/fhir/vrdr` and `dmf submit --format vrdr` take them:
//! `dmf_vrdr::read`, then the registry's mapping (`dmf_registry::vrdr::store_and_answer`, as
//! a state bound to NY) against one registry kept for the run, with a numberholder whose
//! identity the fixtures' messages can be edited to name.
//!
//! Properties: reading and storing never panic; every message read or refused gets exactly one
//! answer, an acknowledgement or an extraction error that lacks nothing its profile requires,
//! naming the message it answers when its id could be read; a refusal names at least one
//! problem; a batch-response has one entry a message.

#![no_main]

use std::sync::{Mutex, OnceLock};

use dmf_model::Date;
use dmf_registry::{Registry, vrdr};
use libfuzzer_sys::fuzz_target;

fn registry() -> &'static Mutex<(tempfile::TempDir, Registry)> {
    static REG: OnceLock<Mutex<(tempfile::TempDir, Registry)>> = OnceLock::new();
    REG.get_or_init(|| {
        let shm = std::path::Path::new("/dev/shm");
        let dir = if shm.is_dir() {
            tempfile::tempdir_in(shm)
        } else {
            tempfile::tempdir()
        }
        .expect("a temporary folder");
        let reg = Registry::init(&dir.path().join("data"), None).expect("a registry");
        let people = dir.path().join("people.csv");
        std::fs::write(
            &people,
            "ssn,first,middle,last,suffix,sex,dob,birth_state\n123456789,Madelyn,,Patel,,F,1940-02-19,NY\n",
        )
        .expect("people");
        dmf_registry::import_file(&reg, &people, today(), 0, &|_| {}).expect("import");
        Mutex::new((dir, reg))
    })
}

fn today() -> Date {
    Date::new(2026, 1, 15).expect("a date")
}

fuzz_target!(|data: &[u8]| {
    let read = vrdr::read(data);
    for m in &read.messages {
        if let Err(refusal) = m {
            assert!(!refusal.problems.is_empty(), "a refusal names no problem");
        }
    }
    let guard = registry().lock().unwrap_or_else(|e| e.into_inner());
    let jurisdiction = "NY".parse().ok();
    let answers = vrdr::store_and_answer(&guard.1, &read, jurisdiction, today(), 0)
        .expect("the registry stores or refuses");
    drop(guard);
    assert_eq!(answers.len(), read.messages.len());
    for (m, a) in read.messages.iter().zip(&answers) {
        let lacks = dmf_vrdr::answer::check_answer(&a.answer);
        assert!(lacks.is_empty(), "{lacks:?} in {}", a.answer);
        let id = match m {
            Ok(message) => Some(message.id.as_str()),
            Err(refusal) => refusal.message_id.as_deref(),
        };
        if let Some(id) = id {
            let answered = a.answer["entry"][0]["resource"]["response"]["identifier"].as_str();
            assert_eq!(answered, Some(id), "{}", a.answer);
        }
    }
    let count = answers.len();
    let response = vrdr::response(read.batch, answers, 0);
    if read.batch {
        assert_eq!(response["entry"].as_array().map(Vec::len), Some(count));
    }
});
