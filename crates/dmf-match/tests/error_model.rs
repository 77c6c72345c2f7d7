//! The matcher on a labelled population built by an error model of its own, written apart
//! from the project's generator: households (so relatives share surnames, addresses and
//! SSN mix-ups), names drawn by their real frequencies, and the errors real client files
//! have, in rough real proportions. Each test states what a subscriber must be able to rely on.

use std::collections::HashMap;
use std::sync::OnceLock;

use dmf_match::{
    Config, DobLevel, FIELDS, Levels, Match, MiddleLevel, Model, NameLevel, NameTables, Person,
    Prepared, SexLevel, SsnLevel, SuffixLevel, run,
};
use dmf_model::{PartialDate, Sex, Ssn};
use rand::{Rng, RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// Nicknames written for this model (not the matcher's list): some it knows, some not.
const NICKNAMES: [(&str, &str); 16] = [
    ("ROBERT", "BOB"),
    ("WILLIAM", "BILL"),
    ("MARGARET", "PEGGY"),
    ("ELIZABETH", "LIZ"),
    ("JOHN", "JACK"),
    ("RICHARD", "DICK"),
    ("EDWARD", "TED"),
    ("HENRY", "HANK"),
    ("CHARLES", "CHUCK"),
    ("MARY", "POLLY"),
    ("MICHAEL", "MIKE"),
    ("JAMES", "JIM"),
    ("THOMAS", "TOM"),
    ("PATRICIA", "PATTY"),
    ("DOROTHY", "DOT"),
    ("JOSEPH", "JOE"),
];

/// One person of the population.
#[derive(Debug, Clone)]
struct Human {
    ssn: Ssn,
    first: String,
    middle: String,
    last: String,
    /// The surname before marriage, for a married woman.
    maiden: Option<String>,
    suffix: &'static str,
    sex: Sex,
    dob: (u16, u8, u8),
    household: usize,
}

/// A labelled linkage problem: the master (the dead), the client file, and for each client
/// row its master record, if any, and what was done to it.
struct Set {
    master: Vec<Person>,
    client: Vec<Person>,
    truth: Vec<Option<u32>>,
    kinds: Vec<Vec<&'static str>>,
}

/// Names with their counts.
type Counted = Vec<(String, u64)>;

/// Surnames, and first names by sex (female, male).
fn names() -> &'static (Counted, [Counted; 2]) {
    static NAMES: OnceLock<(Counted, [Counted; 2])> = OnceLock::new();
    NAMES.get_or_init(|| {
        let surnames: Vec<(String, u64)> = dmf_data::surnames().into_iter().take(20_000).collect();
        let mut first: [HashMap<String, u64>; 2] = [HashMap::new(), HashMap::new()];
        for f in dmf_data::first_names() {
            if (1920..=1970).contains(&f.decade) {
                *first[f.sex.index()]
                    .entry(f.name.to_ascii_uppercase())
                    .or_default() += f.count;
            }
        }
        let first = first.map(|m| {
            let mut v: Vec<(String, u64)> = m.into_iter().collect();
            v.sort();
            v
        });
        (surnames, first)
    })
}

fn pick<'a>(rng: &mut impl Rng, table: &'a [(String, u64)]) -> &'a str {
    let total: u64 = table.iter().map(|(_, n)| n).sum();
    let mut x = rng.random_range(0..total);
    for (name, n) in table {
        if x < *n {
            return name;
        }
        x -= n;
    }
    &table[0].0
}

fn days_in(year: u16, month: u8) -> u8 {
    PartialDate::new(year, Some(month), Some(31))
        .map(|_| 31)
        .or_else(|_| PartialDate::new(year, Some(month), Some(30)).map(|_| 30))
        .or_else(|_| PartialDate::new(year, Some(month), Some(29)).map(|_| 29))
        .unwrap_or(28)
}

fn random_dob(rng: &mut impl Rng, from: u16, to: u16) -> (u16, u8, u8) {
    let y = rng.random_range(from..to);
    let m = rng.random_range(1..=12);
    (y, m, rng.random_range(1..=days_in(y, m)))
}

