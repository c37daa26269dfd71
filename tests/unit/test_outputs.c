/*
 * All or nothing across outputs: when the BAT file or the report fails (a
 * full disk, as RLIMIT_FSIZE makes it), neither output changes. Criterion
 * runs each test in a process of its own, so the limit stays in it.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "imaddr.h"
#include "report_fixture.h"
#include "tempdir.h"

TEMPDIR_TEST_SUITE(outputs);

static const char *fill_at;     /* the step at which the disk fills up */
static off_t room;              /* what is left then, as a file size limit */

static void fill_disk(const char *step)
{
	if (strcmp(step, fill_at))
		return;
	struct rlimit limit;
	cr_assert_eq(getrlimit(RLIMIT_FSIZE, &limit), 0);
	limit.rlim_cur = (rlim_t)room;
	cr_assert_neq(signal(SIGXFSZ, SIG_IGN), SIG_ERR);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &limit), 0);
}

static char *users_csv(const char *prefix, size_t count)
{
	struct stat st;
	char name[64];
	snprintf(name, sizeof(name), "%s.csv", prefix);
	char *path = tempdir_path(dir, name);
	FILE *file = fopen(path, "w");
	cr_assert_not_null(file);
	fputs("USER ID,LAST NAME,mail\n", file);
	for (size_t i = 0; i < count; i++)
		fprintf(file, "%s%zu,Last,%s.with.a.long.local.part.%zu@EXAMPLE.com\n", prefix, i,
			prefix, i);
	cr_assert_eq(fclose(file), 0);
	cr_assert_eq(stat(path, &st), 0);
	return path;
}

static enum imaddr_status audit(const char *csv, struct imaddr_error *err)
{
	struct imaddr_audit_options options;
	struct imaddr_audit *run = NULL;
	struct imaddr_reader *reader = NULL;
	struct imaddr_sink *sink = NULL;
	char *db = tempdir_path(dir, "report.sqlite");
	char *bat = tempdir_path(dir, "bat.csv");

	imaddr_audit_options_init(&options);
	options.scheme = IMADDR_SCHEME_DIRECTORY_URI;
	options.input_name = "users.csv";
	imaddr_mapping_set(&options.mapping, IMADDR_ROLE_DIRECTORY_URI, "mail");
	cr_assert_eq(imaddr_audit_new(&options, &run, err), IMADDR_OK, "%s", err->message);
	cr_assert_eq(imaddr_sink_report_open(db, 0, &sink, err), IMADDR_OK, "%s", err->message);
	imaddr_audit_add_sink(run, sink);
	cr_assert_eq(imaddr_sink_bat_open(bat, 0, 0, &sink, err), IMADDR_OK, "%s", err->message);
	imaddr_audit_add_sink(run, sink);
	cr_assert_eq(imaddr_csv_reader_open(csv, &reader, err), IMADDR_OK, "%s", err->message);
	enum imaddr_status status = imaddr_audit_run(run, reader, NULL, err);
	imaddr_reader_free(reader);
	imaddr_audit_free(run);
	free(db);
	free(bat);
	return status;
}

static off_t size_of(const char *name)
{
	struct stat st;
	char *path = tempdir_path(dir, name);
	cr_assert_eq(stat(path, &st), 0, "%s", name);
	free(path);
	return st.st_size;
}

static char *contents_of(const char *name)
{
	char *path = tempdir_path(dir, name);
	char *text = tempdir_read(path, NULL);
	cr_assert_not_null(text, "%s", name);
	free(path);
	return text;
}

/* The first run's outputs, unchanged, and nothing else beside them. */
static void expect_first_run(off_t report_size, const char *bat)
{
	char *db = tempdir_path(dir, "report.sqlite");
	char *now = contents_of("bat.csv");
	cr_expect_str_eq(now, bat, "the BAT file changed");
	cr_expect_eq(size_of("report.sqlite"), report_size, "the report's size changed");
	report_expect_rows(db, "SELECT count(*) FROM runs", "1\n");
	report_expect_rows(db, "PRAGMA integrity_check", "ok\n");
	tempdir_expect_listing(dir, "bat.csv,first.csv,report.sqlite,second.csv");
	free(now);
	free(db);
}

/* The BAT file outgrows the disk after the read: the report is rolled back. */
Test(outputs, a_full_disk_at_the_bat_changes_neither_output)
{
	struct imaddr_error err = { "" };
	char *first = users_csv("first", 10);
	char *second = users_csv("second", 20000);
	cr_assert_eq(audit(first, &err), IMADDR_OK, "%s", err.message);
	off_t report_size = size_of("report.sqlite");
	char *bat = contents_of("bat.csv");
	/*
	 * Once the spool is read back: room for the report's first pages (it
	 * stays in SQLite's cache until the commit), not for a 1.4 MB BAT file.
	 */
	cr_assert_lt(report_size, 600000);
	fill_at = "final-pass";
	room = 600000;
	imaddr_set_step_hook(fill_disk);
	cr_assert_eq(audit(second, &err), IMADDR_ERR_IO);
	imaddr_set_step_hook(NULL);
	cr_expect(strstr(err.message, "bat.csv.tmp-"), "%s", err.message);
	expect_first_run(report_size, bat);
	free(bat);
	free(first);
	free(second);
}

/* The BAT file is staged, the report's commit fails: the BAT stays as it was. */
Test(outputs, a_full_disk_at_the_report_commit_changes_neither_output)
{
	struct imaddr_error err = { "" };
	char *first = users_csv("first", 10);
	char *second = users_csv("second", 2000);
	cr_assert_eq(audit(first, &err), IMADDR_OK, "%s", err.message);
	off_t report_size = size_of("report.sqlite");
	char *bat = contents_of("bat.csv");
	fill_at = "prepared";
	room = report_size;
	imaddr_set_step_hook(fill_disk);
	cr_assert_eq(audit(second, &err), IMADDR_ERR_DB);
	imaddr_set_step_hook(NULL);
	cr_expect(strstr(err.message, "cannot commit report"), "%s", err.message);
	expect_first_run(report_size, bat);
	free(bat);
	free(first);
	free(second);
}
