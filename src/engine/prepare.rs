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
    /// What each log file whose clock is settled covers (a file on a guessed clock vouches for
    /// nothing).
    pub coverage: Vec<Coverage>,
    /// First and last created_at of the DB source.
    pub db_span: Option<(i64, i64)>,
    /// What the DB answers for: its span, to the time of the query for a live database.
    pub db_cover: Option<(i64, i64)>,
    pub db_live: bool,
    /// Log files whose clock is not settled: not judged.
    pub unjudged: Vec<String>,
    /// When each of them can have been written, whatever its clock: its naive first and last
    /// record, ± 14 h (every real offset) and a minute.
    pub unjudged_spans: Vec<(String, i64, i64)>,
    /// Which files are copies of which, and where they disagree.
    pub copies: crate::load::Copies,
    /// Each file's logging level and how it was decided.
    pub levels: Vec<(String, crate::load::levels::Level, String)>,
    /// Expected `log − created_at` of a twin (µs) and the accepted distance from it.
    pub lag_us: i64,
    pub tolerance_us: i64,
}

/// The twin tolerance: the user's, or ten measured residual spreads of the clocks applied, at
/// least 100 ms (a loaded interpreter can delay a log line that long). The clocks carry each
/// file's skew and drift, so a twin's expected `log − created_at` after alignment is zero.
pub fn tolerance(decisions: &[crate::load::ClockDecision], given_ms: Option<u64>) -> (i64, i64) {
    let spread_ms = decisions
        .iter()
        .filter(|d| {
            !d.clock.is_zone_only()
                || matches!(d.clock.provenance, crate::time::Provenance::Detected { .. })
        })
        .filter_map(|d| d.estimate.as_ref())
        .filter(|e| e.anchors > 0)
        .map(|e| e.spread_ms)
        .fold(0.0, f64::max);
    let tol_ms = match given_ms {
        Some(t) => t as f64,
        None => (10.0 * spread_ms).max(100.0),
    };
    (0, (tol_ms * 1000.0) as i64)
}

/// Builds the aligned timeline of `loaded` (consuming it).
pub fn prepare(mut loaded: Loaded, tolerance_ms: Option<u64>) -> anyhow::Result<Prepared> {
    let (lag_us, tolerance_us) = tolerance(&loaded.decisions, tolerance_ms);
    let unjudged: Vec<String> = loaded
        .decisions
        .iter()
        .filter(|d| d.unsettled())
        .map(|d| d.file.clone())
        .collect();
    const PAD: i64 = 14 * 3600 * 1_000_000 + 60_000_000;
    let unjudged_spans: Vec<(String, i64, i64)> = loaded
        .logs
        .iter()
        .filter(|l| unjudged.contains(&l.info.name))
        .filter_map(|l| Some((l.info.name.clone(), l.first_ts? - PAD, l.last_ts? + PAD)))
        .collect();
    let live_until = loaded.events.as_ref().and_then(|e| e.info.live_until);
    let db_span = loaded.db_span();
    let mut coverage = loaded.coverage();
    coverage.retain(|c| !unjudged.contains(&c.file));
    let meta = Meta {
        coverage,
        db_span,
        db_cover: db_span.map(|(a, b)| (a, live_until.map_or(b, |n| n.max(b)))),
        db_live: live_until.is_some(),
        unjudged,
        unjudged_spans,
        decisions: loaded.decisions.clone(),
        display: loaded.display.clone(),
        epoch: loaded.epoch.clone(),
        filter: loaded.filter.clone(),
        copies: std::mem::take(&mut loaded.copies),
        levels: crate::load::levels::thresholds(&loaded.logs),
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
