/*
 * The header row of a CSV export: its columns, the column of each role,
 * the delimiter; and what the columns make of a row (a disabled account, a
 * second export's header).
 */
#define _GNU_SOURCE   /* strcasestr */
#include "reader_csv_internal.h"

#include <csv.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "mapping.h"
#include "normalize.h"
#include "reader_csv.h"

/* Once the header is read: which columns a row's cells are read from. */
static void mark_kept_columns(struct csv_reader *reader)
{
	const int read[] = { reader->dn_column, reader->enabled_column, reader->control_column,
			     reader->lds_disabled_column, reader->class_column };
	reader->kept = imaddr_xcalloc(reader->column_count ? reader->column_count : 1,
				      sizeof(*reader->kept));
	for (size_t i = 0; i < sizeof(read) / sizeof(*read); i++) {
		if (read[i] >= 0)
			reader->kept[read[i]] = true;
	}
	for (int role = 0; role < IMADDR_ROLE_COUNT; role++) {
		if (reader->role_column[role] >= 0)
			reader->kept[reader->role_column[role]] = true;
	}
}

struct filter_columns {
	struct csv_reader *reader;
	char missing[128];        /* the first type no column holds, or "" */
};

/* Keeps the columns a filter item tests, as it would test an entry's types. */
static void keep_filter_column(const struct berval *type, void *context)
{
	struct filter_columns *columns = context;
	struct csv_reader *reader = columns->reader;
	bool found = false;
	for (size_t i = 0; i < reader->column_count; i++) {
		struct berval name = { strlen(reader->filter_names[i]), reader->filter_names[i] };
		if (imaddr_ldif_type_matches(&name, type))
			found = reader->kept[i] = true;
	}
	/* The walk's berval lives no longer than the call. */
	if (!found && !columns->missing[0])
		snprintf(columns->missing, sizeof(columns->missing), "%.*s", (int)type->bv_len,
			 type->bv_val);
}

/*
 * A filter or a directory type given for a CSV selects rows by its columns:
 * one that tests a column the header lacks would quietly select nothing
 * (or everything, under a "!"), so it is refused at the header.
 */
static void check_selection_columns(struct csv_reader *reader)
{
	struct imaddr_entry_select *select = &reader->select;
	/* '' is every entry, which a CSV without objectClass says by having no filter. */
	if (select->every_entry && reader->class_column < 0) {
		imaddr_entry_select_release(select);
		imaddr_entry_select_init(select);
		return;
	}
	if (select->filter_given) {
		struct filter_columns columns = { .reader = reader };
		imaddr_ldif_filter_each_type(&select->filter, keep_filter_column, &columns);
		if (columns.missing[0])
			reader->status = imaddr_error_set(reader->err, IMADDR_ERR_USAGE,
				"%s:%llu: --filter '%s' tests '%s', which is not a column of the "
				"header ('%s'%s)", reader->path,
				(unsigned long long)reader->row_line, select->filter.text,
				columns.missing, reader->header_text,
				strlen(reader->header_text) == HEADER_SHOWN ? "..." : "");
	} else if (select->filter_ready && reader->class_column < 0) {
		reader->status = imaddr_error_set(reader->err, IMADDR_ERR_USAGE,
			"%s:%llu: --directory-type selects rows by their objectClass, and the "
			"header has no objectClass column: export objectClass too (csvde does "
			"without -l), or leave --directory-type out, as an export of chosen "
			"attributes was filtered when it was made", reader->path,
			(unsigned long long)reader->row_line);
	}
}

static bool header_has(void *context, const char *name)
{
	struct csv_reader *reader = context;
	for (size_t i = 0; i < reader->column_count; i++) {
		if (!strcasecmp(reader->columns[i], name))
			return true;
	}
	return false;
}

static int column_of(const struct csv_reader *reader, const char *name)
{
	for (size_t i = 0; name && i < reader->column_count; i++) {
		if (!strcasecmp(reader->columns[i], name))
			return (int)i;
	}
	return -1;
}

static void trim_ascii(char *name)
{
	size_t len = strlen(name);
	while (len && (name[len - 1] == ' ' || name[len - 1] == '\t'))
		name[--len] = '\0';
	size_t start = strspn(name, " \t");
	memmove(name, name + start, len - start + 1);
}

