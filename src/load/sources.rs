//! What a command reads, decided before anything is read: the events source and the log
//! paths, the zones given for them.

use std::path::PathBuf;

use crate::clock::LogTzRule;
use crate::source::db::DbConfig;
use crate::source::snapshot::SnapshotConfig;
use crate::time::Zone;

/// Where the events come from.
#[derive(Debug, Clone)]
pub enum EventsSpec {
    None,
    Db(DbConfig),
    File(PathBuf, SnapshotConfig),
}

/// What a command will read, decided before anything is read.
#[derive(Debug, Clone)]
pub struct SourcePlan {
    pub events: EventsSpec,
    pub logs: Vec<PathBuf>,
    pub log_rules: Vec<LogTzRule>,
    /// `--log-level` / `[logs] level` rules, flags first.
    pub level_rules: Vec<super::levels::LevelRule>,
    pub display_tz: Option<(Zone, String)>,
}
