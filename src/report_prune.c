#include "report_prune.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "error.h"
#include "report_file.h"
#include "report_schema.h"
#include "report_summary.h"
#include "sink_report.h"

/*
 * A VACUUM rewrites the whole report (about 1.7 s for 50 MB here) and needs
 * room for a copy of it, while free pages are filled by the next runs before
 * the file grows: it is worth it when a tenth of the file or more is free.
 * A nightly --keep-runs removes one night, which holds what changed that
 * night, a few percent; the first prune of a long history, much more.
 */
#define VACUUM_WHEN_FREE_PERCENT 10

/*
 * The runs of one label before the oldest it keeps: those pruned now and
 * those an earlier prune kept as rows for the versions they wrote.
 */
static const char scratch_tables_sql[] =
	"CREATE TEMP TABLE IF NOT EXISTS pruned_runs (id INTEGER PRIMARY KEY);\n"
	"DELETE FROM temp.pruned_runs;\n";

static const char select_pruned_sql[] =
	"INSERT INTO temp.pruned_runs (id) SELECT id FROM runs WHERE label IS ?1 AND id < ?2";

/* The versions the removed runs wrote: one range of ids each. */
#define WRITTEN_BY_PRUNED_SQL(table) \
	"SELECT v.id FROM temp.pruned_runs AS p JOIN " table " AS v\n" \
	"  ON " IMADDR_REPORT_SCHEMA_WRITTEN_BY_SQL("v", "p.id")

/*
 * A version is held by the runs of its label from first_run up to, not
 * including, end_run: one that ended at the oldest kept run (?1) or before
 * is held by no kept run. So is a position.
 */
static const char drop_unheld_users_sql[] =
	"DELETE FROM user_versions WHERE id IN (\n"
	WRITTEN_BY_PRUNED_SQL("user_versions") " WHERE v.end_run <= ?1)";
static const char drop_unheld_findings_sql[] =
	"DELETE FROM finding_versions WHERE id IN (\n"
	WRITTEN_BY_PRUNED_SQL("finding_versions") " WHERE v.end_run <= ?1)";
static const char drop_unheld_positions_sql[] =
	"DELETE FROM user_positions\n"
	"WHERE first_run IN (SELECT id FROM temp.pruned_runs) AND end_run <= ?1";

/*
 * The others stay where they are, written by their run, which stays as a
 * row marked pruned (runs.pruned): the views read its versions for the kept
 * runs that hold them and show no run of its own. Moving them to the oldest
 * kept run instead renumbered every long-held user each night that
 * --keep-runs pruned one: 7.5 s a night at a million users, not 1.3 s.
 * A pruned run that no kept run needs any more goes.
 */
#define WROTE_SOMETHING_SQL(run) \
	"(EXISTS (SELECT 1 FROM user_versions AS v WHERE " \
	IMADDR_REPORT_SCHEMA_WRITTEN_BY_SQL("v", run) ")\n" \
	" OR EXISTS (SELECT 1 FROM finding_versions AS v WHERE " \
	IMADDR_REPORT_SCHEMA_WRITTEN_BY_SQL("v", run) ")\n" \
	" OR EXISTS (SELECT 1 FROM user_positions AS v WHERE v.first_run = " run "))"

static const char drop_runs_sql[] =
	"DELETE FROM runs WHERE id IN (SELECT id FROM temp.pruned_runs)\n"
	"  AND NOT " WROTE_SOMETHING_SQL("runs.id") ";\n"
	"UPDATE runs SET pruned = 1 WHERE id IN (SELECT id FROM temp.pruned_runs);\n";

/* The tables whose rows name runs (runs.previous_run_id included), as declared. */
static const char references_sql[] =
	"SELECT m.name, f.\"from\", f.on_delete\n"
	"FROM sqlite_master AS m JOIN pragma_foreign_key_list(m.name) AS f\n"
	"WHERE m.type = 'table' AND f.\"table\" = 'runs'\n"
	"  AND m.name NOT IN ('user_versions', 'finding_versions', 'user_positions')\n"
	"ORDER BY m.name, f.\"from\"";

/* A label as runs.label holds it: NULL in a report migrated from one without. */
struct label {
	const char *name;
	bool null;
};

static int bind_label(sqlite3_stmt *stmt, int index, const struct label *label)
{
	return label->null ? sqlite3_bind_null(stmt, index)
			   : sqlite3_bind_text(stmt, index, label->name, -1, SQLITE_STATIC);
}

struct prune {
	sqlite3 *db;
	const char *path;
	struct imaddr_prune_result *result;
	struct imaddr_error *err;
};

static enum imaddr_status fail(struct prune *prune)
{
	return imaddr_report_file_fail(prune->db, prune->path, "prune", prune->err);
}

