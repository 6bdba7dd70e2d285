# Dexcom Share source (CONNECT_SOURCE=dexcomshare): the glue that sequences
# its steps (dexcom.c) apart from its wire protocol (dexcom_protocol.c).
NSC_DEXCOM_SOURCES = src/sources/dexcom/dexcom.c src/sources/dexcom/dexcom.h \
	src/sources/dexcom/dexcom_protocol.c
