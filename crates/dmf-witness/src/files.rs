//! The files a witness and the registry's witness list keep: replaced whole and durably, and
//! secrets owner-only.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Replaces `path` with `bytes` so that a crash leaves the old file or the new one, never a
/// mix: a temporary file beside it, synced, renamed over it, and the folder synced so that
/// the rename itself survives a power cut.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let mut file = File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&tmp, path)?;
    File::open(dir)?.sync_all()
}

/// Writes a new owner-only file; fails if it exists.
pub(crate) fn write_secret(path: &Path, text: &str) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// A secret file's text, or `Err(Ok(mode))` when others may read it.
pub(crate) fn read_secret(path: &Path) -> io::Result<Result<String, u32>> {
    let mode = fs::metadata(path)?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Ok(Err(mode));
    }
    fs::read_to_string(path).map(Ok)
}
