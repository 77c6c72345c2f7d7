//! The rarer part of a person's state (`Extra`: pending and held reports, notices, corrections,
//! former identities, proposed changes) in a snapshot: counts and numbers little-endian, text
//! with its length, held reports and notices and proposed identity changes as their stored
//! event bodies (the one codec of events, so nothing is encoded twice).

use dmf_model::{Date, NoticeKind, Reference, Seq};

use super::{NameMap, get_identity, pack_date, put_identity, source_of, unpack_date};
use crate::codec;
use crate::event::Event;
use crate::identity::{Difference, Field};
use crate::state::{
    CorrectedDeath, Corroboration, Extra, Held, HeldItem, HeldStatus, HoldReason, NoticeDecision,
    NoticeState, PendingReport, ProposedChange, Review,
};

#[derive(Default)]
struct Out(Vec<u8>);

impl Out {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn len(&mut self, n: usize) {
        self.u32(u32::try_from(n).expect("fewer than 4 billion"));
    }
    fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.0.extend_from_slice(b);
    }
    fn opt_seq(&mut self, v: Option<Seq>) {
        match v {
            Some(s) => {
                self.u8(1);
                self.u64(s);
            }
            None => self.u8(0),
        }
    }
    fn date(&mut self, d: Date) {
        self.u32(pack_date(Some(d.into())));
    }
    fn identity(&mut self, id: &crate::identity::Identity) {
        let mut b = [0u8; 16];
        put_identity(&mut b, id);
        self.0.extend_from_slice(&b);
    }
    fn event(&mut self, e: Event) {
        self.bytes(&codec::encode(&e));
    }
}

struct In<'a> {
    rest: &'a [u8],
    names: &'a NameMap,
}

type Result<T> = std::result::Result<T, String>;

impl<'a> In<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.rest.len() < n {
            return Err("cut short".into());
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    fn flag(&mut self) -> Result<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(format!("flag {b}")),
        }
    }
    /// A count of items, each at least `min` bytes: a count the rest cannot hold is refused
    /// before anything is allocated for it.
    fn count(&mut self, min: usize) -> Result<usize> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min) > self.rest.len() {
            return Err(format!("{n} items in {} bytes", self.rest.len()));
        }
        Ok(n)
    }
    fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    fn text(&mut self) -> Result<String> {
        String::from_utf8(self.bytes()?.to_vec()).map_err(|_| "text not UTF-8".into())
    }
    fn reference(&mut self) -> Result<Reference> {
        let text = self.text()?;
        let r = Reference::new(&text).map_err(|e| format!("reference {text:?}: {e}"))?;
        if r.as_str() != text {
            return Err(format!("reference {text:?} is not in its stored form"));
        }
        Ok(r)
    }
    fn seq(&mut self) -> Result<Seq> {
        self.u64()
    }
    fn opt_seq(&mut self) -> Result<Option<Seq>> {
        Ok(if self.flag()? {
            Some(self.seq()?)
        } else {
            None
        })
    }
    fn date(&mut self) -> Result<Date> {
        unpack_date(self.u32()?)?
            .and_then(|d| d.complete())
            .ok_or_else(|| "a date without its day".into())
    }
    fn partial(&mut self) -> Result<dmf_model::PartialDate> {
        unpack_date(self.u32()?)?.ok_or_else(|| "a missing date".into())
    }
    fn source(&mut self) -> Result<dmf_model::DeathSource> {
        source_of(self.u8()?)
    }
    fn identity(&mut self) -> Result<crate::identity::Identity> {
        get_identity(self.take(16)?, self.names)
    }
    fn event(&mut self, kind: &str) -> Result<Event> {
        codec::decode(kind, self.bytes()?).map_err(|e| e.to_string())
    }
    fn pick<T: Copy>(&mut self, all: &[T], what: &str) -> Result<T> {
        let i = self.u8()?;
        all.get(usize::from(i))
            .copied()
            .ok_or_else(|| format!("{what} {i}"))
    }
}

fn index_of<T: PartialEq>(all: &[T], v: &T) -> u8 {
    all.iter().position(|x| x == v).expect("listed") as u8
}

