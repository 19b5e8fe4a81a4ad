//! `audit inversions`: correlated rows whose epoch, created_at and id orders disagree.

use std::io::Write;

use super::{Outcome, finish, one_check};
use crate::checks::Check;
use crate::checks::missing::Direction;
use crate::cli::InversionsArgs;
use crate::config::Config;
use crate::engine::Verdict;
use crate::report::Report;

pub fn run(
    args: &InversionsArgs,
    config: &Config,
    quiet: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let o = &args.common;
    let (s, checked) = one_check(
        o,
        config,
        Check::Inversions,
        Direction::Both,
        false,
        quiet,
        err,
    )?;
    let verdict = Verdict {
        fail_on: s.fail_on,
        baseline: None,
    };
    finish(Report::of("inversions", &checked, verdict), o.format, out)
}
