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
        "offset",
        "plausible zones",
        "method",
        "anchors",
        "lag",
        "spread",
        "confidence",
        "pin it with",
    ]);

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
            "+00:00".into(),
            String::new(),
            method.clone(),
            epoch.map_or(0, |e| e.anchors).to_string(),
            epoch
                .map(|e| format!("{:+.1} ms min", e.min_lag_ms))
                .unwrap_or_default(),
            String::new(),
            String::new(),
            String::new(),
        ]);
        table.add_row(vec![
            "db display".into(),
            format_offset(display.zone.offset_at(chrono::Utc::now())),
            match display.zone {
                crate::time::Zone::Iana(tz) => tz.name().to_string(),
                crate::time::Zone::Fixed(o) => plausible_zones(o.local_minus_utc()).to_string(),
            },
            display.provenance.to_string(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            "--tz ZONE".into(),
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
        let detected = est.and_then(|e| e.offset());
        let applied = &d.clock;
        let offset = match (&applied.provenance, detected) {
            (Provenance::Detected { .. }, _)
            | (Provenance::Given { .. }, _)
            | (Provenance::Unaligned, _) => {
                let mut o = vec![applied.zone.to_string()];
                o.extend(
                    applied
                        .changes
                        .iter()
                        .map(|(l, z)| format!("{z} from line {l}")),
                );
                o.join(", ")
            }
            _ => "?".into(),
        };
        let pin = detected
            .map(|o| format!("--log-tz '{}={}'", d.file, format_offset(o)))
            .unwrap_or_default();
        let zones = detected
            .map(|o| plausible_zones(o.local_minus_utc()))
            .unwrap_or("");
        table.add_row(vec![
            d.file.clone(),
            offset,
            zones.to_string(),
            match &applied.provenance {
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
                other => other.to_string(),
            },
            est.map_or(0, |e| e.anchors).to_string(),
            est.map(|e| format!("{:+.1} ms", crate::clock::skew::tidy(e.lag_median_ms)))
                .unwrap_or_default(),
            est.map(|e| format!("±{:.1} ms", e.spread_ms))
                .unwrap_or_default(),
            est.map(|e| format!("{:?}", e.confidence).to_lowercase())
                .unwrap_or_else(|| "none".into()),
            pin.clone(),
        ]);
        sources.insert(
            d.file.clone(),
            json!({
                "offset_s": detected.map(|o| o.local_minus_utc()),
                "zone": detected.map(format_offset),
                "plausible_zones": zones,
                "method": est.map(|e| e.method),
                "message_anchors": est.map_or(0, |e| e.message_anchors),
                "anchors": est.map_or(0, |e| e.anchors),
                "candidates": est.map_or(0, |e| e.candidates),
                "agreement": est.map(|e| e.agreement),
                "lag_ms": est.map(|e| e.lag_median_ms),
                "spread_ms": est.map(|e| e.spread_ms),
                "confidence": est.map(|e| e.confidence),
                "segments": est.map(|e| &e.segments),
                "applied": { "zone": applied.zone.to_string(), "provenance": applied.provenance },
                "pin": pin,
            }),
        );
    }
    let mut table_text = format!("{table}\n");
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
