#!/bin/sh
# SPDX-License-Identifier: MIT
# The Dockerfile and the compose example, as far as they can be checked
# without a container engine: the runtime stage installs Debian bookworm
# packages that exist and provide every shared library the built binary
# loads; the image's settings, user, health check and entry point are what
# the README promises, and the health check command works against the
# built binary listening as the image makes it listen; compose.yaml parses
# and runs nightscout, mongo and nsconnect on one database.
# Building and running the image itself needs a Docker engine: not done here.
. "${NSC_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

PKG=$NSC_SRCDIR/src/packaging
DF=$PKG/Dockerfile
codename=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release 2>/dev/null)
if [ "$codename" != bookworm ] || ! command -v apt-cache >/dev/null 2>&1 || ! command -v dpkg >/dev/null 2>&1; then
	# The package names are bookworm's: another release's index cannot vouch for them.
	echo "1..0 # SKIP needs Debian bookworm's apt and dpkg (this is '${codename:-unknown}')"
	exit 77
fi
PY=
for p in python3 /usr/bin/python3; do
	if command -v $p >/dev/null 2>&1 && $p -c 'import yaml' 2>/dev/null; then PY=$p; break; fi
done
if [ -z "$PY" ]; then
	echo "1..0 # SKIP python3 with PyYAML is not installed (tests/install-deps.sh test installs python3-yaml)"
	exit 77
fi
plan 16
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
	echo "# a Docker engine is present, but this test does not build images (docker build -f src/packaging/Dockerfile .)"
else
	echo "# no Docker engine here: the image is not built or run; what follows checks it without one"
fi

# The Dockerfile with continuation lines joined, comments dropped, blanks squeezed.
sed -e '/^[[:space:]]*#/d' "$DF" | sed -e ':a' -e '/\\$/{N;s/\\\n//;ba' -e '}' | tr '\t' ' ' | tr -s ' ' >"$SCRATCH/df"
# The runtime stage: from the last FROM on.
awk '/^FROM /{ n++ } { print n "\t" $0 }' "$SCRATCH/df" >"$SCRATCH/df.n"
last=$(grep -c '^FROM ' "$SCRATCH/df")
sed -n "s/^$last	//p" "$SCRATCH/df.n" >"$SCRATCH/runtime"

# 1: two stages, both Debian bookworm slim.
froms=$(sed -n 's/^FROM \([^ ]*\).*/\1/p' "$SCRATCH/df" | sort -u)
ok $([ "$last" -eq 2 ] && [ "$froms" = "debian:bookworm-slim" ]; echo $?) "two stages, both debian:bookworm-slim ($(echo $froms))"

# The packages the runtime stage installs: the words of its apt-get install after the options.
pkgs=$(sed -n 's/.*apt-get install\(.*\)/\1/p' "$SCRATCH/runtime" | sed 's/&&.*//' | tr ' \t' '\n\n' | grep -v '^-' | grep .)
echo "# runtime packages: $(echo $pkgs)"
# 2: each exists in Debian's index.
missing=""
for p in $pkgs; do
	apt-cache show "$p" 2>/dev/null | grep -q "^Package: $p\$" || missing="$missing $p"
done
[ -z "$missing" ] || echo "# not in apt's index:$missing"
ok $([ -n "$pkgs" ] && [ -z "$missing" ]; echo $?) "every runtime package is in Debian's index ($(echo $pkgs | wc -w))"

# closure PACKAGES...: the packages apt installs for them without recommends, one a line.
closure() {
	apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
		--no-replaces --no-enhances "$@" 2>/dev/null | grep -v '^ ' | sed 's/:.*//; /^<.*>$/d' | sort -u
}
# lib_packages: the Debian package of each shared library the built binary loads, one a line.
ldd "$NSC" | awk '/=>/ && $3 ~ /^\// { print $3 } /^[[:space:]]*\/.*\(0x/ { print $1 }' >"$SCRATCH/libs"
: >"$SCRATCH/libpkgs"
unowned=""
while read -r lib; do
	p=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null)
	p=$(echo "$p" | head -n 1 | sed 's/:.*//')
	[ -n "$p" ] && echo "$p" >>"$SCRATCH/libpkgs" || unowned="$unowned $lib"
done <"$SCRATCH/libs"
sort -u -o "$SCRATCH/libpkgs" "$SCRATCH/libpkgs"
# A sanitizer build (CI's ASan pass) also loads the compiler's sanitizer
# runtimes; the image builds without them, so they are not asked of it.
is_sanitizer_runtime() {
	case $1 in libasan[0-9]* | libubsan[0-9]* | liblsan[0-9]* | libtsan[0-9]* | libhwasan[0-9]*) return 0 ;; esac
	return 1
}
sanitizers=""
while read -r p; do
	is_sanitizer_runtime "$p" && sanitizers="$sanitizers $p"
