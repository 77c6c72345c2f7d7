//! The person page's words, checked against hand-built states: each line says what that kind
//! of caller is told, and the page never looks all clear when something counts against the
//! person.

use dmf_model::{Date, DeathSource, NoticeKind, PartialDate, Reference, Ssn, VerificationLevel};
use dmf_registry::answers::IdentityQuery;
use dmf_registry::names::{FirstKey, LastKey};
use dmf_registry::state::{
    DeathFact, Extra, Identity, NoticeDecision, NoticeState, PersonState, Sources,
};

use super::{Tone, notice_status, summary, tags};

fn day(s: &str) -> Date {
    s.parse().unwrap()
}

fn person() -> PersonState {
    PersonState {
        identity: Some(Identity {
            first: FirstKey::of("ROBERT"),
            last: LastKey::of("JONES"),
            dob: Some("1941-07-04".parse::<PartialDate>().unwrap()),
            sex: None,
            middle: None,
            suffix: None,
            issued: true,
        }),
        death: None,
        extra: None,
    }
}

fn query() -> IdentityQuery {
    IdentityQuery {
        ssn: "234567890".parse::<Ssn>().unwrap(),
        first: "ROBERT".into(),
        last: "JONES".into(),
        dob: "1941-07-04".parse().unwrap(),
    }
}

fn death(sources: &[DeathSource]) -> DeathFact {
    let mut set = Sources::of(sources[0]);
    for s in sources {
        set = set.with(*s);
    }
    DeathFact {
        dod: "2026-10-01".parse().unwrap(),
        source: sources[0],
        verification: VerificationLevel::Verified,
        established_by: 5,
        sources: set,
    }
}

fn notice(kind: NoticeKind, contested: bool, decision: Option<bool>) -> NoticeState {
    NoticeState {
        seq: 7,
        kind,
        authority: Reference::new("DHS USCIS").unwrap(),
        effective: day("2026-10-20"),
        notice_sent: day("2026-10-20"),
        contest_deadline: day("2026-11-19"),
        contested_by: contested.then_some(8),
        decision: decision.map(|upheld| NoticeDecision { seq: 9, upheld }),
    }
}

fn with_notice(n: NoticeState) -> PersonState {
    let mut p = person();
    p.extra = Some(Box::new(Extra {
        notices: vec![n],
        ..Extra::default()
    }));
    p
}

/// The day every event of these tests was recorded.
fn recorded(_: u64) -> Option<Date> {
    Some(day("2026-11-21"))
}

#[test]
fn each_caller_is_told_in_words() {
    let today = day("2026-12-01");
    let mut state_only = person();
    state_only.death = Some(death(&[DeathSource::StateVitalRecords]));
    let mut funeral = person();
    funeral.death = Some(death(&[DeathSource::FuneralHome, DeathSource::Hospital]));
    let check = |state: PersonState, expect: [(&str, &str, Tone); 3]| {
        let lines = summary(&state, Some(&query()), today, &recorded);
        let got: Vec<_> = lines
            .iter()
            .map(|l| (l.who, l.says.as_str(), l.tone))
            .collect();
        assert_eq!(got, expect.to_vec(), "{state:?}");
    };
    check(
        person(),
        [
            ("Banks and employers", "not deceased", Tone::Clear),
            (
                "Benefit programs",
                "not deceased, nothing suspended",
                Tone::Clear,
            ),
            ("Work authorization", "confirmed", Tone::Clear),
        ],
    );
    check(
        state_only,
        [
            (
                "Banks and employers",
                "not deceased: the only report of this death is a state's, and a state's \
                 reports go to benefit programs alone",
                Tone::Clear,
            ),
            (
                "Benefit programs",
                "deceased: date of death 2026-10-01, reported by a state's vital records office \
                 (verified); a state's report only, which benefit programs alone receive",
                Tone::Adverse,
            ),
            ("Work authorization", "confirmed", Tone::Clear),
        ],
    );
    check(
        funeral,
        [
            (
                "Banks and employers",
                "deceased: date of death 2026-10-01, reported by a funeral home and a hospital \
                 (verified)",
                Tone::Adverse,
            ),
            (
                "Benefit programs",
                "deceased: date of death 2026-10-01, reported by a funeral home and a hospital \
                 (verified)",
                Tone::Adverse,
            ),
            (
                "Work authorization",
                "tentative nonconfirmation: a death is recorded",
                Tone::Adverse,
            ),
        ],
    );
    // The case the page once showed in green: a final nonconfirmation of a living person.
    check(
        with_notice(notice(
            NoticeKind::EmploymentAuthorizationEnded,
            false,
            None,
        )),
        [
            ("Banks and employers", "not deceased", Tone::Clear),
            (
                "Benefit programs",
                "not deceased, nothing suspended",
                Tone::Clear,
            ),
            (
                "Work authorization",
                "final nonconfirmation since 2026-11-20 (DHS USCIS notice, not contested)",
                Tone::Adverse,
            ),
        ],
    );
    check(
        with_notice(notice(NoticeKind::EmploymentAuthorizationEnded, true, None)),
        [
            ("Banks and employers", "not deceased", Tone::Clear),
            (
                "Benefit programs",
                "not deceased, nothing suspended",
                Tone::Clear,
            ),
            (
                "Work authorization",
                "tentative nonconfirmation, contested: suspended until a supervisor decides \
                 (DHS USCIS notice: work authorization ended)",
                Tone::Waiting,
            ),
        ],
    );
    check(
        with_notice(notice(NoticeKind::BenefitsSuspended, false, None)),
        [
            ("Banks and employers", "not deceased", Tone::Clear),
            (
                "Benefit programs",
                "not deceased; payments suspended since 2026-10-20 (DHS USCIS notice: benefits \
                 suspended)",
                Tone::Adverse,
            ),
            ("Work authorization", "confirmed", Tone::Clear),
        ],
    );
}

