# mongo/: the only code that includes libmongoc/libbson (MongoDB output).
# Not built yet: the MongoDB output arrives with issue 3. configure already
# probes libmongoc-1.0/libbson-1.0 and mongoc2/bson2 (BUILD_MONGO).
