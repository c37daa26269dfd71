#include "reader_csv.h"
#include "reader_csv_internal.h"

#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buffer.h"
#include "decode.h"
#include "error.h"
#include "reader_file.h"

#define READ_CHUNK (256 * 1024)
/* libcsv grows its field buffer a block at a time. */
#define PARSER_BLOCK 4096
/*
 * The most libcsv's field buffer may hold: a field of IMADDR_CSV_FIELD_MAX
 * bytes and the block that tells it is longer (libcsv asks for more room
 * before it looks at the byte that may end the field).
 */
#define PARSER_BUFFER_MAX (IMADDR_CSV_FIELD_MAX + PARSER_BLOCK)

static int never_space(unsigned char c)
{
	(void)c;
	return 0;
}

/*
 * libcsv's buffer holds one field. Refusing to grow it past the field cap
 * makes csv_parse stop with CSV_ENOMEM at the first byte that does not fit
 * (drop_field_bytes then empties it); a real lack of memory is fatal, as
 * everywhere in the library, so CSV_ENOMEM only ever means a long field.
 */
static void *capped_realloc(void *pointer, size_t size)
{
	if (size > PARSER_BUFFER_MAX)
		return NULL;
	return imaddr_xrealloc(pointer, size);
}

static void on_field(void *data, size_t len, void *context)
{
	struct csv_reader *reader = context;
	bool dropped = reader->field_too_long;
	reader->field_too_long = false;
	if (reader->status != IMADDR_OK)
		return;
	reader->row_started = true;
	reader->row_has_text |= len > 0 || dropped;
	/* A row past its cap is only parsed to its end, to find where the next begins. */
	if (reader->row_too_long_at)
		return;
	if (!reader->header_done && reader->cell_count == IMADDR_CSV_HEADER_MAX_COLUMNS) {
		reader->status = imaddr_error_set(reader->err, IMADDR_ERR_INPUT,
			"%s:%llu: the header has more than %d columns: not an export of users?",
			reader->path, (unsigned long long)reader->row_line,
			IMADDR_CSV_HEADER_MAX_COLUMNS);
		return;
	}
	/* No column past the header's is ever read: a row of millions costs nothing. */
	if (reader->header_done && reader->cell_count == reader->column_count) {
		reader->fields_beyond++;
		return;
	}
	if (reader->cell_count == reader->cell_cap) {
		reader->cell_cap = reader->cell_cap ? reader->cell_cap * 2 : 16;
		reader->cells = imaddr_xrealloc(reader->cells,
						reader->cell_cap * sizeof(*reader->cells));
	}
	struct cell *cell = &reader->cells[reader->cell_count++];
	cell->offset = reader->row_data.len;
	cell->len = 0;
	cell->too_long = dropped || len > IMADDR_CSV_FIELD_MAX;
	if (cell->too_long || !data)
		return;
	/* The header is always kept; of the rows, only the columns read. */
	if (reader->header_done && !imaddr_csv_column_kept(reader, reader->cell_count - 1))
		return;
	/* Each kept cell is NUL-terminated so the audit can use it in place. */
	imaddr_buf_append(&reader->row_data, data, len);
	imaddr_buf_append_char(&reader->row_data, '\0');
	cell->len = len;
}

static const char *delimiter_text(char delimiter)
{
	return delimiter == '\t' ? "\\t" : delimiter == ';' ? ";" : ",";
}

