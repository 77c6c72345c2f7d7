//! The DMF master reader on SSA's public sample lines, with a deletion and a wrong line mixed in.

use super::*;

const SAMPLE: &str = include_str!("../../../dmf-format/testdata/ssdm1.txt");

fn read(text: &str) -> (Vec<String>, Vec<u64>, MasterRead) {
    let mut last = Vec::new();
    let mut wrong = Vec::new();
    let read = read_dmf_chunks(
        text.as_bytes(),
        |e| wrong.push(e.line),
        |_| {},
        |chunk| last.extend(chunk.iter().map(|r| r.last().to_owned())),
    )
    .unwrap();
    (last, wrong, read)
}

#[test]
fn every_sample_line_is_a_master_record() {
    let (last, wrong, read) = read(SAMPLE);
    assert_eq!(last.len(), 10);
    assert_eq!(last[0], "MUZZEY");
    assert!(wrong.is_empty());
    assert_eq!((read.lines, read.wrong), (10, 0));
}

#[test]
fn a_deletion_is_left_out_and_a_wrong_line_is_named_by_its_number() {
    let mut lines: Vec<String> = SAMPLE.lines().map(str::to_owned).collect();
    lines[1].replace_range(0..1, "D");
    lines.insert(3, "not a DMF record".to_owned());
    let (last, wrong, read) = read(&(lines.join("\n") + "\n"));
    assert_eq!(last.len(), 9);
    assert!(!last.contains(&"SMITH".to_owned()));
    assert_eq!(wrong, vec![4]);
    assert_eq!((read.lines, read.wrong), (11, 1));
}
