#include "waivers.h"

#include <csv.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "buffer.h"
#include "error.h"
#include "normalize.h"

/* The columns of the header, in the order the documentation lists them. */
enum column {
	COLUMN_CODE,
	COLUMN_USER_ID,
	COLUMN_VALUE,
	COLUMN_REASON,
	COLUMN_EXPIRES,
	COLUMN_COUNT
};

static const char *const column_names[COLUMN_COUNT] = {
	"code", "user_id", "value", "reason", "expires",
};

#define COLUMNS_TEXT "code, user_id, value, reason and expires"

/* Codes a waiver may not name: the waivers file's own, and a plan, not a problem. */
static bool waivable(enum imaddr_code code)
{
	return code != IMADDR_CODE_WAIVER_EXPIRED && code != IMADDR_CODE_WAIVER_UNUSED &&
	       code != IMADDR_CODE_IM_ADDRESS_CHANGES;
}

void imaddr_waivers_init(struct imaddr_waivers *waivers)
{
	memset(waivers, 0, sizeof(*waivers));
	imaddr_strmap_init(&waivers->index);
	imaddr_buf_init(&waivers->user_key, 0);
	imaddr_buf_init(&waivers->value_key, 0);
	imaddr_buf_init(&waivers->probe, 0);
}

static void waiver_release(struct imaddr_waiver *waiver)
{
	free(waiver->user_id);
	free(waiver->value);
	free(waiver->user_key);
	free(waiver->value_key);
	free(waiver->reason);
	free(waiver->expires);
	free(waiver->source);
	free(waiver->subject);
}

void imaddr_waivers_release(struct imaddr_waivers *waivers)
{
	for (size_t i = 0; i < waivers->count; i++)
		waiver_release(&waivers->items[i]);
	free(waivers->items);
	free(waivers->path);
	imaddr_strmap_release(&waivers->index);
	imaddr_buf_release(&waivers->user_key);
	imaddr_buf_release(&waivers->value_key);
	imaddr_buf_release(&waivers->probe);
	imaddr_waivers_init(waivers);
}

/* ------------------------------------------------------------------------ */
/* Keys. */

/*
 * The comparison key of a user ID or value, as the duplicate finder keys
 * user IDs: white space around it trimmed, then NFKC_Casefold, so that case,
 * width and Unicode form do not matter. False for text that is not UTF-8 or
 * is blank: it matches nothing.
 */
static bool key_of(const char *text, struct imaddr_buf *key)
{
	size_t len = strlen(text), start, bad;
	imaddr_buf_reset(key);
	if (!imaddr_normalize_utf8_valid(text, len, &bad))
		return false;
	len = imaddr_normalize_trim(text, len, &start);
	if (!len)
		return false;
	imaddr_normalize_key(text + start, len, key);
	return key->len > 0;
}

/* The index's key: the code (plus 1, never NUL), 'u' or 'v', the comparison key. */
static const char *probe(struct imaddr_waivers *waivers, enum imaddr_code code, char kind,
			 const struct imaddr_buf *key)
{
	struct imaddr_buf *out = &waivers->probe;
	imaddr_buf_reset(out);
	imaddr_buf_append_char(out, (char)(code + 1));
	imaddr_buf_append_char(out, kind);
	imaddr_buf_append(out, key->data, key->len);
	return out->data;
}

static size_t first_under(const struct imaddr_waivers *waivers, const char *index_key)
{
	const struct imaddr_strmap_entry *entry = imaddr_strmap_find(&waivers->index, index_key);
	return entry ? (size_t)entry->count : 0;
}

/* ------------------------------------------------------------------------ */
/* Dates. */

