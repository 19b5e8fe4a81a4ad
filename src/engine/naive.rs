//! The naive reading's `missing-logs` counts: log times read as if written in the display
//! zone (what comparing psql output with a log file by eye does), beside the aligned ones.

use anyhow::Context;

use super::prepare::{Meta, tolerance};
use crate::checks::matching;
use crate::load::Loaded;
use crate::rows::{Coverage, Kind};
use crate::timeline::{Timeline, View};

/// `missing-logs` counts of the naive reading (log times read in the display zone: what
/// comparing psql output with a log file by eye does), over the same rows. Call it before
/// [`prepare`] consumes `loaded`: its frame is dropped before the aligned one is built, so a
/// day's peak memory holds one timeline, not two.
fn naive_summary(
    loaded: &Loaded,
    tolerance_ms: Option<u64>,
    grace_us: i64,
    direction: crate::checks::missing::Direction,
) -> anyhow::Result<crate::checks::missing::Summary> {
    let _t = crate::timing::phase("checks: naive counts");
    let clocks = loaded.unaligned_clocks();
    // Coverage from every row (lock lines cut a file spanning restarts), placed with the naive
    // clocks; only event lines take part in these counts, so only they are copied.
    let coverage = loaded.coverage_under(&clocks);
    let logs = loaded.unaligned_logs(|k| matches!(k, Kind::Event | Kind::MalformedEvent));
    let naive_t = Timeline::build(loaded.events.clone(), logs, &clocks, &loaded.scope)
        .context("cannot build the naive timeline frame")?;
    let (lag_us, tolerance_us) = tolerance(&loaded.decisions, tolerance_ms);
    missing_counts(
        &naive_t,
        tolerance_us,
        lag_us,
        &crate::checks::missing::Params {
            window: loaded.filter.window,
            direction,
            logs: coverage,
            db_span: loaded.db_span(),
            db_live: false,
            grace_us,
            unjudged: Vec::new(),
            levels: crate::load::levels::thresholds(&loaded.logs),
        },
    )
}

/// The `missing-logs` counts of a timeline (twins matched first).
fn missing_counts(
    t: &Timeline,
    tolerance_us: i64,
    lag_us: i64,
    params: &crate::checks::missing::Params,
) -> anyhow::Result<crate::checks::missing::Summary> {
    let v = View::new(t).context("timeline frame has an unexpected shape")?;
    let m = matching::match_twins(&v, tolerance_us, lag_us);
    Ok(crate::checks::missing::summary(&v, &m, params))
}

/// The same counts as [`naive_summary`], derived from the aligned timeline when nothing was
/// filtered out by time (no window): log rows placed again in the display zone and the frame
/// reordered by a gather (its strings are shared, not copied), so a whole day does not hold a
/// second copy of its rows. `coverage` is [`crate::load::coverage_of`] under the naive clocks.
fn naive_summary_from_aligned(
    t: &Timeline,
    naive: &NaiveInputs,
    tolerance_us: i64,
    lag_us: i64,
    params: crate::checks::missing::Params,
) -> anyhow::Result<crate::checks::missing::Summary> {
    use polars::prelude::{IdxCa, IdxSize, NamedFrom, Series};
    let _t = crate::timing::phase("checks: naive counts");
    let v = View::new(t).context("timeline frame has an unexpected shape")?;
    let clock = crate::clock::SourceClock::new(naive.zone, crate::time::Provenance::Unaligned);
    // The order Timeline::build gives: UTC, then the DB before the files (in their order),
    // then id or line.
    let mut keys: Vec<(i64, usize, i64, u32, u32)> = Vec::with_capacity(v.len());
    for i in 0..v.len() {
        let ts = v.ts_utc.get(i).unwrap_or(0);
        let line = v.line.get(i).unwrap_or(0);
        let (t_new, src) = if v.s("source", i) == Some("log") {
            let off = v
                .s("utc_offset", i)
                .and_then(crate::time::parse_offset_us)
                .unwrap_or(0);
            let file = v.s("file", i).unwrap_or_default();
            let k = naive.files.iter().position(|f| f == file).unwrap_or(0);
            (clock.utc(ts + off, line), 1 + k)
        } else {
            (ts, 0)
        };
        let id = v.event_id.get(i).unwrap_or(0);
        keys.push((t_new, src, id, line, i as u32));
    }
    keys.sort_unstable();
    drop(v);
    let idx = IdxCa::from_vec("idx".into(), keys.iter().map(|k| k.4 as IdxSize).collect());
    let mut frame = t.frame.take(&idx)?;
    let dtype = frame.column("ts_utc")?.dtype().clone();
    let ts = Series::new(
        "ts_utc".into(),
        keys.iter().map(|k| k.0).collect::<Vec<i64>>(),
    )
    .cast(&dtype)?;
    frame.replace("ts_utc", ts.into())?;
    drop(keys);
    let naive_t = Timeline {
        frame,
        clocks: t.clocks.clone(),
        sources: t.sources.clone(),
    };
    missing_counts(
        &naive_t,
        tolerance_us,
        lag_us,
        &crate::checks::missing::Params {
            logs: naive.coverage.clone(),
            ..params
        },
    )
}

/// Where a command's naive counts come from: computed already (a window: their own frame,
/// built before the aligned one), or to be derived from the aligned frame afterwards.
pub enum NaivePlan {
    Done(crate::checks::missing::Summary),
    FromAligned(NaiveInputs),
}

impl NaivePlan {
    /// Call before [`prepare`] consumes `loaded`.
    pub fn new(
        loaded: &Loaded,
        tolerance_ms: Option<u64>,
        grace_us: i64,
        direction: crate::checks::missing::Direction,
    ) -> anyhow::Result<NaivePlan> {
        Ok(match NaiveInputs::of(loaded) {
            Some(inputs) => NaivePlan::FromAligned(inputs),
            None => NaivePlan::Done(naive_summary(loaded, tolerance_ms, grace_us, direction)?),
        })
    }

    /// The counts; `params` are the aligned run's (its coverage is replaced by the naive one).
    pub fn finish(
        self,
        t: &Timeline,
        meta: &Meta,
        params: crate::checks::missing::Params,
    ) -> anyhow::Result<crate::checks::missing::Summary> {
        match self {
            NaivePlan::Done(s) => Ok(s),
            NaivePlan::FromAligned(inputs) => {
                naive_summary_from_aligned(t, &inputs, meta.tolerance_us, meta.lag_us, params)
            }
        }
    }
}

/// What the naive counts need of [`Loaded`] before it is consumed.
pub struct NaiveInputs {
    pub zone: crate::time::Zone,
    /// Log file names, in the order the timeline was built from.
    pub files: Vec<String>,
    pub coverage: Vec<Coverage>,
}

impl NaiveInputs {
    /// `None` when a window filtered the rows: then the naive reading can select rows the
    /// aligned one left out, and [`naive_summary`] builds its own frame.
    pub fn of(loaded: &Loaded) -> Option<NaiveInputs> {
        if loaded.scope.window.is_some() {
            return None;
        }
        let clock =
            crate::clock::SourceClock::new(loaded.display.zone, crate::time::Provenance::Unaligned);
        let clocks = vec![clock; loaded.logs.len()];
        Some(NaiveInputs {
            zone: loaded.display.zone,
            files: loaded.logs.iter().map(|l| l.info.name.clone()).collect(),
            coverage: loaded.coverage_under(&clocks),
        })
    }
}
