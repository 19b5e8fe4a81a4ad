//! The Python-literal parser and the message classifier on arbitrary text. `parse` and
//! `parse_prefix` must agree, and a prefix must end inside the input on a char boundary.
#![no_main]

use audit::payload::pyrepr::{parse, parse_prefix};
use audit::source::logs::typed::classify;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let whole = parse(&text);
    match parse_prefix(&text) {
        Ok((value, used)) => {
            assert!(used <= text.len() && text.is_char_boundary(used));
            if let Ok(w) = &whole {
                assert_eq!(w, &value);
            }
        }
        Err(e) => assert!(
            whole.is_err(),
            "parse_prefix failed ({e}) where parse did not"
        ),
    }
    let _ = classify("core.event_logger", &text);
    // Reach the event branch whatever the input starts with.
    let _ = classify("", &format!("fuzz_event: {text}"));
});
