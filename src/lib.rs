//! `audit`: forensic reconciliation of a trading bot's `monitoring.events` rows with its log
//! files, on one UTC timeline.
//!
//! Data flows one way: [`source`] (PostgreSQL, snapshots, logs) → [`clock`] (each source's
//! zone, with provenance) → [`timeline`] (one polars frame) → [`report`] (table, JSON, CSV).
//! [`commands`] wires them per subcommand; `main.rs` only maps the outcome to an exit code.
//! Synthetic scenarios with known ground truth come from `audit-gen` (synth/, its own package).

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
