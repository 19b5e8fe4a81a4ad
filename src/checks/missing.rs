//! `missing-logs`: DB rows with no log twin, and log event lines with no DB row.
//!
//! Coverage matters: a row written when no log file was being written is `no_log_coverage`,
//! not a lost log line; rows within a grace window of a file's first or last record are not
//! accused either (the process may have died between the INSERT and the write).

use rustc_hash::FxHashMap;
use std::collections::BTreeMap;

use serde::Serialize;

use super::matching::Matching;
use super::{Finding, FindingKind, LogRef, ProcessRef, Run, RunOf, Severity};
use crate::load::levels::Level;
use crate::rows::Coverage;
use crate::time::UtcRange;
use crate::time::hms;
use crate::timeline::View;

/// Which side to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Direction {
    Both,
    DbOnly,
    LogOnly,
}

/// True when a finding of `kind` belongs to the side `direction` reports (every kind of
/// another check does).
pub fn reports(direction: Direction, kind: FindingKind) -> bool {
    match direction {
        Direction::Both => true,
        Direction::DbOnly => !matches!(kind, FindingKind::MissingInDb | FindingKind::NoDbCoverage),
        Direction::LogOnly => {
            !matches!(kind, FindingKind::MissingInLog | FindingKind::NoLogCoverage)
        }
    }
}

#[derive(Debug, Clone)]
pub struct Params {
    /// Only findings inside this range are reported (the data may extend beyond it).
    pub window: Option<UtcRange>,
    pub direction: Direction,
    /// Log files' coverage, from the whole files (not just the loaded window).
    pub logs: Vec<Coverage>,
    /// First and last instant the DB covers: its first and last created_at (a snapshot), or
    /// to the time of the query (a live database).
    pub db_span: Option<(i64, i64)>,
    /// The span ends at the time of the query: its end allows the queue's flush interval.
    pub db_live: bool,
    /// Rows this close to an edge of a file's coverage that is not a clean start or stop are
    /// not accused; log lines this close to the DB's span's edges neither.
    pub grace_us: i64,
    /// Log files whose clock is not settled: their lines are not judged.
    pub unjudged: Vec<String>,
    /// Each file's logging level and how it was decided (files not listed: INFO).
    pub levels: Vec<(String, Level, String)>,
}

/// How far before a file's first record (or after its last) a row its level keeps out is
/// counted as its process's, when the level also hides the lock line that would say when it
/// started (or the line that would say it stopped).
const LEVEL_EDGE_US: i64 = 60_000_000;

/// What becomes of a DB row without a twin.
enum Fate<'a> {
    /// A file was being written and its level lets the row's line through: lost.
    Missing(&'a Coverage),
    /// The file's level keeps the row's line out (`edge`: just outside its records, where the
    /// level hides the lines that would say when its process started or stopped).
    Filtered(&'a Coverage, bool),
    /// No file covers it.
    Uncovered,
}

fn level_of<'a>(p: &'a Params, file: &str) -> Option<&'a (String, Level, String)> {
    p.levels.iter().find(|l| l.0 == file)
}

fn keeps_out(p: &Params, file: &str, line: Level) -> bool {
    level_of(p, file).is_some_and(|l| line < l.1)
}

fn fate<'a>(p: &'a Params, t: i64, severity: Option<&str>) -> Fate<'a> {
    let line = Level::of_row(severity);
    if let Some(c) = covered_by(p, t) {
        return if keeps_out(p, &c.file, line) {
            Fate::Filtered(c, false)
        } else {
            Fate::Missing(c)
        };
    }
    let edge = p.logs.iter().find(|c| {
        keeps_out(p, &c.file, line)
            && ((!c.clean_start && c.start - LEVEL_EDGE_US <= t && t < c.start + p.grace_us)
                || (!c.clean_end && c.end - p.grace_us < t && t <= c.end + LEVEL_EDGE_US))
    });
    match edge {
        Some(c) => Fate::Filtered(c, true),
        None => Fate::Uncovered,
    }
}

/// EventLogger flushes every 5 s: a live database may not hold the last seconds' rows yet.
pub const FLUSH_US: i64 = 10_000_000;

/// Counts per event type.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct TypeCount {
    pub db_rows: usize,
    pub log_lines: usize,
    pub twins: usize,
    pub missing_in_log: usize,
    pub missing_in_db: usize,
    pub no_log_coverage: usize,
    pub no_db_coverage: usize,
    /// Rows whose line the file's logging level keeps out: a setting, not a loss.
    pub filtered_by_level: usize,
}

impl TypeCount {
    fn add(&mut self, c: &TypeCount) {
        self.db_rows += c.db_rows;
        self.log_lines += c.log_lines;
        self.twins += c.twins;
        self.missing_in_log += c.missing_in_log;
        self.missing_in_db += c.missing_in_db;
        self.no_log_coverage += c.no_log_coverage;
        self.no_db_coverage += c.no_db_coverage;
        self.filtered_by_level += c.filtered_by_level;
    }
}

