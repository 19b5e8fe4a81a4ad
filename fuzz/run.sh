#!/usr/bin/env bash
# Runs fuzz targets for SECS seconds each (default 600), two at a time (2 cores), each from
# its committed seed corpus (fuzz/corpus/<target>, read only) plus the corpus it grew before
# (fuzz/grown/<target>, not committed). libFuzzer's log of each run goes to
# fuzz/logs/<target>-<UTC time>.log with the final stats (executions, execs/s, peak RSS); a crash, timeout or OOM leaves its input
# in fuzz/artifacts/<target>/ and makes this script exit 1.
#
# Usage: fuzz/run.sh [SECS] [TARGET...]   (just fuzz [SECS] [TARGET...])
set -uo pipefail
cd "$(dirname "$0")"

secs="${1:-600}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(log_records pyrepr clock snapshot_csv)

# cargo-fuzz passes nightly-only flags; RUSTC_BOOTSTRAP lets the stable toolchain take them.
export RUSTC_BOOTSTRAP=1
# One thread per fuzzer: two fuzzers share the two cores.
export POLARS_MAX_THREADS=1 RAYON_NUM_THREADS=1
# No AddressSanitizer: the crate forbids unsafe code; what fuzzing looks for here is panics,
# timeouts and memory blowups, and ASan would halve the executions. 16 codegen units: the
# instrumented polars build takes minutes instead of an hour on 2 cores.
flags=(-s none --codegen-units 16)

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cargo fuzz build "${flags[@]}" || exit 2

mkdir -p logs
stamp=$(date -u +%Y%m%dT%H%M%S)
run() {
  local t="$1"
  mkdir -p "grown/$t" "artifacts/$t"
  echo "fuzz: $t for ${secs}s → fuzz/logs/$t-$stamp.log" >&2
  cargo fuzz run "${flags[@]}" "$t" "grown/$t" "corpus/$t" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="artifacts/$t/" >"logs/$t-$stamp.log" 2>&1
}

status=0
pids=()
names=()
for t in "${targets[@]}"; do
  if [ ${#pids[@]} -ge 2 ]; then
    wait "${pids[0]}" || { echo "fuzz: ${names[0]} FAILED (see fuzz/logs/${names[0]}-$stamp.log)" >&2; status=1; }
    pids=("${pids[@]:1}")
    names=("${names[@]:1}")
  fi
  run "$t" &
  pids+=($!)
  names+=("$t")
done
for k in "${!pids[@]}"; do
  wait "${pids[$k]}" || { echo "fuzz: ${names[$k]} FAILED (see fuzz/logs/${names[$k]}-$stamp.log)" >&2; status=1; }
done

for t in "${targets[@]}"; do
  log="logs/$t-$stamp.log"
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$')
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  echo "fuzz: $t: ${execs:-?} executions, ${rate:-?}/s, $cov" >&2
done
exit "$status"
