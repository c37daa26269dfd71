/*
 * libFuzzer target: one input file through the whole audit as `imaddr
 * audit` runs it, with every output: the SQLite report, the BAT file, the
 * JSON, HTML, worklist, runbook, LDIF fixes and the summary. Built twice by
 * `make fuzz`, as fuzz_audit_csv (FUZZ_AUDIT_CSV) and fuzz_audit_ldif.
 *
 * Each input gets a directory of its own under $TMPDIR (make fuzz points
 * it into build-fuzz/ and removes that after each target, crash or not)
 * holding the input and the outputs, and removed after the input. The
 * input's first byte, which stays part of the file, picks the options, so
 * that the fuzzer explores them too: the scheme, a pre-migration, BAT
 * chunks, the worklist's format, and a first run of the input without its
 * middle third into the same report, so that the second run is compared
 * with it and holds its users wherever they now stand. Besides a crash, a
 * run fails the target when it leaves a temporary file of the output
 * protocol (docs/design.md, "All or nothing across outputs"), when it fails
 * and the directory does not hold exactly what it held before, or when the
 * second of two runs does not read back from the report exactly as the
 * same input read alone into a report of its own.
 * tests/unit/test_fuzz_regress.c includes this file (with FUZZ_NO_ENTRY)
 * to replay tests/fuzz/regress/.
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "imaddr.h"

enum {
	PICK_DIRECTORY_URI = 1 << 0,
	PICK_PREMIGRATION = 1 << 1,
	PICK_BAT_CHUNKS = 1 << 2,
	PICK_WORKLIST_CSV = 1 << 3,
	PICK_TWO_RUNS = 1 << 4,
};

struct audit_dir {
	char root[4096];
	char path[4096 + 64];   /* file_in's result, valid until its next call */
};

static const char *file_in(struct audit_dir *dir, const char *name)
{
	snprintf(dir->path, sizeof(dir->path), "%s/%s", dir->root, name);
	return dir->path;
}

