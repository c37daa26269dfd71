#include <criterion/criterion.h>

#include <stdio.h>

#include "imaddr.h"
#include "report_fixture.h"
#include "tempdir.h"

TEMPDIR_TEST_SUITE(report_changes);

/* dir/name; valid until the next call. */
static const char *path_in_dir(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

/* User IDs that sort differently by case and length; namesakes; a lost address. */
static const struct report_fixture_user changes_before[] = {
	{ 2, NULL, "dup", "A", "a@example.com", "example.com" },
	{ 3, NULL, "dup", "B", "b@example.com", "example.com" },
	{ 4, NULL, "same", "S", "s@example.com", "example.com" },
	{ 5, NULL, "lost", "L", "l@example.com", "example.com" },
	{ 6, NULL, "Case", "C", "c@example.com", "example.com" },
	{ 7, NULL, "ab", "AB", "ab@example.com", "example.com" },
};

static const struct report_fixture_user changes_after[] = {
	{ 2, NULL, "ab", "AB", "ab2@example.com", "example.com" },
	{ 3, NULL, "lost", "L", NULL, NULL },
	{ 4, NULL, "same", "S", "s@example.com", "example.com" },
	{ 5, NULL, "dup", "A", "a@example.com", "example.com" },
	{ 6, NULL, "case", "C", "c@example.com", "example.com" },
	{ 7, NULL, "a", "A", "a1@example.com", "example.com" },
};

Test(report_changes, match_exact_user_ids_and_every_namesake)
{
	const char *path = path_in_dir("report.sqlite");
	const struct report_fixture before = { "changes.csv", changes_before, 6, NULL, 0, NULL, 0 };
	const struct report_fixture after = { "changes.csv", changes_after, 6, NULL, 0, NULL, 0 };

	report_write_run(path, &before);
	report_write_run(path, &after);
	report_expect_rows(path,
		"SELECT * FROM im_address_changes ORDER BY run_id, ordinal, previous_ordinal",
		"2|1|ab|1|6|ab@example.com|ab2@example.com\n"
		"2|1|lost|2|4|l@example.com|NULL\n"
		"2|1|dup|4|2|b@example.com|a@example.com\n");
}

