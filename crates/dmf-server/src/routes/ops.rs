//! Operations: liveness, Prometheus metrics and the API's description.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::App;
use crate::views::HealthView;

/// `GET /healthz`: liveness, the number of events, and the reading of the events under the
/// index snapshot; 503 once that found the store damaged.
pub(crate) async fn health(State(app): State<Arc<App>>) -> Response {
    let head = app.index.read().expect("index lock").head;
    let store = app.store_check();
    let damaged = matches!(store, crate::StoreCheck::Damaged(_));
    let view = HealthView {
        status: if damaged { "damaged" } else { "ok" },
        events: head,
        store: store.to_string(),
    };
    let status = if damaged {
        axum::http::StatusCode::SERVICE_UNAVAILABLE
    } else {
        axum::http::StatusCode::OK
    };
    (status, Json(view)).into_response()
}

/// `GET /metrics`.
pub(crate) async fn metrics(State(app): State<Arc<App>>) -> Response {
    let (people, head) = {
        let index = app.index.read().expect("index lock");
        (index.len(), index.head)
    };
    let tree = dmf_ledger::log::LogFiles::open(&app.dir)
        .ok()
        .and_then(|f| f.latest().ok().flatten())
        .map_or(0, |s| s.checkpoint.size);
    let mut text = app.metrics.render(people, head, tree);
    text.push_str(&app.conns.render());
    // Alerts as last computed (by `/v1/alerts` or the console): a scrape does not scan the log.
    if let Some((at, v)) = app.oversight.alerts.lock().expect("alerts").as_ref() {
        let n = v.alerts.len();
        text.push_str(&format!(
            "# HELP dmf_intake_alerts Intake anomaly alerts at the tree size below.\n\
             # TYPE dmf_intake_alerts gauge\ndmf_intake_alerts {n}\n\
             # HELP dmf_intake_alerts_tree_size The tree size the alerts were computed at.\n\
             # TYPE dmf_intake_alerts_tree_size gauge\ndmf_intake_alerts_tree_size {at}\n"
        ));
    }
    text.push_str(&app.oversight.render());
    let dir = app.dir.clone();
    if let Ok(lines) =
        tokio::task::spawn_blocking(move || crate::services::witnesses::metrics(&dir)).await
    {
        text.push_str(&lines);
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// `GET /openapi.json`: the description, made from the route table and the views.
pub(crate) async fn openapi() -> Json<serde_json::Value> {
    Json(crate::openapi::document())
}
