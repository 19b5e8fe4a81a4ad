//! Bad input gets one clear line on stderr and exit 2 — never a panic, never a partial result.

use crate::support::{audit, logs_fixture, path_str, run};

fn fails_with(args: &[&str], needles: &[&str]) {
    let mut c = audit();
    c.args(args);
    run(c).assert_one_error_line(needles);
}

// Regression (fuzz target `clock`, crash-246c6994, and review of the same path): dates and
// durations past four-digit years panicked in chrono's offset and duration arithmetic.
#[test]
fn dates_and_durations_past_four_digit_years() {
    let log = path_str(&logs_fixture("orphans.log"));
    fails_with(
        &[
            "timeline",
            "--logs",
            &log,
            "--window",
            "14:07-14:08",
            "--date",
            "+262142-12-31",
            "--tz",
            "-10:00",
        ],
        &["--date", "+262142-12-31"],
    );
    fails_with(
        &[
            "timeline",
            "--logs",
            &log,
            "--window=-262143-01-01 00:00:00+15..2025-10-18T00:00:00Z",
        ],
        &["--window", "is not a time"],
    );
    fails_with(
        &["check", "--logs", &log, "--last", "99999999999999h"],
        &["99999999999999h"],
    );
    fails_with(
        &["check", "--logs", &log, "--last", "100000000d"],
        &["--last"],
    );
}

#[test]
fn bad_windows_and_zones() {
    let log = path_str(&logs_fixture("orphans.log"));
    fails_with(
        &["timeline", "--logs", &log, "--window", "14:08-14:07"],
        &["--window", "ends before it starts"],
    );
    fails_with(
        &["timeline", "--logs", &log, "--window", "25:00-26:00"],
        &["--window", "25:00"],
    );
    fails_with(
        &["timeline", "--logs", &log, "--log-tz", "Mars/Olympus"],
        &["Mars/Olympus"],
    );
    fails_with(&["timeline", "--logs", &log, "--tz", "+99:00"], &["+99:00"]);
    fails_with(
        &[
            "timeline",
            "--logs",
            &log,
            "--date",
            "2025-02-30",
            "--window",
            "14:07",
        ],
        &["2025-02-30"],
    );
}

#[test]
fn missing_sources_say_what_to_pass() {
    fails_with(&["timeline"], &["no sources", "--db", "--logs"]);
    fails_with(
        &["timeline", "--logs", "/nonexistent/dir"],
        &["/nonexistent/dir", "no such file"],
    );
    fails_with(
        &["timeline", "--events", "/nonexistent/events.csv"],
        &["/nonexistent/events.csv"],
    );
    fails_with(
        &[
            "timeline",
            "--events",
            &path_str(&logs_fixture("orphans.log")),
        ],
        &["unknown snapshot format"],
    );
}

#[test]
fn a_window_without_a_date_over_several_days_asks_for_one() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("two_days.log");
    std::fs::write(
        &p,
        "2025-10-18 23:59:00,000 - m - INFO - a\n2025-10-19 00:01:00,000 - m - INFO - b\n",
    )
    .unwrap();
    fails_with(
        &[
            "timeline",
            "--logs",
            &path_str(&p),
            "--log-tz",
            "UTC",
            "--window",
            "00:00-00:05",
        ],
        &["--date", "2025-10-18 .. 2025-10-19"],
    );
    // With the date it works and finds the one line.
    let mut c = audit();
    c.args([
        "timeline",
        "--logs",
        &path_str(&p),
        "--log-tz",
        "UTC",
        "--window",
        "00:00-00:05",
        "--date",
        "2025-10-19",
        "--format",
        "csv",
    ]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 2, "{}", r.stdout);
}

#[test]
fn unreachable_database_masks_the_password() {
    // Port 1 on loopback: nothing listens there; the refusal is immediate.
    let url = "postgres://audit:TopSecret123@127.0.0.1:1/fox";
    let mut c = audit();
    c.args(["timeline", "--db", url, "--connect-timeout", "5"]);
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stderr.trim_end().lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("postgres://audit:***@127.0.0.1:1/fox"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("cannot connect"), "{}", r.stderr);
    assert!(!r.stderr.contains("TopSecret123") && !r.stdout.contains("TopSecret123"));
}

#[test]
fn a_panic_is_one_scrubbed_line_and_exit_2() {
    // AUDIT_TEST_PANIC makes the binary panic with its whole command line in the message: the
    // hook must mask the --db URL's password and PGPASSWORD's wherever they appear in it.
    let mut c = audit();
    c.args([
        "timeline",
        "--db",
        "postgres://audit:TopSecret123@127.0.0.1:1/fox",
        "--symbol",
        "TopSecret123",
        "--correlation",
        "Hunter2Hunter2",
    ])
    .env("AUDIT_TEST_PANIC", "1")
    .env("PGPASSWORD", "Hunter2Hunter2");
    let r = run(c);
    r.assert_one_error_line(&["internal error", "postgres://audit:***@127.0.0.1:1/fox"]);
    assert!(!r.stderr.contains("TopSecret123"), "{}", r.stderr);
    assert!(!r.stderr.contains("Hunter2Hunter2"), "{}", r.stderr);
    assert!(!r.stdout.contains("TopSecret123"));
}

#[test]
fn the_test_panic_switch_takes_only_the_value_1() {
    // Any other value (0, empty, yes) is a normal run: the shipped binary must not be one
    // stray environment variable away from a panic.
    for value in ["0", "", "yes", "true"] {
        let mut c = crate::support::audit_in_repo();
        c.args(["--quiet", "timeline", "--signal", "4869992", "--count"])
            .env("AUDIT_TEST_PANIC", value);
        let r = run(c);
        assert_eq!(r.code, 0, "AUDIT_TEST_PANIC={value:?}: {}", r.stderr);
        assert!(!r.stderr.contains("internal error"), "{}", r.stderr);
    }
}

#[test]
fn a_host_that_never_answers_times_out_in_one_line() {
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): nothing answers, so the connect timeout decides.
    let mut c = audit();
    c.args([
        "timeline",
        "--db",
        "postgres://audit:TopSecret123@192.0.2.1:5432/fox",
        "--connect-timeout",
        "1",
    ]);
    let t = std::time::Instant::now();
    let r = run(c);
    r.assert_one_error_line(&["192.0.2.1"]);
    assert!(!r.stderr.contains("TopSecret123"), "{}", r.stderr);
    assert!(t.elapsed().as_secs() < 30, "took {:?}", t.elapsed());
}
