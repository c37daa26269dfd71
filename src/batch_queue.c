#include "batch_queue.h"

#include <stdlib.h>

void imaddr_batch_queue_init(struct imaddr_batch_queue *queue, size_t count)
{
	memset(queue, 0, sizeof(*queue));
	pthread_mutex_init(&queue->lock, NULL);
	pthread_cond_init(&queue->changed, NULL);
	queue->count = count < 2 ? 2 : count;
	queue->batches = imaddr_xcalloc(queue->count, sizeof(*queue->batches));
	for (size_t i = 0; i < queue->count; i++)
		imaddr_buf_init(&queue->batches[i].data, 0);
	queue->current = &queue->batches[0];
	for (size_t i = queue->count - 1; i >= 1; i--) {
		queue->batches[i].next = queue->free_list;
		queue->free_list = &queue->batches[i];
	}
}

void imaddr_batch_queue_release(struct imaddr_batch_queue *queue)
{
	for (size_t i = 0; i < queue->count; i++)
		imaddr_buf_release(&queue->batches[i].data);
	free(queue->batches);
	pthread_mutex_destroy(&queue->lock);
	pthread_cond_destroy(&queue->changed);
	memset(queue, 0, sizeof(*queue));
}

/* With the lock held. */
static void append_filled(struct imaddr_batch_queue *queue, struct imaddr_batch *batch)
{
	batch->next = NULL;
	if (queue->filled_tail)
		queue->filled_tail->next = batch;
	else
		queue->filled_head = batch;
	queue->filled_tail = batch;
	queue->filled++;
}

bool imaddr_batch_queue_push(struct imaddr_batch_queue *queue)
{
	pthread_mutex_lock(&queue->lock);
	if (queue->cancelled) {
		imaddr_buf_reset(&queue->current->data);
		pthread_mutex_unlock(&queue->lock);
		return false;
	}
	append_filled(queue, queue->current);
	queue->current = NULL;
	pthread_cond_broadcast(&queue->changed);
	while (!queue->free_list && !queue->cancelled)
		pthread_cond_wait(&queue->changed, &queue->lock);
	bool cancelled = queue->cancelled;
	if (cancelled) {
		/* The consumer is gone: the producer keeps a batch of its own to fill. */
		queue->current = queue->filled_tail;
		imaddr_buf_reset(&queue->current->data);
	} else {
		queue->current = queue->free_list;
		queue->free_list = queue->current->next;
	}
	pthread_mutex_unlock(&queue->lock);
	return !cancelled;
}

void imaddr_batch_queue_close(struct imaddr_batch_queue *queue)
{
	if (queue->current->data.len)
		imaddr_batch_queue_push(queue);
	pthread_mutex_lock(&queue->lock);
	queue->closed = true;
	pthread_cond_broadcast(&queue->changed);
	pthread_mutex_unlock(&queue->lock);
}

struct imaddr_batch *imaddr_batch_queue_pop(struct imaddr_batch_queue *queue)
{
	pthread_mutex_lock(&queue->lock);
	while (!queue->filled_head && !queue->closed && !queue->cancelled)
		pthread_cond_wait(&queue->changed, &queue->lock);
	struct imaddr_batch *batch = queue->cancelled ? NULL : queue->filled_head;
	if (batch) {
		queue->filled_head = batch->next;
		if (!queue->filled_head)
			queue->filled_tail = NULL;
		queue->filled--;
	}
	pthread_mutex_unlock(&queue->lock);
	return batch;
}

void imaddr_batch_queue_recycle(struct imaddr_batch_queue *queue, struct imaddr_batch *batch)
{
	imaddr_buf_reset(&batch->data);
	pthread_mutex_lock(&queue->lock);
	batch->next = queue->free_list;
	queue->free_list = batch;
	pthread_cond_broadcast(&queue->changed);
	pthread_mutex_unlock(&queue->lock);
}

size_t imaddr_batch_queue_waiting(struct imaddr_batch_queue *queue)
{
	pthread_mutex_lock(&queue->lock);
	size_t waiting = queue->filled;
	pthread_mutex_unlock(&queue->lock);
	return waiting;
}

void imaddr_batch_queue_cancel(struct imaddr_batch_queue *queue)
{
	pthread_mutex_lock(&queue->lock);
	queue->cancelled = true;
	pthread_cond_broadcast(&queue->changed);
	pthread_mutex_unlock(&queue->lock);
}
