//! Detecting a log file's clock from the data itself.
//!
//! A DB row and its log twin are born within milliseconds (REFERENCE.md): the row's
//! `created_at` is absolute, the log line's time is naive local. For every log event line,
//! every DB row with the same event type and payload gives a candidate `log − created_at`;
//! the true offset is the whole quarter-hour most candidates sit within a couple of seconds
//! of. Chance matches (periodic events with identical payloads) land anywhere in the 15
//! minutes and are outvoted. The residuals around the winner give the spread; a change of
//! winner along the file (DST, a host that moved) splits it into segments.

use rustc_hash::FxHashMap as HashMap;

use chrono::FixedOffset;
use serde::Serialize;

use crate::rows::{Chunk, ChunkSource, Kind};

/// Offsets are whole quarter-hours (every real zone is).
const QUARTER_US: i64 = 15 * 60 * 1_000_000;
/// A candidate counts for a quarter-hour when it lies this close to it.
const NEAR_US: i64 = 2_000_000;
/// Offsets beyond ±14 h do not exist.
const MAX_US: i64 = 14 * 3600 * 1_000_000 + NEAR_US;
/// Payloads repeated more often than this are not evidence of anything.
const MAX_CANDIDATES: usize = 16;
/// Fewest anchors on each side of an offset change.
const MIN_SEGMENT: usize = 3;

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

/// A stretch of a file read with one offset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    pub first_line: u32,
    pub last_line: u32,
    #[serde(serialize_with = "ser_offset")]
    pub offset: FixedOffset,
    pub anchors: usize,
}

fn ser_offset<S: serde::Serializer>(o: &FixedOffset, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::time::format_offset(*o))
}

/// A detected clock for one log file.
#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    /// One segment when the offset holds for the whole file; more when it changed inside it.
    pub segments: Vec<Segment>,
    /// Event lines that had at least one DB candidate near a quarter-hour.
    pub candidates: usize,
    /// Event lines whose twin sits at the winning offset.
    pub anchors: usize,
    /// Share of candidate lines that agree with the winner.
    pub agreement: f64,
    /// Median of (log − created_at − offset): the log line's lag behind its row, ms.
    pub lag_median_ms: f64,
    /// Median absolute deviation of that lag, ms.
    pub spread_ms: f64,
    pub confidence: Confidence,
    /// What the votes came from.
    pub method: Method,
    /// Lines printing a UTC "now" that agree with the offset (corroboration, or the anchors
    /// themselves when there were no twins).
    pub message_anchors: usize,
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
    /// The offset of the first segment (the whole file when there is no change).
    pub fn offset(&self) -> Option<FixedOffset> {
        self.segments.first().map(|s| s.offset)
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
    line: u32,
    by_quarter: Vec<(i64, i64)>,
}

/// Estimates the clock of one log file from its event lines' DB twins.
pub fn estimate(chunk: &Chunk, db: &DbTwins) -> Estimate {
    let mut votes: Vec<Votes> = Vec::new();
    for i in 0..chunk.len() {
        if chunk.kind[i] != Kind::Event {
            continue;
        }
        let (Some(et), Some(key)) = (&chunk.event_type[i], chunk.payload_hash[i]) else {
            continue;
        };
        let Some(times) = db.by_key.get(&(et.clone(), key)) else {
            continue;
        };
        if times.len() > MAX_CANDIDATES {
            continue;
        }
        let by_quarter = quarters(times.iter().map(|t| chunk.ts_local[i] - t));
        if !by_quarter.is_empty() {
            votes.push(Votes {
                line: chunk.line[i].unwrap_or(0),
                by_quarter,
            });
        }
    }
    let message_votes = message_votes(chunk);
    let mut e = if votes.is_empty() {
        let mut e = summarize(&message_votes);
        e.method = Method::UtcInMessage;
        e
    } else {
        summarize(&votes)
    };
    place_changes(chunk, &mut e.segments);
    // Corroboration: message anchors that agree with the (first) winning offset.
    if let Some(off) = e.offset() {
        let q = i64::from(off.local_minus_utc()) * 1_000_000 / QUARTER_US;
        e.message_anchors = message_votes
            .iter()
            .filter(|v| v.by_quarter.iter().any(|(qq, _)| *qq == q))
            .count();
    }
    e
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
            out.push(Votes {
                line: chunk.line[i].unwrap_or(0),
                by_quarter,
            });
        }
    }
    out
}

