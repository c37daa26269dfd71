#include "reader_ldif.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>   /* before ldif.h, which uses FILE without it */
#include <lber.h>
#include <ldif.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buffer.h"
#include "decode.h"
#include "entry_select.h"
#include "ldap_entry.h"
#include "ldif_filter.h"
#include "reader_file.h"
#include "error.h"

/* Bytes read from the file at a time. */
#define READ_CHUNK (64 * 1024)
/* A line's first bytes, kept even when the line is too long to keep. */
#define LINE_HEAD 8

struct ldif_reader {
	struct imaddr_reader base;
	char *path;                 /* for messages: "<stdin>" for "-" */
	FILE *file;
	struct imaddr_decoder decoder;  /* ldifde -u writes UTF-16LE */
	char *chunk;                /* READ_CHUNK bytes read ahead */
	size_t chunk_pos;
	size_t chunk_len;
	uint64_t line;              /* lines read so far */

	/*
	 * The record as read: its lines, each ending in '\n', from raw_first_line
	 * on, with no line left out (a comment line is kept as its first byte),
	 * so that a line's number can be counted in it.
	 */
	struct imaddr_buf raw;
	uint64_t raw_first_line;

	/* The record being parsed: lines point into `text`, decoded in place. */
	struct imaddr_buf text;
	struct ldif_line *lines;
	size_t line_count;
	size_t line_cap;
	struct imaddr_buf dn;
	struct imaddr_ldap_attribute *attributes;
	size_t attribute_cap;
	struct imaddr_record record;
	uint64_t record_line;       /* its "dn:" line, else its first line */
	char problem[200];          /* why the record is skipped */
	uint64_t records_skipped;   /* records reported as malformed */

	/* Which entries are users (entry_select.h). */
	struct imaddr_entry_select select;
	struct imaddr_ldif_value *values;   /* the entry's, for the filter */
	size_t value_cap;
	/* The request's mapping with uid added to the user ID's names, for
	 * OpenLDAP entries (whose user ID LDAP sync reads from uid). */
	struct imaddr_mapping openldap_mapping;
};

/* One "type: value" line of a record, folded lines joined. */
struct ldif_line {
	struct berval type;
	struct berval value;
	uint64_t number;            /* its first line in the file */
};

/* A line of the file that read_line added to the end of `raw`. */
struct raw_line {
	size_t start;               /* where it starts in raw */
	size_t length;              /* its length in the file, without its end */
	bool kept;                  /* all of it is in raw: not too long */
	char head[LINE_HEAD];       /* its first bytes, kept or not */
};

/* The kind of logical line a line of the file belongs to, folded lines included. */
enum line_kind { LINE_DATA, LINE_COMMENT, LINE_DROPPED };

static uint64_t count_newlines(const char *s, size_t len)
{
	uint64_t n = 0;
	for (const char *end = s + len; (s = memchr(s, '\n', (size_t)(end - s))); s++)
		n++;
	return n;
}

static bool type_is(const struct ldif_line *line, const char *type)
{
	return line->type.bv_len == strlen(type) && !strcasecmp(line->type.bv_val, type);
}

static void discard_log(const char *text)
{
	(void)text;
}

/*
 * libldap logs a bad base64 value to standard error whatever its debug
 * level; the reader reports it itself, once, as a finding. Returns whether
 * the previous print function must be put back.
 */
static bool silence_libldap(BER_LOG_PRINT_FN *saved)
{
	return ber_get_option(NULL, LBER_OPT_LOG_PRINT_FN, saved) == LBER_OPT_SUCCESS &&
	       ber_set_option(NULL, LBER_OPT_LOG_PRINT_FN, (const void *)discard_log) ==
		       LBER_OPT_SUCCESS;
}

static void restore_libldap(bool silenced, BER_LOG_PRINT_FN saved)
{
	if (silenced)
		ber_set_option(NULL, LBER_OPT_LOG_PRINT_FN, (const void *)saved);
}

