//! Estimating a log file's clock from the data itself.
//!
//! A DB row and its log twin are born within milliseconds (REFERENCE.md): the row's
//! `created_at` is on the DB's clock, the log line's time is the log host's naive local
//! reading. For every log event line, every DB row with the same event type and payload gives a
//! candidate `log − created_at`; [`fit`](super::fit) finds the piecewise-linear offset most of
//! them sit on (a skew to the millisecond, a drift in ppm, steps where the host's clock was set
//! or the zone changed), without assuming it is near a whole zone. Chance matches (periodic
//! events with identical payloads) land anywhere and are outvoted. A file without twins can
//! still be read from the UTC times its own messages print (a coarser anchor: whole quarter
//! hours). The residuals around the fit give the spread that the twin tolerance is made of.

use rustc_hash::FxHashMap as HashMap;

use chrono::FixedOffset;
use serde::Serialize;

use super::fit::{self, Fitted, Obs};
use super::{Piece, SourceClock};
use crate::rows::{Chunk, ChunkSource, Kind};
use crate::time::{Provenance, Zone, format_offset_us};

/// Offsets are reported as whole quarter hours plus a skew.
const QUARTER_US: i64 = 15 * 60 * 1_000_000;
/// A message's printed "now" counts for a quarter hour when it lies this close to it.
const NEAR_US: i64 = 2_000_000;
/// Offsets beyond ±14 h (and a minute of host error) do not exist.
const MAX_US: i64 = 14 * 3600 * 1_000_000 + 60_000_000;
/// Payloads repeated more often than this are not evidence of anything.
const MAX_CANDIDATES: usize = 16;

/// DB rows indexed by (event_type, payload key): their instants (µs, UTC).
#[derive(Debug, Default)]
pub struct DbTwins {
    by_key: HashMap<(String, u64), Vec<i64>>,
}

impl DbTwins {
    pub fn from_chunk(c: &Chunk) -> DbTwins {
        let mut t = DbTwins::default();
        for i in 0..c.len() {
            if c.source != ChunkSource::Db || c.kind[i] != Kind::Event {
                continue;
            }
            if let (Some(et), Some(h)) = (&c.event_type[i], c.payload_hash[i]) {
                t.add_hash(et, h, c.ts_utc[i]);
            }
        }
        t
    }

    /// Adds a DB row by its payload hash.
    pub fn add_hash(&mut self, event_type: &str, hash: u64, ts_utc: i64) {
        self.by_key
            .entry((event_type.to_string(), hash))
            .or_default()
            .push(ts_utc);
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

/// How sure an estimate is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    None,
    Low,
    Medium,
    High,
}

/// A stretch of a file read with one continuous offset: offset(t) = `offset` + `skew_ms` +
/// `drift_ppm`·(t − its first anchor), t on the file's own clock.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    pub first_line: u32,
    pub last_line: u32,
    /// The whole-zone part (quarter hours); with a zone given, that zone's offset there.
    #[serde(serialize_with = "ser_offset")]
    pub offset: FixedOffset,
    /// The rest of the offset at the first anchor, ms.
    pub skew_ms: f64,
    pub drift_ppm: f64,
    /// Naive times of the first and last anchor.
    #[serde(skip)]
    pub t0_local: i64,
    #[serde(skip)]
    pub t1_local: i64,
    /// Lines of the first and last anchor (a step lies between one segment's last anchor and
    /// the next one's first).
    #[serde(skip)]
    pub anchor_first: u32,
    #[serde(skip)]
    pub anchor_last: u32,
    /// The naive reading of the first record (where the step lands), once placed, and of the
    /// record before it.
    #[serde(skip)]
    pub first_local: Option<i64>,
    #[serde(skip)]
    pub before_local: Option<i64>,
    /// Where else the step may be, when the records between its anchors cannot tell: the naive
    /// time of the record before the earliest place it fits and of the latest place, and those
    /// places' lines.
    #[serde(skip)]
    pub window: Option<StepWindow>,
    pub anchors: usize,
    /// Median absolute deviation of the anchors around the line, ms.
    pub spread_ms: f64,
}

/// Where a step may lie when the records between its anchors fit it in more than one place: it
/// happened after the record at `from_local` (on the clock before) and by `to_local` (on the
/// clock after), at the first line of one of the places from `from_line` to `to_line`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepWindow {
    pub from_local: i64,
    pub to_local: i64,
    pub from_line: u32,
    pub to_line: u32,
}

/// A log line follows its row's `created_at` by a few milliseconds (REFERENCE.md) and is
/// truncated to the millisecond: an offset that stays this close to a whole zone is that zone.
pub const LAG_US: f64 = 5_000.0;

impl Segment {
    /// The skew stays within [`LAG_US`] at both ends of its anchors.
    pub fn within_lag(&self) -> bool {
        let end =
            self.skew_ms * 1000.0 + self.drift_ppm * 1e-6 * (self.t1_local - self.t0_local) as f64;
        (self.skew_ms * 1000.0).abs() <= LAG_US && end.abs() <= LAG_US
    }

