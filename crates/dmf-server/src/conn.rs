//! Connections: the accept loop with its limits and timeouts, so that slow or idle clients
//! cannot hold the server's connections.
//!
//! - Headers must arrive within `header_timeout` (also the longest a kept-alive connection may
//!   sit idle between requests); a body that sends nothing for `body_timeout` is cut with 408;
//!   a client that reads nothing of an answer for `send_timeout` is disconnected.
//! - At most `max_connections` are open (by default three quarters of the file limit, so
//!   accepting never runs out of descriptors); beyond it a new connection is closed at once.
//! - Connections that have not yet shown a valid API key or console session are "anonymous";
//!   at most `max_anonymous` are open, and a new one evicts the oldest. A flood of slow
//!   unauthenticated connections therefore cannot keep out a health check or a caller with a
//!   key for longer than it takes to open one more.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use futures_util::StreamExt;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{Notify, Semaphore};
use tokio::time::Sleep;

/// Limits on connections and how long a client may stall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnLimits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub send_timeout: Duration,
    pub max_connections: usize,
    pub max_anonymous: usize,
}

impl Default for ConnLimits {
    fn default() -> ConnLimits {
        let max = default_max_connections();
        ConnLimits {
            header_timeout: Duration::from_secs(15),
            body_timeout: Duration::from_secs(30),
            send_timeout: Duration::from_secs(30),
            max_connections: max,
            max_anonymous: (max / 2).max(1),
        }
    }
}

/// Three quarters of the open-file limit (the rest is for the stores, the log and the
/// listener), between 16 and 16,384.
fn default_max_connections() -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct it is given and reads nothing else.
    let files = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        limit.rlim_cur
    } else {
        1024
    };
    let files = usize::try_from(files).unwrap_or(usize::MAX);
    (files / 4 * 3).clamp(16, 16_384)
}

/// What a request knows of its connection: it marks the connection as a known caller's.
#[derive(Debug, Default)]
pub(crate) struct ConnState {
    known: AtomicBool,
    evict: Notify,
    anonymous_open: Arc<AtomicU64>,
    closed: AtomicBool,
}

impl ConnState {
    /// The connection has shown a valid key or session: it is no longer anonymous.
    pub(crate) fn known(&self) {
        if !self.known.swap(true, Ordering::AcqRel) && !self.closed.load(Ordering::Acquire) {
            self.anonymous_open.fetch_sub(1, Ordering::AcqRel);
        }
    }

    fn close(&self) {
        if !self.closed.swap(true, Ordering::AcqRel) && !self.known.load(Ordering::Acquire) {
            self.anonymous_open.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// Marks the request's connection as a known caller's (no-op for requests not served by
/// [`serve_connections`], as in tests that call the router directly).
pub(crate) fn mark_known(extensions: &axum::http::Extensions) {
    if let Some(c) = extensions.get::<Arc<ConnState>>() {
        c.known();
    }
}

/// Counts of open connections, for `/metrics`.
#[derive(Debug, Default)]
pub(crate) struct ConnCounts {
    pub(crate) open: AtomicU64,
    pub(crate) anonymous: Arc<AtomicU64>,
    pub(crate) refused: AtomicU64,
    pub(crate) evicted: AtomicU64,
}

impl ConnCounts {
    /// The counts in the Prometheus text format.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        for (name, kind, help, v) in [
            (
                "dmf_connections_open",
                "gauge",
                "Open connections.",
                &self.open,
            ),
            (
                "dmf_connections_anonymous",
                "gauge",
                "Open connections that have shown no key or session yet.",
                &*self.anonymous,
            ),
            (
                "dmf_connections_refused_total",
                "counter",
                "Connections closed at once, the server being at its limit.",
                &self.refused,
            ),
            (
                "dmf_connections_evicted_total",
                "counter",
                "Anonymous connections closed to make room for new ones.",
                &self.evicted,
            ),
        ] {
            let v = v.load(Ordering::Relaxed);
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}\n"
            ));
        }
        out
    }
}

