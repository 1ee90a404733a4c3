#!/usr/bin/env bash
# Work, not time: the shared buffers each statement of an approval reads,
# per call, for two builds (e.g. main and a branch), each on a fresh
# database migrated by its own build and driven by its own bench_cert_issue,
# in one private cluster with pg_stat_statements (track = all). Buffers do
# not depend on what else the machine is doing, so a plan that reads more
# than it should shows here even when the timings of cert_issue_ab.sh are
# lost in this VM's noise.
#   bench/cert_issue_buffers_ab.sh BUILD_A BUILD_B [ROUNDS (1)] [bench_cert_issue args: -n 96 -r 3 --mode single]
set -euo pipefail
export ML_PG_OPTS="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"
. "$(dirname "$0")/ab_lib.sh"
[ $# -ge 3 ] || set -- "$@" 1
ab_start cert_issue_buffers_ab.sh "-n 96 -r 3 --mode single" "cli/meterlab bench/bench_cert_issue" -- "$@"
psql=$ML_PGBIN/psql
[ -x "$psql" ] || psql=psql
for k in $(seq 1 "$ab_rounds"); do
	for side in A B; do
		d=$ab_a
		[ "$side" = A ] || d=$ab_b
		db="buf_${side,,}_$k"
		ml_as_pg "$ML_PGBIN/createdb" -h "$ab_pgdir" -p "$ML_PGPORT" -U postgres "$db"
		ci="$ML_PG_ADMIN dbname=$db"
		"$d/cli/meterlab" --db "$ci" db migrate >/dev/null
		"$psql" "$ci" -qAtc "CREATE EXTENSION pg_stat_statements" >/dev/null
		"$psql" "$ci" -qAtc "SELECT pg_stat_statements_reset()" >/dev/null
		echo "== round $k $side ($d) $(date -u +%T)"
		"$d/bench/bench_cert_issue" --db "$ci" "${ab_args[@]}" | grep 'certificates/s'
		# the approval's statements as the client sends them (top level), and
		# the heaviest statements inside them
		"$psql" "$ci" -qAt -F ' | ' -c "
			SELECT lpad(calls::text, 6), lpad(round((shared_blks_hit + shared_blks_read)::numeric / calls, 1)::text, 8)
			       || ' buffers/call', left(regexp_replace(query, '\s+', ' ', 'g'), 70)
			FROM pg_stat_statements
			WHERE toplevel AND (query LIKE 'WITH c AS MATERIALIZED%' OR query LIKE 'SELECT ml_cert_issue_%')
			ORDER BY query"
		echo "   inside (top 5 by buffers):"
		"$psql" "$ci" -qAt -F ' | ' -c "
			SELECT lpad(calls::text, 6), lpad(round((shared_blks_hit + shared_blks_read)::numeric / calls, 1)::text, 8)
			       || ' buffers/call', left(regexp_replace(query, '\s+', ' ', 'g'), 70)
			FROM pg_stat_statements WHERE NOT toplevel AND calls >= 100
			ORDER BY shared_blks_hit + shared_blks_read DESC LIMIT 5"
		ml_as_pg "$ML_PGBIN/dropdb" -h "$ab_pgdir" -p "$ML_PGPORT" -U postgres "$db"
	done
done
