#include "report_html.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "error.h"
#include "html_report.h"
#include "report_read.h"

struct listed_rows {
	FILE *rows;
	uint64_t count;
};

static enum imaddr_status finding_row(void *context, const struct imaddr_stored_finding *stored,
				      struct imaddr_error *err)
{
	(void)err;
	struct listed_rows *listed = context;
	imaddr_html_finding_row(listed->rows, &stored->finding, stored->duplicate_group);
	listed->count++;
	return IMADDR_OK;
}

/*
 * The first findings of each code no waiver accepts, and the rest of the
 * duplicate group the listing of a code ends in (within bounds), as the
 * audit's page lists them. The note above the table counts them, so the
 * rows wait in memory: at most 400 of each code.
 */
static enum imaddr_status write_findings(struct imaddr_stored_run *run,
					 struct imaddr_atomic_file *file, struct imaddr_error *err)
{
	FILE *out = file->stream;
	uint64_t total = 0;
	for (int code = 0; code < IMADDR_CODE_COUNT; code++) {
		if (code != IMADDR_CODE_IM_ADDRESS_CHANGES)
			total += run->totals.by_code[code];
	}
	char *rows = NULL;
	size_t size = 0;
	struct listed_rows listed = { .rows = open_memstream(&rows, &size) };
	if (!listed.rows)
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot hold the page's rows: %s",
					strerror(errno));
	const struct imaddr_stored_findings_wanted wanted = {
		.per_code = IMADDR_HTML_FINDINGS_PER_CODE,
		.group_rest = IMADDR_HTML_GROUP_REST_MAX,
	};
	enum imaddr_status status = imaddr_stored_run_findings(run, &wanted, finding_row, &listed,
								err);
	if (fclose(listed.rows) != 0 && status == IMADDR_OK)
		status = imaddr_error_set(err, IMADDR_ERR_IO, "cannot hold the page's rows: %s",
					  strerror(errno));
	if (status == IMADDR_OK) {
		errno = 0;
		imaddr_html_findings_begin(out, &run->totals, listed.count, total);
		fwrite(rows, 1, size, out);
		imaddr_html_findings_end(out);
		imaddr_atomic_file_note_errors(file);
	}
	free(rows);
	return status;
}

/* The page's writes between SQLite's calls: errno is the page's only within each. */
static enum imaddr_status write_plan(struct imaddr_stored_run *run,
				     struct imaddr_atomic_file *file, struct imaddr_error *err)
{
	FILE *out = file->stream;
	sqlite3_stmt *stmt = NULL;
	uint64_t total = run->totals.by_code[IMADDR_CODE_IM_ADDRESS_CHANGES];
	errno = 0;
	imaddr_html_plan_begin(out, total < IMADDR_HTML_PLAN_ROWS ? total : IMADDR_HTML_PLAN_ROWS,
			       total);
	imaddr_atomic_file_note_errors(file);
	int rc = sqlite3_prepare_v2(run->db,
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
			.cluster = (const char *)sqlite3_column_text(stmt, 0),
			.line = (uint64_t)sqlite3_column_int64(stmt, 1),
			.dn = (const char *)sqlite3_column_text(stmt, 2),
			.user_id = (const char *)sqlite3_column_text(stmt, 3),
			.before = (const char *)sqlite3_column_text(stmt, 4),
			.after = (const char *)sqlite3_column_text(stmt, 5),
			.change = (const char *)sqlite3_column_text(stmt, 6),
		};
		errno = 0;
		imaddr_html_plan_row(out, &row);
		imaddr_atomic_file_note_errors(file);
	}
	sqlite3_finalize(stmt);
	errno = 0;
	imaddr_html_plan_end(out);
	imaddr_atomic_file_note_errors(file);
	return rc == SQLITE_DONE ? IMADDR_OK : imaddr_stored_run_error(run, err);
}

enum imaddr_status imaddr_report_write_html(const char *db_path, int64_t run_id,
					    const char *html_path, struct imaddr_error *err)
{
	struct imaddr_stored_run run;
	struct imaddr_atomic_file file;
	bool opened = false;

	if (!db_path)
		return imaddr_error_null(err, __func__, "db_path");
	if (!html_path)
		return imaddr_error_null(err, __func__, "html_path");
	memset(&run, 0, sizeof(run));
	enum imaddr_status status = imaddr_atomic_file_check_directory(html_path, IMADDR_ERR_IO,
								       "write", err);
	if (status == IMADDR_OK)
		status = imaddr_stored_run_open(db_path, run_id, &run, err);
	if (status == IMADDR_OK)
		status = imaddr_atomic_file_open(&file, html_path, err);
	opened = status == IMADDR_OK;
	if (status == IMADDR_OK) {
		struct imaddr_run_description page;
		imaddr_stored_run_describe(&run, &page);
		errno = 0;
		imaddr_html_begin(file.stream, &page);
		imaddr_html_overview(file.stream, &page, &run.totals, NULL);
		imaddr_atomic_file_note_errors(&file);
		status = write_findings(&run, &file, err);
		if (status == IMADDR_OK && page.premigration)
			status = write_plan(&run, &file, err);
		errno = 0;
		imaddr_html_end(file.stream);
		imaddr_atomic_file_note_errors(&file);
	}
	if (status == IMADDR_OK) {
		opened = false;
		status = imaddr_atomic_file_commit(&file, err);
	}
	if (opened)
		imaddr_atomic_file_abort(&file);
	imaddr_stored_run_close(&run);
	return status;
}
