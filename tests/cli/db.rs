//! The PostgreSQL path against a real server, and its agreement with the snapshot files.

use std::path::PathBuf;

use serde_json::Value;

use crate::support::pg::pg;
use crate::support::{audit, incident, json, path_str, rows, run};

fn fixture_db() -> String {
    let dir = incident();
    pg().load(
        "incident",
        &[&dir.join("schema.sql"), &dir.join("events.sql")],
    )
}

fn logs() -> String {
    path_str(&incident().join("monitoring_logs"))
}

fn timeline(source: &[&str], filter: &[&str]) -> Value {
    let mut c = audit();
    c.arg("timeline")
        .args(source)
        .args([
            "--logs",
            &logs(),
            "--log-tz",
            "bot_*.log=+04:00",
            "--format",
            "json",
        ])
        .args(filter);
    json(c)
}

fn parquet_copy(dir: &std::path::Path) -> PathBuf {
    use polars::prelude::*;
    let csv = incident().join("events.csv");
    let mut df = CsvReadOptions::default()
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(csv))
        .unwrap()
        .finish()
        .unwrap();
    // A typed Parquet snapshot: integer ids, created_at as a UTC datetime column.
    let created: Vec<Option<i64>> = df
        .column("created_at")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| {
            s.and_then(|s| {
                chrono::DateTime::parse_from_str(&format!("{s}00"), "%Y-%m-%d %H:%M:%S%.f%z").ok()
            })
            .map(|t| t.timestamp_micros())
        })
        .collect();
    assert!(
        created.iter().all(Option::is_some),
        "every created_at parses"
    );
    let created = Int64Chunked::from_iter_options("created_at".into(), created.into_iter())
        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        .into_column();
    df.with_column(created).unwrap();
    for c in ["id", "position_id"] {
        let cast = df.column(c).unwrap().cast(&DataType::Int64).unwrap();
        df.with_column(cast).unwrap();
    }
    let path = dir.join("events.parquet");
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut df)
        .unwrap();
    path
}

/// Rows without the one field that legitimately differs between sources: nothing.
fn same_rows(a: &Value, b: &Value, what: &str) {
    let (ra, rb) = (rows(a), rows(b));
    assert_eq!(ra.len(), rb.len(), "{what}: row counts differ");
    for (x, y) in ra.iter().zip(rb) {
        assert_eq!(x, y, "{what}: rows differ");
    }
}

#[test]
fn postgres_csv_jsonl_and_parquet_give_the_same_timeline() {
    let db = fixture_db();
    let url = pg().url(&db);
    let tmp = tempfile::tempdir().unwrap();
    let parquet = parquet_copy(tmp.path());
    let csv = path_str(&incident().join("events.csv"));
    let jsonl = path_str(&incident().join("events.jsonl"));
    let parquet = path_str(&parquet);
    let filters: [&[&str]; 5] = [
        &["--signal", "4869992"],
        &["--window", "14:07-14:08"],
        &["--position", "1317"],
        &["--symbol", "flmusdt", "--window", "14:00-14:10"],
        &["--correlation", "open_position_4869992_1760785632.851694"],
    ];
    for f in filters {
        let from_db = timeline(&["--db", &url], f);
        assert!(!rows(&from_db).is_empty(), "{f:?}: no rows");
        assert_eq!(from_db["sources"]["events"]["kind"], "postgresql");
        // What psql showed the user: the DB's TimeZone.
        assert_eq!(from_db["clock"]["db"]["method"], "server");
        assert_eq!(from_db["clock"]["db"]["setting"], "Europe/Moscow");
        for (name, file) in [("csv", &csv), ("jsonl", &jsonl)] {
            let from_file = timeline(&["--events", file], f);
            same_rows(&from_db, &from_file, &format!("{f:?} db vs {name}"));
        }
        // A typed Parquet datetime column carries no display offset: name the zone psql used.
        let from_parquet = timeline(&["--events", &parquet, "--tz", "Europe/Moscow"], f);
        same_rows(&from_db, &from_parquet, &format!("{f:?} db vs parquet"));
    }
}

#[test]
fn the_csv_snapshot_is_what_psql_copy_writes() {
    let db = fixture_db();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("copy.csv");
    pg().psql_on(
        &db,
        &[
            "-c",
            &format!("\\copy monitoring.events TO '{}' CSV HEADER", out.display()),
        ],
    )
    .expect("\\copy");
    let ours = std::fs::read(incident().join("events.csv")).unwrap();
    let theirs = std::fs::read(&out).unwrap();
    assert!(
        ours == theirs,
        "fixtures events.csv differs from psql's \\copy of events.sql; regenerate with snapshot.sh"
    );
}

