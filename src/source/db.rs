//! PostgreSQL `monitoring.events` through sqlx: a read-only session with a statement timeout,
//! filters pushed into SQL as bound parameters, rows streamed into timeline columns.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgRow};
use sqlx::{ConnectOptions, Connection, Row as _};

use crate::error::{AuditError, redact_url};
use crate::rows::Chunk;
use crate::source::events::{DbFields, Events, EventsInfo, Storage, db_row};
use crate::time::{Provenance, Zone, Zoned};

const COLUMNS_SQL: &str = include_str!("../../queries/columns.sql");
const SESSION_SQL: &str = include_str!("../../queries/session.sql");
const DISPLAY_TZ_SQL: &str = include_str!("../../queries/display_timezone.sql");
const SERVER_TZ_SQL: &str = include_str!("../../queries/server_timezone.sql");
const SET_TIMEZONE_SQL: &str = include_str!("../../queries/set_timezone.sql");
const SPAN_SQL: &str = include_str!("../../queries/span.sql");
const EVENTS_SQL: &str = include_str!("../../queries/events.sql");
const ANCHORS_SQL: &str = include_str!("../../queries/anchors.sql");
const ROW_ESTIMATE_SQL: &str = include_str!("../../queries/row_estimate.sql");

/// About this many anchor rows are fetched from a big table.
const ANCHOR_TARGET: i64 = 50_000;

/// The columns `queries/events.sql` reads.
const READ_COLUMNS: [&str; 9] = [
    "id",
    "event_type",
    "event_data",
    "correlation_id",
    "position_id",
    "symbol",
    "severity",
    "error_message",
    "created_at",
];

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct DbConfig {
    pub url: String,
    /// Zone of a naive `timestamp` created_at, and who said so.
    pub db_tz: Option<(Zone, String)>,
    /// Display zone override (`--tz`), and who said so.
    pub display_tz: Option<(Zone, String)>,
    pub connect_timeout: Duration,
    pub statement_timeout: Duration,
}

impl DbConfig {
    /// How long to wait for the database to answer a connection, unless told otherwise.
    pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
    /// The read-only session's statement timeout, unless told otherwise.
    pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(300);
}

/// Filters pushed into SQL. `None` means no filter.
#[derive(Debug, Clone, Default)]
pub struct Pushdown {
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub symbol: Option<String>,
    pub position: Option<i64>,
    pub correlation: Option<String>,
    pub signal: Option<i64>,
    pub positions: Option<Vec<i64>>,
}

/// An open, read-only session on the events table.
pub struct DbSession {
    rt: tokio::runtime::Runtime,
    conn: PgConnection,
    origin: String,
    pub storage: Storage,
    pub display: Zoned,
    pub server_timezone: String,
    /// When the span was asked (the server's `now()`): a live database answers up to then.
    queried_at: Option<i64>,
}

fn db_err(origin: &str, msg: impl std::fmt::Display) -> AuditError {
    AuditError::Db {
        origin: origin.to_string(),
        msg: msg.to_string(),
    }
}

/// sqlx errors, in words; never includes the URL.
fn describe(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => {
            let mut s = d.message().to_string();
            if let Some(code) = d.code() {
                s.push_str(&format!(" (SQLSTATE {code})"));
            }
            s
        }
        sqlx::Error::Io(io) => format!("{io}"),
        sqlx::Error::Tls(t) => format!("TLS: {t}"),
        sqlx::Error::PoolTimedOut => "timed out".into(),
        other => other.to_string(),
    }
}

