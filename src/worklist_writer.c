#include "worklist_writer.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "csv_field.h"
#include "error.h"
#include "normalize.h"
#include "temp_file.h"

static const struct {
	const char *title;
	double width;                    /* in the spreadsheet, in characters */
} columns[IMADDR_WORKLIST_COLUMNS] = {
	[IMADDR_WORKLIST_CLUSTER] = { "cluster", 10 },
	[IMADDR_WORKLIST_LINE] = { "line", 7 },
	[IMADDR_WORKLIST_USER_ID] = { "user ID", 16 },
	[IMADDR_WORKLIST_DN] = { "DN", 40 },
	[IMADDR_WORKLIST_NAME] = { "name", 20 },
	[IMADDR_WORKLIST_FIELD] = { "field", 14 },
	[IMADDR_WORKLIST_VALUE] = { "value", 30 },
	[IMADDR_WORKLIST_CODE] = { "code", 24 },
	[IMADDR_WORKLIST_SEVERITY] = { "severity", 9 },
	[IMADDR_WORKLIST_MESSAGE] = { "message", 60 },
	[IMADDR_WORKLIST_SUGGESTION] = { "suggestion", 30 },
	[IMADDR_WORKLIST_GROUP] = { "duplicate group", 10 },
};

/* Excel's limit on a cell's text. */
#define CELL_MAX_CHARACTERS 32767

static bool ends_with(const char *path, const char *suffix)
{
	size_t length = strlen(path), suffix_length = strlen(suffix);
	return length > suffix_length && !strcasecmp(path + length - suffix_length, suffix);
}

enum imaddr_status imaddr_worklist_form(const char *path, const char *option, bool *xlsx,
					struct imaddr_error *err)
{
	*xlsx = ends_with(path, ".xlsx");
	if (!*xlsx && !ends_with(path, ".csv"))
		return imaddr_error_set(err, IMADDR_ERR_USAGE, "%s takes a .xlsx or a .csv file, "
					"not '%s'", option, path);
	return IMADDR_OK;
}

static void csv_cell(struct imaddr_worklist_writer *writer, const char *value, bool first)
{
	FILE *stream = writer->stream;
	if (!first)
		fputc(',', stream);
	if (!value || !*value)
		return;
	size_t length = strlen(value), bad;
	/* Excel runs a cell that starts like a formula; a leading ' makes it text. */
	bool formula = imaddr_csv_formula_start(value) != NULL;
	/* The file is UTF-8: a directory's bytes that are not become U+FFFD, as in a sheet. */
	bool repair = !imaddr_normalize_utf8_valid(value, length, &bad);
	if (formula || repair) {
		struct imaddr_buf *cell = &writer->cell;
		imaddr_buf_reset(cell);
		if (formula)
			imaddr_buf_append_char(cell, '\'');
		if (repair) {
			struct imaddr_buf *repaired = &writer->repaired;
			imaddr_normalize_utf8_repair(value, length, repaired);
			imaddr_buf_append(cell, repaired->data, repaired->len);
		} else {
			imaddr_buf_append(cell, value, length);
		}
		value = cell->data;
		length = cell->len;
	}
	imaddr_csv_field_write(stream, value, length, &writer->quoted);
}

static void csv_number(FILE *stream, uint64_t value)
{
	fputc(',', stream);
	if (value)
		fprintf(stream, "%llu", (unsigned long long)value);
}

static void write_csv_row(struct imaddr_worklist_writer *writer,
			  const struct imaddr_worklist_row *row)
{
	FILE *stream = writer->stream;
	for (int column = 0; column < IMADDR_WORKLIST_COLUMNS; column++) {
		if (column == IMADDR_WORKLIST_LINE)
			csv_number(stream, row->line);
		else if (column == IMADDR_WORKLIST_GROUP)
			csv_number(stream, row->group);
		else
			csv_cell(writer, row->text[column], column == 0);
	}
	fputs("\r\n", stream);
}

static bool sheet_control(unsigned char byte)
{
	return byte < 0x20 && byte != '\t' && byte != '\n' && byte != '\r';
}

/* "_x" and four hex digits and "_": how a sheet escapes a character (ECMA-376 ST_Xstring). */
static bool sheet_escape_at(const char *text)
{
	if (text[0] != '_' || (text[1] != 'x' && text[1] != 'X'))
		return false;
	for (int i = 2; i < 6; i++) {
		if (!isxdigit((unsigned char)text[i]))
			return false;
	}
	return text[6] == '_';
}

