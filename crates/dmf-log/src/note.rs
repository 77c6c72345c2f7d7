//! C2SP checkpoints (tlog-checkpoint) carried in C2SP signed notes with Ed25519 signatures, and
//! the key text formats of the Go note package.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer};
use sha2::{Digest, Sha256};

use crate::Hex;
use crate::hash::Hash;

/// The signature type byte for Ed25519 in key ids and key texts.
const ALG_ED25519: u8 = 0x01;
/// The type byte of a C2SP tlog-cosignature `cosignature/v1` Ed25519 key.
const ALG_COSIGNATURE_V1: u8 = 0x04;
/// The first line of the message a `cosignature/v1` signs.
const COSIGNATURE_HEADER: &str = "cosignature/v1\n";
/// A bound on the work an attacker-supplied note can cause.
const MAX_SIGNATURES: usize = 100;
/// U+2014 EM DASH and a space open every signature line.
const SIG_PREFIX: &str = "\u{2014} ";
const PRIVATE_PREFIX: &str = "PRIVATE+KEY+";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("malformed note: {reason}")]
    MalformedNote { reason: &'static str },
    #[error("malformed note: more than {MAX_SIGNATURES} signature lines")]
    TooManySignatures,
    #[error("note has no signature by key {name} (key id {key_id})")]
    NoSignature { name: String, key_id: String },
    #[error("signature by key {name} does not verify")]
    BadSignature { name: String },
    #[error("malformed checkpoint line {line}: {reason}")]
    MalformedCheckpoint { line: usize, reason: &'static str },
    #[error(
        "invalid key name {name:?}: it must be non-empty, without spaces, control characters or '+'"
    )]
    InvalidKeyName { name: String },
    #[error("bad key text: {reason}")]
    BadKey { reason: &'static str },
}

/// A C2SP tlog-checkpoint: the log's origin line, tree size, root hash and extension lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// The note body: origin, size, base64 root, then one line per extension, each ending in
    /// a newline. Fields containing newlines or empty extensions give a body that
    /// [`Checkpoint::parse_body`] (and so [`open_checkpoint`]) rejects.
    pub fn body(&self) -> String {
        let mut body = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        );
        for line in &self.extensions {
            body.push_str(line);
            body.push('\n');
        }
        body
    }

    /// Parses a checkpoint body strictly: non-empty origin, decimal size without leading zeros
    /// (except "0"), a 32-byte root in padded standard base64, no empty lines, no control
    /// characters, and a final newline.
    pub fn parse_body(text: &str) -> Result<Checkpoint, NoteError> {
        let bad = |line, reason| NoteError::MalformedCheckpoint { line, reason };
        if text.is_empty() {
            return Err(bad(1, "empty checkpoint"));
        }
        let Some(content) = text.strip_suffix('\n') else {
            return Err(bad(text.split('\n').count(), "missing final newline"));
        };
        for (i, line) in content.split('\n').enumerate() {
            if line.is_empty() {
                return Err(bad(i + 1, "empty line"));
            }
            if line.chars().any(char::is_control) {
                return Err(bad(i + 1, "control character"));
            }
        }
        let mut lines = content.split('\n');
        let origin = lines.next().unwrap_or_default();
        let size = lines.next().ok_or(bad(2, "missing tree size"))?;
        let size = parse_size(size).map_err(|reason| bad(2, reason))?;
        let root = lines.next().ok_or(bad(3, "missing root hash"))?;
        let root = decode_hash(root).ok_or(bad(3, "root must be 32 bytes in standard base64"))?;
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions: lines.map(str::to_owned).collect(),
        })
    }
}

/// A decimal number without leading zeros (except "0"), as every text of the specs writes
/// sizes, indexes and thresholds.
pub(crate) fn parse_size(text: &str) -> Result<u64, &'static str> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err("tree size must be a decimal number");
    }
    if text.len() > 1 && text.starts_with('0') {
        return Err("tree size has a leading zero");
    }
    text.parse()
        .map_err(|_| "tree size does not fit in 64 bits")
}

/// A SHA-256 hash in padded standard base64.
pub(crate) fn decode_hash(text: &str) -> Option<Hash> {
    STANDARD.decode(text).ok()?.try_into().ok()
}

/// The Go note package's rule, plus no control characters.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '+')
}

fn check_name(name: &str) -> Result<(), NoteError> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(NoteError::InvalidKeyName {
            name: name.to_owned(),
        })
    }
}

