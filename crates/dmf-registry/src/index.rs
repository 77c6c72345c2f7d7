//! The answer index: everyone's current state, in memory, found by SSN, kept current by
//! applying each event through the intake rules ([`PersonState::apply`]) and merging each
//! durable batch the writer checked; the set of SSNs with work for the caseworkers; and, where
//! asked for ([`Index::index_names`]), the people by name and date of birth, kept in step with
//! every change of identity here, where every state changes.

use std::collections::{BTreeSet, HashMap};

use hashbrown::HashTable;

use dmf_match::NameIndex;
use dmf_model::{Seq, Ssn};

use crate::event::Event;
use crate::identity::Identity;
use crate::state::{Outcome, PersonState};

/// Current state of every SSN with any event.
///
/// States sit in one dense array, with the SSNs in a parallel one, and are found through a
/// table of 4-byte positions hashed by SSN: about 40 + 4 + 5 to 9 bytes a person, where a map
/// of SSN to state cost about 200 at national size and needed twice that while it grew.
#[derive(Default)]
pub struct Index {
    ssns: Vec<u32>,
    states: Vec<PersonState>,
    /// Positions in `ssns` and `states`.
    slots: HashTable<u32>,
    /// The last event applied.
    pub head: Seq,
    /// How many times a name or date of birth on file changed: what is prepared from them
    /// (for matching) stays good while this stays the same.
    identity_changes: u64,
    /// SSNs with a report or notice held for its identity and not yet decided, or an identity
    /// change waiting for its second person: the caseworkers' queue, without a scan of everyone.
    open_work: BTreeSet<u32>,
    /// Positions by last name and date of birth, for the console's search; `None` until asked
    /// for, since only a server searches and the index's other users need not pay for it.
    names: Option<Box<NameIndex>>,
    /// While a name index is built away from the lock ([`Index::name_source`]): the positions
    /// whose identity changed since the copy, refiled when it is installed.
    name_journal: Option<Vec<u32>>,
}

/// The people a name index files, copied out of the index so that it is built without holding
/// the index's lock (at national size that takes tens of seconds); see [`Index::install_names`].
#[derive(Debug)]
pub struct NameSource {
    /// Last name and date of birth by position, as copied.
    filed: Vec<Option<(crate::names::LastKey, Option<dmf_model::PartialDate>)>>,
}

impl NameSource {
    /// The name index of the people copied.
    pub fn build(&self) -> NameIndex {
        let mut names = NameIndex::new();
        for (at, filed) in self.filed.iter().enumerate() {
            if let Some((last, dob)) = filed {
                names.insert(at as u32, last.as_str(), *dob);
            }
        }
        names
    }
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("people", &self.states.len())
            .field("head", &self.head)
            .field("identity_changes", &self.identity_changes)
            .finish()
    }
}