/* U+FFFE and U+FFFF: valid UTF-8, but no XML 1.0 character. */
static bool xml_noncharacter_at(const unsigned char *text)
{
	return text[0] == 0xEF && text[1] == 0xBF && (text[2] == 0xBE || text[2] == 0xBF);
}

/*
 * A sheet holds XML 1.0 text of at most 32,767 UTF-16 units a cell, as
 * Excel counts: no bytes that are not UTF-8, no control characters but tab
 * and line breaks, no U+FFFE or U+FFFF; and a "_x0041_" of the directory's
 * is written "_x005F_x0041_", or Excel would show it as "A".
 */
static const char *sheet_text(struct imaddr_worklist_writer *writer, const char *value)
{
	/* Almost every value is one already, and ASCII: it goes as it is, uncopied. */
	bool ascii = true, odd = false;
	size_t length = 0, bad;
	for (; value[length]; length++) {
		unsigned char byte = (unsigned char)value[length];
		if (byte < 0x20 || byte >= 0x80) {
			ascii = ascii && byte < 0x80;
			odd = odd || sheet_control(byte) ||
			      (byte == 0xEF && xml_noncharacter_at((const unsigned char *)value + length));
		} else if (byte == '_') {
			odd = odd || sheet_escape_at(value + length);
		}
	}
	/* A byte's worth at least one UTF-16 unit, the cap holds for any length under it. */
	if (!odd && length <= CELL_MAX_CHARACTERS &&
	    (ascii || imaddr_normalize_utf8_valid(value, length, &bad)))
		return value;
	struct imaddr_buf *repaired = &writer->repaired, *cell = &writer->cell;
	imaddr_normalize_utf8_repair(value, length, repaired);
	imaddr_buf_reset(cell);
	size_t units = 0;
	for (size_t i = 0; i < repaired->len;) {
		const unsigned char *at = (const unsigned char *)repaired->data + i;
		size_t bytes = at[0] < 0x80 ? 1 : at[0] < 0xE0 ? 2 : at[0] < 0xF0 ? 3 : 4;
		/* A character outside the BMP is two units, a surrogate pair. */
		units += bytes == 4 ? 2 : 1;
		if (units > CELL_MAX_CHARACTERS)
			break;
		if (sheet_control(at[0]) || (bytes == 3 && xml_noncharacter_at(at)))
			imaddr_buf_append_char(cell, '?');
		else if (at[0] == '_' && sheet_escape_at(repaired->data + i))
			imaddr_buf_append(cell, "_x005F_", 7);   /* the '_', escaped */
		else
			imaddr_buf_append(cell, (const char *)at, bytes);
		i += bytes;
	}
	return cell->data ? cell->data : "";
}

static void write_xlsx_row(struct imaddr_worklist_writer *writer,
			   const struct imaddr_worklist_row *row)
{
	if (writer->rows + 1 >= LXW_ROW_MAX) {
		writer->rows_left_out++;
		return;
	}
	lxw_row_t at = (lxw_row_t)writer->rows + 1;
	lxw_error failed = LXW_NO_ERROR;
	for (int column = 0; column < IMADDR_WORKLIST_COLUMNS; column++) {
		lxw_error status = LXW_NO_ERROR;
		if (column == IMADDR_WORKLIST_LINE || column == IMADDR_WORKLIST_GROUP) {
			uint64_t value = column == IMADDR_WORKLIST_LINE ? row->line : row->group;
			if (value)
				status = worksheet_write_number(writer->sheet, at, (lxw_col_t)column,
								(double)value, NULL);
		} else if (row->text[column] && *row->text[column]) {
			status = worksheet_write_string(writer->sheet, at, (lxw_col_t)column,
							sheet_text(writer, row->text[column]),
							NULL);
		}
		if (status != LXW_NO_ERROR)
			failed = status;
	}
	writer->write_failed |= failed != LXW_NO_ERROR;
}

void imaddr_worklist_writer_row(struct imaddr_worklist_writer *writer,
				const struct imaddr_worklist_row *row)
{
	if (writer->xlsx)
		write_xlsx_row(writer, row);
	else
		write_csv_row(writer, row);
	if (!writer->rows_left_out)
		writer->rows++;
}

