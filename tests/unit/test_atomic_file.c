/* Output files that appear whole or not at all (src/atomic_file.h). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "tempdir.h"

TEMPDIR_TEST_SUITE(atomic_file);

static void expect_file(const char *path, const char *expected)
{
	size_t len;
	char *contents = tempdir_read(path, &len);
	cr_assert_not_null(contents, "'%s' does not exist", path);
	cr_assert_eq(len, strlen(expected), "'%s' has %zu bytes", path, len);
	cr_assert_str_eq(contents, expected);
	free(contents);
}

Test(atomic_file, nothing_appears_under_the_name_before_commit)
{
	struct imaddr_atomic_file file;
	struct imaddr_error err = { "" };
	char *path = tempdir_path(dir, "bat.csv");
	cr_assert_eq(imaddr_atomic_file_open(&file, path, &err), IMADDR_OK, "%s", err.message);
	cr_assert_not_null(file.stream);
	cr_assert_not_null(file.temp_path);
	cr_assert_str_eq(file.path, path);
	/* The temporary file is a sibling of the target. */
	cr_assert_eq(strncmp(file.temp_path, path, strlen(path)), 0,
		     "temporary file '%s' is not beside '%s'", file.temp_path, path);
	fputs("USER ID,DIRECTORY URI\r\n", file.stream);
	fflush(file.stream);
	cr_assert_null(tempdir_read(path, NULL), "the target exists before commit");
	struct stat st;
	cr_assert_eq(stat(file.temp_path, &st), 0);
	imaddr_atomic_file_abort(&file);
	free(path);
}

Test(atomic_file, commit_renames_into_place_and_leaves_no_temporary_file)
{
	struct imaddr_atomic_file file;
	struct imaddr_error err = { "" };
	char *path = tempdir_path(dir, "bat.csv");
	cr_assert_eq(imaddr_atomic_file_open(&file, path, &err), IMADDR_OK, "%s", err.message);
	char *temp_path = strdup(file.temp_path);
	fputs("USER ID,DIRECTORY URI\r\njs,js@example.com\r\n", file.stream);
	cr_assert_eq(imaddr_atomic_file_commit(&file, &err), IMADDR_OK, "%s", err.message);

	expect_file(path, "USER ID,DIRECTORY URI\r\njs,js@example.com\r\n");
	tempdir_expect_listing(dir, "bat.csv");
	struct stat st;
	cr_assert_neq(stat(temp_path, &st), 0, "'%s' is still there", temp_path);
	cr_assert_null(file.temp_path);
	cr_assert_null(file.stream);
	/* Abort after commit is harmless and keeps the file. */
	imaddr_atomic_file_abort(&file);
	expect_file(path, "USER ID,DIRECTORY URI\r\njs,js@example.com\r\n");
	free(temp_path);
	free(path);
}

Test(atomic_file, commit_replaces_an_existing_file)
{
	struct imaddr_atomic_file file;
	struct imaddr_error err = { "" };
	char *path = tempdir_write_str(dir, "bat.csv", "old contents that are longer\n");
	cr_assert_eq(imaddr_atomic_file_open(&file, path, &err), IMADDR_OK, "%s", err.message);
	fputs("new\n", file.stream);
	/* Until the commit, readers see the old file. */
	expect_file(path, "old contents that are longer\n");
	cr_assert_eq(imaddr_atomic_file_commit(&file, &err), IMADDR_OK, "%s", err.message);
	expect_file(path, "new\n");
	tempdir_expect_listing(dir, "bat.csv");
	free(path);
}

