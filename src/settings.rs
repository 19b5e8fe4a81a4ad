//! Settings: everything a run uses, resolved once, before any work, from flags, then the
//! environment (clap reads the `env` of each flag that has one), then `audit.toml`, then the
//! defaults (each written once, beside the type it belongs to: [`engine::Params`],
//! [`engine::verdict::DEFAULT_FAIL_ON`], [`DbConfig`]'s timeouts). Nothing below this module
//! sees a flag or the config file.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{NaiveDate, NaiveTime};

use crate::checks::missing::Direction;
use crate::checks::{Finding, FindingKind, Severity};
use crate::cli::{CheckOpts, CheckParams, ClockOpts, FilterOpts, RangeOpts, SourceOpts};
use crate::clock::LogTzRule;
use crate::config::Config;
use crate::engine::{self, Params, Request};
use crate::error::AuditError;
use crate::load::{EventsSpec, SourcePlan, Tuning};
use crate::source::db::DbConfig;
use crate::source::snapshot::SnapshotConfig;
use crate::time::{UtcRange, Zone};
use crate::timeline::FilterSpec;

/// What a run uses, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    pub sources: SourcePlan,
    /// `--no-align`: read log times in the display zone.
    pub no_align: bool,
    pub filter: FilterSpec,
    /// `--since/--until/--last`, resolved against now.
    pub range: Option<UtcRange>,
    pub params: Params,
    pub fail_on: Severity,
    pub baseline: Option<PathBuf>,
    /// The sizes at which logs are read differently.
    pub tuning: Tuning,
}

impl Settings {
    /// The settings of a command that reads sources and filters them (`timeline`, `export`).
    pub fn of_sources(
        src: &SourceOpts,
        clock: &ClockOpts,
        filter: &FilterOpts,
        cfg: &Config,
    ) -> Result<Settings, AuditError> {
        Ok(Settings {
            sources: sources(src, clock, cfg)?,
            no_align: clock.no_align,
            filter: filter.spec(),
            range: None,
            params: Params::default(),
            fail_on: engine::verdict::DEFAULT_FAIL_ON,
            baseline: None,
            tuning: tuning()?,
        })
    }

    /// The settings of a check command: its sources, and every check's thresholds (a
    /// single-check command is the engine restricted to one check, so it takes them all).
    pub fn of_check(opts: &CheckOpts, cfg: &Config) -> Result<Settings, AuditError> {
        let mut s = Settings::of_sources(&opts.sources, &opts.clock, &opts.filter, cfg)?;
        s.range = range(&opts.range, &s.filter)?;
        s.params = params(&opts.params, cfg);
        s.fail_on = opts
            .fail_on
            .or(cfg.check.fail_on)
            .unwrap_or(engine::verdict::DEFAULT_FAIL_ON);
        s.baseline = cfg.check.baseline.as_ref().map(|p| cfg.resolve(p));
        Ok(s)
    }

    /// `audit export`: its sources, with `--since/--until/--last` as an absolute window (what
    /// the engine does with a check's range), so the loader reads only that stretch.
    pub fn of_export(
        src: &SourceOpts,
        clock: &ClockOpts,
        filter: &FilterOpts,
        range_opts: &RangeOpts,
        cfg: &Config,
    ) -> Result<Settings, AuditError> {
        let mut s = Settings::of_sources(src, clock, filter, cfg)?;
        s.range = range(range_opts, &s.filter)?;
        if let Some(r) = s.range {
            s.filter.window = Some(crate::time::WindowSpec::absolute(r.start, r.end));
        }
        Ok(s)
    }

    /// `audit report`: a check's settings without output flags.
    pub fn of_report(
        src: &SourceOpts,
        clock: &ClockOpts,
        filter: &FilterOpts,
        range_opts: &RangeOpts,
        params_opts: &CheckParams,
        cfg: &Config,
    ) -> Result<Settings, AuditError> {
        let mut s = Settings::of_sources(src, clock, filter, cfg)?;
        s.range = range(range_opts, &s.filter)?;
        s.params = params(params_opts, cfg);
        Ok(s)
    }

