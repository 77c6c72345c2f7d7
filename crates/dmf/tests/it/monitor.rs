//! `dmf monitor` against registries served by `dmf serve`: followed from nothing and from its
//! state with the statistics `dmf stats` gives, a split view made by two stores under one log
//! key, a rollback to an earlier copy, and a planted batch of notices found from public data.

use std::path::{Path, PathBuf};

use dmf_model::Date;
use serde_json::{Value, json};

use super::log::copy_dir;
use super::serve::{Running, key, serve};
use super::{dmf, s, stderr, stdout};

/// A small deterministic generator, so a failing run can be run again.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const FEMALE: &[&str] = &[
    "Mary",
    "Patricia",
    "Jennifer",
    "Linda",
    "Elizabeth",
    "Barbara",
    "Susan",
    "Jessica",
    "Sarah",
    "Karen",
    "Lisa",
    "Nancy",
    "Betty",
    "Sandra",
    "Margaret",
    "Ashley",
    "Kimberly",
    "Emily",
    "Donna",
    "Michelle",
    "Carol",
    "Amanda",
    "Melissa",
    "Deborah",
    "Stephanie",
    "Rebecca",
    "Laura",
    "Sharon",
    "Cynthia",
    "Kathleen",
    "Amy",
    "Angela",
    "Shirley",
    "Brenda",
    "Emma",
    "Anna",
    "Pamela",
    "Nicole",
    "Samantha",
    "Katherine",
    "María",
    "Guadalupe",
    "Mei",
    "Aaliyah",
    "Zoë",
];
const MALE: &[&str] = &[
    "James",
    "Robert",
    "John",
    "Michael",
    "David",
    "William",
    "Richard",
    "Joseph",
    "Thomas",
    "Christopher",
    "Charles",
    "Daniel",
    "Matthew",
    "Anthony",
    "Mark",
    "Donald",
    "Steven",
    "Andrew",
    "Paul",
    "Joshua",
    "Kenneth",
    "Kevin",
    "Brian",
    "George",
    "Timothy",
    "Ronald",
    "Jason",
    "Edward",
    "Jeffrey",
    "Ryan",
    "Jacob",
    "Gary",
    "Nicholas",
    "Eric",
    "Jonathan",
    "José",
    "Luis",
    "Wei",
    "Mohammed",
    "Dmitri",
    "Seán",
];
const LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "O'Brien",
    "Van der Berg",
    "Smith-Jones",
    "Kowalski",
    "Nakamura",
    "Okafor",
    "St. Clair",
];
const STATES: &[&str] = &[
    "CA", "TX", "FL", "NY", "PA", "IL", "OH", "GA", "NC", "MI", "NJ", "VA", "WA", "AZ", "MA", "TN",
    "IN", "MO", "MD", "WI", "CO", "MN", "SC", "AL", "LA", "KY", "OR", "OK", "PR",
];

/// A numberholder of the generated population.
#[derive(Debug, Clone)]
struct Person {
    ssn: String,
    first: String,
    middle: Option<String>,
    last: String,
    suffix: Option<&'static str>,
    sex: &'static str,
    dob: Date,
}

/// `n` people: a quarter born 1928-1960, the rest of working age (born 1966-2004), with
/// their sexes, names, middle names and suffixes in the proportions of a real file, and
/// distinct valid SSNs.
fn people(n: u64, seed: u64) -> Vec<Person> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|i| {
            let female = rng.below(2) == 0;
            let names = if female { FEMALE } else { MALE };
            let year = if rng.below(4) == 0 {
                1928 + rng.below(33)
            } else {
                1966 + rng.below(39)
            } as u16;
            let month = 1 + rng.below(12) as u8;
            let day = 1 + rng.below(28) as u8;
            Person {
                ssn: format!(
                    "{:03}{:02}{:04}",
                    100 + i / 9000,
                    10 + (i % 9000) / 100,
                    1 + (i % 100) * 37
                ),
                first: rng.pick(names).to_owned(),
                middle: (rng.below(3) > 0).then(|| rng.pick(names).to_owned()),
                last: rng.pick(LAST).to_owned(),
                suffix: (!female && rng.below(30) == 0)
                    .then(|| ["Jr", "Sr", "III"][rng.below(3) as usize]),
                sex: if female { "F" } else { "M" },
                dob: Date::new(year, month, day).unwrap(),
            }
        })
        .collect()
}

