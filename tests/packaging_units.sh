#!/bin/sh
# SPDX-License-Identifier: MIT
# The systemd units that make install installs: made from their templates
# with this build's directories, accepted by `systemd-analyze verify`
# without a word, hardened as promised, not restarting on a refused
# configuration; and the sysusers.d file creates the user they run as.
. "${NSC_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

PKG=$NSC_SRCDIR/src/packaging
UNITS="nightscout-connect.service nightscout-connect@.service nightscout-connect-serve.service"
for tool in systemd-analyze systemd-sysusers; do
	if ! command -v $tool >/dev/null 2>&1; then
		# run-all.sh fails on a skip: CI always has it (tests/install-deps.sh test).
		echo "1..0 # SKIP $tool is not installed (tests/install-deps.sh test installs systemd)"
		exit 77
	fi
done
plan 19

# This build's installation directories, as configure recorded them (make
# expands them the same way when it writes the units).
conf_var() { sed -n "s/^S\[\"$1\"\]=\"\(.*\)\"\$/\1/p" "$NSC_BUILDDIR/config.status"; }
prefix=$(conf_var prefix)
exec_prefix=$(conf_var exec_prefix)
exec_prefix=$(eval "echo \"$exec_prefix\"")
bindir=$(eval "echo \"$(conf_var bindir)\"")
sysconfdir=$(eval "echo \"$(conf_var sysconfdir)\"")

# 1-3: each unit is its template with the directories filled in.
for u in $UNITS; do
	sed -e "s|@bindir@|$bindir|g" -e "s|@sysconfdir@|$sysconfdir|g" "$PKG/$u.in" >"$SCRATCH/expected"
	ok $(cmp -s "$SCRATCH/expected" "$NSC_BUILDDIR/src/packaging/$u"; echo $?) \
		"$u is its template with bindir=$bindir and sysconfdir=$sysconfdir"
done

# systemd-analyze verify checks that ExecStart's program exists and is
# executable, and that the Documentation= man page opens with man. The
# installed binary does not exist before make install, so the copies
# verified here run the built one instead; only that path differs (tested
# above: everything else is the template). The man page is looked up in a
# folder holding the one this tree installs. The nsconnect user and the env
# files are not checked by verify (they are needed at start only).
mkdir -p "$SCRATCH/units" "$SCRATCH/man/man1"
cp "$PKG/nightscout-connect.1" "$SCRATCH/man/man1/"
for u in $UNITS; do
	sed "s|^ExecStart=$bindir/nightscout-connect |ExecStart=$NSC |" \
		"$NSC_BUILDDIR/src/packaging/$u" >"$SCRATCH/units/$u"
done
# verify_unit UNIT: systemd-analyze's output (stdout and stderr) to $SCRATCH/verify, its status in $vrc.
verify_unit() {
	(cd "$SCRATCH/units" && MANPATH=$SCRATCH/man systemd-analyze verify "./$1") >"$SCRATCH/verify" 2>&1
	vrc=$?
}
# 4-6: not a warning: verify exits 0 even after "Unknown key", so its output must be empty too.
for u in nightscout-connect.service nightscout-connect@alice.service nightscout-connect-serve.service; do
	verify_unit "$u"
	ok $([ $vrc -eq 0 ] && [ ! -s "$SCRATCH/verify" ]; echo $?) "systemd-analyze verify $u: no warning, no error"
	[ ! -s "$SCRATCH/verify" ] || sed 's/^/# /' "$SCRATCH/verify" | head -10
done

# 7-8: the check can fail: a misspelt directive, a bad value and a missing program are each reported.
sed -e 's/^ProtectSystem=strict$/ProtectSystem=strickt/' -e 's/^NoNewPrivileges=yes$/NoNewPrivilege=yes/' \
	"$SCRATCH/units/nightscout-connect.service" >"$SCRATCH/units/broken.service"
