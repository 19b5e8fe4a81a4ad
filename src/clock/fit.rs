//! Robust fitting of a log file's offset against the DB's clock, from noisy candidates.
//!
//! Every log event line that has DB rows of the same type and payload gives one candidate
//! offset per row (`naive log time − created_at`); the true one is among them, chance matches
//! (a payload repeated an hour later) are not. Nothing assumes the offset is near a whole zone:
//!
//! 1. **Levels.** The lines are cut into chunks of [`CHUNK`] lines (fewer in a file with few
//!    twins); each chunk's level is the
//!    densest window of its candidates (20 ms wide, plus what a drift of 100 ppm can add over
//!    the chunk), so chance matches spread over seconds are outvoted.
//! 2. **Steps.** Consecutive levels further apart than a drift can explain (100 ms plus
//!    100 ppm of the time between them) start a new segment, unless one weak chunk alone
//!    deviates and the next returns (a chunk of chance matches). Where exactly a segment ends is
//!    decided line by line: each line near the boundary goes with the level its candidates sit
//!    on.
//! 3. **Lines.** Each segment is fitted with a Theil–Sen line (the median of the slopes between
//!    equal-count bins of its anchors, the median intercept), then the anchors are taken again
//!    within eight residual deviations (at least 5 ms) of that line and fitted once more. The
//!    residual spread (median absolute deviation) is what the twin tolerance is made of.

/// One log line with candidates: its naive time and the offsets its DB candidates give (µs).
#[derive(Debug, Clone)]
pub struct Obs {
    pub line: u32,
    pub local: i64,
    /// `naive − created_at` (less a given zone's offset), one per candidate row.
    pub deltas: Vec<i64>,
}

/// One fitted segment: offset(t) = `offset_us` + `drift_ppm`·1e-6·(t − `t0_local`).
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted {
    /// The first and last line of its anchors (where a step lands between two segments is
    /// refined by the caller, who has every row of the file).
    pub first_line: u32,
    pub last_line: u32,
    /// Naive times of its first and last anchor.
    pub t0_local: i64,
    pub t1_local: i64,
    pub offset_us: f64,
    pub drift_ppm: f64,
    /// Lines whose candidate sits on the line (within the inlier tolerance).
    pub anchors: usize,
    /// Median absolute deviation of the anchors' residuals, µs.
    pub spread_us: f64,
}

impl Fitted {
    /// The offset at a naive time, µs.
    pub fn at(&self, local: i64) -> f64 {
        self.offset_us + self.drift_ppm * 1e-6 * (local - self.t0_local) as f64
    }
}

/// Lines per chunk of the level search, at most: a step is seen between two chunks, so a file
/// with few twins gets smaller chunks (at least [`MIN_CHUNK`]).
pub const CHUNK: usize = 16;
const MIN_CHUNK: usize = 4;
/// A level window's width before the drift allowance, µs.
const LEVEL_WINDOW_US: i64 = 20_000;
/// The largest drift the step test tolerates between two levels (ppm).
const MAX_DRIFT_PPM: f64 = 100.0;
/// Two levels further apart than this (plus the drift allowance) are a step, µs.
const STEP_US: f64 = 100_000.0;
/// A line goes with a level when one of its candidates is this close to it, µs.
const NEAR_LEVEL_US: f64 = 50_000.0;
/// Bins of the Theil–Sen fit.
const BINS: usize = 48;

/// One chunk's level.
#[derive(Debug, Clone, Copy)]
struct Level {
    /// Index range into the observations.
    first: usize,
    last: usize,
    /// Median naive time of the chunk.
    t: i64,
    level: f64,
    support: usize,
    /// Enough of the chunk's lines agree on it to trust it.
    valid: bool,
}

fn median_i64(v: &mut [i64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_unstable();
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2] as f64
    } else {
        (v[n / 2 - 1] as f64 + v[n / 2] as f64) / 2.0
    }
}

