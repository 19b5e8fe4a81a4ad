//! The order of generation: each writer's activity → injected duplicates → EventLogger
//! batches → a database down, failed batches and lost log lines → ids across writers → files
//! (logs in parallel, one thread per file, beside the CSV/SQL; with the handler copy, one
//! more thread merging every process's records into `logs/trading_bot.log*`) → `truth.json`
//! from what was written.
//!
//! Three clocks: every time here is a true instant (µs, UTC); a log line shows its host's
//! reading (`Process::host_fn`, in `logfile`), a row's `created_at` the DB server's
//! (`Scenario::db_reading_us`).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::time::{Duration, Instant};

use super::SynthError;
use super::activity::{self, Activity, WriterKind};
use super::chatter::Chatter;
use super::dbfiles;
use super::eventlogger::{self, Batch};
use super::handler::{self, HBatch, HandlerReport};
use super::inject;
use super::logfile::{self, LogReport};
use super::model::{Counters, Event, Level, Line};
use super::rng::Rng;
use super::scenario::{Ending, LostCopy, Process, Scenario};
use super::timefmt::{format_offset, rfc3339_micros};
use super::truth::{
    self, ClockSegment, ClockStep, CopyGap, CorrRow, Counts, FileClock, FileTruth, Gap,
    HandlerMember, LineCause, LineFault, LogRef, OffsetSpan, Overlap, RowCause, RowFault, Stream,
    Truth,
};

/// What [`generate`] wrote.
#[derive(Debug)]
pub struct Output {
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
    pub truth: Truth,
    /// Wall time of the whole generation.
    pub elapsed: Duration,
}

/// The grace the checks give a source's edges by default (`--grace-ms 2000`).
const EDGE_US: i64 = 2_000_000;

fn is_ours(name: &str) -> bool {
    matches!(
        name,
        "events.csv" | "events.sql" | "truth.json" | "monitoring_logs" | "logs"
    )
}

/// Empties `dir/logs` of a previous run's handler copy (`trading_bot.log*`) and removes it.
fn clear_handler_dir(dir: &Path) -> Result<(), SynthError> {
    let logs = dir.join("logs");
    if !logs.is_dir() {
        return Ok(());
    }
    for entry in std::fs::read_dir(&logs).map_err(|e| SynthError::io(&logs, e))? {
        let p = entry.map_err(|e| SynthError::io(&logs, e))?.path();
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
        match name {
            Some(n) if n.starts_with(handler::BASE) && p.is_file() => {
                std::fs::remove_file(&p).map_err(|e| SynthError::io(&p, e))?
            }
            _ => {
                return Err(SynthError::invalid(format!(
                    "{}: holds files audit-gen did not write; use an empty or new directory",
                    logs.display()
                )));
            }
        }
    }
    std::fs::remove_dir(&logs).map_err(|e| SynthError::io(&logs, e))
}

/// The output directory: created, or reused when it holds only what a previous run wrote
/// (whose logs are removed, so a new run never mixes with old files).
fn prepare_dir(dir: &Path) -> Result<PathBuf, SynthError> {
    let logs = dir.join("monitoring_logs");
    if dir.exists() {
        let entries = std::fs::read_dir(dir).map_err(|e| SynthError::io(dir, e))?;
        let mut old = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| SynthError::io(dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !is_ours(&name) {
                return Err(SynthError::invalid(format!(
                    "{}: holds `{name}`, which audit-gen did not write; use an empty or new directory",
                    dir.display()
                )));
            }
            if entry.path().is_file() {
                old.push(entry.path());
            }
        }
        clear_handler_dir(dir)?;
        for p in old {
            std::fs::remove_file(&p).map_err(|e| SynthError::io(&p, e))?;
        }
        if logs.is_dir() {
            for entry in std::fs::read_dir(&logs).map_err(|e| SynthError::io(&logs, e))? {
                let p = entry.map_err(|e| SynthError::io(&logs, e))?.path();
                let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
                match name {
                    Some(n) if n.starts_with("bot_") && n.ends_with(".log") => {
                        std::fs::remove_file(&p).map_err(|e| SynthError::io(&p, e))?
                    }
                    _ => {
                        return Err(SynthError::invalid(format!(
                            "{}: holds files audit-gen did not write; use an empty or new directory",
                            logs.display()
                        )));
                    }
                }
            }
        }
    }
    std::fs::create_dir_all(&logs).map_err(|e| SynthError::io(&logs, e))?;
    Ok(logs)
}

