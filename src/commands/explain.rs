//! `audit explain SUBJECT`: what happened to a signal, position, correlation id, window, DB
//! row (`db:ID`) or log record (`FILE:LINE`), and what is really wrong — one page built from
//! the engine's findings. The subject is located first (a signal or window is read as
//! `timeline` reads it: searched, not scanned), then every check runs over its neighbourhood
//! (10 minutes either side) with the naive reading's counts beside the aligned ones.

use std::collections::BTreeSet;
use std::io::Write;

use anyhow::Context;
use serde_json::json;

use super::Outcome;
use crate::checks::missing::Direction;
use crate::cli::ExplainArgs;
use crate::config::Config;
use crate::error::AuditError;
use crate::load::{EventsSpec, Question, ReadPlan};
use crate::report::Format;
use crate::report::story::{Story, Subject};
use crate::settings::Settings;
use crate::time::WindowSpec;
use crate::timeline::{Timeline, View};

/// How far around the subject the checks look: inversions compare rows up to 10 minutes apart.
const AROUND_US: i64 = 10 * 60 * 1_000_000;

/// A subject given as a word: `db:ID` or `FILE:LINE`.
enum Named {
    Db(i64),
    Line(String, u32),
}

fn named(text: &str) -> Result<Named, AuditError> {
    if let Some(id) = text.strip_prefix("db:") {
        return id.trim().parse().map(Named::Db).map_err(|_| {
            AuditError::usage(format!("`{text}`: db:ID takes a row id, e.g. db:785194"))
        });
    }
    match text.rsplit_once(':') {
        Some((file, line)) if !file.is_empty() => line
            .parse()
            .map(|l| Named::Line(file.to_string(), l))
            .map_err(|_| {
                AuditError::usage(format!(
                    "`{text}`: FILE:LINE takes a line number, e.g. bot_20251018_145959.log:909"
                ))
            }),
        _ => Err(AuditError::usage(format!(
            "`{text}` is not a subject: give db:ID, FILE:LINE, or --signal/--position/--correlation/--window"
        ))),
    }
}

