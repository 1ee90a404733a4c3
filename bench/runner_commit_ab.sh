#!/usr/bin/env bash
# Paired measurement of result ingest between two builds (two checkouts,
# e.g. main and a branch): each build's bench_runner_commit, which makes and
# migrates its own database with its own build's schema, alternating A and
# B ROUNDS times in one private cluster with production durability (fsync
# on). Only pairs measured this way are compared: this machine's state moves
# round-trip-bound rates by 1.5x between runs of the same code.
#   bench/runner_commit_ab.sh BUILD_A BUILD_B [ROUNDS (3)] [bench_runner_commit args: 5 40 1]
# e.g. bench/runner_commit_ab.sh /src/main/build build 5 5 40 2
set -euo pipefail
. "$(dirname "$0")/ab_lib.sh"
ab_start runner_commit_ab.sh "5 40 1" bench/bench_runner_commit -- "$@"
export METERLAB_BENCH_PG="$ML_PG_ADMIN"
for k in $(seq 1 "$ab_rounds"); do
	for side in A B; do
		d=$ab_a
		[ "$side" = A ] || d=$ab_b
		echo "== round $k $side ($d) $(date -u +%T)"
		"$d/bench/bench_runner_commit" "${ab_args[@]}"
	done
done
