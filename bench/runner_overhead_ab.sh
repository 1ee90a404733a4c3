#!/usr/bin/env bash
# Paired measurement of the runner's own time between two builds (two
# checkouts, e.g. main and a branch): each build's bench_runner_overhead
# (24 positions on the Modbus TCP simulator, its own database migrated by
# its own build), alternating A and B ROUNDS times in one private cluster
# with production durability (fsync on). Prints each run's overhead line
# and where it goes (setup, steps, end), and, from builds whose bench
# measures them, the run's certificate documents; then the medians of the
# rounds (- where a build does not measure it).
#   bench/runner_overhead_ab.sh BUILD_A BUILD_B [ROUNDS (3)] [bench_runner_overhead args: 5 1000]
# e.g. bench/runner_overhead_ab.sh /src/main/build build 4
set -euo pipefail
. "$(dirname "$0")/ab_lib.sh"
ab_start runner_overhead_ab.sh "5 1000" bench/bench_runner_overhead -- "$@"
export METERLAB_BENCH_PG="$ML_PG_ADMIN"
out=$(mktemp) one=$(mktemp)
trap 'rm -f "$out" "$one"; ml_pg_stop "$ab_pgdir"; rm -rf "$ab_pgdir"' EXIT
for k in $(seq 1 "$ab_rounds"); do
	for side in A B; do
		d=$ab_a
		[ "$side" = A ] || d=$ab_b
		echo "== round $k $side ($d) $(date -u +%T)"
		"$d/bench/bench_runner_overhead" "${ab_args[@]}" >"$one"
		cat "$one"
		sed -n "s/.*runner overhead \([0-9.]*\) %.*/$side overhead \1/p;
			s/.*setup \([0-9.]*\), steps \([0-9.]*\) (.*), end \([0-9.]*\)$/$side setup \1\n$side steps \2\n$side end \3/p;
			s/.*medians \([0-9.]*\) ms in a new session, \([0-9.]*\) ms called again.*/$side docs_new \1\n$side docs_warm \2/p" \
			"$one" >>"$out"
	done
done
echo "== medians of $ab_rounds rounds (A = $ab_a, B = $ab_b)"
for what in overhead setup steps end docs_new docs_warm; do
	line="  $what:"
	for side in A B; do
		m=$(awk -v s="$side" -v w="$what" '$1 == s && $2 == w { print $3 }' "$out")
		[ -z "$m" ] || m=$(printf '%s\n' "$m" | sort -g | awk -f "$(dirname "$0")/median.awk")
		line="$line $side ${m:--}"
	done
	echo "$line"
done
