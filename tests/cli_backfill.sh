#!/bin/sh
# SPDX-License-Identifier: MIT
# nightscout-connect backfill end to end: 90 days of the simulator into the
# filesystem output (pages, progress, summary, a second run stores nothing),
# 20 days into a Nightscout over REST and that Nightscout backfilled as a
# source into files, document for document, and a Glooko backfill stopped
# by SIGINT that the same command resumes, nothing lost or stored twice.
. "${NSC_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
plan 21

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
# A reading that fell due between the two runs is new (status 0 then); nothing else is.
again=$(stored entries)
ok $({ [ $rc -eq 3 ] && [ "$again" -eq 0 ]; } || { [ $rc -eq 0 ] && [ "$again" -eq 1 ]; } && [ "$(count_unique "$D/entries.jsonl")" -eq "$(wc -l <"$D/entries.jsonl")" ]; echo $?) "run again, it stores nothing new (rc=$rc, entries=$(stored entries))"

run_nsc "$O" "$E" backfill --since tomorrow
ok $([ $rc -eq 2 ] && grep -q -- "--since 'tomorrow' is not a time" "$E"; echo $?) "a time it cannot read is refused, naming the option (rc=$rc)"

# Into a Nightscout over REST (the test server, with the Glooko simulator beside it).
SECRET='backfill-test-secret-42'
start_test_server --glooko
held() { # COLLECTION: the documents the server holds, then how many distinct identifiers
	ns_get "$1" |
		python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d), len({x.get("identifier") or x.get("_id") for x in d}))'
}
export CONNECT_OUTPUT=rest CONNECT_NIGHTSCOUT_ENDPOINT="http://127.0.0.1:$port" CONNECT_API_SECRET="$SECRET"
run_nsc "$O" "$E" backfill --since 2026-01-01T00:00Z --until 2026-01-21T00:00Z
ok $([ $rc -eq 0 ] && grep -q '^backfill: complete, 20 pages read' "$O" && grep -q '^stored: entries=5760 ' "$O"; echo $?) "20 days into a Nightscout over REST, the summary as the server saw it (rc=$rc)"
set -- $(held entries)
ok $([ "$1" -eq 5760 ] && [ "$2" -eq 5760 ]; echo $?) "Nightscout holds every reading of the 20 days once ($1 documents, $2 distinct)"
set -- $(held devicestatus)
ok $([ "$1" -eq 20 ] && [ "$2" -eq 20 ]; echo $?) "and one devicestatus a day, none twice ($1, $2 distinct)"
treatments=$(held treatments)
run_nsc "$O" "$E" backfill --since 2026-01-01T00:00Z --until 2026-01-21T00:00Z
# Nightscout's v1 answer to a treatment POST does not say whether it replaced one, so only entries are counted as held.
ok $({ [ $rc -eq 0 ] || [ $rc -eq 3 ]; } && grep -q '^stored: entries=0 .* devicestatus=0 profile=0 ' "$O" &&
	[ "$(held entries)" = "5760 5760" ] && [ "$(held treatments)" = "$treatments" ]; echo $?) "the same range again adds nothing to Nightscout (rc=$rc)"

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

# Stopped by SIGINT and resumed: Glooko pauses two seconds between its 14-day pages, so a
# signal sent once the first page is read lands before the last of the 5 pages, even on a busy machine.
G=$SCRATCH/glooko
STATE=$SCRATCH/gspool/backfill-glooko.json
# glooko: the backfill as a process of its own (exec), so a signal reaches it and not a shell.
glooko() {
	unset CONNECT_NIGHTSCOUT_ENDPOINT CONNECT_API_SECRET
	export CONNECT_SOURCE=glooko CONNECT_OUTPUT=filesystem CONNECT_OUTPUT_DIR="$G" CONNECT_SPOOL_DIR="$SCRATCH/gspool" \
		CONNECT_GLOOKO_EMAIL=alice@example.com CONNECT_GLOOKO_PASSWORD=correct-pass \
		CONNECT_GLOOKO_SERVER="http://127.0.0.1:$port" CONNECT_GLOOKO_TIMEZONE=UTC
	exec "$NSC" backfill --since 70d
}
# Emptied first: the wait below must not see the progress lines of the run before.
: >"$E"
(glooko) >"$O" 2>"$E" &
nsc=$!
i=0
while [ $i -lt 300 ] && [ "$(grep -c '% read' "$E")" -lt 1 ]; do sleep 0.05; i=$((i + 1)); done
kill -INT $nsc
wait $nsc
rc=$?
read_before=$(sed -n 's/^backfill: not finished, \([0-9]*\) pages read.*/\1/p' "$O")
ok $([ $rc -eq 4 ] && [ "${read_before:-0}" -ge 1 ] && [ "$read_before" -lt 5 ] && grep -q 'run the same command again' "$O"; echo $?) "SIGINT stops it after a page, saying how to go on (rc=$rc, ${read_before:-no} pages read)"
ok $([ -s "$STATE" ]; echo $?) "its progress is kept in $(basename "$STATE")"
(glooko) >"$O" 2>"$E"
rc=$?
ok $([ $rc -eq 0 ] && grep -q '^backfill: resuming ' "$E" && grep -q "^backfill: complete, $((5 - ${read_before:-0})) pages read" "$O"; echo $?) "the same command resumes after that page and completes (rc=$rc)"
lines=$(wc -l <"$G/entries.jsonl")
ok $([ "$lines" -gt 3500 ] && [ "$(count_unique "$G/entries.jsonl")" -eq "$lines" ] && [ "$(count_unique "$G/treatments.jsonl")" -eq "$(wc -l <"$G/treatments.jsonl")" ]; echo $?) "every Glooko reading and treatment is stored once ($lines entries)"
finish
