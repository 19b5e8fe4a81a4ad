//! The data a report page draws, built from what the checks already produced: the timeline's
//! rows as columns (one compact JSON array per field, times delta-encoded, repeated strings
//! through dictionaries), the lanes (the DB, DB rows no live process wrote, one per process),
//! the findings with their evidence resolved to rows, the clocks, and the naive-vs-aligned
//! counts. Nothing here decides what is wrong; it only places the findings on the page.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::checks::lifetimes::Process;
use crate::checks::matching::Matching;
use crate::checks::missing::{Summary, TypeCount};
use crate::checks::{Finding, FindingKind};
use crate::load::ClockDecision;
use crate::report::View;
use crate::report::table::first_line;
use crate::timeline::Timeline;

/// Characters of a row's message embedded (its first line): what `audit timeline` shows without
/// `--wide`; the whole text stays in the sources.
pub const MESSAGE_CHARS: usize = 60;
/// Evidence entries listed per finding (an unattributed burst can name thousands of rows).
const EVIDENCE_MAX: usize = 2000;
/// Findings that carry their story (`audit explain`'s, for that finding): a few KiB each.
const STORY_MAX: usize = 1000;

/// What the page is drawn from: the results of `audit check`, never recomputed.
pub struct Input<'a> {
    pub timeline: &'a Timeline,
    pub findings: &'a [Finding],
    pub matching: &'a Matching,
    pub processes: &'a [Process],
    pub decisions: &'a [ClockDecision],
    pub aligned: &'a Summary,
    pub naive: Option<&'a Summary>,
    /// The checked range, when one was given (`--since/--until/--window`).
    pub window: Option<crate::time::UtcRange>,
    /// The twin rule: expected `log − created_at` and the accepted distance, µs.
    pub lag_us: i64,
    pub tolerance_us: i64,
}

/// Strings stored once, referenced by index (index 0 is "absent").
#[derive(Default)]
struct Dict {
    index: HashMap<String, u32>,
    values: Vec<String>,
}

impl Dict {
    fn new() -> Dict {
        let mut d = Dict::default();
        d.id("");
        d
    }
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.values.len() as u32;
        self.values.push(s.to_string());
        self.index.insert(s.to_string(), i);
        i
    }
}

/// The timeline's rows, one array per field.
#[derive(Default, Serialize)]
struct Rows {
    /// µs since the previous row (the first: since `t0`); rows are ordered by UTC.
    dt: Vec<i64>,
    lane: Vec<u32>,
    /// File dictionary index (0: the DB).
    f: Vec<u32>,
    /// DB id, or the log line.
    r: Vec<i64>,
    k: Vec<u32>,
    e: Vec<u32>,
    l: Vec<u32>,
    s: Vec<u32>,
    /// Position id (0: none).
    p: Vec<i64>,
    /// UTC offset dictionary index: the source's own reading is `utc + offset`.
    o: Vec<u32>,
    m: Vec<String>,
    /// The twin's row index (-1: none).
    tw: Vec<i64>,
}

/// What the page embeds, for the command's summary line and docs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    pub rows: usize,
    pub findings: usize,
    pub pairs: usize,
    pub lanes: usize,
}

/// Lane numbers fixed by the page: the DB, then DB rows no live process wrote, then processes.
const LANE_DB: u32 = 0;
const LANE_GHOST: u32 = 1;

/// Builds the payload (a JSON value) and what it holds.
/// The page's data: `head` (everything but the rows, small) and the rows, serialized straight
/// from their arrays (a `serde_json::Value` of a day's 430 000 rows cost ~100 MB more).
#[derive(Serialize)]
pub struct Payload {
    #[serde(flatten)]
    pub head: Value,
    rows: Rows,
}

