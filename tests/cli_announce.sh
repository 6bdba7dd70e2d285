#!/bin/sh
# SPDX-License-Identifier: MIT
# CONNECT_ANNOUNCE end to end: `capture --once` against the standalone
# Dexcom Share simulator into the filesystem output. A rejected login
# writes one Announcement treatment, a second run with the same wrong
# password none (the state file in CONNECT_SPOOL_DIR says it stands), the
# fixed password one recovery; a vendor that answers with only an old
# reading (one a day) writes one stale announcement, a run after that
# none, fresh readings one recovery. Without CONNECT_ANNOUNCE, none.
. "${NSC_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"
plan 22

PY=/usr/bin/python3
PASSWORD='dex-Pass-9xQ!'
WRONG='not-Her-Pass-44'
NSC_TEST_VENDOR_USER=alice@example.com NSC_TEST_VENDOR_PASSWORD=$PASSWORD
export NSC_TEST_VENDOR_USER NSC_TEST_VENDOR_PASSWORD
start_test_server --dexcom
url="http://127.0.0.1:$port"
# A second simulator whose sensor gives one reading a day (at midnight UTC): hours old.
"$NSC_BUILDDIR/tests/server/nsc-test-server" --dexcom --cadence-ms 86400000 >"$SCRATCH/port2" 2>"$SCRATCH/server2.log" &
server2=$!
trap 'kill $server $server2 2>/dev/null; rm -rf "$SCRATCH"' EXIT
i=0
while [ $i -lt 50 ] && ! [ -s "$SCRATCH/port2" ]; do sleep 0.1; i=$((i + 1)); done
daily="http://127.0.0.1:$(head -n 1 "$SCRATCH/port2")"

export CONNECT_SOURCE=dexcomshare CONNECT_SHARE_ACCOUNT_NAME=alice@example.com CONNECT_OUTPUT=filesystem

# announcements DIR: how many Announcement treatments DIR/treatments.jsonl holds (each checked whole).
announcements() {
	$PY - "$1/treatments.jsonl" <<'EOF'
import json, sys
n = 0
try:
    lines = open(sys.argv[1]).read().splitlines()
except FileNotFoundError:
    lines = []
for l in lines:
    d = json.loads(l)
    if d.get("eventType") != "Announcement":
        continue
    assert d["isAnnouncement"] is True and d["enteredBy"] == "nightscout-connect", d
    assert d["created_at"].endswith("Z") and len(d["identifier"]) == 36 and d["notes"], d
    n += 1
print(n)
EOF
}
# notes DIR N: the notes of the N-th announcement (1 for the first).
notes() {
	$PY - "$1/treatments.jsonl" "$2" <<'EOF'
import json, sys
docs = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()]
print([d for d in docs if d.get("eventType") == "Announcement"][int(sys.argv[2]) - 1]["notes"])
EOF
}
# capture DIR NAME PASSWORD SERVER [FLAGS...]: one capture --once into DIR, the spool (and state) in DIR-spool.
capture() {
	dir=$1 name=$2 pw=$3 srv=$4
	shift 4
	CONNECT_SHARE_PASSWORD=$pw run_nsc "$SCRATCH/$name.out" "$SCRATCH/$name.err" --output-dir "$dir" \
		--spool-dir "$dir-spool" --share-server "$srv" "$@" capture --once
}

# ---- a rejected login, then fixed ----
R=$SCRATCH/rejected
capture "$R" r1 "$WRONG" "$url" --announce true
ok $([ "$rc" -eq 5 ] && [ "$(announcements "$R")" = 1 ]; echo $?) "a rejected login writes one announcement (rc=$rc, $(announcements "$R"))"
n=$(notes "$R" 1)
echo "# $n"
case $n in *"Dexcom Share"*CONNECT_SHARE_PASSWORD*) r=0 ;; *) r=1 ;; esac
ok $r "it names the vendor and what to fix"
case $n in *"$WRONG"*|*"$PASSWORD"*) r=1 ;; *) r=0 ;; esac
ok $r "it holds no password"
ok $(grep -q 'event=announcement_written state=needs_user source=dexcomshare' "$SCRATCH/r1.err"; echo $?) "the bridge logs it"
ok $(grep -q '"state":"needs_user"' "$R-spool/announce-dexcomshare.json"; echo $?) "the announced state is kept in the spool folder"
capture "$R" r2 "$WRONG" "$url" --announce TRUE
ok $([ "$rc" -eq 5 ] && [ "$(announcements "$R")" = 1 ]; echo $?) "rejected again after a restart: no second announcement ($(announcements "$R"))"
ok $(grep -q 'event=announcement_standing state=needs_user' "$SCRATCH/r2.err" &&
	! grep -q 'event=announcement_written' "$SCRATCH/r2.err"; echo $?) "the restarted bridge knows it stands"
