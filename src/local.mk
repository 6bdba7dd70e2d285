# libnsconnect: engine, configuration, batch and identity, logging, the
# built-in sources, the filesystem output and the health board (src/health/);
# and the nightscout-connect CLI, which alone links the health HTTP listener.
include src/sources/kit/kit.mk
include src/sources/dexcom/dexcom.mk
include src/sources/glooko/glooko.mk
include src/sources/carelink/carelink.mk
include src/sources/librelinkup/librelinkup.mk
include src/sources/nightscout/nightscout.mk
include src/sources/simulator/simulator.mk
include src/health/health.mk

# Each source's rows of the settings table, kept in its folder.
NSC_SETTINGS_ROWS_SOURCES = \
	src/sources/simulator/simulator_settings.c \
	src/sources/dexcom/dexcom_settings.c \
	src/sources/librelinkup/librelinkup_settings.c \
	src/sources/nightscout/nightscout_settings.c \
	src/sources/glooko/glooko_settings.c \
	src/sources/carelink/carelink_settings.c

lib_LTLIBRARIES += src/libnsconnect.la
include_HEADERS += src/nsconnect.h

src_libnsconnect_la_SOURCES = \
	src/error.c src/error.h \
	src/log.c src/log.h src/log_format.c src/log_format.h src/log_limit.c src/log_limit.h \
	src/log_buf.c src/log_buf.h src/log_json.c src/log_json.h src/log_redact.c src/log_redact.h src/log_patterns.c src/log_patterns.h \
	src/secret.c src/secret.h \
	src/clock.c src/clock.h \
	src/timeutil.c src/timeutil.h \
	src/tzone.c src/tzone.h \
	src/trend.c src/trend.h \
	src/identity.c src/identity.h \
	src/batch.c src/batch.h \
	src/jsonutil.c src/jsonutil.h \
	src/strbuf.c src/strbuf.h \
	src/fileio.c src/fileio.h src/atomic_file.c src/atomic_file.h \
	src/diag.c src/diag.h \
	src/config.c src/config_kv.c src/config_envfile.c src/config_url.c src/config_secrets.c src/config_report.c \
	src/config_names.c src/cfg_internal.h src/nsc_config.h \
	src/settings.c src/settings_rows.c src/settings_rows.h src/setting_row.h \
	src/source.c src/source.h src/output.h \
	src/engine/timers.c src/engine/timers.h \
	src/engine/loop.c src/engine/loop.h \
	src/engine/backoff.c src/engine/backoff.h \
	src/engine/session.c src/engine/session.h \
	src/engine/frame.c src/engine/frame.h \
	src/engine/schedule.c src/engine/schedule.h \
	src/engine/backfill.c src/engine/backfill.h \
	src/engine/announce.c src/engine/announce.h \
	src/engine/bridge.c src/engine/bridge.h \
	src/engine/login_hold.c src/engine/login_hold.h \
	src/doctor/doctor.c src/doctor/doctor.h src/doctor/net_check.c src/doctor/net_check.h \
	src/doctor/count_output.c src/doctor/count_output.h \
	src/doctor/spool_check.c src/doctor/spool_check.h \
	src/sources/registry.c src/sources/registry.h src/sources/source_rows.h \
	$(NSC_SETTINGS_ROWS_SOURCES) \
	$(NSC_KIT_SOURCES) $(NSC_SIMULATOR_SOURCES) $(NSC_DEXCOM_SOURCES) $(NSC_LINKUP_SOURCES) \
	$(NSC_NIGHTSCOUT_SOURCES) $(NSC_GLOOKO_SOURCES) $(NSC_CARELINK_SOURCES) \
	$(NSC_EMBED_SOURCES) \
	$(NSC_HEALTH_SOURCES) \
	src/outputs/registry.c \
	src/outputs/filesystem.c src/outputs/filesystem.h src/outputs/id_set.c src/outputs/id_set.h \
	src/outputs/spooled.c src/outputs/spooled.h src/outputs/spool_files.c src/outputs/spool_files.h \
	src/tenants/tenant_dir.c src/tenants/tenant_dir.h src/tenants/closer.c src/tenants/closer.h \
	src/tenants/tenant_health.c src/tenants/tenant_health.h \
	src/tenants/tenant_config.c src/tenants/tenant_config.h \
	src/tenants/tenant_set.c src/tenants/tenant_set.h

src_libnsconnect_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden $(CURL_CFLAGS) $(JSONC_CFLAGS) $(CRYPTO_CFLAGS)
src_libnsconnect_la_LIBADD = $(NSC_OUTPUT_LIBS) $(CURL_LIBS) $(JSONC_LIBS) $(CRYPTO_LIBS)
src_libnsconnect_la_LDFLAGS = $(AM_LDFLAGS) -version-info $(NSC_LT_VERSION) -no-undefined

# The tests link the same objects statically, so they can reach internals
# that the shared library keeps hidden.
noinst_LTLIBRARIES += src/libnsconnect-internal.la
src_libnsconnect_internal_la_SOURCES = $(src_libnsconnect_la_SOURCES)
src_libnsconnect_internal_la_CFLAGS = $(src_libnsconnect_la_CFLAGS)
src_libnsconnect_internal_la_LIBADD = $(src_libnsconnect_la_LIBADD)

bin_PROGRAMS += src/nightscout-connect
src_nightscout_connect_SOURCES = src/cli/main.c src/cli/usage.c src/cli/usage.h \
	src/cli/run_common.c src/cli/run_common.h src/cli/backfill.c src/cli/backfill.h \
	src/cli/backfill_state.c src/cli/backfill_state.h src/cli/backfill_progress.c src/cli/backfill_progress.h \
	src/cli/carelink_login.c src/cli/carelink_login.h \
	src/cli/serve.c src/cli/serve.h src/cli/health_http.c src/cli/health_http.h \
	src/cli/doctor.c src/cli/doctor.h \
	$(NSC_HEALTH_LISTENER_SOURCES)
src_nightscout_connect_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(MHD_CFLAGS)
src_nightscout_connect_LDADD = src/libnsconnect-internal.la $(MHD_LIBS)

pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = src/nsconnect.pc
EXTRA_DIST += src/nsconnect.pc.in
