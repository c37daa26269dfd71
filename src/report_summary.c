#include "report_summary.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "json_build.h"
#include "error.h"
#include "mapping.h"
#include "normalize.h"
#include "report_file.h"
#include "report_runs.h"
#include "report_schema.h"

/*
 * Created by the first run that writes a summary, so that a report of
 * schema 5 written by an earlier imaddr takes runs as before; its runs have
 * no summary to print.
 */
static const char create_sql[] =
	"CREATE TABLE IF NOT EXISTS run_summaries (\n"
	"  run_id INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,\n"
	"  summary TEXT NOT NULL\n"
	")";

/* ------------------------------------------------------------------------ */
/* Writing: the run's summary as a JSON document.                           */

static json_t *counts_by_code(const uint64_t by_code[IMADDR_CODE_COUNT])
{
	json_t *object = imaddr_json_checked(json_object());
	for (int code = 0; code < IMADDR_CODE_COUNT; code++) {
		if (by_code[code])
			imaddr_json_set(object, imaddr_code_name(code), imaddr_json_count(by_code[code]));
	}
	return object;
}

static json_t *input_object(struct imaddr_buf *scratch,
			    const struct imaddr_input_description *input)
{
	if (!input)
		return json_null();
	json_t *object = imaddr_json_checked(json_object());
	json_t *roles = imaddr_json_checked(json_array());
	char delimiter[2] = { input->delimiter, '\0' };

	imaddr_json_set(object, "format", imaddr_json_text(scratch, input->format));
	imaddr_json_set(object, "encoding", imaddr_json_text(scratch, input->encoding));
	imaddr_json_set(object, "encoding_how", imaddr_json_text(scratch, input->encoding_how));
	imaddr_json_set(object, "delimiter", input->delimiter ? json_string(delimiter) : json_null());
	imaddr_json_set(object, "type_line_skipped", json_boolean(input->type_line_skipped));
	imaddr_json_set(object, "filter", imaddr_json_text(scratch, input->filter));
	imaddr_json_set(object, "directory_type", imaddr_json_text(scratch, input->directory_type));
	imaddr_json_set(object, "directory_type_how",
			imaddr_json_text(scratch, input->directory_type_how));
	imaddr_json_set(object, "entries", imaddr_json_count(input->entries));
	imaddr_json_set(object, "entries_skipped", imaddr_json_count(input->entries_skipped));
	imaddr_json_set(object, "search_base", imaddr_json_text(scratch, input->search_base));
	imaddr_json_set(object, "search_scope", imaddr_json_text(scratch, input->search_scope));
	for (int role = 0; role < IMADDR_ROLE_COUNT; role++) {
		json_t *item = imaddr_json_checked(json_object());
		imaddr_json_set(item, "role", json_string(imaddr_role_name((enum imaddr_role)role)));
		imaddr_json_set(item, "attribute", imaddr_json_text(scratch, input->role_attribute[role]));
		imaddr_json_set(item, "varies", json_boolean(input->role_attribute_varies[role]));
		imaddr_json_append(roles, item);
	}
	imaddr_json_set(object, "roles", roles);
	imaddr_json_set(object, "dn_attribute", imaddr_json_text(scratch, input->dn_attribute));
	return object;
}

static json_t *examples_object(struct imaddr_buf *scratch,
			       const struct imaddr_summary_notes *notes)
{
	json_t *object = imaddr_json_checked(json_object());
	for (int code = 0; code < IMADDR_CODE_COUNT; code++) {
		if (!notes->example_count[code])
			continue;
		json_t *lines = imaddr_json_checked(json_array());
		for (size_t i = 0; i < notes->example_count[code]; i++)
			imaddr_json_append(lines, imaddr_json_text(scratch, notes->examples[code][i]));
		imaddr_json_set(object, imaddr_code_name(code), lines);
	}
	return object;
}