fn base(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

pub fn run(
    args: &ExplainArgs,
    config: &Config,
    quiet: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let o = &args.common;
    let format = o.format;
    if !matches!(format, Format::Table | Format::Json | Format::Markdown) {
        return Err(AuditError::usage(format!(
            "audit explain writes table, json or markdown, not {format:?}"
        ))
        .into());
    }
    let mut settings = Settings::of_check(o, config)?;
    let f = &settings.filter;
    let by_filter = f.signal.is_some()
        || f.position.is_some()
        || f.correlation.is_some()
        || f.window.is_some()
        || f.symbol.is_some();
    let named = match (&args.subject, by_filter) {
        (Some(s), false) => Some(named(s)?),
        (None, true) => None,
        (Some(_), true) => {
            return Err(AuditError::usage(
                "give one subject: db:ID / FILE:LINE, or a filter (--signal, --position, --correlation, --window)",
            )
            .into());
        }
        (None, false) => {
            return Err(AuditError::usage(
                "what to explain? give db:ID, FILE:LINE, --signal N, --position N, --correlation ID or --window A-B",
            )
            .into());
        }
    };
    let label = match (&args.subject, f) {
        (Some(s), _) => s.clone(),
        (None, f) => {
            let mut parts = Vec::new();
            if let Some(s) = f.signal {
                parts.push(format!("--signal {s}"));
            }
            if let Some(p) = f.position {
                parts.push(format!("--position {p}"));
            }
            if let Some(c) = &f.correlation {
                parts.push(format!("--correlation {c}"));
            }
            if let Some(s) = &f.symbol {
                parts.push(format!("--symbol {s}"));
            }
            if let Some(w) = &f.window {
                parts.push(format!("--window {w}"));
            }
            parts.join(" ")
        }
    };

    // 1. Locate the subject.
    let q = Question {
        filter: if named.is_some() {
            crate::timeline::FilterSpec {
                window: settings.range.map(|r| WindowSpec::absolute(r.start, r.end)),
                ..Default::default()
            }
        } else {
            settings.filter.clone()
        },
        no_align: settings.no_align,
        margin_us: 0,
        messages: false,
    };
    // Seek, don't scan: a DB row, a signal, a position or a correlation id is found in the
    // database alone (filters pushed into SQL; its times are absolute), and their log lines
    // are picked from the neighbourhood's timeline below. A log record needs the DB too: its
    // file's clock is detected from the twins.
    let mut sources = settings.sources.clone();
    let has_db = !matches!(sources.events, EventsSpec::None);
    if has_db && settings.filter.window.is_none() && !matches!(named, Some(Named::Line(..))) {
        sources.logs.clear();
    }
    let plan = ReadPlan::new(&sources, &q, &settings.tuning, false)?;
    let loaded = crate::load::load(&sources, &q, &plan)?;
    let clocks = loaded.log_clocks();
    let filter = loaded.filter.clone();
    let t = Timeline::build(loaded.events, loaded.logs, &clocks, &filter)
        .context("cannot build the timeline frame")?;
    let v = View::new(&t)?;
    let mut event_ids: BTreeSet<i64> = BTreeSet::new();
    let mut logs: BTreeSet<(String, u32)> = BTreeSet::new();
    let mut positions: BTreeSet<i64> = BTreeSet::new();
    let mut times: Vec<i64> = Vec::new();
    let mut take = |i: usize| {
        times.push(v.ts_utc.get(i).unwrap_or(0));
        positions.extend(v.position_id.get(i));
        match v.s("source", i) {
            Some("db") => {
                event_ids.extend(v.event_id.get(i));
            }
            _ => {
                if let (Some(f), Some(l)) = (v.s("file", i), v.line.get(i)) {
                    logs.insert((f.to_string(), l));
                }
            }
        }
    };
    let subject_json = match &named {
        Some(Named::Db(id)) => {
            if let Some(i) = (0..v.len())
                .find(|&i| v.s("source", i) == Some("db") && v.event_id.get(i) == Some(*id))
            {
                take(i);
            }
            json!({ "db": id })
        }
        Some(Named::Line(file, line)) => {
            // The record holding that line: its first line is at or before it.
            let want = base(file);
            if let Some(i) = (0..v.len())
                .filter(|&i| v.s("file", i).is_some_and(|f| f == want))
                .filter(|&i| v.line.get(i).is_some_and(|l| l <= *line))
                .max_by_key(|&i| v.line.get(i).unwrap_or(0))
            {
                take(i);
            }
            json!({ "file": want, "line": line })
        }
        None => {
            let kinds_kept = |i: usize| {
                v.s("source", i) == Some("db")
                    || matches!(v.s("kind", i), Some(k) if k != "message")
            };
            for i in (0..v.len()).filter(|&i| kinds_kept(i)) {
                take(i);
            }
            filter.to_json(None)
        }
    };
    drop(v);
    drop(t);
    let (Some(&first), Some(&last)) = (times.iter().min(), times.iter().max()) else {
        return Err(
            AuditError::usage(format!("{label}: nothing in these sources matches it")).into(),
        );
    };
    let (first, last) = match filter.window {
        Some(w) if named.is_none() => (
            first.min(w.start.timestamp_micros()),
            last.max(w.end.timestamp_micros()),
        ),
        _ => (first, last),
    };
    let scope = (first - AROUND_US, last + AROUND_US);
    let by_filter = named.is_none();
    let subject = Subject {
        label,
        json: subject_json,
        event_ids,
        logs,
        first,
        last,
        scope,
        window: filter
            .window
            .filter(|_| by_filter)
            .map(|w| (w.start.timestamp_micros(), w.end.timestamp_micros())),
        signal: filter.signal.filter(|_| by_filter),
        positions: if by_filter && (filter.signal.is_some() || filter.position.is_some()) {
            positions
        } else {
            BTreeSet::new()
        },
        correlation: filter.correlation.clone().filter(|_| by_filter),
    };

    // 2. Every check over the neighbourhood, with the naive reading's counts.
    let at = |us: i64| chrono::DateTime::from_timestamp_micros(us).unwrap_or_default();
    settings.filter = crate::timeline::FilterSpec {
        window: Some(WindowSpec::absolute(at(scope.0), at(scope.1))),
        ..Default::default()
    };
    settings.range = None;
    let checked = crate::engine::run(&settings.request(Direction::Both, true), None)?;
    let p = &checked.prepared;
    crate::report::banner::print_banner(&p.timeline, &p.loaded_meta.decisions, quiet, err)?;

    // 3. The story.
    let story = Story::build(&subject, &checked)?;
    let text = match format {
        Format::Json => story.json()?,
        Format::Markdown => story.text(true),
        _ => {
            use std::io::IsTerminal;
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            if std::io::stdout().is_terminal() && !no_color {
                story.coloured()
            } else {
                story.text(false)
            }
        }
    };
    out.write_all(text.as_bytes())?;
    let verdict = crate::engine::Verdict {
        fail_on: settings.fail_on,
        baseline: None,
    };
    Ok(Outcome::of(&verdict, &checked.findings))
}
