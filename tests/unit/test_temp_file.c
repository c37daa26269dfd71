/* The run's working files (src/temp_file.h). */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tempdir.h"
#include "temp_file.h"

TEMPDIR_TEST_SUITE(temp_file);

/* TMPDIR as the test found it (the suite's own directory is made under it). */
static char *saved_tmpdir;

static void use_tmpdir(const char *value)
{
	if (!saved_tmpdir) {
		const char *old = getenv("TMPDIR");
		saved_tmpdir = strdup(old ? old : "");
	}
	if (value)
		setenv("TMPDIR", value, 1);
	else
		unsetenv("TMPDIR");
}

static void restore_tmpdir(void)
{
	if (*saved_tmpdir)
		setenv("TMPDIR", saved_tmpdir, 1);
	else
		unsetenv("TMPDIR");
	free(saved_tmpdir);
	saved_tmpdir = NULL;
}

/* Where the kernel says an open file is: "/dir/#123 (deleted)" for one with no name. */
static void expect_unnamed_in(FILE *file, const char *real_dir)
{
	char link[64], target[PATH_MAX];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fileno(file));
	ssize_t len = readlink(link, target, sizeof(target) - 1);
	cr_assert(len > 0);
	target[len] = '\0';
	size_t dir_len = strlen(real_dir);
	cr_expect(strncmp(target, real_dir, dir_len) == 0 && target[dir_len] == '/',
		  "made in '%s', not in '%s'", target, real_dir);
	cr_expect(len > 10 && strcmp(target + len - 10, " (deleted)") == 0,
		  "'%s' has a name", target);
}

Test(temp_file, is_made_in_tmpdir_with_no_name_and_reads_back)
{
	char *real = realpath(dir, NULL);
	use_tmpdir(dir);
	cr_expect_str_eq(imaddr_temp_dir(), dir);
	FILE *file = imaddr_temp_file();
	restore_tmpdir();
	cr_assert(file, "%s", strerror(errno));
	expect_unnamed_in(file, real);
	tempdir_expect_listing(dir, "");

	cr_assert(fputs("spooled", file) >= 0);
	char back[16] = "";
	rewind(file);
	cr_assert(fgets(back, sizeof(back), file));
	cr_expect_str_eq(back, "spooled");
	fclose(file);
	tempdir_expect_listing(dir, "");
	free(real);
}

Test(temp_file, without_tmpdir_is_made_in_tmp)
{
	char *real = realpath("/tmp", NULL);
	use_tmpdir(NULL);
	cr_expect_str_eq(imaddr_temp_dir(), "/tmp");
	FILE *file = imaddr_temp_file();
	use_tmpdir("");
	cr_expect_str_eq(imaddr_temp_dir(), "/tmp", "an empty TMPDIR counts as none");
	restore_tmpdir();
	cr_assert(file, "%s", strerror(errno));
	expect_unnamed_in(file, real);
	fclose(file);
	free(real);
}

Test(temp_file, in_a_missing_directory_fails_with_errno)
{
	char *missing = tempdir_path(dir, "missing");
	use_tmpdir(missing);
	errno = 0;
	FILE *file = imaddr_temp_file();
	int saved = errno;
	restore_tmpdir();
	cr_expect_null(file);
	cr_expect_eq(saved, ENOENT, "errno %d", saved);
	tempdir_expect_listing(dir, "");
	free(missing);
}