/// Households of one to five people: a couple of about the same age, children 20-40 years
/// younger; a son may carry his father's names with JR.
fn population(rng: &mut impl Rng, households: usize) -> Vec<Human> {
    let (surnames, first) = names();
    let mut used = std::collections::HashSet::new();
    let mut ssn = |rng: &mut dyn FnMut() -> u32| loop {
        if let Ok(s) = Ssn::from_number(rng())
            && used.insert(s)
        {
            return s;
        }
    };
    let mut out = Vec::new();
    for h in 0..households {
        let last = pick(rng, surnames).to_owned();
        let parent_year: u16 = rng.random_range(1910..1960);
        let size = [1, 2, 2, 3, 4, 5][rng.random_range(0..6)];
        let mut father: Option<(String, String)> = None;
        for k in 0..size {
            let sex = if k == 0 {
                Sex::Male
            } else if k == 1 {
                Sex::Female
            } else if rng.random_bool(0.5) {
                Sex::Male
            } else {
                Sex::Female
            };
            let s = usize::from(sex == Sex::Male);
            let dob = if k < 2 {
                random_dob(rng, parent_year - 4, parent_year + 5)
            } else {
                random_dob(rng, parent_year + 20, parent_year + 40)
            };
            let mut given = pick(rng, &first[s]).to_owned();
            let mut middle = pick(rng, &first[s]).to_owned();
            let mut suffix = "";
            if k >= 2
                && sex == Sex::Male
                && rng.random_bool(0.15)
                && let Some((f, m)) = &father
            {
                given = f.clone();
                middle = m.clone();
                suffix = "JR";
            }
            if k == 0 {
                father = Some((given.clone(), middle.clone()));
            }
            let maiden = (k == 1).then(|| pick(rng, surnames).to_owned());
            let mut draw = || rng.random_range(1_000_000..899_999_999u32);
            out.push(Human {
                ssn: ssn(&mut draw),
                first: given,
                middle,
                last: last.clone(),
                maiden,
                suffix,
                sex,
                dob,
                household: h,
            });
        }
    }
    out
}

/// The person as the master file has them: full names, sometimes no middle name; the date of
/// birth sometimes without its day (old records).
fn as_master(rng: &mut impl Rng, h: &Human) -> Person {
    let (y, m, d) = h.dob;
    let dob = if rng.random_bool(0.02) {
        PartialDate::new(y, Some(m), None).ok()
    } else {
        PartialDate::new(y, Some(m), Some(d)).ok()
    };
    Person {
        ssn: Some(h.ssn.into()),
        first: h.first.clone(),
        middle: if rng.random_bool(0.3) {
            String::new()
        } else {
            h.middle.clone()
        },
        last: h.last.clone(),
        suffix: h.suffix.to_owned(),
        dob,
        sex: None,
    }
}

/// Keys beside each letter on a QWERTY keyboard: a slip of the finger hits one of them.
const NEIGHBOURS: [&str; 26] = [
    "QWSZ", "VGHN", "XDFV", "SERFCX", "WSDR", "DRTGVC", "FTYHBV", "GYUJNB", "UJKO", "HUIKMN",
    "JIOLM", "KOP", "NJK", "BHJM", "IKLP", "OL", "WA", "EDFT", "AWEDXZ", "RFGY", "YHJI", "CFGB",
    "QASE", "ZSDC", "TGHU", "ASX",
];

/// One typing error of the kinds keyboards make: a neighbouring key hit instead (half of
/// them), a letter dropped, a letter typed twice, two letters swapped.
fn typo(rng: &mut impl Rng, name: &str) -> String {
    let mut b = name.as_bytes().to_vec();
    if b.len() < 2 || !b.iter().all(u8::is_ascii_uppercase) {
        return name.to_owned();
    }
    let i = rng.random_range(0..b.len() - 1);
    let kind = rng.random_range(0..6);
    if kind < 3 {
        let near = NEIGHBOURS[usize::from(b[i] - b'A')].as_bytes();
        b[i] = near[rng.random_range(0..near.len())];
    } else if kind == 3 {
        b.remove(i);
    } else if kind == 4 {
        b.insert(i, b[i]);
    } else {
        b.swap(i, i + 1);
    }
    String::from_utf8(b).expect("ASCII")
}