Test(atomic_file, commit_of_an_empty_file)
{
	struct imaddr_atomic_file file;
	struct imaddr_error err = { "" };
	char *path = tempdir_path(dir, "empty.csv");
	cr_assert_eq(imaddr_atomic_file_open(&file, path, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(imaddr_atomic_file_commit(&file, &err), IMADDR_OK, "%s", err.message);
	expect_file(path, "");
	tempdir_expect_listing(dir, "empty.csv");
	free(path);
}

Test(atomic_file, abort_leaves_an_existing_target_untouched_and_removes_the_temp)
{
	struct imaddr_atomic_file file;
	struct imaddr_error err = { "" };
	char *path = tempdir_write_str(dir, "bat.csv", "USER ID,DIRECTORY URI\r\nold,old@x\r\n");
	cr_assert_eq(imaddr_atomic_file_open(&file, path, &err), IMADDR_OK, "%s", err.message);
	char *temp_path = strdup(file.temp_path);
	fputs("partial output", file.stream);
	fflush(file.stream);
	imaddr_atomic_file_abort(&file);

	expect_file(path, "USER ID,DIRECTORY URI\r\nold,old@x\r\n");
	tempdir_expect_listing(dir, "bat.csv");
	struct stat st;
	cr_assert_neq(stat(temp_path, &st), 0, "'%s' is still there", temp_path);
	cr_assert_null(file.stream);
	cr_assert_null(file.temp_path);
	cr_assert_null(file.path);
	/* A second abort is harmless. */
	imaddr_atomic_file_abort(&file);
	expect_file(path, "USER ID,DIRECTORY URI\r\nold,old@x\r\n");
	free(temp_path);
	free(path);
}

/* A SIGINT or SIGTERM before the rename: the previous file stays (imaddr report). */
Test(atomic_file, a_stop_before_commit_leaves_the_previous_file)
{
	struct imaddr_atomic_file file;
	struct imaddr_error err = { "" };
	char *path = tempdir_write_str(dir, "page.html", "previous\n");
	cr_assert_eq(imaddr_atomic_file_open(&file, path, &err), IMADDR_OK, "%s", err.message);
	fputs("<!DOCTYPE html>\n", file.stream);
	imaddr_audit_request_stop();
	cr_assert_eq(imaddr_atomic_file_commit(&file, &err), IMADDR_ERR_INTERRUPTED);
	cr_expect_str_eq(err.message, "interrupted");
	expect_file(path, "previous\n");
	tempdir_expect_listing(dir, "page.html");
	cr_assert_null(file.temp_path);
	free(path);
}

/*
 * The disk fills up under a write larger than the stream's buffer: stdio
 * drops what failed, so the commit has nothing left to flush, and errno is
 * some later call's by then.
 */
static void fail_a_large_write(struct imaddr_atomic_file *file)
{
	static char chunk[200000];
	int full = open("/dev/full", O_WRONLY);
	cr_assert_geq(full, 0, "no /dev/full");
	cr_assert_geq(dup2(full, fileno(file->stream)), 0);
	close(full);
	memset(chunk, 'x', sizeof(chunk));
	errno = 0;
	cr_assert_neq(fwrite(chunk, 1, sizeof(chunk), file->stream), sizeof(chunk));
}

Test(atomic_file, a_full_disk_is_named_with_the_write_s_cause)
{
	struct imaddr_atomic_file file;
	struct imaddr_error err = { "" };
	char *path = tempdir_write_str(dir, "page.html", "previous\n");
	cr_assert_eq(imaddr_atomic_file_open(&file, path, &err), IMADDR_OK, "%s", err.message);
	fail_a_large_write(&file);
	imaddr_atomic_file_note_errors(&file);
	errno = ENOENT;
	cr_assert_eq(imaddr_atomic_file_commit(&file, &err), IMADDR_ERR_IO);
	char expected[4096];
	snprintf(expected, sizeof(expected), "cannot write '%s': %s", path, strerror(ENOSPC));
	cr_expect_str_eq(err.message, expected);
	expect_file(path, "previous\n");
	tempdir_expect_listing(dir, "page.html");
	free(path);
}

/* Unnoted, the cause is unknown: EIO, never the errno another call left. */
Test(atomic_file, an_unnoted_failed_write_is_no_stale_errno)
{
	struct imaddr_atomic_file file;
	struct imaddr_error err = { "" };
	char *path = tempdir_path(dir, "page.html");
	cr_assert_eq(imaddr_atomic_file_open(&file, path, &err), IMADDR_OK, "%s", err.message);
	fail_a_large_write(&file);
	errno = ENOENT;
	cr_assert_eq(imaddr_atomic_file_commit(&file, &err), IMADDR_ERR_IO);
	cr_expect(!strstr(err.message, strerror(ENOENT)), "%s", err.message);
	tempdir_expect_listing(dir, "");
	free(path);
}

Test(atomic_file, abort_without_a_target_leaves_an_empty_directory)
{
	struct imaddr_atomic_file file;
	struct imaddr_error err = { "" };
	char *path = tempdir_path(dir, "report.csv");
	cr_assert_eq(imaddr_atomic_file_open(&file, path, &err), IMADDR_OK, "%s", err.message);
	fputs("partial", file.stream);
	imaddr_atomic_file_abort(&file);
	tempdir_expect_listing(dir, "");
	free(path);
}

Test(atomic_file, two_files_for_one_target_do_not_collide)
{
	struct imaddr_atomic_file first, second;
	struct imaddr_error err = { "" };
	char *path = tempdir_path(dir, "bat.csv");
	cr_assert_eq(imaddr_atomic_file_open(&first, path, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(imaddr_atomic_file_open(&second, path, &err), IMADDR_OK, "%s",
		     err.message);
	cr_assert_str_neq(first.temp_path, second.temp_path);
	fputs("first\n", first.stream);
	fputs("second\n", second.stream);
	imaddr_atomic_file_abort(&first);
	cr_assert_eq(imaddr_atomic_file_commit(&second, &err), IMADDR_OK, "%s", err.message);
	expect_file(path, "second\n");
	tempdir_expect_listing(dir, "bat.csv");
	free(path);
}

Test(atomic_file, open_in_a_missing_directory_fails_naming_the_path)
{
	struct imaddr_atomic_file file;
	struct imaddr_error err = { "" };
	char *path = tempdir_path(dir, "no/such/dir/bat.csv");
	cr_assert_eq(imaddr_atomic_file_open(&file, path, &err), IMADDR_ERR_IO);
	cr_assert_not_null(strstr(err.message, path), "'%s' does not name '%s'", err.message,
			   path);
	cr_assert_not_null(strstr(err.message, "No such file or directory"), "%s",
			   err.message);
	char expected[IMADDR_ERROR_MAX];
	snprintf(expected, sizeof(expected), "cannot create '%s': No such file or directory",
		 path);
	cr_assert_str_eq(err.message, expected);
	cr_assert_null(file.stream);
	cr_assert_null(file.temp_path);
	/* Abort after a failed open is harmless. */
	imaddr_atomic_file_abort(&file);
	tempdir_expect_listing(dir, "");
	free(path);
}

Test(atomic_file, committed_file_has_the_usual_permissions)
{
	struct imaddr_atomic_file file;
	struct imaddr_error err = { "" };
	struct stat st;
	char *path = tempdir_path(dir, "bat.csv");
	umask(022);
	cr_assert_eq(imaddr_atomic_file_open(&file, path, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(imaddr_atomic_file_commit(&file, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0644, "mode %o", (unsigned)(st.st_mode & 0777));
	umask(027);
	cr_assert_eq(imaddr_atomic_file_open(&file, path, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(imaddr_atomic_file_commit(&file, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0640, "mode %o", (unsigned)(st.st_mode & 0777));
	free(path);
}

Test(atomic_file, commit_onto_a_directory_fails_and_cleans_up)
{
	struct imaddr_atomic_file file;
	struct imaddr_error err = { "" };
	char *path = tempdir_path(dir, "taken");
	char *inside = tempdir_path(path, "keep");
	cr_assert_eq(mkdir(path, 0755), 0);
	FILE *keep = fopen(inside, "w");
	cr_assert_not_null(keep);
	fclose(keep);
	cr_assert_eq(imaddr_atomic_file_open(&file, path, &err), IMADDR_OK, "%s", err.message);
	fputs("data", file.stream);
	cr_assert_eq(imaddr_atomic_file_commit(&file, &err), IMADDR_ERR_IO);
	cr_assert_not_null(strstr(err.message, path), "%s", err.message);
	cr_assert_null(file.temp_path);
	tempdir_expect_listing(dir, "taken");
	struct stat st;
	cr_assert_eq(stat(inside, &st), 0, "the directory's contents were touched");
	unlink(inside);
	rmdir(path);
	free(inside);
	free(path);
}
