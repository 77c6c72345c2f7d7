//! Every fixture and what it must give: documents read with `read_document`, everything else
//! with `read`. An accepted one gives one line (`render_certificate`, `render_message`); a
//! refused one gives each problem's location and a word of its reason.

use super::{assert_problems, fixture, render_certificate, render_message};
use crate::{Incoming, Refusal, read, read_document};

/// What a fixture must give.
#[derive(Debug, Clone, Copy)]
pub(super) enum Expect {
    /// A document, read on its own.
    Document(&'static str),
    DocumentRefused(&'static [(&'static str, &'static str)]),
    /// One message.
    Message(&'static str),
    MessageRefused(&'static [(&'static str, &'static str)]),
    /// Not a message at all: `read` refuses the body.
    BodyRefused(&'static [(&'static str, &'static str)]),
}

use Expect::*;

/// DeathRecord1.json and the fixtures made from it.
const RECORD_1: &str = "identifier=2022YC000182 ssn=987654321 name=Mædęlyñ Middle/Pãtêl/Jr. sex=unknown birth=1940-02-19 death=2019-02-19 certifier=Doctor Middle Last|http://hl7.org/fhir/sid/us-npi|1234567890";
const RECORD_1_DEATH_UNKNOWN: &str = "identifier=2022YC000182 ssn=987654321 name=Mædęlyñ Middle/Pãtêl/Jr. sex=unknown birth=1940-02-19 death=????-??-?? certifier=Doctor Middle Last|http://hl7.org/fhir/sid/us-npi|1234567890";

/// Every file of `testdata/vrdr`, with what it must give.
pub(super) const TABLE: &[(&str, Expect)] = &[
    // Documents on their own.
    (
        "2022CT000008_record.json",
        Document(
            "identifier=2022CT000008 ssn=000000000 name=Alvin/Stultz/- sex=male birth=2013-02-15 death=2022-02-?? certifier=-|-",
        ),
    ),
    (
        "AllRaceLiterals.json",
        Document(
            "identifier=2020NY000182 ssn=12345678 name=TWILA R/ROXANNE/- sex=female birth=2002-01-01 death=2022-01-10 certifier=-|http://hl7.org/fhir/sid/us-npi|8298",
        ),
    ),
    // An old shape: the birth date given with a time, the death date as the Observation's
    // effective time, the identifier the certificate number alone.
    (
        "BadConditions.json",
        Document(
            "identifier=- ssn=123456789 name=Example Something Middle/Last/Jr. sex=male birth=1940-02-19 death=2018-02-19 certifier=Doctor Middle Last|-",
        ),
    ),
    (
        "BirthAndDeathDateDataAbsent.json",
        Document(
            "identifier=2019MA000001 ssn=123456789 name=Example Something Middle/Last/Jr. sex=male birth=????-??-24 death=2021-02-?? certifier=Doctor Middle Last|http://hl7.org/fhir/sid/us-npi|1234567890",
        ),
    ),
    // The partial date as an object in valueDateTime, where FHIR JSON has text.
    (
        "BirthAndDeathDateDateOnly.json",
        DocumentRefused(&[("Bundle.entry[32].resource.valueDateTime", "underscore")]),
    ),
    (
        "BirthAndDeathDateNoDatePronounced.json",
        Document(
            "identifier=2019MA000001 ssn=123456789 name=Example Something Middle/Last/Jr. sex=male birth=????-??-24 death=2021-02-?? certifier=Doctor Middle Last|http://hl7.org/fhir/sid/us-npi|1234567890",
        ),
    ),
    (
        "BirthAndDeathDateTimeOnly.json",
        Document(
            "identifier=2019MA000001 ssn=123456789 name=Example Something Middle/Last/Jr. sex=male birth=????-??-24 death=2021-02-?? certifier=Doctor Middle Last|http://hl7.org/fhir/sid/us-npi|1234567890",
        ),
    ),
    (
        "BlankLocationNames.json",
        Document(
            "identifier=2020NY000182 ssn=987654321 name=Madelyn/Patel/- sex=unknown birth=2004-11-10 death=2020-11-12 certifier=Jim Black|http://hl7.org/fhir/sid/us-npi|414444AB",
        ),
    ),
    (
        "Bundle-DeathCertificateDocument-Example1.json",
        Document(
            "identifier=2020NY000182 ssn=987654321 name=Madelyn/Patel/- sex=unknown birth=2004-11-10 death=2020-11-12 certifier=Jim Black|http://hl7.org/fhir/sid/us-npi|414444AB",
        ),
    ),
    (
        "Bundle-DeathCertificateDocument-Example2.json",
        Document(
            "identifier=2020NY000182 ssn=987654321 name=Madelyn/Patel/- sex=unknown birth=2004-11-10 death=2020-11-?? certifier=Jim Black|http://hl7.org/fhir/sid/us-npi|414444AB",
        ),
    ),
    (
        "DeathLocationType.json",
        Document(
            "identifier=2021MA218644 ssn=158020972 name=Rufus Anthony/Jakubowski/III sex=male birth=1941-03-27 death=2021-08-11 certifier=Audrey Jo Cummings|http://hl7.org/fhir/sid/us-npi|911456",
        ),
    ),
    ("DeathRecord1.json", Document(RECORD_1)),
    ("DeathRecord1_munged.json", Document(RECORD_1)),
    ("DeathRecordBadDplaceCode.json", Document(RECORD_1)),
    // The bad part is in the date of surgery, which the registry does not read.
    ("DeathRecordBadPartialDate.json", Document(RECORD_1)),
    (
        "DeathRecordBadPartialDateTime.json",
        DocumentRefused(&[
            (
                "Bundle.entry[32].resource._valueDateTime.extension[0].extension[3].url",
                "Invalid\" is not a part",
            ),
            (
                "Bundle.entry[32].resource._valueDateTime.extension[0].extension[4].url",
                "Date-Tme\" is not a part",
            ),
        ]),
    ),
    (
        "DeathRecordBirthRecordDataAbsent.json",
        Document(
            "identifier=2018MA000001 ssn=123456789 name=Example Something Middle/Last/Jr. sex=male birth=1940-02-19 death=2018-02-19 certifier=Doctor Middle Last|http://hl7.org/fhir/sid/us-npi|1234567890",
        ),
    ),
    // A document alone need not carry the key (a message's Parameters do); inside a message
    // with none it is refused (`hand::a_document_without_identifiers_in_a_message`).
    (
        "DeathRecordNoIdentifiers.json",
        Document(
            "identifier=- ssn=123456789 name=Example Something Middle/Last/Jr. sex=male birth=1940-02-19 death=2018-02-19 certifier=Doctor Middle Last|-",
        ),
    ),
    (
        "DeathTimeZone.json",
        Document(
            "identifier=2022HI000026 ssn=429471420 name=davis/Lineberry/Jr. sex=male birth=2023-01-04 death=2022-01-17 certifier=Agnieszka Wichrowska|123",
        ),
    ),
    (
        "EmptyRaceLiteral.json",
        DocumentRefused(&[(
            "Bundle.identifier.extension[1].valueString",
            "not one to six digits",
        )]),
    ),
    (
        "InvalidJurisdictionId.json",
        DocumentRefused(&[("Bundle.identifier.value", "jurisdiction")]),
    ),
    (
        "MissingAge.json",
        Document(
            "identifier=2018MA000001 ssn=123456789 name=Example Something/Last/Jr. sex=female birth=1940-02-19 death=2018-02-19 certifier=Doctor Middle Last|-",
        ),
    ),
    // The certifier's reference names nothing in the document: unknown, not refused.
    (
        "MissingCertifier.json",
        Document(
            "identifier=- ssn=123456789 name=Example Something Middle/Last/Jr. sex=male birth=1940-02-19 death=2018-02-19 certifier=-",
        ),
    ),
    (
        "MissingComposition.json",
        DocumentRefused(&[("Bundle.entry", "no Composition")]),
    ),
    // No attester: the death certification Procedure's performer.
    (
        "MissingCompositionAttestor.json",
        Document(
            "identifier=- ssn=123456789 name=Example Something Middle/Last/Jr. sex=male birth=1940-02-19 death=2018-02-19 certifier=Doctor Middle Last|-",
        ),
    ),
    (
        "MissingCompositionSubject.json",
        DocumentRefused(&[("Bundle.entry[0].resource.subject", "no subject")]),
    ),
    (
        "MissingDecedent.json",
        DocumentRefused(&[(
            "Bundle.entry[0].resource.subject.reference",
            "not in the document",
        )]),
    ),
    // The official name is the second; sex from gender (us-core-birthsex is sex at birth).
    (
        "MissingEthnicityData.json",
        Document(
            "identifier=2021YC000054 ssn=000000000 name=Dfirstfhcg/Testdbji/- sex=male birth=1951-01-01 death=2021-07-12 certifier=Evital Userfourninetwo|-",
        ),
    ),
    (
        "MissingExtensionValue.json",
        DocumentRefused(&[("Bundle.identifier.value", "jurisdiction")]),
    ),
    // Its Composition names a decedent the document does not hold.
    (
        "MissingObservationCode.json",
        DocumentRefused(&[(
            "Bundle.entry[0].resource.subject.reference",
            "not in the document",
        )]),
    ),
    (
        "MissingRelatedPersonRelationshipCode.json",
        Document(
            "identifier=- ssn=123456789 name=Example Something Middle/Last/Jr. sex=male birth=1940-02-19 death=2018-02-19 certifier=Doctor Middle Last|-",
        ),
    ),
    (
        "RaceEthnicityCaseRecord.json",
        DocumentRefused(&[(
            "Bundle.entry[0].resource.subject.reference",
            "not in the document",
        )]),
    ),
    (
        "RaceEthnicityCaseRecord2.json",
        DocumentRefused(&[(
            "Bundle.entry[0].resource.subject.reference",
            "not in the document",
        )]),
    ),
    (
        "RaceEthnicityCaseRecord3.json",
        Document(
            "identifier=2019MA000080 ssn=555111234 name=Janet/Page/- sex=female birth=1949-01-15 death=2019-09-01 certifier=Sam Jones|-",
        ),
    ),
    // VRDR 1.2: no sex at death and no gender.
    (
        "RecordVRDRv1.2.json",
        Document(
            "identifier=2021MA000001 ssn=555111234 name=Janet/Page/- sex=- birth=1949-01-15 death=2021-02-08 certifier=Sam Jones|-",
        ),
    ),
    (
        "TempUnknownDateOfDeath.json",
        Document(RECORD_1_DEATH_UNKNOWN),
    ),
    (
        "Test_StateText_JSON_To_IJE.json",
        Document(
            "identifier=2019MA000001 ssn=123456789 name=Example Something Middle/Last/Jr. sex=male birth=????-??-24 death=2021-02-?? certifier=Doctor Middle Last|http://hl7.org/fhir/sid/us-npi|1234567890",
        ),
    ),
    ("UnknownDateOfDeath.json", Document(RECORD_1_DEATH_UNKNOWN)),
    ("UnknownDateOfInjury.json", Document(RECORD_1)),
    // Messages.
    (
        "AcknowledgementMessage.json",
        Message(
            "acknowledgement id=761dca08-259b-4dcd-aeb7-bb3c73fa30f2 answers=a9d66d2e-2480-4e8d-bab3-4e4c761da1b7 key=2018MA000001 aux=42 details=[]",
        ),
    ),
    (
        "CauseOfDeathCodingMessage.json",
        Message(
            "coding id=0b8543b7-aa8f-41b7-8f59-b4e1530ff68a event=http://nchs.cdc.gov/vrdr_causeofdeath_coding key=2019AK100000",
        ),
    ),
    (
        "CauseOfDeathCodingMessage2.json",
        Message(
            "coding id=7b3326f4-2ba3-4187-875f-adece82bc933 event=http://nchs.cdc.gov/vrdr_causeofdeath_coding key=2023KY008928 aux=230410164027",
        ),
    ),
    (
        "CauseOfDeathCodingUpdateMessage.json",
        Message(
            "coding id=43e25b3b-6501-4eeb-81de-a3efddf19692 event=http://nchs.cdc.gov/vrdr_causeofdeath_coding_update key=2019AK100000",
        ),
    ),
    (
        "CodingResponseMessage.json",
        Message(
            "coding id=a3a1ff4e-fc50-47eb-b3af-442e5fceadd1 event=http://nchs.cdc.gov/vrdr_coding key=2018MA000001 aux=42",
        ),
    ),
    (
        "CodingUpdateMessage.json",
        Message(
            "coding id=a3a1ff4e-fc50-47eb-b3af-442e5fceadd1 event=http://nchs.cdc.gov/vrdr_coding_update key=2018MA000001 aux=42",
        ),
    ),
    (
        "DeathRecordAliasMessage.json",
        Message(
            "alias id=AliasHeader-Example1 key=2018NH123456 aux=abcdef10 first=John middle=Jacob last=Schmidt suffix=III father=Jingleheimer ssn=123-45-6789",
        ),
    ),
    // The guide's example: its Parameters name 2018NY123456, its document 2020NY000182.
    (
        "DeathRecordSubmissionMessage.json",
        MessageRefused(&[
            (
                "Bundle.entry[1].resource.parameter[2].valueUnsignedInt",
                "death_year 2018 disagrees with the document's record identifier 2020NY000182 at Bundle.entry[2].resource.identifier.value",
            ),
            (
                "Bundle.entry[1].resource.parameter[1].valueUnsignedInt",
                "cert_no 123456 disagrees",
            ),
        ]),
    ),
    (
        "DeathRecordSubmissionNoIdentifiers.json",
        MessageRefused(&[
            ("Bundle.entry[1].resource.parameter", "no jurisdiction_id"),
            ("Bundle.entry[1].resource.parameter", "no death_year"),
            (
                "Bundle.entry[1].resource.parameter",
                "no cert_no (the certificate number): neither the Parameters (Bundle.entry[1].resource) nor the document's identifier (Bundle.entry[2].resource.identifier)",
            ),
        ]),
    ),
    (
        "DeathRecordUpdateMessage.json",
        MessageRefused(&[
            (
                "Bundle.entry[1].resource.parameter[2].valueUnsignedInt",
                "disagrees",
            ),
            (
                "Bundle.entry[1].resource.parameter[1].valueUnsignedInt",
                "disagrees",
            ),
        ]),
    ),
    (
        "DeathRecordUpdateNoIdentifiers.json",
        MessageRefused(&[
            ("Bundle.entry[1].resource.parameter", "no jurisdiction_id"),
            ("Bundle.entry[1].resource.parameter", "no death_year"),
            ("Bundle.entry[1].resource.parameter", "no cert_no"),
        ]),
    ),
    (
        "DeathRecordValueCodeableConceptText.json",
        Message(
            "submission id=2975f233-5448-42ba-ac5a-9fec6894230e key=2023MI200101 identifier=2023MI200101 ssn=000000000 name=Messy/Bed/- sex=male birth=2023-02-01 death=2023-02-05 certifier=sdfa sadf|-",
        ),
    ),
    (
        "DeathRecordVoidMessage.json",
        Message("void id=VoidHeader-Example1 key=2018NY123456 aux=abcdef10 block_count=10"),
    ),
    (
        "DeathRecordVoidMessageNoIdentifiers.json",
        MessageRefused(&[
            ("Bundle.entry[1].resource.parameter", "no jurisdiction_id"),
            ("Bundle.entry[1].resource.parameter", "no cert_no"),
            ("Bundle.entry[1].resource.parameter", "no death_year"),
        ]),
    ),
    (
        "DemographicsCodingMessage.json",
        Message(
            "coding id=21002ed3-c5cc-443d-b2f1-ef5022b740f4 event=http://nchs.cdc.gov/vrdr_demographics_coding key=2022YC000123 aux=500",
        ),
    ),
    (
        "DemographicsCodingUpdateMessage.json",
        Message(
            "coding id=f569dea9-a824-4751-b7c8-34dde4b94e9a event=http://nchs.cdc.gov/vrdr_demographics_coding_update key=2022YC000123 aux=500",
        ),
    ),
    (
        "EmptyMessage.json",
        MessageRefused(&[("Bundle.entry", "no entries")]),
    ),
    (
        "EmptySubmission.json",
        MessageRefused(&[("Bundle.entry", "no death certificate document")]),
    ),
    (
        "ExtractionErrorMessage.json",
        Message(
            "extraction_error id=b27d6803-86bc-4ec5-bd43-173951ce362b answers=a9d66d2e-2480-4e8d-bab3-4e4c761da1b7 key=2018MA000001 aux=42 details=[\"The message was invalid\", \"The message was very old\"]",
        ),
    ),
    (
        "InvalidMessageType.json",
        MessageRefused(&[(
            "Bundle.entry[0].resource.eventUri",
            "not a message this receiver takes",
        )]),
    ),
    (
        "MessageHeaderValidation.json",
        MessageRefused(&[(
            "Bundle.entry[1].resource.parameter[0].valueUnsignedInt",
            "11234122 is not a number from 0 to 999999",
        )]),
    ),
    (
        "MissingMessageType.json",
        MessageRefused(&[("Bundle.entry[0].resource.eventUri", "no eventUri")]),
    ),
    (
        "MultipleDestinationsMessage.json",
        Message(
            "acknowledgement id=761dca08-259b-4dcd-aeb7-bb3c73fa30f2 answers=a9d66d2e-2480-4e8d-bab3-4e4c761da1b7 key=- details=[]",
        ),
    ),
    (
        "StatusMessage.json",
        Message(
            "status id=StatusHeader-Example1 answers=- key=2018NY123456 aux=abcdef10 details=[\"manualDemographicCoding\"]",
        ),
    ),
    // A coding response of messaging guides before 1.3: read for its identifiers only.
    (
        "old-trx-pre-IGv13.json",
        Message(
            "coding id=8b18869d-865d-4cb4-9392-3d1f07752b8b event=http://nchs.cdc.gov/vrdr_coding key=2021UT000001",
        ),
    ),
    // Bodies that are not messages.
    (
        "BadDeathRecord.json",
        BodyRefused(&[("Bundle", "not JSON: expected value at line 45 column 28")]),
    ),
    (
        "BadMessage.json",
        BodyRefused(&[("Bundle", "not JSON: invalid number at line 58 column 34")]),
    ),
    (
        "Bundle-CauseOfDeathCodedContentBundle-Example1.json",
        BodyRefused(&[("Bundle.type", "a collection is not a message")]),
    ),
    (
        "Bundle-DemographicCodedContentBundle-Example1.json",
        BodyRefused(&[("Bundle.type", "a collection is not a message")]),
    ),
    (
        "Empty.json",
        BodyRefused(&[
            ("Bundle.resourceType", "no resourceType"),
            ("Bundle.type", "no type"),
        ]),
    ),
];

/// What reading a fixture gives: its line, or its refusal.
pub(super) fn outcome(bytes: &[u8], expect: Expect) -> Result<String, Refusal> {
    match expect {
        Document(_) | DocumentRefused(_) => read_document(bytes).map(|c| render_certificate(&c)),
        Message(_) | MessageRefused(_) | BodyRefused(_) => match read(bytes)? {
            Incoming::One(one) => one.map(|m| render_message(&m)),
            Incoming::Batch(_) => panic!("no fixture is a batch"),
        },
    }
}

#[track_caller]
fn check(name: &str, expect: Expect) {
    let bytes = fixture(name);
    let got = outcome(&bytes, expect);
    match (expect, got) {
        (Document(line) | Message(line), Ok(got)) => assert_eq!(got, line, "{name}"),
        (DocumentRefused(problems) | MessageRefused(problems), Err(refusal)) => {
            assert_problems(name, &refusal, problems);
        }
        (BodyRefused(problems), Err(refusal)) => {
            assert_problems(name, &refusal, problems);
            assert_eq!(refusal.message_id, None, "{name}");
        }
        (expect, got) => panic!("{name}: expected {expect:?}, got {got:?}"),
    }
}

#[test]
fn every_fixture_gives_what_the_table_says() {
    for (name, expect) in TABLE {
        check(name, *expect);
    }
}

#[test]
fn the_table_names_every_file_in_testdata() {
    let dir = format!("{}/testdata/vrdr", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("testdata")
        .map(|e| e.expect("entry").file_name().into_string().expect("UTF-8"))
        .filter(|n| n.ends_with(".json"))
        .collect();
    files.sort();
    let mut named: Vec<String> = TABLE.iter().map(|(n, _)| (*n).to_owned()).collect();
    named.sort();
    let before = named.len();
    named.dedup();
    assert_eq!(named.len(), before, "a fixture is named twice");
    assert_eq!(files, named);
    assert_eq!(files.len(), 69);
}

#[test]
fn a_document_sent_as_a_message_is_refused_at_its_type() {
    for (name, expect) in TABLE {
        if let Document(_) | DocumentRefused(_) = expect {
            let refusal = match read(&fixture(name)) {
                Err(r) => r,
                Ok(other) => panic!("{name}: {other:?}"),
            };
            assert_problems(
                name,
                &refusal,
                &[(
                    "Bundle.type",
                    "a document is not a message: send it inside a vrdr_submission message",
                )],
            );
        }
    }
}

#[test]
fn a_message_is_not_a_document() {
    let refusal = read_document(&fixture("DeathRecordVoidMessage.json")).expect_err("a message");
    assert_problems(
        "void",
        &refusal,
        &[("Bundle.type", "not a death certificate document")],
    );
}

#[test]
fn refusals_name_the_message_and_its_record_as_far_as_they_were_read() {
    let refusal = match read(&fixture("DeathRecordSubmissionMessage.json")) {
        Ok(Incoming::One(Err(r))) => r,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        refusal.message_id.as_deref(),
        Some("SubmissionHeader-Example1")
    );
    assert_eq!(
        refusal.source.as_deref(),
        Some("https://sos.nh.gov/vitalrecords")
    );
    let ids = refusal.ids.expect("the Parameters name a record");
    assert_eq!(ids.key.to_string(), "2018NY123456");
    assert_eq!(ids.state_auxiliary_id.as_deref(), Some("abcdef10"));

    // The certificate number is out of range; the document's own gives the rest of the name.
    let refusal = match read(&fixture("MessageHeaderValidation.json")) {
        Ok(Incoming::One(Err(r))) => r,
        other => panic!("{other:?}"),
    };
    assert_eq!(refusal.ids.expect("named").key.to_string(), "2024MA112341");
    // A document alone: its own key.
    let refusal = read_document(&fixture("EmptyRaceLiteral.json")).expect_err("refused");
    assert_eq!(refusal.ids.expect("named").key.to_string(), "2022ID000000");
}

#[test]
fn accepted_values_carry_their_locations() {
    let c = read_document(&fixture("DeathRecord1.json")).expect("accepted");
    assert_eq!(c.key.expect("key").location, "Bundle.identifier.value");
    assert_eq!(
        c.ssn.expect("ssn").location,
        "Bundle.entry[1].resource.identifier[0].value"
    );
    assert_eq!(
        c.name.expect("name").location,
        "Bundle.entry[1].resource.name[0]"
    );
    assert_eq!(
        c.sex.expect("sex").location,
        "Bundle.entry[1].resource.extension[1].valueCodeableConcept.coding[0].code"
    );
    assert_eq!(
        c.birth.expect("birth").location,
        "Bundle.entry[1].resource.birthDate"
    );
    assert_eq!(
        c.death.expect("death").location,
        "Bundle.entry[32].resource.valueDateTime"
    );
    assert_eq!(
        c.certifier.expect("certifier").location,
        "Bundle.entry[2].resource"
    );

    // Inside a message the document's parts are under its entry.
    let m = match read(&fixture("DeathRecordValueCodeableConceptText.json")) {
        Ok(Incoming::One(Ok(m))) => m,
        other => panic!("{other:?}"),
    };
    let crate::Body::Submission(record) = m.body else {
        panic!("a submission")
    };
    assert_eq!(
        record.certificate.ssn.expect("ssn").location,
        "Bundle.entry[2].resource.entry[1].resource.identifier[0].value"
    );
    assert_eq!(
        record.certificate.death.expect("death").location,
        "Bundle.entry[2].resource.entry[8].resource._valueDateTime.extension[0]"
    );
}
