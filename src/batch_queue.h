/*
 * A bounded queue of byte batches from one producer thread to one consumer
 * thread, the part that sink_thread.c (the report on its own core) and
 * reader_thread.c (parsing on its own core) share.
 *
 * The producer appends to its current batch and pushes it when it is full;
 * when every batch is in flight, push waits for the consumer to recycle one,
 * so a slow side bounds the memory the other can use. The consumer pops
 * filled batches in order and recycles each when done with it. Either side
 * can cancel, which wakes the other; the queue carries no status of its own.
 */
#ifndef IMADDR_BATCH_QUEUE_H
#define IMADDR_BATCH_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buffer.h"

struct imaddr_batch {
	struct imaddr_buf data;
	struct imaddr_batch *next;
};

struct imaddr_batch_queue {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct imaddr_batch *batches;
	size_t count;
	struct imaddr_batch *filled_head, *filled_tail;   /* waiting for the consumer */
	size_t filled;                                    /* how many */
	struct imaddr_batch *free_list;
	struct imaddr_batch *current;                     /* being filled by the producer */
	bool closed;                                      /* no more batches will come */
	bool cancelled;                                   /* drop what is queued */
};

/** Sets up `count` (>= 2) empty batches; their memory is allocated as they fill. */
void imaddr_batch_queue_init(struct imaddr_batch_queue *queue, size_t count);
/** Frees the batches; neither thread may use the queue any more. */
void imaddr_batch_queue_release(struct imaddr_batch_queue *queue);

/** The producer's batch to append to. */
static inline struct imaddr_buf *imaddr_batch_queue_current(struct imaddr_batch_queue *queue)
{
	return &queue->current->data;
}

/**
 * Producer: hands the current batch to the consumer and takes a free one,
 * waiting while none is free. Returns false when the queue is cancelled (the
 * batch is dropped and the producer should stop).
 */
bool imaddr_batch_queue_push(struct imaddr_batch_queue *queue);
/** How many filled batches wait for the consumer: 0 or 1 when it keeps up. */
size_t imaddr_batch_queue_waiting(struct imaddr_batch_queue *queue);
/** Producer: pushes the current batch if it holds anything, then says no more will come. */
void imaddr_batch_queue_close(struct imaddr_batch_queue *queue);

/**
 * Consumer: the next filled batch, waiting for one; NULL once the queue is
 * closed and drained, or cancelled.
 */
struct imaddr_batch *imaddr_batch_queue_pop(struct imaddr_batch_queue *queue);
/** Consumer: gives a popped batch back, emptied, for the producer to fill. */
void imaddr_batch_queue_recycle(struct imaddr_batch_queue *queue, struct imaddr_batch *batch);

/** Either side: stop; queued batches are dropped and both sides are woken. */
void imaddr_batch_queue_cancel(struct imaddr_batch_queue *queue);

#endif /* IMADDR_BATCH_QUEUE_H */
