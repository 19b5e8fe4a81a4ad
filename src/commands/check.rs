//! `audit check`: every check over a time range, for a CI job against a nightly snapshot —
//! a summary of what was read and applied, the findings, the baseline comparison, an exit
//! code (0 clean, 1 new findings at or above --fail-on, 2 error), and CI report formats.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use comfy_table::{Table, presets};
use serde_json::json;

use super::common::{self, Verdict};
use super::{Outcome, missing};
use crate::baseline;
use crate::checks::lifetimes::Process;
use crate::checks::matching::Matching;
use crate::checks::{self, Finding, FindingKind, Severity};
use crate::cli::{
    CheckArgs, CheckParams, ClockOpts, FilterOpts, FindingsFormat, RangeOpts, SourceOpts,
};
use crate::config::Config;
use crate::error::AuditError;
use crate::report;
use crate::source;
use crate::time::WindowSpec;
use crate::timeline::View;

/// Loaded around the range: inversions compare rows up to 10 minutes apart.
const MARGIN_US: i64 = 10 * 60 * 1_000_000;

/// What `audit check` and `audit report` read: sources, clocks, filters, range, thresholds.
pub struct Scope<'a> {
    pub sources: &'a SourceOpts,
    pub clock: &'a ClockOpts,
    pub filter: &'a FilterOpts,
    pub range: &'a RangeOpts,
    pub params: &'a CheckParams,
}

impl<'a> Scope<'a> {
    pub fn of(args: &'a CheckArgs) -> Scope<'a> {
        Scope {
            sources: &args.common.sources,
            clock: &args.common.clock,
            filter: &args.common.filter,
            range: &args.range,
            params: &args.params,
        }
    }
}

/// Every check's result, with what a renderer of the whole picture (HTML) needs beside it.
pub struct Checked {
    /// Sorted findings.
    pub findings: Vec<Finding>,
    /// The timeline. After a sliced run (`audit check` over big logs, never with `--html`): its
    /// sources and clocks for the whole range, and no rows.
    pub prepared: common::Prepared,
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

/// Logs bigger than this are checked in time slices (see [`run_sliced`]): one pass over the
/// whole range would hold every event row of it (~0.55 GB a day of the real bot).
const SLICE_BYTES: u64 = 1 << 30;
/// The length of one slice.
const SLICE_US: i64 = 6 * 3600 * 1_000_000;

/// Runs every check; `naive` also counts the naive reading (a second timeline build).
pub fn run_all(scope: &Scope<'_>, config: &Config, naive: bool) -> anyhow::Result<Checked> {
    let mut filter = scope.filter.spec();
    let r = scope.range;
    let mut range = None;
    if r.since.is_some() || r.until.is_some() || r.last.is_some() {
        if filter.window.is_some() {
            return Err(AuditError::usage(
                "--window cannot be combined with --since/--until/--last",
            )
            .into());
        }
        let (start, end) = match r.last {
            Some(d) => {
                let now = chrono::Utc::now();
                // `now - d` panics when d reaches back past chrono's first year.
                let start = now.checked_sub_signed(d).ok_or_else(|| {
                    AuditError::usage("--last reaches back past the earliest date there is")
                })?;
                (start, now)
            }
            None => (
                r.since
                    .unwrap_or(chrono::DateTime::<chrono::Utc>::UNIX_EPOCH),
                r.until.unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC),
            ),
        };
        if end <= start {
            return Err(AuditError::usage("--until must be after --since").into());
        }
        filter.window = Some(WindowSpec::absolute(start, end));
        range = Some((start.timestamp_micros(), end.timestamp_micros()));
    }
    let plan = crate::settings::sources(scope.sources, scope.clock, config)?;
    // A --window is one short question; a range (or everything) over big logs goes in slices.
    // The HTML report (`naive`) draws the whole timeline, so it is never sliced.
    if !naive && (scope.filter.window.is_none()) {
        if let Some(len) = slice_length(&plan)? {
            return run_sliced(scope, config, &plan, &filter, range, len);
        }
    }
    let loaded = crate::load::load(
        &plan,
        &filter,
        scope.clock.no_align,
        MARGIN_US.max(missing::MARGIN_US),
        crate::load::Need::Structured,
    )?;
    let mut checked = check_loaded(scope, config, loaded, naive, None)?;
    explain_foreign_rows(&mut checked.findings);
    checks::sort(&mut checked.findings);
    Ok(checked)
}

/// How long a slice is, when the run is sliced: logs over [`SLICE_BYTES`] read with PostgreSQL
/// (or no events source; a snapshot file is read whole by polars anyway). `AUDIT_SLICE_MINUTES`
/// forces slices of that length (the tests slice a generated scenario), or none with 0.
fn slice_length(plan: &crate::load::SourcePlan) -> Result<Option<i64>, AuditError> {
    if let Some(m) = std::env::var("AUDIT_SLICE_MINUTES")
        .ok()
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|&m| m >= 0)
    {
        return Ok((m > 0).then(|| m.saturating_mul(60 * 1_000_000)));
    }
    if matches!(plan.events, crate::load::EventsSpec::File(..)) {
        return Ok(None);
    }
    Ok((log_bytes(plan)? > SLICE_BYTES).then_some(SLICE_US))
}

