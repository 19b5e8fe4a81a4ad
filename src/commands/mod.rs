//! One file per subcommand: args → sources → timeline (→ checks) → a renderer.

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

/// Runs the parsed command, writing results to `out` and banners/warnings to `err`.
pub fn run(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<Outcome> {
    let config = Config::load(cli.config.as_deref(), cli.no_config)?;
    match &cli.command {
        Command::Timeline(args) => timeline::run(args, &config, cli.quiet, out, err),
    }
}
