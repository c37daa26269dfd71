#include "sink_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "buffer.h"
#include "error.h"
#include "normalize.h"
#include "sink.h"
#include "staged_file.h"

struct json_writer {
	struct imaddr_sink base;
	char *path;                      /* "-": standard output */
	size_t per_code;
	const struct imaddr_audit_options *options;
	int64_t started;
	struct imaddr_staged_file file;    /* unused for standard output */
	json_t *document;                  /* standard output's, from end to commit */
	struct imaddr_dup_groups groups;
	json_t *findings;                /* the first per_code findings of each code */
	size_t listed[IMADDR_CODE_COUNT];
	struct imaddr_buf scratch;
};

/* The library's policy: running out of memory ends the program (imaddr.h). */
static json_t *checked(json_t *value)
{
	if (!value)
		imaddr_fatal("out of memory");
	return value;
}

static void set(json_t *object, const char *key, json_t *value)
{
	if (json_object_set_new(object, key, checked(value)) != 0)
		imaddr_fatal("out of memory");
}

static void append(json_t *array, json_t *value)
{
	if (json_array_append_new(array, checked(value)) != 0)
		imaddr_fatal("out of memory");
}

/* Directory text may be any bytes; JSON strings are UTF-8 without NUL. */
static json_t *text(struct imaddr_buf *scratch, const char *value)
{
	if (!value)
		return json_null();
	imaddr_normalize_utf8_repair(value, strlen(value), scratch);
	return checked(json_stringn(scratch->data ? scratch->data : "", scratch->len));
}

static json_t *count(uint64_t value)
{
	return json_integer((json_int_t)value);
}

static json_t *ordinal_or_null(uint64_t value)
{
	return value ? count(value) : json_null();
}

/* The waiver that accepts a finding, or null. */
static json_t *waiver_object(struct imaddr_buf *scratch, const struct imaddr_finding *f)
{
	if (!f->waiver_reason)
		return json_null();
	json_t *object = checked(json_object());
	set(object, "reason", text(scratch, f->waiver_reason));
	set(object, "expires", text(scratch, f->waiver_expires));
	set(object, "source", text(scratch, f->waiver_source));
	return object;
}

static json_t *finding_object(struct imaddr_buf *scratch, const struct imaddr_finding *f,
			       uint64_t duplicate_group)
{
	json_t *object = checked(json_object());
	set(object, "code", json_string(imaddr_code_name(f->code)));
	set(object, "severity", json_string(imaddr_severity_name(f->severity)));
	set(object, "ordinal", ordinal_or_null(f->ordinal));
	set(object, "line", ordinal_or_null(f->line));
	set(object, "dn", text(scratch, f->dn));
	set(object, "user_id", text(scratch, f->user_id));
	set(object, "cluster", text(scratch, f->cluster));
	set(object, "field", text(scratch, f->field));
	set(object, "value", text(scratch, f->value));
	set(object, "message", text(scratch, f->message));
	set(object, "suggestion", text(scratch, f->suggestion));
	set(object, "related_ordinal", ordinal_or_null(f->related_ordinal));
	set(object, "duplicate_group", ordinal_or_null(duplicate_group));
	set(object, "waiver", waiver_object(scratch, f));
	return object;
}

static enum imaddr_status begin(struct imaddr_sink *sink, const struct imaddr_run_info *info,
				struct imaddr_error *err)
{
	struct json_writer *writer = (struct json_writer *)sink;
	writer->options = info->options;
	writer->started = info->started;
	if (!strcmp(writer->path, "-"))
		return IMADDR_OK;
	return imaddr_staged_file_begin(&writer->file, info, err);
}

static enum imaddr_status finding(struct imaddr_sink *sink, const struct imaddr_finding *f,
				  struct imaddr_error *err)
{
	struct json_writer *writer = (struct json_writer *)sink;
	uint64_t group = imaddr_dup_groups_next(&writer->groups, f);
	if (writer->listed[f->code] == writer->per_code)
		return IMADDR_OK;
	writer->listed[f->code]++;
	append(writer->findings, finding_object(&writer->scratch, f, group));
	return IMADDR_OK;
}

static const char *scheme_name(enum imaddr_scheme scheme)
{
	return scheme == IMADDR_SCHEME_USERID ? "userid" : "directory-uri";
}

