//! `audit lifetimes`: every process's life, and what is wrong with them together.

use std::io::Write;

use comfy_table::{Table, presets};

use super::{Outcome, common};
use crate::checks::lifetimes::{self, Params, Process};
use crate::cli::LifetimesArgs;
use crate::config::Config;
use crate::timeline::View;

pub fn run(
    args: &LifetimesArgs,
    config: &Config,
    quiet: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let loaded = common::load(&args.common, config, 0)?;
    let prepared = common::prepare(loaded, None)?;
    let (meta, t) = (&prepared.loaded_meta, &prepared.timeline);
    common::print_banner(t, &meta.decisions, quiet, err)?;
    let v = View::new(t)?;
    let procs = lifetimes::processes(&v, &meta.coverage);
    let findings = lifetimes::check(
        &v,
        &common::match_twins(t, meta)?,
        &procs,
        &Params {
            min_gap_us: args.min_gap_s as i64 * 1_000_000,
            grace_us: 2_000_000,
            window: meta.filter.window,
        },
    );
    common::emit(
        "lifetimes",
        t,
        &findings,
        args.common.format,
        &table(&procs),
        serde_json::json!({ "processes": procs }).into(),
        out,
    )?;
    Ok(super::outcome(&findings, args.common.fail_on(config)))
}

fn table(procs: &[Process]) -> String {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "process (log file)",
        "PID",
        "first record (UTC)",
        "last record (UTC)",
        "ended by",
        "lock trouble",
        "DB rows meanwhile",
    ]);
    for p in procs {
        t.add_row(vec![
            p.files.join(" + "),
            p.pid.map(|x| x.to_string()).unwrap_or_default(),
            p.start_utc
                .replace('T', " ")
                .trim_end_matches('Z')
                .to_string(),
            p.end_utc
                .replace('T', " ")
                .trim_end_matches('Z')
                .to_string(),
            match (&p.ended_by, &p.ended_at) {
                (Some(b), Some(a)) => format!("{b} (line {})", a.line),
                _ => "— (no shutdown line)".into(),
            },
            p.lock_trouble
                .iter()
                .map(|l| format!("line {}", l.line))
                .collect::<Vec<_>>()
                .join(", "),
            p.db_rows.to_string(),
        ]);
    }
    format!("{t}\n\n")
}
