//! `audit inversions`: correlated rows whose epoch, created_at and id orders disagree.

use std::io::Write;

use super::{Outcome, common};
use crate::checks::inversions::{self, Params};
use crate::cli::InversionsArgs;
use crate::config::Config;
use crate::timeline::View;

pub fn run(
    args: &InversionsArgs,
    config: &Config,
    quiet: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let max_span_us = 10 * 60 * 1_000_000;
    let loaded = common::load(&args.common, config, max_span_us)?;
    let prepared = common::prepare(loaded, None)?;
    let (meta, t) = (&prepared.loaded_meta, &prepared.timeline);
    common::print_banner(t, &meta.decisions, quiet, err)?;
    let v = View::new(t)?;
    let findings = inversions::check(
        &v,
        &common::match_twins(t, meta)?,
        &Params {
            epoch_tolerance_us: args.epoch_tolerance_ms as i64 * 1000,
            max_span_us,
            bypass_tolerance_us: meta.tolerance_us,
            logs: meta.coverage.clone(),
            window: meta.filter.window,
        },
    );
    common::emit(
        "inversions",
        t,
        &findings,
        args.common.format,
        "",
        serde_json::json!({}).into(),
        out,
    )?;
    Ok(super::outcome(&findings, args.common.fail_on(config)))
}
