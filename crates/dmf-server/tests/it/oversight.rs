//! The console's oversight page and the public statistics and alerts after new events: each
//! new event is read once by the statistics of each period and once by the alerts, and a page
//! with nothing new reads nothing. (`/metrics` counts what they read.)

use serde_json::{Value, json};

use super::Server;
use super::console::{Client, users};

/// Leaves read for the statistics and events read for the alerts, as `/metrics` counts them.
fn read_so_far(s: &Server) -> (u64, u64) {
    let (status, text) = s.get("/metrics", None);
    assert_eq!(status, 200, "{text}");
    let counter = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("{name} in {text}"))
    };
    (
        counter("dmf_stats_leaves_read_total"),
        counter("dmf_alerts_events_read_total"),
    )
}

#[test]
fn the_oversight_page_rescanned_every_leaf_after_each_new_event() {
    let s = Server::start();
    users(&s);
    let mut c = Client::new(&s);
    assert_eq!(c.login("watch", "a long password 1").status, 303);
    let page = c.get("/console/oversight");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("at tree size 4 "), "{}", page.body);
    // The first load counts the four numberholders' events from the first leaf.
    assert_eq!(read_so_far(&s), (4, 4));

    // As callers send them: a funeral home's report under a nickname and without the suffix,
    // a state's report with the day and month of birth swapped, a notice from the key's
    // authority.
    let events = [
        (
            "/v1/reports/death",
            "funeral",
            json!({"ssn": "234567890", "first": "Bobby", "last": "Jones", "dob": "1975-01-02", "dod": "2026-11-18", "evidence": "FH-2026-117"}),
        ),
        (
            "/v1/reports/death",
            "reporter",
            json!({"ssn": "345678901", "first": "Carol", "last": "Diaz", "dob": "1990-09-09", "dod": "2026-11-19", "evidence": "EDRS-CA-88"}),
        ),
        (
            "/v1/notices/status",
            "authority",
            json!({"ssn": "456789012", "first": "Dan", "last": "Okafor", "dob": "1962-01-12", "kind": "employment_authorization_ended", "legal_basis": "8 CFR 274a.14", "document": "I-766 revoked", "effective": "2026-11-20"}),
        ),
    ];
    for (n, (route, key, body)) in (5u64..).zip(events) {
        let (status, r) = s.post_json(route, key, body);
        assert_eq!(status, 201, "{r}");
        assert_eq!(r["seq"], n, "{r}");
        let page = c.get("/console/oversight");
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(
            page.body.contains(&format!("at tree size {n} ")),
            "{}",
            page.body
        );
        // One new event: one leaf counted, one event read for the alerts, not all of them.
        assert_eq!(read_so_far(&s), (n, n), "after event {n}");
        // Nothing new: nothing read.
        assert_eq!(c.get("/console/oversight").status, 200);
        assert_eq!(read_so_far(&s), (n, n), "event {n} again");
    }

    // The public routes answer from the same counts: the day's as the page's, the month's
    // counted once from the first leaf.
    let (status, day) = s.get_json("/v1/stats?period=day", None);
    assert_eq!((status, &day["tree_size"]), (200, &json!(7)), "{day}");
    assert_eq!(read_so_far(&s), (7, 7));
    let (status, month) = s.get_json("/v1/stats?period=month", None);
    assert_eq!((status, &month["tree_size"]), (200, &json!(7)), "{month}");
    assert_eq!(read_so_far(&s), (14, 7));
    let total = |v: &Value| {
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["count"].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!((total(&day), total(&month)), (7, 7));
    let (status, alerts) = s.get_json("/v1/alerts", None);
    assert_eq!(status, 200, "{alerts}");
    assert_eq!(
        (&alerts["tree_size"], &alerts["observations"]),
        (&json!(7), &json!(3)),
        "{alerts}"
    );
}

/// A witness on 127.0.0.1 following the server's log, served on a thread of its own until the
/// returned sender is dropped: its verifier key and its URL.
pub(crate) fn witness(
    s: &Server,
    dir: &std::path::Path,
) -> (
    dmf_log::CosignerVerifier,
    String,
    tokio::sync::oneshot::Sender<()>,
) {
    let log = dmf_ledger::log::LogFiles::open(&s.data).unwrap().verifier;
    let witness = dmf_witness::Witness::open(dir, Some("witness.test/w1"), vec![log]).unwrap();
    let key = witness.verifier();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let shutdown = async move {
                let _ = stopped.await;
            };
            dmf_witness::server::serve(std::sync::Arc::new(witness), listener, shutdown)
                .await
                .unwrap();
        });
    });
    (key, url, stop)
}

/// The server gathers its witnesses' cosignatures by itself: with a quorum of one of two (one
/// of them unreachable), the checkpoint is published with the one cosignature; the oversight
/// page and `/metrics` show each witness's state, and a feed page names the published
/// checkpoint.
#[test]
fn the_oversight_page_and_metrics_show_each_witness_and_feeds_name_the_published_checkpoint() {
    let s = Server::start();
    users(&s);
    let dir = tempfile::tempdir().unwrap();
    let (key, url, _stop) = witness(&s, dir.path());
    let down = dmf_log::CosignerKey::from_seed("witness.test/down", [9; 32])
        .unwrap()
        .verifier();
    let log = dmf_ledger::log::LogFiles::open(&s.data).unwrap().verifier;
    let policy = dmf_log::Policy::parse(&format!(
        "log {}\nwitness witness.test/w1 {} {url}\nwitness witness.test/down {} http://127.0.0.1:1\n\
         group witnesses 1 witness.test/w1 witness.test/down\nquorum witnesses\n",
        log.to_text(),
        key.to_text(),
        down.to_text()
    ))
    .unwrap();
    dmf_witness::registry::save(&s.data, &policy).unwrap();

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let note = loop {
        let (status, note) = s.get("/log/checkpoint", None);
        if status == 200 && policy.verify(&note, None).is_ok() {
            break note;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never published: {status} {note}"
        );
        std::thread::yield_now();
    };
    let verified = policy.verify(&note, None).unwrap();
    assert_eq!(verified.cosigned.len(), 1, "{note}");
    assert_eq!(verified.checkpoint.size, 4);

    let (_, metrics) = s.get("/metrics", None);
    for line in [
        "dmf_log_published_size 4",
        "dmf_witness_up{witness=\"witness.test/w1\"} 1",
        "dmf_witness_size{witness=\"witness.test/w1\"} 4",
        "dmf_witness_up{witness=\"witness.test/down\"} 0",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in {metrics}");
    }

    let mut c = Client::new(&s);
    assert_eq!(c.login("watch", "a long password 1").status, 303);
    let page = c.get("/console/oversight");
    assert_eq!(page.status, 200, "{}", page.body);
    for text in [
        "1 of its 2 witnesses",
        "witness.test/w1",
        "Cosigned at",
        "witness.test/down",
        "Failed: ",
    ] {
        assert!(page.body.contains(text), "{text} in {}", page.body);
    }

    let response = s
        .agent
        .get(format!("{}/v1/feed?wait=0", s.base))
        .header("Authorization", format!("Bearer {}", s.keys["subscriber"]))
        .call()
        .unwrap();
    let named = response
        .headers()
        .get("x-dmf-log-checkpoint")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let root = dmf_ledger::log::base64_hash(&verified.checkpoint.root);
    assert_eq!(named, Some(format!("4 {root}")));
}