static json_t *run_object(struct json_writer *writer)
{
	const struct imaddr_audit_options *options = writer->options;
	json_t *run = checked(json_object());
	char started[32] = "";
	time_t when = (time_t)writer->started;
	struct tm utc;
	if (gmtime_r(&when, &utc))
		strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ", &utc);
	set(run, "version", json_string(IMADDR_VERSION));
	set(run, "started", json_string(started));
	set(run, "input", text(&writer->scratch, options->input_name));
	set(run, "scheme", json_string(scheme_name(options->scheme)));
	set(run, "default_domain", text(&writer->scratch, options->default_domain));
	set(run, "im_domains", text(&writer->scratch, options->im_domains));
	set(run, "premigration", json_boolean(options->premigration));
	if (options->premigration) {
		set(run, "current_scheme", json_string(scheme_name(options->current_scheme)));
		set(run, "current_default_domain",
		    text(&writer->scratch, options->current_default_domain
					   ? options->current_default_domain
					   : options->default_domain));
	}
	set(run, "waivers", text(&writer->scratch, options->waivers));
	return run;
}

static json_t *totals_object(const struct imaddr_run_totals *totals, bool premigration)
{
	json_t *object = checked(json_object());
	set(object, "users", count(totals->users));
	set(object, "users_with_im_address", count(totals->users_with_im_address));
	set(object, "users_without_im_address",
	    count(totals->users - totals->users_with_im_address));
	set(object, "users_with_error", count(totals->users_with_error));
	set(object, "errors", count(totals->by_severity[IMADDR_SEVERITY_ERROR]));
	set(object, "warnings", count(totals->by_severity[IMADDR_SEVERITY_WARNING]));
	set(object, "infos", count(totals->by_severity[IMADDR_SEVERITY_INFO]));
	set(object, "waived", count(totals->waived));
	if (premigration) {
		set(object, "im_address_changes", count(totals->im_address_changes));
		set(object, "im_address_lost", count(totals->im_address_lost));
		set(object, "im_address_gained", count(totals->im_address_gained));
	}
	return object;
}

static json_t *codes_array(struct json_writer *writer, const struct imaddr_run_totals *totals)
{
	json_t *codes = checked(json_array());
	for (int severity = IMADDR_SEVERITY_ERROR; severity >= IMADDR_SEVERITY_INFO; severity--) {
		for (int code = 0; code < IMADDR_CODE_COUNT; code++) {
			if ((!totals->by_code[code] && !totals->waived_by_code[code]) ||
			    (int)imaddr_code_severity(code) != severity)
				continue;
			json_t *item = checked(json_object());
			set(item, "code", json_string(imaddr_code_name(code)));
			set(item, "severity", json_string(imaddr_severity_name(severity)));
			set(item, "count", count(totals->by_code[code]));
			set(item, "waived", count(totals->waived_by_code[code]));
			set(item, "listed", count(writer->listed[code]));
			set(item, "summary", json_string(imaddr_code_summary(code)));
			append(codes, item);
		}
	}
	return codes;
}

static json_t *domains_array(struct json_writer *writer, const struct imaddr_run_totals *totals)
{
	json_t *domains = checked(json_array());
	for (size_t i = 0; i < totals->domain_count; i++) {
		const struct imaddr_domain_count *d = &totals->domains[i];
		json_t *item = checked(json_object());
		set(item, "ascii", text(&writer->scratch, d->ascii));
		set(item, "unicode", text(&writer->scratch, d->unicode));
		set(item, "users", count(d->users));
		set(item, "configured", json_boolean(d->configured));
		append(domains, item);
	}
	return domains;
}

/* Counts by code, errors first, as codes_array orders them. */
static json_t *code_counts(const uint64_t by_code[IMADDR_CODE_COUNT])
{
	json_t *codes = checked(json_array());
	for (int severity = IMADDR_SEVERITY_ERROR; severity >= IMADDR_SEVERITY_INFO; severity--) {
		for (int code = 0; code < IMADDR_CODE_COUNT; code++) {
			if (!by_code[code] || (int)imaddr_code_severity(code) != severity)
				continue;
			json_t *item = checked(json_object());
			set(item, "code", json_string(imaddr_code_name(code)));
			set(item, "severity", json_string(imaddr_severity_name(severity)));
			set(item, "count", count(by_code[code]));
			append(codes, item);
		}
	}
	return codes;
}

static json_t *severity_counts(const uint64_t by_severity[3])
{
	json_t *object = checked(json_object());
	set(object, "errors", count(by_severity[IMADDR_SEVERITY_ERROR]));
	set(object, "warnings", count(by_severity[IMADDR_SEVERITY_WARNING]));
	set(object, "infos", count(by_severity[IMADDR_SEVERITY_INFO]));
	return object;
}

