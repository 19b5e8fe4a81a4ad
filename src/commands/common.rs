//! What every check command does first: load the sources (with a margin around the window),
//! decide and apply the clocks, build the timeline, and derive the matching tolerance from
//! the measured spread.

use std::io::Write;

use anyhow::Context;

use crate::checks::matching::{self, Matching};
use crate::cli::CheckOpts;
use crate::config::Config;
use crate::load::Loaded;
use crate::rows::Coverage;
use crate::rows::Kind;
use crate::timeline::{ClockEntry, Timeline, View};

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

/// Loads and aligns. `margin_us` widens what is loaded around the window.
pub fn load(opts: &CheckOpts, config: &Config, margin_us: i64) -> anyhow::Result<Loaded> {
    let plan = crate::settings::sources(&opts.sources, &opts.clock, config)?;
    Ok(crate::load::load(
        &plan,
        &opts.filter.spec(),
        opts.clock.no_align,
        margin_us,
        crate::load::Need::Structured,
    )?)
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
    let coverage = crate::load::coverage_of(&loaded.logs, &clocks);
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
            grace_us,
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
                .and_then(crate::time::parse_offset)
                .map_or(0, |o| i64::from(o.local_minus_utc()) * 1_000_000);
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
            coverage: crate::load::coverage_of(&loaded.logs, &clocks),
        })
    }
}

/// Matches twins over a timeline.
pub fn match_twins(t: &Timeline, meta: &Meta) -> anyhow::Result<Matching> {
    let _t = crate::timing::phase("checks: match twins");
    let v = View::new(t).context("timeline frame has an unexpected shape")?;
    Ok(matching::match_twins(&v, meta.tolerance_us, meta.lag_us))
}

/// One line saying which offsets were applied and why.
pub fn banner(clocks: &[ClockEntry]) -> String {
    let parts: Vec<String> = clocks
        .iter()
        .map(|c| {
            let off = if c.offsets.is_empty() {
                c.zone.clone()
            } else {
                c.offsets.join("→")
            };
            let what = match c.role.as_str() {
                "display" => "db shown in".to_string(),
                "storage" => "db created_at (naive) in".to_string(),
                _ => c.source.clone(),
            };
            let how = match &c.provenance {
                crate::time::Provenance::Detected {
                    anchors, spread_ms, ..
                } => format!("detected, {anchors} twins, ±{spread_ms:.1} ms"),
                crate::time::Provenance::Given { by } => format!("given by {by}"),
                crate::time::Provenance::Server { setting, .. } => {
                    format!("server TimeZone {setting}")
                }
                crate::time::Provenance::Snapshot => "snapshot offset".into(),
                crate::time::Provenance::Absolute => "absolute".into(),
                crate::time::Provenance::Assumed { .. } => "ASSUMED".into(),
                crate::time::Provenance::Unaligned => "NOT ALIGNED".into(),
            };
            format!("{what} {off} ({how})")
        })
        .collect();
    format!("clocks: {}", parts.join(" · "))
}

/// Prints the banner on stderr unless quiet.
pub fn print_banner(
    t: &Timeline,
    decisions: &[crate::load::ClockDecision],
    quiet: bool,
    err: &mut dyn Write,
) -> std::io::Result<()> {
    if !quiet {
        writeln!(err, "{}", banner(&t.clocks))?;
        warn_clocks(t, decisions, err)?;
    }
    Ok(())
}

/// Warnings about clocks: assumed zones, and given zones the data contradicts.
pub fn warn_clocks(
    t: &Timeline,
    decisions: &[crate::load::ClockDecision],
    err: &mut dyn Write,
) -> std::io::Result<()> {
    for c in t.clocks.iter().filter(|c| c.provenance.is_assumed()) {
        writeln!(err, "warning: {}: {}", c.source, c.provenance)?;
    }
    for w in decisions.iter().filter_map(|d| d.warning.as_ref()) {
        writeln!(err, "warning: {w}")?;
    }
    warn_sources(&t.sources, err)
}

