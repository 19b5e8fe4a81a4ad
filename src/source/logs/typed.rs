//! Classifies one log record's message (the first line, text after `LEVEL - `)
//! into the shapes the audit reconciles: event lines, lock and signal
//! lifecycle, signal execution, position opens and EventLogger flushes.
//!
//! Runs on every record, so dispatch is on the first byte and a fixed prefix;
//! only the branch that matches does further work, and only event lines reach
//! [`pyrepr::parse`]. Leading emoji and whitespace and trailing whitespace or
//! `\r` are ignored, since the bot's decorations changed between versions.

use memchr::{memchr, memmem};
use serde_json::Value;

use crate::payload::fields;
use crate::payload::pyfast;
use crate::payload::pyrepr::{self, ReprError};

/// An event line's dict: read in one pass ([`pyfast`]) or, outside its plain subset, parsed
/// into a `Value` ([`pyrepr::parse`]). Both answer the same questions the same way; two are
/// equal when their canonical JSON and fingerprint are.
#[derive(Debug, Clone)]
pub enum EventData {
    Read(pyfast::Payload),
    Parsed(Value),
}

impl EventData {
    /// Canonical JSON: keys sorted, no spaces.
    pub fn canonical(&self) -> String {
        match self {
            EventData::Read(p) => p.canonical.clone(),
            EventData::Parsed(v) => crate::payload::canonical(v),
        }
    }

    /// The canonical JSON, moved out.
    pub fn into_canonical(self) -> String {
        match self {
            EventData::Read(p) => p.canonical,
            EventData::Parsed(v) => crate::payload::canonical(&v),
        }
    }

    /// [`crate::payload::payload_hash`].
    pub fn hash(&self) -> u64 {
        match self {
            EventData::Read(p) => p.hash,
            EventData::Parsed(v) => crate::payload::payload_hash(v),
        }
    }

    pub fn symbol(&self) -> Option<String> {
        match self {
            EventData::Read(p) => p.symbol(),
            EventData::Parsed(v) => fields::str_field(v, "symbol"),
        }
    }

    pub fn position_id(&self) -> Option<i64> {
        match self {
            EventData::Read(p) => p.position_id(),
            EventData::Parsed(v) => fields::int_field(v, "position_id"),
        }
    }

    pub fn signal_id(&self) -> Option<i64> {
        match self {
            EventData::Read(p) => p.signal_id(),
            EventData::Parsed(v) => fields::int_field(v, "signal_id"),
        }
    }
}

impl PartialEq for EventData {
    fn eq(&self, other: &EventData) -> bool {
        self.hash() == other.hash() && self.canonical() == other.canonical()
    }
}

/// What one message says, as far as the audit cares.
#[derive(Debug, Clone, PartialEq)]
pub enum Typed {
    /// `<event_type>: {python dict repr}`.
    Event {
        event_type: String,
        data: EventData,
    },
    /// An event line whose dict did not parse; kept so it is counted, not
    /// dropped. `error.offset` is relative to the message as passed in.
    MalformedEvent {
        event_type: String,
        error: ReprError,
    },
    /// `✅ Lock acquired for 'trading_bot' (PID: 41233)`.
    LockAcquired {
        name: String,
        pid: u32,
    },
    /// `✅ Lock released for 'trading_bot'`.
    LockReleased {
        name: String,
    },
    /// `⚠️ Found stale lock file, cleaning up`.
    StaleLock,
    /// `❌ Another instance is already running (PID: 123)`.
    AnotherInstance {
        pid: Option<u32>,
    },
    /// `Received signal 15` (also `Received signal SIGTERM`).
    SignalReceived {
        signal: i32,
    },
    /// `Shutdown initiated...`.
    ShutdownInitiated,
    /// `Executing signal #4869992: RSRUSDT on binance (week: 71, month: 64)`.
    SignalExecuting {
        signal_id: i64,
        symbol: String,
        exchange: Option<String>,
    },
    /// `✅ Position #1318 for RSRUSDT opened ATOMICALLY at $0.0051`.
    PositionOpened {
        position_id: i64,
        symbol: String,
        price: Option<f64>,
    },
    /// `Event queue full, logging directly`.
    QueueFull,
    /// `EventLogger flushing 100 events`.
    FlushStarted {
        count: u32,
    },
    /// `EventLogger wrote 100 events to DB (... last_ids=[id=785223:position_error, ...])`.
    FlushWrote {
        count: u32,
        last_ids: Vec<(i64, String)>,
    },
    /// `EventLogger batch write failed: <error>`.
    BatchWriteFailed {
        error: String,
    },
    Other,
}

