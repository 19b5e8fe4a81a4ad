//! The check engine: every check over a loaded timeline, or one check restricted out of the
//! same run, so a single-check command gives exactly `check`'s findings, fingerprints and
//! severities of its kinds. It loads (one pass, or time slices over big logs), runs the checks,
//! reclassifies what one check explains of another, and leaves the verdict to [`verdict`].

pub mod baseline;
mod naive;
mod prepare;
mod reclassify;
mod slices;
pub mod verdict;

use crate::checks::lifetimes::Process;
use crate::checks::matching::Matching;
use crate::checks::missing::Direction;
use crate::checks::{self, Check, Finding};
use crate::load::{self, Question, ReadPlan, SourcePlan, Tuning};
use crate::time::{UtcRange, WindowSpec};
use crate::timeline::{FilterSpec, View};

pub use prepare::{Meta, Prepared, match_twins, prepare, tolerance};
pub use verdict::Verdict;

/// Loaded around the question: inversions compare rows up to 10 minutes apart, and twins across
/// a window's edges must be seen to judge the rows inside it.
pub const MARGIN_US: i64 = 10 * 60 * 1_000_000;

/// Thresholds and tolerances of the checks. Their defaults are written here, once; flags, the
/// environment and `audit.toml` override them (settings.rs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// Largest |log − created_at − lag| of a twin, ms; None: from the measured spread.
    pub tolerance_ms: Option<u64>,
    /// Rows this close to the first or last record of a file's coverage are not accused, ms.
    pub grace_ms: u64,
    /// Downtime shorter than this is a restart, not a gap, s.
    pub min_gap_s: u64,
    /// Rows of the same identity further apart than this are separate events, ms.
    pub interval_ms: u64,
    /// How far created_at may precede its own correlation epoch, ms.
    pub epoch_tolerance_ms: u64,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            tolerance_ms: None,
            grace_ms: 2000,
            min_gap_s: 60,
            interval_ms: 5000,
            epoch_tolerance_ms: 50,
        }
    }
}

/// What the engine is asked: the sources, the question and the thresholds.
#[derive(Debug, Clone)]
pub struct Request {
    pub sources: SourcePlan,
    pub no_align: bool,
    pub filter: FilterSpec,
    /// `--since/--until/--last`, resolved.
    pub range: Option<UtcRange>,
    pub params: Params,
    /// Which side of `missing-logs` to report.
    pub direction: Direction,
    /// Also count the naive reading (log times read in the display zone); such a run draws the
    /// whole timeline (the HTML report), so it is never sliced.
    pub naive: bool,
    /// The sizes at which logs are read differently.
    pub tuning: Tuning,
}

/// Every check's result, with what a renderer of the whole picture (HTML) needs beside it.
pub struct Checked {
    /// Sorted findings.
    pub findings: Vec<Finding>,
    /// The timeline. After a sliced run (`audit check` over big logs, never with `--html`): its
    /// sources and clocks for the whole range, and no rows.
    pub prepared: Prepared,
    /// Twins of the aligned timeline (row indices into `prepared.timeline`; empty after a
    /// sliced run).
    pub matching: Matching,
    /// The processes (after a sliced run their `db_rows` are not counted).
    pub processes: Vec<Process>,
    /// `missing-logs` counts on the aligned timeline.
    pub aligned: checks::missing::Summary,
    /// The same counts on the naive timeline (logs read in the display zone), when asked.
    pub naive: Option<checks::missing::Summary>,
}

