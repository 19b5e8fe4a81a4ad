//! `lifetimes`: who was alive when. Each process is rebuilt from its log file(s): first and
//! last record, the lock line's PID, how it ended; then overlaps of what must be a single
//! instance, downtime between processes, lock trouble, and DB rows written while no known
//! process was alive — the "ghost writer" the seed report was looking for.

use serde::Serialize;

use super::matching::Matching;
use super::{Finding, FindingKind, LogRef, ProcessRef, Run, RunOf, Severity};
use crate::rows::Coverage;
use crate::time::hms;
use crate::time::rfc3339_micros;
use crate::timeline::View;

#[derive(Debug, Clone)]
pub struct Params {
    /// Downtime shorter than this is a restart, not a gap.
    pub min_gap_us: i64,
    /// Rows this close to a process's first/last record are its own.
    pub grace_us: i64,
    pub window: Option<crate::time::UtcRange>,
}

/// One process, as its log files show it.
#[derive(Debug, Clone, Serialize)]
pub struct Process {
    /// The log file(s) it wrote (the same lines tee'd into two files are one process).
    pub files: Vec<String>,
    pub pid: Option<u32>,
    pub start_utc: String,
    pub end_utc: String,
    #[serde(skip)]
    pub start: i64,
    #[serde(skip)]
    pub end: i64,
    /// `Lock acquired` line.
    pub lock: Option<LogRef>,
    /// How it ended: `lock released`, `shutdown`, `signal 15`, or none seen (still running, or killed).
    pub ended_by: Option<String>,
    pub ended_at: Option<LogRef>,
    /// `Found stale lock file` / `Another instance is already running` lines.
    pub lock_trouble: Vec<LogRef>,
    /// DB rows written during its life.
    pub db_rows: usize,
    /// `EventLogger wrote N events` lines it logged (the batches its rows are judged against).
    #[serde(skip)]
    pub flush_lines: usize,
    /// Other copies of its stream (the handler copy of its `bot_*.log`): what they hold that
    /// its file lacks is its too.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub copies: Vec<String>,
    /// No lock line (a level above INFO hides it, or the file was cut): its start is its first
    /// record, and its PID is unknown unless another line gave it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub start_inferred: bool,
}

impl Process {
    /// True for rows of `file` with `pid` that are this process's.
    fn wrote(&self, file: &str, pid: Option<u32>) -> bool {
        (self.files.iter().chain(&self.copies).any(|f| f == file))
            && (self.pid.is_none() || pid.is_none() || self.pid == pid)
    }
}

impl Process {
    pub fn process_ref(&self) -> ProcessRef {
        ProcessRef {
            file: self.files.first().cloned().unwrap_or_default(),
            pid: self.pid,
            start_utc: self.start_utc.clone(),
            end_utc: self.end_utc.clone(),
        }
    }

    pub fn name(&self) -> String {
        match self.pid {
            Some(p) => format!("{} (PID {p})", self.files.join(" + ")),
            None => self.files.join(" + "),
        }
    }
}

