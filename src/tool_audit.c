#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buffer.h"
#include "tool.h"
#include "tool_audit_options.h"

/*
 * The bind password into main's one buffer: -y's file, else -W's prompt,
 * else IMADDR_LDAP_PASSWORD (taken at start-up), else a prompt when standard
 * input is a terminal.
 */
static int read_password(struct audit_config *config)
{
	struct tool_password *password = config->password;
	int status = TOOL_EXIT_CLEAN;
	if (!config->ldap.bind_dn || config->ldap.sasl_mech) {
		/* A bind DN with SASL: the library says why, naming the identity's source. */
		if (config->ldap.bind_dn)
			return TOOL_EXIT_CLEAN;
		if (config->password_file || config->ask_password)
			tool_error("-y and -W go with -D/--bind-dn (a simple bind)");
		return config->password_file || config->ask_password ? TOOL_EXIT_USAGE
								      : TOOL_EXIT_CLEAN;
	}
	if (config->password_file)
		status = tool_password_read_file(password, config->password_file);
	else if (config->ask_password)
		status = tool_password_prompt(password, config->ldap.bind_dn);
	else if (password->too_long) {
		tool_error(TOOL_PASSWORD_ENV " is longer than %zu bytes", sizeof(password->text) - 1);
		status = TOOL_EXIT_USAGE;
	} else if (!password->held && !password->from_environment && isatty(STDIN_FILENO))
		status = tool_password_prompt(password, config->ldap.bind_dn);
	if (status != TOOL_EXIT_CLEAN)
		return status;
	if (!password->held) {
		tool_error("-D/--bind-dn needs a password: -y FILE, the " TOOL_PASSWORD_ENV
			   " environment variable, or -W to ask on the terminal");
		return TOOL_EXIT_USAGE;
	}
	config->ldap.password = password->text;
	return TOOL_EXIT_CLEAN;
}

/* The library reports; the program draws, only on a terminal (see open_reader). */
static void show_ldap_progress(void *context, const struct imaddr_ldap_progress *progress)
{
	struct progress_line *line = context;
	if (progress->done) {
		if (line->width) {
			fprintf(stderr, "\r%*s\r", line->width, "");
			fflush(stderr);
		}
		line->width = 0;
		return;
	}
	char text[300];
	double elapsed = progress->elapsed_seconds;
	int width = snprintf(text, sizeof(text), "imaddr: %s: %llu entries read, %.0f/s",
			     line->uri, (unsigned long long)progress->entries,
			     elapsed > 0 ? (double)progress->entries / elapsed : 0.0);
	if (width < 0)
		return;
	/* Pad over a longer previous line. */
	fprintf(stderr, "\r%s%*s", text, line->width > width ? line->width - width : 0, "");
	if (width > line->width)
		line->width = width;
	fflush(stderr);
}

static enum imaddr_status open_reader(struct audit_config *config,
				      const struct tool_input *input, struct imaddr_reader **out,
				      struct imaddr_error *err)
{
	if (input->kind == OPT_CSV)
		return imaddr_csv_reader_open_with(input->name, &config->file, out, err);
	if (input->kind == OPT_LDIF)
		return imaddr_ldif_reader_open_with(input->name, &config->file, out, err);
	if (isatty(STDERR_FILENO)) {
		config->progress.uri = config->ldap.uri;
		config->ldap.progress = show_ldap_progress;
		config->ldap.progress_context = &config->progress;
	}
	enum imaddr_status status = imaddr_ldap_reader_open(&config->ldap, out, err);
	/* The reader keeps a copy of its own, which it wipes after the bind. */
	tool_password_clear(config->password);
	config->ldap.password = NULL;
	return status;
}

/* With the BAT file on standard output, the summary goes to standard error. */
static FILE *summary_stream(const struct audit_config *config)
{
	return config->bat && !strcmp(config->bat, "-") ? stderr : stdout;
}

