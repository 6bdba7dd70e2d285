# LibreLinkUp source (CONNECT_SOURCE=linkup).
NSC_LINKUP_SOURCES = \
	src/sources/librelinkup.c src/sources/librelinkup.h \
	src/sources/librelinkup_parse.c