/*
 * Runs one statement: with `label`, ?1 is the label and ?2 the run `kept`;
 * without, ?1 (if any) is the run. Adds the rows it changed to `*changed`.
 */
static int run_bound(sqlite3 *db, const char *sql, const struct label *label,
		     sqlite3_int64 kept, uint64_t *changed)
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);

	if (rc == SQLITE_OK && label)
		rc = bind_label(stmt, 1, label);
	if (rc == SQLITE_OK && sqlite3_bind_parameter_count(stmt) > 0)
		rc = sqlite3_bind_int64(stmt, label ? 2 : 1, kept);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
	if (rc == SQLITE_OK && changed)
		*changed += (uint64_t)sqlite3_changes(db);
	sqlite3_finalize(stmt);
	return rc;
}

/* Runs every statement of `sql`, ?1 bound to the oldest kept run. */
static int run_script(sqlite3 *db, const char *sql, sqlite3_int64 kept)
{
	int rc = SQLITE_OK;
	while (rc == SQLITE_OK && sql && *sql) {
		sqlite3_stmt *stmt = NULL;
		rc = sqlite3_prepare_v2(db, sql, -1, &stmt, &sql);
		if (rc == SQLITE_OK && stmt && sqlite3_bind_parameter_count(stmt))
			rc = sqlite3_bind_int64(stmt, 1, kept);
		if (rc == SQLITE_OK && stmt)
			rc = sqlite3_step(stmt) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
		sqlite3_finalize(stmt);
	}
	return rc;
}

/*
 * The first column of the first row of `sql`, ?1 the label when given and
 * ?2 the run `kept`.
 */
static int single_integer(sqlite3 *db, const char *sql, const struct label *label,
			  sqlite3_int64 kept, sqlite3_int64 *value)
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);

	*value = 0;
	if (rc == SQLITE_OK && label)
		rc = bind_label(stmt, 1, label);
	if (rc == SQLITE_OK && sqlite3_bind_parameter_count(stmt) >= 2)
		rc = sqlite3_bind_int64(stmt, 2, kept);
	if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		*value = sqlite3_column_int64(stmt, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
	}
	sqlite3_finalize(stmt);
	return rc;
}

/*
 * What names the removed runs goes as its table declares: a CASCADE's rows
 * with them, a SET NULL's reference cleared (runs.previous_run_id of the
 * oldest kept run, whose previous run is gone). A table that declares
 * neither and names a removed run stops the prune rather than dangle.
 */
static enum imaddr_status follow_references(struct prune *prune)
{
	sqlite3_stmt *stmt = NULL;
	enum imaddr_status status = IMADDR_OK;
	int rc = sqlite3_prepare_v2(prune->db, references_sql, -1, &stmt, NULL);
	struct reference {
		char *table;
		char *column;
		char *action;
	} *references = NULL;
	size_t count = 0;

	while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		rc = SQLITE_OK;
		references = imaddr_xrealloc(references, (count + 1) * sizeof(*references));
		references[count].table = imaddr_xstrdup((const char *)sqlite3_column_text(stmt, 0));
		references[count].column = imaddr_xstrdup((const char *)sqlite3_column_text(stmt, 1));
		references[count].action = imaddr_xstrdup((const char *)sqlite3_column_text(stmt, 2));
		count++;
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		status = fail(prune);
	for (size_t i = 0; status == IMADDR_OK && i < count; i++) {
		const struct reference *reference = &references[i];
		bool cascade = !strcmp(reference->action, "CASCADE");
		bool set_null = !strcmp(reference->action, "SET NULL");
		char *sql = sqlite3_mprintf(
			cascade ? "DELETE FROM \"%w\" WHERE \"%w\" IN (SELECT id FROM temp.pruned_runs)"
			: set_null ? "UPDATE \"%w\" SET \"%w\" = NULL"
				     " WHERE \"%w\" IN (SELECT id FROM temp.pruned_runs)"
				   : "SELECT count(*) FROM \"%w\""
				     " WHERE \"%w\" IN (SELECT id FROM temp.pruned_runs)",
			reference->table, reference->column, reference->column);
		sqlite3_int64 naming = 0;
		if (!sql)
			imaddr_fatal("out of memory");
		if (cascade)
			rc = run_bound(prune->db, sql, NULL, 0, &prune->result->other_rows);
		else if (set_null)
			rc = run_bound(prune->db, sql, NULL, 0, NULL);
		else
			rc = single_integer(prune->db, sql, NULL, 0, &naming);
		sqlite3_free(sql);
		if (rc != SQLITE_OK)
			status = fail(prune);
		else if (naming)
			status = imaddr_error_set(prune->err, IMADDR_ERR_DB,
				"cannot prune report '%s': its table '%s' names runs to remove (column "
				"'%s') and declares nothing for their removal", prune->path,
				reference->table, reference->column);
	}
	for (size_t i = 0; i < count; i++) {
		free(references[i].table);
		free(references[i].column);
		free(references[i].action);
	}
	free(references);
	return status;
}

