/*
 * audit's command line and configuration file (src/tool_audit_options.c)
 * read as the program reads them, through tool_audit_configure_only: the
 * option fuzzer's entry, which must never exit and may be called again;
 * and every input the option fuzzer crashed on (the .args files of
 * tests/fuzz/regress/), replayed.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <dirent.h>
#include <string.h>

#define FUZZ_NO_ENTRY
#include "../fuzz/fuzz_options.c"

#include "tempdir.h"

#define REGRESS_DIR "tests/fuzz/regress"

static void quiet(void)
{
	cr_assert(freopen("/dev/null", "w", stderr));
}

TestSuite(tool_audit, .init = quiet);

static int configure(char **argv)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	return tool_audit_configure_only(argc, argv);
}

Test(tool_audit, help_and_version_return_instead_of_exiting, .init = cr_redirect_stdout)
{
	cr_assert_eq(configure((char *[]){ "audit", "--help", NULL }), TOOL_EXIT_CLEAN);
	cr_assert_eq(configure((char *[]){ "audit", "--csv", "u.csv", "-V", NULL }),
		     TOOL_EXIT_CLEAN);
	fflush(stdout);
	char printed[8192];
	size_t length = fread(printed, 1, sizeof(printed) - 1, cr_get_redirected_stdout());
	printed[length] = '\0';
	static const char first[] = "usage: imaddr audit [--csv FILE | --ldif FILE | -H URI]";
	static const char last[] = "\nimaddr " IMADDR_VERSION "\n";
	cr_assert(!strncmp(printed, first, strlen(first)), "%s", printed);
	cr_assert(length > strlen(last) && !strcmp(printed + length - strlen(last), last), "%s",
		  printed);
}

Test(tool_audit, options_are_checked_without_opening_anything)
{
	/* No input opened, no password asked for. */
	cr_assert_eq(configure((char *[]){ "audit", "--csv", "/nonexistent/users.csv",
					   "--default-domain", "example.com", NULL }),
		     TOOL_EXIT_CLEAN);
	cr_assert_eq(configure((char *[]){ "audit", "-H", "ldap://127.0.0.1:1", "-D", "cn=admin",
					   "-W", NULL }),
		     TOOL_EXIT_CLEAN);
	cr_assert_eq(configure((char *[]){ "audit", "--csv", "u.csv", "--scheme", "email", NULL }),
		     TOOL_EXIT_USAGE);
}

Test(tool_audit, with_clusters_every_input_follows_its_cluster)
{
	cr_assert_eq(configure((char *[]){ "audit", "--cluster", "east", "--csv", "e.csv",
					   "--cluster", "west", "--csv", "w.csv",
					   "--default-domain", "example.com", NULL }),
		     TOOL_EXIT_CLEAN);
	/* A --cluster after its input, or one whose --csv was forgotten. */
	cr_assert_eq(configure((char *[]){ "audit", "--csv", "e.csv", "--cluster", "east",
					   "--default-domain", "example.com", NULL }),
		     TOOL_EXIT_USAGE);
	cr_assert_eq(configure((char *[]){ "audit", "--cluster", "east", "--csv", "e.csv",
					   "--cluster", "west", "--default-domain", "example.com",
					   NULL }),
		     TOOL_EXIT_USAGE);
	/* An input before the first --cluster would be of no cluster. */
	cr_assert_eq(configure((char *[]){ "audit", "--csv", "e.csv", "--cluster", "west",
					   "--csv", "w.csv", "--default-domain", "example.com",
					   NULL }),
		     TOOL_EXIT_USAGE);
	static const char profile[] = "--profile\0p\0\0[p]\ncluster = east\ncsv = e.csv\n"
				      "cluster = west\ndefault-domain = example.com\n";
	cr_assert_eq(fuzz_options_blob((const uint8_t *)profile, sizeof(profile) - 1),
		     TOOL_EXIT_USAGE);
}

Test(tool_audit, each_command_line_is_read_from_its_start)
{
	/* -k is refused inside the group: getopt would go on at V on its next call. */
	char group[] = "-qkV";
	cr_assert_eq(configure((char *[]){ "audit", group, NULL }), TOOL_EXIT_USAGE);
	memset(group, 0, sizeof(group));
	cr_assert_eq(configure((char *[]){ "audit", "--csv", "u.csv", "--scheme", "email", NULL }),
		     TOOL_EXIT_USAGE);
}

Test(tool_audit, a_blob_is_arguments_and_a_configuration_file)
{
	static const char blob[] = "--profile\0nightly\0\0[nightly]\ncsv = u.csv\n"
				   "default-domain = example.com\n";
	cr_assert_eq(fuzz_options_blob((const uint8_t *)blob, sizeof(blob) - 1), TOOL_EXIT_CLEAN);
	static const char typo[] = "--profile\0nightly\0\0[nightly]\ncsv = u.csv\ndefault-domian = x\n";
	cr_assert_eq(fuzz_options_blob((const uint8_t *)typo, sizeof(typo) - 1), TOOL_EXIT_USAGE);
}

Test(tool_audit, every_options_crash_input_is_read_without_a_crash)
{
	DIR *dir = opendir(REGRESS_DIR);
	cr_assert_not_null(dir, "no %s (run from the top of the tree)", REGRESS_DIR);
	for (struct dirent *entry; (entry = readdir(dir));) {
		const char *dot = strrchr(entry->d_name, '.');
		if (entry->d_name[0] == '.' || !dot || strcmp(dot, ".args"))
			continue;
		char *path = tempdir_path(REGRESS_DIR, entry->d_name);
		size_t len = 0;
		char *bytes = tempdir_read(path, &len);
		cr_assert_not_null(bytes, "cannot read %s", path);
		fuzz_options_blob((const uint8_t *)bytes, len);
		free(bytes);
		free(path);
	}
	closedir(dir);
}
