#!/bin/sh
# SPDX-License-Identifier: MIT
# `nightscout-connect doctor` for LibreLinkUp, Glooko and another
# Nightscout, against the simulators of the test server (Dexcom Share is
# tests/cli_doctor.sh's, CareLink tests/cli_carelink_login.sh's). A healthy
# account passes with one login, says whom or what it reads and how many
# readings; a wrong password or API secret is a problem whose fix is the
# lockout guard's, tried once. The filesystem output is never written.
. "${NSC_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
plan 12

USER_NAME='alice@example.com'
PASSWORD='vendor-pass-7Qz!'
SECRET='source-site-secret-42' # the test server's API secret (start_test_server)
export NSC_TEST_VENDOR_USER=$USER_NAME NSC_TEST_VENDOR_PASSWORD=$PASSWORD
start_test_server --log-requests --linkup --glooko
url="http://127.0.0.1:$port"
export CONNECT_OUTPUT_DIR="$SCRATCH/data" CONNECT_SPOOL_DIR="$SCRATCH/spool"

requests() { grep -c "$1" "$SCRATCH/server.log"; }

# LibreLinkUp: one login, the person followed, readings.
run_doctor linkup --source linkup --link-up-server "$url" --link-up-username "$USER_NAME" --link-up-password "$PASSWORD"
ok $([ $rc -eq 0 ] && report_has linkup '^ok       login: LibreLinkUp accepted the login (1 login)$' &&
	[ "$(requests 'POST /llu/auth/login')" -eq 1 ]; echo $?) "LibreLinkUp: a healthy account passes with one login (rc=$rc)"
ok $(report_has linkup '^ok       selection: the account follows 1 person ([0-9a-f-]*); reading patient [0-9a-f-]*$' &&
	report_has linkup '^ok       read: [1-9][0-9]* readings from the last 48 h 0 min'; echo $?) \
	"LibreLinkUp: it names the person followed and counts the readings"

# Glooko: a good sign-in, then a wrong password (one sign-in, no second).
run_doctor glooko --source glooko --glooko-server "$url" --glooko-email "$USER_NAME" --glooko-password "$PASSWORD" \
	--glooko-timezone UTC
ok $([ $rc -eq 0 ] && report_has glooko '^ok       login: Glooko accepted the login (1 login)$' &&
	report_has glooko '^ok       read: [1-9][0-9]* readings from the last 48 h 0 min, .* treatments [1-9]'; echo $?) \
	"Glooko: a healthy account passes and counts readings and treatments (rc=$rc)"
before=$(requests 'POST /api/v2/users/sign_in')
run_doctor glooko-wrong --source glooko --glooko-server "$url" --glooko-email "$USER_NAME" --glooko-password wrong-pass \
	--glooko-timezone UTC
ok $([ $rc -eq 1 ] && report_has glooko-wrong '^problem  login: Glooko rejected the sign-in: check CONNECT_GLOOKO_EMAIL and CONNECT_GLOOKO_PASSWORD' &&
	report_has glooko-wrong 'will not log in again for at least 30 minutes'; echo $?) \
	"Glooko: a wrong password is a problem naming both settings, with the lockout guard's fix (rc=$rc)"
ok $([ $(($(requests 'POST /api/v2/users/sign_in') - before)) -eq 1 ]; echo $?) "Glooko: the wrong password was tried once"
run_doctor glooko-held --source glooko --glooko-server "$url" --glooko-email "$USER_NAME" --glooko-password wrong-pass \
	--glooko-timezone UTC
ok $([ $rc -eq 1 ] && report_has glooko-held '^problem  login: not tried: the login at .* was rejected' &&
	[ $(($(requests 'POST /api/v2/users/sign_in') - before)) -eq 1 ]; echo $?) \
	"Glooko: run_doctor run again does not try the rejected password again"

# Another Nightscout (the test server's own), read with its API secret: three readings posted to it first.
now_ms=$(($(date +%s) * 1000))
body=$(for i in 0 1 2; do printf '{"type":"sgv","sgv":%d,"date":%d,"direction":"Flat"}\n' $((110 + i)) $((now_ms - i * 300000)); done |
	paste -sd, -)
curl -s -o /dev/null -w '%{http_code}' -H "api-secret: $(printf %s "$SECRET" | sha1sum | cut -d' ' -f1)" \
	-H 'Content-Type: application/json' -d "[$body]" "$url/api/v1/entries" >"$SCRATCH/posted"
ok $([ "$(cat "$SCRATCH/posted")" = 200 ]; echo $?) "three readings posted to the test Nightscout ($(cat "$SCRATCH/posted"))"
run_doctor ns --source nightscout --source-endpoint "$url" --source-api-secret "$SECRET"
ok $([ $rc -eq 0 ] && report_has ns '^ok       read: 3 readings from the last 48 h 0 min, the newest at .* (110 mg/dL), [0-9] min old'; echo $?) \
	"Nightscout: the three readings are read, the newest named (rc=$rc)"
ok $(report_has ns "^ok       selection: reads entries, treatments, devicestatus, profile of $url with CONNECT_SOURCE_API_SECRET (sent with each request: the read checks it), over API v1 pages\$"
	echo $?) "Nightscout: it says what it reads, with which credential and over which API"
run_doctor ns-wrong --source nightscout --source-endpoint "$url" --source-api-secret not-the-source-secret
ok $([ $rc -eq 1 ] && report_has ns-wrong '^problem  read: The Nightscout source refused CONNECT_SOURCE_API_SECRET' &&
	report_has ns-wrong 'fix: change the setting the message names'; echo $?) \
	"Nightscout: a wrong API secret is a read problem naming CONNECT_SOURCE_API_SECRET, fixed by changing it (rc=$rc)"

# Nothing stored, nothing secret printed.
ok $([ ! -e "$SCRATCH/data" ]; echo $?) "no run created the output folder"
cat "$SCRATCH"/*.out "$SCRATCH"/*.err >"$SCRATCH/all"
ok $(! grep -q -e "$PASSWORD" -e "$SECRET" -e wrong-pass -e not-the-source-secret "$SCRATCH/all"; echo $?) \
	"no password or secret in doctor's output"
finish