static json_t *sets_array(struct imaddr_buf *scratch, const struct imaddr_summary_notes *notes)
{
	json_t *sets = imaddr_json_checked(json_array());
	for (size_t i = 0; i < notes->shown_count; i++) {
		const struct imaddr_summary_set *shown = &notes->shown[i];
		json_t *set_object = imaddr_json_checked(json_object());
		json_t *members = imaddr_json_checked(json_array());
		json_t *shared = imaddr_json_checked(json_object());
		for (size_t m = 0; m < shown->member_count; m++)
			imaddr_json_append(members, imaddr_json_text(scratch, shown->members[m]));
		for (int code = 0; code < IMADDR_CODE_COUNT; code++) {
			if (shown->codes & ((uint64_t)1 << code))
				imaddr_json_set(shared, imaddr_code_name(code),
				    imaddr_json_text(scratch, shown->values[code].data ? shown->values[code].data
									   : ""));
		}
		imaddr_json_set(set_object, "members", members);
		imaddr_json_set(set_object, "total_members", imaddr_json_count(shown->total_members));
		imaddr_json_set(set_object, "shared", shared);
		imaddr_json_append(sets, set_object);
	}
	return sets;
}

static json_t *changes_object(struct imaddr_buf *scratch,
			      const struct imaddr_run_changes *changes)
{
	if (!changes || !changes->previous_run_id)
		return json_null();
	json_t *object = imaddr_json_checked(json_object());
	json_t *first_new = imaddr_json_checked(json_array());
	imaddr_json_set(object, "previous_run_id", json_integer(changes->previous_run_id));
	imaddr_json_set(object, "previous_started", imaddr_json_text(scratch, changes->previous_started));
	imaddr_json_set(object, "previous_users", imaddr_json_count(changes->previous_users));
	imaddr_json_set(object, "users_added", imaddr_json_count(changes->users_added));
	imaddr_json_set(object, "users_removed", imaddr_json_count(changes->users_removed));
	imaddr_json_set(object, "im_addresses_changed", imaddr_json_count(changes->im_addresses_changed));
	imaddr_json_set(object, "new", counts_by_code(changes->new_by_code));
	imaddr_json_set(object, "resolved", counts_by_code(changes->resolved_by_code));
	imaddr_json_set(object, "waived", counts_by_code(changes->waived_by_code));
	for (size_t i = 0; i < changes->example_count; i++) {
		json_t *item = imaddr_json_checked(json_object());
		enum imaddr_code code = changes->example_codes[i];
		imaddr_json_set(item, "code", code < IMADDR_CODE_COUNT ? json_string(imaddr_code_name(code))
							   : json_null());
		imaddr_json_set(item, "finding", imaddr_json_text(scratch, changes->examples[i]));
		imaddr_json_append(first_new, item);
	}
	imaddr_json_set(object, "first_new", first_new);
	return object;
}