/// The person as a client file has them, with errors; `relatives` are the other members of
/// the household. Returns the person and the kinds of error made.
fn as_client(
    rng: &mut impl Rng,
    h: &Human,
    relatives: &[&Human],
    with_ssn: bool,
) -> (Person, Vec<&'static str>) {
    let mut kinds = Vec::new();
    let mut first = h.first.clone();
    let mut last = h.last.clone();
    let x: f64 = rng.random();
    if x < 0.06 {
        first = typo(rng, &first);
        kinds.push("first_typo");
    } else if x < 0.11 {
        if let Some((_, nick)) = NICKNAMES.iter().find(|(n, _)| *n == first) {
            first = (*nick).to_owned();
            kinds.push("nickname");
        }
    } else if x < 0.13 {
        first.truncate(1);
        kinds.push("first_initial");
    } else if x < 0.14 {
        first.clear();
        kinds.push("first_blank");
    } else if x < 0.145 {
        first = "UNKNOWN".into();
        kinds.push("first_placeholder");
    } else if x < 0.155 {
        first = h.middle.clone();
        kinds.push("middle_as_first");
    }
    let x: f64 = rng.random();
    if x < 0.05 {
        last = typo(rng, &last);
        kinds.push("last_typo");
    } else if x < 0.09
        && let Some(m) = &h.maiden
    {
        last = m.clone();
        kinds.push("maiden_name");
    } else if (0.09..0.10).contains(&x)
        && let Some(m) = &h.maiden
    {
        last = format!("{m}-{last}");
        kinds.push("hyphenated");
    }
    if rng.random_bool(0.01) {
        std::mem::swap(&mut first, &mut last);
        kinds.push("swapped_names");
    }
    let middle = match rng.random_range(0..10) {
        0..4 => h.middle.clone(),
        4..7 => h.middle[..1].to_owned(),
        _ => String::new(),
    };
    let (y, m, d) = h.dob;
    let x: f64 = rng.random();
    let dob = if x < 0.06 {
        kinds.push("dob_blank");
        None
    } else if x < 0.08 {
        kinds.push("dob_day_month_swapped");
        // Kept as the parts they are, even when impossible: as a client file would be read.
        PartialDate::new(y, Some(d), Some(m))
            .ok()
            .or_else(|| PartialDate::new(y, None, None).ok())
    } else if x < 0.11 {
        kinds.push("dob_digit");
        let d2 = if d >= 10 {
            d - 10 + (d % 10 + 1) % 10
        } else {
            d % 9 + 1
        };
        PartialDate::new(y, Some(m), Some(d2.max(1)))
            .ok()
            .or_else(|| PartialDate::new(y, Some(m), Some(d)).ok())
    } else if x < 0.125 {
        kinds.push("dob_year_pm1");
        PartialDate::new(y + 1, Some(m), Some(d.min(28))).ok()
    } else if x < 0.135 {
        match relatives.first() {
            Some(r) => {
                kinds.push("dob_of_relative");
                PartialDate::new(r.dob.0, Some(r.dob.1), Some(r.dob.2)).ok()
            }
            None => PartialDate::new(y, Some(m), Some(d)).ok(),
        }
    } else if x < 0.15 {
        kinds.push("dob_year_only");
        PartialDate::new(y, None, None).ok()
    } else {
        PartialDate::new(y, Some(m), Some(d)).ok()
    };
    let ssn = if !with_ssn {
        None
    } else {
        let digits: Vec<u8> = h
            .ssn
            .to_string()
            .bytes()
            .filter(u8::is_ascii_digit)
            .collect();
        let x: f64 = rng.random();
        let changed = |v: Vec<u8>| std::str::from_utf8(&v).ok()?.parse().ok();
        if x < 0.10 {
            kinds.push("ssn_blank");
            None
        } else if x < 0.12 {
            kinds.push("ssn_digit");
            let mut v = digits.clone();
            let i = rng.random_range(3..9);
            v[i] = b'0' + (v[i] - b'0' + 1) % 10;
            changed(v)
        } else if x < 0.13 {
            kinds.push("ssn_transposed");
            let mut v = digits.clone();
            let i = rng.random_range(3..8);
            v.swap(i, i + 1);
            changed(v)
        } else if x < 0.14 {
            match relatives.first() {
                Some(r) => {
                    kinds.push("ssn_of_relative");
                    Some(r.ssn.into())
                }
                None => Some(h.ssn.into()),
            }
        } else {
            Some(h.ssn.into())
        }
    };
    let sex = if rng.random_bool(0.3) {
        None
    } else if rng.random_bool(0.01) {
        kinds.push("sex_wrong");
        Some(if h.sex == Sex::Male {
            Sex::Female
        } else {
            Sex::Male
        })
    } else {
        Some(h.sex)
    };
    let person = Person {
        ssn,
        first,
        middle,
        last,
        suffix: if rng.random_bool(0.5) {
            h.suffix.to_owned()
        } else {
            String::new()
        },
        dob,
        sex,
    };
    (person, kinds)
}

