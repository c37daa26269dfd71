#include "report_changes.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "report_rows.h"
#include "report_schema.h"

/*
 * im_address_changes, by merging the user versions this run wrote with
 * those it ended, each read in user ID order: a user it neither wrote nor
 * ended is the same as in the previous run, IM address included. When
 * little changed both are small; SQLite sorts them here.
 */
static const char written_by_user_id_sql[] =
	"SELECT user_id, ordinal, " IMADDR_REPORT_SCHEMA_IM_ADDRESS_SQL("v") "\n"
	"FROM user_versions AS v\n"
	"WHERE " IMADDR_REPORT_SCHEMA_WRITTEN_BY_SQL("v", "?1") " AND user_id IS NOT NULL\n"
	"ORDER BY user_id, ordinal";

/* An ended version's ordinal in the previous run, which held it last. */
#define PREVIOUS_RUN_SQL "(SELECT previous_run_id FROM runs WHERE id = ?1)"

static const char ended_by_user_id_sql[] =
	"SELECT user_id,\n"
	"       ordinal + " IMADDR_REPORT_SCHEMA_SHIFT_SQL("v.id", PREVIOUS_RUN_SQL, "ordinal_shift") ",\n"
	"       " IMADDR_REPORT_SCHEMA_IM_ADDRESS_SQL("v") "\n"
	"FROM user_versions AS v\n"
	"WHERE end_run = ?1 AND user_id IS NOT NULL\n"
	"ORDER BY user_id, ordinal";

/*
 * Users without a user ID, written and ended: they count as added and
 * removed too, by how many more or fewer there are.
 */
static const char written_without_user_id_sql[] =
	"SELECT count(*) FROM user_versions AS v\n"
	"WHERE " IMADDR_REPORT_SCHEMA_WRITTEN_BY_SQL("v", "?1") " AND user_id IS NULL";
static const char ended_without_user_id_sql[] =
	"SELECT count(*) FROM user_versions WHERE end_run = ?1 AND user_id IS NULL";

static const char insert_change_sql[] =
	"INSERT INTO im_address_changes (run_id, previous_run_id, user_id, ordinal,\n"
	"                                previous_ordinal, previous_im_address, im_address)\n"
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

/* The users of one run that share one user ID (namesakes: userid-duplicate). */
struct namesakes {
	sqlite3_stmt *stmt;
	int step;                   /* the last sqlite3_step(): SQLITE_ROW while a row waits */
	struct imaddr_buf user_id;
	struct imaddr_buf im_addresses;  /* the members', each NUL-terminated */
	struct namesake {
		sqlite3_int64 ordinal;
		size_t im_address;  /* offset in im_addresses, or SIZE_MAX for NULL */
	} *members;
	size_t count;
	size_t capacity;
};

/* A buffer's bytes as TEXT; it must outlive the statement's next step. */
static int bind_blob_text(sqlite3_stmt *stmt, int index, const struct imaddr_buf *text)
{
	return sqlite3_bind_text(stmt, index, text->len ? text->data : "", (int)text->len,
				 SQLITE_STATIC);
}

/* SQLite's BINARY collation, by which ORDER BY user_id sorted the rows. */
static int compare_binary(const struct imaddr_buf *a, const struct imaddr_buf *b)
{
	int order = memcmp(a->data, b->data, a->len < b->len ? a->len : b->len);
	if (order)
		return order;
	return a->len < b->len ? -1 : a->len > b->len;
}

static bool same_user_id(sqlite3_stmt *stmt, const struct imaddr_buf *user_id)
{
	const void *text = sqlite3_column_text(stmt, 0);
	size_t len = (size_t)sqlite3_column_bytes(stmt, 0);
	return len == user_id->len && !memcmp(text, user_id->data, len);
}

