//! `audit.toml`: sources and zones for a working directory, so the everyday command stays short.
//! Flags override it. Relative paths are read from the config file's directory.
//!
//! ```toml
//! [sources]
//! events = "fixtures/rsrusdt-2025-10-18/events.csv"   # or: db = "postgres://..."
//! logs = ["fixtures/rsrusdt-2025-10-18/monitoring_logs"]
//!
//! [clock]
//! log_tz = ["bot_*.log=+04:00"]   # or one zone for every file: log_tz = "+04:00"
//!
//! [logs]
//! # level = "WARNING"             # LOG_LEVEL the bot ran at (inferred when not given)
//! # db_tz = "Europe/Moscow"       # only for a naive `timestamp` created_at
//! # display_tz = "Europe/Moscow"  # how windows are read and DB times shown
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::AuditError;

pub const DEFAULT_FILE: &str = "audit.toml";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub sources: SourcesConfig,
    #[serde(default)]
    pub clock: ClockConfig,
    #[serde(default)]
    pub logs: LogsConfig,
    #[serde(default)]
    pub db: DbSettings,
    #[serde(default)]
    pub check: CheckSettings,
    /// `[[accept]]`: findings the team has decided to live with until a date (`audit check`).
    #[serde(default)]
    pub accept: Vec<AcceptRule>,
    /// Where the file was read from (paths are relative to its directory).
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourcesConfig {
    /// A PostgreSQL URL. Prefer `DATABASE_URL` for anything with a password.
    pub db: Option<String>,
    /// A snapshot file (.csv / .parquet / .jsonl).
    pub events: Option<PathBuf>,
    #[serde(default)]
    pub logs: Vec<PathBuf>,
}

/// `[logs]`: how the logs were written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogsConfig {
    /// The logging level: `"WARNING"` for every file, or `["bot_*_0803*.log=WARNING"]`.
    #[serde(default)]
    pub level: OneOrMany,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockConfig {
    #[serde(default)]
    pub log_tz: OneOrMany,
    pub db_tz: Option<String>,
    pub display_tz: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DbSettings {
    pub connect_timeout_s: Option<u64>,
    pub statement_timeout_s: Option<u64>,
}

/// `[check]`: thresholds and tolerances, so a CI line stays short. Flags override.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSettings {
    pub fail_on: Option<crate::checks::Severity>,
    pub baseline: Option<PathBuf>,
    pub tolerance_ms: Option<u64>,
    pub grace_ms: Option<u64>,
    pub min_gap_s: Option<u64>,
    pub interval_ms: Option<u64>,
    pub epoch_tolerance_ms: Option<u64>,
}

/// One `[[accept]]` rule as written: a finding kind, why, until when, and optionally narrower
/// (an event type, a class, a UTC time of day). Resolved and checked in `settings.rs`.
///
/// ```toml
/// [[accept]]
/// kind = "process_gap"
/// reason = "nightly restart of the bot host"
/// until = "2027-06-01"
/// time = "02:00-02:30"          # UTC time of day, optional
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptRule {
    pub kind: String,
    pub reason: String,
    /// A date, quoted (`"2027-06-01"`) or as a TOML date (`2027-06-01`).
    pub until: toml::Value,
    pub event_type: Option<String>,
    pub class: Option<String>,
    pub time: Option<String>,
}

/// `"+04:00"` or `["bot_*.log=+04:00", "..."]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn items(&self) -> Vec<String> {
        match self {
            OneOrMany::None => Vec::new(),
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

impl Config {
    /// Reads `explicit`, or `./audit.toml` when it exists; `Config::default()` otherwise.
    pub fn load(explicit: Option<&Path>, disabled: bool) -> Result<Config, AuditError> {
        if disabled {
            return Ok(Config::default());
        }
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => {
                let p = PathBuf::from(DEFAULT_FILE);
                if !p.is_file() {
                    return Ok(Config::default());
                }
                p
            }
        };
        let shown = path.display().to_string();
        let text =
            std::fs::read_to_string(&path).map_err(|e| AuditError::input(&shown, e.to_string()))?;
        let mut cfg: Config = toml::from_str(&text)
            .map_err(|e| AuditError::input(&shown, e.to_string().trim_end().replace('\n', " ")))?;
        cfg.path = Some(path);
        Ok(cfg)
    }

    /// Resolves a path written in the config against the config file's directory.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        match self.path.as_ref().and_then(|c| c.parent()) {
            Some(dir) if p.is_relative() && !dir.as_os_str().is_empty() => dir.join(p),
            _ => p.to_path_buf(),
        }
    }

    /// How the config file is named in provenance texts.
    pub fn label(&self) -> String {
        self.path
            .as_ref()
            .map_or_else(|| DEFAULT_FILE.to_string(), |p| p.display().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_log_tz_shapes_and_rejects_typos() {
        let c: Config = toml::from_str("[clock]\nlog_tz = \"+04:00\"").unwrap();
        assert_eq!(c.clock.log_tz.items(), vec!["+04:00"]);
        let c: Config = toml::from_str("[clock]\nlog_tz = [\"a=+04:00\", \"b=UTC\"]").unwrap();
        assert_eq!(c.clock.log_tz.items().len(), 2);
        assert!(toml::from_str::<Config>("[clock]\nlogtz = \"+04:00\"").is_err());
        assert!(toml::from_str::<Config>("[sourcez]\n").is_err());
    }

    #[test]
    fn relative_paths_follow_the_config_file() {
        let c = Config {
            path: Some(PathBuf::from("/etc/audit/audit.toml")),
            ..Config::default()
        };
        assert_eq!(
            c.resolve(Path::new("logs")),
            PathBuf::from("/etc/audit/logs")
        );
        assert_eq!(c.resolve(Path::new("/abs")), PathBuf::from("/abs"));
        let local = Config {
            path: Some(PathBuf::from("audit.toml")),
            ..Config::default()
        };
        assert_eq!(local.resolve(Path::new("logs")), PathBuf::from("logs"));
    }
}
