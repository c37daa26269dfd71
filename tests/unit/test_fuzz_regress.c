/*
 * Every input the reader and audit fuzzers ever crashed on
 * (tests/fuzz/regress/), and inputs written there for what the whole-audit
 * target checks beyond crashes (two-runs-*.csv: a label's second run reads
 * back as its input audited alone), replayed through both fuzz targets'
 * audits, the reader's with its summary and the whole one with every
 * output: a file ending in .csv as CSV, one ending in .args not here (the
 * option fuzzer's: test_tool_audit.c), any other as LDIF. Under `make asan`
 * a memory error here fails the suite.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <string.h>

#define FUZZ_NO_ENTRY
#include "../fuzz/fuzz_reader.c"
#include "../fuzz/fuzz_audit.c"

#include "tempdir.h"

#define REGRESS_DIR "tests/fuzz/regress"

Test(fuzz_regress, every_crash_input_is_audited_without_a_crash)
{
	DIR *dir = opendir(REGRESS_DIR);
	cr_assert_not_null(dir, "no %s (run from the top of the tree)", REGRESS_DIR);
	size_t replayed = 0;
	for (struct dirent *entry; (entry = readdir(dir));) {
		const char *dot = strrchr(entry->d_name, '.');
		if (entry->d_name[0] == '.' || (dot && !strcmp(dot, ".args")))
			continue;
		char *path = tempdir_path(REGRESS_DIR, entry->d_name);
		size_t len = 0;
		char *bytes = tempdir_read(path, &len);
		cr_assert_not_null(bytes, "cannot read %s", path);
		bool csv = dot && !strcmp(dot, ".csv");
		fuzz_audit_blob((const uint8_t *)bytes, len, csv);
		fuzz_whole_audit_blob((const uint8_t *)bytes, len, csv);
		free(bytes);
		free(path);
		replayed++;
	}
	closedir(dir);
	cr_expect_gt(replayed, 0, "the regression corpus is empty");
}
