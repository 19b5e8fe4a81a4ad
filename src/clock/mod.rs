//! Clocks: the one place that reasons about how a source's readings become instants.
//!
//! The bot's evidence is written on three clocks (REFERENCE.md): correlation-id epochs in UTC,
//! `created_at` (absolute, but *shown* in the DB session's zone), and log lines in the log
//! host's naive local time. The instants of the timeline are the DB's `created_at`; every log
//! file gets a [`SourceClock`] that places its naive readings on them, and says where it came
//! from, so every output can say which offsets it applied and why.
//!
//! The model: naive local time = UTC + offset(t), with offset(t) piecewise linear. Each
//! [`Piece`] (a stretch between two steps: an NTP correction, a VM resume, DST, a host that
//! moved) is a zone (whole quarter hours, or a named zone with its DST) plus a skew (any value,
//! to the microsecond) growing with a drift (ppm) of the source's own clock. The same model
//! describes a log host whose clock is seconds off, and a DB server that stamps `created_at`
//! on another machine: the offset is always the log's against the DB's. [`skew`] estimates it
//! from the data.

pub mod fit;
pub mod skew;

use crate::time::{Provenance, Zone};

/// One stretch of a source's clock, between two steps.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    /// The first line read with this piece.
    pub first_line: u32,
    /// The whole-zone part of the offset: fixed quarter hours, or a named zone and its DST.
    pub zone: Zone,
    /// The rest of the offset at `t0_local`, µs: how far the source's clock is off.
    pub skew_us: f64,
    /// How fast the rest grows, µs per second of the source's own clock (ppm).
    pub drift_ppm: f64,
    /// The naive reading at which the skew is `skew_us`.
    pub t0_local: i64,
    /// The naive reading of the piece's first record (its step's), when known.
    pub first_local: Option<i64>,
    /// The naive reading of the record before it (on the piece before), when known: the step
    /// happened between the two.
    pub before_local: Option<i64>,
    /// Where else its step may be, when the records cannot tell.
    pub window: Option<skew::StepWindow>,
}

impl Piece {
    /// A piece that is exactly a zone.
    pub fn zone(first_line: u32, zone: Zone) -> Piece {
        Piece {
            first_line,
            zone,
            skew_us: 0.0,
            drift_ppm: 0.0,
            t0_local: 0,
            first_local: None,
            before_local: None,
            window: None,
        }
    }

    /// The skew at a naive reading, µs.
    pub fn skew_at(&self, ts_local: i64) -> f64 {
        self.skew_us + self.drift_ppm * 1e-6 * (ts_local - self.t0_local) as f64
    }

    /// A naive reading placed on UTC (µs). The skew is applied in whole milliseconds: a log
    /// line's time has no finer resolution, and an instant a fraction of a millisecond off its
    /// line's own would only look like precision.
    pub fn utc(&self, ts_local: i64) -> i64 {
        let zoned = match self.zone {
            Zone::Fixed(off) => ts_local - i64::from(off.local_minus_utc()) * 1_000_000,
            zone => {
                let local = chrono::DateTime::from_timestamp_micros(ts_local)
                    .unwrap_or_default()
                    .naive_utc();
                zone.to_utc(local).instant().timestamp_micros()
            }
        };
        if self.skew_us == 0.0 && self.drift_ppm == 0.0 {
            return zoned;
        }
        zoned - (self.skew_at(ts_local) / 1000.0).round() as i64 * 1000
    }

    /// The whole offset at a naive reading (local − UTC), µs.
    pub fn offset_us(&self, ts_local: i64) -> i64 {
        ts_local - self.utc(ts_local)
    }

    /// True when the piece is exactly its zone.
    pub fn is_zone_only(&self) -> bool {
        self.skew_us == 0.0 && self.drift_ppm == 0.0
    }
}

/// One source's clock: how its naive readings are placed on UTC, and why we believe it.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceClock {
    pub provenance: Provenance,
    /// In line order; the first holds from the start of the source. Never empty.
    pub pieces: Vec<Piece>,
}

impl SourceClock {
    /// A clock that is exactly a zone.
    pub fn new(zone: Zone, provenance: Provenance) -> Self {
        SourceClock {
            provenance,
            pieces: vec![Piece::zone(0, zone)],
        }
    }

    /// The zone of the first piece (the zone the source starts in).
    pub fn zone(&self) -> Zone {
        self.pieces.first().map_or(Zone::UTC, |p| p.zone)
    }

    /// Every zone the clock uses, in order of first use, without repeats.
    pub fn zones(&self) -> Vec<Zone> {
        let mut out: Vec<Zone> = Vec::new();
        for p in &self.pieces {
            if !out.contains(&p.zone) {
                out.push(p.zone);
            }
        }
        out
    }

    /// The pieces after the first: where the clock steps.
    pub fn steps(&self) -> &[Piece] {
        self.pieces.get(1..).unwrap_or_default()
    }

