#!/bin/sh
# SPDX-License-Identifier: MIT
# nightscout-connect backfill end to end: 90 days of the simulator into the
# filesystem output (pages, progress, summary, a second run stores nothing),
# a run stopped by SIGINT that the same command resumes, into a Nightscout
# over REST, with nothing lost and nothing stored twice, and that
# Nightscout backfilled as a source into files, document for document.
. "${NSC_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
plan 19

O=$SCRATCH/out E=$SCRATCH/err D=$SCRATCH/data
export CONNECT_SOURCE=simulator CONNECT_OUTPUT_DIR="$D" CONNECT_SPOOL_DIR="$SCRATCH/spool"
stored() { sed -n "s/^stored:.* $1=\\([0-9]*\\) .*/\\1/p" "$O"; }

run_nsc "$O" "$E" backfill --since 90d
entries=$(stored entries)
ok $([ $rc -eq 0 ] && grep -q '^backfill: complete, 90 pages read, 0 skipped' "$O"; echo $?) "90 days read in 90 pages (rc=$rc)"
# 288 readings a day; one more or less depending on where now falls in a slot.
ok $([ "${entries:-0}" -ge 25919 ] && [ "${entries:-0}" -le 25921 ]; echo $?) "every 5-minute reading of 90 days is stored (${entries:-none})"
ok $([ "$(wc -l <"$D/entries.jsonl")" -eq "$entries" ] && [ "$(count_unique "$D/entries.jsonl")" -eq "$entries" ]; echo $?) "entries.jsonl holds them once each"
ok $([ "$(stored devicestatus)" -eq 90 ] && [ "$(stored profile)" -eq 1 ] && [ "$(stored treatments)" -gt 90 ]; echo $?) "treatments, a devicestatus a day and the profile are stored too"
pages=$(grep -c '^backfill: .*% read, [0-9]* documents, reached 20' "$E")
ok $([ "$pages" -eq 90 ]; echo $?) "one progress line per page when stderr is no terminal ($pages)"
ok $(grep -q '^backfill: 100% read, .* documents/s$' "$E" && grep -q '% read, .* documents/s, about .* left$' "$E"; echo $?) "progress says the rate and about how long is left"
ok $(grep -Eq '^backfill: complete, .* peak memory [0-9]+ KiB$' "$O" && grep -Eq '^newest reading: 20[0-9-]+T' "$O"; echo $?) "it ends with capture's summary and the peak memory"
ok $([ ! -e "$SCRATCH/spool/backfill-simulator.json" ]; echo $?) "a complete backfill leaves no progress file"

run_nsc "$O" "$E" backfill --since 90d
ok $([ $rc -eq 3 ] && [ "$(stored entries)" -le 1 ] && [ "$(count_unique "$D/entries.jsonl")" -eq "$(wc -l <"$D/entries.jsonl")" ]; echo $?) "run again, it stores nothing new (rc=$rc, entries=$(stored entries))"

run_nsc "$O" "$E" backfill --since tomorrow
ok $([ $rc -eq 2 ] && grep -q -- "--since 'tomorrow' is not a time" "$E"; echo $?) "a time it cannot read is refused, naming the option (rc=$rc)"

# Stopped and resumed, into a Nightscout that takes a moment per request.
SECRET='backfill-test-secret-42'
start_test_server --latency-ms 150
held() { # COLLECTION: the documents the server holds, then how many distinct identifiers
	ns_get "$1" |
		python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d), len({x.get("identifier") or x.get("_id") for x in d}))'
}
export CONNECT_OUTPUT=rest CONNECT_NIGHTSCOUT_ENDPOINT="http://127.0.0.1:$port" CONNECT_API_SECRET="$SECRET"
STATE=$SCRATCH/spool/backfill-simulator.json
"$NSC" backfill --since 2026-01-01T00:00Z --until 2026-01-21T00:00Z >"$O" 2>"$E" &
nsc=$!
i=0
while [ $i -lt 300 ] && [ "$(grep -c '% read' "$E")" -lt 3 ]; do sleep 0.05; i=$((i + 1)); done
kill -INT $nsc
wait $nsc
rc=$?
first=$(stored entries)
ok $([ $rc -eq 4 ] && grep -q '^backfill: not finished' "$O" && grep -q 'run the same command again' "$O"; echo $?) "SIGINT stops it, saying how to go on (rc=$rc)"
ok $([ -s "$STATE" ] && [ "${first:-0}" -ge 576 ] && [ "${first:-0}" -lt 5760 ]; echo $?) "its progress is kept ($first entries stored)"

run_nsc "$O" "$E" backfill --since 2026-01-01T00:00Z --until 2026-01-21T00:00Z
second=$(stored entries)
dups=$(sed -n 's/^stored:.*(already held, skipped: \([0-9]*\)).*/\1/p' "$O")
ok $([ $rc -eq 0 ] && grep -q '^backfill: resuming ' "$E" && grep -q '^backfill: complete' "$O"; echo $?) "the same command resumes and completes (rc=$rc)"
ok $([ "${dups:-999}" -le 300 ]; echo $?) "it goes on from where it stopped, not from the start (${dups:-none} already held)"
set -- $(held entries)
ok $([ "$1" -eq 5760 ] && [ "$2" -eq 5760 ]; echo $?) "Nightscout holds every reading of the 20 days once ($1 documents, $2 distinct)"
set -- $(held devicestatus)
ok $([ "$1" -eq 20 ] && [ "$2" -eq 20 ]; echo $?) "and one devicestatus a day, none twice ($1, $2 distinct)"

# That Nightscout as the source of another backfill, into files.
ids() { # COLLECTION: the server's identifiers, sorted
	ns_get "$1" |
		python3 -c 'import json,sys; print("\n".join(sorted(x["identifier"] for x in json.load(sys.stdin))))'
}
M=$SCRATCH/mirror
env -u CONNECT_NIGHTSCOUT_ENDPOINT -u CONNECT_API_SECRET CONNECT_SOURCE=nightscout CONNECT_OUTPUT=filesystem \
	CONNECT_OUTPUT_DIR="$M" CONNECT_SOURCE_ENDPOINT="http://127.0.0.1:$port" CONNECT_SOURCE_API_SECRET="$SECRET" \
	"$NSC" backfill --since 2025-12-31 >"$O" 2>"$E"
rc=$?
ok $([ $rc -eq 0 ] && grep -q '^backfill: complete' "$O" && grep -q '^stored: entries=5760 ' "$O"; echo $?) "Nightscout as a source: the 20 days backfilled into files (rc=$rc)"
same=0
for c in entries treatments devicestatus; do
	ids $c >"$SCRATCH/want"
	sed -n 's/.*"identifier":"\([^"]*\)".*/\1/p' "$M/$c.jsonl" | sort >"$SCRATCH/got"
	cmp -s "$SCRATCH/want" "$SCRATCH/got" || same=1
done
ok $same "entries, treatments and devicestatus arrive with the source's identifiers, each once"
ok $(! grep -q "$SECRET" "$E" "$O"; echo $?) "the API secret appears nowhere in the output"
finish
