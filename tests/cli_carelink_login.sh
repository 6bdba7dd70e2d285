#!/bin/sh
# SPDX-License-Identifier: MIT
# nightscout-connect carelink-login end to end against the CareLink
# simulator: discovery, the SSO configuration, the printed authorize
# address "opened in a browser" (the simulator's /authorize answers the
# redirect a browser would follow), the pasted redirect, the token file
# (mode 0600), and the bridge running on that file; a code pasted twice
# and a wrong state write nothing.
. "${NSC_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
plan 9

O=$SCRATCH/out E=$SCRATCH/err
start_test_server --carelink
export CONNECT_CARELINK_SERVER="http://127.0.0.1:$port" CONNECT_CARELINK_TOKEN_FILE="$SCRATCH/login.json"

# login PASTE-FILTER: runs carelink-login, "opens" the address it prints, pastes what PASTE-FILTER makes of the redirect.
login() {
	rm -f "$SCRATCH/in"
	mkfifo "$SCRATCH/in"
	"$NSC" carelink-login --region eu <"$SCRATCH/in" >"$O" 2>"$E" &
	pid=$!
	exec 3>"$SCRATCH/in"
	i=0
	while [ $i -lt 100 ] && ! grep -q '^https://' "$O"; do sleep 0.05; i=$((i + 1)); done
	auth=$(grep -m1 '^https://' "$O")
	redirect=$(curl -s -o /dev/null -w '%{redirect_url}' "http://127.0.0.1:$port/authorize?${auth#*\?}")
	printf '%s\n' "$redirect" | $1 >&3
	exec 3>&-
	wait $pid
	rc=$?
}

login cat
ok $([ $rc -eq 0 ] && grep -q '^Signed in' "$O"; echo $?) "a pasted redirect signs in (rc=$rc)"
ok $(echo "$auth" | grep -q '^https://carelink-login.minimed.eu/authorize?client_id=CLIENTID&response_type=code' &&
	echo "$auth" | grep -q 'code_challenge_method=S256'; echo $?) "the printed address is CareLink's own, with a PKCE challenge"
ok $([ "$(stat -c %a "$SCRATCH/login.json")" = 600 ]; echo $?) "the token file is readable by its owner only"
ok $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if all(d.get(k) for k in ("access_token","refresh_token","client_id","token_url","audience","scope")) and d["token_url"].endswith("/oauth/token") else 1)' "$SCRATCH/login.json"; echo $?) "it holds the tokens, the client and the token endpoint"
code=$(echo "$redirect" | sed -n 's/.*[?&]code=\([^&]*\).*/\1/p')
ok $([ -n "$code" ] && ! grep -q -- "$code" "$O" "$E"; echo $?) "the code is printed nowhere"

# The bridge runs on the file.
run_nsc "$O" "$E" --source minimedcarelink --output-dir "$SCRATCH/data" capture
ok $([ $rc -eq 0 ] && [ "$(wc -l <"$SCRATCH/data/entries.jsonl")" -gt 200 ]; echo $?) "the bridge reads CareLink with that file (rc=$rc)"

# doctor on that file: one session, the patient the care partner follows, readings.
run_nsc "$SCRATCH/doctor.out" "$SCRATCH/doctor.err" --source minimedcarelink --output-dir "$SCRATCH/doctor-data" doctor
ok $([ $rc -eq 0 ] && grep -q '^ok       login: Medtronic CareLink accepted the login (1 login)$' "$SCRATCH/doctor.out" &&
	grep -q '^ok       selection: care-partner account carer1, reading linked patient patient1 ' "$SCRATCH/doctor.out" &&
	grep -q '^ok       read: [1-9][0-9]* readings' "$SCRATCH/doctor.out" && [ ! -e "$SCRATCH/doctor-data" ]; echo $?) \
	"doctor on the token file passes, names the linked patient, stores nothing (rc=$rc)"
[ $rc -eq 0 ] || sed 's/^/# /' "$SCRATCH/doctor.out"

# The same code again: refused, nothing written.
cp "$SCRATCH/login.json" "$SCRATCH/before.json"
reuse() { sed "s/code=[^&]*/code=$code/"; } # this run's state, the first run's code
login reuse
ok $([ $rc -eq 5 ] && grep -q 'carelink-login' "$E" && cmp -s "$SCRATCH/login.json" "$SCRATCH/before.json"; echo $?) "a code used once is refused and nothing is written (rc=$rc)"
wrong_state() { sed 's/state=[^&]*/state=other/'; }
login wrong_state
ok $([ $rc -eq 5 ] && cmp -s "$SCRATCH/login.json" "$SCRATCH/before.json"; echo $?) "a wrong state is refused and nothing is written (rc=$rc)"
finish