verify_unit broken.service
ok $(grep -qi 'protect.\{0,1\}system.*strickt' "$SCRATCH/verify" && grep -q "Unknown key.*NoNewPrivilege" "$SCRATCH/verify"; echo $?) \
	"a broken copy is reported ($(grep -c . "$SCRATCH/verify") lines)"
sed "s|^ExecStart=$NSC |ExecStart=$SCRATCH/no-such-program |" "$SCRATCH/units/nightscout-connect.service" \
	>"$SCRATCH/units/missing.service"
verify_unit missing.service
ok $([ $vrc -ne 0 ] && grep -q 'no-such-program' "$SCRATCH/verify"; echo $?) "a unit whose program is missing is refused"
rm -f "$SCRATCH/units/broken.service" "$SCRATCH/units/missing.service"

# 9: the hardening every unit has, line for line.
hardening="User=nsconnect
Group=nsconnect
Type=exec
UMask=0077
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
SystemCallFilter=@system-service
SystemCallArchitectures=native
Restart=on-failure
StandardOutput=journal
StandardError=journal"
missing=""
for u in $UNITS; do
	echo "$hardening" | while IFS= read -r line; do
		grep -qxF "$line" "$NSC_BUILDDIR/src/packaging/$u" || echo "$u:$line"
	done >>"$SCRATCH/missing"
done
[ ! -s "$SCRATCH/missing" ] || sed 's/^/# missing: /' "$SCRATCH/missing"
ok $([ ! -s "$SCRATCH/missing" ]; echo $?) "every unit has the hardening directives ($(echo "$hardening" | wc -l) lines)"