/// A labelled set: `households` households, of whom 40% of the people are dead (the master);
/// `clients` client rows, 60% of them people in the master, 40% living people, most of those
/// with a relative in the master.
fn labelled_set(seed: u64, households: usize, clients: usize, with_ssn: bool) -> Set {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let people = population(&mut rng, households);
    let mut by_household: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, h) in people.iter().enumerate() {
        by_household.entry(h.household).or_default().push(i);
    }
    let dead: Vec<bool> = (0..people.len()).map(|_| rng.random_bool(0.4)).collect();
    let mut master = Vec::new();
    let mut index = vec![None; people.len()];
    for (i, h) in people.iter().enumerate() {
        if dead[i] {
            index[i] = Some(master.len() as u32);
            master.push(as_master(&mut rng, h));
        }
    }
    let living_with_dead_relative: Vec<usize> = (0..people.len())
        .filter(|&i| !dead[i] && by_household[&people[i].household].iter().any(|&j| dead[j]))
        .collect();
    let living: Vec<usize> = (0..people.len()).filter(|&i| !dead[i]).collect();
    let dead_ids: Vec<usize> = (0..people.len()).filter(|&i| dead[i]).collect();
    let mut set = Set {
        master,
        client: Vec::new(),
        truth: Vec::new(),
        kinds: Vec::new(),
    };
    // Each person once at most: a client file lists a customer once.
    let mut taken = std::collections::HashSet::new();
    let mut draw = |rng: &mut Pcg64Mcg, from: &[usize]| loop {
        let i = from[rng.random_range(0..from.len())];
        if taken.insert(i) {
            return i;
        }
    };
    for k in 0..clients {
        let i = match k % 10 {
            0..6 => draw(&mut rng, &dead_ids),
            6..9 => draw(&mut rng, &living_with_dead_relative),
            _ => draw(&mut rng, &living),
        };
        // Relatives, the dead first (whose SSN or date a client row could carry).
        let mut relatives: Vec<&Human> = by_household[&people[i].household]
            .iter()
            .filter(|&&j| j != i)
            .map(|&j| &people[j])
            .collect();
        relatives.sort_by_key(|r| !dead[people.iter().position(|p| p.ssn == r.ssn).unwrap_or(0)]);
        let (p, mut kinds) = as_client(&mut rng, &people[i], &relatives, with_ssn);
        if index[i].is_none() {
            kinds.push(if k % 10 < 9 {
                "absent_relative_in_master"
            } else {
                "absent"
            });
        }
        set.client.push(p);
        set.truth.push(index[i]);
        set.kinds.push(kinds);
    }
    set
}

/// The default pipeline of `dmf match` (one-to-one), at test size.
fn link(set: &Set) -> (Model, Vec<Match>) {
    let tables = NameTables::shipped();
    let master = Prepared::new(&set.master, &tables);
    let client = Prepared::new(&set.client, &tables);
    let config = Config {
        u_sample: 300_000,
        threshold: 0.01,
        one_to_one: true,
        ..Config::default()
    };
    let out = run(&client, &master, &tables, &config);
    (out.model, out.matches)
}

struct Scores {
    precision: f64,
    recall: f64,
    f1: f64,
}

/// Precision and recall of each client's best pair at probability 0.5 or more.
fn scores(set: &Set, matches: &[Match]) -> Scores {
    let mut best: HashMap<u32, &Match> = HashMap::new();
    for m in matches.iter().filter(|m| m.probability >= 0.5) {
        let slot = best.entry(m.client).or_insert(m);
        if m.probability > slot.probability {
            *slot = m;
        }
    }
    let (mut tp, mut fp) = (0.0, 0.0);
    for (c, m) in &best {
        if set.truth[*c as usize] == Some(m.master) {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
    }
    let positives = set.truth.iter().filter(|t| t.is_some()).count() as f64;
    let precision = tp / (tp + fp);
    let recall = tp / positives;
    Scores {
        precision,
        recall,
        f1: 2.0 * precision * recall / (precision + recall),
    }
}

fn set(with_ssn: bool) -> &'static (Set, Model, Vec<Match>) {
    static WITH: OnceLock<(Set, Model, Vec<Match>)> = OnceLock::new();
    static WITHOUT: OnceLock<(Set, Model, Vec<Match>)> = OnceLock::new();
    let cell = if with_ssn { &WITH } else { &WITHOUT };
    cell.get_or_init(|| {
        let set = labelled_set(if with_ssn { 41 } else { 42 }, 20_000, 6_000, with_ssn);
        let (model, matches) = link(&set);
        (set, model, matches)
    })
}