/// Two windows' counts as one (the windows do not overlap: each row is counted in one).
pub fn add(mut a: Summary, b: &Summary) -> Summary {
    a.total.add(&b.total);
    for (k, c) in &b.by_type {
        a.by_type.entry(k.clone()).or_default().add(c);
    }
    a.loose_twins += b.loose_twins;
    a
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub total: TypeCount,
    pub by_type: BTreeMap<String, TypeCount>,
    /// Pairs matched on key fields only (payload differed).
    pub loose_twins: usize,
}

fn in_window(p: &Params, t: i64) -> bool {
    p.window
        .is_none_or(|w| w.start.timestamp_micros() <= t && t < w.end.timestamp_micros())
}

fn severity_of(event_type: &str) -> Severity {
    const MONEY: [&str; 5] = ["position_", "order_", "stop_loss", "trade", "trailing_stop"];
    if MONEY.iter().any(|m| event_type.starts_with(m)) {
        Severity::High
    } else {
        Severity::Medium
    }
}

/// Row indices of each log file, in time order (the frame is ordered by ts_utc).
fn rows_by_file<'a>(v: &View<'a>) -> FxHashMap<&'a str, Vec<usize>> {
    let mut by: FxHashMap<&'a str, Vec<usize>> = FxHashMap::default();
    for i in 0..v.len() {
        if let Some(f) = v.s("file", i) {
            by.entry(f).or_default().push(i);
        }
    }
    by
}

/// The nearest record of a file before and after `t` (row indices), for evidence: a binary
/// search in the file's rows.
fn neighbours(v: &View<'_>, rows: &[usize], t: i64) -> (Option<usize>, Option<usize>) {
    let k = rows.partition_point(|&i| v.ts_utc.get(i).unwrap_or(0) < t);
    (k.checked_sub(1).map(|b| rows[b]), rows.get(k).copied())
}

/// The explanation of a [`FindingKind::NoLogCoverage`] run.
pub fn no_coverage_text(r: &Run, rows: usize) -> String {
    format!(
        "{rows} DB row(s) from {} to {} UTC were written when no log file covers that time ({}): not evidence of lost log lines",
        hms(r.first),
        hms(r.last),
        r.key
    )
}

/// The instants a coverage vouches for: its records, less the grace at an edge that is not
/// clean.
fn vouches(p: &Params, c: &Coverage) -> (i64, i64) {
    let start = if c.clean_start {
        c.start
    } else {
        c.start + p.grace_us
    };
    let end = if c.clean_end {
        c.end
    } else {
        c.end - p.grace_us
    };
    (start, end)
}

/// The file covering `t`.
fn covered_by(p: &Params, t: i64) -> Option<&Coverage> {
    p.logs.iter().find(|c| {
        let (a, b) = vouches(p, c);
        a <= t && t <= b
    })
}

/// Where a log line at `t` stands against the DB's span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DbSide {
    /// Inside it: a line there should have a row.
    Inside,
    /// Within the grace of an edge: too close to call.
    Edge,
    Before,
    After,
}

fn db_side(p: &Params, t: i64) -> Option<DbSide> {
    let (a, b) = p.db_span?;
    let end_grace = if p.db_live {
        p.grace_us.max(FLUSH_US)
    } else {
        p.grace_us
    };
    Some(if t < a - p.grace_us {
        DbSide::Before
    } else if t > b + p.grace_us && !p.db_live {
        DbSide::After
    } else if a + p.grace_us <= t && t <= b - end_grace {
        DbSide::Inside
    } else {
        DbSide::Edge
    })
}

/// Where an uncovered instant is: at an edge of a file that is not clean (within its grace),
/// or between files; never "before the start" of a file it is after.
fn where_uncovered(p: &Params, t: i64) -> String {
    let grace = p.grace_us as f64 / 1e6;
    if let Some(c) = p
        .logs
        .iter()
        .find(|c| !c.clean_start && c.start <= t && t < c.start + p.grace_us)
    {
        return format!(
            "in the first {grace:.1} s of {}, which does not begin with a clean process start",
            c.file
        );
    }
    if let Some(c) = p
        .logs
        .iter()
        .find(|c| !c.clean_end && c.end - p.grace_us < t && t <= c.end)
    {
        return format!(
            "in the last {grace:.1} s of {}, which does not end with a clean stop",
            c.file
        );
    }
    let prev = p.logs.iter().filter(|c| c.end < t).max_by_key(|c| c.end);
    let next = p
        .logs
        .iter()
        .filter(|c| c.start > t)
        .min_by_key(|c| c.start);
    match (prev, next) {
        (Some(a), Some(b)) => format!("between the end of {} and the start of {}", a.file, b.file),
        (Some(a), None) => format!("after the end of {}", a.file),
        (None, Some(b)) => format!("before the start of {}", b.file),
        (None, None) => "and no log file was given".to_string(),
    }
}

/// A log line of a file whose clock is settled.
fn judged(p: &Params, v: &View<'_>, i: usize) -> bool {
    v.s("file", i)
        .is_none_or(|f| !p.unjudged.iter().any(|u| u == f))
}

