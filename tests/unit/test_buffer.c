/* The growable, capped byte buffer (src/buffer.h). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"

/* The invariant every buffer keeps: a NUL right after the contents. */
static void expect_contents(const struct imaddr_buf *buf, const char *bytes, size_t len)
{
	cr_assert_eq(buf->len, len, "len %zu, expected %zu", buf->len, len);
	cr_assert_not_null(buf->data);
	cr_assert(memcmp(buf->data, bytes, len) == 0, "contents differ");
	cr_assert_eq(buf->data[len], '\0', "no NUL after the contents");
	if (buf->cap)
		cr_assert_gt(buf->cap, len, "cap %zu leaves no room for the NUL", buf->cap);
}

static char *pattern(size_t len)
{
	char *bytes = malloc(len + 1);
	for (size_t i = 0; i < len; i++)
		bytes[i] = (char)('a' + i % 26);
	bytes[len] = '\0';
	return bytes;
}

Test(buffer, init_is_an_empty_string_without_allocating)
{
	struct imaddr_buf buf;
	imaddr_buf_init(&buf, 0);
	expect_contents(&buf, "", 0);
	cr_expect_eq(buf.cap, 0);
	cr_expect_str_eq(buf.data, "");
	imaddr_buf_release(&buf);
}

Test(buffer, append_grows_past_256_bytes)
{
	struct imaddr_buf buf;
	char *expected = pattern(1000);
	imaddr_buf_init(&buf, 0);
	/* Uneven pieces cross every doubling of the capacity (64, 128 ... 1024). */
	size_t done = 0;
	for (size_t piece = 1; done < 1000; piece += 7) {
		size_t n = piece < 1000 - done ? piece : 1000 - done;
		cr_assert(imaddr_buf_append(&buf, expected + done, n));
		done += n;
		expect_contents(&buf, expected, done);
	}
	expect_contents(&buf, expected, 1000);
	imaddr_buf_release(&buf);
	free(expected);
}

Test(buffer, append_str_and_char)
{
	struct imaddr_buf buf;
	imaddr_buf_init(&buf, 0);
	cr_assert(imaddr_buf_append_str(&buf, "user"));
	cr_assert(imaddr_buf_append_char(&buf, '@'));
	cr_assert(imaddr_buf_append_str(&buf, "example.com"));
	cr_assert(imaddr_buf_append_str(&buf, ""));
	expect_contents(&buf, "user@example.com", 16);
	imaddr_buf_release(&buf);
}

Test(buffer, append_keeps_nul_bytes)
{
	struct imaddr_buf buf;
	imaddr_buf_init(&buf, 0);
	cr_assert(imaddr_buf_append(&buf, "a\0b", 3));
	expect_contents(&buf, "a\0b", 3);
	imaddr_buf_release(&buf);
}

Test(buffer, appendf_formats_short_output)
{
	struct imaddr_buf buf;
	imaddr_buf_init(&buf, 0);
	cr_assert(imaddr_buf_appendf(&buf, "%s:%d:", "users.csv", 42));
	cr_assert(imaddr_buf_appendf(&buf, " %05.1f|%-3s|%x", 2.5, "a", 255u));
	cr_assert_str_eq(buf.data, "users.csv:42: 002.5|a  |ff");
	cr_assert_eq(buf.len, strlen("users.csv:42: 002.5|a  |ff"));
	imaddr_buf_release(&buf);
}

Test(buffer, appendf_grows_past_256_bytes)
{
	struct imaddr_buf buf;
	char *long_text = pattern(5000);
	imaddr_buf_init(&buf, 0);
	cr_assert(imaddr_buf_append_str(&buf, "head:"));
	/* Output longer than appendf's 256-byte scratch takes the second path. */
	cr_assert(imaddr_buf_appendf(&buf, "[%s]%d", long_text, 7));
	size_t len = 5 + 1 + 5000 + 1 + 1;
	char *expected = malloc(len + 1);
	snprintf(expected, len + 1, "head:[%s]7", long_text);
	expect_contents(&buf, expected, len);
	/* And a second long append lands after the first. */
	cr_assert(imaddr_buf_appendf(&buf, "%s", long_text));
	cr_assert_eq(buf.len, len + 5000);
	cr_assert(memcmp(buf.data + len, long_text, 5000) == 0);
	cr_assert_eq(buf.data[buf.len], '\0');
	imaddr_buf_release(&buf);
	free(expected);
	free(long_text);
}

