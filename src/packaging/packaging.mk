# Packaging: the man page (and, later, what installs and runs the program
# as a service or in a container).

dist_man1_MANS = src/packaging/nightscout-connect.1

NSC_PACKAGING_TESTS = \
	tests/man_page.sh
TESTS += $(NSC_PACKAGING_TESTS)
dist_check_SCRIPTS += $(NSC_PACKAGING_TESTS)