    /// The piece in force at a line (the last starting at or before it).
    pub fn piece_at_line(&self, line: u32) -> &Piece {
        let k = self.pieces.partition_point(|p| p.first_line <= line);
        &self.pieces[k.saturating_sub(1).min(self.pieces.len() - 1)]
    }

    /// The zone in force at a line.
    pub fn zone_at_line(&self, line: u32) -> Zone {
        self.piece_at_line(line).zone
    }

    /// A naive reading of this source at `line`, placed on UTC (µs): the one place a naive
    /// reading becomes an instant.
    pub fn utc(&self, ts_local: i64, line: u32) -> i64 {
        self.piece_at_line(line).utc(ts_local)
    }

    /// The most any piece is off its zone over the source's readings, µs (rounded up to the
    /// millisecond): a skew, and what a drift adds over a day on either side of its anchor.
    pub fn skew_bound_us(&self) -> i64 {
        const DAY_US: f64 = 86_400e6;
        self.pieces
            .iter()
            .map(|p| p.skew_us.abs() + p.drift_ppm.abs() * 1e-6 * DAY_US)
            .fold(0.0, f64::max)
            .div_euclid(1000.0) as i64
            * 1000
            + 1000
    }

    /// True when no piece has a skew or a drift (a zone, given or detected, and nothing more).
    pub fn is_zone_only(&self) -> bool {
        self.pieces.iter().all(Piece::is_zone_only)
    }
}

/// A per-file rule's parts (`--log-tz`, `--log-level`): `GLOB=VALUE` gives the file pattern and
/// the value's text, `VALUE` alone applies to every file.
pub fn split_file_rule(text: &str) -> Result<(Option<glob::Pattern>, &str), String> {
    Ok(match text.rsplit_once('=') {
        Some((p, v)) => {
            let p = glob::Pattern::new(p.trim())
                .map_err(|e| format!("invalid file pattern `{p}` in `{text}`: {e}"))?;
            (Some(p), v)
        }
        None => (None, text),
    })
}

/// A `--log-tz` rule: `+04:00` for every file, or `GLOB=ZONE` for the files whose name matches.
#[derive(Debug, Clone)]
pub struct LogTzRule {
    pub pattern: Option<glob::Pattern>,
    pub zone: Zone,
    /// `--log-tz` or `audit.toml`.
    pub by: String,
}

impl LogTzRule {
    /// Parses `ZONE` or `GLOB=ZONE`.
    pub fn parse(text: &str, by: &str) -> Result<LogTzRule, String> {
        let (pattern, zone) = split_file_rule(text)?;
        Ok(LogTzRule {
            pattern,
            zone: zone.parse()?,
            by: by.to_string(),
        })
    }

    fn matches(&self, file_name: &str) -> bool {
        self.pattern.as_ref().is_none_or(|p| p.matches(file_name))
    }

    fn describe(&self) -> String {
        match &self.pattern {
            Some(p) => format!("{} {}={}", self.by, p.as_str(), self.zone),
            None => format!("{} {}", self.by, self.zone),
        }
    }
}

/// Picks a log file's zone: rules are tried in order (flags before config); within one origin a
/// rule naming files beats a blanket one. Without a rule the zone is *assumed* UTC, and every
/// output says so.
pub fn log_clock(file_name: &str, rules: &[LogTzRule]) -> SourceClock {
    let specific = rules
        .iter()
        .find(|r| r.pattern.is_some() && r.matches(file_name));
    let chosen = specific.or_else(|| rules.iter().find(|r| r.pattern.is_none()));
    match chosen {
        Some(r) => SourceClock::new(r.zone, Provenance::Given { by: r.describe() }),
        None => SourceClock::new(
            Zone::UTC,
            Provenance::Assumed {
                why: format!("no zone given for {file_name}; pass --log-tz '{file_name}=+HH:MM'"),
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specific_rules_beat_blanket_ones_and_absence_is_loud() {
        let rules = vec![
            LogTzRule::parse("+03:00", "--log-tz").unwrap(),
            LogTzRule::parse("bot_*.log=+04:00", "--log-tz").unwrap(),
        ];
        let c = log_clock("bot_20251018_145959.log", &rules);
        assert_eq!(c.zone().to_string(), "+04:00");
        assert_eq!(
            c.provenance,
            Provenance::Given {
                by: "--log-tz bot_*.log=+04:00".into()
            }
        );
        assert_eq!(
            log_clock("trading_bot.log", &rules).zone().to_string(),
            "+03:00"
        );
        let none = log_clock("trading_bot.log", &[]);
        assert!(none.provenance.is_assumed());
        assert!(none.provenance.to_string().contains("--log-tz"));
    }

    #[test]
    fn bad_rules_are_rejected() {
        assert!(LogTzRule::parse("bot_*.log=Mars/Base", "--log-tz").is_err());
        assert!(LogTzRule::parse("[=+04:00", "--log-tz").is_err());
    }
}
