/*
 * Runs every line of Unicode's IdnaTestV2.txt (UTS #46 15.0) through
 * imaddr_normalize_domain() and checks it against the toAsciiN columns: the
 * status decides error or not, and an error-free line must give exactly the
 * toAsciiN string. The file is read from $IMADDR_TEST_DATA, else from
 * tests/data under the working directory (make runs tests from the root).
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icu.h"
#include "normalize.h"

#define COLUMNS 7

static void append_utf8(struct imaddr_buf *out, unsigned long c)
{
	char bytes[4];
	size_t len;

	if (c < 0x80) {
		bytes[0] = (char)c;
		len = 1;
	} else if (c < 0x800) {
		bytes[0] = (char)(0xC0 | (c >> 6));
		bytes[1] = (char)(0x80 | (c & 0x3F));
		len = 2;
	} else if (c < 0x10000) {
		bytes[0] = (char)(0xE0 | (c >> 12));
		bytes[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		bytes[2] = (char)(0x80 | (c & 0x3F));
		len = 3;
	} else {
		bytes[0] = (char)(0xF0 | (c >> 18));
		bytes[1] = (char)(0x80 | ((c >> 12) & 0x3F));
		bytes[2] = (char)(0x80 | ((c >> 6) & 0x3F));
		bytes[3] = (char)(0x80 | (c & 0x3F));
		len = 4;
	}
	imaddr_buf_append(out, bytes, len);
}

/* Reads exactly `digits` hex digits at s; false when they are not there. */
static bool hex_at(const char *s, size_t len, size_t digits, unsigned long *value)
{
	*value = 0;
	if (len < digits)
		return false;
	for (size_t i = 0; i < digits; i++) {
		char c = s[i];
		int nibble = c >= '0' && c <= '9' ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (nibble < 0)
			return false;
		*value = *value * 16 + (unsigned long)nibble;
	}
	return true;
}

/*
 * The length of the escape (\uXXXX or \x{X...}) at s, 0 when there is none;
 * *c is the code point. A \uD8xx\uDCxx pair is one code point: the file
 * has none today, but decoding it right is cheap.
 */
static size_t escape_at(const char *s, size_t len, unsigned long *c)
{
	unsigned long low;
	size_t digits;

	if (len < 2 || s[0] != '\\')
		return 0;
	if (s[1] == 'u' && hex_at(s + 2, len - 2, 4, c)) {
		if (*c >= 0xD800 && *c <= 0xDBFF && len >= 12 && s[6] == '\\' &&
		    s[7] == 'u' && hex_at(s + 8, len - 8, 4, &low) && low >= 0xDC00 &&
		    low <= 0xDFFF) {
			*c = 0x10000 + ((*c - 0xD800) << 10) + (low - 0xDC00);
			return 12;
		}
		return 6;
	}
	if (s[1] != 'x' || len < 3 || s[2] != '{')
		return 0;
	for (digits = 1; digits <= 6; digits++)
		if (3 + digits < len && s[3 + digits] == '}' && hex_at(s + 3, len - 3, digits, c))
			return 4 + digits;
	return 0;
}

static void unescape(const char *s, size_t len, struct imaddr_buf *out)
{
	imaddr_buf_reset(out);
	for (size_t i = 0; i < len;) {
		unsigned long c;
		size_t escape = escape_at(s + i, len - i, &c);
		if (escape) {
			append_utf8(out, c);
			i += escape;
		} else {
			imaddr_buf_append_char(out, s[i++]);
		}
	}
}

/* Splits a data line at ';' into trimmed columns; false when not 7 of them. */
static bool split_columns(char *line, const char *columns[COLUMNS], size_t lengths[COLUMNS])
{
	char *comment = strchr(line, '#');
	char *field = line;

	if (comment)
		*comment = '\0';
	for (int i = 0; i < COLUMNS; i++) {
		char *end = strchr(field, ';');
		if (!end && i < COLUMNS - 1)
			return false;
		if (!end)
			end = field + strlen(field);
		char *last = end;
		while (*field == ' ' || *field == '\t')
			field++;
		while (last > field && (last[-1] == ' ' || last[-1] == '\t' ||
					last[-1] == '\n' || last[-1] == '\r'))
			last--;
		columns[i] = field;
		lengths[i] = (size_t)(last - field);
		field = *end ? end + 1 : end;
	}
	return true;
}

static FILE *open_data(const char *name, char *path, size_t size)
{
	const char *dir = getenv("IMADDR_TEST_DATA");

	snprintf(path, size, "%s/%s", dir && *dir ? dir : "tests/data", name);
	return fopen(path, "r");
}

Test(normalize, agrees_with_every_line_of_idna_test_v2)
{
	char path[4096];
	FILE *file = open_data("IdnaTestV2.txt", path, sizeof(path));
	char *line = NULL;
	size_t line_cap = 0;
	unsigned long line_number = 0, tested = 0, failures = 0;
	struct imaddr_buf source, expected, ascii, unicode, why;

	cr_assert_not_null(file, "cannot open '%s' (set IMADDR_TEST_DATA)", path);
	cr_assert_eq(imaddr_icu_init(NULL), IMADDR_OK);
	imaddr_buf_init(&source, 0);
	imaddr_buf_init(&expected, 0);
	imaddr_buf_init(&ascii, 0);
	imaddr_buf_init(&unicode, 0);
	imaddr_buf_init(&why, 0);

	while (getline(&line, &line_cap, file) >= 0) {
		const char *columns[COLUMNS];
		size_t lengths[COLUMNS];

		line_number++;
		if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0')
			continue;
		cr_assert(split_columns(line, columns, lengths),
			  "'%s' line %lu: not 7 columns", path, line_number);

		/* Blank columns inherit: toAsciiN from toUnicode from the source,
		   toAsciiNStatus from toUnicodeStatus. */
		int value = lengths[3] ? 3 : lengths[1] ? 1 : 0;
		int status = lengths[4] ? 4 : 2;
		bool expect_error = lengths[status] > 0 &&
			!(lengths[status] == 2 && !memcmp(columns[status], "[]", 2));

		unescape(columns[0], lengths[0], &source);
		unescape(columns[value], lengths[value], &expected);
		uint32_t errors = imaddr_normalize_domain(source.data, source.len, &ascii,
							  &unicode);
		imaddr_normalize_describe_domain_errors(errors, &why);
		tested++;

		bool ok = expect_error ? errors != 0
			: errors == 0 && ascii.len == expected.len &&
			  !memcmp(ascii.data, expected.data, ascii.len);
		if (!ok)
			failures++;
		cr_expect(ok, "line %lu: source '%s': expected %.*s '%s', got '%s' (%s)",
			  line_number, source.data,
			  expect_error ? (int)lengths[status] : 2,
			  expect_error ? columns[status] : "[]", expected.data, ascii.data,
			  errors ? why.data : "no error");
	}
	free(line);
	fclose(file);
	imaddr_buf_release(&source);
	imaddr_buf_release(&expected);
	imaddr_buf_release(&ascii);
	imaddr_buf_release(&unicode);
	imaddr_buf_release(&why);

	cr_log_info("IdnaTestV2.txt: %lu lines tested, %lu failed", tested, failures);
	cr_assert_gt(tested, 6000, "only %lu lines tested", tested);
	cr_assert_eq(failures, 0, "%lu of %lu lines failed", failures, tested);
}
