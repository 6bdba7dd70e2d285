#!/bin/sh
# SPDX-License-Identifier: MIT
# forever runs until SIGTERM/SIGINT and shuts down cleanly with its data intact.
. "${NSC_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
plan 6

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
finish
