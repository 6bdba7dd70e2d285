#!/bin/sh
# SPDX-License-Identifier: MIT
# `nightscout-connect serve`: many bridges in one process. Healthy tenants
# (the simulator and Dexcom Share on the standalone test server) run next
# to one tenant of each fault kind: refused settings, a rejected login (the
# simulator's and Dexcom's), a vendor outage, a malformed vendor payload
# and an output outage. Each fault stays with its tenant, /status says so,
# /metrics parses with the real Prometheus parser, and a reload adds,
# removes and restarts single tenants without the others noticing.
# SIGTERM ends it cleanly within the bound the README states.
. "${NSC_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"
plan 36

PY=/usr/bin/python3
PROM=$NSC_SRCDIR/tests/prom_parse.py
DEX_PASSWORD='dex-Pass-9xQ!'
NSC_TEST_VENDOR_USER=alice@example.com NSC_TEST_VENDOR_PASSWORD=$DEX_PASSWORD
export NSC_TEST_VENDOR_USER NSC_TEST_VENDOR_PASSWORD
start_test_server --dexcom --cadence-ms 2000
url="http://127.0.0.1:$port"

# A port nothing listens on: the vendor or output that is down.
closed=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# A vendor whose answers are not JSON (a proxy's error page, say).
cat >"$SCRATCH/garbage.py" <<'EOF'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def answer(self):
        body = b'[{"sgv": 120, "date": '
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = answer
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
EOF
$PY "$SCRATCH/garbage.py" >"$SCRATCH/garbage.port" &
garbage=$!
trap 'kill $server $garbage $serve 2>/dev/null; rm -rf "$SCRATCH"' EXIT
i=0
while [ $i -lt 50 ] && ! [ -s "$SCRATCH/garbage.port" ]; do sleep 0.1; i=$((i + 1)); done
gport=$(head -n 1 "$SCRATCH/garbage.port")

T=$SCRATCH/tenants
mkdir -p "$T"
sim() { # sim NAME [EXTRA LINES]: a simulator tenant polling every 2 s
	name=$1
	shift
	{ printf 'CONNECT_SOURCE=simulator\nCONNECT_SIMULATOR_INTERVAL=2\nCONNECT_POLL_INTERVAL=2\n'
	  for l in "$@"; do printf '%s\n' "$l"; done; } >"$T/$name.env"
}
sim sim-a
sim sim-b 'CONNECT_SIMULATOR_SEED=7'
cat >"$T/dex-ok.env" <<EOF
# a Dexcom Share follower
CONNECT_SOURCE=dexcomshare
CONNECT_SHARE_ACCOUNT_NAME=alice@example.com
CONNECT_SHARE_PASSWORD='$DEX_PASSWORD'
CONNECT_SHARE_SERVER=$url
CONNECT_POLL_INTERVAL=2
EOF
cat >"$T/dex-rejected.env" <<EOF
CONNECT_SOURCE=dexcomshare
CONNECT_SHARE_ACCOUNT_NAME=alice@example.com
CONNECT_SHARE_PASSWORD=not-Her-Pass-44
CONNECT_SHARE_SERVER=$url
EOF
cat >"$T/dex-outage.env" <<EOF
CONNECT_SOURCE=dexcomshare
CONNECT_SHARE_ACCOUNT_NAME=alice@example.com
CONNECT_SHARE_PASSWORD='$DEX_PASSWORD'
CONNECT_SHARE_SERVER=http://127.0.0.1:$closed
EOF
cat >"$T/ns-malformed.env" <<EOF
CONNECT_SOURCE=nightscout
CONNECT_SOURCE_ENDPOINT=http://127.0.0.1:$gport
CONNECT_SOURCE_API_SECRET=source-Secret-123
CONNECT_POLL_INTERVAL=2
EOF
sim rest-outage 'CONNECT_OUTPUT=rest' "CONNECT_NIGHTSCOUT_ENDPOINT=http://127.0.0.1:$closed" \
	'CONNECT_API_SECRET=output-Secret-456'
sim sim-rejected 'CONNECT_SIMULATOR_USERNAME=bob' 'CONNECT_SIMULATOR_PASSWORD=wrong-password'
printf 'CONNECT_SOURCE=dexcomshare\nCONNECT_SHARE_PASSWORD=missing-Account-1\n' >"$T/bad-settings.env"
printf 'CONNECT_SOURCE=simulator\n' >"$T/bad name.env" # not a tenant name: skipped, said
printf 'CONNECT_SOURCE=simulator\n' >"$T/notes.txt"    # not an .env file: ignored