static void emit_row(struct csv_reader *reader)
{
	struct imaddr_record *record = &reader->record;
	imaddr_record_reset(record, reader->row_line);
	size_t fields = reader->cell_count + reader->fields_beyond;
	/* More fields than columns: most often a DN or a name with the delimiter, unquoted. */
	if (fields != reader->column_count &&
	    !(reader->cucm_export && fields > reader->column_count))
		imaddr_record_add_problem(record, IMADDR_CODE_RECORD_MALFORMED, NULL,
			"%zu field%s where the header has %zu columns%s%s%s",
			fields, fields == 1 ? "" : "s", reader->column_count,
			fields > reader->column_count ? ": a value holding '" : "",
			fields > reader->column_count ? delimiter_text(reader->delimiter) : "",
			fields > reader->column_count ? "' without quotes around it? (as Export-Csv "
			"-UseQuotes Never writes a DN)" : "");
	for (int role = 0; role < IMADDR_ROLE_COUNT; role++) {
		int column = reader->role_column[role];
		if (column < 0)
			continue;
		struct imaddr_value *value = &record->values[role];
		value->attribute = reader->columns[column];
		if ((size_t)column >= reader->cell_count)
			continue;
		const struct cell *cell = &reader->cells[column];
		if (cell->too_long) {
			/* Once per column, which may feed several roles (mail: URI and mail). */
			bool told = false;
			for (int earlier = 0; earlier < role; earlier++)
				told |= reader->role_column[earlier] == column;
			if (!told)
				imaddr_record_add_problem(record, IMADDR_CODE_RECORD_MALFORMED,
					value->attribute, "the field in column %d is longer than %d "
					"bytes and was ignored", column + 1, IMADDR_CSV_FIELD_MAX);
			continue;
		}
		value->data = reader->row_data.data + cell->offset;
		value->len = cell->len;
		value->terminated = true;
		/* An empty cell is an absent value, as LDAP has no empty values. */
		value->present = cell->len > 0;
	}
	if (reader->dn_column >= 0 && (size_t)reader->dn_column < reader->cell_count) {
		const struct cell *cell = &reader->cells[reader->dn_column];
		if (cell->len && !cell->too_long)
			record->dn = reader->row_data.data + cell->offset;
	}
	reader->status = reader->request->record(reader->request->context, record, reader->err);
}

static void skip_joined_export_line(struct csv_reader *reader, const char *why)
{
	char message[200];
	reader->rows_skipped++;
	snprintf(message, sizeof(message), "row skipped: %s", why);
	reader->status = reader->request->notice(reader->request->context,
		IMADDR_CODE_RECORD_MALFORMED, reader->row_line, NULL, NULL, NULL, message,
		reader->err);
}

/* A row past IMADDR_CSV_RECORD_MAX, now that it has ended: a finding of no user. */
static void skip_long_row(struct csv_reader *reader)
{
	char message[160];
	reader->rows_too_long++;
	snprintf(message, sizeof(message),
		 "row skipped: it is longer than %d bytes by line %llu (its fields were not read)",
		 IMADDR_CSV_RECORD_MAX, (unsigned long long)reader->row_too_long_at);
	reader->status = reader->request->notice(reader->request->context,
		IMADDR_CODE_RECORD_MALFORMED, reader->row_line, NULL, NULL, NULL, message,
		reader->err);
}

static void reset_row(struct csv_reader *reader)
{
	reader->cell_count = 0;
	reader->fields_beyond = 0;
	reader->field_too_long = false;
	reader->row_bytes = 0;
	reader->row_too_long_at = 0;
	reader->row_started = false;
	reader->row_has_text = false;
	reader->between_rows = true;
	imaddr_buf_reset(&reader->row_data);
}

static void on_row_end(int terminator, void *context)
{
	struct csv_reader *reader = context;
	(void)terminator;
	if (reader->status != IMADDR_OK || !reader->row_started)
		goto reset;
	/*
	 * Excel saves the rows that once held something, or that a format
	 * reached, as delimiters alone (";;;;"): no user, and nothing wrong;
	 * above a table that starts lower on its sheet, no header either.
	 */
	if (!reader->header_done && reader->row_has_text) {
		imaddr_csv_read_header(reader);
		reader->rows_empty = 0;   /* those after the header are told of */
		goto reset;
	}
	const char *joined;
	if (!reader->row_has_text) {
		reader->rows_empty++;
		goto reset;
	}
	if (reader->row_too_long_at) {
		skip_long_row(reader);
	} else if ((joined = imaddr_csv_joined_export_line(reader))) {
		skip_joined_export_line(reader, joined);
	} else {
		if (imaddr_csv_row_selected(reader))
			emit_row(reader);
	}
reset:
	reset_row(reader);
}

static enum imaddr_status parser_init(struct csv_reader *reader, struct csv_parser *parser)
{
	if (csv_init(parser, CSV_STRICT | CSV_STRICT_FINI) != 0)
		return imaddr_error_set(reader->err, IMADDR_ERR_INPUT,
					"%s: cannot set up the CSV parser", reader->path);
	csv_set_delim(parser, (unsigned char)(reader->delimiter ? reader->delimiter : ','));
	/* Surrounding white space is data here: it is reported, not hidden. */
	csv_set_space_func(parser, never_space);
	csv_set_realloc_func(parser, capped_realloc);
	csv_set_blk_size(parser, PARSER_BLOCK);
	return IMADDR_OK;
}