impl DbSession {
    /// Connects read-only (`default_transaction_read_only=on` as a startup parameter, so even
    /// the first statement cannot write) and checks the schema.
    pub fn connect(cfg: &DbConfig) -> Result<DbSession, AuditError> {
        let origin = redact_url(&cfg.url);
        let opts: PgConnectOptions = cfg
            .url
            .parse()
            .map_err(|e: sqlx::Error| db_err(&origin, format!("invalid URL: {}", describe(&e))))?;
        let timeout_ms = cfg.statement_timeout.as_millis().to_string();
        let opts = opts
            .application_name("audit")
            .options([
                ("default_transaction_read_only", "on"),
                ("statement_timeout", timeout_ms.as_str()),
            ])
            .disable_statement_logging();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| db_err(&origin, format!("cannot start the I/O runtime: {e}")))?;
        let conn = rt
            .block_on(async {
                tokio::time::timeout(cfg.connect_timeout, PgConnection::connect_with(&opts)).await
            })
            .map_err(|_| {
                db_err(
                    &origin,
                    format!("cannot connect: no answer within {:?}", cfg.connect_timeout),
                )
            })?
            .map_err(|e| db_err(&origin, format!("cannot connect: {}", describe(&e))))?;
        let mut s = DbSession {
            rt,
            conn,
            origin,
            storage: Storage::Absolute,
            display: Zoned::new(Zone::UTC, Provenance::Assumed { why: String::new() }),
            server_timezone: String::new(),
            queried_at: None,
        };
        s.check_session(cfg)?;
        Ok(s)
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    fn check_session(&mut self, cfg: &DbConfig) -> Result<(), AuditError> {
        let origin = self.origin.clone();
        let read_only: String = self
            .rt
            .block_on(async {
                let row = sqlx::query(SESSION_SQL).fetch_one(&mut self.conn).await?;
                row.try_get::<String, _>(0)
            })
            .map_err(|e| db_err(&origin, describe(&e)))?;
        if read_only != "on" {
            return Err(db_err(
                &origin,
                "the session is not read-only; refusing to read",
            ));
        }
        let (setting, source) = self.display_timezone()?;
        self.server_timezone = setting.clone();
        self.display = match &cfg.display_tz {
            Some((z, by)) => Zoned::new(*z, Provenance::Given { by: by.clone() }),
            None => match setting.parse::<Zone>() {
                Ok(z) => Zoned::new(
                    z,
                    Provenance::Server {
                        setting: setting.clone(),
                        source: source.to_string(),
                    },
                ),
                Err(_) => Zoned::new(
                    Zone::UTC,
                    Provenance::Assumed {
                        why: format!(
                            "server TimeZone `{setting}` is not a zone audit knows; pass --tz"
                        ),
                    },
                ),
            },
        };

        let columns: Vec<(String, String)> = self
            .rt
            .block_on(async {
                sqlx::query(COLUMNS_SQL)
                    .fetch_all(&mut self.conn)
                    .await?
                    .iter()
                    .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?)))
                    .collect::<Result<Vec<_>, sqlx::Error>>()
            })
            .map_err(|e| db_err(&origin, describe(&e)))?;
        if columns.is_empty() {
            return Err(db_err(
                &origin,
                "table monitoring.events does not exist (or this user cannot see it)",
            ));
        }
        let missing: Vec<&str> = READ_COLUMNS
            .iter()
            .copied()
            .filter(|c| !columns.iter().any(|(n, _)| n == c))
            .collect();
        if !missing.is_empty() {
            return Err(db_err(
                &origin,
                format!(
                    "monitoring.events lacks column(s) {}; audit reads {}",
                    missing.join(", "),
                    READ_COLUMNS.join(", ")
                ),
            ));
        }
        let created_type = columns
            .iter()
            .find(|(n, _)| n == "created_at")
            .map(|(_, t)| t.as_str())
            .unwrap_or_default();
        self.storage = match created_type {
            "timestamp with time zone" => Storage::Absolute,
            "timestamp without time zone" => {
                let Some((zone, by)) = &cfg.db_tz else {
                    return Err(db_err(
                        &origin,
                        "created_at is a naive `timestamp`: its zone is unknown; pass --db-tz (e.g. --db-tz Europe/Moscow)",
                    ));
                };
                // Comparisons with timestamptz bounds and ::timestamptz both use the session
                // zone: set it to the zone the naive readings were written in.
                let name = match zone {
                    Zone::Iana(tz) => tz.name().to_string(),
                    Zone::Fixed(off) => posix_zone(*off),
                };
                self.rt
                    .block_on(
                        sqlx::query(SET_TIMEZONE_SQL)
                            .bind(&name)
                            .execute(&mut self.conn),
                    )
                    .map_err(|e| db_err(&origin, describe(&e)))?;
                Storage::Naive(Zoned::new(*zone, Provenance::Given { by: by.clone() }))
            }
            other => {
                return Err(db_err(
                    &origin,
                    format!("created_at has type `{other}`; expected timestamptz or timestamp"),
                ));
            }
        };
        Ok(())
    }

    /// What psql would have shown: (zone name, where it is set).
    fn display_timezone(&mut self) -> Result<(String, &'static str), AuditError> {
        let origin = self.origin.clone();
        let row = self
            .rt
            .block_on(sqlx::query(DISPLAY_TZ_SQL).fetch_one(&mut self.conn))
            .map_err(|e| db_err(&origin, describe(&e)))?;
        let get = |i: usize| {
            row.try_get::<Option<String>, _>(i)
                .ok()
                .flatten()
                .filter(|s| !s.is_empty())
        };
        if let Some(v) = get(0) {
            return Ok((v, "set for this role in this database"));
        }
        if let Some(v) = get(1) {
            return Ok((v, "set for this role"));
        }
        if let Some(v) = get(2) {
            return Ok((v, "set for this database"));
        }
        let server: Option<String> = self
            .rt
            .block_on(sqlx::query(SERVER_TZ_SQL).fetch_optional(&mut self.conn))
            .ok()
            .flatten()
            .and_then(|r| r.try_get::<String, _>(0).ok());
        if let Some(v) = server {
            return Ok((v, "postgresql.conf"));
        }
        Ok((
            get(3).unwrap_or_else(|| "UTC".into()),
            "the server's log_timezone",
        ))
    }

    /// Runs a statement on the session as it is — read-only. Exists for the test that proves an
    /// attempted write through audit's own connection fails; audit itself never calls it.
    #[doc(hidden)]
    pub fn execute_probe(&mut self, sql: &str) -> Result<(), AuditError> {
        let origin = self.origin.clone();
        self.rt
            .block_on(sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())).execute(&mut self.conn))
            .map(|_| ())
            .map_err(|e| db_err(&origin, describe(&e)))
    }

    /// First and last created_at of the table (µs, UTC).
    pub fn span(&mut self) -> Result<Option<(i64, i64)>, AuditError> {
        let origin = self.origin.clone();
        let row = self
            .rt
            .block_on(sqlx::query(SPAN_SQL).fetch_one(&mut self.conn))
            .map_err(|e| db_err(&origin, describe(&e)))?;
        let first: Option<DateTime<Utc>> =
            row.try_get(0).map_err(|e| db_err(&origin, describe(&e)))?;
        let last: Option<DateTime<Utc>> =
            row.try_get(1).map_err(|e| db_err(&origin, describe(&e)))?;
        let now: Option<DateTime<Utc>> =
            row.try_get(2).map_err(|e| db_err(&origin, describe(&e)))?;
        self.queried_at = now.map(|t| t.timestamp_micros());
        Ok(first
            .zip(last)
            .map(|(a, b)| (a.timestamp_micros(), b.timestamp_micros())))
    }

    /// Streams the rows matching `q` into `chunk`; returns how many were read.
    pub fn fetch(&mut self, q: &Pushdown, chunk: &mut Chunk) -> Result<usize, AuditError> {
        /// Rows decoded from the wire, converted into timeline rows in parallel batches while
        /// the next ones stream in (JSON parsing is most of the cost of a DB row).
        const BATCH: usize = 4096;
        let origin = self.origin.clone();
        let display = self.display.clone();
        let conn = &mut self.conn;
        let rt = &self.rt;
        let converted: std::sync::Mutex<Vec<(usize, Chunk)>> = std::sync::Mutex::new(Vec::new());
        let failed: std::sync::Mutex<Option<sqlx::Error>> = std::sync::Mutex::new(None);
        crate::progress::start_rows("db rows");
        // The reading stays on this thread (`rayon::scope` would queue it behind whatever the
        // pool is doing: a day's log parse held a one-minute window's rows 0.15-0.45 s); only
        // full batches go to the pool, and a read of less than one batch is converted here.
        let n = rayon::in_place_scope(|scope| {
            rt.block_on(async {
                let mut rows = sqlx::query(EVENTS_SQL)
                    .bind(q.start)
                    .bind(q.end)
                    .bind(q.symbol.as_deref())
                    .bind(q.position)
                    .bind(q.correlation.as_deref())
                    .bind(q.signal.map(|s| s.to_string()))
                    .bind(q.positions.as_deref())
                    .fetch(conn);
                let mut n = 0usize;
                let mut batch: Vec<PgRow> = Vec::with_capacity(BATCH);
                let mut k = 0usize;
                let (display, converted, failed) = (&display, &converted, &failed);
                let convert = move |batch: Vec<PgRow>, k: usize| {
                    let mut rows = Events::empty_chunk();
                    rows.reserve(batch.len());
                    for r in &batch {
                        match convert_row(r, display) {
                            Ok(x) => rows.push(x),
                            Err(e) => {
                                if let Ok(mut f) = failed.lock() {
                                    f.get_or_insert(e);
                                }
                                return;
                            }
                        }
                    }
                    if let Ok(mut c) = converted.lock() {
                        c.push((k, rows));
                    }
                };
                let send = |batch: Vec<PgRow>, k: usize| scope.spawn(move |_| convert(batch, k));
                while let Some(row) = rows.try_next().await? {
                    batch.push(row);
                    n += 1;
                    if batch.len() == BATCH {
                        crate::progress::inc_rows(BATCH as u64);
                        send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)), k);
                        k += 1;
                    }
                }
                match (batch.is_empty(), k) {
                    (true, _) => {}
                    (false, 0) => convert(batch, k),
                    (false, _) => send(batch, k),
                }
                Ok::<_, sqlx::Error>(n)
            })
        });
        crate::progress::finish_rows();
        let n = n.map_err(|e| db_err(&origin, describe(&e)))?;
        if let Some(e) = failed.into_inner().ok().flatten() {
            return Err(db_err(&origin, describe(&e)));
        }
        let _t = crate::timing::phase("db: gather batches");
        let mut batches = converted.into_inner().unwrap_or_default();
        batches.sort_by_key(|(k, _)| *k);
        chunk.append_all(batches.into_iter().map(|(_, rows)| rows).collect());
        Ok(n)
    }

    /// Streams the clock anchors of `[start, end)`: each row's event type, payload hash
    /// ([`crate::payload::payload_hash_text`]) and instant (µs, UTC), to `add`.
    pub fn fetch_anchors(
        &mut self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        add: &mut dyn FnMut(&str, u64, i64),
    ) -> Result<usize, AuditError> {
        let origin = self.origin.clone();
        let conn = &mut self.conn;
        self.rt
            .block_on(async {
                let estimate: i64 = sqlx::query_scalar(ROW_ESTIMATE_SQL)
                    .fetch_optional(&mut *conn)
                    .await?
                    .unwrap_or(0);
                let step = (estimate / ANCHOR_TARGET).max(1);
                let mut rows = sqlx::query(ANCHORS_SQL)
                    .bind(start)
                    .bind(end)
                    .bind(step)
                    .fetch(conn);
                let mut n = 0usize;
                while let Some(row) = rows.try_next().await? {
                    let et: String = row.try_get(0)?;
                    let data: Option<String> = row.try_get(1)?;
                    let at: DateTime<Utc> = row.try_get(2)?;
                    if let Some(h) = data.as_deref().and_then(crate::payload::payload_hash_text) {
                        add(&et, h, at.timestamp_micros());
                        n += 1;
                    }
                }
                Ok::<_, sqlx::Error>(n)
            })
            .map_err(|e| db_err(&origin, describe(&e)))
    }

    /// What to report about this source.
    pub fn info(&self, rows: usize, span: Option<(i64, i64)>) -> EventsInfo {
        EventsInfo {
            kind: "postgresql".into(),
            origin: self.origin.clone(),
            rows,
            skipped: Vec::new(),
            missing_columns: Vec::new(),
            extra_columns: Vec::new(),
            span,
            live_until: self.queried_at,
        }
    }

    /// Consumes the session into loaded events (closing the connection).
    pub fn into_events(self, chunk: Chunk, span: Option<(i64, i64)>) -> Events {
        let info = self.info(chunk.len(), span);
        let DbSession {
            rt,
            conn,
            storage,
            display,
            ..
        } = self;
        let _ = rt.block_on(conn.close());
        Events {
            info,
            storage,
            display,
            chunk,
        }
    }
}

