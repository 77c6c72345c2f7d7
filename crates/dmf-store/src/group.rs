//! Group commit: many callers' appends gathered into one durable transaction.
//!
//! The writer takes every waiting request under one lock (not one channel receive each), and
//! answers each caller through a slot the caller parks on (not a channel allocated per call):
//! with hundreds of single-event callers, the handoffs between threads cost as much CPU as
//! SQLite's work on the group.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::{JoinHandle, Thread};

use crate::{Appended, EventStore, NewEvent, StoreError};

type Answer = Result<Vec<Appended>, StoreError>;

/// A single writer thread in front of a store. Callers block until their events are durable;
/// meanwhile other callers' events join the same transaction, so one sync serves many.
#[derive(Debug)]
pub struct GroupCommit {
    queue: Arc<Queue>,
    writer: Option<JoinHandle<()>>,
}

/// Events gathered into one transaction at most.
const MAX_BATCH: usize = 16_384;

/// Requests waiting at most; a caller beyond waits for room.
const MAX_WAITING: usize = 4_096;

#[derive(Debug, Default)]
struct Queue {
    state: Mutex<Waiting>,
    /// The writer waits here for requests.
    arrived: Condvar,
    /// Callers wait here for room.
    room: Condvar,
}

#[derive(Debug, Default)]
struct Waiting {
    requests: Vec<Request>,
    /// The writer sleeps on `arrived`: only then does a caller pay for waking it.
    writer_asleep: bool,
    /// No more requests are taken: the group commit is being dropped.
    closed: bool,
}

#[derive(Debug)]
struct Request {
    events: Vec<NewEvent>,
    reply: Reply,
}

/// Where one caller's answer is left: the caller parks until `done`.
#[derive(Debug)]
struct Slot {
    caller: Thread,
    done: AtomicBool,
    answer: Mutex<Option<Answer>>,
}

/// The writer's end of a slot. Dropped unanswered (the writer panicked), it answers
/// [`StoreError::WriterGone`], so no caller waits forever.
#[derive(Debug)]
struct Reply(Option<Arc<Slot>>);

impl Reply {
    fn send(mut self, answer: Answer) {
        if let Some(slot) = self.0.take() {
            *slot.answer.lock().unwrap_or_else(PoisonError::into_inner) = Some(answer);
            slot.done.store(true, Ordering::Release);
            slot.caller.unpark();
        }
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        if self.0.is_some() {
            Reply(self.0.take()).send(Err(StoreError::WriterGone));
        }
    }
}

impl GroupCommit {
    pub fn new(store: Arc<dyn EventStore>) -> GroupCommit {
        let queue = Arc::new(Queue::default());
        let writing = queue.clone();
        let writer = std::thread::Builder::new()
            .name("dmf-store-writer".into())
            .spawn(move || {
                let _closing = Closing(&writing);
                write_loop(store.as_ref(), &writing);
            })
            .expect("spawn the store writer");
        GroupCommit {
            queue,
            writer: Some(writer),
        }
    }

