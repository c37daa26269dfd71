/*
 * What the pages and documents of a run say about it at their top, from
 * its two sources: the run in progress (the HTML and JSON outputs) and a run
 * read back from the SQLite report (report_read.c). html_report.c and
 * json_document.c format it.
 */
#ifndef IMADDR_RUN_DESCRIPTION_H
#define IMADDR_RUN_DESCRIPTION_H

#include <stdbool.h>
#include <stdint.h>

#include "imaddr.h"

/* An ISO 8601 UTC time and its NUL: "2026-12-03T13:17:00Z". */
#define IMADDR_RUN_TIME_SIZE 32

/** Strings may be NULL. */
struct imaddr_run_description {
	int64_t run_id;               /* the report's run, or 0 without one */
	const char *input;            /* the inputs as given */
	const char *started;          /* ISO 8601 UTC */
	const char *version;
	const char *scheme;           /* "userid" or "directory-uri" */
	const char *default_domain;
	const char *im_domains;
	bool premigration;
	const char *current_scheme;   /* a pre-migration run's today's configuration */
	const char *current_default_domain;
	const char *waivers;          /* the --waivers file */
	bool has_report;              /* the run is in a report: its changes and history */
};

/** The scheme as the options, the report and the outputs write it. */
const char *imaddr_scheme_name(enum imaddr_scheme scheme);

/**
 * The run in progress: its options, started at `started` (seconds since
 * the epoch, written into `started_text`), in the report when `totals`
 * tells its changes.
 */
void imaddr_run_description_of_run(struct imaddr_run_description *out,
				   const struct imaddr_audit_options *options, int64_t started,
				   char started_text[IMADDR_RUN_TIME_SIZE],
				   const struct imaddr_run_totals *totals);

#endif /* IMADDR_RUN_DESCRIPTION_H */
