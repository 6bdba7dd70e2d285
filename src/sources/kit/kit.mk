# The driver kit every vendor source stands on: the skeleton (vendor.c),
# the shared answer shape and status map (verdict.c), the secret slot, and
# the Nightscout documents built from readings (documents.c).
NSC_KIT_SOURCES = \
	src/sources/kit/vendor.c src/sources/kit/vendor.h \
	src/sources/kit/verdict.c src/sources/kit/verdict.h \
	src/sources/kit/secret_slot.c src/sources/kit/secret_slot.h \
	src/sources/kit/documents.c src/sources/kit/documents.h
