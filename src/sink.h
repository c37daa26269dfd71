/*
 * Outputs ("sinks") and the driver that feeds them. An output is one file
 * of callbacks behind `struct imaddr_sink_ops`; it never calls back into the
 * audit. The driver owns the run protocol:
 *
 *   begin        once, before the first user
 *   user         once per user in input order: during the read, or, for an
 *                output flagged IMADDR_SINK_FINAL_PASS, after the duplicates
 *                are known, replayed from the spool with has_error and
 *                finding_codes final
 *   finding      once per finding: per-user checks during the read,
 *                duplicates and run-level findings after it
 *   input_end    once, after the last record is read (the report starts
 *                its indexes while the audit looks for duplicates)
 *   end          once, with the run's totals: makes the output durable
 *                without putting it in place (the report stops short of
 *                COMMIT, a file is synced under a temporary name)
 *   describe     after every output ended, the one channel from the outputs
 *                to those flagged IMADDR_SINK_LAST (the summary), which end
 *                after all the others with what they were told: one line
 *                or more in `out` saying what the output wrote (the BAT
 *                file's rows and chunks), which they get in
 *                totals->outputs; and the members of `told` an output
 *                knows better than the audit: the report sets
 *                told->changes (what changed since the previous run of the
 *                label, computed in its end), which stays the report's
 *                until it is freed. The caller of the run gets the same
 *   commit       once, when every output has ended: puts it in place. The
 *                output whose base names a `transaction_path` (the report)
 *                is committed first: its commit is the run's commit point.
 *                The others follow (those flagged IMADDR_SINK_LAST last),
 *                and finish after a kill through the journal they wrote at
 *                end (staging.h)
 *   abort        instead of commit when the run or any output fails, and
 *                after a failing end: throws a partial output away
 *   free         releases it
 *
 * An output flagged IMADDR_SINK_ON_WORKER runs on a thread of its own (the
 * SQLite report); the driver decides that, not the caller. Its commit runs
 * on the caller's thread once the worker has stopped. One flagged
 * IMADDR_SINK_USERS_WITH_FINDINGS as well as IMADDR_SINK_FINAL_PASS gets
 * only the users with a finding in the final pass (the worklist: most users
 * have none, and each one handed to a worker costs a copy and its
 * decoding). Every callback may be NULL.
 *
 * An output with a final pass usually wants a few of the users in it (the
 * rows of a BAT file), and reading a million back from the spool to find
 * them took a third of a second. So during the read the driver asks it:
 *
 *   select       once per user in input order, with has_error and
 *                finding_codes of the user's own checks (the duplicates and
 *                look-alikes still to come): whether it wants the user in the
 *                final pass
 *
 * The final pass then gives it the users it selected, and those whose
 * findings grew after the read whether it selected them or not, and no
 * others; findings only grow. Without select it gets every user (with
 * IMADDR_SINK_USERS_WITH_FINDINGS, every user with a finding during the read
 * or after it). Select runs on the audit's thread: an output on a worker
 * has none.
 */
#ifndef IMADDR_SINK_H
#define IMADDR_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buffer.h"
#include "imaddr.h"

#define IMADDR_SINK_ON_WORKER 1u   /* slow enough to deserve a core of its own */
#define IMADDR_SINK_FINAL_PASS 2u  /* wants the users with their final findings */
#define IMADDR_SINK_LAST 4u        /* ends after the others, told what they wrote */
/* With IMADDR_SINK_FINAL_PASS: only the users with a finding (finding_codes not 0). */
#define IMADDR_SINK_USERS_WITH_FINDINGS 8u

struct imaddr_sink_ops {
	const char *name;
	unsigned flags;
	enum imaddr_status (*begin)(struct imaddr_sink *sink, const struct imaddr_run_info *info,
				    struct imaddr_error *err);
	enum imaddr_status (*user)(struct imaddr_sink *sink, const struct imaddr_user *user,
				   struct imaddr_error *err);
	bool (*select)(struct imaddr_sink *sink, const struct imaddr_user *user);
	enum imaddr_status (*finding)(struct imaddr_sink *sink,
				      const struct imaddr_finding *finding,
				      struct imaddr_error *err);
	enum imaddr_status (*input_end)(struct imaddr_sink *sink, struct imaddr_error *err);
	enum imaddr_status (*end)(struct imaddr_sink *sink, const struct imaddr_run_totals *totals,
				  struct imaddr_error *err);
	void (*describe)(struct imaddr_sink *sink, struct imaddr_buf *out,
			 struct imaddr_run_totals *told);
	enum imaddr_status (*commit)(struct imaddr_sink *sink, struct imaddr_error *err);
	void (*abort)(struct imaddr_sink *sink);
	void (*free)(struct imaddr_sink *sink);
};

/** The common head of every output; implementations embed it first. */
struct imaddr_sink {
	const struct imaddr_sink_ops *ops;
	/*
	 * Set by an output whose commit decides the run (the report): the
	 * absolute path under which the other outputs' journals name it, so that
	 * the next run can ask it whether a killed run committed.
	 */
	const char *transaction_path;
	/* Handed to an audit, which frees it: refused by any audit after. */
	bool taken;
};

