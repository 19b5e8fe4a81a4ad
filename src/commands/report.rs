//! `audit report --html FILE`: every check of `audit check`, drawn on one self-contained page
//! (`audit check --html FILE` writes the same page beside its usual output).

use std::io::Write;
use std::path::Path;

use super::check::{self, Checked, Scope};
use super::{Outcome, common};
use crate::cli::ReportArgs;
use crate::config::Config;
use crate::error::AuditError;
use crate::report::html;

pub fn run(
    args: &ReportArgs,
    config: &Config,
    quiet: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let scope = Scope {
        sources: &args.sources,
        clock: &args.clock,
        filter: &args.filter,
        range: &args.range,
        params: &args.params,
    };
    let checked = check::run_all(&scope, config, true)?;
    let p = &checked.prepared;
    common::print_banner(&p.timeline, &p.loaded_meta.decisions, quiet, err)?;
    let stats = write_html(&checked, &args.html)?;
    writeln!(out, "{}", stats.describe(&args.html))?;
    // A report is a document, not a gate: `audit check` decides exit codes from findings.
    Ok(Outcome::Clean)
}

/// Renders the page of a check run and writes it to `path`.
pub fn write_html(checked: &Checked, path: &Path) -> anyhow::Result<html::Stats> {
    let _t = crate::timing::phase("report: html");
    let meta = &checked.prepared.loaded_meta;
    let input = html::Input {
        timeline: &checked.prepared.timeline,
        findings: &checked.findings,
        matching: &checked.matching,
        processes: &checked.processes,
        decisions: &meta.decisions,
        aligned: &checked.aligned,
        naive: checked.naive.as_ref(),
        window: meta.filter.window,
        lag_us: meta.lag_us,
        tolerance_us: meta.tolerance_us,
    };
    let (page, stats) = html::render(&input)?;
    std::fs::write(path, page).map_err(|e| {
        AuditError::input(
            path.display().to_string(),
            format!("cannot write the report: {e}"),
        )
    })?;
    Ok(stats)
}
