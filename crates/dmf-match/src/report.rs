//! The match report: one self-contained HTML page (no outside asset; a small inline script
//! pages the review list and records decisions) with the candidates per rule, the
//! match-weight histogram, m and u of every level, waterfalls of sample pairs, the pairs for
//! clerical review and, when labels were given, calibration band by band.
//!
//! The review list is every listed pair of probability in [0.05, 0.95), the nearest 0.5 first
//! (by p(1 - p), where a decision changes the most), up to [`REVIEW_LIMIT`] pairs, which the
//! page says when it is reached. Each pair shows the client and master records side by side
//! with the characters that differ marked (by an alignment of least edits), a waterfall of its
//! weight field by field, and buttons to decide it; the decisions are kept in the page and
//! exported as a labels CSV (`client_id,ssn,label`) that `dmf match --labels` reads.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use crate::labels::{BANDS, Band};
use crate::{Match, Model, NameLevel, Outcome, Person, Tf};
use dmf_format::LenientRecord;
use dmf_format::spreadsheet::neutralise;
use dmf_model::SsnDigits;

/// Sample pairs shown with their waterfalls at the top.
const SAMPLES: usize = 3;
/// Review pairs a page of the list shows.
pub const PAGE: usize = 50;
/// Review pairs the page carries at most; the page says how many more there are.
pub const REVIEW_LIMIT: usize = 20_000;
/// The review band: pairs of probability in `[lo, hi)`.
pub const REVIEW: (f64, f64) = (0.05, 0.95);

/// The fields a record shows, in order.
const SHOWN: [&str; 7] = [
    "SSN",
    "first name",
    "middle name",
    "last name",
    "suffix",
    "date of birth",
    "sex",
];

/// A person as the report shows one: the values of the shown fields (SSN, first, middle and
/// last name, suffix, date of birth, sex), blank when missing, `None` when the file does not
/// have the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record([Option<String>; 7]);

impl Record {
    /// A client record.
    pub fn client(p: &Person) -> Record {
        Record([
            Some(p.ssn.map(|s| s.to_string()).unwrap_or_default()),
            Some(p.first.clone()),
            Some(p.middle.clone()),
            Some(p.last.clone()),
            Some(p.suffix.clone()),
            Some(p.dob.map(|d| d.to_string()).unwrap_or_default()),
            Some(p.sex.map(|s| s.code().to_owned()).unwrap_or_default()),
        ])
    }

    /// A master record: a DMF line has no sex.
    pub fn master(r: &LenientRecord) -> Record {
        Record([
            Some(r.ssn().to_string()),
            Some(r.first().to_owned()),
            Some(r.middle().to_owned()),
            Some(r.last().to_owned()),
            Some(r.suffix().to_owned()),
            Some(r.dob().map(|d| d.to_string()).unwrap_or_default()),
            None,
        ])
    }

    /// One line: `FIRST MIDDLE LAST SUFFIX / SSN / DOB`.
    fn line(&self) -> String {
        let v = |i: usize| self.0[i].as_deref().unwrap_or("");
        let names: Vec<&str> = [1, 2, 3, 4]
            .into_iter()
            .map(v)
            .filter(|s| !s.is_empty())
            .collect();
        format!("{} / {} / {}", names.join(" "), v(0), v(5))
    }
}

/// Calibration of the labelled pairs, for the page: a sentence, then per column (before
/// refit, after, ...) the bands.
#[derive(Debug, Clone)]
pub struct Calibration {
    pub note: String,
    pub columns: Vec<(&'static str, Vec<Band>)>,
}

/// What the page is made of.
pub struct Input<'a> {
    pub model: &'a Model,
    pub outcome: &'a Outcome,
    pub client: &'a [Person],
    pub ids: &'a [String],
    pub master_len: usize,
    /// The SSN of every master record, by index.
    pub master_ssns: &'a [Option<SsnDigits>],
    /// The master records the page shows ([`shown`]), by index.
    pub master: &'a HashMap<u32, Record>,
    /// The term-frequency ratios of a master record, by index.
    pub tf: &'a dyn Fn(u32) -> Tf,
    /// The matches file's threshold.
    pub threshold: f64,
    /// Pairs below this probability were not listed (the threshold the core ran with).
    pub listed_from: f64,
    pub one_to_one: bool,
    pub calibration: Option<&'a Calibration>,
    /// Review pairs the page carries at most ([`REVIEW_LIMIT`]).
    pub limit: usize,
}

