# SPDX-License-Identifier: MIT
# Shared by the plugin's shell tests (sourced after tests/lib.sh): runs a
# test file of tests/plugin/ with Node's own test runner (TAP for Automake's
# driver) on the built package folder plugin/package/.
#   run_plugin_tests FILE
run_plugin_tests() {
	node=${NODE:-node}
	addon=$NSC_BUILDDIR/plugin/package/nsconnect.node
	[ -r "$addon" ] || { echo "Bail out! $addon is not built"; exit 99; }
	# An ASan build: the sanitizer's runtime must be loaded before Node itself;
	# Node's own allocations at exit are not this project's leaks.
	asan=$(ldd "$addon" 2>/dev/null | sed -n 's/^[[:space:]]*libasan[^ ]* => \([^ ]*\) .*/\1/p')
	if [ -n "$asan" ]; then
		LD_PRELOAD=$asan${LD_PRELOAD:+:$LD_PRELOAD}
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
		export LD_PRELOAD ASAN_OPTIONS
	fi
	NSC_PLUGIN_DIR=$NSC_BUILDDIR/plugin/package
	NSC_MONGO_PROBE=$NSC_BUILDDIR/tests/nsc-mongo-probe
	export NSC_PLUGIN_DIR NSC_MONGO_PROBE
	"$node" --test --test-reporter=tap "$1"
}