static void count_field(void *data, size_t len, void *context)
{
	(void)data;
	(void)len;
	(*(size_t *)context)++;
}

/*
 * The delimiter that splits the header line into the most columns, as
 * libcsv parses it (quotes respected); ',' on a tie. Excel writes ';' where
 * the decimal separator is ',', and some tools tabs.
 */
char imaddr_csv_detect_delimiter(const char *line, size_t len)
{
	static const char candidates[] = { ',', ';', '\t' };
	char best = ',';
	size_t most = 0;
	for (size_t i = 0; i < sizeof(candidates); i++) {
		struct csv_parser parser;
		size_t fields = 0;
		if (csv_init(&parser, 0) != 0)
			continue;
		csv_set_delim(&parser, (unsigned char)candidates[i]);
		csv_parse(&parser, line, len, count_field, NULL, &fields);
		csv_fini(&parser, count_field, NULL, &fields);
		csv_free(&parser);
		if (fields > most) {
			most = fields;
			best = candidates[i];
		}
	}
	return best;
}

static const char *delimiter_name(char delimiter)
{
	return delimiter == '\t' ? "tab" : delimiter == ';' ? "';'" : "','";
}

/*
 * Text laid out for a screen, which some export what a console shows: dsquery
 * | dsget and PowerShell's Format-Table (also what Out-File or '>' make of
 * an object) align columns with spaces, Format-List writes "Name : value"
 * lines, dsquery alone one quoted DN a line. Their first line is no header,
 * and naming a column would not help: what to do is to export again.
 */
static const char *screen_layout(const struct csv_reader *reader)
{
	const char *header = reader->header_text;
	size_t name = strspn(header, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				     "0123456789-_");
	size_t spaces = strspn(header + name, " ");
	if (name && spaces && !strncmp(header + name + spaces, ": ", 2))
		return "the file is a list laid out for the screen (PowerShell's Format-List, "
		       "or Get-ADUser's output sent to Out-File or '>'), not CSV: export with "
		       "Export-Csv instead (docs/exporting.md)";
	const char *first = reader->column_count ? reader->columns[0] : "";
	if (!strncasecmp(first, "CN=", 3) || !strncasecmp(first, "OU=", 3) ||
	    !strncasecmp(first, "UID=", 4))
		return "the first line is a DN, not a header row (dsquery writes DNs alone): "
		       "export with csvde or Export-Csv instead (docs/exporting.md)";
	if (reader->column_count != 1)
		return NULL;
	size_t words = 0;
	bool wide_gap = false;
	for (const char *p = header + strspn(header, " "); *p;) {
		words++;
		p += strcspn(p, " ");
		size_t gap = strspn(p, " ");
		wide_gap |= gap > 1 && p[gap];
		p += gap;
	}
	if (words >= 3 || (words == 2 && (wide_gap || header[0] == ' ')))
		return "the file is a table laid out for the screen (dsquery | dsget, or "
		       "PowerShell's Format-Table, Out-File or '>'), not CSV: export with csvde "
		       "or Export-Csv instead (docs/exporting.md)";
	return NULL;
}

/* The one cell of a row that has others, all empty: a title, not a header. */
static const char *title_row(const struct csv_reader *reader)
{
	const char *title = NULL;
	for (size_t i = 0; i < reader->column_count; i++) {
		if (!reader->columns[i][0])
			continue;
		if (title)
			return NULL;
		title = reader->columns[i];
	}
	return reader->column_count > 1 ? title : NULL;
}

