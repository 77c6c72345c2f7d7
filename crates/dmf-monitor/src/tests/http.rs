//! A static HTTP/1.1 server on 127.0.0.1 for the monitor's tests: a map of paths to bodies,
//! changed while it serves, each connection on a thread of its own, kept alive.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use dmf_log::tiles::{self, TileKind};
use dmf_log::{Checkpoint, MemoryTree, SigningKey, leaf_hash, root};

/// What a server answers: a body per path; any other path is a 404.
pub type Files = Arc<Mutex<HashMap<String, Vec<u8>>>>;

pub struct Server {
    pub url: String,
    pub files: Files,
}

impl Server {
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let files: Files = Arc::default();
        let shared = files.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let files = shared.clone();
                std::thread::spawn(move || answer(stream, &files));
            }
        });
        Server { url, files }
    }

    pub fn put(&self, path: &str, body: Vec<u8>) {
        self.files.lock().unwrap().insert(path.to_owned(), body);
    }

    /// Publishes the first `size` of `leaves` as tlog-tiles entry bundles with a checkpoint
    /// signed by `key`: what a registry serves at that size. Gives the note.
    pub fn publish(&self, key: &SigningKey, leaves: &[Vec<u8>], size: u64) -> String {
        let note = key.sign(&checkpoint(key, leaves, size));
        self.put("/log/checkpoint", note.clone().into_bytes());
        for k in 0..size.div_ceil(tiles::TILE_WIDTH) {
            let tile = tiles::tile_at(TileKind::Entries, k, size).unwrap();
            let first = (k * tiles::TILE_WIDTH) as usize;
            let entries = &leaves[first..first + tile.width() as usize];
            let bundle = tiles::bundle(entries.iter().map(Vec::as_slice)).unwrap();
            self.put(&format!("/log/{tile}"), bundle);
        }
        note
    }
}

/// The checkpoint of the first `size` leaves, of the log named as `key` is.
pub fn checkpoint(key: &SigningKey, leaves: &[Vec<u8>], size: u64) -> Checkpoint {
    let tree: MemoryTree = leaves[..size as usize]
        .iter()
        .map(|l| leaf_hash(l))
        .collect();
    Checkpoint {
        origin: key.name().to_owned(),
        size,
        root: root(&tree, size).unwrap(),
        extensions: Vec::new(),
    }
}

fn answer(stream: TcpStream, files: &Files) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    loop {
        let mut request = String::new();
        if reader.read_line(&mut request).unwrap_or(0) == 0 {
            return;
        }
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            if header == "\r\n" {
                break;
            }
        }
        let path = request.split(' ').nth(1).unwrap_or("").to_owned();
        let body = files.lock().unwrap().get(&path).cloned();
        let (status, body) = match body {
            Some(b) => ("200 OK", b),
            None => ("404 Not Found", b"not found\n".to_vec()),
        };
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\n\r\n",
            body.len()
        );
        if stream.write_all(head.as_bytes()).is_err() || stream.write_all(&body).is_err() {
            return;
        }
    }
}
