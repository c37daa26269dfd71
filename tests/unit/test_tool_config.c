/* The configuration file's reader (src/tool_config.c, libinih). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tempdir.h"
#include "tool.h"

TEMPDIR_TEST_SUITE(tool_config);

static int read_text(struct tool_config_file *file, const char *text)
{
	char *path = tempdir_write_str(dir, "imaddr.conf", text);
	/* The file borrows the path: keep it for the test's life. */
	static char kept[4096];
	snprintf(kept, sizeof(kept), "%s", path);
	free(path);
	cr_assert(freopen("/dev/null", "w", stderr));
	return tool_config_read(file, kept);
}

Test(tool_config, settings_keep_their_section_and_line)
{
	struct tool_config_file file;
	cr_assert_eq(read_text(&file, "# comment\ndefault-domain = example.com\n\n"
				      "[nightly]\n; comment\nldap = ldaps://dc1.example.com\n"
				      "base = ou=Staff,dc=example,dc=com\n"),
		     TOOL_EXIT_CLEAN);
	cr_assert_eq(file.count, 3);
	cr_expect_str_eq(file.entries[0].section, "");
	cr_expect_str_eq(file.entries[0].key, "default-domain");
	cr_expect_str_eq(file.entries[0].value, "example.com");
	cr_expect_eq(file.entries[0].line, 2);
	cr_expect_str_eq(file.entries[2].section, "nightly");
	cr_expect_str_eq(file.entries[2].value, "ou=Staff,dc=example,dc=com");
	cr_expect_eq(file.entries[2].line, 7);
	cr_expect(tool_config_has_section(&file, "nightly"));
	cr_expect(!tool_config_has_section(&file, "weekly"));
	tool_config_release(&file);
}

Test(tool_config, a_line_that_is_not_a_setting_is_refused)
{
	struct tool_config_file file;
	cr_expect_eq(read_text(&file, "csv = users.csv\nnot a setting\n"), TOOL_EXIT_USAGE);
	tool_config_release(&file);
}

Test(tool_config, a_line_libinih_would_cut_short_is_refused)
{
	struct tool_config_file file;
	char text[400];
	memset(text, 'x', sizeof(text));
	memcpy(text, "filter = ", 9);
	text[sizeof(text) - 2] = '\n';
	text[sizeof(text) - 1] = '\0';
	cr_expect_eq(read_text(&file, text), TOOL_EXIT_USAGE);
	tool_config_release(&file);
}

Test(tool_config, a_file_without_end_is_refused_at_the_cap)
{
	/* /dev/zero: one line that never ends; /dev/urandom: lines that are no settings. */
	struct tool_config_file file;
	cr_assert(freopen("/dev/null", "w", stderr));
	cr_assert_eq(tool_config_read(&file, "/dev/zero"), TOOL_EXIT_USAGE);
	tool_config_release(&file);
	cr_assert_eq(tool_config_read(&file, "/dev/urandom"), TOOL_EXIT_USAGE);
	tool_config_release(&file);
}

Test(tool_config, a_file_over_the_cap_is_refused)
{
	struct tool_config_file file;
	size_t size = (TOOL_CONFIG_MAX_BYTES / 20 + 5) * 20;   /* whole lines past the cap */
	char *text = malloc(size + 1);
	for (size_t i = 0; i < size; i += 20)
		memcpy(text + i, "# nineteen bytes...\n", 20);
	text[size] = '\0';
	cr_assert_eq(read_text(&file, text), TOOL_EXIT_USAGE);
	tool_config_release(&file);
	free(text);
}

Test(tool_config, the_longest_line_libinih_takes_is_read_whole)
{
	struct tool_config_file file;
	char text[201];
	memset(text, 'x', sizeof(text));
	memcpy(text, "filter = ", 9);
	text[199] = '\n';   /* 199 characters and the newline */
	text[200] = '\0';
	cr_assert_eq(read_text(&file, text), TOOL_EXIT_CLEAN);
	cr_expect_eq(strlen(file.entries[0].value), 199 - 9);
	tool_config_release(&file);
}
