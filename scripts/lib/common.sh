# Shared by scripts/test, scripts/demo and scripts/bench. Source it; it
# defines functions only.
#   ml_ensure_packages        apt-get install whatever is missing
#   ml_build DIR [cmake args] configure + build
#   ml_pg_start DIR           private PostgreSQL 15 cluster on a Unix socket in DIR
#   ml_pg_stop DIR            stop it by PID (never by name)

ML_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ML_PGBIN=/usr/lib/postgresql/15/bin
ML_PGPORT=54329

ml_log() { printf '==> %s\n' "$*" >&2; }

ml_ensure_packages() {
	local missing=() p
	while read -r p; do
		case "$p" in ''|'#'*) continue ;; esac
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done < "$ML_ROOT/scripts/lib/packages.txt"
	[ ${#missing[@]} -eq 0 ] && return 0
	ml_log "installing missing packages: ${missing[*]}"
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq
	# Through env, not as a prefix of sudo: sudo's env_reset drops the
	# caller's environment, and a debconf prompt would hang a CI run.
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

ml_build() {
	local dir=$1; shift
	ml_log "building in $dir"
	cmake -S "$ML_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
	# The filter must not hide cmake's status: "| grep … || true" followed by
	# PIPESTATUS read the status of `true` and reported every failed build as
	# a success. Under pipefail the pipeline's status is cmake's (the filter's
	# group always succeeds).
	local rc=0
	( set -o pipefail
	  cmake --build "$dir" -j"$(nproc)" 2>&1 | { grep -vE '^\[ *[0-9]+%\]|^-- ' || true; } ) || rc=$?
	[ "$rc" -eq 0 ] || ml_log "build failed in $dir (exit $rc)"
	return "$rc"
}

# Run a command as the postgres user when we are root (PostgreSQL refuses root).
ml_as_pg() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Start a throw-away cluster in DIR (created if missing). Prints nothing;
# sets ML_PG_ADMIN (superuser conninfo over the socket in DIR).
ml_pg_start() {
	local dir=$1
	mkdir -p "$dir"
	[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
	chmod 700 "$dir"
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		ml_as_pg "$ML_PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
	fi
	# Tests only: durability off for speed. Benchmarks start their own cluster with defaults.
	local opts="-c listen_addresses='' -k $dir -p $ML_PGPORT -c max_connections=200 ${ML_PG_OPTS:-}"
	local running=0
	[ -f "$dir/data/postmaster.pid" ] && running=1
	if ! ml_as_pg "$ML_PGBIN/pg_ctl" -D "$dir/data" -o "$opts" -l "$dir/postgres.log" -w -t 60 start >/dev/null; then
		# pg_ctl -w gives up after 60 s, but the postmaster it launched may
		# still be coming up: stop it by PID (not one that was already running).
		[ "$running" -eq 1 ] || ml_pg_stop "$dir"
		ml_log "PostgreSQL did not start in $dir (see $dir/postgres.log)"
		return 1
	fi
	ML_PG_ADMIN="host=$dir port=$ML_PGPORT user=postgres dbname=postgres"
	export ML_PG_ADMIN
}

ml_pg_stop() {
	local dir=$1 pid cwd sig
	[ -f "$dir/data/postmaster.pid" ] || return 0
	pid=$(head -n 1 "$dir/data/postmaster.pid")
	case "$pid" in '' | *[!0-9]*) return 0 ;; esac
	# A pid file left by a crash may name a PID since reused by another
	# process: the postmaster's working directory is its data directory.
	cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null || true)
	[ -z "$cwd" ] || [ "$cwd" = "$(cd "$dir/data" && pwd -P)" ] || return 0
	# INT = fast shutdown (clients are disconnected; TERM, smart shutdown,
	# waits for every client, so a leaked connection ended in a SIGKILL that
	# orphaned the backends), then QUIT = immediate shutdown, KILL last.
	for sig in INT QUIT KILL; do
		kill -"$sig" "$pid" 2>/dev/null || return 0
		for _ in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || return 0
			sleep 0.1
		done
	done
}
