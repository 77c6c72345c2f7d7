//! Writes the seed inputs of every fuzz target into `corpus/<target>/seed-*`: the DMF sample
//! lines of `crates/dmf-format/testdata`, a small synthetic population of `dmf-synth`, and
//! notes, keys and letters made with the project's own code.
//!
//! `cargo run --example seeds` in this folder (any toolchain); the seeds are committed, and
//! `cargo fuzz cmin` folds them into the minimized corpus.

use std::fs;
use std::path::{Path, PathBuf};

use dmf_log::{Checkpoint, SigningKey, leaf_hash};
use dmf_model::Date;
use dmf_ledger::letter::LetterCode;

const SAMPLES: [&str; 3] = [
    include_str!("../../crates/dmf-format/testdata/ssdm1.txt"),
    include_str!("../../crates/dmf-format/testdata/ssdm2.txt"),
    include_str!("../../crates/dmf-format/testdata/ssdm3.txt"),
];

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let synth = tempfile::tempdir().expect("a temporary folder");
    let mut config = dmf_synth::Config::new(3_000, 1, Date::new(2026, 1, 15).expect("a date"));
    config.clients = Some(40);
    dmf_synth::generate(&config, synth.path(), &|_| {}).expect("a synthetic population");
    let read = |name: &str| fs::read_to_string(synth.path().join(name)).expect(name);
    let head = |text: &str, n: usize| -> String {
        text.lines().take(n).map(|l| format!("{l}\n")).collect()
    };

    // dmf_record: files and single lines.
    let dmf = read("dmf.txt");
    let mut seeds: Vec<Vec<u8>> = SAMPLES.iter().map(|s| s.as_bytes().to_vec()).collect();
    seeds.push(
        SAMPLES[0]
            .lines()
            .next()
            .expect("a line")
            .as_bytes()
            .to_vec(),
    );
    seeds.push(SAMPLES[1].replace('\n', "\r\n").into_bytes());
    seeds.push(head(&dmf, 12).into_bytes());
    let update: String = dmf
        .lines()
        .take(3)
        .zip(["A", "C", "D"])
        .map(|(l, c)| format!("{c}{}\n", &l[1..]))
        .collect();
    seeds.push(update.into_bytes());
    // Trailing blanks stripped, as some copies have them.
    seeds.push(
        SAMPLES[2]
            .lines()
            .map(|l| format!("{}\n", l.trim_end()))
            .collect::<String>()
            .into_bytes(),
    );
    write(&root, "dmf_record", &seeds);

    // csv_people: the numberholder file and the client file.
    let people = read("people.csv");
    let client = read("client.csv");
    write(
        &root,
        "csv_people",
        &[
            head(&people, 8).into_bytes(),
            head(&client, 8).into_bytes(),
            b"dob,last,first,ssn,extra\n1980-05-17,Walker,Alice,123456789,x\n1980-13-01,Walker,Bob,234567890,x\n,Lee,Ann,999000111,x\n".to_vec(),
            b"id,first,middle,last,dob,ssn\n1,Robert,J,Smith,07/01/1958,123-45-6789\n2,Bob,,Smith,1958-07,\n".to_vec(),
            head(SAMPLES[0], 3).into_bytes(),
        ],
    );

    // ndjson: the report stream, every submission type, and stored events.
    let reports = read("reports.ndjson");
    let submissions = [
        r#"{"type":"death_report","ssn":"123456789","first":"John","last":"Smith","dob":"1930-01-02","dod":"2025-12-01","source":"funeral_home","evidence":"fh 1","idempotency_key":"r1"}"#,
        r#"{"type":"verification","ssn":"123456789","report":2,"approved_by":"caseworker 7","evidence":"call"}"#,
        r#"{"type":"status_notice","ssn":"234567890","kind":"employment_authorization_ended","authority":"DHS","legal_basis":"8 CFR 274a","document":"doc 3","effective":"2026-01-10","notice_sent":"2026-01-05"}"#,
        r#"{"type":"contest","ssn":"234567890","notice":5,"reason":"it is wrong","requested_by":"the person"}"#,
        r#"{"type":"contest_decision","ssn":"234567890","notice":5,"decision":"upheld","decided_by":"judge 2","reason":"documents"}"#,
        r#"{"type":"correction","ssn":"123456789","kind":"reinstate","reason":"alive","evidence":["visit","id card"],"requested_by":"clerk 1","approved_by":"supervisor 2"}"#,
        r#"{"type":"presumed_deceased","ssn":"345678901","criterion":"age 120","legal_basis":"rule 9","recorded_by":"clerk 1"}"#,
    ];
    let stored = [
        r#"person {"ssn":"123456789","first":"John","last":"Smith","dob":"1930-01-02"}"#,
        r#"person {"ssn":"234567890","first":"Jane","middle":"Q","last":"Doe","suffix":"Jr","sex":"F","dob":"1945-07-04","birth_state":"NY"}"#,
        r#"person {"ssn":"345678901","first":"Robert","last":"Johnson","dob":"1905-03"}"#,
        r#"dmf_delete {"ssn":"123456789","evidence":["ssdm1.txt:3"]}"#,
    ];
    let mut story = vec![stored[0]];
    story.push(submissions[0]);
    story.push(submissions[1]);
    story.push(stored[1]);
    story.push(submissions[2]);
    story.extend(&submissions[3..]);
    story.push(stored[2]);
    write(
        &root,
        "ndjson",
        &[
            head(&reports, 10).into_bytes(),
            lines(&story),
            lines(&stored),
            lines(&submissions),
        ],
    );

    // checkpoint: by mode (first byte).
    let signer = SigningKey::from_seed("fuzz.example/log", [7; 32]).expect("a key");
    let other = SigningKey::from_seed("fuzz.example/other", [8; 32]).expect("a key");
    let cp = Checkpoint {
        origin: "fuzz.example/log".into(),
        size: 1234,
        root: leaf_hash(b"root"),
        extensions: vec![],
    };
    let with_ext = Checkpoint {
        extensions: vec!["extension line".into()],
        size: 0,
        ..cp.clone()
    };
    let cosigned = format!(
        "{}{}",
        signer.sign(&with_ext),
        other.sign(&with_ext).rsplit_once("\n\n").expect("a note").1
    );
    let mut signed = Vec::new();
    signed.push(2u8);
    signed.extend_from_slice(&7u64.to_le_bytes());
    signed.extend_from_slice(&40u16.to_le_bytes());
    signed.extend_from_slice(b"fuzz.example/log\next one");
    write(
        &root,
        "checkpoint",
        &[
            moded(0, &cp.body()),
            moded(0, &with_ext.body()),
            moded(1, &signer.sign(&cp)),
            moded(1, &cosigned),
            signed,
            moded(3, &signer.verifier().to_text()),
            moded(4, &signer.to_text()),
        ],
    );

    // proof: structured input; a few byte strings that decode into several operations.
    let proof_seeds: Vec<Vec<u8>> = (0u8..4)
        .map(|i| {
            let mut bytes = Vec::new();
            let mut h = leaf_hash(&[i]);
            for _ in 0..(4 + 4 * usize::from(i)) {
                bytes.extend_from_slice(&h);
                h = leaf_hash(&h);
            }
            bytes
        })
        .collect();
    write(&root, "proof", &proof_seeds);

    // api_request: by route (first byte).
    let letter = LetterCode::issue(
        &signer,
        42,
        "123456789".parse::<dmf_model::Ssn>().expect("an SSN"),
    );
    let mut issued = vec![4u8];
    issued.extend_from_slice(&42u64.to_le_bytes());
    issued.extend_from_slice(&123_456_789u32.to_le_bytes());
    write(
        &root,
        "api_request",
        &[
            moded(
                0,
                r#"{"ssn":"123456789","first":"John","last":"Smith","dob":"1930-01-02"}"#,
            ),
            moded(
                0,
                r#"{"ssn":"234-56-7890","first":"JANE","last":"doe","dob":"1945-07"}"#,
            ),
            moded(
                0,
                r#"{"ssn":"345678901","first":"Bob","last":"Johnson","dob":"1950"}"#,
            ),
            moded(
                1,
                r#"{"ssn":"123456789","first":"John","last":"Smith","dob":"1930-01-02","dod":"2025-12-01","evidence":"fh 1","received":"2025-12-03"}"#,
            ),
            moded(
                1,
                r#"{"type":"death_report","source":"funeral_home","ssn":"456789012","first":"Mary","middle":"Ann","last":"Williams","suffix":"Sr","dod":"2025-11","evidence":"fh 2","verification":"P","idempotency_key":"k2"}"#,
            ),
            moded(
                2,
                r#"{"ssn":"345678901","kind":"benefits_suspended","legal_basis":"20 CFR 404","document":"doc 4","effective":"2026-02-01","notice_sent":"2026-01-10"}"#,
            ),
            moded(3, &letter.to_grouped_text()),
            moded(3, &letter.to_text().to_lowercase()),
            issued,
        ],
    );
}

fn lines(lines: &[&str]) -> Vec<u8> {
    lines
        .iter()
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        .into_bytes()
}

fn moded(mode: u8, text: &str) -> Vec<u8> {
    let mut out = vec![mode];
    out.extend_from_slice(text.as_bytes());
    out
}

fn write(root: &Path, target: &str, seeds: &[Vec<u8>]) {
    let dir: PathBuf = root.join(target);
    fs::create_dir_all(&dir).expect("the corpus folder");
    for (i, seed) in seeds.iter().enumerate() {
        fs::write(dir.join(format!("seed-{i:02}")), seed).expect("a seed");
    }
    println!("{target}: {} seeds", seeds.len());
}