int imaddr_report_summary_save(sqlite3 *db, sqlite3_int64 run_id,
			       const struct imaddr_run_totals *totals,
			       const struct imaddr_summary_notes *notes,
			       const struct imaddr_run_changes *changes)
{
	static const struct imaddr_run_totals no_totals;
	struct imaddr_buf scratch;
	json_t *document = imaddr_json_checked(json_object());
	json_t *im_address_changes = imaddr_json_checked(json_object());
	sqlite3_stmt *stmt = NULL;
	char *summary;
	int rc;

	if (!totals)
		totals = &no_totals;
	imaddr_buf_init(&scratch, 0);
	imaddr_json_set(document, "format", json_integer(IMADDR_REPORT_SUMMARY_FORMAT));
	imaddr_json_set(document, "input", input_object(&scratch, totals->input));
	imaddr_json_set(document, "findings", counts_by_code(totals->by_code));
	imaddr_json_set(im_address_changes, "changes", imaddr_json_count(totals->im_address_changes));
	imaddr_json_set(im_address_changes, "lost", imaddr_json_count(totals->im_address_lost));
	imaddr_json_set(im_address_changes, "gained", imaddr_json_count(totals->im_address_gained));
	imaddr_json_set(document, "im_address_changes", im_address_changes);
	imaddr_json_set(document, "examples", examples_object(&scratch, notes));
	imaddr_json_set(document, "duplicate_groups", counts_by_code(notes->group_count));
	imaddr_json_set(document, "duplicate_sets", sets_array(&scratch, notes));
	imaddr_json_set(document, "more_duplicate_sets", json_boolean(notes->more_sets));
	imaddr_json_set(document, "changes", changes_object(&scratch, changes));
	json_t *waived = imaddr_json_checked(json_array());
	for (size_t i = 0; i < notes->waived_count; i++)
		imaddr_json_append(waived, imaddr_json_text(&scratch, notes->waived[i]));
	imaddr_json_set(document, "waived", counts_by_code(totals->waived_by_code));
	imaddr_json_set(document, "first_waived", waived);
	summary = json_dumps(document, JSON_COMPACT | JSON_SORT_KEYS);
	if (!summary)
		imaddr_fatal("out of memory");
	json_decref(document);
	imaddr_buf_release(&scratch);

	rc = sqlite3_exec(db, create_sql, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "INSERT INTO run_summaries (run_id, summary)"
					    " VALUES (?1, ?2)", -1, &stmt, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 1, run_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(stmt, 2, summary, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
	sqlite3_finalize(stmt);
	free(summary);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Which run.                                                               */

static enum imaddr_status read_error(sqlite3 *db, const char *path, struct imaddr_error *err)
{
	if (imaddr_report_file_wait_cut_short(db))
		return imaddr_report_file_interrupted(path, err);
	return imaddr_error_set(err, IMADDR_ERR_DB, "cannot read the report '%s': %s", path,
				sqlite3_errmsg(db));
}

/* " (its labels: 'a', 'b')": the labels of the newest runs, a few. */
static void append_labels(sqlite3 *db, struct imaddr_buf *out)
{
	sqlite3_stmt *stmt = NULL;
	int shown = 0;
	if (sqlite3_prepare_v2(db, "SELECT label FROM runs WHERE pruned IS NULL"
				   " GROUP BY label ORDER BY max(id) DESC LIMIT 6", -1, &stmt, NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		const char *label = (const char *)sqlite3_column_text(stmt, 0);
		if (shown == 5) {
			imaddr_buf_append_str(out, ", ...");
			break;
		}
		imaddr_buf_appendf(out, "%s'%s'", shown++ ? ", " : " (its labels: ",
				   label ? label : "");
	}
	if (shown)
		imaddr_buf_append_str(out, ")");
	sqlite3_finalize(stmt);
}

enum imaddr_status imaddr_report_summary_unknown_label(sqlite3 *db, const char *path,
						       const char *label, struct imaddr_error *err)
{
	struct imaddr_buf labels;
	imaddr_buf_init(&labels, 0);
	append_labels(db, &labels);
	enum imaddr_status status = imaddr_error_set(err, IMADDR_ERR_USAGE,
		"the report '%s' has no run of label '%s'%s", path, label,
		labels.len ? labels.data : "");
	imaddr_buf_release(&labels);
	return status;
}

/* The run a command means, in an open report (imaddr_report_find_run). */
static enum imaddr_status select_run(sqlite3 *db, const char *path, const char *label,
				     sqlite3_int64 run_id, sqlite3_int64 *found,
				     struct imaddr_error *err)
{
	sqlite3_stmt *stmt = NULL;
	enum imaddr_status status = IMADDR_OK;
	/* A pruned run (report_prune.c) is a run no more. */
	const char *sql = run_id ? "SELECT id, label FROM runs WHERE id = ?1 AND pruned IS NULL"
			: label ? "SELECT max(id), ?2 FROM runs WHERE label IS ?2 AND pruned IS NULL"
				: "SELECT max(id), NULL FROM runs WHERE pruned IS NULL";
	int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);

	if (rc == SQLITE_OK && run_id)
		rc = sqlite3_bind_int64(stmt, 1, run_id);
	if (rc == SQLITE_OK && label && !run_id)
		rc = sqlite3_bind_text(stmt, 2, label, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		status = read_error(db, path, err);
	} else if (rc == SQLITE_DONE || sqlite3_column_type(stmt, 0) == SQLITE_NULL) {
		if (run_id)
			status = imaddr_report_runs_missing(db, path, run_id, err);
		else if (label)
			status = imaddr_report_summary_unknown_label(db, path, label, err);
		else
			status = imaddr_error_set(err, IMADDR_ERR_USAGE, "the report '%s' has no run yet",
						  path);
	} else {
		const char *run_label = (const char *)sqlite3_column_text(stmt, 1);
		*found = sqlite3_column_int64(stmt, 0);
		if (label && (!run_label || strcmp(run_label, label)))
			status = imaddr_error_set(err, IMADDR_ERR_USAGE,
				"run %lld of the report '%s' is of label '%s', not '%s'",
				(long long)run_id, path, run_label ? run_label : "", label);
	}
	sqlite3_finalize(stmt);
	return status;
}

enum imaddr_status imaddr_report_find_run(const char *db_path, const char *label,
					  int64_t run_id, int64_t *found,
					  struct imaddr_error *err)
{
	sqlite3 *db = NULL;
	sqlite3_int64 id = 0;

	if (!db_path)
		return imaddr_error_null(err, __func__, "db_path");
	if (!found)
		return imaddr_error_null(err, __func__, "found");
	enum imaddr_status status = imaddr_report_file_open_read(db_path, &db, err);
	if (status == IMADDR_OK)
		status = select_run(db, db_path, label, run_id, &id, err);
	if (status == IMADDR_OK)
		*found = id;
	sqlite3_close(db);
	return status;
}

/* ------------------------------------------------------------------------ */
/* Reading: a stored run back into the summary's printer.                   */

/* A run read back. Strings are copies or point into `document`. */
struct stored_run {
	sqlite3_int64 id;
	char *label;
	char *input_name;
	char *default_domain;
	char *current_default_domain;
	char *waivers;
	json_t *document;
	struct imaddr_audit_options options;
	struct imaddr_input_description input;
	struct imaddr_run_totals totals;
	struct imaddr_run_changes changes;
	struct imaddr_summary_notes notes;
	struct imaddr_domain_count *domains;
};

static void stored_run_release(struct stored_run *run)
{
	free(run->label);
	free(run->input_name);
	free(run->default_domain);
	free(run->current_default_domain);
	free(run->waivers);
	json_decref(run->document);
	imaddr_summary_notes_release(&run->notes);
	imaddr_report_runs_free_domains(run->domains, run->totals.domain_count);
}

static char *column_copy(sqlite3_stmt *stmt, int column)
{
	const unsigned char *value = sqlite3_column_text(stmt, column);
	return value ? imaddr_xstrdup((const char *)value) : NULL;
}

static uint64_t column_count(sqlite3_stmt *stmt, int column)
{
	sqlite3_int64 value = sqlite3_column_int64(stmt, column);
	return value > 0 ? (uint64_t)value : 0;
}

static enum imaddr_scheme scheme_of(const char *name)
{
	return name && !strcmp(name, "directory-uri") ? IMADDR_SCHEME_DIRECTORY_URI
						       : IMADDR_SCHEME_USERID;
}

static bool has_summaries(sqlite3 *db)
{
	sqlite3_stmt *stmt = NULL;
	bool found = false;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE name = 'run_summaries'",
			       -1, &stmt, NULL) == SQLITE_OK)
		found = sqlite3_step(stmt) == SQLITE_ROW;
	sqlite3_finalize(stmt);
	return found;
}

static enum imaddr_status no_summary(const char *path, sqlite3_int64 run_id,
				     struct imaddr_error *err)
{
	return imaddr_error_set(err, IMADDR_ERR_USAGE,
		"run %lld of the report '%s' has no stored summary: an imaddr before summaries "
		"were kept recorded it ('imaddr report --html' shows it)", (long long)run_id, path);
}

static enum imaddr_status read_run(sqlite3 *db, const char *path, struct stored_run *run,
				   struct imaddr_error *err)
{
	sqlite3_stmt *stmt = NULL;
	enum imaddr_status status = IMADDR_OK;
	json_error_t json_error;

	if (!has_summaries(db))
		return no_summary(path, run->id, err);
	int rc = sqlite3_prepare_v2(db,
		"SELECT r.label, r.input, r.scheme, r.default_domain, r.current_scheme,\n"
		"       r.current_default_domain, r.users, r.users_with_im_address,\n"
		"       r.users_with_error, r.errors, r.warnings, r.infos, s.summary, r.waivers\n"
		"FROM runs AS r LEFT JOIN run_summaries AS s ON s.run_id = r.id WHERE r.id = ?1",
		-1, &stmt, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 1, run->id);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		status = imaddr_report_runs_missing(db, path, run->id, err);
	} else if (rc != SQLITE_ROW) {
		status = read_error(db, path, err);
	} else if (sqlite3_column_type(stmt, 12) == SQLITE_NULL) {
		status = no_summary(path, run->id, err);
	} else {
		run->label = column_copy(stmt, 0);
		run->input_name = column_copy(stmt, 1);
		run->default_domain = column_copy(stmt, 3);
		run->current_default_domain = column_copy(stmt, 5);
		run->options.input_name = run->input_name;
		run->options.scheme = scheme_of((const char *)sqlite3_column_text(stmt, 2));
		run->options.default_domain = run->default_domain;
		run->options.premigration = sqlite3_column_type(stmt, 4) != SQLITE_NULL;
		run->options.current_scheme = scheme_of((const char *)sqlite3_column_text(stmt, 4));
		run->options.current_default_domain = run->current_default_domain;
		run->waivers = column_copy(stmt, 13);
		run->options.waivers = run->waivers;
		run->totals.users = column_count(stmt, 6);
		run->totals.users_with_im_address = column_count(stmt, 7);
		run->totals.users_with_error = column_count(stmt, 8);
		run->totals.by_severity[IMADDR_SEVERITY_ERROR] = column_count(stmt, 9);
		run->totals.by_severity[IMADDR_SEVERITY_WARNING] = column_count(stmt, 10);
		run->totals.by_severity[IMADDR_SEVERITY_INFO] = column_count(stmt, 11);
		run->document = json_loads((const char *)sqlite3_column_text(stmt, 12), 0,
					   &json_error);
		if (!run->document || !json_is_object(run->document))
			status = imaddr_error_set(err, IMADDR_ERR_DB,
				"cannot read the summary of run %lld in the report '%s': %s",
				(long long)run->id, path,
				run->document ? "not a JSON object" : json_error.text);
	}
	sqlite3_finalize(stmt);
	return status;
}

