#include "sink_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "buffer.h"
#include "json_build.h"
#include "json_document.h"
#include "error.h"
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
	uint64_t listed[IMADDR_CODE_COUNT];
	struct imaddr_buf scratch;
};

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
	imaddr_json_append(writer->findings, imaddr_json_finding(&writer->scratch, f, group));
	return IMADDR_OK;
}

static enum imaddr_status end(struct imaddr_sink *sink, const struct imaddr_run_totals *totals,
			      struct imaddr_error *err)
{
	struct json_writer *writer = (struct json_writer *)sink;
	struct imaddr_run_description run;
	char started[IMADDR_RUN_TIME_SIZE];
	imaddr_run_description_of_run(&run, writer->options, writer->started, started, totals);
	json_t *document = imaddr_json_document(&run, totals, writer->listed, writer->per_code,
						writer->findings, &writer->scratch);
	writer->findings = NULL;

	/* Standard output cannot be taken back: it gets the document once the run is decided. */
	if (!strcmp(writer->path, "-")) {
		writer->document = document;
		return IMADDR_OK;
	}
	FILE *out = writer->file.stream;
	int error = imaddr_json_document_write(document, out, false);
	json_decref(document);
	if (error) {
		imaddr_staged_file_abort(&writer->file);
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write '%s': %s", writer->path,
					strerror(error));
	}
	return imaddr_staged_file_prepare(&writer->file, err);
}

static enum imaddr_status commit(struct imaddr_sink *sink, struct imaddr_error *err)
{
	struct json_writer *writer = (struct json_writer *)sink;
	if (!writer->document)
		return imaddr_staged_file_commit(&writer->file, err);
	int error = imaddr_json_document_write(writer->document, stdout, true);
	json_decref(writer->document);
	writer->document = NULL;
	if (error)
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write the JSON to standard "
					"output: %s", strerror(error));
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
	if (!out)
		return imaddr_error_null(err, __func__, "out");
	*out = NULL;
	if (!path)
		return imaddr_error_null(err, __func__, "path");
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
	bool valid = true;

	if (!address && length)
		return imaddr_error_set(err, IMADDR_ERR_USAGE, "no address (NULL) but a length "
					"of %zu bytes", length);
	if (!address)
		address = "";
	if (!out)
		return imaddr_error_set(err, IMADDR_ERR_USAGE,
					"the JSON line needs a stream to write to, not NULL");
	/* Most likely a check the checker refused, its NULL passed on unseen. */
	if (!result)
		return imaddr_error_null(err, __func__, "result");
	json_t *object = imaddr_json_checked(json_object());
	json_t *findings = imaddr_json_checked(json_array());
	imaddr_buf_init(&scratch, 0);

	/* All of it: a NUL inside is U+FFFD, not the end. */
	imaddr_json_set(object, "address", imaddr_json_bytes(&scratch, address, length));
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
	if (failed)
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write the JSON line");
	return IMADDR_OK;
}
