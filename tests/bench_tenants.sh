#!/bin/sh
# SPDX-License-Identifier: MIT
# `make bench-tenants`: the figures for many bridges in one process, not a
# test. For each size N (NSC_BENCH_SIZES, default "1 100 1000 10000") it
# starts the Dexcom Share simulator with N accounts and a reading every
# 30 s (compressed time: the same work per poll as the real 5 minutes),
# writes N tenant files and runs `nightscout-connect serve --tenants DIR`.
# After the warm-up (every tenant polled once, and one cadence more) it
# measures NSC_BENCH_SECONDS (default 90, three cadences) from /proc and
# /metrics, then stops serve with SIGTERM, which must exit 0 within 30 s.
# One table row per size; the target is 10,000 tenants in 256 MB of RSS
# and one core at the real 5-minute cadence.
# NSC_BENCH_READY_TIMEOUT (s, default 600) bounds the start, NSC_BENCH_KEEP=1
# keeps the scratch directory (logs, tenant files, outputs).
. "${NSC_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

sizes=${NSC_BENCH_SIZES:-1 100 1000 10000}
window=${NSC_BENCH_SECONDS:-90}
ready_timeout=${NSC_BENCH_READY_TIMEOUT:-600}
CADENCE_S=30
REAL_CADENCE_S=300
TARGET_TENANTS=10000
TARGET_RSS_MB=256
TARGET_CORES=1
SERVER=$NSC_BUILDDIR/tests/server/nsc-test-server
PY=$SCRATCH/bench.py
sim='' serve=''

die() {
	echo "bench-tenants: $*" >&2
	exit 1
}
# Stops what is still running; keeps the scratch directory when asked.
cleanup() {
	for p in $serve $sim; do kill -KILL "$p" 2>/dev/null; done
	if [ "${NSC_BENCH_KEEP:-0}" = 1 ]; then echo "kept $SCRATCH" >&2; else rm -rf "$SCRATCH"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in python3 bc; do
	command -v $tool >/dev/null 2>&1 || die "needs $tool"
done
[ -x "$NSC" ] || die "no $NSC (build first)"
[ -x "$SERVER" ] || die "no $SERVER (build with libmicrohttpd)"
case $window in '' | *[!0-9]*) die "NSC_BENCH_SECONDS wants whole seconds, got '$window'" ;; esac
[ "$window" -ge $((3 * CADENCE_S)) ] ||
	echo "bench-tenants: NSC_BENCH_SECONDS=$window is under three cadences ($((3 * CADENCE_S)) s): figures are rough" >&2

# Tenants hold files and connections: raise the open files limit as far as allowed
# (past the hard limit when privileged, else up to it).
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=$(cat /proc/sys/fs/nr_open 2>/dev/null || echo 1048576)
ulimit -n "$(cat /proc/sys/fs/nr_open 2>/dev/null || echo "$hard")" 2>/dev/null || ulimit -n "$hard" 2>/dev/null || true
nofile=$(ulimit -n)

# The helper that reads /proc, /metrics and /status and prints the figures.
cat >"$PY" <<'EOF'
import json, os, re, sys, time, urllib.error, urllib.request

def get(url, timeout=30):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode("utf-8", "replace")

LINE = re.compile(r'^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)')
LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')

def metrics(port):
    """The samples of /metrics: a list of (name, {label: value}, float)."""
    _, text = get("http://127.0.0.1:%s/metrics" % port)
    out = []
    for line in text.splitlines():
        m = LINE.match(line)
        if m and not line.startswith("#"):
            out.append((m.group(1), dict(LABEL.findall(m.group(2) or "")), float(m.group(3))))
    return out

def established_inodes():
    inodes = set()
    for f in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(f) as h:
                next(h)
                for row in h:
                    col = row.split()
                    if col[3] == "01":  # ESTABLISHED
                        inodes.add(col[9])
        except OSError:
            pass
    return inodes

def tcp_connections(pid, inodes):
    """Established TCP connections among the open files of pid."""
    n = 0
    d = "/proc/%s/fd" % pid
    for fd in os.listdir(d):
        try:
            link = os.readlink(os.path.join(d, fd))
        except OSError:
            continue
        if link.startswith("socket:[") and link[8:-1] in inodes:
            n += 1
    return n

def status_kb(pid):
    out = {}
    with open("/proc/%s/status" % pid) as h:
        for row in h:
            k, _, v = row.partition(":")
            if k in ("VmRSS", "VmHWM", "Threads"):
                out[k] = int(v.split()[0])
    return out

def cpu_s(pid):
    with open("/proc/%s/stat" % pid) as h:
        f = h.read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime

def snap(pid, port, simpid):
    m = metrics(port)
    inodes = established_inodes()
    s = {"t": time.monotonic(), "cpu": cpu_s(pid), "polls": {}, "buckets": {}, "count": 0, "sum": 0,
         "conns": tcp_connections(pid, inodes), "simconns": tcp_connections(simpid, inodes),
         "fds": len(os.listdir("/proc/%s/fd" % pid))}
    s.update(status_kb(pid))
    for name, labels, v in m:
        if name == "nsconnect_polls_total":
            s["polls"][labels.get("tenant", "")] = v
        elif name == "nsconnect_reading_delay_seconds_bucket":
            s["buckets"][labels["le"]] = v
        elif name == "nsconnect_reading_delay_seconds_count":
            s["count"] = v
        elif name == "nsconnect_reading_delay_seconds_sum":
            s["sum"] = v
    return s

def quantile(q, buckets):
    """Bucket-interpolated quantile of a cumulative histogram {le: count} (None when empty)."""
    rows = sorted((float("inf") if le in ("+Inf", "Inf") else float(le), c) for le, c in buckets.items())
    if not rows or rows[-1][1] <= 0:
        return None
    rank = q * rows[-1][1]
    lo, below = 0.0, 0.0
    for le, c in rows:
        if c >= rank:
            if le == float("inf"):
                return lo  # beyond the last finite bound: report that bound
            return lo + (le - lo) * ((rank - below) / (c - below) if c > below else 0.0)
        lo, below = le, c
    return lo

def polled(port):
    """Tenants that polled at least once, and all tenants /metrics lists."""
    polls = [v for name, _, v in metrics(port) if name == "nsconnect_polls_total"]
    return sum(1 for v in polls if v >= 1), len(polls)

def row(n, s0, s1, ready_s, stop):
    dt = s1["t"] - s0["t"]
    polls = sum(s1["polls"].values()) - sum(s0["polls"].values())
    idle = sum(1 for k, v in s1["polls"].items() if v <= s0["polls"].get(k, 0))
    cpu_ms = (s1["cpu"] - s0["cpu"]) * 1000.0
    per_poll = cpu_ms / polls if polls else float("nan")
    cores = per_poll / 1000.0 * n / REAL_CADENCE if polls else float("nan")
    delta = {le: c - s0["buckets"].get(le, 0) for le, c in s1["buckets"].items()}
    p50, p99 = quantile(0.5, delta), quantile(0.99, delta)
    peak_mb = s1["VmHWM"] / 1024.0
    rss_per = s1["VmRSS"] / n
    fits = peak_mb <= TARGET_RSS_MB and cores <= TARGET_CORES
    fmt = lambda v: "n/a" if v is None else "%.2f" % v
    print("%7d %7.1f %8.1f %8.1f %8.2f %8.3f %7.2f %8s %8s %6d %6d %6d %5d %6s %s" % (
        n, ready_s, peak_mb, rss_per, per_poll, cores, polls / dt, fmt(p50), fmt(p99), s1["conns"],
        s1["simconns"], s1["fds"], s1["Threads"], stop, "yes" if fits else "NO"))
    notes = []
    if idle:
        notes.append("%d of %d tenants did not poll in the window" % (idle, len(s1["polls"])))
    if len(s1["polls"]) != n:
        notes.append("/metrics lists %d tenants, not %d" % (len(s1["polls"]), n))
    if not delta:
        notes.append("no nsconnect_reading_delay_seconds histogram on /metrics")
    for text in notes:
        print("        note: " + text)
    return {"n": n, "rss_kb": s1["VmRSS"], "peak_kb": s1["VmHWM"], "per_poll_ms": per_poll}

def status_summary(port):
    _, text = get("http://127.0.0.1:%s/status" % port)
    st = json.loads(text)
    states = {}
    fresh = 0
    for t in st.get("tenants", []):
        states[t.get("state")] = states.get(t.get("state"), 0) + 1
        if t.get("newest_reading") is not None:
            fresh += 1
    return "ready=%s states=%s with a reading=%d" % (
        st.get("ready"), ",".join("%s:%d" % kv for kv in sorted(states.items(), key=str)), fresh)

def projection(results):
    """The two largest sizes' marginal RSS, extended to TARGET_TENANTS."""
    rs = sorted(results, key=lambda r: r["n"])
    big = rs[-1]
    cores = big["per_poll_ms"] / 1000.0 * TARGET_TENANTS / REAL_CADENCE
    if big["n"] >= TARGET_TENANTS:
        return None
    if len(rs) < 2:
        return "projected to %d tenants: %.3f cores at 5 min (RSS needs two sizes)" % (TARGET_TENANTS, cores)
    small = rs[-2]
    per = (big["rss_kb"] - small["rss_kb"]) / (big["n"] - small["n"])
    mb = (big["rss_kb"] + per * (TARGET_TENANTS - big["n"])) / 1024.0
    return ("projected to %d tenants from %d and %d: %.0f MB RSS (%.1f KB a tenant more), %.3f cores"
            " at 5 min: %s" % (TARGET_TENANTS, small["n"], big["n"], mb, per, cores,
                               "meets the target" if mb <= TARGET_RSS_MB and cores <= TARGET_CORES
                               else "misses the target"))