/// The size of the planned log files (gzip: compressed).
fn log_bytes(plan: &crate::load::SourcePlan) -> Result<u64, AuditError> {
    Ok(source::logs::discover(&plan.logs)?
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum())
}

/// Every check over a long range in memory that follows the slice, not the range: the logs are
/// read once (sampled) and the clocks decided once for the whole run; then each slice of `len`
/// loads its own DB rows and reads back its own log events (with the checks' margin around
/// it), and is checked like a `--since/--until` run. The findings are those of one pass over
/// the whole range: each is reported by the slice its time falls in, and runs of rows that
/// cross a slice edge are joined ([`checks::join_runs`]).
fn run_sliced(
    scope: &Scope<'_>,
    config: &Config,
    plan: &crate::load::SourcePlan,
    filter: &crate::timeline::FilterSpec,
    range: Option<(i64, i64)>,
    len: i64,
) -> anyhow::Result<Checked> {
    let no_align = scope.clock.no_align;
    let margin = MARGIN_US.max(missing::MARGIN_US);
    let mut reuse = crate::load::Reuse::default();
    // The first load reads the logs (sampled) and decides the clocks; its window holds nothing.
    let at = |us: i64| chrono::DateTime::from_timestamp_micros(us).unwrap_or_default();
    let probe = crate::timeline::FilterSpec {
        window: Some(WindowSpec::absolute(at(0), at(1))),
        ..filter.clone()
    };
    let mut first = crate::load::load_with(
        plan,
        &probe,
        no_align,
        0,
        crate::load::Need::Structured,
        Some(&mut reuse),
    )?;
    let span = [first.db_span(), first.logs_span()]
        .into_iter()
        .flatten()
        .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)));
    // Its logs are the first pass (moved, not copied: a week's typed lines are ~0.4 GB).
    reuse.keep_logs(std::mem::take(&mut first.logs));
    crate::load::settle_clocks(&mut reuse, plan, &first, no_align)?;
    // Processes once, from the whole first pass (their lock, end, lock trouble and flush lines
    // are typed lines, never sampled), over the range and its margin as one pass sees them:
    // whichever slice a process starts or ends in, every slice judges rows against the same.
    let procs = match reuse.first_pass() {
        Some((logs, clocks)) => {
            let coverage = crate::load::coverage_of(&logs, &clocks);
            let frame = crate::timeline::Filter {
                window: range.map(|(s, e)| crate::time::UtcRange {
                    start: at(s.saturating_sub(margin)),
                    end: at(e.saturating_add(margin)),
                }),
                ..crate::timeline::Filter::default()
            };
            let t = crate::timeline::Timeline::build(None, logs, &clocks, &frame)?;
            checks::lifetimes::processes(&View::new(&t)?, &coverage)
        }
        None => Vec::new(),
    };
    let mut findings: Vec<Finding> = Vec::new();
    drop(first);
    let (lo, hi) = match (span, range) {
        (Some((a, b)), Some((s, e))) => (a.max(s), (b + 1).min(e)),
        (Some((a, b)), None) => (a, b + 1),
        (None, Some((s, e))) => (s, e),
        (None, None) => (0, 1),
    };
    // The slices read back about every byte once more: a bar over the files' size.
    let bytes = log_bytes(plan)?;
    if bytes > 256 << 20 {
        crate::progress::start(bytes, "checking");
    }
    let mut last: Option<Checked> = None;
    let mut aligned: Option<checks::missing::Summary> = None;
    let mut clocks: Vec<crate::timeline::ClockEntry> = Vec::new();
    let mut db_rows = 0usize;
    let mut start = lo;
    while start < hi.max(lo + 1) {
        let end = start.saturating_add(len).min(hi.max(lo + 1));
        let one = crate::timeline::FilterSpec {
            window: Some(WindowSpec::absolute(at(start), at(end))),
            ..filter.clone()
        };
        let loaded = crate::load::load_with(
            plan,
            &one,
            no_align,
            margin,
            crate::load::Need::Structured,
            Some(&mut reuse),
        )?;
        let mut c = check_loaded(scope, config, loaded, false, Some(&procs))?;
        findings.append(&mut c.findings);
        db_rows += c.aligned.total.db_rows;
        aligned = Some(match aligned {
            None => c.aligned.clone(),
            Some(a) => checks::missing::add(a, &c.aligned),
        });
        merge_clocks(&mut clocks, &c.prepared.timeline.clocks);
        last = Some(c);
        start = end;
    }
    crate::progress::finish();
    let Some(mut checked) = last else {
        return Err(AuditError::usage("internal: a sliced check ran no slice").into());
    };
    let mut findings = checks::join_runs(findings);
    // A finding two slices both saw (a clock change is found from the first row after its line
    // that a slice holds): once, at its earliest time.
    findings.sort_by(|a, b| {
        a.fingerprint
            .cmp(&b.fingerprint)
            .then(a.at_us.cmp(&b.at_us))
    });
    findings.dedup_by(|b, a| a.fingerprint == b.fingerprint);
    explain_foreign_rows(&mut findings);
    checks::sort(&mut findings);
    checked.findings = findings;
    if let Some(a) = aligned {
        checked.aligned = a;
    }
    // What the renderers read of the timeline: its sources and clocks, for the whole range. Its
    // rows were the last slice's; they are not kept.
    let t = &mut checked.prepared.timeline;
    t.frame = polars::prelude::DataFrame::empty();
    t.clocks = clocks;
    if let Some(e) = t.sources.events.as_mut() {
        e.rows = db_rows;
    }
    checked.matching = Matching::default();
    checked.prepared.loaded_meta.filter.window = range.map(|(s, e)| crate::time::UtcRange {
        start: at(s),
        end: at(e),
    });
    Ok(checked)
}