/* Null without a report, or on the first run of a label. */
static json_t *changes_object(struct json_writer *writer, const struct imaddr_run_changes *changes)
{
	if (!changes || !changes->previous_run_id)
		return json_null();
	json_t *object = checked(json_object());
	json_t *previous = checked(json_object());
	json_t *examples = checked(json_array());
	set(previous, "run", count((uint64_t)changes->previous_run_id));
	set(previous, "started", text(&writer->scratch, changes->previous_started));
	set(previous, "users", count(changes->previous_users));
	set(object, "previous_run", previous);
	set(object, "users_added", count(changes->users_added));
	set(object, "users_removed", count(changes->users_removed));
	set(object, "im_addresses_changed", count(changes->im_addresses_changed));
	set(object, "new", severity_counts(changes->new_by_severity));
	set(object, "resolved", severity_counts(changes->resolved_by_severity));
	set(object, "new_by_code", code_counts(changes->new_by_code));
	set(object, "resolved_by_code", code_counts(changes->resolved_by_code));
	for (size_t i = 0; i < changes->example_count; i++) {
		json_t *item = checked(json_object());
		enum imaddr_code code = changes->example_codes[i];
		set(item, "code", code < IMADDR_CODE_COUNT ? json_string(imaddr_code_name(code))
							   : json_null());
		set(item, "text", text(&writer->scratch, changes->examples[i]));
		append(examples, item);
	}
	set(object, "new_examples", examples);
	return object;
}

/* Empty without a report: the runs of the label, oldest first, this one last. */
static json_t *history_array(struct json_writer *writer, const struct imaddr_run_changes *changes)
{
	json_t *history = checked(json_array());
	for (size_t i = 0; changes && i < changes->history_count; i++) {
		const struct imaddr_run_point *point = &changes->history[i];
		json_t *item = checked(json_object());
		set(item, "run", count((uint64_t)point->run_id));
		set(item, "started", text(&writer->scratch, point->started));
		set(item, "users", count(point->users));
		set(item, "errors", count(point->errors));
		set(item, "warnings", count(point->warnings));
		set(item, "infos", count(point->infos));
		append(history, item);
	}
	return history;
}

/* totals->outputs is a line per output; continuation lines start with a space. */
static json_t *outputs_array(struct json_writer *writer, const char *outputs)
{
	json_t *array = checked(json_array());
	while (outputs && *outputs) {
		size_t length = strcspn(outputs, "\n");
		char *line = imaddr_xstrndup(outputs, length);
		append(array, text(&writer->scratch, line));
		free(line);
		outputs += length + (outputs[length] == '\n');
	}
	return array;
}

static enum imaddr_status end(struct imaddr_sink *sink, const struct imaddr_run_totals *totals,
			      struct imaddr_error *err)
{
	struct json_writer *writer = (struct json_writer *)sink;
	json_t *document = checked(json_object());
	json_t *san = checked(json_array());
	for (size_t i = 0; i < totals->domain_count; i++)
		append(san, text(&writer->scratch, totals->domains[i].ascii));

	set(document, "imaddr_json", json_integer(IMADDR_JSON_SCHEMA));
	set(document, "run", run_object(writer));
	set(document, "verdict",
	    json_string(totals->by_severity[IMADDR_SEVERITY_ERROR] ? "no-go" : "go"));
	set(document, "totals", totals_object(totals, writer->options->premigration));
	set(document, "codes", codes_array(writer, totals));
	set(document, "domains", domains_array(writer, totals));
	set(document, "certificate_san", san);
	set(document, "outputs", outputs_array(writer, totals->outputs));
	set(document, "label", totals->changes ? text(&writer->scratch, totals->changes->label)
					       : json_null());
	set(document, "report_run", totals->changes ? count((uint64_t)totals->changes->run_id)
						    : json_null());
	set(document, "changes", changes_object(writer, totals->changes));
	set(document, "history", history_array(writer, totals->changes));
	set(document, "findings_per_code", count(writer->per_code));
	json_object_set(document, "findings", writer->findings);