/*
 * A malformed row (a stray quote) is reported and skipped; parsing starts
 * again on the next line so that one bad row does not cost the whole file.
 */
/* libcsv's words for a strict parse's failure say nothing of where to look. */
static const char *parse_problem(int error)
{
	return error == CSV_EPARSE ? "a quote inside an unquoted field, or text after a closing "
				     "quote"
				   : csv_strerror(error);
}

static enum imaddr_status skip_bad_row(struct csv_reader *reader, struct csv_parser *parser)
{
	uint64_t line = reader->row_line;
	int error = csv_error(parser);
	csv_free(parser);
	reset_row(reader);
	if (!reader->header_done)
		return imaddr_error_set(reader->err, IMADDR_ERR_INPUT,
			"%s:%llu: the header row is not valid CSV: %s", reader->path,
			(unsigned long long)line, parse_problem(error));
	reader->rows_skipped++;
	char message[160];
	snprintf(message, sizeof(message),
		 "row skipped: not valid CSV: %s", parse_problem(error));
	enum imaddr_status status = reader->request->notice(reader->request->context,
		IMADDR_CODE_RECORD_MALFORMED, line, NULL, NULL, NULL, message, reader->err);
	if (status != IMADDR_OK)
		return status;
	return parser_init(reader, parser);
}

/*
 * The field being parsed has filled libcsv's buffer (capped_realloc): it is
 * longer than IMADDR_CSV_FIELD_MAX, and on_field will drop it. libcsv has no
 * call that empties its buffer, so the members csv.h documents are set
 * here: the bytes go, all but those libcsv takes back itself when a field
 * ends (the quote that may close a quoted field, and `spaces`, always 0
 * here), and the status is cleared. Its state stays as it was, quoted or
 * not, so that libcsv itself goes on to find where the field and the record
 * end, quotes and line ends inside quotes included: no second parser is
 * needed to get back in step, and no field ever costs more than the buffer.
 */
static void drop_field_bytes(struct csv_reader *reader, struct csv_parser *parser)
{
	size_t keep = parser->spaces + 1;
	if (keep > parser->entry_pos)
		keep = parser->entry_pos;
	memmove(parser->entry_buf, parser->entry_buf + parser->entry_pos - keep, keep);
	parser->entry_pos = keep;
	parser->status = CSV_SUCCESS;
	reader->field_too_long = true;
}

/*
 * Counts a piece of the row being read against IMADDR_CSV_RECORD_MAX. Rows
 * end only at a line end, and a piece is at most a line: all of it is the
 * row's. Past the cap a row is parsed on without being kept; a header is
 * refused there.
 */
static void count_row_bytes(struct csv_reader *reader, size_t len)
{
	reader->row_bytes += len;
	if (reader->row_bytes <= IMADDR_CSV_RECORD_MAX || reader->row_too_long_at)
		return;
	if (!reader->header_done) {
		reader->status = imaddr_error_set(reader->err, IMADDR_ERR_INPUT,
			"%s:%llu: the header row is longer than %d bytes by line %llu: not an "
			"export of users?", reader->path, (unsigned long long)reader->row_line,
			IMADDR_CSV_RECORD_MAX, (unsigned long long)reader->physical_line);
		return;
	}
	reader->row_too_long_at = reader->physical_line;
	imaddr_buf_reset(&reader->row_data);
}

static bool is_blank_line(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (line[i] != '\r' && line[i] != '\n')
			return false;
	}
	return true;
}

/* "#TYPE ...", after the byte order mark a joined file may leave before it. */
static bool is_type_line(const char *line, size_t len)
{
	if (len >= 3 && !memcmp(line, "\xEF\xBB\xBF", 3)) {
		line += 3;
		len -= 3;
	}
	return len >= 6 && !strncmp(line, "#TYPE ", 6);
}

