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
. "$(dirname "$0")/../scripts/lib/common.sh"

[ $# -ge 2 ] || { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
a=$1 b=$2
rounds=${3:-3}
shift $(($# >= 3 ? 3 : 2))
case "$rounds" in '' | *[!0-9]*) echo "runner_commit_ab.sh: ROUNDS '$rounds' is not a number" >&2; exit 2 ;; esac
[ $# -gt 0 ] || set -- 5 40 1
for d in "$a" "$b"; do
	[ -x "$d/bench/bench_runner_commit" ] || { echo "runner_commit_ab.sh: no $d/bench/bench_runner_commit (build it first)" >&2; exit 2; }
done

pgdir=$(mktemp -d /tmp/meterlab-ab-pg.XXXXXX)
trap 'ml_pg_stop "$pgdir"; rm -rf "$pgdir"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
ml_pg_start "$pgdir"
export METERLAB_BENCH_PG="$ML_PG_ADMIN"
for k in $(seq 1 "$rounds"); do
	for side in A B; do
		d=$a
		[ "$side" = A ] || d=$b
		echo "== round $k $side ($d) $(date -u +%T)"
		"$d/bench/bench_runner_commit" "$@"
	done
done
