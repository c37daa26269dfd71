#include "report_html.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "atomic_file.h"
#include "buffer.h"
#include "error.h"
#include "html_report.h"
#include "report_changes.h"
#include "report_runs.h"
#include "report_schema.h"
#include "report_summary.h"
#include "sink.h"

/* A run read back: the strings are copies, freed with run_release. */
struct stored_run {
	sqlite3_int64 id;
	char *text[9];       /* started, version, input, scheme, default_domain, im_domains,
			      * current_scheme, current_default_domain, label */
	struct imaddr_run_totals totals;
	struct imaddr_domain_count *domains;
	/* Since the previous run, from the stored summary, and the label's history. */
	struct imaddr_run_changes changes;
	json_t *changes_document;
	struct imaddr_report_history history;
};

enum { T_STARTED, T_VERSION, T_INPUT, T_SCHEME, T_DEFAULT_DOMAIN, T_IM_DOMAINS,
       T_CURRENT_SCHEME, T_CURRENT_DEFAULT_DOMAIN, T_LABEL };

static char *column_copy(sqlite3_stmt *stmt, int column)
{
	const unsigned char *text = sqlite3_column_text(stmt, column);
	return text ? imaddr_xstrdup((const char *)text) : NULL;
}

static void run_release(struct stored_run *run)
{
	for (size_t i = 0; i < sizeof(run->text) / sizeof(run->text[0]); i++)
		free(run->text[i]);
	imaddr_report_runs_free_domains(run->domains, run->totals.domain_count);
	json_decref(run->changes_document);
}

static enum imaddr_status db_error(sqlite3 *db, const char *path, struct imaddr_error *err)
{
	return imaddr_error_set(err, IMADDR_ERR_DB, "cannot read the report '%s': %s", path,
				sqlite3_errmsg(db));
}

/* The run (`wanted`, or the newest when 0) and its totals. */
static enum imaddr_status read_run(sqlite3 *db, const char *path, sqlite3_int64 wanted,
				   struct stored_run *run, struct imaddr_error *err)
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v2(db,
		"SELECT id, started, version, input, scheme, default_domain, im_domains, "
		"current_scheme, current_default_domain, users, users_with_im_address, "
		"users_with_error, errors, warnings, infos, waived, label FROM runs "
		"WHERE pruned IS NULL"
		" AND (id = ?1 OR (?1 = 0 AND id = (SELECT max(id) FROM runs WHERE pruned IS NULL)))",
		-1, &stmt, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 1, wanted);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(stmt);
		if (wanted)
			return imaddr_error_set(err, IMADDR_ERR_USAGE, "the report '%s' has no run %lld",
						path, (long long)wanted);
		return imaddr_error_set(err, IMADDR_ERR_USAGE, "the report '%s' has no run yet",
					path);
	}
	if (rc != SQLITE_ROW) {
		enum imaddr_status status = db_error(db, path, err);
		sqlite3_finalize(stmt);
		return status;
	}
	run->id = sqlite3_column_int64(stmt, 0);
	for (int i = T_STARTED; i <= T_CURRENT_DEFAULT_DOMAIN; i++)
		run->text[i] = column_copy(stmt, 1 + i);
	run->totals.users = (uint64_t)sqlite3_column_int64(stmt, 9);
	run->totals.users_with_im_address = (uint64_t)sqlite3_column_int64(stmt, 10);
	run->totals.users_with_error = (uint64_t)sqlite3_column_int64(stmt, 11);
	run->totals.by_severity[IMADDR_SEVERITY_ERROR] = (uint64_t)sqlite3_column_int64(stmt, 12);
	run->totals.by_severity[IMADDR_SEVERITY_WARNING] = (uint64_t)sqlite3_column_int64(stmt, 13);
	run->totals.by_severity[IMADDR_SEVERITY_INFO] = (uint64_t)sqlite3_column_int64(stmt, 14);
	run->totals.waived = (uint64_t)sqlite3_column_int64(stmt, 15);
	run->text[T_LABEL] = column_copy(stmt, 16);
	sqlite3_finalize(stmt);
	return IMADDR_OK;
}

