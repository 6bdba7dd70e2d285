# Medtronic CareLink source (CONNECT_SOURCE=minimedcarelink): the glue that
# sequences its steps (carelink.c) apart from its protocol
# (carelink_protocol.c), the documents it makes of a data answer
# (carelink_docs.c), and the pure parts of the Auth0 + PKCE sign-in that
# `nightscout-connect carelink-login` uses (carelink_auth.c).
NSC_CARELINK_SOURCES = \
	src/sources/carelink/carelink.c src/sources/carelink/carelink.h \
	src/sources/carelink/carelink_protocol.c src/sources/carelink/carelink_docs.c \
	src/sources/carelink/carelink_auth.c src/sources/carelink/carelink_auth.h
