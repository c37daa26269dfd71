#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "csv_field.h"

/* The field as written, NUL-terminated; the caller frees it. */
static char *written(const char *value, size_t length, struct imaddr_buf *scratch)
{
	char *text = NULL;
	size_t size = 0;
	FILE *stream = open_memstream(&text, &size);
	cr_assert_not_null(stream);
	imaddr_csv_field_write(stream, value, length, scratch);
	cr_assert_eq(fclose(stream), 0);
	return text;
}

static void expect_written(const char *value, const char *expected, struct imaddr_buf *scratch)
{
	char *text = written(value, strlen(value), scratch);
	cr_expect_str_eq(text, expected);
	free(text);
}

Test(csv_field, quotes_only_what_needs_it)
{
	struct imaddr_buf scratch;
	imaddr_buf_init(&scratch, 0);
	expect_written("jsmith@cisco.com", "jsmith@cisco.com", &scratch);
	expect_written("", "", &scratch);
	expect_written("CN=Smith\\, John,OU=People", "\"CN=Smith\\, John,OU=People\"", &scratch);
	expect_written("Al \"the\" At", "\"Al \"\"the\"\" At\"", &scratch);
	expect_written("two\r\nlines", "\"two\r\nlines\"", &scratch);
	expect_written("'single' quotes", "'single' quotes", &scratch);
	/* The scratch is reused: a short field after a long one is itself. */
	expect_written("a,b", "\"a,b\"", &scratch);
	imaddr_buf_release(&scratch);
}

Test(csv_field, writes_the_length_given_not_to_a_nul)
{
	struct imaddr_buf scratch;
	imaddr_buf_init(&scratch, 0);
	char *text = written("abc,def", 3, &scratch);
	cr_expect_str_eq(text, "abc");
	free(text);
	text = written("a,bcdef", 3, &scratch);
	cr_expect_str_eq(text, "\"a,b\"");
	free(text);
	imaddr_buf_release(&scratch);
}
