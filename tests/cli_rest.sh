#!/bin/sh
# SPDX-License-Identifier: MIT
# The CLI end to end into a Nightscout over REST (the test server from
# tests/server/): capture delivers through the spool, a second capture
# finds nothing new, and a Nightscout that is down is reported, not hidden.
. "${NSC_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
plan 11

SECRET='rest-test-secret-0123'
start_test_server

export CONNECT_SOURCE=simulator CONNECT_OUTPUT=rest CONNECT_LOOKBACK_HOURS=24 \
	CONNECT_NIGHTSCOUT_ENDPOINT="http://127.0.0.1:$port" CONNECT_API_SECRET="$SECRET" \
	CONNECT_SPOOL_DIR="$SCRATCH/spool"
O=$SCRATCH/out E=$SCRATCH/err

held() { # COLLECTION: how many documents the server holds
	ns_get "$1" |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}

run_nsc "$O" "$E" capture
ok $([ $rc -eq 0 ] && grep -q '^stored: entries=288 ' "$O"; echo $?) "capture over REST stores 24 h of readings (rc=$rc)"
ok $([ "$(held entries)" -eq 288 ]; echo $?) "the server holds the 288 entries"
ok $([ "$(held treatments)" -ge 1 ]; echo $?) "and the treatments"
ok $(grep -q ' devicestatus=1 profile=1 ' "$O" && [ "$(held devicestatus)" -eq 1 ] && [ "$(held profile)" -eq 1 ]; echo $?) "one devicestatus and one profile are stored"
ok $(! grep -q "$SECRET" "$E" "$O"; echo $?) "the API secret appears nowhere in the output"

run_nsc "$O" "$E" capture
ok $({ [ $rc -eq 3 ] || { [ $rc -eq 0 ] && grep -q '^stored: entries=1 ' "$O"; }; }; echo $?) "a second capture starts where Nightscout is (rc=$rc)"
ok $([ "$(held entries)" -le 289 ]; echo $?) "no duplicate entries on the server"
# Nightscout does not de-duplicate these two: the source must not send them again.
ok $([ "$(held profile)" -eq 1 ]; echo $?) "the profile is not posted again"
ok $([ "$(held devicestatus)" -eq $(($(held entries) - 287)) ]; echo $?) "a devicestatus only for a new reading ($(held devicestatus) for $(held entries) entries)"

kill $server
wait $server 2>/dev/null
run_nsc "$O" "$E" --lookback-hours 25 capture
ok $([ $rc -eq 4 ] && grep -q '^not yet delivered: ' "$O"; echo $?) "with Nightscout down, capture says the data waits in the spool (rc=$rc)"
ok $(ls "$SCRATCH/spool" | grep -q '\.batch$'; echo $?) "the undelivered batch is kept on disk"
finish
