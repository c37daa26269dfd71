/*
 * A reader run on a thread of its own: the worker parses the input (libcsv or
 * LDIF) and serializes its records into 1 MiB batches, and the audit's
 * thread replays them into the audit. Parsing is a third of the audit's work
 * on a CSV export; with it off the audit's thread, the two cores share
 * parsing, checking and SQLite's inserts more evenly.
 */
#ifndef IMADDR_READER_THREAD_H
#define IMADDR_READER_THREAD_H

#include "imaddr.h"

/* Batches in flight: bounds how far parsing can run ahead (8 MiB). */
#define IMADDR_READER_THREAD_BATCHES 8
#define IMADDR_READER_THREAD_BATCH_SIZE (1 << 20)

#endif /* IMADDR_READER_THREAD_H */