/// The counts of [`check`], without building its findings: the naive reading's counts need
/// only these (its ~190 000 unmatched rows on a day cost 0.7 s as findings).
pub fn summary(v: &View<'_>, m: &Matching, p: &Params) -> Summary {
    let mut by_type: BTreeMap<String, TypeCount> = BTreeMap::new();
    let et = |i: usize| v.s("event_type", i).unwrap_or("?").to_string();
    for i in 0..v.len() {
        let t = v.ts_utc.get(i).unwrap_or(0);
        if !in_window(p, t) {
            continue;
        }
        let kind = v.s("kind", i).unwrap_or_default();
        match (v.s("source", i), kind) {
            (Some("db"), "event") => {
                let c = by_type.entry(et(i)).or_default();
                c.db_rows += 1;
                if m.twin_of(i).is_some() {
                    c.twins += 1;
                }
            }
            (Some("log"), "event" | "malformed_event") => {
                by_type.entry(et(i)).or_default().log_lines += 1
            }
            _ => {}
        }
    }
    if p.direction != Direction::LogOnly {
        for &i in &m.db_unmatched {
            let t = v.ts_utc.get(i).unwrap_or(0);
            if !in_window(p, t) {
                continue;
            }
            let c = by_type.entry(et(i)).or_default();
            match fate(p, t, v.s("level", i)) {
                Fate::Missing(_) => c.missing_in_log += 1,
                Fate::Filtered(..) => c.filtered_by_level += 1,
                Fate::Uncovered => c.no_log_coverage += 1,
            }
        }
    }
    if p.direction != Direction::DbOnly {
        for &i in &m.log_unmatched {
            let t = v.ts_utc.get(i).unwrap_or(0);
            if !in_window(p, t) || !judged(p, v, i) {
                continue;
            }
            match db_side(p, t) {
                Some(DbSide::Inside) => by_type.entry(et(i)).or_default().missing_in_db += 1,
                Some(DbSide::Before | DbSide::After) => {
                    by_type.entry(et(i)).or_default().no_db_coverage += 1
                }
                _ => {}
            }
        }
    }
    let mut total = TypeCount::default();
    for c in by_type.values() {
        total.add(c);
    }
    let loose_twins = m
        .pairs
        .iter()
        .filter(|x| x.loose && in_window(p, v.ts_utc.get(x.db).unwrap_or(0)))
        .count();
    Summary {
        total,
        by_type,
        loose_twins,
    }
}

/// One file's rows whose line its logging level keeps out, as one info finding.
fn level_filtered(
    v: &View<'_>,
    p: &Params,
    by_file: &FxHashMap<&str, Vec<usize>>,
    file: &str,
    rows: &[usize],
    edge: usize,
) -> Finding {
    let (level, why) = level_of(p, file).map_or((Level::Info, ""), |l| (l.1, l.2.as_str()));
    let mut by_type: BTreeMap<String, usize> = BTreeMap::new();
    for &i in rows {
        *by_type
            .entry(v.s("event_type", i).unwrap_or("?").to_string())
            .or_default() += 1;
    }
    let first = v.ts_utc.get(rows[0]).unwrap_or(0);
    let last = v
        .ts_utc
        .get(*rows.last().unwrap_or(&rows[0]))
        .unwrap_or(first);
    let line = by_file
        .get(file)
        .and_then(|r| r.first())
        .and_then(|&i| v.line.get(i))
        .unwrap_or(1);
    let ids = rows
        .iter()
        .map(|&i| v.event_id.get(i).unwrap_or(0))
        .collect();
    LevelFiltered {
        file: file.to_string(),
        line,
        level: level.name().to_string(),
        why: why.to_string(),
        first,
        last,
        by_type,
        ids,
        edges: edge,
    }
    .finding()
}

/// What a `log_level_filtered` finding says, to build it or join two slices' findings of one
/// file.
struct LevelFiltered {
    file: String,
    line: u32,
    level: String,
    why: String,
    first: i64,
    last: i64,
    by_type: BTreeMap<String, usize>,
    ids: Vec<i64>,
    edges: usize,
}

impl LevelFiltered {
    fn of(f: &Finding) -> Option<LevelFiltered> {
        let d = &f.details;
        let log = f.log.as_ref()?;
        Some(LevelFiltered {
            file: log.file.clone(),
            line: log.line,
            level: d["level"].as_str()?.to_string(),
            why: d["level_by"].as_str().unwrap_or_default().to_string(),
            first: crate::time::parse_instant(d["from_utc"].as_str()?)
                .ok()?
                .timestamp_micros(),
            last: crate::time::parse_instant(d["to_utc"].as_str()?)
                .ok()?
                .timestamp_micros(),
            by_type: serde_json::from_value(d["by_type"].clone()).ok()?,
            ids: f.event_ids.clone(),
            edges: d["at_edges"].as_u64()? as usize,
        })
    }

