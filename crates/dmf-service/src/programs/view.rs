//! The programs as their one view ([`dmf_registry::program_view`]): agreements, requests and
//! statistics rows as the API, the console and the command line show them.

use dmf_model::Date;
use dmf_registry::program::Agreement;
use dmf_registry::program_view::{AgreementView, CaseView, ProgramStatsRow, RequestView};

use super::{Request, State as Programs};

/// An agreement as shown, with the names of the keys bound to it.
pub fn agreement_view(a: &Agreement, p: &Programs, today: Date) -> AgreementView {
    let keys = p
        .keys
        .values()
        .filter(|(id, _)| *id == a.id)
        .map(|(_, name)| name.clone())
        .collect();
    AgreementView::new(a, keys, today)
}

/// A request as listed: counts, and each match's due process (never the SSNs: the
/// accounting holds who was disclosed).
pub fn request_view(r: &Request, p: &Programs, today: Date) -> RequestView {
    let cases = (0..r.matches.len() as u32)
        .filter_map(|n| {
            let c = p.cases.get(&(r.id, n))?;
            Some(CaseView {
                n,
                status: c.status(today).code(),
            })
        })
        .collect();
    RequestView {
        id: r.id,
        day: r.day.to_string(),
        key: r.key.clone(),
        refused: r.refused.clone(),
        records: r.records,
        matched: r.matches.len(),
        disclosed: r.disclosed,
        law_enforcement: r.law_enforcement.len(),
        elements: r.elements.iter().map(|e| e.code()).collect(),
        cases,
    }
}

/// The statistics rows: per agreement and period.
pub fn stats_rows(p: &Programs, monthly: bool) -> Vec<ProgramStatsRow> {
    super::counts(p, monthly)
        .into_iter()
        .map(|((agreement, period), c)| ProgramStatsRow {
            agreement,
            period,
            requests: c.requests,
            refused: c.refused,
            records: c.records,
            matched: c.matched,
            disclosed: c.disclosed,
            law_enforcement_disclosures: c.law_enforcement,
        })
        .collect()
}
