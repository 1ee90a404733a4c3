#!/usr/bin/env bash
# Paired measurement of certificate issuing between two builds (two
# checkouts, e.g. main and a branch), alternating A and B ROUNDS times, each
# on a fresh database migrated by its own build and measured by its own
# bench_cert_issue, in one private cluster with production durability (fsync
# on). This machine's state moves the rates by up to 1.5x between runs of
# the same code, so only pairs measured this way are compared.
#   bench/cert_issue_ab.sh BUILD_A BUILD_B [ROUNDS (3)] [bench_cert_issue args: -n 96 -r 3]
# e.g. bench/cert_issue_ab.sh /src/main/build build 5 -n 96 -r 3 --mode single
set -euo pipefail
. "$(dirname "$0")/ab_lib.sh"
ab_start cert_issue_ab.sh "-n 96 -r 3" "cli/meterlab bench/bench_cert_issue" -- "$@"
for k in $(seq 1 "$ab_rounds"); do
	for side in A B; do
		d=$ab_a
		[ "$side" = A ] || d=$ab_b
		db="ab_${side}_$k"
		ml_as_pg "$ML_PGBIN/createdb" -h "$ab_pgdir" -p "$ML_PGPORT" -U postgres "$db"
		"$d/cli/meterlab" --db "$ML_PG_ADMIN dbname=$db" db migrate >/dev/null
		echo "== round $k $side ($d) $(date -u +%T)"
		"$d/bench/bench_cert_issue" --db "$ML_PG_ADMIN dbname=$db" "${ab_args[@]}"
		ml_as_pg "$ML_PGBIN/dropdb" -h "$ab_pgdir" -p "$ML_PGPORT" -U postgres "$db"
	done
done
