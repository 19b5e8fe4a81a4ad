//! Settings: what a run uses, resolved once from flags, then the environment, then
//! `audit.toml`, then defaults.

use std::path::PathBuf;
use std::time::Duration;

use crate::cli::{ClockOpts, SourceOpts};
use crate::clock::LogTzRule;
use crate::config::Config;
use crate::error::AuditError;
use crate::load::{EventsSpec, SourcePlan};
use crate::source::db::DbConfig;
use crate::source::snapshot::SnapshotConfig;
use crate::time::Zone;

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
        connect_timeout: Duration::from_secs(
            src.connect_timeout
                .or(cfg.db.connect_timeout_s)
                .unwrap_or(10),
        ),
        statement_timeout: Duration::from_secs(
            src.statement_timeout
                .or(cfg.db.statement_timeout_s)
                .unwrap_or(300),
        ),
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
    if matches!(events, EventsSpec::None) && logs.is_empty() {
        return Err(AuditError::usage(
            "no sources: pass --db URL (or DATABASE_URL) or --events FILE, and --logs PATH; or write an audit.toml",
        ));
    }
    Ok(SourcePlan {
        events,
        logs,
        log_rules,
        display_tz,
    })
}