static bool leap_year(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

bool imaddr_waivers_date_valid(const char *text)
{
	static const int days_in_month[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	for (int i = 0; i < 10; i++) {
		bool dash = i == 4 || i == 7;
		if (dash ? text[i] != '-' : text[i] < '0' || text[i] > '9')
			return false;
	}
	if (text[10])
		return false;
	int year = atoi(text), month = atoi(text + 5), day = atoi(text + 8);
	if (month < 1 || month > 12 || day < 1)
		return false;
	int days = days_in_month[month - 1] + (month == 2 && leap_year(year));
	return day <= days;
}

/* ------------------------------------------------------------------------ */
/* The file. */

/* What the parser's callbacks share while libcsv reads the file. */
struct parse {
	struct imaddr_waivers *waivers;
	const char *name;
	struct imaddr_error *err;
	enum imaddr_status status;
	uint64_t line;                 /* the physical line being fed */
	uint64_t row_line;             /* the line the row being read started on */
	bool between_rows;
	bool header_done;
	int column_of[COLUMN_COUNT];   /* the header's column of each, or -1 */
	size_t column_count;
	/* The row being read, each field NUL-terminated in `fields`. */
	struct imaddr_buf fields;
	size_t offsets[COLUMN_COUNT];
	size_t lengths[COLUMN_COUNT];
	size_t field_count;            /* fields of the row, kept or not */
	bool any_text;                 /* a field of the row is not empty */
	bool field_too_long;
	struct imaddr_buf key;
};

static enum imaddr_status fail(struct parse *parse, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

/* "FILE:LINE: ..." once: the first error stops the parse. */
static enum imaddr_status fail(struct parse *parse, const char *format, ...)
{
	char message[IMADDR_ERROR_MAX];
	va_list args;
	if (parse->status != IMADDR_OK)
		return parse->status;
	va_start(args, format);
	vsnprintf(message, sizeof(message), format, args);
	va_end(args);
	parse->status = imaddr_error_set(parse->err, IMADDR_ERR_INPUT, "%s:%llu: %s", parse->name,
					 (unsigned long long)parse->row_line, message);
	return parse->status;
}

static const char *field(const struct parse *parse, enum column column)
{
	int index = parse->column_of[column];
	return index < 0 ? "" : parse->fields.data + parse->offsets[index];
}

static void on_field(void *data, size_t len, void *context)
{
	struct parse *parse = context;
	if (parse->status != IMADDR_OK)
		return;
	parse->any_text |= len > 0;
	/* More fields than a header can have: the count is all a message needs. */
	if (parse->field_count >= COLUMN_COUNT) {
		parse->field_count++;
		return;
	}
	if (len > IMADDR_WAIVERS_FIELD_MAX) {
		parse->field_too_long = true;
		len = 0;
	}
	parse->offsets[parse->field_count] = parse->fields.len;
	parse->lengths[parse->field_count] = len;
	imaddr_buf_append(&parse->fields, data ? data : "", len);
	imaddr_buf_append_char(&parse->fields, '\0');
	parse->field_count++;
}

static void read_header(struct parse *parse)
{
	for (int column = 0; column < COLUMN_COUNT; column++)
		parse->column_of[column] = -1;
	if (parse->field_count > COLUMN_COUNT) {
		fail(parse, "the header has more than %d columns: a waivers file has the columns "
		     COLUMNS_TEXT, COLUMN_COUNT);
		return;
	}
	for (size_t i = 0; i < parse->field_count; i++) {
		const char *name = parse->fields.data + parse->offsets[i];
		int column = 0;
		while (column < COLUMN_COUNT && strcasecmp(name, column_names[column]))
			column++;
		if (column == COLUMN_COUNT) {
			fail(parse, "unknown column '%s' in the header: a waivers file has the "
			     "columns " COLUMNS_TEXT, name);
			return;
		}
		if (parse->column_of[column] >= 0) {
			fail(parse, "the header has the column '%s' twice", column_names[column]);
			return;
		}
		parse->column_of[column] = (int)i;
	}
	if (parse->column_of[COLUMN_CODE] < 0 || parse->column_of[COLUMN_REASON] < 0 ||
	    (parse->column_of[COLUMN_USER_ID] < 0 && parse->column_of[COLUMN_VALUE] < 0)) {
		fail(parse, "the header needs the columns code, reason and user_id or value "
		     "(expires is optional): a waivers file has the columns " COLUMNS_TEXT);
		return;
	}
	parse->column_count = parse->field_count;
	parse->header_done = true;
}

/* A user ID or value: the text as written and its key, or neither when blank. */
static void read_subject(struct parse *parse, enum column column, char **text, char **key)
{
	const char *written = field(parse, column);
	*text = *key = NULL;
	if (!key_of(written, &parse->key))
		return;
	*text = imaddr_xstrdup(written);
	*key = imaddr_xstrndup(parse->key.data, parse->key.len);
}

/* Indexes waiver `index` (its keys set), refusing a second copy of one. */
static bool index_waiver(struct parse *parse, size_t index)
{
	struct imaddr_waivers *waivers = parse->waivers;
	struct imaddr_waiver *waiver = &waivers->items[index];
	const char *key = waiver->user_key ? waiver->user_key : waiver->value_key;
	char kind = waiver->user_key ? 'u' : 'v';

	imaddr_buf_reset(&parse->key);
	imaddr_buf_append_str(&parse->key, key);
	struct imaddr_strmap_entry *entry =
		imaddr_strmap_get(&waivers->index, probe(waivers, waiver->code, kind, &parse->key));
	for (size_t i = (size_t)entry->count; i; i = waivers->items[i - 1].next) {
		const struct imaddr_waiver *other = &waivers->items[i - 1];
		if (imaddr_same_text(other->user_key, waiver->user_key) &&
		    imaddr_same_text(other->value_key, waiver->value_key)) {
			fail(parse, "the same waiver as line %llu (the same code, user_id and value)",
			     (unsigned long long)other->line);
			return false;
		}
	}
	waiver->next = (size_t)entry->count;
	entry->count = index + 1;
	if (waiver->user_key)
		waivers->user_codes |= (uint64_t)1 << waiver->code;
	else
		waivers->value_codes |= (uint64_t)1 << waiver->code;
	return true;
}

static char *describe_subject(const struct imaddr_waiver *waiver)
{
	struct imaddr_buf text;
	imaddr_buf_init(&text, 0);
	imaddr_buf_append_str(&text, imaddr_code_name(waiver->code));
	if (waiver->user_id)
		imaddr_buf_appendf(&text, ", user ID '%s'", waiver->user_id);
	if (waiver->value)
		imaddr_buf_appendf(&text, ", value '%s'", waiver->value);
	return imaddr_buf_detach(&text);
}

static void read_waiver(struct parse *parse)
{
	struct imaddr_waivers *waivers = parse->waivers;
	struct imaddr_waiver waiver = { .line = parse->row_line };
	enum imaddr_code code;
	size_t bad;

	if (parse->field_count != parse->column_count) {
		fail(parse, "%zu field%s where the header has %zu columns", parse->field_count,
		     parse->field_count == 1 ? "" : "s", parse->column_count);
		return;
	}
	for (int column = 0; column < COLUMN_COUNT; column++) {
		const char *text = field(parse, column);
		if (!imaddr_normalize_utf8_valid(text, strlen(text), &bad)) {
			fail(parse, "%s is not valid UTF-8 (byte %zu): save the file as UTF-8",
			     column_names[column], bad + 1);
			return;
		}
	}
	const char *code_name = field(parse, COLUMN_CODE);
	if (!*code_name) {
		fail(parse, "code is empty: a waiver names the finding code it waives");
		return;
	}
	if (!strcmp(code_name, "*")) {
		fail(parse, "code '*': a waiver waives the findings of one code, named as in "
		     "docs/findings.md");
		return;
	}
	if (!imaddr_code_parse(code_name, &code)) {
		fail(parse, "code '%s' is not a finding code (docs/findings.md)", code_name);
		return;
	}
	if (!waivable(code)) {
		fail(parse, "code '%s' cannot be waived", code_name);
		return;
	}
	waiver.code = code;
	const char *reason = field(parse, COLUMN_REASON);
	size_t start;
	if (!imaddr_normalize_trim(reason, strlen(reason), &start)) {
		fail(parse, "reason is empty: say why the finding is accepted");
		return;
	}
	const char *expires = field(parse, COLUMN_EXPIRES);
	if (*expires && !imaddr_waivers_date_valid(expires)) {
		fail(parse, "expires '%s' is not a date: write it YYYY-MM-DD", expires);
		return;
	}
	read_subject(parse, COLUMN_USER_ID, &waiver.user_id, &waiver.user_key);
	read_subject(parse, COLUMN_VALUE, &waiver.value, &waiver.value_key);
	if (!waiver.user_key && !waiver.value_key) {
		fail(parse, "user_id and value are both empty: a waiver names the user ID or the "
		     "value whose finding it waives");
		return;
	}
	waiver.reason = imaddr_xstrdup(reason);
	waiver.expires = *expires ? imaddr_xstrdup(expires) : NULL;
	struct imaddr_buf source;
	imaddr_buf_init(&source, 0);
	imaddr_buf_appendf(&source, "%s:%llu", parse->name, (unsigned long long)parse->row_line);
	waiver.source = imaddr_buf_detach(&source);
	waiver.subject = describe_subject(&waiver);

	waivers->items = imaddr_xrealloc(waivers->items,
					 (waivers->count + 1) * sizeof(*waivers->items));
	waivers->items[waivers->count++] = waiver;
	index_waiver(parse, waivers->count - 1);
}

static void on_row(int terminator, void *context)
{
	struct parse *parse = context;
	(void)terminator;
	parse->between_rows = true;
	if (parse->status == IMADDR_OK && parse->field_too_long)
		fail(parse, "a field is longer than %d bytes", IMADDR_WAIVERS_FIELD_MAX);
	/* A row of empty fields (",,,," from a spreadsheet) is a blank line. */
	else if (parse->status == IMADDR_OK && parse->any_text)
		parse->header_done ? read_waiver(parse) : read_header(parse);
	imaddr_buf_reset(&parse->fields);
	parse->field_count = 0;
	parse->any_text = false;
	parse->field_too_long = false;
}

static bool is_blank_line(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (line[i] != '\r' && line[i] != '\n')
			return false;
	}
	return true;
}

/*
 * libcsv's buffer grows with a field: past this it fails (CSV_ETOOBIG), so
 * that memory stays bounded; a field up to it gets on_field's message.
 */
#define PARSER_MAX (1024 * 1024)

static void *capped_realloc(void *pointer, size_t size)
{
	return size > PARSER_MAX ? NULL : realloc(pointer, size);
}

static void parse_bytes(struct parse *parse, const char *p, const char *end)
{
	struct csv_parser parser;
	bool parsed = true;
	if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI) != 0)
		imaddr_fatal("out of memory");
	csv_set_realloc_func(&parser, capped_realloc);
	parse->line = 1;
	parse->between_rows = true;
	/* Line by line, so that a row and an error know their line. */
	while (p < end && parse->status == IMADDR_OK) {
		const char *newline = memchr(p, '\n', (size_t)(end - p));
		size_t len = newline ? (size_t)(newline + 1 - p) : (size_t)(end - p);
		/* A comment: why a waiver is there, who agreed to it, when. */
		if (parse->between_rows && *p == '#') {
			p += len;
			parse->line++;
			continue;
		}
		if (parse->between_rows && !is_blank_line(p, len)) {
			parse->row_line = parse->line;
			parse->between_rows = false;
		}
		if (csv_parse(&parser, p, len, on_field, on_row, parse) != len) {
			parsed = false;
			break;
		}
		p += len;
		parse->line++;
	}
	bool ended = true;
	if (parsed && parse->status == IMADDR_OK)
		parsed = ended = csv_fini(&parser, on_field, on_row, parse) == 0;
	if (!parsed && csv_error(&parser) == CSV_ETOOBIG)
		fail(parse, "a field is longer than %d bytes", IMADDR_WAIVERS_FIELD_MAX);
	else if (!ended)
		fail(parse, "unbalanced quote: the quoted field that starts here never ends");
	else if (!parsed)
		fail(parse, "not valid CSV: a quote inside an unquoted field, or text after a "
		     "closing quote");
	csv_free(&parser);
}

