//! The database side: `events.csv` exactly as `psql \copy monitoring.events TO … CSV HEADER`
//! writes it in a session whose TimeZone is the display offset, and `events.sql` (schema and
//! INSERTs with explicit ids) that psql loads into an empty database.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use chrono::{FixedOffset, Offset, Utc};

use super::logfile::civil_from_days;
use super::model::Event;

/// The table as REFERENCE.md describes it, with its indexes; `IF NOT EXISTS` so it loads on
/// top of an existing fixture schema.
pub const SCHEMA_SQL: &str = "\
CREATE SCHEMA IF NOT EXISTS monitoring;
CREATE TABLE IF NOT EXISTS monitoring.events (
    id SERIAL PRIMARY KEY,
    event_type VARCHAR(50) NOT NULL,
    event_data JSONB,
    correlation_id VARCHAR(100),
    position_id INTEGER,
    order_id VARCHAR(100),
    symbol VARCHAR(50),
    exchange VARCHAR(50),
    severity VARCHAR(20) DEFAULT 'INFO',
    error_message TEXT,
    stack_trace TEXT,
    created_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX IF NOT EXISTS idx_events_type ON monitoring.events (event_type);
CREATE INDEX IF NOT EXISTS idx_events_correlation ON monitoring.events (correlation_id);
CREATE INDEX IF NOT EXISTS idx_events_position ON monitoring.events (position_id);
CREATE INDEX IF NOT EXISTS idx_events_created ON monitoring.events (created_at DESC);
CREATE INDEX IF NOT EXISTS idx_events_symbol ON monitoring.events (symbol) WHERE symbol IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_events_severity ON monitoring.events (severity);
";

pub const CSV_HEADER: &str = "id,event_type,event_data,correlation_id,position_id,order_id,symbol,exchange,severity,error_message,stack_trace,created_at";

/// A timestamptz as PostgreSQL's ISO DateStyle prints it in a zone of offset `off`:
/// `2025-10-18 14:07:15.103+03` (fraction without trailing zeros, none when zero; minutes
/// only when not whole hours: `+05:30`).
pub fn pg_timestamptz(utc_us: i64, off: FixedOffset) -> String {
    let secs = i64::from(off.local_minus_utc());
    let local = utc_us + secs * 1_000_000;
    let sec = local.div_euclid(1_000_000);
    let us = local.rem_euclid(1_000_000);
    let (y, m, d) = civil_from_days(sec.div_euclid(86_400));
    let s = sec.rem_euclid(86_400);
    let mut out = format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    );
    if us != 0 {
        let frac = format!("{us:06}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    let a = secs.abs();
    out.push(if secs < 0 { '-' } else { '+' });
    out.push_str(&format!("{:02}", a / 3600));
    if a % 3600 != 0 {
        out.push_str(&format!(":{:02}", a % 3600 / 60));
    }
    out
}

/// One field as PostgreSQL's CSV writer quotes it: NULL is an empty unquoted field; a value
/// is quoted when empty or when it holds the delimiter, a quote, CR or LF; quotes double.
pub fn csv_field(v: Option<&str>, out: &mut String) {
    let Some(v) = v else { return };
    let quote = v.is_empty() || v.contains([',', '"', '\n', '\r']);
    if !quote {
        out.push_str(v);
        return;
    }
    out.push('"');
    for c in v.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
}

/// A SQL literal (standard_conforming_strings on), or NULL.
fn sql_literal(v: Option<&str>, out: &mut String) {
    match v {
        None => out.push_str("NULL"),
        Some(v) => {
            out.push('\'');
            for c in v.chars() {
                if c == '\'' {
                    out.push('\'');
                }
                out.push(c);
            }
            out.push('\'');
        }
    }
}

/// A DB row: its id and its event.
pub type Row<'a> = (i64, &'a Event);

fn fields(id: i64, e: &Event) -> [Option<String>; 11] {
    [
        Some(id.to_string()),
        Some(e.event_type.to_string()),
        Some(e.data.jsonb()),
        e.correlation_id.clone(),
        e.position_id.map(|p| p.to_string()),
        e.order_id.clone(),
        e.symbol.clone(),
        e.exchange.clone(),
        Some(e.severity.to_string()),
        e.error_message.clone(),
        e.stack_trace.clone(),
    ]
}

/// Writes `events.csv`; rows must be in id order; `created_at` gives each row's stamp (UTC
/// µs, the DB clock's reading of the event's instant). Returns the bytes written.
pub fn write_csv(
    path: &Path,
    rows: &[Row<'_>],
    display: FixedOffset,
    created_at: &dyn Fn(&Event) -> i64,
) -> io::Result<u64> {
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut line = String::with_capacity(1024);
    let mut bytes = 0u64;
    line.push_str(CSV_HEADER);
    line.push('\n');
    for &(id, e) in rows {
        for f in fields(id, e) {
            csv_field(f.as_deref(), &mut line);
            line.push(',');
        }
        csv_field(Some(&pg_timestamptz(created_at(e), display)), &mut line);
        line.push('\n');
        if line.len() > 1 << 16 {
            bytes += line.len() as u64;
            w.write_all(line.as_bytes())?;
            line.clear();
        }
    }
    bytes += line.len() as u64;
    w.write_all(line.as_bytes())?;
    w.flush()?;
    Ok(bytes)
}

/// Writes `events.sql`: settings, the schema, INSERTs of 500 rows each with explicit ids and
/// UTC created_at (from `created_at`, as in [`write_csv`]), and the id sequence moved past
/// the last id. Returns the bytes written.
pub fn write_sql(
    path: &Path,
    rows: &[Row<'_>],
    header: &str,
    created_at: &dyn Fn(&Event) -> i64,
) -> io::Result<u64> {
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut s = String::with_capacity(1 << 17);
    for l in header.lines() {
        s.push_str("-- ");
        s.push_str(l);
        s.push('\n');
    }
    s.push_str("SET client_encoding = 'UTF8';\nSET standard_conforming_strings = on;\nBEGIN;\n");
    s.push_str(SCHEMA_SQL);
    let mut bytes = 0u64;
    let utc = Utc.fix();
    for (k, &(id, e)) in rows.iter().enumerate() {
        if k % 500 == 0 {
            if k > 0 {
                s.push_str(";\n");
            }
            s.push_str("INSERT INTO monitoring.events (id, event_type, event_data, correlation_id, position_id, order_id, symbol, exchange, severity, error_message, stack_trace, created_at) VALUES\n");
        } else {
            s.push_str(",\n");
        }
        s.push('(');
        for (i, f) in fields(id, e).iter().enumerate() {
            match i {
                // id and position_id are integers.
                0 | 4 => s.push_str(f.as_deref().unwrap_or("NULL")),
                _ => sql_literal(f.as_deref(), &mut s),
            }
            s.push_str(", ");
        }
        sql_literal(Some(&pg_timestamptz(created_at(e), utc)), &mut s);
        s.push(')');
        if s.len() > 1 << 16 {
            bytes += s.len() as u64;
            w.write_all(s.as_bytes())?;
            s.clear();
        }
    }
    if !rows.is_empty() {
        s.push_str(";\n");
    }
    s.push_str("SELECT setval(pg_get_serial_sequence('monitoring.events', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM monitoring.events), false);\nCOMMIT;\n");
    bytes += s.len() as u64;
    w.write_all(s.as_bytes())?;
    w.flush()?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn off(s: i32) -> FixedOffset {
        FixedOffset::east_opt(s).unwrap()
    }

    #[test]
    fn timestamps_as_psql_prints_them() {
        // psql 15, \copy ... CSV with PGTZ=Europe/Moscow / Asia/Kolkata / America/Caracas.
        let t = 1_760_785_635_103_000; // 2025-10-18 11:07:15.103 UTC
        assert_eq!(
            pg_timestamptz(t, off(3 * 3600)),
            "2025-10-18 14:07:15.103+03"
        );
        assert_eq!(
            pg_timestamptz(t, off(5 * 3600 + 1800)),
            "2025-10-18 16:37:15.103+05:30"
        );
        assert_eq!(
            pg_timestamptz(t, off(-4 * 3600)),
            "2025-10-18 07:07:15.103-04"
        );
        assert_eq!(
            pg_timestamptz(1_760_785_635_000_000, off(3 * 3600)),
            "2025-10-18 14:07:15+03"
        );
        assert_eq!(
            pg_timestamptz(1_760_785_635_000_001, off(3 * 3600)),
            "2025-10-18 14:07:15.000001+03"
        );
        // Across midnight and a year end.
        assert_eq!(
            pg_timestamptz(1_767_225_599_500_000, off(3 * 3600)),
            "2026-01-01 02:59:59.5+03"
        );
    }

    #[test]
    fn csv_fields_quoted_like_postgresql() {
        // psql \copy output of the same values (see the module doc).
        let cases: [(Option<&str>, &str); 9] = [
            (None, ""),
            (Some(""), "\"\""),
            (Some("{}"), "{}"),
            (Some(r#"{"x": "a,b"}"#), r#""{""x"": ""a,b""}""#),
            (Some("line1\nline2"), "\"line1\nline2\""),
            (Some("cr\rx"), "\"cr\rx\""),
            (Some(" lead space"), " lead space"),
            (Some("\\."), "\\."),
            (Some("semi;colon\ttab"), "semi;colon\ttab"),
        ];
        for (v, want) in cases {
            let mut s = String::new();
            csv_field(v, &mut s);
            assert_eq!(s, want, "{v:?}");
        }
    }

    #[test]
    fn sql_literals_double_quotes() {
        let mut s = String::new();
        sql_literal(Some("it's \\ fine"), &mut s);
        sql_literal(None, &mut s);
        assert_eq!(s, "'it''s \\ fine'NULL");
    }
}
