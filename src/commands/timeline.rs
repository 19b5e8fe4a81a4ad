//! `audit timeline`: the merged timeline of a signal, position, symbol, correlation or window.

use std::io::Write;

use anyhow::Context;
use serde_json::json;

use super::Outcome;
use crate::cli::{Format, TimelineArgs};
use crate::config::Config;
use crate::load::{Question, ReadPlan};
use crate::report::{self, View};
use crate::settings::Settings;
use crate::timeline::Timeline;

pub fn run(
    args: &TimelineArgs,
    config: &Config,
    quiet: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let s = Settings::of_sources(&args.sources, &args.clock, &args.filter, config)?;
    // Counting needs no message text: plain messages are counted while parsing.
    let filtered = args.filter.window.is_some() || args.filter.signal.is_some();
    let q = Question {
        filter: s.filter.clone(),
        no_align: s.no_align,
        margin_us: 0,
        messages: !args.output.count || filtered,
    };
    let plan = ReadPlan::new(&s.sources, &q, &s.tuning, false)?;
    let loaded = crate::load::load(&s.sources, &q, &plan)?;
    let filter = loaded.filter.clone();
    let display = loaded.display.clone();
    let clocks = loaded.log_clocks();
    let decisions = loaded.decisions.clone();
    let t = Timeline::build(loaded.events, loaded.logs, &clocks, &filter)
        .context("cannot build the timeline frame")?;
    let v = View::new(&t).context("timeline frame has an unexpected shape")?;
    if !quiet {
        crate::report::banner::warn_clocks(&t, &decisions, err)?;
        if v.is_empty() {
            writeln!(err, "no rows match the filters")?;
        }
    }
    if args.output.count {
        write_counts(&t, filtered, args.output.format, out)?;
        // The process ends now: freeing a day's rows one by one only costs time.
        std::mem::forget(t);
        return Ok(Outcome::Clean);
    }
    match args.output.format {
        Format::Table => {
            let mut s = report::table::timeline(&t, &v, args.output.wide);
            if let Some(w) = &filter.window {
                s.push_str(&format!(
                    "window: {} .. {} ({} {}), = {} .. {} UTC\n",
                    crate::time::psql_text(w.start, &display.zone),
                    crate::time::psql_text(w.end, &display.zone),
                    display.zone,
                    display.provenance,
                    w.start.format("%Y-%m-%d %H:%M:%S%.3f"),
                    w.end.format("%Y-%m-%d %H:%M:%S%.3f"),
                ));
            }
            out.write_all(s.as_bytes())?;
        }
        Format::Json => {
            let f = filter.to_json(Some(display.zone.to_string()));
            serde_json::to_writer_pretty(&mut *out, &report::json::timeline(&t, &v, f))?;
            writeln!(out)?;
        }
        Format::Csv => report::csv::timeline(&v, out)?,
        Format::Jsonl => {
            for i in 0..v.len() {
                serde_json::to_writer(&mut *out, &report::json::row(&v, i))?;
                out.write_all(b"\n")?;
            }
        }
    }
    Ok(Outcome::Clean)
}

/// `--count`: rows per (source, kind, level), like `rg -c` for the whole timeline.
fn write_counts(
    t: &Timeline,
    messages_in_frame: bool,
    format: Format,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let v = View::new(t)?;
    let mut counts: std::collections::BTreeMap<(String, String, String), u64> =
        std::collections::BTreeMap::new();
    {
        // Count on borrowed keys, then own the few distinct ones.
        let mut fast: std::collections::HashMap<(&str, &str, &str), u64> =
            std::collections::HashMap::new();
        let col = |name: &str| -> anyhow::Result<&polars::prelude::StringChunked> {
            Ok(t.frame.column(name)?.str()?)
        };
        let (source, kind, level) = (col("source")?, col("kind")?, col("level")?);
        for ((s, k), l) in source.iter().zip(kind.iter()).zip(level.iter()) {
            let key = (
                s.unwrap_or_default(),
                k.unwrap_or_default(),
                l.unwrap_or_default(),
            );
            *fast.entry(key).or_default() += 1;
        }
        for ((s, k, l), n) in fast {
            counts.insert((s.to_string(), k.to_string(), l.to_string()), n);
        }
    }
    // Plain messages were counted while parsing (not kept) unless a filter brought them back.
    let mut total = v.len() as u64;
    if !messages_in_frame {
        for l in &t.sources.logs {
            for (level, n) in l.stats.messages.iter() {
                *counts
                    .entry((
                        "log".into(),
                        "message".into(),
                        level.unwrap_or("").to_string(),
                    ))
                    .or_default() += n;
                total += n;
            }
        }
    }
    match format {
        Format::Jsonl => {
            for ((s, k, l), n) in &counts {
                serde_json::to_writer(
                    &mut *out,
                    &json!({ "source": s, "kind": k, "level": l, "rows": n }),
                )?;
                out.write_all(b"\n")?;
            }
        }
        Format::Json => {
            let rows: Vec<serde_json::Value> = counts
                .iter()
                .map(|((s, k, l), n)| json!({ "source": s, "kind": k, "level": l, "rows": n }))
                .collect();
            let (sources, clock) = report::json::header(t);
            serde_json::to_writer_pretty(
                &mut *out,
                &json!({ "version": 1, "command": "timeline", "sources": sources, "clock": clock, "total": total, "counts": rows }),
            )?;
            writeln!(out)?;
        }
        _ => {
            writeln!(out, "source,kind,level,rows")?;
            for ((s, k, l), n) in &counts {
                writeln!(out, "{s},{k},{l},{n}")?;
            }
            writeln!(out, "total,,,{total}")?;
        }
    }
    Ok(())
}