REAL_CADENCE = float(os.environ["REAL_CADENCE_S"])
TARGET_TENANTS = int(os.environ["TARGET_TENANTS"])
TARGET_RSS_MB = float(os.environ["TARGET_RSS_MB"])
TARGET_CORES = float(os.environ["TARGET_CORES"])
cmd = sys.argv[1]
if cmd == "port":
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
elif cmd == "ready":
    try:
        print(get("http://127.0.0.1:%s/readyz" % sys.argv[2], 5)[0])
    except urllib.error.HTTPError as e:
        print(e.code)
    except OSError:
        print(0)
elif cmd == "polled":
    print("%d %d" % polled(sys.argv[2]))
elif cmd == "snap":
    json.dump(snap(sys.argv[2], sys.argv[3], sys.argv[4]), sys.stdout)
elif cmd == "row":
    with open(sys.argv[3]) as a, open(sys.argv[4]) as b:
        r = row(int(sys.argv[2]), json.load(a), json.load(b), float(sys.argv[5]), sys.argv[6])
    with open(sys.argv[7], "a") as h:
        h.write(json.dumps(r) + "\n")
elif cmd == "status":
    print(status_summary(sys.argv[2]))
elif cmd == "projection":
    with open(sys.argv[2]) as h:
        p = projection([json.loads(l) for l in h if l.strip()])
    if p:
        print(p)
EOF
export REAL_CADENCE_S TARGET_TENANTS TARGET_RSS_MB TARGET_CORES
py() { python3 "$PY" "$@"; }

# alive PID: the process runs (not gone, not a zombie waiting to be reaped).
alive() {
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	case $st in '' | [ZX]*) return 1 ;; esac
}
# serve_starved: fails when serve logged that it ran out of open files (it may go on, unable to answer).
serve_starved() {
	if grep -q 'Too many open files' "$dir/serve.log" 2>/dev/null; then
		echo "bench-tenants: serve (N=$n) ran out of open files (limit $nofile, $(ls "/proc/$serve/fd" 2>/dev/null | wc -l) open):" >&2
		grep -m 3 'Too many open files' "$dir/serve.log" | cut -c1-300 | sed 's/^/  /' >&2
		exit 1
	fi
}
# serve_died WHAT: the failure message for a serve process that is gone.
serve_died() {
	wait "$serve"
	rc=$?
	echo "bench-tenants: serve (N=$n) exited with status $rc $1; the end of its log:" >&2
	tail -n 30 "$dir/serve.log" | sed 's/^/  /' >&2
	serve=''
	exit 1
}
# sim_died: the failure message for a simulator that is gone.
sim_died() {
	wait "$sim"
	rc=$?
	sim=''
	[ $rc -gt 128 ] && rc="$rc (signal $((rc - 128)))"
	die "the simulator (N=$n) exited with status $rc; its log: $(tail -n 5 "$dir/sim.log")"
}
# sleep_watching SECONDS: sleeps, failing as soon as serve or the simulator dies.
sleep_watching() {
	end=$(($(date +%s) + $1))
	while [ "$(date +%s)" -lt "$end" ]; do
		alive "$serve" || serve_died "while measuring"
		serve_starved
		alive "$sim" || sim_died
		sleep 1
	done
}

results=$SCRATCH/results
: >"$results"
echo "bench-tenants: nsconnect $("$NSC" --version | sed 's/.* //'), $(nproc) cores, open files limit $nofile,"
echo "  cadence ${CADENCE_S} s (real ${REAL_CADENCE_S} s), measured ${window} s after the warm-up; sizes: $sizes"
echo "  target: $TARGET_TENANTS tenants in <= $TARGET_RSS_MB MB RSS and <= $TARGET_CORES core at the real cadence"
echo "  delay = reading available at the simulator -> stored, quantiles interpolated in the histogram's buckets"
printf '%7s %7s %8s %8s %8s %8s %7s %8s %8s %6s %6s %6s %5s %6s %s\n' tenants ready_s peakMB \
	RSSKB/t CPUms/p cores@5m polls/s p50dly_s p99dly_s conns simcon fds thrds stop target