/// Rebuilds the processes from the log files' coverage and their typed lines.
pub fn processes(v: &View<'_>, coverage: &[Coverage]) -> Vec<Process> {
    let mut procs: Vec<Process> = Vec::new();
    // A copy's stretch is the same process as its primary's: not one of its own.
    let mut cov: Vec<&Coverage> = coverage.iter().filter(|c| c.copy_of.is_none()).collect();
    cov.sort_by_key(|c| (c.start, c.file.clone()));
    for c in cov {
        // Same PID and overlapping time: the same process writing two files.
        if let Some(p) = procs
            .iter_mut()
            .find(|p| c.pid.is_some() && p.pid == c.pid && c.start <= p.end && p.start <= c.end)
        {
            p.files.push(c.file.clone());
            p.start = p.start.min(c.start);
            p.end = p.end.max(c.end);
            p.start_inferred &= !c.clean_start;
            continue;
        }
        procs.push(Process {
            files: vec![c.file.clone()],
            pid: c.pid,
            start_utc: String::new(),
            end_utc: String::new(),
            start: c.start,
            end: c.end,
            lock: None,
            ended_by: None,
            ended_at: None,
            lock_trouble: Vec::new(),
            db_rows: 0,
            flush_lines: 0,
            copies: Vec::new(),
            // From the whole file's first pass: a window's rows may not hold the lock line.
            start_inferred: !c.clean_start,
        });
    }
    for c in coverage.iter().filter(|c| c.copy_of.is_some()) {
        let primary = c.copy_of.as_deref().unwrap_or_default();
        if let Some(p) = procs.iter_mut().find(|p| {
            p.files.iter().any(|f| f == primary)
                && (c.pid.is_none() || p.pid.is_none() || p.pid == c.pid)
                && c.start <= p.end
                && p.start <= c.end
        }) {
            if !p.copies.contains(&c.file) {
                p.copies.push(c.file.clone());
            }
        }
    }
    for i in 0..v.len() {
        let t = v.ts_utc.get(i).unwrap_or(0);
        if v.s("source", i) == Some("db") {
            if let Some(p) = procs.iter_mut().find(|p| p.start <= t && t <= p.end) {
                p.db_rows += 1;
            }
            continue;
        }
        let Some(file) = v.s("file", i) else { continue };
        let pid = v.pid.get(i);
        let Some(p) = procs.iter_mut().find(|p| p.wrote(file, pid)) else {
            continue;
        };
        if !p.files.iter().any(|f| f == file) {
            // A copy's row: its batches count; its lock and stop lines repeat the primary's.
            if v.s("kind", i) == Some("flush_wrote") && flush_batch(v, i).is_some() {
                p.flush_lines += 1;
            }
            continue;
        }
        let here = LogRef {
            file: file.to_string(),
            line: v.line.get(i).unwrap_or(0),
            copy: false,
        };
        let kind = v.s("kind", i).unwrap_or_default();
        match kind {
            "lock_acquired" if p.lock.is_none() => p.lock = Some(here),
            "lock_released" | "shutdown_initiated" | "signal_received" if p.ended_by.is_none() => {
                p.ended_by = Some(kind.replace('_', " "));
                p.ended_at = Some(here);
            }
            "event" if v.s("event_type", i) == Some("bot_stopped") && p.ended_by.is_none() => {
                p.ended_by = Some("bot_stopped".into());
                p.ended_at = Some(here);
            }
            "stale_lock" | "another_instance" => p.lock_trouble.push(here),
            "flush_wrote" if flush_batch(v, i).is_some() => p.flush_lines += 1,
            _ => {}
        }
    }
    for p in &mut procs {
        p.start_utc = rfc3339_micros(p.start);
        p.end_utc = rfc3339_micros(p.end);
    }
    procs
}

fn in_window(w: Option<crate::time::UtcRange>, t: i64) -> bool {
    w.is_none_or(|w| w.start.timestamp_micros() <= t && t < w.end.timestamp_micros())
}

/// The explanation of an [`FindingKind::UnattributedActivity`] run outside every process.
pub fn no_process_text(r: &Run, rows: usize) -> String {
    format!(
        "{rows} DB row(s) from {} to {} UTC were written while no known bot process was alive ({}): a writer without a log file",
        hms(r.first),
        hms(r.last),
        r.key
    )
}

/// The explanation of an [`FindingKind::UnattributedActivity`] run inside a process's life.
pub fn foreign_text(r: &Run, rows: usize) -> String {
    format!(
        "{rows} DB row(s) from {} to {} UTC were written while {} was alive, but have no log line, their ids fall in none of the batches its EventLogger reports writing ({} flush lines), and no direct write explains them: another writer shares the table",
        hms(r.first),
        hms(r.last),
        r.key,
        r.flush_lines
    )
}

fn secs(us: i64) -> String {
    let s = us as f64 / 1e6;
    if s >= 120.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{s:.1} s")
    }
}

