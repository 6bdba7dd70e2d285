#!/bin/sh
# SPDX-License-Identifier: MIT
# `make bench-backfill`: the figures for a 90-day backfill, not a test.
# Seeds the test Nightscout with 90 days of the simulator (5-minute
# readings, treatments, a devicestatus a day, the profile), then backfills
# them from it as a source into the filesystem output, and prints the time,
# the documents and the peak resident memory nightscout-connect reports.
# BENCH_DAYS changes the span.
. "${NSC_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
days=${BENCH_DAYS:-90}
SECRET='bench-backfill-secret-1'
start_test_server
now_s() { date +%s.%N; }
figures() { # LABEL START OUT: one line of figures from a backfill's summary
	end=$(now_s)
	docs=$(sed -n 's/^stored: entries=\([0-9]*\) treatments=\([0-9]*\) devicestatus=\([0-9]*\) profile=\([0-9]*\) .*/\1 \2 \3 \4/p' "$3")
	peak=$(sed -n 's/.* peak memory \([0-9]*\) KiB$/\1/p' "$3")
	set -- "$1" "$2" $docs
	printf '%-44s %6.1f s  entries=%s treatments=%s devicestatus=%s profile=%s  peak RSS %s KiB\n' \
		"$1" "$(echo "$end - $2" | bc)" "$3" "$4" "$5" "$6" "${peak:-?}"
}

echo "backfill of $days days (nsconnect $("$NSC" --version | sed 's/.* //'), $(nproc) cores)"
t=$(now_s)
env CONNECT_SOURCE=simulator CONNECT_OUTPUT=rest CONNECT_NIGHTSCOUT_ENDPOINT="http://127.0.0.1:$port" \
	CONNECT_API_SECRET="$SECRET" CONNECT_SPOOL_DIR="$SCRATCH/spool" CONNECT_LOG_LEVEL=warn \
	"$NSC" backfill --since "${days}d" >"$SCRATCH/seed" 2>"$SCRATCH/seed.err" || { cat "$SCRATCH/seed" "$SCRATCH/seed.err"; exit 1; }
figures "simulator -> Nightscout over REST (1-day pages)" "$t" "$SCRATCH/seed"
t=$(now_s)
env CONNECT_SOURCE=nightscout CONNECT_SOURCE_ENDPOINT="http://127.0.0.1:$port" CONNECT_SOURCE_API_SECRET="$SECRET" \
	CONNECT_OUTPUT=filesystem CONNECT_OUTPUT_DIR="$SCRATCH/files" CONNECT_SPOOL_DIR="$SCRATCH/spool" \
	CONNECT_LOG_LEVEL=warn "$NSC" backfill --since "$((days + 1))d" >"$SCRATCH/mirror" 2>"$SCRATCH/mirror.err" ||
	{ cat "$SCRATCH/mirror" "$SCRATCH/mirror.err"; exit 1; }
figures "Nightscout -> files (7-day pages)" "$t" "$SCRATCH/mirror"
t=$(now_s)
env CONNECT_SOURCE=simulator CONNECT_OUTPUT=filesystem CONNECT_OUTPUT_DIR="$SCRATCH/sim" \
	CONNECT_SPOOL_DIR="$SCRATCH/spool" CONNECT_LOG_LEVEL=warn \
	"$NSC" backfill --since "${days}d" >"$SCRATCH/sim.out" 2>"$SCRATCH/sim.err" || { cat "$SCRATCH/sim.out" "$SCRATCH/sim.err"; exit 1; }
figures "simulator -> files (1-day pages)" "$t" "$SCRATCH/sim.out"