/// Runs every check, and keeps the findings of `only` when given (a single-check command).
pub fn run(req: &Request, only: Option<Check>) -> anyhow::Result<Checked> {
    let mut filter = req.filter.clone();
    let range = req.range.map(|r| {
        filter.window = Some(WindowSpec::absolute(r.start, r.end));
        (r.start.timestamp_micros(), r.end.timestamp_micros())
    });
    // A --window is one short question; a range (or everything) over big logs goes in slices.
    let len = match req.naive || req.filter.window.is_some() {
        true => None,
        false => ReadPlan::slice_length(&req.sources, &req.tuning)?,
    };
    let mut checked = match len {
        Some(len) => slices::run_sliced(req, &filter, range, len)?,
        None => {
            let q = Question {
                filter,
                no_align: req.no_align,
                margin_us: MARGIN_US,
                messages: false,
            };
            let plan = ReadPlan::new(&req.sources, &q, &req.tuning, false)?;
            let loaded = load::load(&req.sources, &q, &plan)?;
            check_loaded(req, loaded, req.naive, None)?
        }
    };
    reclassify::spare_filtered(&mut checked.findings);
    reclassify::explain_foreign_rows(&mut checked.findings);
    reclassify::spare_unsettled(
        &mut checked.findings,
        &checked.prepared.loaded_meta.unjudged_spans,
    );
    checked.findings.retain(|f| {
        only.is_none_or(|c| f.kind.check() == c) && checks::missing::reports(req.direction, f.kind)
    });
    checks::sort(&mut checked.findings);
    Ok(checked)
}

/// What `missing-logs` judges by: the settled files' coverage, the DB's, the grace.
fn missing_params(req: &Request, meta: &Meta, window: Option<UtcRange>) -> checks::missing::Params {
    checks::missing::Params {
        window,
        direction: req.direction,
        logs: meta.coverage.clone(),
        db_span: meta.db_cover,
        db_live: meta.db_live,
        grace_us: req.params.grace_ms as i64 * 1000,
        unjudged: meta.unjudged.clone(),
        levels: meta.levels.clone(),
    }
}

/// Every check over one loaded timeline; `procs`: the processes, when known from more than it.
fn check_loaded(
    req: &Request,
    loaded: crate::load::Loaded,
    naive: bool,
    procs: Option<&[Process]>,
) -> anyhow::Result<Checked> {
    let p = &req.params;
    let grace_us = p.grace_ms as i64 * 1000;
    let tolerance_ms = p.tolerance_ms;
    let naive = if naive {
        Some(naive::NaivePlan::new(
            &loaded,
            tolerance_ms,
            grace_us,
            req.direction,
        )?)
    } else {
        None
    };
    let prepared = prepare(loaded, tolerance_ms)?;
    let meta = &prepared.loaded_meta;
    let t = &prepared.timeline;
    let v = View::new(t)?;
    let m = match_twins(t, meta)?;
    let window = meta.filter.window;

    let mut findings = Vec::new();
    // A slice (`procs` given) reports a change only where its rows place it; the run keeps the
    // earliest place any slice found.
    findings.extend(checks::clock::offset_changes(
        &v,
        &t.clocks,
        procs.is_some(),
    ));
    findings.extend(checks::clock::unsettled(&v, &t.clocks));
    let (f, aligned) = checks::missing::check(&v, &m, &missing_params(req, meta, window));
    findings.extend(f);
    findings.extend(checks::copies::gaps(&meta.copies.gaps, window));
    findings.extend(checks::inversions::check(
        &v,
        &m,
        &checks::inversions::Params {
            epoch_tolerance_us: p.epoch_tolerance_ms as i64 * 1000,
            max_span_us: MARGIN_US,
            bypass_tolerance_us: meta.tolerance_us,
            logs: meta.coverage.clone(),
            window,
            clocks: t.clocks.clone(),
        },
    ));
    let procs = match procs {
        Some(p) => p.to_vec(),
        None => checks::lifetimes::processes(&v, &meta.coverage),
    };
    findings.extend(checks::lifetimes::check(
        &v,
        &m,
        &procs,
        &checks::lifetimes::Params {
            min_gap_us: p.min_gap_s as i64 * 1_000_000,
            grace_us,
            window,
        },
    ));
    findings.extend(checks::duplicates::check(
        &v,
        &m,
        &checks::duplicates::Params {
            interval_us: p.interval_ms as i64 * 1000,
            window,
        },
    ));
    drop(v);
    checks::copies::cite(&mut findings, &meta.copies);
    let naive = naive
        .map(|plan| {
            plan.finish(
                t,
                meta,
                checks::missing::Params {
                    logs: Vec::new(),
                    ..missing_params(req, meta, window)
                },
            )
        })
        .transpose()?;
    Ok(Checked {
        findings,
        prepared,
        matching: m,
        processes: procs,
        aligned,
        naive,
    })
}
