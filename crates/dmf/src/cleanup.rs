//! What a command makes on disk, removed again if it fails: a failed `dmf serve --demo` or
//! `dmf restore` leaves nothing behind, so the same command can simply be run again, and never
//! touches what the user had.

use std::path::{Path, PathBuf};

/// A folder a command is about to fill, cleaned up when dropped unless [`Made::keep`] was
/// called: a folder that did not exist is removed with every missing folder on the way to it;
/// one that existed (empty: the command's caller made sure) is emptied again and stays.
#[derive(Debug)]
pub struct Made {
    dir: PathBuf,
    /// The outermost folder made on the way, removed whole; `None` when `dir` existed.
    top: Option<PathBuf>,
    kept: bool,
}

impl Made {
    /// Before anything is made in `dir`, which must be missing or empty.
    pub fn new(dir: &Path) -> Made {
        Made {
            dir: dir.to_owned(),
            top: (!dir.exists()).then(|| outermost_missing(dir)),
            kept: false,
        }
    }

    /// The command succeeded: what it made stays.
    pub fn keep(&mut self) {
        self.kept = true;
    }
}

impl Drop for Made {
    fn drop(&mut self) {
        if self.kept {
            return;
        }
        match &self.top {
            Some(top) => {
                let _ = std::fs::remove_dir_all(top);
            }
            None => {
                for entry in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
                    let path = entry.path();
                    let _ = if entry.file_type().is_ok_and(|t| t.is_dir()) {
                        std::fs::remove_dir_all(&path)
                    } else {
                        std::fs::remove_file(&path)
                    };
                }
            }
        }
    }
}

/// The outermost folder on the way to `dir` that does not exist: what making `dir` makes.
fn outermost_missing(dir: &Path) -> PathBuf {
    let mut top = dir;
    while let Some(parent) = top.parent() {
        if parent.as_os_str().is_empty() || parent.exists() {
            break;
        }
        top = parent;
    }
    top.to_owned()
}
