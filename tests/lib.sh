# SPDX-License-Identifier: MIT
# Shared helpers for the shell tests: TAP output, a scratch directory, and
# the path of the built CLI. Sourced, not run.

NSC_BUILDDIR=${NSC_BUILDDIR:-$(pwd)}
NSC_SRCDIR=${NSC_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
NSC=${NSC_BUILDDIR}/src/nightscout-connect
tap_n=0
tap_failed=0

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/nsc-test.XXXXXX") || exit 99
trap 'rm -rf "$SCRATCH"' EXIT

# The tests must not see the developer's own settings.
for v in $(env | sed -n 's/^\(CONNECT_[A-Z0-9_]*\)=.*/\1/p; s/^\(MONGODB_URI\|MONGO_[A-Z_]*\|CUSTOMCONNSTR_mongo\)=.*/\1/p'); do
	unset "$v"
done

plan() { echo "1..$1"; }

ok() { # ok CONDITION-STATUS DESCRIPTION
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}

# check DESCRIPTION COMMAND...: one TAP line for a command's success.
check() {
	desc=$1
	shift
	if "$@"; then ok 0 "$desc"; else ok 1 "$desc"; fi
}

# run_nsc OUT ERR ARGS...: runs the CLI, stdout/stderr to files, sets $rc.
run_nsc() {
	out=$1 err=$2
	shift 2
	"$NSC" "$@" >"$out" 2>"$err"
	rc=$?
}

# count_unique FILE: number of distinct identifiers in a JSON-lines file.
count_unique() {
	sed -n 's/.*"identifier":"\([0-9a-f-]*\)".*/\1/p' "$1" | sort -u | wc -l
}

# logs_parse DESCRIPTION FILE: one TAP line: every log line in FILE is key=value.
logs_parse() {
	"$NSC_BUILDDIR/tests/nsc-logcheck" <"$2" >"$SCRATCH/logcheck" 2>&1
	lrc=$?
	ok $lrc "$1 ($(tail -n 1 "$SCRATCH/logcheck"))"
	[ $lrc -eq 0 ] || sed 's/^/# /' "$SCRATCH/logcheck" | head -20
}

finish() { exit $((tap_failed > 0)); }

# run_doctor NAME ARGS...: `nightscout-connect ARGS... doctor`, its report in
# $SCRATCH/NAME.out (stderr in NAME.err), its exit status in $rc; a crash or
# usage error (status above 1) shows both. report_has NAME PATTERN greps the report.
run_doctor() {
	name=$1
	shift
	"$NSC" "$@" doctor >"$SCRATCH/$name.out" 2>"$SCRATCH/$name.err"
	rc=$?
	[ $rc -le 1 ] || sed 's/^/# /' "$SCRATCH/$name.out" "$SCRATCH/$name.err"
}
report_has() { grep -q -- "$2" "$SCRATCH/$1.out"; }

# start_test_server [ARGS...]: starts tests/server/nsc-test-server (its API
# secret $SECRET when set), waits for its port; sets $server and $port.
# It is stopped when the test exits.
start_test_server() {
	if [ -n "${SECRET:-}" ]; then
		NSC_TEST_API_SECRET=$SECRET
		export NSC_TEST_API_SECRET
	fi
	"$NSC_BUILDDIR/tests/server/nsc-test-server" "$@" >"$SCRATCH/port" 2>"$SCRATCH/server.log" &
	server=$!
	trap 'kill $server 2>/dev/null; rm -rf "$SCRATCH"' EXIT
	i=0
	while [ $i -lt 50 ] && ! [ -s "$SCRATCH/port" ]; do sleep 0.1; i=$((i + 1)); done
	port=$(head -n 1 "$SCRATCH/port")
}

# ns_get COLLECTION: the test server's documents of COLLECTION (JSON), read with $SECRET.
ns_get() {
	curl -s -H "api-secret: $(printf %s "$SECRET" | sha1sum | cut -d' ' -f1)" \
		"http://127.0.0.1:$port/api/v1/$1.json?count=100000"
}