const char *imaddr_worklist_writer_name(struct imaddr_worklist_writer *writer,
					const char *first_name, const char *last_name)
{
	imaddr_buf_reset(&writer->name);
	if (first_name)
		imaddr_buf_append_str(&writer->name, first_name);
	if (first_name && last_name)
		imaddr_buf_append_char(&writer->name, ' ');
	if (last_name)
		imaddr_buf_append_str(&writer->name, last_name);
	return writer->name.len ? writer->name.data : NULL;
}

enum imaddr_status imaddr_worklist_writer_begin(struct imaddr_worklist_writer *writer,
						const char *path, bool xlsx, FILE *stream,
						const char *xlsx_path, struct imaddr_error *err)
{
	memset(writer, 0, sizeof(*writer));
	writer->path = path;
	writer->xlsx = xlsx;
	imaddr_buf_init(&writer->name, 0);
	imaddr_buf_init(&writer->cell, 0);
	imaddr_buf_init(&writer->quoted, 0);
	imaddr_buf_init(&writer->repaired, 0);
	if (!xlsx) {
		writer->stream = stream;
		fputs("\xEF\xBB\xBF", stream);   /* Excel reads UTF-8 only after a BOM */
		for (int column = 0; column < IMADDR_WORKLIST_COLUMNS; column++)
			csv_cell(writer, columns[column].title, column == 0);
		fputs("\r\n", stream);
		return IMADDR_OK;
	}
	/* Its sheet waits in a temporary file of its own until the end. */
	lxw_workbook_options options = { .constant_memory = LXW_TRUE,
					 .tmpdir = (char *)imaddr_temp_dir() };
	writer->workbook = workbook_new_opt(xlsx_path, &options);
	if (writer->workbook)
		writer->sheet = workbook_add_worksheet(writer->workbook, "findings");
	if (!writer->sheet)
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write '%s'", path);
	writer->bold = workbook_add_format(writer->workbook);
	format_set_bold(writer->bold);
	for (int column = 0; column < IMADDR_WORKLIST_COLUMNS; column++) {
		worksheet_set_column(writer->sheet, (lxw_col_t)column, (lxw_col_t)column,
				     columns[column].width, NULL);
		worksheet_write_string(writer->sheet, 0, (lxw_col_t)column, columns[column].title,
				       writer->bold);
	}
	worksheet_freeze_panes(writer->sheet, 1, 0);
	return IMADDR_OK;
}

enum imaddr_status imaddr_worklist_writer_end(struct imaddr_worklist_writer *writer,
					      struct imaddr_error *err)
{
	if (!writer->xlsx)
		return IMADDR_OK;
	worksheet_autofilter(writer->sheet, 0, 0, (lxw_row_t)writer->rows,
			     IMADDR_WORKLIST_COLUMNS - 1);
	lxw_error closed = workbook_close(writer->workbook);
	writer->workbook = NULL;
	if (closed != LXW_NO_ERROR || writer->write_failed)
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write '%s': %s", writer->path,
					closed != LXW_NO_ERROR ? lxw_strerror(closed)
							       : "a cell was refused");
	return IMADDR_OK;
}

void imaddr_worklist_writer_describe(const struct imaddr_worklist_writer *writer,
				     struct imaddr_buf *out)
{
	imaddr_buf_appendf(out, "worklist '%s': %llu row%s", writer->path,
			   (unsigned long long)writer->rows, writer->rows == 1 ? "" : "s");
	if (writer->rows_left_out)
		imaddr_buf_appendf(out, "; %llu more do not fit a spreadsheet: write the worklist "
				   "as .csv to have them all",
				   (unsigned long long)writer->rows_left_out);
	imaddr_buf_append_char(out, '\n');
}

void imaddr_worklist_writer_release(struct imaddr_worklist_writer *writer)
{
	if (writer->workbook) {
		/* libxlsxwriter cannot drop a workbook unwritten: it writes, the caller removes. */
		workbook_close(writer->workbook);
		writer->workbook = NULL;
	}
	imaddr_buf_release(&writer->name);
	imaddr_buf_release(&writer->cell);
	imaddr_buf_release(&writer->quoted);
	imaddr_buf_release(&writer->repaired);
}
