//! Sources: PostgreSQL, snapshot files and logs. This module decides which sources a command
//! reads (flags, then `audit.toml`, then `DATABASE_URL`), loads them — logs in parallel with
//! the database — and places every log file on UTC with its clock.

pub mod db;
pub mod events;
pub mod logs;
pub mod snapshot;

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};

use crate::cli::{ClockOpts, FilterOpts, SourceOpts};
use crate::clock::skew::{self, DbTwins, EpochCheck, Estimate};
use crate::clock::{LogTzRule, SourceClock, log_clock};
use crate::config::Config;
use crate::error::AuditError;
use crate::rows::{Chunk, Kind};
use crate::time::Provenance;
use crate::time::{UtcRange, Zone, Zoned};
use crate::timeline::{Filter, align, signal_positions};
use db::{DbConfig, DbSession, Pushdown};
use events::Events;
use logs::{Keep, LogFile};
use snapshot::SnapshotConfig;

/// Where the events come from.
#[derive(Debug, Clone)]
pub enum EventsSpec {
    None,
    Db(DbConfig),
    File(PathBuf, SnapshotConfig),
}

/// What a command will read, decided before anything is read.
#[derive(Debug, Clone)]
pub struct SourcePlan {
    pub events: EventsSpec,
    pub logs: Vec<PathBuf>,
    pub log_rules: Vec<LogTzRule>,
    pub display_tz: Option<(Zone, String)>,
}

/// Everything loaded, logs aligned, filters resolved.
#[derive(Debug)]
pub struct Loaded {
    pub events: Option<Events>,
    pub logs: Vec<LogFile>,
    /// One per log file, in the same order.
    pub decisions: Vec<ClockDecision>,
    /// The filters as the user gave them.
    pub filter: Filter,
    /// What was loaded: the filters with the window widened by the margin.
    pub scope: Filter,
    /// The zone windows were read in and local times are shown in.
    pub display: Zoned,
    /// The DB clock's correlation-epoch check.
    pub epoch: Option<EpochCheck>,
}

impl Loaded {
    pub fn log_clocks(&self) -> Vec<SourceClock> {
        self.decisions.iter().map(|d| d.clock.clone()).collect()
    }

    /// The clocks of the naive reading (`--no-align`): every file in the display zone.
    pub fn unaligned_clocks(&self) -> Vec<SourceClock> {
        let clock = SourceClock::new(self.display.zone, Provenance::Unaligned);
        vec![clock; self.logs.len()]
    }

    /// The rows of kinds `keep` of each log file read the naive way: copies placed with
    /// [`Self::unaligned_clocks`] (only those rows are copied: a week's first pass holds ~0.4 GB
    /// of typed lines).
    pub fn unaligned_logs(&self, keep: impl Fn(Kind) -> bool) -> Vec<LogFile> {
        self.logs
            .iter()
            .zip(self.unaligned_clocks())
            .map(|(l, clock)| {
                let rows: Vec<bool> = l.chunk.kind.iter().map(|&k| keep(k)).collect();
                let mut chunk = l.chunk.select(&rows);
                align(&mut chunk, &clock);
                LogFile {
                    info: l.info.clone(),
                    chunk,
                    marks: l.marks.clone(),
                    first_ts: l.first_ts,
                    last_ts: l.last_ts,
                    complete: l.complete,
                    sampled: l.sampled,
                }
            })
            .collect()
    }

    /// Each log file's (and, in a file spanning restarts, each PID's) first and last record on UTC.
    pub fn coverage(&self) -> Vec<crate::rows::Coverage> {
        coverage_of(&self.logs, &self.log_clocks())
    }

    /// First and last record of the logs on UTC.
    pub fn logs_span(&self) -> Option<(i64, i64)> {
        logs_span(&self.logs, &self.decisions)
    }

    /// First and last created_at of the whole DB source.
    pub fn db_span(&self) -> Option<(i64, i64)> {
        self.events.as_ref().and_then(|e| e.info.span)
    }
}

/// Each log file's (and, in a file spanning restarts, each PID's) first and last record on UTC.
pub fn coverage_of(logs: &[LogFile], clocks: &[SourceClock]) -> Vec<crate::rows::Coverage> {
    use crate::rows::Coverage;
    let mut out: Vec<Coverage> = Vec::new();
    for (l, clock) in logs.iter().zip(clocks) {
        let (Some(first), Some(last)) = (l.first_ts, l.last_ts) else {
            continue;
        };
        let last_line = u32::try_from(l.info.stats.lines).unwrap_or(u32::MAX);
        let (start, end) = (clock.utc(first, 1), clock.utc(last, last_line));
        let c = &l.chunk;
        let locks: Vec<usize> = (0..c.len())
            .filter(|&i| c.kind[i] == Kind::LockAcquired)
            .collect();
        if l.info.pids.len() <= 1 {
            out.push(Coverage {
                file: l.info.name.clone(),
                pid: l.info.pids.first().copied(),
                start,
                end,
            });
            continue;
        }
        // A file spanning restarts: one stretch per PID, cut at each lock line; each ends at
        // the last record (kept row or index mark) before the next lock line.
        // Every time placed with `clock` (not the chunk's ts_utc): the naive counts ask for
        // the coverage under a clock the rows were not aligned with.
        let at = |i: usize| clock.utc(c.ts_local[i], c.line[i].unwrap_or(0));
        let mut points: Vec<(u64, i64)> = (0..c.len())
            .filter_map(|i| Some((c.byte_offset[i]?, at(i))))
            .collect();
        points.extend(
            l.marks
                .iter()
                .map(|m| (m.offset, clock.utc(m.ts_local, m.line))),
        );
        points.sort_unstable();
        let cuts: Vec<(u64, Option<u32>, i64)> = std::iter::once((0u64, None, start))
            .chain(
                locks
                    .iter()
                    .map(|&i| (c.byte_offset[i].unwrap_or(0), c.pid[i], at(i))),
            )
            .collect();
        for (k, &(from, pid, t0)) in cuts.iter().enumerate() {
            let to = cuts.get(k + 1).map_or(u64::MAX, |x| x.0);
            let t1 = points
                .iter()
                .filter(|(o, _)| *o >= from && *o < to)
                .map(|(_, t)| *t)
                .max();
            let t1 = if k + 1 == cuts.len() { Some(end) } else { t1 };
            if let Some(t1) = t1 {
                if k == 0 && from == to {
                    continue;
                }
                out.push(Coverage {
                    file: l.info.name.clone(),
                    pid,
                    start: t0,
                    end: t1.max(t0),
                });
            }
        }
    }
    out
}

