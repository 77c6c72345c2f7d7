//! NDJSON request bodies read a bounded batch of lines at a time: what a request holds depends
//! on its batch, never on the size of its body; and NDJSON answers streamed as they are made.

use axum::body::{Body, BodyDataStream, Bytes};
use axum::http::header;
use axum::response::Response;
use futures_util::StreamExt;
use serde::Serialize;

use crate::error::{ApiError, Code};

/// The longest line a bulk body may carry.
pub(crate) const MAX_LINE_BYTES: usize = 1 << 20;

/// A line of the body: its number (blank lines count) and its bytes without the line end.
pub(crate) type Line = (u64, Vec<u8>);

/// Reads an NDJSON body as numbered lines, refusing a body over `limit` bytes and a line over
/// [`MAX_LINE_BYTES`].
pub(crate) struct Lines {
    stream: BodyDataStream,
    /// Bytes received and not yet returned; `buf[pos..]` is unread.
    buf: Vec<u8>,
    pos: usize,
    /// Lines consumed so far, blank ones included.
    line_no: u64,
    total: usize,
    limit: usize,
    ended: bool,
}

impl Lines {
    pub(crate) fn new(body: Body, limit: usize) -> Lines {
        Lines {
            stream: body.into_data_stream(),
            buf: Vec::new(),
            pos: 0,
            line_no: 0,
            total: 0,
            limit,
            ended: false,
        }
    }

    /// Whether every line has been returned.
    pub(crate) fn finished(&self) -> bool {
        self.ended && self.pos == self.buf.len()
    }

    /// Up to `max_lines` non-blank lines (or fewer once they reach `max_bytes`); an empty batch
    /// once the body has ended. With `fill` false a batch is returned as soon as some lines
    /// are at hand, so an interactive client gets its answers line by line.
    pub(crate) async fn next_batch(
        &mut self,
        max_lines: usize,
        max_bytes: usize,
        fill: bool,
    ) -> Result<Vec<Line>, ApiError> {
        let mut batch = Vec::new();
        let mut bytes = 0usize;
        loop {
            while batch.len() < max_lines && bytes < max_bytes {
                let Some(line) = self.take_line() else { break };
                let (number, text) = line;
                if !text.iter().all(u8::is_ascii_whitespace) {
                    bytes += text.len();
                    batch.push((number, text));
                }
            }
            let full = batch.len() >= max_lines || bytes >= max_bytes;
            if full || self.finished() || (!fill && !batch.is_empty()) {
                return Ok(batch);
            }
            self.read_more().await?;
        }
    }

    /// The next whole line, or the last one once the body has ended.
    fn take_line(&mut self) -> Option<Line> {
        let unread = &self.buf[self.pos..];
        let len = match unread.iter().position(|&b| b == b'\n') {
            Some(i) => i,
            None if self.ended && !unread.is_empty() => unread.len(),
            None => return None,
        };
        let text = &unread[..len];
        let text = text.strip_suffix(b"\r").unwrap_or(text).to_vec();
        self.pos = (self.pos + len + 1).min(self.buf.len());
        self.line_no += 1;
        Some((self.line_no, text))
    }

    async fn read_more(&mut self) -> Result<(), ApiError> {
        // Keep only the unread part, so the buffer holds at most a batch and a line.
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        if self.buf.len() > MAX_LINE_BYTES {
            return Err(ApiError::at(
                Code::PayloadTooLarge,
                format!("line {}", self.line_no + 1),
                format!("a line is longer than {MAX_LINE_BYTES} bytes"),
            ));
        }
        match self.stream.next().await {
            Some(Ok(bytes)) => {
                self.total += bytes.len();
                if self.total > self.limit {
                    return Err(ApiError::at(
                        Code::PayloadTooLarge,
                        "$",
                        format!("the body is larger than {} bytes", self.limit),
                    ));
                }
                self.buf.extend_from_slice(&bytes);
            }
            Some(Err(e)) => return Err(super::extract::body_error(&e)),
            None => self.ended = true,
        }
        Ok(())
    }
}

/// Views as NDJSON lines.
pub(crate) fn to_lines<T: Serialize>(views: &[T]) -> Bytes {
    let mut out = Vec::with_capacity(views.len() * 96);
    for v in views {
        // A view always serialises; were one not to, its line would be left out rather
        // than the answer broken off.
        if serde_json::to_writer(&mut out, v).is_ok() {
            out.push(b'\n');
        }
    }
    Bytes::from(out)
}

/// An error as the last line of a streamed answer.
pub(crate) fn error_line(e: &ApiError) -> Bytes {
    to_lines(&[e.view()])
}

/// A streamed NDJSON answer from what its producer sends.
pub(crate) fn response(rx: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>) -> Response {
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let mut r = Response::new(Body::from_stream(stream));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/x-ndjson"),
    );
    r
}
