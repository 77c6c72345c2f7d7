//! The witness over real HTTP on 127.0.0.1, asked with the client as a log would.

use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;

use dmf_log::{AddCheckpoint, add_signatures, open_cosignature};

use super::{grow, main_tree, open, published_key, signed};
use crate::client::{self, WitnessAnswer};
use crate::{Witness, server};

/// A witness served on a free port of 127.0.0.1 until stopped.
struct Running {
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl Running {
    fn start(witness: Arc<Witness>) -> Running {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                server::serve(witness, listener, async {
                    let _ = stopped.await;
                })
                .await
            })
        });
        Running {
            base,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Stops the server gracefully: how `serve` ended.
    fn stop(mut self) -> io::Result<()> {
        let _ = self.stop.take().unwrap().send(());
        self.thread.take().unwrap().join().unwrap()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn parsed(body: &str) -> AddCheckpoint {
    AddCheckpoint::parse(body).unwrap()
}

#[test]
fn the_client_is_answered_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let witness = Arc::new(open(dir.path()));
    let server = Running::start(witness.clone());
    let agent = client::agent();
    let t = main_tree();
    let first = parsed(&grow(&t, 0, 10));
    let WitnessAnswer::Cosigned(lines) =
        client::add_checkpoint(&agent, &server.base, &first).unwrap()
    else {
        panic!("not cosigned");
    };
    let note = add_signatures(&first.note, &lines).unwrap();
    let (_, c) = open_cosignature(&note, &published_key(dir.path())).unwrap();
    assert_eq!(c.size, 10);
    // A prefix with a final slash is the same witness.
    let with_slash = format!("{}/", server.base);
    assert_eq!(
        client::add_checkpoint(&agent, &with_slash, &first).unwrap(),
        WitnessAnswer::Conflict(10)
    );
    let next = parsed(&grow(&t, 10, 17));
    assert!(matches!(
        client::add_checkpoint(&agent, &server.base, &next).unwrap(),
        WitnessAnswer::Cosigned(_)
    ));
    let bad_proof = AddCheckpoint {
        proof: vec![[0; 32]],
        ..parsed(&grow(&t, 17, 20))
    };
    assert!(matches!(
        client::add_checkpoint(&agent, &server.base, &bad_proof).unwrap(),
        WitnessAnswer::Refused { status: 422, .. }
    ));
    let stranger = dmf_log::SigningKey::from_seed("stranger.example/log", [9; 32]).unwrap();
    let unknown = AddCheckpoint {
        old: 0,
        proof: vec![],
        note: stranger.sign(&dmf_log::Checkpoint {
            origin: "stranger.example/log".into(),
            ..super::checkpoint(&t, 3)
        }),
    };
    assert!(matches!(
        client::add_checkpoint(&agent, &server.base, &unknown).unwrap(),
        WitnessAnswer::Refused { status: 404, .. }
    ));
    assert_eq!(witness.logs()[0].size, 17);
    // The size answer's content type, on the wire.
    let mut response = agent
        .post(format!("{}/add-checkpoint", server.base))
        .send(grow(&t, 0, 20))
        .unwrap();
    assert_eq!(response.status().as_u16(), 409);
    assert_eq!(
        response.headers().get("content-type").unwrap(),
        "text/x.tlog.size"
    );
    assert_eq!(response.body_mut().read_to_string().unwrap(), "17\n");
    assert!(server.stop().is_ok());
}

#[test]
fn the_page_other_paths_methods_and_a_large_body() {
    let dir = tempfile::tempdir().unwrap();
    let witness = Arc::new(open(dir.path()));
    assert_eq!(
        witness
            .add_checkpoint(grow(&main_tree(), 0, 6).as_bytes())
            .status,
        200
    );
    let server = Running::start(witness.clone());
    let agent = client::agent();
    let mut page = agent.get(format!("{}/", server.base)).call().unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let text = page.body_mut().read_to_string().unwrap();
    assert!(text.contains(super::NAME), "{text}");
    assert!(text.contains(&witness.verifier().to_text()), "{text}");
    assert!(text.contains("example.org/dmf size 6"), "{text}");
    assert!(
        text.contains(&super::log_key().verifier().to_text()),
        "{text}"
    );
    let status =
        |r: Result<ureq::http::Response<ureq::Body>, ureq::Error>| r.unwrap().status().as_u16();
    let url = |path: &str| format!("{}{path}", server.base);
    assert_eq!(status(agent.get(url("/add-checkpoint")).call()), 405);
    assert_eq!(status(agent.post(url("/")).send("x")), 405);
    assert_eq!(status(agent.get(url("/checkpoint")).call()), 404);
    assert_eq!(status(agent.post(url("/add-checkpoint/")).send("x")), 404);
    // Within the limit a request is read whole (here with 90 lines by keys the witness does
    // not know); beyond it, refused.
    let padded = format!(
        "{}{}",
        grow(&main_tree(), 6, 9),
        "\u{2014} x AAAAAAAAAAAA\n".repeat(90)
    );
    assert!(padded.len() < server::BODY_LIMIT);
    assert_eq!(
        status(agent.post(url("/add-checkpoint")).send(padded.as_str())),
        200
    );
    let huge = format!("old 0\n\n{}", signed(&main_tree(), 9)) + &"x".repeat(server::BODY_LIMIT);
    assert_eq!(
        status(agent.post(url("/add-checkpoint")).send(huge.as_str())),
        413
    );
    assert_eq!(witness.logs()[0].size, 9);
}