fn zone_from(text: &str, by: String) -> Result<(Zone, String), AuditError> {
    text.parse::<Zone>()
        .map(|z| (z, by))
        .map_err(AuditError::usage)
}

/// Flags beat `audit.toml`; `DATABASE_URL` is the last resort for the events source.
pub fn plan(src: &SourceOpts, clock: &ClockOpts, cfg: &Config) -> Result<SourcePlan, AuditError> {
    let label = cfg.label();
    let db_tz = match (&clock.db_tz, &cfg.clock.db_tz) {
        (Some(z), _) => Some((*z, "--db-tz".to_string())),
        (None, Some(t)) => Some(zone_from(t, format!("{label} db_tz"))?),
        (None, None) => None,
    };
    let display_tz = match (&clock.tz, &cfg.clock.display_tz) {
        (Some(z), _) => Some((*z, "--tz".to_string())),
        (None, Some(t)) => Some(zone_from(t, format!("{label} display_tz"))?),
        (None, None) => None,
    };
    let db_cfg = |url: String| DbConfig {
        url,
        db_tz: db_tz.clone(),
        display_tz: display_tz.clone(),
        connect_timeout: Duration::from_secs(
            src.connect_timeout
                .or(cfg.db.connect_timeout_s)
                .unwrap_or(10),
        ),
        statement_timeout: Duration::from_secs(
            src.statement_timeout
                .or(cfg.db.statement_timeout_s)
                .unwrap_or(300),
        ),
    };
    let snap_cfg = SnapshotConfig {
        db_tz: db_tz.clone(),
        display_tz: display_tz.clone(),
    };
    let env_url = std::env::var("DATABASE_URL").ok().filter(|s| !s.is_empty());
    let events = if let Some(url) = &src.db {
        EventsSpec::Db(db_cfg(url.clone()))
    } else if let Some(f) = &src.events {
        EventsSpec::File(f.clone(), snap_cfg)
    } else if let Some(url) = &cfg.sources.db {
        EventsSpec::Db(db_cfg(url.clone()))
    } else if let Some(f) = &cfg.sources.events {
        EventsSpec::File(cfg.resolve(f), snap_cfg)
    } else if let Some(url) = env_url {
        EventsSpec::Db(db_cfg(url))
    } else {
        EventsSpec::None
    };
    let logs: Vec<PathBuf> = if src.logs.is_empty() {
        cfg.sources.logs.iter().map(|p| cfg.resolve(p)).collect()
    } else {
        src.logs.clone()
    };
    let mut log_rules = clock.log_tz.clone();
    for item in cfg.clock.log_tz.items() {
        log_rules.push(LogTzRule::parse(&item, &label).map_err(AuditError::usage)?);
    }
    if matches!(events, EventsSpec::None) && logs.is_empty() {
        return Err(AuditError::usage(
            "no sources: pass --db URL (or DATABASE_URL) or --events FILE, and --logs PATH; or write an audit.toml",
        ));
    }
    Ok(SourcePlan {
        events,
        logs,
        log_rules,
        display_tz,
    })
}

/// First and last record of the logs on UTC.
fn logs_span(logs: &[LogFile], decisions: &[ClockDecision]) -> Option<(i64, i64)> {
    logs.iter()
        .zip(decisions)
        .filter_map(|(l, d)| {
            let last_line = u32::try_from(l.info.stats.lines).unwrap_or(u32::MAX);
            Some((
                d.clock.utc(l.first_ts?, 1),
                d.clock.utc(l.last_ts?, last_line),
            ))
        })
        .reduce(|(a, b), (c, e)| (a.min(c), b.max(e)))
}

/// The date of a bare-time window: `--date`, or the one local date the data covers.
fn window_date(
    f: &FilterOpts,
    zone: &Zone,
    span: Option<(i64, i64)>,
) -> Result<Option<NaiveDate>, AuditError> {
    if f.date.is_some() || !f.window.as_ref().is_some_and(|w| w.needs_date()) {
        return Ok(f.date);
    }
    let Some((a, b)) = span else {
        return Err(AuditError::usage(
            "--window has no date and the sources hold no rows to take it from; add --date YYYY-MM-DD",
        ));
    };
    let day = |t: i64| {
        zone.local(DateTime::<Utc>::from_timestamp_micros(t).unwrap_or_default())
            .date()
    };
    let (first, last) = (day(a), day(b));
    if first == last {
        Ok(Some(first))
    } else {
        Err(AuditError::usage(format!(
            "--window {} has no date and the data spans {first} .. {last} ({zone}); add --date YYYY-MM-DD",
            f.window
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        )))
    }
}