/// Classifies `message`, the first line of a record after `LEVEL - `.
///
/// `logger` is accepted but not consulted: every shape here is distinctive on
/// its own, and the bot's logger names are not stable across versions.
pub fn classify(logger: &str, message: &str) -> Typed {
    let _ = logger;
    let trimmed = message.trim_end();
    let body = trimmed.trim_start();
    let lead = trimmed.len() - body.len();
    match body.as_bytes().first() {
        // Only event lines start lower-case; nothing else needs checking.
        Some(b'a'..=b'z') => return event(body, lead),
        None => return Typed::Other,
        Some(_) => {}
    }
    let text = strip_decoration(body);
    let typed = match text.as_bytes().first() {
        Some(b'L') => lock(text),
        Some(b'F') => text
            .starts_with("Found stale lock")
            .then_some(Typed::StaleLock),
        Some(b'A') => text
            .starts_with("Another instance")
            .then(|| Typed::AnotherInstance {
                pid: find_pid(text),
            }),
        Some(b'R') => received_signal(text),
        Some(b'S') => text
            .starts_with("Shutdown initiated")
            .then_some(Typed::ShutdownInitiated),
        Some(b'E') => e_line(text),
        Some(b'P') => position_opened(text),
        _ => None,
    };
    typed.unwrap_or(Typed::Other)
}

/// True when `message` has the shape of an event line (`snake_case: {`), without parsing the
/// dict: what a sampled pass checks before deciding to parse it.
pub fn is_event_line(message: &str) -> bool {
    let bytes = message.trim_start().as_bytes();
    let name_len = bytes
        .iter()
        .position(|c| !matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'_'))
        .unwrap_or(bytes.len());
    name_len > 0
        && matches!(bytes.first(), Some(b'a'..=b'z'))
        && bytes.get(name_len..name_len + 3) == Some(b": {")
}

/// Emoji (with or without U+FE0F), zero-width joiners and spaces in front
/// of the text. Every shape starts with an ASCII letter, so any leading
/// non-ASCII character is decoration.
fn strip_decoration(s: &str) -> &str {
    s.trim_start_matches(|c: char| c.is_whitespace() || !c.is_ascii())
}

/// `snake_case: {dict}`, with the token at the very start: ordinary sentences
/// that mention `: {` later on must not count as events.
fn event(body: &str, lead: usize) -> Typed {
    let bytes = body.as_bytes();
    let name_len = bytes
        .iter()
        .position(|c| !matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'_'))
        .unwrap_or(bytes.len());
    if bytes.get(name_len..name_len + 3) != Some(b": {") {
        return Typed::Other;
    }
    let (Some(event_type), Some(dict)) = (body.get(..name_len), body.get(name_len + 2..)) else {
        return Typed::Other;
    };
    let event_type = event_type.to_owned();
    let dict_at = lead + name_len + 2;
    if let Some(p) = pyfast::digest(dict) {
        return Typed::Event {
            event_type,
            data: EventData::Read(p),
        };
    }
    match pyrepr::parse(dict) {
        Ok(data @ Value::Object(_)) => Typed::Event {
            event_type,
            data: EventData::Parsed(data),
        },
        Ok(_) => Typed::MalformedEvent {
            event_type,
            error: ReprError {
                offset: dict_at,
                message: "expected a dict, found a set".to_owned(),
            },
        },
        Err(mut error) => {
            error.offset += dict_at;
            Typed::MalformedEvent { event_type, error }
        }
    }
}