done <"$SCRATCH/libpkgs"
if [ -n "$sanitizers" ]; then
	echo "# sanitizer runtimes of this build, not of the image's:$sanitizers"
	for p in $sanitizers; do sed -i "/^$p\$/d" "$SCRATCH/libpkgs"; done
fi
# 3: ldd resolved every library, and dpkg knows whose each is.
ok $([ "$(wc -l <"$SCRATCH/libs")" -ge 5 ] && [ -z "$unowned" ] && ! ldd "$NSC" | grep -q 'not found'; echo $?) \
	"ldd finds the binary's $(wc -l <"$SCRATCH/libs") libraries, all from packages ($(wc -l <"$SCRATCH/libpkgs"))"
[ -z "$unowned" ] || echo "# no package:$unowned"

# uncovered PACKAGES...: library packages not installed by apt for PACKAGES.
uncovered() {
	closure "$@" >"$SCRATCH/closure"
	comm -23 "$SCRATCH/libpkgs" "$SCRATCH/closure"
}
# 4: together (with what apt brings for them) they provide every library.
u=$(uncovered $pkgs)
[ -z "$u" ] || echo "# libraries of packages the image lacks: $(echo $u)"
ok $([ -z "$u" ]; echo $?) "the runtime packages bring every library the binary loads"
# 5: the libraries it links directly are named, not left to chance dependencies.
direct=$(objdump -p "$NSC" 2>/dev/null | sed -n 's/^ *NEEDED *//p')
notnamed=""
for so in $direct; do
	path=$(ldd "$NSC" | awk -v so="$so" '$1 == so { print $3 }')
	p=$(dpkg -S "$path" 2>/dev/null || dpkg -S "$(readlink -f "$path")" 2>/dev/null)
	p=$(echo "$p" | head -n 1 | sed 's/:.*//')
	case $p in libc6) continue ;; esac # in every Debian image
	is_sanitizer_runtime "$p" && continue
	echo "$pkgs" | grep -qx "$p" || notnamed="$notnamed $so($p)"
done
[ -z "$notnamed" ] || echo "# linked but not installed by name:$notnamed"
ok $([ -n "$direct" ] && [ -z "$notnamed" ]; echo $?) "every library it links directly is installed by name ($(echo $direct | wc -w))"
# 6: the check can fail: without libmicrohttpd12 the health listener's library is missing.
u=$(uncovered $(echo "$pkgs" | grep -vx libmicrohttpd12))
ok $(echo "$u" | grep -qx libmicrohttpd12; echo $?) "a list without libmicrohttpd12 is reported ($(echo $u))"

# 7: zone files, CA certificates and curl (the health check) are there too.
ok $(for p in tzdata ca-certificates curl; do echo "$pkgs" | grep -qx $p || exit 1; done; echo $?) \
	"tzdata, ca-certificates and curl are installed"

# 8: a non-root user, by number.
user=$(sed -n 's/^USER \([^ ]*\).*/\1/p' "$SCRATCH/runtime" | tail -n 1)
ok $(case ${user%%:*} in "" | 0 | root) exit 1 ;; esac; echo $?) "the image runs as a non-root user ($user)"

# 9: the image's settings: listener, spool and output in the state volume.
envs=$(sed -n 's/^ENV //p' "$SCRATCH/runtime" | tr -s ' ' '\n')
vol=$(sed -n 's/^VOLUME \["\([^"]*\)"\]/\1/p' "$SCRATCH/runtime")
listen=$(echo "$envs" | sed -n 's/^CONNECT_HTTP_LISTEN=//p')
spool=$(echo "$envs" | sed -n 's/^CONNECT_SPOOL_DIR=//p')
outdir=$(echo "$envs" | sed -n 's/^CONNECT_OUTPUT_DIR=//p')
ok $([ "$listen" = 0.0.0.0:8080 ] && [ -n "$vol" ] && [ "${spool#"$vol"/}" != "$spool" ] && [ "${outdir#"$vol"/}" != "$outdir" ]
	echo $?) "CONNECT_HTTP_LISTEN=$listen; spool $spool and output $outdir in the volume $vol"

