/*
 * The text summary printed at the end of a run, and `imaddr report`'s of a
 * stored run: one printer (imaddr_summary_print) fed either by the live run
 * or by what the report kept of it (report_summary.c).
 */
#ifndef IMADDR_SINK_SUMMARY_H
#define IMADDR_SINK_SUMMARY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "buffer.h"
#include "imaddr.h"
#include "sink.h"

/* How many findings of each error and warning code the summary shows. */
#define IMADDR_SUMMARY_EXAMPLES 3
/* How many sets of duplicate users it shows, and members of each. */
#define IMADDR_SUMMARY_GROUPS 5
#define IMADDR_SUMMARY_MEMBERS 5
/* How many IM address changes a pre-migration summary shows. */
#define IMADDR_SUMMARY_CHANGES 10

/*
 * A set of duplicate users as the summary shows it: its members, once, and
 * what they share. The groups of one set of users (a URI, a mail address and
 * an IM address shared by the same two users) are one set.
 */
struct imaddr_summary_set {
	uint64_t ordinals[IMADDR_SUMMARY_MEMBERS];  /* while collecting: to merge groups */
	char *members[IMADDR_SUMMARY_MEMBERS];      /* "DN", "line 12", "cluster: DN" */
	size_t member_count;                        /* those kept */
	uint64_t total_members;
	uint64_t unwaived_members;                  /* a group all waived is not shown */
	uint64_t codes;                             /* bit (1 << code) per code shared */
	struct imaddr_buf values[IMADDR_CODE_COUNT];  /* "[field] 'v1', 'v2'" per code */
};

/** Frees a set's strings and zeroes it. */
void imaddr_summary_set_release(struct imaddr_summary_set *set);

/*
 * What the summary names of a run's findings: the first findings of each
 * code, as printed lines, and the first sets of duplicate users. Both the
 * summary and the report collect them from the findings as the audit hands
 * them over; the report keeps them for `imaddr report`. Owns its strings.
 */
struct imaddr_summary_notes {
	char *examples[IMADDR_CODE_COUNT][IMADDR_SUMMARY_CHANGES];
	size_t example_count[IMADDR_CODE_COUNT];
	uint64_t group_count[IMADDR_CODE_COUNT];   /* duplicate groups by code */
	struct imaddr_summary_set shown[IMADDR_SUMMARY_GROUPS];
	size_t shown_count;
	bool more_sets;                            /* sets of users not shown */
	/* The first waived findings, each with its waiver below it. */
	char *waived[IMADDR_SUMMARY_EXAMPLES];
	size_t waived_count;
	/* While collecting: the group being read. */
	struct imaddr_dup_groups groups;
	struct imaddr_summary_set current;
	enum imaddr_code current_code;
};

void imaddr_summary_notes_init(struct imaddr_summary_notes *notes);
/** Notes one finding; call it for every finding, in the order the audit hands them. */
void imaddr_summary_notes_add(struct imaddr_summary_notes *notes,
			      const struct imaddr_finding *finding);
/** After the last finding: the last group joins the sets. */
void imaddr_summary_notes_finish(struct imaddr_summary_notes *notes);
void imaddr_summary_notes_release(struct imaddr_summary_notes *notes);

/**
 * The whole summary of a run: its options (input_name, the scheme, the
 * default domain, pre-migration's today), its totals (the input's
 * description, the changes and the outputs' lines when set) and the notes,
 * finished.
 */
void imaddr_summary_print(FILE *out, const struct imaddr_audit_options *options,
			  const struct imaddr_run_totals *totals,
			  const struct imaddr_summary_notes *notes);

/** Only the section "since the previous run", under the summary's first line. */
void imaddr_summary_print_changes(FILE *out, const char *input_name,
				  const struct imaddr_run_changes *changes);

/** "standard output", "standard error", or "its stream" for another: where a summary went. */
const char *imaddr_summary_stream_name(FILE *out);

#endif /* IMADDR_SINK_SUMMARY_H */
