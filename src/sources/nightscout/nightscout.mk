# Nightscout as a source (CONNECT_SOURCE=nightscout): the glue that sequences
# the token exchange and the paged reads (nightscout.c) apart from the wire
# protocol (nightscout_protocol.c).
NSC_NIGHTSCOUT_SOURCES = src/sources/nightscout/nightscout.c src/sources/nightscout/nightscout.h \
	src/sources/nightscout/nightscout_protocol.c