/// Overlaps, gaps, lock trouble and DB activity outside every process.
pub fn check(v: &View<'_>, m: &Matching, procs: &[Process], p: &Params) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut order: Vec<&Process> = procs.iter().collect();
    order.sort_by_key(|x| x.start);
    for (a_i, a) in order.iter().enumerate() {
        for b in &order[a_i + 1..] {
            let (from, to) = (a.start.max(b.start), a.end.min(b.end));
            if to - from > p.grace_us {
                let mut f = Finding::new(
                    FindingKind::ProcessOverlap,
                    Severity::High,
                    from,
                    format!(
                        "{} and {} were both alive from {} to {} UTC ({}): two instances of a single-instance bot",
                        a.name(),
                        b.name(),
                        hms(from),
                        hms(to),
                        secs(to - from)
                    ),
                );
                f.processes = vec![a.process_ref(), b.process_ref()];
                f.logs = [&a.lock, &b.lock].into_iter().flatten().cloned().collect();
                f.details = serde_json::json!({ "overlap_start_utc": rfc3339_micros(from), "overlap_end_utc": rfc3339_micros(to) });
                out.push(f.sealed());
            }
        }
    }
    // Gaps in the union of lifetimes: `a` is the process that was alive last before the gap
    // (the latest end so far), `b` the next to start.
    let mut last: Option<&Process> = None;
    let mut pairs: Vec<(&Process, &Process)> = Vec::new();
    for b in &order {
        if let Some(a) = last {
            if b.start - a.end > p.min_gap_us {
                pairs.push((a, b));
            }
        }
        if last.is_none_or(|a| b.end > a.end) {
            last = Some(b);
        }
    }
    for (a, b) in pairs {
        let gap = b.start - a.end;
        let how = match (&a.ended_by, &a.ended_at) {
            (Some(by), Some(at)) => format!(
                "{} ended cleanly ({by} at {}:{})",
                a.name(),
                at.file,
                at.line
            ),
            _ => format!(
                "{} ended without a shutdown line (killed, crashed, or its log was cut)",
                a.name()
            ),
        };
        let stale = b
            .lock_trouble
            .first()
            .map(|l| format!("; {} found a stale lock at {}:{}", b.name(), l.file, l.line))
            .unwrap_or_default();
        let stale = if b.start_inferred {
            format!(
                "{stale}; {} has no lock line: its start is its first record (inferred)",
                b.name()
            )
        } else {
            stale
        };
        let mut f = Finding::new(
            FindingKind::ProcessGap,
            Severity::Low,
            a.end,
            format!(
                "no bot process was alive for {} from {} to {} UTC: {how}{stale}",
                secs(gap),
                hms(a.end),
                hms(b.start)
            ),
        );
        f.processes = vec![a.process_ref(), b.process_ref()];
        f.logs = a.ended_at.iter().chain(b.lock.iter()).cloned().collect();
        f.details = serde_json::json!({ "gap_start_utc": rfc3339_micros(a.end), "gap_end_utc": rfc3339_micros(b.start), "gap_s": gap as f64 / 1e6 });
        out.push(f.sealed());
    }
    for pr in procs {
        for l in &pr.lock_trouble {
            let row = (0..v.len()).find(|&i| {
                v.s("file", i) == Some(l.file.as_str()) && v.line.get(i) == Some(l.line)
            });
            let Some(i) = row else { continue };
            if v.s("kind", i) != Some("another_instance") {
                continue;
            }
            let t = v.ts_utc.get(i).unwrap_or(0);
            let mut f = Finding::new(
                FindingKind::ProcessOverlap,
                Severity::Low,
                t,
                format!(
                    "a second instance was started at {} UTC while {} held the lock, and was refused",
                    hms(t),
                    pr.name()
                ),
            );
            f.log = Some(l.clone());
            f.processes = vec![pr.process_ref()];
            out.push(f.sealed());
        }
    }
    // DB rows outside every process's life (with grace), grouped into runs.
    let alive = |t: i64| {
        procs
            .iter()
            .any(|x| x.start - p.grace_us <= t && t <= x.end + p.grace_us)
    };
    let mut run: Vec<usize> = Vec::new();
    let mut runs: Vec<Vec<usize>> = Vec::new();
    // Only the window's rows: a run crossing its edge is reported with the part inside it (a
    // check over time slices joins the parts, see `checks::join_runs`).
    for i in 0..v.len() {
        if v.s("source", i) != Some("db") {
            continue;
        }
        let t = v.ts_utc.get(i).unwrap_or(0);
        if !in_window(p.window, t) {
            continue;
        }
        if alive(t) {
            if !run.is_empty() {
                runs.push(std::mem::take(&mut run));
            }
        } else {
            run.push(i);
        }
    }
    if !run.is_empty() {
        runs.push(run);
    }
    if !procs.is_empty() {
        for r in runs {
            let (t0, t1) = (
                v.ts_utc.get(r[0]).unwrap_or(0),
                v.ts_utc.get(*r.last().unwrap_or(&r[0])).unwrap_or(0),
            );
            let before = order.iter().filter(|x| x.end < t0).max_by_key(|x| x.end);
            let after = order
                .iter()
                .filter(|x| x.start > t1)
                .min_by_key(|x| x.start);
            let ctx = match (before, after) {
                (Some(b), Some(a)) => {
                    format!("after {} ended and before {} started", b.name(), a.name())
                }
                (Some(b), None) => format!("after {} ended", b.name()),
                (None, Some(a)) => format!("before {} started", a.name()),
                (None, None) => String::new(),
            };
            let run = Run {
                of: RunOf::NoProcess,
                key: ctx,
                first: t0,
                last: t1,
                flush_lines: 0,
            };
            let mut f = Finding::new(
                FindingKind::UnattributedActivity,
                Severity::High,
                t0,
                no_process_text(&run, r.len()),
            );
            f.run = Some(run);
            f.event_ids = r.iter().map(|&i| v.event_id.get(i).unwrap_or(0)).collect();
            f.processes = before
                .iter()
                .chain(after.iter())
                .map(|x| x.process_ref())
                .collect();
            out.push(f.sealed());
        }
    }
    out.extend(foreign_writers(v, m, procs, p));
    out.retain(|f| {
        p.window.is_none_or(|w| {
            w.start.timestamp_micros() <= f.at_us && f.at_us < w.end.timestamp_micros()
        })
    });
    super::sort(&mut out);
    out
}

