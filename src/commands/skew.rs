//! `audit skew`: each source's clock, detected from anchors that do not depend on zones —
//! before anything is compared.

use std::io::Write;

use comfy_table::{Table, presets};
use serde_json::json;

use super::{Outcome, finish, one_check};
use crate::checks::Check;
use crate::checks::missing::Direction;
use crate::cli::SkewArgs;
use crate::config::Config;
use crate::engine::Verdict;
use crate::report::Report;
use crate::time::Provenance;
use crate::time::format_offset;

/// A few IANA zones per offset, to recognise a host: whole and half hours (and Nepal's 45).
fn plausible_zones(offset_s: i32) -> &'static str {
    match offset_s / 60 {
        -480 => "America/Los_Angeles (PST)",
        -420 => "America/Denver (MST), America/Los_Angeles (PDT)",
        -300 => "America/New_York (EST), America/Chicago (CDT)",
        -240 => "America/New_York (EDT)",
        -180 => "America/Sao_Paulo",
        0 => "UTC, Europe/London (GMT)",
        60 => "Europe/Berlin (CET), Europe/London (BST)",
        120 => "Europe/Berlin (CEST), Europe/Kyiv (EET)",
        180 => "Europe/Moscow, Europe/Istanbul",
        210 => "Asia/Tehran",
        240 => "Asia/Dubai, Europe/Samara, Asia/Tbilisi",
        270 => "Asia/Kabul",
        300 => "Asia/Karachi, Asia/Tashkent",
        330 => "Asia/Kolkata",
        345 => "Asia/Kathmandu",
        360 => "Asia/Almaty",
        420 => "Asia/Bangkok",
        480 => "Asia/Singapore, Asia/Shanghai",
        540 => "Asia/Tokyo",
        600 => "Australia/Sydney (AEST)",
        _ => "",
    }
}

/// A file's logging level as the skew table shows it: `WARNING (inferred: 0 INFO among 520
/// records)`, `INFO`, or `?` when it cannot be told.
fn level_text(meta: &crate::engine::Meta, file: &str) -> String {
    match meta.levels.iter().find(|l| l.0 == file) {
        Some((_, level, by)) if by.starts_with("inferred: ") && level.name() == "INFO" => {
            "INFO".into()
        }
        Some((_, level, by)) if by == "cannot be told" => format!("? (judged as {})", level.name()),
        Some((_, level, by)) => format!("{} ({by})", level.name()),
        None => String::new(),
    }
}