/// First four bytes of SHA-256(name || "\n" || alg || public key).
fn key_id(name: &str, alg: u8, public: &ed25519_dalek::VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', alg]);
    h.update(public.as_bytes());
    let digest = h.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

fn parse_key_id(text: &str) -> Option<[u8; 4]> {
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(text, 16).ok().map(u32::to_be_bytes)
}

/// Splits "name+keyid+base64" and decodes the 33-byte `alg || key` part.
fn split_key_text(text: &str, alg: u8) -> Result<(&str, [u8; 4], [u8; 32]), NoteError> {
    let bad = |reason| NoteError::BadKey { reason };
    // The base64 part may itself contain '+', so split only twice.
    let (name, rest) = text.split_once('+').ok_or(bad("expected name+keyid+key"))?;
    let (id, key) = rest.split_once('+').ok_or(bad("expected name+keyid+key"))?;
    check_name(name)?;
    let id = parse_key_id(id).ok_or(bad("key id must be 8 hex digits"))?;
    let key = STANDARD
        .decode(key)
        .map_err(|_| bad("key is not standard base64"))?;
    match key.split_first() {
        Some((&found, key)) if found == alg => {
            let key = key
                .try_into()
                .map_err(|_| bad("Ed25519 key must be 32 bytes"))?;
            Ok((name, id, key))
        }
        Some((&ALG_COSIGNATURE_V1, _)) => Err(bad(
            "a witness's cosignature key (type byte 0x04) where a log's key (0x01) is expected",
        )),
        Some((&ALG_ED25519, _)) => Err(bad(
            "a log's signing key (type byte 0x01) where a witness's cosignature key (0x04) is expected",
        )),
        _ if alg == ALG_ED25519 => Err(bad("not an Ed25519 key (type byte 0x01)")),
        _ => Err(bad("not an Ed25519 cosignature key (type byte 0x04)")),
    }
}

/// "name+keyid+base64(alg || key bytes)": a key's text, public or (after the prefix) private.
fn key_text(name: &str, id: &[u8; 4], alg: u8, bytes: &[u8; 32]) -> String {
    let mut key = [0u8; 33];
    key[0] = alg;
    key[1..].copy_from_slice(bytes);
    format!("{name}+{}+{}", Hex(id), STANDARD.encode(key))
}

/// The name, key id and seed of "PRIVATE+KEY+name+keyid+base64(alg || seed)".
fn split_private_text(text: &str, alg: u8) -> Result<(&str, [u8; 4], [u8; 32]), NoteError> {
    let rest = text
        .trim()
        .strip_prefix(PRIVATE_PREFIX)
        .ok_or(NoteError::BadKey {
            reason: "missing PRIVATE+KEY+ prefix",
        })?;
    split_key_text(rest, alg)
}

/// The key made from a parsed seed, refused when the text's key id is not the key's.
fn check_id<K>(key: K, id: [u8; 4], expected: [u8; 4]) -> Result<K, NoteError> {
    if id == expected {
        Ok(key)
    } else {
        Err(NoteError::BadKey {
            reason: "key id does not match the key",
        })
    }
}

/// NUL, the domain, NUL, the message.
fn message_bytes(domain: &str, message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(domain.len() + message.len() + 2);
    out.push(0);
    out.extend_from_slice(domain.as_bytes());
    out.push(0);
    out.extend_from_slice(message);
    out
}

/// A named Ed25519 signing key.
#[derive(Clone)]
pub struct SigningKey {
    key: ed25519_dalek::SigningKey,
    verifier: VerifierKey,
}

impl SigningKey {
    /// `name` must be non-empty, without whitespace, control characters or '+'.
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<SigningKey, NoteError> {
        check_name(name)?;
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let verifier = VerifierKey::new(name, key.verifying_key());
        Ok(SigningKey { key, verifier })
    }

    pub fn name(&self) -> &str {
        &self.verifier.name
    }

    /// "PRIVATE+KEY+name+keyid+base64(0x01 || seed)", as the Go note package writes it.
    pub fn to_text(&self) -> String {
        let v = &self.verifier;
        let text = key_text(&v.name, &v.id, ALG_ED25519, self.key.as_bytes());
        format!("{PRIVATE_PREFIX}{text}")
    }

    /// Parses [`SigningKey::to_text`] output (surrounding whitespace allowed); the key id must
    /// match the key.
    pub fn parse(text: &str) -> Result<SigningKey, NoteError> {
        let (name, id, seed) = split_private_text(text, ALG_ED25519)?;
        let key = SigningKey::from_seed(name, seed)?;
        let expected = key.verifier.id;
        check_id(key, id, expected)
    }

    pub fn verifier(&self) -> VerifierKey {
        self.verifier.clone()
    }

    /// Signs a message other than a note: `domain` (printable, no NUL) names what it is, and the
    /// signed bytes start with a NUL, which no note text holds, so that no such signature can
    /// pass for a checkpoint's.
    pub fn sign_message(&self, domain: &str, message: &[u8]) -> [u8; 64] {
        self.key.sign(&message_bytes(domain, message)).to_bytes()
    }

    /// The signed note: the checkpoint body, a blank line and this key's signature line.
    pub fn sign(&self, checkpoint: &Checkpoint) -> String {
        let body = checkpoint.body();
        let signature = self.key.sign(body.as_bytes());
        let mut blob = [0u8; 68];
        blob[..4].copy_from_slice(&self.verifier.id);
        blob[4..].copy_from_slice(&signature.to_bytes());
        format!(
            "{body}\n{SIG_PREFIX}{} {}\n",
            self.verifier.name,
            STANDARD.encode(blob)
        )
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the seed.
        f.debug_struct("SigningKey")
            .field("name", &self.verifier.name)
            .field("key_id", &Hex(&self.verifier.id))
            .finish_non_exhaustive()
    }
}

/// A named Ed25519 public key that checks note signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    key: ed25519_dalek::VerifyingKey,
    id: [u8; 4],
}