fn resolve_filter(
    f: &FilterOpts,
    zone: &Zone,
    date: Option<NaiveDate>,
) -> Result<Filter, AuditError> {
    let window: Option<UtcRange> = match &f.window {
        Some(w) => Some(w.resolve(zone, date).map_err(AuditError::usage)?),
        None => None,
    };
    Ok(Filter {
        window,
        symbol: f.symbol.as_ref().map(|s| s.trim().to_ascii_uppercase()),
        position: f.position,
        correlation: f.correlation.clone(),
        signal: f.signal,
    })
}

/// How each log file's clock was decided (for `audit skew` and every banner).
#[derive(Debug, Clone)]
pub struct ClockDecision {
    pub file: String,
    pub clock: SourceClock,
    /// The detection result when detection ran (also when a flag overrode it).
    pub estimate: Option<Estimate>,
    /// Set when the data contradicts a zone the user gave.
    pub warning: Option<String>,
}

/// Decides each log file's clock: a flag/config rule, else detection from DB twins, else an
/// assumption that every output flags. `--no-align` reads them in the display zone.
fn decide_clocks(
    logs: &[LogFile],
    rules: &[LogTzRule],
    twins: Option<&DbTwins>,
    no_align: bool,
    display: &Zoned,
) -> Vec<ClockDecision> {
    use rayon::prelude::*;
    logs.par_iter()
        .map(|l| {
            let name = &l.info.name;
            let empty = DbTwins::default();
            let estimate = Some(skew::estimate(&l.chunk, twins.unwrap_or(&empty))).filter(|e| e.candidates > 0);
            let given = log_clock(name, rules);
            let clock = if no_align {
                SourceClock::new(display.zone, Provenance::Unaligned)
            } else if !given.provenance.is_assumed() {
                given
            } else {
                match estimate.as_ref().and_then(SourceClock::detected) {
                    Some(c) => c,
                    None => SourceClock::new(
                        Zone::UTC,
                        Provenance::Assumed {
                            why: format!(
                                "no zone given for {name} and no DB twins to detect it; pass --log-tz '{name}=+HH:MM'"
                            ),
                        },
                    ),
                }
            };
            let warning = match (&clock.provenance, estimate.as_ref()) {
                (Provenance::Given { by }, Some(e)) if e.confidence >= skew::Confidence::Medium && clock.changes.is_empty() => e
                    .offset()
                    .filter(|o| clock.zone != Zone::Fixed(*o))
                    .map(|o| format!("{name}: {by} says {}, but {} DB/log twins put it at {}", clock.zone, e.anchors, crate::time::format_offset(o))),
                _ => None,
            };
            ClockDecision { file: name.clone(), clock, estimate, warning }
        })
        .collect()
}

/// The span of instants a set of log files can cover: their naive times ± 14 h.
fn possible_span(logs: &[LogFile]) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let lo = logs.iter().filter_map(|l| l.first_ts).min()?;
    let hi = logs.iter().filter_map(|l| l.last_ts).max()?;
    pad_span((lo, hi))
}

/// Naive first/last times ± 14 h (every real offset), as instants.
fn pad_span((lo, hi): (i64, i64)) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let pad = 14 * 3600 * 1_000_000 + 60_000_000;
    Some((
        DateTime::from_timestamp_micros(lo - pad)?,
        DateTime::from_timestamp_micros(hi + pad + 1)?,
    ))
}

/// Loads every planned source. Logs are parsed (in parallel, per file) while the database
/// connects; then each log file's clock is decided, logs are placed on UTC, and the filters
/// are resolved in the display zone and pushed into SQL.
///
/// `margin_us` widens the window of what is loaded (not of `Loaded::filter`): checks need the
/// twins just outside a window to judge the rows inside it.
pub fn load(
    plan: &SourcePlan,
    f: &FilterOpts,
    no_align: bool,
    margin_us: i64,
    need: Need,
) -> Result<Loaded, AuditError> {
    load_with(plan, f, no_align, margin_us, need, None)
}

/// What a time-sliced run carries from one slice's load to the next: the first pass over the
/// logs (every file read once, sampled), the DB anchors, and the clocks, decided once for the
/// whole run ([`settle_clocks`]) so every slice places its rows the same way.
#[derive(Default)]
pub struct Reuse {
    /// The logs' first pass (each load places its rows on UTC again).
    logs: Option<Vec<LogFile>>,
    twins: Option<DbTwins>,
    decisions: Option<Vec<ClockDecision>>,
}

impl Reuse {
    /// Keeps the first load's logs (the first pass) for the loads after it.
    pub fn keep_logs(&mut self, logs: Vec<LogFile>) {
        self.logs = Some(logs);
    }

    /// What a load of `window` needs of the first pass: once the clocks are settled, only the
    /// rows that land in it, and the lock lines (a file's stretches per PID); the marks whole.
    fn logs_for(&self, window: &Option<UtcRange>) -> Option<Vec<LogFile>> {
        let logs = self.logs.as_ref()?;
        let (Some(decisions), Some(w)) = (self.decisions.as_ref(), window) else {
            return Some(logs.clone());
        };
        let (lo, hi) = (w.start.timestamp_micros(), w.end.timestamp_micros());
        Some(
            logs.iter()
                .zip(decisions)
                .map(|(l, d)| {
                    let c = &l.chunk;
                    let keep: Vec<bool> = (0..c.len())
                        .map(|i| {
                            let t = d.clock.utc(c.ts_local[i], c.line[i].unwrap_or(0));
                            c.kind[i] == Kind::LockAcquired || (lo <= t && t < hi)
                        })
                        .collect();
                    LogFile {
                        info: l.info.clone(),
                        chunk: c.select(&keep),
                        marks: l.marks.clone(),
                        first_ts: l.first_ts,
                        last_ts: l.last_ts,
                        complete: l.complete,
                        sampled: l.sampled,
                    }
                })
                .collect(),
        )
    }

