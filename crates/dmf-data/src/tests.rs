//! Tests of the embedded tables: sizes, known rows, and the invariants the generator relies on.

use crate::*;

#[test]
fn surnames_table() {
    let s = surnames();
    assert_eq!(s.len(), 151_671);
    assert_eq!(s[0], ("SMITH".to_owned(), 2_376_206));
    assert_eq!(s[1].0, "JOHNSON");
    assert_eq!(s[2].0, "WILLIAMS");
    assert!(
        s.iter()
            .all(|(n, c)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_uppercase()) && *c >= 100)
    );
    assert!(
        s.windows(2).all(|w| w[0].1 >= w[1].1),
        "most frequent first"
    );
}

#[test]
fn first_names_table() {
    let f = first_names();
    assert_eq!(f.len(), 359_563);
    let mary_1880 = f
        .iter()
        .find(|n| n.decade == 1880 && n.sex == Sex::F && n.name == "Mary")
        .expect("Mary, 1880, F");
    assert_eq!(mary_1880.count, 91_668);
    let decades: std::collections::BTreeSet<u16> = f.iter().map(|n| n.decade).collect();
    assert_eq!(decades, (1880..=2010).step_by(10).collect());
    for decade in (1880..=2010).step_by(10) {
        for sex in Sex::ALL {
            assert!(
                f.iter().any(|n| n.decade == decade && n.sex == sex),
                "{decade} {sex:?}"
            );
        }
    }
    assert!(
        f.iter()
            .all(|n| n.count > 0 && n.name.chars().next().unwrap().is_uppercase())
    );
    // Letters only, at most 15: the generator keeps names inline and writes them to CSV
    // without quoting.
    assert!(
        f.iter()
            .all(|n| n.name.len() <= 15 && n.name.bytes().all(|b| b.is_ascii_alphabetic()))
    );
}

#[test]
fn nicknames_table() {
    let n = nicknames();
    assert_eq!(n.len(), 2_691);
    assert!(n.contains(&("robert".to_owned(), "bob".to_owned())));
    assert!(n.contains(&("aaron".to_owned(), "ron".to_owned())));
    assert!(n.iter().all(|(a, b)| {
        !a.is_empty() && !b.is_empty() && *a == a.to_lowercase() && *b == b.to_lowercase()
    }));
}

#[test]
fn life_tables_table() {
    let t = life_tables();
    assert_eq!(t.cohorts(), (1900..=2010).step_by(10).collect::<Vec<u16>>());
    let m1900 = t.qx(1900, Sex::M).expect("1900 M");
    assert!((m1900[0] - 0.14596).abs() < 1e-9);
    assert!((m1900[119] - 0.94927).abs() < 1e-9);
    assert!(t.qx(1905, Sex::M).is_none());
    for &c in t.cohorts() {
        for sex in Sex::ALL {
            let q = t.qx(c, sex).unwrap();
            assert!(q.iter().all(|q| (0.0..=1.0).contains(q)), "{c} {sex:?}");
            // Old age kills: q rises past 80.
            assert!(q[100] > q[80] && q[80] > q[40], "{c} {sex:?}");
        }
    }
    // Women outlive men, and later cohorts outlive earlier ones.
    assert!(t.qx(1950, Sex::F).unwrap()[70] < t.qx(1950, Sex::M).unwrap()[70]);
    assert!(t.qx(2000, Sex::M).unwrap()[0] < t.qx(1900, Sex::M).unwrap()[0]);
}

#[test]
fn applicants_table() {
    let a = applicants();
    assert_eq!(a.len(), 276);
    assert_eq!(a[0], (1880, Sex::F, 97_605));
    assert_eq!(*a.last().unwrap(), (2017, Sex::M, 1_963_290));
    for year in 1880..=2017u16 {
        for sex in Sex::ALL {
            assert_eq!(
                a.iter().filter(|r| r.0 == year && r.1 == sex).count(),
                1,
                "{year}"
            );
        }
    }
}
