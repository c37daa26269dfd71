/*
 * The end-to-end cases of tests/cases/, run again through the library alone,
 * as cmark runs its spec against both its library and its program: every
 * case whose command is one plain `"$IMADDR" audit --csv ...` run is parsed
 * here, audited with the public API, and its summary, its error message, its
 * exit status and its output files compared with what the case expects of
 * the program. A case using an option this runner does not know is skipped
 * (and counted, so that the runner cannot silently skip them all).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imaddr.h"
#include "tempdir.h"

#define CASES_DIR "tests/cases"
#define MAX_WORDS 32

/* The options of a case this runner understands. */
struct case_run {
	struct imaddr_audit_options options;
	struct imaddr_file_options file;
	const char *csv;
	const char *bat;
	const char *db;
	unsigned long bat_chunk;
	bool quiet;
	bool fail_never;
	enum imaddr_severity fail_on;
};

/* The shell words of a one-line command: "..." quoted, $OUT replaced. */
static size_t split_words(char *line, const char *out_dir, char **words)
{
	size_t count = 0;
	char *p = line;
	while (*p && count < MAX_WORDS) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		char word[1024];
		size_t len = 0;
		bool quoted = false;
		for (; *p && (quoted || (*p != ' ' && *p != '\t')); p++) {
			if (*p == '"') {
				quoted = !quoted;
			} else if (!strncmp(p, "$OUT", 4)) {
				len += (size_t)snprintf(word + len, sizeof(word) - len, "%s", out_dir);
				p += 3;
			} else if (len + 1 < sizeof(word)) {
				word[len++] = *p;
			}
		}
		word[len] = '\0';
		words[count++] = strdup(word);
	}
	return count;
}

static bool parse_case(char **words, size_t count, struct case_run *run)
{
	memset(run, 0, sizeof(*run));
	imaddr_audit_options_init(&run->options);
	imaddr_file_options_init(&run->file);
	run->fail_on = IMADDR_SEVERITY_ERROR;
	if (count < 3 || strcmp(words[0], "$IMADDR") || strcmp(words[1], "audit"))
		return false;
	for (size_t i = 2; i < count; i++) {
		const char *option = words[i], *value = i + 1 < count ? words[i + 1] : NULL;
		if (!strcmp(option, "--quiet")) {
			run->quiet = true;
			continue;
		}
		if (!value)
			return false;
		i++;
		if (!strcmp(option, "--csv"))
			run->csv = value;
		else if (!strcmp(option, "--bat"))
			run->bat = value;
		else if (!strcmp(option, "--bat-chunk"))
			run->bat_chunk = strtoul(value, NULL, 10);
		else if (!strcmp(option, "--db"))
			run->db = value;
		else if (!strcmp(option, "--default-domain"))
			run->options.default_domain = value;
		else if (!strcmp(option, "--im-domains"))
			run->options.im_domains = value;
		else if (!strcmp(option, "--scheme"))
			run->options.scheme = strcmp(value, "directory-uri")
						      ? IMADDR_SCHEME_USERID
						      : IMADDR_SCHEME_DIRECTORY_URI;
		else if (!strcmp(option, "--uri-attr"))
			imaddr_mapping_set(&run->options.mapping, IMADDR_ROLE_DIRECTORY_URI, value);
		else if (!strcmp(option, "--userid-attr"))
			imaddr_mapping_set(&run->options.mapping, IMADDR_ROLE_USER_ID, value);
		else if (!strcmp(option, "--mail-attr"))
			imaddr_mapping_set(&run->options.mapping, IMADDR_ROLE_MAIL, value);
		else if (!strcmp(option, "--first-name-attr"))
			imaddr_mapping_set(&run->options.mapping, IMADDR_ROLE_FIRST_NAME, value);
		else if (!strcmp(option, "--last-name-attr"))
			imaddr_mapping_set(&run->options.mapping, IMADDR_ROLE_LAST_NAME, value);
		else if (!strcmp(option, "--dn-attr"))
			imaddr_mapping_set_dn(&run->options.mapping, value);
		else if (!strcmp(option, "--encoding"))
			run->file.encoding = value;
		else if (!strcmp(option, "--delimiter") && strlen(value) == 1)
			run->file.delimiter = value[0];
		else if (!strcmp(option, "--fail-on") && !strcmp(value, "never"))
			run->fail_never = true;
		else if (!strcmp(option, "--fail-on"))
			cr_assert(imaddr_severity_parse(value, &run->fail_on));
		else
			return false;
	}
	return run->csv && strcmp(run->csv, "-");
}