enum imaddr_status imaddr_waivers_parse(struct imaddr_waivers *waivers, const char *name,
					const char *bytes, size_t len, struct imaddr_error *err)
{
	struct parse parse = { .waivers = waivers, .name = name, .err = err, .row_line = 1 };
	const char *end = bytes + len;

	imaddr_buf_init(&parse.fields, 0);
	imaddr_buf_init(&parse.key, 0);
	free(waivers->path);
	waivers->path = imaddr_xstrdup(name);
	if (len >= 2 && ((bytes[0] == '\xff' && bytes[1] == '\xfe') ||
			 (bytes[0] == '\xfe' && bytes[1] == '\xff')))
		fail(&parse, "the file is UTF-16 (byte order mark): save it as UTF-8");
	else if (len >= 3 && !memcmp(bytes, "\xef\xbb\xbf", 3))
		bytes += 3;
	if (parse.status == IMADDR_OK)
		parse_bytes(&parse, bytes, end);
	if (parse.status == IMADDR_OK && !parse.header_done)
		parse.status = imaddr_error_set(err, IMADDR_ERR_INPUT,
			"%s: no header: a waivers file starts with the line "
			"'code,user_id,value,reason,expires'", name);
	imaddr_buf_release(&parse.fields);
	imaddr_buf_release(&parse.key);
	if (parse.status != IMADDR_OK)
		imaddr_waivers_release(waivers);
	return parse.status;
}

