//! Scores the clocks a `--format json` document reports against each file's true clock, and
//! draws the scenarios to score them on.
//!
//! The document's shape (the truth's `files[].clock`, keyed by file name):
//!
//! ```json
//! { "clock": { "bot_20251018_070000.log": {
//!     "segments": [ { "from_line": 1, "to_line": 1128,
//!                     "from_utc": "2025-10-18T03:00:00.690255Z", "to_utc": "2025-10-18T03:11:23.865681Z",
//!                     "offset_start_s": 14405.89997, "offset_end_s": 14405.870594, "drift_ppm": -43.0 } ],
//!     "steps": [ { "line": 1129, "at_utc": "2025-10-18T03:11:24.000000Z",
//!                  "before_s": 14405.870588, "after_s": 14403.770588 } ] } } }
//! ```
//!
//! Offsets are `naive log time − created_at` in seconds, on the DB's clock; inside a segment
//! the offset at t is `offset_start_s + drift_ppm·1e-6·(t − from_utc)`. Only `from_utc`,
//! `to_utc`, `offset_start_s` and `drift_ppm` of a segment, and `at_utc`, `before_s` and
//! `after_s` of a step, are read.

use serde_json::Value;

use super::super::rng::Rng;
use super::super::scenario::Scenario;
use super::super::truth::{ClockSegment, ClockStep, Truth, parse_us, segment_offset};
use super::super::{Fault, Faults, Params};
use super::SuiteCase;
use crate::faults::{DbClockFault, HostClockFault, NtpStep};

/// Sample points of a true segment: its ends and this many evenly spaced between them.
const INTERIOR: usize = 5;
/// Points this close to a true step are not sampled (where a step lands is scored by
/// matching steps), and a reported step this close to a true one may be it.
const STEP_WINDOW_US: i64 = 1_000_000;
/// A reported step's size (after − before) matches the true one's within 10 % or 50 ms.
const SIZE_REL: f64 = 0.10;
const SIZE_ABS_S: f64 = 0.050;
const EXAMPLES: usize = 4;
/// The widest window a reported step may give and still be found.
const MAX_WINDOW_US: i64 = 10_000_000;

/// One file's clock, scored.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct FileClockScore {
    pub file: String,
    /// The document reports a clock for this file (with at least one usable segment).
    pub estimated: bool,
    /// Points compared.
    pub samples: usize,
    /// Of those, points inside no reported segment (read off the nearest one's line).
    pub outside: usize,
    /// The largest |reported − true offset|, ms, and where (true instant).
    pub max_error_ms: f64,
    pub worst_at_utc: Option<String>,
    pub steps_true: usize,
    pub steps_found: usize,
    pub steps_missed: usize,
    /// Reported steps that match no true step.
    pub steps_extra: usize,
    pub missed_examples: Vec<String>,
    pub extra_examples: Vec<String>,
}

/// Every file's clock, scored; the totals over the files.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ClockScore {
    pub files: Vec<FileClockScore>,
    /// The largest error over every estimated file, ms.
    pub max_error_ms: f64,
    pub samples: usize,
    pub steps_found: usize,
    pub steps_missed: usize,
    pub steps_extra: usize,
    /// Files of the truth the document gives no clock for (their true steps count as
    /// missed).
    pub unestimated: Vec<String>,
}

/// The document's clock object for `name`: `clock.<name>`, or a key ending in `/<name>`.
fn clock_of<'a>(doc: &'a Value, name: &str) -> Option<&'a Value> {
    let c = doc.get("clock")?.as_object()?;
    c.get(name).or_else(|| {
        let tail = format!("/{name}");
        c.iter().find(|(k, _)| k.ends_with(&tail)).map(|(_, v)| v)
    })
}

fn segments_of(v: &Value) -> Vec<ClockSegment> {
    v["segments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| {
            let from = s["from_utc"].as_str()?;
            let to = s["to_utc"].as_str()?;
            parse_us(from)?;
            parse_us(to)?;
            let start = s["offset_start_s"].as_f64()?;
            Some(ClockSegment {
                from_line: s["from_line"].as_u64().unwrap_or(0) as u32,
                to_line: s["to_line"].as_u64().unwrap_or(0) as u32,
                from_utc: from.to_string(),
                to_utc: to.to_string(),
                offset_start_s: start,
                offset_end_s: s["offset_end_s"].as_f64().unwrap_or(start),
                drift_ppm: s["drift_ppm"].as_f64().unwrap_or(0.0),
            })
        })
        .collect()
}

