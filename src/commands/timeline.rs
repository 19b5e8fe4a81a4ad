//! `audit timeline`: the merged timeline of a signal, position, symbol, correlation or window.

use std::io::Write;

use anyhow::Context;
use serde_json::json;

use super::Outcome;
use crate::cli::{Format, TimelineArgs};
use crate::config::Config;
use crate::report::{self, View};
use crate::source;
use crate::timeline::Timeline;

pub fn run(
    args: &TimelineArgs,
    config: &Config,
    quiet: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let plan = source::plan(&args.sources, &args.clock, config)?;
    let loaded = source::load(
        &plan,
        &args.filter,
        args.clock.no_align,
        0,
        source::Need::Selected,
    )?;
    let filter = loaded.filter.clone();
    let display = loaded.display.clone();
    let clocks = loaded.log_clocks();
    let decisions = loaded.decisions.clone();
    let t = Timeline::build(loaded.events, loaded.logs, &clocks, &filter)
        .context("cannot build the timeline frame")?;
    let v = View::new(&t).context("timeline frame has an unexpected shape")?;
    if !quiet {
        super::common::warn_clocks(&t, &decisions, err)?;
        if v.is_empty() {
            writeln!(err, "no rows match the filters")?;
        }
    }
    match args.output.format {
        Format::Table => {
            let mut s = report::table::timeline(&t, &v, args.output.wide);
            if let Some(w) = &filter.window {
                s.push_str(&format!(
                    "window: {} .. {} ({} {}), = {} .. {} UTC\n",
                    crate::clock::psql_text(w.start, &display.zone),
                    crate::clock::psql_text(w.end, &display.zone),
                    display.zone,
                    display.provenance,
                    w.start.format("%Y-%m-%d %H:%M:%S%.3f"),
                    w.end.format("%Y-%m-%d %H:%M:%S%.3f"),
                ));
            }
            out.write_all(s.as_bytes())?;
        }
        Format::Json => {
            let f = json!({
                "signal": filter.signal,
                "position": filter.position,
                "symbol": filter.symbol,
                "correlation": filter.correlation,
                "window": filter.window.map(|w| json!({
                    "start_utc": report::rfc3339_micros(w.start.timestamp_micros()),
                    "end_utc": report::rfc3339_micros(w.end.timestamp_micros()),
                    "display_zone": display.zone.to_string(),
                })),
            });
            serde_json::to_writer_pretty(&mut *out, &report::json::timeline(&t, &v, f))?;
            writeln!(out)?;
        }
        Format::Csv => report::csv::timeline(&v, out)?,
    }
    Ok(Outcome::Clean)
}
