//! Synthetic scenarios with known ground truth: the bot's `monitoring.events` rows and log
//! files as its code writes them (REFERENCE.md), with faults injected on purpose, and a
//! `truth.json` saying exactly what the checks should find.
//!
//! Its own workspace member, written against the bot's behaviour and not against `audit`:
//! it does not depend on the `audit` crate, so it cannot share its bugs. `audit`'s tests use
//! it as a library (a dev-dependency), through [`cli::run`] where they would run the binary.
//!
//! ```no_run
//! use audit_gen::{Faults, Fault, Params, Scenario, generate};
//! let mut faults = Faults::default();
//! faults.add(Fault::LostLogLines(5));
//! faults.add(Fault::Overlap);
//! let scenario = Scenario::plan(&Params::new(42), &faults)?;
//! let out = generate(&scenario, std::path::Path::new("/tmp/scenario"))?;
//! println!("{} rows, {} log lines", out.truth.counts.db_rows, out.truth.counts.log_lines);
//! # Ok::<(), audit_gen::SynthError>(())
//! ```
//!
//! The output directory holds `monitoring_logs/bot_YYYYMMDD_HHMMSS.log` (one per process,
//! naive local times of its host, whose clock may be off, drift and step), `events.csv` (psql `\copy … CSV HEADER` in the display
//! offset), optionally `events.sql` and the RotatingFileHandler copy `logs/trading_bot.log*`
//! ([`HandlerCopy`]), and `truth.json` ([`Truth`]).
//!
//! How it is built, one concern per file: [`scenario`] (what runs when), [`faults`],
//! `model`/`market`/`waves`/`activity` (each writer's `log_event` calls and typed lines), `eventlogger`
//! (flushes and ids), `inject` (the counted faults), `chatter` and `logfile` (the log bytes),
//! `handler` (the rotating copy of every process's records), `dbfiles` (CSV and SQL), [`py`]
//! (Python reprs and jsonb text), [`truth`], `generate` (the order of it all), [`score`] (findings and clocks against the truth, the accuracy and
//! clock suites),
//! `timefmt` (its own offset and instant spellings) and [`cli`] (the `audit-gen` command
//! line). Deterministic: one seed, one set of bytes; see `rng`.

mod activity;
mod chatter;
pub mod cli;
pub mod dbfiles;
mod eventlogger;
pub mod faults;
mod generate;
mod handler;
mod inject;
pub mod logfile;
mod market;
mod model;
pub mod py;
pub mod rng;
pub mod scenario;
pub mod score;
mod text;
mod timefmt;
pub mod truth;
mod waves;

use std::path::Path;

pub use faults::{Fault, Faults};
pub use generate::{Output, generate};
pub use model::Level;
pub use scenario::{
    CopyGap, DbClock, Ending, HandlerCopy, HostClock, HostFn, LostCopy, Params, Process, Scenario,
    Window,
};
pub use truth::Truth;

/// Why a scenario could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// A scenario that cannot be laid out or written as asked.
    #[error("{0}")]
    Invalid(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl SynthError {
    pub fn invalid(msg: impl Into<String>) -> SynthError {
        SynthError::Invalid(msg.into())
    }

    pub fn io(path: &Path, source: std::io::Error) -> SynthError {
        SynthError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}