/// The clock entries of one more slice: the offsets each source applied there are added.
fn merge_clocks(into: &mut Vec<crate::timeline::ClockEntry>, more: &[crate::timeline::ClockEntry]) {
    for e in more {
        match into
            .iter_mut()
            .find(|x| x.source == e.source && x.role == e.role)
        {
            Some(x) => {
                for o in &e.offsets {
                    if !x.offsets.contains(o) {
                        x.offsets.push(o.clone());
                    }
                }
            }
            None => into.push(e.clone()),
        }
    }
}

fn estimates_of(
    decisions: &[crate::load::ClockDecision],
) -> Vec<(String, Option<crate::clock::skew::Estimate>)> {
    decisions
        .iter()
        .map(|d| (d.file.clone(), d.estimate.clone()))
        .collect()
}

/// Every check over one loaded timeline; `procs`: the processes, when known from more than it.
fn check_loaded(
    scope: &Scope<'_>,
    config: &Config,
    loaded: crate::load::Loaded,
    naive: bool,
    procs: Option<&[Process]>,
) -> anyhow::Result<Checked> {
    let p = scope.params;
    let c = &config.check;
    let grace_us = p.grace_ms.or(c.grace_ms).unwrap_or(2000) as i64 * 1000;
    let tolerance_ms = p.tolerance_ms.or(c.tolerance_ms);
    let naive = if naive {
        Some(common::NaivePlan::new(
            &loaded,
            tolerance_ms,
            grace_us,
            checks::missing::Direction::Both,
        )?)
    } else {
        None
    };
    let prepared = common::prepare(loaded, tolerance_ms)?;
    let meta = &prepared.loaded_meta;
    let t = &prepared.timeline;
    let v = View::new(t)?;
    let m = common::match_twins(t, meta)?;
    let window = meta.filter.window;

    let mut findings = Vec::new();
    // A slice (`procs` given) reports a change only where its rows place it; the run keeps the
    // earliest place any slice found.
    findings.extend(checks::clock::offset_changes(
        &v,
        &estimates_of(&meta.decisions),
        procs.is_some(),
    ));
    let (f, aligned) = checks::missing::check(
        &v,
        &m,
        &checks::missing::Params {
            window,
            direction: checks::missing::Direction::Both,
            logs: meta.coverage.clone(),
            db_span: meta.db_span,
            grace_us,
        },
    );
    findings.extend(f);
    findings.extend(checks::inversions::check(
        &v,
        &m,
        &checks::inversions::Params {
            epoch_tolerance_us: p.epoch_tolerance_ms.or(c.epoch_tolerance_ms).unwrap_or(50) as i64
                * 1000,
            max_span_us: MARGIN_US,
            bypass_tolerance_us: meta.tolerance_us,
            logs: meta.coverage.clone(),
            window,
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
            min_gap_us: p.min_gap_s.or(c.min_gap_s).unwrap_or(60) as i64 * 1_000_000,
            grace_us,
            window,
        },
    ));
    findings.extend(checks::duplicates::check(
        &v,
        &m,
        &checks::duplicates::Params {
            interval_us: p.interval_ms.or(c.interval_ms).unwrap_or(5000) as i64 * 1000,
            window,
        },
    ));
    drop(v);
    let naive = naive
        .map(|plan| {
            plan.finish(
                t,
                meta,
                checks::missing::Params {
                    window,
                    direction: checks::missing::Direction::Both,
                    logs: Vec::new(),
                    db_span: meta.db_span,
                    grace_us,
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

/// A row another writer wrote is not a lost log line: its `missing_in_log` finding says so and
/// drops to info, pointing at the `unattributed_activity` finding that accounts for it.
fn explain_foreign_rows(findings: &mut [Finding]) {
    let foreign: std::collections::HashMap<i64, String> = findings
        .iter()
        .filter(|f| f.kind == FindingKind::UnattributedActivity)
        .flat_map(|f| {
            f.event_ids
                .iter()
                .map(move |id| (*id, f.fingerprint.clone()))
        })
        .collect();
    for f in findings
        .iter_mut()
        .filter(|f| f.kind == FindingKind::MissingInLog)
    {
        if let Some(fp) = f.event_id.and_then(|id| foreign.get(&id)) {
            f.severity = Severity::Info;
            f.explanation.push_str(&format!(
                "; no live process wrote it (unattributed_activity {fp}): another writer's row, not a lost log line"
            ));
        }
    }
}

fn baseline_path(args: &CheckArgs, config: &Config) -> Option<PathBuf> {
    args.baseline
        .clone()
        .or_else(|| config.check.baseline.as_ref().map(|p| config.resolve(p)))
}

/// `audit baseline write`: the current findings become the accepted set.
pub fn write_baseline(
    args: &CheckArgs,
    config: &Config,
    quiet: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    if args.html.is_some() {
        return Err(AuditError::usage(
            "--html belongs to audit check and audit report, not to audit baseline write",
        )
        .into());
    }
    let Some(path) = baseline_path(args, config) else {
        return Err(AuditError::usage(
            "audit baseline write needs --baseline FILE (or [check] baseline in audit.toml)",
        )
        .into());
    };
    let Checked {
        findings, prepared, ..
    } = run_all(&Scope::of(args), config, false)?;
    common::print_banner(
        &prepared.timeline,
        &prepared.loaded_meta.decisions,
        quiet,
        err,
    )?;
    let previous = baseline::load(&path).ok();
    let b = baseline::from_findings(&findings);
    baseline::write(&path, &b)?;
    let (added, removed) = match &previous {
        Some(p) => {
            let c = baseline::compare(p, &findings);
            (findings.len() - c.accepted.len(), c.resolved.len())
        }
        None => (findings.len(), 0),
    };
    writeln!(
        out,
        "wrote {} accepted finding(s) to {} ({added} new, {removed} dropped since the previous baseline)",
        b.findings.len(),
        path.display()
    )?;
    Ok(Outcome::Clean)
}

pub fn run(
    args: &CheckArgs,
    config: &Config,
    quiet: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let mut checked = run_all(&Scope::of(args), config, args.html.is_some())?;
    common::print_banner(
        &checked.prepared.timeline,
        &checked.prepared.loaded_meta.decisions,
        quiet,
        err,
    )?;
    let comparison = match baseline_path(args, config) {
        Some(p) => Some((
            p.clone(),
            baseline::compare(&baseline::load(&p)?, &checked.findings),
        )),
        None => None,
    };
    if let Some((_, c)) = &comparison {
        for f in &mut checked.findings {
            f.baseline = Some(if c.is_new(f) { "new" } else { "accepted" });
        }
    }
    let findings = &checked.findings;
    let t = &checked.prepared.timeline;
    let fail_on = args.common.fail_on(config);
    let verdict = Verdict {
        fail_on,
        baseline: comparison.as_ref().map(|(_, c)| c),
    };
    let failing: Vec<&Finding> = findings.iter().filter(|f| verdict.fails(f)).collect();
    let outcome = if failing.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Findings
    };
    let exit_code = if failing.is_empty() { 0 } else { 1 };

    let summary = summary_table(findings, &verdict);
    let mut extra_table = format!("{summary}\n");
    if let Some((p, c)) = &comparison {
        extra_table.push_str(&format!(
            "baseline {}: {} accepted, {} new, {} resolved\n",
            p.display(),
            c.accepted.len(),
            findings.iter().filter(|f| c.is_new(f)).count(),
            c.resolved.len()
        ));
        for r in &c.resolved {
            extra_table.push_str(&format!(
                "  resolved: {} {} {} ({})\n",
                r.kind, r.at_utc, r.explanation, r.fingerprint
            ));
        }
    }
    extra_table.push('\n');
    let baseline_json = comparison.as_ref().map(|(p, c)| {
        json!({
            "path": p.display().to_string(),
            "accepted": c.accepted,
            "new": findings.iter().filter(|f| c.is_new(f)).map(|f| &f.fingerprint).collect::<Vec<_>>(),
            "resolved": c.resolved,
        })
    });
    let json_extra = json!({
        "summary": counts_json(findings),
        "baseline": baseline_json,
        "fail_on": fail_on,
        "exit_code": exit_code,
        "elapsed_s": started.elapsed().as_secs_f64(),
    });
    let mut tail = String::new();
    if args.common.format == FindingsFormat::Table || args.output.is_some() {
        tail = match failing.len() {
            0 => format!("exit 0: no new finding at or above {fail_on}\n"),
            n => format!("exit 1: {n} new finding(s) at or above {fail_on}\n"),
        };
    }
    let formatted = common::render(
        "check",
        t,
        findings,
        args.common.format,
        &extra_table,
        json_extra.clone().into(),
        Some(&verdict),
    )?;
    match &args.output {
        Some(path) => {
            crate::output::write(path, formatted.as_bytes())?;
            let table = common::render(
                "check",
                t,
                findings,
                FindingsFormat::Table,
                &extra_table,
                json_extra.into(),
                Some(&verdict),
            )?;
            out.write_all(table.as_bytes())?;
            out.write_all(tail.as_bytes())?;
        }
        None => {
            out.write_all(formatted.as_bytes())?;
            if args.common.format == FindingsFormat::Table {
                out.write_all(tail.as_bytes())?;
            }
        }
    }
    if let Some(path) = &args.html {
        let stats = super::report::write_html(&checked, path)?;
        if !quiet {
            writeln!(err, "{}", stats.describe(path))?;
        }
    }
    Ok(outcome)
}

fn counts_json(findings: &[Finding]) -> serde_json::Value {
    let mut by_kind = serde_json::Map::new();
    for k in FindingKind::ALL {
        let mut sev = serde_json::Map::new();
        for s in [
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::Info,
        ] {
            let n = findings
                .iter()
                .filter(|f| f.kind == k && f.severity == s)
                .count();
            if n > 0 {
                sev.insert(s.as_str().into(), json!(n));
            }
        }
        if !sev.is_empty() {
            by_kind.insert(k.as_str().into(), serde_json::Value::Object(sev));
        }
    }
    json!({ "total": findings.len(), "by_kind": by_kind })
}

fn summary_table(findings: &[Finding], verdict: &Verdict<'_>) -> String {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "check",
        "finding kind",
        "high",
        "medium",
        "low",
        "info",
        "fails the job",
    ]);
    for check in report::machine::CHECKS {
        for k in FindingKind::ALL
            .iter()
            .filter(|k| report::machine::check_of(**k) == check)
        {
            let n = |s: Severity| {
                findings
                    .iter()
                    .filter(|f| f.kind == *k && f.severity == s)
                    .count()
                    .to_string()
            };
            let failing = findings
                .iter()
                .filter(|f| f.kind == *k && verdict.fails(f))
                .count();
            t.add_row(vec![
                check.to_string(),
                k.as_str().to_string(),
                n(Severity::High),
                n(Severity::Medium),
                n(Severity::Low),
                n(Severity::Info),
                failing.to_string(),
            ]);
        }
    }
    t.to_string()
}