    fn finding(mut self) -> Finding {
        self.ids.sort_unstable();
        self.ids.dedup();
        let mut top: Vec<(&String, &usize)> = self.by_type.iter().collect();
        top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let mut shown: Vec<String> = top
            .iter()
            .take(3)
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        if top.len() > 3 {
            shown.push(format!(
                "{} of {} other types",
                top[3..].iter().map(|x| *x.1).sum::<usize>(),
                top.len() - 3
            ));
        }
        let edges = match self.edges {
            0 => String::new(),
            n => format!(
                "; {n} of them are just before its first record or after its last, where the same level hides the lock lines that would say when its process started or stopped"
            ),
        };
        let kept = match self.level.as_str() {
            "ERROR" | "CRITICAL" => "at INFO or WARNING",
            _ => "at INFO",
        };
        let rows = self.ids.len();
        let mut f = Finding::new(
            FindingKind::LogLevelFiltered,
            Severity::Info,
            self.first,
            format!(
                "{rows} DB row(s) from {} to {} UTC ({}) have no line in {}, which was written at logging level {} ({}): EventLogger writes their lines {kept}, below that level, so they were never written — a setting, not a loss; rows at or above it without their line are still reported missing{edges}",
                hms(self.first),
                hms(self.last),
                shown.join(", "),
                self.file,
                self.level,
                self.why,
            ),
        );
        f.log = Some(LogRef {
            file: self.file.clone(),
            line: self.line,
            copy: false,
        });
        f.details = serde_json::json!({
            "file": self.file,
            "level": self.level,
            "level_by": self.why,
            "rows": rows,
            "by_type": self.by_type,
            "at_edges": self.edges,
            "from_utc": crate::time::rfc3339_micros(self.first),
            "to_utc": crate::time::rfc3339_micros(self.last),
        });
        f.event_ids = self.ids;
        f.sealed()
    }
}

/// Time slices' `log_level_filtered` findings of one file as one.
pub fn join_level_filtered(findings: Vec<Finding>) -> Vec<Finding> {
    let mut out = Vec::with_capacity(findings.len());
    let mut by_file: BTreeMap<String, LevelFiltered> = BTreeMap::new();
    for f in findings {
        let Some(x) = (f.kind == FindingKind::LogLevelFiltered)
            .then(|| LevelFiltered::of(&f))
            .flatten()
        else {
            out.push(f);
            continue;
        };
        match by_file.get_mut(&x.file) {
            None => {
                by_file.insert(x.file.clone(), x);
            }
            Some(a) => {
                a.line = a.line.min(x.line);
                a.first = a.first.min(x.first);
                a.last = a.last.max(x.last);
                for (k, n) in x.by_type {
                    *a.by_type.entry(k).or_default() += n;
                }
                a.ids.extend(x.ids);
                a.edges += x.edges;
            }
        }
    }
    out.extend(by_file.into_values().map(LevelFiltered::finding));
    out
}

