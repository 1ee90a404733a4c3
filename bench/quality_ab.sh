#!/usr/bin/env bash
# Paired measurement of the quality report's aggregates between two builds
# (two checkouts, e.g. main and a branch): one data set made with A's build
# (bench_gen grows a registry of RESULTS / 12 meters, bench_quality writes
# RESULTS result rows and the field records), copied as a second database
# (CREATE DATABASE ... TEMPLATE) that B's build then migrates, so each side
# reads the same rows with its own SQL functions. First it checks that both
# sides give the same answers: every aggregate, over the three periods,
# compared row for row (md5 of the ordered rows). Then each build's
# `bench_quality --measure-only --reps 1` on its own database, alternating A
# and B ROUNDS times after one run of each that is not counted (the sides
# take turns going first), in one private cluster with production
# durability (fsync on). Prints the medians of the rounds, B/A, and in how
# many rounds B was lower.
#   bench/quality_ab.sh BUILD_A BUILD_B [ROUNDS (3)] [RESULTS (10200000)]
# e.g. bench/quality_ab.sh /src/main/build build 3
set -euo pipefail
. "$(dirname "$0")/ab_lib.sh"
ab_start quality_ab.sh "10200000" "cli/meterlab bench/bench_gen bench/bench_quality" -- "$@"
n=${ab_args[0]}
case "$n" in '' | *[!0-9]* | 0) echo "quality_ab.sh: RESULTS '$n' is not a positive number" >&2; exit 2 ;; esac
out=$(mktemp) one=$(mktemp)
trap 'rm -f "$out" "$one"; ml_pg_stop "$ab_pgdir"; rm -rf "$ab_pgdir"' EXIT
psql_admin() { psql "$ML_PG_ADMIN dbname=$1" -X -q -v ON_ERROR_STOP=1 "${@:2}"; }
ml_as_pg "$ML_PGBIN/createdb" -h "$ab_pgdir" -p "$ML_PGPORT" -U postgres bench_qa
dba="$ML_PG_ADMIN dbname=bench_qa" dbb="$ML_PG_ADMIN dbname=bench_qb"
"$ab_a/cli/meterlab" --db "$dba" db migrate >/dev/null
echo "== data: $((n / 12)) meters, $n result rows, with A's build $(date -u +%T)"
"$ab_a/bench/bench_gen" --db "$dba" --to $((n / 12)) --lot-size 10000 | tail -n 1
"$ab_a/bench/bench_quality" --db "$dba" --results "$n" --reps 1 | grep '^data:'
psql_admin bench_qa -c 'VACUUM ANALYZE'
echo "== copy for B, B's build migrates it $(date -u +%T)"
psql_admin postgres -c 'CREATE DATABASE bench_qb TEMPLATE bench_qa'
"$ab_b/cli/meterlab" --db "$dbb" db migrate >/dev/null
# the three periods bench_quality measures
read -r m0 m1 y0 lo hi < <(psql_admin bench_qa -At -F ' ' -c "
	SELECT to_char(date_trunc('month', max(concluded_at)) - interval '1 month', 'YYYY-MM-DD'),
	       to_char(date_trunc('month', max(concluded_at)) - interval '1 day', 'YYYY-MM-DD'),
	       to_char(date_trunc('month', max(concluded_at)) - interval '12 month', 'YYYY-MM-DD'),
	       to_char(min(concluded_at), 'YYYY-MM-DD'), to_char(max(concluded_at), 'YYYY-MM-DD')
	FROM run_conclusion WHERE item = 'overall'")
echo "== the same answers on both sides $(date -u +%T)"
differ=0
for period in "$m0 $m1" "$y0 $m1" "$lo $hi"; do
	set -- $period
	for f in "ml_quality_verdicts('$1', '$2')" "ml_quality_items('$1', '$2')" \
		"ml_quality_points('$1', '$2')" "ml_quality_point_failures('$1', '$2')" \
		"ml_quality_field('$1', '$2')" "ml_quality_field_months('$1', '$2')" \
		"ml_quality_alert_units('$1', '$2')" "ml_trace_runs('STD-Q1', NULL, '$1', '$2')"; do
		q="SELECT count(*) || ' rows ' || md5(coalesce(string_agg(t::text, E'\n' ORDER BY t::text), '')) FROM $f t"
		ha=$(psql_admin bench_qa -At -c "$q") hb=$(psql_admin bench_qb -At -c "$q")
		if [ "$ha" = "$hb" ]; then echo "  same   $f: $ha"; else echo "  DIFFER $f: A $ha, B $hb"; differ=1; fi
	done
done
[ "$differ" = 0 ] || { echo "quality_ab.sh: the two sides give different answers" >&2; exit 1; }
echo "== warm-up, not counted $(date -u +%T)"
"$ab_a/bench/bench_quality" --db "$dba" --measure-only --reps 1 >/dev/null
"$ab_b/bench/bench_quality" --db "$dbb" --measure-only --reps 1 >/dev/null
for k in $(seq 1 "$ab_rounds"); do
	order="A B"
	[ $((k % 2)) -eq 1 ] || order="B A"
	for side in $order; do
		d=$ab_a db=$dba
		[ "$side" = A ] || { d=$ab_b; db=$dbb; }
		echo "== round $k $side ($d) $(date -u +%T)"
		"$d/bench/bench_quality" --db "$db" --measure-only --reps 1 | tee "$one"
		# "side|period|figure|ms" for every figure of the three periods (the
		# figure's name and its value are separated by two spaces or more;
		# mawk has no {2,})
		awk -v s="$side" '/^(one month|twelve months|everything) \(/ { p = $1 == "one" ? "month" : $1 == "twelve" ? "year" : "all" }
			p != "" && /^  [a-z]/ { split($0, f, /   */); print s "|" p "|" f[2] "|" f[3] }' "$one" >>"$out"
	done
done
echo "== medians of $ab_rounds rounds, ms (A = $ab_a, B = $ab_b)"
for p in month year all; do
	echo "  -- $p"
	awk -F'|' -v p="$p" '$1 == "A" && $2 == p { print $3 }' "$out" | awk '!seen[$0]++' | while IFS= read -r what; do
		ab_compare "$what" "$(awk -F'|' -v p="$p" -v w="$what" '$1 == "A" && $2 == p && $3 == w { print $4 }' "$out")" \
			"$(awk -F'|' -v p="$p" -v w="$what" '$1 == "B" && $2 == p && $3 == w { print $4 }' "$out")" 30 %9.1f
	done
done