fn people_csv(people: &[Person]) -> String {
    let mut out = String::from("ssn,first,middle,last,suffix,sex,dob,birth_state\n");
    let mut rng = Rng(99);
    for p in people {
        out.push_str(&format!(
            "{},{},{},\"{}\",{},{},{},{}\n",
            p.ssn,
            p.first,
            p.middle.as_deref().unwrap_or(""),
            p.last,
            p.suffix.unwrap_or(""),
            p.sex,
            p.dob,
            rng.pick(STATES)
        ));
    }
    out
}

/// A registry in `dir` with `people` imported: its data folder.
fn registry(dir: &Path, name: &str, people: &[Person]) -> PathBuf {
    let data = dir.join(name);
    let out = dmf(&[
        "init",
        "--data",
        s(&data),
        "--origin",
        "monitor.test/registry",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    import(&data, people);
    data
}

fn import(data: &Path, people: &[Person]) {
    let file = data.with_extension("people.csv");
    std::fs::write(&file, people_csv(people)).unwrap();
    let out = dmf(&["-q", "import", "--data", s(data), s(&file)]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Serves `data` (an API key made first, as `dmf serve` needs one).
fn served(data: &Path) -> (Running, String) {
    let d = s(data);
    let listed = dmf(&["keys", "list", "--data", d, "--json"]);
    if !stdout(&listed).contains("monitor-test") {
        key(d, "monitor-test", "identity", &[]);
    }
    serve(d, &[])
}

/// `dmf monitor --json` with `args`: its exit status and its pass.
fn monitor(args: &[&str]) -> (i32, Value) {
    let mut all = vec!["monitor", "--json"];
    all.extend(args);
    let out = dmf(&all);
    let code = out.status.code().unwrap();
    let text = stdout(&out);
    let pass: Value = serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("{e}: {text:?} {}", stderr(&out)));
    (code, pass)
}

fn kinds(pass: &Value) -> Vec<String> {
    pass["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap().to_owned())
        .collect()
}

fn key_file(data: &Path) -> String {
    s(&data.join("log/key.pub")).to_owned()
}

fn stats(data: &Path) -> Value {
    let out = dmf(&["stats", "--data", s(data), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_registry_is_followed_from_nothing_then_from_its_state() {
    let dir = tempfile::tempdir().unwrap();
    let everyone = people(400, 1);
    let data = registry(dir.path(), "data", &everyone[..300]);
    let state = dir.path().join("monitor.state");
    let k = key_file(&data);
    let expected = stats(&data);
    let (server, url) = served(&data);
    let (code, pass) = monitor(&["--url", &url, "--key", &k, "--state", s(&state)]);
    assert_eq!(code, 0, "{pass}");
    assert_eq!(pass["size"], expected["tree_size"], "{pass}");
    assert_eq!(pass["stats"], expected, "{pass}");
    assert_eq!(pass["leaves_read"], pass["size"]);
    // The text form: one summary line naming the URL, the size, the root and what was read.
    let out = dmf(&["monitor", "--url", &url, "--key", &k]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.starts_with(&format!(
            "monitor.test/registry: {url}: {} leaves, root ",
            pass["size"]
        )) && text.contains("no cosignature required"),
        "{text}"
    );
    // Following: one JSON line a pass, from the state, until stopped.
    let mut follow = super::serve::spawn(&[
        "monitor",
        "--url",
        &url,
        "--key",
        &k,
        "--state",
        s(&state),
        "--follow",
        "1",
        "--json",
    ]);
    let mut lines =
        std::io::BufRead::lines(std::io::BufReader::new(follow.0.stdout.take().unwrap()));
    for _ in 0..2 {
        let line = lines.next().unwrap().unwrap();
        let pass: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            (pass["exit"].as_u64(), pass["leaves_read"].as_u64()),
            (Some(0), Some(0)),
            "{pass}"
        );
    }
    drop(lines);
    drop(follow);
    drop(server);

    // More people, reports and notices; the monitor reads only what is new.
    import(&data, &everyone[300..]);
    let lines: Vec<String> = everyone[..40]
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if i % 2 == 0 {
                json!({"type": "death_report", "ssn": p.ssn, "first": p.first, "last": p.last,
                       "dob": p.dob.to_string(), "dod": "2026-11-20", "source": "state",
                       "evidence": format!("certificate {i}"), "received": "2026-11-21"})
            } else {
                json!({"type": "status_notice", "ssn": p.ssn, "first": p.first, "last": p.last,
                       "kind": "benefits_suspended", "authority": "SSA", "legal_basis": "20 CFR 404.401",
                       "document": format!("S-{i}"), "effective": "2026-11-25"})
            }
            .to_string()
        })
        .collect();
    let file = dir.path().join("events.ndjson");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let out = dmf(&[
        "submit",
        "--data",
        s(&data),
        s(&file),
        "--today",
        "2026-11-23",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let before = pass["size"].as_u64().unwrap();
    let expected = stats(&data);
    let (_server, url) = served(&data);
    let (code, pass) = monitor(&["--url", &url, "--key", &k, "--state", s(&state)]);
    assert_eq!(code, 0, "{pass}");
    assert_eq!(pass["size"], expected["tree_size"]);
    assert_eq!(
        pass["leaves_read"],
        expected["tree_size"].as_u64().unwrap() - before
    );
    assert_eq!(pass["stats"], expected, "{pass}");
}

#[test]
fn two_stores_under_one_log_key_are_a_split_view() {
    let dir = tempfile::tempdir().unwrap();
    let everyone = people(120, 2);
    let a = dir.path().join("a");
    let out = dmf(&["init", "--data", s(&a), "--origin", "monitor.test/registry"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The same keys, two histories.
    let b = dir.path().join("b");
    copy_dir(&a, &b);
    import(&a, &everyone[..50]);
    import(&b, &everyone[50..]);
    let k = key_file(&a);
    let (_sa, url_a) = served(&a);
    let (_sb, url_b) = served(&b);

    let (code, pass) = monitor(&["--url", &url_a, "--url", &url_b, "--key", &k]);
    assert_eq!(
        (code, kinds(&pass)),
        (2, vec!["split_view".to_owned()]),
        "{pass}"
    );
    let evidence = &pass["findings"][0]["evidence"];
    assert_eq!(evidence.as_array().unwrap().len(), 2, "{pass}");
    assert!(evidence.to_string().contains(&url_a) && evidence.to_string().contains(&url_b));
    let out = dmf(&["monitor", "--url", &url_a, "--url", &url_b, "--key", &k]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).starts_with("SPLIT VIEW: "), "{}", stdout(&out));

    // A state made from a, then pointed at b.
    let state = dir.path().join("monitor.state");
    let (code, pass) = monitor(&["--url", &url_a, "--key", &k, "--state", s(&state)]);
    assert_eq!(code, 0, "{pass}");
    let (code, pass) = monitor(&["--url", &url_b, "--key", &k, "--state", s(&state)]);
    assert_eq!(
        (code, kinds(&pass)),
        (2, vec!["split_view".to_owned()]),
        "{pass}"
    );
    assert!(
        pass["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("do not extend"),
        "{pass}"
    );
}

#[test]
fn an_earlier_copy_served_after_the_later_is_a_rollback() {
    let dir = tempfile::tempdir().unwrap();
    let everyone = people(90, 3);
    let data = registry(dir.path(), "data", &everyone[..40]);
    key(s(&data), "monitor-test", "identity", &[]);
    let earlier = dir.path().join("earlier");
    copy_dir(&data, &earlier);
    import(&data, &everyone[40..]);
    let k = key_file(&data);
    let state = dir.path().join("monitor.state");
    {
        let (_server, url) = served(&data);
        let (code, pass) = monitor(&["--url", &url, "--key", &k, "--state", s(&state)]);
        assert_eq!(code, 0, "{pass}");
    }
    let (_server, url) = served(&earlier);
    let (code, pass) = monitor(&["--url", &url, "--key", &k, "--state", s(&state)]);
    assert_eq!(
        (code, kinds(&pass)),
        (2, vec!["rollback".to_owned()]),
        "{pass}"
    );
    let out = dmf(&["monitor", "--url", &url, "--key", &k, "--state", s(&state)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).starts_with("ROLLBACK: "), "{}", stdout(&out));
}

/// A day's noon (UTC) in milliseconds since 1970.
fn noon_ms(day: Date) -> i64 {
    i64::from(day.days_since_epoch()) * 86_400_000 + 43_200_000
}

/// Three weeks of ordinary intake before today: deaths of older people reported by states,
/// funeral homes, families and hospitals, and notices from two authorities, each day stored
/// as the registry recorded it that day. Gives the people it named.
fn ordinary_days(data: &Path, people: &[Person], today: Date) -> std::collections::HashSet<String> {
    let registry = dmf_registry::Registry::open(data).unwrap();
    let mut rng = Rng(17);
    let (old, young): (Vec<&Person>, Vec<&Person>) =
        people.iter().partition(|p| p.dob.year() < 1961);
    let (mut old, mut young) = (old.into_iter(), young.into_iter().rev());
    let mut named = std::collections::HashSet::new();
    for back in (1..=21).rev() {
        let day = today.add_days(-back).unwrap();
        let mut lines = Vec::new();
        for (source, least, spread) in [
            ("state", 20, 20),
            ("funeral_home", 3, 8),
            ("family", 1, 4),
            ("hospital", 0, 3),
        ] {
            for _ in 0..least + rng.below(spread) {
                let p = old.next().expect("enough older people");
                let dod = day.add_days(-(1 + rng.below(6) as i32)).unwrap();
                lines.push(
                    json!({"type": "death_report", "ssn": p.ssn, "first": p.first,
                    "middle": p.middle, "last": p.last, "suffix": p.suffix, "sex": p.sex,
                    "dob": p.dob.to_string(), "dod": dod.to_string(), "source": source,
                    "evidence": format!("{source}-{}-{}", day, rng.below(1_000_000)),
                    "received": day.to_string()}),
                );
                named.insert(p.ssn.clone());
            }
        }
        for (authority, kind, basis, least, spread) in [
            (
                "DHS USCIS",
                "employment_authorization_ended",
                "8 CFR 274a.14",
                15,
                25,
            ),
            (
                "DHS USCIS",
                "employment_authorization_restricted",
                "8 CFR 274a.12",
                2,
                5,
            ),
            ("SSA", "benefits_suspended", "20 CFR 404.401", 5, 10),
        ] {
            for _ in 0..least + rng.below(spread) {
                let p = young.next().expect("enough working-age people");
                let effective = day.add_days(rng.below(20) as i32).unwrap();
                lines.push(
                    json!({"type": "status_notice", "ssn": p.ssn, "first": p.first,
                    "last": p.last, "dob": p.dob.to_string(), "kind": kind,
                    "authority": authority, "legal_basis": basis,
                    "document": format!("{}-{}", &authority[..3], rng.below(10_000_000)),
                    "effective": effective.to_string()}),
                );
                named.insert(p.ssn.clone());
            }
        }
        let subs = lines
            .iter()
            .map(|l| dmf_registry::parse_line(&l.to_string(), day).unwrap())
            .collect();
        let results = registry.submit(subs, noon_ms(day)).unwrap();
        assert!(results.iter().all(Result::is_ok), "{results:?}");
    }
    named
}

#[test]
fn a_planted_batch_of_notices_is_found_from_public_data_alone() {
    let dir = tempfile::tempdir().unwrap();
    let everyone = people(11_000, 4);
    let data = registry(dir.path(), "data", &everyone);
    let today = dmf_registry::today_utc();
    let named = ordinary_days(&data, &everyone, today);
    let k = key_file(&data);
    let state = dir.path().join("monitor.state");

    // Ordinary intake: nothing to report.
    {
        let (_server, url) = served(&data);
        let (code, pass) = monitor(&["--url", &url, "--key", &k, "--state", s(&state)]);
        assert_eq!(code, 0, "{pass}");
        assert_eq!(pass["alerts"], json!([]), "{pass}");
        assert!(
            pass["age_test"].as_str().unwrap().contains("no ages"),
            "{pass}"
        );
    }

    // 6,300 working-age people on file told in one day that their employment authorization
    // ended, by one authority.
    let mut rng = Rng(23);
    let batch: Vec<String> = everyone
        .iter()
        .filter(|p| (1966..=2004).contains(&p.dob.year()) && !named.contains(&p.ssn))
        .take(6300)
        .map(|p| {
            json!({"type": "status_notice", "ssn": p.ssn, "first": p.first, "last": p.last,
                   "kind": "employment_authorization_ended", "authority": "DHS USCIS",
                   "legal_basis": "8 CFR 274a.14",
                   "document": format!("DHS-{}", rng.below(10_000_000)),
                   "effective": today.add_days(14).unwrap().to_string()})
            .to_string()
        })
        .collect();
    assert_eq!(batch.len(), 6300);
    let file = dir.path().join("batch.ndjson");
    std::fs::write(&file, batch.join("\n")).unwrap();
    let sent_from = dmf_registry::today_utc();
    let out = dmf(&["submit", "--data", s(&data), s(&file)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let sent_to = dmf_registry::today_utc();

    // The registry's own alerts, which it makes from its events, with the ages leaves do not
    // show.
    let out = dmf(&["stats", "--data", s(&data), "--alerts", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let own: Value = serde_json::from_slice(&out.stdout).unwrap();

    let (_server, url) = served(&data);
    let (code, pass) = monitor(&["--url", &url, "--key", &k, "--state", s(&state)]);
    assert_eq!(code, 1, "{pass}");
    assert_eq!(kinds(&pass), Vec::<String>::new(), "{pass}");
    let alerts = pass["alerts"].as_array().unwrap();
    let days = [sent_from.to_string(), sent_to.to_string()];
    assert!(
        !alerts.is_empty()
            && alerts.iter().all(|a| a["group"] == "authority:DHS USCIS"
                && a["kind"] == "volume"
                && days.contains(&a["day"].as_str().unwrap().to_owned())),
        "{alerts:?}"
    );
    assert!(
        alerts
            .iter()
            .map(|a| a["count"].as_u64().unwrap())
            .sum::<u64>()
            >= 6300,
        "{alerts:?}"
    );
    let text = stdout(&dmf(&["monitor", "--url", &url, "--key", &k]));
    assert!(
        text.contains(&format!("ALERT: {sent_to} authority:DHS USCIS volume: ")),
        "{text}"
    );

    // From nothing, every day is judged: the volume alerts are the registry's own.
    let (code, pass) = monitor(&["--url", &url, "--key", &k]);
    assert_eq!(code, 1, "{pass}");
    let volume = |alerts: &Value| -> Vec<Value> {
        alerts
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["kind"] == "volume")
            .map(|a| json!([a["day"], a["group"], a["count"], a["detail"]]))
            .collect()
    };
    assert_eq!(volume(&pass["alerts"]), volume(&own["alerts"]), "{own}");
    assert!(!volume(&own["alerts"]).is_empty(), "{own}");
}

#[test]
fn a_checkpoint_without_the_cosignatures_required_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let data = registry(dir.path(), "data", &people(30, 5));
    let k = key_file(&data);
    let witness = dmf_log::CosignerKey::from_seed("witness.test/w1", [5; 32]).unwrap();
    let vkey = witness.verifier().to_text();
    let policy = dir.path().join("policy.txt");
    std::fs::write(&policy, format!("witness w1 {vkey}\nquorum w1\n")).unwrap();
    let (_server, url) = served(&data);
    for required in [["--witness", vkey.as_str()], ["--policy", s(&policy)]] {
        let mut args = vec!["--url", &url, "--key", &k];
        args.extend(required);
        let (code, pass) = monitor(&args);
        assert_eq!(
            (code, kinds(&pass)),
            (2, vec!["missing_quorum".to_owned()]),
            "{pass}"
        );
        assert_eq!(pass["witnesses_required"], true);
        assert_eq!(pass["size"], 0, "{pass}");
        let note = pass["findings"][0]["evidence"][0]["note"].as_str().unwrap();
        assert!(note.starts_with("monitor.test/registry\n30\n"), "{note}");
    }
    // A witness key where the log's is expected is named.
    let out = dmf(&["monitor", "--url", &url, "--key", &vkey]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("cosignature key"), "{}", stderr(&out));
}