    /// The whole offset at a naive time, µs.
    pub fn offset_us(&self, ts_local: i64) -> i64 {
        let skew =
            self.skew_ms * 1000.0 + self.drift_ppm * 1e-6 * (ts_local - self.t0_local) as f64;
        i64::from(self.offset.local_minus_utc()) * 1_000_000 + skew.round() as i64
    }
}

fn ser_offset<S: serde::Serializer>(o: &FixedOffset, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::time::format_offset(*o))
}

/// A detected clock for one log file.
#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    /// One segment when the offset holds for the whole file; more when it steps inside it.
    pub segments: Vec<Segment>,
    /// Event lines that had at least one DB candidate.
    pub candidates: usize,
    /// Event lines whose twin sits on the fitted offset.
    pub anchors: usize,
    /// Share of candidate lines that agree with the fit.
    pub agreement: f64,
    /// The largest segment's residual spread (median absolute deviation), ms.
    pub spread_ms: f64,
    pub confidence: Confidence,
    /// What the estimate rests on.
    pub method: Method,
    /// Lines printing a UTC "now" that agree with the offset (corroboration, or the anchors
    /// themselves when there were no twins).
    pub message_anchors: usize,
    /// The zone the fit was made against (given by a flag or audit.toml), when one was.
    #[serde(skip)]
    pub zone: Option<Zone>,
}

/// The evidence an estimate rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// DB rows and their log lines.
    Twins,
    /// UTC instants printed inside log messages.
    UtcInMessage,
}

impl Estimate {
    /// The whole-zone offset of the first segment.
    pub fn offset(&self) -> Option<FixedOffset> {
        self.segments.first().map(|s| s.offset)
    }

    /// The clock this estimate gives: a piece per segment, each from its step line on. A
    /// segment whose skew stays within [`LAG_US`] of its zone over all its anchors is read as
    /// exactly its zone: that much is the time a log line takes to follow its row (and the
    /// millisecond it is truncated to), which no data tells apart from a clock error.
    pub fn clock(&self, provenance: Provenance) -> Option<SourceClock> {
        if self.segments.is_empty() {
            return None;
        }
        let pieces = self
            .segments
            .iter()
            .enumerate()
            .map(|(k, s)| {
                let zone = self.zone.unwrap_or(Zone::Fixed(s.offset));
                let first_line = if k == 0 { 0 } else { s.first_line };
                let first_local = if k == 0 { None } else { s.first_local };
                let before_local = if k == 0 { None } else { s.before_local };
                let window = if k == 0 { None } else { s.window };
                if s.within_lag() {
                    return Piece {
                        first_local,
                        before_local,
                        window,
                        ..Piece::zone(first_line, zone)
                    };
                }
                Piece {
                    first_line,
                    zone,
                    skew_us: s.skew_ms * 1000.0,
                    drift_ppm: s.drift_ppm,
                    t0_local: s.t0_local,
                    first_local,
                    before_local,
                    window,
                }
            })
            .collect();
        Some(SourceClock { provenance, pieces })
    }

    /// The clock a detection gives, with its provenance.
    pub fn detected(&self) -> Option<SourceClock> {
        self.clock(Provenance::Detected {
            anchors: self.anchors,
            spread_ms: self.spread_ms,
            detail: self.describe(),
        })
    }

    /// What the estimate rests on and how sure it is, in words.
    pub fn describe(&self) -> String {
        let first = self.segments.first();
        let skew = first.map_or(0.0, |s| s.skew_ms);
        let drift = first.map_or(0.0, |s| s.drift_ppm);
        let mut d = match self.method {
            Method::Twins if self.message_anchors > 0 => format!(
                "{} UTC times printed in messages agree too; ",
                self.message_anchors
            ),
            Method::Twins => String::new(),
            Method::UtcInMessage => {
                "from UTC times printed in messages (no DB twins: whole quarter hours, no skew measured); ".into()
            }
        };
        d.push_str(&format!(
            "{} of {} lines agree, skew {:+.1} ms, drift {:+.1} ppm, confidence {}",
            self.anchors,
            self.candidates,
            tidy(skew),
            tidy(drift),
            format!("{:?}", self.confidence).to_lowercase(),
        ));
        if self.segments.len() > 1 {
            d.push_str(&format!(
                ", {} STEPS inside the file",
                self.segments.len() - 1
            ));
        }
        d
    }
}