/// Serves `router` on `listener` within `limits` until `shutdown` completes, then lets the
/// connections finish their requests and returns once they are closed.
pub(crate) async fn serve_connections(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    limits: ConnLimits,
    counts: Arc<ConnCounts>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let anonymous: Arc<Mutex<VecDeque<Arc<ConnState>>>> = Default::default();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        // Past hyper's own limits a 431 has no body; the router refuses smaller excesses with
        // a JSON 431 from the error table first (see `crate::routes`).
        .max_headers(crate::routes::MAX_HEADERS * 2)
        .max_buf_size(1 << 20);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of descriptors or a connection reset before it was taken: the
                    // listener still works; wait a moment instead of spinning.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            counts.refused.fetch_add(1, Ordering::Relaxed);
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let state = Arc::new(ConnState {
            anonymous_open: counts.anonymous.clone(),
            ..ConnState::default()
        });
        counts.anonymous.fetch_add(1, Ordering::AcqRel);
        counts.open.fetch_add(1, Ordering::Relaxed);
        {
            let mut queue = anonymous.lock().unwrap_or_else(PoisonError::into_inner);
            // Connections that closed or showed a key leave the queue only when it is full:
            // no scan on an ordinary accept.
            if queue.len() >= limits.max_anonymous {
                queue.retain(|c| {
                    !c.known.load(Ordering::Acquire) && !c.closed.load(Ordering::Acquire)
                });
            }
            while queue.len() >= limits.max_anonymous {
                let Some(oldest) = queue.pop_front() else {
                    break;
                };
                counts.evicted.fetch_add(1, Ordering::Relaxed);
                oldest.evict.notify_one();
            }
            queue.push_back(state.clone());
        }
        let io = TokioIo::new(Stalls::new(stream, limits.send_timeout));
        let router = router.clone();
        let conn_state = state.clone();
        let service = hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(conn_state.clone());
            let mut router = router.clone();
            async move { tower_service::Service::call(&mut router, req.map(Body::new)).await }
        });
        let conn = builder.serve_connection(io, service).with_upgrades();
        let mut stop = stop_rx.clone();
        let counts = counts.clone();
        tokio::spawn(async move {
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                // Evicted: dropped, which closes it.
                () = state.evict.notified() => {}
                _ = async { stop.wait_for(|s| *s).await.map(|_| ()) } => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
            state.close();
            counts.open.fetch_sub(1, Ordering::Relaxed);
            drop(slot);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection holds a slot until it is closed.
    let _all = slots
        .acquire_many(u32::try_from(limits.max_connections).unwrap_or(u32::MAX))
        .await;
    Ok(())
}

/// Cuts a request body that sends nothing for `timeout` while the route waits for it; the
/// route then answers 408 (see [`BodyTimedOut`]).
pub(crate) async fn body_timeout(timeout: Duration, req: Request, next: Next) -> Response {
    // A request without a body (most reads) has nothing to time out.
    if axum::body::HttpBody::is_end_stream(req.body()) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let stream = body.into_data_stream();
    let timed = futures_util::stream::unfold(Some(stream), move |stream| async move {
        let mut stream = stream?;
        match tokio::time::timeout(timeout, stream.next()).await {
            Ok(Some(item)) => Some((item.map_err(axum::BoxError::from), Some(stream))),
            Ok(None) => None,
            Err(_) => Some((Err(BodyTimedOut(timeout).into()), None)),
        }
    });
    next.run(Request::from_parts(parts, Body::from_stream(timed)))
        .await
}

/// A request body that stalled.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("no part of the body came for {} s", .0.as_secs())]
pub(crate) struct BodyTimedOut(pub Duration);

/// Whether a body error is a stall.
pub(crate) fn timed_out(e: &axum::Error) -> Option<BodyTimedOut> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(t) = s.downcast_ref::<BodyTimedOut>() {
            return Some(*t);
        }
        source = s.source();
    }
    None
}

/// A socket whose writes fail once they have waited `timeout` for the client to read.
struct Stalls {
    inner: TcpStream,
    timeout: Duration,
    /// Armed while a write waits.
    waiting: Option<Pin<Box<Sleep>>>,
}

impl Stalls {
    fn new(inner: TcpStream, timeout: Duration) -> Stalls {
        Stalls {
            inner,
            timeout,
            waiting: None,
        }
    }

    /// What a write that returned `poll` means once the wait is counted.
    fn count<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if poll.is_ready() {
            self.waiting = None;
            return poll;
        }
        let timeout = self.timeout;
        let sleep = self
            .waiting
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        ready!(sleep.as_mut().poll(cx));
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the client read nothing of the answer in time",
        )))
    }
}

impl AsyncRead for Stalls {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Stalls {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.count(cx, poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.count(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_flush(cx);
        self.count(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
