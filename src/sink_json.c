#include "sink_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "buffer.h"
#include "json_build.h"
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

static json_t *ordinal_or_null(uint64_t value)
{
	return value ? imaddr_json_count(value) : json_null();
}

/* The waiver that accepts a finding, or null. */
static json_t *waiver_object(struct imaddr_buf *scratch, const struct imaddr_finding *f)
{
	if (!f->waiver_reason)
		return json_null();
	json_t *object = imaddr_json_checked(json_object());
	imaddr_json_set(object, "reason", imaddr_json_text(scratch, f->waiver_reason));
	imaddr_json_set(object, "expires", imaddr_json_text(scratch, f->waiver_expires));
	imaddr_json_set(object, "source", imaddr_json_text(scratch, f->waiver_source));
	return object;
}

static json_t *finding_object(struct imaddr_buf *scratch, const struct imaddr_finding *f,
			       uint64_t duplicate_group)
{
	json_t *object = imaddr_json_checked(json_object());
	imaddr_json_set(object, "code", json_string(imaddr_code_name(f->code)));
	imaddr_json_set(object, "severity", json_string(imaddr_severity_name(f->severity)));
	imaddr_json_set(object, "ordinal", ordinal_or_null(f->ordinal));
	imaddr_json_set(object, "line", ordinal_or_null(f->line));
	imaddr_json_set(object, "dn", imaddr_json_text(scratch, f->dn));
	imaddr_json_set(object, "user_id", imaddr_json_text(scratch, f->user_id));
	imaddr_json_set(object, "cluster", imaddr_json_text(scratch, f->cluster));
	imaddr_json_set(object, "field", imaddr_json_text(scratch, f->field));
	imaddr_json_set(object, "value", imaddr_json_text(scratch, f->value));
	imaddr_json_set(object, "message", imaddr_json_text(scratch, f->message));
	imaddr_json_set(object, "suggestion", imaddr_json_text(scratch, f->suggestion));
	imaddr_json_set(object, "related_ordinal", ordinal_or_null(f->related_ordinal));
	imaddr_json_set(object, "duplicate_group", ordinal_or_null(duplicate_group));
	imaddr_json_set(object, "waiver", waiver_object(scratch, f));
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
	imaddr_json_append(writer->findings, finding_object(&writer->scratch, f, group));
	return IMADDR_OK;
}

static const char *scheme_name(enum imaddr_scheme scheme)
{
	return scheme == IMADDR_SCHEME_USERID ? "userid" : "directory-uri";
}

static json_t *run_object(struct json_writer *writer)
{
	const struct imaddr_audit_options *options = writer->options;
	json_t *run = imaddr_json_checked(json_object());
	char started[32] = "";
	time_t when = (time_t)writer->started;
	struct tm utc;
	if (gmtime_r(&when, &utc))
		strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ", &utc);
	imaddr_json_set(run, "version", json_string(IMADDR_VERSION));
	imaddr_json_set(run, "started", json_string(started));
	imaddr_json_set(run, "input", imaddr_json_text(&writer->scratch, options->input_name));
	imaddr_json_set(run, "scheme", json_string(scheme_name(options->scheme)));
	imaddr_json_set(run, "default_domain",
			imaddr_json_text(&writer->scratch, options->default_domain));
	imaddr_json_set(run, "im_domains", imaddr_json_text(&writer->scratch, options->im_domains));
	imaddr_json_set(run, "premigration", json_boolean(options->premigration));
	if (options->premigration) {
		imaddr_json_set(run, "current_scheme", json_string(scheme_name(options->current_scheme)));
		imaddr_json_set(run, "current_default_domain",
		    imaddr_json_text(&writer->scratch, options->current_default_domain
					   ? options->current_default_domain
					   : options->default_domain));
	}
	imaddr_json_set(run, "waivers", imaddr_json_text(&writer->scratch, options->waivers));
	return run;
}

