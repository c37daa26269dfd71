#include "sink_worklist.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>

#include <xlsxwriter.h>

#include "buffer.h"
#include "csv_field.h"
#include "error.h"
#include "normalize.h"
#include "sink.h"
#include "staged_file.h"
#include "temp_file.h"

/*
 * Findings come during the read, and duplicates after it, without the
 * user's names; the users come in the final pass, in input order, after
 * every finding. So each finding is appended to a temporary file as it
 * comes, with an index entry (its user and where it is) in memory, 16 bytes
 * a finding; the index is sorted by user before the final pass, which then
 * writes each user's findings with the user's names beside them. Memory
 * grows with the findings, never with the users, and rows stream out.
 */
struct spooled_finding {
	uint64_t ordinal;
	uint64_t offset;                 /* in the findings file; input order within a user */
};

enum column {
	COL_CLUSTER, COL_LINE, COL_USER_ID, COL_DN, COL_NAME, COL_FIELD, COL_VALUE, COL_CODE,
	COL_SEVERITY, COL_MESSAGE, COL_SUGGESTION, COL_GROUP, COL_COUNT
};

static const struct {
	const char *title;
	double width;                    /* in the spreadsheet, in characters */
} columns[COL_COUNT] = {
	[COL_CLUSTER] = { "cluster", 10 },
	[COL_LINE] = { "line", 7 },
	[COL_USER_ID] = { "user ID", 16 },
	[COL_DN] = { "DN", 40 },
	[COL_NAME] = { "name", 20 },
	[COL_FIELD] = { "field", 14 },
	[COL_VALUE] = { "value", 30 },
	[COL_CODE] = { "code", 24 },
	[COL_SEVERITY] = { "severity", 9 },
	[COL_MESSAGE] = { "message", 60 },
	[COL_SUGGESTION] = { "suggestion", 30 },
	[COL_GROUP] = { "duplicate group", 10 },
};

/* Excel's limit on a cell's text. */
#define CELL_MAX_CHARACTERS 32767

/* One row: text cells (NULL: empty) and the two numbers (0: empty). */
struct row {
	const char *text[COL_COUNT];
	uint64_t line;
	uint64_t group;
};

struct worklist {
	struct imaddr_sink base;
	char *path;
	bool xlsx;
	struct imaddr_staged_file file;
	/* The findings, until the final pass. */
	FILE *spool;
	char *spool_buffer;              /* the file's, SPOOL_BUFFER_SIZE */
	uint64_t spool_end;              /* where the next finding goes */
	const char *spooled;             /* the file mapped, spool_end bytes, for the final pass */
	struct spooled_finding *index;
	size_t count, capacity;
	size_t next;                     /* the first index entry of a user not written */
	size_t of_no_user;               /* entries of ordinal 0: the first, once sorted */
	bool sorted;
	struct imaddr_dup_groups groups;
	struct imaddr_buf record;        /* a finding read back */
	struct imaddr_buf name, cell;
	struct imaddr_buf quoted;        /* a CSV cell as quoted */
	/* The spreadsheet form. */
	lxw_workbook *workbook;
	lxw_worksheet *sheet;
	lxw_format *bold;
	uint64_t rows;
	uint64_t rows_left_out;          /* beyond the spreadsheet's row limit */
	bool write_failed;
};

/*
 * The findings are written in the order they come, through a buffer of
 * SPOOL_BUFFER_SIZE, and read back by user: a user's come from the read and
 * from each search for duplicates, places apart in the file. Read back
 * through stdio, most findings cost a seek and a read of a 4 KiB buffer,
 * two system calls (0.6 s of system time at a million users); so the final
 * pass reads the file mapped.
 */
#define SPOOL_BUFFER_SIZE (64 * 1024)

/* A finding in the file: numbers, then its strings, each a length and bytes. */
enum spooled_string {
	S_FIELD, S_VALUE, S_MESSAGE, S_SUGGESTION, S_DN, S_USER_ID, S_CLUSTER, S_COUNT
};
struct spooled_head {
	uint32_t code;
	uint32_t length[S_COUNT];        /* UINT32_MAX: NULL */
	uint64_t line;
	uint64_t group;
};