impl VerifierKey {
    fn new(name: &str, key: ed25519_dalek::VerifyingKey) -> VerifierKey {
        VerifierKey {
            name: name.to_owned(),
            id: key_id(name, ALG_ED25519, &key),
            key,
        }
    }

    /// Parses "name+keyid+base64(0x01 || public key)" (surrounding whitespace allowed); the key
    /// id must match the key.
    pub fn parse(text: &str) -> Result<VerifierKey, NoteError> {
        let (name, id, key) = split_key_text(text.trim(), ALG_ED25519)?;
        let verifier = VerifierKey::new(name, public_key(&key)?);
        let expected = verifier.id;
        check_id(verifier, id, expected)
    }

    pub fn to_text(&self) -> String {
        key_text(&self.name, &self.id, ALG_ED25519, self.key.as_bytes())
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Checks a signature made by [`SigningKey::sign_message`].
    pub fn verify_message(&self, domain: &str, message: &[u8], signature: &[u8; 64]) -> bool {
        let signature = Signature::from_bytes(signature);
        self.key
            .verify_strict(&message_bytes(domain, message), &signature)
            .is_ok()
    }

    /// First 4 bytes of SHA-256(name || 0x0A || 0x01 || public key).
    pub fn key_id(&self) -> [u8; 4] {
        self.id
    }
}

/// One signature line of a note: the key's name, its key id and the signature bytes (after
/// the key id), as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureLine {
    pub name: String,
    pub key_id: [u8; 4],
    pub signature: Vec<u8>,
}

impl SignatureLine {
    /// The line as a note carries it, with its final newline.
    pub fn to_line(&self) -> String {
        let mut blob = self.key_id.to_vec();
        blob.extend_from_slice(&self.signature);
        format!("{SIG_PREFIX}{} {}\n", self.name, STANDARD.encode(blob))
    }
}

/// A signed note divided into its body (with its final newline) and its signature lines, in
/// order. Nothing is verified: see [`open_checkpoint`] and [`open_cosignature`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note<'a> {
    pub body: &'a str,
    pub signatures: Vec<SignatureLine>,
}