    /// The clocks [`settle_clocks`] decided.
    pub fn decisions(&self) -> &[ClockDecision] {
        self.decisions.as_deref().unwrap_or_default()
    }

    /// The shared first pass (every typed line, lifecycle events, sampled events), placed on
    /// UTC with the settled clocks, and those clocks.
    pub fn first_pass(&self) -> Option<(Vec<LogFile>, Vec<SourceClock>)> {
        let (logs, decisions) = (self.logs.as_ref()?, self.decisions.as_ref()?);
        let clocks: Vec<SourceClock> = decisions.iter().map(|d| d.clock.clone()).collect();
        let mut logs = logs.clone();
        for (l, c) in logs.iter_mut().zip(&clocks) {
            align(&mut l.chunk, c);
        }
        Some((logs, clocks))
    }
}

/// [`load`], sharing a first pass with other loads of the same sources (`reuse`): the first
/// call fills it (every file sampled, whatever its size), later calls only read their window.
pub fn load_with(
    plan: &SourcePlan,
    f: &FilterOpts,
    no_align: bool,
    margin_us: i64,
    need: Need,
    reuse: Option<&mut Reuse>,
) -> Result<Loaded, AuditError> {
    let log_paths = logs::discover(&plan.logs)?;
    let cached = reuse
        .as_ref()
        .and_then(|r| r.logs_for(&widen_spec(f, margin_us)));
    let fixed = reuse.as_ref().and_then(|r| r.decisions.clone());
    let sliced = reuse.is_some();
    let sampling = if sliced {
        logs::Sampling::All
    } else if f.window.is_some() != f.signal.is_some() {
        logs::Sampling::Big
    } else {
        logs::Sampling::Off
    };
    // Plain messages only ever match a window or a signal (they carry no symbol, position or
    // correlation): without those filters a timeline shows all of them, checks none.
    let filters_messages = f.window.is_some() || f.signal.is_some();
    // A window or a signal (not both): big files are sampled on the first pass and what the
    // filter selects is read back — the window's events by the time index, the signal's and
    // its positions' by a byte search for their digits — so memory follows the question.
    let keep = match need {
        Need::Selected if !filters_messages => Keep::Everything,
        _ => Keep::Structured,
    };
    std::thread::scope(|s| {
        let log_job = s.spawn(|| {
            if let Some(logs) = cached {
                return Ok(logs);
            }
            let _t = crate::timing::phase("logs: parse");
            let total: u64 = log_paths
                .iter()
                .filter_map(|p| std::fs::metadata(p).ok())
                .map(|m| m.len())
                .sum();
            // Worth a bar only for files that take a while (gzip sizes are compressed sizes).
            if total > 256 << 20 {
                crate::progress::start(total, "logs");
            }
            let out = logs::load(&log_paths, keep, sampling);
            crate::progress::finish();
            out
        });
        let mut session = match &plan.events {
            EventsSpec::Db(cfg) => Some(DbSession::connect(cfg)),
            _ => None,
        }
        .transpose()?;
        let snapshot = match &plan.events {
            EventsSpec::File(p, cfg) => {
                let _t = crate::timing::phase("events: read snapshot");
                Some(snapshot::load(p, cfg)?)
            }
            _ => None,
        };
        // Clocks: detection needs DB twins only for files nobody gave a zone for. Their anchors
        // are fetched while the files are still being parsed, over the span the files' first and
        // last lines say they could cover.
        let needs_detection = !no_align
            && fixed.is_none()
            && log_paths.iter().any(|p| {
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                log_clock(&name, &plan.log_rules).provenance.is_assumed()
            });
        let mut db_twins: Option<DbTwins> = None;
        if let (Some(sess), true) = (session.as_mut(), needs_detection) {
            let peeked: Option<Vec<(i64, i64)>> = log_paths
                .iter()
                .map(|p| logs::reader::peek_span(p))
                .collect();
            if let Some(span) =
                peeked.and_then(|v| v.into_iter().reduce(|a, b| (a.0.min(b.0), a.1.max(b.1))))
            {
                let _t = crate::timing::phase("db: fetch anchors");
                let mut t = DbTwins::default();
                if let Some((a, b)) = pad_span(span) {
                    sess.fetch_anchors(a, b, &mut |et, h, at| t.add_hash(et, h, at))?;
                }
                db_twins = Some(t);
            }
        }
        // The DB's first pass (every filter pushed down) also runs while the logs parse: the
        // window is read in the display zone, which the DB (or --tz) gives.
        let mut db_first: Option<FirstPass> = None;
        if let Some(sess) = session.as_mut() {
            let display = match &plan.display_tz {
                Some((z, by)) => Zoned::new(*z, Provenance::Given { by: by.clone() }),
                None => sess.display.clone(),
            };
            let span = sess.span()?;
            let date = window_date(f, &display.zone, span)?;
            let filter = resolve_filter(f, &display.zone, date)?;
            let _t = crate::timing::phase("db: fetch");
            let mut chunk = Events::empty_chunk();
            sess.fetch(&pushdown(&widen(&filter, margin_us)), &mut chunk)?;
            db_first = Some((display, span, filter, chunk));
        }
        let mut logs = log_job
            .join()
            .map_err(|_| AuditError::usage("log parsing thread panicked"))??;

        // The display zone: --tz, else the DB's (server TimeZone or snapshot offset), else the
        // first log's given zone.
        let events_display = session
            .as_ref()
            .map(|s| s.display.clone())
            .or_else(|| snapshot.as_ref().map(|e| e.display.clone()));
        let display = match (&plan.display_tz, events_display) {
            (Some((z, by)), _) => Zoned::new(*z, Provenance::Given { by: by.clone() }),
            (None, Some(d)) => d,
            (None, None) => logs
                .first()
                .map(|l| log_clock(&l.info.name, &plan.log_rules))
                .filter(|c| !c.provenance.is_assumed())
                .map(|c| Zoned::new(c.zone, c.provenance))
                .unwrap_or_else(|| {
                    Zoned::new(
                        Zone::UTC,
                        Provenance::Assumed {
                            why: "no source names a display zone".into(),
                        },
                    )
                }),
        };

        let mut twins: Option<DbTwins> = snapshot
            .as_ref()
            .map(|e| DbTwins::from_chunk(&e.chunk))
            .or(db_twins);
        if let (Some(sess), true, None) = (session.as_mut(), needs_detection, &twins) {
            // Files whose ends could not be peeked (gzip): anchors over their parsed span.
            if let Some((a, b)) = possible_span(&logs) {
                let mut t = DbTwins::default();
                sess.fetch_anchors(a, b, &mut |et, h, at| t.add_hash(et, h, at))?;
                twins = Some(t);
            }
        }
        let detect = crate::timing::phase("clocks: detect");
        let fixed_clocks = fixed.is_some();
        let decisions = match fixed {
            Some(d) => d,
            None => decide_clocks(&logs, &plan.log_rules, twins.as_ref(), no_align, &display),
        };
        drop(detect);
        for (l, d) in logs.iter_mut().zip(&decisions) {
            align(&mut l.chunk, &d.clock);
        }
        // A signal over sampled files: every record that mentions it comes back whole (events,
        // and messages for a timeline) before its positions are looked for.
        let signal_sampled = f.signal.is_some() && logs.iter().any(|l| l.sampled);
        let mut scanned_positions: Vec<i64> = Vec::new();
        if let (Some(n), true) = (f.signal, signal_sampled) {
            let _t = crate::timing::phase("logs: read back the signal");
            // The positions the DB rows already name are read back now too.
            let only_signal = Filter {
                signal: Some(n),
                ..Filter::default()
            };
            let db_rows = db_first
                .as_ref()
                .map(|x| &x.3)
                .or(snapshot.as_ref().map(|e| &e.chunk));
            scanned_positions = db_rows
                .map(|c| crate::timeline::signal_positions(&[c], &only_signal))
                .unwrap_or_default();
            // Two reads: the signal's few records whole (messages too, for a timeline), the
            // positions' many events without parsing their plain neighbours.
            let messages = (need == Need::Selected).then_some(n);
            let groups = [
                (vec![n.to_string()], messages),
                (position_needles(&scanned_positions), None),
            ];
            read_back_containing(&mut logs, &decisions, &groups)?;
        }
        let log_chunks: Vec<&Chunk> = logs.iter().map(|l| &l.chunk).collect();

        let (events, filter) = match (session, snapshot) {
            (Some(mut session), _) => {
                let Some((_, span, filter, mut chunk)) = db_first else {
                    return Err(AuditError::usage(
                        "internal: the DB's first pass did not run",
                    ));
                };
                let _t = crate::timing::phase("db: fetch positions");
                fetch_signal_positions(
                    &mut session,
                    &widen(&filter, margin_us),
                    &mut chunk,
                    &log_chunks,
                )?;
                (Some(session.into_events(chunk, span)), filter)
            }
            (None, Some(ev)) => {
                let date = window_date(f, &display.zone, ev.info.span)?;
                (Some(ev), resolve_filter(f, &display.zone, date)?)
            }
            (None, None) => {
                let date = window_date(f, &display.zone, logs_span(&logs, &decisions))?;
                (None, resolve_filter(f, &display.zone, date)?)
            }
        };
        if signal_sampled {
            // Its positions' events: the DB rows and the log records read back above name them.
            let _t = crate::timing::phase("logs: read back the positions");
            let mut all: Vec<&Chunk> = events.iter().map(|e| &e.chunk).collect();
            all.extend(logs.iter().map(|l| &l.chunk));
            let mut positions = crate::timeline::signal_positions(&all, &filter);
            positions.retain(|p| !scanned_positions.contains(p));
            let groups = [(position_needles(&positions), None)];
            read_back_containing(&mut logs, &decisions, &groups)?;
        }
        let messages = need == Need::Selected && filters_messages && !signal_sampled;
        let mut decisions = decisions;
        if messages || (logs.iter().any(|l| l.sampled) && !signal_sampled) {
            let _t = crate::timing::phase("logs: read back the window");
            let scope = widen(&filter, margin_us);
            // A sliced check never counts the naive reading: no events where only it puts them.
            let naive_zone = (!sliced).then_some(display.zone);
            bring_back(&mut logs, &decisions, &scope, messages, naive_zone)?;
            if !no_align && !fixed_clocks && logs.iter().any(|l| l.sampled) {
                // Detection again, now with every event of the window: an offset change near it
                // is placed between the same two lines a full pass places it (the samples only
                // bracket it). Rows are placed again; if a new offset appeared, the window's
                // events under it are read back too (events already kept are not repeated).
                let redo = decide_clocks(&logs, &plan.log_rules, twins.as_ref(), false, &display);
                for (k, d) in redo.into_iter().enumerate() {
                    if !logs[k].sampled || d.clock == decisions[k].clock {
                        continue;
                    }
                    let zones = |c: &SourceClock| {
                        let mut z: Vec<String> = std::iter::once(c.zone)
                            .chain(c.changes.iter().map(|x| x.1))
                            .map(|z| z.to_string())
                            .collect();
                        z.sort();
                        z.dedup();
                        z
                    };
                    let new_zone = zones(&d.clock) != zones(&decisions[k].clock);
                    align(&mut logs[k].chunk, &d.clock);
                    if new_zone {
                        let one = std::slice::from_ref(&d);
                        bring_back(
                            std::slice::from_mut(&mut logs[k]),
                            one,
                            &scope,
                            false,
                            Some(display.zone),
                        )?;
                    }
                    decisions[k] = d;
                }
            }
        }
        if let Some(r) = reuse {
            if r.twins.is_none() {
                r.twins = twins;
            }
        }
        let epoch = events
            .as_ref()
            .map(|e| skew::epoch_check(&e.chunk, EPOCH_TOLERANCE_MS));
        let scope = widen(&filter, margin_us);
        Ok(Loaded {
            events,
            logs,
            decisions,
            filter,
            scope,
            display,
            epoch,
        })
    })
}