    /// What the engine is asked.
    pub fn request(&self, direction: Direction, naive: bool) -> Request {
        Request {
            sources: self.sources.clone(),
            no_align: self.no_align,
            filter: self.filter.clone(),
            range: self.range,
            params: self.params.clone(),
            direction,
            naive,
            tuning: self.tuning,
        }
    }
}

/// The read plan's sizes: the defaults, and what the environment says (`AUDIT_SAMPLE_BYTES`,
/// `AUDIT_SEEK=0`, `AUDIT_SLICE_MINUTES`; docs/config.md). A value that does not parse is an
/// error, not a silent default.
fn tuning() -> Result<Tuning, AuditError> {
    let mut t = Tuning::default();
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let number = |name: &str, v: String| {
        v.trim()
            .parse::<u64>()
            .map_err(|_| AuditError::usage(format!("{name}={v:?} is not a whole number")))
    };
    if let Some(v) = var("AUDIT_SAMPLE_BYTES") {
        t.sample_bytes = number("AUDIT_SAMPLE_BYTES", v)?.max(1);
    }
    if let Some(v) = var("AUDIT_SEEK") {
        t.seek = match v.trim() {
            "0" => false,
            "1" => true,
            _ => return Err(AuditError::usage(format!("AUDIT_SEEK={v:?}: use 0 or 1"))),
        };
    }
    if let Some(v) = var("AUDIT_SLICE_MINUTES") {
        let m = number("AUDIT_SLICE_MINUTES", v)?;
        t.forced_slice_us = Some(
            i64::try_from(m)
                .unwrap_or(i64::MAX / 60_000_000)
                .saturating_mul(60_000_000),
        );
    }
    Ok(t)
}

/// Each threshold: the flag (or its environment variable), else `[check]`, else the default.
fn params(p: &CheckParams, cfg: &Config) -> Params {
    let c = &cfg.check;
    let d = Params::default();
    Params {
        tolerance_ms: p.tolerance_ms.or(c.tolerance_ms).or(d.tolerance_ms),
        grace_ms: p.grace_ms.or(c.grace_ms).unwrap_or(d.grace_ms),
        min_gap_s: p.min_gap_s.or(c.min_gap_s).unwrap_or(d.min_gap_s),
        interval_ms: p.interval_ms.or(c.interval_ms).unwrap_or(d.interval_ms),
        epoch_tolerance_ms: p
            .epoch_tolerance_ms
            .or(c.epoch_tolerance_ms)
            .unwrap_or(d.epoch_tolerance_ms),
    }
}

/// `--since/--until/--last` as a UTC range (`--last` against now).
fn range(r: &RangeOpts, filter: &FilterSpec) -> Result<Option<UtcRange>, AuditError> {
    if r.since.is_none() && r.until.is_none() && r.last.is_none() {
        return Ok(None);
    }
    if filter.window.is_some() {
        return Err(AuditError::usage(
            "--window cannot be combined with --since/--until/--last",
        ));
    }
    let (start, end) = match r.last {
        Some(d) => {
            let now = chrono::Utc::now();
            // `now - d` panics when d reaches back past chrono's first year.
            let start = now.checked_sub_signed(d).ok_or_else(|| {
                AuditError::usage("--last reaches back past the earliest date there is")
            })?;
            (start, now)
        }
        None => (
            r.since
                .unwrap_or(chrono::DateTime::<chrono::Utc>::UNIX_EPOCH),
            r.until.unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC),
        ),
    };
    if end <= start {
        return Err(AuditError::usage("--until must be after --since"));
    }
    Ok(Some(UtcRange { start, end }))
}