/* Why the header may lack a column that is there: the usual causes. */
static const char *likely_cause(const struct csv_reader *reader, char *out, size_t size)
{
	const char *header = reader->header_text;
	size_t bad;
	if (strstr(header, "\xEF\xBF\xBD") || !imaddr_normalize_utf8_valid(header,
									strlen(header), &bad)) {
		snprintf(out, size, "the file was read as %s (%s), which may be wrong: give "
			 "--encoding", reader->decoder.encoding, reader->decoder.how);
		return out;
	}
	/*
	 * .NET's UTF-7 writes '#' and '"' in base64 too: a PowerShell 5.1
	 * export with -Encoding UTF7 is ASCII, and reads as UTF-8 without error.
	 */
	if (strstr(header, "+ACM-") || strstr(header, "+ACI")) {
		snprintf(out, size, "the file is UTF-7, as PowerShell 5.1's Export-Csv "
			 "-Encoding UTF7 writes it ('+ACI' is '\"'): give --encoding utf-7, or "
			 "export again with -Encoding UTF8");
		return out;
	}
	const char *title = title_row(reader);
	if (title) {
		snprintf(out, size, "the first row holds one cell ('%.60s') and empty ones, as "
			 "a title above a table in Excel: delete the rows above the header row "
			 "and save again", title);
		return out;
	}
	if (header[0] == '#') {
		snprintf(out, size, "the first line looks like a comment or a type line, "
			 "not a header");
		return out;
	}
	const char *layout = screen_layout(reader);
	if (layout) {
		snprintf(out, size, "%s", layout);
		return out;
	}
	char detected = imaddr_csv_detect_delimiter(header, strlen(header));
	if (detected != reader->delimiter) {
		snprintf(out, size, "the header splits on %s, not on %s: give --delimiter %s",
			 delimiter_name(detected), delimiter_name(reader->delimiter),
			 delimiter_name(detected));
		return out;
	}
	/* Get-ADUser's default properties: mail is not one of them. */
	if (reader->role_column[IMADDR_ROLE_USER_ID] >= 0 &&
	    column_of(reader, "UserPrincipalName") >= 0 && column_of(reader, "SID") >= 0 &&
	    column_of(reader, "ObjectGUID") >= 0) {
		snprintf(out, size, "Get-ADUser returns mail only when asked: export again "
			 "with -Properties mail (docs/exporting.md)");
		return out;
	}
	snprintf(out, size, "the column has another name: give it with --%s-attr",
		 reader->role_column[IMADDR_ROLE_USER_ID] < 0 ? "userid" : "uri");
	return out;
}

static void missing_column(struct csv_reader *reader, enum imaddr_role role)
{
	char names[256], cause[256];
	imaddr_mapping_describe(reader->request->mapping, role, names, sizeof(names));
	reader->status = imaddr_error_set(reader->err, IMADDR_ERR_INPUT,
		"%s:%llu: no column for the %s: looked for %s in the header, which reads "
		"'%s'%s (%zu column%s, delimiter %s, %s); likely cause: %s", reader->path,
		(unsigned long long)reader->row_line, imaddr_role_name(role), names,
		reader->header_text, strlen(reader->header_text) == HEADER_SHOWN ? "..." : "",
		reader->column_count, reader->column_count == 1 ? "" : "s",
		delimiter_name(reader->delimiter), reader->decoder.encoding,
		likely_cause(reader, cause, sizeof(cause)));
}

