# Medtronic CareLink (CONNECT_SOURCE=minimedcarelink): so far the pure parts
# of its Auth0 + PKCE sign-in, which `nightscout-connect carelink-login` uses.
NSC_CARELINK_SOURCES = \
	src/sources/carelink/carelink_auth.c src/sources/carelink/carelink_auth.h
