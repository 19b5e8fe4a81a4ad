//! Non-event log lines — most of a real log's bytes: price streams, position checks, rate
//! limits, health lines in the other format (`ts - LEVEL - [name] msg`), tracebacks, status
//! tables, and now and then a frame cut mid-emoji (invalid UTF-8). Every one is a logging
//! record: a status table is one `logger.info` of a multi-line message (`📋 Status report`
//! and its indented lines), a traceback the `exc_info` of an ERROR record; none is bare
//! `print` output, so the handler copy gets them all, byte for byte.
//!
//! Time advances with the bytes written (an exponential gap of `bytes × µs-per-byte`), so a
//! file gets its byte budget whatever the mix. Nothing here looks like a typed line (lock,
//! signal, flush, event): chatter never changes what the checks should find.

use std::io;

use super::logfile::Sink;
use super::model::Level;
use super::rng::Rng;
use super::text::{APP, SYMBOLS};

pub struct Chatter {
    rng: Rng,
    t: i64,
    stop: i64,
    us_per_byte: f64,
    prices: Vec<i64>,
    scratch: Vec<u8>,
    pub records: u64,
}

fn push_u64(buf: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// `ticks` with exactly `dec` decimals (exchange streams print fixed decimals).
fn push_fixed(buf: &mut Vec<u8>, ticks: i64, dec: u32) {
    if ticks < 0 {
        buf.push(b'-');
    }
    let a = ticks.unsigned_abs();
    let scale = 10u64.pow(dec);
    push_u64(buf, a / scale);
    if dec > 0 {
        buf.push(b'.');
        let frac = a % scale;
        let mut div = scale / 10;
        while div > 0 {
            buf.push(b'0' + (frac / div % 10) as u8);
            div /= 10;
        }
    }
}

const WEIGHTS: [u32; 13] = [30, 15, 12, 8, 6, 6, 5, 4, 3, 2, 1, 1, 1];

impl Chatter {
    /// Chatter between `start` and `stop` (UTC µs) worth about `budget` bytes.
    pub fn new(rng: Rng, start: i64, stop: i64, budget: u64) -> Chatter {
        let span = (stop - start).max(1) as f64;
        let prices = SYMBOLS
            .iter()
            .map(|s| (s.base * 10f64.powi(s.dec as i32)).round() as i64)
            .collect();
        let mut c = Chatter {
            rng,
            t: if budget == 0 { i64::MAX } else { start },
            stop,
            us_per_byte: span / budget.max(1) as f64,
            prices,
            scratch: Vec::with_capacity(256),
            records: 0,
        };
        c.t = c.t.saturating_add(c.rng.exp(100.0 * c.us_per_byte) as i64);
        c
    }

    /// When the next chatter record is due (`i64::MAX` when done).
    pub fn next_at(&self) -> i64 {
        if self.t < self.stop { self.t } else { i64::MAX }
    }

    /// Writes the record due now and schedules the next.
    pub fn emit(&mut self, sink: &mut Sink) -> io::Result<()> {
        let t = self.t;
        self.records += 1;
        let k = self.rng.below(SYMBOLS.len() as u64) as usize;
        let sym = &SYMBOLS[k];
        let step = (self.prices[k] as f64 * self.rng.normal(0.0, 0.0008)).round() as i64;
        self.prices[k] = (self.prices[k] + step).max(2);
        let p = self.prices[k];
        let s = &mut self.scratch;
        s.clear();
        if self.rng.below(50_000) == 0 {
            // A websocket frame cut inside a 4-byte emoji, logged as received.
            sink.begin(t, Level::Warning, "websocket.bybit_stream", false)?;
            sink.buf
                .extend_from_slice("⚠️ Dropped partial frame: {\"topic\":\"tickers.".as_bytes());
            sink.buf.extend_from_slice(sym.name.as_bytes());
            sink.buf
                .extend_from_slice(b"\",\"data\":{\"note\":\"\xF0\x9F\x9A\" (truncated)");
            sink.invalid_utf8();
            sink.end();
        } else {
            let choice = self.rng.weighted(&WEIGHTS);
            let (level, logger, alt) = match choice {
                0 => (Level::Info, "websocket.binance_stream", false),
                1 => (Level::Info, "core.position_manager", false),
                2 => (Level::Debug, "websocket.bybit_stream", true),
                3 => (Level::Debug, "protection.trailing_stop", false),
                4 => (Level::Debug, "core.exchange_manager", false),
                5 => (Level::Info, "core.signal_processor", false),
                6 => (Level::Info, "monitoring.health", true),
                7 => (Level::Info, "core.zombie_manager", false),
                8 => (Level::Warning, "websocket.binance_stream", false),
                9 => (Level::Info, "core.aged_position_manager", false),
                10 => (Level::Error, "websocket.binance_stream", false),
                11 => (Level::Info, "__main__", false),
                _ => (Level::Error, "asyncio", false),
            };
            let r = &mut self.rng;
            let name = sym.name.as_bytes();
            match choice {
                0 => {
                    s.extend_from_slice("📊 Price update: ".as_bytes());
                    s.extend_from_slice(name);
                    s.extend_from_slice(b" = ");
                    push_fixed(s, p, sym.dec);
                    s.extend_from_slice(b" (bid ");
                    push_fixed(s, p - 1, sym.dec);
                    s.extend_from_slice(b", ask ");
                    push_fixed(s, p + 1, sym.dec);
                    s.push(b')');
                }
                1 => {
                    let entry = p + (p as f64 * r.normal(0.0, 0.01)) as i64;
                    s.extend_from_slice("📈 ".as_bytes());
                    s.extend_from_slice(name);
                    s.extend_from_slice(b": price=");
                    push_fixed(s, p, sym.dec);
                    s.extend_from_slice(b", entry=");
                    push_fixed(s, entry, sym.dec);
                    s.extend_from_slice(b", pnl=");
                    let bp = r.range(-900, 900);
                    s.push(if bp < 0 { b'-' } else { b'+' });
                    push_fixed(s, bp.abs(), 2);
                    s.push(b'%');
                }
                2 => {
                    s.extend_from_slice(b"Received ");
                    push_u64(s, r.range(1, 60) as u64);
                    s.extend_from_slice(b" messages (tickers, ");
                    s.extend_from_slice(name);
                    s.push(b')');
                }
                3 => {
                    s.extend_from_slice(b"Trailing stop ");
                    s.extend_from_slice(name);
                    s.extend_from_slice(b": highest=");
                    push_fixed(s, p + p / 50, sym.dec);
                    s.extend_from_slice(b", stop=");
                    push_fixed(s, p - p / 60, sym.dec);
                    s.extend_from_slice(b", distance=");
                    push_fixed(s, r.range(50, 400), 2);
                    s.push(b'%');
                }
                4 => {
                    s.extend_from_slice("⏱️ Rate limit: ".as_bytes());
                    push_u64(s, r.range(40, 1150) as u64);
                    s.extend_from_slice(b"/1200 weight used (binance)");
                }
                5 => {
                    s.extend_from_slice("🔍 Checking for new signals... next wave in ".as_bytes());
                    push_u64(s, r.range(1, 900) as u64);
                    s.push(b's');
                }
                6 => {
                    s.extend_from_slice(b"health check ok - ");
                    push_u64(s, r.range(0, 25) as u64);
                    s.extend_from_slice(b" positions, queue ");
                    push_u64(s, r.range(0, 40) as u64);
                }
                7 => {
                    s.extend_from_slice("🧟 Zombie check: 0 orphaned orders, ".as_bytes());
                    push_u64(s, r.range(0, 25) as u64);
                    s.extend_from_slice(b" positions verified");
                }
                8 => {
                    s.extend_from_slice("⚠️ Stream lag ".as_bytes());
                    push_fixed(s, r.range(11, 90), 1);
                    s.extend_from_slice(b"s on ");
                    s.extend(name.iter().map(u8::to_ascii_lowercase));
                    s.extend_from_slice(b"@markPrice, resubscribing");
                }
                9 => {
                    s.extend_from_slice("⏰ Aged positions: ".as_bytes());
                    push_u64(s, r.range(0, 6) as u64);
                    s.extend_from_slice(b" (> 3h), closing candidates: ");
                    push_u64(s, r.range(0, 2) as u64);
                }
                10 => s.extend_from_slice("❌ Stream error: connection reset by peer".as_bytes()),
                11 => s.extend_from_slice("📋 Status report".as_bytes()),
                _ => s.extend_from_slice(b"Task exception was never retrieved"),
            }
            sink.begin(t, level, logger, alt)?;
            sink.buf.extend_from_slice(s);
            sink.end();
            match choice {
                10 => sink.cont(&format!(
                    "Traceback (most recent call last):\n  File \"{APP}/websocket/binance_stream.py\", line 214, in _listen\n    msg = await self.ws.recv()\n  File \"{APP}/venv/lib/python3.12/site-packages/websockets/legacy/protocol.py\", line 568, in recv\n    await self.ensure_open()\nConnectionResetError: [Errno 104] Connection reset by peer"
                )),
                11 => {
                    let r = &mut self.rng;
                    sink.cont(&format!(
                        "  Open positions: {}\n  Exposure: {}.{:02} USDT\n  Uptime: {}:{:02}:{:02}\n  Events queued: {}",
                        r.range(0, 25),
                        r.range(100, 6000),
                        r.range(0, 99),
                        r.range(0, 23),
                        r.range(0, 59),
                        r.range(0, 59),
                        r.range(0, 40)
                    ))
                }
                12 => {
                    let task = self.rng.range(1000, 99_999);
                    sink.cont(&format!(
                        "future: <Task finished name='Task-{task}' coro=<PositionManager._check_position() done, defined at {APP}/core/position_manager.py:901> exception=TimeoutError()>\nTraceback (most recent call last):\n  File \"{APP}/core/position_manager.py\", line 918, in _check_position\n    ticker = await self.exchange.fetch_ticker(symbol)\nTimeoutError"
                    ))
                }
                _ => {}
            }
        }
        // The record's bytes whether or not they were written (a filtered record takes the
        // same time): the level and the copies change nothing of what comes next.
        let written = sink.record_len();
        let gap = self.rng.exp(written as f64 * self.us_per_byte).max(1.0);
        self.t = self.t.saturating_add(gap as i64);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_decimals() {
        let mut b = Vec::new();
        push_fixed(&mut b, 5100, 6);
        b.push(b' ');
        push_fixed(&mut b, 672_501, 1);
        b.push(b' ');
        push_fixed(&mut b, -5, 2);
        assert_eq!(String::from_utf8(b).unwrap(), "0.005100 67250.1 -0.05");
    }
}