Test(buffer, appendf_of_exactly_256_bytes)
{
	/* 255 fits the scratch with its NUL; 256 is the first that does not. */
	for (size_t n = 254; n <= 258; n++) {
		struct imaddr_buf buf;
		char *text = pattern(n);
		imaddr_buf_init(&buf, 0);
		cr_assert(imaddr_buf_appendf(&buf, "%s", text));
		expect_contents(&buf, text, n);
		imaddr_buf_release(&buf);
		free(text);
	}
}

Test(buffer, append_past_the_cap_fails_and_leaves_contents)
{
	struct imaddr_buf buf;
	imaddr_buf_init(&buf, 10);
	cr_assert(imaddr_buf_append_str(&buf, "12345678"));
	cr_assert_not(imaddr_buf_append_str(&buf, "abc"));
	expect_contents(&buf, "12345678", 8);
	cr_assert(imaddr_buf_append_char(&buf, 'x'));
	/* "yz" would make 11 bytes: refused whole, not cut to fit. */
	cr_assert_not(imaddr_buf_append_str(&buf, "yz"));
	expect_contents(&buf, "12345678x", 9);
	cr_assert(imaddr_buf_append_char(&buf, 'y'));
	expect_contents(&buf, "12345678xy", 10);
	cr_assert_not(imaddr_buf_append_char(&buf, 'z'));
	cr_assert_not(imaddr_buf_append(&buf, "z", 1));
	expect_contents(&buf, "12345678xy", 10);
	/* An empty append at the cap is fine. */
	cr_assert(imaddr_buf_append(&buf, "", 0));
	expect_contents(&buf, "12345678xy", 10);
	imaddr_buf_release(&buf);
}

Test(buffer, appendf_past_the_cap_fails_and_leaves_contents)
{
	struct imaddr_buf buf;
	char *long_text = pattern(400);
	imaddr_buf_init(&buf, 300);
	cr_assert(imaddr_buf_appendf(&buf, "%d-", 12));
	cr_assert_not(imaddr_buf_appendf(&buf, "%s", long_text));
	expect_contents(&buf, "12-", 3);
	/* Short output over the cap is refused as well. */
	cr_assert(imaddr_buf_appendf(&buf, "%.290s", long_text));
	cr_assert_eq(buf.len, 293);
	cr_assert_not(imaddr_buf_appendf(&buf, "%s", "12345678"));
	cr_assert_eq(buf.len, 293);
	cr_assert(memcmp(buf.data, "12-", 3) == 0);
	cr_assert(memcmp(buf.data + 3, long_text, 290) == 0);
	cr_assert_eq(buf.data[293], '\0');
	imaddr_buf_release(&buf);
	free(long_text);
}

Test(buffer, reserve_respects_the_cap)
{
	struct imaddr_buf buf;
	imaddr_buf_init(&buf, 100);
	cr_assert(imaddr_buf_reserve(&buf, 100));
	cr_assert_geq(buf.cap, 101);
	cr_assert_not(imaddr_buf_reserve(&buf, 101));
	cr_assert_not(imaddr_buf_reserve(&buf, (size_t)-1));
	expect_contents(&buf, "", 0);
	imaddr_buf_release(&buf);
}

Test(buffer, reserve_of_a_huge_size_fails_without_a_cap)
{
	struct imaddr_buf buf;
	imaddr_buf_init(&buf, 0);
	cr_assert(imaddr_buf_append_str(&buf, "abc"));
	cr_assert_not(imaddr_buf_reserve(&buf, (size_t)-1));
	cr_assert_not(imaddr_buf_append(&buf, "x", (size_t)-1));
	expect_contents(&buf, "abc", 3);
	imaddr_buf_release(&buf);
}

Test(buffer, reset_empties_and_keeps_nul_termination)
{
	struct imaddr_buf buf;
	imaddr_buf_init(&buf, 0);
	imaddr_buf_reset(&buf);
	expect_contents(&buf, "", 0);
	cr_assert(imaddr_buf_append_str(&buf, "some text that is kept in memory"));
	size_t cap = buf.cap;
	char *data = buf.data;
	imaddr_buf_reset(&buf);
	expect_contents(&buf, "", 0);
	cr_assert_str_eq(buf.data, "");
	cr_expect_eq(buf.cap, cap, "reset gave up its memory");
	cr_expect_eq(buf.data, data, "reset moved the data");
	cr_assert(imaddr_buf_append_str(&buf, "new"));
	expect_contents(&buf, "new", 3);
	imaddr_buf_release(&buf);
}

