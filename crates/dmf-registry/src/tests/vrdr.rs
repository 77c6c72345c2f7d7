//! FHIR VRDR messages through the registry: submissions, updates, voids and aliases, each
//! idempotent on the record's key, each checked against the person it names. Messages are
//! written out here field by field (the reader has its own tests on the reference fixtures).

use dmf_model::{Reference, Ssn};
use dmf_vrdr::{
    Alias, Body, CertificateKey, DateParts, DeathCertificate, IssueCode, Located, Message,
    OfficialName, Record, RecordIds, SexAtDeath, Void,
};

use super::{import_people, registry, today};
use crate::distribution::{self, Audience};
use crate::event::{Event, ReportWithdrawal};
use crate::vrdr::{self, Handled, JURISDICTION_PATH, Sender};
use crate::*;

const ANN: &str = "123456789";
const BEA: &str = "123456788";

fn key(text: &str) -> CertificateKey {
    text.parse().unwrap()
}

fn located<T>(value: T, location: &str) -> Option<Located<T>> {
    Some(Located {
        value,
        location: location.to_owned(),
    })
}

fn date(y: u16, m: u8, d: u8) -> DateParts {
    DateParts {
        year: Some(y),
        month: Some(m),
        day: Some(d),
    }
}

/// A certificate naming `ssn`, `given family`, born 1950-03-04, died `dod`.
fn certificate(ssn: &str, given: &[&str], family: &str, dod: DateParts) -> DeathCertificate {
    DeathCertificate {
        document_id: Some("doc".into()),
        key: None,
        ssn: located(
            ssn.to_owned(),
            "Bundle.entry[2].resource.entry[1].resource.identifier[0].value",
        ),
        name: located(
            OfficialName {
                given: given.iter().map(|g| g.to_string()).collect(),
                family: Some(family.to_owned()),
                suffix: None,
            },
            "Bundle.entry[2].resource.entry[1].resource.name[0]",
        ),
        sex: located(
            SexAtDeath::Female,
            "Bundle.entry[2].resource.entry[1].resource.extension[0]",
        ),
        birth: located(
            date(1950, 3, 4),
            "Bundle.entry[2].resource.entry[1].resource.birthDate",
        ),
        death: located(
            dod,
            "Bundle.entry[2].resource.entry[14].resource.valueDateTime",
        ),
        certifier: None,
    }
}

fn ids(k: &str) -> RecordIds {
    RecordIds {
        key: key(k),
        state_auxiliary_id: None,
    }
}

fn message(id: &str, body: Body) -> Message {
    Message {
        id: id.to_owned(),
        source: Some("https://state.example/vital-records".into()),
        destinations: vec!["http://nchs.cdc.gov/vrdr_submission".into()],
        body,
    }
}

fn submission(id: &str, k: &str, c: DeathCertificate) -> Message {
    message(
        id,
        Body::Submission(Record {
            ids: ids(k),
            certificate: c,
        }),
    )
}

fn update(id: &str, k: &str, c: DeathCertificate) -> Message {
    message(
        id,
        Body::Update(Record {
            ids: ids(k),
            certificate: c,
        }),
    )
}

fn void(id: &str, k: &str, block_count: u32) -> Message {
    message(
        id,
        Body::Void(Void {
            ids: ids(k),
            block_count,
        }),
    )
}

fn ann(dod: DateParts) -> DeathCertificate {
    certificate(ANN, &["Ann"], "Lee", dod)
}

