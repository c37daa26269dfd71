/*
 * An output path replaced whole, in step with the report: a file, or a
 * directory of files (the BAT chunks). docs/design.md, "All or nothing",
 * describes the protocol; in short, for a target T:
 *
 *   T.lock          held (flock) from lock to commit or abort, so that runs
 *                   on one target take turns; removed when released
 *   T.tmp-XXXXXX    the new file or directory, written and synced here
 *   T.pending       the journal, written when the staged output is durable:
 *                   the run's token and the report that decides it
 *   T.old-XXXXXX    a replaced directory, on its way out
 *
 * The report's commit is the run's commit point. A run killed before it
 * leaves a journal whose token the report does not hold: the next run on T
 * removes the staged output. Killed after it, the report holds the token:
 * the next run on T finishes the switch. Either way it then removes every
 * leftover T.tmp-*, T.old-* and T.pending.tmp-*. A run without a report
 * decides when its journal is written: the next run finishes the switch.
 */
#ifndef IMADDR_STAGING_H
#define IMADDR_STAGING_H

#include <stdbool.h>

#include "imaddr.h"

/**
 * Whether the report at `report_path` holds the run `token`: sets *held, or
 * fails (the report busy past `wait_ms`, unreadable). A missing report holds
 * nothing. The report module provides it (imaddr_report_holds_token).
 */
typedef enum imaddr_status imaddr_staging_decide_fn(const char *report_path, const char *token,
						    int wait_ms, bool *held,
						    struct imaddr_error *err);

struct imaddr_staging {
	char *target;         /* T */
	bool directory;       /* T is a directory of files */
	int wait_ms;          /* for the lock and the report's answer */
	int lock_fd;          /* -1 when not held */
	char *lock_path;
	char *staged;         /* T.tmp-XXXXXX once created, NULL after commit or abort */
	char *journal;        /* T.pending */
	bool journal_written;
};

void imaddr_staging_init(struct imaddr_staging *staging, const char *target, bool directory,
			 int wait_ms);
/** Aborts what is staged and not committed, and frees everything. */
void imaddr_staging_release(struct imaddr_staging *staging);

/**
 * Refuses a target that is a symbolic link, a device, a FIFO or a socket,
 * or (a file) a directory or (a directory) a file: IMADDR_ERR_IO naming it.
 */
enum imaddr_status imaddr_staging_check_target(const char *target, bool directory,
					       struct imaddr_error *err);

/**
 * Takes T.lock (waiting up to wait_ms, or until a stop is requested), then
 * finishes or undoes a killed run's switch through its journal (`decide`
 * asks its report), removes leftovers, and creates T.tmp-XXXXXX: a file
 * whose descriptor is returned in *fd (the caller owns it), or a directory
 * (*fd is -1). Fails with IMADDR_ERR_IO (IMADDR_ERR_INTERRUPTED for a stop),
 * leaving nothing held.
 */
enum imaddr_status imaddr_staging_begin(struct imaddr_staging *staging,
					imaddr_staging_decide_fn *decide, int *fd,
					struct imaddr_error *err);

/**
 * The staged output is complete and its files synced: syncs the directories
 * and writes the journal naming `token` and `report_path` (NULL: no report,
 * the switch is decided now).
 */
enum imaddr_status imaddr_staging_prepare(struct imaddr_staging *staging, const char *token,
					  const char *report_path, struct imaddr_error *err);

/**
 * Puts the staged output in place of T, removes the journal and the lock.
 * On failure the journal stays, so that the next run finishes the switch.
 */
enum imaddr_status imaddr_staging_commit(struct imaddr_staging *staging,
					 struct imaddr_error *err);

/** Removes the staged output and the journal, and releases the lock. */
void imaddr_staging_abort(struct imaddr_staging *staging);

#endif /* IMADDR_STAGING_H */