#[test]
fn the_headline_was_green_while_a_final_nonconfirmation_was_in_force() {
    let today = day("2026-12-01");
    let state = with_notice(notice(
        NoticeKind::EmploymentAuthorizationEnded,
        false,
        None,
    ));
    let t = tags(&state, today, false);
    assert_eq!(t[0], (Tone::Settled, "Not recorded as deceased".to_owned()));
    assert!(t.contains(&(
        Tone::Adverse,
        "Notice in force: work authorization ended".to_owned()
    )));
    // Nothing against the person: green.
    assert_eq!(
        tags(&person(), today, false),
        vec![(Tone::Clear, "Not recorded as deceased".to_owned())]
    );
    assert!(tags(&person(), today, true).contains(&(Tone::Info, "Correction pending".to_owned())));
}

#[test]
fn a_denied_contest_still_read_not_yet_effective_with_days_left() {
    let check = |n: NoticeState, today: &str, expect: (Tone, &str)| {
        let got = notice_status(&n, day(today), &recorded);
        assert_eq!((got.0, got.1.as_str()), expect, "{n:?} on {today}");
    };
    let mut early = notice(NoticeKind::EmploymentAuthorizationEnded, true, Some(false));
    early.effective = day("2026-12-20");
    check(
        early,
        "2026-12-01",
        (
            Tone::Waiting,
            "Contest denied on 2026-11-21: takes effect on 2026-12-20",
        ),
    );
    for (n, today, expect) in [
        (
            notice(NoticeKind::SsnIssuedInError, true, Some(false)),
            "2026-12-01",
            (
                Tone::Adverse,
                "In force: the contest was denied on 2026-11-21",
            ),
        ),
        (
            notice(NoticeKind::SsnIssuedInError, true, Some(true)),
            "2026-12-01",
            (
                Tone::Settled,
                "Withdrawn: the contest was upheld on 2026-11-21",
            ),
        ),
        (
            notice(NoticeKind::SsnIssuedInError, true, None),
            "2026-12-01",
            (
                Tone::Waiting,
                "Contested: suspended until a supervisor decides",
            ),
        ),
        (
            notice(NoticeKind::SsnIssuedInError, false, None),
            "2026-11-01",
            (Tone::Adverse, "In force; may be contested until 2026-11-19"),
        ),
        (
            notice(NoticeKind::SsnIssuedInError, false, None),
            "2026-12-01",
            (Tone::Adverse, "In force; the time to contest has passed"),
        ),
    ] {
        check(n, today, expect);
    }
}
