# http/: the libcurl transport and the Nightscout REST outputs (v1, v3).
# Nothing is built from here yet: the engine owns the curl multi handle
# (src/engine/loop.c); the transport arrives with the first HTTP source
# (issue 4) and the REST outputs with issue 3.