static enum imaddr_status read_domains(sqlite3 *db, const char *path, struct stored_run *run,
				       struct imaddr_error *err)
{
	int rc = imaddr_report_runs_read_domains(db, run->id, &run->domains,
						 &run->totals.domain_count);
	run->totals.domains = run->domains;
	return rc == SQLITE_OK ? IMADDR_OK : read_error(db, path, err);
}

/* Members of the document, NULL or 0 when absent or of another type. */
static const char *member_text(const json_t *object, const char *key)
{
	return json_string_value(json_object_get(object, key));
}

static uint64_t member_count(const json_t *object, const char *key)
{
	json_int_t value = json_integer_value(json_object_get(object, key));
	return value > 0 ? (uint64_t)value : 0;
}

static bool member_true(const json_t *object, const char *key)
{
	return json_is_true(json_object_get(object, key));
}

/* {"code": count}: codes this imaddr does not know are left out. */
static void read_counts(const json_t *object, uint64_t by_code[IMADDR_CODE_COUNT],
			uint64_t by_severity[3])
{
	const char *name;
	json_t *value;
	json_object_foreach((json_t *)object, name, value) {
		enum imaddr_code code;
		json_int_t n = json_integer_value(value);
		if (!imaddr_code_parse(name, &code) || n <= 0)
			continue;
		by_code[code] = (uint64_t)n;
		if (by_severity)
			by_severity[imaddr_code_severity(code)] += (uint64_t)n;
	}
}