/// Moves each offset change from the first anchor after it to where the file's own clock
/// jumps: between the last anchor before and the first after, the record whose naive time
/// steps by (closest to) the change of offset. Lines between two anchors without twins (a
/// failed batch, chatter) are thus read with the right offset.
fn place_changes(chunk: &Chunk, segments: &mut [Segment]) {
    for k in 1..segments.len() {
        let (prev_last, next_first) = (segments[k - 1].last_line, segments[k].first_line);
        let step = i64::from(
            segments[k].offset.local_minus_utc() - segments[k - 1].offset.local_minus_utc(),
        ) * 1_000_000;
        let mut best: Option<(i64, u32)> = None;
        let mut prev_t: Option<i64> = None;
        // In line order: rows read back after a first pass are appended after it.
        let mut rows: Vec<(u32, usize)> = (0..chunk.len())
            .map(|i| (chunk.line[i].unwrap_or(0), i))
            .filter(|&(line, _)| prev_last <= line && line <= next_first)
            .collect();
        rows.sort_unstable();
        for (line, i) in rows {
            if let Some(p) = prev_t {
                let miss = (chunk.ts_local[i] - p - step).abs();
                // The jump must explain most of the change (within 10 minutes of it).
                if miss < 600_000_000 && best.is_none_or(|(m, _)| miss < m) {
                    best = Some((miss, line));
                }
            }
            prev_t = Some(chunk.ts_local[i]);
        }
        if let Some((_, line)) = best {
            segments[k].first_line = line;
            segments[k - 1].last_line = line.saturating_sub(1).max(segments[k - 1].first_line);
        }
    }
}

fn winner(votes: &[Votes]) -> Option<(i64, usize)> {
    let mut tally: HashMap<i64, usize> = HashMap::default();
    for v in votes {
        for (q, _) in &v.by_quarter {
            *tally.entry(*q).or_default() += 1;
        }
    }
    // Most votes; ties go to the smaller |offset| so the choice is deterministic.
    tally
        .into_iter()
        .max_by_key(|(q, n)| (*n, std::cmp::Reverse(q.abs()), *q))
}

/// Splits `votes` (in line order) where the winning quarter changes, recursively.
fn split(votes: &[Votes], out: &mut Vec<(usize, usize, i64)>, start: usize) {
    let Some((best_q, best_n)) = winner(votes) else {
        return;
    };
    // Each line's unambiguous quarter (lines that fit several are left out of the split).
    let single: Vec<Option<i64>> = votes
        .iter()
        .map(|v| {
            if v.by_quarter.len() == 1 {
                Some(v.by_quarter[0].0)
            } else {
                None
            }
        })
        .collect();
    let mut best: Option<(usize, usize, i64, i64)> = None; // (score, split, left q, right q)
    if votes.len() >= 2 * MIN_SEGMENT {
        let quarters: Vec<i64> = {
            let mut q: Vec<i64> = single.iter().flatten().copied().collect();
            q.sort_unstable();
            q.dedup();
            q
        };
        for &a in &quarters {
            for &b in &quarters {
                if a == b {
                    continue;
                }
                // prefix counts of a and suffix counts of b
                let mut left = 0usize;
                let total_b = single.iter().filter(|q| **q == Some(b)).count();
                let mut right = total_b;
                for k in 0..single.len() {
                    if single[k] == Some(a) {
                        left += 1;
                    }
                    if single[k] == Some(b) {
                        right -= 1;
                    }
                    let (nl, nr) = (k + 1, single.len() - k - 1);
                    if nl < MIN_SEGMENT
                        || nr < MIN_SEGMENT
                        || left < MIN_SEGMENT
                        || right < MIN_SEGMENT
                    {
                        continue;
                    }
                    let score = left + right;
                    if best.is_none_or(|(s, ..)| score > s) {
                        best = Some((score, k + 1, a, b));
                    }
                }
            }
        }
    }
    let margin = MIN_SEGMENT.max(votes.len() / 20);
    match best {
        Some((score, at, _, _)) if score >= best_n + margin => {
            split(&votes[..at], out, start);
            split(&votes[at..], out, start + at);
        }
        _ => out.push((start, start + votes.len(), best_q)),
    }
}

