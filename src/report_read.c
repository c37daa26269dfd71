#include "report_read.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "error.h"
#include "mapping.h"
#include "report_file.h"
#include "report_runs.h"
#include "report_schema.h"
#include "report_summary.h"

static char *column_copy(sqlite3_stmt *stmt, int column)
{
	const unsigned char *text = sqlite3_column_text(stmt, column);
	return text ? imaddr_xstrdup((const char *)text) : NULL;
}

static const char *column_text(sqlite3_stmt *stmt, int column)
{
	return (const char *)sqlite3_column_text(stmt, column);
}

enum imaddr_status imaddr_stored_run_error(struct imaddr_stored_run *run,
					   struct imaddr_error *err)
{
	if (imaddr_report_file_wait_cut_short(run->db))
		return imaddr_report_file_interrupted(run->path, err);
	return imaddr_error_set(err, IMADDR_ERR_DB, "cannot read the report '%s': %s", run->path,
				sqlite3_errmsg(run->db));
}

/* The run (`wanted`, or the newest when 0) and its totals. */
static enum imaddr_status read_run(struct imaddr_stored_run *run, sqlite3_int64 wanted,
				   struct imaddr_error *err)
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v2(run->db,
		"SELECT id, started, version, input, scheme, default_domain, im_domains, "
		"current_scheme, current_default_domain, label, waivers, mapping, users, "
		"users_with_im_address, users_with_error, errors, warnings, infos, waived FROM runs "
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
			return imaddr_report_runs_missing(run->db, run->path, wanted, err);
		return imaddr_error_set(err, IMADDR_ERR_USAGE, "the report '%s' has no run yet",
					run->path);
	}
	if (rc != SQLITE_ROW) {
		enum imaddr_status status = imaddr_stored_run_error(run, err);
		sqlite3_finalize(stmt);
		return status;
	}
	int column = 0;
	run->id = sqlite3_column_int64(stmt, column++);
	for (int i = 0; i < IMADDR_STORED_TEXT_COUNT; i++)
		run->text[i] = column_copy(stmt, column++);
	struct imaddr_run_totals *totals = &run->totals;
	totals->users = (uint64_t)sqlite3_column_int64(stmt, column++);
	totals->users_with_im_address = (uint64_t)sqlite3_column_int64(stmt, column++);
	totals->users_with_error = (uint64_t)sqlite3_column_int64(stmt, column++);
	totals->by_severity[IMADDR_SEVERITY_ERROR] = (uint64_t)sqlite3_column_int64(stmt, column++);
	totals->by_severity[IMADDR_SEVERITY_WARNING] = (uint64_t)sqlite3_column_int64(stmt, column++);
	totals->by_severity[IMADDR_SEVERITY_INFO] = (uint64_t)sqlite3_column_int64(stmt, column++);
	totals->waived = (uint64_t)sqlite3_column_int64(stmt, column++);
	sqlite3_finalize(stmt);
	return IMADDR_OK;
}

/* Findings by code, waived apart, and the IM address changes from the users. */
static enum imaddr_status read_counts(struct imaddr_stored_run *run, struct imaddr_error *err)
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v2(run->db,
		"SELECT code, waiver_reason IS NOT NULL, count(*) FROM findings WHERE run_id = ?1"
		" GROUP BY code, waiver_reason IS NOT NULL "
		"UNION ALL "
		"SELECT 'im-address-changes:' || im_address_change, 0, count(*) FROM users AS u "
		"WHERE u.run_id = ?1"
		" AND im_address_change IS NOT NULL GROUP BY im_address_change", -1, &stmt, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 1, run->id);
	struct imaddr_run_totals *totals = &run->totals;
	while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *name = column_text(stmt, 0);
		bool waived = sqlite3_column_int(stmt, 1) != 0;
		uint64_t count = (uint64_t)sqlite3_column_int64(stmt, 2);
		enum imaddr_code code;
		rc = SQLITE_OK;
		if (name && !strncmp(name, "im-address-changes:", 19)) {
			totals->by_code[IMADDR_CODE_IM_ADDRESS_CHANGES] += count;
			if (!strcmp(name + 19, "changes"))
				totals->im_address_changes = count;
			else if (!strcmp(name + 19, "lost"))
				totals->im_address_lost = count;
			else
				totals->im_address_gained = count;
		} else if (name && imaddr_code_parse(name, &code)) {
			if (waived)
				totals->waived_by_code[code] = count;
			else
				totals->by_code[code] = count;
		}
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? IMADDR_OK : imaddr_stored_run_error(run, err);
}