/* Removes the runs of `label` before run `kept`, the oldest it keeps. */
static enum imaddr_status prune_label(struct prune *prune, const struct label *label,
				      sqlite3_int64 kept)
{
	sqlite3 *db = prune->db;
	struct imaddr_prune_result *result = prune->result;
	sqlite3_int64 runs = 0;
	int rc = single_integer(db, "SELECT count(*) FROM runs WHERE label IS ?1 AND id < ?2"
				    " AND pruned IS NULL", label, kept, &runs);

	if (rc == SQLITE_OK && !runs)
		return IMADDR_OK;
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, scratch_tables_sql, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = run_bound(db, select_pruned_sql, label, kept, NULL);
	if (rc == SQLITE_OK)
		rc = run_bound(db, drop_unheld_users_sql, NULL, kept, &result->user_versions);
	if (rc == SQLITE_OK)
		rc = run_bound(db, drop_unheld_findings_sql, NULL, kept, &result->finding_versions);
	if (rc == SQLITE_OK)
		rc = run_bound(db, drop_unheld_positions_sql, NULL, kept, NULL);
	if (rc != SQLITE_OK)
		return fail(prune);
	enum imaddr_status status = follow_references(prune);
	if (status == IMADDR_OK && run_script(db, drop_runs_sql, kept) != SQLITE_OK)
		status = fail(prune);
	if (status == IMADDR_OK) {
		result->runs += (uint64_t)runs;
		result->labels++;
	}
	return status;
}

/* The labels to prune: `only`, or every label of the report. */
static int read_labels(sqlite3 *db, const char *only, struct label **labels, size_t *count,
		       struct imaddr_buf *names)
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v2(db, "SELECT DISTINCT label FROM runs WHERE pruned IS NULL"
					" AND (?1 IS NULL OR label = ?1) ORDER BY label", -1, &stmt, NULL);

	*count = 0;
	if (rc == SQLITE_OK && only)
		rc = sqlite3_bind_text(stmt, 1, only, -1, SQLITE_STATIC);
	while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(stmt, 0);
		rc = SQLITE_OK;
		*labels = imaddr_xrealloc(*labels, (*count + 1) * sizeof(**labels));
		/* An offset for now: the buffer may move. */
		(*labels)[*count].name = (const char *)(uintptr_t)names->len;
		(*labels)[*count].null = !name;
		imaddr_buf_append(names, name ? name : "", strlen(name ? name : "") + 1);
		(*count)++;
	}
	for (size_t i = 0; i < *count; i++)
		(*labels)[i].name = names->data + (uintptr_t)(*labels)[i].name;
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Every label, or `only`, down to its newest `keep` runs. */
static enum imaddr_status prune_labels(struct prune *prune, const char *only, unsigned keep)
{
	sqlite3_stmt *oldest_kept = NULL;
	struct label *labels = NULL;
	struct imaddr_buf names;
	size_t count = 0;
	enum imaddr_status status = IMADDR_OK;

	imaddr_buf_init(&names, 0);
	/* The labels first: pruning one changes the runs a statement would read. */
	int rc = read_labels(prune->db, only, &labels, &count, &names);
	if (rc == SQLITE_OK && only && !count)
		status = imaddr_report_summary_unknown_label(prune->db, prune->path, only,
							     prune->err);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(prune->db, "SELECT id FROM runs WHERE label IS ?1"
						   " AND pruned IS NULL"
						   " ORDER BY id DESC LIMIT 1 OFFSET ?2", -1,
					&oldest_kept, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(oldest_kept, 2, (sqlite3_int64)keep - 1);
	for (size_t i = 0; rc == SQLITE_OK && status == IMADDR_OK && i < count; i++) {
		sqlite3_int64 kept = 0;
		rc = bind_label(oldest_kept, 1, &labels[i]);
		if (rc == SQLITE_OK && (rc = sqlite3_step(oldest_kept)) == SQLITE_ROW)
			kept = sqlite3_column_int64(oldest_kept, 0);
		if (rc == SQLITE_ROW || rc == SQLITE_DONE)
			rc = SQLITE_OK;
		sqlite3_reset(oldest_kept);
		if (rc == SQLITE_OK && kept)
			status = prune_label(prune, &labels[i], kept);
	}
	if (rc != SQLITE_OK && status == IMADDR_OK)
		status = fail(prune);
	sqlite3_finalize(oldest_kept);
	free(labels);
	imaddr_buf_release(&names);
	return status;
}

/* The report's size and its free pages, in bytes. */
static int report_pages(sqlite3 *db, uint64_t *size, uint64_t *free_bytes)
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v2(db, "SELECT page_count * page_size, freelist_count * page_size"
					" FROM pragma_page_count, pragma_freelist_count,"
					" pragma_page_size", -1, &stmt, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		*size = (uint64_t)sqlite3_column_int64(stmt, 0);
		*free_bytes = (uint64_t)sqlite3_column_int64(stmt, 1);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(stmt);
	return rc;
}

enum imaddr_status imaddr_report_prune(const char *db_path, const char *label, unsigned keep,
				       int wait_ms, struct imaddr_prune_result *result,
				       struct imaddr_error *err)
{
	struct imaddr_prune_result unasked;
	enum imaddr_report_kind kind = IMADDR_REPORT_KIND_EMPTY;
	enum imaddr_status status;
	uint64_t free_before = 0, free_after = 0;

