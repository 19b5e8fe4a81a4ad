//! Progress on stderr for long reads (a day of logs, a big table): a bar by bytes for log
//! files (or a sliced check's slices), a counter for DB rows, drawn together. Only when stderr
//! is a terminal and `--quiet` is not given; never in CI logs or pipes.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{OnceLock, RwLock};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

static QUIET: AtomicBool = AtomicBool::new(false);
/// The byte bar (log files, or a sliced check) and the DB rows counter.
static BYTES: RwLock<Option<(ProgressBar, &'static str)>> = RwLock::new(None);
static ROWS: RwLock<Option<ProgressBar>> = RwLock::new(None);

/// `--quiet`: no progress at all.
pub fn set_quiet(q: bool) {
    QUIET.store(q, Ordering::Relaxed);
}

fn enabled() -> bool {
    !QUIET.load(Ordering::Relaxed) && std::io::stderr().is_terminal()
}

/// Both bars draw through one target, so the logs' bar and the DB's counter, which run at the
/// same time, do not overwrite each other's line.
fn multi() -> &'static MultiProgress {
    static MULTI: OnceLock<MultiProgress> = OnceLock::new();
    MULTI.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()))
}

fn styled(bar: ProgressBar, template: &str, what: &'static str) -> ProgressBar {
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    let bar = multi().add(bar);
    bar.set_message(what);
    // Drawn at once (a short read still shows what it was), then every 200 ms.
    bar.tick();
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Starts the bar over `total` bytes.
pub fn start(total: u64, what: &'static str) {
    if !enabled() {
        return;
    }
    let bar = styled(
        ProgressBar::new(total),
        "{msg:>12} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        what,
    );
    if let Ok(mut g) = BYTES.write() {
        if let Some((old, _)) = g.replace((bar, what)) {
            old.finish_and_clear();
        }
    }
}

/// Adds bytes to the bar.
pub fn inc(n: u64) {
    if let Ok(g) = BYTES.read() {
        if let Some((b, _)) = g.as_ref() {
            b.inc(n);
        }
    }
}

/// Clears the byte bar.
pub fn finish() {
    if let Ok(mut g) = BYTES.write() {
        if let Some((b, _)) = g.take() {
            b.finish_and_clear();
        }
    }
}

/// Starts the counter of DB rows read. A sliced check's bar already counts its slices, so no
/// counter is shown under it.
pub fn start_rows(what: &'static str) {
    let checking = BYTES
        .read()
        .is_ok_and(|g| g.as_ref().is_some_and(|(_, w)| *w == "checking"));
    if !enabled() || checking {
        return;
    }
    let bar = styled(
        ProgressBar::no_length(),
        "{msg:>12} {spinner} {human_pos} rows ({elapsed})",
        what,
    );
    if let Ok(mut g) = ROWS.write() {
        if let Some(old) = g.replace(bar) {
            old.finish_and_clear();
        }
    }
}

/// Adds rows to the counter.
pub fn inc_rows(n: u64) {
    if let Ok(g) = ROWS.read() {
        if let Some(b) = g.as_ref() {
            b.inc(n);
        }
    }
}

/// Clears the rows counter.
pub fn finish_rows() {
    if let Ok(mut g) = ROWS.write() {
        if let Some(b) = g.take() {
            b.finish_and_clear();
        }
    }
}

/// Clears everything (the end of a run, an error, Ctrl-C, a panic).
pub fn finish_all() {
    finish();
    finish_rows();
}