/// A millisecond figure for printing: no "-0.0".
pub fn tidy(ms: f64) -> f64 {
    if ms.abs() < 0.05 { 0.0 } else { ms }
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// One log line's votes: for each quarter-hour it could be at, the residual (µs) of its
/// closest candidate.
struct Votes {
    by_quarter: Vec<(i64, i64)>,
}

/// The offset of `zone` at a naive reading, µs.
fn zone_offset_us(zone: &Zone, ts_local: i64) -> i64 {
    match zone {
        Zone::Fixed(off) => i64::from(off.local_minus_utc()) * 1_000_000,
        z => {
            let local = chrono::DateTime::from_timestamp_micros(ts_local)
                .unwrap_or_default()
                .naive_utc();
            ts_local - z.to_utc(local).instant().timestamp_micros()
        }
    }
}

/// Estimates the clock of one log file from its event lines' DB twins; `zone`: the zone a
/// flag or audit.toml gives it (the fit is then its skew, drift and steps against that zone).
pub fn estimate(chunk: &Chunk, db: &DbTwins, zone: Option<Zone>) -> Estimate {
    // In line order: rows read back after a first pass are appended after it.
    let mut order: Vec<usize> = (0..chunk.len())
        .filter(|&i| chunk.kind[i] == Kind::Event)
        .collect();
    order.sort_by_key(|&i| chunk.line[i].unwrap_or(0));
    let mut obs: Vec<Obs> = Vec::new();
    for i in order {
        let (Some(et), Some(key)) = (&chunk.event_type[i], chunk.payload_hash[i]) else {
            continue;
        };
        let Some(times) = db.by_key.get(&(et.clone(), key)) else {
            continue;
        };
        if times.len() > MAX_CANDIDATES {
            continue;
        }
        let local = chunk.ts_local[i];
        let base = zone.as_ref().map_or(0, |z| zone_offset_us(z, local));
        let deltas: Vec<i64> = times
            .iter()
            .map(|t| local - t - base)
            .filter(|d| d.abs() <= MAX_US)
            .collect();
        if !deltas.is_empty() {
            obs.push(Obs {
                line: chunk.line[i].unwrap_or(0),
                local,
                deltas,
            });
        }
    }
    let fitted = fit::fit(&obs);
    let message_votes = message_votes(chunk);
    let mut e = if fitted.is_empty() {
        from_messages(&message_votes)
    } else {
        from_fit(&fitted, obs.len(), zone.as_ref())
    };
    e.zone = zone;
    place_steps(chunk, &mut e.segments);
    // Corroboration: messages whose printed UTC sits on the estimate's whole-zone offset.
    if let (Method::Twins, Some(first)) = (e.method, e.segments.first()) {
        let q = i64::from(first.offset.local_minus_utc()) * 1_000_000 / QUARTER_US;
        e.message_anchors = message_votes
            .iter()
            .filter(|v| v.by_quarter.iter().any(|(qq, _)| *qq == q))
            .count();
    }
    e
}

/// The estimate of fitted segments: each offset split into whole quarter hours (or the given
/// zone's offset) and a skew.
fn from_fit(fitted: &[Fitted], candidates: usize, zone: Option<&Zone>) -> Estimate {
    let segments: Vec<Segment> = fitted
        .iter()
        .map(|f| {
            let (offset, skew_us) = match zone {
                Some(z) => {
                    let o = zone_offset_us(z, f.t0_local);
                    (o, f.offset_us)
                }
                None => {
                    let whole = (f.offset_us / QUARTER_US as f64).round() as i64 * QUARTER_US;
                    (whole, f.offset_us - whole as f64)
                }
            };
            Segment {
                first_line: f.first_line,
                last_line: f.last_line,
                anchor_first: f.first_line,
                anchor_last: f.last_line,
                first_local: Some(f.t0_local),
                before_local: None,
                window: None,
                offset: FixedOffset::east_opt((offset / 1_000_000) as i32)
                    .unwrap_or(FixedOffset::east_opt(0).expect("zero")),
                skew_ms: skew_us / 1000.0,
                drift_ppm: f.drift_ppm,
                t0_local: f.t0_local,
                t1_local: f.t1_local,
                anchors: f.anchors,
                spread_ms: f.spread_us / 1000.0,
            }
        })
        .collect();
    let anchors: usize = segments.iter().map(|s| s.anchors).sum();
    let agreement = if candidates == 0 {
        0.0
    } else {
        anchors as f64 / candidates as f64
    };
    Estimate {
        spread_ms: segments.iter().map(|s| s.spread_ms).fold(0.0, f64::max),
        confidence: confidence(anchors, agreement),
        segments,
        candidates,
        anchors,
        agreement,
        method: Method::Twins,
        message_anchors: 0,
        zone: None,
    }
}

fn confidence(anchors: usize, agreement: f64) -> Confidence {
    match (anchors, agreement) {
        (0, _) => Confidence::None,
        (n, a) if n >= 20 && a >= 0.9 => Confidence::High,
        (n, a) if n >= 5 && a >= 0.7 => Confidence::Medium,
        _ => Confidence::Low,
    }
}

/// The estimate of the UTC "now"s printed in messages: the quarter hour most of them sit near,
/// no skew (whole seconds printed on the host's own clock say nothing of the DB's).
fn from_messages(votes: &[Votes]) -> Estimate {
    let mut tally: HashMap<i64, (usize, Vec<f64>)> = HashMap::default();
    for v in votes {
        for (q, r) in &v.by_quarter {
            let e = tally.entry(*q).or_default();
            e.0 += 1;
            e.1.push(*r as f64 / 1000.0);
        }
    }
    // Most votes; ties go to the smaller |offset| so the choice is deterministic.
    let best = tally
        .into_iter()
        .max_by_key(|(q, (n, _))| (*n, std::cmp::Reverse(q.abs()), *q));
    let candidates = votes.len();
    let Some((q, (n, mut res))) = best else {
        return Estimate {
            segments: Vec::new(),
            candidates,
            anchors: 0,
            agreement: 0.0,
            spread_ms: 0.0,
            confidence: Confidence::None,
            method: Method::UtcInMessage,
            message_anchors: 0,
            zone: None,
        };
    };
    let mid = median(&mut res);
    let mut dev: Vec<f64> = res.iter().map(|r| (r - mid).abs()).collect();
    let agreement = n as f64 / candidates.max(1) as f64;
    // Whole seconds on the host's own clock: never more than medium.
    let confidence = confidence(n, agreement).min(Confidence::Medium);
    Estimate {
        segments: vec![Segment {
            first_line: 0,
            last_line: u32::MAX,
            offset: FixedOffset::east_opt((q * QUARTER_US / 1_000_000) as i32)
                .unwrap_or(FixedOffset::east_opt(0).expect("zero")),
            skew_ms: 0.0,
            drift_ppm: 0.0,
            t0_local: 0,
            t1_local: 0,
            anchor_first: 0,
            anchor_last: u32::MAX,
            first_local: None,
            before_local: None,
            window: None,
            anchors: n,
            spread_ms: median(&mut dev),
        }],
        candidates,
        anchors: n,
        agreement,
        spread_ms: median(&mut dev),
        confidence,
        method: Method::UtcInMessage,
        message_anchors: n,
        zone: None,
    }
}

/// The quarter-hours a set of candidate deltas (µs) sit near, with each one's closest residual.
fn quarters(deltas: impl Iterator<Item = i64>) -> Vec<(i64, i64)> {
    let mut by_quarter: Vec<(i64, i64)> = Vec::new();
    for d in deltas {
        if d.abs() > MAX_US {
            continue;
        }
        let q = (d as f64 / QUARTER_US as f64).round() as i64;
        let r = d - q * QUARTER_US;
        if r.abs() > NEAR_US {
            continue;
        }
        match by_quarter.iter_mut().find(|(qq, _)| *qq == q) {
            Some(e) if r.abs() < e.1.abs() => e.1 = r,
            Some(_) => {}
            None => by_quarter.push((q, r)),
        }
    }
    by_quarter
}

/// Anchors printed inside messages: UTC instants (`2025-10-18T11:07:03.219705+00:00`, `…Z`,
/// `… UTC`) and `now=HH:MM:SS` wall-clock readings. Only those within 2 s of a quarter-hour
/// from the line's own time vote — an instant printed as "now"; a candle time or a schedule
/// printed minutes away does not.
fn message_votes(chunk: &Chunk) -> Vec<Votes> {
    static ISO: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    static NOW: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let iso = ISO.get_or_init(|| {
        regex::Regex::new(r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:\+00:00|\+0000|Z| UTC)")
            .expect("static regex")
    });
    let now = NOW.get_or_init(|| {
        regex::Regex::new(r"\bnow=(\d{2}):(\d{2}):(\d{2})\b").expect("static regex")
    });
    let mut out = Vec::new();
    for i in 0..chunk.len() {
        let m = chunk.message[i].as_str();
        let first = m.lines().next().unwrap_or("");
        let mut deltas: Vec<i64> = Vec::new();
        if first.contains("+00:00")
            || first.contains("+0000")
            || first.contains('Z')
            || first.contains(" UTC")
        {
            for c in iso.captures_iter(first) {
                let num = |k: usize| c.get(k).and_then(|x| x.as_str().parse::<i64>().ok());
                let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(se)) =
                    (num(1), num(2), num(3), num(4), num(5), num(6))
                else {
                    continue;
                };
                let Some(date) = chrono::NaiveDate::from_ymd_opt(y as i32, mo as u32, d as u32)
                else {
                    continue;
                };
                let Some(t) = date.and_hms_opt(h as u32, mi as u32, se as u32) else {
                    continue;
                };
                let frac = c.get(7).map_or(0, |f| {
                    let digits = f.as_str();
                    digits.parse::<i64>().unwrap_or(0) * 10i64.pow(6 - digits.len() as u32)
                });
                deltas.push(chunk.ts_local[i] - (t.and_utc().timestamp_micros() + frac));
            }
        }
        if first.contains("now=") {
            for c in now.captures_iter(first) {
                let num = |k: usize| {
                    c.get(k)
                        .and_then(|x| x.as_str().parse::<i64>().ok())
                        .unwrap_or(0)
                };
                let printed = (num(1) * 3600 + num(2) * 60 + num(3)) * 1_000_000;
                let day = 86_400 * 1_000_000i64;
                let own = chunk.ts_local[i].rem_euclid(day);
                // Whole seconds were printed: compare with the line's own second.
                let mut d = (own - own % 1_000_000) - printed;
                if d > day / 2 {
                    d -= day;
                } else if d < -day / 2 {
                    d += day;
                }
                deltas.push(d);
            }
        }
        let by_quarter = quarters(deltas.into_iter());
        if !by_quarter.is_empty() {
            out.push(Votes { by_quarter });
        }
    }
    out
}

