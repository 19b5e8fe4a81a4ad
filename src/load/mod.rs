//! Loading: the first pass over every source (logs parsed in parallel while the database
//! connects), each log file's clock decided and applied, the question's window resolved in the
//! display zone, and what the first pass left out read back. It takes typed values (the
//! sources, the question, the read plan), never command-line types.

mod clocks;
pub mod copies;
mod coverage;
pub mod levels;
pub mod plan;
mod readback;
mod slices;
mod sources;
mod window;

use crate::clock::skew::{self, DbTwins, EpochCheck};
use crate::clock::{SourceClock, log_clock};
use crate::error::AuditError;
use crate::rows::{Chunk, Kind};
use crate::source::db::DbSession;
use crate::source::events::Events;
use crate::source::logs::{self, LogFile};
use crate::source::snapshot;
use crate::time::{Provenance, Zone, Zoned};
use crate::timeline::{Filter, align};

use clocks::{decide_clocks, pad_span, possible_span};
use coverage::logs_span;
use readback::{
    bring_back, fetch_signal_positions, position_needles, pushdown, read_back_containing,
};
use window::{resolve_filter, widen, widen_spec, window_date};

pub use clocks::{ClockDecision, settle_clocks};
pub use copies::{Copies, CopyGap};
pub use coverage::coverage_of;
pub use plan::{Question, ReadPlan, Tuning};
pub use slices::Reuse;
pub use sources::{EventsSpec, SourcePlan};

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
    /// Which files are copies of which, and where copies disagree; `logs` hold each record
    /// once (a copy keeps only what its primary lacks, and the lines delimiting its stretches).
    pub copies: Copies,
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
        self.coverage_under(&self.log_clocks())
    }

    /// [`Self::coverage`] under other clocks (the naive reading's), copies marked.
    pub fn coverage_under(&self, clocks: &[SourceClock]) -> Vec<crate::rows::Coverage> {
        let mut c = coverage_of(&self.logs, clocks);
        self.copies.mark(&mut c);
        c
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

/// Loads every planned source. Logs are read (in parallel, per file, as `plan` says) while the
/// database connects; then each log file's clock is decided, logs are placed on UTC, the
/// filters are resolved in the display zone and pushed into SQL, and what the question selects
/// that the first pass left out is read back.
pub fn load(sources: &SourcePlan, q: &Question, plan: &ReadPlan) -> Result<Loaded, AuditError> {
    load_with(sources, q, plan, None)
}

/// [`load`], sharing a first pass with other loads of the same sources (`reuse`): the first
/// call fills it (every file sampled, whatever its size), later calls only read their window.
pub fn load_with(
    plan: &SourcePlan,
    q: &Question,
    read: &ReadPlan,
    reuse: Option<&mut Reuse>,
) -> Result<Loaded, AuditError> {
    let (f, no_align, margin_us) = (&q.filter, q.no_align, q.margin_us);
    let log_paths = &read.paths;
    let cached = reuse
        .as_ref()
        .and_then(|r| r.logs_for(&widen_spec(f, margin_us)));
    let fixed = reuse.as_ref().and_then(|r| r.decisions.clone());
    let sliced = reuse.is_some();
    // The first load of a sliced run keeps every file's rows as read: each slice finds the
    // copies among its own rows.
    let probe = reuse.as_ref().is_some_and(|r| r.logs.is_none());
    let filters_messages = f.window.is_some() || f.signal.is_some();
    std::thread::scope(|s| {
        let log_job = s.spawn(|| {
            if let Some(logs) = cached {
                return Ok(logs);
            }
            let _t = crate::timing::phase("logs: parse");
            // Worth a bar only for files that take a while (gzip sizes are compressed sizes).
            if read.bytes > 256 << 20 {
                crate::progress::start(read.bytes, "logs");
            }
            let out = logs::load(log_paths, &read.passes);
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
                .map(|c| Zoned::new(c.zone(), c.provenance))
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
            let messages = (q.messages).then_some(n);
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
        let messages = q.messages && filters_messages && !signal_sampled;
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
                        let mut z: Vec<String> = c.zones().iter().map(|z| z.to_string()).collect();
                        z.sort();
                        z.dedup();
                        (z, c.skew_bound_us())
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
        levels::decide(&mut logs, &plan.level_rules);
        let copies = if probe {
            Copies::default()
        } else {
            let events_complete = !signal_sampled || !logs.iter().any(|l| l.sampled);
            let window = filter
                .window
                .map(|w| (w.start.timestamp_micros(), w.end.timestamp_micros()));
            let c = copies::find(&logs, window, events_complete);
            c.describe(&mut logs);
            c.apply(&mut logs);
            c
        };
        Ok(Loaded {
            events,
            logs,
            decisions,
            filter,
            scope,
            display,
            epoch,
            copies,
        })
    })
}

/// The DB's first pass: display clock, table span, resolved filter, rows.
type FirstPass = (Zoned, Option<(i64, i64)>, Filter, Chunk);

/// created_at may trail its own correlation epoch by the call's duration, never precede it by
/// more than this (clock jitter between the app and the DB server).
pub const EPOCH_TOLERANCE_MS: f64 = 50.0;