# Process settings: defaults of every tenant, the listener on a free port.
CONNECT_OUTPUT=filesystem CONNECT_OUTPUT_DIR=$SCRATCH/out CONNECT_SPOOL_DIR=$SCRATCH/spool \
	CONNECT_LOOKBACK_HOURS=1 CONNECT_HTTP_LISTEN=127.0.0.1:0 \
	"$NSC" serve --tenants "$T" >"$SCRATCH/serve.out" 2>"$SCRATCH/serve.log" &
serve=$!

i=0
while [ $i -lt 100 ] && ! grep -q 'event=http_listening' "$SCRATCH/serve.log"; do sleep 0.1; i=$((i + 1)); done
hport=$(sed -n 's/.*event=http_listening addr=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$SCRATCH/serve.log" | head -n 1)
ok $([ -n "$hport" ]; echo $?) "the status listener binds loopback (port ${hport:-none})"
H="http://127.0.0.1:$hport"

status() { curl -s "$H/status" >"$SCRATCH/status.json"; }
# field TENANT PYTHON-EXPR: the expression over tenant t (a dict) of the last /status.
field() {
	$PY -c 'import json,sys
d=json.load(open(sys.argv[1]))
t=[x for x in d["tenants"] if x["name"]==sys.argv[2]]
t=t[0] if t else None
print(eval(sys.argv[3]))' "$SCRATCH/status.json" "$1" "$2" 2>/dev/null
}
# wait_for TENANT EXPR: up to 30 s for EXPR to print True.
wait_for() {
	i=0
	while [ $i -lt 60 ]; do
		status
		[ "$(field "$1" "$2")" = True ] && return 0
		sleep 0.5
		i=$((i + 1))
	done
	return 1
}

check "readyz answers 200 once every tenant started" \
	sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' $H/readyz)\" = 200 ]"
check "healthz answers 200 while the loop turns" \
	sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' $H/healthz)\" = 200 ]"

check "sim-a stores readings" wait_for sim-a 't["state"]=="ok" and t["stored"]["entries"]>0'
check "sim-b stores readings" wait_for sim-b 't["state"]=="ok" and t["stored"]["entries"]>0'
check "dex-ok stores readings from Dexcom Share" wait_for dex-ok 't["state"]=="ok" and t["stored"]["entries"]>0'
check "bad-settings is refused, naming the missing setting" \
	wait_for bad-settings 't["state"]=="invalid" and t["last_error"]["class"]=="settings" and "CONNECT_SHARE_ACCOUNT_NAME" in t["last_error"]["message"]'
check "dex-rejected: the rejected login is told, with what to do" \
	wait_for dex-rejected 't["state"]=="rejected" and t["login_rejections"]>=1 and t["last_error"]["class"]=="rejected" and len(t["last_error"]["message"])>10'
check "sim-rejected: rejected too, on its own" wait_for sim-rejected 't["state"]=="rejected"'
check "dex-outage: the vendor outage is a retry failure" \
	wait_for dex-outage 't["state"]=="failing" and t["failures"]["retry"]>=1 and t["consecutive_failures"]>=1'
check "ns-malformed: the malformed payload is counted" \
	wait_for ns-malformed 't["state"]!="ok" and (t["failures"]["drop"]+t["failures"]["retry"])>=1 and t["stored"]["entries"]==0'
check "rest-outage: the output outage fills only its spool" \
	wait_for rest-outage 't["spool"]["batches"]>=1 and t["spool"]["bytes"]>0'
check "the next poll and newest reading are shown" \
	wait_for sim-a 't["next_poll"] is not None and t["newest_reading_age_s"] is not None and t["newest_reading_age_s"]<60'
status
n=$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["tenants"]))' "$SCRATCH/status.json")
ok $([ "$n" = 9 ]; echo $?) "/status lists the 9 tenants, not the badly named file nor notes.txt ($n)"
ok $(grep -q 'event=tenant_skipped file=".*/bad name.env"' "$SCRATCH/serve.log"; echo $?) \
	"a file whose name is not a tenant name is reported"

# The healthy tenants kept their cadence while the others failed.
polls_a=$(field sim-a 't["polls"]')
sleep 5
status
polls_a2=$(field sim-a 't["polls"]')
ok $([ "$polls_a2" -ge $((polls_a + 2)) ]; echo $?) "sim-a keeps polling every 2 s next to failing tenants ($polls_a -> $polls_a2)"
ok $([ "$(field dex-ok 't["state"]')" = ok ]; echo $?) "dex-ok is still ok"
ok $(ls "$SCRATCH/out/sim-a" "$SCRATCH/out/sim-b" >/dev/null 2>&1; echo $?) \
	"each tenant got its own output folder (CONNECT_OUTPUT_DIR/NAME)"

