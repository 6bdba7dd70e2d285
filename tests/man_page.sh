#!/bin/sh
# SPDX-License-Identifier: MIT
# The man page nightscout-connect(1) cannot go stale: its SETTINGS section
# lists exactly the rows `nightscout-connect settings` prints, under the
# same headings, in the same order, each with its flag and, for a secret,
# the word Secret; every CONNECT_ or MONGO name anywhere in it is a real
# setting; every command and option of `--help` and every exit status is
# there; and it renders without a warning from groff or man.
. "${NSC_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

PAGE=$NSC_SRCDIR/src/packaging/nightscout-connect.1
for tool in groff man; do
	if ! command -v $tool >/dev/null 2>&1; then
		# run-all.sh fails on a skip: CI always has them (tests/install-deps.sh test).
		echo "1..0 # SKIP $tool is not installed (tests/install-deps.sh test installs it)"
		exit 77
	fi
done
plan 13

"$NSC" settings >"$SCRATCH/settings" 2>&1
"$NSC" --help >"$SCRATCH/help" 2>&1

# The table as the program prints it: "heading|NAME|--flag|secret-or-plain" a row.
awk '
	/^[^ ].*:$/ { h = substr($0, 1, length($0) - 1); next }
	/^  [A-Za-z_][A-Za-z0-9_]* \(--[a-z0-9-]*\)/ {
		flag = $2; gsub(/[()]/, "", flag)
		print h "|" $1 "|" flag "|" (index($0, "[secret;") ? "secret" : "plain")
	}' "$SCRATCH/settings" >"$SCRATCH/table"

# The same rows as a page documents them: in .SH SETTINGS, each .SS is a
# heading and each entry is ".BR NAME \" (\" \-\-flag )", followed by
# ".IR Secret ." for a secret.
page_rows() {
	awk '
		function out() { if (name != "") print h "|" name "|" flag "|" kind; name = "" }
		/^\.SH / { out(); in_s = ($0 == ".SH SETTINGS"); next }
		!in_s { next }
		/^\.SS / { out(); h = substr($0, 5); gsub(/"/, "", h); next }
		/^\.BR [A-Za-z_][A-Za-z0-9_]* " \(" \\-\\-[a-z0-9\\-]* \)$/ {
			out(); name = $2; flag = $5; gsub(/\\/, "", flag); kind = "plain"; fresh = 1; next
		}
		fresh && /^\.IR Secret \.$/ { kind = "secret" }
		{ fresh = 0 }
		END { out() }' "$1"
}

# compare_table PAGE: the page's rows against the program's; the differences to stdout.
compare_table() {
	page_rows "$1" >"$SCRATCH/page_rows"
	diff "$SCRATCH/table" "$SCRATCH/page_rows" | sed -n 's/^[<>] .*/&/p'
}

# unreal_names PAGE: every CONNECT_*, MONGO* or CUSTOMCONNSTR_* name in the
# page's text (comments aside) that is not a setting, nor a secret's
# NAME_FILE, nor a prefix ending in _ that some setting starts with
# (CONNECT_SHARE_*). To stdout.
unreal_names() {
	cut -d'|' -f2 "$SCRATCH/table" >"$SCRATCH/names"
	cut -d'|' -f2,4 "$SCRATCH/table" | sed -n 's/|secret$/_FILE/p' >>"$SCRATCH/names"
	grep -v '^\.\\"' "$1" | grep -o 'CONNECT_[A-Za-z0-9_]*\|MONGO[A-Za-z0-9_]*\|CUSTOMCONNSTR_[A-Za-z0-9_]*' | sort -u |
		while read -r n; do
			case $n in
			*_) grep -q "^$n" "$SCRATCH/names" || echo "$n" ;;
			*) grep -qx "$n" "$SCRATCH/names" || echo "$n" ;;
			esac
		done
}

rows=$(wc -l <"$SCRATCH/table")
ok $([ "$rows" -ge 40 ]; echo $?) "the program lists its settings ($rows)"

d=$(compare_table "$PAGE")
[ -z "$d" ] || echo "$d" | sed 's/^/# /'
ok $([ -z "$d" ]; echo $?) "SETTINGS lists every setting, with its flag and secrecy, grouped and ordered as 'settings' prints them"

u=$(unreal_names "$PAGE")
[ -z "$u" ] || echo "# not settings: $u"
ok $([ -z "$u" ]; echo $?) "every CONNECT_/MONGO name in the page is a setting (or a secret's _FILE)"