impl std::fmt::Debug for Input<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input")
            .field("client", &self.client.len())
            .field("master_len", &self.master_len)
            .field("threshold", &self.threshold)
            .finish_non_exhaustive()
    }
}

/// The pairs for review, the nearest 0.5 first (p(1 - p) descending), then by client id and
/// master SSN.
pub fn review<'m>(
    matches: &'m [Match],
    ids: &[String],
    master_ssns: &[Option<SsnDigits>],
) -> Vec<&'m Match> {
    let mut out: Vec<&Match> = matches
        .iter()
        .filter(|m| (REVIEW.0..REVIEW.1).contains(&m.probability))
        .collect();
    let spread = |m: &Match| m.probability * (1.0 - m.probability);
    out.sort_by(|a, b| {
        spread(b)
            .total_cmp(&spread(a))
            .then_with(|| ids[a.client as usize].cmp(&ids[b.client as usize]))
            .then_with(|| master_ssns[a.master as usize].cmp(&master_ssns[b.master as usize]))
            .then(a.master.cmp(&b.master))
    });
    out
}

/// The sample pairs: the first matches at or above the matches file's threshold.
fn samples(matches: &[Match], threshold: f64) -> impl Iterator<Item = &Match> {
    matches
        .iter()
        .filter(move |m| m.probability >= threshold)
        .take(SAMPLES)
}