impl<'a> Note<'a> {
    /// Splits a note, refusing one that is not a well-formed signed note.
    pub fn parse(note: &'a str) -> Result<Note<'a>, NoteError> {
        let malformed = |reason| NoteError::MalformedNote { reason };
        if !note.ends_with('\n') {
            return Err(malformed("missing final newline"));
        }
        if note.chars().any(|c| c.is_control() && c != '\n') {
            return Err(malformed("control character other than newline"));
        }
        // Signature lines never contain a blank line, so the last one ends the body.
        let split = note
            .rfind("\n\n")
            .ok_or(malformed("no blank line before the signatures"))?;
        let body = &note[..split + 1];
        let Some(lines) = note[split + 2..].strip_suffix('\n') else {
            return Err(malformed("no signature lines"));
        };
        let mut signatures = Vec::new();
        for (count, line) in lines.split('\n').enumerate() {
            if count == MAX_SIGNATURES {
                return Err(NoteError::TooManySignatures);
            }
            let (name, key_id, signature) = parse_signature_line(line)?;
            signatures.push(SignatureLine {
                name: name.to_owned(),
                key_id,
                signature,
            });
        }
        Ok(Note { body, signatures })
    }

    /// The one signature by the key of this name and id; two are malformed.
    fn by(&self, name: &str, id: [u8; 4]) -> Result<Option<&SignatureLine>, NoteError> {
        let mut found = self
            .signatures
            .iter()
            .filter(|s| s.name == name && s.key_id == id);
        let first = found.next();
        if found.next().is_some() {
            return Err(NoteError::MalformedNote {
                reason: "two signatures by the same key",
            });
        }
        Ok(first)
    }

    /// The note again: body, blank line, signature lines.
    pub fn to_text(&self) -> String {
        let mut out = format!("{}\n", self.body);
        for s in &self.signatures {
            out.push_str(&s.to_line());
        }
        out
    }
}

/// `note` with the signature lines of `extra` added after its own, each key's line once (a
/// line by a key that already signed is left out). `extra` is a sequence of signature lines,
/// as a witness answers; both must be well formed.
pub fn add_signatures(note: &str, extra: &str) -> Result<String, NoteError> {
    let mut parsed = Note::parse(note)?;
    let Some(lines) = extra.strip_suffix('\n') else {
        return Err(NoteError::MalformedNote {
            reason: "signature lines must end in a newline",
        });
    };
    for line in lines.split('\n') {
        let (name, key_id, signature) = parse_signature_line(line)?;
        if parsed.by(name, key_id)?.is_none() {
            parsed.signatures.push(SignatureLine {
                name: name.to_owned(),
                key_id,
                signature,
            });
        }
        if parsed.signatures.len() > MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
    }
    Ok(parsed.to_text())
}

/// Verifies a signed checkpoint note with one key: it must carry a valid signature line by
/// that key (name and key id match); signature lines by other keys are ignored; the body must
/// parse as a checkpoint.
pub fn open_checkpoint(note: &str, key: &VerifierKey) -> Result<Checkpoint, NoteError> {
    let parsed = Note::parse(note)?;
    let line = parsed
        .by(&key.name, key.id)?
        .ok_or_else(|| NoteError::NoSignature {
            name: key.name.clone(),
            key_id: Hex(&key.id).to_string(),
        })?;
    let bad = || NoteError::BadSignature {
        name: key.name.clone(),
    };
    let signature: [u8; 64] = line.signature.as_slice().try_into().map_err(|_| bad())?;
    key.key
        .verify_strict(parsed.body.as_bytes(), &Signature::from_bytes(&signature))
        .map_err(|_| bad())?;
    Checkpoint::parse_body(parsed.body)
}

/// The 32 bytes as an Ed25519 public key.
fn public_key(bytes: &[u8; 32]) -> Result<ed25519_dalek::VerifyingKey, NoteError> {
    ed25519_dalek::VerifyingKey::from_bytes(bytes).map_err(|_| NoteError::BadKey {
        reason: "not a valid Ed25519 public key",
    })
}

/// The message a `cosignature/v1` signs: the header, the time line and the checkpoint body.
fn cosigned_message(timestamp: u64, body: &str) -> String {
    format!("{COSIGNATURE_HEADER}time {timestamp}\n{body}")
}

/// A witness's key: it cosigns checkpoints as C2SP tlog-cosignature `cosignature/v1` (Ed25519,
/// key type 0x04), a statement that, at the time it gives, this is the largest consistent tree
/// it has seen of that log.
#[derive(Clone)]
pub struct CosignerKey {
    key: ed25519_dalek::SigningKey,
    verifier: CosignerVerifier,
}

impl CosignerKey {
    /// `name` must be non-empty, without whitespace, control characters or '+'.
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<CosignerKey, NoteError> {
        check_name(name)?;
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let verifier = CosignerVerifier::new(name, key.verifying_key());
        Ok(CosignerKey { key, verifier })
    }

    /// "PRIVATE+KEY+name+keyid+base64(0x04 || seed)".
    pub fn to_text(&self) -> String {
        let v = &self.verifier;
        let text = key_text(&v.name, &v.id, ALG_COSIGNATURE_V1, self.key.as_bytes());
        format!("{PRIVATE_PREFIX}{text}")
    }

    /// Parses [`CosignerKey::to_text`] output; the key id must match the key.
    pub fn parse(text: &str) -> Result<CosignerKey, NoteError> {
        let (name, id, seed) = split_private_text(text, ALG_COSIGNATURE_V1)?;
        let key = CosignerKey::from_seed(name, seed)?;
        let expected = key.verifier.id;
        check_id(key, id, expected)
    }

    pub fn name(&self) -> &str {
        &self.verifier.name
    }

