//! The database misbehaving: wrong password, a table locked by someone else, the connection
//! killed mid-read, Ctrl-C while waiting. Each is one error line and exit 2 (130 for Ctrl-C),
//! no partial output, and the password never printed. Also: audit's own session cannot write.

use std::process::{Command as Std, Stdio};
use std::time::{Duration, Instant};

use crate::support::pg::{PASSWORD, own_pg, pg};
use crate::support::{audit, incident, run};

fn fixture_db() -> String {
    let dir = incident();
    pg().load(
        "faults",
        &[&dir.join("schema.sql"), &dir.join("events.sql")],
    )
}

fn one_error_line(r: &crate::support::Run, needles: &[&str]) {
    r.assert_one_error_line(needles);
    assert!(r.stdout.is_empty(), "no partial output: {}", r.stdout);
    assert!(
        !r.stderr.contains(PASSWORD),
        "password printed: {}",
        r.stderr
    );
}

/// Runs on a server whose passwords the tests set ([`own_pg`]): with DATABASE_URL set, a
/// throwaway cluster of its own, since that server's authentication is not ours to know.
#[test]
fn a_wrong_password_is_refused_and_not_printed() {
    let db = own_pg().load("faults", &[&incident().join("schema.sql")]);
    let url = own_pg().url_with_password(&db, Some("Not-The-Pw-77"));
    let mut c = audit();
    c.args(["timeline", "--db", &url, "--count"]);
    let r = run(c);
    one_error_line(&r, &["password authentication failed", "audit_test:***@"]);
    assert!(!r.stderr.contains("Not-The-Pw-77"), "{}", r.stderr);
}

/// On a server of its own ([`own_pg`]), like the wrong password: a DATABASE_URL server may
/// need no password at all, and then PGPASSWORD would be tested by nothing.
#[test]
fn pgpassword_supplies_a_password_the_url_leaves_out() {
    let dir = incident();
    let db = own_pg().load(
        "faults",
        &[&dir.join("schema.sql"), &dir.join("events.sql")],
    );
    let url = own_pg().url_with_password(&db, None);
    assert!(!url.contains(PASSWORD), "{url}");
    let mut c = audit();
    c.args(["timeline", "--db", &url, "--count", "--format", "json"]);
    c.env("PGPASSWORD", PASSWORD);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    // Every row of the fixture (events.csv is the \copy of events.sql).
    assert_eq!(v["total"], crate::support::incident_csv().len());
    assert!(!r.stdout.contains(PASSWORD) && !r.stderr.contains(PASSWORD));
}

#[test]
fn a_locked_table_hits_the_statement_timeout() {
    let db = fixture_db();
    let _lock = pg().lock_events(&db);
    let t = Instant::now();
    let mut c = audit();
    c.args([
        "timeline",
        "--db",
        &pg().url(&db),
        "--statement-timeout",
        "1",
        "--count",
    ]);
    let r = run(c);
    one_error_line(
        &r,
        &["canceling statement due to statement timeout", "57014"],
    );
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
}

fn spawn_blocked(db: &str, extra: &[&str]) -> std::process::Child {
    let child = crate::support::audit_std()
        .args(["--no-config"])
        .args(extra)
        .args(["--db", &pg().url(db), "--statement-timeout", "120"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    pg().wait_for_blocked_audit(db);
    child
}

#[test]
fn a_connection_killed_mid_read_is_one_line() {
    let db = fixture_db();
    let lock = pg().lock_events(&db);
    let child = spawn_blocked(&db, &["timeline", "--count"]);
    pg().admin_on(&db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'audit' AND datname = current_database()");
    let out = child.wait_with_output().unwrap();
    drop(lock);
    let r = crate::support::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    one_error_line(&r, &["terminating connection due to administrator command"]);
}

#[test]
fn ctrl_c_while_waiting_exits_130_and_leaves_no_file() {
    let db = fixture_db();
    let _lock = pg().lock_events(&db);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("timeline.parquet");
    let child = spawn_blocked(&db, &["export", "--parquet", &out.display().to_string()]);
    let status = Std::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{stderr}");
    assert_eq!(
        stderr.trim_end().lines().last(),
        Some("interrupted"),
        "{stderr}"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn audits_own_session_cannot_write() {
    use audit::source::db::{DbConfig, DbSession};
    let db = fixture_db();
    let cfg = DbConfig {
        url: pg().url(&db),
        db_tz: None,
        display_tz: None,
        connect_timeout: Duration::from_secs(10),
        statement_timeout: Duration::from_secs(10),
    };
    let before = pg().admin_on(&db, "SELECT count(*) FROM monitoring.events");
    let mut s = DbSession::connect(&cfg).expect("connect");
    for sql in [
        "DELETE FROM monitoring.events",
        "UPDATE monitoring.events SET symbol = 'X'",
        "CREATE TABLE monitoring.scratch (x int)",
    ] {
        let e = s.execute_probe(sql).expect_err(sql).to_string();
        assert!(e.contains("read-only transaction"), "{sql}: {e}");
        assert!(!e.contains(PASSWORD), "{e}");
    }
    let count = || pg().admin_on(&db, "SELECT count(*) FROM monitoring.events");
    assert_eq!(count(), before);
}
