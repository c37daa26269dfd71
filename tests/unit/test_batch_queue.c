/* The batch queue between two threads: order, back-pressure and cancelling. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "batch_queue.h"

struct producer {
	struct imaddr_batch_queue *queue;
	int batches;
	int pushed;          /* batches push accepted */
};

static void *produce(void *context)
{
	struct producer *producer = context;
	for (int i = 0; i < producer->batches; i++) {
		imaddr_buf_appendf(imaddr_batch_queue_current(producer->queue), "batch %d", i);
		if (!imaddr_batch_queue_push(producer->queue))
			return NULL;
		producer->pushed++;
	}
	imaddr_buf_appendf(imaddr_batch_queue_current(producer->queue), "tail");
	imaddr_batch_queue_close(producer->queue);
	return NULL;
}

Test(batch_queue, delivers_every_batch_in_order_then_ends)
{
	struct imaddr_batch_queue queue;
	struct producer producer = { &queue, 1000, 0 };
	struct imaddr_batch *batch;
	pthread_t thread;
	char expected[32];
	int popped = 0;

	imaddr_batch_queue_init(&queue, 2);
	cr_assert_eq(pthread_create(&thread, NULL, produce, &producer), 0);
	while ((batch = imaddr_batch_queue_pop(&queue))) {
		if (popped < 1000)
			snprintf(expected, sizeof(expected), "batch %d", popped);
		else
			snprintf(expected, sizeof(expected), "tail");
		cr_assert_str_eq(batch->data.data, expected);
		popped++;
		imaddr_batch_queue_recycle(&queue, batch);
	}
	pthread_join(thread, NULL);
	cr_assert_eq(popped, 1001, "the partly filled last batch is delivered on close");
	imaddr_batch_queue_release(&queue);
}

Test(batch_queue, cancel_releases_a_producer_waiting_for_room)
{
	struct imaddr_batch_queue queue;
	struct producer producer = { &queue, 100, 0 };
	pthread_t thread;

	imaddr_batch_queue_init(&queue, 3);
	cr_assert_eq(pthread_create(&thread, NULL, produce, &producer), 0);
	/* Nobody pops: the producer fills the three batches and waits. */
	struct imaddr_batch *first = imaddr_batch_queue_pop(&queue);
	cr_assert_not_null(first);
	cr_assert_str_eq(first->data.data, "batch 0");
	imaddr_batch_queue_cancel(&queue);
	pthread_join(thread, NULL);
	cr_assert_lt(producer.pushed, 5, "the producer stopped at the cancel");
	cr_assert_null(imaddr_batch_queue_pop(&queue));
	imaddr_batch_queue_release(&queue);
}

Test(batch_queue, close_without_data_ends_at_once)
{
	struct imaddr_batch_queue queue;

	imaddr_batch_queue_init(&queue, 2);
	imaddr_batch_queue_close(&queue);
	cr_assert_null(imaddr_batch_queue_pop(&queue));
	imaddr_batch_queue_release(&queue);
}
