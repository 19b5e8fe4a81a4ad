//! Typed, read-only access to the timeline frame's columns, shared by checks and renderers.

use polars::prelude::*;

use super::Timeline;

/// Typed access to the timeline's columns.
pub struct View<'a> {
    pub ts_utc: &'a Int64Chunked,
    pub corr_epoch: &'a Int64Chunked,
    pub str_cols: Vec<(&'static str, &'a StringChunked)>,
    pub line: &'a UInt32Chunked,
    pub byte_offset: &'a UInt64Chunked,
    pub pid: &'a UInt32Chunked,
    pub event_id: &'a Int64Chunked,
    pub signal_id: &'a Int64Chunked,
    pub position_id: &'a Int64Chunked,
    pub payload_hash: &'a UInt64Chunked,
}

impl<'a> View<'a> {
    pub fn new(t: &'a Timeline) -> PolarsResult<View<'a>> {
        let f = &t.frame;
        let s = |name: &'static str| -> PolarsResult<(&'static str, &'a StringChunked)> {
            Ok((name, f.column(name)?.str()?))
        };
        Ok(View {
            ts_utc: f.column("ts_utc")?.datetime()?.physical(),
            corr_epoch: f.column("corr_epoch")?.datetime()?.physical(),
            str_cols: vec![
                s("local_time")?,
                s("utc_offset")?,
                s("source")?,
                s("source_ref")?,
                s("file")?,
                s("process")?,
                s("kind")?,
                s("event_type")?,
                s("level")?,
                s("logger")?,
                s("symbol")?,
                s("correlation_id")?,
                s("message")?,
                s("payload")?,
            ],
            line: f.column("line")?.u32()?,
            byte_offset: f.column("byte_offset")?.u64()?,
            pid: f.column("pid")?.u32()?,
            event_id: f.column("event_id")?.i64()?,
            signal_id: f.column("signal_id")?.i64()?,
            position_id: f.column("position_id")?.i64()?,
            payload_hash: f.column("payload_hash")?.u64()?,
        })
    }

    pub fn len(&self) -> usize {
        self.ts_utc.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A string column's value at row `i`.
    pub fn s(&self, name: &str, i: usize) -> Option<&'a str> {
        self.str_cols
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, c)| c.get(i))
    }
}
