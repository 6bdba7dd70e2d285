# Tests: one Check binary per area, plus shell tests that run the CLI.
EXTRA_DIST += tests/nsc_check.h tests/lib.sh tests/install-deps.sh tests/run-all.sh

if HAVE_CHECK
NSC_CHECK_UNITS = \
	tests/check_timeutil \
	tests/check_kit \
	tests/check_kit_session \
	tests/check_identity \
	tests/check_batch \
	tests/check_log \
	tests/check_log_redact \
	tests/check_config \
	tests/check_settings \
	tests/check_backoff \
	tests/check_loop \
	tests/check_session \
	tests/check_frame \
	tests/check_schedule \
	tests/check_bridge \
	tests/check_announce \
	tests/check_backfill \
	tests/check_simulator \
	tests/check_filesystem \
	tests/check_embed

check_PROGRAMS += $(NSC_CHECK_UNITS)
TESTS += $(NSC_CHECK_UNITS)

NSC_CHECK_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JSONC_CFLAGS) $(CURL_CFLAGS)
NSC_CHECK_LDADD = src/libnsconnect-internal.la $(CHECK_LIBS)
# Scripted source, in-memory output and a virtual-clock loop for engine tests.
NSC_ENGINE_TEST_SOURCES = tests/fake_source.c tests/fake_source.h tests/harness.c tests/harness.h \
	$(NSC_LOGLINE_SOURCES)
# Every captured log line must parse as key=value.
NSC_LOGLINE_SOURCES = tests/logline.c tests/logline.h tests/logline_check.c
# A capturing log sink that checks each line, for the output suites.
NSC_LOG_CAPTURE_SOURCES = tests/log_capture.c tests/log_capture.h $(NSC_LOGLINE_SOURCES)

# The embedding API through the shared library: only exported symbols are reachable.
tests_check_embed_SOURCES = tests/check_embed.c
tests_check_embed_CFLAGS = $(NSC_CHECK_CFLAGS)
tests_check_embed_LDADD = src/libnsconnect.la $(CHECK_LIBS)

tests_check_kit_SOURCES = tests/check_kit.c
tests_check_kit_CFLAGS = $(NSC_CHECK_CFLAGS)
tests_check_kit_LDADD = $(NSC_CHECK_LDADD)
tests_check_kit_session_SOURCES = tests/check_kit_session.c $(NSC_LOG_CAPTURE_SOURCES)
tests_check_kit_session_CFLAGS = $(NSC_CHECK_CFLAGS)
tests_check_kit_session_LDADD = $(NSC_CHECK_LDADD)

tests_check_timeutil_SOURCES = tests/check_timeutil.c
tests_check_timeutil_CFLAGS = $(NSC_CHECK_CFLAGS)
tests_check_timeutil_LDADD = $(NSC_CHECK_LDADD)
tests_check_identity_SOURCES = tests/check_identity.c
tests_check_identity_CFLAGS = $(NSC_CHECK_CFLAGS)
tests_check_identity_LDADD = $(NSC_CHECK_LDADD)
tests_check_batch_SOURCES = tests/check_batch.c
tests_check_batch_CFLAGS = $(NSC_CHECK_CFLAGS)
tests_check_batch_LDADD = $(NSC_CHECK_LDADD)
tests_check_log_SOURCES = tests/check_log.c $(NSC_LOGLINE_SOURCES)
tests_check_log_CFLAGS = $(NSC_CHECK_CFLAGS)
tests_check_log_LDADD = $(NSC_CHECK_LDADD)
tests_check_log_redact_SOURCES = tests/check_log_redact.c
tests_check_log_redact_CFLAGS = $(NSC_CHECK_CFLAGS)
tests_check_log_redact_LDADD = $(NSC_CHECK_LDADD)
tests_check_config_SOURCES = tests/check_config.c $(NSC_LOGLINE_SOURCES)
tests_check_config_CFLAGS = $(NSC_CHECK_CFLAGS)
tests_check_config_LDADD = $(NSC_CHECK_LDADD)

