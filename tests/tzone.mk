# The time-zone module: TZif files, POSIX rules, wall clock to UTC. Reads the
# system's zone files from /usr/share/zoneinfo (tzdata) and writes its own.
if HAVE_CHECK
check_PROGRAMS += tests/check_tzone
TESTS += tests/check_tzone
tests_check_tzone_SOURCES = tests/check_tzone.c
tests_check_tzone_CFLAGS = $(NSC_CHECK_CFLAGS)
tests_check_tzone_LDADD = $(NSC_CHECK_LDADD)
endif
