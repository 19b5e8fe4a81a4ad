//! The human view: what was read, which clocks were applied (and why), then a table ordered by
//! UTC with each source's own local reading beside it — the view that would have shown the
//! seed report's "14:07" and "15:07" to be the same minute.

use std::fmt::Write as _;

use comfy_table::{ContentArrangement, Table, presets};

use super::View;
use crate::time::Provenance;
use crate::time::format_offset;
use crate::timeline::{ClockEntry, Timeline};

/// Cut a message to its first line and `max` characters, saying what was left out.
pub fn first_line(msg: &str, max: usize) -> String {
    let mut lines = msg.lines();
    let first = lines.next().unwrap_or("");
    let more = lines.count();
    let mut out: String = first.chars().take(max).collect();
    if first.chars().count() > max {
        out.push('…');
    }
    if more > 0 {
        let _ = write!(out, " (+{more} lines)");
    }
    out
}

/// A source's clock as applied, on one line (and one more per step of a log file's clock).
pub fn clock_line(c: &ClockEntry) -> String {
    let offsets = if c.offsets.is_empty() {
        c.zone.clone()
    } else {
        c.offsets.join(", ")
    };
    let zone = if c.offsets.len() == 1 && c.zone == c.offsets[0] {
        String::new()
    } else {
        format!(" {}", c.zone)
    };
    let what = match c.role.as_str() {
        "display" => "db (shown in)".to_string(),
        "storage" => "db created_at (naive, written in)".to_string(),
        _ => c.source.clone(),
    };
    let warn = if matches!(c.provenance, Provenance::Assumed { .. }) {
        "  ⚠"
    } else {
        ""
    };
    let mut line = format!("  {what}: {offsets}{zone} — {}{warn}", c.provenance);
    for st in &c.steps {
        line.push_str(&format!(
            "\n    step at {}:{} ({} UTC): {} → {}",
            c.source,
            st.line,
            st.at_utc.get(11..23).unwrap_or(&st.at_utc),
            crate::time::format_offset_us((st.before_s * 1e6).round() as i64),
            crate::time::format_offset_us((st.after_s * 1e6).round() as i64),
        ));
        match (&st.window_utc, &st.between_lines) {
            (Some(w), Some(l)) if l[0] != l[1] => line.push_str(&format!(
                " — or anywhere from line {} to line {} ({} to {} UTC): the records between fit it in either place",
                l[0],
                l[1],
                w[0].get(11..23).unwrap_or(&w[0]),
                w[1].get(11..23).unwrap_or(&w[1]),
            )),
            (Some(w), _) => line.push_str(&format!(
                " — somewhere from {} to {} UTC: no record was written in between",
                w[0].get(11..23).unwrap_or(&w[0]),
                w[1].get(11..23).unwrap_or(&w[1]),
            )),
            _ => {}
        }
    }
    line
}

/// The lines above every table: sources with counts, clocks with provenance.
pub fn header(t: &Timeline) -> String {
    let mut s = String::new();
    if let Some(e) = &t.sources.events {
        let _ = write!(s, "events: {} ({}, {} rows read", e.origin, e.kind, e.rows);
        if !e.skipped.is_empty() {
            let _ = write!(s, ", {} skipped", e.skipped.len());
        }
        s.push_str(")\n");
    }
    for l in &t.sources.logs {
        let st = &l.stats;
        match st.parsed_bytes {
            // Searched, not parsed (a window or a signal over a big file): records were only
            // counted in what was parsed.
            Some(p) => {
                let mib = |b: u64| b as f64 / f64::from(1 << 20);
                let how = if st.from_index {
                    "indexed by an earlier run"
                } else {
                    "searched"
                };
                let _ = write!(
                    s,
                    "log:    {} ({} lines {how}, {:.1} of {:.1} MiB parsed",
                    l.name,
                    st.lines,
                    mib(p),
                    mib(st.bytes)
                );
            }
            None => {
                let _ = write!(
                    s,
                    "log:    {} ({} records, {} lines",
                    l.name, st.records, st.lines
                );
            }
        }
        if let Some(p) = l.pids.first() {
            let _ = write!(s, ", PID {p}");
        }
        if let Some(level) = l
            .level
            .as_deref()
            .filter(|l| !matches!(*l, "INFO" | "DEBUG"))
        {
            let _ = write!(s, ", logging level {level}");
        }
        for (n, what) in [
            (st.invalid_utf8_lines, "invalid UTF-8 lines"),
            (st.orphan_lines, "lines before the first record"),
            (st.malformed_events, "malformed event lines"),
        ] {
            if n > 0 {
                let _ = write!(s, ", {n} {what}");
            }
        }
        s.push_str(")\n");
    }
    s.push_str("clocks (every time below is placed on UTC with these):\n");
    for c in &t.clocks {
        s.push_str(&clock_line(c));
        s.push('\n');
    }
    s
}