/* Findings by code, and the changes from the users (the views over the versions). */
static enum imaddr_status read_counts(sqlite3 *db, const char *path, struct stored_run *run,
				      struct imaddr_error *err)
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v2(db,
		"SELECT code, count(*) FROM findings WHERE run_id = ?1 AND waiver_reason IS NULL"
		" GROUP BY code "
		"UNION ALL "
		"SELECT 'im-address-changes:' || im_address_change, count(*) FROM users AS u "
		"WHERE u.run_id = ?1"
		" AND im_address_change IS NOT NULL GROUP BY im_address_change", -1, &stmt, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 1, run->id);
	while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(stmt, 0);
		uint64_t count = (uint64_t)sqlite3_column_int64(stmt, 1);
		enum imaddr_code code;
		rc = SQLITE_OK;
		if (name && !strncmp(name, "im-address-changes:", 19)) {
			run->totals.by_code[IMADDR_CODE_IM_ADDRESS_CHANGES] += count;
			if (!strcmp(name + 19, "changes"))
				run->totals.im_address_changes = count;
			else if (!strcmp(name + 19, "lost"))
				run->totals.im_address_lost = count;
			else
				run->totals.im_address_gained = count;
		} else if (name && imaddr_code_parse(name, &code)) {
			run->totals.by_code[code] = count;
		}
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? IMADDR_OK : db_error(db, path, err);
}

static enum imaddr_status read_domains(sqlite3 *db, const char *path, struct stored_run *run,
				       struct imaddr_error *err)
{
	int rc = imaddr_report_runs_read_domains(db, run->id, &run->domains,
						 &run->totals.domain_count);
	run->totals.domains = run->domains;
	return rc == SQLITE_OK ? IMADDR_OK : db_error(db, path, err);
}

static const char *column_text(sqlite3_stmt *stmt, int column)
{
	return (const char *)sqlite3_column_text(stmt, column);
}

/*
 * The first findings of each code in the order the audit found them, which
 * keeps each duplicate group together, numbered as the audit numbered them.
 * A run that holds findings from earlier nights stores them under the ids
 * those nights gave them, so the order is rebuilt from where the run saw
 * them: the findings of the read by their user's line (a skipped record's
 * own line), then what the audit found after the read, in its order:
 * duplicates kind by kind, each group at its first member, members in input
 * order; look-alikes; the IM domains; the waivers. A group is the findings
 * of one code around its first member, numbered in that order. Window
 * functions rather than a join on the group, which SQLite planned as a scan
 * of the groups per finding.
 */
static const char findings_sql[] =
	"WITH placed AS (\n"
	"  SELECT f.*, coalesce(u.line + " IMADDR_REPORT_SCHEMA_SHIFT_SQL("u.id", "f.run_id", "line_shift") ",\n"
	"                       f.line) AS at_line,\n"
	"         coalesce(u.dn, f.dn) AS user_dn,\n"
	"         CASE f.code WHEN 'userid-duplicate' THEN 1 WHEN 'uri-duplicate' THEN 2\n"
	"                     WHEN 'mail-duplicate' THEN 3 WHEN 'im-address-duplicate' THEN 4\n"
	"                     WHEN 'confusable' THEN 5 WHEN 'too-many-domains' THEN 6\n"
	"                     WHEN 'waiver-expired' THEN 7 WHEN 'waiver-unused' THEN 7\n"
	"                     ELSE 0 END AS phase,\n"
	"         CASE WHEN f.related_ordinal IS NOT NULL\n"
	"              THEN min(f.ordinal, f.related_ordinal) END AS group_at\n"
	"  FROM findings AS f\n"
	"  LEFT JOIN user_versions AS u ON u.id = f.user_version\n"
	"  WHERE f.run_id = ?1),\n"
	"ordered AS (\n"
	"  SELECT *, row_number() OVER (ORDER BY phase, group_at,\n"
	"                                        CASE WHEN phase = 0 THEN at_line END,\n"
	"                                        ordinal, id) AS place,\n"
	"         CASE WHEN phase BETWEEN 1 AND 4 AND group_at IS NOT NULL\n"
	"              THEN dense_rank() OVER (PARTITION BY phase BETWEEN 1 AND 4\n"
	"                                                   AND group_at IS NOT NULL\n"
	"                                      ORDER BY phase, group_at) END AS number\n"
	"  FROM placed),\n"
	"listed AS (SELECT *, row_number() OVER (PARTITION BY code ORDER BY place) AS nth\n"
	"  FROM ordered WHERE waiver_reason IS NULL)\n"
	"SELECT code, ordinal, at_line, user_dn, user_id,\n"
	"  field, value, message, suggestion, related_ordinal, cluster, number\n"
	"FROM listed WHERE nth <= ?2 ORDER BY place";