/* Removes a directory and what it holds: files, and a directory of BAT chunks. */
static void remove_tree(const char *root)
{
	DIR *dir = opendir(root);
	if (!dir)
		return;
	for (struct dirent *entry; (entry = readdir(dir));) {
		char path[4096 + 512];
		if (!strcmp(entry->d_name, ".") || !strcmp(entry->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", root, entry->d_name);
		if (unlink(path) != 0)
			remove_tree(path);
	}
	closedir(dir);
	rmdir(root);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* The names in the directory, sorted, each followed by '/'. */
static void list_names(const char *root, char *out, size_t size)
{
	struct dirent **entries;
	int count = scandir(root, &entries, NULL, by_name);
	size_t used = 0;
	if (count < 0)
		abort();
	out[0] = '\0';
	for (int i = 0; i < count; i++) {
		if (used < size)
			used += (size_t)snprintf(out + used, size - used, "%s/", entries[i]->d_name);
		free(entries[i]);
	}
	free(entries);
}

static void audit_dir_create(struct audit_dir *dir)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir->root, sizeof(dir->root), "%s/imaddr-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir->root))
		abort();
}

static void audit_dir_remove(struct audit_dir *dir)
{
	remove_tree(dir->root);
}

static void write_file(const char *path, const uint8_t *data, size_t size)
{
	FILE *file = fopen(path, "wb");
	if (!file || fwrite(data, 1, size, file) != size || fclose(file) != 0)
		abort();
}

/* Every output's directory exists: none may refuse to open. */
#define ADD_OUTPUT(opened) \
	do { \
		if ((opened) != IMADDR_OK) \
			abort(); \
		imaddr_audit_add_sink(audit, sink); \
	} while (0)

/* One run of the file at input_path, with every output in dir. A failing run is fine. */
static bool run_audit(struct audit_dir *dir, const char *input_path, bool csv, unsigned pick,
		      FILE *devnull)
{
	struct imaddr_audit_options options;
	struct imaddr_audit *audit;
	struct imaddr_reader *reader;
	struct imaddr_sink *sink;
	struct imaddr_error err;
	char input[4096 + 64];
	char before[4096], after[4096];

	snprintf(input, sizeof(input), "%s", input_path);
	list_names(dir->root, before, sizeof(before));
	imaddr_audit_options_init(&options);
	options.scheme = pick & PICK_DIRECTORY_URI ? IMADDR_SCHEME_DIRECTORY_URI
						   : IMADDR_SCHEME_USERID;
	options.default_domain = "example.com";
	options.im_domains = "example.com,münchen.example";
	options.label = "fuzz";
	options.allow_shrink = true;
	if (pick & PICK_PREMIGRATION) {
		options.premigration = true;
		options.current_scheme = pick & PICK_DIRECTORY_URI ? IMADDR_SCHEME_USERID
								   : IMADDR_SCHEME_DIRECTORY_URI;
		options.current_default_domain = "example.org";
	}
	if (imaddr_audit_new(&options, &audit, &err) != IMADDR_OK)
		abort();
	/* In the program's order: the report first, whose commit decides the run. */
	ADD_OUTPUT(imaddr_sink_report_open(file_in(dir, "report.sqlite"), 0, &sink, &err));
	ADD_OUTPUT(imaddr_sink_bat_open(file_in(dir, "bat.csv"), pick & PICK_BAT_CHUNKS ? 2 : 0, 0,
					&sink, &err));
	ADD_OUTPUT(imaddr_sink_ldif_fixes_open(file_in(dir, "fixes.ldif"), &sink, &err));
	ADD_OUTPUT(imaddr_sink_runbook_open(file_in(dir, "runbook.txt"), &sink, &err));
	ADD_OUTPUT(imaddr_sink_worklist_open(file_in(dir, pick & PICK_WORKLIST_CSV ? "worklist.csv"
									 : "worklist.xlsx"),
					     &sink, &err));
	ADD_OUTPUT(imaddr_sink_html_open(file_in(dir, "report.html"), &sink, &err));
	ADD_OUTPUT(imaddr_sink_json_open(file_in(dir, "run.json"), 5, &sink, &err));
	ADD_OUTPUT(imaddr_sink_summary_open(devnull, &sink, &err));
	ADD_OUTPUT(imaddr_sink_summary_open_changes(devnull, &sink, &err));
	enum imaddr_status status = csv ? imaddr_csv_reader_open(input, &reader, &err)
					: imaddr_ldif_reader_open(input, &reader, &err);
	if (status != IMADDR_OK)
		abort();
	status = imaddr_audit_run(audit, reader, NULL, &err);
	imaddr_reader_free(reader);
	imaddr_audit_free(audit);
	list_names(dir->root, after, sizeof(after));
	if (strstr(after, ".tmp-") || strstr(after, ".old-") || strstr(after, ".pending") ||
	    strstr(after, ".lock") || (status != IMADDR_OK && strcmp(before, after)))
		abort();
	return status == IMADDR_OK;
}

/*
 * A run's users and findings as the views show them, without version ids:
 * the rows of `sql` (?1 the run) sorted, one per line.
 */
static char *read_back(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	size_t size = 0;
	char *text = NULL;
	FILE *out = open_memstream(&text, &size);

	if (!out || sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		abort();
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		for (int i = 0; i < sqlite3_column_count(stmt); i++) {
			const unsigned char *value = sqlite3_column_text(stmt, i);
			fprintf(out, "%s%s", i ? "|" : "", value ? (const char *)value : "NULL");
		}
		fputc('\n', out);
	}
	if (rc != SQLITE_DONE)
		abort();
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	fclose(out);
	return text;
}

/* The newest run of the report at `path`, as it reads back. */
static const char *const read_back_sql[] = {
	"SELECT ordinal, line, dn, user_id, mail, first_name, last_name, directory_uri,"
	" current_uri, im_address, im_domain, im_address_before, im_address_change, cluster"
	" FROM users WHERE run_id = (SELECT id FROM latest_run) ORDER BY ordinal",
	"SELECT ordinal, line, dn, user_id, code, severity, field, value, message, suggestion,"
	" related_ordinal, related_line, related_dn, related_user_id, waiver_reason"
	" FROM finding_rows WHERE run_id = (SELECT id FROM latest_run)"
	" ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15",
};

/* The second run of a label reads back as the same input audited alone. */
static void expect_read_back_alike(struct audit_dir *dir, const char *input_path, bool csv,
				   unsigned pick, FILE *devnull)
{
	struct audit_dir alone;
	char input[4096 + 64], held[4096 + 64];

	/* Both may be file_in()'s buffer, which the next call overwrites. */
	snprintf(input, sizeof(input), "%s", input_path);
	snprintf(held, sizeof(held), "%s", file_in(dir, "report.sqlite"));
	audit_dir_create(&alone);
	if (!run_audit(&alone, input, csv, pick, devnull))
		abort();
	for (size_t i = 0; i < sizeof(read_back_sql) / sizeof(read_back_sql[0]); i++) {
		char *expected = read_back(file_in(&alone, "report.sqlite"), read_back_sql[i]);
		char *actual = read_back(held, read_back_sql[i]);
		if (strcmp(expected, actual)) {
			fprintf(stderr, "EXPECTED\n%s\nACTUAL\n%s\n", expected, actual);
			abort();
		}
		free(expected);
		free(actual);
	}
	audit_dir_remove(&alone);
}

/* Audits the blob as a CSV or an LDIF file with every output; a crash is all that fails. */
static void fuzz_whole_audit_blob(const uint8_t *data, size_t size, bool csv)
{
	struct audit_dir dir;
	unsigned pick = size ? data[0] : 0;
	FILE *devnull = fopen("/dev/null", "w");
	if (!devnull)
		abort();
	audit_dir_create(&dir);
	bool first_ran = false;
	if (pick & PICK_TWO_RUNS) {
		/* Without its middle third: the second run inserts users among the others. */
		FILE *first = fopen(file_in(&dir, "first"), "wb");
		if (!first || fwrite(data, 1, size / 3, first) != size / 3 ||
		    fwrite(data + 2 * (size / 3), 1, size - 2 * (size / 3), first) !=
			    size - 2 * (size / 3) ||
		    fclose(first) != 0)
			abort();
		first_ran = run_audit(&dir, file_in(&dir, "first"), csv, pick, devnull);
	}
	write_file(file_in(&dir, "input"), data, size);
	bool ran = run_audit(&dir, file_in(&dir, "input"), csv, pick, devnull);
	if (first_ran && ran)
		expect_read_back_alike(&dir, file_in(&dir, "input"), csv, pick, devnull);
	audit_dir_remove(&dir);
	fclose(devnull);
}

#ifndef FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
#ifdef FUZZ_AUDIT_CSV
	fuzz_whole_audit_blob(data, size, true);
#else
	fuzz_whole_audit_blob(data, size, false);
#endif
	return 0;
}
#endif
