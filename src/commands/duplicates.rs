//! `audit duplicates`: the same event written more than once, with both ids and their log twins.

use std::io::Write;

use super::{Outcome, common};
use crate::checks::duplicates::{self, Params};
use crate::cli::DuplicatesArgs;
use crate::config::Config;
use crate::timeline::View;

pub fn run(
    args: &DuplicatesArgs,
    config: &Config,
    quiet: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let interval_us = args.interval_ms as i64 * 1000;
    let loaded = common::load(&args.common, config, interval_us + 60_000_000)?;
    let prepared = common::prepare(loaded, None)?;
    let (meta, t) = (&prepared.loaded_meta, &prepared.timeline);
    common::print_banner(t, &meta.decisions, quiet, err)?;
    let v = View::new(t)?;
    let m = common::match_twins(t, meta)?;
    let findings = duplicates::check(
        &v,
        &m,
        &Params {
            interval_us,
            window: meta.filter.window,
        },
    );
    common::emit(
        "duplicates",
        t,
        &findings,
        args.common.format,
        "",
        serde_json::json!({}).into(),
        out,
    )?;
    Ok(super::outcome(&findings, args.common.fail_on(config)))
}