tests_check_settings_SOURCES = tests/check_settings.c
tests_check_settings_CFLAGS = $(NSC_CHECK_CFLAGS)
tests_check_settings_LDADD = $(NSC_CHECK_LDADD)
tests_check_backoff_SOURCES = tests/check_backoff.c
tests_check_backoff_CFLAGS = $(NSC_CHECK_CFLAGS)
tests_check_backoff_LDADD = $(NSC_CHECK_LDADD)
tests_check_loop_SOURCES = tests/check_loop.c
tests_check_loop_CFLAGS = $(NSC_CHECK_CFLAGS)
tests_check_loop_LDADD = $(NSC_CHECK_LDADD)
tests_check_session_SOURCES = tests/check_session.c $(NSC_ENGINE_TEST_SOURCES)
tests_check_session_CFLAGS = $(NSC_CHECK_CFLAGS)
tests_check_session_LDADD = $(NSC_CHECK_LDADD)
tests_check_frame_SOURCES = tests/check_frame.c $(NSC_ENGINE_TEST_SOURCES)
tests_check_frame_CFLAGS = $(NSC_CHECK_CFLAGS)
tests_check_frame_LDADD = $(NSC_CHECK_LDADD)
tests_check_bridge_SOURCES = tests/check_bridge.c $(NSC_ENGINE_TEST_SOURCES)
tests_check_bridge_CFLAGS = $(NSC_CHECK_CFLAGS)
tests_check_bridge_LDADD = $(NSC_CHECK_LDADD)
tests_check_announce_SOURCES = tests/check_announce.c tests/keep_output.c tests/keep_output.h $(NSC_ENGINE_TEST_SOURCES)
tests_check_announce_CFLAGS = $(NSC_CHECK_CFLAGS)
tests_check_announce_LDADD = $(NSC_CHECK_LDADD)
tests_check_backfill_SOURCES = tests/check_backfill.c $(NSC_ENGINE_TEST_SOURCES)
tests_check_backfill_CFLAGS = $(NSC_CHECK_CFLAGS)
tests_check_backfill_LDADD = $(NSC_CHECK_LDADD)
tests_check_schedule_SOURCES = tests/check_schedule.c
tests_check_schedule_CFLAGS = $(NSC_CHECK_CFLAGS)
tests_check_schedule_LDADD = $(NSC_CHECK_LDADD)
tests_check_simulator_SOURCES = tests/check_simulator.c $(NSC_LOG_CAPTURE_SOURCES)
tests_check_simulator_CFLAGS = $(NSC_CHECK_CFLAGS)
tests_check_simulator_LDADD = $(NSC_CHECK_LDADD)
tests_check_filesystem_SOURCES = tests/check_filesystem.c $(NSC_LOG_CAPTURE_SOURCES) tests/test_docs.c tests/test_docs.h
tests_check_filesystem_CFLAGS = $(NSC_CHECK_CFLAGS)
tests_check_filesystem_LDADD = $(NSC_CHECK_LDADD)
endif

# The same grammar for the CLI's stderr, in the shell tests.
check_PROGRAMS += tests/nsc-logcheck
tests_nsc_logcheck_SOURCES = tests/nsc-logcheck.c tests/logline.c tests/logline.h

# CLI-level tests: exit codes, configuration errors, quick-start run twice
# without duplicates, secrets absent from trace output, README coverage.
NSC_SHELL_TESTS = \
	tests/cli_config.sh \
	tests/cli_capture.sh \
	tests/cli_redaction.sh \
	tests/cli_forever.sh \
	tests/cli_serve.sh \
	tests/cli_announce.sh \
	tests/cli_doctor_sources.sh \
	tests/readme_settings.sh \
	tests/embed_example.sh
TESTS += $(NSC_SHELL_TESTS)
dist_check_SCRIPTS += $(NSC_SHELL_TESTS)
EXTRA_DIST += plugin/example/embed_example.c