/* Reads the next user ID's namesakes; count is 0 after the last. */
static int next_namesakes(struct namesakes *group)
{
	group->count = 0;
	if (group->step != SQLITE_ROW)
		return group->step == SQLITE_DONE ? SQLITE_OK : group->step;
	imaddr_buf_reset(&group->user_id);
	imaddr_buf_append(&group->user_id, sqlite3_column_text(group->stmt, 0),
			  (size_t)sqlite3_column_bytes(group->stmt, 0));
	imaddr_buf_reset(&group->im_addresses);
	do {
		const char *im_address = (const char *)sqlite3_column_text(group->stmt, 2);
		if (group->count == group->capacity) {
			group->capacity = group->capacity ? group->capacity * 2 : 4;
			group->members = imaddr_xrealloc(group->members, group->capacity *
							 sizeof(*group->members));
		}
		struct namesake *member = &group->members[group->count++];
		member->ordinal = sqlite3_column_int64(group->stmt, 1);
		member->im_address = im_address ? group->im_addresses.len : SIZE_MAX;
		if (im_address)
			imaddr_buf_append(&group->im_addresses, im_address, strlen(im_address) + 1);
		group->step = sqlite3_step(group->stmt);
	} while (group->step == SQLITE_ROW && same_user_id(group->stmt, &group->user_id));
	return group->step == SQLITE_ROW || group->step == SQLITE_DONE ? SQLITE_OK : group->step;
}

static const char *namesake_im_address(const struct namesakes *group, size_t i)
{
	size_t offset = group->members[i].im_address;
	return offset == SIZE_MAX ? NULL : group->im_addresses.data + offset;
}

static int open_namesakes(sqlite3 *db, const char *sql, sqlite3_int64 run_id,
			  struct namesakes *group)
{
	memset(group, 0, sizeof(*group));
	imaddr_buf_init(&group->user_id, 0);
	imaddr_buf_init(&group->im_addresses, 0);
	int rc = sqlite3_prepare_v2(db, sql, -1, &group->stmt, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(group->stmt, 1, run_id);
	group->step = rc == SQLITE_OK ? sqlite3_step(group->stmt) : rc;
	return rc == SQLITE_OK ? next_namesakes(group) : rc;
}

static void close_namesakes(struct namesakes *group)
{
	sqlite3_finalize(group->stmt);
	imaddr_buf_release(&group->user_id);
	imaddr_buf_release(&group->im_addresses);
	free(group->members);
}

/* Each user of this run against each namesake of the previous run. */
static int insert_changes(sqlite3_stmt *insert, const struct namesakes *now,
			  const struct namesakes *before)
{
	int rc = bind_blob_text(insert, 3, &now->user_id);
	for (size_t i = 0; rc == SQLITE_OK && i < now->count; i++) {
		for (size_t j = 0; rc == SQLITE_OK && j < before->count; j++) {
			const char *current = namesake_im_address(now, i);
			const char *previous = namesake_im_address(before, j);
			if (imaddr_same_text(current, previous))
				continue;
			rc = sqlite3_bind_int64(insert, 4, now->members[i].ordinal);
			if (rc == SQLITE_OK)
				rc = sqlite3_bind_int64(insert, 5, before->members[j].ordinal);
			if (rc == SQLITE_OK)
				rc = imaddr_report_rows_bind_text(insert, 6, previous);
			if (rc == SQLITE_OK)
				rc = imaddr_report_rows_bind_text(insert, 7, current);
			if (rc == SQLITE_OK)
				rc = imaddr_report_rows_step(insert);
			sqlite3_reset(insert);
		}
	}
	return rc;
}

/* One count(*) of run ?1's versions. */
static int count_versions(sqlite3 *db, const char *sql, sqlite3_int64 run_id, uint64_t *count)
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 1, run_id);
	if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		*count = (uint64_t)sqlite3_column_int64(stmt, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(stmt);
	return rc;
}

/*
 * A user ID held by more users now than before adds the difference, by
 * fewer removes it: the previous run's count plus those added, less those
 * removed, is this run's. Versions held by both runs cancel out, so only
 * those written and ended count.
 */
static void count_difference(uint64_t now, uint64_t before, uint64_t *added, uint64_t *removed)
{
	if (now > before)
		*added += now - before;
	else
		*removed += before - now;
}

