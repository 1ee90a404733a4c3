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
. "$(dirname "$0")/../scripts/lib/common.sh"

[ $# -ge 2 ] || { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
a=$1 b=$2
rounds=${3:-3}
shift $(($# >= 3 ? 3 : 2))
case "$rounds" in '' | *[!0-9]*) echo "cert_issue_ab.sh: ROUNDS '$rounds' is not a number" >&2; exit 2 ;; esac
[ $# -gt 0 ] || set -- -n 96 -r 3
for d in "$a" "$b"; do
	for f in cli/meterlab bench/bench_cert_issue; do
		[ -x "$d/$f" ] || { echo "cert_issue_ab.sh: no $d/$f (build it first)" >&2; exit 2; }
	done
done

pgdir=$(mktemp -d /tmp/meterlab-ab-pg.XXXXXX)
trap 'ml_pg_stop "$pgdir"; rm -rf "$pgdir"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
ml_pg_start "$pgdir"
for k in $(seq 1 "$rounds"); do
	for side in A B; do
		d=$a
		[ "$side" = A ] || d=$b
		db="ab_${side}_$k"
		ml_as_pg "$ML_PGBIN/createdb" -h "$pgdir" -p "$ML_PGPORT" -U postgres "$db"
		"$d/cli/meterlab" --db "$ML_PG_ADMIN dbname=$db" db migrate >/dev/null
		echo "== round $k $side ($d) $(date -u +%T)"
		"$d/bench/bench_cert_issue" --db "$ML_PG_ADMIN dbname=$db" "$@"
		ml_as_pg "$ML_PGBIN/dropdb" -h "$pgdir" -p "$ML_PGPORT" -U postgres "$db"
	done
done
