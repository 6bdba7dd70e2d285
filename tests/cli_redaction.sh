#!/bin/sh
# SPDX-License-Identifier: MIT
# A bridge at the most verbose level, given known secrets in every form a
# user can set them, never prints any of them.
. "${NSC_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
plan 14

O=$SCRATCH/out E=$SCRATCH/err
printf 'FilePw-4242-secret\n' >"$SCRATCH/pwfile"

env CONNECT_SOURCE=simulator CONNECT_OUTPUT=filesystem CONNECT_OUTPUT_DIR="$SCRATCH/d" \
	CONNECT_LOG_LEVEL=trace \
	CONNECT_SIMULATOR_USERNAME=alice CONNECT_SIMULATOR_PASSWORD='Sim-Pa55word!' \
	CONNECT_API_SECRET='api-secret-0123456789' \
	CONNECT_NIGHTSCOUT_TOKEN='reader-0123456789abcdef' \
	CONNECT_SHARE_PASSWORD='Share-Pw-987' \
	CONNECT_LINK_UP_PASSWORD_FILE="$SCRATCH/pwfile" \
	MONGODB_URI='mongodb://nsuser:Mongo-Pw-555@127.0.0.1:27017/ns' \
	CONNECT_SOURCE_ENDPOINT='https://ns.example/?token=src-token-abcdef' \
	"$NSC" capture >"$O" 2>"$E"
rc=$?
cat "$O" "$E" >"$SCRATCH/all"

ok $([ $rc -eq 0 ]; echo $?) "the traced run works (rc=$rc)"
ok $(grep -q 'level=trace' "$SCRATCH/all" && grep -q 'event=login_request' "$SCRATCH/all"; echo $?) "trace lines, including the login request, were written"
ok $(grep -q 'CONNECT_SIMULATOR_PASSWORD.*\[redacted\]' "$SCRATCH/all"; echo $?) "settings are logged with secrets shown as [redacted]"
for secret in 'Sim-Pa55word!' 'api-secret-0123456789' 'reader-0123456789abcdef' 'Share-Pw-987' \
	'FilePw-4242-secret' 'Mongo-Pw-555' 'src-token-abcdef'; do
	ok $(! grep -qF -- "$secret" "$SCRATCH/all"; echo $?) "secret ${secret%%-*}… never appears"
done
logs_parse "every trace-level line parses as key=value" "$E"

# The same run with CONNECT_LOG_FORMAT=json: one JSON object a line, the same keys, no secret.
env CONNECT_SOURCE=simulator CONNECT_OUTPUT=filesystem CONNECT_OUTPUT_DIR="$SCRATCH/j" \
	CONNECT_LOG_LEVEL=trace CONNECT_LOG_FORMAT=json \
	CONNECT_SIMULATOR_USERNAME=alice CONNECT_SIMULATOR_PASSWORD='Sim-Pa55word!' \
	"$NSC" capture >"$O" 2>"$E"
rc=$?
ok $([ $rc -eq 0 ]; echo $?) "the traced run with JSON logs works (rc=$rc)"
/usr/bin/python3 -c 'import json,sys
lines=[json.loads(l) for l in open(sys.argv[1])]
assert lines and all({"ts","level","comp"} <= set(x) for x in lines)
assert any(x.get("event")=="login_request" and x["level"]=="trace" for x in lines)' "$E"
ok $? "every log line is a JSON object with ts, level and comp ($(wc -l <"$E") lines)"
ok $(! grep -qF -- 'Sim-Pa55word!' "$E"; echo $?) "the password never appears in the JSON logs"
finish
