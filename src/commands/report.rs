//! `audit report --html FILE`: every check of `audit check`, drawn on one self-contained page
//! (`audit check --html FILE` writes the same page beside its usual output).

use std::io::Write;

use super::Outcome;
use crate::checks::missing::Direction;
use crate::cli::ReportArgs;
use crate::config::Config;
use crate::engine;
use crate::settings::Settings;

pub fn run(
    args: &ReportArgs,
    config: &Config,
    quiet: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let settings = Settings::of_report(
        &args.sources,
        &args.clock,
        &args.filter,
        &args.range,
        &args.params,
        config,
    )?;
    let checked = engine::run(&settings.request(Direction::Both, true), None)?;
    let p = &checked.prepared;
    crate::report::banner::print_banner(&p.timeline, &p.loaded_meta.decisions, quiet, err)?;
    let stats = crate::report::html::write(&checked, &args.html)?;
    writeln!(out, "{}", stats.describe(&args.html))?;
    // A report is a document, not a gate: `audit check` decides exit codes from findings.
    Ok(Outcome::Clean)
}