/// What a process's log says it inserted: the id ranges of its EventLogger batches
/// (`EventLogger wrote N events … last_ids=[…]` → `last − N + 1 ..= last`) and the instants
/// of its direct writes (`Event queue full, logging directly`).
struct Written {
    ranges: Vec<(i64, i64)>,
    direct: Vec<i64>,
}

/// The ids a flush line (`EventLogger wrote N events … last_ids=[…]`) says were inserted.
fn flush_batch(v: &View<'_>, i: usize) -> Option<(i64, i64)> {
    let j = v
        .s("payload", i)
        .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())?;
    let count = j["count"].as_i64().unwrap_or(0);
    let last = j["last_ids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x[0].as_i64())
        .max()?;
    (count > 0).then_some((last - count + 1, last))
}

fn written_by(v: &View<'_>, pr: &Process) -> Written {
    let mut w = Written {
        ranges: Vec::new(),
        direct: Vec::new(),
    };
    for i in 0..v.len() {
        let Some(file) = v.s("file", i) else { continue };
        if !pr.wrote(file, v.pid.get(i)) {
            continue;
        }
        match v.s("kind", i) {
            Some("flush_wrote") => w.ranges.extend(flush_batch(v, i)),
            Some("queue_full") => w.direct.push(v.ts_utc.get(i).unwrap_or(0)),
            _ => {}
        }
    }
    w.ranges.sort_unstable();
    w
}