/* Whether the inputs name more than one cluster. */
static enum imaddr_status add_outputs(struct audit_config *config, struct imaddr_audit *audit,
				      struct imaddr_error *err)
{
	struct imaddr_sink *sink;
	enum imaddr_status status = IMADDR_OK;
	/* The report first: its commit decides the run, and its lock is taken first. */
	if (config->db &&
	    (status = imaddr_sink_report_open(config->db, config->wait_ms, &sink, err)) == IMADDR_OK)
		imaddr_audit_add_sink(audit, sink);
	/* A BAT job runs on one cluster: several clusters' rows go to files apart. */
	uint64_t bat_chunk = tool_audit_bat_chunk(config);
	if (status == IMADDR_OK && config->bat &&
	    (status = imaddr_sink_bat_open(config->bat, bat_chunk, config->wait_ms, &sink,
					   err)) == IMADDR_OK)
		imaddr_audit_add_sink(audit, sink);
	if (status == IMADDR_OK && config->ldif_fixes &&
	    (status = imaddr_sink_ldif_fixes_open(config->ldif_fixes, &sink, err)) == IMADDR_OK)
		imaddr_audit_add_sink(audit, sink);
	if (status == IMADDR_OK && config->runbook &&
	    (status = imaddr_sink_runbook_open(config->runbook, &sink, err)) == IMADDR_OK)
		imaddr_audit_add_sink(audit, sink);
	if (status == IMADDR_OK && config->worklist &&
	    (status = imaddr_sink_worklist_open(config->worklist, &sink, err)) == IMADDR_OK)
		imaddr_audit_add_sink(audit, sink);
	if (status == IMADDR_OK && config->html &&
	    (status = imaddr_sink_html_open(config->html, &sink, err)) == IMADDR_OK)
		imaddr_audit_add_sink(audit, sink);
	if (status == IMADDR_OK && config->json &&
	    (status = imaddr_sink_json_open(config->json, (size_t)config->json_findings, &sink,
					    err)) == IMADDR_OK)
		imaddr_audit_add_sink(audit, sink);
	FILE *summary = summary_stream(config);
	bool json_to_stdout = config->json && !strcmp(config->json, "-");
	if (status == IMADDR_OK && !config->quiet &&
	    (status = imaddr_sink_summary_open(summary, &sink, err)) == IMADDR_OK)
		imaddr_audit_add_sink(audit, sink);
	/* --quiet: only the news, for cron to mail (not into --json -'s stream). */
	if (status == IMADDR_OK && config->quiet && config->db && !json_to_stdout &&
	    (status = imaddr_sink_summary_open_changes(summary, &sink, err)) == IMADDR_OK)
		imaddr_audit_add_sink(audit, sink);
	return status;
}

/* A pipe's "-" would read as a stray dash at the head of the summary. */
static const char *shown_name(const struct tool_input *input)
{
	return strcmp(input->name, "-") ? input->name : "standard input";
}

/* "users.csv", or "east: ldap://dc1, west: users.csv" when clusters are named. */
static char *input_name(const struct audit_config *config)
{
	size_t size = 1;
	for (size_t i = 0; i < config->input_count; i++) {
		const struct tool_input *input = &config->inputs[i];
		size += strlen(shown_name(input)) + 4 +
			(input->cluster ? strlen(input->cluster) : 0);
	}
	char *name = calloc(1, size);
	size_t used = 0;
	if (!name)
		return NULL;
	for (size_t i = 0; i < config->input_count; i++) {
		const struct tool_input *input = &config->inputs[i];
		used += (size_t)snprintf(name + used, size - used, "%s%s%s%s", i ? ", " : "",
					 input->cluster ? input->cluster : "",
					 input->cluster ? ": " : "", shown_name(input));
	}
	return name;
}

/*
 * The run's identity, unless --label names it: what tells this source from
 * another (docs/nightly.md). A file's name without its date stamp, so that
 * users-2026-12-01.csv follows users-2026-11-30.csv; a directory's search as
 * an LDAP URL, so that another base or filter is another profile.
 */
static bool reads_standard_input(const char *path)
{
	return !strcmp(path, "-") || !strcmp(path, "/dev/stdin") || !strcmp(path, "/dev/fd/0") ||
	       !strcmp(path, "/proc/self/fd/0");
}