/// Generates scenario `s` into `dir`.
pub fn generate(s: &Scenario, dir: &Path) -> Result<Output, SynthError> {
    s.validate()?;
    let started = Instant::now();
    let mut rng = Rng::new(s.seed).fork(0x9E4);
    let mut counters = Counters {
        position: 1_200 + rng.range(0, 200),
        signal: 4_860_000 + rng.range(0, 9_000),
        order: 8_389_000_000 + rng.range(0, 1_000_000),
    };
    let np = s.processes.len();
    let mut acts: Vec<Activity> = (0..np)
        .map(|i| activity::process(s, i, &mut counters))
        .collect();
    for g in 0..s.ghost.len() {
        acts.push(activity::ghost(s, g, np + g, &mut counters));
    }
    // Writers whose every insert the database refuses.
    let down: Vec<bool> = (0..acts.len())
        .map(|w| w < np && s.processes[w].db_down)
        .collect();
    // Each writer's level: a line below it is never written (a ghost writes none anyway).
    let levels: Vec<Level> = (0..acts.len())
        .map(|w| s.processes.get(w).map_or(Level::Debug, |p| p.level))
        .collect();
    let mut fault_rng = Rng::new(s.seed).fork(0xFA17);
    let dups = inject::duplicates(
        &mut acts,
        &down,
        &levels,
        s.faults.duplicates,
        &mut fault_rng,
    );
    let mut batch_rng = Rng::new(s.seed).fork(0xB47C);
    let mut batches: Vec<Batch> = Vec::new();
    for (w, a) in acts.iter().enumerate() {
        batches.extend(eventlogger::batches(a, w, &mut batch_rng));
    }
    let down_batches = inject::db_down(&mut batches, &down);
    let failed = inject::failed_batches(
        &acts,
        &mut batches,
        s.faults.lost_db_batches,
        &mut fault_rng,
    );
    let lost = inject::lost_log_lines(
        &mut acts,
        &batches,
        &levels,
        s.faults.lost_log_lines,
        &mut fault_rng,
    );
    let sizes: Vec<usize> = acts.iter().map(|a| a.events.len()).collect();
    let ids = eventlogger::assign_ids(&batches, &sizes, 780_000 + rng.range(0, 9_999));
    let flush: Vec<Vec<Line>> = (0..np)
        .map(|w| {
            let mine: Vec<(usize, &Batch)> = batches
                .iter()
                .enumerate()
                .filter(|(_, b)| b.writer == w)
                .collect();
            eventlogger::flush_lines(&acts[w], &mine, &ids[w])
        })
        .collect();
    let mut rows: Vec<(i64, &Event)> = Vec::new();
    for (w, a) in acts.iter().enumerate() {
        for (e, ev) in a.events.iter().enumerate() {
            if let Some(id) = ids[w][e] {
                rows.push((id, ev));
            }
        }
    }
    rows.sort_by_key(|r| r.0);

    let logs_dir = prepare_dir(dir)?;
    let lives: Vec<i64> = s
        .processes
        .iter()
        .map(|p| (p.end - p.start).num_microseconds().unwrap_or(0).max(1))
        .collect();
    let total_life: i64 = lives.iter().sum();
    let csv_path = dir.join("events.csv");
    let sql_path = dir.join("events.sql");
    let created_at = |e: &Event| s.db_reading_us(e.created);
    let handler_dir = dir.join("logs");
    if s.handler.is_some() {
        std::fs::create_dir_all(&handler_dir).map_err(|e| SynthError::io(&handler_dir, e))?;
    }
    let (reports, hreport, csv_bytes, sql_bytes) = std::thread::scope(|sc| {
        // The handler copy: one channel per process into the merging writer.
        let mut senders: Vec<Option<SyncSender<HBatch>>> = vec![None; np];
        let merger = s.handler.map(|cfg| {
            let mut inputs = Vec::with_capacity(np);
            for (i, tx) in senders.iter_mut().enumerate() {
                let (t, rx) = sync_channel(8);
                *tx = Some(t);
                inputs.push(handler::Input {
                    rx,
                    events: acts[i].events.len(),
                    gaps: s.processes[i].copy_gaps.len(),
                });
            }
            let hd = &handler_dir;
            sc.spawn(move || handler::write(hd, &cfg, inputs).map_err(|e| SynthError::io(hd, e)))
        });
        let handles: Vec<_> = senders
            .into_iter()
            .enumerate()
            .map(|(i, tx)| {
                let pr = &s.processes[i];
                let a = &acts[i];
                let fl = &flush[i];
                let path = logs_dir.join(pr.file_name());
                let budget = (s.chatter_bytes as f64 * lives[i] as f64 / total_life as f64) as u64;
                let chatter = Chatter::new(
                    Rng::new(s.seed).fork(0xC000 + i as u64),
                    a.first_record + 1_000_000,
                    pr.end.timestamp_micros(),
                    budget,
                );
                sc.spawn(move || {
                    logfile::write(&path, pr, a, fl, chatter, tx)
                        .map_err(|e| SynthError::io(&path, e))
                })
            })
            .collect();
        let csv = dbfiles::write_csv(&csv_path, &rows, s.display_offset, &created_at)
            .map_err(|e| SynthError::io(&csv_path, e));
        let header = format!(
            "monitoring.events of an audit-gen scenario (seed {}); load with: psql -v ON_ERROR_STOP=1 -f events.sql",
            s.seed
        );
        let sql = s
            .write_sql
            .then(|| {
                dbfiles::write_sql(&sql_path, &rows, &header, &created_at)
                    .map_err(|e| SynthError::io(&sql_path, e))
            })
            .transpose();
        let reports: Result<Vec<LogReport>, SynthError> = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| SynthError::invalid("a log writer thread panicked"))?
            })
            .collect();
        let hreport = merger
            .map(|h| {
                h.join()
                    .map_err(|_| SynthError::invalid("the handler copy's writer panicked"))?
            })
            .transpose();
        (reports, hreport, csv, sql)
    });
    let reports = reports?;
    let hreport = hreport?;
    if let Some(h) = &hreport {
        check_gaps_kept(s, h)?;
    }
    let mut counts = Counts {
        csv_bytes: csv_bytes?,
        sql_bytes: sql_bytes?,
        lost_log_lines: lost as u64,
        lost_db_batches: failed as u64,
        duplicates: dups as u64,
        db_down_batches: down_batches as u64,
        ..Counts::default()
    };
    let truth = assemble(
        s,
        &acts,
        &batches,
        &ids,
        &reports,
        hreport.as_ref(),
        &rows,
        &mut counts,
    );
    let truth = Truth { counts, ..truth };
    let truth_path = dir.join("truth.json");
    let text = serde_json::to_string_pretty(&truth)
        .map_err(|e| SynthError::invalid(format!("cannot serialize truth.json: {e}")))?;
    std::fs::write(&truth_path, text + "\n").map_err(|e| SynthError::io(&truth_path, e))?;
    let mut files: Vec<PathBuf> = reports.iter().map(|r| logs_dir.join(&r.name)).collect();
    if let Some(h) = &hreport {
        files.extend(h.members.iter().map(|m| handler_dir.join(&m.name)));
    }
    files.push(csv_path);
    if s.write_sql {
        files.push(sql_path);
    }
    files.push(truth_path);
    Ok(Output {
        dir: dir.to_path_buf(),
        files,
        truth,
        elapsed: started.elapsed(),
    })
}

