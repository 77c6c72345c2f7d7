//! The match report: one self-contained HTML page (no script, no outside asset) with the
//! match-weight histogram, m and u of every level, waterfalls of the weights of sample
//! pairs, and the borderline pairs for clerical review.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use dmf_match::{Match, Model, Outcome, Person};

/// Sample pairs shown with their waterfalls, and borderline pairs listed for review.
const SAMPLES: usize = 3;
const REVIEW: usize = 500;

fn borderline(matches: &[Match]) -> Vec<&Match> {
    let mut b: Vec<&Match> = matches
        .iter()
        .filter(|m| (0.5..0.95).contains(&m.probability))
        .collect();
    b.sort_by(|a, b| a.probability.total_cmp(&b.probability));
    b
}

/// The master records the report shows, by index.
pub fn shown(matches: &[Match]) -> HashSet<u32> {
    matches
        .iter()
        .take(SAMPLES)
        .chain(borderline(matches).into_iter().take(REVIEW))
        .map(|m| m.master)
        .collect()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A histogram of match weights in bins of one unit, as SVG bars.
fn histogram(matches: &[Match]) -> String {
    if matches.is_empty() {
        return "<p>No matches.</p>".into();
    }
    let lo = matches
        .iter()
        .map(|m| m.weight.floor() as i64)
        .min()
        .unwrap_or(0);
    let hi = matches
        .iter()
        .map(|m| m.weight.floor() as i64)
        .max()
        .unwrap_or(0);
    let mut bins = vec![0u64; (hi - lo + 1) as usize];
    for m in matches {
        bins[(m.weight.floor() as i64 - lo) as usize] += 1;
    }
    let top = *bins.iter().max().unwrap_or(&1) as f64;
    let (w, h, bar) = (bins.len() as f64 * 14.0 + 60.0, 220.0, 12.0);
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" aria-label="match weight histogram">"#
    );
    for (i, &n) in bins.iter().enumerate() {
        let bh = (n as f64 / top) * 170.0;
        let x = 40.0 + i as f64 * 14.0;
        let _ = write!(
            svg,
            r##"<rect x="{x}" y="{}" width="{bar}" height="{bh}" fill="#3a6ea5"><title>weight {}..{}: {n} pairs</title></rect>"##,
            190.0 - bh,
            lo + i as i64,
            lo + i as i64 + 1
        );
        if i % 5 == 0 {
            let _ = write!(
                svg,
                r#"<text x="{x}" y="205" font-size="10">{}</text>"#,
                lo + i as i64
            );
        }
    }
    let _ = write!(
        svg,
        r#"<text x="0" y="12" font-size="10">{top:.0}</text></svg>"#
    );
    svg
}

/// One pair's weights, field by field, as a waterfall of horizontal bars.
fn waterfall(model: &Model, m: &Match) -> String {
    let parts = model.contributions(&m.levels);
    let scale = 12.0;
    let mut total = 0.0;
    let rows = parts.len() + 2;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="640" height="{}" role="img" aria-label="weights of one pair">"#,
        rows * 18 + 10
    );
    let mut y = 5.0;
    let mid = 320.0;
    let mut line = |svg: &mut String, label: &str, from: f64, to: f64| {
        let (a, b) = if to >= from { (from, to) } else { (to, from) };
        let colour = if to >= from { "#2e7d32" } else { "#c62828" };
        let _ = write!(
            svg,
            r#"<text x="0" y="{}" font-size="11">{}</text><rect x="{}" y="{y}" width="{}" height="12" fill="{colour}"><title>{:+.2}</title></rect>"#,
            y + 10.0,
            esc(label),
            mid + a * scale,
            ((b - a) * scale).max(1.0),
            to - from
        );
        y += 18.0;
    };
    for (field, level, w) in &parts {
        line(&mut svg, &format!("{field}: {level}"), total, total + w);
        total += w;
    }
    let _ = write!(
        svg,
        r#"<text x="0" y="{}" font-size="11">total {total:.2} (probability {:.4})</text></svg>"#,
        y + 10.0,
        m.probability
    );
    svg
}

