//! What a log can hold: the logging level each file was written at.
//!
//! The bot sets its root logger from `LOG_LEVEL` (INFO by default), and EventLogger writes each
//! event's line at the row's severity: ERROR and WARNING rows at those levels, every other row
//! (CRITICAL too) at INFO. A bot run at `LOG_LEVEL=WARNING` therefore writes no INFO event line
//! and no lock line: its INFO rows have no line by design, not by loss.
//!
//! A file's level is given (`--log-level GLOB=LEVEL`, `[logs] level`) or inferred from its
//! records: one at DEBUG or INFO means the level lets INFO through; [`MIN_RECORDS`] records or
//! more and none below WARNING mean WARNING (likewise ERROR, CRITICAL). Where the file's other
//! loggers write INFO but [`MIN_RECORDS`] or more event lines hold none at INFO, the event
//! logger alone was set above INFO, and that is the level its rows are judged by. Fewer
//! records than that and none at INFO cannot tell: the file is judged as INFO, and a warning
//! says so.

use crate::rows::Kind;
use crate::source::logs::LogFile;

/// Below this many records without one at INFO, a file's level cannot be told. In a file at
/// INFO most records are INFO (~90 % of event lines): ten in a row above it by chance is
/// below one in 10^9.
pub const MIN_RECORDS: u64 = 10;

/// A logging level, with Python's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug = 10,
    Info = 20,
    Warning = 30,
    Error = 40,
    Critical = 50,
}

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s.trim().to_ascii_uppercase().as_str() {
            "DEBUG" | "TRACE" | "NOTSET" => Level::Debug,
            "INFO" => Level::Info,
            "WARNING" | "WARN" => Level::Warning,
            "ERROR" => Level::Error,
            "CRITICAL" | "FATAL" => Level::Critical,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
            Level::Critical => "CRITICAL",
        }
    }

    /// The level EventLogger writes a row's line at, from the row's `severity`.
    pub fn of_row(severity: Option<&str>) -> Level {
        match severity.map(|s| s.trim().to_ascii_uppercase()).as_deref() {
            Some("ERROR") => Level::Error,
            Some("WARNING") | Some("WARN") => Level::Warning,
            _ => Level::Info,
        }
    }
}

/// A `--log-level` rule: `LEVEL` for every file, or `GLOB=LEVEL`.
#[derive(Debug, Clone)]
pub struct LevelRule {
    pub pattern: Option<glob::Pattern>,
    pub level: Level,
    /// `--log-level` or `audit.toml`.
    pub by: String,
}

impl LevelRule {
    pub fn parse(text: &str, by: &str) -> Result<LevelRule, String> {
        let (pattern, level) = crate::clock::split_file_rule(text)?;
        let level = Level::parse(level).ok_or_else(|| {
            format!("`{level}` is not a logging level (DEBUG, INFO, WARNING, ERROR, CRITICAL)")
        })?;
        Ok(LevelRule {
            pattern,
            level,
            by: by.to_string(),
        })
    }

    fn describe(&self) -> String {
        match &self.pattern {
            Some(p) => format!("{} {}={}", self.by, p.as_str(), self.level.name()),
            None => format!("{} {}", self.by, self.level.name()),
        }
    }
}

/// The rule for a file: one naming it first, then a blanket one (flags before config).
fn rule_for<'a>(name: &str, rules: &'a [LevelRule]) -> Option<&'a LevelRule> {
    rules
        .iter()
        .find(|r| r.pattern.as_ref().is_some_and(|p| p.matches(name)))
        .or_else(|| rules.iter().find(|r| r.pattern.is_none()))
}

/// Records by level: plain messages (counted by the parser even when not kept) and the kept
/// events and typed lines; and the event lines alone.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    /// DEBUG, INFO, WARNING, ERROR, CRITICAL.
    all: [u64; 5],
    events: [u64; 5],
}

fn slot(l: Level) -> usize {
    match l {
        Level::Debug => 0,
        Level::Info => 1,
        Level::Warning => 2,
        Level::Error => 3,
        Level::Critical => 4,
    }
}

fn counts(f: &LogFile) -> Counts {
    let mut c = Counts::default();
    for (l, n) in f.info.stats.messages.iter() {
        if let Some(l) = l.and_then(Level::parse) {
            c.all[slot(l)] += n;
        }
    }
    for (k, l) in f.chunk.kind.iter().zip(&f.chunk.level) {
        if *k == Kind::Message {
            continue;
        }
        let Some(l) = l.as_deref().and_then(Level::parse) else {
            continue;
        };
        c.all[slot(l)] += 1;
        if matches!(k, Kind::Event | Kind::MalformedEvent) {
            c.events[slot(l)] += 1;
        }
    }
    c
}

