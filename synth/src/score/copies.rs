//! Scores what a `--format json` document says about the two copies of the bot's log — the
//! tee file per process (`monitoring_logs/bot_*.log`) and the RotatingFileHandler members
//! (`logs/trading_bot.log*`) — against the truth's `copy_gaps` and `streams`.
//!
//! The document's shape:
//!
//! ```json
//! { "sources": { "logs": [
//!     { "name": "bot_20251018_070000.log", "copies": ["trading_bot.log.2", "trading_bot.log.1"], "…": "…" },
//!     { "name": "trading_bot.log.2", "copy_of": "bot_20251018_070000.log", "…": "…" } ] },
//!   "findings": [
//!     { "kind": "log_copy_gap",
//!       "log": { "file": "trading_bot.log.2", "line": 5210 },
//!       "logs": [ { "file": "bot_20251018_070000.log", "line": 4411 } ],
//!       "details": { "missing_from": "bot_20251018_070000.log", "present_in": "trading_bot.log.2",
//!                    "from_utc": "2025-10-18T03:28:30.075Z", "to_utc": "2025-10-18T03:38:29.100Z",
//!                    "records": 2184 } } ] }
//! ```
//!
//! File names are compared by their last path component (`logs/trading_bot.log.2` is
//! `trading_bot.log.2`). `copy_of` may be one name or a list (a member holding the records of
//! two processes names both).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::super::truth::{CopyGap, Truth, parse_us};
use super::{EXAMPLES, Tally, findings};

/// A reported interval may miss the true one by this much and still overlap it (the
/// product places the records on its own estimate of the clocks).
const SLACK_US: i64 = 2_000_000;

/// The last component of a path (`logs/trading_bot.log.2` → `trading_bot.log.2`).
pub(crate) fn base(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

/// A string, or each string of a list, as base names.
fn names(v: &Value) -> BTreeSet<String> {
    match v {
        Value::String(s) => BTreeSet::from([base(s).to_string()]),
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .map(|s| base(s).to_string())
            .collect(),
        _ => BTreeSet::new(),
    }
}

/// The name of a `sources.logs[]` entry: `name`, else the base of `path`.
pub(crate) fn source_name(v: &Value) -> Option<String> {
    v["name"]
        .as_str()
        .or_else(|| v["path"].as_str())
        .map(|s| base(s).to_string())
}

pub(crate) fn sources(doc: &Value) -> impl Iterator<Item = &Value> {
    doc["sources"]["logs"].as_array().into_iter().flatten()
}

/// What a `log_copy_gap` finding claims.
struct Claim {
    missing_from: BTreeSet<String>,
    present_in: BTreeSet<String>,
    from: Option<i64>,
    to: Option<i64>,
    text: String,
}

fn claim(f: &Value) -> Claim {
    let d = &f["details"];
    let mut missing_from = names(&d["missing_from"]);
    if missing_from.is_empty() {
        missing_from = f["logs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l["file"].as_str())
            .map(|s| base(s).to_string())
            .collect();
    }
    let mut present_in = names(&d["present_in"]);
    if present_in.is_empty() {
        present_in = names(&f["log"]["file"]);
    }
    let from = d["from_utc"].as_str().and_then(parse_us);
    let to = d["to_utc"].as_str().and_then(parse_us);
    let text = format!(
        "{:?} missing from {:?}, present in {:?}",
        (d["from_utc"].as_str(), d["to_utc"].as_str()),
        missing_from,
        present_in
    );
    Claim {
        missing_from,
        present_in,
        from,
        to,
        text,
    }
}

/// The claim is about this true gap: one of the files it says lack the records lacks them,
/// one it says has them has them, and its interval overlaps the true one (2 s of slack).
fn matches(c: &Claim, g: &CopyGap) -> bool {
    let (Some(from), Some(to), Some(a), Some(b)) =
        (c.from, c.to, parse_us(&g.from_utc), parse_us(&g.to_utc))
    else {
        return false;
    };
    let lacks = g
        .missing_from
        .iter()
        .any(|m| c.missing_from.contains(base(m)));
    let has = g
        .present_in_all
        .iter()
        .chain(std::iter::once(&g.present_in))
        .any(|p| c.present_in.contains(base(p)));
    lacks && has && from <= b + SLACK_US && a <= to + SLACK_US
}

/// `log_copy_gap`: a true gap is found when a finding matches it ([`matches`]); a finding
/// matching no true gap is extra (FP); a second finding matching a found gap (a stretch
/// reported in two pieces, one per member) is neither. `copy_of`: (copy, primary) pairs —
/// every handler member holding a process's records names that process's tee file;
/// `copies`: (primary, copy) pairs — every tee file names the members holding its records.
pub fn copies(t: &Truth, doc: &Value) -> BTreeMap<String, Tally> {
    let claims: Vec<Claim> = findings(doc, "log_copy_gap").map(claim).collect();
    let mut gaps = Tally::default();
    let mut used = vec![false; claims.len()];
    for g in &t.copy_gaps {
        let mut found = false;
        for (k, c) in claims.iter().enumerate() {
            if matches(c, g) {
                used[k] = true;
                found = true;
            }
        }
        if found {
            gaps.tp += 1;
        } else {
            gaps.fn_ += 1;
            if gaps.fn_examples.len() < EXAMPLES {
                gaps.fn_examples.push(format!(
                    "{} records of pid {} {}..{} missing from {:?}, present in {}",
                    g.records, g.pid, g.from_utc, g.to_utc, g.missing_from, g.present_in
                ));
            }
        }
    }
    for (k, c) in claims.iter().enumerate() {
        if !used[k] {
            gaps.fp += 1;
            if gaps.fp_examples.len() < EXAMPLES {
                gaps.fp_examples.push(c.text.clone());
            }
        }
    }

    let exp_of: BTreeSet<(String, String)> = t
        .handler_members
        .iter()
        .flat_map(|m| {
            m.copy_of
                .iter()
                .map(move |p| (base(&m.name).to_string(), base(p).to_string()))
        })
        .collect();
    let got_of: BTreeSet<(String, String)> = sources(doc)
        .filter_map(|s| Some((source_name(s)?, names(&s["copy_of"]))))
        .flat_map(|(n, ps)| ps.into_iter().map(move |p| (n.clone(), p)))
        .collect();
    let exp_copies: BTreeSet<(String, String)> = t
        .streams
        .iter()
        .flat_map(|st| {
            let primary = st.files.first().map(|f| base(f).to_string());
            st.files
                .iter()
                .skip(1)
                .filter_map(move |c| Some((primary.clone()?, base(c).to_string())))
        })
        .collect();
    let got_copies: BTreeSet<(String, String)> = sources(doc)
        .filter_map(|s| Some((source_name(s)?, names(&s["copies"]))))
        .flat_map(|(n, cs)| cs.into_iter().map(move |c| (n.clone(), c)))
        .collect();
    BTreeMap::from([
        ("log_copy_gap".to_string(), gaps),
        ("copy_of".to_string(), Tally::of(exp_of, got_of)),
        ("copies".to_string(), Tally::of(exp_copies, got_copies)),
    ])
}