static enum imaddr_status spool_finding(struct worklist *worklist, const struct imaddr_finding *f,
					uint64_t group, struct imaddr_error *err)
{
	/* A user's DN, user ID and cluster come back with the user. */
	bool of_user = f->ordinal > 0;
	const char *strings[S_COUNT] = {
		[S_FIELD] = f->field, [S_VALUE] = f->value, [S_MESSAGE] = f->message,
		[S_SUGGESTION] = f->suggestion, [S_DN] = of_user ? NULL : f->dn,
		[S_USER_ID] = of_user ? NULL : f->user_id, [S_CLUSTER] = of_user ? NULL : f->cluster,
	};
	struct spooled_head head = { .code = (uint32_t)f->code, .line = f->line, .group = group };
	uint64_t offset = worklist->spool_end;
	for (int i = 0; i < S_COUNT; i++)
		head.length[i] = strings[i] ? (uint32_t)strlen(strings[i]) : UINT32_MAX;
	bool failed = fwrite(&head, sizeof(head), 1, worklist->spool) != 1;
	worklist->spool_end += sizeof(head);
	for (int i = 0; !failed && i < S_COUNT; i++) {
		if (strings[i] && head.length[i]) {
			failed = fwrite(strings[i], head.length[i], 1, worklist->spool) != 1;
			worklist->spool_end += head.length[i];
		}
	}
	if (failed)
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write '%s': its temporary file "
					"in '%s' (TMPDIR): %s", worklist->path, imaddr_temp_dir(),
					strerror(errno));
	if (worklist->count == worklist->capacity) {
		worklist->capacity = worklist->capacity ? worklist->capacity * 2 : 1024;
		worklist->index = imaddr_xrealloc(worklist->index,
						  worklist->capacity * sizeof(*worklist->index));
	}
	worklist->index[worklist->count++] = (struct spooled_finding){ f->ordinal, offset };
	return IMADDR_OK;
}

/* Maps the file of findings for the final pass. */
static enum imaddr_status map_findings(struct worklist *worklist, struct imaddr_error *err)
{
	if (fflush(worklist->spool) != 0)
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write '%s': its temporary file "
					"in '%s' (TMPDIR): %s", worklist->path, imaddr_temp_dir(),
					strerror(errno));
	if (!worklist->spool_end)
		return IMADDR_OK;
	void *map = mmap(NULL, worklist->spool_end, PROT_READ, MAP_PRIVATE,
			 fileno(worklist->spool), 0);
	if (map == MAP_FAILED)
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write '%s': cannot map a "
					"temporary file: %s", worklist->path, strerror(errno));
	worklist->spooled = map;
	return IMADDR_OK;
}

/* Reads the finding at `at` back; the strings point into worklist->record. */
static enum imaddr_status read_finding(struct worklist *worklist, const struct spooled_finding *at,
				       struct spooled_head *head, const char *strings[S_COUNT],
				       struct imaddr_error *err)
{
	uint64_t offset = at->offset, end = worklist->spool_end;
	bool failed = !worklist->spooled || offset > end || end - offset < sizeof(*head);
	if (!failed) {
		memcpy(head, worklist->spooled + offset, sizeof(*head));
		offset += sizeof(*head);
	}
	uint64_t bytes = 0;
	for (int i = 0; !failed && i < S_COUNT; i++)
		bytes += head->length[i] == UINT32_MAX ? 0 : head->length[i];
	failed = failed || bytes > end - offset;
	imaddr_buf_reset(&worklist->record);
	if (!failed)
		imaddr_buf_reserve(&worklist->record, (size_t)bytes + S_COUNT);
	for (int i = 0; !failed && i < S_COUNT; i++) {
		strings[i] = NULL;
		if (head->length[i] == UINT32_MAX)
			continue;
		char *start = worklist->record.data + worklist->record.len;
		memcpy(start, worklist->spooled + offset, head->length[i]);
		start[head->length[i]] = '\0';
		offset += head->length[i];
		worklist->record.len += head->length[i] + 1;
		strings[i] = start;
	}
	if (failed)
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write '%s': reading a temporary "
					"file back failed", worklist->path);
	return IMADDR_OK;
}

