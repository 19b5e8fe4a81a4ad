//! Signal waves: every quarter hour the bot reads a wave of signals and executes them a few
//! hundred ms apart. Each `open_position` takes its correlation epoch at its start and
//! finishes 0.3–2.5 s later (the exchange round trip) with `position_created` or
//! `position_error` — so operations overlap, and the epoch order and created_at order of
//! their rows disagree, as in the incident.

use super::market::Market;
use super::model::{Level, decimal_text};
use super::py::{Py, float_repr};
use super::text::{OPEN_ERRORS, SYMBOLS, open_traceback};

/// `2025-10-18T11:00:00+00:00`, as `datetime.isoformat()` prints an aware UTC time.
pub fn iso_utc(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S+00:00")
        .to_string()
}

/// `open_position_{signal}_{epoch}` with the epoch as Python prints `timestamp()`.
pub fn correlation_id(signal: Option<i64>, epoch_us: i64) -> String {
    let s = signal.map_or_else(|| "None".to_string(), |s| s.to_string());
    format!(
        "open_position_{s}_{}",
        float_repr(epoch_us as f64 / 1_000_000.0)
    )
}

impl Market<'_> {
    /// The wave of quarter `quarter_us`, read at `t`.
    pub fn wave(&mut self, t: i64, quarter_us: i64) {
        self.activate(t);
        let n = self.rng.range(3, 10) as usize;
        let mut signals = Vec::with_capacity(n);
        for _ in 0..n {
            self.ids.signal += self.rng.range(1, 40);
            signals.push(self.ids.signal);
        }
        let stamp = iso_utc(quarter_us);
        let seen = t - self.rng.range(200, 3000);
        self.line(
            seen,
            Level::Info,
            "core.signal_processor",
            format!("🌊 Wave detected: {n} signals for {stamp}"),
        );
        let d = Py::dict([
            ("wave_timestamp", Py::str(stamp.clone())),
            ("signal_count", Py::Int(n as i64)),
            (
                "signal_ids",
                Py::List(signals.iter().map(|&s| Py::Int(s)).collect()),
            ),
            ("source", Py::str("signal_db")),
        ]);
        self.event(t, "wave_detected", d);
        let mut at = t + self.rng.range(50_000, 300_000);
        let (mut opened, mut failed, mut skipped) = (0i64, 0i64, 0i64);
        let mut last = at;
        for sid in signals {
            at += self.rng.range(50_000, 900_000);
            let sym = self.rng.pick(SYMBOLS);
            let busy = self
                .open
                .iter()
                .chain(self.pending.iter().map(|(_, p)| p))
                .any(|p| p.sym.name == sym.name);
            let (week, month) = (self.rng.range(1, 99), self.rng.range(1, 99));
            self.line(
                at,
                Level::Info,
                "core.signal_processor",
                format!(
                    "Executing signal #{sid}: {} on {} (week: {week}, month: {month})",
                    sym.name, sym.exchange
                ),
            );
            if busy || self.rng.chance(0.05) {
                skipped += 1;
                let reason = if busy {
                    "Position already exists"
                } else {
                    "Symbol in cooldown"
                };
                self.line(
                    at + 900,
                    Level::Warning,
                    "core.signal_processor",
                    format!("⏭️ Skipping signal #{sid} ({}): {reason}", sym.name),
                );
                let d = Py::dict([
                    ("signal_id", Py::Int(sid)),
                    ("symbol", Py::str(sym.name)),
                    ("reason", Py::str(reason)),
                ]);
                self.event(at + 1_000, "signal_skipped", d);
                continue;
            }
            let epoch = at + self.rng.range(1_000, 8_000);
            let created = epoch + self.rng.range(300_000, 2_500_000);
            last = last.max(created);
            if self.rng.chance(0.78) {
                opened += 1;
                self.open_position(sid, sym, epoch, created);
            } else {
                failed += 1;
                self.failed_open(sid, sym, epoch, created);
            }
        }
        let done = last + self.rng.range(100_000, 900_000);
        let secs = (done - t) as f64 / 1e6;
        self.line(
            done,
            Level::Info,
            "core.signal_processor",
            format!("🌊 Wave complete: {opened} opened, {failed} failed, {skipped} skipped in {secs:.1}s"),
        );
        let d = Py::dict([
            ("wave_timestamp", Py::str(stamp)),
            ("executed", Py::Int(opened)),
            ("failed", Py::Int(failed)),
            ("skipped", Py::Int(skipped)),
            ("duration_s", Py::Float(super::model::rounded(secs, 2))),
        ]);
        self.event(done, "wave_completed", d);
    }

    fn open_position(
        &mut self,
        sid: i64,
        sym: &'static super::text::Symbol,
        epoch: i64,
        created: i64,
    ) {
        let mut p = self.new_position(created, sym, sym.exchange);
        p.close_at = created + (self.rng.exp(90.0 * 60.0) * 1e6) as i64 + 60_000_000;
        let span = created - epoch;
        let side = if p.long { "buy" } else { "sell" };
        let oid = self.next_order_id();
        let entry = self.price_py(p.entry, sym);
        let d = Py::dict([
            ("order_id", Py::str(oid.clone())),
            ("symbol", Py::str(sym.name)),
            ("exchange", Py::str(sym.exchange)),
            ("side", Py::str(side)),
            ("type", Py::str("market")),
            ("amount", Py::Decimal(p.qty.clone())),
            ("price", Py::None),
        ]);
        self.event(epoch + span * 35 / 100, "order_placed", d);
        let fee = decimal_text(self.rng.range(1, 20_000), 6);
        let d = Py::dict([
            ("order_id", Py::str(oid)),
            ("symbol", Py::str(sym.name)),
            ("exchange", Py::str(sym.exchange)),
            ("side", Py::str(side)),
            ("filled", Py::Decimal(p.qty.clone())),
            ("average", entry.clone()),
            ("fee", Py::Decimal(fee)),
            ("status", Py::str("closed")),
        ]);
        self.event(epoch + span * 8 / 10, "order_filled", d);
        let d = Py::dict([
            ("signal_id", Py::Int(sid)),
            ("symbol", Py::str(sym.name)),
            ("exchange", Py::str(sym.exchange)),
            ("side", Py::str(if p.long { "long" } else { "short" })),
            ("entry_price", entry),
            ("quantity", Py::Decimal(p.qty.clone())),
            ("position_id", Py::Int(p.id)),
            ("leverage", Py::Int(5)),
            ("atomic", Py::Bool(true)),
        ]);
        // `datetime.now(UTC)` on the bot's host: its clock's reading of the true instant.
        let shown = self.host.read(epoch);
        let corr = correlation_id(Some(sid), shown);
        let ev = self.event(created, "position_created", d);
        ev.correlation_id = Some(corr);
        ev.epoch = Some(shown);
        let lag = ev.lag;
        self.line(
            created + lag + 300,
            Level::Info,
            "core.position_manager",
            format!(
                "✅ Position #{} for {} opened ATOMICALLY at ${}",
                p.id,
                sym.name,
                decimal_text(p.entry, sym.dec)
            ),
        );
        let stop = self.price_py(p.stop, sym);
        let sl_oid = self.next_order_id();
        let d = Py::dict([
            ("position_id", Py::Int(p.id)),
            ("symbol", Py::str(sym.name)),
            ("stop_price", stop),
            ("order_id", Py::str(sl_oid)),
            ("type", Py::str("STOP_MARKET")),
        ]);
        let placed = created + self.rng.range(60_000, 400_000);
        self.event(placed, "stop_loss_placed", d);
        self.pending.push((created, p));
    }

    fn failed_open(
        &mut self,
        sid: i64,
        sym: &'static super::text::Symbol,
        epoch: i64,
        created: i64,
    ) {
        let (message, class) = *self.rng.pick(OPEN_ERRORS);
        let signal = if self.rng.chance(0.03) {
            None
        } else {
            Some(sid)
        };
        let trace = open_traceback(sym.exchange, class, message);
        let failed_at = created - self.rng.range(500, 3_000);
        self.line_with(
            failed_at,
            Level::Error,
            "core.position_manager",
            format!("❌ Failed to open position for {}: {message}", sym.name),
            trace.clone(),
        );
        let d = Py::dict([
            ("signal_id", signal.map_or(Py::None, Py::Int)),
            ("symbol", Py::str(sym.name)),
            ("exchange", Py::str(sym.exchange)),
            ("error", Py::str(message)),
            ("stage", Py::str("create_order")),
            ("retryable", Py::Bool(false)),
        ]);
        let shown = self.host.read(epoch);
        let ev = self.event(created, "position_error", d);
        ev.correlation_id = Some(correlation_id(signal, shown));
        ev.epoch = Some(shown);
        ev.error_message = Some(message.to_string());
        ev.stack_trace = Some(trace);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correlation_ids_print_the_epoch_like_python() {
        // python3: f"open_position_{4869992}_{1760785632851694 / 1e6}"
        assert_eq!(
            correlation_id(Some(4869992), 1_760_785_632_851_694),
            "open_position_4869992_1760785632.851694"
        );
        assert_eq!(
            correlation_id(None, 1_760_785_633_500_000),
            "open_position_None_1760785633.5"
        );
        assert_eq!(
            correlation_id(Some(1), 1_760_785_633_000_000),
            "open_position_1_1760785633.0"
        );
        assert_eq!(iso_utc(1_760_785_200_000_000), "2025-10-18T11:00:00+00:00");
    }
}