fn lock(text: &str) -> Option<Typed> {
    if let Some(rest) = text.strip_prefix("Lock acquired for ") {
        let (name, rest) = lock_name(rest)?;
        let pid = find_pid(rest)?;
        Some(Typed::LockAcquired { name, pid })
    } else if let Some(rest) = text.strip_prefix("Lock released for ") {
        let (name, _) = lock_name(rest)?;
        Some(Typed::LockReleased { name })
    } else {
        None
    }
}

/// `'name'`, `"name"` or a bare word; returns the name and what follows.
fn lock_name(s: &str) -> Option<(String, &str)> {
    let s = s.trim_start();
    if let Some(q) = s.chars().next().filter(|c| matches!(c, '\'' | '"')) {
        let inner = s.get(1..)?;
        let end = inner.find(q).filter(|&end| end > 0)?;
        return Some((inner.get(..end)?.to_owned(), inner.get(end + 1..)?));
    }
    let (name, rest) = token(s)?;
    Some((name.to_owned(), rest))
}

/// The number after `PID` (`PID: 1`, `PID=1`, `pid 1`), if any.
fn find_pid(s: &str) -> Option<u32> {
    let bytes = s.as_bytes();
    let at = memmem::find(bytes, b"PID").or_else(|| memmem::find(bytes, b"pid"))?;
    let after = s.get(at + 3..)?.trim_start_matches([':', '=', ' ']);
    leading_digits(after)?.0.parse().ok()
}

/// Splits off a leading run of ASCII digits (at least one).
fn leading_digits(s: &str) -> Option<(&str, &str)> {
    let end = s
        .bytes()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(s.len());
    if end == 0 {
        return None;
    }
    Some((s.get(..end)?, s.get(end..)?))
}

/// A word up to whitespace or `(`, without trailing `,;:`; None if empty.
fn token(s: &str) -> Option<(&str, &str)> {
    let end = s
        .find(|c: char| c.is_whitespace() || c == '(')
        .unwrap_or(s.len());
    let word = s.get(..end)?.trim_end_matches([',', ';', ':']);
    if word.is_empty() {
        return None;
    }
    Some((word, s.get(end..)?))
}

fn received_signal(text: &str) -> Option<Typed> {
    let rest = text.strip_prefix("Received signal")?.trim_start();
    let signal = match leading_digits(rest) {
        Some((n, _)) => n.parse().ok()?,
        None => signal_by_name(rest)?,
    };
    Some(Typed::SignalReceived { signal })
}

/// `SIGTERM`, `Signals.SIGTERM` or `<Signals.SIGTERM: 15>` → its Linux number.
fn signal_by_name(s: &str) -> Option<i32> {
    let s = s.strip_prefix('<').unwrap_or(s);
    let s = s.strip_prefix("Signals.").unwrap_or(s);
    let end = s
        .bytes()
        .position(|c| !c.is_ascii_alphanumeric())
        .unwrap_or(s.len());
    let number = match s.get(..end)? {
        "SIGHUP" => 1,
        "SIGINT" => 2,
        "SIGQUIT" => 3,
        "SIGABRT" => 6,
        "SIGKILL" => 9,
        "SIGUSR1" => 10,
        "SIGUSR2" => 12,
        "SIGTERM" => 15,
        _ => return None,
    };
    Some(number)
}

fn e_line(text: &str) -> Option<Typed> {
    if let Some(rest) = text.strip_prefix("EventLogger ") {
        if let Some(r) = rest.strip_prefix("flushing ") {
            let count = leading_digits(r.trim_start())?.0.parse().ok()?;
            return Some(Typed::FlushStarted { count });
        }
        if let Some(r) = rest.strip_prefix("wrote ") {
            let (count, tail) = leading_digits(r.trim_start())?;
            return Some(Typed::FlushWrote {
                count: count.parse().ok()?,
                last_ids: last_ids(tail),
            });
        }
        let r = rest.strip_prefix("batch write failed")?;
        let error = r
            .trim_start()
            .strip_prefix(':')
            .unwrap_or(r)
            .trim()
            .to_owned();
        return Some(Typed::BatchWriteFailed { error });
    }
    if text.starts_with("Event queue full") {
        return Some(Typed::QueueFull);
    }
    signal_executing(text.strip_prefix("Executing signal")?)
}