static void read_input(struct stored_run *run, const json_t *input)
{
	struct imaddr_input_description *description = &run->input;
	const char *delimiter = member_text(input, "delimiter");
	size_t i;
	json_t *item;

	if (!json_is_object(input))
		return;
	description->format = member_text(input, "format");
	description->encoding = member_text(input, "encoding");
	description->encoding_how = member_text(input, "encoding_how");
	description->delimiter = delimiter ? delimiter[0] : '\0';
	description->type_line_skipped = member_true(input, "type_line_skipped");
	description->filter = member_text(input, "filter");
	description->directory_type = member_text(input, "directory_type");
	description->directory_type_how = member_text(input, "directory_type_how");
	description->entries = member_count(input, "entries");
	description->entries_skipped = member_count(input, "entries_skipped");
	description->search_base = member_text(input, "search_base");
	description->search_scope = member_text(input, "search_scope");
	json_array_foreach(json_object_get(input, "roles"), i, item) {
		const char *name = member_text(item, "role");
		for (int role = 0; name && role < IMADDR_ROLE_COUNT; role++) {
			if (strcmp(name, imaddr_role_name((enum imaddr_role)role)))
				continue;
			description->role_attribute[role] = member_text(item, "attribute");
			description->role_attribute_varies[role] = member_true(item, "varies");
		}
	}
	description->dn_attribute = member_text(input, "dn_attribute");
	run->totals.input = description;
}

