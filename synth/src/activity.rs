//! One writer's whole life: a process's start (banner, lock, `bot_started`), its schedule
//! (health checks every minute, a wave every quarter hour, the background stream at the
//! scenario's rate) and its end (clean shutdown, kill, or still running); or a ghost
//! writer's stretch of activity with no log file at all.

use super::market::Market;
use super::model::{Counters, Event, Level, Line};
use super::py::Py;
use super::rng::Rng;
use super::scenario::{DEFAULT_JITTER_US, Ending, HostFn, Process, Scenario};
use super::text::BANNER;

/// Who wrote a set of rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriterKind {
    /// The process at this index of `Scenario::processes` (one log file).
    Process(usize),
    /// A writer without a log file (window index).
    Ghost(usize),
}

/// Everything one writer did, before its EventLogger flushes.
#[derive(Debug)]
pub struct Activity {
    pub kind: WriterKind,
    /// `log_event` calls, sorted by enqueue time.
    pub events: Vec<Event>,
    pub lines: Vec<Line>,
    /// When the EventLogger worker starts its 5 s loop.
    pub worker_start: i64,
    /// The periodic loop stops here…
    pub stop: i64,
    /// …and, unless killed, a last flush at `stop` writes whatever is queued.
    pub final_flush: bool,
    /// First record of the log (the process's `Starting` line).
    pub first_record: i64,
}

fn us(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_micros()
}

/// Background events per minute besides health checks and waves (≈ 3.5 a minute).
fn filler_rate(rate_per_min: f64) -> f64 {
    (rate_per_min - 3.5).max(rate_per_min * 0.2)
}

/// When the signal service publishes the wave of `quarter`: the same for every writer, since
/// every instance polls the same signal database on the same schedule.
fn wave_ready(seed: u64, quarter: i64) -> i64 {
    quarter
        + Rng::new(seed)
            .fork(quarter as u64)
            .range(15_000_000, 45_000_000)
}

/// The scheduled life of a writer between `from` and `to`.
fn run(m: &mut Market<'_>, seed: u64, from: i64, to: i64, rate_per_min: f64) {
    const MIN: i64 = 60_000_000;
    const QUARTER: i64 = 15 * MIN;
    let mut triggers: Vec<(i64, u8, i64)> = Vec::new();
    let mut t = from + MIN + m.rng.range(-300_000, 300_000);
    while t < to {
        triggers.push((t, 0, 0));
        t += MIN + m.rng.range(-300_000, 300_000);
    }
    let mut q = (from / QUARTER + 1) * QUARTER;
    while q < to {
        // Each instance notices it within its own polling jitter.
        let at = wave_ready(seed, q) + m.rng.range(0, 1_500_000);
        if at < to {
            triggers.push((at, 1, q));
        }
        q += QUARTER;
    }
    let mean_us = 60e6 / filler_rate(rate_per_min);
    let mut t = from as f64 + m.rng.exp(mean_us);
    while (t as i64) < to {
        triggers.push((t as i64, 2, 0));
        t += m.rng.exp(mean_us);
    }
    triggers.sort_unstable();
    for (t, what, q) in triggers {
        match what {
            0 => m.health(t),
            1 => m.wave(t, q),
            _ => m.filler(t),
        }
    }
}