	/* Standard output cannot be taken back: it gets the document once the run is decided. */
	if (!strcmp(writer->path, "-")) {
		writer->document = document;
		return IMADDR_OK;
	}
	FILE *out = writer->file.stream;
	int failed = json_dumpf(document, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0;
	failed |= fputc('\n', out) == EOF;
	json_decref(document);
	if (failed) {
		imaddr_staged_file_abort(&writer->file);
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write '%s'", writer->path);
	}
	return imaddr_staged_file_prepare(&writer->file, err);
}

static enum imaddr_status commit(struct imaddr_sink *sink, struct imaddr_error *err)
{
	struct json_writer *writer = (struct json_writer *)sink;
	if (!writer->document)
		return imaddr_staged_file_commit(&writer->file, err);
	int failed = json_dumpf(writer->document, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0;
	failed |= fputc('\n', stdout) == EOF;
	failed |= fflush(stdout) != 0;
	json_decref(writer->document);
	writer->document = NULL;
	if (failed)
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write the JSON to standard output");
	return IMADDR_OK;
}

static void describe(struct imaddr_sink *sink, struct imaddr_buf *out,
		     struct imaddr_run_totals *told)
{
	const struct json_writer *writer = (const struct json_writer *)sink;
	if (strcmp(writer->path, "-"))
		imaddr_buf_appendf(out, "JSON '%s'\n", writer->path);
}

static void json_abort(struct imaddr_sink *sink)
{
	struct json_writer *writer = (struct json_writer *)sink;
	if (strcmp(writer->path, "-"))
		imaddr_staged_file_abort(&writer->file);
	json_decref(writer->document);
	writer->document = NULL;
}

static void json_free(struct imaddr_sink *sink)
{
	struct json_writer *writer = (struct json_writer *)sink;
	json_abort(sink);
	imaddr_staged_file_release(&writer->file);
	json_decref(writer->findings);
	imaddr_buf_release(&writer->scratch);
	free(writer->path);
	free(writer);
}

/* Last: the document lists the files the other outputs wrote. */
static const struct imaddr_sink_ops json_ops = {
	.name = "json",
	.flags = IMADDR_SINK_LAST,
	.begin = begin,
	.finding = finding,
	.end = end,
	.describe = describe,
	.commit = commit,
	.abort = json_abort,
	.free = json_free,
};

enum imaddr_status imaddr_sink_json_open(const char *path, size_t findings_per_code,
					 struct imaddr_sink **out, struct imaddr_error *err)
{
	if (strcmp(path, "-")) {
		enum imaddr_status status = imaddr_staged_file_check(path, err);
		if (status != IMADDR_OK)
			return status;
	}
	struct json_writer *writer = imaddr_xcalloc(1, sizeof(*writer));
	writer->base.ops = &json_ops;
	writer->path = imaddr_xstrdup(path);
	writer->per_code = findings_per_code;
	imaddr_staged_file_init(&writer->file, writer->path, IMADDR_STAGED_FILE_WAIT_MS);
	writer->findings = checked(json_array());
	imaddr_dup_groups_init(&writer->groups);
	imaddr_buf_init(&writer->scratch, 0);
	*out = &writer->base;
	return IMADDR_OK;
}

enum imaddr_status imaddr_address_result_write_json(const char *address, size_t length,
						    const struct imaddr_address_result *result,
						    void *out, struct imaddr_error *err)
{
	struct imaddr_buf scratch;
	char *copy = imaddr_xstrndup(address, length);
	json_t *object = checked(json_object());
	json_t *findings = checked(json_array());
	imaddr_buf_init(&scratch, 0);
	bool valid = true;

	set(object, "address", text(&scratch, copy));
	set(object, "canonical", text(&scratch, result->canonical));
	set(object, "unicode", text(&scratch, result->unicode));
	for (size_t i = 0; i < result->finding_count; i++) {
		const struct imaddr_address_result_finding *f = &result->findings[i];
		enum imaddr_severity severity = imaddr_code_severity(f->code);
		json_t *item = checked(json_object());
		valid &= severity != IMADDR_SEVERITY_ERROR;
		set(item, "code", json_string(imaddr_code_name(f->code)));
		set(item, "severity", json_string(imaddr_severity_name(severity)));
		set(item, "message", text(&scratch, f->message));
		set(item, "suggestion", text(&scratch, f->suggestion));
		append(findings, item);
	}
	set(object, "valid", json_boolean(valid));
	set(object, "findings", findings);
	int failed = json_dumpf(object, out, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0 ||
		     fputc('\n', out) == EOF;
	json_decref(object);
	imaddr_buf_release(&scratch);
	free(copy);
	if (failed)
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write the JSON line");
	return IMADDR_OK;
}
