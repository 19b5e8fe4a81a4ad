//! Snapshot files of `monitoring.events`: CSV as psql's `\copy ... CSV HEADER` writes it and
//! Parquet, read with polars; JSON Lines (`row_to_json`) read line by line with serde_json.
//!
//! Why not polars for JSON Lines: its NDJSON reader infers `event_data` objects as one Struct
//! type with the union of every row's keys, which changes the payload that twin matching
//! compares; serde_json keeps each payload exactly as written.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use polars::prelude::*;

use crate::rows::Row;

use crate::error::AuditError;
use crate::source::events::{
    DbFields, Events, EventsInfo, MESSAGE_COLUMN, OPTIONAL_COLUMNS, REQUIRED_COLUMNS, Skipped,
    Storage, UNUSED_COLUMNS, db_row,
};
use crate::time::{Provenance, Zone, Zoned, four_digit_year, parse_offset};

/// How to read a snapshot's times.
#[derive(Debug, Clone, Default)]
pub struct SnapshotConfig {
    /// Zone of created_at values written without an offset, and who said so.
    pub db_tz: Option<(Zone, String)>,
    /// Display zone override (`--tz`), and who said so.
    pub display_tz: Option<(Zone, String)>,
}

/// A created_at value as text: `2025-10-18 14:07:15.103+03`, ISO 8601 with `T`/`Z`, or naive.
pub fn parse_pg_timestamp(s: &str) -> Option<(NaiveDateTime, Option<FixedOffset>)> {
    let s = s.trim();
    let (body, off) = if let Some(b) = s.strip_suffix('Z').or_else(|| s.strip_suffix('z')) {
        (b, FixedOffset::east_opt(0))
    } else {
        match s.rfind(['+', '-']).filter(|&p| p > 10) {
            Some(p) => (&s[..p], Some(parse_offset(&s[p..])?)),
            None => (s, None),
        }
    };
    let body = body.trim();
    let local = ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(body, f).ok())
        .filter(|l| four_digit_year(l.date()))?;
    Some((local, off))
}

struct Columns {
    id: Vec<Option<i64>>,
    event_type: Vec<Option<String>>,
    event_data: Vec<Option<String>>,
    correlation_id: Vec<Option<String>>,
    position_id: Vec<Option<i64>>,
    symbol: Vec<Option<String>>,
    severity: Vec<Option<String>>,
    error_message: Vec<Option<String>>,
    created_at: Vec<Option<String>>,
    /// Already-typed instants (Parquet datetime columns): µs and whether they were absolute.
    created_at_typed: Option<(Vec<Option<i64>>, bool)>,
}

/// Loads a snapshot file; its format is taken from the extension.
pub fn load(path: &Path, cfg: &SnapshotConfig) -> Result<Events, AuditError> {
    let shown = path.display().to_string();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let (kind, (cols, missing, extra)) = match ext.as_str() {
        "csv" => ("csv", read_polars(path, false)?),
        "parquet" | "pq" => ("parquet", read_polars(path, true)?),
        "jsonl" | "ndjson" | "json" => ("jsonl", read_jsonl(path)?),
        _ => {
            return Err(AuditError::input(
                shown,
                "unknown snapshot format; expected .csv, .parquet or .jsonl",
            ));
        }
    };
    build(path, kind, cols, missing, extra, cfg)
}

type WithColumns = (Columns, Vec<String>, Vec<String>);

fn polars_err(path: &Path, e: PolarsError) -> AuditError {
    AuditError::input(path.display().to_string(), e.to_string())
}