/** The outputs of one run. */
struct imaddr_sink_driver {
	struct imaddr_sink_slot {
		struct imaddr_sink *sink;     /* the output, or its thread wrapper */
		bool threaded;
		/* Its bit in replay[]; 0 when it has every user in the final pass. */
		uint8_t replay_bit;
		bool ended;                   /* end returned: durable, not in place */
		bool done;                    /* committed or aborted */
	} *slots;
	size_t count;
	size_t begun;
	bool final_pass;                  /* some output wants one */
	bool replay_all;                  /* an output wants every user in it */
	bool selective;                   /* an output wants only some: replay[] is kept */
	unsigned replay_outputs;          /* the outputs with a bit in replay[] */
	bool input_ended;                 /* findings from now on are the duplicates' */
	uint64_t last_ordinal;            /* the last user told during the read */
	/*
	 * [ordinal]: bit n set when the nth output with a final pass wants the
	 * user in it, REPLAY_GREW when the user's findings grew after the read.
	 */
	uint8_t *replay;
	uint64_t replay_size;
	size_t decider;                   /* the slot whose commit decides; count if none */
	bool decided;                     /* past the commit point: the run is recorded */
	struct imaddr_run_totals told;    /* the totals the last outputs end with */
	char *notes;                      /* told.outputs, owned */
	char *run_notes;                  /* lines the run adds after the outputs' own */
	char token[33];                   /* the run's, in every journal: 128 random bits */
};

void imaddr_sink_driver_init(struct imaddr_sink_driver *driver);
/** Frees every output; aborts those begun and not ended. */
void imaddr_sink_driver_release(struct imaddr_sink_driver *driver);
/** Adds an output, which the driver then owns. */
void imaddr_sink_driver_add(struct imaddr_sink_driver *driver, struct imaddr_sink *sink);

/**
 * A line the outputs are told after their own in totals->outputs: what the
 * run itself wrote beside them (the user cache). Before the driver ends.
 */
void imaddr_sink_driver_add_note(struct imaddr_sink_driver *driver, const char *line);

/** Starts every output (and the threads of those that run on one). */
enum imaddr_status imaddr_sink_driver_begin(struct imaddr_sink_driver *driver,
					    const struct imaddr_run_info *info,
					    struct imaddr_error *err);
/**
 * A user during the read: to every output without a final pass, and to the
 * select of those with one, told the codes of the findings the user's own
 * checks gave (`codes`, of which some are errors when `has_error`), which
 * the driver hands after it.
 */
enum imaddr_status imaddr_sink_driver_user(struct imaddr_sink_driver *driver,
					   const struct imaddr_user *user, uint64_t codes,
					   bool has_error, struct imaddr_error *err);
enum imaddr_status imaddr_sink_driver_finding(struct imaddr_sink_driver *driver,
					      const struct imaddr_finding *finding,
					      struct imaddr_error *err);
enum imaddr_status imaddr_sink_driver_input_end(struct imaddr_sink_driver *driver,
						struct imaddr_error *err);

/**
 * What the final pass reads the users from: calls `deliver(driver, user,
 * err)` for every user in input order for which
 * imaddr_sink_driver_replays() is true, with has_error and finding_codes
 * set, and stops at the first status other than IMADDR_OK.
 */
typedef enum imaddr_status imaddr_sink_deliver_fn(struct imaddr_sink_driver *driver,
						  const struct imaddr_user *user,
						  struct imaddr_error *err);
typedef enum imaddr_status imaddr_sink_replay_fn(void *context, imaddr_sink_deliver_fn *deliver,
						 struct imaddr_sink_driver *driver,
						 struct imaddr_error *err);

/** Whether the final pass needs user `ordinal`: an output wants it. */
bool imaddr_sink_driver_replays(const struct imaddr_sink_driver *driver, uint64_t ordinal);

/**
 * Ends the run: outputs on a worker without a final pass are ended first, so
 * that they finish in the background; then the users are replayed through
 * `replay` to the outputs that want a final pass; then the other outputs are
 * ended, and the workers waited for; last, the outputs flagged
 * IMADDR_SINK_LAST, with what the others wrote. Nothing is in place yet: a
 * failure (or a stop requested) so far aborts every output. Then the
 * deciding output commits, and after it the others. A failure after the
 * commit point is returned, with driver->decided set (the run is recorded),
 * and the journals left finish the switch on the next run.
 */
enum imaddr_status imaddr_sink_driver_end(struct imaddr_sink_driver *driver,
					  imaddr_sink_replay_fn *replay, void *replay_context,
					  const struct imaddr_run_totals *totals,
					  struct imaddr_error *err);

/** Throws every begun output away. */
void imaddr_sink_driver_abort(struct imaddr_sink_driver *driver);

/*
 * Duplicate groups as the outputs number them. The audit hands a group's
 * findings one after the other (one per member, the first member's naming
 * the second as related, the others naming the first), so a group is its
 * code and its first member, min(ordinal, related_ordinal), and a new group
 * starts where that changes. Groups are numbered from 1 in the order they
 * come: user IDs, then directory URIs, mail and IM addresses.
 */
struct imaddr_dup_groups {
	enum imaddr_code code;
	uint64_t first_member;
	uint64_t count;            /* groups seen so far */
};

void imaddr_dup_groups_init(struct imaddr_dup_groups *groups);
/** True for the codes whose findings come in groups (the four duplicates). */
bool imaddr_code_is_duplicate(enum imaddr_code code);
/**
 * The group number of `finding`, counting it in: 0 for a finding that is not
 * a duplicate. Call it for every finding, in the order the audit hands them.
 */
uint64_t imaddr_dup_groups_next(struct imaddr_dup_groups *groups,
				const struct imaddr_finding *finding);
/** Whether the last call started a new group (its first member's finding). */
static inline bool imaddr_dup_groups_started(const struct imaddr_dup_groups *groups,
					     const struct imaddr_finding *finding)
{
	return finding->ordinal == groups->first_member;
}

#endif /* IMADDR_SINK_H */
