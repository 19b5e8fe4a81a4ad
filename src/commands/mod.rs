//! Glue, one file per subcommand: its arguments become [`Settings`], the engine (or the loader,
//! for `timeline` and `export`) answers, a renderer prints. Commands never import each other;
//! what two of them need lives below them.

pub mod check;
pub mod duplicates;
pub mod explain;
pub mod export;
pub mod inversions;
pub mod lifetimes;
pub mod missing;
pub mod report;
pub mod shell;
pub mod skew;
pub mod timeline;
pub mod watch;

use std::io::Write;

use crate::checks::Check;
use crate::checks::missing::Direction;
use crate::cli::{CheckOpts, Cli, Command};
use crate::config::Config;
use crate::engine::{self, Checked, Verdict};
use crate::report::{Format, Report};
use crate::settings::Settings;

/// What a command asks `main` to exit with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Clean,
    /// Exit 1: findings at or above the threshold.
    Findings,
}

impl Outcome {
    /// The outcome a verdict gives `findings`.
    pub fn of(verdict: &Verdict<'_>, findings: &[crate::checks::Finding]) -> Outcome {
        if verdict.failed(findings) {
            Outcome::Findings
        } else {
            Outcome::Clean
        }
    }
}

/// Runs the parsed command, writing results to `out` and banners/warnings to `err`.
pub fn run(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<Outcome> {
    crate::progress::set_quiet(cli.quiet);
    crate::source::logs::index::disable(cli.no_cache);
    // Neither reads a source nor the config: a broken audit.toml must not stop them.
    match &cli.command {
        Command::Completions { shell } => return shell::completions(*shell, out),
        Command::Man => return shell::man(out),
        _ => {}
    }
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
        Command::Explain(args) => explain::run(args, &config, cli.quiet, out, err),
        Command::Watch(args) => watch::run(args, &config, cli.quiet, out, err),
        Command::Completions { .. } | Command::Man => unreachable!("answered above"),
    }
}

/// A single-check command: the engine restricted to `check`, its banner on stderr.
fn one_check(
    opts: &CheckOpts,
    config: &Config,
    check: Check,
    direction: Direction,
    naive: bool,
    quiet: bool,
    err: &mut dyn Write,
) -> anyhow::Result<(Settings, Checked)> {
    let settings = Settings::of_check(opts, config)?;
    let checked = engine::run(&settings.request(direction, naive), Some(check))?;
    let p = &checked.prepared;
    crate::report::banner::print_banner(&p.timeline, &p.loaded_meta.decisions, quiet, err)?;
    Ok((settings, checked))
}

/// Renders a single-check command's report to `out`; its outcome.
fn finish(r: Report<'_>, format: Format, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let outcome = Outcome::of(&r.verdict, r.findings);
    out.write_all(crate::report::render(r, format)?.as_bytes())?;
    Ok(outcome)
}