static void read_examples(struct imaddr_summary_notes *notes, const json_t *examples)
{
	const char *name;
	json_t *lines;
	json_object_foreach((json_t *)examples, name, lines) {
		enum imaddr_code code;
		size_t i;
		json_t *line;
		if (!imaddr_code_parse(name, &code))
			continue;
		json_array_foreach(lines, i, line) {
			if (notes->example_count[code] == IMADDR_SUMMARY_CHANGES)
				break;
			if (json_is_string(line))
				notes->examples[code][notes->example_count[code]++] =
					imaddr_xstrdup(json_string_value(line));
		}
	}
}

static void read_sets(struct imaddr_summary_notes *notes, const json_t *sets)
{
	size_t i;
	json_t *item;
	json_array_foreach(sets, i, item) {
		if (notes->shown_count == IMADDR_SUMMARY_GROUPS)
			break;
		struct imaddr_summary_set *shown = &notes->shown[notes->shown_count++];
		size_t m;
		json_t *member;
		const char *name;
		json_t *values;
		json_array_foreach(json_object_get(item, "members"), m, member) {
			if (shown->member_count == IMADDR_SUMMARY_MEMBERS)
				break;
			if (json_is_string(member))
				shown->members[shown->member_count++] =
					imaddr_xstrdup(json_string_value(member));
		}
		shown->total_members = member_count(item, "total_members");
		json_object_foreach(json_object_get(item, "shared"), name, values) {
			enum imaddr_code code;
			if (!imaddr_code_parse(name, &code) || !json_is_string(values))
				continue;
			shown->codes |= (uint64_t)1 << code;
			imaddr_buf_init(&shown->values[code], 0);
			imaddr_buf_append_str(&shown->values[code], json_string_value(values));
		}
	}
}

/* The stored changes into `told`, pointing into the document. */
static void read_changes(struct imaddr_run_changes *told, sqlite3_int64 run_id, const char *label,
			 const json_t *changes)
{
	size_t i;
	json_t *item;

	told->run_id = run_id;
	told->label = label ? label : "";
	if (!json_is_object(changes))
		return;
	told->previous_run_id = (int64_t)member_count(changes, "previous_run_id");
	told->previous_started = member_text(changes, "previous_started");
	told->previous_users = member_count(changes, "previous_users");
	told->users_added = member_count(changes, "users_added");
	told->users_removed = member_count(changes, "users_removed");
	told->im_addresses_changed = member_count(changes, "im_addresses_changed");
	read_counts(json_object_get(changes, "new"), told->new_by_code, told->new_by_severity);
	read_counts(json_object_get(changes, "resolved"), told->resolved_by_code,
		    told->resolved_by_severity);
	/* Absent from runs stored before it was counted: none then. */
	read_counts(json_object_get(changes, "waived"), told->waived_by_code,
		    told->waived_by_severity);
	json_array_foreach(json_object_get(changes, "first_new"), i, item) {
		const char *finding = member_text(item, "finding");
		const char *code = member_text(item, "code");
		if (told->example_count == IMADDR_CHANGES_EXAMPLES)
			break;
		if (!finding)
			continue;
		told->examples[told->example_count] = finding;
		if (!code || !imaddr_code_parse(code, &told->example_codes[told->example_count]))
			told->example_codes[told->example_count] = IMADDR_CODE_COUNT;
		told->example_count++;
	}
}