static bool record_problem(struct ldif_reader *reader, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

static bool record_problem(struct ldif_reader *reader, const char *format, ...)
{
	va_list args;
	va_start(args, format);
	vsnprintf(reader->problem, sizeof(reader->problem), format, args);
	va_end(args);
	return false;
}

/*
 * Splits a copy of the record with libldap's line functions: ldif_getline
 * joins folded lines and skips comments, ldif_parse_line2 splits "type:
 * value" and decodes base64, both in place. Line numbers come from the
 * untouched record. A value given by URL (":<") is refused, not fetched.
 * Returns false, with the problem, when a line does not parse.
 */
static bool split_record(struct ldif_reader *reader)
{
	imaddr_buf_reset(&reader->text);
	imaddr_buf_append(&reader->text, reader->raw.data, reader->raw.len);
	char *copy = reader->text.data, *next = copy, *text;
	size_t counted = 0;
	uint64_t number = reader->raw_first_line;
	bool ok = true;
	BER_LOG_PRINT_FN saved_log = NULL;
	bool silenced = silence_libldap(&saved_log);

	reader->line_count = 0;
	reader->record_line = 0;
	bool dn_seen = false;
	while (ok && (text = ldif_getline(&next))) {
		size_t offset = (size_t)(text - copy);
		number += count_newlines(reader->raw.data + counted, offset - counted);
		counted = offset;
		if (!reader->record_line)
			reader->record_line = number;
		if (!dn_seen && !strncasecmp(text, "dn:", 3)) {
			dn_seen = true;
			reader->record_line = number;
		}
		/* "-" ends a modification in a change record: skipped below anyway. */
		if (!strcmp(text, "-"))
			continue;
		const char *colon = strchr(text, ':');
		if (!colon) {
			ok = record_problem(reader,
				"record skipped: line %llu is not 'attribute: value'",
				(unsigned long long)number);
			break;
		}
		if (colon[1] == '<') {
			ok = record_problem(reader,
				"record skipped: line %llu gives a value by URL (':<'), which "
				"imaddr does not fetch", (unsigned long long)number);
			break;
		}
		if (reader->line_count == reader->line_cap) {
			reader->line_cap = reader->line_cap ? reader->line_cap * 2 : 32;
			reader->lines = imaddr_xrealloc(reader->lines,
				reader->line_cap * sizeof(*reader->lines));
		}
		struct ldif_line *line = &reader->lines[reader->line_count];
		int freed = 0;
		line->number = number;
		if (ldif_parse_line2(text, &line->type, &line->value, &freed) < 0) {
			ok = record_problem(reader,
				"record skipped: line %llu: the value of '%.*s' is not valid "
				"base64", (unsigned long long)number, (int)(colon - text), text);
			break;
		}
		reader->line_count++;
	}
	restore_libldap(silenced, saved_log);
	return ok;
}

/*
 * What comes before the attributes: "version: 1" (first record only),
 * "dn:", "control:" lines and a "changetype:". Returns the index of the
 * first attribute line, or 0 with a problem (or none, for a record that is
 * not an entry but harmless: "version: 1" alone, ldapsearch's trailer).
 */
static size_t find_attributes(struct ldif_reader *reader, size_t *dn_index)
{
	size_t i = 0, count = reader->line_count;
	reader->problem[0] = '\0';
	if (!count)
		return 0;   /* comments only */
	while (i < count && type_is(&reader->lines[i], "version"))
		i++;
	if (i == count)
		return 0;
	if (!type_is(&reader->lines[i], "dn")) {
		const struct ldif_line *first = &reader->lines[i];
		if (type_is(first, "search")) {
			/* ldapsearch's "search: 2 / result: 0 Success" trailer. */
			for (size_t j = i + 1; j < count; j++) {
				const struct ldif_line *line = &reader->lines[j];
				if (type_is(line, "result") && strncmp(line->value.bv_val, "0 ", 2) &&
				    strcmp(line->value.bv_val, "0"))
					record_problem(reader,
						"ldapsearch's result record says '%s': the export "
						"is incomplete", line->value.bv_val);
			}
			return 0;
		}
		bool has_dn = false;
		for (size_t j = i; j < count && !has_dn; j++)
			has_dn = type_is(&reader->lines[j], "dn");
		if (has_dn)
			record_problem(reader,
				"record skipped: line %llu comes before its 'dn:' line",
				(unsigned long long)first->number);
		else
			record_problem(reader, "record skipped: it has no 'dn:' line");
		return 0;
	}
	*dn_index = i++;
	while (i < count && type_is(&reader->lines[i], "control"))
		i++;
	if (i < count && type_is(&reader->lines[i], "changetype")) {
		const struct ldif_line *change = &reader->lines[i];
		if (strcasecmp(change->value.bv_val, "add")) {
			record_problem(reader,
				"record skipped: a change record (changetype: %.40s), not an entry",
				change->value.bv_val);
			return 0;
		}
		i++;
	}
	for (size_t j = i; j < count; j++) {
		if (type_is(&reader->lines[j], "dn")) {
			record_problem(reader,
				"record skipped: a second 'dn:' line at line %llu: no blank "
				"line between two entries?",
				(unsigned long long)reader->lines[j].number);
			return 0;
		}
	}
	return i;
}

/* Whether the entry is a user, as LDAP sync would select it (entry_select.h). */
static enum imaddr_status select_entry(struct ldif_reader *reader, size_t first_attribute,
				       bool *selected, struct imaddr_error *err)
{
	size_t count = 0;
	if (reader->line_count - first_attribute > reader->value_cap) {
		reader->value_cap = reader->line_count - first_attribute;
		reader->values = imaddr_xrealloc(reader->values,
						 reader->value_cap * sizeof(*reader->values));
	}
	for (size_t i = first_attribute; i < reader->line_count; i++, count++) {
		reader->values[count].type = reader->lines[i].type;
		reader->values[count].value = reader->lines[i].value;
	}
	enum imaddr_status status = imaddr_entry_select_entry(&reader->select, reader->values,
							      count, selected, err);
	imaddr_entry_select_describe(&reader->select, &reader->base.input);
	return status;
}

static const struct imaddr_mapping *entry_mapping(struct ldif_reader *reader,
						  const struct imaddr_mapping *mapping)
{
	const struct imaddr_entry_select *select = &reader->select;
	if (!select->filter_ready || select->filter_given ||
	    select->directory_type != IMADDR_DIRECTORY_OPENLDAP)
		return mapping;
	struct imaddr_mapping *copy = &reader->openldap_mapping;
	*copy = *mapping;
	size_t n = 0;
	while (copy->names[IMADDR_ROLE_USER_ID][n])
		n++;
	if (n < IMADDR_MAPPING_MAX_NAMES)
		copy->names[IMADDR_ROLE_USER_ID][n] = "uid";
	return copy;
}

static enum imaddr_status emit_entry(struct ldif_reader *reader,
				     const struct imaddr_reader_request *request, size_t dn_index,
				     size_t first_attribute, struct imaddr_error *err)
{
	size_t count = 0;
	bool selected;
	enum imaddr_status status = select_entry(reader, first_attribute, &selected, err);
	if (status != IMADDR_OK || !selected)
		return status;
	for (size_t i = first_attribute; i < reader->line_count; i++) {
		const struct ldif_line *line = &reader->lines[i];
		const struct imaddr_ldap_attribute *seen = imaddr_ldap_entry_find(reader->attributes,
			count, line->type.bv_val, line->type.bv_len);
		if (seen) {
			reader->attributes[seen - reader->attributes].value_count++;
			continue;
		}
		if (count == reader->attribute_cap) {
			reader->attribute_cap = reader->attribute_cap ? reader->attribute_cap * 2 : 16;
			reader->attributes = imaddr_xrealloc(reader->attributes,
				reader->attribute_cap * sizeof(*reader->attributes));
		}
		struct imaddr_ldap_attribute *attribute = &reader->attributes[count++];
		attribute->name = line->type.bv_val;
		attribute->name_len = line->type.bv_len;
		attribute->value = line->value.bv_val;
		attribute->value_len = line->value.bv_len;
		attribute->value_count = 1;
	}
	/* A base64 DN may not end in a NUL of its own. */
	const struct berval *dn = &reader->lines[dn_index].value;
	imaddr_buf_reset(&reader->dn);
	imaddr_buf_append(&reader->dn, dn->bv_val, dn->bv_len);

	struct imaddr_record *record = &reader->record;
	imaddr_record_reset(record, reader->lines[dn_index].number);
	imaddr_ldap_entry_fill(record, entry_mapping(reader, request->mapping), reader->attributes,
			       count);
	record->dn = reader->dn.len ? reader->dn.data : NULL;
	return request->record(request->context, record, err);
}

static enum imaddr_status read_record(struct ldif_reader *reader,
				      const struct imaddr_reader_request *request,
				      struct imaddr_error *err)
{
	size_t dn_index = 0, first_attribute = 0;
	reader->record_line = reader->raw_first_line;
	if (split_record(reader))
		first_attribute = find_attributes(reader, &dn_index);
	if (first_attribute)
		return emit_entry(reader, request, dn_index, first_attribute, err);
	if (!reader->problem[0])
		return IMADDR_OK;
	reader->records_skipped++;
	/* The lines split before the one that failed: its DN, when it came first. */
	const char *dn = NULL;
	for (size_t i = 0; !dn && i < reader->line_count; i++) {
		const struct berval *type = &reader->lines[i].type;
		if (type->bv_len == 2 && !strncasecmp(type->bv_val, "dn", 2) &&
		    !memchr(reader->lines[i].value.bv_val, '\0', reader->lines[i].value.bv_len))
			dn = reader->lines[i].value.bv_val;
	}
	return request->notice(request->context, IMADDR_CODE_RECORD_MALFORMED,
			       reader->record_line, dn, NULL, NULL, reader->problem, err);
}

/*
 * Keeps a piece of the line being read at the end of raw, unless the line
 * has grown past IMADDR_LDIF_LINE_MAX or the record past
 * IMADDR_LDIF_RECORD_MAX: then none of the line is kept, and the rest of it
 * is only counted.
 */
static void keep_piece(struct ldif_reader *reader, struct raw_line *line, const char *piece,
		       size_t length)
{
	if (line->length < LINE_HEAD)
		memcpy(line->head + line->length, piece,
		       length < LINE_HEAD - line->length ? length : LINE_HEAD - line->length);
	/* One byte more than the cap: a CR before the LF is not the line's. */
	if (line->kept && (length > IMADDR_LDIF_LINE_MAX + 1 - line->length ||
			   !imaddr_buf_append(&reader->raw, piece, length))) {
		line->kept = false;
		imaddr_buf_truncate(&reader->raw, line->start);
	}
	line->length += length;
}

/*
 * Reads one line of the file onto the end of raw, without its end (LF, or
 * CRLF). Never holds more than READ_CHUNK bytes of the file besides raw, so
 * that a line without an end takes no memory. *got is false at the end of
 * the file.
 */
static enum imaddr_status read_line(struct ldif_reader *reader, struct raw_line *line,
				    bool *got, struct imaddr_error *err)
{
	char last = '\0';
	memset(line, 0, sizeof(*line));
	line->start = reader->raw.len;
	line->kept = true;
	*got = false;
	for (;;) {
		if (reader->chunk_pos == reader->chunk_len) {
			reader->chunk_pos = 0;
			enum imaddr_status status = imaddr_decoder_read(&reader->decoder,
				reader->chunk, READ_CHUNK, &reader->chunk_len, err);
			if (status != IMADDR_OK)
				return status;
			reader->base.input.encoding = reader->decoder.encoding;
			reader->base.input.encoding_how = reader->decoder.how;
			if (!reader->chunk_len)
				break;
		}
		*got = true;
		const char *piece = reader->chunk + reader->chunk_pos;
		size_t available = reader->chunk_len - reader->chunk_pos;
		const char *end = memchr(piece, '\n', available);
		size_t length = end ? (size_t)(end - piece) : available;
		reader->chunk_pos += length + (end != NULL);
		if (length) {
			keep_piece(reader, line, piece, length);
			last = piece[length - 1];
		}
		if (end)
			break;
	}
	/* libldap reads CRLF as LF; a CR just before the end of the file too. */
	if (last == '\r') {
		line->length--;
		if (line->kept)
			imaddr_buf_truncate(&reader->raw, reader->raw.len - 1);
	}
	if (line->kept && line->length > IMADDR_LDIF_LINE_MAX) {
		line->kept = false;
		imaddr_buf_truncate(&reader->raw, line->start);
	}
	return IMADDR_OK;
}

static bool all_digits(const char *text, size_t length)
{
	for (size_t i = 0; i < length; i++) {
		if (text[i] < '0' || text[i] > '9')
			return false;
	}
	return length > 0;
}

/*
 * An "include:" line names another LDIF file for libldap to read in its
 * place (ldif_read_record would open it, even /etc/shadow or /dev/zero). It
 * is reported and never opened; the run goes on after it.
 */
static enum imaddr_status refuse_include(struct ldif_reader *reader,
					 const struct imaddr_reader_request *request,
					 const struct raw_line *line, uint64_t number,
					 struct imaddr_error *err)
{
	char message[200];
	const char *url = reader->raw.data + line->start + strlen("include:");
	size_t url_length = line->length - strlen("include:");
	while (url_length && (*url == ' ' || *url == '\t')) {
		url++;
		url_length--;
	}
	/* The finding's line is the include's: the message need not repeat it. */
	if (line->kept)
		snprintf(message, sizeof(message),
			 "'include:' skipped: imaddr does not read the file it names ('%.*s')",
			 url_length > 80 ? 80 : (int)url_length, url);
	else
		snprintf(message, sizeof(message),
			 "'include:' skipped: imaddr does not read the file it names");
	return request->notice(request->context, IMADDR_CODE_RECORD_MALFORMED, number, NULL,
			       NULL, NULL, message, err);
}

/*
 * Reads the next record into raw: its lines up to a blank line or the end
 * of the file. Like libldap's ldif_read_record, blank lines and comments
 * before a record are skipped, and so is a record's first line when it is
 * all digits (the entry numbers of old LDIF). Unlike it, an "include:"
 * line is never followed, and no line or record is held past its cap: a
 * record with a line that is too long, or that grows too long, or with a
 * NUL byte outside base64, is read to its end without being kept, with its
 * problem. *found is false at the end of the file.
 */
static enum imaddr_status next_record(struct ldif_reader *reader,
				      const struct imaddr_reader_request *request, bool *found,
				      struct imaddr_error *err)
{
	enum line_kind kind = LINE_DATA;
	struct raw_line line;
	bool got;

	imaddr_buf_reset(&reader->raw);
	reader->problem[0] = '\0';
	*found = false;
	for (;;) {
		enum imaddr_status status = read_line(reader, &line, &got, err);
		if (status != IMADDR_OK || !got)
			return status;
		uint64_t number = ++reader->line;
		if (!line.length) {
			if (*found)
				return IMADDR_OK;
			kind = LINE_DATA;
			continue;
		}
		/* A line that starts with a space continues the one before. */
		if (line.head[0] != ' ')
			kind = line.head[0] == '#' ? LINE_COMMENT : LINE_DATA;
		if (kind == LINE_DROPPED || (kind == LINE_COMMENT && !*found) ||
		    reader->problem[0]) {
			imaddr_buf_truncate(&reader->raw, line.start);
			continue;
		}
		if (!*found && line.length >= strlen("include:") &&
		    !strncasecmp(line.head, "include:", strlen("include:"))) {
			kind = LINE_DROPPED;
			status = refuse_include(reader, request, &line, number, err);
			imaddr_buf_truncate(&reader->raw, line.start);
			if (status != IMADDR_OK)
				return status;
			continue;
		}
		if (!*found) {
			*found = true;
			if (line.kept && all_digits(reader->raw.data + line.start, line.length)) {
				kind = LINE_DROPPED;
				imaddr_buf_truncate(&reader->raw, line.start);
				continue;
			}
		}
		if (!line.start)
			reader->raw_first_line = number;
		if (kind == LINE_COMMENT) {
			/* ldif_getline skips it all the same: only its line counts. */
			imaddr_buf_truncate(&reader->raw, line.start);
			line.kept = imaddr_buf_append_char(&reader->raw, line.head[0]);
		} else if (!line.kept && line.length > IMADDR_LDIF_LINE_MAX) {
			record_problem(reader, "record skipped: line %llu is longer than %d bytes",
				       (unsigned long long)number, IMADDR_LDIF_LINE_MAX);
		} else if (line.kept && memchr(reader->raw.data + line.start, '\0', line.length)) {
			record_problem(reader,
				"record skipped: line %llu holds a NUL byte, which only a base64 "
				"value ('attribute:: ...') can", (unsigned long long)number);
		}
		if (!reader->problem[0] &&
		    (!line.kept || !imaddr_buf_append_char(&reader->raw, '\n')))
			record_problem(reader,
				"record skipped: it is longer than %d bytes by line %llu (no "
				"blank line between entries?)", IMADDR_LDIF_RECORD_MAX,
				(unsigned long long)number);
		if (reader->problem[0])
			imaddr_buf_reset(&reader->raw);
	}
}

static enum imaddr_status run(struct imaddr_reader *base,
			      const struct imaddr_reader_request *request,
			      struct imaddr_error *err)
{
	struct ldif_reader *reader = (struct ldif_reader *)base;
	enum imaddr_status status;
	bool found;

	while ((status = next_record(reader, request, &found, err)) == IMADDR_OK && found) {
		if (reader->problem[0] && ++reader->records_skipped)
			status = request->notice(request->context, IMADDR_CODE_RECORD_MALFORMED,
						 reader->raw_first_line, NULL, NULL, NULL,
						 reader->problem, err);
		else
			status = read_record(reader, request, err);
		if (status != IMADDR_OK)
			break;
	}
	return status;
}

static enum imaddr_status ldif_no_users(struct imaddr_reader *base, struct imaddr_error *err)
{
	struct ldif_reader *reader = (struct ldif_reader *)base;
	const struct imaddr_entry_select *select = &reader->select;
	if (select->entries && !select->filter_ready)
		return imaddr_error_set(err, IMADDR_ERR_INPUT,
			"%s: no users: none of its %llu entries has objectClass user or "
			"inetOrgPerson, so the directory type cannot be inferred: give "
			"--directory-type ad|ad-lds|openldap or --filter", reader->path,
			(unsigned long long)select->entries);
	/* ldapsearch asked for some attributes only writes no objectClass. */
	if (select->entries && select->entries_classless == select->entries)
		return imaddr_error_set(err, IMADDR_ERR_INPUT,
			"%s: no users: none of its %llu entries matches the filter '%s', as none "
			"has an objectClass (an export of some attributes only): leave out "
			"--filter, or export objectClass too", reader->path,
			(unsigned long long)select->entries, select->filter.text);
	if (select->entries)
		return imaddr_error_set(err, IMADDR_ERR_INPUT,
			"%s: no users: none of its %llu entries matches the filter '%s'%s%s%s",
			reader->path, (unsigned long long)select->entries, select->filter.text,
			select->filter_given ? "" : " (directory type ",
			select->filter_given ? "" : base->input.directory_type,
			select->filter_given ? "" : ", or give --filter)");
	if (reader->records_skipped)
		return imaddr_error_set(err, IMADDR_ERR_INPUT,
			"%s: no users: its %llu lines hold no entry that could be read (%llu "
			"records skipped as malformed)", reader->path, (unsigned long long)reader->line,
			(unsigned long long)reader->records_skipped);
	return imaddr_error_set(err, IMADDR_ERR_INPUT, "%s: no users: its %llu lines hold no entry",
				reader->path, (unsigned long long)reader->line);
}

static void ldif_reader_free(struct imaddr_reader *base)
{
	struct ldif_reader *reader = (struct ldif_reader *)base;
	if (reader->file && reader->file != stdin)
		fclose(reader->file);
	imaddr_decoder_release(&reader->decoder);
	imaddr_entry_select_release(&reader->select);
	free(reader->values);
	free(reader->chunk);
	imaddr_buf_release(&reader->raw);
	imaddr_buf_release(&reader->text);
	imaddr_buf_release(&reader->dn);
	free(reader->lines);
	free(reader->attributes);
	free(reader->path);
	free(reader);
}

static const struct imaddr_reader_ops ldif_reader_ops = {
	.name = "ldif",
	.run = run,
	.no_users = ldif_no_users,
	.free = ldif_reader_free,
};

enum imaddr_status imaddr_ldif_reader_open(const char *path, struct imaddr_reader **out,
					   struct imaddr_error *err)
{
	/* Named here: imaddr_ldif_reader_open_with is not what the caller called. */
	if (!out)
		return imaddr_error_null(err, __func__, "out");
	if (!path) {
		*out = NULL;
		return imaddr_error_null(err, __func__, "path");
	}
	return imaddr_ldif_reader_open_with(path, NULL, out, err);
}

enum imaddr_status imaddr_ldif_reader_open_with(const char *path,
						const struct imaddr_file_options *options,
						struct imaddr_reader **out, struct imaddr_error *err)
{
	struct imaddr_file_opened opened;
	enum imaddr_status status = imaddr_file_reader_open(__func__, path, options, &opened,
							   out, err);
	if (status != IMADDR_OK)
		return status;
	struct ldif_reader *reader = imaddr_xcalloc(1, sizeof(*reader));
	reader->base.ops = &ldif_reader_ops;
	reader->base.regular_file = opened.regular;
	reader->path = opened.path;
	reader->file = opened.file;
	reader->decoder = opened.decoder;
	reader->select = opened.select;
	reader->base.input.format = "LDIF";
	imaddr_entry_select_describe(&reader->select, &reader->base.input);
	reader->chunk = imaddr_xmalloc(READ_CHUNK);
	imaddr_buf_init(&reader->raw, IMADDR_LDIF_RECORD_MAX);
	imaddr_buf_init(&reader->text, 0);
	imaddr_buf_init(&reader->dn, 0);
	*out = &reader->base;
	return IMADDR_OK;
}
