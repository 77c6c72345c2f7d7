//! Group commit: many callers' appends gathered into one durable transaction.

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread::JoinHandle;

use crate::{Appended, EventStore, NewEvent, StoreError};

type Reply = Sender<Result<Vec<Appended>, StoreError>>;

/// A single writer thread in front of a store. Callers block until their events are durable;
/// meanwhile other callers' events join the same transaction, so one sync serves many.
#[derive(Debug)]
pub struct GroupCommit {
    requests: Option<SyncSender<(Vec<NewEvent>, Reply)>>,
    writer: Option<JoinHandle<()>>,
}

/// Events gathered into one transaction at most.
const MAX_BATCH: usize = 16_384;

impl GroupCommit {
    pub fn new(store: Arc<dyn EventStore>) -> GroupCommit {
        let (tx, rx) = mpsc::sync_channel(4096);
        let writer = std::thread::Builder::new()
            .name("dmf-store-writer".into())
            .spawn(move || write_loop(store.as_ref(), rx))
            .expect("spawn the store writer");
        GroupCommit {
            requests: Some(tx),
            writer: Some(writer),
        }
    }

    /// Appends `events` in one transaction with whatever else is waiting; returns once durable.
    pub fn append(&self, events: Vec<NewEvent>) -> Result<Vec<Appended>, StoreError> {
        let (reply, answer) = mpsc::channel();
        let requests = self.requests.as_ref().ok_or(StoreError::WriterGone)?;
        requests
            .send((events, reply))
            .map_err(|_| StoreError::WriterGone)?;
        answer.recv().map_err(|_| StoreError::WriterGone)?
    }
}

impl Drop for GroupCommit {
    fn drop(&mut self) {
        drop(self.requests.take());
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

fn write_loop(store: &dyn EventStore, rx: Receiver<(Vec<NewEvent>, Reply)>) {
    while let Ok(first) = rx.recv() {
        let mut pending = vec![first];
        let mut count = pending[0].0.len();
        while count < MAX_BATCH {
            match rx.try_recv() {
                Ok(next) => {
                    count += next.0.len();
                    pending.push(next);
                }
                Err(_) => break,
            }
        }
        let lens: Vec<usize> = pending.iter().map(|(events, _)| events.len()).collect();
        let all: Vec<NewEvent> = pending
            .iter_mut()
            .flat_map(|(events, _)| std::mem::take(events))
            .collect();
        match store.append(&all) {
            Ok(results) => {
                let mut results = results.into_iter();
                for ((_, reply), len) in pending.into_iter().zip(lens) {
                    let mine: Vec<Appended> = results.by_ref().take(len).collect();
                    let _ = reply.send(Ok(mine));
                }
            }
            Err(e) => {
                for (_, reply) in pending {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }
}
