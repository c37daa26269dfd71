/* An output replaced in step with the report, through a stream (src/staged_file.h). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "staged_file.h"
#include "tempdir.h"

TEMPDIR_TEST_SUITE(staged_file);

/*
 * The disk fills up under the page's last write, larger than the stream's
 * buffer: stdio drops what failed, so prepare has nothing left to flush.
 * The errno of that write is the cause, not EIO, nor what a later call left.
 */
Test(staged_file, a_full_disk_is_named_with_the_write_s_cause)
{
	static char chunk[200000];
	struct imaddr_staged_file file;
	struct imaddr_error err = { "" };
	struct imaddr_run_info info = { .token = "token" };
	char *path = tempdir_write_str(dir, "page.html", "previous\n");
	imaddr_staged_file_init(&file, path, 0);
	cr_assert_eq(imaddr_staged_file_begin(&file, &info, &err), IMADDR_OK, "%s", err.message);
	int full = open("/dev/full", O_WRONLY);
	cr_assert_geq(full, 0, "no /dev/full");
	cr_assert_geq(dup2(full, fileno(file.stream)), 0);
	close(full);
	memset(chunk, 'x', sizeof(chunk));
	errno = 0;
	cr_assert_neq(fwrite(chunk, 1, sizeof(chunk), file.stream), sizeof(chunk));
	imaddr_staged_file_note_errors(&file);
	errno = ENOENT;
	cr_assert_eq(imaddr_staged_file_prepare(&file, &err), IMADDR_ERR_IO);
	char expected[4096];
	snprintf(expected, sizeof(expected), "cannot write '%s': %s", path, strerror(ENOSPC));
	cr_expect_str_eq(err.message, expected);
	imaddr_staged_file_release(&file);
	char *text = tempdir_read(path, NULL);
	cr_expect_str_eq(text, "previous\n");
	tempdir_expect_listing(dir, "page.html");
	free(text);
	free(path);
}
