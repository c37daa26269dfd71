/*
 * Worker threads of a run: the report's writer, the file parser and the
 * duplicate sorter. Each starts with every signal blocked, so that SIGINT
 * and SIGTERM reach the audit's thread, which checks for a stop request.
 */
#ifndef IMADDR_WORKER_H
#define IMADDR_WORKER_H

#include <pthread.h>
#include <stdbool.h>

/** Starts `work(context)` on a new thread; false when it cannot start. */
bool imaddr_worker_start(pthread_t *thread, void *(*work)(void *), void *context);

#endif /* IMADDR_WORKER_H */
