/*
 * A sink run on a thread of its own: the audit's thread serializes users and
 * findings into 1 MiB batches, and a worker thread replays them into the
 * wrapped sink. The SQLite report uses it, so that parsing and checking on
 * one core overlap with SQLite's inserts on the other.
 */
#ifndef IMADDR_SINK_THREAD_H
#define IMADDR_SINK_THREAD_H

#include "imaddr.h"

/*
 * Batches in flight: bounds the memory a slow sink can make the audit use
 * (32 MiB). While the report sorts its findings indexes when the input
 * ends, the audit reports duplicates; with room for a hundred thousand
 * findings it does not have to wait. Batches are allocated as they fill, so
 * a small run uses a few.
 */
#define IMADDR_SINK_THREAD_BATCHES 32
#define IMADDR_SINK_THREAD_BATCH_SIZE (1 << 20)

#endif /* IMADDR_SINK_THREAD_H */