pub fn build(input: &Input<'_>) -> anyhow::Result<(Payload, Counts)> {
    let t = input.timeline;
    let v = View::new(t)?;
    let n = v.len();
    let mut lanes: Vec<Value> = vec![
        json!({ "kind": "db", "name": "monitoring.events", "detail": t.sources.events.as_ref().map(|e| format!("{} ({}, {} rows)", e.origin, e.kind, e.rows)) }),
        json!({ "kind": "ghost", "name": "DB writes, no live process", "detail": "rows named by unattributed_activity findings" }),
    ];
    let mut procs: Vec<&Process> = input.processes.iter().collect();
    procs.sort_by_key(|p| p.start);
    for p in &procs {
        lanes.push(json!({
            "kind": "process",
            "name": p.files.join(" + "),
            "pid": p.pid,
            "start": p.start,
            "end": p.end,
            "lock": p.lock.as_ref().map(|l| format!("{}:{}", l.file, l.line)),
            "ended_by": p.ended_by,
            "ended_at": p.ended_at.as_ref().map(|l| format!("{}:{}", l.file, l.line)),
            "lock_trouble": p.lock_trouble.iter().map(|l| format!("{}:{}", l.file, l.line)).collect::<Vec<_>>(),
            "db_rows": p.db_rows,
        }));
    }
    let ghost: std::collections::HashSet<i64> = input
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::UnattributedActivity)
        .flat_map(|f| f.event_ids.iter().copied().chain(f.event_id))
        .collect();

    let (mut files, mut kinds, mut types, mut levels, mut symbols, mut offsets) = (
        Dict::new(),
        Dict::new(),
        Dict::new(),
        Dict::new(),
        Dict::new(),
        Dict::new(),
    );
    files.values[0] = "db".into();
    let mut lane_of: HashMap<(String, Option<u32>), u32> = HashMap::new();
    let mut rows = Rows::default();
    let mut by_event: HashMap<i64, usize> = HashMap::new();
    let mut by_line: HashMap<(u32, u32), usize> = HashMap::new();
    let t0 = v.ts_utc.get(0).unwrap_or(0);
    let mut prev = t0;
    for i in 0..n {
        let ts = v.ts_utc.get(i).unwrap_or(prev);
        rows.dt.push(ts - prev);
        prev = ts;
        let is_db = v.s("source", i) == Some("db");
        let file = v.s("file", i).unwrap_or_default();
        let fid = if is_db { 0 } else { files.id(file) };
        let lane = if is_db {
            match v.event_id.get(i) {
                Some(id) if ghost.contains(&id) => LANE_GHOST,
                _ => LANE_DB,
            }
        } else {
            let pid = v.pid.get(i);
            let key = (file.to_string(), pid);
            match lane_of.get(&key) {
                Some(&l) => l,
                None => {
                    let l = procs
                        .iter()
                        .position(|p| {
                            p.files.iter().any(|f| f == file)
                                && (p.pid.is_none() || pid.is_none() || p.pid == pid)
                        })
                        .map(|k| k as u32 + 2)
                        .unwrap_or_else(|| {
                            lanes.push(json!({ "kind": "log", "name": file }));
                            lanes.len() as u32 - 1
                        });
                    lane_of.insert(key, l);
                    l
                }
            }
        };
        rows.lane.push(lane);
        rows.f.push(fid);
        let r = if is_db {
            let id = v.event_id.get(i).unwrap_or(0);
            by_event.insert(id, i);
            id
        } else {
            let line = v.line.get(i).unwrap_or(0);
            by_line.insert((fid, line), i);
            i64::from(line)
        };
        rows.r.push(r);
        let kind = v.s("kind", i).unwrap_or_default();
        rows.k.push(kinds.id(kind));
        rows.e
            .push(types.id(v.s("event_type", i).unwrap_or_default()));
        rows.l.push(levels.id(v.s("level", i).unwrap_or_default()));
        rows.s
            .push(symbols.id(v.s("symbol", i).unwrap_or_default()));
        rows.p.push(v.position_id.get(i).unwrap_or(0));
        rows.o
            .push(offsets.id(v.s("utc_offset", i).unwrap_or_default()));
        rows.m
            .push(first_line(&message(&v, i, is_db, kind), MESSAGE_CHARS));
        rows.tw.push(
            input
                .matching
                .twin_of(i)
                .map_or(-1, |p| if p.db == i { p.log as i64 } else { p.db as i64 }),
        );
    }

    let index = (!input.findings.is_empty()).then(|| crate::report::story::RowIndex::new(&v));
    let parts = crate::report::story::Parts {
        timeline: input.timeline,
        findings: input.findings,
        matching: input.matching,
        processes: input.processes,
        aligned: input.aligned,
        // The naive counts are the whole range's: a finding's story does not quote them.
        naive: None,
    };
    let findings: Vec<Value> = input
        .findings
        .iter()
        .enumerate()
        .map(|(k, f)| {
            let mut item = finding(k, f, &by_event, &by_line, &files, &v);
            if let (Some(index), true) = (&index, k < STORY_MAX) {
                item["story"] = story(f, parts, &v, index);
            }
            item
        })
        .collect();
    let counts = Counts {
        rows: n,
        findings: findings.len(),
        pairs: input.matching.pairs.len(),
        lanes: lanes.len(),
    };
    let (sources, _) = super::super::json::header(t);
    let plain: u64 = t
        .sources
        .logs
        .iter()
        .map(|l| l.stats.messages.total())
        .sum();
    let display = t.clocks.iter().find(|c| c.role == "display");
    let payload = json!({
        "version": 1,
        "audit": env!("CARGO_PKG_VERSION"),
        "title": title(t, n, t0, prev),
        "t0": t0,
        "t1": prev,
        "window": input.window.map(|w| [w.start.timestamp_micros(), w.end.timestamp_micros()]),
        "display": {
            "zone": display.map(|c| c.zone.clone()),
            "offset": display.and_then(|c| c.offsets.first().cloned()),
        },
        "lanes": lanes,
        "dict": {
            "file": files.values,
            "kind": kinds.values,
            "type": types.values,
            "level": levels.values,
            "symbol": symbols.values,
            "offset": offsets.values,
        },
        "findings": findings,
        "clocks": clocks(input),
        "counts": counts_json(input),
        "sources": sources,
        "not_embedded": { "plain_messages": plain, "message_chars": MESSAGE_CHARS },
    });
    Ok((
        Payload {
            head: payload,
            rows,
        },
        counts,
    ))
}