/// A stretch the tee lost must still be in the handler copy: refuses a scenario whose
/// rotation deleted the member that held it (the records would be in no file at all).
fn check_gaps_kept(s: &Scenario, h: &HandlerReport) -> Result<(), SynthError> {
    for (pr, gaps) in s.processes.iter().zip(&h.gaps) {
        for (g, st) in pr.copy_gaps.iter().zip(gaps) {
            if g.lost_from == LostCopy::Tee && st.rotated_out {
                return Err(SynthError::invalid(format!(
                    "process {}: the stretch its tee copy lost ({} records) rotated out of the handler copy too (more than --handler-backups members after it); raise --handler-max-bytes or --handler-backups",
                    pr.pid, st.records
                )));
            }
        }
    }
    Ok(())
}

/// The process's file ends cleanly: it stopped cleanly and its shutdown records are written.
fn clean_stop(pr: &Process, r: &LogReport) -> bool {
    pr.ending == Ending::Clean && r.shutdown_written
}

/// The ground truth from what was generated and written.
#[allow(clippy::too_many_arguments)]
fn assemble(
    s: &Scenario,
    acts: &[Activity],
    batches: &[Batch],
    ids: &[Vec<Option<i64>>],
    reports: &[LogReport],
    hrep: Option<&HandlerReport>,
    rows: &[(i64, &Event)],
    counts: &mut Counts,
) -> Truth {
    let np = s.processes.len();
    let writer_name = |w: usize| match acts[w].kind {
        WriterKind::Process(i) => reports[i].name.clone(),
        WriterKind::Ghost(_) => "ghost".to_string(),
    };
    // The grace applies only to an edge that is not clean: a file that holds its process's
    // `Lock acquired` is covered from its first record, one that ends cleanly (shutdown
    // lines, `Lock released`) up to its last. A file the level left without its lock line or
    // its shutdown lines has no clean edge there.
    let covered = |t: i64| {
        reports.iter().zip(&s.processes).any(|(r, pr)| {
            let lo = r.first_us + if r.lock_line.is_some() { 0 } else { EDGE_US };
            let hi = r.last_us - if clean_stop(pr, r) { 0 } else { EDGE_US };
            r.records > 0 && lo <= t && t <= hi
        })
    };
    // A record's place in the handler copy.
    let member = |m: usize| hrep.map(|h| h.members[m].name.clone()).unwrap_or_default();
    let handler_ref = |i: usize, e: usize| {
        hrep.and_then(|h| h.event_refs[i][e])
            .map(|(m, line)| LogRef {
                file: member(m),
                line,
            })
    };
    let created_at = |ev: &Event| s.db_reading_us(ev.created);
    let db_first = rows.iter().map(|r| r.1.created).min().unwrap_or(0);
    let db_last = rows.iter().map(|r| r.1.created).max().unwrap_or(0);
    let failed_events: HashSet<(usize, usize)> = batches
        .iter()
        .filter(|b| b.failed)
        .flat_map(|b| b.events.iter().map(move |&e| (b.writer, e)))
        .collect();
    let down_events: HashSet<(usize, usize)> = batches
        .iter()
        .filter(|b| b.down)
        .flat_map(|b| b.events.iter().map(move |&e| (b.writer, e)))
        .collect();

    let mut missing_in_log = Vec::new();
    let mut missing_in_db = Vec::new();
    let mut filtered_by_level = Vec::new();
    let mut ghost_rows = Vec::new();
    let mut unattributed = Vec::new();
    let mut dup_groups: BTreeMap<u32, Vec<(bool, i64)>> = BTreeMap::new();
    let mut corr = Vec::new();
    for (w, a) in acts.iter().enumerate() {
        for (e, ev) in a.events.iter().enumerate() {
            let id = ids[w][e];
            if let (Some((g, copy)), Some(id)) = (ev.dup, id) {
                dup_groups.entry(g).or_default().push((copy, id));
            }
            match (id, ev.logged) {
                (Some(id), false) => {
                    let cause = match (a.kind, ev.dup) {
                        (WriterKind::Ghost(_), _) => RowCause::Ghost,
                        (_, Some((_, true))) => RowCause::DuplicateCopy,
                        _ => RowCause::LostLogLine,
                    };
                    if cause == RowCause::Ghost {
                        // A ghost row is attributable as such whether or not a bot process
                        // was alive: with none alive by the time, with one alive by its id
                        // falling in none of that process's logged batches.
                        ghost_rows.push(id);
                        unattributed.push(id);
                    }
                    missing_in_log.push(RowFault {
                        id,
                        event_type: ev.event_type.to_string(),
                        created_utc: rfc3339_micros(created_at(ev)),
                        cause,
                        covered: covered(ev.created),
                    });
                }
                (None, true) => {
                    let WriterKind::Process(i) = a.kind else {
                        continue;
                    };
                    let t = ev.created + ev.lag;
                    // Its line in the tee file (and its copy), else in the handler copy alone
                    // (the tee lost it); a line the level kept out is in neither.
                    let copy = handler_ref(i, e);
                    let (file, line, copies) = match (reports[i].event_line[e], copy) {
                        (0, Some(c)) => (c.file, c.line, Vec::new()),
                        (0, None) => continue,
                        (line, c) => (reports[i].name.clone(), line, c.into_iter().collect()),
                    };
                    missing_in_db.push(LineFault {
                        file,
                        line,
                        copies,
                        event_type: ev.event_type.to_string(),
                        created_utc: rfc3339_micros(created_at(ev)),
                        cause: if down_events.contains(&(w, e)) {
                            LineCause::DbDown
                        } else if failed_events.contains(&(w, e)) {
                            LineCause::FailedBatch
                        } else {
                            LineCause::UnflushedAtKill
                        },
                        db_covered: db_first + EDGE_US <= t && t <= db_last - EDGE_US,
                    });
                }
                (Some(id), true) => {
                    if let WriterKind::Process(i) = a.kind {
                        if ev.level() < s.processes[i].level {
                            filtered_by_level.push(id);
                        }
                    }
                }
                _ => {}
            }
            if let (Some(id), Some(epoch)) = (id, ev.epoch) {
                corr.push(CorrRow {
                    id,
                    epoch,
                    created: created_at(ev),
                    writer: writer_name(w),
                    duplicate: ev.dup.is_some(),
                });
            }
        }
    }
    missing_in_log.sort_by_key(|r| r.id);
    filtered_by_level.sort_unstable();
    let mut a_filtered = vec![0u64; np];
    for (w, a) in acts.iter().enumerate().take(np) {
        a_filtered[w] = a
            .events
            .iter()
            .zip(&ids[w])
            .filter(|(ev, id)| id.is_some() && ev.logged && ev.level() < s.processes[w].level)
            .count() as u64;
    }
    missing_in_db.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    ghost_rows.sort_unstable();
    unattributed.sort_unstable();
    let mut duplicates: Vec<Vec<i64>> = dup_groups
        .into_values()
        .map(|mut g| {
            g.sort();
            g.into_iter().map(|(_, id)| id).collect()
        })
        .filter(|g: &Vec<i64>| g.len() > 1)
        .collect();
    duplicates.sort();

    let mut overlaps = Vec::new();
    // A file the level left empty holds no life.
    let mut by_start: Vec<&LogReport> = reports.iter().filter(|r| r.records > 0).collect();
    by_start.sort_by_key(|r| r.first_us);
    for (k, a) in by_start.iter().enumerate() {
        for b in &by_start[k + 1..] {
            let (from, to) = (a.first_us.max(b.first_us), a.last_us.min(b.last_us));
            if to > from {
                overlaps.push(Overlap {
                    files: [a.name.clone(), b.name.clone()],
                    start_utc: rfc3339_micros(from),
                    end_utc: rfc3339_micros(to),
                });
            }
        }
    }
    let lives: Vec<(String, i64, i64)> = reports
        .iter()
        .filter(|r| r.records > 0)
        .map(|r| (r.name.clone(), r.first_us, r.last_us))
        .collect();
    let gaps = truth::gaps(&lives)
        .into_iter()
        .map(|(after, before, a, b)| Gap {
            after,
            before,
            start_utc: rfc3339_micros(a),
            end_utc: rfc3339_micros(b),
            seconds: (b - a) as f64 / 1e6,
        })
        .collect();
    let mut batch_failures: Vec<LogRef> = reports
        .iter()
        .flat_map(|r| {
            r.failed_batch_lines.iter().map(|&(_, line)| LogRef {
                file: r.name.clone(),
                line,
            })
        })
        .collect();
    // Those only the handler copy holds (the tee lost them).
    if let Some(h) = hrep {
        for (r, refs) in reports.iter().zip(&h.failed_refs) {
            for &(k, m, line) in refs {
                if !r.failed_batch_lines.iter().any(|&(b, _)| b == k) {
                    batch_failures.push(LogRef {
                        file: member(m),
                        line,
                    });
                }
            }
        }
    }

    let files: Vec<FileTruth> = (0..np)
        .map(|i| {
            let pr = &s.processes[i];
            let r = &reports[i];
            let mut offsets = vec![OffsetSpan {
                offset: format_offset(pr.log_offset),
                from_line: 1,
                from_utc: rfc3339_micros(r.first_us),
            }];
            if let (Some((at, o)), Some(line)) = (pr.offset_change, r.change_line) {
                offsets.push(OffsetSpan {
                    offset: format_offset(o),
                    from_line: line,
                    from_utc: rfc3339_micros(at.timestamp_micros()),
                });
            }
            FileTruth {
                name: r.name.clone(),
                pid: pr.pid,
                ending: pr.ending,
                start_utc: rfc3339_micros(r.first_us),
                end_utc: rfc3339_micros(r.last_us),
                offsets,
                lines: r.lines,
                records: r.records,
                bytes: r.bytes,
                event_lines: r.event_lines,
                invalid_utf8_lines: r.invalid_utf8_lines,
                db_rows: ids[i].iter().flatten().count() as u64,
                clock: file_clock(s, pr, r),
                level: pr.level,
                filtered_records: r.filtered_records,
                filtered_rows: a_filtered[i],
                clean_start: r.lock_line.is_some(),
                clean_stop: clean_stop(pr, r),
            }
        })
        .collect();
    let (streams, handler_members, copy_gaps) = copies(s, reports, hrep);
    counts.handler_files = handler_members.len() as u64;
    counts.handler_records = handler_members.iter().map(|m| m.records).sum();
    counts.handler_bytes = handler_members.iter().map(|m| m.bytes).sum();
    counts.handler_deleted = hrep.map_or(0, |h| h.dropped as u64);
    counts.filtered_by_level = filtered_by_level.len() as u64;
    counts.filtered_records = reports.iter().map(|r| r.filtered_records).sum();

    counts.db_rows = rows.len() as u64;
    counts.log_files = reports.len() as u64;
    counts.log_lines = reports.iter().map(|r| u64::from(r.lines)).sum();
    counts.log_records = reports.iter().map(|r| r.records).sum();
    counts.log_event_lines = reports.iter().map(|r| r.event_lines).sum();
    counts.log_bytes = reports.iter().map(|r| r.bytes).sum();
    counts.ghost_rows = ghost_rows.len() as u64;
    for (_, e) in rows {
        *counts.by_type.entry(e.event_type.to_string()).or_default() += 1;
    }
    Truth {
        version: truth::VERSION,
        generator: format!("audit-gen {}", env!("CARGO_PKG_VERSION")),
        seed: s.seed,
        start_utc: rfc3339_micros(s.start.timestamp_micros()),
        end_utc: rfc3339_micros(s.end().timestamp_micros()),
        display_offset: format_offset(s.display_offset),
        rate_per_min: s.rate_per_min,
        faults: s.faults.clone(),
        counts: Counts::default(),
        files,
        missing_in_log,
        missing_in_db,
        duplicates,
        overlaps,
        gaps,
        unattributed,
        ghost_rows,
        batch_failures,
        inversions: truth::inversions(corr, 600_000_000),
        streams,
        handler_files: handler_members.iter().map(|m| m.name.clone()).collect(),
        handler_members,
        copy_gaps,
        filtered_by_level,
    }
}

