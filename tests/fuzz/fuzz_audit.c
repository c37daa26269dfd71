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
 * chunks, the worklist's format, and a first run of the input's first half
 * into the same report, so that the second run is compared with it. Besides
 * a crash, a run fails the target when it leaves a temporary file of the
 * output protocol (docs/design.md, "All or nothing across outputs"), or
 * when it fails and the directory does not hold exactly what it held
 * before.
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
static void run_audit(struct audit_dir *dir, const char *input_path, bool csv, unsigned pick,
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
	if (pick & PICK_TWO_RUNS) {
		write_file(file_in(&dir, "first-half"), data, size / 2);
		run_audit(&dir, file_in(&dir, "first-half"), csv, pick, devnull);
	}
	write_file(file_in(&dir, "input"), data, size);
	run_audit(&dir, file_in(&dir, "input"), csv, pick, devnull);
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