pub fn run(
    args: &SkewArgs,
    config: &Config,
    quiet: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let o = &args.common;
    let (settings, checked) =
        one_check(o, config, Check::Skew, Direction::Both, false, quiet, err)?;
    let meta = &checked.prepared.loaded_meta;
    let t = &checked.prepared.timeline;
    let mut sources = serde_json::Map::new();
    let mut table = Table::new();
    table.load_preset(presets::UTF8_FULL_CONDENSED);
    table.set_header(vec![
        "source",
        "zone",
        "skew",
        "drift",
        "steps",
        "spread",
        "anchors",
        "confidence",
        "clock",
        "pin it with",
        "log level",
    ]);
    let mut step_lines: Vec<String> = Vec::new();

    if let Some(ev) = &t.sources.events {
        let display = &meta.display;
        let storage = t.clocks.iter().find(|c| c.role == "storage");
        let method = match storage {
            Some(s) => format!("naive created_at, {}", s.provenance),
            None => "timestamptz (absolute)".into(),
        };
        let epoch = meta.epoch.as_ref();
        let epoch_text = epoch
            .map(|e| {
                format!(
                    "{} correlation epochs, created_at − epoch ≥ {:+.1} ms (median {:+.1} ms)",
                    e.anchors, e.min_lag_ms, e.median_lag_ms
                )
            })
            .unwrap_or_default();
        table.add_row(vec![
            format!("db ({})", ev.kind),
            "UTC".into(),
            String::new(),
            String::new(),
            String::new(),
            epoch
                .map(|e| format!("created_at − epoch ≥ {:+.1} ms", e.min_lag_ms))
                .unwrap_or_default(),
            epoch.map_or(0, |e| e.anchors).to_string(),
            String::new(),
            method.clone(),
            String::new(),
            String::new(),
        ]);
        table.add_row(vec![
            "db display".into(),
            match display.zone {
                crate::time::Zone::Iana(tz) => format!(
                    "{} ({})",
                    format_offset(display.zone.offset_at(chrono::Utc::now())),
                    tz.name()
                ),
                crate::time::Zone::Fixed(o) => {
                    let z = plausible_zones(o.local_minus_utc());
                    if z.is_empty() {
                        format_offset(o)
                    } else {
                        format!("{} ({z})", format_offset(o))
                    }
                }
            },
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            display.provenance.to_string(),
            "--tz ZONE".into(),
            String::new(),
        ]);
        sources.insert(
            "db".into(),
            json!({
                "storage": method,
                "offset_s": 0,
                "display_zone": display.zone.to_string(),
                "display_method": display.provenance,
                "epoch_check": epoch,
                "detail": epoch_text,
            }),
        );
        if let Some(e) = epoch.filter(|e| !e.negative.is_empty()) {
            writeln!(
                err,
                "warning: {} row(s) have created_at before their own correlation epoch (clock anomaly): {:?}",
                e.negative.len(),
                e.negative
            )?;
        }
    }

    for d in &meta.decisions {
        let est = d.estimate.as_ref();
        let applied = &d.clock;
        let entry = t
            .clocks
            .iter()
            .find(|c| c.role == "log" && c.source == d.file);
        let first = applied.pieces.first();
        let whole = applied.zone();
        let zone_text = match whole {
            crate::time::Zone::Fixed(o) => {
                let z = plausible_zones(o.local_minus_utc());
                if z.is_empty() {
                    format_offset(o)
                } else {
                    format!("{} ({z})", format_offset(o))
                }
            }
            z => z.to_string(),
        };
        let unsettled = d.unsettled();
        let skew_ms = first.map_or(0.0, |p| p.skew_us / 1000.0);
        let drift = first.map_or(0.0, |p| p.drift_ppm);
        let steps = entry.map_or(&[][..], |e| e.steps.as_slice());
        for st in steps {
            step_lines.push(format!(
                "step: {}:{} at {} UTC, {} → {} ({:+.3} s)",
                d.file,
                st.line,
                st.at_utc.get(11..23).unwrap_or(&st.at_utc),
                crate::time::format_offset_us((st.before_s * 1e6).round() as i64),
                crate::time::format_offset_us((st.after_s * 1e6).round() as i64),
                st.after_s - st.before_s
            ));
        }
        let pin = match (unsettled, &applied.provenance) {
            (_, Provenance::Unaligned) => String::new(),
            (true, _) => format!("--log-tz '{}=+HH:MM'", d.file),
            (false, _) => format!("--log-tz '{}={}'", d.file, whole),
        };
        let how = match &applied.provenance {
            Provenance::Detected { .. } => match est.map(|e| e.method) {
                Some(crate::clock::skew::Method::UtcInMessage) => {
                    "detected (UTC in messages)".to_string()
                }
                _ => format!(
                    "detected (twins{})",
                    est.filter(|e| e.message_anchors > 0)
                        .map(|e| format!(" + {} UTC in messages", e.message_anchors))
                        .unwrap_or_default()
                ),
            },
            Provenance::Given { by } if !applied.is_zone_only() => {
                format!("given by {by}; skew and drift measured")
            }
            Provenance::Borrowed { from, .. } => format!("borrowed from {}", from.join(", ")),
            Provenance::Assumed { .. } => "UNSETTLED: not judged".into(),
            other => other.to_string(),
        };
        table.add_row(vec![
            d.file.clone(),
            if unsettled { "?".into() } else { zone_text },
            if unsettled {
                String::new()
            } else {
                format!("{:+.1} ms", crate::clock::skew::tidy(skew_ms))
            },
            if unsettled {
                String::new()
            } else {
                format!("{:+.1} ppm", crate::clock::skew::tidy(drift))
            },
            match steps.len() {
                0 => String::new(),
                n => format!("{n}, first at line {}", steps[0].line),
            },
            est.filter(|e| e.anchors > 0)
                .map(|e| format!("±{:.1} ms", e.spread_ms))
                .unwrap_or_default(),
            est.map_or(0, |e| e.anchors).to_string(),
            est.map(|e| format!("{:?}", e.confidence).to_lowercase())
                .unwrap_or_else(|| "none".into()),
            how,
            pin.clone(),
            level_text(meta, &d.file),
        ]);
        let detected = est.and_then(|e| e.offset());
        sources.insert(
            d.file.clone(),
            json!({
                "offset_s": entry
                    .and_then(|e| e.offsets.first())
                    .and_then(|o| crate::time::parse_offset_us(o))
                    .map(crate::report::json::seconds),
                "zone": whole.to_string(),
                "plausible_zones": detected.map(|o| plausible_zones(o.local_minus_utc())).unwrap_or(""),
                "skew_ms": skew_ms,
                "drift_ppm": drift,
                "status": match &applied.provenance {
                    Provenance::Given { .. } => "given",
                    Provenance::Detected { .. } => "detected",
                    Provenance::Borrowed { .. } => "borrowed",
                    Provenance::Assumed { .. } => "unsettled",
                    Provenance::Unaligned => "unaligned",
                    _ => "other",
                },
                "method": est.map(|e| e.method),
                "message_anchors": est.map_or(0, |e| e.message_anchors),
                "anchors": est.map_or(0, |e| e.anchors),
                "candidates": est.map_or(0, |e| e.candidates),
                "agreement": est.map(|e| e.agreement),
                "spread_ms": est.map(|e| e.spread_ms),
                "confidence": est.map(|e| e.confidence),
                "segments": entry.map(|e| &e.segments),
                "steps": entry.map(|e| &e.steps),
                "fit": est.map(|e| &e.segments),
                "applied": { "zone": whole.to_string(), "provenance": applied.provenance },
                "pin": pin,
            }),
        );
    }
    let mut table_text = format!("{table}\n");
    for l in &step_lines {
        table_text.push_str(l);
        table_text.push('\n');
    }
    if !checked.findings.is_empty() {
        table_text.push('\n');
    }
    let verdict = Verdict {
        fail_on: settings.fail_on,
        baseline: None,
    };
    let mut r = Report::of("skew", &checked, verdict);
    r.table = table_text;
    r.json = json!({ "skew": sources }).into();
    finish(r, o.format, out)
}