/* The document into the totals, changes and notes the printer takes. */
static void read_document(struct stored_run *run)
{
	const json_t *document = run->document;
	const json_t *im_address_changes = json_object_get(document, "im_address_changes");

	read_input(run, json_object_get(document, "input"));
	read_counts(json_object_get(document, "findings"), run->totals.by_code, NULL);
	run->totals.im_address_changes = member_count(im_address_changes, "changes");
	run->totals.im_address_lost = member_count(im_address_changes, "lost");
	run->totals.im_address_gained = member_count(im_address_changes, "gained");
	read_examples(&run->notes, json_object_get(document, "examples"));
	read_counts(json_object_get(document, "duplicate_groups"), run->notes.group_count, NULL);
	read_sets(&run->notes, json_object_get(document, "duplicate_sets"));
	run->notes.more_sets = member_true(document, "more_duplicate_sets");
	read_changes(&run->changes, run->id, run->label, json_object_get(document, "changes"));
	run->totals.changes = &run->changes;
	read_counts(json_object_get(document, "waived"), run->totals.waived_by_code, NULL);
	for (int code = 0; code < IMADDR_CODE_COUNT; code++)
		run->totals.waived += run->totals.waived_by_code[code];
	size_t i;
	json_t *line;
	json_array_foreach(json_object_get(document, "first_waived"), i, line) {
		if (run->notes.waived_count < IMADDR_SUMMARY_EXAMPLES && json_is_string(line))
			run->notes.waived[run->notes.waived_count++] =
				imaddr_xstrdup(json_string_value(line));
	}
}

enum imaddr_status imaddr_report_write_summary(const char *db_path, int64_t run_id, void *out,
					       struct imaddr_error *err)
{
	struct stored_run run;
	sqlite3 *db = NULL;

	if (!out)
		return imaddr_error_set(err, IMADDR_ERR_USAGE,
					"the summary needs a stream to print to, not NULL");
	if (!db_path)
		return imaddr_error_null(err, __func__, "db_path");
	memset(&run, 0, sizeof(run));
	imaddr_summary_notes_init(&run.notes);
	enum imaddr_status status = imaddr_report_file_open_read(db_path, &db, err);
	/* One read transaction: a run committing or a prune meanwhile cannot mix in. */
	if (status == IMADDR_OK && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		status = read_error(db, db_path, err);
	if (status == IMADDR_OK)
		status = select_run(db, db_path, NULL, run_id, &run.id, err);
	if (status == IMADDR_OK)
		status = read_run(db, db_path, &run, err);
	if (status == IMADDR_OK)
		status = read_domains(db, db_path, &run, err);
	if (status == IMADDR_OK && imaddr_stop_requested())
		status = imaddr_error_set(err, IMADDR_ERR_INTERRUPTED, "interrupted");
	if (status == IMADDR_OK) {
		read_document(&run);
		/* The first failed write's errno stays for the message (no call sets it to 0). */
		errno = 0;
		imaddr_summary_print(out, &run.options, &run.totals, &run.notes);
		if (fflush(out) != 0 || ferror(out))
			status = imaddr_error_set(err, IMADDR_ERR_IO, "cannot write the summary of run "
						  "%lld to %s: %s", (long long)run.id,
						  imaddr_summary_stream_name(out),
						  strerror(errno ? errno : EIO));
	}
	stored_run_release(&run);
	sqlite3_close(db);
	return status;
}

int imaddr_report_summary_changes(sqlite3 *db, sqlite3_int64 run_id, const char *label,
				  struct imaddr_run_changes *changes, json_t **document)
{
	sqlite3_stmt *stmt = NULL;
	int rc = SQLITE_OK;

	*document = NULL;
	memset(changes, 0, sizeof(*changes));
	read_changes(changes, run_id, label, NULL);
	if (!has_summaries(db))
		return SQLITE_OK;
	rc = sqlite3_prepare_v2(db, "SELECT summary FROM run_summaries WHERE run_id = ?1", -1,
				&stmt, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 1, run_id);
	if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(stmt, 0);
		*document = text ? json_loads(text, 0, NULL) : NULL;
		read_changes(changes, run_id, label, json_object_get(*document, "changes"));
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}