/// A fixed offset as a PostgreSQL TimeZone value. A bare `+04:00` is read as POSIX, where the
/// sign is inverted (it would mean UTC-4); `<+0400>-04:00` names the zone and states the
/// POSIX offset explicitly.
fn posix_zone(off: chrono::FixedOffset) -> String {
    let iso = crate::time::format_offset(off);
    let name = iso.replace(':', "");
    let inverted = crate::time::format_offset(
        chrono::FixedOffset::east_opt(-off.local_minus_utc()).unwrap_or(off),
    );
    format!("<{name}>{inverted}")
}

/// One row of the events query as a timeline row, its text borrowed from the row's buffer
/// (decoded on a worker: the reader only receives rows).
fn convert_row(row: &PgRow, display: &Zoned) -> Result<crate::rows::Row, sqlx::Error> {
    let created: DateTime<Utc> = row.try_get(8)?;
    Ok(db_row(
        DbFields {
            id: row.try_get(0)?,
            event_type: row.try_get::<&str, _>(1)?,
            event_data: row.try_get::<Option<&str>, _>(2)?,
            correlation_id: row.try_get::<Option<&str>, _>(3)?,
            position_id: row.try_get(4)?,
            symbol: row.try_get::<Option<&str>, _>(5)?,
            severity: row.try_get::<Option<&str>, _>(6)?,
            error_message: row.try_get::<Option<&str>, _>(7)?,
            created_at: created.timestamp_micros(),
        },
        display,
        None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_offsets_are_spelled_for_postgres_posix_rules() {
        let east = chrono::FixedOffset::east_opt(4 * 3600).unwrap();
        assert_eq!(posix_zone(east), "<+0400>-04:00");
        let west = chrono::FixedOffset::east_opt(-(3 * 3600 + 1800)).unwrap();
        assert_eq!(posix_zone(west), "<-0330>+03:30");
    }
}
