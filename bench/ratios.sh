#!/usr/bin/env bash
# Runs the peer benchmarks and prints the ratios table (markdown) on standard output.
#
#   bench/ratios.sh                  # 5 passes of every benchmark, 1 s each
#   COUNT=3 BENCHTIME=0.5s BENCH=Breaker bench/ratios.sh
#
# The test binary is built once and run COUNT times, each pass running every benchmark
# once (go test -run '^$' -bench . -benchmem -count 1), so that passes interleave and a
# burst of load elsewhere on the machine touches every implementation alike. The raw
# output goes to standard error and to $OUT (a temporary file unless set); the table is
# made of the medians over the passes.
set -euo pipefail
cd "$(dirname "$0")"
count=${COUNT:-5}
benchtime=${BENCHTIME:-1s}
pattern=${BENCH:-.}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=${OUT:-$work/bench.txt}
: >"$out"

go test -c -o "$work/bench.test" .
go build -o "$work/ratios" ./cmd/ratios
for pass in $(seq "$count"); do
  echo "== pass $pass of $count" >&2
  "$work/bench.test" -test.run '^$' -test.bench "$pattern" -test.benchmem -test.count 1 \
    -test.benchtime "$benchtime" | tee -a "$out" >&2
done
"$work/ratios" "$out"