#[test]
fn links_an_independent_labelled_set_with_and_without_ssns() {
    for (with_ssn, floor) in [(true, 0.95), (false, 0.85)] {
        let (set, _, matches) = set(with_ssn);
        let s = scores(set, matches);
        assert!(
            s.f1 >= floor,
            "with_ssn {with_ssn}: precision {:.3} recall {:.3} F1 {:.3}",
            s.precision,
            s.recall,
            s.f1
        );
    }
}

/// Every closer level weighs at least as much as a farther one, field by field, in the
/// trained model.
#[test]
fn trained_weights_keep_level_order() {
    let weight = |m: &Model, l: Levels| m.weight(&l);
    let base = Levels {
        ssn: SsnLevel::Missing,
        first: NameLevel::Missing,
        last: NameLevel::Missing,
        dob: DobLevel::Missing,
        middle: MiddleLevel::Missing,
        suffix: SuffixLevel::Missing,
        sex: SexLevel::Missing,
    };
    for with_ssn in [true, false] {
        let (_, model, _) = set(with_ssn);
        let check = |closer: Levels, farther: Levels| {
            let (a, b) = (weight(model, closer), weight(model, farther));
            assert!(a >= b - 1e-9, "{closer:?} weighs {a}, {farther:?} {b}");
            assert!(a.is_finite() && b.is_finite());
        };
        use SsnLevel as S;
        for (c, f) in [
            (S::Exact, S::OneDigit),
            (S::Exact, S::Transposed),
            (S::OneDigit, S::Different),
            (S::Transposed, S::Different),
        ] {
            check(Levels { ssn: c, ..base }, Levels { ssn: f, ..base });
        }
        use NameLevel as N;
        let names = [
            (N::Exact, N::Nickname),
            (N::Exact, N::JaroWinkler1),
            (N::JaroWinkler1, N::JaroWinkler2),
            (N::JaroWinkler2, N::Phonetic),
            (N::Phonetic, N::Different),
            (N::Initial, N::Different),
            (N::Nickname, N::Different),
        ];
        for (c, f) in names {
            check(Levels { first: c, ..base }, Levels { first: f, ..base });
            check(Levels { last: c, ..base }, Levels { last: f, ..base });
        }
        use DobLevel as D;
        for (c, f) in [
            (D::Exact, D::DayMonthSwapped),
            (D::Exact, D::OneDigit),
            (D::OneDigit, D::OneComponent),
            (D::Exact, D::OneComponent),
            (D::Exact, D::YearPlusMinusOne),
            (D::Exact, D::CompatiblePartial),
            (D::OneComponent, D::Different),
            (D::DayMonthSwapped, D::Different),
        ] {
            check(Levels { dob: c, ..base }, Levels { dob: f, ..base });
        }
        use MiddleLevel as M;
        for (c, f) in [(M::Exact, M::Initial), (M::Initial, M::Different)] {
            check(Levels { middle: c, ..base }, Levels { middle: f, ..base });
        }
        // And no single wrong field costs more than the fields that agree can carry.
        for (field, level, m, u) in model.parameters() {
            assert!(FIELDS.contains(&field));
            let w = (m / u).log2();
            assert!(w > -20.0, "{field} {level} weighs {w}");
        }
    }
}

/// Of the pairs the model puts in a probability band, the share that are true matches lies in
/// the band (within 0.05, and within two standard errors of a band's few pairs), for every band
/// with ten pairs or more.
#[test]
fn probabilities_are_calibrated_on_a_labelled_set() {
    let bands = [0.0, 0.05, 0.2, 0.5, 0.8, 0.95, 1.0 + 1e-9];
    for with_ssn in [true, false] {
        let (set, _, matches) = set(with_ssn);
        let mut report = Vec::new();
        for w in bands.windows(2) {
            let (lo, hi) = (w[0], w[1]);
            let inside: Vec<&Match> = matches
                .iter()
                .filter(|m| (lo..hi).contains(&m.probability))
                .collect();
            let true_ones = inside
                .iter()
                .filter(|m| set.truth[m.client as usize] == Some(m.master))
                .count();
            let share = true_ones as f64 / inside.len().max(1) as f64;
            report.push(format!("[{lo}, {hi}): {true_ones}/{}", inside.len()));
            if inside.len() >= 10 {
                let p = share.clamp(lo, hi.min(1.0));
                let noise = 2.0 * (p * (1.0 - p) / inside.len() as f64).sqrt();
                assert!(
                    share >= lo - 0.05 - noise && share <= hi + 0.05 + noise,
                    "with_ssn {with_ssn}: {}",
                    report.join("; ")
                );
            }
        }
        eprintln!("calibration, with_ssn {with_ssn}: {}", report.join("; "));
    }
}