static char *derived_label(const struct audit_config *config)
{
	struct imaddr_buf label;
	imaddr_buf_init(&label, 0);
	for (size_t i = 0; i < config->input_count; i++) {
		const struct tool_input *input = &config->inputs[i];
		char *one;
		if (input->kind == OPT_LDAP)
			one = imaddr_run_label_for_ldap(input->name, config->ldap.base,
							imaddr_ldap_scope_name(config->ldap.scope),
							config->audit.source_filter);
		else if (reads_standard_input(input->name))
			/* A pipe has no name: its kind tells a CSV's history from an LDIF's. */
			one = strdup(input->kind == OPT_LDIF ? "stdin.ldif" : "stdin.csv");
		else
			one = imaddr_run_label_for_file(input->name);
		if (!one) {
			imaddr_buf_release(&label);
			return NULL;
		}
		imaddr_buf_appendf(&label, "%s%s%s%s", i ? ", " : "",
				   input->cluster ? input->cluster : "", input->cluster ? ": " : "",
				   one);
		/* A file's users are the filter's, given or the directory type's. */
		if (input->kind != OPT_LDAP && config->audit.source_filter)
			imaddr_buf_appendf(&label, "?%s", config->audit.source_filter);
		free(one);
	}
	return imaddr_buf_detach(&label);
}

/* What the report records of the source beside the label. */
static void set_source(struct audit_config *config)
{
	if (config->ldap.uri) {
		config->audit.source_base = config->ldap.base;
		config->audit.source_scope = imaddr_ldap_scope_name(config->ldap.scope);
		config->audit.source_filter =
			config->ldap.filter ? config->ldap.filter
					    : imaddr_directory_default_filter(config->ldap.directory_type);
	} else {
		/* A file's entries are selected by it; without either, by the type they show. */
		config->audit.source_filter =
			config->ldap.filter ? config->ldap.filter
			: config->directory_type_given
				? imaddr_directory_default_filter(config->ldap.directory_type)
				: NULL;
	}
}

/*
 * The run's configuration from the command line and the configuration
 * file, checked, up to what the library is handed: no password is read and
 * no input or output opened. Returns a TOOL_EXIT_* status, with
 * config->answered after --help or --version. Release the configuration
 * in any case.
 */
static int configure(int argc, char **argv, struct audit_config *config,
		     struct tool_password *password)
{
	int exit_status = tool_audit_options_read(argc, argv, config, password);
	if (exit_status != TOOL_EXIT_CLEAN || config->answered)
		return exit_status;
	config->audit.input_name = config->name = input_name(config);
	set_source(config);
	if (!config->audit.label)
		config->audit.label = config->label = derived_label(config);
	/* The label's next run takes the users it saw from here (docs/nightly.md). */
	if (config->db && !config->no_user_cache) {
		size_t length = strlen(config->db);
		config->user_cache = malloc(length + sizeof(".users"));
		if (!config->user_cache) {
			tool_error("out of memory");
			return TOOL_EXIT_FAILURE;
		}
		memcpy(config->user_cache, config->db, length);
		memcpy(config->user_cache + length, ".users", sizeof(".users"));
		config->audit.user_cache_dir = config->user_cache;
	}
	return TOOL_EXIT_CLEAN;
}

static void audit_config_release(struct audit_config *config)
{
	free(config->name);
	free(config->label);
	free(config->user_cache);
	free(config->configured_uri);
	tool_config_release(&config->config_file);
}

int tool_audit_configure_only(int argc, char **argv)
{
	struct audit_config config;
	struct tool_password password = { "", false, false, false };
	int exit_status = configure(argc, argv, &config, &password);
	audit_config_release(&config);
	return exit_status;
}

/*
 * --keep-runs: the run's label pruned after its commit. A failure leaves the
 * run recorded and exits 3; what was removed follows the summary.
 */
