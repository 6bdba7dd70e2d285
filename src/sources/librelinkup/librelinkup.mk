# LibreLinkUp source (CONNECT_SOURCE=linkup): the glue that sequences its
# steps (librelinkup.c) apart from its wire protocol (librelinkup_protocol.c).
NSC_LINKUP_SOURCES = \
	src/sources/librelinkup/librelinkup.c src/sources/librelinkup/librelinkup.h \
	src/sources/librelinkup/librelinkup_protocol.c
