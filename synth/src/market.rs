//! One writer's market: open positions whose prices walk in ticks, and the events about
//! them — a Poisson stream of updates, orders, stops, syncs and alerts at the scenario's rate,
//! a health check every minute, closes when a position's time comes. Waves are in `waves`.

use super::model::{Counters, Event, Level, Line, Position, decimal_text, rounded};
use super::py::Py;
use super::rng::Rng;
use super::scenario::{DEFAULT_JITTER_US, HostFn};
use super::text::{SYMBOLS, Symbol};

/// One writer's market: positions, and what it has emitted so far.
pub struct Market<'c> {
    pub rng: Rng,
    pub writer: usize,
    pub ids: &'c mut Counters,
    pub open: Vec<Position>,
    /// Positions opened by a wave, active from their creation time.
    pub pending: Vec<(i64, Position)>,
    pub events: Vec<Event>,
    pub lines: Vec<Line>,
    pub started: i64,
    /// An event's log line trails it by 0..=jitter_us.
    pub jitter_us: i64,
    /// The writer's host clock: the correlation epochs are its readings.
    pub host: HostFn,
}

impl Market<'_> {
    /// A price as the bot holds it: `Decimal(str(float))`, sometimes quantized to the tick
    /// size with its trailing zeros kept (`Decimal('0.005100')`).
    pub fn price_py(&mut self, ticks: i64, sym: &Symbol) -> Py {
        if self.rng.chance(0.15) {
            let scale = 10i64.pow(sym.dec);
            let w = sym.dec as usize;
            Py::Decimal(format!("{}.{:0w$}", ticks / scale, ticks % scale))
        } else {
            Py::Decimal(decimal_text(ticks, sym.dec))
        }
    }

    /// Queues an event at `t` and returns it for the caller's extra columns. Symbol,
    /// position, order and exchange columns are taken from the dict, as the bot passes them.
    pub fn event(&mut self, t: i64, event_type: &'static str, data: Py) -> &mut Event {
        let s = |k: &str| match data.get(k) {
            Some(Py::Str(v)) => Some(v.clone()),
            _ => None,
        };
        let position_id = match data.get("position_id") {
            Some(Py::Int(i)) => Some(*i),
            _ => None,
        };
        let severity = match event_type {
            "position_error" | "order_error" => "ERROR",
            "signal_skipped" | "price_alert" | "ws_reconnected" => "WARNING",
            _ => "INFO",
        };
        let ev = Event {
            writer: self.writer,
            created: t,
            enqueued: t,
            // One draw whatever the jitter, scaled: the default 3 ms draws as it always did.
            lag: self.rng.range(0, DEFAULT_JITTER_US) * self.jitter_us / DEFAULT_JITTER_US,
            event_type,
            severity,
            correlation_id: None,
            epoch: None,
            position_id,
            order_id: s("order_id"),
            symbol: s("symbol"),
            exchange: s("exchange"),
            error_message: None,
            stack_trace: None,
            logged: true,
            dup: None,
            data,
        };
        self.events.push(ev);
        let last = self.events.len() - 1;
        &mut self.events[last]
    }

    pub fn line(&mut self, t: i64, level: Level, logger: &'static str, msg: String) {
        self.lines.push(Line {
            t,
            level,
            logger,
            msg,
            cont: None,
            failed_batch: None,
        });
    }

    pub fn line_with(
        &mut self,
        t: i64,
        level: Level,
        logger: &'static str,
        msg: String,
        cont: String,
    ) {
        self.lines.push(Line {
            t,
            level,
            logger,
            msg,
            cont: Some(cont),
            failed_batch: None,
        });
    }

    pub fn next_order_id(&mut self) -> String {
        self.ids.order += self.rng.range(1, 900);
        self.ids.order.to_string()
    }

    /// A new position for `sym` at its current price.
    pub fn new_position(
        &mut self,
        t: i64,
        sym: &'static Symbol,
        exchange: &'static str,
    ) -> Position {
        self.ids.position += 1;
        let scale = 10f64.powi(sym.dec as i32);
        let price = ((sym.base * self.rng.uniform(0.92, 1.08)) * scale)
            .round()
            .max(1.0) as i64;
        let long = self.rng.chance(0.7);
        let usdt = *self.rng.pick(&[100.0, 150.0, 200.0, 250.0]);
        let qty_f = (usdt / (price as f64 / scale) * 10.0).round() / 10.0;
        let qty = decimal_text((qty_f * 10.0).round() as i64, 1);
        let stop_gap = (price as f64 * self.rng.uniform(0.015, 0.04)).max(1.0) as i64;
        Position {
            id: self.ids.position,
            sym,
            exchange,
            long,
            entry: price,
            price,
            qty,
            qty_f,
            stop: if long {
                price - stop_gap
            } else {
                price + stop_gap
            },
            trailing: false,
            best: price,
            opened: t,
            close_at: 0,
        }
    }

    /// Moves pending positions created by `t` into the open set.
    pub fn activate(&mut self, t: i64) {
        let mut k = 0;
        while k < self.pending.len() {
            if self.pending[k].0 <= t {
                let (_, p) = self.pending.swap_remove(k);
                self.open.push(p);
            } else {
                k += 1;
            }
        }
    }

    fn pnl(p: &Position) -> (f64, f64) {
        let scale = 10f64.powi(p.sym.dec as i32);
        let diff = (p.price - p.entry) as f64 / scale * if p.long { 1.0 } else { -1.0 };
        let usd = rounded(diff * p.qty_f, 4);
        let pct = rounded(diff / (p.entry as f64 / scale) * 100.0, 2);
        (usd, pct)
    }

    /// Closes every open position whose time has come (before `t`).
    pub fn close_due(&mut self, t: i64) {
        let mut k = 0;
        while k < self.open.len() {
            if self.open[k].close_at > 0 && self.open[k].close_at <= t {
                let p = self.open.swap_remove(k);
                self.close(p);
            } else {
                k += 1;
            }
        }
    }

    fn close(&mut self, p: Position) {
        let t = p.close_at;
        let reason = *self
            .rng
            .pick(&["stop_loss", "trailing_stop", "take_profit", "aged"]);
        let sym = p.sym;
        if reason == "stop_loss" {
            let stop = self.price_py(p.stop, sym);
            let d = Py::dict([
                ("position_id", Py::Int(p.id)),
                ("symbol", Py::str(sym.name)),
                ("stop_price", stop),
                ("side", Py::str(if p.long { "sell" } else { "buy" })),
            ]);
            let at = (t - self.rng.range(30_000, 400_000)).max(p.opened + 1);
            self.event(at, "stop_loss_triggered", d);
        }
        let (usd, _) = Market::pnl(&p);
        let exit = self.price_py(p.price, sym);
        let d = Py::dict([
            ("position_id", Py::Int(p.id)),
            ("symbol", Py::str(sym.name)),
            ("exchange", Py::str(p.exchange)),
            ("exit_price", exit),
            ("realized_pnl", Py::Float(usd)),
            ("reason", Py::str(reason)),
            (
                "duration_s",
                Py::Float(rounded((t - p.opened) as f64 / 1e6, 1)),
            ),
        ]);
        self.event(t, "position_closed", d);
    }

    /// One draw of the background stream at `t`.
    pub fn filler(&mut self, t: i64) {
        self.activate(t);
        self.close_due(t);
        let kinds: [(u32, &str); 11] = [
            (40, "position_updated"),
            (10, "trailing_stop_updated"),
            (8, "stop_loss_updated"),
            (8, "order_placed"),
            (6, "order_cancelled"),
            (4, "order_filled"),
            (6, "risk_check"),
            (6, "sync_completed"),
            (4, "balance_updated"),
            (3, "price_alert"),
            (1, "ws_reconnected"),
        ];
        let weights: Vec<u32> = kinds.iter().map(|(w, _)| *w).collect();
        let kind = kinds[self.rng.weighted(&weights)].1;
        let needs_position = !matches!(
            kind,
            "risk_check" | "sync_completed" | "balance_updated" | "ws_reconnected"
        );
        if needs_position && self.open.is_empty() {
            return self.account_event(t, "risk_check");
        }
        if !needs_position {
            return self.account_event(t, kind);
        }
        let k = self.rng.below(self.open.len() as u64) as usize;
        // Every update follows a price move of at least one tick.
        let step = (self.open[k].price as f64 * self.rng.normal(0.0, 0.002)).round() as i64;
        let step = if step == 0 {
            if self.rng.chance(0.5) { 1 } else { -1 }
        } else {
            step
        };
        let p = &mut self.open[k];
        p.price = (p.price + step).max(1);
        if (p.long && p.price > p.best) || (!p.long && p.price < p.best) {
            p.best = p.price;
        }
        let p = p.clone();
        let sym = p.sym;
        let base = [
            ("position_id", Py::Int(p.id)),
            ("symbol", Py::str(sym.name)),
        ];
        match kind {
            "position_updated" => {
                let (usd, pct) = Market::pnl(&p);
                let price = self.price_py(p.price, sym);
                let d = Py::dict(base.into_iter().chain([
                    ("current_price", price),
                    ("unrealized_pnl", Py::Float(usd)),
                    ("pnl_percent", Py::Float(pct)),
                ]));
                self.event(t, kind, d);
            }
            "trailing_stop_updated" | "stop_loss_updated" => {
                let gap = (p.price as f64 * self.rng.uniform(0.01, 0.03)).max(1.0) as i64;
                let new_stop = if p.long { p.best - gap } else { p.best + gap };
                let activate = kind == "trailing_stop_updated" && !p.trailing;
                let (old, new) = (self.price_py(p.stop, sym), self.price_py(new_stop, sym));
                self.open[k].stop = new_stop;
                if activate {
                    self.open[k].trailing = true;
                    let best = self.price_py(p.best, sym);
                    let d = Py::dict(base.into_iter().chain([
                        ("activation_price", best),
                        ("stop_price", new),
                        (
                            "callback_rate",
                            Py::Float(rounded(self.rng.uniform(0.5, 2.0), 2)),
                        ),
                    ]));
                    self.event(t, "trailing_stop_activated", d);
                } else {
                    let best = self.price_py(p.best, sym);
                    let d = Py::dict(base.into_iter().chain([
                        ("old_stop", old),
                        ("new_stop", new),
                        (
                            if p.long {
                                "highest_price"
                            } else {
                                "lowest_price"
                            },
                            best,
                        ),
                    ]));
                    self.event(t, kind, d);
                }
            }
            "order_placed" | "order_cancelled" | "order_filled" => {
                let oid = self.next_order_id();
                let price = self.price_py(p.price, sym);
                let side = Py::str(if p.long { "sell" } else { "buy" });
                let d = match kind {
                    "order_placed" => Py::dict([
                        ("order_id", Py::str(oid)),
                        ("symbol", Py::str(sym.name)),
                        ("exchange", Py::str(p.exchange)),
                        ("side", side),
                        ("type", Py::str("limit")),
                        ("price", price),
                        ("amount", Py::Decimal(p.qty.clone())),
                        ("reduce_only", Py::Bool(true)),
                    ]),
                    "order_cancelled" => Py::dict([
                        ("order_id", Py::str(oid)),
                        ("symbol", Py::str(sym.name)),
                        ("exchange", Py::str(p.exchange)),
                        (
                            "reason",
                            Py::str(*self.rng.pick(super::text::CANCEL_REASONS)),
                        ),
                    ]),
                    _ => Py::dict([
                        ("order_id", Py::str(oid)),
                        ("symbol", Py::str(sym.name)),
                        ("exchange", Py::str(p.exchange)),
                        ("side", side),
                        (
                            "filled",
                            Py::Decimal(decimal_text(self.rng.range(1, 50), 1)),
                        ),
                        ("average", price),
                        ("status", Py::str("partially_filled")),
                    ]),
                };
                self.event(t, kind, d);
            }
            _ => {
                let price = self.price_py(p.price, sym);
                let d = Py::dict([
                    ("symbol", Py::str(sym.name)),
                    ("price", price),
                    (
                        "change_pct",
                        Py::Float(rounded(self.rng.normal(0.0, 4.0), 2)),
                    ),
                    ("window", Py::str("5m")),
                ]);
                self.event(t, "price_alert", d);
            }
        }
    }

    /// Events about the account, naming no position.
    fn account_event(&mut self, t: i64, kind: &'static str) {
        let ex = *self.rng.pick(&["binance", "bybit"]);
        let d = match kind {
            "sync_completed" => Py::dict([
                ("exchange", Py::str(ex)),
                ("positions", Py::Int(self.open.len() as i64)),
                ("orders", Py::Int(self.rng.range(0, 40))),
                (
                    "duration_ms",
                    Py::Float(rounded(self.rng.uniform(40.0, 900.0), 2)),
                ),
            ]),
            "balance_updated" => {
                let free = self.rng.range(50_000, 900_000);
                let used = self.rng.range(10_000, 400_000);
                Py::dict([
                    ("exchange", Py::str(ex)),
                    ("free", Py::Decimal(decimal_text(free, 2))),
                    ("used", Py::Decimal(decimal_text(used, 2))),
                    ("total", Py::Decimal(decimal_text(free + used, 2))),
                ])
            }
            "ws_reconnected" => Py::dict([
                ("exchange", Py::str(ex)),
                (
                    "stream",
                    Py::str(*self.rng.pick(&["markPrice", "userData", "tickers"])),
                ),
                (
                    "downtime_s",
                    Py::Float(rounded(self.rng.uniform(0.3, 12.0), 2)),
                ),
                ("attempt", Py::Int(self.rng.range(1, 4))),
            ]),
            _ => Py::dict([
                ("positions", Py::Int(self.open.len() as i64)),
                (
                    "exposure_usdt",
                    Py::Float(rounded(self.rng.uniform(500.0, 6000.0), 2)),
                ),
                (
                    "margin_ratio",
                    Py::Float(rounded(self.rng.uniform(0.05, 0.6), 4)),
                ),
                ("limits_ok", Py::Bool(self.rng.chance(0.97))),
            ]),
        };
        self.event(t, kind, d);
    }

    /// The minutely health check.
    pub fn health(&mut self, t: i64) {
        self.activate(t);
        let d = Py::dict([
            ("status", Py::str("healthy")),
            (
                "uptime_s",
                Py::Float(rounded((t - self.started) as f64 / 1e6, 1)),
            ),
            ("open_positions", Py::Int(self.open.len() as i64)),
            ("ws_connected", Py::Bool(true)),
            ("queue_size", Py::Int(self.rng.range(0, 30))),
            (
                "memory_mb",
                Py::Float(rounded(self.rng.uniform(380.0, 520.0), 2)),
            ),
        ]);
        self.event(t, "health_check", d);
    }

    /// Positions the process finds open when it starts (synced from the exchange).
    pub fn seed_positions(&mut self, t: i64, n: usize) {
        for _ in 0..n {
            let sym = self.rng.pick(SYMBOLS);
            let ex = sym.exchange;
            let opened = t - self.rng.range(60, 20_000) * 1_000_000;
            let mut p = self.new_position(opened, sym, ex);
            p.close_at = t + (self.rng.exp(90.0 * 60.0) * 1e6) as i64;
            self.open.push(p);
        }
    }
}