/// Moves each step from the first anchor after it to where the file's own clock jumps: between
/// the last anchor before and the first after, the record of `chunk` before which the naive
/// time moves by the step plus the smallest gap that is not negative (records are written in
/// order: placed anywhere else, the step would leave a gap that is). Lines between two anchors without twins (a failed batch,
/// chatter) are thus read with the right offset. Called again with every record between the
/// two anchors read back (`load::clocks`), the step lands on its line.
pub fn place_steps(chunk: &Chunk, segments: &mut [Segment]) {
    // A record is written after the one before it: every gap between two records is never
    // negative (less a few ms of truncation and jitter), the gap across the step included once
    // the step is taken out of it.
    const TOL_US: i64 = 5_000;
    for k in 1..segments.len() {
        let (prev_last, next_first) = (segments[k - 1].anchor_last, segments[k].anchor_first);
        let at = segments[k].t0_local;
        let step = segments[k].offset_us(at) - segments[k - 1].offset_us(at);
        // In line order: rows read back after a first pass are appended after it.
        let mut rows: Vec<(u32, usize)> = (0..chunk.len())
            .map(|i| (chunk.line[i].unwrap_or(0), i))
            .filter(|&(line, _)| prev_last <= line && line <= next_first)
            .collect();
        rows.sort_unstable();
        rows.dedup_by_key(|r| r.0);
        // Each place the step can go: (naive jump there, its line, its naive time, the one
        // before), within 10 minutes of the step.
        let places: Vec<(i64, u32, i64, i64)> = rows
            .windows(2)
            .map(|w| {
                let (a, b) = (chunk.ts_local[w[0].1], chunk.ts_local[w[1].1]);
                (b - a, w[1].0, b, a)
            })
            .filter(|p| p.1 > prev_last && (p.0 - step).abs() < 600_000_000)
            .collect();
        // A jump backwards that the step does not explain can only be where the step is.
        let backwards: Vec<usize> = (0..places.len())
            .filter(|&j| places[j].0 < -TOL_US)
            .collect();
        let fits: Vec<&(i64, u32, i64, i64)> = places
            .iter()
            .enumerate()
            .filter(|(j, p)| p.0 - step >= -TOL_US && backwards.iter().all(|b| b == j))
            .map(|(_, p)| p)
            .collect();
        // Of those, the one that leaves the smallest gap; else the nearest to the step at all.
        let chosen = fits
            .iter()
            .min_by_key(|p| p.0 - step)
            .copied()
            .or_else(|| places.iter().min_by_key(|p| (p.0 - step).abs()));
        // Places more than a second apart: the step may be at any of them, and is said so.
        // (On the DB's axis the window runs from the record before the first place, on the old
        // clock, to the last place, on the new one.)
        segments[k].window = match (fits.first(), fits.last()) {
            (Some(a), Some(b)) if fits.len() > 1 && b.2 - step - a.3 > 1_000_000 => {
                Some(StepWindow {
                    from_local: a.3,
                    to_local: b.2,
                    from_line: a.1,
                    to_line: b.1,
                })
            }
            _ => None,
        };
        if let Some(&(jump, line, t, before)) = chosen {
            // One place, but a quiet one: the step is somewhere in a gap of more than 2 s
            // between two records, and its middle may be more than a second off.
            if segments[k].window.is_none() && jump - step > 2_000_000 {
                segments[k].window = Some(StepWindow {
                    from_local: before,
                    to_local: t,
                    from_line: line,
                    to_line: line,
                });
            }
            segments[k].first_line = line;
            segments[k].first_local = Some(t);
            segments[k].before_local = Some(before);
            segments[k - 1].last_line = line.saturating_sub(1).max(segments[k - 1].first_line);
        }
    }
}

