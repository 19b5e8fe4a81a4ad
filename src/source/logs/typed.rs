//! TEMPORARY STUB (replaced by the real classifier).
use super::pyrepr::{self, ReprError};

#[derive(Debug, Clone, PartialEq)]
pub enum Typed {
    Event {
        event_type: String,
        data: serde_json::Value,
    },
    MalformedEvent {
        event_type: String,
        error: ReprError,
    },
    LockAcquired {
        name: String,
        pid: u32,
    },
    LockReleased {
        name: String,
    },
    StaleLock,
    AnotherInstance {
        pid: Option<u32>,
    },
    SignalReceived {
        signal: i32,
    },
    ShutdownInitiated,
    SignalExecuting {
        signal_id: i64,
        symbol: String,
        exchange: Option<String>,
    },
    PositionOpened {
        position_id: i64,
        symbol: String,
        price: Option<f64>,
    },
    QueueFull,
    FlushStarted {
        count: u32,
    },
    FlushWrote {
        count: u32,
        last_ids: Vec<(i64, String)>,
    },
    BatchWriteFailed {
        error: String,
    },
    Other,
}

pub fn classify(_logger: &str, message: &str) -> Typed {
    if let Some((et, rest)) = message.split_once(": {") {
        if et.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            let text = &message[et.len() + 2..];
            let _ = rest;
            return match pyrepr::parse(text) {
                Ok(data) => Typed::Event {
                    event_type: et.to_string(),
                    data,
                },
                Err(error) => Typed::MalformedEvent {
                    event_type: et.to_string(),
                    error,
                },
            };
        }
    }
    Typed::Other
}