/// One warning line per damaged source: what was lost or repaired, and how much. Nothing is
/// dropped silently; the same counts are in `--format json` under `sources`.
pub fn warn_sources(
    sources: &crate::timeline::SourcesInfo,
    err: &mut dyn Write,
) -> std::io::Result<()> {
    if let Some(e) = &sources.events {
        if let Some(first) = e.skipped.first() {
            writeln!(
                err,
                "warning: {}: {} rows skipped (first: {}: {})",
                e.origin,
                e.skipped.len(),
                first.at,
                first.reason
            )?;
        }
        if !e.missing_columns.is_empty() && e.kind != "postgresql" {
            writeln!(
                err,
                "warning: {}: no column(s) {}: read as empty",
                e.origin,
                e.missing_columns.join(", ")
            )?;
        }
    }
    for l in &sources.logs {
        let s = &l.stats;
        let mut parts = Vec::new();
        if s.bytes == 0 {
            parts.push("empty file".to_string());
        }
        let mut count = |n: u64, what: &str| {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        };
        count(
            s.invalid_utf8_lines,
            "lines with invalid UTF-8 (read with U+FFFD)",
        );
        count(
            s.orphan_lines,
            "lines before the first timestamp (not on the timeline)",
        );
        count(
            s.malformed_events,
            "event lines whose Python dict does not parse (kept as malformed_event)",
        );
        count(
            s.truncated_records,
            "records longer than 1 MiB (cut, the rest counted)",
        );
        if s.parsed_bytes.is_some() {
            count(
                s.backwards_steps,
                "times the file's time index goes backwards (its window read back from the whole file)",
            );
        } else {
            count(
                s.backwards_steps,
                "records timed earlier than the one before them (kept, ordered by time)",
            );
        }
        if !parts.is_empty() {
            writeln!(err, "warning: {}: {}", l.name, parts.join("; "))?;
        }
    }
    Ok(())
}

/// Prints findings in the chosen format: the header, `table_extra` and the list for people;
/// the JSON document (with `json_extra`), JUnit, SARIF or GitHub annotations for machines.
pub fn emit(
    command: &str,
    t: &Timeline,
    findings: &[crate::checks::Finding],
    format: crate::cli::FindingsFormat,
    table_extra: &str,
    json_extra: crate::report::findings::Extra<'_>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let text = render(command, t, findings, format, table_extra, json_extra, None)?;
    out.write_all(text.as_bytes())?;
    Ok(())
}

/// What `failing` and the baseline say about each finding, for the CI formats.
pub struct Verdict<'a> {
    pub fail_on: crate::checks::Severity,
    pub baseline: Option<&'a crate::baseline::Comparison>,
}

impl Verdict<'_> {
    pub fn is_new(&self, f: &crate::checks::Finding) -> bool {
        self.baseline.is_none_or(|b| b.is_new(f))
    }
    pub fn fails(&self, f: &crate::checks::Finding) -> bool {
        f.severity >= self.fail_on && self.is_new(f)
    }
}

/// Renders findings in a format to a string.
pub fn render(
    command: &str,
    t: &Timeline,
    findings: &[crate::checks::Finding],
    format: crate::cli::FindingsFormat,
    table_extra: &str,
    json_extra: crate::report::findings::Extra<'_>,
    verdict: Option<&Verdict<'_>>,
) -> anyhow::Result<String> {
    use crate::cli::FindingsFormat as F;
    use crate::report::findings as render;
    let default = Verdict {
        fail_on: crate::checks::Severity::Medium,
        baseline: None,
    };
    let verdict = verdict.unwrap_or(&default);
    Ok(match format {
        F::Table => {
            let mut s = crate::report::table::header(t);
            s.push('\n');
            s.push_str(table_extra);
            s.push_str(&render::list(findings));
            s.push_str(&render::counts(findings));
            s.push('\n');
            s
        }
        F::Json => {
            let mut s =
                serde_json::to_string_pretty(&render::document(command, t, findings, json_extra))?;
            s.push('\n');
            s
        }
        F::Junit => crate::report::junit::render(findings, &|f| verdict.fails(f), 0.0),
        F::Sarif => {
            let state = |f: &crate::checks::Finding| -> Option<&'static str> {
                verdict
                    .baseline
                    .map(|b| if b.is_new(f) { "new" } else { "unchanged" })
            };
            let resolved = verdict.baseline.map_or(0, |b| b.resolved.len());
            let mut s = serde_json::to_string_pretty(&crate::report::sarif::render(
                t, findings, &state, resolved,
            ))?;
            s.push('\n');
            s
        }
        F::Github => crate::report::github::render(t, findings),
    })
}