fn zone_from(text: &str, by: String) -> Result<(Zone, String), AuditError> {
    text.parse::<Zone>()
        .map(|z| (z, by))
        .map_err(AuditError::usage)
}

/// Flags beat `audit.toml`; `DATABASE_URL` is the last resort for the events source.
pub fn sources(
    src: &SourceOpts,
    clock: &ClockOpts,
    cfg: &Config,
) -> Result<SourcePlan, AuditError> {
    let label = cfg.label();
    let db_tz = match (&clock.db_tz, &cfg.clock.db_tz) {
        (Some(z), _) => Some((*z, "--db-tz".to_string())),
        (None, Some(t)) => Some(zone_from(t, format!("{label} db_tz"))?),
        (None, None) => None,
    };
    let display_tz = match (&clock.tz, &cfg.clock.display_tz) {
        (Some(z), _) => Some((*z, "--tz".to_string())),
        (None, Some(t)) => Some(zone_from(t, format!("{label} display_tz"))?),
        (None, None) => None,
    };
    let db_cfg = |url: String| DbConfig {
        url,
        db_tz: db_tz.clone(),
        display_tz: display_tz.clone(),
        connect_timeout: src
            .connect_timeout
            .or(cfg.db.connect_timeout_s)
            .map_or(DbConfig::CONNECT_TIMEOUT, Duration::from_secs),
        statement_timeout: src
            .statement_timeout
            .or(cfg.db.statement_timeout_s)
            .map_or(DbConfig::STATEMENT_TIMEOUT, Duration::from_secs),
    };
    let snap_cfg = SnapshotConfig {
        db_tz: db_tz.clone(),
        display_tz: display_tz.clone(),
    };
    let env_url = std::env::var("DATABASE_URL").ok().filter(|s| !s.is_empty());
    let events = if let Some(url) = &src.db {
        EventsSpec::Db(db_cfg(url.clone()))
    } else if let Some(f) = &src.events {
        EventsSpec::File(f.clone(), snap_cfg)
    } else if let Some(url) = &cfg.sources.db {
        EventsSpec::Db(db_cfg(url.clone()))
    } else if let Some(f) = &cfg.sources.events {
        EventsSpec::File(cfg.resolve(f), snap_cfg)
    } else if let Some(url) = env_url {
        EventsSpec::Db(db_cfg(url))
    } else {
        EventsSpec::None
    };
    let logs: Vec<PathBuf> = if src.logs.is_empty() {
        cfg.sources.logs.iter().map(|p| cfg.resolve(p)).collect()
    } else {
        src.logs.clone()
    };
    let mut log_rules = clock.log_tz.clone();
    for item in cfg.clock.log_tz.items() {
        log_rules.push(LogTzRule::parse(&item, &label).map_err(AuditError::usage)?);
    }
    let mut level_rules = src.log_level.clone();
    for item in cfg.logs.level.items() {
        level_rules.push(
            crate::load::levels::LevelRule::parse(&item, &format!("{label} [logs] level"))
                .map_err(AuditError::usage)?,
        );
    }
    if matches!(events, EventsSpec::None) && logs.is_empty() {
        return Err(AuditError::usage(
            "no sources: pass --db URL (or DATABASE_URL) or --events FILE, and --logs PATH; or write an audit.toml",
        ));
    }
    Ok(SourcePlan {
        events,
        logs,
        log_rules,
        level_rules,
        display_tz,
    })
}

/// An `[[accept]]` rule of audit.toml, resolved: findings of `kind` (narrowed by event type,
/// class and UTC time of day) are accepted — reported, never failing `audit check` — until
/// `until` (exclusive: on that date the rule has expired, and the run fails naming it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accept {
    /// 1-based position among the file's `[[accept]]` tables.
    pub index: usize,
    pub kind: FindingKind,
    pub reason: String,
    pub until: NaiveDate,
    pub event_type: Option<String>,
    pub class: Option<String>,
    /// `[from, to)` UTC times of day; `from > to` wraps past midnight.
    pub time: Option<(NaiveTime, NaiveTime)>,
    /// How the rule is named: `audit.toml [[accept]] #1`.
    pub name: String,
}

