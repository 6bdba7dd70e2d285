#!/bin/sh
# SPDX-License-Identifier: MIT
# README.md documents every setting the program has (every row of the
# settings table, as `nightscout-connect settings` lists them), every source
# of the driver registry, and every exit status.
. "${NSC_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
plan 4

README=$NSC_SRCDIR/README.md
"$NSC" settings >"$SCRATCH/settings" 2>&1
names=$(sed -n 's/^  \([A-Za-z_][A-Za-z0-9_]*\) (--.*/\1/p' "$SCRATCH/settings")
ok $([ "$(echo "$names" | wc -l)" -ge 40 ]; echo $?) "the program lists its settings ($(echo "$names" | wc -l))"
missing=""
for n in $names; do
	grep -q "\`$n\`" "$README" || missing="$missing $n"
done
[ -z "$missing" ] || echo "# undocumented:$missing"
ok $([ -z "$missing" ]; echo $?) "README.md documents every setting"
sources=$(sed -n 's/^.* source (\([a-z]*\)):$/\1/p' "$SCRATCH/settings")
src_missing=""
for s in $sources; do
	grep -q "CONNECT_SOURCE=$s" "$README" || src_missing="$src_missing $s"
done
[ -z "$src_missing" ] || echo "# sources undocumented:$src_missing"
ok $([ "$(echo "$sources" | wc -l)" -ge 6 ] && [ -z "$src_missing" ]; echo $?) "README.md documents every source ($(echo $sources))"
codes_missing=""
for code in 0 1 2 3 4 5 6; do
	grep -Eq "^\| *$code *\|" "$README" || codes_missing="$codes_missing $code"
done
ok $([ -z "$codes_missing" ]; echo $?) "README.md documents every exit status"
finish
