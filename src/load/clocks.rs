//! Each log file's clock, decided once per load: a zone given by a flag or audit.toml (and how
//! far the host is off within it), else detected from the data, else borrowed from the host's
//! other files, else an assumption every output flags and no check judges.

use chrono::{DateTime, Utc};

use crate::clock::skew::{self, Confidence, DbTwins, Estimate, Method};
use crate::clock::{LogTzRule, Piece, SourceClock, log_clock};
use crate::error::AuditError;
use crate::rows::{Chunk, Kind};
use crate::source::logs::{self, LogFile};
use crate::time::{Provenance, Zone, Zoned};

use super::Loaded;
use super::readback::merge_ranges;
use super::slices::Reuse;
use super::sources::SourcePlan;

/// How each log file's clock was decided (for `audit skew` and every banner).
#[derive(Debug, Clone)]
pub struct ClockDecision {
    pub file: String,
    pub clock: SourceClock,
    /// The detection result when detection ran (against the given zone when one was given).
    pub estimate: Option<Estimate>,
    /// Set when the data contradicts a zone the user gave.
    pub warning: Option<String>,
}

impl ClockDecision {
    /// Its clock could not be settled: nothing given, detected or borrowed. Its lines are not
    /// judged (a finding on an assumed clock is a false accusation).
    pub fn unsettled(&self) -> bool {
        self.clock.provenance.is_assumed()
    }
}

/// A skew beyond half a quarter hour is another zone, not a host that is off.
const MAX_SKEW_US: f64 = 450_000_000.0;
/// Two neighbours agree on a borrowed clock when their offsets differ by at most this, plus
/// 100 ppm of the time between them, µs.
const BORROW_AGREE_US: f64 = 250_000.0;

/// Decides each log file's clock: a flag/config rule (its skew, drift and steps measured
/// against the zone when twins allow), else a detection from DB twins of medium confidence or
/// better, else the clock of the host's other files (same directory, same naming) when they
/// agree, else UTC times its messages print, else an assumption every output flags and no
/// check judges. `--no-align` reads them in the display zone.
pub(super) fn decide_clocks(
    logs: &[LogFile],
    rules: &[LogTzRule],
    twins: Option<&DbTwins>,
    no_align: bool,
    display: &Zoned,
) -> Vec<ClockDecision> {
    use rayon::prelude::*;
    let mut out: Vec<ClockDecision> = logs
        .par_iter()
        .map(|l| own_clock(l, rules, twins, no_align, display))
        .collect();
    if !no_align {
        borrow(logs, &mut out);
    }
    out
}

/// What a file's own lines (and a rule) say of its clock.
fn own_clock(
    l: &LogFile,
    rules: &[LogTzRule],
    twins: Option<&DbTwins>,
    no_align: bool,
    display: &Zoned,
) -> ClockDecision {
    let name = &l.info.name;
    let empty = DbTwins::default();
    let db = twins.unwrap_or(&empty);
    let given = log_clock(name, rules);
    let decision = |clock, estimate, warning| ClockDecision {
        file: name.clone(),
        clock,
        estimate,
        warning,
    };
    if no_align {
        return decision(
            SourceClock::new(display.zone, Provenance::Unaligned),
            None,
            None,
        );
    }
    if !given.provenance.is_assumed() {
        // The zone is the user's; the twins measure how far the host is off within it.
        let zone = given.zone();
        let e = Some(skew::estimate(&l.chunk, db, Some(zone)))
            .filter(|e| e.candidates > 0)
            .map(|e| refine_steps(l, e));
        let fits = e.as_ref().is_some_and(|e| {
            e.method == Method::Twins
                && e.confidence >= Confidence::Medium
                && e.segments
                    .iter()
                    .all(|s| s.skew_ms.abs() * 1000.0 <= MAX_SKEW_US)
        });
        let warning = match (&e, fits) {
            (Some(e), false) if e.method == Method::Twins && e.confidence >= Confidence::Medium => {
                e.segments.first().map(|s| {
                    format!(
                        "{name}: {} says {zone}, but {} DB/log twins put it at {}",
                        by_of(&given.provenance),
                        e.anchors,
                        crate::time::format_offset_us(s.offset_us(s.t0_local))
                    )
                })
            }
            _ => None,
        };
        let clock = match (&e, fits) {
            (Some(e), true) => e.clock(given.provenance.clone()).unwrap_or(given),
            _ => given,
        };
        return decision(clock, e, warning);
    }
    let e = Some(skew::estimate(&l.chunk, db, None))
        .filter(|e| e.candidates > 0 || e.method == Method::UtcInMessage && !e.segments.is_empty())
        .map(|e| refine_steps(l, e));
    let clock = match &e {
        Some(e) if e.method == Method::Twins && e.confidence >= Confidence::Medium => e.detected(),
        _ => None,
    };
    let clock = clock.unwrap_or_else(|| {
        SourceClock::new(
            Zone::UTC,
            Provenance::Assumed {
                why: format!(
                    "no zone given for {name} and no DB twins to detect it; pass --log-tz '{name}=+HH:MM'"
                ),
            },
        )
    });
    decision(clock, e, None)
}

