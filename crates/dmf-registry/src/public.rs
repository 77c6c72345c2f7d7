//! What of an event the public log shows: which fields of a stored body stay in clear in its
//! leaf, and which are committed (see `dmf_ledger::leaf` for the leaf's layout).
//!
//! Only the fields in [`CLEAR`] stay readable, beside the event type and time: the source kind,
//! verification level, origin, status or correction kind, issuing authority, legal basis and
//! the outcome of a contest decision (upheld or denied); what oversight statistics count. Every
//! other field of the stored event is committed (deny by default: a field added later is
//! committed until it is named here), and `commit.event` covers the whole stored record.

use dmf_ledger::leaf::LeafField;

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

/// A stored body divided into its leaf's fields, in order: the [`dmf_ledger::leaf::Fields`]
/// of the registry's events.
pub fn leaf_fields(body: &[u8]) -> Result<Vec<LeafField<'_>>, &'static str> {
    Ok(fields(body)?
        .into_iter()
        .map(|(name, value)| LeafField {
            name,
            value,
            clear: CLEAR.contains(&name),
        })
        .collect())
}

/// The fields of a flat JSON object as written by the registry's encoder: keys without
/// escapes; values that are strings, arrays of strings or unsigned integers. Values are
/// returned as their raw JSON text.
fn fields(body: &[u8]) -> Result<Vec<(&str, &[u8])>, &'static str> {
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