/// The master records the page shows, by index.
pub fn shown(
    matches: &[Match],
    ids: &[String],
    master_ssns: &[Option<SsnDigits>],
    threshold: f64,
    limit: usize,
) -> HashSet<u32> {
    samples(matches, threshold)
        .chain(review(matches, ids, master_ssns).into_iter().take(limit))
        .map(|m| m.master)
        .collect()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A field of [`Model::contributions_tf`] as a reader names it.
fn field_label(code: &str) -> String {
    match code {
        "ssn" => "SSN".into(),
        "first" => "first name".into(),
        "middle" => "middle name".into(),
        "last" => "last name".into(),
        "suffix" => "suffix".into(),
        "dob" => "date of birth".into(),
        "sex" => "sex".into(),
        "tf_first" => "first name frequency".into(),
        "tf_last" => "last name frequency".into(),
        other => other.replace('_', " "),
    }
}

/// A level code as a reader names it.
fn level_label(code: &str) -> String {
    match code {
        "jw92" => "Jaro-Winkler ≥ 0.92".into(),
        "jw85" => "Jaro-Winkler ≥ 0.85".into(),
        "year_pm1" => "year ±1".into(),
        "day_month_swapped" => "day and month swapped".into(),
        "one_component" => "one part differs".into(),
        other => other.replace('_', " "),
    }
}

/// Per character of `a` and of `b`: whether an alignment of least edits (substitutions,
/// insertions, deletions) leaves it without an equal partner.
fn differing(a: &[char], b: &[char]) -> (Vec<bool>, Vec<bool>) {
    let (n, m) = (a.len(), b.len());
    let mut marks = (vec![false; n], vec![false; m]);
    if n * m > 10_000 {
        // Not a name, SSN or date: shown as it is.
        return marks;
    }
    // d[i][j]: edits between a[..i] and b[..j].
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    d[0] = (0..=m).collect();
    for i in 1..=n {
        for j in 1..=m {
            let diagonal = d[i - 1][j - 1] + usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = diagonal.min(d[i - 1][j] + 1).min(d[i][j - 1] + 1);
        }
    }
    let (mut i, mut j) = (n, m);
    while i > 0 || j > 0 {
        if i > 0 && j > 0 && d[i][j] == d[i - 1][j - 1] + usize::from(a[i - 1] != b[j - 1]) {
            if a[i - 1] != b[j - 1] {
                marks.0[i - 1] = true;
                marks.1[j - 1] = true;
            }
            i -= 1;
            j -= 1;
        } else if i > 0 && d[i][j] == d[i - 1][j] + 1 {
            marks.0[i - 1] = true;
            i -= 1;
        } else {
            marks.1[j - 1] = true;
            j -= 1;
        }
    }
    marks
}

/// `chars` escaped, each run of marked characters in `<mark>`.
fn marked(chars: &[char], marks: &[bool]) -> String {
    let mut out = String::new();
    let mut run = String::new();
    let mut open = false;
    for (c, &m) in chars.iter().zip(marks) {
        if m != open {
            out.push_str(&esc(&run));
            run.clear();
            out.push_str(if m { "<mark>" } else { "</mark>" });
            open = m;
        }
        run.push(*c);
    }
    out.push_str(&esc(&run));
    if open {
        out.push_str("</mark>");
    }
    out
}

/// One value against another, each as a table cell with its differences marked; a missing
/// value (blank) is a dash and marks nothing, a field not read is said so.
fn cells(a: Option<&str>, b: Option<&str>) -> [String; 2] {
    let plain = |v: Option<&str>| match v {
        None => r#"<td class="na">not read"#.to_owned(),
        Some("") => r#"<td class="na">—"#.to_owned(),
        Some(v) => format!("<td>{}", esc(v)),
    };
    match (a, b) {
        (Some(a), Some(b)) if !a.is_empty() && !b.is_empty() => {
            let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
            let (ma, mb) = differing(&a, &b);
            [
                format!("<td>{}", marked(&a, &ma)),
                format!("<td>{}", marked(&b, &mb)),
            ]
        }
        _ => [plain(a), plain(b)],
    }
}

/// The client and master records side by side, differences marked. Names a comparison took
/// crosswise (first and last swapped) are marked against each other.
fn side_by_side(client: &Record, master: &Record, m: &Match) -> String {
    let mut out = String::from(r#"<table class="cmp"><tr><th><th>client<th>master"#);
    let crossed = m.levels.first == NameLevel::Swapped;
    let mut marks: Vec<[String; 2]> = (0..SHOWN.len())
        .map(|i| cells(client.0[i].as_deref(), master.0[i].as_deref()))
        .collect();
    if crossed {
        // First name (1) against last (3), and last against first.
        let [c1, m3] = cells(client.0[1].as_deref(), master.0[3].as_deref());
        let [c3, m1] = cells(client.0[3].as_deref(), master.0[1].as_deref());
        marks[1] = [c1, m1];
        marks[3] = [c3, m3];
    }
    for (name, [c, m]) in SHOWN.iter().zip(marks) {
        let _ = write!(out, "<tr><th>{name}{c}{m}");
    }
    out.push_str("</table>");
    out
}

/// A histogram of match weights in bins of one unit, as SVG bars.
fn histogram(matches: &[Match]) -> String {
    if matches.is_empty() {
        return "<p>No pairs.</p>".into();
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
            let _ = write!(svg, r#"<text x="{x}" y="205">{}</text>"#, lo + i as i64);
        }
    }
    let _ = write!(svg, r#"<text x="0" y="12">{top:.0}</text></svg>"#);
    svg
}

/// One pair's weight, field by field, as a waterfall of horizontal bars, each labelled with
/// its field and level and carrying its value.
fn waterfall(model: &Model, m: &Match, tf: Tf) -> String {
    let parts = model.contributions_tf(&m.levels, tf);
    let mut ends = vec![0.0];
    for (_, _, w) in &parts {
        ends.push(ends[ends.len() - 1] + w);
    }
    let lo = ends.iter().copied().fold(0.0, f64::min);
    let hi = ends.iter().copied().fold(0.0, f64::max);
    let span = (hi - lo).max(1.0);
    let x = |v: f64| 240.0 + (v - lo) / span * 330.0;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="640" height="{}" role="img" aria-label="weights of the pair, field by field"><line x1="{z:.1}" x2="{z:.1}" y1="0" y2="{}" class="zero"/>"#,
        (parts.len() + 1) * 18 + 8,
        parts.len() * 18 + 4,
        z = x(0.0),
    );
    for (k, (field, level, w)) in parts.iter().enumerate() {
        let (from, to) = (ends[k], ends[k + 1]);
        let y = 4 + k * 18;
        let (a, b) = (x(from.min(to)), x(from.max(to)));
        let _ = write!(
            svg,
            r#"<text x="0" y="{}">{}: {}</text><rect x="{a:.1}" y="{y}" width="{:.1}" height="12" class="{}"/><text x="{:.1}" y="{}" class="v">{w:+.2}</text>"#,
            y + 10,
            esc(&field_label(field)),
            esc(&level_label(level)),
            (b - a).max(1.0),
            if *w >= 0.0 { "pos" } else { "neg" },
            b + 3.0,
            y + 10,
        );
    }
    let _ = write!(
        svg,
        r#"<text x="0" y="{}">weight {:+.2}, probability {:.4}</text></svg>"#,
        4 + parts.len() * 18 + 10,
        m.weight,
        m.probability
    );
    svg
}

/// `n` with thousands separated by commas.
fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A band as `lo–hi`.
fn band_name(lo: f64, hi: f64) -> String {
    if hi >= 1.0 {
        format!("{lo} and above")
    } else if lo <= 0.0 {
        format!("below {hi}")
    } else {
        format!("{lo}–{hi}")
    }
}

/// The review section: counts per band, the pager, the pairs.
fn review_section(out: &mut String, input: &Input, review: &[&Match]) {
    let matches = &input.outcome.matches;
    let mut per_band = [0usize; BANDS.len()];
    for m in matches {
        per_band[crate::labels::band_of(m.probability)] += 1;
    }
    let unlisted = (input.outcome.candidates as usize).saturating_sub(matches.len());
    let total = review.len();
    let carried = total.min(input.limit);
    let pages = carried.div_ceil(PAGE).max(1);
    out.push_str(r#"<h2 id="review-head">Pairs for clerical review</h2>"#);
    let _ = write!(
        out,
        "<p>{} pairs with probability from {} to {}, the nearest 0.5 first (by p(1 − p)): \
         a decision on those changes the most. Per band of probability:</p>\
         <table class=\"bands\"><tr><th>probability<th>pairs<th>",
        count(total),
        REVIEW.0,
        REVIEW.1
    );
    for (k, &(lo, hi)) in BANDS.iter().enumerate() {
        let in_review = lo >= REVIEW.0 && hi <= REVIEW.1;
        let mut n = per_band[k];
        let note = if in_review {
            "for review".to_owned()
        } else if k == 0 {
            n += unlisted;
            format!(
                "not for review{}",
                if unlisted > 0 {
                    format!(
                        " (with {} candidate pairs scored below {}{}, not listed)",
                        count(unlisted),
                        input.listed_from,
                        if input.one_to_one {
                            " or set aside by --one-to-one"
                        } else {
                            ""
                        }
                    )
                } else {
                    String::new()
                }
            )
        } else {
            "sure enough: not for review".to_owned()
        };
        let _ = write!(
            out,
            "<tr{}><td>{}<td>{}<td>{note}",
            if in_review { " class=\"rv\"" } else { "" },
            band_name(lo, hi),
            count(n)
        );
    }
    let _ = write!(out, "<tr><th>for review<th>{}<th></table>", count(total));
    let of = if carried < total {
        let _ = write!(
            out,
            "<p class=\"limit\">This page carries the first {} of the {} pairs for review (a \
             hard limit, to keep the page usable); the other {}, nearer 0.05 or 0.95, are not \
             on it. To see them all, run with <code>--threshold 0.05 --out FILE</code>: the \
             matches file then lists every pair from 0.05 up with its <code>match_probability</code>; \
             or split the client file.</p>",
            count(carried),
            count(total),
            count(total - carried)
        );
        format!(
            "{} on this page ({} for review)",
            count(carried),
            count(total)
        )
    } else {
        count(total)
    };
    if total == 0 {
        out.push_str("<p>No pairs for review.</p>");
        return;
    }
    let _ = write!(
        out,
        r#"<div class="pager"><button type="button" id="prev">previous</button> <span id="range" data-of="{of}">pairs 1–{} of {of}</span> <button type="button" id="next">next</button> <label>page <input id="page" type="number" min="1" max="{pages}" value="1"></label> of {pages} · <span id="decided">0 decided</span> · <button type="button" id="export">Export labels</button><a id="download" download="labels.csv" hidden>labels.csv</a></div><noscript><style>.pair[hidden]{{display:block}}</style><p>Without JavaScript every pair is shown at once and decisions cannot be recorded.</p></noscript><div id="review">"#,
        carried.min(PAGE)
    );
    let unknown = Record(Default::default());
    for (i, m) in review.iter().take(carried).enumerate() {
        let client = Record::client(&input.client[m.client as usize]);
        let master = input.master.get(&m.master).unwrap_or(&unknown);
        let ssn = input.master_ssns[m.master as usize]
            .map(|s| s.to_string())
            .unwrap_or_default();
        let id = esc(&input.ids[m.client as usize]);
        // The id as the labels CSV holds it: neutralised by the one function every CSV of the
        // project goes through, so that the page's export needs no rule of its own.
        let cell = esc(&neutralise(&input.ids[m.client as usize]));
        let _ = write!(
            out,
            r#"<div class="pair" data-i="{i}" data-c="{id}" data-cell="{cell}" data-s="{ssn}"{}><h3>{}. client {id} and master {ssn}: probability {:.4}, weight {:+.2}, class {}</h3><div class="cols">{}{}</div><p class="dec">decision: <button type="button" data-l="match">match</button> <button type="button" data-l="non-match">not a match</button> <button type="button" data-l="unsure">unsure</button></p></div>"#,
            if i >= PAGE { " hidden" } else { "" },
            i + 1,
            m.probability,
            m.weight,
            m.class,
            side_by_side(&client, master, m),
            waterfall(input.model, m, (input.tf)(m.master)),
        );
    }
    out.push_str("</div>");
}

/// The calibration section: per band, the labelled pairs and the share of true matches, per
/// model.
fn calibration_section(out: &mut String, c: &Calibration) {
    let _ = write!(
        out,
        "<h2>Calibration against the labels</h2><p>{}</p><table><tr><th>probability",
        esc(&c.note)
    );
    for (name, _) in &c.columns {
        let _ = write!(out, "<th>{}", esc(name));
    }
    for (k, &(lo, hi)) in BANDS.iter().enumerate() {
        let _ = write!(out, "<tr><td>{}", band_name(lo, hi));
        for (_, bands) in &c.columns {
            let b = &bands[k];
            match b.share() {
                Some(s) => {
                    let _ = write!(
                        out,
                        "<td>{} of {} true ({:.0}%)",
                        b.true_matches,
                        b.pairs,
                        100.0 * s
                    );
                }
                None => out.push_str("<td>—"),
            }
        }
    }
    out.push_str("</table>");
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em;max-width:75em}table{border-collapse:collapse}\
td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px;text-align:left}th{background:#eee}\
svg text{font-size:11px}rect.pos{fill:#2e7d32}rect.neg{fill:#c62828}line.zero{stroke:#999}\
mark{background:#ffd54f}td.na{color:#999}.cols{display:flex;gap:1.5em;align-items:flex-start;flex-wrap:wrap}\
.pair{border-top:1px solid #ccc;padding:.3em 0 .3em .6em;border-left:4px solid transparent}\
.pair h3{font-size:14px;margin:.4em 0}.pair[data-label=match]{border-left-color:#2e7d32}\
.pair[data-label=non-match]{border-left-color:#c62828}.pair[data-label=unsure]{border-left-color:#f9a825}\
button[aria-pressed=true]{background:#333;color:#fff}.pager{position:sticky;top:0;background:#fff;padding:.4em 0}\
tr.rv td{background:#fffbe6}.limit{background:#fdecea;padding:.5em}#page{width:5em}";

/// Pages the review list and keeps decisions: `dmfLabelsCsv()` gives the labels CSV (each id
/// as `data-cell` holds it, neutralised for spreadsheets), `dmfLabelsUrl()` a Blob URL of it
/// on the download link, which "Export labels" follows.
const SCRIPT: &str = r#"(function () {
  var review = document.getElementById('review');
  if (!review) return;
  var $ = function (id) { return document.getElementById(id); };
  var pairs = review.querySelectorAll('.pair');
  var per = __PAGE__, pages = Math.max(1, Math.ceil(pairs.length / per)), page = 0;
  var labels = new Map();
  var url = null;
  function show() {
    var a = page * per, b = Math.min(a + per, pairs.length);
    for (var i = 0; i < pairs.length; i++) pairs[i].hidden = i < a || i >= b;
    $('range').textContent = 'pairs ' + (a + 1) + '–' + b + ' of ' + $('range').dataset.of;
    $('prev').disabled = page === 0;
    $('next').disabled = page >= pages - 1;
    $('page').value = page + 1;
  }
  function go(p) {
    page = Math.min(Math.max(p, 0), pages - 1);
    show();
    $('review-head').scrollIntoView();
  }
  $('prev').addEventListener('click', function () { go(page - 1); });
  $('next').addEventListener('click', function () { go(page + 1); });
  $('page').addEventListener('change', function () { go((parseInt($('page').value, 10) || 1) - 1); });
  function paint(p) {
    var l = labels.get(+p.dataset.i) || '';
    p.dataset.label = l;
    p.querySelectorAll('button[data-l]').forEach(function (b) {
      b.setAttribute('aria-pressed', String(b.dataset.l === l));
    });
  }
  review.addEventListener('click', function (e) {
    var b = e.target.closest('button[data-l]');
    if (!b) return;
    var p = b.closest('.pair'), i = +p.dataset.i;
    if (labels.get(i) === b.dataset.l) labels.delete(i); else labels.set(i, b.dataset.l);
    paint(p);
    $('decided').textContent = labels.size + ' decided';
  });
  function cell(s) { return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s; }
  window.dmfLabelsCsv = function () {
    var rows = ['client_id,ssn,label'];
    Array.from(labels.keys()).sort(function (x, y) { return x - y; }).forEach(function (i) {
      rows.push(cell(pairs[i].dataset.cell) + ',' + pairs[i].dataset.s + ',' + labels.get(i));
    });
    return rows.join('\r\n') + '\r\n';
  };
  window.dmfLabelsUrl = function () {
    if (url) URL.revokeObjectURL(url);
    url = URL.createObjectURL(new Blob([window.dmfLabelsCsv()], { type: 'text/csv' }));
    $('download').href = url;
    return url;
  };
  $('export').addEventListener('click', function () { window.dmfLabelsUrl(); $('download').click(); });
  show();
})();"#;

/// The page.
pub fn html(input: &Input) -> String {
    let outcome = input.outcome;
    let model = input.model;
    let matches = &outcome.matches;
    let mut out = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>dmf match report</title>\
         <style>{STYLE}</style></head><body>"
    );
    let kept = matches
        .iter()
        .filter(|m| m.probability >= input.threshold)
        .count();
    let _ = write!(
        out,
        "<h1>dmf match report</h1><p>{} client records, {} master records, {} candidate pairs, \
         {} matches at probability {} or more (the matches file); pairs from {} up are listed \
         here.</p>",
        count(input.client.len()),
        count(input.master_len),
        count(outcome.candidates as usize),
        count(kept),
        input.threshold,
        input.listed_from
    );
    out.push_str(
        "<h2>Candidates per blocking rule</h2><table><tr><th>rule</th><th>candidates</th></tr>",
    );
    for (rule, n) in &outcome.per_rule {
        let _ = write!(out, "<tr><td>{}</td><td>{n}</td></tr>", rule.code());
    }
    let _ = write!(
        out,
        "</table><h2>Match weights</h2><p>The pairs listed (probability {} or more).</p>",
        input.listed_from
    );
    out.push_str(&histogram(matches));
    out.push_str("<h2>m and u of every level</h2><table><tr><th>field</th><th>level</th><th>m</th><th>u</th><th>weight log2(m/u)</th></tr>");
    for (field, level, m, u) in model.parameters() {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{m:.5}</td><td>{u:.6}</td><td>{:+.2}</td></tr>",
            field_label(field),
            esc(&level_label(level)),
            (m / u).log2()
        );
    }
    let _ = write!(
        out,
        "</table><p>Prior probability that a pair of records matches: {:.3e}.</p>",
        model.lambda
    );
    if let Some(c) = input.calibration {
        calibration_section(&mut out, c);
    }
    out.push_str("<h2>Sample pairs: where the weight comes from</h2>");
    let unknown = Record(Default::default());
    for m in samples(matches, input.threshold) {
        let master = input.master.get(&m.master).unwrap_or(&unknown);
        let _ = write!(
            out,
            "<h3>{} and master {}</h3><p>{}<br>{}</p>",
            esc(&input.ids[m.client as usize]),
            input.master_ssns[m.master as usize]
                .map(|s| s.to_string())
                .unwrap_or_default(),
            esc(&Record::client(&input.client[m.client as usize]).line()),
            esc(&master.line())
        );
        out.push_str(&waterfall(model, m, (input.tf)(m.master)));
    }
    let review = review(matches, input.ids, input.master_ssns);
    review_section(&mut out, input, &review);
    let _ = writeln!(
        out,
        "<script>{}</script></body></html>",
        SCRIPT.replace("__PAGE__", &PAGE.to_string())
    );
    out
}

#[cfg(test)]
mod tests;
