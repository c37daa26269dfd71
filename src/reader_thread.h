/*
 * A reader run on a thread of its own: the worker parses the input (libcsv or
 * LDIF) and encodes its records (fields.h), or what a stage makes of them,
 * into 1 MiB batches, and the audit's thread replays them into the audit. Parsing is a third of the
 * audit's work on a CSV export; with it off the audit's thread, the two
 * cores share parsing, checking and SQLite's inserts more evenly. The audit
 * wraps the readers of regular files in one (see imaddr_audit_run).
 */
#ifndef IMADDR_READER_THREAD_H
#define IMADDR_READER_THREAD_H

#include "buffer.h"
#include "reader.h"

/* Batches in flight: bounds how far parsing can run ahead (8 MiB). */
#define IMADDR_READER_THREAD_BATCHES 8
#define IMADDR_READER_THREAD_BATCH_SIZE (1 << 20)

/**
 * Wraps `inner`, taking ownership of it: its records and notices are queued
 * to the caller's thread in order, and the audit sees them exactly as
 * `inner` would hand them over, their strings valid during the callback.
 */
struct imaddr_reader *imaddr_reader_thread_wrap(struct imaddr_reader *inner);

/*
 * More of the work on the worker: `encode` runs there for each record and
 * appends what it makes of it to the batch; `replay` runs on the caller's
 * thread, reads that back at *p (moving *p past it) and does the rest, in
 * place of the request's record callback. `caller_keeps_up` says whether the
 * caller's thread kept up at the last hand-over (at most the batch just
 * handed over waited), so that a stage can leave it more of the work. The
 * audit runs its per-user rules so.
 */
struct imaddr_reader_stage {
	void *context;
	void (*encode)(void *context, const struct imaddr_record *record, bool caller_keeps_up,
		       struct imaddr_buf *out);
	enum imaddr_status (*replay)(void *context, const char **p, const char *end,
				     struct imaddr_error *err);
};

/** imaddr_reader_thread_wrap with `stage` (borrowed, for the wrapper's life). */
struct imaddr_reader *imaddr_reader_thread_wrap_staged(struct imaddr_reader *inner,
						       const struct imaddr_reader_stage *stage);

/** Frees the wrapper alone and hands the inner reader back. */
struct imaddr_reader *imaddr_reader_thread_unwrap(struct imaddr_reader *threaded);

#endif /* IMADDR_READER_THREAD_H */