static enum imaddr_status feed_line(struct csv_reader *reader, struct csv_parser *parser,
				    const char *line, size_t len, bool *skip_rest)
{
	if (*skip_rest)
		return IMADDR_OK;
	if (!reader->first_line_done) {
		reader->first_line_done = true;
		/* PowerShell 5.1's Export-Csv names the .NET type first. */
		if (len >= 5 && !strncmp(line, "#TYPE", 5)) {
			reader->base.input.type_line_skipped = true;
			*skip_rest = true;   /* the rest of a long line comes in later pieces */
			return IMADDR_OK;
		}
		/* Excel's "sep=;": the delimiter, for scripts that write for Excel. */
		size_t content = strcspn(line, "\r\n");
		if (content == 5 && !strncasecmp(line, "sep=", 4) &&
		    (line[4] == ',' || line[4] == ';' || line[4] == '\t')) {
			if (!reader->delimiter) {
				reader->delimiter = line[4];
				csv_set_delim(parser, (unsigned char)reader->delimiter);
			}
			return IMADDR_OK;
		}
	}
	/* A second export joined on (copy /b a.csv+b.csv) begins with its own. */
	if (reader->header_done && reader->between_rows && is_type_line(line, len)) {
		*skip_rest = true;
		reader->row_line = reader->physical_line;
		skip_joined_export_line(reader, "it is a #TYPE line, as PowerShell's Export-Csv "
					"begins a file with: two exports joined into one file?");
		return reader->status;
	}
	if (!reader->header_done && reader->between_rows && !is_blank_line(line, len)) {
		size_t shown = strcspn(line, "\r\n");
		if (shown > len)
			shown = len;
		if (shown > HEADER_SHOWN)
			shown = HEADER_SHOWN;
		memcpy(reader->header_text, line, shown);
		reader->header_text[shown] = '\0';
		if (!reader->delimiter) {
			reader->delimiter = imaddr_csv_detect_delimiter(line, len);
			csv_set_delim(parser, (unsigned char)reader->delimiter);
		}
		reader->base.input.delimiter = reader->delimiter;
	}
	/* Rows begin at the start of a line, and libcsv skips blank lines. */
	if (reader->between_rows && !is_blank_line(line, len)) {
		reader->row_line = reader->physical_line;
		reader->between_rows = false;
	}
	if (!reader->between_rows) {
		count_row_bytes(reader, len);
		if (reader->status != IMADDR_OK)
			return reader->status;
	}
	size_t parsed = 0;
	for (;;) {
		parsed += csv_parse(parser, line + parsed, len - parsed, on_field, on_row_end,
				    reader);
		if (reader->status != IMADDR_OK)
			return reader->status;
		if (parsed == len)
			return IMADDR_OK;
		if (csv_error(parser) != CSV_ENOMEM)
			break;
		drop_field_bytes(reader, parser);
	}
	*skip_rest = true;
	return skip_bad_row(reader, parser);
}

/*
 * Lines end in LF or CRLF, or, in a file from a classic Mac OS program, in a
 * lone CR: libcsv reads all three, but the line numbers count what the first
 * line ends in. (Looking for both on every line would cost every file.)
 */
static char line_end_of(const char *p, const char *end)
{
	const char *cr = memchr(p, '\r', (size_t)(end - p));
	const char *lf = memchr(p, '\n', (size_t)(end - p));
	if (cr && (!lf || cr < lf) && cr + 1 < end && cr[1] != '\n')
		return '\r';
	return '\n';
}

static enum imaddr_status run(struct imaddr_reader *base,
			      const struct imaddr_reader_request *request,
			      struct imaddr_error *err)
{
	struct csv_reader *reader = (struct csv_reader *)base;
	struct csv_parser parser;
	char *chunk = imaddr_xmalloc(READ_CHUNK);
	struct imaddr_buf pending;   /* a line split across two chunks */
	bool skip_rest = false, first_chunk = true, saw_bytes = false;

	imaddr_buf_init(&pending, 0);
	reader->request = request;
	reader->err = err;
	reader->status = IMADDR_OK;
	reader->physical_line = 1;
	reader->line_end = '\n';
	reader->between_rows = true;
	for (int role = 0; role < IMADDR_ROLE_COUNT; role++)
		reader->role_column[role] = -1;
	reader->dn_column = -1;
	reader->enabled_column = reader->control_column = reader->lds_disabled_column = -1;
	reader->class_column = -1;