static int keep_runs(const struct audit_config *config, int exit_status)
{
	struct imaddr_prune_result result;
	struct imaddr_error err = { "" };
	enum imaddr_status status = imaddr_report_prune(config->db, config->audit.label,
							(unsigned)config->keep_runs,
							config->wait_ms, &result, &err);
	if (status != IMADDR_OK) {
		tool_error("the run is recorded, but --keep-runs failed: %s",
			   err.message[0] ? err.message : imaddr_strerror(status));
		return TOOL_EXIT_FAILURE;
	}
	if (!config->quiet) {
		FILE *out = summary_stream(config);
		fputc('\n', out);
		tool_print_pruned(out, &result, (unsigned)config->keep_runs, config->audit.label);
		fflush(out);
	}
	return exit_status;
}

/*
 * --syslog: the run's outcome in one line, whatever it was, once the options
 * are read; `totals` NULL when the run did not complete.
 */
static void send_syslog(const struct audit_config *config,
			const struct imaddr_run_totals *totals, int exit_status)
{
	struct tool_syslog_run run = {
		.label = config->audit.label,
		.exit_status = exit_status,
		.error = exit_status > TOOL_EXIT_FINDINGS ? tool_first_error() : NULL,
	};
	if (totals) {
		const struct imaddr_run_changes *changes = totals->changes;
		run.completed = true;
		run.users = totals->users;
		run.errors = totals->by_severity[IMADDR_SEVERITY_ERROR];
		run.warnings = totals->by_severity[IMADDR_SEVERITY_WARNING];
		if (changes) {
			run.run_id = changes->run_id;
			run.previous_run_id = changes->previous_run_id;
			for (int severity = 0; severity < 3; severity++) {
				run.new_findings += changes->new_by_severity[severity];
				run.resolved_findings += changes->resolved_by_severity[severity];
			}
		}
	}
	tool_syslog_send(config->syslog_facility, &run);
}

int tool_audit(int argc, char **argv, struct tool_password *password)
{
	struct audit_config config;
	struct imaddr_audit *audit = NULL;
	struct imaddr_input inputs[MAX_INPUTS] = { { NULL, NULL } };
	struct imaddr_run_totals totals;
	bool completed = false;
	struct imaddr_error err = { "" };
	enum imaddr_status status;

	int exit_status = configure(argc, argv, &config, password);
	if (exit_status != TOOL_EXIT_CLEAN || config.answered)
		goto out;
	exit_status = read_password(&config);
	if (exit_status != TOOL_EXIT_CLEAN)
		goto out;

	status = imaddr_audit_new(&config.audit, &audit, &err);
	for (size_t i = 0; status == IMADDR_OK && i < config.input_count; i++) {
		inputs[i].cluster = config.inputs[i].cluster;
		status = open_reader(&config, &config.inputs[i], &inputs[i].reader, &err);
	}
	if (status == IMADDR_OK)
		status = add_outputs(&config, audit, &err);
	if (status == IMADDR_OK) {
		tool_set_test_hooks();
		tool_catch_signals();
		status = imaddr_audit_run_inputs(audit, inputs, config.input_count, &totals, &err);
	}
	if (status != IMADDR_OK) {
		tool_error("%s", err.message[0] ? err.message : imaddr_strerror(status));
		exit_status = tool_exit_for(status);
		goto out;
	}
	completed = true;
	exit_status = TOOL_EXIT_CLEAN;
	for (int severity = config.fail_on; !config.fail_never && severity <= IMADDR_SEVERITY_ERROR;
	     severity++) {
		/* Without a previous run every finding is new. */
		uint64_t count = !config.fail_new ? totals.by_severity[severity]
				 : totals.changes && totals.changes->previous_run_id
					 ? totals.changes->new_by_severity[severity]
					 : totals.by_severity[severity];
		if (count)
			exit_status = TOOL_EXIT_FINDINGS;
	}
	if (config.keep_runs)
		exit_status = keep_runs(&config, exit_status);
out:
	/* Before the audit is freed: the changes are the report's. */
	if (config.syslog && !config.answered)
		send_syslog(&config, completed ? &totals : NULL, exit_status);
	for (size_t i = 0; i < config.input_count; i++)
		imaddr_reader_free(inputs[i].reader);
	imaddr_audit_free(audit);
	tool_password_clear(password);
	audit_config_release(&config);
	return exit_status;
}