/// A step between two segments as it reads in a report: `+04:00:05.123 → +04:00:03.000`.
pub fn describe_step(before: &Segment, after: &Segment) -> String {
    let at = after.t0_local;
    format!(
        "{} → {}",
        format_offset_us(before.offset_us(at)),
        format_offset_us(after.offset_us(at))
    )
}

/// The correlation-epoch check of the DB's own clock: `created_at − epoch` is the duration of
/// an `open_position` call, never negative on a sound clock. The lower envelope (minimum)
/// is what bounds the offset; the mean would be biased by slow calls.
#[derive(Debug, Clone, Serialize)]
pub struct EpochCheck {
    pub anchors: usize,
    pub min_lag_ms: f64,
    pub median_lag_ms: f64,
    /// Rows whose created_at is earlier than their own epoch by more than the tolerance.
    pub negative: Vec<i64>,
}

pub fn epoch_check(db: &Chunk, tolerance_ms: f64) -> EpochCheck {
    let mut lags: Vec<(f64, i64)> = Vec::new();
    for i in 0..db.len() {
        if let Some(e) = db.corr_epoch[i] {
            lags.push((
                (db.ts_utc[i] - e) as f64 / 1000.0,
                db.event_id[i].unwrap_or(0),
            ));
        }
    }
    let mut values: Vec<f64> = lags.iter().map(|(l, _)| *l).collect();
    let min_lag_ms = values.iter().copied().fold(f64::INFINITY, f64::min);
    EpochCheck {
        anchors: lags.len(),
        min_lag_ms: if lags.is_empty() { 0.0 } else { min_lag_ms },
        median_lag_ms: median(&mut values),
        negative: lags
            .iter()
            .filter(|(l, _)| *l < -tolerance_ms)
            .map(|(_, id)| *id)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::payload_hash_text;
    use crate::rows::Row;

    const H: i64 = 3600 * 1_000_000;

    fn db(rows: &[(&str, &str, i64)]) -> (Chunk, DbTwins) {
        let mut c = Chunk::new(ChunkSource::Db, None);
        for (et, p, t) in rows {
            c.push(Row {
                ts_utc: *t,
                kind: Kind::Event,
                event_type: Some(et.to_string()),
                payload: Some(p.to_string()),
                payload_hash: payload_hash_text(p),
                ..Row::default()
            });
        }
        let twins = DbTwins::from_chunk(&c);
        (c, twins)
    }

    fn log(rows: &[(&str, &str, i64)]) -> Chunk {
        let mut c = Chunk::new(ChunkSource::Log, Some("bot.log".into()));
        for (n, (et, p, t)) in rows.iter().enumerate() {
            c.push(Row {
                ts_local: *t,
                line: Some(n as u32 + 1),
                kind: Kind::Event,
                event_type: Some(et.to_string()),
                payload: Some(p.to_string()),
                payload_hash: payload_hash_text(p),
                ..Row::default()
            });
        }
        c
    }

    fn payload(i: i64) -> String {
        format!("{{\"n\":{i}}}")
    }

    #[test]
    fn finds_plus_four_hours_from_twins_with_millisecond_lag() {
        let base = 1_760_785_633_510_000;
        let rows: Vec<(String, i64)> = (0..40)
            .map(|i| (payload(i), base + i * 7_000_000))
            .collect();
        let (_, twins) = db(&rows
            .iter()
            .map(|(p, t)| ("e", p.as_str(), *t))
            .collect::<Vec<_>>());
        // Log = UTC + 4 h + 2 ms lag, truncated to ms.
        let l = log(&rows
            .iter()
            .map(|(p, t)| ("e", p.as_str(), (t + 4 * H + 2_000) / 1000 * 1000))
            .collect::<Vec<_>>());
        let e = estimate(&l, &twins, None);
        assert_eq!(e.segments.len(), 1);
        assert_eq!(crate::time::format_offset(e.offset().unwrap()), "+04:00");
        assert_eq!(e.anchors, 40);
        assert_eq!(e.confidence, Confidence::High);
        // The 2 ms the log line trails its row (less the millisecond truncation) is skew.
        let skew = e.segments[0].skew_ms;
        assert!((0.5..=2.5).contains(&skew), "{skew}");
    }

    #[test]
    fn chance_matches_of_repeated_payloads_are_outvoted() {
        // 30 unique twins at +04:00 and a periodic heartbeat every 10 min with one payload,
        // whose cross pairs land at random distances.
        let base = 1_760_785_000_000_000;
        let mut dbrows: Vec<(String, i64)> = (0..30)
            .map(|i| (payload(i), base + i * 61_000_000))
            .collect();
        let hb: Vec<i64> = (0..10).map(|i| base + i * 600_000_000 + 123_456).collect();
        for t in &hb {
            dbrows.push(("{\"hb\":1}".into(), *t));
        }
        let (_, twins) = db(&dbrows
            .iter()
            .map(|(p, t)| ("e", p.as_str(), *t))
            .collect::<Vec<_>>());
        let l = log(&dbrows
            .iter()
            .map(|(p, t)| ("e", p.as_str(), t + 4 * H + 1_000))
            .collect::<Vec<_>>());
        let e = estimate(&l, &twins, None);
        assert_eq!(crate::time::format_offset(e.offset().unwrap()), "+04:00");
        assert_eq!(e.segments.len(), 1);
    }

    #[test]
    fn an_offset_change_inside_a_file_is_split() {
        let base = 1_760_785_000_000_000;
        let rows: Vec<(String, i64)> = (0..20)
            .map(|i| (payload(i), base + i * 60_000_000))
            .collect();
        let (_, twins) = db(&rows
            .iter()
            .map(|(p, t)| ("e", p.as_str(), *t))
            .collect::<Vec<_>>());
        // First 12 lines at +03:00, the rest at +04:00 (a host moved).
        let l = log(&rows
            .iter()
            .enumerate()
            .map(|(i, (p, t))| ("e", p.as_str(), t + if i < 12 { 3 * H } else { 4 * H }))
            .collect::<Vec<_>>());
        let e = estimate(&l, &twins, None);
        let offs: Vec<String> = e
            .segments
            .iter()
            .map(|s| crate::time::format_offset(s.offset))
            .collect();
        assert_eq!(offs, vec!["+03:00", "+04:00"]);
        assert_eq!((e.segments[0].first_line, e.segments[0].last_line), (1, 12));
        assert_eq!(
            (e.segments[1].first_line, e.segments[1].last_line),
            (13, 20)
        );
    }

    #[test]
    fn an_offset_change_is_placed_where_the_files_clock_jumps_not_at_the_next_twin() {
        let base = 1_760_785_000_000_000;
        let rows: Vec<(String, i64)> = (0..20)
            .map(|i| (payload(i), base + i * 60_000_000))
            .collect();
        let (_, twins) = db(&rows
            .iter()
            .map(|(p, t)| ("e", p.as_str(), *t))
            .collect::<Vec<_>>());
        // 10 twins at +03:00, then 3 lines with no twin (the clock has already jumped), then
        // 10 twins at +04:00.
        let mut entries: Vec<(String, String, i64)> = Vec::new();
        for (i, (p, t)) in rows.iter().enumerate() {
            if i == 10 {
                for k in 0..3 {
                    entries.push((
                        "chatter".into(),
                        format!("{{\"x\":{k}}}"),
                        t - 30_000_000 + 4 * H,
                    ));
                }
            }
            entries.push((
                "e".into(),
                p.clone(),
                t + if i < 10 { 3 * H } else { 4 * H },
            ));
        }
        let l = log(&entries
            .iter()
            .map(|(e, p, t)| (e.as_str(), p.as_str(), *t))
            .collect::<Vec<_>>());
        let e = estimate(&l, &twins, None);
        assert_eq!(e.segments.len(), 2);
        // Line 11 is the first line on the new clock (the first no-twin line), not line 14.
        assert_eq!(
            (e.segments[0].last_line, e.segments[1].first_line),
            (10, 11)
        );
    }

    #[test]
    fn utc_printed_as_now_anchors_a_file_without_twins() {
        // No DB at all; the bot prints UTC wall time inside its UTC+4 lines.
        let (_, twins) = db(&[]);
        let mut l = Chunk::new(ChunkSource::Log, Some("bot.log".into()));
        let base = 1_760_785_205_997_000; // 11:00:05.997 UTC
        for (n, (msg, at)) in [
            (
                "[DEBUG] _wait_for_next_wave_check: now=11:00:05, current_minute=0",
                base,
            ),
            (
                "detected at 2025-10-18T11:07:03.219705+00:00",
                base + 417_222_705,
            ),
            // A candle time 22 minutes in the past: must not vote.
            (
                "🔍 Looking for wave with timestamp: 2025-10-18T10:45:00+00:00",
                base + 414_005_000,
            ),
        ]
        .into_iter()
        .enumerate()
        {
            l.push(Row {
                ts_local: at + 4 * H,
                line: Some(n as u32 + 1),
                message: msg.into(),
                ..Row::default()
            });
        }
        let e = estimate(&l, &twins, None);
        assert_eq!(e.method, Method::UtcInMessage);
        assert_eq!(crate::time::format_offset(e.offset().unwrap()), "+04:00");
        assert_eq!(e.anchors, 2);
        assert_eq!(e.message_anchors, 2);
    }

    #[test]
    fn no_twins_means_no_estimate() {
        let (_, twins) = db(&[("e", "{\"a\":1}", 0)]);
        let l = log(&[("e", "{\"a\":2}", 4 * H)]);
        let e = estimate(&l, &twins, None);
        assert_eq!(e.confidence, Confidence::None);
        assert!(e.offset().is_none());
    }

    #[test]
    fn a_host_seconds_off_and_drifting_is_measured_to_the_millisecond() {
        // +04:00, 6.4 s fast, 35 ppm fast, a line every 2 s for an hour, 1-3 ms late.
        let base = 1_760_785_000_000_000i64;
        let rows: Vec<(String, i64)> = (0..1800)
            .map(|i| (payload(i), base + i * 2_000_000))
            .collect();
        let (_, twins) = db(&rows
            .iter()
            .map(|(p, t)| ("e", p.as_str(), *t))
            .collect::<Vec<_>>());
        let off = |t: i64| 4 * H + 6_400_000 + ((t - base) as f64 * 35e-6) as i64;
        let l = log(&rows
            .iter()
            .enumerate()
            .map(|(i, (p, t))| {
                (
                    "e",
                    p.as_str(),
                    (t + off(*t) + 1_000 + (i as i64 % 3) * 1_000) / 1000 * 1000,
                )
            })
            .collect::<Vec<_>>());
        let e = estimate(&l, &twins, None);
        assert_eq!(e.segments.len(), 1, "{e:#?}");
        let s = &e.segments[0];
        assert_eq!(crate::time::format_offset(s.offset), "+04:00");
        assert!((s.drift_ppm - 35.0).abs() < 1.0, "{}", s.drift_ppm);
        for (i, (_, t)) in rows.iter().enumerate().step_by(97) {
            let local = l.ts_local[i];
            let err = (s.offset_us(local) - off(*t)) as f64 / 1000.0;
            assert!(err.abs() < 3.0, "line {}: {err} ms", i + 1);
        }
        // The clock places every line within a few ms of its row.
        let c = e.detected().unwrap();
        for (i, (_, t)) in rows.iter().enumerate() {
            let placed = c.utc(l.ts_local[i], l.line[i].unwrap());
            assert!(
                (placed - t).abs() < 4_000,
                "line {}: {} µs",
                i + 1,
                placed - t
            );
        }
    }

    #[test]
    fn a_zone_given_keeps_its_zone_and_measures_the_rest() {
        let base = 1_760_785_000_000_000i64;
        let rows: Vec<(String, i64)> = (0..300)
            .map(|i| (payload(i), base + i * 3_000_000))
            .collect();
        let (_, twins) = db(&rows
            .iter()
            .map(|(p, t)| ("e", p.as_str(), *t))
            .collect::<Vec<_>>());
        let l = log(&rows
            .iter()
            .map(|(p, t)| ("e", p.as_str(), t + 4 * H - 3_250_000))
            .collect::<Vec<_>>());
        let zone: Zone = "+04:00".parse().unwrap();
        let e = estimate(&l, &twins, Some(zone));
        assert_eq!(e.segments.len(), 1);
        assert!(
            (e.segments[0].skew_ms + 3250.0).abs() < 1.0,
            "{}",
            e.segments[0].skew_ms
        );
        let c = e.clock(Provenance::Given { by: "test".into() }).unwrap();
        assert_eq!(c.zone(), zone);
        assert_eq!(c.utc(l.ts_local[0], 1), rows[0].1);
    }

    #[test]
    fn an_ntp_step_back_is_found_at_the_line_where_the_clock_jumps() {
        // 200 twins a second apart; at line 121 the host is set back 1.8 s; a chatter line
        // without a twin (line 120, already on the new clock) sits between the two anchors.
        let base = 1_760_785_000_000_000i64;
        let mut entries: Vec<(String, String, i64)> = Vec::new();
        let mut truth_step_line = 0;
        for i in 0..200i64 {
            let t = base + i * 1_000_000;
            let off = if i < 119 {
                4 * H + 900_000
            } else {
                4 * H + 900_000 - 1_800_000
            };
            if i == 119 {
                entries.push(("chatter".into(), "{\"x\":1}".into(), t - 400_000 + off));
                truth_step_line = entries.len() as u32;
            }
            entries.push(("e".into(), payload(i), t + off));
        }
        let dbrows: Vec<(String, i64)> = (0..200)
            .map(|i| (payload(i), base + i * 1_000_000))
            .collect();
        let (_, twins) = db(&dbrows
            .iter()
            .map(|(p, t)| ("e", p.as_str(), *t))
            .collect::<Vec<_>>());
        let l = log(&entries
            .iter()
            .map(|(e, p, t)| (e.as_str(), p.as_str(), *t))
            .collect::<Vec<_>>());
        let e = estimate(&l, &twins, None);
        assert_eq!(e.segments.len(), 2, "{e:#?}");
        assert_eq!(e.segments[1].first_line, truth_step_line);
        assert!((e.segments[0].skew_ms - 900.0).abs() < 1.0);
        assert!((e.segments[1].skew_ms + 900.0).abs() < 1.0);
        assert_eq!(
            describe_step(&e.segments[0], &e.segments[1]),
            "+04:00:00.900 → +03:59:59.100"
        );
    }

    #[test]
    fn epoch_lower_envelope() {
        let (mut c, _) = db(&[
            ("position_created", "{}", 1_000_000 + 350_000),
            ("position_error", "{}", 2_000_000 + 2_000),
        ]);
        c.corr_epoch = vec![Some(1_000_000), Some(2_000_000)];
        c.event_id = vec![Some(1), Some(2)];
        let chk = epoch_check(&c, 50.0);
        assert_eq!(chk.anchors, 2);
        assert!((chk.min_lag_ms - 2.0).abs() < 1e-9);
        assert!(chk.negative.is_empty());
        c.ts_utc[1] = 2_000_000 - 5_000_000;
        assert_eq!(epoch_check(&c, 50.0).negative, vec![2]);
    }
}