static json_t *totals_object(const struct imaddr_run_totals *totals, bool premigration)
{
	json_t *object = imaddr_json_checked(json_object());
	imaddr_json_set(object, "users", imaddr_json_count(totals->users));
	imaddr_json_set(object, "users_with_im_address", imaddr_json_count(totals->users_with_im_address));
	imaddr_json_set(object, "users_without_im_address",
	    imaddr_json_count(totals->users - totals->users_with_im_address));
	imaddr_json_set(object, "users_with_error", imaddr_json_count(totals->users_with_error));
	imaddr_json_set(object, "errors", imaddr_json_count(totals->by_severity[IMADDR_SEVERITY_ERROR]));
	imaddr_json_set(object, "warnings",
			imaddr_json_count(totals->by_severity[IMADDR_SEVERITY_WARNING]));
	imaddr_json_set(object, "infos", imaddr_json_count(totals->by_severity[IMADDR_SEVERITY_INFO]));
	imaddr_json_set(object, "waived", imaddr_json_count(totals->waived));
	if (premigration) {
		imaddr_json_set(object, "im_address_changes", imaddr_json_count(totals->im_address_changes));
		imaddr_json_set(object, "im_address_lost", imaddr_json_count(totals->im_address_lost));
		imaddr_json_set(object, "im_address_gained", imaddr_json_count(totals->im_address_gained));
	}
	return object;
}

static json_t *codes_array(struct json_writer *writer, const struct imaddr_run_totals *totals)
{
	json_t *codes = imaddr_json_checked(json_array());
	for (int severity = IMADDR_SEVERITY_ERROR; severity >= IMADDR_SEVERITY_INFO; severity--) {
		for (int code = 0; code < IMADDR_CODE_COUNT; code++) {
			if ((!totals->by_code[code] && !totals->waived_by_code[code]) ||
			    (int)imaddr_code_severity(code) != severity)
				continue;
			json_t *item = imaddr_json_checked(json_object());
			imaddr_json_set(item, "code", json_string(imaddr_code_name(code)));
			imaddr_json_set(item, "severity", json_string(imaddr_severity_name(severity)));
			imaddr_json_set(item, "count", imaddr_json_count(totals->by_code[code]));
			imaddr_json_set(item, "waived", imaddr_json_count(totals->waived_by_code[code]));
			imaddr_json_set(item, "listed", imaddr_json_count(writer->listed[code]));
			imaddr_json_set(item, "summary", json_string(imaddr_code_summary(code)));
			imaddr_json_append(codes, item);
		}
	}
	return codes;
}

static json_t *domains_array(struct json_writer *writer, const struct imaddr_run_totals *totals)
{
	json_t *domains = imaddr_json_checked(json_array());
	for (size_t i = 0; i < totals->domain_count; i++) {
		const struct imaddr_domain_count *d = &totals->domains[i];
		json_t *item = imaddr_json_checked(json_object());
		imaddr_json_set(item, "ascii", imaddr_json_text(&writer->scratch, d->ascii));
		imaddr_json_set(item, "unicode", imaddr_json_text(&writer->scratch, d->unicode));
		imaddr_json_set(item, "users", imaddr_json_count(d->users));
		imaddr_json_set(item, "configured", json_boolean(d->configured));
		imaddr_json_append(domains, item);
	}
	return domains;
}

/* Counts by code, errors first, as codes_array orders them. */
static json_t *code_counts(const uint64_t by_code[IMADDR_CODE_COUNT])
{
	json_t *codes = imaddr_json_checked(json_array());
	for (int severity = IMADDR_SEVERITY_ERROR; severity >= IMADDR_SEVERITY_INFO; severity--) {
		for (int code = 0; code < IMADDR_CODE_COUNT; code++) {
			if (!by_code[code] || (int)imaddr_code_severity(code) != severity)
				continue;
			json_t *item = imaddr_json_checked(json_object());
			imaddr_json_set(item, "code", json_string(imaddr_code_name(code)));
			imaddr_json_set(item, "severity", json_string(imaddr_severity_name(severity)));
			imaddr_json_set(item, "count", imaddr_json_count(by_code[code]));
			imaddr_json_append(codes, item);
		}
	}
	return codes;
}