/* The findings once written: the file, its map and their index. */
static void release_findings(struct worklist *worklist)
{
	if (worklist->spooled)
		munmap((void *)worklist->spooled, worklist->spool_end);
	worklist->spooled = NULL;
	if (worklist->spool)
		fclose(worklist->spool);
	worklist->spool = NULL;
	free(worklist->spool_buffer);
	worklist->spool_buffer = NULL;
	free(worklist->index);
	worklist->index = NULL;
	worklist->count = worklist->capacity = 0;
}

/* ------------------------------------------------------------------------ */
/* The two forms. */

/* Excel runs a cell that starts like a formula; a leading ' makes it text. */
static bool looks_like_formula(const char *value)
{
	return value[0] == '=' || value[0] == '+' || value[0] == '-' || value[0] == '@';
}

static void csv_cell(struct worklist *worklist, const char *value, bool first)
{
	FILE *stream = worklist->file.stream;
	if (!first)
		fputc(',', stream);
	if (!value || !*value)
		return;
	if (looks_like_formula(value)) {
		imaddr_buf_reset(&worklist->cell);
		imaddr_buf_append_char(&worklist->cell, '\'');
		imaddr_buf_append_str(&worklist->cell, value);
		value = worklist->cell.data;
	}
	imaddr_csv_field_write(stream, value, strlen(value), &worklist->quoted);
}

static void csv_number(FILE *stream, uint64_t value)
{
	fputc(',', stream);
	if (value)
		fprintf(stream, "%llu", (unsigned long long)value);
}

static void write_csv_row(struct worklist *worklist, const struct row *row)
{
	FILE *stream = worklist->file.stream;
	for (int column = 0; column < COL_COUNT; column++) {
		if (column == COL_LINE)
			csv_number(stream, row->line);
		else if (column == COL_GROUP)
			csv_number(stream, row->group);
		else
			csv_cell(worklist, row->text[column], column == 0);
	}
	fputs("\r\n", stream);
}

static bool sheet_control(unsigned char byte)
{
	return byte < 0x20 && byte != '\t' && byte != '\n' && byte != '\r';
}

/*
 * A sheet holds XML 1.0 text of at most 32,767 characters a cell: no bytes
 * that are not UTF-8, no control characters but tab and line breaks.
 */
static const char *sheet_text(struct worklist *worklist, const char *value)
{
	struct imaddr_buf *cell = &worklist->cell;
	/* Almost every value is one already, and ASCII: it goes as it is, uncopied. */
	bool ascii = true, controls = false;
	size_t length = 0, bad;
	for (; value[length]; length++) {
		unsigned char byte = (unsigned char)value[length];
		if (byte < 0x20 || byte >= 0x80) {
			ascii = ascii && byte < 0x80;
			controls = controls || sheet_control(byte);
		}
	}
	if (!controls && length <= CELL_MAX_CHARACTERS &&
	    (ascii || imaddr_normalize_utf8_valid(value, length, &bad)))
		return value;
	imaddr_normalize_utf8_repair(value, length, cell);
	size_t characters = 0;
	for (size_t i = 0; i < cell->len; i++) {
		unsigned char byte = (unsigned char)cell->data[i];
		if (sheet_control(byte))
			cell->data[i] = '?';
		if ((byte & 0xC0) != 0x80 && ++characters > CELL_MAX_CHARACTERS) {
			imaddr_buf_truncate(cell, i);
			break;
		}
	}
	return cell->data ? cell->data : "";
}

