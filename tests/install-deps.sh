#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs what nsconnect needs from Debian/Ubuntu packages.
#   install-deps.sh build   compiler, autotools and libraries
#   install-deps.sh test    the above plus what the test suite uses (Go builds the
#                           MongoDB-wire test server; it needs the Go version
#                           that tests/ferretdb/go.mod names), Node and its
#                           headers for the Nightscout plugin and its tests
# Uses sudo when not run as root. Packages already present are skipped.
set -eu

# tzdata: the zone files Glooko's and CareLink's times are read with (slim images lack them).
# libmicrohttpd-dev: nightscout-connect serves its health and metrics pages with it.
BUILD_PKGS="gcc make autoconf automake libtool pkg-config libcurl4-openssl-dev libjson-c-dev libssl-dev libmongoc-dev libbson-dev libmicrohttpd-dev tzdata"
# python3-prometheus-client: tests/prom_parse.py reads the metrics page with the real parser.
# systemd (systemd-analyze, systemd-sysusers), man-db and groff-base: the
# packaging tests verify the units and render the man page; python3-yaml
# parses the compose example.
TEST_PKGS="check python3 python3-prometheus-client xz-utils curl systemd man-db groff-base python3-yaml"

case "${1:-build}" in
build) pkgs=$BUILD_PKGS ;;
test) pkgs="$BUILD_PKGS $TEST_PKGS" ;;
*) echo "usage: $0 build|test" >&2; exit 2 ;;
esac

missing=""
# Go: the machine's own if it has one (this project's CI machines do), else Debian's.
if [ "${1:-build}" = test ] && ! command -v go >/dev/null 2>&1; then
	missing="golang-go"
fi
# Node runs the plugin's tests and its node_api.h builds the plugin: the
# machine's own when present (NodeSource's nodejs ships both; installing
# Debian's headers over it would clash), else Debian's nodejs and libnode-dev.
if [ "${1:-build}" = test ]; then
	command -v node >/dev/null 2>&1 || missing="$missing nodejs"
	[ -r /usr/include/node/node_api.h ] || [ -r /usr/local/include/node/node_api.h ] ||
		missing="$missing libnode-dev"
fi
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "installing:$missing" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