/// (instant µs, size s) of each reported step.
/// A reported step: its instant, its size, and the window it may lie anywhere in, when the
/// records around it cannot tell (`window_utc`).
type Reported = (i64, f64, Option<(i64, i64)>);

fn steps_of(v: &Value) -> Vec<Reported> {
    v["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| {
            let at = parse_us(s["at_utc"].as_str()?)?;
            let window = s["window_utc"].as_array().and_then(|w| {
                Some((
                    parse_us(w.first()?.as_str()?)?,
                    parse_us(w.get(1)?.as_str()?)?,
                ))
            });
            Some((at, s["after_s"].as_f64()? - s["before_s"].as_f64()?, window))
        })
        .collect()
}

/// The instants a true segment is sampled at: its first and last record's and
/// [`INTERIOR`] evenly spaced between, none within 1 s of a true step.
fn sample_points(seg: &ClockSegment, steps: &[i64]) -> Vec<i64> {
    let (Some(a), Some(b)) = (parse_us(&seg.from_utc), parse_us(&seg.to_utc)) else {
        return Vec::new();
    };
    let n = INTERIOR as i64 + 1;
    (0..=n)
        .map(|k| a + (b - a) * k / n)
        .filter(|t| steps.iter().all(|s| (t - s).abs() > STEP_WINDOW_US))
        .collect()
}

/// Matches true steps with reported ones, one to one, the nearest in time first. A reported
/// step is at the true one when within 1 s of it, or when it gives a window (the records
/// around it cannot tell where it is) no wider than [`MAX_WINDOW_US`] that holds it.
fn match_steps(truth: &[ClockStep], got: &[Reported], f: &mut FileClockScore) {
    let mut used = vec![false; got.len()];
    for st in truth {
        let Some(at) = parse_us(&st.at_utc) else {
            continue;
        };
        let size = st.after_s - st.before_s;
        let tol = (SIZE_REL * size.abs()).max(SIZE_ABS_S);
        let best = got
            .iter()
            .enumerate()
            .filter(|(k, (t, s, w))| {
                let near = (t - at).abs() <= STEP_WINDOW_US
                    || w.is_some_and(|(a, b)| b - a <= MAX_WINDOW_US && a <= at && at <= b);
                !used[*k] && near && (s - size).abs() <= tol
            })
            .min_by_key(|(_, (t, ..))| (t - at).abs());
        match best {
            Some((k, _)) => {
                used[k] = true;
                f.steps_found += 1;
            }
            None => {
                f.steps_missed += 1;
                if f.missed_examples.len() < EXAMPLES {
                    f.missed_examples
                        .push(format!("{:+.3} s at {}", size, st.at_utc));
                }
            }
        }
    }
    for (k, (t, s, _)) in got.iter().enumerate() {
        if !used[k] {
            f.steps_extra += 1;
            if f.extra_examples.len() < EXAMPLES {
                f.extra_examples.push(format!(
                    "{s:+.3} s at {}",
                    super::super::timefmt::rfc3339_micros(*t)
                ));
            }
        }
    }
}

