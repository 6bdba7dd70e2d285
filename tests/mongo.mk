# MongoDB output tests: the pure BSON mapping (no server), and the output
# against a real MongoDB-wire server from NSC_TEST_MONGODB_URI
# (tests/with-mongo.sh starts one); without it check_mongo skips (77)
# unless NSC_REQUIRE_MONGO=1.
if HAVE_CHECK
if BUILD_MONGO
NSC_MONGO_TESTS = tests/check_mongo_map tests/check_mongo
check_PROGRAMS += $(NSC_MONGO_TESTS)
TESTS += $(NSC_MONGO_TESTS)

tests_check_mongo_map_SOURCES = tests/check_mongo_map.c $(NSC_LOG_CAPTURE_SOURCES) tests/bson_assert.c tests/bson_assert.h
tests_check_mongo_map_CFLAGS = $(NSC_CHECK_CFLAGS) $(MONGOC_CFLAGS)
tests_check_mongo_map_LDADD = $(NSC_CHECK_LDADD) $(MONGOC_LIBS)
tests_check_mongo_SOURCES = tests/check_mongo.c $(NSC_LOG_CAPTURE_SOURCES) tests/bson_assert.c tests/bson_assert.h
tests_check_mongo_CFLAGS = $(NSC_CHECK_CFLAGS) $(MONGOC_CFLAGS)
tests_check_mongo_LDADD = $(NSC_CHECK_LDADD) $(MONGOC_LIBS)
endif
endif