impl Accept {
    /// Does this rule accept `f`, whose rows and lines are of `event_types`?
    pub fn matches(&self, f: &Finding, event_types: &[&str]) -> bool {
        if f.kind != self.kind {
            return false;
        }
        if let Some(c) = &self.class {
            if f.class.as_deref() != Some(c.as_str()) {
                return false;
            }
        }
        if let Some(et) = &self.event_type {
            if !event_types.contains(&et.as_str()) {
                return false;
            }
        }
        if let Some((from, to)) = self.time {
            let Some(at) = chrono::DateTime::from_timestamp_micros(f.at_us) else {
                return false;
            };
            let t = at.time();
            let inside = if from <= to {
                from <= t && t < to
            } else {
                t >= from || t < to
            };
            if !inside {
                return false;
            }
        }
        true
    }

    /// What every output says of a finding this rule accepts.
    pub fn why(&self) -> String {
        format!(
            "{} ({}, until {})",
            self.name,
            self.reason.trim(),
            self.until
        )
    }
}

/// The `[[accept]]` rules of `cfg`, checked against `today` (UTC): an unknown kind, a date or
/// time that does not parse, an empty reason, or a rule whose `until` has come is an error
/// naming the rule — an expired suppression must fail the gate loudly, not keep hiding
/// findings, nor silently stop hiding them.
pub fn accept_rules(cfg: &Config, today: NaiveDate) -> Result<Vec<Accept>, AuditError> {
    let label = cfg.label();
    let mut out = Vec::with_capacity(cfg.accept.len());
    for (i, r) in cfg.accept.iter().enumerate() {
        let name = format!("{label} [[accept]] #{}", i + 1);
        let bad = |what: String| AuditError::usage(format!("{name} (kind = {:?}): {what}", r.kind));
        let kind = FindingKind::ALL
            .into_iter()
            .find(|k| k.as_str() == r.kind)
            .ok_or_else(|| {
                let kinds: Vec<&str> = FindingKind::ALL.iter().map(|k| k.as_str()).collect();
                bad(format!("unknown kind; one of {}", kinds.join(", ")))
            })?;
        if r.reason.trim().is_empty() {
            return Err(bad("reason is empty: say why this is accepted".into()));
        }
        let until_text = match &r.until {
            toml::Value::String(s) => s.clone(),
            toml::Value::Datetime(d) => d.to_string(),
            other => format!("{other:?}"),
        };
        let until = NaiveDate::parse_from_str(until_text.trim(), "%Y-%m-%d")
            .map_err(|_| bad(format!("until = {until_text}: not a date (YYYY-MM-DD)")))?;
        let time = match &r.time {
            None => None,
            Some(t) => Some(time_of_day(t).ok_or_else(|| {
                bad(format!(
                    "time = {t:?}: expected a UTC time of day HH:MM-HH:MM, e.g. \"02:00-02:30\""
                ))
            })?),
        };
        if today >= until {
            return Err(AuditError::usage(format!(
                "{name} (kind = {:?}, reason {:?}) expired on {until}: renew its until or remove it",
                r.kind,
                r.reason.trim()
            )));
        }
        out.push(Accept {
            index: i + 1,
            kind,
            reason: r.reason.clone(),
            until,
            event_type: r.event_type.clone(),
            class: r.class.clone(),
            time,
            name,
        });
    }
    Ok(out)
}

