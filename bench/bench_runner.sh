#!/usr/bin/env bash
# bench/bench_runner.sh — run the runner benchmarks against a private
# PostgreSQL cluster: bench_runner_overhead (runner wall time vs the
# scheme's physical minimum — measurement plus source settling — and vs
# the measurement alone, at time scale 1000, real Modbus TCP simulator,
# with a median breakdown setup / per step / end) and bench_runner_commit
# (batched vs row-by-row result commits).
#   usage: bench/bench_runner.sh [BUILD_DIR]   (default: build)
# Medians and ratios come from one run of each program. The private
# cluster runs with fsync=off (scripts/dev-pg): absolute rates are higher
# than on a durable production server; the ratios are what to compare.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
pgdir=$(mktemp -d /tmp/mlbench-pg.XXXXXX)
trap '"$root/scripts/dev-pg" stop "$pgdir" >/dev/null 2>&1 || true; rm -rf "$pgdir"' EXIT
eval "$("$root/scripts/dev-pg" start "$pgdir")"
export METERLAB_BENCH_PG="$METERLAB_TEST_PG"
"$build/bench/bench_runner_overhead" 5 1000
# the same at a slower clock: the runner overhead is a fixed cost per run and step
"$build/bench/bench_runner_overhead" 3 200
"$build/bench/bench_runner_commit" 5 40
