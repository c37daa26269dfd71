/* Reading scattered records through two windows (src/file_windows.h). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file_windows.h"

#define SPAN (256 * 1024)
#define FILE_SIZE (8 * SPAN)

static int fd = -1;
static struct imaddr_file_windows windows;

/* A file whose every 4-byte word is its own offset: any read can be checked. */
static void make_file(void)
{
	char name[] = "/tmp/imaddr-windows-XXXXXX";
	fd = mkstemp(name);
	cr_assert_geq(fd, 0);
	unlink(name);
	for (uint32_t at = 0; at < FILE_SIZE; at += 4)
		cr_assert_eq(write(fd, &at, 4), 4);
	imaddr_file_windows_init(&windows);
}

static void close_file(void)
{
	imaddr_file_windows_release(&windows);
	close(fd);
}

TestSuite(file_windows, .init = make_file, .fini = close_file);

static void read_at(uint32_t at)
{
	const char *data = imaddr_file_windows_read(&windows, fd, FILE_SIZE, at, 64, SPAN);
	cr_assert_not_null(data);
	uint32_t word;
	memcpy(&word, data, 4);
	cr_assert_eq(word, at, "read %u at %u", word, at);
}

/* The window holding `at`. */
static const struct imaddr_file_window *window_of(uint32_t at)
{
	for (int i = 0; i < 2; i++) {
		const struct imaddr_file_window *w = &windows.window[i];
		if (w->length && at >= w->at && at < w->at + w->length)
			return w;
	}
	cr_assert_fail("no window holds %u", at);
	return NULL;
}

Test(file_windows, a_sequential_pass_reads_whole_spans)
{
	for (uint32_t at = 0; at + 64 <= FILE_SIZE; at += 200 & ~3u)
		read_at(at);
	cr_assert_eq(windows.jumps, 0);
	/* Each read on from the window's end replaced that window: the other stayed free. */
	for (int i = 0; i < 2; i++) {
		const struct imaddr_file_window *w = &windows.window[i];
		cr_assert(!w->length || w->length == SPAN || w->at + w->length == FILE_SIZE,
			  "a window of %zu bytes at %llu", w->length, (unsigned long long)w->at);
	}
}

Test(file_windows, a_jump_reads_little_and_a_pass_from_there_reads_big)
{
	read_at(0);
	cr_assert_eq(window_of(0)->length, SPAN);
	/* Far past the first window's end: a jump, as to one user among others. */
	read_at(5 * SPAN);
	cr_assert_eq(windows.jumps, 1);
	cr_assert_eq(window_of(5 * SPAN)->length, IMADDR_FILE_WINDOW_JUMP);
	/* Back where the first window is: no read at all. */
	read_at(SPAN / 2);
	cr_assert_eq(windows.jumps, 1);
	/* On past the jump's small window: a pass, read big again. */
	read_at(5 * SPAN + IMADDR_FILE_WINDOW_JUMP);
	cr_assert_eq(windows.jumps, 1);
	cr_assert_eq(window_of(5 * SPAN + IMADDR_FILE_WINDOW_JUMP)->length, SPAN);
	/* The first window was used last before that: it is still there. */
	cr_assert_eq(window_of(SPAN / 2)->at, 0);
}

Test(file_windows, jumps_back_and_forth_keep_the_pass_window)
{
	/* A pass over the first spans, with a jump to the file's end every few records. */
	for (uint32_t at = 0, n = 0; at + 64 <= 2 * SPAN; at += 256, n++) {
		read_at(at);
		if (n % 16 == 15)
			read_at(FILE_SIZE - 4 * (n + 1) * 64);
	}
	/* Each jump read 16 KiB, not a span; the pass went on in whole spans. */
	cr_assert_geq(windows.jumps, 100);
	cr_assert_eq(window_of(2 * SPAN - 256)->length, SPAN);
}

/* Records back to back: the read that misses starts in the window and runs past its end. */
Test(file_windows, records_back_to_back_are_a_pass)
{
	for (uint32_t at = 0; at + 300 <= FILE_SIZE; at += 300) {
		const char *data = imaddr_file_windows_read(&windows, fd, FILE_SIZE, at & ~3u, 300,
							    SPAN);
		cr_assert_not_null(data);
		uint32_t word;
		memcpy(&word, data, 4);
		cr_assert_eq(word, at & ~3u);
	}
	cr_assert_eq(windows.jumps, 0);
}