enum imaddr_status imaddr_waivers_load(struct imaddr_waivers *waivers, const char *path,
				       struct imaddr_error *err)
{
	struct imaddr_buf bytes;
	char chunk[65536];
	struct stat st;
	enum imaddr_status status = IMADDR_OK;
	FILE *file = fopen(path, "rb");

	if (!file)
		return imaddr_error_set(err, IMADDR_ERR_INPUT, "cannot open waivers file '%s': %s",
					path, strerror(errno));
	if (fstat(fileno(file), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(file);
		return imaddr_error_set(err, IMADDR_ERR_INPUT,
					"cannot read waivers file '%s': it is a directory", path);
	}
	imaddr_buf_init(&bytes, IMADDR_WAIVERS_FILE_MAX);
	size_t got;
	while (status == IMADDR_OK && (got = fread(chunk, 1, sizeof(chunk), file)) > 0) {
		if (!imaddr_buf_append(&bytes, chunk, got))
			status = imaddr_error_set(err, IMADDR_ERR_INPUT,
						  "waivers file '%s' is larger than %d MiB", path,
						  IMADDR_WAIVERS_FILE_MAX / (1024 * 1024));
	}
	if (status == IMADDR_OK && ferror(file))
		status = imaddr_error_set(err, IMADDR_ERR_INPUT, "cannot read waivers file '%s': %s",
					  path, strerror(errno));
	fclose(file);
	if (status == IMADDR_OK)
		status = imaddr_waivers_parse(waivers, path, bytes.data, bytes.len, err);
	imaddr_buf_release(&bytes);
	return status;
}

/* ------------------------------------------------------------------------ */
/* The run. */

void imaddr_waivers_start(struct imaddr_waivers *waivers, const char *today)
{
	for (size_t i = 0; i < waivers->count; i++) {
		struct imaddr_waiver *waiver = &waivers->items[i];
		/* ISO dates compare as text. */
		waiver->expired = waiver->expires && strcmp(waiver->expires, today) < 0;
		waiver->matched = 0;
	}
}

/* User ID and value before user ID alone before value alone. */
static int specificity(const struct imaddr_waiver *waiver)
{
	return (waiver->user_key ? 2 : 0) + (waiver->value_key ? 1 : 0);
}

static void consider(struct imaddr_waiver *waiver, const struct imaddr_waiver **best)
{
	waiver->matched++;
	if (!waiver->expired && (!*best || specificity(waiver) > specificity(*best)))
		*best = waiver;
}

const struct imaddr_waiver *imaddr_waivers_match(struct imaddr_waivers *waivers,
						 const struct imaddr_finding *finding)
{
	uint64_t bit = (uint64_t)1 << finding->code;
	const struct imaddr_waiver *best = NULL;
	bool has_value_key = false;

	if (!((waivers->user_codes | waivers->value_codes) & bit))
		return NULL;
	if (finding->value && key_of(finding->value, &waivers->value_key))
		has_value_key = true;
	if ((waivers->user_codes & bit) && finding->user_id &&
	    key_of(finding->user_id, &waivers->user_key)) {
		size_t i = first_under(waivers, probe(waivers, finding->code, 'u',
						       &waivers->user_key));
		for (; i; i = waivers->items[i - 1].next) {
			struct imaddr_waiver *waiver = &waivers->items[i - 1];
			if (waiver->value_key &&
			    (!has_value_key || strcmp(waiver->value_key, waivers->value_key.data)))
				continue;
			consider(waiver, &best);
		}
	}
	if ((waivers->value_codes & bit) && has_value_key) {
		size_t i = first_under(waivers, probe(waivers, finding->code, 'v',
						       &waivers->value_key));
		for (; i; i = waivers->items[i - 1].next)
			consider(&waivers->items[i - 1], &best);
	}
	return best;
}

bool imaddr_waivers_finding(const struct imaddr_waivers *waivers, size_t index,
			    struct imaddr_finding *finding, struct imaddr_buf *message)
{
	const struct imaddr_waiver *waiver = &waivers->items[index];
	enum imaddr_code code;

