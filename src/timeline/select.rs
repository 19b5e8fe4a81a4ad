//! Which rows a `timeline` shows: the one definition of every filter. The DB path pushes the
//! same filters into SQL as an optimization; this is what they mean.

use crate::payload::fields;
use crate::rows::{Chunk, ChunkSource, Kind};
use chrono::NaiveDate;

use crate::time::{UtcRange, WindowSpec};

/// The filters as the user gave them: the window still in the display zone's words (resolved
/// into a [`Filter`] once that zone is known).
#[derive(Debug, Clone, Default)]
pub struct FilterSpec {
    pub signal: Option<i64>,
    pub position: Option<i64>,
    pub symbol: Option<String>,
    pub correlation: Option<String>,
    pub window: Option<WindowSpec>,
    /// The date of a window given as bare times.
    pub date: Option<NaiveDate>,
}

/// Filters of `audit timeline` (and the checks' scope), resolved to UTC.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub window: Option<UtcRange>,
    pub symbol: Option<String>,
    pub position: Option<i64>,
    pub correlation: Option<String>,
    /// A signal and the positions it opened.
    pub signal: Option<i64>,
}

impl Filter {
    /// The filter as JSON output shows it (`timeline`, `explain`): each field, the window on
    /// UTC with the zone it was read in when given.
    pub fn to_json(&self, display_zone: Option<String>) -> serde_json::Value {
        serde_json::json!({
            "signal": self.signal,
            "position": self.position,
            "symbol": self.symbol,
            "correlation": self.correlation,
            "window": self.window.map(|w| {
                let mut o = serde_json::json!({
                    "start_utc": crate::time::rfc3339_micros(w.start.timestamp_micros()),
                    "end_utc": crate::time::rfc3339_micros(w.end.timestamp_micros()),
                });
                if let Some(z) = &display_zone {
                    o["display_zone"] = serde_json::Value::from(z.clone());
                }
                o
            }),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.window.is_none()
            && self.symbol.is_none()
            && self.position.is_none()
            && self.correlation.is_none()
            && self.signal.is_none()
    }
}

/// True when a row names signal `n`: its signal id, a payload value anywhere (a wave's signal
/// list), or — for log lines without a payload — the number standing alone in the text.
pub fn names_signal(c: &Chunk, i: usize, n: i64) -> bool {
    if c.signal_id[i] == Some(n) {
        return true;
    }
    if let Some(p) = &c.payload[i] {
        // The digits must appear in the text before the JSON is worth walking.
        if c.kind[i] == Kind::Event && fields::text_mentions_int(p, n) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(p) {
                return fields::mentions_int(&v, n);
            }
        }
    }
    c.source == ChunkSource::Log && fields::text_mentions_int(&c.message[i], n)
}

/// Marks the rows of `chunks` that pass `f`: one mask per chunk.
pub fn select(chunks: &[&Chunk], f: &Filter) -> Vec<Vec<bool>> {
    let base = |c: &Chunk, i: usize| -> bool {
        if let Some(w) = &f.window {
            let t = c.ts_utc[i];
            if t < w.start.timestamp_micros() || t >= w.end.timestamp_micros() {
                return false;
            }
        }
        if let Some(s) = &f.symbol {
            if !c.symbol[i]
                .as_deref()
                .is_some_and(|x| x.eq_ignore_ascii_case(s))
            {
                return false;
            }
        }
        if let Some(p) = f.position {
            if c.position_id[i] != Some(p) {
                return false;
            }
        }
        if let Some(corr) = &f.correlation {
            if c.correlation_id[i].as_deref() != Some(corr.as_str()) {
                return false;
            }
        }
        true
    };
    let Some(n) = f.signal else {
        return chunks
            .iter()
            .map(|c| (0..c.len()).map(|i| base(c, i)).collect())
            .collect();
    };
    // The signal's own rows, then every row of the positions they name.
    let direct: Vec<Vec<bool>> = chunks
        .iter()
        .map(|c| {
            (0..c.len())
                .map(|i| base(c, i) && names_signal(c, i, n))
                .collect()
        })
        .collect();
    let mut positions: Vec<i64> = chunks
        .iter()
        .zip(&direct)
        .flat_map(|(c, d)| {
            (0..c.len())
                .filter(|&i| d[i])
                .filter_map(|i| c.position_id[i])
        })
        .collect();
    positions.sort_unstable();
    positions.dedup();
    chunks
        .iter()
        .zip(direct)
        .map(|(c, d)| {
            (0..c.len())
                .map(|i| {
                    d[i] || (c.position_id[i].is_some_and(|p| positions.binary_search(&p).is_ok())
                        && base(c, i))
                })
                .collect()
        })
        .collect()
}

/// The positions the signal's rows name (for the DB's second, pushed-down pass).
pub fn signal_positions(chunks: &[&Chunk], f: &Filter) -> Vec<i64> {
    let Some(n) = f.signal else { return Vec::new() };
    let only_signal = Filter {
        signal: None,
        ..f.clone()
    };
    let base = select(chunks, &only_signal);
    let mut out: Vec<i64> = chunks
        .iter()
        .zip(base)
        .flat_map(|(c, m)| {
            (0..c.len())
                .filter(move |&i| m[i] && names_signal(c, i, n))
                .filter_map(|i| c.position_id[i])
                .collect::<Vec<_>>()
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}