static enum imaddr_status write_findings(sqlite3 *db, const char *path, struct stored_run *run,
					 FILE *out, struct imaddr_error *err)
{
	sqlite3_stmt *stmt = NULL;
	uint64_t total = 0, shown = 0;
	for (int code = 0; code < IMADDR_CODE_COUNT; code++) {
		if (code == IMADDR_CODE_IM_ADDRESS_CHANGES)
			continue;
		total += run->totals.by_code[code];
		shown += run->totals.by_code[code] < IMADDR_HTML_FINDINGS_PER_CODE
				 ? run->totals.by_code[code] : IMADDR_HTML_FINDINGS_PER_CODE;
	}
	imaddr_html_findings_begin(out, &run->totals, shown, total);
	int rc = sqlite3_prepare_v2(db, findings_sql, -1, &stmt, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 1, run->id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 2, IMADDR_HTML_FINDINGS_PER_CODE);
	while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		enum imaddr_code code;
		rc = SQLITE_OK;
		if (!imaddr_code_parse(column_text(stmt, 0), &code))
			continue;
		struct imaddr_finding finding = {
			.code = code,
			.severity = imaddr_code_severity(code),
			.ordinal = (uint64_t)sqlite3_column_int64(stmt, 1),
			.line = (uint64_t)sqlite3_column_int64(stmt, 2),
			.dn = column_text(stmt, 3),
			.user_id = column_text(stmt, 4),
			.field = column_text(stmt, 5),
			.value = column_text(stmt, 6),
			.message = column_text(stmt, 7),
			.suggestion = column_text(stmt, 8),
			.related_ordinal = (uint64_t)sqlite3_column_int64(stmt, 9),
			.cluster = column_text(stmt, 10),
		};
		imaddr_html_finding_row(out, &finding, (uint64_t)sqlite3_column_int64(stmt, 11));
	}
	sqlite3_finalize(stmt);
	imaddr_html_findings_end(out);
	return rc == SQLITE_DONE ? IMADDR_OK : db_error(db, path, err);
}

