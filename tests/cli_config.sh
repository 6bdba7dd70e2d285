#!/bin/sh
# SPDX-License-Identifier: MIT
# Configuration errors at start: exit status 2 and a message naming the setting.
. "${NSC_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
plan 23

O=$SCRATCH/out E=$SCRATCH/err

run_nsc "$O" "$E" capture
ok $([ $rc -eq 2 ] && grep -q CONNECT_SOURCE "$E"; echo $?) "missing CONNECT_SOURCE is refused naming it"

expect_missing() { # SOURCE MISSING-VARIABLE [VAR=VALUE ...]
	src=$1 missing=$2
	shift 2
	env CONNECT_SOURCE="$src" "$@" "$NSC" capture >"$O" 2>"$E"
	rc=$?
	ok $([ $rc -eq 2 ] && grep -q "$missing" "$E"; echo $?) "$src without $missing is refused naming it"
}
expect_missing dexcomshare CONNECT_SHARE_ACCOUNT_NAME CONNECT_SHARE_PASSWORD=pw123
expect_missing dexcomshare CONNECT_SHARE_PASSWORD CONNECT_SHARE_ACCOUNT_NAME=me
expect_missing linkup CONNECT_LINK_UP_USERNAME CONNECT_LINK_UP_PASSWORD=pw123
expect_missing linkup CONNECT_LINK_UP_PASSWORD CONNECT_LINK_UP_USERNAME=me@example.com
expect_missing nightscout CONNECT_SOURCE_ENDPOINT
expect_missing glooko CONNECT_GLOOKO_PASSWORD CONNECT_GLOOKO_EMAIL=me@example.com
expect_missing minimedcarelink CONNECT_CARELINK_TOKEN_FILE CONNECT_CARELINK_TOKEN_FILE=/nonexistent/carelink-logindata.json

env CONNECT_SOURCE=dexcomshare "$NSC" capture >"$O" 2>"$E"
rc=$?
ok $([ $rc -eq 2 ] && grep -q "^nightscout-connect: 2 settings need fixing:$" "$E" &&
	grep -q "^nightscout-connect: CONNECT_SHARE_ACCOUNT_NAME is not set; it is required when CONNECT_SOURCE=dexcomshare$" "$E" &&
	grep -q "^nightscout-connect: CONNECT_SHARE_PASSWORD is not set; it is required when CONNECT_SOURCE=dexcomshare" "$E"
	echo $?) "dexcomshare without account and password is refused naming both, one a line"

env CONNECT_SOURCE=linkup CONNECT_LOOKBACK_HOURS=12x CONNECT_LINK_UP_USERNAME=me@example.com \
	"$NSC" capture >"$O" 2>"$E"
rc=$?
ok $([ $rc -eq 2 ] && [ "$(wc -l <"$E")" -eq 3 ] &&
	grep -q '^nightscout-connect: CONNECT_LOOKBACK_HOURS="12x" is not valid' "$E" &&
	grep -q "^nightscout-connect: CONNECT_LINK_UP_PASSWORD is not set" "$E"
	echo $?) "a malformed number and a missing password are both named"

env CONNECT_SOURCE=dexcomshare CONNECT_SHARE_ACCOUNT_NAME=me CONNECT_SHARE_PASSWORD=pw123 \
	CONNECT_SHARE_REGION=mars "$NSC" capture >"$O" 2>"$E"
rc=$?
ok $([ $rc -eq 2 ] && grep -q CONNECT_SHARE_REGION "$E" && grep -q mars "$E"; echo $?) "a bad region is refused naming the variable and the value"

env CONNECT_SOURCE=simulator CONNECT_LOOKBACK_HOURS=12x "$NSC" capture >"$O" 2>"$E"
rc=$?
ok $([ $rc -eq 2 ] && grep -q CONNECT_LOOKBACK_HOURS "$E"; echo $?) "a malformed number is refused"

env CONNECT_SOURCE=simulator "$NSC" --link-up-server 'ftp://x' capture >"$O" 2>"$E"
rc=$?
ok $([ $rc -eq 2 ] && grep -q CONNECT_LINK_UP_SERVER "$E"; echo $?) "a flag is validated like its variable"

env CONNECT_SOURCE=dexcomshare CONNECT_SHARE_ACCOUNT_NAME=me CONNECT_SHARE_PASSWORD_FILE="$SCRATCH/nope" \
	"$NSC" capture >"$O" 2>"$E"
rc=$?
ok $([ $rc -eq 2 ] && grep -q CONNECT_SHARE_PASSWORD_FILE "$E"; echo $?) "an unreadable NAME_FILE is refused naming it"

run_nsc "$O" "$E" --no-such-flag=1 capture
ok $([ $rc -eq 2 ] && grep -q no-such-flag "$E"; echo $?) "an unknown flag is refused"

env CONNECT_SOURCE=simulator CONNECT_OUTPUT_DIR=/dev/null/sub "$NSC" capture >"$O" 2>"$E"
rc=$?
ok $([ $rc -eq 2 ] && grep -q /dev/null/sub "$E"; echo $?) "an output directory that cannot be made is refused naming it"

fails=0
for cmd in "" forever capture settings; do
	"$NSC" $cmd --help >"$O" 2>"$E" && grep -q "Usage: nightscout-connect" "$O" || fails=1
done
ok $fails "--help works for every command"

"$NSC" --version >"$O" 2>"$E"
ok $(grep -q "^nightscout-connect (nsconnect) [0-9]" "$O"; echo $?) "--version prints the version"

"$NSC" settings >"$O" 2>"$E"
ok $(grep -q "CONNECT_SHARE_PASSWORD (--share-password) \[secret; also CONNECT_SHARE_PASSWORD_FILE\]" "$O"; echo $?) "settings lists variables with flags and file forms"
# The status listener's address, and serve's own settings, are refused at start.
env CONNECT_SOURCE=simulator CONNECT_HTTP_LISTEN=status.example.com:9117 "$NSC" forever >"$O" 2>"$E"
rc=$?
ok $([ $rc -eq 2 ] && grep -q 'CONNECT_HTTP_LISTEN' "$E"; echo $?) "forever refuses a host name for CONNECT_HTTP_LISTEN"
mkdir -p "$SCRATCH/tenants"
env CONNECT_HTTP_LISTEN=127.0.0.1:99999 "$NSC" serve --tenants "$SCRATCH/tenants" >"$O" 2>"$E"
rc=$?
ok $([ $rc -eq 2 ] && grep -q 'CONNECT_HTTP_LISTEN' "$E"; echo $?) "serve refuses a bad port for CONNECT_HTTP_LISTEN"
"$NSC" serve >"$O" 2>"$E"
rc=$?
ok $([ $rc -eq 2 ] && grep -q 'CONNECT_TENANTS_DIR' "$E"; echo $?) "serve without a folder names --tenants and CONNECT_TENANTS_DIR"
"$NSC" serve --tenants "$SCRATCH/no-such-folder" >"$O" 2>"$E"
rc=$?
ok $([ $rc -eq 2 ] && grep -q 'no-such-folder' "$E"; echo $?) "serve refuses a folder it cannot read"
finish