static void write_xlsx_row(struct worklist *worklist, const struct row *row)
{
	if (worklist->rows + 1 >= LXW_ROW_MAX) {
		worklist->rows_left_out++;
		return;
	}
	lxw_row_t at = (lxw_row_t)worklist->rows + 1;
	lxw_error failed = LXW_NO_ERROR;
	for (int column = 0; column < COL_COUNT; column++) {
		lxw_error status = LXW_NO_ERROR;
		if (column == COL_LINE || column == COL_GROUP) {
			uint64_t value = column == COL_LINE ? row->line : row->group;
			if (value)
				status = worksheet_write_number(worklist->sheet, at,
								(lxw_col_t)column, (double)value, NULL);
		} else if (row->text[column] && *row->text[column]) {
			status = worksheet_write_string(worklist->sheet, at, (lxw_col_t)column,
							sheet_text(worklist, row->text[column]),
							NULL);
		}
		if (status != LXW_NO_ERROR)
			failed = status;
	}
	worklist->write_failed |= failed != LXW_NO_ERROR;
}

static void write_row(struct worklist *worklist, const struct row *row)
{
	if (worklist->xlsx)
		write_xlsx_row(worklist, row);
	else
		write_csv_row(worklist, row);
	if (!worklist->rows_left_out)
		worklist->rows++;
}

/* ------------------------------------------------------------------------ */

static enum imaddr_status begin(struct imaddr_sink *sink, const struct imaddr_run_info *info,
				struct imaddr_error *err)
{
	struct worklist *worklist = (struct worklist *)sink;
	enum imaddr_status status = imaddr_staged_file_begin(&worklist->file, info, err);
	if (status != IMADDR_OK)
		return status;
	worklist->spool = imaddr_temp_file();
	if (!worklist->spool)
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write '%s': no temporary file "
					"in '%s' (TMPDIR): %s", worklist->path, imaddr_temp_dir(),
					strerror(errno));
	worklist->spool_buffer = imaddr_stream_buffer(worklist->spool, SPOOL_BUFFER_SIZE);
	worklist->spool_end = 0;
	if (!worklist->xlsx) {
		fputs("\xEF\xBB\xBF", worklist->file.stream);   /* Excel reads UTF-8 only after a BOM */
		for (int column = 0; column < COL_COUNT; column++)
			csv_cell(worklist, columns[column].title, column == 0);
		fputs("\r\n", worklist->file.stream);
		return IMADDR_OK;
	}
	/* libxlsxwriter writes the file itself, at its temporary name, at the end. */
	fclose(worklist->file.stream);
	worklist->file.stream = NULL;
	/* Its sheet waits in a temporary file of its own until the end. */
	lxw_workbook_options options = { .constant_memory = LXW_TRUE,
					 .tmpdir = (char *)imaddr_temp_dir() };
	worklist->workbook = workbook_new_opt(worklist->file.staging.staged, &options);
	if (worklist->workbook)
		worklist->sheet = workbook_add_worksheet(worklist->workbook, "findings");
	if (!worklist->sheet)
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write '%s'", worklist->path);
	worklist->bold = workbook_add_format(worklist->workbook);
	format_set_bold(worklist->bold);
	for (int column = 0; column < COL_COUNT; column++) {
		worksheet_set_column(worklist->sheet, (lxw_col_t)column, (lxw_col_t)column,
				     columns[column].width, NULL);
		worksheet_write_string(worklist->sheet, 0, (lxw_col_t)column, columns[column].title,
				       worklist->bold);
	}
	worksheet_freeze_panes(worklist->sheet, 1, 0);
	return IMADDR_OK;
}

static enum imaddr_status finding(struct imaddr_sink *sink, const struct imaddr_finding *f,
				  struct imaddr_error *err)
{
	struct worklist *worklist = (struct worklist *)sink;
	uint64_t group = imaddr_dup_groups_next(&worklist->groups, f);
	/*
	 * A pre-migration run's changes are a plan, not work, and a waived
	 * finding was accepted: the report has both.
	 */
	if (f->code == IMADDR_CODE_IM_ADDRESS_CHANGES || f->waiver_reason)
		return IMADDR_OK;
	return spool_finding(worklist, f, group, err);
}