/// A process: start, schedule, end.
pub fn process(s: &Scenario, idx: usize, counters: &mut Counters) -> Activity {
    let pr: &Process = &s.processes[idx];
    let rng = Rng::new(s.seed).fork(0x1000 + idx as u64);
    let mut m = Market {
        rng,
        writer: idx,
        ids: counters,
        open: Vec::new(),
        pending: Vec::new(),
        events: Vec::new(),
        lines: Vec::new(),
        started: 0,
        jitter_us: pr.clock.jitter_us,
        host: pr.host_fn(),
    };
    let t0 = us(pr.start) + m.rng.range(600_000, 1_400_000);
    m.started = t0;
    let end = us(pr.end);
    let cont = format!(
        "{BANNER}\nMode: production | Exchanges: binance, bybit | Testnet: False\n{BANNER}"
    );
    m.line_with(
        t0,
        Level::Info,
        "__main__",
        "🚀 Starting trading bot".into(),
        cont,
    );
    if pr.stale_lock {
        m.line(
            t0 + 30_000,
            Level::Warning,
            "utils.single_instance",
            "⚠️ Found stale lock file, cleaning up".into(),
        );
    }
    m.line(
        t0 + 90_000,
        Level::Info,
        "utils.single_instance",
        format!("✅ Lock acquired for 'trading_bot' (PID: {})", pr.pid),
    );
    let worker_start = t0 + 150_000;
    m.line(
        worker_start,
        Level::Info,
        "core.event_logger",
        "EventLogger started (batch_size=100, flush_interval=5.0s)".into(),
    );
    let (binance, bybit) = (m.rng.range(500, 560), m.rng.range(400, 460));
    m.line(
        t0 + 260_000,
        Level::Info,
        "core.exchange_manager",
        format!("✅ Connected to binance ({binance} markets)"),
    );
    m.line(
        t0 + 310_000,
        Level::Info,
        "core.exchange_manager",
        format!("✅ Connected to bybit ({bybit} markets)"),
    );
    let n = m.rng.range(4, 14) as usize;
    m.seed_positions(t0 + 400_000, n);
    m.line(
        t0 + 400_000,
        Level::Info,
        "core.position_manager",
        format!("📂 Loaded {n} open positions from database"),
    );
    let d = Py::dict([
        ("pid", Py::Int(i64::from(pr.pid))),
        ("version", Py::str("2.4.1")),
        ("mode", Py::str("production")),
        (
            "exchanges",
            Py::List(vec![Py::str("binance"), Py::str("bybit")]),
        ),
        ("testnet", Py::Bool(false)),
        (
            "config",
            Py::dict([
                ("max_positions", Py::Int(25)),
                ("position_size_usdt", Py::Int(200)),
                ("leverage", Py::Int(5)),
            ]),
        ),
    ]);
    m.event(t0 + 500_000, "bot_started", d);
    run(&mut m, s.seed, t0 + 1_000_000, end, s.rate_per_min);

    // Nothing the schedule put after the end happens.
    let (stop, final_flush) = match pr.ending {
        Ending::Clean => (end + 60_000, true),
        Ending::Running => (end, true),
        Ending::Killed => (end, false),
    };
    m.events.retain(|e| e.created < end);
    m.lines.retain(|l| l.t < end);
    if pr.ending == Ending::Clean {
        m.line(end, Level::Info, "__main__", "🛑 Received signal 15".into());
        m.line(
            end + 1_000,
            Level::Info,
            "__main__",
            "Shutdown initiated...".into(),
        );
        let d = Py::dict([
            ("pid", Py::Int(i64::from(pr.pid))),
            ("reason", Py::str("SIGTERM")),
            (
                "uptime_s",
                Py::Float(super::model::rounded((end - t0) as f64 / 1e6, 1)),
            ),
            ("open_positions", Py::Int(m.open.len() as i64)),
        ]);
        m.event(end + 40_000, "bot_stopped", d);
        m.line(
            end + 200_000,
            Level::Info,
            "utils.single_instance",
            "✅ Lock released for 'trading_bot'".into(),
        );
        m.line(
            end + 210_000,
            Level::Info,
            "__main__",
            "👋 Trading bot stopped".into(),
        );
    }
    let mut events = std::mem::take(&mut m.events);
    events.sort_by_key(|e| e.enqueued);
    let mut lines = std::mem::take(&mut m.lines);
    lines.sort_by_key(|l| l.t);
    Activity {
        kind: WriterKind::Process(idx),
        events,
        lines,
        worker_start,
        stop,
        final_flush,
        first_record: t0,
    }
}

/// A ghost writer's stretch: the same bot activity, no log file.
pub fn ghost(s: &Scenario, window: usize, writer: usize, counters: &mut Counters) -> Activity {
    let w = s.ghost[window];
    let (from, to) = (us(w.start), us(w.end));
    let mut m = Market {
        rng: Rng::new(s.seed).fork(0x6000 + window as u64),
        writer,
        ids: counters,
        open: Vec::new(),
        pending: Vec::new(),
        events: Vec::new(),
        lines: Vec::new(),
        started: from,
        // No log lines; its host's clock is unknown, so taken as exact.
        jitter_us: DEFAULT_JITTER_US,
        host: HostFn::exact(),
    };
    let n = m.rng.range(3, 8) as usize;
    m.seed_positions(from, n);
    run(&mut m, s.seed, from, to, s.rate_per_min);
    m.events.retain(|e| e.created < to);
    let mut events = std::mem::take(&mut m.events);
    events.sort_by_key(|e| e.enqueued);
    for e in &mut events {
        e.logged = false;
    }
    Activity {
        kind: WriterKind::Ghost(window),
        events,
        lines: Vec::new(),
        worker_start: from,
        stop: to,
        final_flush: true,
        first_record: from,
    }
}
