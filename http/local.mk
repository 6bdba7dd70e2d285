# http/: the blocking libcurl client, the one that runs several requests
# at once and the source drivers' asynchronous one on the engine's loop
# (all set up by transfer.c, failures worded by transport.c), HTTP status -> verdict
# classification, and the Nightscout REST outputs (API v1 and v3), as a
# convenience library linked into libnsconnect.
noinst_LTLIBRARIES += http/libnsc_http.la
http_libnsc_http_la_SOURCES = \
	http/transfer.c http/transfer.h http/transport.c http/transport.h \
	http/vendor_client.c http/vendor_client.h \
	http/client.c http/client.h \
	http/client_multi.c http/client_multi.h \
	http/classify.c http/classify.h \
	http/auth.c http/auth.h \
	http/jwt.c http/jwt.h \
	http/rest.h http/rest_common.c \
	http/rest_v1.c http/rest_v1.h http/rest_v1_call.c http/rest_v1_held.c \
	http/rest_diagnose.c \
	http/rest_v3.c http/rest_v3.h http/rest_v3_write.c \
	http/rest_output.h
http_libnsc_http_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden $(CURL_CFLAGS) $(JSONC_CFLAGS) $(CRYPTO_CFLAGS)
NSC_OUTPUT_LIBS += http/libnsc_http.la