# The comparison itself must be able to fail: a page missing one row, or
# naming one that does not exist, is reported.
sed '/^\.BR CONNECT_SHARE_REGION /,/^\.TP$/d' "$PAGE" >"$SCRATCH/short.1"
d=$(compare_table "$SCRATCH/short.1")
ok $(echo "$d" | grep -q '^< .*|CONNECT_SHARE_REGION|'; echo $?) "a page without CONNECT_SHARE_REGION is reported"
sed 's/^\.BR CONNECT_SHARE_PASSWORD " (" \\-\\-share\\-password )$/.BR CONNECT_SHARE_PASSWORD " (" \\-\\-share\\-pass )/' \
	"$PAGE" >"$SCRATCH/flag.1"
d=$(compare_table "$SCRATCH/flag.1")
ok $([ -n "$d" ] && ! cmp -s "$PAGE" "$SCRATCH/flag.1"; echo $?) "a page with a wrong flag is reported"
printf '.SH NOTES\nCONNECT_NO_SUCH_THING and MONGO_NOPE are typos.\n' | cat "$PAGE" - >"$SCRATCH/typo.1"
u=$(unreal_names "$SCRATCH/typo.1")
ok $([ "$(echo $u)" = "CONNECT_NO_SUCH_THING MONGO_NOPE" ]; echo $?) "a page naming settings that do not exist is reported ($(echo $u))"

# Rendered, in ASCII, as man shows it.
LC_ALL=C MANWIDTH=80 man --warnings=w -l "$PAGE" >"$SCRATCH/page.txt" 2>"$SCRATCH/man.err"
mrc=$?
ok $([ $mrc -eq 0 ] && [ ! -s "$SCRATCH/man.err" ]; echo $?) "man -l renders the page without a warning"
[ ! -s "$SCRATCH/man.err" ] || sed 's/^/# /' "$SCRATCH/man.err" | head -10
groff -man -ww -z "$PAGE" >"$SCRATCH/groff.err" 2>&1
grc=$?
ok $([ $grc -eq 0 ] && [ ! -s "$SCRATCH/groff.err" ]; echo $?) "groff -man -ww reports nothing"
[ ! -s "$SCRATCH/groff.err" ] || sed 's/^/# /' "$SCRATCH/groff.err" | head -10
ok $([ "$(wc -l <"$SCRATCH/page.txt")" -gt 100 ] && grep -q '^NAME$' "$SCRATCH/page.txt" &&
	grep -q '^SETTINGS$' "$SCRATCH/page.txt" && grep -q '^ *nightscout-connect  *-  *move  *diabetes' "$SCRATCH/page.txt"
	echo $?) "the page renders to text with NAME and SETTINGS ($(wc -l <"$SCRATCH/page.txt") lines)"
long=$(awk 'length($0) > 80' "$SCRATCH/page.txt" | head -3)
[ -z "$long" ] || echo "$long" | sed 's/^/# too long: /'
ok $([ -z "$long" ]; echo $?) "no rendered line is wider than 80 columns"

# section NAME: the rendered text of one section.
section() { sed -n "/^$1\$/,/^[A-Z][A-Z ]*\$/p" "$SCRATCH/page.txt"; }

# Every command of --help is an entry of COMMANDS; every option of --help
# is in the page too.
commands=$(sed -n '/^Commands:$/,/^$/s/^  \([a-z][a-z-]*\).*/\1/p' "$SCRATCH/help")
section COMMANDS >"$SCRATCH/commands.txt"
missing=""
for c in $commands; do
	grep -q "^       $c\( \|\$\)" "$SCRATCH/commands.txt" || missing="$missing $c"
done
[ -z "$missing" ] || echo "# commands not in COMMANDS:$missing"
ok $([ "$(echo $commands | wc -w)" -ge 6 ] && [ -z "$missing" ]; echo $?) "COMMANDS has every command of --help ($(echo $commands))"
options=$(sed -n '/^Commands:$/,/^Example:$/p' "$SCRATCH/help" | grep -o -- '--[a-z][a-z-]*' | sort -u)
missing=""
for o in $options; do
	grep -q -- "$o" "$SCRATCH/page.txt" || missing="$missing $o"
done
[ -z "$missing" ] || echo "# options not in the page:$missing"
ok $([ -z "$missing" ]; echo $?) "the page has every option of --help ($(echo $options))"

codes=$(sed -n '/^Exit status:$/,$s/^  \([0-9]\)  .*/\1/p' "$SCRATCH/help")
section 'EXIT STATUS' >"$SCRATCH/exit.txt"
missing=""
for c in $codes; do
	grep -q "^       $c " "$SCRATCH/exit.txt" || missing="$missing $c"
done
ok $([ "$(echo $codes | wc -w)" -ge 7 ] && [ -z "$missing" ]; echo $?) "EXIT STATUS has every status of --help ($(echo $codes))"
finish