/// Compares the clocks `doc` reports (`clock.<file>`: segments, steps) with the truth's:
/// per file, the largest error of the reported offset at sample points of every true
/// segment (its first and last record's instants and 5 evenly spaced between, skipping
/// points within 1 s of a true step), and the steps found (a reported step within 1 s of a
/// true one whose size is within 10 % or 50 ms of it), missed and extra. A point outside
/// every reported segment is read off the nearest one's line (and counted in `outside`).
pub fn clock(truth: &Truth, doc: &Value) -> ClockScore {
    let mut out = ClockScore::default();
    for ft in &truth.files {
        let mut f = FileClockScore {
            file: ft.name.clone(),
            steps_true: ft.clock.steps.len(),
            ..FileClockScore::default()
        };
        let reported = clock_of(doc, &ft.name);
        let segs = reported.map(segments_of).unwrap_or_default();
        let got_steps = reported.map(steps_of).unwrap_or_default();
        f.estimated = !segs.is_empty();
        let true_steps: Vec<i64> = ft
            .clock
            .steps
            .iter()
            .filter_map(|s| parse_us(&s.at_utc))
            .collect();
        if f.estimated {
            for seg in &ft.clock.segments {
                let Some(from) = parse_us(&seg.from_utc) else {
                    continue;
                };
                for t in sample_points(seg, &true_steps) {
                    let want = seg.offset_start_s + seg.drift_ppm * 1e-6 * (t - from) as f64 / 1e6;
                    let Some(got) = segment_offset(&segs, t) else {
                        continue;
                    };
                    f.samples += 1;
                    let inside = segs.iter().any(|s| {
                        parse_us(&s.from_utc).is_some_and(|a| a <= t)
                            && parse_us(&s.to_utc).is_some_and(|b| t <= b)
                    });
                    if !inside {
                        f.outside += 1;
                    }
                    let err = (got - want).abs() * 1e3;
                    if err > f.max_error_ms || f.worst_at_utc.is_none() {
                        f.max_error_ms = f.max_error_ms.max(err);
                        f.worst_at_utc = Some(super::super::timefmt::rfc3339_micros(t));
                    }
                }
            }
        } else {
            out.unestimated.push(ft.name.clone());
        }
        match_steps(&ft.clock.steps, &got_steps, &mut f);
        out.max_error_ms = out.max_error_ms.max(f.max_error_ms);
        out.samples += f.samples;
        out.steps_found += f.steps_found;
        out.steps_missed += f.steps_missed;
        out.steps_extra += f.steps_extra;
        out.files.push(f);
    }
    out
}

/// `+7.2` with a sign, one decimal.
fn signed(x: f64) -> String {
    format!("{x:+.1}")
}

/// The fixed DB-down world: two processes (a clean restart halfway through an hour), the
/// database down for the second one's whole life, both hosts 3.5 s fast and drifting
/// +12 ppm. Its second file has no rows to align by, so `score::clock` finds it
/// `unestimated`; `missing-logs` should call its event lines `no_db_coverage`.
pub fn db_down_case() -> SuiteCase {
    let mut f = Faults::default();
    f.add(Fault::DbDown);
    f.add(Fault::HostClock(HostClockFault {
        process: None,
        skew_ms: 3500.0,
        drift_ppm: 12.0,
        jitter_ms: None,
    }));
    SuiteCase {
        name: "clock-db-down: the DB down for process 2's whole life; hosts +3.5 s, +12 ppm",
        params: Params::new(21),
        faults: f,
    }
}

/// What one drawn process's clock was, for the case's name.
struct Drawn {
    skew_ms: f64,
    drift: f64,
    jitter_ms: f64,
    steps: Vec<(f64, f64)>,
}