/// Places each step of `e` on its line: every record between the two anchors around it is read
/// back (the first pass keeps events and typed lines, not the messages between them) and the
/// step goes where the file's naive time jumps by it. A file whose records cannot be read again
/// keeps the step where its kept rows put it.
fn refine_steps(l: &LogFile, mut e: Estimate) -> Estimate {
    if e.segments.len() < 2 || l.complete {
        return e;
    }
    let c = &l.chunk;
    let offset_of = |line: u32| {
        (0..c.len())
            .filter(|&i| c.line[i] == Some(line))
            .find_map(|i| c.byte_offset[i])
    };
    let mut rows = crate::rows::Chunk::new(crate::rows::ChunkSource::Log, c.file.clone());
    for k in 1..e.segments.len() {
        let (a, b) = (e.segments[k - 1].anchor_last, e.segments[k].anchor_first);
        let (Some(from), Some(to)) = (offset_of(a), offset_of(b)) else {
            continue;
        };
        if to <= from || to - from > 64 << 20 {
            continue;
        }
        // Up to the anchor's record inclusive: the range ends past its start.
        let range = [(from, Some(to + 1), a)];
        let take = logs::Take {
            messages: true,
            ..logs::Take::STRUCTURED
        };
        match l.read_back(&range, &take) {
            Ok(mut more) => rows.append(&mut more),
            Err(_) => continue,
        }
    }
    if rows.is_empty() {
        return e;
    }
    let keep: Vec<bool> = (0..c.len()).map(|_| true).collect();
    let mut all = c.select(&keep);
    all.append(&mut rows);
    skew::place_steps(&all, &mut e.segments);
    e
}

/// `--log-tz …` / `audit.toml …` of a given clock.
fn by_of(p: &Provenance) -> String {
    match p {
        Provenance::Given { by } => by.clone(),
        other => other.to_string(),
    }
}

/// A file's name with its digits as `#`: files of one host and one kind share it
/// (`bot_########_######.log`, `trading_bot.log.#`).
fn name_shape(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect()
}

fn dir_of(path: &str) -> &std::path::Path {
    std::path::Path::new(path)
        .parent()
        .unwrap_or(std::path::Path::new(""))
}