/* What changed since the previous run, as the run's summary stored it, and the history. */
static enum imaddr_status read_changes(struct imaddr_stored_run *run, struct imaddr_error *err)
{
	int rc = imaddr_report_summary_changes(run->db, run->id, run->text[IMADDR_STORED_LABEL],
					       &run->changes, &run->changes_document);
	if (rc == SQLITE_OK)
		rc = imaddr_report_changes_history(run->db, run->id, &run->history, &run->changes);
	if (rc != SQLITE_OK)
		return imaddr_stored_run_error(run, err);
	run->totals.changes = &run->changes;
	return IMADDR_OK;
}

enum imaddr_status imaddr_stored_run_open(const char *path, int64_t run_id,
					  struct imaddr_stored_run *run, struct imaddr_error *err)
{
	memset(run, 0, sizeof(*run));
	run->path = path;
	enum imaddr_status status = imaddr_report_file_open_read(path, &run->db, err);
	if (status == IMADDR_OK && sqlite3_exec(run->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		status = imaddr_stored_run_error(run, err);
	if (status == IMADDR_OK)
		status = read_run(run, run_id, err);
	if (status == IMADDR_OK)
		status = read_counts(run, err);
	if (status == IMADDR_OK) {
		int rc = imaddr_report_runs_read_domains(run->db, run->id, &run->domains,
							 &run->totals.domain_count);
		run->totals.domains = run->domains;
		if (rc != SQLITE_OK)
			status = imaddr_stored_run_error(run, err);
	}
	if (status == IMADDR_OK)
		status = read_changes(run, err);
	return status;
}

void imaddr_stored_run_describe(const struct imaddr_stored_run *run,
				struct imaddr_run_description *out)
{
	char *const *text = run->text;
	*out = (struct imaddr_run_description){
		.run_id = run->id,
		.input = text[IMADDR_STORED_INPUT],
		.started = text[IMADDR_STORED_STARTED],
		.version = text[IMADDR_STORED_VERSION],
		.scheme = text[IMADDR_STORED_SCHEME],
		.default_domain = text[IMADDR_STORED_DEFAULT_DOMAIN],
		.im_domains = text[IMADDR_STORED_IM_DOMAINS],
		.premigration = text[IMADDR_STORED_CURRENT_SCHEME] != NULL,
		.current_scheme = text[IMADDR_STORED_CURRENT_SCHEME],
		.current_default_domain = text[IMADDR_STORED_CURRENT_DEFAULT_DOMAIN],
		.waivers = text[IMADDR_STORED_WAIVERS],
		.has_report = true,
	};
}

void imaddr_stored_run_close(struct imaddr_stored_run *run)
{
	for (int i = 0; i < IMADDR_STORED_TEXT_COUNT; i++)
		free(run->text[i]);
	imaddr_report_runs_free_domains(run->domains, run->totals.domain_count);
	json_decref(run->changes_document);
	sqlite3_close(run->db);
	memset(run, 0, sizeof(*run));
}

/*
 * The attribute the run's mapping (report_runs.c's "user ID=sAMAccountName,
 * directory URI=mail (varies), ..., DN=dn": roles in their order, then the
 * DN) names for `role`; NULL when it names none or it varied.
 */
static char *mapping_attribute(const char *mapping, enum imaddr_role role)
{
	const char *name = imaddr_role_name(role);
	size_t name_length = strlen(name);
	for (const char *at = mapping; at && *at;) {
		if (!strncmp(at, name, name_length) && at[name_length] == '=') {
			const char *value = at + name_length + 1;
			const char *end = value + strlen(value);
			/* The next role's or the DN's entry ends it. */
			for (int next = role + 1; next <= IMADDR_ROLE_COUNT; next++) {
				struct imaddr_buf entry;
				imaddr_buf_init(&entry, 0);
				imaddr_buf_appendf(&entry, ", %s=", next < IMADDR_ROLE_COUNT
						   ? imaddr_role_name((enum imaddr_role)next) : "DN");
				const char *found = strstr(value, entry.data);
				imaddr_buf_release(&entry);
				if (found && found < end)
					end = found;
			}
			static const char varies[] = " (varies)";
			size_t length = (size_t)(end - value);
			if (length >= sizeof(varies) - 1 &&
			    !memcmp(end - (sizeof(varies) - 1), varies, sizeof(varies) - 1))
				return NULL;
			return imaddr_xstrndup(value, length);
		}
		at = strstr(at, ", ");
		at = at ? at + 2 : NULL;
	}
	return NULL;
}

/*
 * The findings in the order the audit found them. A run that holds findings
 * from earlier nights stores them under the ids those nights gave them, so
 * the order is rebuilt from where the run saw them: the findings of the read
 * by their user's line (a skipped record's own line; within a user, the
 * rules' order: its other findings, then the change of its IM address,
 * then what export-lossy and csv-formula add after it), then what the audit
 * found after the read, in its order: duplicates kind by kind, each group
 * at its first member, members in input order; look-alikes; the IM domains;
 * the waivers. A group is the findings of one code around its first member,
 * numbered in that order. Window functions rather than a join on the group,
 * which SQLite planned as a scan of the groups per finding.
 */
static const char findings_sql[] =
	"WITH placed AS (\n"
	"  SELECT f.id, f.code, f.ordinal,\n"
	"         coalesce(u.line + " IMADDR_REPORT_SCHEMA_SHIFT_SQL("u.id", "f.run_id", "line_shift") ",\n"
	"                  f.line) AS at_line,\n"
	"         coalesce(u.dn, f.dn) AS user_dn, f.user_id, f.field, f.value, f.message,\n"
	"         f.suggestion, f.related_ordinal, f.cluster,\n"
	"         f.waiver_reason, f.waiver_expires, f.waiver_source,\n"
	"         CASE WHEN f.code IN ('export-lossy', 'csv-formula') THEN 2 ELSE 0 END AS within,\n"
	"         u.first_name, u.last_name\n"
	"  FROM findings AS f\n"
	"  LEFT JOIN user_versions AS u ON u.id = f.user_version\n"
	"  WHERE f.run_id = ?1\n"
	"  UNION ALL\n"
	"  SELECT NULL, 'im-address-changes', u.ordinal, u.line, u.dn, u.user_id, ?5,\n"
	"         CASE u.im_address_change WHEN 'lost' THEN NULL ELSE u.im_address END,\n"
	"         CASE u.im_address_change\n"
	"           WHEN 'changes' THEN printf('IM address changes from ''%s'' to ''%s''',\n"
	"                                      u.im_address_before, u.im_address)\n"
	"           WHEN 'lost' THEN printf('the user loses the IM address ''%s''',\n"
	"                                   u.im_address_before)\n"
	"           ELSE printf('the user gets the IM address ''%s'', having none today',\n"
	"                       u.im_address) END,\n"
	"         NULL, NULL, u.cluster, NULL, NULL, NULL, 1, u.first_name, u.last_name\n"
	"  FROM users AS u\n"
	"  WHERE ?4 AND u.run_id = ?1 AND u.im_address_change IS NOT NULL),\n"
	"phased AS (\n"
	"  SELECT *,\n"
	"         CASE code WHEN 'userid-duplicate' THEN 1 WHEN 'uri-duplicate' THEN 2\n"
	"                   WHEN 'mail-duplicate' THEN 3 WHEN 'im-address-duplicate' THEN 4\n"
	"                   WHEN 'confusable' THEN 5 WHEN 'too-many-domains' THEN 6\n"
	"                   WHEN 'waiver-expired' THEN 7 WHEN 'waiver-unused' THEN 7\n"
	"                   ELSE 0 END AS phase,\n"
	"         CASE WHEN related_ordinal IS NOT NULL\n"
	"              THEN min(ordinal, related_ordinal) END AS group_at,\n"
	/*
	 * Lines start again in each input (cluster), whose users follow one
	 * another in ordinal order: the inputs are read in the order of their
	 * first user.
	 */
	"         min(CASE WHEN ordinal > 0 THEN ordinal END) OVER (PARTITION BY cluster)\n"
	"           AS input_at\n"
	"  FROM placed),\n"
	"ordered AS (\n"
	/*
	 * Confusables come a kind at a time, user IDs first, each kind in user
	 * order (confusables.c); their message names the kind.
	 */
	"  SELECT *, row_number() OVER (ORDER BY phase, group_at,\n"
	"                                        code = 'confusable'\n"
	"                                          AND message LIKE 'IM address %',\n"
	"                                        CASE WHEN phase = 0 THEN input_at END,\n"
	"                                        CASE WHEN phase = 0 THEN at_line END,\n"
	"                                        ordinal, within, id) AS place,\n"
	"         CASE WHEN phase BETWEEN 1 AND 4 AND group_at IS NOT NULL\n"
	"              THEN dense_rank() OVER (PARTITION BY phase BETWEEN 1 AND 4\n"
	"                                                   AND group_at IS NOT NULL\n"
	"                                      ORDER BY phase, group_at) END AS number\n"
	"  FROM phased),\n"
	"listed AS (SELECT *, row_number() OVER (PARTITION BY code ORDER BY place) AS nth\n"
	"  FROM ordered WHERE ?3 OR waiver_reason IS NULL),\n"
	/* A code's groups follow one another in place order, numbered upwards. */
	"capped AS (SELECT *, max(CASE WHEN nth <= ?2 THEN number END)\n"
	"                       OVER (PARTITION BY code) AS last_number\n"
	"  FROM listed)\n"
	"SELECT code, ordinal, at_line, user_dn, user_id, field, value, message, suggestion,\n"
	"  related_ordinal, cluster, number, waiver_reason, waiver_expires, waiver_source,\n"
	"  first_name, last_name\n"
	"FROM capped WHERE nth <= ?2 OR (number = last_number AND nth <= ?2 + ?6)\n";
static const char by_place_sql[] = "ORDER BY place";
static const char by_user_sql[] = "ORDER BY ordinal = 0, ordinal, place";

enum imaddr_status imaddr_stored_run_findings(struct imaddr_stored_run *run,
					      const struct imaddr_stored_findings_wanted *wanted,
					      imaddr_stored_finding_fn *fn, void *context,
					      struct imaddr_error *err)
{
	enum imaddr_role role = run->text[IMADDR_STORED_SCHEME] &&
				!strcmp(run->text[IMADDR_STORED_SCHEME], "userid")
				? IMADDR_ROLE_USER_ID : IMADDR_ROLE_DIRECTORY_URI;
	char *field = mapping_attribute(run->text[IMADDR_STORED_MAPPING], role);
	sqlite3_stmt *stmt = NULL;
	struct imaddr_buf sql;
	imaddr_buf_init(&sql, 0);
	imaddr_buf_append_str(&sql, findings_sql);
	imaddr_buf_append_str(&sql, wanted->by_user ? by_user_sql : by_place_sql);
	int rc = sqlite3_prepare_v2(run->db, sql.data, -1, &stmt, NULL);
	imaddr_buf_release(&sql);
	uint64_t per_code = wanted->per_code < INT64_MAX ? wanted->per_code : INT64_MAX;
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 1, run->id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 2, (sqlite3_int64)per_code);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(stmt, 3, wanted->waived);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(stmt, 4, wanted->im_address_changes);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(stmt, 5, field, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 6, wanted->group_rest < INT32_MAX
							? (sqlite3_int64)wanted->group_rest : INT32_MAX);
	enum imaddr_status status = IMADDR_OK;
	while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		enum imaddr_code code;
		rc = SQLITE_OK;
		if (imaddr_stop_requested()) {
			status = imaddr_error_set(err, IMADDR_ERR_INTERRUPTED, "interrupted");
			break;
		}
		if (!imaddr_code_parse(column_text(stmt, 0), &code))
			continue;
		struct imaddr_stored_finding stored = { .finding = {
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
			.waiver_reason = column_text(stmt, 12),
			.waiver_expires = column_text(stmt, 13),
			.waiver_source = column_text(stmt, 14),
		},
			.duplicate_group = (uint64_t)sqlite3_column_int64(stmt, 11),
			.first_name = column_text(stmt, 15),
			.last_name = column_text(stmt, 16),
		};
		status = fn(context, &stored, err);
		if (status != IMADDR_OK)
			break;
	}
	if (status == IMADDR_OK && rc != SQLITE_DONE)
		status = imaddr_stored_run_error(run, err);
	sqlite3_finalize(stmt);
	free(field);
	return status;
}
