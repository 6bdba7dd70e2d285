#!/bin/sh
# SPDX-License-Identifier: MIT
# Nightscout as a source into the MongoDB output (a real MongoDB-wire
# server): a test Nightscout seeded with two days of the simulator is
# mirrored by capture, document for document; a second capture and a
# backfill over the same days store nothing new.
. "${NSC_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
plan 7

PROBE=$NSC_BUILDDIR/tests/nsc-mongo-probe
base=${NSC_TEST_MONGODB_URI%%\?*}
base=${base%/}
URI=$base/nsc_mirror_$$
SECRET='mirror-source-secret-7'
O=$SCRATCH/out E=$SCRATCH/err
start_test_server
src_count() { # COLLECTION: documents the source Nightscout holds
	ns_get "$1" |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}
held() { "$PROBE" "$URI" "$1" | sed -n "s/^$2=//p"; } # COLLECTION KEY
stored() { sed -n "s/^stored:.* $1=\\([0-9]*\\) .*/\\1/p" "$O"; }

# The source: two days of readings, treatments, a devicestatus a day, the profile.
env CONNECT_SOURCE=simulator CONNECT_OUTPUT=rest CONNECT_NIGHTSCOUT_ENDPOINT="http://127.0.0.1:$port" \
	CONNECT_API_SECRET="$SECRET" CONNECT_SPOOL_DIR="$SCRATCH/seed-spool" CONNECT_LOG_LEVEL=warn \
	"$NSC" backfill --since 2d >"$O" 2>"$E"
ok $? "the source Nightscout is seeded ($(src_count entries) entries)"

export CONNECT_SOURCE=nightscout CONNECT_SOURCE_ENDPOINT="http://127.0.0.1:$port" \
	CONNECT_SOURCE_API_SECRET="$SECRET" CONNECT_OUTPUT=mongo MONGODB_URI="$URI" \
	CONNECT_SPOOL_DIR="$SCRATCH/spool" CONNECT_LOOKBACK_HOURS=72
run_nsc "$O" "$E" capture
ok $([ $rc -eq 0 ] && [ "$(stored entries)" -eq "$(src_count entries)" ]; echo $?) "capture copies every entry (rc=$rc, $(stored entries))"
same=0
for c in entries treatments devicestatus profile; do
	want=$(src_count $c)
	[ "$(held $c count)" -eq "$want" ] && [ "$(held $c distinct)" -eq "$want" ] || same=1
done
ok $same "MongoDB holds each collection's documents once, as many as the source"

run_nsc "$O" "$E" capture
ok $([ $rc -eq 3 ] && [ "$(held entries count)" -eq "$(src_count entries)" ]; echo $?) "a second capture stores nothing new (rc=$rc)"
ok $([ "$(held devicestatus count)" -eq "$(src_count devicestatus)" ] && [ "$(held profile count)" -eq 1 ]; echo $?) "no devicestatus or profile twice"

run_nsc "$O" "$E" backfill --since 3d
ok $([ $rc -eq 3 ] && grep -q '^backfill: complete' "$O"; echo $?) "a backfill over the same days finds everything held (rc=$rc)"
ok $([ "$(held entries count)" -eq "$(src_count entries)" ] && [ "$(held treatments count)" -eq "$(src_count treatments)" ]; echo $?) "and MongoDB still holds each document once"
finish