	if (!result)
		result = &unasked;
	struct prune prune = { NULL, db_path, result, err };
	memset(result, 0, sizeof(*result));
	if (!db_path)
		return imaddr_error_null(err, __func__, "db_path");
	if (keep < 1)
		return imaddr_error_set(err, IMADDR_ERR_USAGE,
					"pruning keeps at least the newest run of a label");
	status = imaddr_report_file_open(db_path, wait_ms >= 0 ? wait_ms
						   : IMADDR_SINK_REPORT_BUSY_TIMEOUT_MS,
					 &prune.db, err);
	if (status == IMADDR_OK && !prune.db)
		status = imaddr_error_set(err, IMADDR_ERR_DB, "cannot prune report '%s': no such file",
					  db_path);
	/* Another run waits for this one, and this one for a run in progress. */
	if (status == IMADDR_OK && sqlite3_exec(prune.db, "BEGIN IMMEDIATE", NULL, NULL, NULL))
		status = fail(&prune);
	if (status == IMADDR_OK)
		status = imaddr_report_file_check(prune.db, db_path, &kind, err);
	if (status == IMADDR_OK && kind != IMADDR_REPORT_KIND_CURRENT &&
	    kind != IMADDR_REPORT_KIND_EMPTY)
		status = imaddr_error_set(err, IMADDR_ERR_DB, "cannot prune report '%s': it has an "
					  "older schema, which an audit with --db brings up to date "
					  "first", db_path);
	if (status == IMADDR_OK && kind == IMADDR_REPORT_KIND_CURRENT &&
	    imaddr_report_schema_refresh(prune.db) != SQLITE_OK)
		status = fail(&prune);
	if (status == IMADDR_OK &&
	    report_pages(prune.db, &result->bytes_before, &free_before) != SQLITE_OK)
		status = fail(&prune);
	/* As imaddr report says: an empty file is no report, and stays as it is. */
	if (status == IMADDR_OK && kind == IMADDR_REPORT_KIND_EMPTY)
		status = imaddr_error_set(err, IMADDR_ERR_DB, "'%s' is empty: no run to prune",
					  db_path);
	if (status == IMADDR_OK && kind == IMADDR_REPORT_KIND_CURRENT)
		status = prune_labels(&prune, label, keep);
	if (status == IMADDR_OK)
		imaddr_step("prune-prepared");
	if (status == IMADDR_OK && sqlite3_exec(prune.db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		status = fail(&prune);
	if (status != IMADDR_OK) {
		memset(result, 0, sizeof(*result));
		if (prune.db && !sqlite3_get_autocommit(prune.db))
			sqlite3_exec(prune.db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(prune.db);
		return status;
	}
	imaddr_step("prune-committed");
	if (report_pages(prune.db, &result->bytes_after, &free_after) != SQLITE_OK)
		status = fail(&prune);
	result->bytes_freed = free_after > free_before ? free_after - free_before : 0;
	/* Outside the transaction, which VACUUM cannot run in. */
	if (status == IMADDR_OK && result->runs &&
	    free_after * 100 >= result->bytes_after * VACUUM_WHEN_FREE_PERCENT) {
		if (sqlite3_exec(prune.db, "VACUUM", NULL, NULL, NULL) != SQLITE_OK)
			status = imaddr_error_set(err, IMADDR_ERR_DB,
				"removed %llu runs from report '%s', but cannot give the space "
				"back (VACUUM): %s", (unsigned long long)result->runs, db_path,
				sqlite3_errmsg(prune.db));
		else if (report_pages(prune.db, &result->bytes_after, &free_after) != SQLITE_OK)
			status = fail(&prune);
		else
			result->vacuumed = true;
	}
	sqlite3_close(prune.db);
	return status;
}