int imaddr_report_changes_record(sqlite3 *db, sqlite3_int64 run_id,
				 sqlite3_int64 previous_run_id,
				 struct imaddr_run_changes *changes)
{
	uint64_t added = 0, removed = 0;
	struct namesakes now, before;
	sqlite3_stmt *insert = NULL;
	sqlite3_int64 base_changes = sqlite3_total_changes(db);
	int rc = open_namesakes(db, written_by_user_id_sql, run_id, &now);

	if (rc == SQLITE_OK)
		rc = open_namesakes(db, ended_by_user_id_sql, run_id, &before);
	else
		memset(&before, 0, sizeof(before));
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, insert_change_sql, -1, &insert, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(insert, 1, run_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(insert, 2, previous_run_id);
	while (rc == SQLITE_OK && (now.count || before.count)) {
		int order = !before.count ? -1 : !now.count ? 1
			    : compare_binary(&now.user_id, &before.user_id);
		if (order == 0)
			rc = insert_changes(insert, &now, &before);
		count_difference(order <= 0 ? now.count : 0, order >= 0 ? before.count : 0, &added,
				 &removed);
		if (rc == SQLITE_OK && order <= 0)
			rc = next_namesakes(&now);
		if (rc == SQLITE_OK && order >= 0)
			rc = next_namesakes(&before);
	}
	uint64_t written_without = 0, ended_without = 0;
	if (rc == SQLITE_OK)
		rc = count_versions(db, written_without_user_id_sql, run_id, &written_without);
	if (rc == SQLITE_OK)
		rc = count_versions(db, ended_without_user_id_sql, run_id, &ended_without);
	count_difference(written_without, ended_without, &added, &removed);
	if (rc == SQLITE_OK && changes) {
		changes->users_added = added;
		changes->users_removed = removed;
		changes->im_addresses_changed = (uint64_t)sqlite3_total_changes(db) - base_changes;
	}
	sqlite3_finalize(insert);
	close_namesakes(&now);
	close_namesakes(&before);
	return rc;
}

/* Counts of one view's findings of run ?1, by code. */
static int count_by_code(sqlite3 *db, const char *sql, sqlite3_int64 run_id,
			 uint64_t by_code[IMADDR_CODE_COUNT], uint64_t by_severity[3])
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 1, run_id);
	while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(stmt, 0);
		uint64_t count = (uint64_t)sqlite3_column_int64(stmt, 1);
		enum imaddr_code code;
		rc = SQLITE_OK;
		if (!name || !imaddr_code_parse(name, &code))
			continue;
		by_code[code] += count;
		by_severity[imaddr_code_severity(code)] += count;
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* The first new findings, errors first, with the line or DN of their user. */
static const char new_examples_sql[] =
	"SELECT n.code,\n"
	"       coalesce(u.line + " IMADDR_REPORT_SCHEMA_SHIFT_SQL("u.id", "n.run_id", "line_shift") ",\n"
	"                f.line),\n"
	"       coalesce(u.dn, f.dn), f.field, f.message, f.cluster\n"
	"FROM new_findings AS n\n"
	"JOIN finding_versions AS f ON f.id = n.finding_id\n"
	"LEFT JOIN user_versions AS u ON u.id = f.user_version\n"
	"WHERE n.run_id = ?1\n"
	"ORDER BY CASE n.severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END,\n"
	"         n.finding_id\n"
	"LIMIT " IMADDR_REPORT_CHANGES_EXAMPLES_SQL;