	enum imaddr_status status = parser_init(reader, &parser);
	if (status != IMADDR_OK)
		goto out_free;
	for (;;) {
		size_t got;
		status = imaddr_decoder_read(&reader->decoder, chunk, READ_CHUNK, &got, err);
		if (status != IMADDR_OK)
			goto out;
		if (got == 0)
			break;
		const char *p = chunk, *end = chunk + got;
		if (first_chunk)
			reader->line_end = line_end_of(p, end);
		/* The decoder may decide again at the first byte past ASCII. */
		reader->base.input.encoding = reader->decoder.encoding;
		reader->base.input.encoding_how = reader->decoder.how;
		first_chunk = false;
		if (p < end)
			saw_bytes = true;
		/* Feed line by line so that rows and errors know their line number. */
		while (p < end) {
			const char *newline = memchr(p, reader->line_end, (size_t)(end - p));
			if (!newline) {
				imaddr_buf_append(&pending, p, (size_t)(end - p));
				break;
			}
			size_t len = (size_t)(newline + 1 - p);
			if (pending.len) {
				imaddr_buf_append(&pending, p, len);
				status = feed_line(reader, &parser, pending.data, pending.len,
						   &skip_rest);
				imaddr_buf_reset(&pending);
			} else {
				status = feed_line(reader, &parser, p, len, &skip_rest);
			}
			if (status != IMADDR_OK)
				goto out;
			skip_rest = false;
			reader->physical_line++;
			p = newline + 1;
		}
		/* A line is never held whole: a long one is fed to libcsv in pieces. */
		if (pending.len >= READ_CHUNK) {
			status = feed_line(reader, &parser, pending.data, pending.len, &skip_rest);
			imaddr_buf_reset(&pending);
			if (status != IMADDR_OK)
				goto out;
		}
	}
	if (pending.len) {
		status = feed_line(reader, &parser, pending.data, pending.len, &skip_rest);
		if (status != IMADDR_OK)
			goto out;
	}
	if (csv_fini(&parser, on_field, on_row_end, reader) != 0) {
		status = imaddr_error_set(err, IMADDR_ERR_INPUT,
			"%s:%llu: unbalanced quote: the quoted field that starts here never ends",
			reader->path, (unsigned long long)reader->row_line);
		goto out;
	}
	status = reader->status;
	if (status == IMADDR_OK && !reader->header_done && reader->rows_empty)
		status = imaddr_error_set(err, IMADDR_ERR_INPUT,
			"%s: no header row: the file holds delimiters alone (%llu row%s, as "
			"Excel saves empty rows)", reader->path,
			(unsigned long long)reader->rows_empty, reader->rows_empty == 1 ? "" : "s");
	if (status == IMADDR_OK && (!saw_bytes || !reader->header_done))
		status = imaddr_error_set(err, IMADDR_ERR_INPUT,
					  "%s: empty file: no header row", reader->path);
out:
	csv_free(&parser);
out_free:
	imaddr_buf_release(&pending);
	free(chunk);
	return status;
}