static json_t *severity_counts(const uint64_t by_severity[3])
{
	json_t *object = imaddr_json_checked(json_object());
	imaddr_json_set(object, "errors", imaddr_json_count(by_severity[IMADDR_SEVERITY_ERROR]));
	imaddr_json_set(object, "warnings", imaddr_json_count(by_severity[IMADDR_SEVERITY_WARNING]));
	imaddr_json_set(object, "infos", imaddr_json_count(by_severity[IMADDR_SEVERITY_INFO]));
	return object;
}

/* Null without a report, or on the first run of a label. */
static json_t *changes_object(struct json_writer *writer, const struct imaddr_run_changes *changes)
{
	if (!changes || !changes->previous_run_id)
		return json_null();
	json_t *object = imaddr_json_checked(json_object());
	json_t *previous = imaddr_json_checked(json_object());
	json_t *examples = imaddr_json_checked(json_array());
	imaddr_json_set(previous, "run", imaddr_json_count((uint64_t)changes->previous_run_id));
	imaddr_json_set(previous, "started",
			imaddr_json_text(&writer->scratch, changes->previous_started));
	imaddr_json_set(previous, "users", imaddr_json_count(changes->previous_users));
	imaddr_json_set(object, "previous_run", previous);
	imaddr_json_set(object, "users_added", imaddr_json_count(changes->users_added));
	imaddr_json_set(object, "users_removed", imaddr_json_count(changes->users_removed));
	imaddr_json_set(object, "im_addresses_changed", imaddr_json_count(changes->im_addresses_changed));
	imaddr_json_set(object, "new", severity_counts(changes->new_by_severity));
	imaddr_json_set(object, "resolved", severity_counts(changes->resolved_by_severity));
	imaddr_json_set(object, "new_by_code", code_counts(changes->new_by_code));
	imaddr_json_set(object, "resolved_by_code", code_counts(changes->resolved_by_code));
	imaddr_json_set(object, "waived", severity_counts(changes->waived_by_severity));
	imaddr_json_set(object, "waived_by_code", code_counts(changes->waived_by_code));
	for (size_t i = 0; i < changes->example_count; i++) {
		json_t *item = imaddr_json_checked(json_object());
		enum imaddr_code code = changes->example_codes[i];
		imaddr_json_set(item, "code", code < IMADDR_CODE_COUNT ? json_string(imaddr_code_name(code))
							   : json_null());
		imaddr_json_set(item, "text", imaddr_json_text(&writer->scratch, changes->examples[i]));
		imaddr_json_append(examples, item);
	}
	imaddr_json_set(object, "new_examples", examples);
	return object;
}

/* Empty without a report: the runs of the label, oldest first, this one last. */
static json_t *history_array(struct json_writer *writer, const struct imaddr_run_changes *changes)
{
	json_t *history = imaddr_json_checked(json_array());
	for (size_t i = 0; changes && i < changes->history_count; i++) {
		const struct imaddr_run_point *point = &changes->history[i];
		json_t *item = imaddr_json_checked(json_object());
		imaddr_json_set(item, "run", imaddr_json_count((uint64_t)point->run_id));
		imaddr_json_set(item, "started", imaddr_json_text(&writer->scratch, point->started));
		imaddr_json_set(item, "users", imaddr_json_count(point->users));
		imaddr_json_set(item, "errors", imaddr_json_count(point->errors));
		imaddr_json_set(item, "warnings", imaddr_json_count(point->warnings));
		imaddr_json_set(item, "infos", imaddr_json_count(point->infos));
		imaddr_json_append(history, item);
	}
	return history;
}