/// The timeline as a table.
pub fn timeline(t: &Timeline, v: &View<'_>, wide: bool) -> String {
    let db_offsets: Vec<&str> = distinct(v, "db");
    let log_offsets: Vec<&str> = distinct(v, "log");
    let label = |what: &str, offs: &[&str]| match offs {
        [one] => format!("{what} ({one})"),
        _ => what.to_string(),
    };
    let days: std::collections::BTreeSet<String> = (0..v.len())
        .filter_map(|i| v.ts_utc.get(i))
        .map(day)
        .collect();
    let utc_head = match days.len() {
        1 => format!("UTC {}", days.iter().next().map_or("", |d| d.as_str())),
        _ => "UTC".to_string(),
    };
    let mut table = Table::new();
    table.load_preset(presets::UTF8_FULL_CONDENSED);
    table.set_content_arrangement(ContentArrangement::Disabled);
    table.set_header(vec![
        utc_head,
        label("DB shows", &db_offsets),
        label("log wrote", &log_offsets),
        "source".to_string(),
        "level".to_string(),
        "event".to_string(),
        "symbol".to_string(),
        "pos".to_string(),
        "message".to_string(),
    ]);
    let max = if wide { usize::MAX } else { 60 };
    for i in 0..v.len() {
        let us = v.ts_utc.get(i).unwrap_or_default();
        let utc = if days.len() == 1 {
            crate::time::hms(us)
        } else {
            format!("{} {}", day(us), crate::time::hms(us))
        };
        let is_db = v.s("source", i) == Some("db");
        let local = local_reading(v, i, is_db);
        let (db_col, log_col) = if is_db {
            (local, String::new())
        } else {
            (String::new(), local)
        };
        let kind = v.s("kind", i).unwrap_or_default();
        let event = match (v.s("event_type", i), kind) {
            (Some(e), "event") => e.to_string(),
            (Some(e), k) => format!("{e} ({k})"),
            (None, "message") => String::new(),
            (None, k) => k.to_string(),
        };
        let msg = if !is_db && kind == "event" {
            // The event column already says the type: show the dict.
            let m = v.s("message", i).unwrap_or_default();
            let et = v.s("event_type", i).unwrap_or_default();
            m.strip_prefix(et)
                .and_then(|r| r.strip_prefix(": "))
                .unwrap_or(m)
                .to_string()
        } else if is_db && v.s("message", i).unwrap_or_default().is_empty() {
            // A DB row without an error: its payload says more with the correlation id first.
            match v.s("correlation_id", i) {
                Some(c) => format!("{c} {}", v.s("payload", i).unwrap_or_default()),
                None => v.s("payload", i).unwrap_or_default().to_string(),
            }
        } else {
            v.s("message", i).unwrap_or_default().to_string()
        };
        table.add_row(vec![
            utc,
            db_col,
            log_col,
            v.s("source_ref", i).unwrap_or_default().to_string(),
            v.s("level", i).unwrap_or_default().to_string(),
            event,
            v.s("symbol", i).unwrap_or_default().to_string(),
            v.position_id
                .get(i)
                .map(|p| p.to_string())
                .unwrap_or_default(),
            first_line(&msg, max),
        ]);
    }
    let mut s = header(t);
    s.push('\n');
    s.push_str(&table.to_string());
    s.push('\n');
    let db = (0..v.len())
        .filter(|&i| v.s("source", i) == Some("db"))
        .count();
    let _ = writeln!(s, "{} rows ({} db, {} log)", v.len(), db, v.len() - db);
    s
}

fn distinct<'a>(v: &View<'a>, source: &str) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for i in 0..v.len() {
        if v.s("source", i) == Some(source) {
            if let Some(o) = v.s("utc_offset", i) {
                if !out.contains(&o) {
                    out.push(o);
                }
            }
        }
    }
    out
}

fn day(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

/// A row's reading on its own clock: the log's time as written (comma and all), or the DB
/// time in the display zone with milliseconds.
fn local_reading(v: &View<'_>, i: usize, is_db: bool) -> String {
    let raw = v.s("local_time", i).unwrap_or_default();
    if !is_db {
        // `2025-10-18 15:07:13,510` → `15:07:13,510`
        return raw.split_once(' ').map_or(raw, |(_, t)| t).to_string();
    }
    let us = v.ts_utc.get(i).unwrap_or_default();
    let off = v.s("utc_offset", i).and_then(crate::time::parse_offset);
    match off {
        Some(o) => {
            let t = chrono::DateTime::from_timestamp_micros(us)
                .unwrap_or_default()
                .naive_utc()
                + o;
            let s = t.format("%H:%M:%S%.3f").to_string();
            if o.local_minus_utc() == 0 {
                s
            } else {
                format!("{s}{}", short_offset(&format_offset(o)))
            }
        }
        None => raw.to_string(),
    }
}

fn short_offset(o: &str) -> &str {
    o.strip_suffix(":00").unwrap_or(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_line_says_what_it_cut() {
        assert_eq!(first_line("short", 10), "short");
        assert_eq!(first_line("abcdefghijk", 5), "abcde…");
        assert_eq!(first_line("boom\nTraceback\n  File", 50), "boom (+2 lines)");
        assert_eq!(first_line("", 5), "");
    }
}
