#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs a command with a MongoDB-wire server for the tests.
#
#   with-mongo.sh CMD [ARGS...]        run CMD with a server (see below)
#   with-mongo.sh --own CMD [ARGS...]  always start a private server, even if
#                                      NSC_TEST_MONGODB_URI names one (for
#                                      tests that stop and restart it)
#   with-mongo.sh --stop               stop the server CMD is running with
#                                      (SIGTERM, SIGKILL after 10 s)
#   with-mongo.sh --kill               stop it with SIGKILL (a crash)
#   with-mongo.sh --start              start it again: same port, same data;
#                                      prints the new process id
#
# When NSC_TEST_MONGODB_URI is set, CMD simply runs against that server.
# Otherwise this script builds tests/ferretdb (FerretDB embedded in a small Go
# program, SQLite backend) into a cache directory, starts it on a free
# 127.0.0.1 port with a fresh data directory, runs CMD, stops the server,
# removes its files and exits with CMD's status. CMD sees:
#   NSC_TEST_MONGODB_URI         mongodb://127.0.0.1:PORT/
#   NSC_TEST_MONGODB_SERVER_PID  the server's process id at start
#   NSC_TEST_MONGODB_DATA        its data directory; the directory above it
#                                holds address, pid (current process id), log
#   NSC_TEST_MONGODB_CTL         the absolute path of this script
# The server is shared by everything CMD runs; a test that stops it must
# run under its own server (`--own`) so it does not pull it from under
# other tests running in parallel.
#
# Any failure to provide the server (no Go, build failure, no start within
# 30 s) is reported on stderr with exit status 99: a hard error, never a skip.
#
# Settings: GO (the go command), NSC_FERRETDB_BIN (where the built server is
# cached; default ${XDG_CACHE_HOME:-$HOME/.cache}/nsconnect/ferretdb-test-server),
# NSC_TEST_MONGODB_KEEP=1 keeps the server's files for inspection.

me=with-mongo.sh
here=$(cd "$(dirname "$0")" && pwd) || exit 99
self="$here/with-mongo.sh"
src="$here/ferretdb"

die() {
	echo "$me: $*" >&2
	exit 99
}

now() { date +%s; }

nap() { sleep 0.05 2>/dev/null || sleep 1; }

# running PID: true while the process exists and is not a zombie (a stopped
# server may linger as a zombie child of the shell that started it).
running() {
	[ -n "$1" ] || return 1
	kill -0 "$1" 2>/dev/null || return 1
	case $(ps -o stat= -p "$1" 2>/dev/null) in
	Z*) return 1 ;;
	esac
	return 0
}

# stop_server STATE SIGNAL: stops the server whose pid file is in STATE.
stop_server() {
	pid=$(cat "$1/pid" 2>/dev/null) || return 0
	running "$pid" || return 0
	kill "-$2" "$pid" 2>/dev/null
	deadline=$(($(now) + 10))
	while running "$pid"; do
		if [ "$(now)" -ge "$deadline" ]; then
			echo "$me: server $pid did not stop within 10 s; killing it" >&2
			kill -KILL "$pid" 2>/dev/null
			deadline=$(($(now) + 10))
		fi
		nap
	done
	return 0
}

# start_server STATE LISTEN: starts the binary named in STATE/bin, waits
# until it has written STATE/ready, records its pid in STATE/pid.
# Returns 2 when the address was taken by someone else, 1 on other failures.
start_server() {
	rm -f "$1/ready"
	seen=0
	[ -f "$1/log" ] && seen=$(wc -l <"$1/log")
	# stdout/stderr to the log: an inherited pipe would keep a caller's
	# $(with-mongo.sh --start) waiting for as long as the server runs.
	"$(cat "$1/bin")" -listen "$2" -dir "$1/data" -ready-file "$1/ready" \
		</dev/null >>"$1/log" 2>&1 &
	pid=$!
	echo "$pid" >"$1/pid"
	deadline=$(($(now) + 30))
	while [ ! -s "$1/ready" ]; do
		if ! running "$pid"; then
			tail -n +$((seen + 1)) "$1/log" | grep -q 'address already in use' && return 2
			echo "$me: the MongoDB-wire test server exited at start; its log:" >&2
			tail -n 20 "$1/log" >&2
			return 1
		fi
		if [ "$(now)" -ge "$deadline" ]; then
			echo "$me: the MongoDB-wire test server did not come up within 30 s; its log:" >&2
			tail -n 20 "$1/log" >&2
			kill -KILL "$pid" 2>/dev/null
			return 1
		fi
		nap
	done
	return 0
}

# The state directory of the server CMD runs with (for --stop/--start).
state_of_caller() {
	[ -n "${NSC_TEST_MONGODB_DATA:-}" ] && [ -f "$(dirname "$NSC_TEST_MONGODB_DATA")/address" ] ||
		die "$1: no server started by $me here (NSC_TEST_MONGODB_DATA is not set or stale); run the test under \`$me --own\`"
	dirname "$NSC_TEST_MONGODB_DATA"
}