/// `last_ids=[id=785223:position_error, id=785224:order_placed]`. Items
/// that do not read as `id:type` are skipped; a missing list is empty.
fn last_ids(s: &str) -> Vec<(i64, String)> {
    let Some(at) = memmem::find(s.as_bytes(), b"last_ids=") else {
        return Vec::new();
    };
    let Some(list) = s
        .get(at + 9..)
        .and_then(|r| r.trim_start().strip_prefix('['))
    else {
        return Vec::new();
    };
    // A line cut short still yields the ids before the cut.
    let list = memchr(b']', list.as_bytes())
        .and_then(|end| list.get(..end))
        .unwrap_or(list);
    list.split(',')
        .filter_map(|item| {
            let item = item.trim();
            let item = item.strip_prefix("id=").unwrap_or(item);
            let (id, event_type) = item.split_once(':')?;
            let event_type = event_type.trim();
            if event_type.is_empty() {
                return None;
            }
            Some((id.trim().parse().ok()?, event_type.to_owned()))
        })
        .collect()
}

/// After `Executing signal`: ` #4869992: RSRUSDT on binance (...)`.
fn signal_executing(rest: &str) -> Option<Typed> {
    let rest = rest.trim_start();
    let rest = rest.strip_prefix('#').unwrap_or(rest);
    let (id, rest) = leading_digits(rest)?;
    let rest = rest.strip_prefix(':').unwrap_or(rest).trim_start();
    let (symbol, rest) = token(rest)?;
    let exchange = rest
        .trim_start()
        .strip_prefix("on ")
        .and_then(|r| token(r.trim_start()))
        .map(|(e, _)| e.to_owned());
    Some(Typed::SignalExecuting {
        signal_id: id.parse().ok()?,
        symbol: symbol.to_owned(),
        exchange,
    })
}

/// `Position #1318 for RSRUSDT opened [ATOMICALLY] [at $0.0051]`.
fn position_opened(text: &str) -> Option<Typed> {
    let rest = text.strip_prefix("Position #")?;
    let (id, rest) = leading_digits(rest)?;
    let rest = rest.trim_start().strip_prefix("for ")?;
    let (symbol, rest) = token(rest.trim_start())?;
    let rest = rest.trim_start();
    if !rest.starts_with("opened") {
        return None;
    }
    Some(Typed::PositionOpened {
        position_id: id.parse().ok()?,
        symbol: symbol.to_owned(),
        price: price(rest),
    })
}

/// The number after `$`, or else after ` at `.
fn price(s: &str) -> Option<f64> {
    let bytes = s.as_bytes();
    let after = match memchr(b'$', bytes) {
        Some(at) => s.get(at + 1..)?,
        None => s.get(memmem::find(bytes, b" at ")? + 4..)?,
    };
    leading_float(after.trim_start())
}