/// `HH:MM-HH:MM` (seconds allowed) as two times of day.
fn time_of_day(s: &str) -> Option<(NaiveTime, NaiveTime)> {
    let (a, b) = s.split_once('-')?;
    let t = |x: &str| {
        let x = x.trim();
        NaiveTime::parse_from_str(x, "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(x, "%H:%M:%S"))
            .ok()
    };
    let (from, to) = (t(a)?, t(b)?);
    (from != to).then_some((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str) -> Config {
        toml::from_str(text).unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_rule_holds_until_its_date_and_then_fails_naming_itself() {
        let c = cfg(
            "[[accept]]\nkind = \"duplicate_event\"\nreason = \"r\"\nuntil = \"2026-01-01\"\n\
             [[accept]]\nkind = \"process_gap\"\nreason = \"nightly restart\"\nuntil = 2026-03-01\n",
        );
        let rules = accept_rules(&c, day("2025-12-31")).unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[1].until, day("2026-03-01"));
        // `until` is exclusive: on that day the rule has expired.
        let e = accept_rules(&c, day("2026-01-01")).unwrap_err().to_string();
        assert!(
            e.contains("[[accept]] #1") && e.contains("expired on 2026-01-01"),
            "{e}"
        );
        let e = accept_rules(&c, day("2026-02-01")).unwrap_err().to_string();
        assert!(e.contains("#1"), "the first expired rule is named: {e}");
    }

    #[test]
    fn bad_rules_are_refused_with_their_number() {
        for (text, needle) in [
            (
                "kind = \"process_gapp\"\nreason = \"r\"\nuntil = \"2030-01-01\"",
                "unknown kind",
            ),
            (
                "kind = \"process_gap\"\nreason = \" \"\nuntil = \"2030-01-01\"",
                "reason is empty",
            ),
            (
                "kind = \"process_gap\"\nreason = \"r\"\nuntil = \"01.03.2030\"",
                "not a date",
            ),
            (
                "kind = \"process_gap\"\nreason = \"r\"\nuntil = \"2030-01-01\"\ntime = \"2am\"",
                "time of day",
            ),
        ] {
            let c = cfg(&format!("[[accept]]\n{text}\n"));
            let e = accept_rules(&c, day("2025-01-01")).unwrap_err().to_string();
            assert!(e.contains("[[accept]] #1") && e.contains(needle), "{e}");
        }
        assert!(
            toml::from_str::<Config>(
                "[[accept]]\nkind = \"x\"\nreason = \"r\"\nuntil = \"2030-01-01\"\nwhy = 1\n"
            )
            .is_err()
        );
    }

    #[test]
    fn narrowing_by_class_event_type_and_time_of_day() {
        let c = cfg(
            "[[accept]]\nkind = \"correlation_inversion\"\nreason = \"r\"\nuntil = \"2030-01-01\"\n\
             class = \"overlapping_operations\"\nevent_type = \"position_error\"\ntime = \"23:00-01:00\"\n",
        );
        let r = &accept_rules(&c, day("2025-01-01")).unwrap()[0];
        let at = |hms: &str| {
            chrono::NaiveDateTime::parse_from_str(&format!("2025-10-18 {hms}"), "%Y-%m-%d %H:%M:%S")
                .unwrap()
                .and_utc()
                .timestamp_micros()
        };
        let mut f = Finding::new(
            FindingKind::CorrelationInversion,
            crate::checks::Severity::Medium,
            at("23:30:00"),
            "x".into(),
        );
        f.class = Some("overlapping_operations".into());
        assert!(r.matches(&f, &["position_error"]));
        assert!(!r.matches(&f, &["position_created"]), "event type");
        f.at_us = at("00:59:59");
        assert!(r.matches(&f, &["position_error"]), "wraps past midnight");
        f.at_us = at("01:00:00");
        assert!(!r.matches(&f, &["position_error"]), "end is exclusive");
        f.at_us = at("23:30:00");
        f.class = Some("clock_artifact".into());
        assert!(!r.matches(&f, &["position_error"]), "class");
        f.class = Some("overlapping_operations".into());
        f.kind = FindingKind::DuplicateEvent;
        assert!(!r.matches(&f, &["position_error"]), "kind");
    }
}
