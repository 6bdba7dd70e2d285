# mongo/: the only code that includes libmongoc/libbson: the MongoDB output
# (connection, indexes, bulk writes, last-known queries) and the pure
# json-c -> BSON mapping. Built when configure finds libmongoc-1.0/libbson-1.0
# or mongoc2/bson2 (BUILD_MONGO); linked into libnsconnect via NSC_OUTPUT_LIBS.

if BUILD_MONGO
noinst_LTLIBRARIES += mongo/libnsc_mongo.la
mongo_libnsc_mongo_la_SOURCES = \
	mongo/mongo_output.h \
	mongo/mongoc_compat.h \
	mongo/mongo_internal.h \
	mongo/bson_map.c mongo/bson_map.h \
	mongo/treatment_prepare.c mongo/treatment_prepare.h \
	mongo/documents.c mongo/documents.h \
	mongo/errors.c mongo/errors.h \
	mongo/held.c mongo/held.h \
	mongo/client.c \
	mongo/indexes.c \
	mongo/writes.c \
	mongo/last_known.c \
	mongo/diagnose.c \
	mongo/output.c
mongo_libnsc_mongo_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden $(MONGOC_CFLAGS) $(JSONC_CFLAGS)
mongo_libnsc_mongo_la_LIBADD = $(MONGOC_LIBS)
NSC_OUTPUT_LIBS += mongo/libnsc_mongo.la
endif
