//! The index snapshot of a registry on disk, on the identity corpus (households and reports
//! with real files' errors, made by this crate's own error model, not `dmf-synth`): a restart
//! from the snapshot holds and answers what a rebuild from every event does, and a snapshot
//! that is damaged, of another format, of another history or ahead of the store is refused with
//! its reason and the index rebuilt.

use std::path::{Path, PathBuf};

use dmf_registry::answers::{self, IdentityQuery};
use dmf_registry::{Index, PersonState, Registry, import_file, parse_line};

use super::identity_corpus::corpus_lines;
use super::today;

type Everything = (Vec<(u32, PersonState)>, u64, u64, Vec<u32>);

fn everything(index: &Index) -> Everything {
    let mut states: Vec<(u32, PersonState)> = index.iter().map(|(s, p)| (s, p.clone())).collect();
    states.sort_by_key(|(s, _)| *s);
    let work = index.open_work().map(|(s, _)| s).collect();
    (states, index.head, index.identity_changes(), work)
}

/// Each numberholder asked about by the name and date of birth on file, with each answer.
fn answers_of(index: &Index, people_csv: &str) -> Vec<String> {
    people_csv
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let q = IdentityQuery {
                ssn: f[0].parse().unwrap(),
                first: f[1].to_owned(),
                last: f[3].to_owned(),
                dob: f[6].parse().unwrap(),
            };
            let state = index.get(q.ssn);
            format!(
                "{:?} {:?}",
                answers::identity(&q, state),
                answers::benefits(&q, state, today())
            )
        })
        .collect()
}

/// Submits the cases' lines in batches (one durable transaction each, as a reporter's file).
fn submit_all(reg: &Registry, cases: &[Vec<String>]) {
    for batch in cases.chunks(25) {
        let subs = batch
            .iter()
            .flatten()
            .map(|l| parse_line(l, today()).unwrap())
            .collect();
        reg.submit(subs, 0).unwrap();
    }
}

/// A registry of the corpus's numberholders with the first `snapshot_after` cases submitted and
/// snapshotted, then the rest submitted.
fn registry(dir: &Path, snapshot_after: usize) -> (PathBuf, String, u64) {
    let (people, cases) = corpus_lines(300, 11);
    let data = dir.join("data");
    let reg = Registry::init(&data, None).unwrap();
    let csv = dir.join("people.csv");
    std::fs::write(&csv, &people).unwrap();
    import_file(&reg, &csv, today(), 0, &|_| {}).unwrap();
    let (before, after) = cases.split_at(snapshot_after.min(cases.len()));
    submit_all(&reg, before);
    let written = reg.snapshot_writer_index().unwrap().unwrap();
    submit_all(&reg, after);
    (data, people, written.size)
}

#[test]
fn a_registry_restarted_from_its_snapshot_holds_and_answers_what_a_rebuild_does() {
    let dir = tempfile::tempdir().unwrap();
    let (data, people, size) = registry(dir.path(), 120);
    let reg = Registry::open(&data).unwrap();
    let head = reg.store().head().unwrap();
    let (restarted, start) = reg.open_index().unwrap();
    assert_eq!(start.snapshot, Some(size), "{start}");
    assert_eq!(start.replayed, head - size);
    assert!(start.replayed > 0 && size > 300, "{start}");
    assert!(start.refused.is_none());
    let rebuilt = reg.rebuild_index().unwrap();
    assert!(rebuilt.iter().any(|(_, s)| s.extra().is_some()));
    assert_eq!(everything(&restarted), everything(&rebuilt));
    assert_eq!(
        answers_of(&restarted, &people),
        answers_of(&rebuilt, &people)
    );
}

#[test]
fn a_snapshot_that_is_not_good_for_this_registry_is_refused_and_the_index_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let (data, _, size) = registry(&dir.path().join("a"), 60);
    // Another registry, of the same events but its own keys: its snapshot is of another log.
    let (other, _, _) = registry(&dir.path().join("b"), 60);
    let good = std::fs::read(data.join(dmf_registry::SNAPSHOT_FILE)).unwrap();
    let reg = Registry::open(&data).unwrap();
    let rebuilt = everything(&reg.rebuild_index().unwrap());
    let head = reg.store().head().unwrap();
    let edited = |at: usize, bytes: &[u8]| {
        let mut b = good.clone();
        b[at..at + bytes.len()].copy_from_slice(bytes);
        b
    };
    let cases: Vec<(&str, Vec<u8>, String)> = vec![
        (
            "a byte changed",
            edited(good.len() / 2, &[good[good.len() / 2] ^ 0x20]),
            "its MAC is not the one this data folder's secret makes".into(),
        ),
        (
            "cut short",
            good[..good.len() - 40].to_vec(),
            "cut short or grown".into(),
        ),
        (
            "an older format",
            edited(8, &0u32.to_le_bytes()),
            "format 0, and this build reads format 1 only".into(),
        ),
        (
            "ahead of the store",
            edited(16, &(head + 5).to_le_bytes()),
            format!(
                "built at tree size {}, but the store holds {head} events",
                head + 5
            ),
        ),
        (
            "another registry's",
            std::fs::read(other.join(dmf_registry::SNAPSHOT_FILE)).unwrap(),
            format!("no signed checkpoint of tree size {size} has its root"),
        ),
        (
            "not a snapshot",
            b"SQLite format 3\0".to_vec(),
            "not an index snapshot".into(),
        ),
    ];
    for (name, bytes, expect) in cases {
        std::fs::write(data.join(dmf_registry::SNAPSHOT_FILE), &bytes).unwrap();
        let (index, start) = reg.open_index().unwrap();
        assert_eq!(start.snapshot, None, "{name}");
        let why = start
            .refused
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        assert!(why.contains(&expect), "{name}: {why}");
        assert!(
            start.to_string().contains("rebuilt from"),
            "{name}: {start}"
        );
        assert_eq!(everything(&index), rebuilt, "{name}");
    }
    // The good one again: read.
    std::fs::write(data.join(dmf_registry::SNAPSHOT_FILE), &good).unwrap();
    let (index, start) = reg.open_index().unwrap();
    assert_eq!(start.snapshot, Some(size));
    assert_eq!(everything(&index), rebuilt);
}

/// A snapshot is written at a signed checkpoint only, and replaces the last one whole.
#[test]
fn a_snapshot_is_written_at_the_signed_head_and_replaces_the_last() {
    let dir = tempfile::tempdir().unwrap();
    let (data, _, first) = registry(dir.path(), 30);
    let reg = Registry::open(&data).unwrap();
    let index = reg.load_index().unwrap();
    let written = reg.write_snapshot(&index).unwrap();
    assert!(written.size > first);
    assert_eq!(written.size, reg.store().head().unwrap());
    let (_, start) = reg.open_index().unwrap();
    assert_eq!((start.snapshot, start.replayed), (Some(written.size), 0));
    assert!(!data.join("index.tmp").exists());
    // An index that is not at the signed checkpoint is refused.
    let mut behind = Index::default();
    behind.head = 3;
    let err = reg.write_snapshot(&behind).unwrap_err().to_string();
    assert!(
        err.contains("the index is at event 3 but the log is signed at"),
        "{err}"
    );
}