static int by_user(const void *a, const void *b)
{
	const struct spooled_finding *x = a, *y = b;
	if (x->ordinal != y->ordinal)
		return x->ordinal < y->ordinal ? -1 : 1;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/*
 * Sorts the findings by user and maps their file, once: those of no user
 * (ordinal 0) come first.
 */
static enum imaddr_status sort_findings(struct worklist *worklist, struct imaddr_error *err)
{
	if (worklist->sorted)
		return IMADDR_OK;
	worklist->sorted = true;
	if (worklist->count)
		qsort(worklist->index, worklist->count, sizeof(*worklist->index), by_user);
	while (worklist->of_no_user < worklist->count &&
	       worklist->index[worklist->of_no_user].ordinal == 0)
		worklist->of_no_user++;
	worklist->next = worklist->of_no_user;
	return map_findings(worklist, err);
}

static enum imaddr_status write_finding(struct worklist *worklist, const struct imaddr_user *user,
					const struct spooled_finding *at, struct imaddr_error *err)
{
	struct spooled_head head;
	const char *strings[S_COUNT];
	enum imaddr_status status = read_finding(worklist, at, &head, strings, err);
	if (status != IMADDR_OK)
		return status;
	struct row row = { .line = head.line, .group = head.group };
	row.text[COL_CLUSTER] = user ? user->cluster : strings[S_CLUSTER];
	row.text[COL_USER_ID] = user ? user->user_id : strings[S_USER_ID];
	row.text[COL_DN] = user ? user->dn : strings[S_DN];
	row.text[COL_NAME] = user && worklist->name.len ? worklist->name.data : NULL;
	row.text[COL_FIELD] = strings[S_FIELD];
	row.text[COL_VALUE] = strings[S_VALUE];
	row.text[COL_CODE] = imaddr_code_name((enum imaddr_code)head.code);
	row.text[COL_SEVERITY] = imaddr_severity_name(imaddr_code_severity((enum imaddr_code)head.code));
	row.text[COL_MESSAGE] = strings[S_MESSAGE];
	row.text[COL_SUGGESTION] = strings[S_SUGGESTION];
	write_row(worklist, &row);
	return IMADDR_OK;
}

/* The final pass: users in input order, so each one's findings are the next. */
static enum imaddr_status user(struct imaddr_sink *sink, const struct imaddr_user *u,
			       struct imaddr_error *err)
{
	struct worklist *worklist = (struct worklist *)sink;
	enum imaddr_status status = sort_findings(worklist, err);
	if (status != IMADDR_OK)
		return status;
	if (worklist->next == worklist->count || worklist->index[worklist->next].ordinal != u->ordinal)
		return IMADDR_OK;
	imaddr_buf_reset(&worklist->name);
	if (u->first_name)
		imaddr_buf_append_str(&worklist->name, u->first_name);
	if (u->first_name && u->last_name)
		imaddr_buf_append_char(&worklist->name, ' ');
	if (u->last_name)
		imaddr_buf_append_str(&worklist->name, u->last_name);
	while (status == IMADDR_OK && worklist->next < worklist->count &&
	       worklist->index[worklist->next].ordinal == u->ordinal)
		status = write_finding(worklist, u, &worklist->index[worklist->next++], err);
	return status;
}

static enum imaddr_status end(struct imaddr_sink *sink, const struct imaddr_run_totals *totals,
			      struct imaddr_error *err)
{
	struct worklist *worklist = (struct worklist *)sink;
	/* Findings of no user (skipped rows, the run's own) come after the users'. */
	enum imaddr_status status = sort_findings(worklist, err);
	for (size_t i = 0; status == IMADDR_OK && i < worklist->of_no_user; i++)
		status = write_finding(worklist, NULL, &worklist->index[i], err);
	release_findings(worklist);
	if (status != IMADDR_OK)
		return status;
	if (!worklist->xlsx)
		return imaddr_staged_file_prepare(&worklist->file, err);

	worksheet_autofilter(worklist->sheet, 0, 0, (lxw_row_t)worklist->rows, COL_COUNT - 1);
	lxw_error closed = workbook_close(worklist->workbook);
	worklist->workbook = NULL;
	if (closed != LXW_NO_ERROR || worklist->write_failed)
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write '%s': %s", worklist->path,
					closed != LXW_NO_ERROR ? lxw_strerror(closed)
							       : "a cell was refused");
	/* Reopened so that the prepare syncs what libxlsxwriter wrote. */
	worklist->file.stream = fopen(worklist->file.staging.staged, "r+");
	if (!worklist->file.stream)
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write '%s': %s", worklist->path,
					strerror(errno));
	return imaddr_staged_file_prepare(&worklist->file, err);
}

