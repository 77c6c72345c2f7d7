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
//! The writer of the events says, through [`Fields`], which fields of a stored body stay
//! readable (what oversight statistics count) and which are committed; the ledger never reads
//! an event's meaning itself. The type and time of every event are in clear. The commitment
//! of field `f` of event `seq` is HMAC-SHA256 under the registry's leaf key of
//! `"dmf-leaf/1" ‖ "field" ‖ seq ‖ f ‖ raw JSON value`, each part length-prefixed, so equal
//! values in different events give unrelated commitments and nobody can link a person's events
//! or brute-force the SSN space. `commit.event` covers the whole stored record (sequence number,
//! type, subject, idempotency key, time and body bytes), so any change to a stored byte changes
//! the leaf. An auditor with the events and the leaf key recomputes every leaf.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use dmf_store::{Seq, StoredEvent};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The version written into every leaf; a change of layout is a new version.
pub const LEAF_VERSION: u32 = 1;

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

    /// The commitment of field `name` of event `seq` whose raw JSON value is `value`, as the
    /// event's leaf holds it under `commit` (in base64): what an auditor holding the key checks
    /// an opening of the field against (a receipt's, say).
    pub fn field_commitment(&self, seq: Seq, name: &str, value: &[u8]) -> [u8; 32] {
        let seq = seq.to_string();
        self.commit(&[DOMAIN, b"field", seq.as_bytes(), name.as_bytes(), value])
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

/// One field of a stored body as its leaf shows it: its raw JSON value in clear, or committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeafField<'a> {
    pub name: &'a str,
    pub value: &'a [u8],
    pub clear: bool,
}

/// How the writer of the events divides a stored body into the fields of its leaf, in the
/// body's order, or says why the body is not one of its events. Field names are lowercase
/// ASCII and underscores; clear values are JSON text, copied into the leaf as they are.
pub type Fields = for<'a> fn(&'a [u8]) -> Result<Vec<LeafField<'a>>, &'static str>;

/// The leaf data of one event, its body divided by `fields`.
pub fn leaf(key: &LeafKey, fields: Fields, e: EventRef<'_>) -> Result<Vec<u8>, LeafError> {
    let fields = fields(e.body).map_err(|reason| LeafError { seq: e.seq, reason })?;
    let mut out = Vec::with_capacity(160 + 60 * fields.len());
    out.extend_from_slice(b"{\"v\":");
    out.extend_from_slice(LEAF_VERSION.to_string().as_bytes());
    out.extend_from_slice(b",\"seq\":");
    out.extend_from_slice(e.seq.to_string().as_bytes());
    out.extend_from_slice(b",\"type\":");
    json_string(e.kind, &mut out);
    out.extend_from_slice(b",\"time\":\"");
    out.extend_from_slice(format_time(e.recorded_at).as_bytes());
    out.push(b'"');
    for f in fields.iter().filter(|f| f.clear) {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(f.name.as_bytes());
        out.extend_from_slice(b"\":");
        out.extend_from_slice(f.value);
    }
    out.extend_from_slice(b",\"commit\":{");
    let seq = e.seq.to_string();
    for f in fields.iter().filter(|f| !f.clear) {
        let c = key.field_commitment(e.seq, f.name, f.value);
        push_commitment(&mut out, f.name, &c);
        out.push(b',');
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

/// Milliseconds since 1970 as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC); a day outside the years
/// 1800-2199 that records hold is written `0000-00-00`.
pub fn format_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    // Days as a 32-bit count, as records hold them.
    let day = civil_day(i64::from(secs.div_euclid(86_400) as i32))
        .filter(|(y, _, _)| (1800..=2199).contains(y))
        .map_or_else(
            || "0000-00-00".to_owned(),
            |(y, m, d)| format!("{y:04}-{m:02}-{d:02}"),
        );
    let s = secs.rem_euclid(86_400);
    format!(
        "{day}T{:02}:{:02}:{:02}.{:03}Z",
        s / 3600,
        s / 60 % 60,
        s % 60,
        ms.rem_euclid(1000)
    )
}

/// Year, month and day of the day `days` after 1970-01-01 (proleptic Gregorian calendar).
fn civil_day(days: i64) -> Option<(i64, u32, u32)> {
    let z = days.checked_add(719_468)?;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    Some((yoe + era * 400 + i64::from(month <= 2), month, day))
}

/// `s` as a JSON string, escaped as the events' encoder escapes.
fn json_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes());
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}
