# Dexcom Share source (CONNECT_SOURCE=dexcomshare).
NSC_DEXCOM_SOURCES = src/sources/dexcom.c src/sources/dexcom.h src/sources/dexcom_parse.c