/* The program's exit status for a run, as docs/imaddr.1 gives it. */
static int exit_status(const struct case_run *run, enum imaddr_status status,
		       const struct imaddr_run_totals *totals)
{
	if (status == IMADDR_ERR_USAGE || status == IMADDR_ERR_INPUT)
		return 2;
	if (status != IMADDR_OK)
		return 3;
	for (int severity = run->fail_on; !run->fail_never && severity <= IMADDR_SEVERITY_ERROR;
	     severity++) {
		if (totals->by_severity[severity])
			return 1;
	}
	return 0;
}

/* Audits as the program would; the summary goes to `out`, a failure's message to `message`. */
static int audit_case(const char *case_dir, struct case_run *run, FILE *out, FILE *message)
{
	struct imaddr_error err = { "" };
	struct imaddr_audit *audit = NULL;
	struct imaddr_reader *reader = NULL;
	struct imaddr_run_totals totals = { 0 };
	struct imaddr_sink *sink = NULL;
	char *csv = strdup(run->csv);
	char *input_name = strdup(run->csv);
	char *top = getcwd(NULL, 0);

	/* As the runner does: paths in the command are the case directory's. */
	cr_assert_eq(chdir(case_dir), 0, "%s", case_dir);
	run->options.input_name = input_name;
	/* As the program does: the user cache beside the report. */
	char *user_cache = NULL;
	if (run->db) {
		user_cache = malloc(strlen(run->db) + sizeof(".users"));
		cr_assert_not_null(user_cache);
		strcat(strcpy(user_cache, run->db), ".users");
	}
	run->options.user_cache_dir = user_cache;
	enum imaddr_status status = imaddr_audit_new(&run->options, &audit, &err);
	if (status == IMADDR_OK)
		status = imaddr_csv_reader_open_with(csv, &run->file, &reader, &err);
	if (status == IMADDR_OK && run->db &&
	    (status = imaddr_sink_report_open(run->db, -1, &sink, &err)) == IMADDR_OK)
		imaddr_audit_add_sink(audit, sink);
	if (status == IMADDR_OK && run->bat &&
	    (status = imaddr_sink_bat_open(run->bat, run->bat_chunk, -1, &sink, &err)) == IMADDR_OK)
		imaddr_audit_add_sink(audit, sink);
	if (status == IMADDR_OK && !run->quiet &&
	    (status = imaddr_sink_summary_open(out, &sink, &err)) == IMADDR_OK)
		imaddr_audit_add_sink(audit, sink);
	if (status == IMADDR_OK && run->quiet && run->db &&
	    (status = imaddr_sink_summary_open_changes(out, &sink, &err)) == IMADDR_OK)
		imaddr_audit_add_sink(audit, sink);
	if (status == IMADDR_OK)
		status = imaddr_audit_run(audit, reader, &totals, &err);
	if (status != IMADDR_OK)
		fprintf(message, "imaddr: %s\n", err.message);
	imaddr_reader_free(reader);
	imaddr_audit_free(audit);
	cr_assert_eq(chdir(top), 0);
	free(top);
	free(csv);
	free(input_name);
	free(user_cache);
	run->options.user_cache_dir = NULL;
	return exit_status(run, status, &totals);
}

/* As the runner does: the scratch directory's path reads $OUT. */
static char *with_out_named(const char *text, const char *out_dir)
{
	size_t out_len = strlen(out_dir);
	char *named = malloc(strlen(text) * 2 + 1), *w = named;
	for (const char *p = text; *p;) {
		if (!strncmp(p, out_dir, out_len)) {
			w = stpcpy(w, "$OUT");
			p += out_len;
		} else {
			*w++ = *p++;
		}
	}
	*w = '\0';
	return named;
}

static char *read_or_empty(const char *dir, const char *name)
{
	char *path = tempdir_path(dir, name);
	char *text = tempdir_read(path, NULL);
	free(path);
	return text ? text : strdup("");
}