/// The copies of each process's log: its stream (tee file, then the handler members holding
/// its records, oldest first), the handler members, and the stretches one copy lacks.
fn copies(
    s: &Scenario,
    reports: &[LogReport],
    hrep: Option<&HandlerReport>,
) -> (Vec<Stream>, Vec<HandlerMember>, Vec<CopyGap>) {
    let members = hrep.map_or(&[][..], |h| &h.members[..]);
    let streams = s
        .processes
        .iter()
        .zip(reports)
        .enumerate()
        .map(|(i, (pr, r))| Stream {
            pid: pr.pid,
            files: std::iter::once(r.name.clone())
                .chain(
                    members
                        .iter()
                        .filter(|m| m.processes.contains(&i))
                        .map(|m| m.name.clone()),
                )
                .collect(),
        })
        .collect();
    let handler_members = members
        .iter()
        .map(|m| HandlerMember {
            name: m.name.clone(),
            gzip: m.gzip,
            records: m.records,
            lines: m.lines,
            bytes: m.bytes,
            stored_bytes: m.stored_bytes,
            start_utc: rfc3339_micros(m.first_us),
            end_utc: rfc3339_micros(m.last_us),
            pids: m.processes.iter().map(|&i| s.processes[i].pid).collect(),
            copy_of: m
                .processes
                .iter()
                .map(|&i| reports[i].name.clone())
                .collect(),
        })
        .collect();
    let mut gaps = Vec::new();
    if let Some(h) = hrep {
        for (i, pr) in s.processes.iter().enumerate() {
            for (g, st) in pr.copy_gaps.iter().zip(&h.gaps[i]) {
                // A stretch with no record in it shows in neither copy; one whose handler
                // member is gone (rotated out) is past the handler's reach, not a gap in it.
                if st.records == 0 || st.members.is_empty() {
                    continue;
                }
                let names: Vec<String> = st
                    .members
                    .iter()
                    .map(|&m| members[m].name.clone())
                    .collect();
                let tee = reports[i].name.clone();
                let (missing_from, present_in_all) = match g.lost_from {
                    LostCopy::Tee => (vec![tee], names),
                    LostCopy::Handler => (names, vec![tee]),
                };
                gaps.push(CopyGap {
                    pid: pr.pid,
                    missing_from,
                    present_in: present_in_all[0].clone(),
                    present_in_all,
                    from_utc: rfc3339_micros(st.first_us),
                    to_utc: rfc3339_micros(st.last_us),
                    records: st.records,
                });
            }
        }
    }
    (streams, handler_members, gaps)
}