fn read_polars(path: &Path, parquet: bool) -> Result<WithColumns, AuditError> {
    let df = if parquet {
        let f = File::open(path)
            .map_err(|e| AuditError::input(path.display().to_string(), e.to_string()))?;
        ParquetReader::new(f)
            .finish()
            .map_err(|e| polars_err(path, e))?
    } else {
        // Every column as text: created_at carries an offset polars would not keep, and ids
        // must not be guessed as floats.
        CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .try_into_reader_with_file_path(Some(path.to_path_buf()))
            .and_then(|r| r.finish())
            .map_err(|e| polars_err(path, e))?
    };
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let missing = check_columns(path, &names)?;
    let extra = extra_columns(&names);
    let n = df.height();
    let text = |name: &str| -> Result<Vec<Option<String>>, AuditError> {
        match df.column(name) {
            Ok(c) => {
                let c = c.cast(&DataType::String).map_err(|e| polars_err(path, e))?;
                let ca = c.str().map_err(|e| polars_err(path, e))?;
                Ok(ca.iter().map(|v| v.map(str::to_string)).collect())
            }
            Err(_) => Ok(vec![None; n]),
        }
    };
    let int = |name: &str| -> Result<Vec<Option<i64>>, AuditError> {
        match df.column(name) {
            Ok(c) if c.dtype().is_integer() => {
                let c = c.cast(&DataType::Int64).map_err(|e| polars_err(path, e))?;
                Ok(c.i64().map_err(|e| polars_err(path, e))?.iter().collect())
            }
            Ok(_) => text(name)?
                .into_iter()
                .enumerate()
                .map(|(i, v)| match v {
                    None => Ok(None),
                    Some(s) if s.trim().is_empty() => Ok(None),
                    Some(s) => s.trim().parse().map(Some).map_err(|_| {
                        AuditError::input(
                            path.display().to_string(),
                            format!("row {}: column {name}: `{s}` is not an integer", i + 1),
                        )
                    }),
                })
                .collect(),
            Err(_) => Ok(vec![None; n]),
        }
    };
    let created_at_typed = match df.column("created_at").map(|c| c.dtype().clone()) {
        Ok(DataType::Datetime(unit, tz)) => {
            let c = df.column("created_at").map_err(|e| polars_err(path, e))?;
            let phys = c
                .datetime()
                .map_err(|e| polars_err(path, e))?
                .physical()
                .clone();
            let scale = |v: i64| match unit {
                TimeUnit::Nanoseconds => v / 1000,
                TimeUnit::Microseconds => v,
                TimeUnit::Milliseconds => v * 1000,
            };
            Some((phys.iter().map(|v| v.map(scale)).collect(), tz.is_some()))
        }
        _ => None,
    };
    let cols = Columns {
        id: int("id")?,
        event_type: text("event_type")?,
        event_data: text("event_data")?,
        correlation_id: text("correlation_id")?,
        position_id: int("position_id")?,
        symbol: text("symbol")?,
        severity: text("severity")?,
        error_message: text(MESSAGE_COLUMN)?,
        created_at: if created_at_typed.is_some() {
            vec![None; n]
        } else {
            text("created_at")?
        },
        created_at_typed,
    };
    Ok((cols, missing, extra))
}

fn check_columns(path: &Path, names: &[String]) -> Result<Vec<String>, AuditError> {
    let absent: Vec<&str> = REQUIRED_COLUMNS
        .iter()
        .copied()
        .filter(|c| !names.iter().any(|n| n == c))
        .collect();
    if !absent.is_empty() {
        return Err(AuditError::input(
            path.display().to_string(),
            format!(
                "not a monitoring.events snapshot: missing column(s) {} (found: {})",
                absent.join(", "),
                names.join(", ")
            ),
        ));
    }
    Ok(OPTIONAL_COLUMNS
        .iter()
        .copied()
        .filter(|c| !names.iter().any(|n| n == c))
        .map(str::to_string)
        .collect())
}

fn extra_columns(names: &[String]) -> Vec<String> {
    names
        .iter()
        .filter(|n| {
            !REQUIRED_COLUMNS.contains(&n.as_str())
                && !OPTIONAL_COLUMNS.contains(&n.as_str())
                && !UNUSED_COLUMNS.contains(&n.as_str())
                && n.as_str() != MESSAGE_COLUMN
        })
        .cloned()
        .collect()
}

fn read_jsonl(path: &Path) -> Result<WithColumns, AuditError> {
    let shown = path.display().to_string();
    let f = File::open(path).map_err(|e| AuditError::input(&shown, e.to_string()))?;
    let mut cols = Columns {
        id: Vec::new(),
        event_type: Vec::new(),
        event_data: Vec::new(),
        correlation_id: Vec::new(),
        position_id: Vec::new(),
        symbol: Vec::new(),
        severity: Vec::new(),
        error_message: Vec::new(),
        created_at: Vec::new(),
        created_at_typed: None,
    };
    let mut names: Vec<String> = Vec::new();
    for (i, line) in BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| AuditError::input(&shown, format!("line {}: {e}", i + 1)))?;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&line)
            .map_err(|e| AuditError::input(&shown, format!("line {}: not JSON: {e}", i + 1)))?;
        let Some(obj) = v.as_object() else {
            return Err(AuditError::input(
                &shown,
                format!("line {}: not a JSON object", i + 1),
            ));
        };
        for k in obj.keys() {
            if !names.contains(k) {
                names.push(k.clone());
            }
        }
        let text = |k: &str| match obj.get(k) {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(other) => Some(other.to_string()),
        };
        let int = |k: &str| -> Result<Option<i64>, AuditError> {
            match obj.get(k) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::Number(n)) if n.is_i64() => Ok(n.as_i64()),
                Some(serde_json::Value::String(s)) if s.trim().parse::<i64>().is_ok() => {
                    Ok(s.trim().parse().ok())
                }
                Some(other) => Err(AuditError::input(
                    &shown,
                    format!("line {}: {k} `{other}` is not an integer", i + 1),
                )),
            }
        };
        cols.id.push(int("id")?);
        cols.event_type.push(text("event_type"));
        cols.event_data.push(text("event_data"));
        cols.correlation_id.push(text("correlation_id"));
        cols.position_id.push(int("position_id")?);
        cols.symbol.push(text("symbol"));
        cols.severity.push(text("severity"));
        cols.error_message.push(text(MESSAGE_COLUMN));
        cols.created_at.push(text("created_at"));
    }
    let missing = if cols.id.is_empty() {
        Vec::new()
    } else {
        check_columns(path, &names)?
    };
    let extra = extra_columns(&names);
    Ok((cols, missing, extra))
}

