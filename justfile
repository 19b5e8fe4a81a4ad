# `just` recipes; each one is a plain command you can also run by hand.

# The README's first command: the merged timeline of signal 4869992 from the bundled incident.
demo:
    cargo run -- timeline --signal 4869992

# The whole suite against a real PostgreSQL (DATABASE_URL, or a throwaway cluster).
test:
    cargo test --workspace --locked

# The release build with line tables and symbols (target/profiling/audit), for perf or a flame graph.
profiling:
    cargo build --profile profiling --locked

# Formatting and lints, as strict as review.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Exactly what CI runs on a fresh clone.
ci:
    bash .ci/run

# Regenerate the incident fixture (needs python3 and PostgreSQL server binaries).
fixture:
    python3 fixtures/rsrusdt-2025-10-18/generate.py
    bash fixtures/rsrusdt-2025-10-18/snapshot.sh
    python3 fixtures/logs/make.py

# Install the release binary for real data (a clean release build takes ~10 min on 2 cores; 45 MiB).
install:
    cargo install --path . --locked

# The checks' precision and recall on synthetic scenarios with known ground truth → docs/accuracy.md.
accuracy:
    cargo run --example accuracy_report -- docs/accuracy.md

# The benchmark day (~200 000 rows, ~850 MiB of logs, 2 processes) with its truth.json.
day out="/tmp/audit-day":
    cargo run -p audit-gen -- --preset day --sql --out {{out}}

# docs/clocks.svg: a drifting host's and a stepped host's offset, truth against measurement.
clocks-figure:
    python3 docs/plot_clocks.py

# Benchmarks against rg, lnav, psql \copy and ConnectorX on the generated day → docs/bench.md;
# fails (after writing it) on a wrong answer (verify-day, run first) or a missed target.
bench *args:
    python3 benches/bench_day.py {{args}}

# The benchmark day's answers, without timing: the sampled, searched and sliced read paths at
# their production thresholds give the findings of one full pass, by fingerprint (exit 1 if not).
verify-day *args:
    python3 benches/bench_day.py --verify-only {{args}}

# Micro-benchmarks of the hot paths (divan).
micro:
    cargo bench --bench hot

# The incident's HTML report (target/incident-report.html) and its screenshots in docs/ (needs chromium).
report:
    cargo run -q -- report --html target/incident-report.html
    chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking --hide-scrollbars --window-size=1400,1000 --user-data-dir="$(mktemp -d)" --screenshot=docs/report.png "file://$PWD/target/incident-report.html"
    chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking --hide-scrollbars --window-size=1400,1000 --user-data-dir="$(mktemp -d)" --screenshot=docs/report-finding.png "file://$PWD/target/incident-report.html#click=finding-6"

# Fuzz the parsers of untrusted input (fuzz/, cargo-fuzz on stable via RUSTC_BOOTSTRAP) for
# `secs` seconds per target, two at a time, from the seed corpus → fuzz/logs, fuzz/artifacts.
fuzz secs="600" *targets:
    bash fuzz/run.sh {{secs}} {{targets}}