# Prints the path of an up-to-date server binary, building it if needed.
build_server() {
	for f in main.go go.mod go.sum; do
		[ -r "$src/$f" ] || die "missing $src/$f"
	done
	if [ -n "${NSC_FERRETDB_BIN:-}" ]; then
		bin=$NSC_FERRETDB_BIN
	elif [ -n "${XDG_CACHE_HOME:-}${HOME:-}" ]; then
		bin=${XDG_CACHE_HOME:-$HOME/.cache}/nsconnect/ferretdb-test-server
	else
		bin=${TMPDIR:-/tmp}/nsconnect-$(id -u)/ferretdb-test-server
	fi
	if ! mkdir -p "$(dirname "$bin")" 2>/dev/null; then
		bin=${TMPDIR:-/tmp}/nsconnect-$(id -u)/ferretdb-test-server
		mkdir -p "$(dirname "$bin")" || die "cannot create a directory for $bin"
	fi
	# The binary is reused while the sources' contents match the stamp
	# (contents, not times: tarballs and checkouts shuffle mtimes).
	if command -v sha256sum >/dev/null 2>&1; then
		want=$(cd "$src" && cat main.go go.mod go.sum | sha256sum | cut -d' ' -f1)
	else
		want=$(cd "$src" && cat main.go go.mod go.sum | cksum | tr ' ' -)
	fi
	# Parallel test runs share the cache: one builds, the others wait.
	[ -w "$(dirname "$bin")" ] || die "cannot write to $(dirname "$bin") (set NSC_FERRETDB_BIN)"
	if command -v flock >/dev/null 2>&1; then
		exec 9>"$bin.lock"
		flock 9
	fi
	if [ -x "$bin" ] && [ "$(cat "$bin.stamp" 2>/dev/null)" = "$want" ]; then
		echo "$bin"
		return 0
	fi
	go=${GO:-go}
	command -v "$go" >/dev/null 2>&1 ||
		die "Go is not installed ('$go' not found); it builds the MongoDB-wire test server from $src (install Go >= 1.24, e.g. tests/install-deps.sh test, or set NSC_TEST_MONGODB_URI to a MongoDB server)"
	echo "$me: building the FerretDB test server into $bin (the first build downloads modules and takes a few minutes)" >&2
	# HOME-less environments: Go needs somewhere for its caches.
	if [ -z "${HOME:-}" ] && [ -z "${XDG_CACHE_HOME:-}" ]; then
		export GOCACHE="${GOCACHE:-${TMPDIR:-/tmp}/nsconnect-$(id -u)/go-build}"
		export GOPATH="${GOPATH:-${TMPDIR:-/tmp}/nsconnect-$(id -u)/go}"
	fi
	# -mod=readonly: go.sum is complete, and the source tree may be read-only
	# (distcheck); nothing is written into it. GOWORK=off: no outer workspace.
	# CGO_ENABLED=0: a static, pure-Go binary that needs no C toolchain.
	tmp="$bin.tmp.$$"
	if ! (cd "$src" && CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=readonly "$go" build -trimpath -buildvcs=false -o "$tmp" .) >&2; then
		rm -f "$tmp"
		die "building the FerretDB test server failed (see the go output above; it needs the Go module proxy, $("$go" env GOPROXY 2>/dev/null))"
	fi
	mv -f "$tmp" "$bin" || die "cannot move the built server to $bin"
	echo "$want" >"$bin.stamp.$$" && mv -f "$bin.stamp.$$" "$bin.stamp" || die "cannot write $bin.stamp"
	echo "$bin"
}

case "${1:-}" in
--stop | --kill)
	state=$(state_of_caller "$1") || exit 99
	sig=TERM
	[ "$1" = --kill ] && sig=KILL
	stop_server "$state" "$sig"
	exit 0
	;;
--start)
	state=$(state_of_caller "$1") || exit 99
	pid=$(cat "$state/pid" 2>/dev/null)
	if ! running "$pid"; then
		addr=$(cat "$state/address")
		# The port may be held for a moment by someone else: retry briefly.
		tries=0
		while :; do
			start_server "$state" "$addr"
			rc=$?
			[ "$rc" -eq 0 ] && break
			tries=$((tries + 1))
			[ "$rc" -eq 2 ] && [ "$tries" -lt 50 ] || die "restarting the test server on $addr failed"
			sleep 0.2 2>/dev/null || sleep 1
		done
		[ "$(cat "$state/ready")" = "$addr" ] || die "the restarted server listens on $(cat "$state/ready"), not $addr"
	fi
	cat "$state/pid"
	exit 0
	;;
--own)
	shift
	;;
*)
	if [ -n "${NSC_TEST_MONGODB_URI:-}" ]; then
		[ $# -gt 0 ] || die "usage: $me [--own] CMD [ARGS...] | --stop | --kill | --start"
		exec "$@"
	fi
	;;
esac
[ $# -gt 0 ] || die "usage: $me [--own] CMD [ARGS...] | --stop | --kill | --start"

bin=$(build_server) || exit 99

state=$(mktemp -d "${TMPDIR:-/tmp}/nsc-mongo.XXXXXX") || die "cannot create a temporary directory"
cleanup() {
	stop_server "$state" TERM
	if [ "${NSC_TEST_MONGODB_KEEP:-}" = 1 ]; then
		echo "$me: kept the server's files in $state" >&2
	else
		rm -rf "$state"
	fi
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

echo "$bin" >"$state/bin"
start_server "$state" 127.0.0.1:0 || die "the MongoDB-wire test server did not start"
cp "$state/ready" "$state/address" || die "cannot record the server's address"

NSC_TEST_MONGODB_URI="mongodb://$(cat "$state/address")/"
NSC_TEST_MONGODB_SERVER_PID=$(cat "$state/pid")
NSC_TEST_MONGODB_DATA="$state/data"
NSC_TEST_MONGODB_CTL="$self"
export NSC_TEST_MONGODB_URI NSC_TEST_MONGODB_SERVER_PID NSC_TEST_MONGODB_DATA NSC_TEST_MONGODB_CTL

"$@"
status=$?
if [ "$status" -ne 0 ] && [ -s "$state/log" ]; then
	echo "$me: the command failed (status $status); the test server's log:" >&2
	tail -n 40 "$state/log" >&2
fi
exit "$status"