/// Files whose own lines settle nothing take the clock of the host's other files (same
/// directory, same naming) that did: the nearest before and after them (by their own naive
/// times, one host's clock), when they agree; a one-sided neighbour alone is taken as it is.
/// Otherwise the UTC times the file's messages print, else it stays unsettled.
fn borrow(logs: &[LogFile], out: &mut [ClockDecision]) {
    let settled = |d: &ClockDecision| {
        matches!(
            d.clock.provenance,
            Provenance::Given { .. } | Provenance::Detected { .. }
        ) && d
            .estimate
            .as_ref()
            .is_none_or(|e| e.method == Method::Twins)
    };
    let mut borrowed: Vec<(usize, SourceClock)> = Vec::new();
    for (k, l) in logs.iter().enumerate() {
        if !out[k].unsettled() {
            continue;
        }
        let (Some(first), Some(last)) = (l.first_ts, l.last_ts) else {
            continue;
        };
        let shape = name_shape(&l.info.name);
        let dir = dir_of(&l.info.path);
        let siblings: Vec<usize> = (0..logs.len())
            .filter(|&j| j != k && settled(&out[j]))
            .filter(|&j| {
                name_shape(&logs[j].info.name) == shape && dir_of(&logs[j].info.path) == dir
            })
            .collect();
        let before = siblings
            .iter()
            .copied()
            .filter(|&j| logs[j].last_ts.is_some_and(|t| t <= first))
            .max_by_key(|&j| logs[j].last_ts);
        let after = siblings
            .iter()
            .copied()
            .filter(|&j| logs[j].first_ts.is_some_and(|t| t >= last))
            .min_by_key(|&j| logs[j].first_ts);
        // A neighbour's offset at its edge nearest the file.
        // (naive time, offset there, the drift of the piece there)
        let edge = |j: usize, at_end: bool| -> Option<(i64, f64, f64)> {
            let l = &logs[j];
            let c = &out[j].clock;
            let (t, line) = if at_end {
                (
                    l.last_ts?,
                    u32::try_from(l.info.stats.lines).unwrap_or(u32::MAX),
                )
            } else {
                (l.first_ts?, 1)
            };
            Some((
                t,
                (t - c.utc(t, line)) as f64,
                c.piece_at_line(line).drift_ppm,
            ))
        };
        let name = |j: usize| logs[j].info.name.clone();
        let pick = match (
            before.and_then(|j| edge(j, true)),
            after.and_then(|j| edge(j, false)),
        ) {
            (Some((tb, ob, _)), Some((ta, oa, _))) => {
                let gap = (ta - tb).max(0) as f64;
                if (oa - ob).abs() <= BORROW_AGREE_US + 100e-6 * gap {
                    let drift = if gap > 0.0 {
                        (oa - ob) / gap * 1e6
                    } else {
                        0.0
                    };
                    let (b, a) = (before.unwrap_or(k), after.unwrap_or(k));
                    Some((
                        tb,
                        ob,
                        drift,
                        vec![name(b), name(a)],
                        format!(
                            "no twins of its own; the files of this host before and after it agree ({} and {})",
                            crate::time::format_offset_us(ob as i64),
                            crate::time::format_offset_us(oa as i64)
                        ),
                    ))
                } else {
                    out[k].warning = Some(format!(
                        "{}: no twins of its own, and the files of this host before and after it disagree ({} in {}, {} in {}): its clock is not settled",
                        l.info.name,
                        crate::time::format_offset_us(ob as i64),
                        name(before.unwrap_or(k)),
                        crate::time::format_offset_us(oa as i64),
                        name(after.unwrap_or(k)),
                    ));
                    None
                }
            }
            (Some((t, o, drift)), None) | (None, Some((t, o, drift))) => {
                // One neighbour: its clock as it ran, drift and all, carried on.
                let j = before.or(after).unwrap_or(k);
                Some((
                    t,
                    o,
                    drift,
                    vec![name(j)],
                    format!(
                        "no twins of its own; {} is the nearest file of this host ({})",
                        name(j),
                        crate::time::format_offset_us(o as i64)
                    ),
                ))
            }
            (None, None) => None,
        };
        if let Some((t0, off, drift, from, why)) = pick {
            let whole = (off / 900e6).round() * 900e6;
            let zone = Zone::fixed_seconds((whole / 1e6) as i32).unwrap_or(Zone::UTC);
            let clock = SourceClock {
                provenance: Provenance::Borrowed { from, why },
                pieces: vec![Piece {
                    first_line: 0,
                    zone,
                    skew_us: off - whole,
                    drift_ppm: drift,
                    t0_local: t0,
                    first_local: None,
                    before_local: None,
                    window: None,
                }],
            };
            borrowed.push((k, clock));
            continue;
        }
        // Nothing to borrow: the UTC "now"s its messages print, when they are clear enough.
        let from_messages = out[k]
            .estimate
            .as_ref()
            .filter(|e| e.method == Method::UtcInMessage && e.confidence >= Confidence::Medium)
            .and_then(Estimate::detected);
        if let Some(c) = from_messages {
            borrowed.push((k, c));
        }
    }
    for (k, c) in borrowed {
        out[k].clock = c;
    }
}

/// The span of instants a set of log files can cover: their naive times ± 14 h.
pub(super) fn possible_span(logs: &[LogFile]) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let lo = logs.iter().filter_map(|l| l.first_ts).min()?;
    let hi = logs.iter().filter_map(|l| l.last_ts).max()?;
    pad_span((lo, hi))
}

/// Naive first/last times ± 14 h (every real offset), as instants.
pub(super) fn pad_span((lo, hi): (i64, i64)) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let pad = 14 * 3600 * 1_000_000 + 60_000_000;
    Some((
        DateTime::from_timestamp_micros(lo - pad)?,
        DateTime::from_timestamp_micros(hi + pad + 1)?,
    ))
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
                if !l.sampled || d.clock.steps().is_empty() {
                    continue;
                }
                let ranges = merge_ranges(change_brackets(&l.chunk, &d.clock));
                let everywhere = [(i64::MIN, i64::MAX)];
                let want = logs::Take {
                    events_within: Some(&everywhere),
                    ..logs::Take::STRUCTURED
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
pub(super) fn change_brackets(c: &Chunk, clock: &SourceClock) -> Vec<(u64, Option<u64>, u32)> {
    let events: Vec<(u32, u64)> = (0..c.len())
        .filter(|&i| c.kind[i] == Kind::Event)
        .filter_map(|i| Some((c.line[i]?, c.byte_offset[i]?)))
        .collect();
    clock
        .steps()
        .iter()
        .map(|p| p.first_line)
        .map(|line| {
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
