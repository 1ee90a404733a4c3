#!/bin/sh
# Run the Modbus driver benchmarks from a build directory (default build/).
# Prints medians and ratios measured in the same run; see devices/README.md.
set -eu
B=${1:-build}
"$B/bench/bench_modbus_rate" "${RATE_N:-5000}" "${RATE_ROUNDS:-7}"
"$B/bench/bench_modbus_poll" "${POLL_CYCLES:-40}" "${POLL_THREADS:-4}"