void imaddr_csv_read_header(struct csv_reader *reader)
{
	reader->column_count = reader->cell_count;
	reader->columns = imaddr_xcalloc(reader->column_count, sizeof(*reader->columns));
	reader->filter_names = imaddr_xcalloc(reader->column_count, sizeof(*reader->filter_names));
	for (size_t i = 0; i < reader->column_count; i++) {
		const struct cell *cell = &reader->cells[i];
		if (cell->too_long) {
			reader->status = imaddr_error_set(reader->err, IMADDR_ERR_INPUT,
				"%s:%llu: header column %zu is longer than %d bytes",
				reader->path, (unsigned long long)reader->row_line, i + 1,
				IMADDR_CSV_FIELD_MAX);
			return;
		}
		reader->columns[i] = imaddr_xstrndup(reader->row_data.data + cell->offset,
						     cell->len);
		trim_ascii(reader->columns[i]);
		/* Unified CM's exports name columns "USER ID": filtered as (USER-ID=...). */
		reader->filter_names[i] = imaddr_xstrdup(reader->columns[i]);
		for (char *space = reader->filter_names[i]; (space = strchr(space, ' ')); )
			*space = '-';
	}
	for (size_t i = 0; i < reader->column_count; i++) {
		if (!reader->columns[i][0])
			continue;
		int first = column_of(reader, reader->columns[i]);
		if (first != (int)i) {
			reader->status = imaddr_error_set(reader->err, IMADDR_ERR_INPUT,
				"%s:%llu: duplicate column '%s' (columns %d and %zu)",
				reader->path, (unsigned long long)reader->row_line,
				reader->columns[i], first + 1, i + 1);
			return;
		}
	}
	const struct imaddr_reader_request *request = reader->request;
	for (int role = 0; role < IMADDR_ROLE_COUNT; role++) {
		const char *name = imaddr_mapping_resolve(request->mapping, role, header_has, reader);
		reader->role_column[role] = column_of(reader, name);
		if (reader->role_column[role] < 0 && (request->required_roles & (1u << role))) {
			missing_column(reader, role);
			return;
		}
	}
	const char *dn_name = imaddr_mapping_resolve_dn(request->mapping, header_has, reader);
	reader->dn_column = column_of(reader, dn_name);
	reader->enabled_column = column_of(reader, "Enabled");
	reader->control_column = column_of(reader, "userAccountControl");
	reader->lds_disabled_column = column_of(reader, "msDS-UserAccountDisabled");
	reader->class_column = column_of(reader, "objectClass");
	if (reader->enabled_column >= 0)
		reader->disabled_rule = "Enabled is not False";
	else if (reader->control_column >= 0)
		reader->disabled_rule = "userAccountControl without bit 2 (account disabled)";
	else if (reader->lds_disabled_column >= 0)
		reader->disabled_rule = "msDS-UserAccountDisabled is not TRUE";
	reader->base.input.filter = reader->disabled_rule;
	mark_kept_columns(reader);
	check_selection_columns(reader);
	if (reader->status != IMADDR_OK)
		return;
	reader->base.input.dn_attribute = dn_name;
	/* BAT lets a Unified CM export list more devices than the header names. */
	reader->cucm_export = column_of(reader, "USER ID") >= 0;
	reader->header_line = reader->row_line;
	reader->header_done = true;
}

/* Cell `i` of the row, without a byte order mark a joined file left before it. */
static const char *cell_text(const struct csv_reader *reader, size_t i, size_t *len)
{
	const char *text = reader->row_data.data + reader->cells[i].offset;
	*len = reader->cells[i].len;
	if (*len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) {
		text += 3;
		*len -= 3;
	}
	return text;
}

/* Whether the row's cell in `column`, which is read, holds the column's name. */
static bool cell_names_column(const struct csv_reader *reader, size_t column)
{
	size_t len;
	const char *text = cell_text(reader, column, &len);
	return !reader->cells[column].too_long && len == strlen(reader->columns[column]) &&
	       !strncasecmp(text, reader->columns[column], len);
}

const char *imaddr_csv_joined_export_line(const struct csv_reader *reader)
{
	int user_id = reader->role_column[IMADDR_ROLE_USER_ID];
	/* Every row but a header fails at its user ID: the one cell always read. */
	if (reader->cell_count != reader->column_count || user_id < 0 ||
	    !cell_names_column(reader, (size_t)user_id))
		return NULL;
	for (size_t i = 0; i < reader->cell_count; i++) {
		if (imaddr_csv_column_kept(reader, i) && !cell_names_column(reader, i))
			return NULL;
	}
	return "it repeats the header row: two exports joined into one file?";
}

static bool cell_is(const struct csv_reader *reader, int column, const char *word)
{
	size_t len;
	if (column < 0 || (size_t)column >= reader->cell_count)
		return false;
	const char *text = cell_text(reader, (size_t)column, &len);
	return len == strlen(word) && !strncasecmp(text, word, len);
}

/*
 * userAccountControl's ACCOUNTDISABLE bit: csvde writes it in decimal, a
 * script may in hexadecimal (0x202); a leading 0 is no octal here.
 */