fn median_f64(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn levels(obs: &[Obs]) -> Vec<Level> {
    // Equal chunks of at least CHUNK lines (all of them when there are fewer): a short tail of
    // one or two lines would make a level of whatever its candidates say.
    let size = (obs.len() / 8).clamp(MIN_CHUNK, CHUNK);
    let chunks = (obs.len() / size).max(1);
    let mut out = Vec::with_capacity(chunks);
    for k in 0..chunks {
        let (first, end) = (k * obs.len() / chunks, (k + 1) * obs.len() / chunks);
        if end <= first {
            continue;
        }
        let last = end - 1;
        let chunk = &obs[first..=last];
        let span = chunk[chunk.len() - 1].local - chunk[0].local;
        let w = LEVEL_WINDOW_US + (span.max(0) as f64 * MAX_DRIFT_PPM * 1e-6) as i64;
        let mut c: Vec<i64> = chunk
            .iter()
            .flat_map(|o| o.deltas.iter().copied())
            .collect();
        c.sort_unstable();
        let (mut best, mut at) = (0usize, 0usize);
        let mut j = 0;
        for i in 0..c.len() {
            while j < c.len() && c[j] - c[i] <= w {
                j += 1;
            }
            if j - i > best {
                (best, at) = (j - i, i);
            }
        }
        let level = median_i64(&mut c[at..at + best].to_vec());
        let mut ts: Vec<i64> = chunk.iter().map(|o| o.local).collect();
        let t = median_i64(&mut ts) as i64;
        out.push(Level {
            first,
            last,
            t,
            level,
            support: best,
            valid: best >= 3.min(chunk.len()) && best * 10 >= chunk.len() * 4,
        });
    }
    out
}

fn allowance(a: &Level, b: &Level) -> f64 {
    STEP_US + MAX_DRIFT_PPM * 1e-6 * (b.t - a.t).unsigned_abs() as f64
}

/// The valid levels grouped into segments of one continuous offset.
fn segments(levels: &[Level]) -> Vec<Vec<usize>> {
    let valid: Vec<usize> = (0..levels.len()).filter(|&k| levels[k].valid).collect();
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut k = 0;
    while k < valid.len() {
        let cur = valid[k];
        let Some(seg) = out.last_mut() else {
            out.push(vec![cur]);
            k += 1;
            continue;
        };
        let prev = &levels[*seg.last().unwrap_or(&cur)];
        let here = &levels[cur];
        if (here.level - prev.level).abs() <= allowance(prev, here) {
            seg.push(cur);
            k += 1;
            continue;
        }
        // One weak chunk off the line whose next returns to it: chance matches, not a step.
        if let Some(&next) = valid.get(k + 1) {
            let n = &levels[next];
            let back = (n.level - prev.level).abs() <= allowance(prev, n);
            if back && here.support < 8 {
                k += 1;
                continue;
            }
        }
        out.push(vec![cur]);
        k += 1;
    }
    out
}

/// The candidate of `o` nearest `target`, and its distance.
fn nearest(o: &Obs, target: f64) -> Option<(i64, f64)> {
    o.deltas
        .iter()
        .map(|&d| (d, (d as f64 - target).abs()))
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

/// Theil–Sen over equal-count bins of `pts` (naive time, offset), slope per µs of naive time;
/// the intercept at `t0`.
fn theil_sen(pts: &[(i64, f64)], t0: i64) -> (f64, f64) {
    let n = pts.len();
    if n == 0 {
        return (0.0, 0.0);
    }
    let bins = n.min(BINS);
    let mut centres: Vec<(f64, f64)> = Vec::with_capacity(bins);
    for b in 0..bins {
        let (lo, hi) = (b * n / bins, ((b + 1) * n / bins).max(b * n / bins + 1));
        let slice = &pts[lo..hi.min(n)];
        let mut ts: Vec<f64> = slice.iter().map(|p| (p.0 - t0) as f64).collect();
        let mut ys: Vec<f64> = slice.iter().map(|p| p.1).collect();
        centres.push((median_f64(&mut ts), median_f64(&mut ys)));
    }
    let mut slopes: Vec<f64> = Vec::new();
    for i in 0..centres.len() {
        for j in i + 1..centres.len() {
            let dt = centres[j].0 - centres[i].0;
            if dt > 0.0 {
                slopes.push((centres[j].1 - centres[i].1) / dt);
            }
        }
    }
    let slope = median_f64(&mut slopes);
    let mut icpt: Vec<f64> = pts
        .iter()
        .map(|p| p.1 - slope * (p.0 - t0) as f64)
        .collect();
    (slope, median_f64(&mut icpt))
}

/// Fits one segment from the observations `obs[range]`, starting from `guess` (offset at a
/// naive time, from the levels).
fn fit_segment(obs: &[Obs], guess: &dyn Fn(i64) -> f64) -> Option<Fitted> {
    let pick = |f: &dyn Fn(i64) -> f64, tol: f64| -> Vec<(i64, f64, u32)> {
        obs.iter()
            .filter_map(|o| {
                let (d, dist) = nearest(o, f(o.local))?;
                (dist <= tol).then_some((o.local, d as f64, o.line))
            })
            .collect()
    };
    let first = pick(guess, NEAR_LEVEL_US);
    if first.is_empty() {
        return None;
    }
    let t0 = first[0].0;
    let pts: Vec<(i64, f64)> = first.iter().map(|p| (p.0, p.1)).collect();
    let (slope, icpt) = theil_sen(&pts, t0);
    let line = |t: i64| icpt + slope * (t - t0) as f64;
    let mut dev: Vec<f64> = pts.iter().map(|p| (p.1 - line(p.0)).abs()).collect();
    let mad = median_f64(&mut dev);
    let tol = (8.0 * mad).max(5_000.0);
    let kept = pick(&line, tol);
    if kept.is_empty() {
        return None;
    }
    let t0 = kept[0].0;
    let pts: Vec<(i64, f64)> = kept.iter().map(|p| (p.0, p.1)).collect();
    let (slope, icpt) = theil_sen(&pts, t0);
    let mut dev: Vec<f64> = pts
        .iter()
        .map(|p| (p.1 - icpt - slope * (p.0 - t0) as f64).abs())
        .collect();
    Some(Fitted {
        first_line: kept[0].2,
        last_line: kept[kept.len() - 1].2,
        t0_local: t0,
        t1_local: kept[kept.len() - 1].0,
        offset_us: icpt,
        drift_ppm: slope * 1e6,
        anchors: kept.len(),
        spread_us: median_f64(&mut dev),
    })
}

/// Fits `obs` (in line order): one [`Fitted`] per stretch of continuous offset.
pub fn fit(obs: &[Obs]) -> Vec<Fitted> {
    let lv = levels(obs);
    let segs = segments(&lv);
    if segs.is_empty() {
        return Vec::new();
    }
    // Each segment's observations: from its first level to its last, the boundary between two
    // segments decided line by line.
    let mut bounds: Vec<(usize, usize)> = segs
        .iter()
        .map(|s| (lv[s[0]].first, lv[*s.last().unwrap_or(&s[0])].last))
        .collect();
    bounds[0].0 = 0;
    let last = bounds.len() - 1;
    bounds[last].1 = obs.len() - 1;
    for k in 0..last {
        let a = &lv[*segs[k].last().unwrap_or(&segs[k][0])];
        let b = &lv[segs[k + 1][0]];
        let (lo, hi) = (a.first, b.last);
        let side = |o: &Obs| -> Option<bool> {
            let da = nearest(o, a.level)?.1;
            let db = nearest(o, b.level)?.1;
            match (
                da <= NEAR_LEVEL_US && da < db,
                db <= NEAR_LEVEL_US && db < da,
            ) {
                (true, _) => Some(false),
                (_, true) => Some(true),
                _ => None,
            }
        };
        let sides: Vec<Option<bool>> = obs[lo..=hi].iter().map(side).collect();
        // The split that leaves the most lines with their own level.
        let mut score: i64 = sides.iter().filter(|s| **s == Some(true)).count() as i64;
        let (mut best, mut split) = (score, 0usize);
        for (i, s) in sides.iter().enumerate() {
            match s {
                Some(false) => score += 1,
                Some(true) => score -= 1,
                None => {}
            }
            if score > best {
                (best, split) = (score, i + 1);
            }
        }
        let at = lo + split;
        bounds[k].1 = at.saturating_sub(1).max(bounds[k].0);
        bounds[k + 1].0 = at.min(bounds[k + 1].1);
    }
    let mut out = Vec::new();
    for (k, &(from, to)) in bounds.iter().enumerate() {
        if to < from {
            continue;
        }
        let mine: Vec<Level> = segs[k].iter().map(|&i| lv[i]).collect();
        // The levels' path, held flat before the first and after the last.
        let guess = move |t: i64| -> f64 {
            let k = mine.partition_point(|l| l.t <= t);
            match (k.checked_sub(1).map(|i| mine[i]), mine.get(k)) {
                (Some(a), Some(b)) if b.t > a.t => {
                    a.level + (b.level - a.level) * (t - a.t) as f64 / (b.t - a.t) as f64
                }
                (Some(a), _) => a.level,
                (None, Some(b)) => b.level,
                (None, None) => 0.0,
            }
        };
        if let Some(f) = fit_segment(&obs[from..=to], &guess) {
            out.push(f);
        }
    }
    // Two neighbours that fit the same line (a boundary the levels drew in noise) are one.
    out.dedup_by(|b, a| {
        let jump = (b.at(b.t0_local) - a.at(b.t0_local)).abs();
        if jump <= STEP_US {
            a.last_line = b.last_line;
            a.t1_local = b.t1_local;
            a.anchors += b.anchors;
            a.spread_us = a.spread_us.max(b.spread_us);
            true
        } else {
            false
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line a second, offset `off(t)`, ±`jitter` µs of deterministic noise, and a chance
    /// candidate on every fifth line.
    fn obs(n: usize, off: &dyn Fn(i64) -> i64, jitter: i64) -> Vec<Obs> {
        (0..n)
            .map(|i| {
                let local = 1_760_000_000_000_000 + i as i64 * 1_000_000;
                let noise = ((i as i64 * 7919) % (2 * jitter + 1)) - jitter;
                let mut deltas = vec![off(local) + noise];
                if i % 5 == 0 {
                    deltas.push(off(local) + 3_600_000_000 + (i as i64 * 104_729) % 90_000_000);
                }
                Obs {
                    line: i as u32 + 1,
                    local,
                    deltas,
                }
            })
            .collect()
    }

    #[test]
    fn a_skewed_drifting_clock_is_one_line_to_the_microsecond() {
        let t0 = 1_760_000_000_000_000i64;
        // +4 h, +7.25 s, 40 ppm.
        let off = |t: i64| 4 * 3_600_000_000 + 7_250_000 + ((t - t0) as f64 * 40e-6) as i64;
        let f = fit(&obs(3600, &off, 1500));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!((f[0].drift_ppm - 40.0).abs() < 0.5, "{}", f[0].drift_ppm);
        for t in [t0, t0 + 1_800_000_000, t0 + 3_599_000_000] {
            assert!(
                (f[0].at(t) - off(t) as f64).abs() < 500.0,
                "at {t}: {}",
                f[0].at(t) - off(t) as f64
            );
        }
        assert!(f[0].anchors >= 3590, "{}", f[0].anchors);
        assert!(f[0].spread_us < 1000.0, "{}", f[0].spread_us);
    }

    #[test]
    fn steps_of_either_sign_split_the_file_where_they_happen() {
        let t0 = 1_760_000_000_000_000i64;
        let step1 = t0 + 1_000_000_000; // line 1001
        let step2 = t0 + 2_500_000_000; // line 2501
        let off = move |t: i64| {
            let mut o = -3 * 3_600_000_000 - 4_000_000;
            if t >= step1 {
                o -= 700_000;
            }
            if t >= step2 {
                o += 3_200_000;
            }
            o
        };
        let f = fit(&obs(3600, &off, 800));
        assert_eq!(f.len(), 3, "{f:#?}");
        assert_eq!((f[0].last_line, f[1].first_line), (1000, 1001));
        assert_eq!((f[1].last_line, f[2].first_line), (2500, 2501));
        assert!((f[1].offset_us - off(step1) as f64).abs() < 500.0);
        assert!((f[2].offset_us - off(step2) as f64).abs() < 500.0);
    }

    #[test]
    fn chance_matches_alone_give_no_line() {
        // Every candidate is a chance match, seconds to hours apart: nothing agrees.
        let o: Vec<Obs> = (0..200)
            .map(|i| Obs {
                line: i + 1,
                local: 1_760_000_000_000_000 + i64::from(i) * 1_000_000,
                deltas: vec![i64::from(i) * 7_777_777 % 3_600_000_000],
            })
            .collect();
        assert!(fit(&o).is_empty(), "{:#?}", fit(&o));
    }
}
