# MongoDB integration beyond the unit suites: the probe the outage test reads
# the database with, the outage test itself, and the write benchmark.
if BUILD_MONGO
noinst_PROGRAMS += tests/nsc-mongo-probe tests/nsc-bench-mongo
tests_nsc_mongo_probe_SOURCES = tests/mongo/probe.c
tests_nsc_mongo_probe_CFLAGS = $(AM_CFLAGS) $(MONGOC_CFLAGS)
tests_nsc_mongo_probe_LDADD = $(MONGOC_LIBS)

tests_nsc_bench_mongo_SOURCES = tests/mongo/bench.c tests/sim_batch.c tests/sim_batch.h
tests_nsc_bench_mongo_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) -I$(top_srcdir)/tests
tests_nsc_bench_mongo_LDADD = src/libnsconnect-internal.la

TESTS += tests/mongo/outage.sh
dist_check_SCRIPTS += tests/mongo/outage.sh

# Each vendor source, forever, from the standalone simulators into MongoDB,
# and a Nightscout mirrored into MongoDB.
if HAVE_MHD
TESTS += tests/vendor_forever.sh tests/mongo/ns_mirror.sh tests/cli_doctor.sh
dist_check_SCRIPTS += tests/vendor_forever.sh tests/mongo/ns_mirror.sh tests/cli_doctor.sh
endif

# `make bench`: the MongoDB write benchmark on a private MongoDB-wire server
# (or on NSC_TEST_MONGODB_URI); `make bench BENCH_DAYS=3` for a shorter run.
bench: tests/nsc-bench-mongo
	$(SHELL) $(top_srcdir)/tests/with-mongo.sh sh -c 'tests/nsc-bench-mongo "$$NSC_TEST_MONGODB_URI" $(BENCH_DAYS)'
.PHONY: bench
endif
