//! What an adversarial pass found, each reproduced and shown to fail now: files others could
//! read, names with control characters.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::{dmf, s, stderr};

/// Every folder and file under `dir` with a mode that lets others in, with the mode.
fn exposed(dir: &Path) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            out.push((entry.path().display().to_string(), mode));
        }
        if entry.file_type().unwrap().is_dir() {
            out.extend(exposed(&entry.path()));
        }
    }
    out
}

/// Regression (files readable by everyone): under the usual umask the data folder was 0755
/// and its SQLite files 0644, so every local user could read all personal data, who saw whom
/// and the password hashes. Now the folder is 0700 and every file in it owner-only, and a
/// folder others can read is refused with the fix.
#[test]
fn a_data_folder_and_its_files_are_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = s(&data);
    assert!(dmf(&["init", "--data", d]).status.success());
    let people = dir.path().join("people.csv");
    std::fs::write(
        &people,
        "ssn,first,last,dob\n521234567,Carmen,Stanley,1971-04-30\n",
    )
    .unwrap();
    assert!(dmf(&["import", "--data", d, s(&people)]).status.success());
    let out = dmf(&[
        "keys", "create", "--data", d, "--name", "bank", "--role", "identity",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mode = std::fs::metadata(&data).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    assert_eq!(exposed(&data), Vec::<(String, u32)>::new());
    assert!(data.join("registry.sqlite").exists() && data.join("keys.sqlite").exists());

    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = dmf(&["show", "--data", d, "--ssn", "521234567"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("can be read by other users (mode 755)")
            && stderr(&out).contains(&format!("chmod 700 {d}")),
        "{}",
        stderr(&out)
    );
}