# /metrics through Python's prometheus_client parser.
curl -s -D "$SCRATCH/metrics.h" "$H/metrics" >"$SCRATCH/metrics.txt"
$PY "$PROM" "$SCRATCH/metrics.txt" >"$SCRATCH/metrics.parsed" 2>"$SCRATCH/metrics.err"
ok $? "/metrics parses with prometheus_client ($(wc -l <"$SCRATCH/metrics.parsed") samples)"
ok $(grep -qi '^content-type: text/plain; version=0.0.4' "$SCRATCH/metrics.h"; echo $?) "/metrics has the exposition content type"
sample() { grep -F "$1" "$SCRATCH/metrics.parsed" | head -n 1 | awk '{print $NF}'; }
v=$(sample 'nsconnect_polls_total{tenant="sim-a"}')
ok $([ -n "$v" ] && [ "${v%.*}" -ge 1 ]; echo $?) "polls_total for sim-a ($v)"
v=$(sample 'nsconnect_documents_stored_total{collection="entries",tenant="dex-ok"}')
ok $([ -n "$v" ] && [ "${v%.*}" -ge 1 ]; echo $?) "documents stored per collection for dex-ok ($v)"
v=$(sample 'nsconnect_failures_total{tenant="dex-outage",verdict="retry"}')
ok $([ -n "$v" ] && [ "${v%.*}" -ge 1 ]; echo $?) "failures by verdict for dex-outage ($v)"
v=$(sample 'nsconnect_tenant_state{state="invalid",tenant="bad-settings"}')
ok $([ "$v" = 1.0 ] || [ "$v" = 1 ]; echo $?) "tenant_state shows bad-settings invalid ($v)"
v=$(sample 'process_resident_memory_bytes')
ok $([ -n "$v" ] && [ "${v%.*}" -gt 1000000 ]; echo $?) "process RSS is exported ($v)"
ok $(! grep -qF -e "$DEX_PASSWORD" -e not-Her-Pass-44 -e output-Secret-456 -e source-Secret-123 \
	"$SCRATCH/metrics.txt" "$SCRATCH/status.json"; echo $?) "no secret in /status or /metrics"

# Reload: add, remove, change.
started_b=$(field sim-b 't["started"]')
sim sim-c 'CONNECT_SIMULATOR_SEED=9'
rm "$T/sim-rejected.env"
sim dex-rejected 'CONNECT_SIMULATOR_SEED=3' # the rejected Dexcom tenant becomes a working simulator one
kill -HUP $serve
check "SIGHUP: an added file starts" wait_for sim-c 't["state"]=="ok"'
check "SIGHUP: a removed file stops" wait_for sim-b '[x["name"] for x in d["tenants"]].count("sim-rejected")==0'
check "SIGHUP: a changed file restarts that tenant" wait_for dex-rejected 't["state"]=="ok" and t["source"]=="simulator"'
ok $([ "$(field sim-b 't["started"]')" = "$started_b" ]; echo $?) "the unchanged tenants were not restarted"
# A change without SIGHUP is noticed within a minute.
sim sim-b 'CONNECT_SIMULATOR_SEED=11' 'CONNECT_LOG_LEVEL=debug'
i=0
while [ $i -lt 90 ] && ! grep -q 'tenant=sim-b event=tenant_reload file=".*" reason=changed' "$SCRATCH/serve.log"; do
	sleep 0.5
	i=$((i + 1))
done
ok $([ $i -lt 90 ]; echo $?) "a changed file is noticed without SIGHUP ($((i / 2)) s)"

# Every tenant's lines carry tenant=NAME; no secret anywhere in the log.
ok $(grep 'comp=bridge' "$SCRATCH/serve.log" | grep -vq ' tenant='; [ $? -ne 0 ]; echo $?) "every bridge line names its tenant"
ok $(! grep -qF -e "$DEX_PASSWORD" -e not-Her-Pass-44 -e output-Secret-456 -e source-Secret-123 -e missing-Account-1 \
	"$SCRATCH/serve.log"; echo $?) "no secret in the log"

# Shutdown: SIGTERM ends every tenant within the stated bound (20 s).
t0=$(date +%s)
kill -TERM $serve
wait $serve
src=$?
t1=$(date +%s)
ok $([ $src -eq 0 ] && [ $((t1 - t0)) -le 20 ]; echo $?) "SIGTERM: exit 0 in $((t1 - t0)) s"
ok $(ls "$SCRATCH/spool/rest-outage" | grep -q .; echo $?) "the output outage's batches stay in its spool for the next start"
logs_parse "every log line parses as key=value" "$SCRATCH/serve.log"
finish