/// Runs the check over a matched timeline: its findings and [`summary`].
pub fn check(v: &View<'_>, m: &Matching, p: &Params) -> (Vec<Finding>, Summary) {
    let et = |i: usize| v.s("event_type", i).unwrap_or("?").to_string();
    let mut findings = Vec::new();
    // Built once, not per row: ~190 000 unmatched rows on a naive day made per-row scans
    // quadratic.
    let by_file = if m.db_unmatched.is_empty() {
        FxHashMap::default()
    } else {
        rows_by_file(v)
    };
    // Matched DB rows by (event_type, payload): where an unmatched row's identical sibling is.
    let mut twinned: FxHashMap<(Option<&str>, Option<&str>), Vec<usize>> = FxHashMap::default();
    if !m.db_unmatched.is_empty() {
        for x in &m.pairs {
            twinned
                .entry((v.s("event_type", x.db), v.s("payload", x.db)))
                .or_default()
                .push(x.db);
        }
    }
    // DB rows without a twin.
    let mut uncovered: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut filtered: BTreeMap<&str, (Vec<usize>, usize)> = BTreeMap::new();
    if p.direction != Direction::LogOnly {
        for &i in &m.db_unmatched {
            let t = v.ts_utc.get(i).unwrap_or(0);
            if !in_window(p, t) {
                continue;
            }
            let etype = et(i);
            let id = v.event_id.get(i).unwrap_or(0);
            let cov = match fate(p, t, v.s("level", i)) {
                Fate::Missing(c) => c,
                Fate::Filtered(c, edge) => {
                    let e = filtered.entry(c.file.as_str()).or_default();
                    e.0.push(i);
                    e.1 += usize::from(edge);
                    continue;
                }
                Fate::Uncovered => {
                    uncovered.entry(where_uncovered(p, t)).or_default().push(i);
                    continue;
                }
            };
            let (before, after) = by_file
                .get(cov.file.as_str())
                .map_or((None, None), |rows| neighbours(v, rows, t));
            let around = match (before, after) {
                (Some(b), Some(a)) => format!(
                    "; its records around it are {:.1} s before (line {}) and {:.1} s after (line {})",
                    (t - v.ts_utc.get(b).unwrap_or(t)) as f64 / 1e6,
                    v.line.get(b).unwrap_or(0),
                    (v.ts_utc.get(a).unwrap_or(t) - t) as f64 / 1e6,
                    v.line.get(a).unwrap_or(0)
                ),
                _ => String::new(),
            };
            // An identical row with a twin: this one is the extra copy.
            let payload = v.s("payload", i);
            let sibling = twinned
                .get(&(v.s("event_type", i), payload))
                .and_then(|ds| {
                    ds.iter()
                        .copied()
                        .find(|&d| d != i && (v.ts_utc.get(d).unwrap_or(0) - t).abs() <= 1_000_000)
                });
            let dup = sibling
                .map(|d| format!("; row {} with the same payload has the log line, so this row is a second copy of one logged event", v.event_id.get(d).unwrap_or(0)))
                .unwrap_or_default();
            // A direct write logs `Event queue full` just before its INSERT; the event line that
            // should follow it was never written.
            let direct = [before, after].into_iter().flatten().find(|&k| {
                v.s("kind", k) == Some("queue_full")
                    && (v.ts_utc.get(k).unwrap_or(0) - t).abs() <= 100_000
            });
            let direct_note = direct
                .map(|k| format!("; line {} is `Event queue full, logging directly`: the row was written directly, and the log line that should follow was never written", v.line.get(k).unwrap_or(0)))
                .unwrap_or_default();
            let what = match v.s("symbol", i) {
                Some(s) => format!("{etype} {s}"),
                None => etype.clone(),
            };
            let mut f = Finding::new(
                FindingKind::MissingInLog,
                if sibling.is_some() {
                    Severity::Medium
                } else {
                    severity_of(&etype)
                },
                t,
                format!(
                    "DB row {id} ({what}, {} UTC) has no log line, though {} was writing then{around}{dup}{direct_note}",
                    hms(t),
                    cov.file
                ),
            );
            f.event_id = Some(id);
            f.processes = vec![ProcessRef::of(cov)];
            f.log = before.map(|b| LogRef {
                file: cov.file.clone(),
                line: v.line.get(b).unwrap_or(0),
                copy: false,
            });
            if let Some(d) = sibling {
                f.event_ids = vec![v.event_id.get(d).unwrap_or(0)];
            }
            findings.push(f.sealed());
        }
    }
    for (file, (rows, edge)) in filtered {
        findings.push(level_filtered(v, p, &by_file, file, &rows, edge));
    }
    for (between, rows) in uncovered {
        let first = v.ts_utc.get(rows[0]).unwrap_or(0);
        let last = v
            .ts_utc
            .get(*rows.last().unwrap_or(&rows[0]))
            .unwrap_or(first);
        let run = Run {
            of: RunOf::NoCoverage,
            key: between,
            first,
            last,
            flush_lines: 0,
        };
        let mut f = Finding::new(
            FindingKind::NoLogCoverage,
            Severity::Info,
            first,
            no_coverage_text(&run, rows.len()),
        );
        f.event_ids = rows
            .iter()
            .map(|&i| v.event_id.get(i).unwrap_or(0))
            .collect();
        f.run = Some(run);
        findings.push(f.sealed());
    }

    // Log event lines without a DB row: inside the DB's span, a lost row; outside it, lines
    // the DB cannot answer for (a stale snapshot, a database that was down), per file and side.
    let mut outside: BTreeMap<(String, bool), Vec<usize>> = BTreeMap::new();
    if p.direction != Direction::DbOnly {
        for &i in &m.log_unmatched {
            let t = v.ts_utc.get(i).unwrap_or(0);
            if !in_window(p, t) || !judged(p, v, i) {
                continue;
            }
            match db_side(p, t) {
                Some(DbSide::Inside) => {}
                Some(side @ (DbSide::Before | DbSide::After)) => {
                    let file = v.s("file", i).unwrap_or_default().to_string();
                    outside
                        .entry((file, side == DbSide::After))
                        .or_default()
                        .push(i);
                    continue;
                }
                _ => continue,
            }
            let etype = et(i);
            let file = v.s("file", i).unwrap_or_default().to_string();
            let line = v.line.get(i).unwrap_or(0);
            // A failed batch write in the same file shortly after explains lost rows.
            let failed = (i..v.len())
                .take_while(|&k| v.ts_utc.get(k).unwrap_or(0) <= t + 10_000_000)
                .find(|&k| {
                    v.s("kind", k) == Some("batch_write_failed")
                        && v.s("file", k) == Some(file.as_str())
                });
            let why = failed
                .map(|k| format!("; `EventLogger batch write failed` follows at line {}: the batch holding it was lost", v.line.get(k).unwrap_or(0)))
                .unwrap_or_default();
            let mut f = Finding::new(
                FindingKind::MissingInDb,
                Severity::Medium,
                t,
                format!(
                    "{file}:{line} logged {etype} at {} UTC but no DB row matches it{why}",
                    hms(t)
                ),
            );
            f.log = Some(LogRef {
                file: file.clone(),
                line,
                copy: false,
            });
            if let Some(k) = failed {
                f.logs = vec![LogRef {
                    file,
                    line: v.line.get(k).unwrap_or(0),
                    copy: false,
                }];
            }
            findings.push(f.sealed());
        }
    }

    for ((file, after), rows) in outside {
        let first = v.ts_utc.get(rows[0]).unwrap_or(0);
        let last = v
            .ts_utc
            .get(*rows.last().unwrap_or(&rows[0]))
            .unwrap_or(first);
        let (lines, stretch) = (rows.len(), (last - first) as f64 / 1e6);
        let (db_first, db_last) = p.db_span.unwrap_or((0, 0));
        let side = if after {
            format!("after the DB's newest row ({} UTC)", hms(db_last))
        } else {
            format!("before the DB's oldest row ({} UTC)", hms(db_first))
        };
        // A minute of the bot's work the DB cannot answer for fails the gate: a stale snapshot
        // and a database that was down both deserve attention.
        let severity = if stretch > 60.0 {
            Severity::Medium
        } else {
            Severity::Info
        };
        // The file's own word for it: the batch writes that failed meanwhile.
        let failed: Vec<u32> = (0..v.len())
            .filter(|&k| {
                v.s("kind", k) == Some("batch_write_failed")
                    && v.s("file", k) == Some(file.as_str())
                    && (first..=last + 10_000_000).contains(&v.ts_utc.get(k).unwrap_or(0))
            })
            .filter_map(|k| v.line.get(k))
            .collect();
        let refused = match failed.first() {
            Some(l) => format!(
                "; its EventLogger batch writes failed {} time(s) meanwhile (first at line {l}): the database refused them",
                failed.len()
            ),
            None => String::new(),
        };
        let mut f = Finding::new(
            FindingKind::NoDbCoverage,
            severity,
            first,
            format!(
                "{lines} event line(s) of {file} from {} to {} UTC ({stretch:.0} s) were logged {side}: the database holds nothing of that time (a stale snapshot, or the database was down), so they are not judged as lost rows{refused}",
                hms(first),
                hms(last)
            ),
        );
        f.log = Some(LogRef {
            file: file.clone(),
            line: v.line.get(rows[0]).unwrap_or(0),
            copy: false,
        });
        f.logs = vec![LogRef {
            file,
            line: v.line.get(*rows.last().unwrap_or(&rows[0])).unwrap_or(0),
            copy: false,
        }];
        f.details = serde_json::json!({ "lines": lines, "seconds": stretch, "after": after, "failed_batches": failed.len() });
        findings.push(f.sealed());
    }

    super::sort(&mut findings);
    (findings, summary(v, m, p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::matching::match_twins;
    use crate::checks::testkit::{Tb, at};

    fn run(t: &crate::timeline::Timeline, p: &Params) -> (Vec<Finding>, Summary) {
        let v = View::new(t).unwrap();
        let m = match_twins(&v, 100_000, 0);
        check(&v, &m, p)
    }

    fn params(window: Option<(f64, f64)>, logs: Vec<Coverage>) -> Params {
        Params {
            window: window.map(|(a, b)| UtcRange {
                start: chrono::DateTime::from_timestamp_micros(at(a)).unwrap(),
                end: chrono::DateTime::from_timestamp_micros(at(b)).unwrap(),
            }),
            direction: Direction::Both,
            logs,
            db_span: Some((at(-600_000.0), at(600_000.0))),
            db_live: false,
            grace_us: 2_000_000,
            unjudged: Vec::new(),
            levels: Vec::new(),
        }
    }

    fn cov(file: &str, a: f64, b: f64) -> Coverage {
        Coverage {
            file: file.into(),
            pid: Some(1),
            start: at(a),
            end: at(b),
            clean_start: false,
            clean_end: false,
            copy_of: None,
        }
    }

    #[test]
    fn a_level_keeps_out_only_rows_below_it_and_at_edges_it_hides() {
        use crate::load::levels::Level;
        // a.log at WARNING, records from 0 to 60 s, no lock line (unclean edges).
        let t = Tb::new()
            .db_at(1, "position_updated", "INFO", 30_000.0)
            .db_at(2, "price_alert", "WARNING", 31_000.0)
            .db_at(3, "position_error", "ERROR", 32_000.0)
            .db_at(4, "order_placed", "INFO", -30_000.0)
            .db_at(5, "order_placed", "INFO", -90_000.0)
            .db_at(6, "order_placed", "CRITICAL", 40_000.0)
            .log("a.log", 1, crate::rows::Kind::Message, None, None, 0.0)
            .log("a.log", 2, crate::rows::Kind::Message, None, None, 60_000.0)
            .build();
        let mut p = params(None, vec![cov("a.log", 0.0, 60_000.0)]);
        p.levels = vec![("a.log".into(), Level::Warning, "inferred".into())];
        let (f, s) = run(&t, &p);
        let of = |k: FindingKind| -> Vec<&Finding> { f.iter().filter(|x| x.kind == k).collect() };
        // 2 and 3 are at or above WARNING: still missing.
        let missing: Vec<i64> = of(FindingKind::MissingInLog)
            .iter()
            .filter_map(|x| x.event_id)
            .collect();
        assert_eq!(missing, vec![2, 3]);
        // 1 and 6 (CRITICAL rows are logged at INFO) inside, 4 in the 60 s before the first
        // record: one finding for the file; 5 is further out, not its.
        let lf = of(FindingKind::LogLevelFiltered);
        assert_eq!(lf.len(), 1);
        assert_eq!(lf[0].event_ids, vec![1, 4, 6]);
        assert_eq!(lf[0].details["at_edges"], 1);
        assert_eq!(lf[0].severity, Severity::Info);
        assert_eq!(of(FindingKind::NoLogCoverage)[0].event_ids, vec![5]);
        assert_eq!(s.total.filtered_by_level, 3);
        assert_eq!(s.total.missing_in_log, 2);
        // At INFO the same rows are missing.
        p.levels[0].1 = Level::Info;
        let (f, s) = run(&t, &p);
        assert_eq!(s.total.filtered_by_level, 0);
        assert_eq!(s.total.missing_in_log, 4);
        assert!(f.iter().all(|x| x.kind != FindingKind::LogLevelFiltered));
    }

    #[test]
    fn a_row_on_the_window_start_is_in_and_on_the_end_is_out() {
        let t = Tb::new()
            .db(1, "e", r#"{"a":1}"#, 0.0)
            .db(2, "e", r#"{"a":2}"#, 60_000.0)
            .log(
                "a.log",
                1,
                crate::rows::Kind::Message,
                None,
                None,
                -30_000.0,
            )
            .log("a.log", 2, crate::rows::Kind::Message, None, None, 90_000.0)
            .build();
        let (f, s) = run(
            &t,
            &params(
                Some((0.0, 60_000.0)),
                vec![cov("a.log", -30_000.0, 90_000.0)],
            ),
        );
        assert_eq!(s.total.db_rows, 1);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].kind, FindingKind::MissingInLog);
        assert_eq!(f[0].event_id, Some(1));
    }

    #[test]
    fn a_twin_just_outside_the_window_still_counts() {
        // Row at 59.999 s, its log line at 60.002 s: past the window end, still its twin.
        let t = Tb::new()
            .db(1, "e", r#"{"a":1}"#, 59_999.0)
            .log_event("a.log", 5, "e", r#"{"a":1}"#, 60_002.0)
            .log(
                "a.log",
                1,
                crate::rows::Kind::Message,
                None,
                None,
                -30_000.0,
            )
            .log("a.log", 9, crate::rows::Kind::Message, None, None, 90_000.0)
            .build();
        let (f, s) = run(
            &t,
            &params(
                Some((0.0, 60_000.0)),
                vec![cov("a.log", -30_000.0, 90_000.0)],
            ),
        );
        assert!(f.is_empty(), "{f:?}");
        assert_eq!(
            (s.total.db_rows, s.total.twins, s.total.log_lines),
            (1, 1, 0)
        );
    }

    #[test]
    fn no_coverage_is_not_a_lost_line_and_edges_get_grace() {
        let t = Tb::new()
            .db(1, "e", r#"{"a":1}"#, 100_000.0) // after a.log ended: no coverage
            .db(2, "e", r#"{"a":2}"#, 49_000.0) // 1 s before a.log's last record: grace
            .db(3, "e", r#"{"a":3}"#, 20_000.0) // well inside: missing
            .build();
        let (f, s) = run(&t, &params(None, vec![cov("a.log", 0.0, 50_000.0)]));
        let kinds: Vec<(FindingKind, Vec<i64>)> = f
            .iter()
            .map(|x| {
                (
                    x.kind,
                    x.event_id.into_iter().chain(x.event_ids.clone()).collect(),
                )
            })
            .collect();
        assert!(
            kinds.contains(&(FindingKind::MissingInLog, vec![3])),
            "{kinds:?}"
        );
        // Row 2 is in the grace of an end that is not a clean stop, row 1 after the end: each
        // is said as it is.
        assert!(
            kinds.contains(&(FindingKind::NoLogCoverage, vec![2])),
            "{kinds:?}"
        );
        assert!(
            kinds.contains(&(FindingKind::NoLogCoverage, vec![1])),
            "{kinds:?}"
        );
        let text = |id: i64| {
            f.iter()
                .find(|x| x.event_ids == vec![id])
                .map(|x| x.explanation.clone())
                .unwrap_or_default()
        };
        assert!(
            text(2).contains("in the last 2.0 s of a.log, which does not end with a clean stop"),
            "{}",
            text(2)
        );
        assert!(text(1).contains("after the end of a.log"), "{}", text(1));
        assert_eq!(s.total.no_log_coverage, 2);
        assert_eq!(s.total.missing_in_log, 1);
    }

    #[test]
    fn a_row_after_a_clean_start_is_covered_and_no_edge_is_called_before_the_start() {
        // Row 1 is 1.5 s after a.log's first record: a lock line (clean start) vouches for it;
        // b.log starts without one, so row 2, 1.5 s into it, is in its grace, and said so.
        let t = Tb::new()
            .db(1, "position_created", r#"{"a":1}"#, 1_500.0)
            .db(2, "position_created", r#"{"a":2}"#, 201_500.0)
            .build();
        let mut a = cov("a.log", 0.0, 100_000.0);
        a.clean_start = true;
        let b = cov("b.log", 200_000.0, 300_000.0);
        let (f, _) = run(&t, &params(None, vec![a, b]));
        let row = |id: i64| {
            f.iter()
                .find(|x| x.event_id == Some(id) || x.event_ids.contains(&id))
        };
        assert_eq!(
            row(1).map(|x| x.kind),
            Some(FindingKind::MissingInLog),
            "{f:?}"
        );
        let two = row(2).expect("row 2");
        assert_eq!(two.kind, FindingKind::NoLogCoverage);
        assert!(
            two.explanation.contains(
                "in the first 2.0 s of b.log, which does not begin with a clean process start"
            ),
            "{}",
            two.explanation
        );
        assert!(
            !two.explanation.contains("before the start"),
            "{}",
            two.explanation
        );
    }

    #[test]
    fn lines_the_db_cannot_answer_for_are_no_db_coverage_and_a_long_stretch_fails_the_gate() {
        // The DB's rows span ±600 s; a.log goes on 2 minutes after its newest row.
        let mut tb = Tb::new().db(1, "other", r#"{"z":0}"#, 0.0);
        for k in 0..13 {
            tb = tb.log_event(
                "a.log",
                100 + k,
                "order_placed",
                &format!("{{\"o\":{k}}}"),
                610_000.0 + f64::from(k) * 10_000.0,
            );
        }
        // And one line just after the newest row, within the grace: not called either way.
        tb = tb.log_event("a.log", 99, "order_placed", r#"{"o":99}"#, 601_000.0);
        let t = tb.build();
        let (f, s) = run(&t, &params(None, vec![cov("a.log", -600_000.0, 740_000.0)]));
        let n: Vec<&Finding> = f
            .iter()
            .filter(|x| x.kind == FindingKind::NoDbCoverage)
            .collect();
        assert_eq!(n.len(), 1, "{f:?}");
        assert_eq!(n[0].severity, Severity::Medium);
        assert_eq!(n[0].details["lines"], 13);
        assert!(
            n[0].explanation.contains("after the DB's newest row"),
            "{}",
            n[0].explanation
        );
        assert!(
            f.iter().all(|x| x.kind != FindingKind::MissingInDb),
            "{f:?}"
        );
        assert_eq!((s.total.no_db_coverage, s.total.missing_in_db), (13, 0));
        // A short stretch (a snapshot taken a few seconds before the logs were copied) is said,
        // but does not fail the gate.
        let short = Tb::new()
            .db(1, "other", r#"{"z":0}"#, 0.0)
            .log_event("a.log", 7, "order_placed", r#"{"o":1}"#, 605_000.0)
            .log_event("a.log", 8, "order_placed", r#"{"o":2}"#, 630_000.0)
            .build();
        let (f, _) = run(
            &short,
            &params(None, vec![cov("a.log", -600_000.0, 640_000.0)]),
        );
        let n: Vec<&Finding> = f
            .iter()
            .filter(|x| x.kind == FindingKind::NoDbCoverage)
            .collect();
        assert_eq!(n.len(), 1, "{f:?}");
        assert_eq!(n[0].severity, Severity::Info);
    }

    #[test]
    fn a_file_on_an_unsettled_clock_is_not_judged() {
        let t = Tb::new()
            .db(1, "other", r#"{"z":0}"#, -500_000.0)
            .log_event("u.log", 10, "order_placed", r#"{"o":1}"#, 1_000.0)
            .build();
        let mut p = params(None, vec![]);
        let (f, _) = run(&t, &p);
        assert!(
            f.iter().any(|x| x.kind == FindingKind::MissingInDb),
            "{f:?}"
        );
        p.unjudged = vec!["u.log".into()];
        let (f, s) = run(&t, &p);
        assert!(
            f.iter().all(|x| x.kind != FindingKind::MissingInDb),
            "{f:?}"
        );
        assert_eq!(s.total.missing_in_db, 0);
    }

    #[test]
    fn log_lines_without_rows_cite_a_failed_batch() {
        let t = Tb::new()
            .db(1, "other", r#"{"z":0}"#, -500_000.0)
            .log_event("a.log", 10, "order_placed", r#"{"o":1}"#, 1_000.0)
            .log(
                "a.log",
                11,
                crate::rows::Kind::BatchWriteFailed,
                None,
                None,
                3_000.0,
            )
            .build();
        let (f, _) = run(
            &t,
            &Params {
                direction: Direction::LogOnly,
                ..params(None, vec![cov("a.log", -600_000.0, 600_000.0)])
            },
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].kind, FindingKind::MissingInDb);
        assert_eq!(
            f[0].log,
            Some(LogRef {
                file: "a.log".into(),
                line: 10,
                copy: false,
            })
        );
        assert_eq!(
            f[0].logs,
            vec![LogRef {
                file: "a.log".into(),
                line: 11,
                copy: false,
            }]
        );
        assert!(f[0].explanation.contains("batch write failed"));
    }
}
