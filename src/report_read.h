/*
 * A run read back from the SQLite report, for the pages and documents that
 * `imaddr report` writes of a stored run (report_html.c, report_json.c):
 * its description and totals as the audit ended with them, its IM domains,
 * what changed since the previous run of its label and the label's history,
 * and its findings in the order the audit found them. All of it in one read
 * transaction, so that a run committing meanwhile cannot mix in.
 */
#ifndef IMADDR_REPORT_READ_H
#define IMADDR_REPORT_READ_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "imaddr.h"
#include "report_changes.h"
#include "run_description.h"

/* The run's texts, as the runs table holds them; each may be NULL. */
enum imaddr_stored_text {
	IMADDR_STORED_STARTED,
	IMADDR_STORED_VERSION,
	IMADDR_STORED_INPUT,
	IMADDR_STORED_SCHEME,
	IMADDR_STORED_DEFAULT_DOMAIN,
	IMADDR_STORED_IM_DOMAINS,
	IMADDR_STORED_CURRENT_SCHEME,           /* NULL unless a pre-migration run */
	IMADDR_STORED_CURRENT_DEFAULT_DOMAIN,
	IMADDR_STORED_LABEL,
	IMADDR_STORED_WAIVERS,                  /* the --waivers file's name */
	IMADDR_STORED_MAPPING,                  /* "user ID=sAMAccountName, ..." */
	IMADDR_STORED_TEXT_COUNT
};

struct imaddr_stored_run {
	sqlite3 *db;
	const char *path;
	sqlite3_int64 id;
	char *text[IMADDR_STORED_TEXT_COUNT];
	/* by_code counts the findings no waiver accepts, waived_by_code the
	 * others; changes points at `changes`. */
	struct imaddr_run_totals totals;
	struct imaddr_domain_count *domains;
	struct imaddr_run_changes changes;
	json_t *changes_document;
	struct imaddr_report_history history;
};

/**
 * Opens the report at `path` for reading, begins the read transaction and
 * reads run `run_id` (0: the newest). Release `run` with
 * imaddr_stored_run_close whatever this returns. IMADDR_ERR_DB when the
 * file is not an imaddr report of this schema, IMADDR_ERR_USAGE when it has
 * no such run.
 */
enum imaddr_status imaddr_stored_run_open(const char *path, int64_t run_id,
					  struct imaddr_stored_run *run, struct imaddr_error *err);
void imaddr_stored_run_close(struct imaddr_stored_run *run);

/** The run as the pages and documents describe it; its strings are the run's. */
void imaddr_stored_run_describe(const struct imaddr_stored_run *run,
				struct imaddr_run_description *out);

/* Which findings imaddr_stored_run_findings lists. */
struct imaddr_stored_findings_wanted {
	uint64_t per_code;       /* the first this many of each code */
	/* With per_code: the duplicate group a code's listing ends in, to its
	 * end, by at most this many findings more (0: none). */
	uint64_t group_rest;
	bool waived;             /* those a waiver accepts too */
	/* im-address-changes, which the report keeps as users' columns: the
	 * finding the audit made of each, its field the attribute the run's
	 * mapping names for the scheme's role (NULL when that varied) */
	bool im_address_changes;
	/* In the worklist's order: each user's findings together, users in
	 * input order, then those of no user; else the order the audit found
	 * them in, which keeps each duplicate group together. */
	bool by_user;
};

/** A finding read back, with its duplicate group (0: none) and its user's names. */
struct imaddr_stored_finding {
	struct imaddr_finding finding;
	uint64_t duplicate_group;
	const char *first_name;
	const char *last_name;
};

typedef enum imaddr_status imaddr_stored_finding_fn(void *context,
						    const struct imaddr_stored_finding *stored,
						    struct imaddr_error *err);

/**
 * The run's findings, `wanted` of them in its order, duplicate groups
 * numbered as the audit numbered them. Stops at, and returns, the first
 * status of `fn` other than IMADDR_OK, or IMADDR_ERR_INTERRUPTED at a stop
 * requested (imaddr_stop_requested).
 */
enum imaddr_status imaddr_stored_run_findings(struct imaddr_stored_run *run,
					      const struct imaddr_stored_findings_wanted *wanted,
					      imaddr_stored_finding_fn *fn, void *context,
					      struct imaddr_error *err);

/** IMADDR_ERR_DB: "cannot read the report 'path': <SQLite's message>". */
enum imaddr_status imaddr_stored_run_error(struct imaddr_stored_run *run,
					   struct imaddr_error *err);

#endif /* IMADDR_REPORT_READ_H */
