#!/bin/sh
# The server benchmark (issue 12): asset lookup by barcode through
# `meterlab serve` (GET /api/assets/{barcode} with an API token: a
# transaction that assumes the session in the database, checks asset.read,
# reads the asset, answers JSON, counts and logs), against the smallest
# libmicrohttpd server answering fixed JSON (bench_http_fixed) with the same
# daemon flags and thread count, alternated in one run: wrk -t2 -cCONNS
# -dSECONDS, RUNS runs each; medians of requests/s, p50 and p99, their
# ratio; CPU per request of the server and of PostgreSQL; and the memory
# an idle keep-alive connection costs each server.
#
#   bench/http.sh BUILD_DIR CONNINFO     (CONNINFO: a superuser on a migrated, empty database)
# Environment: HTTP_RUNS (3), HTTP_SECONDS (10), HTTP_CONNS (64), HTTP_THREADS (4), HTTP_IDLE (1000)
set -eu
B=$1
DB=$2
ML="$B/cli/meterlab"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${HTTP_RUNS:-3}
SECS=${HTTP_SECONDS:-10}
CONNS=${HTTP_CONNS:-64}
THREADS=${HTTP_THREADS:-4}
IDLE=${HTTP_IDLE:-1000}
tmp=$(mktemp -d /tmp/meterlab-bench-http.XXXXXX)
srv_pid=""
fix_pid=""
cleanup() {
	[ -z "$srv_pid" ] || kill "$srv_pid" 2>/dev/null || true
	[ -z "$fix_pid" ] || kill "$fix_pid" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
ulimit -n 8192 2>/dev/null || true

# People and data: an administrator who keeps the catalogue and receives
# the demo delivery, a technician whose API token the benchmark uses.
"$ML" --db "$DB" user add bench.admin --name 管理员 --role admin --role warehouse_clerk >/dev/null
"$ML" --db "$DB user=bench.admin" user add bench.tech --name 王检定 --role lab_technician >/dev/null
METERLAB="$ML" sh "$ROOT/samples/catalogue-demo.sh" --db "$DB user=bench.admin" >/dev/null
"$ML" --db "$DB user=bench.admin" asset receive --lot BENCH-HTTP \
	--file "$ROOT/samples/delivery-demo.csv" >/dev/null
token=$("$ML" --db "$DB user=bench.tech" --json user token create --label bench \
	--role lab_technician | sed 's/.*"token":"\([^"]*\)".*/\1/')
barcode=$(sed -n 2p "$ROOT/samples/delivery-demo.csv" | cut -d, -f1)

wait_port() { # file
	i=0
	while [ ! -s "$1" ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i + 1)); done
	cat "$1"
}
"$ML" --db "$DB user=meterlab_service" serve --listen 127.0.0.1:0 --threads "$THREADS" \
	--port-file "$tmp/srv.port" --access-log "$tmp/access.log" 2>"$tmp/srv.err" &
srv_pid=$!
"$B/bench/bench_http_fixed" "$THREADS" "$tmp/fix.port" &
fix_pid=$!
srv_port=$(wait_port "$tmp/srv.port")
fix_port=$(wait_port "$tmp/fix.port")
url_srv="http://127.0.0.1:$srv_port/api/assets/$barcode"
url_fix="http://127.0.0.1:$fix_port/api/assets/$barcode"
auth="Authorization: Bearer $token"
check=$(curl -s -H "$auth" "$url_srv")
case "$check" in *"\"barcode\":\"$barcode\""*) ;; *) echo "bench http: lookup failed: $check" >&2; exit 1 ;; esac

# CPU ticks (utime+stime) of a process, and of every backend of the cluster.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
pgdir=$(echo "$DB" | sed -n 's/.*host=\([^ ]*\).*/\1/p')
pg_ticks() {
	pm=$(head -1 "$pgdir/data/postmaster.pid" 2>/dev/null || echo "")
	[ -n "$pm" ] || { echo 0; return; }
	t=0
	for p in $(pgrep -P "$pm"); do
		v=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
		t=$((t + v))
	done
	echo "$t"
}
hz=$(getconf CLK_TCK)