	imaddr_buf_reset(message);
	imaddr_buf_appendf(message, "the waiver on line %llu of '%s' (%s) ",
			   (unsigned long long)waiver->line, waivers->path, waiver->subject);
	if (waiver->expired) {
		code = IMADDR_CODE_WAIVER_EXPIRED;
		imaddr_buf_appendf(message, "expired on %s: ", waiver->expires);
		if (waiver->matched)
			imaddr_buf_appendf(message, "the %llu finding%s it matches count%s again",
					   (unsigned long long)waiver->matched,
					   waiver->matched == 1 ? "" : "s",
					   waiver->matched == 1 ? "s" : "");
		else
			imaddr_buf_append_str(message, "it matches no finding");
	} else if (!waiver->matched) {
		code = IMADDR_CODE_WAIVER_UNUSED;
		imaddr_buf_append_str(message, "matched no finding: the problem it accepted is "
				      "gone, or its code, user ID or value is wrong");
	} else {
		return false;
	}
	memset(finding, 0, sizeof(*finding));
	finding->code = code;
	finding->severity = imaddr_code_severity(code);
	finding->line = waiver->line;
	/*
	 * The file's name without its directory: the finding stays the same
	 * one, not new and resolved, when the file is named by another path.
	 */
	const char *slash = strrchr(waivers->path, '/');
	finding->field = slash ? slash + 1 : waivers->path;
	finding->value = waiver->subject;
	finding->message = message->data;
	return true;
}
