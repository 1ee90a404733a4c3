# Shared by the paired benchmarks (bench/*_ab.sh): reads
#   BUILD_A BUILD_B [ROUNDS] [bench args]
# from the script's arguments, checks that each build has the programs the
# script names, and starts one private cluster with production durability
# (fsync on), stopped and removed when the script exits.
#   ab_start SCRIPT DEFAULT_ARGS PROGRAMS -- "$@"
# sets ab_a, ab_b, ab_rounds, ab_args (array: the bench's arguments, else
# DEFAULT_ARGS split on spaces) and ab_pgdir, plus ML_PG_ADMIN (common.sh).
#   ab_compare NAME A_VALUES B_VALUES [NAME_WIDTH (14)] [VALUE_FORMAT (%7.2f)]
# prints one line of the summary: NAME, the medians of A's and B's values
# (one per line, round by round in the same order), B/A, and in how many
# rounds B was lower.
# shellcheck shell=bash
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/common.sh"

ab_start()
{
	local me=$1 defaults=$2 programs=$3
	shift 4
	[ $# -ge 2 ] || { sed -n '2,/^[^#]/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
	ab_a=$1 ab_b=$2
	ab_rounds=${3:-3}
	shift $(($# >= 3 ? 3 : 2))
	case "$ab_rounds" in '' | *[!0-9]*) echo "$me: ROUNDS '$ab_rounds' is not a number" >&2; exit 2 ;; esac
	if [ $# -gt 0 ]; then ab_args=("$@"); else read -r -a ab_args <<<"$defaults"; fi
	local d f
	for d in "$ab_a" "$ab_b"; do
		for f in $programs; do
			[ -x "$d/$f" ] || { echo "$me: no $d/$f (build it first)" >&2; exit 2; }
		done
	done
	ab_pgdir=$(mktemp -d /tmp/meterlab-ab-pg.XXXXXX)
	trap 'ml_pg_stop "$ab_pgdir"; rm -rf "$ab_pgdir"' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	ml_pg_start "$ab_pgdir"
}

ab_compare()
{
	local what=$1 a=$2 b=$3 width=${4:-14} fmt=${5:-%7.2f} median ma mb lower
	median=$(dirname "${BASH_SOURCE[0]}")/median.awk
	ma=$(printf '%s\n' "$a" | sort -g | awk -f "$median")
	mb=$(printf '%s\n' "$b" | sort -g | awk -f "$median")
	# round k's A against round k's B
	lower=$(paste <(printf '%s\n' "$a") <(printf '%s\n' "$b") | awk '$2 < $1 { n++ } END { print n + 0 }')
	# shellcheck disable=SC2059 # the format is the caller's
	printf "  %-${width}s A $fmt  B $fmt  B/A %.2f  B lower in %d of %d rounds\n" "$what" "$ma" "$mb" \
		"$(awk -v a="$ma" -v b="$mb" 'BEGIN { print (a > 0 ? b / a : 0) }')" "$lower" "$ab_rounds"
}
