//! The witness over HTTP: `POST /add-checkpoint` (C2SP tlog-witness) and `GET /`, a page of
//! text naming the witness, its key and the logs it follows. Any other path is 404, another
//! method 405, and a body over 64 KiB 413.

use std::fmt::Write as _;
use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::witness::{TEXT_CONTENT_TYPE, Witness};

/// The largest request body: 63 proof lines and a note with many signatures fit well within it.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The witness's routes.
pub fn router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .route("/", get(index))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(witness)
}

/// Serves on `listener` until `shutdown` completes, then finishes the requests in flight.
pub async fn serve(
    witness: Arc<Witness>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(witness))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn add_checkpoint(State(witness): State<Arc<Witness>>, body: Bytes) -> Response {
    // Storing the state syncs files: off the async workers.
    match tokio::task::spawn_blocking(move || witness.add_checkpoint(&body)).await {
        Ok(answer) => (
            StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            [(header::CONTENT_TYPE, answer.content_type)],
            answer.body,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "add-checkpoint failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, TEXT_CONTENT_TYPE)],
                "the witness failed\n",
            )
                .into_response()
        }
    }
}

async fn index(State(witness): State<Arc<Witness>>) -> Response {
    let mut page = format!(
        "C2SP tlog-witness {}\n\nkey: {}\nsubmit: POST /add-checkpoint\n\nlogs followed:\n",
        witness.name(),
        witness.verifier().to_text()
    );
    for log in witness.logs() {
        let _ = writeln!(page, "{} size {}", log.origin, log.size);
        for key in &log.keys {
            let _ = writeln!(page, "  key {}", key.to_text());
        }
    }
    ([(header::CONTENT_TYPE, TEXT_CONTENT_TYPE)], page).into_response()
}