# wrk's latency figures in ms ("812.00us", "1.23ms", "1.01s").
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); print v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v); print v+0} else if (v ~ /s$/) {sub(/s$/,"",v); print v*1000} else print v}'; }
one() { # name url [header]
	out=$tmp/wrk.$1.$2
	if [ -n "${4:-}" ]; then
		wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -H "$4" "$3" >"$out"
	else
		wrk -t2 -c"$CONNS" -d"${SECS}s" --latency "$3" >"$out"
	fi
	if grep -q "Non-2xx" "$out"; then
		echo "bench http: $1 answered errors:" >&2
		cat "$out" >&2
		exit 1
	fi
	rps=$(awk '/^Requests\/sec/ {print $2}' "$out")
	p50=$(awk '$1 == "50%" {print $2}' "$out" | to_ms)
	p99=$(awk '$1 == "99%" {print $2}' "$out" | to_ms)
	n=$(awk '/requests in/ {print $1}' "$out")
	echo "$rps $p50 $p99 $n" >>"$tmp/$1.runs"
}
median() { sort -g | awk -f "$ROOT/bench/median.awk"; }
col() { awk -v c="$2" '{print $c}' "$tmp/$1.runs" | median; }

load0=$(cut -d' ' -f1-3 /proc/loadavg)
# Warm up both (prepared statements, connection pool, caches).
wrk -t2 -c"$CONNS" -d2s -H "$auth" "$url_srv" >/dev/null
wrk -t2 -c"$CONNS" -d2s "$url_fix" >/dev/null
srv_t0=$(ticks "$srv_pid")
pg_t0=$(pg_ticks)
i=1
while [ $i -le "$RUNS" ]; do
	one fixed $i "$url_fix"
	one meterlab $i "$url_srv" "$auth"
	i=$((i + 1))
done
srv_cpu=$(($(ticks "$srv_pid") - srv_t0))
pg_cpu=$(($(pg_ticks) - pg_t0))
load1=$(cut -d' ' -f1-3 /proc/loadavg)
nreq=$(awk '{s += $4} END {print s}' "$tmp/meterlab.runs")

# Memory per idle connection: RSS with IDLE keep-alive connections open
# (each has made one request) minus RSS before, divided by IDLE.
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
idle_cost() { # pid port path header
	before=$(rss "$1")
	python3 - "$2" "$3" "$IDLE" "$4" <<'PY' >"$tmp/idle.out" &
import socket, sys, time
port, path, n, hdr = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n" % (path, hdr + "\r\n" if hdr else "")).encode()
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(req)
    got = b""
    while b"\r\n\r\n" not in got:
        got += s.recv(65536)
    socks.append(s)
print("ready", flush=True)
time.sleep(3)
PY
	py=$!
	i=0
	while ! grep -q ready "$tmp/idle.out" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	sleep 0.5
	after=$(rss "$1")
	wait $py
	awk -v a="$after" -v b="$before" -v n="$IDLE" 'BEGIN {printf "%.1f", (a - b) / n}'
}
idle_srv=$(idle_cost "$srv_pid" "$srv_port" "/healthz" "")
idle_fix=$(idle_cost "$fix_pid" "$fix_port" "/healthz" "")

srps=$(col meterlab 1); frps=$(col fixed 1)
sp50=$(col meterlab 2); sp99=$(col meterlab 3)
fp50=$(col fixed 2); fp99=$(col fixed 3)
echo "bench http: GET /api/assets/{barcode} with an API token through meterlab serve vs a minimal"
echo "  libmicrohttpd server answering fixed JSON; wrk -t2 -c$CONNS -d${SECS}s, $RUNS runs each,"
echo "  alternated; $THREADS HTTP threads each; $(nproc) cores shared with wrk and PostgreSQL"
printf '  %-36s median %8.0f req/s   p50 %7.2f ms   p99 %7.2f ms   (runs: %s)\n' \
	"minimal libmicrohttpd, fixed JSON" "$frps" "$fp50" "$fp99" "$(awk '{printf "%s ", int($1)}' "$tmp/fixed.runs")"
printf '  %-36s median %8.0f req/s   p50 %7.2f ms   p99 %7.2f ms   (runs: %s)\n' \
	"meterlab serve, asset by barcode" "$srps" "$sp50" "$sp99" "$(awk '{printf "%s ", int($1)}' "$tmp/meterlab.runs")"
awk -v s="$srps" -v f="$frps" 'BEGIN {printf "  ratio meterlab / minimal               %.3f (req/s)\n", s / f}'
awk -v n="$nreq" -v a="$srv_cpu" -v p="$pg_cpu" -v hz="$hz" 'BEGIN {
	printf "  CPU per lookup                         server %.0f us, PostgreSQL %.0f us (all %d requests)\n",
		a * 1e6 / hz / n, p * 1e6 / hz / n, n }'
awk -v r="$srps" -v p="$sp99" 'BEGIN {printf "  goal >= 5000 req/s with p99 < 20 ms:   %s\n", (r >= 5000 && p < 20) ? "met" : "NOT met"}'
echo "  memory per idle keep-alive connection ($IDLE open): meterlab ${idle_srv} KiB, minimal ${idle_fix} KiB"
echo "  load average (1/5/15 min) before: $load0   after: $load1"