fn build(
    path: &Path,
    kind: &str,
    cols: Columns,
    missing: Vec<String>,
    extra: Vec<String>,
    cfg: &SnapshotConfig,
) -> Result<Events, AuditError> {
    let shown = path.display().to_string();
    let n = cols.id.len();
    let mut skipped = Vec::new();
    let mut chunk = Events::empty_chunk();
    let mut instants: Vec<Option<(i64, Option<FixedOffset>, String)>> = Vec::with_capacity(n);
    let mut naive_rows = 0usize;
    // 1. created_at of every row: absolute (with offset) or naive (needs --db-tz).
    for i in 0..n {
        if let Some((typed, absolute)) = &cols.created_at_typed {
            match typed[i] {
                Some(us) if *absolute => {
                    instants.push(Some((us, FixedOffset::east_opt(0), String::new())))
                }
                Some(us) => {
                    naive_rows += 1;
                    let Some((zone, _)) = &cfg.db_tz else {
                        return Err(naive_error(&shown));
                    };
                    let local = DateTime::from_timestamp_micros(us)
                        .unwrap_or_default()
                        .naive_utc();
                    instants.push(Some((
                        zone.to_utc(local).instant().timestamp_micros(),
                        None,
                        String::new(),
                    )));
                }
                None => instants.push(None),
            }
            continue;
        }
        let Some(text) = cols.created_at[i]
            .as_deref()
            .filter(|t| !t.trim().is_empty())
        else {
            instants.push(None);
            continue;
        };
        match parse_pg_timestamp(text) {
            Some((local, Some(off))) => {
                let t = (local - off).and_utc().timestamp_micros();
                instants.push(Some((t, Some(off), text.to_string())));
            }
            Some((local, None)) => {
                naive_rows += 1;
                let Some((zone, _)) = &cfg.db_tz else {
                    return Err(naive_error(&shown));
                };
                let t = zone.to_utc(local).instant().timestamp_micros();
                instants.push(Some((t, None, text.to_string())));
            }
            None => {
                return Err(AuditError::input(
                    &shown,
                    format!(
                        "row {} (id {}): created_at `{text}` is not a timestamp",
                        i + 1,
                        cols.id[i].map_or("?".into(), |v| v.to_string())
                    ),
                ));
            }
        }
    }
    // 2. The display zone: --tz, else the offset the snapshot was written with.
    let first_offset = instants.iter().flatten().find_map(|(_, o, _)| *o);
    let display = match (&cfg.display_tz, first_offset, &cfg.db_tz) {
        (Some((z, by)), _, _) => Zoned::new(*z, Provenance::Given { by: by.clone() }),
        (None, Some(off), _) => Zoned::new(Zone::Fixed(off), Provenance::Snapshot),
        (None, None, Some((z, by))) => Zoned::new(*z, Provenance::Given { by: by.clone() }),
        (None, None, None) => Zoned::new(
            Zone::UTC,
            Provenance::Assumed {
                why: "the snapshot has no rows with an offset".into(),
            },
        ),
    };
    let storage = match (&cfg.db_tz, naive_rows) {
        (Some((z, by)), k) if k > 0 => {
            Storage::Naive(Zoned::new(*z, Provenance::Given { by: by.clone() }))
        }
        _ => Storage::Absolute,
    };
    // 3. Rows, converted in parallel (JSON parsing dominates), pushed in order.
    use rayon::prelude::*;
    let converted: Vec<Result<Row, Skipped>> = instants
        .par_iter()
        .enumerate()
        .map(|(i, inst)| {
            let at = || format!("row {}", i + 1);
            let Some((t, row_offset, _)) = inst else {
                return Err(Skipped {
                    at: at(),
                    reason: "created_at is empty".into(),
                });
            };
            let (Some(id), Some(event_type)) = (cols.id[i], cols.event_type[i].as_deref()) else {
                return Err(Skipped {
                    at: at(),
                    reason: "id or event_type is empty".into(),
                });
            };
            // The row's reading in the offset it was exported with, written the way psql
            // writes it (identical to a CSV's text; an ISO JSONL value reads the same way).
            // Without an offset, or with --tz, it is rendered in the display zone.
            let local = match (row_offset, &cfg.display_tz) {
                (Some(off), None) => chrono::DateTime::from_timestamp_micros(*t)
                    .map(|at| crate::time::psql_text(at, &Zone::Fixed(*off))),
                _ => None,
            };
            Ok(db_row(
                DbFields {
                    id,
                    event_type,
                    event_data: cols.event_data[i].as_deref(),
                    correlation_id: cols.correlation_id[i].as_deref().filter(|s| !s.is_empty()),
                    position_id: cols.position_id[i],
                    symbol: cols.symbol[i].as_deref(),
                    severity: cols.severity[i].as_deref(),
                    error_message: cols.error_message[i].as_deref(),
                    created_at: *t,
                },
                &display,
                local,
            ))
        })
        .collect();
    let mut span: Option<(i64, i64)> = None;
    for r in converted {
        match r {
            Ok(row) => {
                let t = row.ts_utc;
                span = Some(span.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
                chunk.push(row);
            }
            Err(s) => skipped.push(s),
        }
    }
    let info = EventsInfo {
        kind: kind.into(),
        origin: shown,
        rows: chunk.len(),
        skipped,
        missing_columns: missing,
        extra_columns: extra,
        span,
        live_until: None,
    };
    Ok(Events {
        info,
        storage,
        display,
        chunk,
    })
}

fn naive_error(path: &str) -> AuditError {
    AuditError::input(
        path,
        "created_at has no UTC offset: its zone is unknown; pass --db-tz (e.g. --db-tz Europe/Moscow)",
    )
}

/// The instant of a parsed created_at, for tests and callers that have one value.
pub fn to_utc(local: NaiveDateTime, off: FixedOffset) -> DateTime<Utc> {
    (local - off).and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Regression: `-262143-01-01 00:00:00+15` parsed (chrono reads six-digit signed years) and
    // `local - offset` then panicked in `load` with "`NaiveDateTime - FixedOffset` out of range".
    #[test]
    fn created_at_beyond_four_digit_years_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        for created_at in ["-262143-01-01 00:00:00+15", "+262142-12-31 23:59:59-15"] {
            assert!(parse_pg_timestamp(created_at).is_none(), "{created_at}");
            let path = dir.path().join("events.csv");
            let csv = format!("id,event_type,event_data,created_at\n1,x,{{}},{created_at}\n");
            std::fs::write(&path, csv).unwrap();
            let err = load(&path, &SnapshotConfig::default()).expect_err(created_at);
            assert!(err.to_string().contains("is not a timestamp"), "{err}");
        }
        assert!(parse_pg_timestamp("9999-12-31 23:59:59-15").is_some());
    }

    #[test]
    fn psql_csv_timestamps() {
        let (l, o) = parse_pg_timestamp("2025-10-18 14:07:15.103+03").unwrap();
        assert_eq!(
            to_utc(l, o.unwrap()).to_rfc3339(),
            "2025-10-18T11:07:15.103+00:00"
        );
        let (l, o) = parse_pg_timestamp("2025-10-18T14:07:15.103+03:00").unwrap();
        assert_eq!(
            to_utc(l, o.unwrap()).to_rfc3339(),
            "2025-10-18T11:07:15.103+00:00"
        );
        let (_, o) = parse_pg_timestamp("2025-10-18 11:07:15Z").unwrap();
        assert_eq!(o, FixedOffset::east_opt(0));
        let (_, o) = parse_pg_timestamp("2025-10-18 14:07:15.103").unwrap();
        assert_eq!(o, None);
        let (l, o) = parse_pg_timestamp("2025-10-18 16:37:15+05:30").unwrap();
        assert_eq!(
            to_utc(l, o.unwrap()).to_rfc3339(),
            "2025-10-18T11:07:15+00:00"
        );
        for bad in [
            "",
            "yesterday",
            "2025-13-18 14:07:15+03",
            "2025-10-18 14:07:15+99",
        ] {
            assert!(parse_pg_timestamp(bad).is_none(), "{bad}");
        }
    }
}
