//! `audit`: forensic reconciliation of a trading bot's `monitoring.events` rows with its log
//! files, on one UTC timeline.
//!
//! Layers, each naming only those below it (docs/architecture.md): [`rows`] and [`time`] (the
//! shared vocabulary) ← [`payload`] (an event's identity) ← [`source`] (readers: PostgreSQL,
//! snapshots, logs) ← [`clock`] (each source's clock and its estimation) ← [`timeline`] (one
//! polars frame) ← [`load`] (read plan, first pass, clock decisions, read-back) and [`checks`]
//! (pure functions → findings) ← [`engine`] (every check or one, the same answer; the verdict)
//! ← [`report`] (renderers of one `Report`) ← [`commands`] (glue), with [`settings`] resolving
//! every flag, variable and `audit.toml` key once. `main.rs` only maps the outcome to an exit
//! code. Synthetic scenarios with known ground truth come from `audit-gen` (synth/, its own
//! package).

pub mod checks;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod engine;
pub mod error;
pub mod load;
pub mod output;
pub mod payload;
pub mod progress;
pub mod report;
pub mod rows;
pub mod settings;
pub mod source;
pub mod time;
pub mod timeline;
pub mod timing;