static bool control_disables(const struct csv_reader *reader)
{
	size_t len;
	char number[24];
	if (reader->control_column < 0 || (size_t)reader->control_column >= reader->cell_count)
		return false;
	const char *text = cell_text(reader, (size_t)reader->control_column, &len);
	while (len && (*text == ' ' || *text == '\t')) {
		text++;
		len--;
	}
	while (len && (text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	if (!len || len >= sizeof(number))
		return false;
	memcpy(number, text, len);
	number[len] = '\0';
	bool hex = len > 2 && number[0] == '0' && (number[1] == 'x' || number[1] == 'X');
	char *end;
	errno = 0;
	long long flags = strtoll(hex ? number + 2 : number, &end, hex ? 16 : 10);
	return !*end && !errno && (flags & 2);
}

/* A disabled account, which Unified CM's LDAP sync leaves out (docs/ldap.md). */
static bool account_disabled(const struct csv_reader *reader)
{
	if (reader->enabled_column >= 0)
		return cell_is(reader, reader->enabled_column, "False");
	if (reader->control_column >= 0)
		return control_disables(reader);
	return cell_is(reader, reader->lds_disabled_column, "TRUE");
}

static void add_entry_value(struct csv_reader *reader, size_t *count, const char *type,
			    const char *value, size_t len)
{
	if (*count == reader->entry_value_cap) {
		reader->entry_value_cap = reader->entry_value_cap ? reader->entry_value_cap * 2 : 16;
		reader->entry_values = imaddr_xrealloc(reader->entry_values,
			reader->entry_value_cap * sizeof(*reader->entry_values));
	}
	struct imaddr_ldif_value *entry_value = &reader->entry_values[(*count)++];
	entry_value->type.bv_val = (char *)type;
	entry_value->type.bv_len = strlen(type);
	entry_value->value.bv_val = (char *)value;
	entry_value->value.bv_len = len;
}

/*
 * The row as an entry for the filter: its read cells that are not empty
 * (LDAP has no empty values), under their columns' names; csvde's
 * "top;person;organizationalPerson;user" as one value per class.
 */
static size_t row_as_entry(struct csv_reader *reader)
{
	size_t count = 0;
	for (size_t i = 0; i < reader->cell_count; i++) {
		const struct cell *cell = &reader->cells[i];
		if (!imaddr_csv_column_kept(reader, i) || cell->too_long || !cell->len)
			continue;
		const char *text = reader->row_data.data + cell->offset;
		if ((int)i != reader->class_column) {
			add_entry_value(reader, &count, reader->filter_names[i], text, cell->len);
			continue;
		}
		for (const char *end = text + cell->len; text < end;) {
			const char *semicolon = memchr(text, ';', (size_t)(end - text));
			size_t len = semicolon ? (size_t)(semicolon - text) : (size_t)(end - text);
			if (len)
				add_entry_value(reader, &count, reader->filter_names[i], text, len);
			text += len + 1;
		}
	}
	return count;
}

static const char *disabled_column_name(const struct csv_reader *reader)
{
	int column = reader->enabled_column >= 0 ? reader->enabled_column
		   : reader->control_column >= 0 ? reader->control_column
		   : reader->lds_disabled_column;
	return reader->columns[column];
}

/*
 * The selection for the summary: the filter, and the disabled rule beside
 * it unless the filter already tests its column (AD's userAccountControl).
 */
static void describe_selection(struct csv_reader *reader)
{
	struct imaddr_input_description *input = &reader->base.input;
	imaddr_entry_select_describe(&reader->select, input);
	if (!reader->disabled_rule)
		return;
	if (!input->filter) {
		input->filter = reader->disabled_rule;
		return;
	}
	/* The filter is final once ready: its text is made on the first row it decides. */
	if (!reader->filter_text) {
		struct imaddr_buf text;
		imaddr_buf_init(&text, 0);
		if (strcasestr(input->filter, disabled_column_name(reader)))
			imaddr_buf_append_str(&text, input->filter);
		else
			imaddr_buf_appendf(&text, "%s and %s", input->filter, reader->disabled_rule);
		reader->filter_text = imaddr_buf_detach(&text);
	}
	input->filter = reader->filter_text;
}

bool imaddr_csv_row_selected(struct csv_reader *reader)
{
	struct imaddr_input_description *input = &reader->base.input;
	if (reader->class_column < 0 && !reader->select.filter_given) {
		input->entries += input->filter != NULL;
		bool disabled = account_disabled(reader);
		input->entries_skipped += disabled;
		return !disabled;
	}
	bool selected;
	size_t count = row_as_entry(reader);
	reader->status = imaddr_entry_select_entry(&reader->select, reader->entry_values, count,
						   &selected, reader->err);
	if (selected && account_disabled(reader)) {
		imaddr_entry_select_skip(&reader->select);
		selected = false;
	}
	describe_selection(reader);
	return selected && reader->status == IMADDR_OK;
}