    /// Appends `events` in one transaction with whatever else is waiting; returns once durable.
    pub fn append(&self, events: Vec<NewEvent>) -> Result<Vec<Appended>, StoreError> {
        let slot = Arc::new(Slot {
            caller: std::thread::current(),
            done: AtomicBool::new(false),
            answer: Mutex::new(None),
        });
        {
            let mut waiting = self.queue.lock();
            while waiting.requests.len() >= MAX_WAITING && !waiting.closed {
                waiting = self
                    .queue
                    .room
                    .wait(waiting)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            if waiting.closed {
                return Err(StoreError::WriterGone);
            }
            waiting.requests.push(Request {
                events,
                reply: Reply(Some(slot.clone())),
            });
            if waiting.writer_asleep {
                waiting.writer_asleep = false;
                self.queue.arrived.notify_one();
            }
        }
        // `park` may return early; `done` says when the answer is there.
        while !slot.done.load(Ordering::Acquire) {
            std::thread::park();
        }
        let answer = slot
            .answer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        answer.unwrap_or(Err(StoreError::WriterGone))
    }
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, Waiting> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for requests and takes the oldest ones, up to [`MAX_BATCH`] events (at least one
    /// request, however large); `None` once closed and drained.
    fn take(&self, into: &mut Vec<Request>) -> Option<()> {
        let mut waiting = self.lock();
        while waiting.requests.is_empty() {
            if waiting.closed {
                return None;
            }
            waiting.writer_asleep = true;
            waiting = self
                .arrived
                .wait(waiting)
                .unwrap_or_else(PoisonError::into_inner);
        }
        let mut count = 0;
        let fit = waiting
            .requests
            .iter()
            .position(|r| {
                count += r.events.len();
                count > MAX_BATCH
            })
            .unwrap_or(waiting.requests.len())
            .max(1);
        if fit == waiting.requests.len() {
            std::mem::swap(into, &mut waiting.requests);
        } else {
            into.extend(waiting.requests.drain(..fit));
        }
        self.room.notify_all();
        Some(())
    }
}

impl Drop for GroupCommit {
    fn drop(&mut self) {
        {
            let mut waiting = self.queue.lock();
            waiting.closed = true;
            self.queue.arrived.notify_one();
            self.queue.room.notify_all();
        }
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// Closes the queue when the writer stops, even by a panic: the requests left are answered
/// [`StoreError::WriterGone`] (by their replies' drop), and so is every later one.
struct Closing<'a>(&'a Queue);

impl Drop for Closing<'_> {
    fn drop(&mut self) {
        let left = {
            let mut waiting = self.0.lock();
            waiting.closed = true;
            self.0.room.notify_all();
            std::mem::take(&mut waiting.requests)
        };
        drop(left);
    }
}

fn write_loop(store: &dyn EventStore, queue: &Queue) {
    let mut pending = Vec::new();
    let mut all = Vec::new();
    let mut lens = Vec::new();
    while queue.take(&mut pending).is_some() {
        lens.clear();
        all.clear();
        for request in &mut pending {
            lens.push(request.events.len());
            all.append(&mut request.events);
        }
        match store.append(&all) {
            Ok(results) => {
                let mut results = results.into_iter();
                for (request, &len) in pending.drain(..).zip(&lens) {
                    request.reply.send(Ok(results.by_ref().take(len).collect()));
                }
            }
            Err(e) => {
                for request in pending.drain(..) {
                    request.reply.send(Err(e.clone()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;
    use crate::conformance::event;
    use crate::{Seq, StoredEvent};

    /// A store whose first append waits for the test's word, so requests pile up behind it;
    /// it records each group's size, and fails or panics on request.
    struct Gate {
        entered: Mutex<mpsc::Sender<()>>,
        release: Mutex<mpsc::Receiver<()>>,
        groups: Mutex<Vec<usize>>,
        then: Then,
    }

    impl Gate {
        /// A gate, the test's end of its `entered` signal and the sender that opens it.
        fn new(then: Then) -> (Arc<Gate>, mpsc::Receiver<()>, mpsc::Sender<()>) {
            let (entered, on_entry) = mpsc::channel();
            let (open, release) = mpsc::channel();
            let gate = Arc::new(Gate {
                entered: Mutex::new(entered),
                release: Mutex::new(release),
                groups: Mutex::new(Vec::new()),
                then,
            });
            (gate, on_entry, open)
        }
    }

    #[derive(Clone, Copy)]
    enum Then {
        Store,
        Fail,
        Panic,
    }

    impl EventStore for Gate {
        fn append(&self, events: &[NewEvent]) -> Result<Vec<Appended>, StoreError> {
            let first = {
                let mut groups = self.groups.lock().unwrap();
                groups.push(events.len());
                groups.len() == 1
            };
            if first {
                self.entered.lock().unwrap().send(()).unwrap();
                self.release.lock().unwrap().recv().unwrap();
            } else {
                match self.then {
                    Then::Store => {}
                    Then::Fail => return Err(StoreError::Backend("disk on fire".into())),
                    Then::Panic => panic!("the store broke"),
                }
            }
            Ok((1..=events.len() as Seq).map(Appended::New).collect())
        }
        fn read_after(&self, _: Seq, _: usize) -> Result<Vec<StoredEvent>, StoreError> {
            Ok(Vec::new())
        }
        fn read_subject(&self, _: u32) -> Result<Vec<StoredEvent>, StoreError> {
            Ok(Vec::new())
        }
        fn head(&self) -> Result<Seq, StoreError> {
            Ok(0)
        }
        fn seq_of_key(&self, _: &str) -> Result<Option<Seq>, StoreError> {
            Ok(None)
        }
    }

    fn events(n: usize) -> Vec<NewEvent> {
        vec![event("g", None, None); n]
    }

    /// Holds the writer in a first append, queues one request per size in `sizes` (each from
    /// its own thread), lets the writer go on, and returns the groups the store saw after the
    /// first and every caller's answer, in the order of `sizes`.
    fn behind_a_gate(then: Then, sizes: &[usize]) -> (Vec<usize>, Vec<Answer>) {
        let (gate, on_entry, open) = Gate::new(then);
        let group = Arc::new(GroupCommit::new(gate.clone()));
        let first = {
            let group = group.clone();
            std::thread::spawn(move || group.append(events(1)))
        };
        on_entry.recv().unwrap();
        let mut callers = Vec::new();
        for (i, &n) in sizes.iter().enumerate() {
            let group2 = group.clone();
            callers.push(std::thread::spawn(move || group2.append(events(n))));
            // Queued in this order: wait until this caller's request is in.
            while group.queue.lock().requests.len() <= i {
                std::thread::yield_now();
            }
        }
        open.send(()).unwrap();
        first.join().unwrap().unwrap();
        let answers = callers.into_iter().map(|c| c.join().unwrap()).collect();
        drop(group);
        let groups = gate.groups.lock().unwrap()[1..].to_vec();
        (groups, answers)
    }

    #[test]
    fn waiting_requests_are_gathered_up_to_the_batch_limit() {
        let cases: [(&[usize], &[usize]); 5] = [
            (&[1, 1, 1, 1, 1], &[5]),
            (&[10_000, 10_000], &[10_000, 10_000]),
            (&[20_000], &[20_000]),
            (&[16_000, 384, 1], &[16_384, 1]),
            (&[3, 16_384, 2], &[3, 16_384, 2]),
        ];
        for (sizes, want) in cases {
            let (groups, answers) = behind_a_gate(Then::Store, sizes);
            assert_eq!(groups, want, "groups of {sizes:?}");
            for (&n, answer) in sizes.iter().zip(answers) {
                assert_eq!(answer.unwrap().len(), n, "answers of {sizes:?}");
            }
        }
    }

    #[test]
    fn a_failed_group_gives_its_error_to_every_caller_in_it() {
        let (groups, answers) = behind_a_gate(Then::Fail, &[1, 3, 1, 2]);
        assert_eq!(groups, [7]);
        for answer in answers {
            assert_eq!(answer, Err(StoreError::Backend("disk on fire".into())));
        }
    }

    #[test]
    fn a_writer_that_panics_answers_writer_gone_to_every_caller_then_and_later() {
        let (gate, on_entry, open) = Gate::new(Then::Panic);
        open.send(()).unwrap();
        let group = GroupCommit::new(gate);
        assert_eq!(group.append(events(1)).unwrap().len(), 1);
        on_entry.recv().unwrap();
        assert_eq!(group.append(events(2)), Err(StoreError::WriterGone));
        assert_eq!(group.append(events(1)), Err(StoreError::WriterGone));
    }
}
