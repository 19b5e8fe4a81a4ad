//! Phase timings on stderr when `AUDIT_TIMINGS=1`: where a run spends its time, for the
//! benchmark and for anyone wondering why a query is slow. Off by default; no cost when off.

use std::sync::OnceLock;
use std::time::Instant;

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("AUDIT_TIMINGS").is_some_and(|v| v != "0"))
}

/// A running phase; prints its duration when dropped.
pub struct Phase {
    name: &'static str,
    start: Option<Instant>,
}

/// Starts timing a phase (a no-op unless `AUDIT_TIMINGS` is set).
pub fn phase(name: &'static str) -> Phase {
    Phase {
        name,
        start: enabled().then(Instant::now),
    }
}

impl Drop for Phase {
    fn drop(&mut self) {
        if let Some(s) = self.start {
            eprintln!(
                "timing: {:<28} {:>9.3} s",
                self.name,
                s.elapsed().as_secs_f64()
            );
        }
    }
}