/// A client row carrying a relative's SSN (same surname, another first name) is linked to the
/// person it names, found by name and date of birth, not to the relative; without a date of
/// birth the relative's pair is for review, never an accepted match.
#[test]
fn a_relatives_ssn_is_not_preferred_over_the_real_person() {
    let (set, set_model, matches) = set(true);
    let mut carried = 0;
    for (c, kinds) in set.kinds.iter().enumerate() {
        if !kinds.contains(&"ssn_of_relative") {
            continue;
        }
        carried += 1;
        for m in matches.iter().filter(|m| m.client == c as u32) {
            let to_relative = set.truth[c] != Some(m.master)
                && set.master[m.master as usize].ssn == set.client[c].ssn;
            if to_relative {
                assert!(
                    m.review || m.probability < 0.5,
                    "client {c} ({kinds:?}) accepted for its relative: {m:?}"
                );
            }
        }
    }
    assert!(carried >= 10, "only {carried} rows carry a relative's SSN");

    // The plain case, by hand: the son carries his mother's SSN.
    let tables = NameTables::shipped();
    let ssn = |s: &str| Some(s.parse::<Ssn>().expect("an SSN").into());
    let dob = |s: &str| Some(s.parse::<PartialDate>().expect("a date"));
    let mother = Person {
        ssn: ssn("123-45-6780"),
        first: "MARGARET".into(),
        last: "KOWALSKI".into(),
        dob: dob("1931-02-11"),
        ..Person::default()
    };
    let son = Person {
        ssn: ssn("301-22-4181"),
        first: "EDWARD".into(),
        last: "KOWALSKI".into(),
        dob: dob("1958-07-30"),
        ..Person::default()
    };
    // The set's dead as the background population.
    let mut master = vec![mother, son.clone()];
    master.extend(set.master.iter().cloned());
    let master_p = Prepared::new(&master, &tables);
    for (client_dob, expect_son) in [(son.dob, true), (None, false)] {
        let row = Person {
            ssn: master[0].ssn,
            dob: client_dob,
            ..son.clone()
        };
        let client = Prepared::new(&[row], &tables);
        let config = Config {
            model: Some(set_model.clone()),
            threshold: 0.01,
            one_to_one: true,
            ..Config::default()
        };
        let out = run(&client, &master_p, &tables, &config);
        let best = out.matches.first();
        if expect_son {
            let best = best.expect("a match");
            assert_eq!(best.master, 1, "{:?}", out.matches);
        } else if let Some(best) = best {
            assert!(
                best.master == 1 || best.review,
                "the mother's pair accepted: {best:?}"
            );
        }
    }
}

/// One wrong field (a placeholder first name, a typed-over date) does not sink a pair whose
/// other fields agree.
#[test]
fn one_wrong_field_does_not_veto_a_pair() {
    let (set, _, matches) = set(true);
    let mut seen = 0;
    for kind in [
        "first_placeholder",
        "dob_digit",
        "maiden_name",
        "middle_as_first",
    ] {
        for (c, kinds) in set.kinds.iter().enumerate() {
            let Some(t) = set.truth[c] else { continue };
            if kinds.as_slice() != [kind] || set.client[c].ssn.is_none() {
                continue;
            }
            seen += 1;
            let found = matches
                .iter()
                .find(|m| m.client == c as u32 && m.master == t)
                .map(|m| m.probability);
            assert!(
                found.is_some_and(|p| p >= 0.5),
                "{kind}: client {c} scored {found:?}"
            );
        }
    }
    assert!(seen >= 10, "only {seen} rows with one such error");
}

/// A living person whose own SSN is on the row is never an accepted match for someone else's
/// death: SSNs that differ make a pair at most one for review.
#[test]
fn a_living_person_with_their_own_ssn_is_not_matched_to_another_death() {
    let (set, _, matches) = set(true);
    for m in matches.iter().filter(|m| m.probability >= 0.5) {
        let c = m.client as usize;
        if set.truth[c].is_none() && m.levels.ssn == SsnLevel::Different {
            assert!(m.review, "client {c} ({:?}) accepted: {m:?}", set.kinds[c]);
        }
    }
}
