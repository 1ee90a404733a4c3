#!/usr/bin/env bash
# Paired measurement of `asset show` between two builds (two checkouts, e.g.
# main and a branch): one registry of ASSETS assets made by bench_gen, then
# each build's bench_scale (read-only: no --writes) alternating A and B
# ROUNDS times (after one run that is not counted; the sides take turns going
# first) in one private cluster with production durability (fsync on).
# Each run times its library call for 200 random assets on a warm connection
# (unnamed statements, as a CLI connection runs them), 200 others with
# prepared statements (as the server runs them), then the first 200 as
# whole `meterlab asset show` processes. Prints the medians of the rounds,
# B/A, and in how many rounds B was lower.
#   bench/show_ab.sh BUILD_A BUILD_B [ROUNDS (5)] [ASSETS (100000)]
# e.g. bench/show_ab.sh /src/main/build build 5 1000000
set -euo pipefail
. "$(dirname "$0")/ab_lib.sh"
ab_start show_ab.sh "100000" "cli/meterlab bench/bench_gen bench/bench_scale" -- "$@"
n=${ab_args[0]}
case "$n" in '' | *[!0-9]*) echo "show_ab.sh: ASSETS '$n' is not a number" >&2; exit 2 ;; esac
out=$(mktemp) one=$(mktemp)
trap 'rm -f "$out" "$one"; ml_pg_stop "$ab_pgdir"; rm -rf "$ab_pgdir"' EXIT
ml_as_pg "$ML_PGBIN/createdb" -h "$ab_pgdir" -p "$ML_PGPORT" -U postgres bench_show
db="$ML_PG_ADMIN dbname=bench_show"
# B's build migrates: a branch may add migrations, and A's reads run on them too
"$ab_b/cli/meterlab" --db "$db" db migrate >/dev/null
echo "== registry of $n assets $(date -u +%T)"
"$ab_b/bench/bench_gen" --db "$db" --to "$n" | tail -n 1
# Every run reads the same assets (bench_scale's fixed seed): one run that is
# not counted brings their pages in, so the first counted side does not pay
# for the second (at 10 M, round 1's A read them cold: 3.33 against 1.49 ms).
echo "== warm-up, not counted $(date -u +%T)"
"$ab_a/bench/bench_scale" --db "$db" --cli "$ab_a/cli/meterlab" --reps 1 --show 200 >/dev/null
for k in $(seq 1 "$ab_rounds"); do
	# and the sides take turns going first
	order="A B"
	[ $((k % 2)) -eq 1 ] || order="B A"
	for side in $order; do
		d=$ab_a
		[ "$side" = A ] || d=$ab_b
		echo "== round $k $side ($d) $(date -u +%T)"
		"$d/bench/bench_scale" --db "$db" --cli "$d/cli/meterlab" --reps 1 --show 200 >"$one"
		grep 'asset show' "$one"
		sed -n "s/.*asset show BARCODE *p50 *\([0-9.]*\) ms *p99 *\([0-9.]*\) ms.*sql p50 \([0-9.]*\) ms *p99 \([0-9.]*\) ms.*/$side process_p50 \1\n$side process_p99 \2\n$side sql_p50 \3\n$side sql_p99 \4/p;
			s/.*prepared statements (server) *sql p50 \([0-9.]*\) ms *p99 \([0-9.]*\) ms.*/$side prepared_p50 \1\n$side prepared_p99 \2/p" \
			"$one" >>"$out"
	done
done
echo "== medians of $ab_rounds rounds, ms (A = $ab_a, B = $ab_b)"
for what in sql_p50 sql_p99 prepared_p50 prepared_p99 process_p50 process_p99; do
	ab_compare "$what" "$(awk -v w="$what" '$1 == "A" && $2 == w { print $3 }' "$out")" \
		"$(awk -v w="$what" '$1 == "B" && $2 == w { print $3 }' "$out")"
done
