/* The worklist's CSV form: cells a spreadsheet opens as text, in UTF-8. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worklist_writer.h"

/* The CSV line the writer makes of a row whose user ID cell is `user_id`. */
static char *csv_line_of(const char *user_id)
{
	char *text = NULL;
	size_t size = 0;
	FILE *stream = open_memstream(&text, &size);
	cr_assert_not_null(stream);
	struct imaddr_worklist_writer writer;
	struct imaddr_error err = { "" };
	cr_assert_eq(imaddr_worklist_writer_begin(&writer, "w.csv", false, stream, NULL, &err),
		     IMADDR_OK, "%s", err.message);
	struct imaddr_worklist_row row = { .line = 2 };
	row.text[IMADDR_WORKLIST_USER_ID] = user_id;
	row.text[IMADDR_WORKLIST_CODE] = "userid-invalid";
	imaddr_worklist_writer_row(&writer, &row);
	cr_assert_eq(imaddr_worklist_writer_end(&writer, &err), IMADDR_OK, "%s", err.message);
	imaddr_worklist_writer_release(&writer);
	fclose(stream);
	/* The row is the last line; the header and byte order mark come first. */
	char *end = text + strlen(text) - 2;
	cr_assert_str_eq(end, "\r\n");
	*end = '\0';
	char *last = strrchr(text, '\n');
	char *line = strdup(last ? last + 1 : text);
	free(text);
	return line;
}

static void expect_line(const char *user_id, const char *expected)
{
	char *line = csv_line_of(user_id);
	cr_expect_str_eq(line, expected, "user ID %s", user_id);
	free(line);
}

/* OWASP's CSV injection list: the first character alone counts. */
Test(worklist_writer, cells_a_spreadsheet_would_run_start_with_a_quote)
{
	expect_line("=cmd|calc", ",2,'=cmd|calc,,,,,userid-invalid,,,,");
	expect_line("+1", ",2,'+1,,,,,userid-invalid,,,,");
	expect_line("-x", ",2,'-x,,,,,userid-invalid,,,,");
	expect_line("@sum", ",2,'@sum,,,,,userid-invalid,,,,");
	expect_line("\tatab", ",2,'\tatab,,,,,userid-invalid,,,,");
	expect_line("\rcr", ",2,\"'\rcr\",,,,,userid-invalid,,,,");
	expect_line("mary-ann", ",2,mary-ann,,,,,userid-invalid,,,,");
}

/* An LDIF's base64 value may hold any bytes; the file stays UTF-8. */
Test(worklist_writer, bytes_that_are_not_utf8_become_replacement_characters)
{
	expect_line("bad\xff\xfeid", ",2,bad\xef\xbf\xbd\xef\xbf\xbdid,,,,,userid-invalid,,,,");
	expect_line("=\xff", ",2,'=\xef\xbf\xbd,,,,,userid-invalid,,,,");
	expect_line("J\xc3\xbcrgen", ",2,J\xc3\xbcrgen,,,,,userid-invalid,,,,");
}
