//! Clocks: the one place that reasons about time zones.
//!
//! The bot's evidence is written on three clocks (REFERENCE.md): correlation-id epochs in UTC,
//! `created_at` (absolute, but *shown* in the DB session's zone), and log lines in the log
//! host's naive local time. Every source gets a [`SourceClock`]: the zone its naive readings are
//! in, and where that zone came from, so every output can say which offsets it applied and why.

pub mod skew;

use crate::time::{Provenance, Zone};

/// One source's clock: the zone its naive readings are in, and why we believe it.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceClock {
    pub zone: Zone,
    pub provenance: Provenance,
    /// Where the offset changes inside the source: from this line on, this zone.
    pub changes: Vec<(u32, Zone)>,
}

impl SourceClock {
    pub fn new(zone: Zone, provenance: Provenance) -> Self {
        SourceClock {
            zone,
            provenance,
            changes: Vec::new(),
        }
    }

    /// The zone in force at a line (the last change at or before it).
    pub fn zone_at_line(&self, line: u32) -> Zone {
        self.changes
            .iter()
            .take_while(|(from, _)| *from <= line)
            .last()
            .map_or(self.zone, |(_, z)| *z)
    }

    /// A naive reading of this source at `line`, placed on UTC (µs).
    pub fn utc(&self, ts_local: i64, line: u32) -> i64 {
        match self.zone_at_line(line) {
            Zone::Fixed(off) => ts_local - i64::from(off.local_minus_utc()) * 1_000_000,
            zone => {
                let local = chrono::DateTime::from_timestamp_micros(ts_local)
                    .unwrap_or_default()
                    .naive_utc();
                zone.to_utc(local).instant().timestamp_micros()
            }
        }
    }

    /// The clock a detection gives: the first segment's offset, and a change at each later one.
    pub fn detected(e: &skew::Estimate) -> Option<SourceClock> {
        let first = e.segments.first()?;
        let provenance = Provenance::Detected {
            anchors: e.anchors,
            spread_ms: e.spread_ms,
            detail: format!(
                "{}{} of {} lines agree, lag {:+.1} ms, confidence {}{}",
                match e.method {
                    skew::Method::Twins if e.message_anchors > 0 => {
                        format!(
                            "{} UTC times printed in messages agree too; ",
                            e.message_anchors
                        )
                    }
                    skew::Method::Twins => String::new(),
                    skew::Method::UtcInMessage =>
                        "from UTC times printed in messages (no DB twins); ".into(),
                },
                e.anchors,
                e.candidates,
                skew::tidy(e.lag_median_ms),
                format!("{:?}", e.confidence).to_lowercase(),
                if e.segments.len() > 1 {
                    ", OFFSET CHANGES inside the file"
                } else {
                    ""
                }
            ),
        };
        let mut c = SourceClock::new(Zone::Fixed(first.offset), provenance);
        c.changes = e.segments[1..]
            .iter()
            .map(|s| (s.first_line, Zone::Fixed(s.offset)))
            .collect();
        Some(c)
    }
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
        let (pattern, zone) = match text.rsplit_once('=') {
            Some((p, z)) => {
                let p = glob::Pattern::new(p.trim())
                    .map_err(|e| format!("invalid file pattern `{p}` in `{text}`: {e}"))?;
                (Some(p), z)
            }
            None => (None, text),
        };
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
        assert_eq!(c.zone.to_string(), "+04:00");
        assert_eq!(
            c.provenance,
            Provenance::Given {
                by: "--log-tz bot_*.log=+04:00".into()
            }
        );
        assert_eq!(
            log_clock("trading_bot.log", &rules).zone.to_string(),
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
