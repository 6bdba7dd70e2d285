#!/bin/sh
# SPDX-License-Identifier: MIT
# capture on the simulator into the filesystem output: counts, newest
# reading, exit statuses, and no duplicates when run again.
. "${NSC_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
plan 20

# stored COLLECTION: the count the last run's summary reports for it.
stored() { sed -n "s/^stored:.* $1=\\([0-9]*\\) .*/\\1/p" "$O"; }

O=$SCRATCH/out E=$SCRATCH/err D=$SCRATCH/data
export CONNECT_SOURCE=simulator CONNECT_OUTPUT_DIR="$D"

run_nsc "$O" "$E" capture
entries=$(sed -n 's/^stored: entries=\([0-9]*\) .*/\1/p' "$O")
ok $([ $rc -eq 0 ]; echo $?) "first capture exits 0 (data stored)"
# 48 hours of 5-minute readings: 576, or 575 depending on where now falls in a slot.
ok $([ "${entries:-0}" -ge 575 ] && [ "${entries:-0}" -le 577 ]; echo $?) "first capture stores 48 h of readings (got ${entries:-none})"
ok $(grep -Eq '^newest reading: 20[0-9-]+T[0-9:]+\.[0-9]{3}Z sgv=[0-9]+ mg/dL direction=[A-Za-z]' "$O"; echo $?) "the newest reading is printed"
lines=$(wc -l <"$D/entries.jsonl")
ok $([ "$lines" -eq "$entries" ]; echo $?) "entries.jsonl holds what was reported ($lines lines)"
ok $([ -s "$D/treatments.jsonl" ]; echo $?) "treatments were stored"
# One pump status for the poll (at the newest reading) and the one profile.
ok $([ "$(stored devicestatus)" = 1 ] && [ "$(wc -l <"$D/devicestatus.jsonl")" -eq 1 ]; echo $?) "one devicestatus stored ($(stored devicestatus))"
ok $([ "$(stored profile)" = 1 ] && [ "$(wc -l <"$D/profile.jsonl")" -eq 1 ]; echo $?) "one profile stored ($(stored profile))"

run_nsc "$O" "$E" capture
second=$(sed -n 's/^stored: entries=\([0-9]*\) .*/\1/p' "$O")
# A new reading may appear if a 5-minute slot passed between the two runs.
ok $({ [ $rc -eq 3 ] && [ "$second" -eq 0 ]; } || { [ $rc -eq 0 ] && [ "$second" -le 1 ]; }; echo $?) "second capture finds no new data (rc=$rc, entries=$second)"
ok $([ "$(stored devicestatus)" = "$second" ]; echo $?) "a devicestatus only with a new reading ($(stored devicestatus))"
ok $([ "$(stored profile)" = 0 ] && [ "$(wc -l <"$D/profile.jsonl")" -eq 1 ]; echo $?) "the profile is not stored again"
for c in entries treatments devicestatus profile; do
	total=$(wc -l <"$D/$c.jsonl")
	uniq=$(count_unique "$D/$c.jsonl")
	ok $([ "$total" -eq "$uniq" ]; echo $?) "no duplicate $c after two runs ($total lines, $uniq identifiers)"
done

# Restart after a gap: remove the newest 10 readings, capture fetches only those.
head -n $((lines - 10)) "$D/entries.jsonl" >"$SCRATCH/trimmed" && mv "$SCRATCH/trimmed" "$D/entries.jsonl"
run_nsc "$O" "$E" capture
refill=$(sed -n 's/^stored: entries=\([0-9]*\) .*/\1/p' "$O")
ok $([ "${refill:-0}" -ge 10 ] && [ "${refill:-0}" -le 11 ]; echo $?) "a restart fetches only the gap (stored ${refill:-none})"
ds=$(stored devicestatus)
ok $([ "$(stored profile)" = 0 ] && [ "${ds:-9}" -le 1 ] && [ "$(count_unique "$D/devicestatus.jsonl")" -eq "$(wc -l <"$D/devicestatus.jsonl")" ]; echo $?) "the refill repeats no devicestatus or profile (devicestatus=$ds)"

run_nsc "$O" "$E" --lookback-hours 2 --output-dir "$SCRATCH/short" capture --once
short=$(sed -n 's/^stored: entries=\([0-9]*\) .*/\1/p' "$O")
ok $([ $rc -eq 0 ] && [ "${short:-0}" -ge 23 ] && [ "${short:-0}" -le 25 ]; echo $?) "flags set the lookback and directory (stored ${short:-none})"
ok $([ "$(stored devicestatus)" = 1 ] && [ "$(stored profile)" = 1 ]; echo $?) "a new directory gets its devicestatus and profile"

env CONNECT_SIMULATOR_USERNAME=alice CONNECT_SIMULATOR_PASSWORD=wrong-password \
	"$NSC" --output-dir "$SCRATCH/rej" capture >"$O" 2>"$E"
rc=$?
ok $([ $rc -eq 5 ] && grep -q CONNECT_SIMULATOR_PASSWORD "$E"; echo $?) "a rejected login exits 5 and says what to fix"

env CONNECT_SIMULATOR_USERNAME=alice CONNECT_SIMULATOR_PASSWORD=right-one \
	"$NSC" --output-dir "$SCRATCH/acc" capture >"$O" 2>"$E"
rc=$?
ok $([ $rc -eq 0 ]; echo $?) "an accepted login stores data"
finish