/// The clocks of a time-sliced run, decided once from the shared first pass (`loaded` is the
/// first load that filled `reuse`). Where the samples bracket an offset change, the events
/// between the two samples around it are read back and detection runs again, so the change
/// lands between the same two lines a full pass puts it (as a window's read-back does). Every
/// later load with `reuse` places its rows with these clocks and detects nothing.
pub fn settle_clocks(
    reuse: &mut Reuse,
    plan: &SourcePlan,
    loaded: &Loaded,
    no_align: bool,
) -> Result<(), AuditError> {
    let mut decisions = loaded.decisions.clone();
    if let (Some(logs), false) = (reuse.logs.as_mut(), no_align) {
        // Each round can place a change the previous one did not see; a file has few.
        for _ in 0..4 {
            let mut more = false;
            for (l, d) in logs.iter_mut().zip(&decisions) {
                if !l.sampled || d.clock.changes.is_empty() {
                    continue;
                }
                let ranges = merge_ranges(change_brackets(&l.chunk, &d.clock));
                let everywhere = [(i64::MIN, i64::MAX)];
                let want = logs::Want {
                    events_within: Some(&everywhere),
                    ..logs::Want::default()
                };
                let mut c = l.read_back(&ranges, &want)?;
                more |= !c.is_empty();
                l.chunk.append(&mut c);
            }
            if !more {
                break;
            }
            decisions = decide_clocks(
                logs,
                &plan.log_rules,
                reuse.twins.as_ref(),
                no_align,
                &loaded.display,
            );
        }
    }
    reuse.decisions = Some(decisions);
    // Anchors were for detection only; the slices detect nothing.
    reuse.twins = None;
    Ok(())
}

