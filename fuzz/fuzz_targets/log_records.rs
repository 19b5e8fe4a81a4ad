//! The log record parser on arbitrary bytes: the line-at-a-time stream parser, the block
//! reader (both `Take` modes: every record, and events and typed lines), and the header and timestamp parsers on every line. The two
//! whole-stream parsers must agree on what they found.
#![no_main]

use std::io::BufReader;

use audit::source::logs::reader::parse_reader;
use audit::source::logs::record::{FileStats, Take, parse_header, parse_stream, parse_timestamp};
use audit::rows::{Chunk, ChunkSource};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // A small read buffer (1..=64 bytes, from the input's length) splits lines across reads.
    let cap = data.len() % 64 + 1;
    let mut chunk = Chunk::new(ChunkSource::Log, Some("fuzz.log".into()));
    let mut stats = FileStats::default();
    parse_stream(BufReader::with_capacity(cap, data), &mut chunk, &mut stats)
        .expect("reading from memory cannot fail");

    let all = parse_reader(data, "fuzz.log", Take::EVERYTHING).expect("in-memory read");
    assert_eq!(all.stats.lines, stats.lines);
    assert_eq!(all.stats.records, stats.records);
    assert_eq!(all.stats.bytes, data.len() as u64);
    assert_eq!(all.chunk.message, chunk.message);
    assert_eq!(all.chunk.line, chunk.line);

    let structured = parse_reader(data, "fuzz.log", Take::STRUCTURED).expect("in-memory read");
    assert_eq!(structured.stats.records, stats.records);
    assert!(structured.chunk.len() <= chunk.len());

    for line in data.split(|b| *b == b'\n') {
        if let Some((_, used)) = parse_timestamp(line) {
            assert!(used <= line.len());
        }
        if let Ok(text) = std::str::from_utf8(line)
            && let Some(h) = parse_header(text)
        {
            assert!(text.starts_with(h.ts_text));
        }
    }
});