fn names(p: &Person) -> String {
    format!(
        "{} {} {} / {} / {}",
        p.first,
        p.middle,
        p.last,
        p.ssn.map(|s| s.to_string()).unwrap_or_default(),
        p.dob.map(|d| d.to_string()).unwrap_or_default()
    )
}

/// The page.
pub fn html(
    model: &Model,
    client: &[Person],
    ids: &[String],
    master: &HashMap<u32, Person>,
    master_len: usize,
    outcome: &Outcome,
) -> String {
    let matches = &outcome.matches;
    let mut out = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>dmf match report</title>\
         <style>body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse}\
         td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}th{background:#eee}</style></head><body>",
    );
    let _ = write!(
        out,
        "<h1>dmf match report</h1><p>{} client records, {} master records, {} candidate pairs, {} matches.</p>",
        client.len(),
        master_len,
        outcome.candidates,
        matches.len()
    );
    out.push_str(
        "<h2>Candidates per blocking rule</h2><table><tr><th>rule</th><th>candidates</th></tr>",
    );
    for (rule, n) in &outcome.per_rule {
        let _ = write!(out, "<tr><td>{}</td><td>{n}</td></tr>", rule.code());
    }
    out.push_str("</table><h2>Match weights</h2>");
    out.push_str(&histogram(matches));
    out.push_str("<h2>m and u of every level</h2><table><tr><th>field</th><th>level</th><th>m</th><th>u</th><th>weight log2(m/u)</th></tr>");
    for (field, level, m, u) in crate::match_cmd::model_rows(model) {
        let _ = write!(
            out,
            "<tr><td>{field}</td><td>{level}</td><td>{m:.5}</td><td>{u:.6}</td><td>{:+.2}</td></tr>",
            (m / u).log2()
        );
    }
    let _ = write!(
        out,
        "</table><p>Prior probability that a candidate pair matches: {:.6}.</p>",
        model.lambda
    );
    out.push_str("<h2>Sample pairs: where the weight comes from</h2>");
    let borderline = borderline(matches);
    let mut samples: Vec<&Match> = matches.iter().take(SAMPLES).collect();
    samples.extend(borderline.iter().take(SAMPLES));
    let master_of = |i: u32| master.get(&i).map(names).unwrap_or_default();
    let ssn_of = |i: u32| {
        master
            .get(&i)
            .and_then(|p| p.ssn)
            .map(|s| s.to_string())
            .unwrap_or_default()
    };
    for m in samples {
        let _ = write!(
            out,
            "<h3>{} and master {}</h3><p>{}<br>{}</p>",
            esc(&ids[m.client as usize]),
            ssn_of(m.master),
            esc(&names(&client[m.client as usize])),
            esc(&master_of(m.master))
        );
        out.push_str(&waterfall(model, m));
    }
    let _ = write!(
        out,
        "<h2>Borderline pairs for clerical review</h2><p>{} pairs with probability from 0.5 to 0.95 (the first 500).</p>\
         <table><tr><th>client</th><th>client record</th><th>master record</th><th>levels</th><th>weight</th><th>probability</th><th>class</th></tr>",
        borderline.len()
    );
    for m in borderline.iter().take(REVIEW) {
        let l = &m.levels;
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} {} {} {}</td><td>{:.2}</td><td>{:.4}</td><td>{}</td></tr>",
            esc(&ids[m.client as usize]),
            esc(&names(&client[m.client as usize])),
            esc(&master_of(m.master)),
            l.ssn.code(),
            l.first.code(),
            l.last.code(),
            l.dob.code(),
            m.weight,
            m.probability,
            m.class
        );
    }
    out.push_str("</table></body></html>\n");
    out
}