/// µs → seconds, to the µs.
fn secs(us: f64) -> f64 {
    us.round() / 1e6
}

/// The true clock of process `pr`'s file `r` against `created_at`: the offset
/// `naive log time − created_at` of an event at true instant t is the host's error + its zone
/// offset − the DB clock's error, linear between the steps and the offset change. Its instants
/// (`from_utc`, `to_utc`, `at_utc`) are the DB clock's readings of them.
pub(crate) fn file_clock(s: &Scenario, pr: &Process, r: &LogReport) -> FileClock {
    let host = pr.host_fn();
    let zone_us = |o: chrono::FixedOffset| i64::from(o.local_minus_utc()) * 1_000_000;
    let change = pr
        .offset_change
        .map(|(at, o)| (at.timestamp_micros(), zone_us(o)));
    let base = zone_us(pr.log_offset);
    let zone_at = |t: i64| match change {
        Some((at, z)) if t >= at => z,
        _ => base,
    };
    let offset_us = |t: i64| zone_at(t) as f64 + host.error_exact_us(t) - s.db_error_exact_us(t);
    let drift = ((pr.clock.drift_ppm - s.db_clock.drift_ppm) * 1e6).round() / 1e6;
    // Instants as the DB's clock reads them: the only time axis the product can place lines
    // on is `created_at`'s.
    let on_db = |t: i64| t + s.db_error_exact_us(t).round() as i64;
    let segments = r
        .segments
        .iter()
        .flatten()
        .map(|sp| ClockSegment {
            from_line: sp.first_line,
            to_line: sp.last_line,
            from_utc: rfc3339_micros(on_db(sp.first_t)),
            to_utc: rfc3339_micros(on_db(sp.last_t)),
            offset_start_s: secs(offset_us(sp.first_t)),
            offset_end_s: secs(offset_us(sp.last_t)),
            drift_ppm: drift,
        })
        .collect();
    let mut steps = Vec::new();
    for (k, &at) in r.boundaries.iter().enumerate() {
        // A step after the file's last record shows in no line.
        let Some(next) = r.segments[k + 1..].iter().flatten().next() else {
            continue;
        };
        let jump: i64 = host
            .steps
            .iter()
            .filter(|st| st.0 == at)
            .map(|st| st.1)
            .sum::<i64>()
            + match change {
                Some((c, z)) if c == at => z - base,
                _ => 0,
            };
        let after = offset_us(at);
        steps.push(ClockStep {
            line: next.first_line,
            at_utc: rfc3339_micros(on_db(at)),
            before_s: secs(after - jump as f64),
            after_s: secs(after),
        });
    }
    FileClock { segments, steps }
}