fn summarize(votes: &[Votes]) -> Estimate {
    let mut parts: Vec<(usize, usize, i64)> = Vec::new();
    split(votes, &mut parts, 0);
    let mut segments = Vec::new();
    let mut lags: Vec<f64> = Vec::new();
    let mut anchors = 0usize;
    for (a, b, q) in &parts {
        let mut n = 0;
        for v in &votes[*a..*b] {
            if let Some((_, r)) = v.by_quarter.iter().find(|(qq, _)| qq == q) {
                n += 1;
                lags.push(*r as f64 / 1000.0);
            }
        }
        anchors += n;
        let secs = (q * QUARTER_US / 1_000_000) as i32;
        if let Some(offset) = FixedOffset::east_opt(secs) {
            segments.push(Segment {
                first_line: votes[*a].line,
                last_line: votes[b - 1].line,
                offset,
                anchors: n,
            });
        }
    }
    // Adjacent segments with the same offset (a split that recursion undid) merge back.
    segments.dedup_by(|b, a| {
        if a.offset == b.offset {
            a.last_line = b.last_line;
            a.anchors += b.anchors;
            true
        } else {
            false
        }
    });
    let lag_median_ms = median(&mut lags.clone());
    let mut dev: Vec<f64> = lags.iter().map(|l| (l - lag_median_ms).abs()).collect();
    let spread_ms = median(&mut dev);
    let candidates = votes.len();
    let agreement = if candidates == 0 {
        0.0
    } else {
        anchors as f64 / candidates as f64
    };
    let confidence = match (anchors, agreement) {
        (0, _) => Confidence::None,
        (n, a) if n >= 20 && a >= 0.9 => Confidence::High,
        (n, a) if n >= 5 && a >= 0.7 => Confidence::Medium,
        _ => Confidence::Low,
    };
    Estimate {
        segments,
        candidates,
        anchors,
        agreement,
        lag_median_ms,
        spread_ms,
        confidence,
        method: Method::Twins,
        message_anchors: 0,
    }
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
        let e = estimate(&l, &twins);
        assert_eq!(e.segments.len(), 1);
        assert_eq!(crate::time::format_offset(e.offset().unwrap()), "+04:00");
        assert_eq!(e.anchors, 40);
        assert_eq!(e.confidence, Confidence::High);
        assert!((e.lag_median_ms - 2.0).abs() < 1.0, "{}", e.lag_median_ms);
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
        let e = estimate(&l, &twins);
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
        let e = estimate(&l, &twins);
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
        let e = estimate(&l, &twins);
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
        let e = estimate(&l, &twins);
        assert_eq!(e.method, Method::UtcInMessage);
        assert_eq!(crate::time::format_offset(e.offset().unwrap()), "+04:00");
        assert_eq!(e.anchors, 2);
        assert_eq!(e.message_anchors, 2);
    }

    #[test]
    fn no_twins_means_no_estimate() {
        let (_, twins) = db(&[("e", "{\"a\":1}", 0)]);
        let l = log(&[("e", "{\"a\":2}", 4 * H)]);
        let e = estimate(&l, &twins);
        assert_eq!(e.confidence, Confidence::None);
        assert!(e.offset().is_none());
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
