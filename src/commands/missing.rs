//! `audit missing-logs`: after alignment, DB rows without a log line and log event lines
//! without a DB row — with the naive (unaligned) counts beside them, so a "5 in DB, 2 in the
//! log, 60 % lost" reading is visibly explained.

use std::io::Write;

use comfy_table::{Table, presets};
use serde_json::json;

use super::{Outcome, finish, one_check};
use crate::checks::Check;
use crate::checks::missing::{Summary, TypeCount};
use crate::cli::MissingArgs;
use crate::config::Config;
use crate::engine::Verdict;
use crate::report::Report;
use crate::report::findings::Extra;
use crate::time::UtcRange;
use crate::timeline::View;

pub fn run(
    args: &MissingArgs,
    config: &Config,
    quiet: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let o = &args.common;
    let (s, checked) = one_check(
        o,
        config,
        Check::MissingLogs,
        args.direction,
        true,
        quiet,
        err,
    )?;
    let meta = &checked.prepared.loaded_meta;
    let t = &checked.prepared.timeline;
    let summary = &checked.aligned;
    let zero = Summary {
        total: TypeCount::default(),
        by_type: Default::default(),
        loose_twins: 0,
    };
    let naive = checked.naive.as_ref().unwrap_or(&zero);

    let mut head = String::new();
    if let Some(w) = &meta.filter.window {
        head.push_str(&format!(
            "window: {} .. {} ({}) = {} .. {} UTC\n",
            crate::time::psql_text(w.start, &meta.display.zone),
            crate::time::psql_text(w.end, &meta.display.zone),
            meta.display.zone,
            w.start.format("%H:%M:%S%.3f"),
            w.end.format("%H:%M:%S%.3f")
        ));
    }
    head.push_str(&format!(
        "twins: same event type and payload, |(log − created_at) − ({:+.1} ms)| ≤ {:.0} ms, one-to-one\n\n",
        crate::clock::skew::tidy(meta.lag_us as f64 / 1000.0),
        meta.tolerance_us as f64 / 1000.0
    ));
    head.push_str(&counts_table(summary, naive));
    head.push('\n');
    head.push_str(&by_type_table(summary, naive));
    head.push('\n');
    let v = View::new(t)?;
    let window = meta.filter.window;
    let extra = json!({
        "window": window.map(|w| json!({
            "start_utc": crate::time::rfc3339_micros(w.start.timestamp_micros()),
            "end_utc": crate::time::rfc3339_micros(w.end.timestamp_micros()),
        })),
        "matching": { "lag_ms": meta.lag_us as f64 / 1000.0, "tolerance_ms": meta.tolerance_us as f64 / 1000.0 },
        "summary": { "aligned": summary, "naive": naive },
    });
    let verdict = Verdict {
        fail_on: s.fail_on,
        baseline: None,
    };
    let mut r = Report::of("missing-logs", &checked, verdict);
    r.table = head;
    r.json = Extra {
        fields: extra,
        arrays: vec![("twins", twins_json(&v, &checked.matching, window))],
    };
    finish(r, o.format, out)
}

fn counts_table(a: &Summary, n: &Summary) -> String {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "",
        "DB rows",
        "log event lines",
        "twins",
        "missing in log",
        "missing in DB",
        "no log coverage",
    ]);
    let row = |label: &str, c: &TypeCount| {
        vec![
            label.to_string(),
            c.db_rows.to_string(),
            c.log_lines.to_string(),
            c.twins.to_string(),
            c.missing_in_log.to_string(),
            c.missing_in_db.to_string(),
            c.no_log_coverage.to_string(),
        ]
    };
    t.add_row(row("aligned (clocks above)", &a.total));
    t.add_row(row("naive (log time read as DB time)", &n.total));
    format!("{t}\n")
}

fn by_type_table(a: &Summary, n: &Summary) -> String {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "event type",
        "DB rows",
        "log lines (naive)",
        "log lines (aligned)",
        "twins",
        "missing in log",
        "missing in DB",
    ]);
    let zero = TypeCount::default();
    let mut types: Vec<&String> = a.by_type.keys().chain(n.by_type.keys()).collect();
    types.sort();
    types.dedup();
    for ty in types {
        let (x, y) = (
            a.by_type.get(ty).unwrap_or(&zero),
            n.by_type.get(ty).unwrap_or(&zero),
        );
        t.add_row(vec![
            ty.clone(),
            x.db_rows.to_string(),
            y.log_lines.to_string(),
            x.log_lines.to_string(),
            x.twins.to_string(),
            x.missing_in_log.to_string(),
            x.missing_in_db.to_string(),
        ]);
    }
    format!("{t}\n")
}

/// Every matched pair with a DB row in the window: the evidence behind the counts.
/// The twins of the window, by DB id, as a JSON array made while it is written.
fn twins_json<'a>(
    v: &'a View<'a>,
    m: &'a crate::checks::matching::Matching,
    window: Option<UtcRange>,
) -> crate::report::findings::LazyArray<'a> {
    let mut pairs: Vec<&crate::checks::matching::Pair> = m
        .pairs
        .iter()
        .filter(|x| {
            let t = v.ts_utc.get(x.db).unwrap_or(0);
            window.is_none_or(|w| w.start.timestamp_micros() <= t && t < w.end.timestamp_micros())
        })
        .collect();
    pairs.sort_by_key(|x| v.event_id.get(x.db));
    crate::report::findings::LazyArray {
        len: pairs.len(),
        at: Box::new(move |i| {
            let x = pairs[i];
            json!({
                "event_id": v.event_id.get(x.db),
                "log": { "file": v.s("file", x.log), "line": v.line.get(x.log) },
                "delta_ms": x.delta_us as f64 / 1000.0,
                "loose": x.loose,
            })
        }),
    }
}
