# The MongoDB-wire test server: a small Go program embedding FerretDB, built
# and run by tests/with-mongo.sh (see there). Only shipped, never built by make.
EXTRA_DIST += \
	tests/ferretdb/main.go \
	tests/ferretdb/go.mod \
	tests/ferretdb/go.sum \
	tests/with-mongo.sh
