//! Renderers. They read a [`crate::timeline::Timeline`] (and later the findings) and print;
//! they never compute anything that changes a result.

pub mod csv;
pub mod findings;
pub mod github;
pub mod html;
pub mod json;
pub mod junit;
pub mod machine;
pub mod sarif;
pub mod table;

pub use crate::timeline::View;

/// `2025-10-18T11:07:13.510000Z`: the form every machine-readable output uses for instants.
pub fn rfc3339_micros(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}
