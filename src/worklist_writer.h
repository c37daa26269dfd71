/*
 * The worklist's two forms, for its two sources: the run in progress
 * (sink_worklist.c, --worklist) and a run read back from the SQLite report
 * (report_worklist.c, imaddr report --worklist). A spreadsheet
 * (libxlsxwriter: bold frozen header, autofilter, at most Excel's rows) or a
 * CSV that Excel opens as UTF-8 (a BOM) and that never runs a formula. The
 * writer only formats; its callers decide the rows and their order.
 */
#ifndef IMADDR_WORKLIST_WRITER_H
#define IMADDR_WORKLIST_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <xlsxwriter.h>

#include "buffer.h"
#include "imaddr.h"

enum imaddr_worklist_column {
	IMADDR_WORKLIST_CLUSTER, IMADDR_WORKLIST_LINE, IMADDR_WORKLIST_USER_ID,
	IMADDR_WORKLIST_DN, IMADDR_WORKLIST_NAME, IMADDR_WORKLIST_FIELD, IMADDR_WORKLIST_VALUE,
	IMADDR_WORKLIST_CODE, IMADDR_WORKLIST_SEVERITY, IMADDR_WORKLIST_MESSAGE,
	IMADDR_WORKLIST_SUGGESTION, IMADDR_WORKLIST_GROUP, IMADDR_WORKLIST_COLUMNS
};

/* One row: text cells (NULL: empty) and the two numbers (0: empty). */
struct imaddr_worklist_row {
	const char *text[IMADDR_WORKLIST_COLUMNS];
	uint64_t line;
	uint64_t group;
};

struct imaddr_worklist_writer {
	const char *path;                /* as messages name it */
	bool xlsx;
	FILE *stream;                    /* the CSV form's */
	lxw_workbook *workbook;          /* the spreadsheet's */
	lxw_worksheet *sheet;
	lxw_format *bold;
	uint64_t rows;
	uint64_t rows_left_out;          /* beyond the spreadsheet's row limit */
	bool write_failed;
	struct imaddr_buf name, cell, quoted, repaired;
};

/**
 * Whether `path` names the spreadsheet form (.xlsx) or the CSV one (.csv);
 * else IMADDR_ERR_USAGE, naming `option`.
 */
enum imaddr_status imaddr_worklist_form(const char *path, const char *option, bool *xlsx,
					struct imaddr_error *err);

/**
 * Starts a worklist named `path` in messages: the CSV form to `stream`, or
 * the spreadsheet written by libxlsxwriter to `xlsx_path` when it ends (its
 * sheet waits in TMPDIR until then).
 */
enum imaddr_status imaddr_worklist_writer_begin(struct imaddr_worklist_writer *writer,
						const char *path, bool xlsx, FILE *stream,
						const char *xlsx_path, struct imaddr_error *err);
/** "First Last", either, or NULL: the name column of a user, in the writer's buffer. */
const char *imaddr_worklist_writer_name(struct imaddr_worklist_writer *writer,
					const char *first_name, const char *last_name);
void imaddr_worklist_writer_row(struct imaddr_worklist_writer *writer,
				const struct imaddr_worklist_row *row);
/** Writes the spreadsheet out (its autofilter, then the file); nothing to do for a CSV. */
enum imaddr_status imaddr_worklist_writer_end(struct imaddr_worklist_writer *writer,
					      struct imaddr_error *err);
/** "worklist 'path': N rows" and what did not fit, a line. */
void imaddr_worklist_writer_describe(const struct imaddr_worklist_writer *writer,
				     struct imaddr_buf *out);
/** Releases it; a spreadsheet not ended is written (libxlsxwriter cannot drop one) for the caller to remove. */
void imaddr_worklist_writer_release(struct imaddr_worklist_writer *writer);

#endif /* IMADDR_WORKLIST_WRITER_H */
