//! The report's pieces: marked differences, the review order, the stated limit.

use crate::{Config, FieldParams, Model, NameTables, Prepared};
use dmf_model::{PartialDate, SsnDigits};

use super::*;

#[test]
fn differences_are_marked_by_an_alignment_of_least_edits() {
    let cases = [
        // One digit.
        (
            "123456789",
            "123456780",
            "12345678<mark>9</mark>",
            "12345678<mark>0</mark>",
        ),
        // Two neighbours swapped.
        (
            "123456789",
            "123457689",
            "12345<mark>67</mark>89",
            "12345<mark>76</mark>89",
        ),
        // A letter left out, one added.
        ("JONSON", "JOHNSON", "JONSON", "JO<mark>H</mark>NSON"),
        ("SCOTT", "SCOT", "SCO<mark>T</mark>T", "SCOT"),
        // Day and month swapped.
        (
            "1947-12-25",
            "1947-25-12",
            "1947-<mark>12</mark>-<mark>25</mark>",
            "1947-<mark>25</mark>-<mark>12</mark>",
        ),
        ("ROBERT", "ROBERT", "ROBERT", "ROBERT"),
        (
            "BOB",
            "ROBERT",
            "<mark>B</mark>OB",
            "<mark>R</mark>OB<mark>ERT</mark>",
        ),
        // Escaped, marks and all.
        ("A<B", "A&B", "A<mark>&lt;</mark>B", "A<mark>&amp;</mark>B"),
    ];
    for (a, b, ea, eb) in cases {
        let [ca, cb] = cells(Some(a), Some(b));
        assert_eq!(
            (ca.as_str(), cb.as_str()),
            (&*format!("<td>{ea}"), &*format!("<td>{eb}")),
            "{a} {b}"
        );
    }
    // A missing value marks nothing on either side; a field not read is said so.
    assert_eq!(
        cells(Some(""), Some("JR")),
        [r#"<td class="na">—"#.to_owned(), "<td>JR".to_owned()]
    );
    assert_eq!(
        cells(None, Some("JR")),
        [r#"<td class="na">not read"#.to_owned(), "<td>JR".to_owned()]
    );
}

#[test]
fn counts_are_grouped_by_thousands() {
    for (n, text) in [
        (0, "0"),
        (999, "999"),
        (1_000, "1,000"),
        (20_000, "20,000"),
        (1_234_567, "1,234,567"),
    ] {
        assert_eq!(count(n), text);
    }
}

fn person(ssn: Option<&str>, first: &str, last: &str, dob: Option<&str>) -> Person {
    Person {
        ssn: ssn.map(|s| s.parse::<SsnDigits>().unwrap()),
        first: first.to_owned(),
        last: last.to_owned(),
        dob: dob.map(|d| d.parse::<PartialDate>().unwrap()),
        ..Person::default()
    }
}

/// Clients `B`, `A`, `D`, `C`, `E` of the same levels against one master record, with the
/// prior set so that they score 0.5, and `Z`, who agrees less. Over a limit of 2 pairs, the
/// page carries `A` and `B` and says how many are left out.
#[test]
fn the_review_list_is_nearest_one_half_first_and_its_limit_is_said() {
    let tables = NameTables::shipped();
    let master_people = [person(
        Some("212345678"),
        "ROBERT",
        "JONES",
        Some("1930-01-02"),
    )];
    let mut client_people = vec![person(None, "ROBERT", "JONES", Some("1930-01-02")); 5];
    client_people.push(person(None, "BOB", "JONES", Some("1930-01-02")));
    let ids: Vec<String> = ["B", "A", "D", "C", "E", "Z"].map(String::from).to_vec();
    let client = Prepared::new(&client_people, &tables);
    let master = Prepared::new(&master_people, &tables);
    let mut model = Model {
        lambda: 0.5,
        m: FieldParams::m_priors(),
        u: FieldParams::uniform(),
        tf_floor: crate::DEFAULT_TF_FLOOR,
    };
    let mut config = Config {
        threshold: 0.0,
        model: Some(model.clone()),
        ..Config::default()
    };
    let outcome = crate::run(&client, &master, &tables, &config);
    // Prior odds that put the exact pairs at 0.5.
    let w = outcome
        .matches
        .iter()
        .find(|m| m.client == 0)
        .unwrap()
        .weight;
    model.lambda = 1.0 / (1.0 + w.exp2());
    config.model = Some(model.clone());
    let outcome = crate::run(&client, &master, &tables, &config);
    let p: Vec<f64> = outcome.matches.iter().map(|m| m.probability).collect();
    assert!(p[..5].iter().all(|p| (p - 0.5).abs() < 1e-9), "{p:?}");
    assert!((0.05..0.5).contains(&p[5]), "{p:?}");

    let ssns = [Some("212345678".parse::<SsnDigits>().unwrap())];
    let order: Vec<&str> = review(&outcome.matches, &ids, &ssns)
        .iter()
        .map(|m| ids[m.client as usize].as_str())
        .collect();
    assert_eq!(order, ["A", "B", "C", "D", "E", "Z"]);

    let records = HashMap::from([(0, Record::client(&master_people[0]))]);
    let html = html(&Input {
        model: &model,
        outcome: &outcome,
        client: &client_people,
        ids: &ids,
        master_len: 1,
        master_ssns: &ssns,
        master: &records,
        tf: &|i| master.tf(i as usize),
        threshold: 0.5,
        listed_from: 0.0,
        one_to_one: false,
        calibration: None,
        limit: 2,
    });
    assert_eq!(html.matches(r#"<div class="pair""#).count(), 2, "{html}");
    assert!(html.contains(r#"data-c="A""#) && html.contains(r#"data-c="B""#));
    assert!(
        html.contains("pairs 1–2 of 2 on this page (6 for review)"),
        "{html}"
    );
    assert!(
        html.contains("This page carries the first 2 of the 6 pairs for review"),
        "{html}"
    );
    assert!(html.contains("the other 4, nearer 0.05 or 0.95, are not on it"));
    assert!(html.contains("<code>--threshold 0.05 --out FILE</code>"));
}

/// Issue 21: the report's "Export labels" wrote a client id such as `=1+2` as it is, and a
/// spreadsheet opening the labels file ran it. The page carries each id as the labels CSV
/// holds it, neutralised as every CSV of the project is, and the export writes that.
#[test]
fn a_client_id_starting_with_equals_is_neutralised_in_the_labels_export() {
    let tables = NameTables::shipped();
    let master_people = [person(
        Some("212345678"),
        "ROBERT",
        "JONES",
        Some("1930-01-02"),
    )];
    let client_people = [person(None, "ROBERT", "JONES", Some("1930-01-02"))];
    let ids = vec!["=1+2".to_owned()];
    let client = Prepared::new(&client_people, &tables);
    let master = Prepared::new(&master_people, &tables);
    let mut model = Model {
        lambda: 0.5,
        m: FieldParams::m_priors(),
        u: FieldParams::uniform(),
        tf_floor: crate::DEFAULT_TF_FLOOR,
    };
    let mut config = Config {
        threshold: 0.0,
        model: Some(model.clone()),
        ..Config::default()
    };
    let w = crate::run(&client, &master, &tables, &config).matches[0].weight;
    // Prior odds that put the pair at 0.5, for review.
    model.lambda = 1.0 / (1.0 + w.exp2());
    config.model = Some(model.clone());
    let outcome = crate::run(&client, &master, &tables, &config);
    let ssns = [Some("212345678".parse::<SsnDigits>().unwrap())];
    let records = HashMap::from([(0, Record::client(&master_people[0]))]);
    let html = html(&Input {
        model: &model,
        outcome: &outcome,
        client: &client_people,
        ids: &ids,
        master_len: 1,
        master_ssns: &ssns,
        master: &records,
        tf: &|i| master.tf(i as usize),
        threshold: 0.5,
        listed_from: 0.0,
        one_to_one: false,
        calibration: None,
        limit: 10,
    });
    assert!(
        html.contains(r#"data-c="=1+2" data-cell="'=1+2" data-s="212345678""#),
        "{html}"
    );
    assert!(html.contains("cell(pairs[i].dataset.cell)"));
}