/// The lowest level present among `n` (DEBUG … CRITICAL counts) when none is at or below
/// INFO and there are enough of them to tell; `Ok(None)`: something is at INFO or below.
fn above_info(n: &[u64; 5]) -> Result<Option<Level>, u64> {
    if n[0] + n[1] > 0 {
        return Ok(None);
    }
    let total: u64 = n.iter().sum();
    if total < MIN_RECORDS {
        return Err(total);
    }
    Ok(Some(if n[2] > 0 {
        Level::Warning
    } else if n[3] > 0 {
        Level::Error
    } else {
        Level::Critical
    }))
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(ch);
    }
    out
}

/// Decides every file's level (its `info.level`, `level_by`, `level_warning`).
pub fn decide(logs: &mut [LogFile], rules: &[LevelRule]) {
    for f in logs.iter_mut() {
        let c = counts(f);
        let total: u64 = c.all.iter().sum();
        let low = c.all[0] + c.all[1];
        let inferred: Result<(Level, String), String> = match above_info(&c.all) {
            Ok(Some(l)) => Ok((
                l,
                format!("inferred: 0 INFO among {} records", thousands(total)),
            )),
            Ok(None) => match above_info(&c.events) {
                Ok(Some(l)) => Ok((
                    l,
                    format!(
                        "inferred for the event logger: 0 INFO among {} event lines (other loggers write {} INFO or DEBUG records)",
                        thousands(c.events.iter().sum()),
                        thousands(low)
                    ),
                )),
                _ => Ok((
                    if c.all[0] > 0 {
                        Level::Debug
                    } else {
                        Level::Info
                    },
                    format!(
                        "inferred: {} of {} records at INFO or DEBUG",
                        thousands(low),
                        thousands(total)
                    ),
                )),
            },
            Err(n) => Err(format!(
                "{}: its logging level cannot be told from {n} record(s), none at INFO: judged as INFO (its INFO rows may be reported missing); pin it with --log-level '{}=LEVEL'",
                f.info.name, f.info.name
            )),
        };
        let info = &mut f.info;
        match rule_for(&info.name, rules) {
            Some(r) => {
                info.level = Some(r.level.name().to_string());
                info.level_by = Some(r.describe());
                info.level_warning = match &inferred {
                    Ok((l, why)) if (*l > Level::Info) != (r.level > Level::Info) => Some(format!(
                        "{}: {} says {}, but its records say {} ({why}): the flag wins",
                        info.name,
                        r.describe(),
                        r.level.name(),
                        l.name()
                    )),
                    _ => None,
                };
            }
            None => match inferred {
                Ok((l, why)) => {
                    info.level = Some(l.name().to_string());
                    info.level_by = Some(why);
                    info.level_warning = None;
                }
                Err(w) => {
                    info.level = None;
                    info.level_by = None;
                    info.level_warning = Some(w);
                }
            },
        }
    }
}

/// The level each file's rows are judged by, and how it was decided (files whose level
/// cannot be told: INFO).
pub fn thresholds(logs: &[LogFile]) -> Vec<(String, Level, String)> {
    logs.iter()
        .map(|l| {
            let level = l
                .info
                .level
                .as_deref()
                .and_then(Level::parse)
                .unwrap_or(Level::Info);
            let by = l
                .info
                .level_by
                .clone()
                .unwrap_or_else(|| "cannot be told".into());
            (l.info.name.clone(), level, by)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_and_order_as_python_numbers_them() {
        assert_eq!(Level::parse("warn"), Some(Level::Warning));
        assert_eq!(Level::parse(" Error "), Some(Level::Error));
        assert_eq!(Level::parse("verbose"), None);
        assert!(Level::Info < Level::Warning && Level::Warning < Level::Error);
        // CRITICAL rows are logged at INFO (REFERENCE.md: ERROR/WARNING for those, INFO
        // otherwise).
        assert_eq!(Level::of_row(Some("CRITICAL")), Level::Info);
        assert_eq!(Level::of_row(Some("WARNING")), Level::Warning);
        assert_eq!(Level::of_row(None), Level::Info);
    }

    #[test]
    fn a_level_is_told_only_from_enough_records() {
        assert_eq!(above_info(&[0, 1, 50, 0, 0]), Ok(None));
        assert_eq!(above_info(&[0, 0, 9, 3, 0]), Ok(Some(Level::Warning)));
        assert_eq!(above_info(&[0, 0, 0, 12, 0]), Ok(Some(Level::Error)));
        assert_eq!(above_info(&[0, 0, 5, 4, 0]), Err(9));
    }

    #[test]
    fn rules_naming_a_file_beat_a_blanket_one() {
        let rules = vec![
            LevelRule::parse("INFO", "--log-level").unwrap(),
            LevelRule::parse("bot_*_08*.log=warning", "--log-level").unwrap(),
        ];
        assert_eq!(
            rule_for("bot_20251018_080300.log", &rules).unwrap().level,
            Level::Warning
        );
        assert_eq!(
            rule_for("bot_20251018_070000.log", &rules).unwrap().level,
            Level::Info
        );
        assert!(LevelRule::parse("x=LOUD", "--log-level").is_err());
        assert!(LevelRule::parse("[=INFO", "--log-level").is_err());
    }
}
