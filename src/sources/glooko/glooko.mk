# Glooko source (CONNECT_SOURCE=glooko): the glue that sequences its steps
# (glooko.c) apart from its wire protocol (glooko_protocol.c) and the
# documents it makes of Glooko's records (glooko_docs.c).
NSC_GLOOKO_SOURCES = \
	src/sources/glooko/glooko.c src/sources/glooko/glooko.h \
	src/sources/glooko/glooko_protocol.c src/sources/glooko/glooko_docs.c
