/* The program's handling of the bind password (src/tool_password.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "tempdir.h"
#include "tool.h"

TEMPDIR_TEST_SUITE(tool_password);

static bool all_zero(const char *bytes, size_t length)
{
	for (size_t i = 0; i < length; i++) {
		if (bytes[i])
			return false;
	}
	return true;
}

/* Standard error goes to a file of the test directory, read back by stderr_text. */
static void capture_stderr(void)
{
	char *path = tempdir_path(dir, "stderr");
	cr_assert(freopen(path, "w", stderr));
	free(path);
}

static char *stderr_text(void)
{
	fflush(stderr);
	char *path = tempdir_path(dir, "stderr");
	char *text = tempdir_read(path, NULL);
	free(path);
	return text;
}

static char *write_password_file(const char *text, mode_t mode)
{
	char *path = tempdir_write_str(dir, "password", text);
	cr_assert_eq(chmod(path, mode), 0);
	return path;
}

Test(tool_password, the_environment_is_taken_wiped_and_removed)
{
	static struct tool_password password;
	cr_assert_eq(setenv(TOOL_PASSWORD_ENV, "S3cr3t", 1), 0);
	char *in_environment = getenv(TOOL_PASSWORD_ENV);
	cr_assert_eq(prctl(PR_GET_DUMPABLE), 1);

	tool_password_take_environment(&password);

	cr_expect_null(getenv(TOOL_PASSWORD_ENV));
	cr_expect(all_zero(in_environment, strlen("S3cr3t")), "the environment's copy is left");
	cr_expect_str_eq(password.text, "S3cr3t");
	cr_expect(password.held);
	cr_expect_eq(prctl(PR_GET_DUMPABLE), 0, "dumpable while holding a password");
}

Test(tool_password, no_environment_variable_leaves_the_process_dumpable)
{
	static struct tool_password password;
	unsetenv(TOOL_PASSWORD_ENV);
	tool_password_take_environment(&password);
	cr_expect(!password.held);
	cr_expect(!password.from_environment);
	cr_expect_eq(prctl(PR_GET_DUMPABLE), 1);
}

Test(tool_password, a_file_gives_its_first_line_and_makes_the_process_undumpable)
{
	static struct tool_password password;
	char *path = write_password_file("S3cr3t\r\nsecond line\n", 0600);
	cr_assert_eq(tool_password_read_file(&password, path), TOOL_EXIT_CLEAN);
	cr_expect_str_eq(password.text, "S3cr3t");
	/* Nothing of the rest of the file stays behind the line. */
	cr_expect(all_zero(password.text + 6, sizeof(password.text) - 6));
	cr_expect_eq(prctl(PR_GET_DUMPABLE), 0);
	free(path);
}

Test(tool_password, a_file_others_can_read_is_refused)
{
	static struct tool_password password;
	capture_stderr();
	char *path = write_password_file("S3cr3t\n", 0644);
	cr_expect_eq(tool_password_read_file(&password, path), TOOL_EXIT_USAGE);
	cr_expect(!password.held);
	cr_expect(all_zero(password.text, sizeof(password.text)));
	char expected[1024];
	snprintf(expected, sizeof(expected),
		 "imaddr: password file '%s' is open to other users (mode 0644): chmod o-rw '%s'\n",
		 path, path);
	char *said = stderr_text();
	cr_expect_str_eq(said, expected);
	free(said);
	free(path);
}

Test(tool_password, a_file_for_the_group_is_accepted)
{
	static struct tool_password password;
	char *path = write_password_file("S3cr3t", 0640);
	cr_expect_eq(tool_password_read_file(&password, path), TOOL_EXIT_CLEAN);
	cr_expect_str_eq(password.text, "S3cr3t");
	free(path);
}

Test(tool_password, an_empty_or_overlong_file_is_refused)
{
	static struct tool_password password;
	capture_stderr();
	char *path = write_password_file("\n", 0600);
	cr_expect_eq(tool_password_read_file(&password, path), TOOL_EXIT_USAGE);
	free(path);
	char long_line[sizeof(password.text) + 10];
	memset(long_line, 'x', sizeof(long_line) - 1);
	long_line[sizeof(long_line) - 1] = '\0';
	path = write_password_file(long_line, 0600);
	cr_expect_eq(tool_password_read_file(&password, path), TOOL_EXIT_USAGE);
	cr_expect(!password.held);
	cr_expect(all_zero(password.text, sizeof(password.text)));
	free(path);
}

Test(tool_password, clearing_wipes_the_buffer)
{
	static struct tool_password password;
	char *path = write_password_file("S3cr3t\n", 0600);
	cr_assert_eq(tool_password_read_file(&password, path), TOOL_EXIT_CLEAN);
	tool_password_clear(&password);
	cr_expect(!password.held);
	cr_expect(all_zero(password.text, sizeof(password.text)));
	free(path);
}
