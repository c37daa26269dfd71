/*
 * The audit's insides, shared by audit.c (the run) and audit_stage.c (what
 * the reader's thread hands the audit's). Not part of the library's API.
 */
#ifndef IMADDR_AUDIT_INTERNAL_H
#define IMADDR_AUDIT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "audit.h"
#include "buffer.h"
#include "confusables.h"
#include "duplicates.h"
#include "reader_thread.h"
#include "rules_user.h"
#include "sink.h"
#include "spool.h"
#include "strmap.h"
#include "user_cache.h"

struct imaddr_waivers;

struct imaddr_audit {
	struct imaddr_audit_options options;
	struct imaddr_rules_user rules;
	/* The rules of the records the reader's thread leaves to the audit's. */
	struct imaddr_rules_user rules_here;
	struct imaddr_sink_driver sinks;

	/* The run. */
	struct imaddr_spool spool;
	struct imaddr_user_cache cache;           /* open when options.user_cache_dir is usable */
	struct imaddr_user_cache_finder finder_here;    /* finding users on the audit's thread */
	struct imaddr_user_cache_finder finder_reader;  /* and on the reader's */
	struct imaddr_buf encoded_here;           /* a user checked here, for the cache */
	uint64_t cache_kept, cache_checked;       /* the run's users taken from it, and not */
	bool cache_in_use;                        /* held by another run of the label */
	char *cache_problem;                      /* why it could not be used, or NULL */
	struct imaddr_duplicates duplicates;
	struct imaddr_confusables confusables;
	struct imaddr_strmap domains;             /* IM domain A-label -> users */
	uint64_t *finding_codes;                  /* [ordinal]: bit (1 << code) per code */
	uint64_t error_codes;                     /* the bits of the codes of severity error */
	uint64_t finding_codes_size;
	/* Accepted exceptions (--waivers), or NULL; then also, per ordinal, the
	 * codes of the findings they waived, which finding_codes leaves out. */
	struct imaddr_waivers *waivers;
	uint64_t *waived_codes;
	struct imaddr_run_totals totals;
	struct imaddr_domain_count *domain_list;
	/* How the input was read: the reader's description and, per role, the
	 * attribute of the first user (owned here). */
	struct imaddr_input_description input;
	char *role_attribute[IMADDR_ROLE_COUNT];
	const char *cluster;                      /* the input being read */
	bool ran;                                 /* imaddr_audit_run_inputs was called */
	/* Why imaddr_audit_add_sink refused an output, which fails the run; NULL: none. */
	const char *refused_sink;
	/* The rules' side of the read: where a file is read, on its thread. */
	struct imaddr_reader_stage check_stage;
	uint64_t users_numbered;
	struct imaddr_record record_here;         /* a record handed over unchecked */
};

/* Where a user goes in the spool: a user cache's entry, kept or new, or the spool's own. */
struct imaddr_audit_placement {
	const uint8_t *key;          /* its key in the user cache; NULL without one */
	bool kept;                   /* the cache's entry at offset, entry_size */
	uint64_t offset;
	uint32_t entry_size;
	const char *encoded;         /* the user's encoding made already, or NULL */
	size_t encoded_size;         /* a checked user's with a key, else a spooled user's */
};

/** Numbers the next user and notes which attribute fed each role. */
uint64_t imaddr_audit_number_user(struct imaddr_audit *audit, const struct imaddr_record *record);

/**
 * A record through `rules`: the part of a user that needs nothing of the run
 * but the rules, so that it can run on the thread reading the file. The
 * strings are the rules' and the record's until the next check.
 */
void imaddr_audit_check_record(struct imaddr_audit *audit, struct imaddr_rules_user *rules,
			       const struct imaddr_record *record, uint64_t ordinal,
			       struct imaddr_checked_user *checked);

/** The run's part of a checked user, spooled where `place` says. */
enum imaddr_status imaddr_audit_take_user(struct imaddr_audit *audit,
					  const struct imaddr_checked_user *checked,
					  const struct imaddr_audit_placement *place,
					  struct imaddr_error *err);

/**
 * A record on the audit's thread, numbered `ordinal`: from the user cache
 * when it has seen it (its key given, or NULL to compute it), else through
 * `rules`.
 */
enum imaddr_status imaddr_audit_take_record(struct imaddr_audit *audit,
					    struct imaddr_rules_user *rules,
					    const struct imaddr_record *record, uint64_t ordinal,
					    const uint8_t *key_given, struct imaddr_error *err);

/* audit_stage.c: the two ends of struct imaddr_reader_stage. */
void imaddr_audit_stage_check(void *context, const struct imaddr_record *record,
			      bool audit_keeps_up, struct imaddr_buf *out);
enum imaddr_status imaddr_audit_stage_take(void *context, const char **p, const char *end,
					   struct imaddr_error *err);

#endif /* IMADDR_AUDIT_INTERNAL_H */