Test(buffer, detach_hands_over_the_contents_and_resets)
{
	struct imaddr_buf buf;
	imaddr_buf_init(&buf, 500);
	cr_assert(imaddr_buf_appendf(&buf, "%s-%d", "chunk", 3));
	char *data = imaddr_buf_detach(&buf);
	cr_assert_str_eq(data, "chunk-3");
	expect_contents(&buf, "", 0);
	cr_assert_eq(buf.cap, 0);
	cr_assert_eq(buf.limit, 500, "detach lost the cap");
	/* The buffer is usable again and no longer shares the detached memory. */
	cr_assert(imaddr_buf_append_str(&buf, "again"));
	cr_assert_neq(buf.data, data);
	cr_assert_str_eq(data, "chunk-3");
	expect_contents(&buf, "again", 5);
	free(data);
	imaddr_buf_release(&buf);
}

Test(buffer, detach_of_an_empty_buffer_is_a_freeable_empty_string)
{
	struct imaddr_buf buf;
	imaddr_buf_init(&buf, 0);
	char *data = imaddr_buf_detach(&buf);
	cr_assert_not_null(data);
	cr_assert_str_eq(data, "");
	free(data);
	imaddr_buf_release(&buf);
}

Test(buffer, truncate_cuts_and_terminates)
{
	struct imaddr_buf buf;
	imaddr_buf_init(&buf, 0);
	cr_assert(imaddr_buf_append_str(&buf, "user@example.com"));
	imaddr_buf_truncate(&buf, 4);
	expect_contents(&buf, "user", 4);
	cr_assert_str_eq(buf.data, "user");
	/* A length past the end changes nothing. */
	imaddr_buf_truncate(&buf, 10);
	expect_contents(&buf, "user", 4);
	imaddr_buf_truncate(&buf, 4);
	expect_contents(&buf, "user", 4);
	imaddr_buf_truncate(&buf, 0);
	expect_contents(&buf, "", 0);
	cr_assert(imaddr_buf_append_str(&buf, "ab"));
	expect_contents(&buf, "ab", 2);
	imaddr_buf_release(&buf);
}

Test(buffer, release_leaves_an_empty_buffer_with_its_cap)
{
	struct imaddr_buf buf;
	imaddr_buf_init(&buf, 64);
	cr_assert(imaddr_buf_append_str(&buf, "text"));
	imaddr_buf_release(&buf);
	expect_contents(&buf, "", 0);
	cr_assert_eq(buf.cap, 0);
	cr_assert_eq(buf.limit, 64);
	imaddr_buf_release(&buf);
}

Test(buffer, xstrndup_copies_and_terminates)
{
	char *copy = imaddr_xstrndup("example.com", 7);
	cr_assert_str_eq(copy, "example");
	free(copy);
	copy = imaddr_xstrdup("");
	cr_assert_str_eq(copy, "");
	free(copy);
}

/* Big blocks grow into memory advised for huge pages, by a copy of our own. */
Test(buffer, xrealloc_keeps_contents_across_the_big_sizes)
{
	size_t size = 1 << 20;
	unsigned char *block = imaddr_xmalloc(size);
	for (size_t i = 0; i < size; i++)
		block[i] = (unsigned char)(i * 7);
	for (size_t grown = size * 2; grown <= (size_t)32 << 20; grown *= 2) {
		block = imaddr_xrealloc(block, grown);
		for (size_t i = 0; i < size; i += 4093)
			cr_assert_eq(block[i], (unsigned char)(i * 7), "byte %zu after growing to %zu", i, grown);
		cr_assert_eq(block[size - 1], (unsigned char)((size - 1) * 7));
		memset(block + grown / 2, 0xa5, grown / 2);   /* the new half is writable */
	}
	block = imaddr_xrealloc(block, 8 << 20);   /* shrinking keeps the start */
	cr_assert_eq(block[12345], (unsigned char)(12345 * 7));
	free(block);
}