/* totals->outputs is a line per output; continuation lines start with a space. */
static json_t *outputs_array(struct json_writer *writer, const char *outputs)
{
	json_t *array = imaddr_json_checked(json_array());
	while (outputs && *outputs) {
		size_t length = strcspn(outputs, "\n");
		char *line = imaddr_xstrndup(outputs, length);
		imaddr_json_append(array, imaddr_json_text(&writer->scratch, line));
		free(line);
		outputs += length + (outputs[length] == '\n');
	}
	return array;
}

static enum imaddr_status end(struct imaddr_sink *sink, const struct imaddr_run_totals *totals,
			      struct imaddr_error *err)
{
	struct json_writer *writer = (struct json_writer *)sink;
	json_t *document = imaddr_json_checked(json_object());
	json_t *san = imaddr_json_checked(json_array());
	for (size_t i = 0; i < totals->domain_count; i++)
		imaddr_json_append(san, imaddr_json_text(&writer->scratch, totals->domains[i].ascii));

	imaddr_json_set(document, "imaddr_json", json_integer(IMADDR_JSON_SCHEMA));
	imaddr_json_set(document, "run", run_object(writer));
	imaddr_json_set(document, "verdict",
	    json_string(totals->by_severity[IMADDR_SEVERITY_ERROR] ? "no-go" : "go"));
	imaddr_json_set(document, "totals", totals_object(totals, writer->options->premigration));
	imaddr_json_set(document, "codes", codes_array(writer, totals));
	imaddr_json_set(document, "domains", domains_array(writer, totals));
	imaddr_json_set(document, "certificate_san", san);
	imaddr_json_set(document, "outputs", outputs_array(writer, totals->outputs));
	const struct imaddr_run_changes *changes = totals->changes;
	imaddr_json_set(document, "label", changes ? imaddr_json_text(&writer->scratch, changes->label)
						   : json_null());
	imaddr_json_set(document, "report_run",
			changes ? imaddr_json_count((uint64_t)changes->run_id) : json_null());
	imaddr_json_set(document, "changes", changes_object(writer, totals->changes));
	imaddr_json_set(document, "history", history_array(writer, totals->changes));
	imaddr_json_set(document, "findings_per_code", imaddr_json_count(writer->per_code));
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
	writer->findings = imaddr_json_checked(json_array());
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
	json_t *object = imaddr_json_checked(json_object());
	json_t *findings = imaddr_json_checked(json_array());
	imaddr_buf_init(&scratch, 0);
	bool valid = true;

	imaddr_json_set(object, "address", imaddr_json_text(&scratch, copy));
	imaddr_json_set(object, "canonical", imaddr_json_text(&scratch, result->canonical));
	imaddr_json_set(object, "unicode", imaddr_json_text(&scratch, result->unicode));
	for (size_t i = 0; i < result->finding_count; i++) {
		const struct imaddr_address_result_finding *f = &result->findings[i];
		enum imaddr_severity severity = imaddr_code_severity(f->code);
		json_t *item = imaddr_json_checked(json_object());
		valid &= severity != IMADDR_SEVERITY_ERROR;
		imaddr_json_set(item, "code", json_string(imaddr_code_name(f->code)));
		imaddr_json_set(item, "severity", json_string(imaddr_severity_name(severity)));
		imaddr_json_set(item, "message", imaddr_json_text(&scratch, f->message));
		imaddr_json_set(item, "suggestion", imaddr_json_text(&scratch, f->suggestion));
		imaddr_json_append(findings, item);
	}
	imaddr_json_set(object, "valid", json_boolean(valid));
	imaddr_json_set(object, "findings", findings);
	int failed = json_dumpf(object, out, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0 ||
		     fputc('\n', out) == EOF;
	json_decref(object);
	imaddr_buf_release(&scratch);
	free(copy);
	if (failed)
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write the JSON line");
	return IMADDR_OK;
}