/// A row's text as `audit timeline` shows it: a log event's dict without its type prefix; a DB
/// row's error, else its correlation id and payload.
fn message(v: &View<'_>, i: usize, is_db: bool, kind: &str) -> String {
    let m = v.s("message", i).unwrap_or_default();
    if !is_db && kind == "event" {
        let et = v.s("event_type", i).unwrap_or_default();
        return m
            .strip_prefix(et)
            .and_then(|r| r.strip_prefix(": "))
            .unwrap_or(m)
            .to_string();
    }
    if is_db && m.is_empty() {
        let payload = v.s("payload", i).unwrap_or_default();
        return match v.s("correlation_id", i) {
            Some(c) => format!("{c} {payload}"),
            None => payload.to_string(),
        };
    }
    m.to_string()
}

fn title(t: &Timeline, rows: usize, from: i64, to: i64) -> String {
    let events = t
        .sources
        .events
        .as_ref()
        .map_or_else(|| "no DB source".to_string(), |e| e.origin.clone());
    let day = |us: i64| {
        chrono::DateTime::from_timestamp_micros(us)
            .unwrap_or_default()
            .format("%Y-%m-%d %H:%M")
            .to_string()
    };
    format!(
        "{events} + {} log file(s), {} … {} UTC, {rows} rows",
        t.sources.logs.len(),
        day(from),
        day(to)
    )
}

