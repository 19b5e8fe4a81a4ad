//! One file per subcommand: args → sources → timeline (→ checks) → a renderer.

pub mod check;
pub mod common;
pub mod duplicates;
pub mod export;
pub mod inversions;
pub mod lifetimes;
pub mod missing;
pub mod report;
pub mod skew;
pub mod timeline;

use std::io::Write;

use crate::cli::{Cli, Command};
use crate::config::Config;

/// What a command asks `main` to exit with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Clean,
    /// Exit 1: findings at or above the threshold.
    Findings,
}

/// Exit 1 when any finding is at or above `fail_on`.
pub fn outcome(findings: &[crate::checks::Finding], fail_on: crate::checks::Severity) -> Outcome {
    if findings.iter().any(|f| f.severity >= fail_on) {
        Outcome::Findings
    } else {
        Outcome::Clean
    }
}

/// Runs the parsed command, writing results to `out` and banners/warnings to `err`.
pub fn run(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<Outcome> {
    crate::progress::set_quiet(cli.quiet);
    crate::source::logs::index::disable(cli.no_cache);
    let config = Config::load(cli.config.as_deref(), cli.no_config)?;
    match &cli.command {
        Command::Timeline(args) => timeline::run(args, &config, cli.quiet, out, err),
        Command::Skew(args) => skew::run(args, &config, cli.quiet, out, err),
        Command::MissingLogs(args) => missing::run(args, &config, cli.quiet, out, err),
        Command::Inversions(args) => inversions::run(args, &config, cli.quiet, out, err),
        Command::Lifetimes(args) => lifetimes::run(args, &config, cli.quiet, out, err),
        Command::Duplicates(args) => duplicates::run(args, &config, cli.quiet, out, err),
        Command::Check(args) => check::run(args, &config, cli.quiet, out, err),
        Command::Report(args) => report::run(args, &config, cli.quiet, out, err),
        Command::Baseline(crate::cli::BaselineCmd::Write(args)) => {
            check::write_baseline(args, &config, cli.quiet, out, err)
        }
        Command::Export(args) => export::run(args, &config, cli.quiet, out, err),
    }
}
