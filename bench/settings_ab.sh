#!/usr/bin/env bash
# Paired measurement of one build against two copies of one database that
# differ only in server settings: the same data directory copied, both
# clusters running with production durability (fsync on) plus side A's or
# side B's settings, the sides alternating ROUNDS times. Each round runs
# bench_scale (every everyday command as a whole process and its SQL; see
# bench_scale.c) and pgbench -C (connect + SELECT 1) on each side; then the
# medians of the rounds per figure, and B/A.
#
#   bench/settings_ab.sh BUILD ROUNDS ASSETS 'A settings' 'B settings' [bench_scale args: --reps 5 --show 100 --writes 2]
# e.g. bench/settings_ab.sh build 3 100000 '-c huge_pages=off' '-c huge_pages=on'
#      bench/settings_ab.sh build 3 100000 '' '-c shared_preload_libraries=plpgsql'
#
# Why: on this VM a page fault costs tens of microseconds, and every
# `meterlab` command is a new process and a new backend, which faults in
# the shared memory it touches and loads what it uses for the first time.
# The settings a production server should have (sql/README.md, "Production
# settings") are measured here, not assumed.
#
# A side with huge_pages=on needs free huge pages: as root the script
# reserves them (vm.nr_hugepages, restored at the end). A side that does
# not name huge_pages runs with huge_pages=off, as PostgreSQL's default
# (try) does on a machine with none reserved: otherwise it would take the
# pages reserved for the other side.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib/common.sh"
[ $# -ge 5 ] || { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
B=$1 rounds=$2 assets=$3 opts_a=$4 opts_b=$5
shift 5
if [ $# -gt 0 ]; then args=("$@"); else args=(--reps 5 --show 100 --writes 2); fi
for v in "$rounds" "$assets"; do
	case "$v" in '' | *[!0-9]*) echo "settings_ab.sh: '$v' is not a number" >&2; exit 2 ;; esac
done
for f in cli/meterlab bench/bench_gen bench/bench_scale; do
	[ -x "$B/$f" ] || { echo "settings_ab.sh: no $B/$f (build it first)" >&2; exit 2; }
done
command -v "$ML_PGBIN/pgbench" >/dev/null || { echo "settings_ab.sh: no pgbench" >&2; exit 2; }

top=$(mktemp -d /tmp/meterlab-settings-ab.XXXXXX)
chmod 755 "$top"
old_nr=$(cat /proc/sys/vm/nr_hugepages)
out="$top/figures" one="$top/one"
cleanup()
{
	ML_PGPORT=54341 ml_pg_stop "$top/a" || true
	ML_PGPORT=54342 ml_pg_stop "$top/b" || true
	if [ "$(cat /proc/sys/vm/nr_hugepages)" != "$old_nr" ]; then
		echo "$old_nr" >/proc/sys/vm/nr_hugepages || true
	fi
	rm -rf "$top"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The registry, generated once in A and copied to B while A is stopped.
export ML_PGPORT=54341
ml_pg_start "$top/a"
ml_as_pg "$ML_PGBIN/createdb" -h "$top/a" -p 54341 -U postgres scale
dba="host=$top/a port=54341 user=postgres dbname=scale"
"$B/cli/meterlab" --db "$dba" db migrate >/dev/null
"$B/bench/bench_gen" --db "$dba" --to "$assets" >&2
ml_pg_stop "$top/a"
cp -a "$top/a" "$top/b"
rm -f "$top/b/postgres.log"

# Huge pages for a side that asks for them: PostgreSQL 15 computes how many.
need=0
for o in "$opts_a" "$opts_b"; do
	case "$o" in *huge_pages=on*) need=$((need + $(ml_as_pg "$ML_PGBIN/postgres" -D "$top/b/data" -C shared_memory_size_in_huge_pages))) ;; esac
done
free=$(awk '/^HugePages_Free/ { print $2 }' /proc/meminfo)
if [ "$free" -lt "$need" ]; then
	[ "$(id -u)" -eq 0 ] || { echo "settings_ab.sh: $need huge pages needed, $free free (run as root to reserve them)" >&2; exit 2; }
	echo $((old_nr + need - free + 8)) >/proc/sys/vm/nr_hugepages
	free=$(awk '/^HugePages_Free/ { print $2 }' /proc/meminfo)
	[ "$free" -ge "$need" ] || { echo "settings_ab.sh: the kernel gave $free huge pages of $need" >&2; exit 2; }
fi
# (huge_pages=on refuses to start rather than fall back to ordinary pages.)
case "$opts_a" in *huge_pages=*) ;; *) opts_a="-c huge_pages=off $opts_a" ;; esac
case "$opts_b" in *huge_pages=*) ;; *) opts_b="-c huge_pages=off $opts_b" ;; esac
ML_PG_OPTS="$opts_a" ML_PGPORT=54341 ml_pg_start "$top/a"
ML_PG_OPTS="$opts_b" ML_PGPORT=54342 ml_pg_start "$top/b"
for side in a:54341 b:54342; do
	echo "== ${side%:*}: $(ml_as_pg "$ML_PGBIN/psql" -X -At -h "$top/${side%:*}" -p "${side#*:}" -U postgres -d scale \
		-c "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM pg_settings
		    WHERE name IN ('huge_pages', 'shared_preload_libraries', 'shared_buffers', 'fsync', 'jit')")"
done
printf 'SELECT 1;\n' >"$top/select1.sql"
chmod 644 "$top/select1.sql"

for k in $(seq 1 "$rounds"); do
	for side in A B; do
		dir=$top/a port=54341
		[ "$side" = A ] || { dir=$top/b port=54342; }
		db="host=$dir port=$port user=postgres dbname=scale"
		echo "== round $k $side $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
		"$B/bench/bench_scale" --db "$db" --cli "$B/cli/meterlab" "${args[@]}" >"$one"
		cat "$one"
		# "  NAME   12.3 ms (  …)  [0.45 ms (…)  ROWS]": each command's whole-process figure.
		awk -v s="$k|$side" 'match($0, /  +[0-9.]+ ms \( *[0-9.]+/) {
			name = substr($0, 3, RSTART - 3); v = substr($0, RSTART, RLENGTH)
			sub(/ ms.*/, "", v); gsub(/ /, "", v); print s "|" name "|" v }
		$0 ~ /^  asset show BARCODE/ { print s "|asset show p50|" $5; print s "|asset show p99|" $8 }
		/process floor:/ { print s "|meterlab --help|" $5; print s "|connect + SELECT 1 (bench_scale)|" $12 }' \
			"$one" >>"$out"
		c=$(ml_as_pg "$ML_PGBIN/pgbench" -h "$dir" -p "$port" -U postgres -n -C -c 1 -t 200 \
			-f "$top/select1.sql" scale 2>/dev/null | sed -n 's/^average connection time = \([0-9.]*\) ms/\1/p')
		echo "  pgbench -C: average connection time $c ms"
		echo "$k|$side|pgbench -C connection|$c" >>"$out"
	done
done

echo "== medians of $rounds rounds, ms (A: ${opts_a:-defaults}; B: ${opts_b:-defaults}); B/A; rounds in which B was lower"
cut -d'|' -f3 "$out" | awk '!seen[$0]++' | while IFS= read -r what; do
	a=$(awk -F'|' -v w="$what" '$2 == "A" && $3 == w { print $4 }' "$out" | sort -g | awk -f "$(dirname "$0")/median.awk")
	b=$(awk -F'|' -v w="$what" '$2 == "B" && $3 == w { print $4 }' "$out" | sort -g | awk -f "$(dirname "$0")/median.awk")
	lower=$(awk -F'|' -v w="$what" '$3 == w { v[$1, $2] = $4; r[$1] = 1 }
		END { for (k in r) if ((k, "A") in v && (k, "B") in v) { n++; if (v[k, "B"] < v[k, "A"]) l++ }
		      printf "%d of %d", l, n }' "$out")
	awk -v w="$what" -v a="$a" -v b="$b" -v l="$lower" \
		'BEGIN { printf "  %-55s A %9.1f  B %9.1f  %.2f  %s\n", w, a, b, (a > 0 ? b / a : 0), l }'
done