/// `0.0051`, `12`, `1e-05`; a sentence's closing `.` is not part of it.
fn leading_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut end = b
        .iter()
        .position(|c| !(c.is_ascii_digit() || *c == b'.'))
        .unwrap_or(b.len());
    if matches!(b.get(end), Some(b'e' | b'E')) {
        let mut e = end + 1;
        if matches!(b.get(e), Some(b'+' | b'-')) {
            e += 1;
        }
        let digits = b
            .get(e..)
            .map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count());
        if digits > 0 {
            end = e + digits;
        }
    }
    let number = s.get(..end)?.trim_end_matches('.');
    number.parse::<f64>().ok().filter(|f| f.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(event_type: &str, data: &str) -> Typed {
        Typed::Event {
            event_type: event_type.to_owned(),
            data: EventData::Parsed(serde_json::from_str(data).expect("test JSON")),
        }
    }

    #[test]
    fn classifies_realistic_lines() {
        let cases: Vec<(&str, Typed)> = vec![
            (
                "position_created: {'position_id': 1318, 'symbol': 'RSRUSDT', 'price': Decimal('0.0051')}",
                ev(
                    "position_created",
                    r#"{"position_id": 1318, "symbol": "RSRUSDT", "price": 0.0051}"#,
                ),
            ),
            ("order_placed: {}\r", ev("order_placed", "{}")),
            (
                "  stop_loss_v2: {'a': (1,)}  ",
                ev("stop_loss_v2", r#"{"a": [1]}"#),
            ),
            (
                "✅ Lock acquired for 'trading_bot' (PID: 41233)",
                Typed::LockAcquired {
                    name: "trading_bot".to_owned(),
                    pid: 41233,
                },
            ),
            (
                "Lock acquired for \"trading bot\" (PID: 7)",
                Typed::LockAcquired {
                    name: "trading bot".to_owned(),
                    pid: 7,
                },
            ),
            (
                "Lock acquired for trading_bot (pid=8)",
                Typed::LockAcquired {
                    name: "trading_bot".to_owned(),
                    pid: 8,
                },
            ),
            (
                "✅ Lock released for 'trading_bot'",
                Typed::LockReleased {
                    name: "trading_bot".to_owned(),
                },
            ),
            ("⚠️ Found stale lock file, cleaning up", Typed::StaleLock),
            ("⚠ Found stale lock file, cleaning up\r", Typed::StaleLock),
            (
                "❌ Another instance is already running",
                Typed::AnotherInstance { pid: None },
            ),
            (
                "❌ Another instance is already running (PID: 123)",
                Typed::AnotherInstance { pid: Some(123) },
            ),
            ("Received signal 15", Typed::SignalReceived { signal: 15 }),
            (
                "🛑 Received signal 2, shutting down",
                Typed::SignalReceived { signal: 2 },
            ),
            (
                "Received signal SIGTERM",
                Typed::SignalReceived { signal: 15 },
            ),
            (
                "Received signal <Signals.SIGINT: 2>",
                Typed::SignalReceived { signal: 2 },
            ),
            ("Shutdown initiated...", Typed::ShutdownInitiated),
            ("🛑 Shutdown initiated by signal", Typed::ShutdownInitiated),
            (
                "Executing signal #4869992: RSRUSDT on binance (week: 71, month: 64)",
                Typed::SignalExecuting {
                    signal_id: 4869992,
                    symbol: "RSRUSDT".to_owned(),
                    exchange: Some("binance".to_owned()),
                },
            ),
            (
                "📊 Executing signal #12: 1000PEPEUSDT",
                Typed::SignalExecuting {
                    signal_id: 12,
                    symbol: "1000PEPEUSDT".to_owned(),
                    exchange: None,
                },
            ),
            (
                "Executing signal #5: BTC/USDT:USDT on bybit, retry",
                Typed::SignalExecuting {
                    signal_id: 5,
                    symbol: "BTC/USDT:USDT".to_owned(),
                    exchange: Some("bybit".to_owned()),
                },
            ),
            (
                "✅ Position #1318 for RSRUSDT opened ATOMICALLY at $0.0051",
                Typed::PositionOpened {
                    position_id: 1318,
                    symbol: "RSRUSDT".to_owned(),
                    price: Some(0.0051),
                },
            ),
            (
                "Position #9 for ETHUSDT opened at 2500.5.",
                Typed::PositionOpened {
                    position_id: 9,
                    symbol: "ETHUSDT".to_owned(),
                    price: Some(2500.5),
                },
            ),
            (
                "Position #10 for SHIBUSDT opened at $1e-05",
                Typed::PositionOpened {
                    position_id: 10,
                    symbol: "SHIBUSDT".to_owned(),
                    price: Some(1e-05),
                },
            ),
            (
                "Position #11 for XUSDT opened",
                Typed::PositionOpened {
                    position_id: 11,
                    symbol: "XUSDT".to_owned(),
                    price: None,
                },
            ),
            ("Event queue full, logging directly", Typed::QueueFull),
            (
                "EventLogger flushing 100 events",
                Typed::FlushStarted { count: 100 },
            ),
            (
                "EventLogger wrote 100 events to DB (took 0.05s, last_ids=[id=785223:position_error, id=785224:order_placed])",
                Typed::FlushWrote {
                    count: 100,
                    last_ids: vec![
                        (785223, "position_error".to_owned()),
                        (785224, "order_placed".to_owned()),
                    ],
                },
            ),
            (
                "EventLogger wrote 0 events to DB (last_ids=[])",
                Typed::FlushWrote {
                    count: 0,
                    last_ids: Vec::new(),
                },
            ),
            (
                "EventLogger wrote 3 events to DB",
                Typed::FlushWrote {
                    count: 3,
                    last_ids: Vec::new(),
                },
            ),
            (
                "EventLogger wrote 2 events to DB (last_ids=[id=1:a, junk, id=x:b, 3:c",
                Typed::FlushWrote {
                    count: 2,
                    last_ids: vec![(1, "a".to_owned()), (3, "c".to_owned())],
                },
            ),
            (
                "EventLogger batch write failed: connection reset by peer ",
                Typed::BatchWriteFailed {
                    error: "connection reset by peer".to_owned(),
                },
            ),
            (
                "EventLogger batch write failed",
                Typed::BatchWriteFailed {
                    error: String::new(),
                },
            ),
        ];
        for (message, expected) in cases {
            assert_eq!(classify("bot", message), expected, "{message:?}");
        }
    }

    #[test]
    fn rejects_near_misses() {
        let others = [
            "",
            "   \r",
            "Executing signal",
            "Executing signal #: RSRUSDT",
            "Executing signal #12:",
            "position_created: not a dict",
            "position_created:{'a': 1}",
            "position_created : {'a': 1}",
            "Position_created: {'a': 1}",
            "Config loaded: {'a': 1}",
            "loaded config for x: {'a': 1}",
            "Lock acquired for 'trading_bot'",
            "Lock acquired for 'trading_bot' (PID: 99999999999)",
            "Lock released for ''x",
            "Received signal",
            "Received signal SIGFOO",
            "Position #1318 for RSRUSDT closed at $1",
            "Position # for RSRUSDT opened",
            "EventLogger flushing many events",
            "EventLogger wrote some events",
            "EventLogger started",
            "Event loop started",
            "Shutdown complete",
            "✅ All good",
            "Another",
            "Found 3 positions",
        ];
        for message in others {
            assert_eq!(classify("bot", message), Typed::Other, "{message:?}");
        }
    }

    #[test]
    fn malformed_events_keep_type_and_offset() {
        let cases: &[(&str, &str, usize, &str)] = &[
            (
                "position_created: {'a': ",
                "position_created",
                23,
                "end of input",
            ),
            (
                "order_placed: {'a': 1} extra",
                "order_placed",
                23,
                "after the literal",
            ),
            ("  x: {'a' 1}", "x", 10, "expected ','"),
            ("x: {1, 2}", "x", 3, "expected a dict"),
            ("x: {'a': foo}", "x", 9, "unknown identifier"),
        ];
        for &(message, event_type, offset, text) in cases {
            match classify("bot", message) {
                Typed::MalformedEvent {
                    event_type: t,
                    error,
                } => {
                    assert_eq!(t, event_type, "{message:?}");
                    assert_eq!(error.offset, offset, "{message:?}: {error}");
                    assert!(error.message.contains(text), "{message:?}: {error}");
                }
                other => panic!("{message:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn logger_name_does_not_change_the_result() {
        let line = "EventLogger flushing 5 events";
        assert_eq!(classify("", line), classify("trading_bot.events", line));
        assert_eq!(classify("x", line), Typed::FlushStarted { count: 5 });
    }

    #[test]
    fn never_panics_on_cut_or_odd_lines() {
        let lines = [
            "✅ Lock acquired for 'trading_bot' (PID: 41233)",
            "Executing signal #4869992: RSRUSDT on binance (week: 71, month: 64)",
            "✅ Position #1318 for RSRUSDT opened ATOMICALLY at $0.0051",
            "EventLogger wrote 100 events to DB (last_ids=[id=785223:position_error])",
            "position_created: {'a': [1, (2,)], 'b': Decimal('1')}",
            "⚠️ Found stale lock file",
        ];
        let mut seen = 0usize;
        for line in lines {
            for (i, _) in line.char_indices() {
                for part in [&line[..i], &line[i..]] {
                    if let Typed::MalformedEvent { error, .. } = classify("bot", part) {
                        assert!(error.offset <= part.len(), "{part:?}");
                    }
                    seen += 1;
                }
            }
        }
        assert!(seen > 400);
    }
}
