//! The log as C2SP tlog-tiles under `/log/`: the checkpoint verifies with the log's key, the
//! hash tiles hold the tree's nodes (the root recomputed from them is the checkpoint's), each
//! entry of an entry bundle hashes to its leaf, and tiles outside the signed size are 404.

use dmf_log::tiles::unbundle;
use dmf_log::{Hash, MemoryTree, leaf_hash, range_hash, root};

use super::Server;

fn get_bytes(s: &Server, path: &str) -> (u16, Vec<u8>, String) {
    let resp = s.agent.get(format!("{}{path}", s.base)).call().unwrap();
    let status = resp.status().as_u16();
    let cache = resp
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = resp.into_body().read_to_vec().unwrap();
    (status, body, cache)
}

fn hashes(bytes: &[u8]) -> Vec<Hash> {
    bytes
        .chunks_exact(32)
        .map(|c| c.try_into().unwrap())
        .collect()
}

#[test]
fn the_log_is_served_as_tiles_that_rebuild_the_signed_root() {
    let s = Server::start();
    // 300 more events: reports for SSNs no one holds (held), in one NDJSON body.
    let lines: Vec<String> = (0..300)
        .map(|i| {
            format!(
                r#"{{"ssn":"5{:08}","first":"Zed","last":"Stranger","dob":"1950-01-01","dod":"2026-11-01","evidence":"tiles {i}"}}"#,
                12_341_000 + i
            )
        })
        .collect();
    let (status, text) = s.post(
        "/v1/reports/death",
        Some("hospital"),
        true,
        &lines.join("\n"),
    );
    assert_eq!(status, 200, "{text}");
    assert!(
        !text.contains("rejected"),
        "{}",
        &text[..text.len().min(400)]
    );

    let (status, note, cache) = get_bytes(&s, "/log/checkpoint");
    assert_eq!((status, cache.as_str()), (200, "no-cache"));
    let key =
        dmf_log::VerifierKey::parse(&std::fs::read_to_string(s.data.join("log/key.pub")).unwrap())
            .unwrap();
    let checkpoint = dmf_log::open_checkpoint(std::str::from_utf8(&note).unwrap(), &key).unwrap();
    let size = checkpoint.size;
    assert!(size > 256 && size < 512, "{size}");

    // The leaves: a full tile and a partial one; each entry hashes to its leaf.
    let (status, full, cache) = get_bytes(&s, "/log/tile/0/000");
    assert_eq!(
        (status, cache.as_str()),
        (200, "public, max-age=31536000, immutable")
    );
    let rest = size - 256;
    let (status, partial, cache) = get_bytes(&s, &format!("/log/tile/0/001.p/{rest}"));
    assert_eq!((status, cache.as_str()), (200, "no-cache"));
    let mut tree = MemoryTree::new();
    for h in hashes(&full).into_iter().chain(hashes(&partial)) {
        tree.push(h);
    }
    assert_eq!(tree.len(), size);
    assert_eq!(root(&tree, size).unwrap(), checkpoint.root);
    for (path, tile) in [
        ("/log/tile/entries/000".to_owned(), &full),
        (format!("/log/tile/entries/001.p/{rest}"), &partial),
    ] {
        let (status, bundle, _) = get_bytes(&s, &path);
        assert_eq!(status, 200, "{path}");
        let entries = unbundle(&bundle).unwrap();
        assert_eq!(entries.len(), tile.len() / 32, "{path}");
        for (e, h) in entries.iter().zip(hashes(tile)) {
            assert_eq!(leaf_hash(e), h, "{path}");
            // A public leaf: JSON, no SSN in clear.
            let text = std::str::from_utf8(e).unwrap();
            assert!(!text.contains("51234"), "{text}");
        }
    }
    // Level 1: its one node is the hash of the first 256 leaves.
    let (status, level1, _) = get_bytes(&s, "/log/tile/1/000.p/1");
    assert_eq!(status, 200);
    assert_eq!(hashes(&level1), [range_hash(&tree, 0, 256).unwrap()]);
    // A narrower partial tile is a prefix, still served; beyond the signed size, nothing.
    let (status, narrow, _) = get_bytes(&s, "/log/tile/0/001.p/1");
    assert_eq!((status, narrow.as_slice()), (200, &partial[..32]));
    for path in [
        format!("/log/tile/0/001.p/{}", rest + 1),
        "/log/tile/0/001".to_owned(),
        "/log/tile/1/000".to_owned(),
        "/log/tile/0/002.p/1".to_owned(),
        "/log/tile/0/0001".to_owned(),
        "/log/tile/0/x000/001".to_owned(),
        "/log/tile/64/000".to_owned(),
    ] {
        assert_eq!(get_bytes(&s, &path).0, 404, "{path}");
    }
}
