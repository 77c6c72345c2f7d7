//! The public leaf of each event: what the Merkle log commits to, with every personal field
//! replaced by a keyed commitment.
//!
//! A leaf is one line of canonical JSON (version 1):
//!
//! ```text
//! {"v":1,"seq":7,"type":"status_notice","time":"2026-11-23T10:00:00.000Z",
//!  "kind":"employment_authorization_ended","authority":"DHS","legal_basis":"8 CFR 274a",
//!  "commit":{"ssn":"…","document":"…",…,"event":"…"}}
//! ```
//!
//! Only the fields in [`CLEAR`] stay readable: the event type and time, the source kind,
//! verification level, origin, status or correction kind, issuing authority, legal basis and
//! the outcome of a contest decision (upheld or denied); what oversight statistics count. Every other field of the stored event is committed
//! (deny by default: a field added later is committed until it is named here). The commitment
//! of field `f` of event `seq` is HMAC-SHA256 under the registry's leaf key of
//! `"dmf-leaf/1" ‖ "field" ‖ seq ‖ f ‖ raw JSON value`, each part length-prefixed, so equal
//! values in different events give unrelated commitments and nobody can link a person's events
//! or brute-force the SSN space. `commit.event` covers the whole stored record (sequence number,
//! type, subject, idempotency key, time and body bytes), so any change to a stored byte changes
//! the leaf. An auditor with the events and the leaf key recomputes every leaf.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use dmf_model::Date;
use dmf_store::{Seq, StoredEvent};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The version written into every leaf; a change of layout is a new version.
pub const LEAF_VERSION: u32 = 1;

/// Fields of the stored body that stay in clear in the leaf. `decision` (of a
/// `contest_decision`: `upheld` or `denied`) is here because how often contests succeed is a
/// public statistic, and it says nothing about who contested; who decided, why, and which
/// notice stay committed. `legal_basis` is also that of a `presumed_deceased`, for the same
/// reason; its criterion and who recorded it stay committed.
pub const CLEAR: [&str; 7] = [
    "source",
    "verification",
    "origin",
    "kind",
    "authority",
    "legal_basis",
    "decision",
];

const DOMAIN: &[u8] = b"dmf-leaf/1";

/// The registry's secret for leaf commitments.
#[derive(Clone)]
pub struct LeafKey {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for LeafKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LeafKey(..)")
    }
}

impl LeafKey {
    pub fn new(secret: &[u8; 32]) -> LeafKey {
        LeafKey {
            mac: Hmac::new_from_slice(secret).expect("HMAC takes keys of any length"),
        }
    }

    fn commit(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        for part in parts {
            mac.update(&(part.len() as u32).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }
}

/// A stored event the leaf cannot be made of: its body is not the canonical flat JSON object
/// the registry writes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {seq}: the stored body is not a canonical event ({reason})")]
pub struct LeafError {
    pub seq: Seq,
    pub reason: &'static str,
}

/// The stored record a leaf is made of.
#[derive(Debug, Clone, Copy)]
pub struct EventRef<'a> {
    pub seq: Seq,
    pub kind: &'a str,
    pub subject: Option<u32>,
    pub idempotency_key: Option<&'a str>,
    pub recorded_at: i64,
    pub body: &'a [u8],
}

impl<'a> From<&'a StoredEvent> for EventRef<'a> {
    fn from(e: &'a StoredEvent) -> EventRef<'a> {
        EventRef {
            seq: e.seq,
            kind: &e.kind,
            subject: e.subject,
            idempotency_key: e.idempotency_key.as_deref(),
            recorded_at: e.recorded_at,
            body: &e.body,
        }
    }
}

/// The leaf data of one event.
pub fn leaf(key: &LeafKey, e: EventRef<'_>) -> Result<Vec<u8>, LeafError> {
    let fields = fields(e.body).map_err(|reason| LeafError { seq: e.seq, reason })?;
    let mut out = Vec::with_capacity(160 + 60 * fields.len());
    out.extend_from_slice(b"{\"v\":");
    out.extend_from_slice(LEAF_VERSION.to_string().as_bytes());
    out.extend_from_slice(b",\"seq\":");
    out.extend_from_slice(e.seq.to_string().as_bytes());
    out.extend_from_slice(b",\"type\":");
    dmf_format::convert::json_string(e.kind, &mut out);
    out.extend_from_slice(b",\"time\":\"");
    out.extend_from_slice(format_time(e.recorded_at).as_bytes());
    out.push(b'"');
    for (name, value) in &fields {
        if CLEAR.contains(name) {
            out.extend_from_slice(b",\"");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\":");
            out.extend_from_slice(value);
        }
    }
    out.extend_from_slice(b",\"commit\":{");
    let seq = e.seq.to_string();
    for (name, value) in &fields {
        if !CLEAR.contains(name) {
            let c = key.commit(&[DOMAIN, b"field", seq.as_bytes(), name.as_bytes(), value]);
            push_commitment(&mut out, name, &c);
            out.push(b',');
        }
    }
    let subject = e.subject.map(|s| s.to_string()).unwrap_or_default();
    let time = e.recorded_at.to_string();
    let c = key.commit(&[
        DOMAIN,
        b"event",
        seq.as_bytes(),
        e.kind.as_bytes(),
        subject.as_bytes(),
        e.idempotency_key.unwrap_or("").as_bytes(),
        &[u8::from(e.idempotency_key.is_some())],
        time.as_bytes(),
        e.body,
    ]);
    push_commitment(&mut out, "event", &c);
    out.extend_from_slice(b"}}");
    Ok(out)
}

