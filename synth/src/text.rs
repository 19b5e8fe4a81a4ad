//! Fixed text the generator draws from: symbols with realistic prices and tick sizes,
//! exchange errors (with both quote kinds, as ccxt writes them), tracebacks, module names.

/// A traded symbol: its price level, decimals of its tick size, its exchange.
#[derive(Debug)]
pub struct Symbol {
    pub name: &'static str,
    pub base: f64,
    pub dec: u32,
    pub exchange: &'static str,
}

const fn sym(name: &'static str, base: f64, dec: u32, exchange: &'static str) -> Symbol {
    Symbol {
        name,
        base,
        dec,
        exchange,
    }
}

/// Prices stay ≥ 0.001, so every float the payloads hold prints the same in `repr`,
/// json.dumps and jsonb (no exponent form).
pub static SYMBOLS: &[Symbol] = &[
    sym("BTCUSDT", 67_250.0, 1, "binance"),
    sym("ETHUSDT", 2_512.0, 2, "binance"),
    sym("SOLUSDT", 151.3, 3, "binance"),
    sym("BNBUSDT", 583.0, 2, "binance"),
    sym("XRPUSDT", 0.5234, 4, "binance"),
    sym("DOGEUSDT", 0.1213, 5, "binance"),
    sym("ADAUSDT", 0.3512, 4, "binance"),
    sym("RSRUSDT", 0.0051, 6, "binance"),
    sym("FLMUSDT", 0.0302, 5, "binance"),
    sym("1000PEPEUSDT", 0.00982, 7, "binance"),
    sym("ARBUSDT", 0.5521, 4, "bybit"),
    sym("OPUSDT", 1.623, 4, "bybit"),
    sym("LINKUSDT", 11.52, 3, "binance"),
    sym("AVAXUSDT", 21.31, 3, "binance"),
    sym("DOTUSDT", 3.912, 3, "bybit"),
    sym("TRXUSDT", 0.1604, 5, "binance"),
    sym("NEARUSDT", 2.311, 3, "bybit"),
    sym("ATOMUSDT", 3.405, 3, "binance"),
    sym("FILUSDT", 1.602, 3, "bybit"),
    sym("APTUSDT", 3.214, 4, "bybit"),
    sym("SUIUSDT", 2.714, 4, "bybit"),
    sym("WLDUSDT", 0.8523, 4, "binance"),
    sym("INJUSDT", 11.24, 3, "bybit"),
    sym("TIAUSDT", 1.204, 4, "bybit"),
    sym("SEIUSDT", 0.2031, 5, "bybit"),
    sym("ORDIUSDT", 6.112, 3, "binance"),
    sym("GALAUSDT", 0.01123, 6, "binance"),
    sym("CHZUSDT", 0.03512, 5, "binance"),
    sym("ENAUSDT", 0.4512, 4, "bybit"),
    sym("JUPUSDT", 0.4213, 4, "bybit"),
    sym("MAGICUSDT", 0.1534, 4, "bybit"),
    sym("1000BONKUSDT", 0.01842, 6, "binance"),
];

pub static CANCEL_REASONS: &[&str] = &[
    "replaced",
    "position closed",
    "stale order (> 5 min)",
    "user's manual cancel",
    "reduceOnly order rejected: \"position side mismatch\"",
];

/// Exchange errors of a failed `open_position`: (message, exception class).
pub static OPEN_ERRORS: &[(&str, &str)] = &[
    (
        "binance {\"code\":-2019,\"msg\":\"Margin is insufficient.\"}",
        "ccxt.base.errors.InsufficientFunds",
    ),
    (
        "bybit {\"retCode\":110007,\"retMsg\":\"ab not enough for new order\",\"result\":{},\"retExtInfo\":{}}",
        "ccxt.base.errors.InsufficientFunds",
    ),
    (
        "binance {\"code\":-2021,\"msg\":\"Order would immediately trigger.\"}",
        "ccxt.base.errors.OrderImmediatelyFillable",
    ),
    (
        "Symbol is not trading (status: 'BREAK')",
        "ccxt.base.errors.BadSymbol",
    ),
    (
        "Timeout after 10.0s waiting for fill",
        "asyncio.exceptions.TimeoutError",
    ),
    (
        "Can't place stop-loss: \"reduceOnly\" rejected",
        "core.exceptions.StopLossError",
    ),
    (
        "binance {\"code\":-1121,\"msg\":\"Invalid symbol.\"}",
        "ccxt.base.errors.BadSymbol",
    ),
];

/// A Python traceback ending in `class: message`.
pub fn traceback(frames: &[(&str, u32, &str, &str)], class: &str, message: &str) -> String {
    let mut s = String::from("Traceback (most recent call last):");
    for (file, line, func, code) in frames {
        s.push_str(&format!(
            "\n  File \"{file}\", line {line}, in {func}\n    {code}"
        ));
    }
    s.push_str(&format!("\n{class}: {message}"));
    s
}

pub const APP: &str = "/home/elcrypto/TradingBot";

/// The traceback of a failed `open_position`.
pub fn open_traceback(exchange: &str, class: &str, message: &str) -> String {
    let ccxt = format!("{APP}/venv/lib/python3.12/site-packages/ccxt/async_support/{exchange}.py");
    traceback(
        &[
            (
                &format!("{APP}/core/position_manager.py"),
                687,
                "open_position",
                "order = await self.exchange.create_market_order(symbol, side, amount)",
            ),
            (
                &format!("{APP}/core/exchange_manager.py"),
                412,
                "create_market_order",
                "return await self.exchange.create_order(symbol, 'market', side, amount)",
            ),
            (
                &ccxt,
                5883,
                "create_order",
                "response = await self.fapiPrivatePostOrder(request)",
            ),
        ],
        class,
        message,
    )
}

/// The traceback of a failed `executemany` (a lost batch).
pub fn batch_traceback() -> String {
    traceback(
        &[
            (
                &format!("{APP}/core/event_logger.py"),
                238,
                "_flush",
                "await conn.executemany(INSERT_SQL, rows)",
            ),
            (
                &format!("{APP}/venv/lib/python3.12/site-packages/asyncpg/connection.py"),
                354,
                "executemany",
                "return await self._executemany(command, args, timeout)",
            ),
        ],
        "asyncpg.exceptions.ConnectionDoesNotExistError",
        "connection was closed in the middle of operation",
    )
}

/// What asyncpg says when the server refuses connections.
pub const REFUSED: &str = "[Errno 111] Connect call failed ('10.8.0.1', 5432)";

/// The traceback of a flush while the database is down: the pool cannot connect.
pub fn refused_traceback() -> String {
    traceback(
        &[
            (
                &format!("{APP}/core/event_logger.py"),
                236,
                "_flush",
                "async with self.pool.acquire() as conn:",
            ),
            (
                &format!("{APP}/venv/lib/python3.12/site-packages/asyncpg/pool.py"),
                1024,
                "_acquire_impl",
                "await ch.connect()",
            ),
            (
                &format!("{APP}/venv/lib/python3.12/site-packages/asyncpg/connect_utils.py"),
                1049,
                "_create_ssl_connection",
                "tr, pr = await loop.create_connection(",
            ),
            (
                "/usr/lib/python3.12/asyncio/base_events.py",
                1130,
                "create_connection",
                "raise exceptions[0]",
            ),
        ],
        "ConnectionRefusedError",
        REFUSED,
    )
}

pub const BANNER: &str =
    "================================================================================";
