/*
 * The HTML report's page: one self-contained file (styles and a small script
 * inline, nothing fetched), readable with scripts off, that the two sources
 * of a run write through: the audit in progress (sink_html.c) and a run read
 * back from the SQLite report (report_html.c). The writer only formats; its
 * callers decide what goes in. Every text from the directory or the command
 * line is HTML-escaped here, and bytes that are not UTF-8 become U+FFFD.
 */
#ifndef IMADDR_HTML_REPORT_H
#define IMADDR_HTML_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "imaddr.h"
#include "run_description.h"

/* How many findings of one code the page holds (the worklist has them all),
 * and how many users of the before/after table. A browser lays a table of
 * 22,000 rows out in tens of seconds, one of 2,200 in about two; see
 * docs/html.md and docs/performance.md. */
#define IMADDR_HTML_FINDINGS_PER_CODE 200
/*
 * The duplicate group the 200th finding of a code falls in is listed to its
 * end, so that a group is not shown in part, but by at most this many rows
 * more: 400,000 users sharing one mailbox are one group.
 */
#define IMADDR_HTML_GROUP_REST_MAX 200
#define IMADDR_HTML_PLAN_ROWS 1000


/** A row of the before/after table of a pre-migration run. */
struct imaddr_html_plan_row {
	const char *cluster;
	uint64_t line;
	const char *dn;
	const char *user_id;
	const char *before;
	const char *after;
	const char *change;           /* "changes", "lost" or "gained" */
};

/** Writes `text` escaped for HTML text and attribute values; NULL writes nothing. */
void imaddr_html_escape(FILE *out, const char *text);

/** The document's head and the page's header. */
void imaddr_html_begin(FILE *out, const struct imaddr_run_description *run);
/**
 * The verdict, the counts by severity and by code and the IM domains with
 * the certificate's SAN list; `outputs` (NULL: none) the files the run wrote.
 */
void imaddr_html_overview(FILE *out, const struct imaddr_run_description *run,
			  const struct imaddr_run_totals *totals, const char *outputs);
/** One row of the findings table, `group` its duplicate group (0: none). */
void imaddr_html_finding_row(FILE *out, const struct imaddr_finding *finding, uint64_t group);
/** Opens the findings table: `shown` rows of `total` findings follow. */
void imaddr_html_findings_begin(FILE *out, const struct imaddr_run_totals *totals,
				uint64_t shown, uint64_t total);
void imaddr_html_findings_end(FILE *out);
void imaddr_html_plan_begin(FILE *out, uint64_t shown, uint64_t total);
void imaddr_html_plan_row(FILE *out, const struct imaddr_html_plan_row *row);
void imaddr_html_plan_end(FILE *out);
/** The script and the end of the document. */
void imaddr_html_end(FILE *out);

#endif /* IMADDR_HTML_REPORT_H */
