#!/usr/bin/env bash
# Paired measurement of result ingest between two builds (two checkouts,
# e.g. main and a branch): each build's bench_runner_commit, which makes and
# migrates its own database with its own build's schema, alternating A and
# B ROUNDS times in one private cluster with production durability (fsync
# on). Only pairs measured this way are compared: this machine's state moves
# round-trip-bound rates by 1.5x between runs of the same code.
#   bench/runner_commit_ab.sh BUILD_A BUILD_B [ROUNDS (3)] [bench_runner_commit args: 5 40 1]
# e.g. bench/runner_commit_ab.sh /src/main/build build 5 5 40 2
# After each run it prints the server's execution time per recorded step
# (pg_stat_statements, top-level calls of ml_run_record_step: the mean over
# every step of that run, from one and from several benches), the figure
# that moves least with this machine's state; a summary of the medians of
# both closes the output.
set -euo pipefail
. "$(dirname "$0")/ab_lib.sh"
# pg_stat_statements ships with PostgreSQL (Debian's postgresql-15); top-level statements only
export ML_PG_OPTS="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=top"
ab_start runner_commit_ab.sh "5 40 1" bench/bench_runner_commit -- "$@"
export METERLAB_BENCH_PG="$ML_PG_ADMIN"
psql -X -q "$ML_PG_ADMIN" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"
server_ms()
{
	psql -X -At "$ML_PG_ADMIN" -c "SELECT round(sum(total_exec_time)::numeric / sum(calls), 3) \
		FROM pg_stat_statements WHERE query LIKE 'SELECT ml_run_record_step(%'"
}
ms_a=() ms_b=()
for k in $(seq 1 "$ab_rounds"); do
	for side in A B; do
		d=$ab_a
		[ "$side" = A ] || d=$ab_b
		echo "== round $k $side ($d) $(date -u +%T)"
		psql -X -At "$ML_PG_ADMIN" -c "SELECT pg_stat_statements_reset()" >/dev/null
		"$d/bench/bench_runner_commit" "${ab_args[@]}"
		ms=$(server_ms)
		echo "  server time per recorded step                       ${ms} ms"
		if [ "$side" = A ]; then ms_a+=("$ms"); else ms_b+=("$ms"); fi
	done
done
median()
{
	printf '%s\n' "$@" | sort -g | awk -f "$(dirname "$0")/median.awk"
}
echo "== server time per recorded step, medians of $ab_rounds rounds: A $(median "${ms_a[@]}") ms, B $(median "${ms_b[@]}") ms"
echo "   A: ${ms_a[*]}"
echo "   B: ${ms_b[*]}"