capture "$R" r3 "$PASSWORD" "$url" --announce true
ok $([ "$rc" -eq 0 ] && [ "$(announcements "$R")" = 2 ]; echo $?) "the fixed password writes one recovery (rc=$rc, $(announcements "$R"))"
case $(notes "$R" 2) in *"Dexcom Share reach Nightscout again"*) r=0 ;; *) r=1 ;; esac
ok $r "it says readings flow again"
capture "$R" r4 "$PASSWORD" "$url" --announce true
ok $([ "$rc" -eq 0 ] || [ "$rc" -eq 3 ]; echo $?) "the next capture works (rc=$rc)"
ok $([ "$(announcements "$R")" = 2 ]; echo $?) "and announces nothing ($(announcements "$R"))"
logs_parse "every announcement log line is key=value" "$SCRATCH/r1.err"

# ---- a vendor that answers, with only an old reading ----
S=$SCRATCH/stale
age_s=$(( $(date +%s) % 86400 ))
if [ $age_s -lt 180 ]; then
	sleep $((181 - age_s)) # the day's reading is minutes old just after midnight UTC
fi
capture "$S" s1 "$PASSWORD" "$daily" --announce true --stale-minutes 1
ok $([ "$rc" -eq 0 ] && [ "$(announcements "$S")" = 1 ]; echo $?) "an hours-old newest reading writes one stale announcement (rc=$rc, $(announcements "$S"))"
n=$(notes "$S" 1)
echo "# $n"
case $n in "No new reading from Dexcom Share for "*" minutes, although Dexcom Share answers."*) r=0 ;; *) r=1 ;; esac
ok $r "it says no new reading came although the vendor answers"
ok $(grep -q 'event=announcement_written state=stale source=dexcomshare' "$SCRATCH/s1.err"; echo $?) "the bridge logs it"
capture "$S" s2 "$PASSWORD" "$daily" --announce true --stale-minutes 1
ok $([ "$rc" -eq 3 ] && [ "$(announcements "$S")" = 1 ]; echo $?) "still stale: no repeat (rc=$rc, $(announcements "$S"))"
# A reading every 5 minutes: fresh within 10.
capture "$S" s3 "$PASSWORD" "$url" --announce true --stale-minutes 10
ok $([ "$rc" -eq 0 ] && [ "$(announcements "$S")" = 2 ]; echo $?) "fresh readings: one recovery (rc=$rc, $(announcements "$S"))"
capture "$S" s4 "$PASSWORD" "$url" --announce true --stale-minutes 10
ok $([ "$(announcements "$S")" = 2 ]; echo $?) "and then nothing ($(announcements "$S"))"

# ---- off: the default ----
O=$SCRATCH/off
capture "$O" o1 "$WRONG" "$url"
capture "$O" o2 "$PASSWORD" "$daily" --stale-minutes 1
ok $([ "$(announcements "$O")" = 0 ] && ! [ -e "$O-spool/announce-dexcomshare.json" ]; echo $?) \
	"without CONNECT_ANNOUNCE nothing is announced ($(announcements "$O"))"
ok $(! grep -q 'announce' "$SCRATCH/o1.err" "$SCRATCH/o2.err"; echo $?) "nor logged"

# ---- bad values are refused at start, naming the variable ----
CONNECT_ANNOUNCE=yes run_nsc "$SCRATCH/b1.out" "$SCRATCH/b1.err" --output-dir "$O" capture --once
ok $([ "$rc" -eq 2 ] && grep -q 'CONNECT_ANNOUNCE="yes" is not valid; expected one of false, true' "$SCRATCH/b1.err"; echo $?) \
	"CONNECT_ANNOUNCE=yes is refused (rc=$rc)"
CONNECT_STALE_MINUTES=0 run_nsc "$SCRATCH/b2.out" "$SCRATCH/b2.err" --output-dir "$O" capture --once
ok $([ "$rc" -eq 2 ] && grep -q 'CONNECT_STALE_MINUTES' "$SCRATCH/b2.err"; echo $?) "CONNECT_STALE_MINUTES=0 is refused (rc=$rc)"
finish