/// For each offset change of `clock`: the bytes from the last kept event before its line to
/// the first kept event at or after it (a sampled file's events between them were skipped).
fn change_brackets(c: &Chunk, clock: &SourceClock) -> Vec<(u64, Option<u64>, u32)> {
    let events: Vec<(u32, u64)> = (0..c.len())
        .filter(|&i| c.kind[i] == Kind::Event)
        .filter_map(|i| Some((c.line[i]?, c.byte_offset[i]?)))
        .collect();
    clock
        .changes
        .iter()
        .map(|&(line, _)| {
            let before = events.iter().filter(|e| e.0 < line).max();
            let after = events.iter().filter(|e| e.0 >= line).min();
            (
                before.map_or(0, |e| e.1),
                after.map(|e| e.1),
                before.map_or(1, |e| e.0),
            )
        })
        .collect()
}

/// The DB's first pass: display clock, table span, resolved filter, rows.
type FirstPass = (Zoned, Option<(i64, i64)>, Filter, Chunk);

/// What a command needs of the plain log messages (95 % of a day's records).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Events and typed lines only (the checks).
    Structured,
    /// Also the messages the filter selects (timeline, export): all of them without a
    /// window or signal filter; otherwise only those, read back by seeking (window) or by a
    /// byte search for the signal id.
    Selected,
}

/// Reads back, for each file, what the first pass left out and the filter selects: the plain
/// messages a window or signal filter can select (when `messages`), and a sampled file's
/// events inside the window. Aligns them with the file's clock and adds them to its rows.
fn bring_back(
    logs: &mut [LogFile],
    decisions: &[ClockDecision],
    f: &Filter,
    messages: bool,
    naive_zone: Option<Zone>,
) -> Result<(), AuditError> {
    for (l, d) in logs.iter_mut().zip(decisions) {
        let mut within: Vec<(i64, i64)> = Vec::new();
        let mut events_within: Vec<(i64, i64)> = Vec::new();
        let ranges = if let Some(n) = f.signal {
            l.ranges_containing(&[n.to_string().as_bytes()])?
        } else if let Some(w) = &f.window {
            // The window in this file's naive time: every offset its clock uses (an hour more
            // where DST is near); for a sampled file's events also in the zone the naive reading
            // uses.
            let zones: Vec<Zone> = std::iter::once(d.clock.zone)
                .chain(d.clock.changes.iter().map(|(_, z)| *z))
                .collect();
            let aligned = naive_interval(w, &zones);
            within.push(aligned);
            events_within.push(aligned);
            let mut ranges = l.ranges_between(aligned.0, aligned.1);
            if let (Some(z), true) = (naive_zone, l.sampled) {
                let naive = naive_interval(w, &[z]);
                events_within.push(naive);
                ranges.extend(l.ranges_between(naive.0, naive.1));
            }
            merge_ranges(ranges)
        } else {
            Vec::new()
        };
        if ranges.is_empty() {
            continue;
        }
        let want = logs::Want {
            messages,
            messages_within: (!within.is_empty()).then_some(within.as_slice()),
            messages_mentioning: None,
            events_within: (!events_within.is_empty()).then_some(events_within.as_slice()),
        };
        let mut more = l.read_back(&ranges, &want)?;
        align(&mut more, &d.clock);
        l.chunk.append(&mut more);
    }
    Ok(())
}

