/*
 * An output run on a thread of its own: the audit's thread encodes users
 * and findings (fields.h) into 1 MiB batches, and a worker thread replays
 * them into the wrapped output. The output driver (sink.c) wraps the
 * outputs flagged IMADDR_SINK_ON_WORKER, so that parsing and checking on one
 * core overlap with SQLite's inserts on the other.
 */
#ifndef IMADDR_SINK_THREAD_H
#define IMADDR_SINK_THREAD_H

#include "sink.h"

/*
 * Batches in flight: bounds the memory a slow output can make the audit use
 * (32 MiB). While the report sorts its findings indexes when the input
 * ends, the audit reports duplicates; with room for a hundred thousand
 * findings it does not have to wait. Batches are allocated as they fill, so
 * a small run uses a few.
 */
#define IMADDR_SINK_THREAD_BATCHES 32
#define IMADDR_SINK_THREAD_BATCH_SIZE (1 << 20)

/**
 * Wraps `inner`, taking ownership of it. `begin` and `abort` run on the
 * caller's thread, `begin` then starts the worker; users, findings,
 * `input_end` and `end` are queued to the worker in order.
 */
struct imaddr_sink *imaddr_sink_thread_wrap(struct imaddr_sink *inner);

/**
 * Waits for the worker to replay everything queued, `end` included, and
 * returns how the wrapped output fared: the first failure of any callback.
 */
enum imaddr_status imaddr_sink_thread_wait(struct imaddr_sink *threaded,
					   struct imaddr_error *err);

#endif /* IMADDR_SINK_THREAD_H */