static void expect_file(const char *case_name, const char *expected_dir, const char *name,
			const char *out_dir)
{
	char *expected_path = tempdir_path(expected_dir, name);
	DIR *subdirectory = opendir(expected_path);
	if (subdirectory) {
		/* A directory of BAT chunks: each file in it. */
		char *out_path = tempdir_path(out_dir, name);
		for (struct dirent *entry; (entry = readdir(subdirectory));) {
			if (entry->d_name[0] != '.')
				expect_file(case_name, expected_path, entry->d_name, out_path);
		}
		closedir(subdirectory);
		free(out_path);
		free(expected_path);
		return;
	}
	free(expected_path);
	char *expected = read_or_empty(expected_dir, name);
	char *path = tempdir_path(out_dir, name);
	char *actual = tempdir_read(path, NULL);
	cr_expect_not_null(actual, "%s: the library wrote no %s", case_name, name);
	if (actual)
		cr_expect_str_eq(actual, expected, "%s: %s", case_name, name);
	free(expected);
	free(actual);
	free(path);
}

/* Runs one case; false when its command is not one this runner knows. */
static bool run_case(const char *name)
{
	char *case_dir = tempdir_path(CASES_DIR, name);
	char *command = read_or_empty(case_dir, "cmd");
	char *out_dir = tempdir_create();
	char *words[MAX_WORDS];
	struct case_run run;
	bool known = false;

	size_t first_line = strcspn(command, "\n");
	bool one_line = !command[first_line] || !command[first_line + 1];
	command[first_line] = '\0';
	one_line = one_line && !strpbrk(command, "|<>;");
	size_t count = one_line ? split_words(command, out_dir, words) : 0;
	if (count && parse_case(words, count, &run)) {
		known = true;
		char *stdout_text = NULL, *stderr_text = NULL;
		size_t stdout_len = 0, stderr_len = 0;
		FILE *out = open_memstream(&stdout_text, &stdout_len);
		FILE *message = open_memstream(&stderr_text, &stderr_len);
		int code = audit_case(case_dir, &run, out, message);
		fclose(out);
		fclose(message);

		char *expected_exit = read_or_empty(case_dir, "expected-exit");
		cr_expect_eq(code, atoi(expected_exit), "%s: exit status", name);
		char *expected_stdout = read_or_empty(case_dir, "expected-stdout");
		char *summary = with_out_named(stdout_text, out_dir);
		cr_expect_str_eq(summary, expected_stdout, "%s: summary", name);
		free(summary);
		char *stderr_path = tempdir_path(case_dir, "expected-stderr");
		char *expected_stderr = tempdir_read(stderr_path, NULL);
		char *message_text = with_out_named(stderr_text, out_dir);
		if (expected_stderr)
			cr_expect_str_eq(message_text, expected_stderr, "%s: message", name);
		free(message_text);
		char *expected_dir = tempdir_path(case_dir, "expected");
		DIR *files = opendir(expected_dir);
		for (struct dirent *entry; files && (entry = readdir(files));) {
			if (entry->d_name[0] != '.')
				expect_file(name, expected_dir, entry->d_name, out_dir);
		}
		if (files)
			closedir(files);
		free(expected_dir);
		free(stderr_path);
		free(expected_stderr);
		free(expected_stdout);
		free(expected_exit);
		free(stdout_text);
		free(stderr_text);
	}
	for (size_t i = 0; i < count; i++)
		free(words[i]);
	/* The report's journal and BAT temporaries must be gone: a flat directory. */
	char *listing = tempdir_list(out_dir);
	cr_expect_null(strstr(listing, ".tmp-"), "%s: temporary files left: %s", name, listing);
	cr_expect_null(strstr(listing, "-journal"), "%s: journal left: %s", name, listing);
	free(listing);
	tempdir_remove(out_dir);
	free(out_dir);
	free(command);
	free(case_dir);
	return known;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

Test(cases, plain_audit_cases_give_the_same_through_the_library, .timeout = 120)
{
	struct dirent **entries;
	int count = scandir(CASES_DIR, &entries, NULL, by_name);
	cr_assert_gt(count, 0, "no cases under %s (run from the top of the tree)", CASES_DIR);
	size_t ran = 0;
	for (int i = 0; i < count; i++) {
		if (entries[i]->d_name[0] != '.' && run_case(entries[i]->d_name))
			ran++;
		free(entries[i]);
	}
	free(entries);
	/* Most cases are plain audit runs: a parser that grew too strict shows here. */
	cr_expect_geq(ran, 15, "only %zu cases ran through the library", ran);
}