pub(super) fn encode(e: &Extra) -> Vec<u8> {
    let mut o = Out::default();
    o.len(e.pending.len());
    for p in &e.pending {
        o.u64(p.seq);
        o.u32(pack_date(Some(p.dod)));
        o.u8(p.source as u8);
        match &p.identity {
            Some(id) => {
                o.u8(1);
                o.identity(id);
            }
            None => o.u8(0),
        }
    }
    o.len(e.review.len());
    for r in &e.review {
        o.u64(r.seq);
        o.u8(r.source as u8);
        o.bytes(r.reason.as_bytes());
    }
    o.len(e.corroborations.len());
    for c in &e.corroborations {
        o.u64(c.seq);
        o.u32(pack_date(Some(c.dod)));
        o.u8(c.source as u8);
    }
    o.len(e.corrected.len());
    for c in &e.corrected {
        o.u32(pack_date(Some(c.dod)));
        o.u64(c.report);
        o.u64(c.corrected_by);
    }
    o.len(e.notices.len());
    for n in &e.notices {
        o.u64(n.seq);
        o.u8(index_of(&NoticeKind::ALL, &n.kind));
        o.bytes(n.authority.as_str().as_bytes());
        o.date(n.effective);
        o.date(n.notice_sent);
        o.date(n.contest_deadline);
        o.opt_seq(n.contested_by);
        match n.decision {
            Some(d) => {
                o.u8(1);
                o.u64(d.seq);
                o.u8(u8::from(d.upheld));
            }
            None => o.u8(0),
        }
    }
    o.opt_seq(e.presumed);
    o.len(e.held.len());
    for h in &e.held {
        o.u64(h.seq);
        o.u8(index_of(&HoldReason::ALL, &h.reason));
        o.len(h.differences.len());
        for d in &h.differences {
            o.u8(index_of(&Field::ALL, &d.field));
            o.bytes(d.reported.as_bytes());
            o.bytes(d.on_file.as_bytes());
        }
        match &h.item {
            HeldItem::Report(r) => {
                o.u8(0);
                o.event(Event::DeathReport(r.clone()));
            }
            HeldItem::Notice(n) => {
                o.u8(1);
                o.event(Event::StatusNotice(n.clone()));
            }
        }
        match &h.status {
            HeldStatus::Open { confirmed_by } => {
                o.u8(0);
                match confirmed_by {
                    Some(a) => {
                        o.u8(1);
                        o.bytes(a.as_str().as_bytes());
                    }
                    None => o.u8(0),
                }
            }
            HeldStatus::Confirmed { by } => {
                o.u8(1);
                o.u64(*by);
            }
            HeldStatus::Rejected { by } => {
                o.u8(2);
                o.u64(*by);
            }
            HeldStatus::Withdrawn { by } => {
                o.u8(3);
                o.u64(*by);
            }
        }
    }
    o.len(e.former.len());
    for id in &e.former {
        o.identity(id);
    }
    o.len(e.identity_changes.len());
    for s in &e.identity_changes {
        o.u64(*s);
    }
    o.len(e.proposed.len());
    for p in &e.proposed {
        o.u64(p.seq);
        o.event(Event::IdentityChange(p.change.clone()));
        match p.decided {
            Some((seq, confirmed)) => {
                o.u8(1);
                o.u64(seq);
                o.u8(u8::from(confirmed));
            }
            None => o.u8(0),
        }
    }
    o.0
}

pub(super) fn decode(bytes: &[u8], names: &NameMap) -> Result<Extra> {
    let mut i = In { rest: bytes, names };
    let mut e = Extra::default();
    for _ in 0..i.count(14)? {
        e.pending.push(PendingReport {
            seq: i.seq()?,
            dod: i.partial()?,
            source: i.source()?,
            identity: if i.flag()? { Some(i.identity()?) } else { None },
        });
    }
    for _ in 0..i.count(13)? {
        e.review.push(Review {
            seq: i.seq()?,
            source: i.source()?,
            reason: i.text()?,
        });
    }
    for _ in 0..i.count(13)? {
        e.corroborations.push(Corroboration {
            seq: i.seq()?,
            dod: i.partial()?,
            source: i.source()?,
        });
    }
    for _ in 0..i.count(20)? {
        e.corrected.push(CorrectedDeath {
            dod: i.partial()?,
            report: i.seq()?,
            corrected_by: i.seq()?,
        });
    }
    for _ in 0..i.count(27)? {
        e.notices.push(NoticeState {
            seq: i.seq()?,
            kind: i.pick(&NoticeKind::ALL, "notice kind")?,
            authority: i.reference()?,
            effective: i.date()?,
            notice_sent: i.date()?,
            contest_deadline: i.date()?,
            contested_by: i.opt_seq()?,
            decision: if i.flag()? {
                Some(NoticeDecision {
                    seq: i.seq()?,
                    upheld: i.flag()?,
                })
            } else {
                None
            },
        });
    }
    e.presumed = i.opt_seq()?;
    for _ in 0..i.count(19)? {
        let seq = i.seq()?;
        let reason = i.pick(&HoldReason::ALL, "hold reason")?;
        let mut differences = Vec::new();
        for _ in 0..i.count(9)? {
            differences.push(Difference {
                field: i.pick(&Field::ALL, "field")?,
                reported: i.text()?,
                on_file: i.text()?,
            });
        }
        let item = match i.u8()? {
            0 => match i.event("death_report")? {
                Event::DeathReport(r) => HeldItem::Report(r),
                _ => return Err("a held report that is not one".into()),
            },
            1 => match i.event("status_notice")? {
                Event::StatusNotice(n) => HeldItem::Notice(n),
                _ => return Err("a held notice that is not one".into()),
            },
            k => return Err(format!("held item kind {k}")),
        };
        let status = match i.u8()? {
            0 => HeldStatus::Open {
                confirmed_by: if i.flag()? {
                    Some(i.reference()?)
                } else {
                    None
                },
            },
            1 => HeldStatus::Confirmed { by: i.seq()? },
            2 => HeldStatus::Rejected { by: i.seq()? },
            3 => HeldStatus::Withdrawn { by: i.seq()? },
            k => return Err(format!("held status {k}")),
        };
        e.held.push(Held {
            seq,
            reason,
            differences,
            item,
            status,
        });
    }
    for _ in 0..i.count(16)? {
        e.former.push(i.identity()?);
    }
    for _ in 0..i.count(8)? {
        e.identity_changes.push(i.seq()?);
    }
    for _ in 0..i.count(13)? {
        let seq = i.seq()?;
        let change = match i.event("identity_change")? {
            Event::IdentityChange(c) => c,
            _ => return Err("a proposed change that is not an identity change".into()),
        };
        let decided = if i.flag()? {
            Some((i.seq()?, i.flag()?))
        } else {
            None
        };
        e.proposed.push(ProposedChange {
            seq,
            change,
            decided,
        });
    }
    if !i.rest.is_empty() {
        return Err(format!("{} bytes left over", i.rest.len()));
    }
    Ok(e)
}
