#!/bin/sh
# SPDX-License-Identifier: MIT
# Each vendor source end to end: `nightscout-connect forever` against the
# standalone vendor simulators (tests/server, a reading every 2 s) into the
# MongoDB output on a real MongoDB-wire server, for more than 10 cycles.
# Every reading the vendor served in that time must be stored exactly once:
# no duplicate, no reading missing from the cadence grid, no reading stored
# twice as new, one login, no error, and no secret in the log.
srcdir=${NSC_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
if [ -z "${NSC_TEST_MONGODB_URI:-}" ]; then
	exec sh "$srcdir/tests/with-mongo.sh" sh "$0" "$@"
fi
. "$srcdir/tests/lib.sh"
plan 14

SERVER=$NSC_BUILDDIR/tests/server/nsc-test-server
PROBE=$NSC_BUILDDIR/tests/nsc-mongo-probe
CADENCE_MS=2000
CYCLES=11 # the first frame and 10 more
USER_NAME='alice@example.com'
PASSWORD='vendor-pass-7Qz!'
base=${NSC_TEST_MONGODB_URI%%\?*}
base=${base%/}

NSC_TEST_VENDOR_USER=$USER_NAME NSC_TEST_VENDOR_PASSWORD=$PASSWORD \
	"$SERVER" --dexcom --linkup --cadence-ms $CADENCE_MS >"$SCRATCH/port" 2>"$SCRATCH/server.log" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$SCRATCH"' EXIT
i=0
while [ $i -lt 50 ] && ! [ -s "$SCRATCH/port" ]; do sleep 0.1; i=$((i + 1)); done
port=$(head -n 1 "$SCRATCH/port")
url="http://127.0.0.1:$port"

# 0 also while the bridge has not created its log yet.
frames_ok() { n=$(grep -c 'event=frame_ok' "$1" 2>/dev/null); echo "${n:-0}"; }

# run_vendor NAME OFFSET_MS ENV...: runs the bridge until CYCLES frames succeeded, then checks MongoDB.
run_vendor() {
	name=$1 offset=$2
	shift 2
	log=$SCRATCH/$name.log uri=$base/nsc_forever_${name}_$$
	env "$@" CONNECT_POLL_INTERVAL=$((CADENCE_MS / 1000)) CONNECT_LOOKBACK_HOURS=1 \
		CONNECT_OUTPUT=mongo MONGODB_URI="$uri" CONNECT_SPOOL_DIR="$SCRATCH/spool-$name" \
		CONNECT_LOG_LEVEL=debug "$NSC" forever >"$log" 2>&1 &
	bridge=$!
	i=0
	while [ $i -lt 240 ] && [ "$(frames_ok "$log")" -lt $CYCLES ]; do sleep 0.5; i=$((i + 1)); done
	kill -TERM $bridge
	wait $bridge
	brc=$?
	frames=$(frames_ok "$log")
	ok $([ "$frames" -ge $CYCLES ] && [ $brc -eq 0 ]; echo $?) "$name: $frames polls succeeded, clean shutdown (rc=$brc)"

	NSC_PROBE_DATES=1 "$PROBE" "$uri" entries $CADENCE_MS >"$SCRATCH/$name.probe" 2>"$SCRATCH/$name.probe-err"
	count=$(sed -n 's/^count=//p' "$SCRATCH/$name.probe")
	distinct=$(sed -n 's/^distinct=//p' "$SCRATCH/$name.probe")
	ok $([ -n "$count" ] && [ "$count" -gt $CYCLES ] && [ "$count" -eq "$distinct" ]; echo $?) \
		"$name: every reading stored once ($count documents, $distinct distinct)"
	# The readings on the vendor's cadence grid, oldest to newest, with none missing.
	missing=$(sed -n 's/^date=//p' "$SCRATCH/$name.probe" | awk -v c=$CADENCE_MS -v o="$offset" '
		($1 - o) % c == 0 { if (prev != "" && $1 - prev != c) miss += ($1 - prev) / c - 1; prev = $1; n++ }
		END { print (n > 0 ? miss + 0 : -1) }')
	ok $([ "$missing" = 0 ]; echo $?) "$name: no reading missing on the ${CADENCE_MS}-ms grid (missing=$missing)"
	# What the MongoDB writer found new, batch by batch (frame_ok counts what the spool accepted).
	stored=$(sed -n 's/.*comp=mongo event=written entries=\([0-9]*\)\/.*/\1/p' "$log" | awk '{ s += $1 } END { print s + 0 }')
	ok $([ "$stored" -eq "$count" ]; echo $?) "$name: no reading was stored as new twice (written as new $stored, MongoDB holds $count)"
	logins=$(grep -c 'comp=session event=session_established' "$log")
	errors=$(grep -c 'level=error' "$log")
	ok $([ "$logins" -eq 1 ] && [ "$errors" -eq 0 ]; echo $?) "$name: one login, no error ($logins logins, $errors errors)"
	ok $(! grep -q "$PASSWORD" "$log"; echo $?) "$name: the password appears nowhere in the debug log"
	logs_parse "$name: every debug-level line parses as key=value" "$log"
	[ $tap_failed -eq 0 ] || tail -20 "$log" | sed 's/^/# /'
	[ -z "${NSC_KEEP_LOGS:-}" ] || cp "$log" "$SCRATCH/$name.probe" "$NSC_KEEP_LOGS/"
}

run_vendor dexcomshare 13817 CONNECT_SOURCE=dexcomshare CONNECT_SHARE_SERVER="$url" \
	CONNECT_SHARE_ACCOUNT_NAME="$USER_NAME" CONNECT_SHARE_PASSWORD="$PASSWORD"

run_vendor linkup 13000 CONNECT_SOURCE=linkup CONNECT_LINK_UP_SERVER="$url" \
	CONNECT_LINK_UP_USERNAME="$USER_NAME" CONNECT_LINK_UP_PASSWORD="$PASSWORD"

finish
