# Packaging: the systemd units, the sysusers.d file of their user, the man
# page, an example env file, and the Dockerfile and compose example.

# The units name the installed binary and /etc, so they are made at make
# time from their .in templates, with the installation directories as make
# expands them: `make prefix=...` and `make install bindir=...` are honoured
# (configure-time substitution would freeze ${prefix}).
NSC_UNITS = \
	src/packaging/nightscout-connect.service \
	src/packaging/nightscout-connect@.service \
	src/packaging/nightscout-connect-serve.service
EXTRA_DIST += $(NSC_UNITS:=.in)
CLEANFILES += $(NSC_UNITS)

nsc_edit_dirs = sed \
	-e 's|@bindir[@]|$(bindir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g'

$(NSC_UNITS): Makefile
	$(AM_V_GEN)$(MKDIR_P) $(@D) && rm -f $@ $@.tmp && \
	$(nsc_edit_dirs) $(srcdir)/$@.in >$@.tmp && \
	if grep -n '@[a-z_]*@' $@.tmp >&2; then echo "$@: a directory was left unsubstituted" >&2; rm -f $@.tmp; exit 1; fi && \
	mv $@.tmp $@
src/packaging/nightscout-connect.service: $(srcdir)/src/packaging/nightscout-connect.service.in
src/packaging/nightscout-connect@.service: $(srcdir)/src/packaging/nightscout-connect@.service.in
src/packaging/nightscout-connect-serve.service: $(srcdir)/src/packaging/nightscout-connect-serve.service.in

# Built in every configuration (the tests verify them); installed unless
# configure was given --with-systemdsystemunitdir=no.
if INSTALL_SYSTEMD_UNITS
systemdsystemunit_DATA = $(NSC_UNITS)
else
noinst_DATA += $(NSC_UNITS)
endif

# The nsconnect user the units run as (systemd-sysusers creates it).
EXTRA_DIST += src/packaging/nsconnect.conf
if INSTALL_SYSUSERS
sysusers_DATA = src/packaging/nsconnect.conf
endif

# make distcheck installs as a user, under its own prefix: the units and the
# sysusers.d file go there too instead of systemd's directories.
AM_DISTCHECK_CONFIGURE_FLAGS += \
	--with-systemdsystemunitdir='$${libdir}/systemd/system' \
	--with-sysusersdir='$${libdir}/sysusers.d'

dist_man1_MANS = src/packaging/nightscout-connect.1
dist_doc_DATA = src/packaging/nsconnect.env.example

# Not built here (no container engine needed to build or test nsconnect);
# tests/packaging_docker.sh checks what can be checked without one.
EXTRA_DIST += src/packaging/Dockerfile src/packaging/compose.yaml src/packaging/nsconnect-compose.env.example

NSC_PACKAGING_TESTS = \
	tests/packaging_units.sh \
	tests/man_page.sh \
	tests/packaging_docker.sh
TESTS += $(NSC_PACKAGING_TESTS)
dist_check_SCRIPTS += $(NSC_PACKAGING_TESTS)