# 10: every setting the image sets is a real one.
"$NSC" settings | sed -n 's/^  \([A-Za-z_][A-Za-z0-9_]*\) (--.*/\1/p' >"$SCRATCH/names"
bad=""
for n in $(echo "$envs" | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p'); do
	grep -qx "$n" "$SCRATCH/names" || bad="$bad $n"
done
ok $([ -z "$bad" ]; echo $?) "the image sets only real settings$bad"

# 11: health check, entry point and default command.
hc=$(sed -n 's/^HEALTHCHECK .* CMD //p' "$SCRATCH/runtime")
ok $(echo "$hc" | grep -q "^curl -fsS http://127.0.0.1:${listen##*:}/healthz" &&
	grep -qx 'ENTRYPOINT \["nightscout-connect"\]' "$SCRATCH/runtime" &&
	grep -qx 'CMD \["forever"\]' "$SCRATCH/runtime"
	echo $?) "HEALTHCHECK $hc; ENTRYPOINT nightscout-connect, CMD forever"

# 12: every path the Dockerfile copies from the context exists in the source tree.
missing=""
for src in $(sed -n '/^COPY --from=/d; s/^COPY \(.*\) [^ ]*$/\1/p' "$SCRATCH/df"); do
	[ -e "$NSC_SRCDIR/$src" ] || missing="$missing $src"
done
ok $([ -z "$missing" ]; echo $?) "every file the Dockerfile copies is in the source tree$missing"

# 13: the health check works as the image runs it: forever listening on all
# addresses (a free port here), curl -fsS on loopback.
"$NSC" --source simulator --output-dir "$SCRATCH/data" --http-listen 0.0.0.0:0 --simulator-interval 2 \
	--poll-interval 2 --lookback-hours 1 forever >"$SCRATCH/out" 2>"$SCRATCH/err" &
pid=$!
i=0
while [ $i -lt 100 ] && ! grep -q event=http_listening "$SCRATCH/err"; do sleep 0.1; i=$((i + 1)); done
hport=$(sed -n 's/.*event=http_listening addr=0\.0\.0\.0:\([0-9]*\).*/\1/p' "$SCRATCH/err" | head -n 1)
hrc=1
[ -n "$hport" ] && [ -n "$hc" ] && eval "$(echo "$hc" | sed "s|127.0.0.1:${listen##*:}|127.0.0.1:$hport|")" >/dev/null 2>&1 && hrc=0
kill -TERM $pid 2>/dev/null
wait $pid
ok $hrc "the HEALTHCHECK command passes against forever listening on 0.0.0.0 (port ${hport:-none})"

# compose.yaml, read with a YAML parser.
cat >"$SCRATCH/compose.py" <<'PYEOF'
import os, sys, yaml
path, top = sys.argv[1], sys.argv[2]
doc = yaml.safe_load(open(path))
s = doc["services"]
problems = []
for name in ("nightscout", "mongo", "nsconnect"):
    if name not in s:
        problems.append("no service " + name)
if not problems:
    n = s["nsconnect"]
    build = n.get("build", {})
    ctx = os.path.normpath(os.path.join(os.path.dirname(path), build.get("context", ".")))
    if not os.path.exists(os.path.join(ctx, "configure.ac")):
        problems.append("nsconnect's build context is not the top of the source tree: " + ctx)
    if build.get("dockerfile") != "src/packaging/Dockerfile":
        problems.append("nsconnect is not built from src/packaging/Dockerfile")
    env = n.get("environment", {})
    uri = env.get("MONGODB_URI", "")
    ns_uri = s["nightscout"].get("environment", {}).get("MONGO_CONNECTION", "")
    if not uri.startswith("mongodb://mongo:") or uri != ns_uri:
        problems.append("nsconnect's MONGODB_URI %r is not Nightscout's MONGO_CONNECTION %r on mongo" % (uri, ns_uri))
    if not n.get("env_file"):
        problems.append("nsconnect takes no env file")
    hc = " ".join(n.get("healthcheck", {}).get("test", []))
    if "/healthz" not in hc:
        problems.append("nsconnect's healthcheck does not ask /healthz")
    if "mongo" not in n.get("depends_on", {}):
        problems.append("nsconnect does not wait for mongo")
    if not s["nightscout"].get("image", "").startswith("nightscout/cgm-remote-monitor:15"):
        problems.append("nightscout is not cgm-remote-monitor 15")
print("; ".join(problems) if problems else "ok")
sys.exit(1 if problems else 0)
PYEOF
# 14: it parses and names the three services.
$PY -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); sys.exit(not {"nightscout", "mongo", "nsconnect"} <= set(d["services"]))' \
	"$PKG/compose.yaml" 2>"$SCRATCH/yaml.err"
yrc=$?
[ $yrc -eq 0 ] || sed 's/^/# /' "$SCRATCH/yaml.err" | tail -3
ok $yrc "compose.yaml parses as YAML with services nightscout, mongo and nsconnect"
# 15: nsconnect is built here and writes into Nightscout's database.
res=$($PY "$SCRATCH/compose.py" "$PKG/compose.yaml" "$NSC_SRCDIR" 2>&1)
ok $? "compose.yaml: nsconnect built from this tree, into Nightscout's MongoDB, health-checked ($res)"
# 16: the compose env example names only real settings.
bad=""
for n in $(sed -n 's/^#\{0,1\}\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' "$PKG/nsconnect-compose.env.example" | sort -u); do
	grep -qx "$n" "$SCRATCH/names" || grep -qx "${n%_FILE}" "$SCRATCH/names" || bad="$bad $n"
done
ok $([ -z "$bad" ]; echo $?) "nsconnect-compose.env.example names only real settings$bad"
finish
