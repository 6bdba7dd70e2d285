#!/bin/sh
# SPDX-License-Identifier: MIT
# `nightscout-connect doctor` against the Dexcom Share simulator, the test
# Nightscout and a real MongoDB-wire server: a healthy setup passes with
# exit 0 and stores nothing; each broken part (wrong password, wrong
# region, unreachable host, unknown name, bad TLS, token without write
# permission, wrong API secret, unwritable folder) is a problem with its
# fix and exit 1; a rejected login is tried once, then held (no login)
# until a setting changes. Logins are counted on the server's side.
srcdir=${NSC_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
if [ -z "${NSC_TEST_MONGODB_URI:-}" ]; then
	exec sh "$srcdir/tests/with-mongo.sh" sh "$0" "$@"
fi
. "$srcdir/tests/lib.sh"
plan 33

SERVER=$NSC_BUILDDIR/tests/server/nsc-test-server
PROBE=$NSC_BUILDDIR/tests/nsc-mongo-probe
USER_NAME='alice@example.com'
PASSWORD='vendor-pass-9Kd!'
TOKEN='writer-0123456789abcdef'
SECRET='site-secret-for-doctor'
base=${NSC_TEST_MONGODB_URI%%\?*}
base=${base%/}
DB_URI="$base/nsc_doctor_$$"

# serve NAME ARGS...: a test server in the background, its port in $port_NAME.
serve() {
	name=$1
	shift
	"$SERVER" --log-requests "$@" >"$SCRATCH/port-$name" 2>"$SCRATCH/requests-$name" &
	pids="${pids:-} $!"
	i=0
	while [ $i -lt 50 ] && ! [ -s "$SCRATCH/port-$name" ]; do sleep 0.1; i=$((i + 1)); done
	eval "port_$name=\$(head -n 1 \"\$SCRATCH/port-\$name\")"
}
trap 'kill $pids 2>/dev/null; rm -rf "$SCRATCH"' EXIT
NSC_TEST_VENDOR_USER=$USER_NAME NSC_TEST_VENDOR_PASSWORD=$PASSWORD NSC_TEST_API_SECRET=$SECRET \
	serve main --dexcom --token "$TOKEN"
# Another region's server: it does not know the account.
NSC_TEST_VENDOR_USER=bob@example.com NSC_TEST_VENDOR_PASSWORD=other serve other --dexcom
NSC_TEST_API_SECRET=$SECRET serve denied --token "$TOKEN" --deny api:entries:create --deny api:treatments:create

logins() { grep -c 'AuthenticatePublisherAccount' "$SCRATCH/requests-$1"; }

export CONNECT_SOURCE=dexcomshare CONNECT_SHARE_ACCOUNT_NAME=$USER_NAME
export CONNECT_SHARE_SERVER="http://127.0.0.1:$port_main"
export CONNECT_SPOOL_DIR="$SCRATCH/spool" CONNECT_OUTPUT_DIR="$SCRATCH/data"


# A healthy setup, into MongoDB.
CONNECT_SHARE_PASSWORD=$PASSWORD run_doctor healthy --output mongo --mongodb-uri "$DB_URI"
ok $([ $rc -eq 0 ] && ! grep -q '^problem' "$SCRATCH/healthy.out"; echo $?) "a healthy setup passes with exit 0 (rc=$rc)"
[ $rc -eq 0 ] || sed 's/^/# /' "$SCRATCH/healthy.out"
ok $(report_has healthy '^ok       source server: http://127.0.0.1:[0-9]*: name resolves to 127.0.0.1, TCP port [0-9]* open'; echo $?) \
	"it checks DNS and TCP to the source's server"
ok $(report_has healthy '^ok       login: Dexcom Share accepted the login (1 login)'; echo $?) "it logs in once"
ok $([ "$(logins main)" -eq 1 ]; echo $?) "the server saw exactly one login ($(logins main))"
ok $(report_has healthy '^ok       read: [1-9][0-9]* readings from the last .*, the newest at .* old'; echo $?) \
	"it reads data and tells the newest reading's age"
ok $(report_has healthy '^ok       mongodb write: database nsc_doctor_[0-9]* takes writes'; echo $?) "it checks the database takes writes"
ok $(report_has healthy '^warning  mongodb indexes: collection entries has 0 of the [0-9]* indexes'; echo $?) \
	"missing indexes are a warning, not a problem"
"$PROBE" "$DB_URI" entries >"$SCRATCH/probe-entries"
"$PROBE" "$DB_URI" nsconnect_doctor >"$SCRATCH/probe-scratch"
ok $(grep -qx count=0 "$SCRATCH/probe-entries" && grep -qx count=0 "$SCRATCH/probe-scratch"; echo $?) \
	"nothing is stored: no entry, and the scratch collection is gone"
ok $([ ! -e "$SCRATCH/data" ]; echo $?) "no output folder is made"

# Wrong password: one login, a problem naming the settings, then held.
before=$(logins main)
CONNECT_SHARE_PASSWORD=wrong-pass run_doctor wrong
ok $([ $rc -eq 1 ] && report_has wrong '^problem  login: Dexcom Share rejected' && report_has wrong 'CONNECT_SHARE_PASSWORD'; echo $?) \
	"a wrong password is a problem naming CONNECT_SHARE_PASSWORD, exit 1 (rc=$rc)"
ok $(report_has wrong '^         fix: '; echo $?) "the problem says how to fix it"
ok $([ $(($(logins main) - before)) -eq 1 ]; echo $?) "the wrong password was tried once"
before=$(logins main)
CONNECT_SHARE_PASSWORD=wrong-pass run_doctor held
ok $([ $rc -eq 1 ] && report_has held '^problem  login: not tried: the login at .* was rejected .* the next attempt is allowed at .*, in [0-9]* min'; echo $?) \
	"run again, it does not log in and says when the next attempt is allowed"
ok $([ "$(logins main)" -eq "$before" ]; echo $?) "the server saw no login while held"
CONNECT_SHARE_PASSWORD=wrong-pass "$NSC" --output-dir "$SCRATCH/cap" capture >"$SCRATCH/cap.out" 2>"$SCRATCH/cap.err"
crc=$?
ok $([ $crc -eq 5 ] && [ "$(logins main)" -eq "$before" ] && grep -q 'event=login_held' "$SCRATCH/cap.err"; echo $?) \
	"capture honours the hold too: exit 5 without a login (rc=$crc)"
CONNECT_SHARE_PASSWORD=$PASSWORD run_doctor fixed
ok $([ $rc -eq 0 ] && report_has fixed '^ok       login hold: .*settings changed' && [ $(($(logins main) - before)) -eq 1 ]; echo $?) \
	"a changed password lifts the hold at once (rc=$rc)"

# Wrong region: the other region's server does not know the account.
CONNECT_SHARE_PASSWORD=$PASSWORD run_doctor region --share-server "http://127.0.0.1:$port_other"
ok $([ $rc -eq 1 ] && report_has region 'CONNECT_SHARE_REGION'; echo $?) "a wrong region is a problem naming CONNECT_SHARE_REGION"

# Unreachable, unknown and not-TLS servers: no login is tried.
CONNECT_SHARE_PASSWORD=$PASSWORD run_doctor closed --share-server http://127.0.0.1:1
ok $([ $rc -eq 1 ] && report_has closed '^problem  source server: http://127.0.0.1:1: TCP connection to .* fails' && \
	report_has closed 'CONNECT_SHARE_SERVER' && report_has closed '^problem  login: not tried'; echo $?) \
	"an unreachable host is a TCP problem naming CONNECT_SHARE_SERVER, and no login is tried"
CONNECT_SHARE_PASSWORD=$PASSWORD run_doctor dns --share-server https://no-such-host.invalid
ok $([ $rc -eq 1 ] && report_has dns 'DNS cannot resolve the name'; echo $?) "an unknown host name is a DNS problem"
CONNECT_SHARE_PASSWORD=$PASSWORD run_doctor tls --share-server "https://127.0.0.1:$port_main"
ok $([ $rc -eq 1 ] && report_has tls 'TCP connects, the TLS handshake fails'; echo $?) "a server that does not speak TLS is a TLS problem"

# Nightscout as the output.
CONNECT_SHARE_PASSWORD=$PASSWORD run_doctor rest3 --output rest3 --nightscout-endpoint "http://127.0.0.1:$port_main" \
	--nightscout-token "$TOKEN"
ok $([ $rc -eq 0 ] && report_has rest3 '^ok       nightscout permissions: the token.s roles allow writing'; echo $?) \
	"a token that may write passes (rc=$rc)"
ok $(report_has rest3 '^ok       spool folder: '; echo $?) "the spool folder of a remote output is checked"
# A spool an outage filled: batches waiting an hour and one the output refused.
aged=$SCRATCH/spool-aged
mkdir -p "$aged/rejected"
for n in 00000000000000000007 00000000000000000008; do
	printf '{"entries":[],"treatments":[],"devicestatus":[],"profile":[]}\n' >"$aged/$n.batch"
done
touch -d '-65 minutes' "$aged/00000000000000000007.batch"
cp "$aged/00000000000000000008.batch" "$aged/rejected/00000000000000000003.batch"
: >"$aged/.tmp-00000000000000000009"
ls -A "$aged" "$aged/rejected" >"$SCRATCH/aged-before"
CONNECT_SHARE_PASSWORD=$PASSWORD run_doctor aged --output rest3 --nightscout-endpoint "http://127.0.0.1:$port_main" \
	--nightscout-token "$TOKEN" --spool-dir "$aged"
ok $([ $rc -eq 0 ] && report_has aged '^warning  spool: 2 batches ([0-9]* bytes) waiting for the output, the oldest for 6[5-9] min$'; echo $?) \
	"batches waiting over 15 minutes are a warning saying how many and since when (rc=$rc)"
ok $(report_has aged '^warning  spool: 1 batch kept in .*/spool-aged/rejected$'; echo $?) "refused batches kept aside are a warning"
ls -A "$aged" "$aged/rejected" >"$SCRATCH/aged-after"
ok $(cmp -s "$SCRATCH/aged-before" "$SCRATCH/aged-after" && report_has rest3 '^ok       spool: nothing waiting for the output$'
	echo $?) "doctor leaves the spool as it was (even a write in progress) and says an empty one is empty"
CONNECT_SHARE_PASSWORD=$PASSWORD run_doctor denied --output rest3 --nightscout-endpoint "http://127.0.0.1:$port_denied" \
	--nightscout-token "$TOKEN"
ok $([ $rc -eq 1 ] && report_has denied '^problem  nightscout permissions: the token.s roles lack api:entries:create, api:treatments:create$' && \
	report_has denied 'CONNECT_NIGHTSCOUT_TOKEN'; echo $?) "a token without write permission is a problem naming what it lacks"
CONNECT_SHARE_PASSWORD=$PASSWORD run_doctor secret --output rest --nightscout-endpoint "http://127.0.0.1:$port_main" \
	--api-secret not-the-secret
ok $([ $rc -eq 1 ] && report_has secret '^problem  nightscout secret: the site refuses the API secret' && report_has secret 'CONNECT_API_SECRET'; echo $?) \
	"a wrong API secret is a problem naming CONNECT_API_SECRET"
CONNECT_SHARE_PASSWORD=$PASSWORD run_doctor secret-ok --output rest --nightscout-endpoint "http://127.0.0.1:$port_main" \
	--api-secret "$SECRET"
ok $([ $rc -eq 0 ]; echo $?) "the right API secret passes (rc=$rc)"

# An output folder that cannot be made.
: >"$SCRATCH/a-file"
CONNECT_SHARE_PASSWORD=$PASSWORD run_doctor folder --output-dir "$SCRATCH/a-file/data"
ok $([ $rc -eq 1 ] && report_has folder '^problem  output folder: .*a-file/data (CONNECT_OUTPUT_DIR) cannot be created'; echo $?) \
	"an unwritable output folder is a problem naming CONNECT_OUTPUT_DIR"

# Settings refused before anything is tried.
before=$(logins main)
run_doctor refused --share-region mars
ok $([ $rc -eq 1 ] && report_has refused '^problem  settings: .*CONNECT_SHARE_REGION' && [ "$(logins main)" -eq "$before" ]; echo $?) \
	"refused settings are problems naming the variable, with no login"

# Every tenant of a folder.
mkdir "$SCRATCH/tenants"
printf 'CONNECT_SHARE_PASSWORD=%s\n' "$PASSWORD" >"$SCRATCH/tenants/good.env"
printf 'CONNECT_SHARE_PASSWORD=%s\nCONNECT_SHARE_SERVER=http://127.0.0.1:1\n' "$PASSWORD" >"$SCRATCH/tenants/down.env"
"$NSC" doctor --tenants "$SCRATCH/tenants" >"$SCRATCH/tenants.out" 2>"$SCRATCH/tenants.err"
rc=$?
ok $([ $rc -eq 1 ] && report_has tenants '^ok       good: login: ' && report_has tenants '^problem  down: source server: '; echo $?) \
	"--tenants checks each file, each line naming its tenant (rc=$rc)"
[ $rc -eq 1 ] || sed 's/^/# /' "$SCRATCH/tenants.out" "$SCRATCH/tenants.err"

# No secret in anything doctor printed.
cat "$SCRATCH"/*.out "$SCRATCH"/*.err >"$SCRATCH/all-output"
ok $(! grep -q -e "$PASSWORD" -e "$TOKEN" -e "$SECRET" -e wrong-pass -e not-the-secret "$SCRATCH/all-output"; echo $?) \
	"no password, token or secret in doctor's output"
"$NSC" doctor --tenants >/dev/null 2>"$SCRATCH/usage.err"
ok $([ $? -eq 2 ]; echo $?) "doctor --tenants without a folder is a usage error"
finish