fn push_commitment(out: &mut Vec<u8>, name: &str, c: &[u8; 32]) {
    out.push(b'"');
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":\"");
    let start = out.len();
    out.resize(start + 44, 0);
    BASE64
        .encode_slice(c, &mut out[start..])
        .expect("44 bytes hold 32 in base64");
    out.push(b'"');
}

/// Milliseconds since 1970 as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC).
pub fn format_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let day = Date::from_days_since_epoch(secs.div_euclid(86_400) as i32)
        .map_or_else(|| "0000-00-00".to_owned(), |d| d.to_string());
    let s = secs.rem_euclid(86_400);
    format!(
        "{day}T{:02}:{:02}:{:02}.{:03}Z",
        s / 3600,
        s / 60 % 60,
        s % 60,
        ms.rem_euclid(1000)
    )
}

/// The fields of a flat JSON object as written by the registry's encoder: keys without
/// escapes; values that are strings, arrays of strings or unsigned integers. Values are
/// returned as their raw JSON text.
pub(crate) fn fields(body: &[u8]) -> Result<Vec<(&str, &[u8])>, &'static str> {
    let mut out = Vec::with_capacity(12);
    let mut i = 0;
    let expect = |i: usize, b: u8| body.get(i) == Some(&b);
    if !expect(0, b'{') {
        return Err("it does not start with '{'");
    }
    // Clear values are copied into the leaf as they are: bytes that are not UTF-8 would make
    // the leaf something other than JSON text.
    if std::str::from_utf8(body).is_err() {
        return Err("it is not UTF-8");
    }
    i += 1;
    if expect(i, b'}') {
        return if i + 1 == body.len() {
            Ok(out)
        } else {
            Err("bytes after the object")
        };
    }
    loop {
        if !expect(i, b'"') {
            return Err("a key is not a string");
        }
        let key_start = i + 1;
        let key_end = key_start
            + body[key_start..]
                .iter()
                .position(|&b| b == b'"')
                .ok_or("a key is not closed")?;
        let key =
            std::str::from_utf8(&body[key_start..key_end]).map_err(|_| "a key is not UTF-8")?;
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            return Err("a key is not a field name");
        }
        i = key_end + 1;
        if !expect(i, b':') {
            return Err("a key is not followed by ':'");
        }
        i += 1;
        let value_start = i;
        i = match body.get(i) {
            Some(b'"') => string_end(body, i)?,
            Some(b'[') => {
                let mut j = i + 1;
                if expect(j, b']') {
                    j + 1
                } else {
                    loop {
                        if !expect(j, b'"') {
                            return Err("an array holds something other than strings");
                        }
                        j = string_end(body, j)?;
                        match body.get(j) {
                            Some(b',') => j += 1,
                            Some(b']') => break j + 1,
                            _ => return Err("an array is not closed"),
                        }
                    }
                }
            }
            Some(b'0'..=b'9') => {
                let digits = body[i..].iter().take_while(|b| b.is_ascii_digit()).count();
                if body[i] == b'0' && digits > 1 {
                    return Err("a number has a leading zero");
                }
                i + digits
            }
            _ => return Err("a value is not a string, array or number"),
        };
        if out.iter().any(|&(k, _)| k == key) {
            return Err("a key appears twice");
        }
        out.push((key, &body[value_start..i]));
        match body.get(i) {
            Some(b',') => i += 1,
            Some(b'}') if i + 1 == body.len() => return Ok(out),
            Some(b'}') => return Err("bytes after the object"),
            _ => return Err("a value is not followed by ',' or '}'"),
        }
    }
}

/// The index just past the JSON string starting at `start` (which holds `"`). Rejects raw
/// control characters, as a canonical encoder escapes them, and escapes JSON does not have
/// (a clear value with one, such as `"\s"`, would make the leaf invalid JSON).
fn string_end(body: &[u8], start: usize) -> Result<usize, &'static str> {
    let mut j = start + 1;
    loop {
        match body.get(j) {
            None => return Err("a string is not closed"),
            Some(b'"') => return Ok(j + 1),
            Some(b'\\') => match body.get(j + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => j += 2,
                Some(b'u')
                    if body
                        .get(j + 2..j + 6)
                        .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) =>
                {
                    j += 6
                }
                _ => return Err("a string holds an escape that JSON does not have"),
            },
            Some(&b) if b < 0x20 => return Err("a string holds a control character"),
            Some(_) => j += 1,
        }
    }
}
