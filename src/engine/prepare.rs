//! A loaded source set made into the aligned timeline the checks read, with what they need
//! around it (clock decisions, coverage, the twin tolerance).

use anyhow::Context;

use crate::checks::matching::{self, Matching};
use crate::load::Loaded;
use crate::rows::Coverage;
use crate::timeline::{Timeline, View};

/// A loaded, aligned timeline and what the checks need around it.
pub struct Prepared {
    pub loaded_meta: Meta,
    pub timeline: Timeline,
}

/// The parts of [`Loaded`] that outlive the timeline build.
pub struct Meta {
    pub decisions: Vec<crate::load::ClockDecision>,
    pub display: crate::time::Zoned,
    pub epoch: Option<crate::clock::skew::EpochCheck>,
    pub filter: crate::timeline::Filter,
    pub coverage: Vec<Coverage>,
    pub db_span: Option<(i64, i64)>,
    /// Expected `log − created_at` of a twin (µs) and the accepted distance from it.
    pub lag_us: i64,
    pub tolerance_us: i64,
}

/// The twin tolerance: the user's, or ten measured spreads around the measured lag, at least
/// 100 ms (a loaded interpreter can delay a log line that long).
pub fn tolerance(decisions: &[crate::load::ClockDecision], given_ms: Option<u64>) -> (i64, i64) {
    let ests: Vec<&crate::clock::skew::Estimate> = decisions
        .iter()
        .filter_map(|d| d.estimate.as_ref())
        .filter(|e| e.anchors > 0)
        .collect();
    let mut lags: Vec<f64> = ests.iter().map(|e| e.lag_median_ms).collect();
    lags.sort_by(f64::total_cmp);
    let lag_ms = lags.get(lags.len() / 2).copied().unwrap_or(0.0);
    let spread_ms = ests.iter().map(|e| e.spread_ms).fold(0.0, f64::max);
    let tol_ms = match given_ms {
        Some(t) => t as f64,
        None => (lag_ms.abs() + 10.0 * spread_ms).max(100.0),
    };
    ((lag_ms * 1000.0) as i64, (tol_ms * 1000.0) as i64)
}

/// Builds the aligned timeline of `loaded` (consuming it).
pub fn prepare(loaded: Loaded, tolerance_ms: Option<u64>) -> anyhow::Result<Prepared> {
    let (lag_us, tolerance_us) = tolerance(&loaded.decisions, tolerance_ms);
    let meta = Meta {
        coverage: loaded.coverage(),
        db_span: loaded.db_span(),
        decisions: loaded.decisions.clone(),
        display: loaded.display.clone(),
        epoch: loaded.epoch.clone(),
        filter: loaded.filter.clone(),
        lag_us,
        tolerance_us,
    };
    let clocks = loaded.log_clocks();
    let timeline = Timeline::build(loaded.events, loaded.logs, &clocks, &loaded.scope)
        .context("cannot build the timeline frame")?;
    Ok(Prepared {
        loaded_meta: meta,
        timeline,
    })
}

/// Matches twins over a timeline.
pub fn match_twins(t: &Timeline, meta: &Meta) -> anyhow::Result<Matching> {
    let _t = crate::timing::phase("checks: match twins");
    let v = View::new(t).context("timeline frame has an unexpected shape")?;
    Ok(matching::match_twins(&v, meta.tolerance_us, meta.lag_us))
}
