/*
 * Test support for the SQLite report: runs written through the report's
 * sink as the audit hands them over, and queries that read the report back
 * as text. Every helper asserts (through Criterion) rather than returning
 * an error, so a test reads as its steps.
 */
#ifndef IMADDR_REPORT_FIXTURE_H
#define IMADDR_REPORT_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imaddr.h"
#include "sink.h"

/* What one run hands the sink. */
struct report_fixture_user {
	uint64_t line;
	const char *dn;
	const char *user_id;
	const char *last_name;
	const char *im_address;
	const char *im_domain;
};

struct report_fixture_finding {
	enum imaddr_code code;
	uint64_t ordinal;
	uint64_t line;
	const char *field;
	const char *value;
	uint64_t related_ordinal;
	const char *suggestion;
};

struct report_fixture {
	const char *input;
	const struct report_fixture_user *users;
	size_t user_count;
	const struct report_fixture_finding *findings;
	size_t finding_count;
	const struct imaddr_domain_count *domains;
	size_t domain_count;
};

/*
 * Three users of users.csv, two findings of users and one of no user, two
 * domains; then the same input a run later: Ann's IM address changes, Bo
 * Smith 2 is renamed, Cy arrives.
 */
extern const struct report_fixture report_first_run;
extern const struct report_fixture report_second_run;

bool report_file_exists(const char *path);

/**
 * Every row of `sql` run on the report at `path` (read-only) as "a|b|c"
 * lines, NULL spelled NULL, so that a test compares one expected string
 * with what the report holds. The caller frees it.
 */
char *report_query(const char *path, const char *sql);
/** Expects report_query(path, sql) to be `expected`. */
void report_expect_rows(const char *path, const char *sql, const char *expected);
/** Expects "runs|users|findings|domains", the number of rows of each. */
void report_count_rows(const char *path, const char *expected);
/** Runs `sql` on `path` through a connection of its own, as another program. */
void report_run_sql(const char *path, const char *sql);

/** imaddr_sink_report_open: the report, or NULL with `err` filled. */
struct imaddr_sink *report_open_or_null(const char *path, struct imaddr_error *err);
/** imaddr_sink_report_open, asserting it succeeds. */
struct imaddr_sink *report_open(const char *path);
/** Begins a run of `input` (version 0.1.0, started 2023-11-14T22:13:20Z). */
void report_begin_run(struct imaddr_sink *sink, const char *input);
/** The same, returning the sink's status instead of asserting it. */
enum imaddr_status report_try_begin_run(struct imaddr_sink *sink, const char *input,
				       struct imaddr_error *err);
/*
 * The fixture's users and findings, from buffers the next one overwrites:
 * the sink must be done with a callback's strings when it returns.
 */
void report_feed_users(struct imaddr_sink *sink, const struct report_fixture *fixture);
void report_feed_findings(struct imaddr_sink *sink, const struct report_fixture *fixture);
/** Ends the run with the fixture's totals, asserting it commits. */
void report_end_run(struct imaddr_sink *sink, const struct report_fixture *fixture);
/** Frees the sink through its ops, as imaddr_sink_free does. */
void report_free(struct imaddr_sink *sink);
/** Opens, begins, feeds, ends and frees: one whole run. */
void report_write_run(const char *path, const struct report_fixture *fixture);

#endif /* IMADDR_REPORT_FIXTURE_H */
