//! `audit watch` against a real PostgreSQL while a writer plays the bot in real time: each
//! event's log line first (naive UTC+4, as the bot's host writes it), its row inserted with
//! its batch up to a second later, as EventLogger does. Losses are injected both ways, the
//! auditor's DB session is killed mid-run, and the bot restarts into a new file. Every injected
//! fault must be reported exactly once, nothing else at medium or above, each within 15 s of
//! being written, and SIGINT must end the run cleanly.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::pg::pg;
use crate::support::root;

struct Bot {
    db: String,
    dir: std::path::PathBuf,
    name: String,
    file: std::fs::File,
    next_id: i64,
    batch: Vec<String>,
}

fn local(t: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDateTime {
    (t + chrono::Duration::hours(4)).naive_utc()
}

impl Bot {
    fn open_file(dir: &Path, pid: u32) -> (String, std::fs::File) {
        let now = chrono::Utc::now();
        let name = format!("bot_{}.log", local(now).format("%Y%m%d_%H%M%S%3f"));
        let mut f = std::fs::File::create(dir.join(&name)).unwrap();
        writeln!(
            f,
            "{} - utils.single_instance - INFO - ✅ Lock acquired for 'trading_bot' (PID: {pid})",
            local(now).format("%Y-%m-%d %H:%M:%S,%3f")
        )
        .unwrap();
        (name, f)
    }

    /// The live file renamed to `NAME.1` and a new one opened under its name (how a
    /// RotatingFileHandler rolls): the process goes on in it, no lock line.
    fn rotate(&mut self) {
        self.file.flush().unwrap();
        let live = self.dir.join(&self.name);
        std::fs::rename(&live, self.dir.join(format!("{}.1", self.name))).unwrap();
        self.file = std::fs::File::create(&live).unwrap();
    }

    /// One `log_event`: its line now (unless `lose_line`), its row in the next batch (unless
    /// `lose_row`). Returns the row's id.
    fn event(&mut self, n: u32, lose_line: bool, lose_row: bool) -> i64 {
        let now = chrono::Utc::now();
        let id = self.next_id;
        self.next_id += 1;
        let sym = ["BTCUSDT", "ETHUSDT", "SOLUSDT"][n as usize % 3];
        if !lose_line {
            writeln!(
                self.file,
                "{} - core.event_logger - INFO - position_updated: {{'symbol': '{sym}', 'n': {n}}}",
                local(now).format("%Y-%m-%d %H:%M:%S,%3f")
            )
            .unwrap();
            self.file.flush().unwrap();
        }
        if !lose_row {
            self.batch.push(format!(
                "({id}, 'position_updated', '{{\"symbol\": \"{sym}\", \"n\": {n}}}', '{sym}', 'INFO', '{}+00')",
                now.format("%Y-%m-%d %H:%M:%S%.6f")
            ));
        }
        id
    }

    fn flush(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let sql = format!(
            "INSERT INTO monitoring.events (id, event_type, event_data, symbol, severity, created_at) VALUES {}",
            self.batch.join(", ")
        );
        pg().psql_on(&self.db, &["-c", &sql])
            .expect("insert a batch");
        self.batch.clear();
    }

    fn restart(&mut self, pid: u32) {
        let now = chrono::Utc::now();
        writeln!(
            self.file,
            "{} - utils.single_instance - INFO - ✅ Lock released for 'trading_bot'",
            local(now).format("%Y-%m-%d %H:%M:%S,%3f")
        )
        .unwrap();
        self.flush();
        std::thread::sleep(Duration::from_millis(300));
        (self.name, self.file) = Bot::open_file(&self.dir, pid);
    }
}

#[test]
fn live_faults_are_reported_once_each_within_15_s_and_sigint_ends_it() {
    let db = pg().load(
        "watch",
        &[&root().join("fixtures/rsrusdt-2025-10-18/schema.sql")],
    );
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("monitoring_logs");
    std::fs::create_dir(&logs).unwrap();
    let (name, file) = Bot::open_file(&logs, 41233);
    let first_file = logs.join(&name);
    let mut bot = Bot {
        db: db.clone(),
        dir: logs.clone(),
        name,
        file,
        next_id: 1,
        batch: Vec::new(),
    };
    // A few seconds of clean history first: the first twins settle the log's clock.
    for n in 0..15 {
        bot.event(n, false, false);
        std::thread::sleep(Duration::from_millis(100));
    }
    bot.flush();

    let mut child = Command::new(assert_cmd::cargo::cargo_bin("audit"))
        .args(["--no-config", "watch", "--db", &pg().url(&db), "--logs"])
        .arg(&logs)
        .args(["--format", "json", "--poll", "0.5"])
        .args([
            "--since",
            &(chrono::Utc::now() - chrono::Duration::seconds(30)).to_rfc3339(),
        ])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<(Instant, Value)>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Ok(v) = serde_json::from_str(&line) {
                let _ = tx.send((Instant::now(), v));
            }
        }
    });

    // The run: 10 events a second; a lost line at 2 s, a lost row at 4 s, the auditor's
    // session killed at 5 s, a restart into a new file at 7 s; 10 s in all.
    let mut injected: Vec<(&str, i64, Instant)> = Vec::new();
    let begun = Instant::now();
    let mut last_flush = Instant::now();
    let mut killer: Option<std::thread::JoinHandle<u32>> = None;
    let mut rotated = false;
    let mut restarted = false;
    let mut n = 100;
    while begun.elapsed() < Duration::from_secs(10) {
        let t = begun.elapsed();
        let lose_line = injected.iter().all(|x| x.0 != "line") && t > Duration::from_secs(2);
        let lose_row =
            !lose_line && injected.iter().all(|x| x.0 != "row") && t > Duration::from_secs(4);
        let id = bot.event(n, lose_line, lose_row);
        if lose_line {
            injected.push(("line", id, Instant::now()));
        }
        if lose_row {
            injected.push(("row", id, Instant::now()));
        }
        n += 1;
        if killer.is_none() && t > Duration::from_secs(5) {
            // For 4 s, every 10 ms, while the bot goes on: a pass holds its session only
            // while it reads, so this is how to catch one mid-read.
            let db = db.clone();
            killer = Some(std::thread::spawn(move || {
                let mut killed = 0;
                let until = Instant::now() + Duration::from_secs(4);
                while Instant::now() < until {
                    let out = pg().admin_on(&db, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'audit' AND datname = current_database()");
                    if out
                        .lines()
                        .any(|l| l.trim().parse::<u32>().is_ok_and(|n| n > 0))
                    {
                        killed += 1;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                killed
            }));
        }
        if !restarted && t > Duration::from_secs(7) {
            bot.restart(52817);
            restarted = true;
        }
        if !rotated && t > Duration::from_secs(9) {
            bot.rotate();
            rotated = true;
        }
        if last_flush.elapsed() >= Duration::from_millis(900) {
            bot.flush();
            last_flush = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bot.flush();
    let sessions_killed = killer.map_or(0, |k| k.join().unwrap());
    // Keep the bot alive and writing (the sources must move past the faults to settle them).
    let mut reported: Vec<(Instant, Value)> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(25);
    while Instant::now() < deadline {
        bot.event(n, false, false);
        n += 1;
        if last_flush.elapsed() >= Duration::from_millis(900) {
            bot.flush();
            last_flush = Instant::now();
        }
        while let Ok(x) = rx.try_recv() {
            reported.push(x);
        }
        let found = |kind: &str| reported.iter().any(|(_, f)| f["kind"] == kind);
        if found("missing_in_log")
            && found("missing_in_db")
            && begun.elapsed() > Duration::from_secs(22)
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // The first (stopped) process's file truncated, as copytruncate leaves it: one warning,
    // and nothing already settled is reported again.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&first_file)
        .unwrap()
        .set_len(0)
        .unwrap();
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        bot.event(n, false, false);
        n += 1;
        bot.flush();
        std::thread::sleep(Duration::from_millis(300));
    }
    // SIGINT: it settles what it can, prints it, and exits 0 or 1.
    let stopped = Instant::now();
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(
        stopped.elapsed() < Duration::from_secs(10),
        "SIGINT took {:?}",
        stopped.elapsed()
    );
    std::thread::sleep(Duration::from_millis(200));
    while let Ok(x) = rx.try_recv() {
        reported.push(x);
    }
    assert!(
        matches!(status.code(), Some(0) | Some(1)),
        "exit {status}: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");

    let lost_line = injected.iter().find(|x| x.0 == "line").unwrap();
    let lost_row = injected.iter().find(|x| x.0 == "row").unwrap();
    let serious: Vec<&Value> = reported
        .iter()
        .map(|(_, f)| f)
        .filter(|f| matches!(f["severity"].as_str(), Some("medium" | "high")))
        .collect();
    // Exactly the two faults at medium or above.
    assert_eq!(serious.len(), 2, "{serious:#?}\n{stderr}");
    let missing_log: Vec<&(Instant, Value)> = reported
        .iter()
        .filter(|(_, f)| f["kind"] == "missing_in_log")
        .collect();
    assert_eq!(missing_log.len(), 1, "{reported:#?}");
    assert_eq!(missing_log[0].1["event_id"], lost_line.1);
    let missing_db: Vec<&(Instant, Value)> = reported
        .iter()
        .filter(|(_, f)| f["kind"] == "missing_in_db")
        .collect();
    assert_eq!(missing_db.len(), 1, "{reported:#?}");
    // Each within 15 s of being written (printed for docs/watch.md with --nocapture).
    eprintln!(
        "latency: missing_in_log {:.1} s, missing_in_db {:.1} s",
        (missing_log[0].0 - lost_line.2).as_secs_f64(),
        (missing_db[0].0 - lost_row.2).as_secs_f64()
    );
    assert!(
        missing_log[0].0 - lost_line.2 < Duration::from_secs(15),
        "{:?}",
        missing_log[0].0 - lost_line.2
    );
    assert!(
        missing_db[0].0 - lost_row.2 < Duration::from_secs(15),
        "{:?}",
        missing_db[0].0 - lost_row.2
    );
    // Each finding once.
    let mut fps: Vec<&str> = reported
        .iter()
        .map(|(_, f)| f["fingerprint"].as_str().unwrap())
        .collect();
    let all = fps.len();
    fps.sort();
    fps.dedup();
    assert_eq!(fps.len(), all, "a finding reported twice: {reported:#?}");
    assert!(
        stderr.contains("shrank from") && stderr.contains("copytruncate"),
        "{stderr}"
    );
    // A killed session was said, and the watch went on (the faults after it were found).
    assert!(
        sessions_killed > 0,
        "no session of audit was caught mid-read"
    );
    assert!(
        stderr.contains("warning: watch:") && stderr.contains("resuming"),
        "{stderr}"
    );
}
