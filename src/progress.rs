//! Progress on stderr for long reads (a day of logs, a big table): a bar by bytes for log
//! files, a counter for DB rows. Only when stderr is a terminal and `--quiet` is not given;
//! never in CI logs or pipes.

use std::io::IsTerminal;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

static QUIET: AtomicBool = AtomicBool::new(false);
static BAR: RwLock<Option<ProgressBar>> = RwLock::new(None);

/// `--quiet`: no progress at all.
pub fn set_quiet(q: bool) {
    QUIET.store(q, Ordering::Relaxed);
}

fn enabled() -> bool {
    !QUIET.load(Ordering::Relaxed) && std::io::stderr().is_terminal()
}

/// Starts a bar over `total` bytes (or a counter when `total` is 0).
pub fn start(total: u64, what: &'static str) {
    if !enabled() {
        return;
    }
    let bar = if total > 0 {
        let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "{msg:>12} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        ) {
            b.set_style(style.progress_chars("=> "));
        }
        b
    } else {
        let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template("{msg:>12} {spinner} {pos} rows ({per_sec})")
        {
            b.set_style(style);
        }
        b
    };
    b_setup(&bar, what);
    if let Ok(mut g) = BAR.write() {
        *g = Some(bar);
    }
}

fn b_setup(bar: &ProgressBar, what: &'static str) {
    bar.set_message(what);
    bar.enable_steady_tick(Duration::from_millis(200));
}

/// Adds progress (bytes or rows).
pub fn inc(n: u64) {
    if let Ok(g) = BAR.read() {
        if let Some(b) = g.as_ref() {
            b.inc(n);
        }
    }
}

/// Clears the bar.
pub fn finish() {
    if let Ok(mut g) = BAR.write() {
        if let Some(b) = g.take() {
            b.finish_and_clear();
        }
    }
}