for n in $sizes; do
	case $n in '' | *[!0-9]* | 0) die "sizes are whole numbers above 0, got '$n'" ;; esac
	[ "$nofile" -ge $((n + 256)) ] ||
		echo "bench-tenants: open files limit $nofile may be low for $n tenants (each keeps its output's file open)" >&2
	dir=$SCRATCH/n$n
	mkdir -p "$dir/tenants" "$dir/out" || die "cannot create $dir"

	"$SERVER" --dexcom --accounts "$n" --cadence-ms $((CADENCE_S * 1000)) >"$dir/sim.port" 2>"$dir/sim.log" &
	sim=$!
	i=0
	while [ $i -lt 100 ] && ! [ -s "$dir/sim.port" ]; do sleep 0.1; i=$((i + 1)); done
	simport=$(head -n 1 "$dir/sim.port")
	[ -n "$simport" ] || die "the simulator did not start: $(cat "$dir/sim.log")"

	i=1
	while [ $i -le "$n" ]; do
		printf '%s\n' CONNECT_SOURCE=dexcomshare "CONNECT_SHARE_ACCOUNT_NAME=bench-$i@example.com" \
			"CONNECT_SHARE_PASSWORD=bench-pass-$i" "CONNECT_SHARE_SERVER=http://127.0.0.1:$simport" \
			"CONNECT_POLL_INTERVAL=$CADENCE_S" CONNECT_OUTPUT=filesystem \
			"CONNECT_OUTPUT_DIR=$dir/out/t$i" >"$dir/tenants/t$i.env" || die "cannot write tenant $i"
		i=$((i + 1))
	done

	port=$(py port)
	t_start=$(date +%s.%N)
	(cd "$dir" && exec env CONNECT_HTTP_LISTEN="127.0.0.1:$port" CONNECT_LOG_LEVEL=warn \
		"$NSC" serve --tenants "$dir/tenants" >"$dir/serve.log" 2>&1) &
	serve=$!
	# The listener (its event=http_listening is an info line, which level warn hides: its
	# answering shows it), then /readyz 200 once every tenant has started.
	limit=$(($(date +%s) + ready_timeout))
	until grep -q "event=http_listening addr=127.0.0.1:$port" "$dir/serve.log" 2>/dev/null ||
		[ "$(py ready "$port")" != 0 ]; do
		alive "$serve" || serve_died "before listening"
		serve_starved
		[ "$(date +%s)" -lt "$limit" ] || die "serve (N=$n) did not listen on 127.0.0.1:$port in $ready_timeout s"
		sleep 0.2
	done
	until [ "$(py ready "$port")" = 200 ]; do
		alive "$serve" || serve_died "before it was ready"
		serve_starved
		[ "$(date +%s)" -lt "$limit" ] || die "serve (N=$n) was not ready (/readyz) in $ready_timeout s"
		sleep 0.5
	done
	ready_s=$(echo "$(date +%s.%N) - $t_start" | bc)
	# Warm-up: every tenant has polled once (its first, day-long fetch), then one cadence more.
	until set -- $(py polled "$port") && [ "${1:-0}" -ge "$n" ]; do
		alive "$serve" || serve_died "during the warm-up"
		serve_starved
		[ "$(date +%s)" -lt "$limit" ] || die "serve (N=$n): only ${1:-0} of $n tenants polled in $ready_timeout s"
		sleep 1
	done
	sleep_watching $CADENCE_S

	py snap "$serve" "$port" "$sim" >"$dir/s0.json" || die "cannot read serve's figures (N=$n)"
	sleep_watching "$window"
	py snap "$serve" "$port" "$sim" >"$dir/s1.json" || die "cannot read serve's figures (N=$n)"
	summary=$(py status "$port" 2>&1)

	# SIGTERM: serve must exit 0 within 30 s.
	t_stop=$(date +%s.%N)
	kill -TERM "$serve"
	i=0
	while [ $i -lt 300 ] && alive "$serve"; do sleep 0.1; i=$((i + 1)); done
	if alive "$serve"; then
		stop="hung"
		kill -KILL "$serve"
		wait "$serve"
	else
		wait "$serve"
		rc=$?
		stop=$(printf '%.1fs' "$(echo "$(date +%s.%N) - $t_stop" | bc)")
		[ $rc -eq 0 ] || stop="rc=$rc"
	fi
	serve=''
	kill -TERM "$sim" 2>/dev/null
	wait "$sim"
	sim=''

	py row "$n" "$dir/s0.json" "$dir/s1.json" "$ready_s" "$stop" "$results"
	echo "        /status before the stop: $summary"
	case $stop in *s) ;; *) echo "        FAIL: serve did not exit 0 within 30 s of SIGTERM ($stop)" ;; esac
	warnings=$(grep -c 'level=warn\|level=error' "$dir/serve.log")
	[ "$warnings" -eq 0 ] || echo "        serve logged $warnings warnings or errors, like: $(grep -m 1 'level=warn\|level=error' "$dir/serve.log")"
	[ "${NSC_BENCH_KEEP:-0}" = 1 ] || rm -rf "$dir/out" "$dir/tenants"
done
py projection "$results"