static enum imaddr_status commit(struct imaddr_sink *sink, struct imaddr_error *err)
{
	return imaddr_staged_file_commit(&((struct worklist *)sink)->file, err);
}

static void describe(struct imaddr_sink *sink, struct imaddr_buf *out,
		     struct imaddr_run_totals *told)
{
	const struct worklist *worklist = (const struct worklist *)sink;
	imaddr_buf_appendf(out, "worklist '%s': %llu row%s", worklist->path,
			   (unsigned long long)worklist->rows, worklist->rows == 1 ? "" : "s");
	if (worklist->rows_left_out)
		imaddr_buf_appendf(out, "; %llu more do not fit a spreadsheet: write the worklist "
				   "as .csv to have them all",
				   (unsigned long long)worklist->rows_left_out);
	imaddr_buf_append_char(out, '\n');
}

static void release_run(struct worklist *worklist)
{
	if (worklist->workbook) {
		/* libxlsxwriter cannot drop a workbook unwritten: it writes, we remove. */
		workbook_close(worklist->workbook);
		worklist->workbook = NULL;
	}
	imaddr_staged_file_abort(&worklist->file);
	release_findings(worklist);
}

static void worklist_abort(struct imaddr_sink *sink)
{
	release_run((struct worklist *)sink);
}

static void worklist_free(struct imaddr_sink *sink)
{
	struct worklist *worklist = (struct worklist *)sink;
	release_run(worklist);
	imaddr_staged_file_release(&worklist->file);
	imaddr_buf_release(&worklist->record);
	imaddr_buf_release(&worklist->name);
	imaddr_buf_release(&worklist->cell);
	imaddr_buf_release(&worklist->quoted);
	free(worklist->path);
	free(worklist);
}

/*
 * The final pass brings each user's names to the user's findings: those of
 * users with findings only. A worker of its own: the spreadsheet's deflate
 * costs as much as the audit, and overlaps it.
 */
static const struct imaddr_sink_ops worklist_ops = {
	.name = "worklist",
	.flags = IMADDR_SINK_FINAL_PASS | IMADDR_SINK_ON_WORKER | IMADDR_SINK_USERS_WITH_FINDINGS,
	.begin = begin,
	.user = user,
	.finding = finding,
	.end = end,
	.describe = describe,
	.commit = commit,
	.abort = worklist_abort,
	.free = worklist_free,
};

static bool ends_with(const char *path, const char *suffix)
{
	size_t length = strlen(path), suffix_length = strlen(suffix);
	return length > suffix_length && !strcasecmp(path + length - suffix_length, suffix);
}

enum imaddr_status imaddr_sink_worklist_open(const char *path, struct imaddr_sink **out,
					     struct imaddr_error *err)
{
	bool xlsx = ends_with(path, ".xlsx");
	if (!xlsx && !ends_with(path, ".csv"))
		return imaddr_error_set(err, IMADDR_ERR_USAGE, "--worklist takes a .xlsx or a "
					".csv file, not '%s'", path);
	enum imaddr_status status = imaddr_staged_file_check(path, err);
	if (status != IMADDR_OK)
		return status;
	struct worklist *worklist = imaddr_xcalloc(1, sizeof(*worklist));
	worklist->base.ops = &worklist_ops;
	worklist->path = imaddr_xstrdup(path);
	worklist->xlsx = xlsx;
	imaddr_staged_file_init(&worklist->file, worklist->path, IMADDR_STAGED_FILE_WAIT_MS);
	imaddr_dup_groups_init(&worklist->groups);
	imaddr_buf_init(&worklist->record, 0);
	imaddr_buf_init(&worklist->name, 0);
	imaddr_buf_init(&worklist->cell, 0);
	imaddr_buf_init(&worklist->quoted, 0);
	*out = &worklist->base;
	return IMADDR_OK;
}
