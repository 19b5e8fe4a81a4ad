//! Readers: PostgreSQL (`db`), snapshot files (`snapshot`) and log files (`logs`). They read
//! and report what they read; they decide no clock and judge nothing. Both events readers give
//! their rows through one conversion (`events`).

pub mod db;
pub mod events;
pub mod logs;
pub mod snapshot;