# 10: systemd's own view of the hardening (fewer is better); logged, and it must stay "OK" or better.
(cd "$SCRATCH/units" && systemd-analyze security --offline=yes ./nightscout-connect.service) >"$SCRATCH/security" 2>&1
score=$(sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p' "$SCRATCH/security")
ok $(echo "$score" | awk '{ exit !($1 + 0 > 0 && $1 + 0 <= 3.0) }'; echo $?) "systemd-analyze security rates nightscout-connect.service ${score:-(no score)}"

# 11: a refused configuration exits with the status the units do not restart on.
"$NSC" forever >"$SCRATCH/out" 2>"$SCRATCH/err"
cfg_rc=$?
bad=""
for u in $UNITS; do
	grep -qx "RestartPreventExitStatus=$cfg_rc" "$NSC_BUILDDIR/src/packaging/$u" || bad="$bad $u"
done
ok $([ $cfg_rc -ne 0 ] && [ -z "$bad" ]; echo $?) "a refused configuration exits $cfg_rc and no unit restarts on it$bad"

U=$NSC_BUILDDIR/src/packaging
# 12-13: the single bridge and the template: their env file, command, state directory and memory.
ok $(grep -qx "EnvironmentFile=$sysconfdir/nsconnect/nsconnect.env" "$U/nightscout-connect.service" &&
	grep -qx "ExecStart=$bindir/nightscout-connect forever" "$U/nightscout-connect.service" &&
	grep -qx "StateDirectory=nsconnect" "$U/nightscout-connect.service" &&
	grep -qx "WorkingDirectory=/var/lib/nsconnect" "$U/nightscout-connect.service" &&
	grep -qx "Environment=CONNECT_SPOOL_DIR=/var/lib/nsconnect/spool CONNECT_OUTPUT_DIR=/var/lib/nsconnect/data" "$U/nightscout-connect.service" &&
	grep -qx "MemoryMax=256M" "$U/nightscout-connect.service"
	echo $?) "nightscout-connect.service: $sysconfdir/nsconnect/nsconnect.env, forever, state in /var/lib/nsconnect, 256M"
ok $(grep -qx "EnvironmentFile=$sysconfdir/nsconnect/%i.env" "$U/nightscout-connect@.service" &&
	grep -qx "ExecStart=$bindir/nightscout-connect forever" "$U/nightscout-connect@.service" &&
	grep -qx "StateDirectory=nsconnect/%i" "$U/nightscout-connect@.service" &&
	grep -qx "WorkingDirectory=/var/lib/nsconnect/%i" "$U/nightscout-connect@.service" &&
	grep -qx "Environment=CONNECT_SPOOL_DIR=/var/lib/nsconnect/%i/spool CONNECT_OUTPUT_DIR=/var/lib/nsconnect/%i/data" "$U/nightscout-connect@.service" &&
	grep -qx "MemoryMax=256M" "$U/nightscout-connect@.service"
	echo $?) "nightscout-connect@.service: one env file and state directory per instance, 256M"
# 14: the example env file names only real settings (commented ones too).
"$NSC" settings | sed -n 's/^  \([A-Za-z_][A-Za-z0-9_]*\) (--.*/\1/p' >"$SCRATCH/names"
unknown=""
for n in $(sed -n 's/^#\{0,1\}\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' "$PKG/nsconnect.env.example" | sort -u); do
	grep -qx "$n" "$SCRATCH/names" || grep -qx "${n%_FILE}" "$SCRATCH/names" || unknown="$unknown $n"
done
[ -z "$unknown" ] || echo "# not settings:$unknown"
ok $([ -z "$unknown" ]; echo $?) "nsconnect.env.example names only real settings"

# 15-16: serve: the tenants folder, reload by SIGHUP, a stop timeout above serve's 20 s, more memory.
stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' "$U/nightscout-connect-serve.service")
ok $(grep -qx "ExecStart=$bindir/nightscout-connect serve --tenants $sysconfdir/nsconnect/tenants.d" "$U/nightscout-connect-serve.service" &&
	grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$U/nightscout-connect-serve.service" &&
	[ "${stop:-0}" -gt 20 ] && [ "$stop" -le 60 ]
	echo $?) "serve unit: $sysconfdir/nsconnect/tenants.d, reload by SIGHUP, TimeoutStopSec=${stop}s"
mem=$(sed -n 's/^MemoryMax=//p' "$U/nightscout-connect-serve.service")
tasks=$(sed -n 's/^TasksMax=//p' "$U/nightscout-connect-serve.service")
ok $([ "$mem" = 1G ] && [ "${tasks:-0}" -ge 10100 ]; echo $?) \
	"serve unit: MemoryMax=$mem and TasksMax=$tasks for 10,000 bridges with a writer thread each"

# 17: the documented reload really is what serve takes: SIGHUP leaves it running.
mkdir -p "$SCRATCH/tenants"
"$NSC" serve --tenants "$SCRATCH/tenants" >"$SCRATCH/serve.log" 2>&1 &
spid=$!
sleep 1
kill -HUP $spid 2>/dev/null
sleep 1
alive=1
kill -0 $spid 2>/dev/null && alive=0
kill -TERM $spid 2>/dev/null
wait $spid
src=$?
ok $([ $alive -eq 0 ] && [ $src -eq 0 ]; echo $?) "serve survives SIGHUP (the unit's reload) and exits 0 on SIGTERM (status $src)"

# 18-19: the sysusers.d file creates the user and group the units run as, in a scratch root.
mkdir -p "$SCRATCH/root/etc"
systemd-sysusers --root="$SCRATCH/root" "$PKG/nsconnect.conf" >"$SCRATCH/sysusers" 2>&1
surc=$?
ok $([ $surc -eq 0 ] && grep -q '^nsconnect:x:[0-9]*:[0-9]*:[^:]*:/var/lib/nsconnect:' "$SCRATCH/root/etc/passwd" &&
	grep -q '^nsconnect:x:[0-9]*:' "$SCRATCH/root/etc/group"
	echo $?) "systemd-sysusers creates the nsconnect user and group from nsconnect.conf"
[ $surc -eq 0 ] || sed 's/^/# /' "$SCRATCH/sysusers"
uid=$(sed -n 's/^nsconnect:x:\([0-9]*\):.*/\1/p' "$SCRATCH/root/etc/passwd")
ok $([ -n "$uid" ] && [ "$uid" -gt 0 ] && [ "$uid" -lt 1000 ]; echo $?) "nsconnect is a system user (uid $uid)"
finish