/// `n` scenarios whose clocks are drawn with the crate's RNG from `seed` (case k is the same
/// whatever `n`), then the fixed [`db_down_case`]. Each: 1–2 h at the default rate, two
/// processes (a clean restart halfway), each host off by −10 … +10 s, drifting
/// −50 … +50 ppm, its lines 0 … 3 ms behind their rows, with no NTP step (30 %), one
/// (45 %) or two (25 %, at least 3 min apart) of 0.5 … 5 s either way, never in the first or
/// last 2 minutes of its file; the DB clock exact (35 %) or up to ±2 s off drifting up to
/// ±20 ppm; 2–5 % of the event lines and about 1 % of the flushes lost. Names say what was
/// drawn, e.g. `clock-3 (1.4 h): p1 skew +7.2 s, -31.0 ppm, jitter 1.2 ms, steps
/// -2.1 s@0.40; p2 …; db exact; lost 3.1 % lines, 10 batches`.
pub fn clock_suite(seed: u64, n: usize) -> Vec<SuiteCase> {
    let base = Rng::new(seed).fork(0xC10C);
    let mut out = Vec::with_capacity(n + 1);
    for k in 0..n {
        let mut rng = base.fork(k as u64);
        let mut p = Params::new(rng.range(1, 1 << 40) as u64);
        let minutes = rng.range(60, 120);
        p.duration = chrono::Duration::minutes(minutes);
        // The layout without faults gives each process's life.
        let lives: Vec<i64> = Scenario::plan(&p, &Faults::default())
            .map(|s| {
                s.processes
                    .iter()
                    .map(|pr| (pr.end - pr.start).num_microseconds().unwrap_or(1))
                    .collect()
            })
            .unwrap_or_default();
        let mut f = Faults::default();
        let mut drawn = Vec::new();
        for (i, &life) in lives.iter().enumerate() {
            let d = Drawn {
                skew_ms: (rng.uniform(-10_000.0, 10_000.0) * 1e3).round() / 1e3,
                drift: (rng.uniform(-50.0, 50.0) * 100.0).round() / 100.0,
                jitter_ms: (rng.uniform(0.0, 3.0) * 1e3).round() / 1e3,
                steps: draw_steps(&mut rng, life),
            };
            f.add(Fault::HostClock(HostClockFault {
                process: Some(i + 1),
                skew_ms: d.skew_ms,
                drift_ppm: d.drift,
                jitter_ms: Some(d.jitter_ms),
            }));
            for &(ms, at) in &d.steps {
                f.add(Fault::NtpStep(NtpStep {
                    process: Some(i + 1),
                    ms,
                    at: Some(at),
                }));
            }
            drawn.push(d);
        }
        let db = (!rng.chance(0.35)).then(|| DbClockFault {
            skew_ms: (rng.uniform(-2000.0, 2000.0) * 1e3).round() / 1e3,
            drift_ppm: (rng.uniform(-20.0, 20.0) * 100.0).round() / 100.0,
        });
        if let Some(d) = db {
            f.add(Fault::DbClock(d));
        }
        // About 56 event lines a minute at the default rate; a flush every 5 s.
        let pct = (rng.uniform(2.0, 5.0) * 10.0).round() / 10.0;
        let lost = (pct / 100.0 * 56.0 * minutes as f64).round() as usize;
        let batches = ((minutes * 12) as f64 / 100.0).round().max(1.0) as usize;
        f.add(Fault::LostLogLines(lost));
        f.add(Fault::LostDbBatch(batches));

        let mut name = format!("clock-{k} ({:.1} h):", minutes as f64 / 60.0);
        for (i, d) in drawn.iter().enumerate() {
            let steps = if d.steps.is_empty() {
                "no steps".to_string()
            } else {
                let s: Vec<String> = d
                    .steps
                    .iter()
                    .map(|(ms, at)| format!("{} s@{at:.2}", signed(ms / 1000.0)))
                    .collect();
                format!("steps {}", s.join(" "))
            };
            name += &format!(
                "{} p{} skew {} s, {} ppm, jitter {:.1} ms, {steps}",
                if i == 0 { "" } else { ";" },
                i + 1,
                signed(d.skew_ms / 1000.0),
                signed(d.drift),
                d.jitter_ms,
            );
        }
        match db {
            Some(d) => {
                name += &format!(
                    "; db {} s, {} ppm",
                    signed(d.skew_ms / 1000.0),
                    signed(d.drift_ppm)
                )
            }
            None => name += "; db exact",
        }
        name += &format!("; lost {pct:.1} % lines, {batches} batches");
        out.push(SuiteCase {
            // SuiteCase names are `&'static str` (the accuracy suite keeps them); a drawn
            // name lives as long as the program, a few hundred bytes a case.
            name: Box::leak(name.into_boxed_str()),
            params: p,
            faults: f,
        });
    }
    out.push(db_down_case());
    out
}

/// 0, 1 or 2 NTP steps (ms, fraction of the life) of 0.5 … 5 s either way, never in the
/// first or last 2 minutes (one more second of margin for the fraction's rounding), two
/// at least 3 minutes apart.
fn draw_steps(rng: &mut Rng, life_us: i64) -> Vec<(f64, f64)> {
    let count = rng.weighted(&[30, 45, 25]);
    let life = life_us.max(1) as f64;
    let lo = 121e6 / life;
    let hi = 1.0 - 121e6 / life;
    let mut at: Vec<f64> = Vec::new();
    for _ in 0..count {
        for _ in 0..100 {
            let f = (rng.uniform(lo, hi) * 1e4).round() / 1e4;
            if f > lo && f < hi && at.iter().all(|g| (f - g).abs() * life >= 180e6) {
                at.push(f);
                break;
            }
        }
    }
    at.sort_by(f64::total_cmp);
    at.into_iter()
        .map(|f| {
            let size = rng.uniform(500.0, 5000.0).round();
            let ms = if rng.chance(0.5) { -size } else { size };
            (ms, f)
        })
        .collect()
}