/// Rows written *while* processes were alive but by none of them. A row is accounted for
/// when it has a log twin (its process called log_event), when its id falls in a batch one
/// of the live processes reports writing, or when a live process logged a direct write at
/// its instant. What is left — between the first and last batch of the live processes —
/// came from another writer sharing the table. Processes whose logs have no flush lines
/// cannot be judged this way.
fn foreign_writers(v: &View<'_>, m: &Matching, procs: &[Process], p: &Params) -> Vec<Finding> {
    let written: Vec<Written> = procs.iter().map(|pr| written_by(v, pr)).collect();
    let mut by_proc: Vec<Vec<usize>> = vec![Vec::new(); procs.len()];
    for i in 0..v.len() {
        if v.s("source", i) != Some("db") || m.twin_of(i).is_some() {
            continue;
        }
        let (Some(id), Some(t)) = (v.event_id.get(i), v.ts_utc.get(i)) else {
            continue;
        };
        if !in_window(p.window, t) {
            continue;
        }
        let alive: Vec<usize> = (0..procs.len())
            .filter(|&k| procs[k].start <= t && t <= procs[k].end)
            .collect();
        // Every live process must report its batches, and the row must lie inside them.
        if alive.is_empty() || alive.iter().any(|&k| written[k].ranges.is_empty()) {
            continue;
        }
        let lo = alive
            .iter()
            .filter_map(|&k| written[k].ranges.first().map(|r| r.0))
            .min()
            .unwrap_or(i64::MAX);
        let hi = alive
            .iter()
            .filter_map(|&k| written[k].ranges.iter().map(|r| r.1).max())
            .max()
            .unwrap_or(i64::MIN);
        if id <= lo || id >= hi {
            continue;
        }
        let accounted = alive.iter().any(|&k| {
            let r = &written[k].ranges;
            let n = r.partition_point(|x| x.0 <= id);
            (n > 0 && r[n - 1].1 >= id)
                || written[k]
                    .direct
                    .iter()
                    .any(|d| (d - t).abs() <= p.grace_us.min(1_000_000))
        });
        if !accounted {
            by_proc[alive[0]].push(i);
        }
    }
    let mut out = Vec::new();
    for (k, foreign) in by_proc.into_iter().enumerate() {
        if foreign.is_empty() {
            continue;
        }
        let pr = &procs[k];
        let (t0, t1) = (
            v.ts_utc.get(foreign[0]).unwrap_or(0),
            v.ts_utc.get(foreign[foreign.len() - 1]).unwrap_or(0),
        );
        let run = Run {
            of: RunOf::Foreign,
            key: pr.name(),
            first: t0,
            last: t1,
            flush_lines: pr.flush_lines,
        };
        let mut f = Finding::new(
            FindingKind::UnattributedActivity,
            Severity::High,
            t0,
            foreign_text(&run, foreign.len()),
        );
        f.event_ids = foreign
            .iter()
            .map(|&i| v.event_id.get(i).unwrap_or(0))
            .collect();
        f.processes = vec![pr.process_ref()];
        f.details =
            serde_json::json!({ "attribution": "flush_batches", "batches": run.flush_lines });
        f.run = Some(run);
        out.push(f.sealed());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{Tb, at};
    use crate::rows::Kind;

    fn cov(file: &str, pid: u32, a: f64, b: f64) -> Coverage {
        Coverage {
            file: file.into(),
            pid: Some(pid),
            start: at(a),
            end: at(b),
            clean_start: false,
            clean_end: false,
            copy_of: None,
        }
    }

    fn params() -> Params {
        Params {
            min_gap_us: 60_000_000,
            grace_us: 2_000_000,
            window: None,
        }
    }

    #[test]
    fn sequential_processes_give_a_gap_and_no_overlap() {
        let t = Tb::new()
            .log("a.log", 1, Kind::LockAcquired, None, None, 0.0)
            .log("a.log", 2, Kind::LockReleased, None, None, 100_000.0)
            .log("b.log", 1, Kind::LockAcquired, None, None, 1_000_000.0)
            .build();
        let v = View::new(&t).unwrap();
        let procs = processes(
            &v,
            &[
                cov("a.log", 1, 0.0, 100_000.0),
                cov("b.log", 2, 1_000_000.0, 1_000_000.0),
            ],
        );
        assert_eq!(procs[0].ended_by.as_deref(), Some("lock released"));
        let f = check(
            &v,
            &crate::checks::matching::match_twins(&v, 100_000, 0),
            &procs,
            &params(),
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].kind, FindingKind::ProcessGap);
        assert!(f[0].explanation.contains("ended cleanly"));
    }

    #[test]
    fn overlapping_lifetimes_and_rows_outside_every_process() {
        let t = Tb::new()
            .db(7, "e", "{}", 50_000.0)
            .db(8, "e", "{}", 500_000.0)
            .build();
        let v = View::new(&t).unwrap();
        let procs = processes(
            &v,
            &[
                cov("a.log", 1, 0.0, 100_000.0),
                cov("b.log", 2, 60_000.0, 200_000.0),
            ],
        );
        let f = check(
            &v,
            &crate::checks::matching::match_twins(&v, 100_000, 0),
            &procs,
            &params(),
        );
        let overlap = f
            .iter()
            .find(|x| x.kind == FindingKind::ProcessOverlap)
            .expect("overlap");
        assert_eq!(
            overlap.details["overlap_start_utc"],
            crate::time::rfc3339_micros(at(60_000.0))
        );
        assert_eq!(
            overlap.details["overlap_end_utc"],
            crate::time::rfc3339_micros(at(100_000.0))
        );
        let ghost = f
            .iter()
            .find(|x| x.kind == FindingKind::UnattributedActivity)
            .expect("ghost");
        assert_eq!(ghost.event_ids, vec![8]);
    }

    #[test]
    fn rows_between_a_processs_batches_but_in_none_are_another_writer() {
        let t = Tb::new()
            .db(10, "e", "{}", 1_000.0)
            .db(11, "e", "{}", 1_100.0)
            .db(12, "e", "{}", 1_200.0)
            .db(13, "e", "{}", 3_000.0) // in no batch
            .db(19, "e", "{}", 6_000.0)
            .db(20, "e", "{}", 6_100.0)
            .db(21, "e", "{}", 7_000.0) // after the last batch: not judged
            .log("a.log", 1, Kind::LockAcquired, None, None, 0.0)
            .log(
                "a.log",
                5,
                Kind::FlushWrote,
                None,
                Some(r#"{"count":3,"last_ids":[[12,"e"],[11,"e"]]}"#),
                5_000.0,
            )
            .log(
                "a.log",
                9,
                Kind::FlushWrote,
                None,
                Some(r#"{"count":2,"last_ids":[[20,"e"]]}"#),
                10_000.0,
            )
            .log("a.log", 10, Kind::Message, None, None, 20_000.0)
            .build();
        let v = View::new(&t).unwrap();
        let procs = processes(&v, &[cov("a.log", 1, 0.0, 20_000.0)]);
        let f = check(
            &v,
            &crate::checks::matching::match_twins(&v, 100_000, 0),
            &procs,
            &params(),
        );
        let ghost: Vec<&Finding> = f
            .iter()
            .filter(|x| x.kind == FindingKind::UnattributedActivity)
            .collect();
        assert_eq!(ghost.len(), 1, "{f:#?}");
        assert_eq!(ghost[0].event_ids, vec![13]);
        assert!(ghost[0].explanation.contains("none of the batches"));
    }

    #[test]
    fn a_gap_starts_when_the_last_process_alive_ends_not_the_last_to_start() {
        // a: 0–100 s; b (a short second instance): 10–20 s; c: 300 s–.
        let t = Tb::new().build();
        let v = View::new(&t).unwrap();
        let procs = processes(
            &v,
            &[
                cov("a.log", 1, 0.0, 100_000.0),
                cov("b.log", 2, 10_000.0, 20_000.0),
                cov("c.log", 3, 300_000.0, 400_000.0),
            ],
        );
        let f = check(
            &v,
            &crate::checks::matching::match_twins(&v, 100_000, 0),
            &procs,
            &params(),
        );
        let gaps: Vec<&Finding> = f
            .iter()
            .filter(|x| x.kind == FindingKind::ProcessGap)
            .collect();
        assert_eq!(gaps.len(), 1, "{f:#?}");
        assert_eq!(
            gaps[0].details["gap_start_utc"],
            crate::time::rfc3339_micros(at(100_000.0))
        );
        assert_eq!(gaps[0].processes[0].file, "a.log");
        assert_eq!(gaps[0].processes[1].file, "c.log");
    }

    #[test]
    fn the_same_pid_in_two_files_is_one_process() {
        let t = Tb::new().build();
        let v = View::new(&t).unwrap();
        let procs = processes(
            &v,
            &[
                cov("bot_1.log", 5, 0.0, 100.0),
                cov("trading_bot.log", 5, 10.0, 120.0),
            ],
        );
        assert_eq!(procs.len(), 1);
        assert_eq!(procs[0].files, vec!["bot_1.log", "trading_bot.log"]);
        assert!(
            check(
                &v,
                &crate::checks::matching::match_twins(&v, 100_000, 0),
                &procs,
                &params()
            )
            .is_empty()
        );
    }
}
