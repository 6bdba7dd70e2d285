#!/bin/sh
# SPDX-License-Identifier: MIT
# forever runs until SIGTERM/SIGINT and shuts down cleanly with its data intact.
. "${NSC_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
plan 11

export CONNECT_SOURCE=simulator

for sig in TERM INT; do
	D=$SCRATCH/data-$sig
	"$NSC" --output-dir "$D" forever >"$SCRATCH/out" 2>"$SCRATCH/err-$sig" &
	pid=$!
	i=0
	while [ $i -lt 100 ] && ! grep -q event=frame_ok "$SCRATCH/err-$sig" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	ok $(grep -q event=frame_ok "$SCRATCH/err-$sig"; echo $?) "forever stores a first batch (SIG$sig run)"
	kill -s $sig $pid
	i=0
	while [ $i -lt 50 ] && kill -0 $pid 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	wait $pid
	rc=$?
	ok $([ $rc -eq 0 ] && grep -q 'event=shutdown reason=signal' "$SCRATCH/err-$sig"; echo $?) "SIG$sig stops it within 5 s with status 0 (rc=$rc)"
	ok $(python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$D/entries.jsonl"; echo $?) "every stored line is whole JSON after SIG$sig"
done

# The status listener of forever: its one bridge is the tenant "default".
"$NSC" --output-dir "$SCRATCH/data-http" --http-listen 127.0.0.1:0 --simulator-interval 2 --poll-interval 2 \
	--lookback-hours 1 forever >"$SCRATCH/out" 2>"$SCRATCH/err-http" &
pid=$!
i=0
while [ $i -lt 100 ] && ! grep -q event=http_listening "$SCRATCH/err-http"; do sleep 0.1; i=$((i + 1)); done
hport=$(sed -n 's/.*event=http_listening addr=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$SCRATCH/err-http" | head -n 1)
i=0
while [ $i -lt 100 ]; do
	curl -s "http://127.0.0.1:$hport/status" >"$SCRATCH/status.json"
	/usr/bin/python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["tenants"][0]; sys.exit(not (t["name"]=="default" and t["state"]=="ok" and t["polls"]>=2))' \
		"$SCRATCH/status.json" 2>/dev/null && break
	sleep 0.2
	i=$((i + 1))
done
ok $([ $i -lt 100 ]; echo $?) "forever's /status shows its bridge as the tenant default, ok, polling"
curl -s "http://127.0.0.1:$hport/metrics" >"$SCRATCH/metrics.txt"
/usr/bin/python3 "$NSC_SRCDIR/tests/prom_parse.py" "$SCRATCH/metrics.txt" >"$SCRATCH/metrics.parsed"
ok $? "forever's /metrics parses with prometheus_client"
ok $(grep -q '^nsconnect_documents_stored_total{collection="entries",tenant="default"} [1-9]' "$SCRATCH/metrics.parsed"; echo $?) \
	"its stored entries are counted"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$hport/healthz")
ok $([ "$code" = 200 ]; echo $?) "forever's /healthz answers 200 ($code)"
kill -TERM $pid
wait $pid
ok $? "forever with the listener stops cleanly on SIGTERM"
finish