/// The SSN's hash: a full-avalanche mix (SSNs are dense in places, and the table reads the top
/// bits). Keys are numbers the registry accepted, so no secret seed is needed against flooding.
fn hash(ssn: u32) -> u64 {
    let mut h = u64::from(ssn) ^ 0x9e37_79b9_7f4a_7c15;
    h = (h ^ (h >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
    h = (h ^ (h >> 33)).wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// Positions with their SSNs in the order of the slots a table of `capacity` probes first for
/// them, by the top 16 bits of that slot (a counting sort). Filling a table of a billion bytes
/// in SSN order touches it at random, a cache and a TLB miss an insert; in this order the
/// inserts walk it from start to end (the SSN travels with its position, so that the column of
/// SSNs is not read at random either).
fn home_order(ssns: &[u32], capacity: usize) -> Vec<(u32, u32)> {
    // The table's slots are a power of two above its capacity (7/8 of them); the first slot
    // probed is the hash's low bits (hashbrown's `h1`).
    let slots = capacity.max(1).next_power_of_two() as u64;
    let shift = slots.trailing_zeros().saturating_sub(16);
    let group = |ssn: u32| ((hash(ssn) & (slots - 1)) >> shift) as usize;
    let mut starts = vec![0u32; (1 << 16) + 1];
    for &ssn in ssns {
        starts[group(ssn) + 1] += 1;
    }
    for g in 1..starts.len() {
        starts[g] += starts[g - 1];
    }
    let mut order = vec![(0u32, 0u32); ssns.len()];
    for (at, &ssn) in ssns.iter().enumerate() {
        let next = &mut starts[group(ssn)];
        order[*next as usize] = (at as u32, ssn);
        *next += 1;
    }
    order
}

impl Index {
    fn position(&self, ssn: u32) -> Option<usize> {
        self.slots
            .find(hash(ssn), |&p| self.ssns[p as usize] == ssn)
            .map(|&p| p as usize)
    }

    /// Where the state of `ssn` is, a new empty one if it has none yet, and whether it was
    /// made new here.
    fn entry(&mut self, ssn: u32) -> (usize, bool) {
        if let Some(at) = self.position(ssn) {
            return (at, false);
        }
        let at = self.states.len();
        let p = u32::try_from(at).expect("fewer than 4 billion people");
        self.states.push(PersonState::default());
        self.ssns.push(ssn);
        let ssns = &self.ssns;
        self.slots
            .insert_unique(hash(ssn), p, |&q| hash(ssns[q as usize]));
        (at, true)
    }

    /// Applies an event to the state at `at`, counting a change of name or date of birth.
    fn apply_at(&mut self, at: usize, seq: Seq, event: &Event) -> Outcome {
        let state = &mut self.states[at];
        let before = state.identity;
        let outcome = state.apply(seq, event);
        let after = state.identity;
        let open = state.has_open_work();
        if after != before {
            self.identity_changes += 1;
            self.refile(at, before.as_ref(), after.as_ref());
        }
        self.mark_work(self.ssns[at], open);
        outcome
    }

    /// Files the person at `at` anew in the name index after a change of identity.
    fn refile(&mut self, at: usize, before: Option<&Identity>, after: Option<&Identity>) {
        let Some(names) = self.names.as_mut() else {
            if let Some(journal) = self.name_journal.as_mut() {
                journal.push(at as u32);
            }
            return;
        };
        let at = at as u32;
        if let Some(id) = before {
            names.remove(at, id.last.as_str(), id.dob);
        }
        if let Some(id) = after {
            names.insert(at, id.last.as_str(), id.dob);
        }
    }

    /// Files everyone by name and date of birth, and from now on each change of identity as it
    /// is applied: the index a search reads, never behind the states it finds.
    pub fn index_names(&mut self) {
        let mut names = NameIndex::new();
        for (at, state) in self.states.iter().enumerate() {
            if let Some(id) = &state.identity {
                names.insert(at as u32, id.last.as_str(), id.dob);
            }
        }
        self.names = Some(Box::new(names));
    }

    /// A copy of what the name index files, for [`NameSource::build`] away from the lock; from
    /// now until [`Index::install_names`], every change of identity is noted.
    pub fn name_source(&mut self) -> NameSource {
        self.note_identity_changes();
        self.name_copy()
    }

    /// From now until [`Index::install_names`], notes every change of identity (taken under the
    /// writers' lock, before [`Index::name_copy`] under the readers'; a change in between is
    /// noted and refiled from the copy all the same).
    pub fn note_identity_changes(&mut self) {
        self.name_journal.get_or_insert_with(Vec::new);
    }

    /// What the name index files, as it stands.
    pub fn name_copy(&self) -> NameSource {
        NameSource {
            filed: self
                .states
                .iter()
                .map(|s| s.identity.map(|id| (id.last, id.dob)))
                .collect(),
        }
    }

    /// Installs the name index built from `source`, refiling everyone whose identity changed
    /// since the copy: from then on it is kept in step as [`Index::index_names`]'s is.
    pub fn install_names(&mut self, mut names: NameIndex, source: NameSource) {
        let mut changed = self.name_journal.take().unwrap_or_default();
        changed.sort_unstable();
        changed.dedup();
        for at in changed {
            if let Some(Some((last, dob))) = source.filed.get(at as usize) {
                names.remove(at, last.as_str(), *dob);
            }
            if let Some(id) = &self.states[at as usize].identity {
                names.insert(at, id.last.as_str(), id.dob);
            }
        }
        self.names = Some(Box::new(names));
    }

    /// The name index, if [`Index::index_names`] was called.
    pub fn names(&self) -> Option<&NameIndex> {
        self.names.as_deref()
    }

    /// The SSN and state at a position the name index gave.
    pub fn at(&self, position: u32) -> Option<(u32, &PersonState)> {
        let at = position as usize;
        Some((*self.ssns.get(at)?, self.states.get(at)?))
    }

    fn mark_work(&mut self, ssn: u32, open: bool) {
        if open {
            self.open_work.insert(ssn);
        } else if !self.open_work.is_empty() {
            self.open_work.remove(&ssn);
        }
    }

    /// Everyone with work waiting for caseworkers (see [`PersonState::has_open_work`]), in SSN
    /// order.
    pub fn open_work(&self) -> impl Iterator<Item = (u32, &PersonState)> {
        self.open_work.iter().filter_map(|&ssn| {
            let at = self.position(ssn)?;
            Some((ssn, &self.states[at]))
        })
    }

    pub fn get(&self, ssn: Ssn) -> Option<&PersonState> {
        self.position(ssn.as_u32()).map(|at| &self.states[at])
    }

    pub fn len(&self) -> usize {
        self.states.len()
    }

    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// Applies one event (replay, or after a durable append).
    pub fn apply(&mut self, seq: Seq, event: &Event) -> Outcome {
        self.head = seq;
        let (at, _) = self.entry(event.ssn().as_u32());
        self.apply_at(at, seq, event)
    }

    /// Changes of a name or date of birth on file so far (see the field).
    pub fn identity_changes(&self) -> u64 {
        self.identity_changes
    }

    /// Applies an event only to a state already held: an index that holds some SSNs (read as
    /// needed) follows events appended by others without inventing states it never read.
    pub fn apply_if_known(&mut self, seq: Seq, event: &Event) {
        self.head = seq;
        if let Some(at) = self.position(event.ssn().as_u32()) {
            self.apply_at(at, seq, event);
        }
    }

    /// Replaces the states of the SSNs a committed batch touched.
    pub fn merge(&mut self, states: &mut HashMap<u32, PersonState>, head: Seq) {
        for (ssn, state) in states.drain() {
            let (at, new) = self.entry(ssn);
            let open = state.has_open_work();
            let slot = &mut self.states[at];
            self.identity_changes += u64::from(new || slot.identity != state.identity);
            let (before, after) = (slot.identity, state.identity);
            *slot = state;
            if before != after {
                self.refile(at, before.as_ref(), after.as_ref());
            }
            self.mark_work(ssn, open);
        }
        self.head = head;
    }

    /// The SSNs and the states at each position (what a snapshot writes).
    pub(crate) fn parts(&self) -> (&[u32], &[PersonState]) {
        (&self.ssns, &self.states)
    }

    /// An index of these SSNs and states, position for position (a snapshot read back), with
    /// its last event and count of identity changes; the caseworkers' queue is worked out from
    /// the states. Names are not indexed (see [`Index::index_names`]). Fails with an SSN given
    /// twice.
    pub(crate) fn from_parts(
        ssns: Vec<u32>,
        states: Vec<PersonState>,
        head: Seq,
        identity_changes: u64,
    ) -> Result<Index, u32> {
        assert_eq!(ssns.len(), states.len(), "an SSN for every state");
        let mut slots = HashTable::with_capacity(ssns.len());
        for (at, ssn) in home_order(&ssns, slots.capacity()) {
            match slots.entry(
                hash(ssn),
                |&p: &u32| ssns[p as usize] == ssn,
                |&q| hash(ssns[q as usize]),
            ) {
                hashbrown::hash_table::Entry::Occupied(_) => return Err(ssn),
                hashbrown::hash_table::Entry::Vacant(v) => {
                    v.insert(at);
                }
            }
        }
        let open_work = ssns
            .iter()
            .zip(&states)
            .filter(|(_, s)| s.has_open_work())
            .map(|(&ssn, _)| ssn)
            .collect();
        Ok(Index {
            ssns,
            states,
            slots,
            head,
            identity_changes,
            open_work,
            names: None,
            name_journal: None,
        })
    }

    /// Every SSN with its state, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &PersonState)> {
        self.ssns.iter().copied().zip(&self.states)
    }
}

#[cfg(test)]
mod tests;