/// Each answer as `outcome` or `refused LOCATION: reason`.
fn said(h: &Handled) -> String {
    match h {
        Ok(r) => r.outcome.to_owned(),
        Err(problems) => problems
            .iter()
            .map(|p| format!("refused {}: {}", p.location, p.reason))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

fn send(reg: &Registry, sender: Sender, messages: &[Message]) -> Vec<String> {
    let refs: Vec<(&Message, Sender)> = messages.iter().map(|m| (m, sender)).collect();
    vrdr::handle(reg, &refs, today(), 0)
        .unwrap()
        .iter()
        .flat_map(|answers| answers.iter().map(said))
        .collect()
}

fn from(jurisdiction: &str) -> Sender {
    Sender {
        jurisdiction: Some(jurisdiction.parse().unwrap()),
    }
}

fn dod_of(reg: &Registry, ssn: &str) -> Option<String> {
    let state = reg.state_of(ssn.parse().unwrap()).unwrap()?;
    state.death.map(|d| d.dod.to_string())
}

/// The records a benefit program's feed gives between two positions.
fn feed(reg: &Registry, after: u64) -> (u64, Vec<String>) {
    let audience = Audience {
        certified: true,
        state_deaths: true,
    };
    let c = distribution::changes(reg, after, 1000, audience, today()).unwrap();
    let codes = c
        .records
        .iter()
        .map(|r| format!("{} {}", r.change().code() as char, r.ssn()))
        .collect();
    (c.cursor, codes)
}

#[test]
fn a_submission_then_its_update_then_its_void_give_a_c_and_d() {
    let (_dir, reg) = registry();
    import_people(&reg, &[ANN]);
    let (start, _) = feed(&reg, 0);
    let ny = from("NY");
    assert_eq!(
        send(
            &reg,
            ny,
            &[submission("m1", "2026NY000001", ann(date(2026, 11, 1)))]
        ),
        ["deceased"]
    );
    assert_eq!(dod_of(&reg, ANN).as_deref(), Some("2026-11-01"));
    let (after_a, records) = feed(&reg, start);
    assert_eq!(records, [format!("A {ANN}")]);

    // Sent again: the same message, or the same record under a new message id.
    assert_eq!(
        send(
            &reg,
            ny,
            &[
                submission("m1", "2026NY000001", ann(date(2026, 11, 1))),
                submission("m1b", "2026NY000001", ann(date(2026, 11, 1))),
            ]
        ),
        ["duplicate", "duplicate"]
    );

    assert_eq!(
        send(
            &reg,
            ny,
            &[update("m2", "2026NY000001", ann(date(2026, 11, 2)))]
        ),
        ["amended"]
    );
    assert_eq!(dod_of(&reg, ANN).as_deref(), Some("2026-11-02"));
    let (after_c, records) = feed(&reg, after_a);
    assert_eq!(records, [format!("C {ANN}")]);
    // The update again is a duplicate, by its message id.
    assert_eq!(
        send(
            &reg,
            ny,
            &[update("m2", "2026NY000001", ann(date(2026, 11, 2)))]
        ),
        ["duplicate"]
    );

    assert_eq!(
        send(&reg, ny, &[void("m3", "2026NY000001", 1)]),
        ["withdrawn"]
    );
    assert_eq!(dod_of(&reg, ANN), None);
    let (_, records) = feed(&reg, after_c);
    assert_eq!(records, [format!("D {ANN}")]);
    assert_eq!(
        send(&reg, ny, &[void("m4", "2026NY000001", 1)]),
        ["duplicate"]
    );

    // Every node agrees: the index as the writer kept it is a replay of the events.
    let rebuilt = reg.load_index().unwrap();
    assert_eq!(
        rebuilt.get(ANN.parse().unwrap()),
        reg.state_of(ANN.parse().unwrap()).unwrap().as_ref()
    );
}

#[test]
fn messages_for_one_record_in_one_batch_each_see_the_one_before() {
    let (_dir, reg) = registry();
    import_people(&reg, &[ANN]);
    let said = send(
        &reg,
        from("NY"),
        &[
            submission("m1", "2026NY000002", ann(date(2026, 10, 1))),
            update("m2", "2026NY000002", ann(date(2026, 10, 3))),
            void("m3", "2026NY000002", 1),
        ],
    );
    assert_eq!(said, ["deceased", "amended", "withdrawn"]);
}

#[test]
fn a_void_of_a_block_withdraws_each_record_it_covers() {
    let (_dir, reg) = registry();
    import_people(&reg, &[ANN, BEA]);
    let ny = from("NY");
    let bea = certificate(BEA, &["Ann"], "Lee", date(2026, 9, 9));
    send(
        &reg,
        ny,
        &[
            submission("m1", "2026NY000010", ann(date(2026, 9, 1))),
            submission("m2", "2026NY000012", bea),
        ],
    );
    let said = send(&reg, ny, &[void("v", "2026NY000010", 3)]);
    assert_eq!(said, ["withdrawn", "nothing_to_withdraw", "withdrawn"]);
    assert_eq!((dod_of(&reg, ANN), dod_of(&reg, BEA)), (None, None));
}

#[test]
fn what_a_state_may_not_send_is_refused_naming_the_element() {
    let (_dir, reg) = registry();
    import_people(&reg, &[ANN]);
    let ssn_at = "Bundle.entry[2].resource.entry[1].resource.identifier[0].value";
    let check = |sender: Sender, m: Message, expect: &str| {
        let said = send(&reg, sender, &[m]);
        assert_eq!(said.len(), 1);
        assert!(
            said[0].starts_with(expect),
            "{} does not start with {expect}",
            said[0]
        );
    };
    // Another jurisdiction's record.
    check(
        from("NJ"),
        submission("j", "2026NY000003", ann(date(2026, 11, 1))),
        &format!("refused {JURISDICTION_PATH}: the record is of jurisdiction NY"),
    );
    // A test SSN of an area never issued.
    check(
        from("NY"),
        submission(
            "s",
            "2026NY000004",
            certificate("987654321", &["Ann"], "Lee", date(2026, 11, 1)),
        ),
        &format!("refused {ssn_at}: SSN 987654321 was never issued"),
    );
    check(
        from("NY"),
        submission(
            "s8",
            "2026NY000004",
            certificate("12345678", &["Ann"], "Lee", date(2026, 11, 1)),
        ),
        &format!("refused {ssn_at}: \"12345678\" is not an SSN"),
    );
    // No year of death, and a death after today.
    let unknown = DateParts {
        year: None,
        month: Some(1),
        day: None,
    };
    check(
        from("NY"),
        submission("d", "2026NY000005", ann(unknown)),
        "refused Bundle.entry[2].resource.entry[14].resource.valueDateTime: the year of death is unknown",
    );
    check(
        from("NY"),
        submission("f", "2026NY000005", ann(date(2027, 1, 1))),
        "refused Bundle.entry[2].resource.entry[14].resource.valueDateTime: the date of death 2027-01-01 is after today",
    );
    // Nothing was stored by any of them.
    assert_eq!(dod_of(&reg, ANN), None);
    assert_eq!(reg.store().head().unwrap(), 1);
}

#[test]
fn a_record_naming_someone_else_is_held_and_says_which_fields_differ() {
    let (_dir, reg) = registry();
    import_people(&reg, &[ANN]);
    let refs = [submission(
        "h",
        "2026NY000006",
        certificate(ANN, &["Robert"], "Moss", date(2026, 11, 1)),
    )];
    let refs: Vec<(&Message, Sender)> = refs.iter().map(|m| (m, from("NY"))).collect();
    let answers = vrdr::handle(&reg, &refs, today(), 0).unwrap();
    let receipt = answers[0][0].as_ref().unwrap();
    assert_eq!(receipt.outcome, "held");
    let note = receipt.notes.join(" ");
    assert!(
        note.contains("identity_mismatch") && note.contains("first") && note.contains("last"),
        "{note}"
    );
    // What is on file is not told to the sender.
    assert!(
        !note.to_uppercase().contains("ANN") && !note.contains("LEE"),
        "{note}"
    );
    assert_eq!(dod_of(&reg, ANN), None);
}

#[test]
fn unicode_names_are_compared_in_their_dmf_form() {
    let (_dir, reg) = registry();
    import_people(&reg, &[ANN]);
    let c = certificate(ANN, &["Ånn"], "Lée", date(2026, 11, 1));
    assert_eq!(
        send(&reg, from("NY"), &[submission("u", "2026NY000007", c)]),
        ["deceased"]
    );
}

#[test]
fn an_update_naming_another_ssn_moves_the_report() {
    let (_dir, reg) = registry();
    import_people(&reg, &[ANN, BEA]);
    let ny = from("NY");
    send(
        &reg,
        ny,
        &[submission("m1", "2026NY000008", ann(date(2026, 11, 1)))],
    );
    let bea = certificate(BEA, &["Ann"], "Lee", date(2026, 11, 1));
    assert_eq!(
        send(&reg, ny, &[update("m2", "2026NY000008", bea)]),
        ["deceased"]
    );
    assert_eq!(
        (dod_of(&reg, ANN), dod_of(&reg, BEA).as_deref()),
        (None, Some("2026-11-01"))
    );
    // The void now withdraws the report on the SSN the record names now.
    assert_eq!(
        send(&reg, ny, &[void("m3", "2026NY000008", 1)]),
        ["withdrawn"]
    );
    assert_eq!(dod_of(&reg, BEA), None);
}

#[test]
fn a_withdrawn_state_report_leaves_the_death_to_the_reports_that_agreed() {
    let (_dir, reg) = registry();
    import_people(&reg, &[ANN, BEA]);
    let ny = from("NY");
    // Ann: the state, then a funeral home agreeing. Alone, the funeral home's report waits.
    send(
        &reg,
        ny,
        &[submission("m1", "2026NY000020", ann(date(2026, 11, 1)))],
    );
    let fh = super::report(ANN, "funeral_home", "2026-11-01");
    assert_eq!(super::submit(&reg, &[&fh]), ["corroborated"]);
    assert_eq!(
        send(&reg, ny, &[void("v1", "2026NY000020", 1)]),
        ["withdrawn"]
    );
    let state = reg.state_of(ANN.parse().unwrap()).unwrap().unwrap();
    assert_eq!(
        (state.death, state.extra().unwrap().pending.len()),
        (None, 1)
    );
    // Bea: the state, then a funeral home and a family agreeing: the death stands on them.
    let bea = certificate(BEA, &["Ann"], "Lee", date(2026, 11, 1));
    send(&reg, ny, &[submission("m2", "2026NY000021", bea)]);
    let fh = super::report(BEA, "funeral_home", "2026-11-01");
    let family = super::report(BEA, "family", "2026-11-01");
    assert_eq!(
        super::submit(&reg, &[&fh, &family]),
        ["corroborated", "corroborated"]
    );
    assert_eq!(
        send(&reg, ny, &[void("v2", "2026NY000021", 1)]),
        ["withdrawn"]
    );
    let death = reg
        .state_of(BEA.parse().unwrap())
        .unwrap()
        .unwrap()
        .death
        .unwrap();
    // As two sources agreeing on the same day: it stands on the later one.
    assert_eq!(death.source.code(), "family");
    assert!(
        !death
            .sources
            .contains(dmf_model::DeathSource::StateVitalRecords)
    );
}

#[test]
fn only_a_reports_source_may_withdraw_it() {
    let (_dir, reg) = registry();
    import_people(&reg, &[ANN]);
    send(
        &reg,
        from("NY"),
        &[submission("m1", "2026NY000030", ann(date(2026, 11, 1)))],
    );
    let withdrawal = |source, report| Submission {
        event: Event::ReportWithdrawal(ReportWithdrawal {
            ssn: ANN.parse::<Ssn>().unwrap(),
            report,
            source,
            evidence: Reference::new("letter").unwrap(),
            reason: Reference::new("mistake").unwrap(),
        }),
        idempotency_key: None,
    };
    let results = reg
        .submit(
            vec![
                withdrawal(dmf_model::DeathSource::FuneralHome, 2),
                withdrawal(dmf_model::DeathSource::StateVitalRecords, 1),
            ],
            0,
        )
        .unwrap();
    let said: Vec<String> = results
        .into_iter()
        .map(|r| match r {
            Ok(a) => a.outcome.code().to_owned(),
            Err(r) => r.to_string(),
        })
        .collect();
    assert_eq!(
        said,
        [
            "$.source: report 2 came from state: only its source may withdraw or amend it",
            "$.report: event 1 is not a death report of SSN 123456789 that still counts",
        ]
    );
}

#[test]
fn an_alias_is_kept_as_evidence_once() {
    let (_dir, reg) = registry();
    import_people(&reg, &[ANN]);
    let ny = from("NY");
    let alias = |id: &str| {
        message(
            id,
            Body::Alias(Alias {
                ids: ids("2026NY000040"),
                first: Some("Annie".into()),
                middle: None,
                last: Some("Leigh".into()),
                suffix: None,
                father_surname: None,
                ssn: located(
                    "123-45-6780".to_owned(),
                    "Bundle.entry[1].resource.parameter[9].valueString",
                ),
            }),
        )
    };
    assert_eq!(
        send(&reg, ny, &[alias("a0")])[0],
        format!(
            "refused {JURISDICTION_PATH}: no report of record 2026NY000040 stands: an alias needs the record it is for"
        )
    );
    send(
        &reg,
        ny,
        &[submission("m1", "2026NY000040", ann(date(2026, 11, 1)))],
    );
    assert_eq!(
        send(&reg, ny, &[alias("a1"), alias("a1")]),
        ["alias_recorded", "duplicate"]
    );
    let history = reg.history(ANN.parse().unwrap()).unwrap();
    let Event::ReportAlias(a) = &history.last().unwrap().1 else {
        panic!("the alias is the last event");
    };
    assert_eq!(
        (a.report, a.alias_ssn.map(|s| s.to_string())),
        (2, Some("123456780".into()))
    );
}

#[test]
fn messages_the_registry_does_not_act_on_are_answered_with_the_reason() {
    let (_dir, reg) = registry();
    let ack = message(
        "a",
        Body::Acknowledgement(dmf_vrdr::Response {
            acknowledged: "x".into(),
            ids: None,
            details: Vec::new(),
        }),
    );
    assert_eq!(send(&reg, from("NY"), &[ack]), ["ignored"]);
}

#[test]
fn the_new_events_encode_and_decode_back() {
    let (_dir, reg) = registry();
    import_people(&reg, &[ANN]);
    let ny = from("NY");
    send(
        &reg,
        ny,
        &[submission("m1", "2026NY000050", ann(date(2026, 11, 1)))],
    );
    send(
        &reg,
        ny,
        &[update("m2", "2026NY000050", ann(date(2026, 11, 2)))],
    );
    send(&reg, ny, &[void("m3", "2026NY000050", 1)]);
    let history = reg.history(ANN.parse().unwrap()).unwrap();
    let kinds: Vec<&str> = history.iter().map(|(s, _)| s.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "person",
            "death_report",
            "death_report",
            "report_withdrawal"
        ]
    );
    for (stored, event) in &history {
        assert_eq!(encode(event), stored.body, "{}", stored.kind);
    }
    assert_eq!(
        String::from_utf8(history[3].0.body.clone()).unwrap(),
        r#"{"ssn":"123456789","source":"state","evidence":["FHIR VRDR record 2026NY000050 message m3"],"reason":"record 2026NY000050 voided by its state's vital records office","report":3}"#
    );
    assert!(
        String::from_utf8(history[2].0.body.clone())
            .unwrap()
            .ends_with(r#","supersedes":2}"#)
    );
}

#[test]
fn problems_are_typed_for_the_operation_outcome() {
    let (_dir, reg) = registry();
    let refs = [submission("j", "2026NY000003", ann(date(2026, 11, 1)))];
    let refs: Vec<(&Message, Sender)> = refs.iter().map(|m| (m, from("NJ"))).collect();
    let answers = vrdr::handle(&reg, &refs, today(), 0).unwrap();
    assert_eq!(
        answers[0][0].as_ref().unwrap_err()[0].code,
        IssueCode::BusinessRule
    );
}

/// Every message fixture of the reference library, sent as it is by the operator (who may send
/// any jurisdiction's records): what the registry answers for each.
#[test]
fn every_reference_message_is_stored_or_refused_with_its_reason() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../dmf-vrdr/testdata/vrdr");
    let (_dir, reg) = registry();
    // The fixtures' decedent of DeathRecordValueCodeableConceptText.json has SSN 000000000;
    // a numberholder for the alias message's record is made by its submission below.
    import_people(&reg, &[ANN]);
    let check = |name: &str, expect: &str| {
        let bytes = std::fs::read(format!("{dir}/{name}")).unwrap();
        let read = vrdr::read(&bytes);
        let answers = vrdr::store_and_answer(&reg, &read, None, today(), 0).unwrap();
        let said: Vec<&str> = answers.iter().map(|a| a.summary.as_str()).collect();
        assert_eq!(said.len(), 1, "{name}: {said:?}");
        assert!(
            said[0].starts_with(expect),
            "{name}: {said:?} does not start with {expect:?}"
        );
        for a in &answers {
            assert!(
                dmf_vrdr::answer::check_answer(&a.answer).is_empty(),
                "{name}: {}",
                a.answer
            );
        }
    };
    for (name, expect) in [
        ("AcknowledgementMessage.json", "ignored"),
        ("CauseOfDeathCodingMessage.json", "ignored"),
        ("CauseOfDeathCodingMessage2.json", "ignored"),
        ("CauseOfDeathCodingUpdateMessage.json", "ignored"),
        ("CodingResponseMessage.json", "ignored"),
        ("CodingUpdateMessage.json", "ignored"),
        ("DemographicsCodingMessage.json", "ignored"),
        ("DemographicsCodingUpdateMessage.json", "ignored"),
        ("ExtractionErrorMessage.json", "ignored"),
        ("StatusMessage.json", "ignored"),
        ("MultipleDestinationsMessage.json", "ignored"),
        ("old-trx-pre-IGv13.json", "ignored"),
        // Its Parameters name 2018NY123456, its document 2020NY000182.
        (
            "DeathRecordSubmissionMessage.json",
            "refused: Bundle.entry[1].resource.parameter",
        ),
        (
            "DeathRecordUpdateMessage.json",
            "refused: Bundle.entry[1].resource.parameter",
        ),
        ("DeathRecordSubmissionNoIdentifiers.json", "refused: "),
        ("DeathRecordUpdateNoIdentifiers.json", "refused: "),
        ("DeathRecordVoidMessageNoIdentifiers.json", "refused: "),
        ("EmptyMessage.json", "refused: "),
        ("EmptySubmission.json", "refused: "),
        (
            "InvalidMessageType.json",
            "refused: Bundle.entry[0].resource.eventUri",
        ),
        (
            "MissingMessageType.json",
            "refused: Bundle.entry[0].resource.eventUri",
        ),
        ("MessageHeaderValidation.json", "refused: "),
        // SSN 000000000: area 000 was never issued.
        (
            "DeathRecordValueCodeableConceptText.json",
            "refused: Bundle.entry[2].resource.entry[1].resource.identifier[0].value: SSN 000000000 was never issued",
        ),
        // A block of ten records never received.
        (
            "DeathRecordVoidMessage.json",
            "block (2018NY123456: nothing_to_withdraw",
        ),
        // No report of its record stands.
        (
            "DeathRecordAliasMessage.json",
            "refused: Bundle.entry.resource.ofType(Parameters)",
        ),
    ] {
        check(name, expect);
    }
    assert_eq!(reg.store().head().unwrap(), 1, "nothing was stored");
}