static char *describe_example(sqlite3_stmt *stmt)
{
	struct imaddr_buf line;
	const char *dn = (const char *)sqlite3_column_text(stmt, 2);
	const char *field = (const char *)sqlite3_column_text(stmt, 3);
	const char *message = (const char *)sqlite3_column_text(stmt, 4);
	const char *cluster = (const char *)sqlite3_column_text(stmt, 5);
	sqlite3_int64 line_number = sqlite3_column_int64(stmt, 1);

	imaddr_buf_init(&line, 0);
	if (cluster)
		imaddr_buf_appendf(&line, "%s: ", cluster);
	if (dn)
		imaddr_buf_append_str(&line, dn);
	else if (line_number)
		imaddr_buf_appendf(&line, "line %lld", (long long)line_number);
	else
		imaddr_buf_append_str(&line, "run");
	if (field)
		imaddr_buf_appendf(&line, " [%s]", field);
	imaddr_buf_appendf(&line, ": %s", message ? message : "");
	return imaddr_buf_detach(&line);
}

int imaddr_report_changes_findings(sqlite3 *db, sqlite3_int64 run_id,
				   struct imaddr_run_changes *changes,
				   char *examples[IMADDR_CHANGES_EXAMPLES])
{
	sqlite3_stmt *stmt = NULL;
	int rc = count_by_code(db, "SELECT code, count(*) FROM new_findings WHERE run_id = ?1"
				   " GROUP BY code", run_id, changes->new_by_code,
			       changes->new_by_severity);

	if (rc == SQLITE_OK)
		rc = count_by_code(db, "SELECT code, count(*) FROM resolved_findings"
				       " WHERE run_id = ?1 GROUP BY code", run_id,
				   changes->resolved_by_code, changes->resolved_by_severity);
	if (rc == SQLITE_OK)
		rc = count_by_code(db, "SELECT code, count(*) FROM waived_findings"
				       " WHERE run_id = ?1 GROUP BY code", run_id,
				   changes->waived_by_code, changes->waived_by_severity);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, new_examples_sql, -1, &stmt, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 1, run_id);
	while (rc == SQLITE_OK && changes->example_count < IMADDR_CHANGES_EXAMPLES &&
	       (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		size_t i = changes->example_count++;
		rc = SQLITE_OK;
		examples[i] = describe_example(stmt);
		changes->examples[i] = examples[i];
		const char *name = (const char *)sqlite3_column_text(stmt, 0);
		if (!name || !imaddr_code_parse(name, &changes->example_codes[i]))
			changes->example_codes[i] = IMADDR_CODE_COUNT;
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* The last runs of the label, oldest first. */
static const char history_sql[] =
	"SELECT * FROM (\n"
	"  SELECT g.id, g.started, g.users, g.errors, g.warnings, g.infos\n"
	"  FROM runs AS r JOIN runs AS g ON g.label IS r.label AND g.id <= r.id\n"
	"  WHERE r.id = ?1 AND g.pruned IS NULL\n"
	"  ORDER BY g.id DESC LIMIT " IMADDR_REPORT_HISTORY_RUNS_SQL "\n"
	") ORDER BY id";

int imaddr_report_changes_history(sqlite3 *db, sqlite3_int64 run_id,
				  struct imaddr_report_history *history,
				  struct imaddr_run_changes *changes)
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v2(db, history_sql, -1, &stmt, NULL);

	history->count = 0;
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 1, run_id);
	while (rc == SQLITE_OK && history->count < IMADDR_HISTORY_RUNS &&
	       (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		size_t i = history->count++;
		const char *started = (const char *)sqlite3_column_text(stmt, 1);
		struct imaddr_run_point *point = &history->points[i];
		rc = SQLITE_OK;
		snprintf(history->started[i], sizeof(history->started[i]), "%s",
			 started ? started : "");
		point->started = history->started[i];
		point->run_id = sqlite3_column_int64(stmt, 0);
		point->users = (uint64_t)sqlite3_column_int64(stmt, 2);
		point->errors = (uint64_t)sqlite3_column_int64(stmt, 3);
		point->warnings = (uint64_t)sqlite3_column_int64(stmt, 4);
		point->infos = (uint64_t)sqlite3_column_int64(stmt, 5);
	}
	sqlite3_finalize(stmt);
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	changes->history = history->points;
	changes->history_count = rc == SQLITE_OK ? history->count : 0;
	return rc;
}