/// A finding as the page lists it: its place (instant and span), evidence resolved to rows.
fn finding(
    k: usize,
    f: &Finding,
    by_event: &HashMap<i64, usize>,
    by_line: &HashMap<(u32, u32), usize>,
    files: &Dict,
    v: &View<'_>,
) -> Value {
    let mut evidence: Vec<Value> = Vec::new();
    let mut ids: Vec<i64> = f.event_id.into_iter().collect();
    ids.extend(f.event_ids.iter().filter(|i| Some(**i) != f.event_id));
    let total = ids.len() + f.logs.len() + usize::from(f.log.is_some());
    for id in ids.iter().take(EVIDENCE_MAX) {
        evidence.push(json!({ "label": format!("db:{id}"), "row": by_event.get(id) }));
    }
    for l in f.log.iter().chain(&f.logs).take(EVIDENCE_MAX) {
        let row = files
            .index
            .get(&l.file)
            .and_then(|fid| by_line.get(&(*fid, l.line)));
        evidence.push(json!({ "label": format!("{}:{}", l.file, l.line), "row": row }));
    }
    // The span to show: the interval the finding names, else its evidence rows.
    let interval = |a: &str, b: &str| -> Option<(i64, i64)> {
        let p = |key: &str| {
            f.details
                .get(key)
                .and_then(Value::as_str)
                .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                .map(|d| d.timestamp_micros())
        };
        Some((p(a)?, p(b)?))
    };
    let rows_span = evidence
        .iter()
        .filter_map(|e| e["row"].as_u64())
        .filter_map(|r| v.ts_utc.get(r as usize))
        .fold(None, |acc: Option<(i64, i64)>, t| match acc {
            None => Some((t, t)),
            Some((a, b)) => Some((a.min(t), b.max(t))),
        });
    let span = interval("overlap_start_utc", "overlap_end_utc")
        .or_else(|| interval("gap_start_utc", "gap_end_utc"))
        .or(rows_span)
        .map_or((f.at_us, f.at_us), |(a, b)| {
            (a.min(f.at_us), b.max(f.at_us))
        });
    json!({
        "id": format!("finding-{}", k + 1),
        "kind": f.kind,
        "severity": f.severity,
        "class": f.class,
        "fingerprint": f.fingerprint,
        "baseline": f.baseline,
        "at": f.at_us,
        "span": [span.0, span.1],
        "explanation": f.explanation,
        "also": f.details.get("reasons").and_then(Value::as_array).map(|r| r.iter().skip(1).cloned().collect::<Vec<_>>()),
        "evidence": evidence,
        "evidence_total": total,
        "processes": f.processes.iter().map(|p| match p.pid {
            Some(pid) => format!("{} (PID {pid})", p.file),
            None => p.file.clone(),
        }).collect::<Vec<_>>(),
        "details": f.details,
    })
}

/// The story of one finding, as `audit explain` tells it for its rows and lines.
fn story(
    f: &Finding,
    parts: crate::report::story::Parts<'_>,
    v: &View<'_>,
    index: &crate::report::story::RowIndex,
) -> Value {
    let subject = crate::report::story::Subject::of_finding(f);
    let told = crate::report::story::Story::tell(&subject, parts, v, index);
    told.steps
        .iter()
        .map(|s| json!({ "kind": s.kind, "text": s.text }))
        .collect()
}

/// Every clock as applied, with the detection behind it (anchors, spread, skew, drift,
/// agreement) and its steps.
fn clocks(input: &Input<'_>) -> Vec<Value> {
    input
        .timeline
        .clocks
        .iter()
        .map(|c| {
            let d = input
                .decisions
                .iter()
                .find(|d| c.role == "log" && d.file == c.source);
            json!({
                "source": c.source,
                "role": c.role,
                "zone": c.zone,
                "offsets": c.offsets,
                "steps": c.steps,
                "provenance": c.provenance.to_string(),
                "method": serde_json::to_value(&c.provenance).ok().and_then(|p| p.get("method").cloned()),
                "assumed": c.provenance.is_assumed(),
                "estimate": d.and_then(|d| d.estimate.as_ref()),
                "warning": d.and_then(|d| d.warning.clone()),
            })
        })
        .collect()
}

/// `missing-logs` counts, aligned and naive, in total and by event type.
fn counts_json(input: &Input<'_>) -> Value {
    let zero = TypeCount::default();
    let a = input.aligned;
    let mut types: Vec<&String> = a.by_type.keys().collect();
    if let Some(n) = input.naive {
        types.extend(n.by_type.keys());
    }
    types.sort();
    types.dedup();
    let by_type: Vec<Value> = types
        .into_iter()
        .map(|ty| {
            let x = a.by_type.get(ty).unwrap_or(&zero);
            let y = input.naive.and_then(|n| n.by_type.get(ty));
            json!([
                ty,
                x.db_rows,
                y.map(|y| y.log_lines),
                x.log_lines,
                x.twins,
                x.missing_in_log,
                x.missing_in_db
            ])
        })
        .collect();
    json!({
        "aligned": a.total,
        "naive": input.naive.map(|n| &n.total),
        "loose_twins": a.loose_twins,
        "by_type": by_type,
        "lag_ms": input.lag_us as f64 / 1000.0,
        "tolerance_ms": input.tolerance_us as f64 / 1000.0,
    })
}
