#include "json_document.h"

#include <errno.h>

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json_build.h"

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

json_t *imaddr_json_finding(struct imaddr_buf *scratch, const struct imaddr_finding *f,
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

static json_t *codes_array(const struct imaddr_run_totals *totals,
			   const uint64_t listed[IMADDR_CODE_COUNT])
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
			imaddr_json_set(item, "listed", imaddr_json_count(listed[code]));
			imaddr_json_set(item, "summary", json_string(imaddr_code_summary(code)));
			imaddr_json_append(codes, item);
		}
	}
	return codes;
}

static json_t *domains_array(struct imaddr_buf *scratch, const struct imaddr_run_totals *totals)
{
	json_t *domains = imaddr_json_checked(json_array());
	for (size_t i = 0; i < totals->domain_count; i++) {
		const struct imaddr_domain_count *d = &totals->domains[i];
		json_t *item = imaddr_json_checked(json_object());
		imaddr_json_set(item, "ascii", imaddr_json_text(scratch, d->ascii));
		imaddr_json_set(item, "unicode", imaddr_json_text(scratch, d->unicode));
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
static json_t *changes_object(struct imaddr_buf *scratch,
			      const struct imaddr_run_changes *changes)
{
	if (!changes || !changes->previous_run_id)
		return json_null();
	json_t *object = imaddr_json_checked(json_object());
	json_t *previous = imaddr_json_checked(json_object());
	json_t *examples = imaddr_json_checked(json_array());
	imaddr_json_set(previous, "run", imaddr_json_count((uint64_t)changes->previous_run_id));
	imaddr_json_set(previous, "started",
			imaddr_json_text(scratch, changes->previous_started));
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
		imaddr_json_set(item, "text", imaddr_json_text(scratch, changes->examples[i]));
		imaddr_json_append(examples, item);
	}
	imaddr_json_set(object, "new_examples", examples);
	return object;
}

/* Empty without a report: the runs of the label, oldest first, this one last. */
static json_t *history_array(struct imaddr_buf *scratch,
			     const struct imaddr_run_changes *changes)
{
	json_t *history = imaddr_json_checked(json_array());
	for (size_t i = 0; changes && i < changes->history_count; i++) {
		const struct imaddr_run_point *point = &changes->history[i];
		json_t *item = imaddr_json_checked(json_object());
		imaddr_json_set(item, "run", imaddr_json_count((uint64_t)point->run_id));
		imaddr_json_set(item, "started", imaddr_json_text(scratch, point->started));
		imaddr_json_set(item, "users", imaddr_json_count(point->users));
		imaddr_json_set(item, "errors", imaddr_json_count(point->errors));
		imaddr_json_set(item, "warnings", imaddr_json_count(point->warnings));
		imaddr_json_set(item, "infos", imaddr_json_count(point->infos));
		imaddr_json_append(history, item);
	}
	return history;
}

/* totals->outputs is a line per output; continuation lines start with a space. */
static json_t *outputs_array(struct imaddr_buf *scratch, const char *outputs)
{
	json_t *array = imaddr_json_checked(json_array());
	while (outputs && *outputs) {
		size_t length = strcspn(outputs, "\n");
		char *line = imaddr_xstrndup(outputs, length);
		imaddr_json_append(array, imaddr_json_text(scratch, line));
		free(line);
		outputs += length + (outputs[length] == '\n');
	}
	return array;
}


static json_t *run_object(struct imaddr_buf *scratch, const struct imaddr_run_description *run)
{
	json_t *object = imaddr_json_checked(json_object());
	imaddr_json_set(object, "version", imaddr_json_text(scratch, run->version));
	imaddr_json_set(object, "started", imaddr_json_text(scratch, run->started));
	imaddr_json_set(object, "input", imaddr_json_text(scratch, run->input));
	imaddr_json_set(object, "scheme", imaddr_json_text(scratch, run->scheme));
	imaddr_json_set(object, "default_domain", imaddr_json_text(scratch, run->default_domain));
	imaddr_json_set(object, "im_domains", imaddr_json_text(scratch, run->im_domains));
	imaddr_json_set(object, "premigration", json_boolean(run->premigration));
	if (run->premigration) {
		imaddr_json_set(object, "current_scheme", imaddr_json_text(scratch, run->current_scheme));
		imaddr_json_set(object, "current_default_domain",
				imaddr_json_text(scratch, run->current_default_domain));
	}
	imaddr_json_set(object, "waivers", imaddr_json_text(scratch, run->waivers));
	return object;
}

json_t *imaddr_json_document(const struct imaddr_run_description *run,
			     const struct imaddr_run_totals *totals,
			     const uint64_t listed[IMADDR_CODE_COUNT], size_t per_code,
			     json_t *findings, struct imaddr_buf *scratch)
{
	json_t *document = imaddr_json_checked(json_object());
	json_t *san = imaddr_json_checked(json_array());
	for (size_t i = 0; i < totals->domain_count; i++)
		imaddr_json_append(san, imaddr_json_text(scratch, totals->domains[i].ascii));

	imaddr_json_set(document, "imaddr_json", json_integer(IMADDR_JSON_SCHEMA));
	imaddr_json_set(document, "run", run_object(scratch, run));
	imaddr_json_set(document, "verdict",
	    json_string(totals->by_severity[IMADDR_SEVERITY_ERROR] ? "no-go" : "go"));
	imaddr_json_set(document, "totals", totals_object(totals, run->premigration));
	imaddr_json_set(document, "codes", codes_array(totals, listed));
	imaddr_json_set(document, "domains", domains_array(scratch, totals));
	imaddr_json_set(document, "certificate_san", san);
	imaddr_json_set(document, "outputs", outputs_array(scratch, totals->outputs));
	const struct imaddr_run_changes *changes = totals->changes;
	imaddr_json_set(document, "label", changes ? imaddr_json_text(scratch, changes->label)
						   : json_null());
	imaddr_json_set(document, "report_run",
			changes ? imaddr_json_count((uint64_t)changes->run_id) : json_null());
	imaddr_json_set(document, "changes", changes_object(scratch, changes));
	imaddr_json_set(document, "history", history_array(scratch, changes));
	imaddr_json_set(document, "findings_per_code", imaddr_json_count(per_code));
	imaddr_json_set(document, "findings", findings);
	return document;
}

int imaddr_json_document_write(json_t *document, FILE *out, bool flush)
{
	errno = 0;
	if (json_dumpf(document, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 &&
	    fputc('\n', out) != EOF && (!flush || fflush(out) == 0))
		return 0;
	return errno ? errno : EIO;
}