/// What an event line names position `p` with: the dict's key, its value an int or a string.
/// (`Position #N … opened` lines are typed lines, which every first pass keeps.)
fn position_needles(positions: &[i64]) -> Vec<String> {
    positions
        .iter()
        .flat_map(|p| {
            [
                format!("'position_id': {p}"),
                format!("'position_id': '{p}'"),
            ]
        })
        .collect()
}

/// For each file, the records that contain any of `needles` and that the first pass did not
/// keep: a sampled file's events, and (`messages_of: Some(signal)`) the plain messages that
/// mention the signal.
fn read_back_containing(
    logs: &mut [LogFile],
    decisions: &[ClockDecision],
    groups: &[(Vec<String>, Option<i64>)],
) -> Result<(), AuditError> {
    use rayon::prelude::*;
    if groups.iter().all(|(n, _)| n.is_empty()) {
        return Ok(());
    }
    // Files in parallel: each is one read for every group's needles, then a parse of each
    // group's stretches in turn (events a group brought back are not brought back again).
    logs.par_iter_mut()
        .zip(decisions.par_iter())
        .try_for_each(|(l, d)| -> Result<(), AuditError> {
            let wanted: Vec<bool> = groups
                .iter()
                .map(|(_, m)| l.sampled || m.is_some())
                .collect();
            if !wanted.contains(&true) {
                return Ok(());
            }
            let bytes: Vec<Vec<&[u8]>> = groups
                .iter()
                .zip(&wanted)
                .map(|((n, _), w)| match w {
                    true => n.iter().map(|n| n.as_bytes()).collect(),
                    false => Vec::new(),
                })
                .collect();
            let refs: Vec<&[&[u8]]> = bytes.iter().map(Vec::as_slice).collect();
            let found = l.ranges_containing_each(&refs)?;
            for ((_, messages_of), ranges) in groups.iter().zip(found) {
                let ranges = merge_ranges(ranges);
                if ranges.is_empty() {
                    continue;
                }
                let everywhere = [(i64::MIN, i64::MAX)];
                let want = logs::Want {
                    messages: messages_of.is_some(),
                    messages_within: None,
                    messages_mentioning: *messages_of,
                    events_within: Some(&everywhere),
                };
                let mut more = l.read_back(&ranges, &want)?;
                align(&mut more, &d.clock);
                l.chunk.append(&mut more);
            }
            Ok(())
        })
}

/// `[lo, hi]` in naive µs: where records of the UTC window `w` can be in a file read in any of
/// `zones`. Each zone's offsets are looked at from two hours before the window to two hours
/// after it (hourly, or daily over a long window: a DST period lasts months); a second of
/// slack where every zone keeps one offset there (fixed offsets, `Etc/UTC`, Moscow), an hour
/// where a transition is near, for the local hour a change repeats or skips. (An hour for
/// every IANA zone made a one-minute window read two hours of a file back.)
fn naive_interval(w: &UtcRange, zones: &[Zone]) -> (i64, i64) {
    const HOUR: i64 = 3_600_000_000;
    let (start, end) = (w.start.timestamp_micros(), w.end.timestamp_micros());
    let (from, to) = (start - 2 * HOUR, end + 2 * HOUR);
    let step = ((to - from) / 10_000).clamp(HOUR, 24 * HOUR);
    let instants: Vec<i64> = (0..)
        .map(|k| from + k * step)
        .take_while(|&t| t < to)
        .chain([start, end, to])
        .collect();
    let mut offs: Vec<i64> = Vec::new();
    let mut steady = true;
    for z in zones {
        let of = |t: i64| {
            let at = chrono::DateTime::from_timestamp_micros(t).unwrap_or_default();
            i64::from(z.offset_at(at).local_minus_utc()) * 1_000_000
        };
        let seen: Vec<i64> = match z {
            Zone::Fixed(_) => vec![of(start)],
            Zone::Iana(_) => instants.iter().map(|&t| of(t)).collect(),
        };
        steady &= seen.iter().all(|&o| o == seen[0]);
        offs.extend(seen);
    }
    offs.sort_unstable();
    let margin = if steady { 1_000_000 } else { HOUR };
    let lo = start + offs.first().copied().unwrap_or(0) - margin;
    let hi = end + offs.last().copied().unwrap_or(0) + margin;
    (lo, hi)
}