static enum imaddr_status write_plan(sqlite3 *db, const char *path, struct stored_run *run,
				     FILE *out, struct imaddr_error *err)
{
	sqlite3_stmt *stmt = NULL;
	uint64_t total = run->totals.by_code[IMADDR_CODE_IM_ADDRESS_CHANGES];
	imaddr_html_plan_begin(out, total < IMADDR_HTML_PLAN_ROWS ? total : IMADDR_HTML_PLAN_ROWS,
			       total);
	int rc = sqlite3_prepare_v2(db,
		"SELECT cluster, line, dn, user_id, im_address_before, im_address, "
		"im_address_change FROM users AS u WHERE u.run_id = ?1"
		" AND im_address_change IS NOT NULL ORDER BY id LIMIT ?2", -1, &stmt, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 1, run->id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 2, IMADDR_HTML_PLAN_ROWS);
	while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		rc = SQLITE_OK;
		struct imaddr_html_plan_row row = {
			.cluster = column_text(stmt, 0),
			.line = (uint64_t)sqlite3_column_int64(stmt, 1),
			.dn = column_text(stmt, 2),
			.user_id = column_text(stmt, 3),
			.before = column_text(stmt, 4),
			.after = column_text(stmt, 5),
			.change = column_text(stmt, 6),
		};
		imaddr_html_plan_row(out, &row);
	}
	sqlite3_finalize(stmt);
	imaddr_html_plan_end(out);
	return rc == SQLITE_DONE ? IMADDR_OK : db_error(db, path, err);
}

/* What changed since the previous run, as the run's summary stored it, and the history. */
static enum imaddr_status read_changes(sqlite3 *db, const char *path, struct stored_run *run,
				       struct imaddr_error *err)
{
	int rc = imaddr_report_summary_changes(db, run->id, run->text[T_LABEL], &run->changes,
					       &run->changes_document);
	if (rc == SQLITE_OK)
		rc = imaddr_report_changes_history(db, run->id, &run->history, &run->changes);
	if (rc != SQLITE_OK)
		return db_error(db, path, err);
	run->totals.changes = &run->changes;
	return IMADDR_OK;
}

enum imaddr_status imaddr_report_write_html(const char *db_path, int64_t run_id,
					    const char *html_path, struct imaddr_error *err)
{
	struct stored_run run;
	struct imaddr_atomic_file file;
	sqlite3 *db = NULL;
	bool opened = false;
	memset(&run, 0, sizeof(run));

	enum imaddr_status status = imaddr_atomic_file_check_directory(html_path, IMADDR_ERR_IO,
								       "write", err);
	if (status == IMADDR_OK)
		status = imaddr_report_schema_open_read(db_path, &db, err);
	/* One read transaction: a run committing meanwhile cannot mix in. */
	if (status == IMADDR_OK && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		status = db_error(db, db_path, err);
	if (status == IMADDR_OK)
		status = read_run(db, db_path, run_id, &run, err);
	if (status == IMADDR_OK)
		status = read_counts(db, db_path, &run, err);
	if (status == IMADDR_OK)
		status = read_domains(db, db_path, &run, err);
	if (status == IMADDR_OK)
		status = read_changes(db, db_path, &run, err);
	if (status == IMADDR_OK)
		status = imaddr_atomic_file_open(&file, html_path, err);
	opened = status == IMADDR_OK;
	if (status == IMADDR_OK) {
		struct imaddr_html_run page = {
			.run_id = run.id,
			.input = run.text[T_INPUT],
			.started = run.text[T_STARTED],
			.version = run.text[T_VERSION],
			.scheme = run.text[T_SCHEME],
			.default_domain = run.text[T_DEFAULT_DOMAIN],
			.im_domains = run.text[T_IM_DOMAINS],
			.premigration = run.text[T_CURRENT_SCHEME] != NULL,
			.current_scheme = run.text[T_CURRENT_SCHEME],
			.current_default_domain = run.text[T_CURRENT_DEFAULT_DOMAIN],
			.has_report = true,
		};
		imaddr_html_begin(file.stream, &page);
		imaddr_html_overview(file.stream, &page, &run.totals, NULL);
		status = write_findings(db, db_path, &run, file.stream, err);
		if (status == IMADDR_OK && page.premigration)
			status = write_plan(db, db_path, &run, file.stream, err);
		imaddr_html_end(file.stream);
	}
	if (status == IMADDR_OK) {
		opened = false;
		status = imaddr_atomic_file_commit(&file, err);
	}
	if (opened)
		imaddr_atomic_file_abort(&file);
	run_release(&run);
	sqlite3_close(db);
	return status;
}
