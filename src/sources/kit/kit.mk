# The driver kit every vendor source stands on: the skeleton (vendor.c),
# the shared answer shape and status map (verdict.c), the secret slot, the
# Nightscout documents built from readings (documents.c), and what sessions
# are made of: cookies (cookie_jar.c, its dates in cookie_date.c), bearer
# tokens (bearer.c, their JWT exp in jwt_claims.c), the CareLink token file
# (token_file.c, written by src/atomic_file.c), json-c strings wiped
# (json_secret.c), and guarded paging (paging.c).
NSC_KIT_SOURCES = \
	src/sources/kit/vendor.c src/sources/kit/vendor.h \
	src/sources/kit/verdict.c src/sources/kit/verdict.h \
	src/sources/kit/secret_slot.c src/sources/kit/secret_slot.h \
	src/sources/kit/documents.c src/sources/kit/documents.h \
	src/sources/kit/cookie_date.c src/sources/kit/cookie_date.h \
	src/sources/kit/cookie_jar.c src/sources/kit/cookie_jar.h \
	src/sources/kit/json_secret.c src/sources/kit/json_secret.h \
	src/sources/kit/jwt_claims.c src/sources/kit/jwt_claims.h \
	src/sources/kit/bearer.c src/sources/kit/bearer.h \
	src/sources/kit/token_file.c src/sources/kit/token_file.h \
	src/sources/kit/paging.c src/sources/kit/paging.h