    pub fn verifier(&self) -> CosignerVerifier {
        self.verifier.clone()
    }

    /// The cosignature line (with its newline) of `checkpoint` at `timestamp` (POSIX seconds).
    pub fn cosign(&self, checkpoint: &Checkpoint, timestamp: u64) -> String {
        let message = cosigned_message(timestamp, &checkpoint.body());
        let signature = self.key.sign(message.as_bytes());
        let mut sig = timestamp.to_be_bytes().to_vec();
        sig.extend_from_slice(&signature.to_bytes());
        SignatureLine {
            name: self.verifier.name.clone(),
            key_id: self.verifier.id,
            signature: sig,
        }
        .to_line()
    }
}

impl fmt::Debug for CosignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the seed.
        f.debug_struct("CosignerKey")
            .field("name", &self.verifier.name)
            .field("key_id", &Hex(&self.verifier.id))
            .finish_non_exhaustive()
    }
}

/// A witness's public key, which checks its `cosignature/v1` lines; its text is a C2SP vkey of
/// type 0x04.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignerVerifier {
    name: String,
    key: ed25519_dalek::VerifyingKey,
    id: [u8; 4],
}

impl CosignerVerifier {
    fn new(name: &str, key: ed25519_dalek::VerifyingKey) -> CosignerVerifier {
        CosignerVerifier {
            name: name.to_owned(),
            id: key_id(name, ALG_COSIGNATURE_V1, &key),
            key,
        }
    }

    /// Parses "name+keyid+base64(0x04 || public key)"; the key id must match the key.
    pub fn parse(text: &str) -> Result<CosignerVerifier, NoteError> {
        let (name, id, key) = split_key_text(text.trim(), ALG_COSIGNATURE_V1)?;
        let verifier = CosignerVerifier::new(name, public_key(&key)?);
        let expected = verifier.id;
        check_id(verifier, id, expected)
    }

    pub fn to_text(&self) -> String {
        key_text(
            &self.name,
            &self.id,
            ALG_COSIGNATURE_V1,
            self.key.as_bytes(),
        )
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> [u8; 4] {
        self.id
    }

    /// The same public key: two vkeys that differ only in name are one witness (tlog-policy).
    pub fn same_key(&self, other: &CosignerVerifier) -> bool {
        self.key == other.key
    }
}

/// Checks this witness's cosignature on a note: the note must carry one valid `cosignature/v1`
/// line by the key (name and key id match). Gives the cosignature's time (POSIX seconds) and
/// the checkpoint. Other lines are ignored.
pub fn open_cosignature(
    note: &str,
    key: &CosignerVerifier,
) -> Result<(u64, Checkpoint), NoteError> {
    let parsed = Note::parse(note)?;
    let line = parsed
        .by(&key.name, key.id)?
        .ok_or_else(|| NoteError::NoSignature {
            name: key.name.clone(),
            key_id: Hex(&key.id).to_string(),
        })?;
    let bad = || NoteError::BadSignature {
        name: key.name.clone(),
    };
    let (time, signature) = line.signature.split_at_checked(8).ok_or_else(bad)?;
    let timestamp = u64::from_be_bytes(time.try_into().map_err(|_| bad())?);
    let signature: [u8; 64] = signature.try_into().map_err(|_| bad())?;
    if timestamp > i64::MAX as u64 {
        return Err(bad());
    }
    key.key
        .verify_strict(
            cosigned_message(timestamp, parsed.body).as_bytes(),
            &Signature::from_bytes(&signature),
        )
        .map_err(|_| bad())?;
    Ok((timestamp, Checkpoint::parse_body(parsed.body)?))
}

/// "— name base64(keyid || signature)" into its name, key id and signature bytes.
fn parse_signature_line(line: &str) -> Result<(&str, [u8; 4], Vec<u8>), NoteError> {
    let malformed = |reason| NoteError::MalformedNote { reason };
    let rest = line.strip_prefix(SIG_PREFIX).ok_or(malformed(
        "signature line must start with an em dash and a space",
    ))?;
    let (name, blob) = rest.split_once(' ').ok_or(malformed(
        "signature line must be \"\u{2014} name signature\"",
    ))?;
    if !valid_name(name) {
        return Err(malformed("bad key name in signature line"));
    }
    let blob = STANDARD
        .decode(blob)
        .map_err(|_| malformed("signature is not standard base64"))?;
    if blob.len() < 5 {
        return Err(malformed(
            "signature too short for a key id and a signature",
        ));
    }
    let id = [blob[0], blob[1], blob[2], blob[3]];
    Ok((name, id, blob[4..].to_vec()))
}