/// Byte ranges `[from, to)` (None: to the end) merged where they touch or overlap, so no
/// record is read twice.
fn merge_ranges(mut r: Vec<(u64, Option<u64>, u32)>) -> Vec<(u64, Option<u64>, u32)> {
    r.sort_by_key(|x| x.0);
    let mut out: Vec<(u64, Option<u64>, u32)> = Vec::new();
    for x in r {
        match out.last_mut() {
            Some(last) if last.1.is_none_or(|end| x.0 <= end) => {
                last.1 = match (last.1, x.1) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
            }
            _ => out.push(x),
        }
    }
    out
}

/// An absolute `--window`/range widened by `margin_us` (None for anything else).
fn widen_spec(f: &FilterOpts, margin_us: i64) -> Option<UtcRange> {
    let w = f.window.as_ref()?;
    if w.needs_date() {
        return None;
    }
    let r = w.resolve(&Zone::UTC, None).ok()?;
    Some(UtcRange {
        start: r.start - chrono::Duration::microseconds(margin_us),
        end: r.end + chrono::Duration::microseconds(margin_us),
    })
}

fn widen(f: &Filter, margin_us: i64) -> Filter {
    let mut w = f.clone();
    if let Some(r) = &mut w.window {
        r.start -= chrono::Duration::microseconds(margin_us);
        r.end += chrono::Duration::microseconds(margin_us);
    }
    w
}

/// created_at may trail its own correlation epoch by the call's duration, never precede it by
/// more than this (clock jitter between the app and the DB server).
pub const EPOCH_TOLERANCE_MS: f64 = 50.0;

/// The DB rows of a filter: pushed down as bound parameters; for a signal, a second pass for
/// the positions its rows (DB and log) name.
fn pushdown(filter: &Filter) -> Pushdown {
    Pushdown {
        start: filter.window.map(|w| w.start),
        end: filter.window.map(|w| w.end),
        symbol: filter.symbol.clone(),
        position: filter.position,
        correlation: filter.correlation.clone(),
        signal: filter.signal,
        positions: None,
    }
}

/// For a signal: a second pass for the rows of the positions its rows (DB and log) name.
fn fetch_signal_positions(
    session: &mut DbSession,
    filter: &Filter,
    chunk: &mut Chunk,
    log_chunks: &[&Chunk],
) -> Result<(), AuditError> {
    if filter.signal.is_none() {
        return Ok(());
    }
    let mut all = vec![&*chunk];
    all.extend(log_chunks.iter().copied());
    let positions = signal_positions(&all, filter);
    if positions.is_empty() {
        return Ok(());
    }
    let mut q = pushdown(filter);
    q.signal = None;
    q.positions = Some(positions);
    let mut more = Events::empty_chunk();
    session.fetch(&q, &mut more)?;
    let seen: HashSet<i64> = chunk.event_id.iter().flatten().copied().collect();
    let keep: Vec<bool> = more
        .event_id
        .iter()
        .map(|id| id.is_none_or(|id| !seen.contains(&id)))
        .collect();
    more.retain(&keep);
    chunk.append(&mut more);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_ranges_merge_where_they_touch_or_overlap() {
        let r = merge_ranges(vec![
            (500, Some(900), 50),
            (0, Some(100), 1),
            (100, Some(200), 10),
            (150, Some(180), 15),
            (800, None, 80),
            (2000, Some(3000), 200),
        ]);
        assert_eq!(r, vec![(0, Some(200), 1), (500, None, 50)]);
        assert!(merge_ranges(Vec::new()).is_empty());
    }

    #[test]
    fn a_naive_interval_covers_every_zone_and_its_slack() {
        let w = UtcRange {
            start: "2025-10-18T11:07:00Z".parse().unwrap(),
            end: "2025-10-18T11:08:00Z".parse().unwrap(),
        };
        let plus = |h: i32| Zone::Fixed(chrono::FixedOffset::east_opt(h * 3600).unwrap());
        let (lo, hi) = naive_interval(&w, &[plus(4), plus(3)]);
        let at = |s: &str| {
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
                .unwrap()
                .and_utc()
                .timestamp_micros()
        };
        // 14:07 in +03:00 minus a second, 15:08 in +04:00 plus a second.
        assert_eq!(lo, at("2025-10-18 14:06:59"));
        assert_eq!(hi, at("2025-10-18 15:08:01"));
        // IANA zones without a transition near the window: the same second of slack.
        let iana = |n: &str| Zone::Iana(n.parse().unwrap());
        let (lo, hi) = naive_interval(&w, &[iana("Etc/UTC"), iana("Europe/Moscow")]);
        assert_eq!(
            (lo, hi),
            (at("2025-10-18 11:06:59"), at("2025-10-18 14:08:01"))
        );
        // Berlin leaves summer time at 2025-10-26 01:00 UTC: a window an hour before it takes
        // both offsets and an hour of slack.
        let near = UtcRange {
            start: "2025-10-25T23:59:00Z".parse().unwrap(),
            end: "2025-10-26T00:00:00Z".parse().unwrap(),
        };
        let (lo, hi) = naive_interval(&near, &[iana("Europe/Berlin")]);
        assert_eq!(
            (lo, hi),
            (at("2025-10-25 23:59:00"), at("2025-10-26 03:00:00"))
        );
        // A window from spring to autumn whose ends are both in winter time still sees the
        // summer offset inside it.
        let long = UtcRange {
            start: "2025-03-01T00:00:00Z".parse().unwrap(),
            end: "2025-11-01T00:00:00Z".parse().unwrap(),
        };
        let (lo, hi) = naive_interval(&long, &[iana("Europe/Berlin")]);
        assert_eq!(
            (lo, hi),
            (at("2025-03-01 00:00:00"), at("2025-11-01 03:00:00"))
        );
    }
}