static enum imaddr_status csv_no_users(struct imaddr_reader *base, struct imaddr_error *err)
{
	struct csv_reader *reader = (struct csv_reader *)base;
	const struct imaddr_input_description *input = &reader->base.input;
	const struct imaddr_entry_select *select = &reader->select;
	if (reader->class_column >= 0 && select->entries && !select->filter_ready)
		return imaddr_error_set(err, IMADDR_ERR_INPUT,
			"%s: no users: none of its %llu rows has objectClass user or "
			"inetOrgPerson in column '%s' (an export of groups or computers?)",
			reader->path, (unsigned long long)select->entries,
			reader->columns[reader->class_column]);
	if ((reader->class_column >= 0 || select->filter_given) && select->entries &&
	    select->entries_skipped == select->entries)
		return imaddr_error_set(err, IMADDR_ERR_INPUT,
			"%s: no users: none of its %llu rows matches the filter '%s'%s%s%s",
			reader->path, (unsigned long long)select->entries, input->filter,
			select->filter_given ? "" : " (directory type ",
			select->filter_given ? "" : input->directory_type,
			select->filter_given ? "" : ")");
	if (input->entries && input->entries_skipped == input->entries)
		return imaddr_error_set(err, IMADDR_ERR_INPUT,
			"%s: no users: all %llu rows are disabled accounts (%s)", reader->path,
			(unsigned long long)input->entries, input->filter);
	if (reader->rows_skipped && !reader->rows_too_long)
		return imaddr_error_set(err, IMADDR_ERR_INPUT,
			"%s: no users: all %llu rows after the header were skipped as not valid CSV",
			reader->path, (unsigned long long)reader->rows_skipped);
	if (reader->rows_skipped || reader->rows_too_long)
		return imaddr_error_set(err, IMADDR_ERR_INPUT,
			"%s: no users: all %llu rows after the header were skipped (%llu not valid "
			"CSV, %llu longer than %d bytes)", reader->path,
			(unsigned long long)(reader->rows_skipped + reader->rows_too_long),
			(unsigned long long)reader->rows_skipped,
			(unsigned long long)reader->rows_too_long, IMADDR_CSV_RECORD_MAX);
	if (reader->rows_empty)
		return imaddr_error_set(err, IMADDR_ERR_INPUT,
			"%s: no users: the header row (line %llu) is followed by delimiters "
			"alone (%llu empty row%s, as Excel saves them)", reader->path,
			(unsigned long long)reader->header_line,
			(unsigned long long)reader->rows_empty, reader->rows_empty == 1 ? "" : "s");
	return imaddr_error_set(err, IMADDR_ERR_INPUT,
		"%s: no users: the header row (line %llu) is followed by no rows", reader->path,
		(unsigned long long)reader->header_line);
}

static void csv_reader_free(struct imaddr_reader *base)
{
	struct csv_reader *reader = (struct csv_reader *)base;
	if (reader->file && reader->file != stdin)
		fclose(reader->file);
	imaddr_decoder_release(&reader->decoder);
	imaddr_entry_select_release(&reader->select);
	free(reader->entry_values);
	free(reader->filter_text);
	for (size_t i = 0; i < reader->column_count; i++) {
		free(reader->columns[i]);
		if (reader->filter_names)
			free(reader->filter_names[i]);
	}
	free(reader->columns);
	free(reader->filter_names);
	free(reader->kept);
	free(reader->cells);
	imaddr_buf_release(&reader->row_data);
	free(reader->path);
	free(reader);
}

static const struct imaddr_reader_ops csv_reader_ops = {
	.name = "csv",
	.run = run,
	.no_users = csv_no_users,
	.free = csv_reader_free,
};

enum imaddr_status imaddr_csv_reader_open(const char *path, struct imaddr_reader **out,
					  struct imaddr_error *err)
{
	/* Named here: imaddr_csv_reader_open_with is not what the caller called. */
	if (!out)
		return imaddr_error_null(err, __func__, "out");
	if (!path) {
		*out = NULL;
		return imaddr_error_null(err, __func__, "path");
	}
	return imaddr_csv_reader_open_with(path, NULL, out, err);
}

enum imaddr_status imaddr_csv_reader_open_with(const char *path,
					       const struct imaddr_file_options *options,
					       struct imaddr_reader **out, struct imaddr_error *err)
{
	struct imaddr_file_opened opened;
	enum imaddr_status status = imaddr_file_reader_open(__func__, path, options, &opened,
							   out, err);
	if (status != IMADDR_OK)
		return status;
	char delimiter = options ? options->delimiter : 0;
	if (delimiter && delimiter != ',' && delimiter != ';' && delimiter != '\t') {
		imaddr_file_opened_release(&opened);
		return imaddr_error_set(err, IMADDR_ERR_USAGE,
			"--delimiter: '%c' is not one of ',', ';' and tab", delimiter);
	}
	struct csv_reader *reader = imaddr_xcalloc(1, sizeof(*reader));
	reader->base.ops = &csv_reader_ops;
	reader->base.regular_file = opened.regular;
	reader->path = opened.path;
	reader->file = opened.file;
	reader->decoder = opened.decoder;
	reader->select = opened.select;
	reader->delimiter = delimiter;
	reader->base.input.format = "CSV";
	imaddr_buf_init(&reader->row_data, 0);
	*out = &reader->base;
	return IMADDR_OK;
}
