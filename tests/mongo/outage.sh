#!/bin/sh
# SPDX-License-Identifier: MIT
# MongoDB outages against a real MongoDB-wire server: a bridge runs on the
# simulator (a reading every 10 s) while the server is stopped for several
# cycles, and again while the bridge is killed with SIGKILL during the
# outage. Every reading must end up stored exactly once, with no gap, and
# the spooled batches replayed in the order they were produced.
#
# It stops and starts its server, so it runs under a private one
# (with-mongo.sh --own), never the server other tests share.
srcdir=${NSC_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ -z "${NSC_OUTAGE_OWN_SERVER:-}" ]; then
	NSC_OUTAGE_OWN_SERVER=1 exec sh "$srcdir/tests/with-mongo.sh" --own sh "$0" "$@"
fi
. "$srcdir/tests/lib.sh"
plan 15

PROBE=$NSC_BUILDDIR/tests/nsc-mongo-probe
WITH_MONGO="$NSC_SRCDIR/tests/with-mongo.sh"
base=${NSC_TEST_MONGODB_URI%%\?*}
base=${base%/}
# FerretDB scans a collection for every upsert, so the test keeps it to a
# few hundred readings: one hour at one reading per 10 s.
INTERVAL=10
FIRST=360

# wait_for SECONDS COMMAND...: polls COMMAND every 0.5 s.
wait_for() {
	limit=$(($1 * 2))
	shift
	i=0
	while [ $i -lt $limit ]; do
		"$@" && return 0
		sleep 0.5
		i=$((i + 1))
	done
	return 1
}
probe() { "$PROBE" "$1" entries $((INTERVAL * 1000)) 2>/dev/null | sed -n "s/^$2=//p"; }
probe_other() { "$PROBE" "$1" "$2" 2>/dev/null | sed -n "s/^$3=//p"; } # URI COLLECTION FACT
count_at_least() { [ "$(probe "$1" count)" -ge "$2" ] 2>/dev/null; }
spool_files() { ls "$1" 2>/dev/null | grep -c '\.batch$'; }
spool_empty() { [ "$(spool_files "$1")" -eq 0 ]; }

start_bridge() { # URI SPOOL LOG
	env CONNECT_SOURCE=simulator CONNECT_SIMULATOR_INTERVAL=$INTERVAL CONNECT_LOOKBACK_HOURS=1 \
		CONNECT_OUTPUT=mongo MONGODB_URI="$1" CONNECT_SPOOL_DIR="$2" CONNECT_LOG_LEVEL=debug \
		"$NSC" forever >>"$3" 2>&1 &
	bridge=$!
}

check_stored() { # URI LABEL
	c=$(probe "$1" count) d=$(probe "$1" distinct) g=$(probe "$1" gaps) o=$(probe "$1" out_of_order)
	ok $([ -n "$c" ] && [ "$c" -eq "$d" ]; echo $?) "$2: every reading stored once ($c documents, $d distinct)"
	ok $([ "$g" = 0 ]; echo $?) "$2: no reading missing on the ${INTERVAL}-s grid (gaps=$g)"
	ok $([ "$o" = 0 ]; echo $?) "$2: batches reached MongoDB in the order they were produced (out_of_order=$o)"
	# A pump status per batch and the one profile: replays store neither twice.
	c=$(probe_other "$1" devicestatus count) d=$(probe_other "$1" devicestatus distinct)
	ok $([ -n "$c" ] && [ "$c" -ge 2 ] && [ "$c" -eq "$d" ]; echo $?) "$2: every devicestatus stored once ($c documents, $d distinct)"
	p=$(probe_other "$1" profile count)
	ok $([ "$p" = 1 ]; echo $?) "$2: one profile (profile=$p)"
}

# 1. Server down across several cycles while the bridge keeps running.
URI=$base/nsc_outage_$$
SPOOL=$SCRATCH/spool1
LOG=$SCRATCH/bridge1.log
start_bridge "$URI" "$SPOOL" "$LOG"
ok $(wait_for 120 count_at_least "$URI" $FIRST; echo $?) "the first batch (1 h of readings) is stored"
sh "$WITH_MONGO" --stop
down_at=$(($(date +%s) * 1000))
sleep $((INTERVAL * 4))
spooled=$(spool_files "$SPOOL")
ok $([ "$spooled" -ge 3 ]; echo $?) "batches made during the outage wait in the spool ($spooled files)"
sh "$WITH_MONGO" --start
ok $(wait_for 120 spool_empty "$SPOOL"; echo $?) "the spool is replayed once the server is back"
sleep $((INTERVAL * 2))
kill -TERM $bridge
wait $bridge
check_stored "$URI" "outage"
newest=$(probe "$URI" max_date)
ok $([ "${newest%.*}" -ge $((down_at + INTERVAL * 3000)) ]; echo $?) "readings from during the outage are there"

# 2. Bridge killed with SIGKILL while the spool holds data, then restarted.
URI=$base/nsc_outage_kill_$$
SPOOL=$SCRATCH/spool2
LOG=$SCRATCH/bridge2.log
start_bridge "$URI" "$SPOOL" "$LOG"
wait_for 120 count_at_least "$URI" $FIRST
sh "$WITH_MONGO" --stop
sleep $((INTERVAL * 3))
kill -KILL $bridge
wait $bridge 2>/dev/null
spooled=$(spool_files "$SPOOL")
ok $([ "$spooled" -ge 2 ]; echo $?) "the killed bridge left its batches in the spool ($spooled files)"
sh "$WITH_MONGO" --start
start_bridge "$URI" "$SPOOL" "$LOG"
wait_for 120 spool_empty "$SPOOL"
sleep $((INTERVAL * 2))
kill -TERM $bridge
wait $bridge
check_stored "$URI" "after SIGKILL"
[ $tap_failed -eq 0 ] || tail -40 "$SCRATCH"/bridge*.log | sed 's/^/# /'
finish
