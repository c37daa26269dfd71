#include "ldif_reader.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>   /* before ldif.h, which uses FILE without it */
#include <lber.h>
#include <ldif.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buffer.h"
#include "ldap_reader.h"
#include "status.h"

struct ldif_reader {
	struct imaddr_reader base;
	char *path;                 /* for messages: "<stdin>" for "-" */
	LDIFFP *ldif;
	char *buffer;               /* ldif_read_record's, which grows it */
	int buffer_size;
	unsigned long line;         /* lines read so far */

	/* The record being read: lines point into `text`, decoded in place. */
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
};

/* One "type: value" line of a record, folded lines joined. */
struct ldif_line {
	struct berval type;
	struct berval value;
	uint64_t number;            /* its first line in the file */
};

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
static bool split_record(struct ldif_reader *reader, uint64_t first_buffer_line)
{
	imaddr_buf_reset(&reader->text);
	imaddr_buf_append_str(&reader->text, reader->buffer);
	char *copy = reader->text.data, *next = copy, *text;
	size_t counted = 0;
	uint64_t number = first_buffer_line;
	bool ok = true;
	BER_LOG_PRINT_FN saved_log = NULL;
	bool silenced = silence_libldap(&saved_log);

	reader->line_count = 0;
	reader->record_line = 0;
	bool dn_seen = false;
	while (ok && (text = ldif_getline(&next))) {
		size_t offset = (size_t)(text - copy);
		number += count_newlines(reader->buffer + counted, offset - counted);
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

static struct imaddr_ldap_attribute *attribute_named(struct ldif_reader *reader, size_t count,
						     const struct berval *type)
{
	for (size_t i = 0; i < count; i++) {
		struct imaddr_ldap_attribute *attribute = &reader->attributes[i];
		if (attribute->name_len == type->bv_len &&
		    !strncasecmp(attribute->name, type->bv_val, type->bv_len))
			return attribute;
	}
	return NULL;
}

static enum imaddr_status emit_entry(struct ldif_reader *reader,
				     const struct imaddr_reader_request *request, size_t dn_index,
				     size_t first_attribute, struct imaddr_error *err)
{
	size_t count = 0;
	for (size_t i = first_attribute; i < reader->line_count; i++) {
		const struct ldif_line *line = &reader->lines[i];
		struct imaddr_ldap_attribute *attribute = attribute_named(reader, count, &line->type);
		if (attribute) {
			attribute->value_count++;
			continue;
		}
		if (count == reader->attribute_cap) {
			reader->attribute_cap = reader->attribute_cap ? reader->attribute_cap * 2 : 16;
			reader->attributes = imaddr_xrealloc(reader->attributes,
				reader->attribute_cap * sizeof(*reader->attributes));
		}
		attribute = &reader->attributes[count++];
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
	imaddr_ldap_record_fill(record, request->mapping, reader->attributes, count);
	record->dn = reader->dn.len ? reader->dn.data : NULL;
	return request->record(request->context, record, err);
}

static enum imaddr_status read_record(struct ldif_reader *reader,
				      const struct imaddr_reader_request *request,
				      uint64_t first_buffer_line, struct imaddr_error *err)
{
	size_t dn_index = 0, first_attribute = 0;
	reader->record_line = first_buffer_line;
	if (strlen(reader->buffer) > IMADDR_LDIF_RECORD_MAX)
		record_problem(reader,
			       "record skipped: it is longer than %d bytes (no blank line "
			       "between entries?)", IMADDR_LDIF_RECORD_MAX);
	else if (split_record(reader, first_buffer_line))
		first_attribute = find_attributes(reader, &dn_index);
	if (first_attribute)
		return emit_entry(reader, request, dn_index, first_attribute, err);
	if (!reader->problem[0])
		return IMADDR_OK;
	return request->notice(request->context, IMADDR_CODE_RECORD_MALFORMED,
			       reader->record_line, NULL, NULL, NULL, reader->problem, err);
}

static enum imaddr_status run(struct imaddr_reader *base,
			      const struct imaddr_reader_request *request,
			      struct imaddr_error *err)
{
	struct ldif_reader *reader = (struct ldif_reader *)base;
	enum imaddr_status status = IMADDR_OK;

	for (;;) {
		/*
		 * ldif_read_record skips a record's leading digit line (an old LDIF
		 * entry number) and says it found a record even when nothing follows:
		 * it then leaves the buffer as it was, NULL before the first record,
		 * the previous record after it. Emptied here, such a record is empty.
		 */
		if (reader->buffer)
			reader->buffer[0] = '\0';
		errno = 0;
		int found = ldif_read_record(reader->ldif, &reader->line, &reader->buffer,
					     &reader->buffer_size);
		int error = errno;
		FILE *file = reader->ldif->fp;
		if (ferror(file) && reader->line)
			return imaddr_error_set(err, IMADDR_ERR_IO, "%s:%lu: read error: %s",
						reader->path, reader->line,
						strerror(error ? error : EIO));
		if (ferror(file))
			return imaddr_error_set(err, IMADDR_ERR_IO, "%s: read error: %s",
						reader->path, strerror(error ? error : EIO));
		if (found < 0)
			return imaddr_error_set(err, IMADDR_ERR_INPUT,
				"%s:%lu: the file that an 'include:' line names cannot be read",
				reader->path, reader->line);
		if (found == 0) {
			if (!feof(file)) {
				/* ldif_read_record says 0 when it cannot grow its buffer. */
				fputs("imaddr: out of memory\n", stderr);
				abort();
			}
			break;
		}
		if (!reader->buffer || !reader->buffer[0])
			continue;
		/*
		 * The record ends on a blank line that was counted, or at the end of
		 * the file; its first line is as many lines up as it holds.
		 */
		uint64_t last_line = feof(file) ? reader->line : reader->line - 1;
		uint64_t buffer_lines = count_newlines(reader->buffer, strlen(reader->buffer));
		status = read_record(reader, request, last_line + 1 - buffer_lines, err);
		if (status != IMADDR_OK)
			break;
	}
	return status;
}

/* ldif_close() would close standard input too. */
static void close_ldif(LDIFFP *ldif)
{
	while (ldif) {
		LDIFFP *previous = ldif->prev;
		if (ldif->fp && ldif->fp != stdin)
			fclose(ldif->fp);
		ber_memfree(ldif);
		ldif = previous;
	}
}

static void ldif_reader_free(struct imaddr_reader *base)
{
	struct ldif_reader *reader = (struct ldif_reader *)base;
	close_ldif(reader->ldif);
	ber_memfree(reader->buffer);
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
	.free = ldif_reader_free,
};

struct imaddr_reader *imaddr_ldif_reader_open(const char *path, struct imaddr_error *err)
{
	LDIFFP *ldif;
	if (strcmp(path, "-")) {
		errno = 0;
		ldif = ldif_open(path, "r");
		if (!ldif) {
			imaddr_error_set(err, IMADDR_ERR_INPUT, "cannot open '%s': %s", path,
					 strerror(errno ? errno : ENOMEM));
			return NULL;
		}
	} else {
		ldif = ber_memalloc(sizeof(*ldif));
		if (!ldif) {
			fputs("imaddr: out of memory\n", stderr);
			abort();
		}
		ldif->fp = stdin;
		ldif->prev = NULL;
	}
	struct ldif_reader *reader = imaddr_xcalloc(1, sizeof(*reader));
	reader->base.ops = &ldif_reader_ops;
	reader->path = imaddr_xstrdup(strcmp(path, "-") ? path : "<stdin>");
	reader->ldif = ldif;
	imaddr_buf_init(&reader->text, 0);
	imaddr_buf_init(&reader->dn, 0);
	return &reader->base;
}