#[test]
fn naive_timestamp_created_at_needs_its_zone() {
    let db = fixture_db();
    // The older schema: created_at as Moscow wall-clock time without a zone.
    pg().psql_on(
        &db,
        &["-c", "ALTER TABLE monitoring.events ALTER COLUMN created_at TYPE timestamp USING created_at AT TIME ZONE 'Europe/Moscow'"],
    )
    .expect("alter");
    let url = pg().url(&db);
    let mut c = audit();
    c.args(["timeline", "--db", &url, "--window", "14:07-14:08"]);
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--db-tz"), "{}", r.stderr);

    let naive = timeline(
        &["--db", &url, "--db-tz", "Europe/Moscow"],
        &["--window", "14:07-14:08"],
    );
    assert_eq!(naive["clock"]["db.storage"]["method"], "given");
    let csv = timeline(
        &["--events", &path_str(&incident().join("events.csv"))],
        &["--window", "14:07-14:08"],
    );
    same_rows(&naive, &csv, "naive db with --db-tz vs csv");
    // A fixed offset works the same (and is not read with POSIX's inverted sign).
    let fixed = timeline(
        &["--db", &url, "--db-tz", "+03:00"],
        &["--window", "14:07-14:08"],
    );
    assert_eq!(rows(&fixed).len(), rows(&csv).len());
    assert_eq!(rows(&fixed)[0]["ts_utc"], rows(&csv)[0]["ts_utc"]);
}

#[test]
fn a_table_without_the_needed_columns_is_a_schema_error() {
    let db = pg().create_db("wrongschema");
    pg().psql_on(&db, &["-c", "CREATE SCHEMA monitoring; CREATE TABLE monitoring.events (id serial, event_type text, created_at timestamptz)"])
        .expect("create");
    let mut c = audit();
    c.args(["timeline", "--db", &pg().url(&db)]);
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("lacks column(s) event_data"),
        "{}",
        r.stderr
    );

    let empty = pg().create_db("notable");
    let mut c = audit();
    c.args(["timeline", "--db", &pg().url(&empty)]);
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("monitoring.events does not exist"),
        "{}",
        r.stderr
    );
}

#[test]
fn filters_are_bound_parameters_not_sql() {
    let db = fixture_db();
    let url = pg().url(&db);
    let mut c = audit();
    c.args([
        "timeline",
        "--db",
        &url,
        "--symbol",
        "x'; DROP TABLE monitoring.events; --",
        "--format",
        "json",
    ]);
    let v = json(c);
    assert!(rows(&v).is_empty());
    let n = pg()
        .psql_on(&db, &["-c", "SELECT count(*) FROM monitoring.events"])
        .expect("table still there");
    // Every row of the fixture is still there: events.csv is the \copy of events.sql.
    assert_eq!(
        n.trim().parse::<usize>().unwrap(),
        crate::support::incident_csv().len()
    );
}

/// On a terminal a DB read shows its rows counter (drawn, then cleared); `--quiet` shows
/// nothing. `script` (util-linux) gives the run a pseudo-terminal.
#[test]
fn a_terminal_shows_the_db_rows_counter_unless_quiet() {
    let url = pg().url(&fixture_db());
    let bin = assert_cmd::cargo::cargo_bin("audit");
    let on_tty = |extra: &str| {
        let cmd = format!(
            "'{}' --no-config {extra} timeline --db '{url}' --count",
            bin.display()
        );
        let out = crate::support::isolate(&mut std::process::Command::new("script"))
            .args(["-qec", &cmd, "/dev/null"])
            .output()
            .expect("script (util-linux) runs the binary on a pseudo-terminal");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let shown = on_tty("");
    assert!(
        shown.contains("db rows"),
        "no counter on a terminal: {shown:?}"
    );
    assert!(shown.contains("total,,,"), "{shown:?}");
    let quiet = on_tty("--quiet");
    assert!(!quiet.contains("db rows"), "--quiet still drew: {quiet:?}");
    assert!(quiet.contains("total,,,"), "{quiet:?}");
    // Not a terminal: nothing but the counts.
    let mut c = audit();
    c.args(["timeline", "--db", &url, "--count"]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("db rows"), "{}", r.stderr);
}
