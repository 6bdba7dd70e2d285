#!/bin/sh
# SPDX-License-Identifier: MIT
# The embedding API as another program sees it: install the library, its
# header and nsconnect.pc into a staging root, build the example host
# (plugin/example/embed_example.c) with nothing but `pkg-config --cflags
# --libs nsconnect`, and run it on the simulator into a scratch directory.
. "${NSC_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
plan 6

ROOT=$SCRATCH/root
make -s -C "$NSC_BUILDDIR" install-libLTLIBRARIES install-includeHEADERS install-pkgconfigDATA \
	DESTDIR="$ROOT" >"$SCRATCH/install.log" 2>&1
pc=$(find "$ROOT" -name nsconnect.pc | head -n 1)
ok $([ -n "$pc" ] && [ -n "$(find "$ROOT" -name nsconnect.h)" ]; echo $?) "the library, <nsconnect.h> and nsconnect.pc install"

export PKG_CONFIG_SYSROOT_DIR="$ROOT" PKG_CONFIG_PATH="$(dirname "$pc")"
flags=$(pkg-config --cflags --libs nsconnect 2>"$SCRATCH/pc.err")
# The sanitizer build's library needs the same runtime in the program.
${NSC_CC:-cc} -std=c11 -Wall -Wextra -Werror ${NSC_SANITIZE_FLAGS:-} -o "$SCRATCH/embed_example" \
	"$NSC_SRCDIR/plugin/example/embed_example.c" $flags >"$SCRATCH/cc.log" 2>&1
ok $? "the example builds from pkg-config alone ($flags)"

libdir=$(dirname "$(find "$ROOT" -name 'libnsconnect.so' | head -n 1)")
LD_LIBRARY_PATH="$libdir" "$SCRATCH/embed_example" 3 CONNECT_SOURCE=simulator \
	CONNECT_SIMULATOR_INTERVAL=1 CONNECT_LOOKBACK_HOURS=1 CONNECT_OUTPUT=filesystem \
	CONNECT_OUTPUT_DIR="$SCRATCH/out" >"$SCRATCH/out.txt" 2>"$SCRATCH/err.txt"
rc=$?
ok $([ $rc -eq 0 ] && head -n 1 "$SCRATCH/out.txt" | grep -Eq '^batch: entries=3600 treatments=[0-9]+ devicestatus=1 profile=1$'; echo $?) "it runs: a first batch of the hour's 3600 readings, a pump status and the profile (rc=$rc)"
later=$(sed -n '2,$p' "$SCRATCH/out.txt" | grep -c '^batch: entries=[1-9][0-9]* treatments=[0-9]* devicestatus=1 profile=0$')
ok $([ "$later" -ge 1 ] && [ "$later" -eq "$(sed -n '2,$p' "$SCRATCH/out.txt" | grep -c '^batch:')" ]; echo $?) "each later batch: new readings, one pump status, no second profile ($later batches)"
stored=$(sed -n 's/.*stored_entries=\([0-9]*\).*/\1/p' "$SCRATCH/out.txt")
lines=$(wc -l <"$SCRATCH/out/entries.jsonl" 2>/dev/null || echo 0)
ok $([ -n "$stored" ] && [ "$stored" -eq "$lines" ] && [ "$stored" -gt 3600 ]; echo $?) "its status matches what the output holds ($stored reported, $lines stored)"

LD_LIBRARY_PATH="$libdir" "$SCRATCH/embed_example" 1 CONNECT_SOURCE=simulator CONNECT_LOOKBACK_HOURS=0 \
	>"$SCRATCH/out2.txt" 2>"$SCRATCH/err2.txt"
rc=$?
ok $([ $rc -eq 2 ] && grep -q 'CONNECT_LOOKBACK_HOURS' "$SCRATCH/err2.txt"; echo $?) "a bad setting is refused at start, naming it (rc=$rc)"
[ $tap_failed -eq 0 ] || cat "$SCRATCH/install.log" "$SCRATCH/pc.err" "$SCRATCH/cc.log" "$SCRATCH/err.txt" | sed 's/^/# /'
finish
