#include "sink_thread.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "batch_queue.h"
#include "buffer.h"
#include "fields.h"
#include "error.h"
#include "worker.h"

enum event_kind {
	EVENT_USER = 'U',
	EVENT_FINDING = 'F',
	EVENT_INPUT_END = 'I',
	EVENT_END = 'E'
};


struct threaded_sink {
	struct imaddr_sink base;
	struct imaddr_sink_ops ops;
	struct imaddr_sink *inner;

	pthread_t worker;
	bool worker_started;
	struct imaddr_batch_queue queue;
	/* The worker's first failure: worker_err is written before the status is
	 * stored, and read only after it was loaded as a failure. */
	_Atomic enum imaddr_status worker_status;
	struct imaddr_error worker_err;
	struct imaddr_error replay_err;
};

/* ------------------------------------------------------------------------ */
/* The worker. */

static enum imaddr_status corrupt(const struct threaded_sink *sink, struct imaddr_error *err)
{
	return imaddr_error_set(err, IMADDR_ERR_IO, "the %s writer thread got a damaged batch",
				sink->inner->ops->name);
}

static enum imaddr_status replay(struct threaded_sink *sink, const struct imaddr_batch *batch)
{
	const struct imaddr_sink_ops *ops = sink->inner->ops;
	const char *p = batch->data.data, *end = p + batch->data.len;
	enum imaddr_status status = IMADDR_OK;
	struct imaddr_error *err = &sink->replay_err;

	while (status == IMADDR_OK && p < end) {
		char kind = *p++;
		if (kind == EVENT_USER) {
			struct imaddr_user user;
			if (!imaddr_fields_decode_user(&p, end, &user))
				return corrupt(sink, err);
			if (ops->user)
				status = ops->user(sink->inner, &user, err);
		} else if (kind == EVENT_FINDING) {
			struct imaddr_finding finding;
			if (!imaddr_fields_decode_finding(&p, end, &finding))
				return corrupt(sink, err);
			if (ops->finding)
				status = ops->finding(sink->inner, &finding, err);
		} else if (kind == EVENT_INPUT_END) {
			if (ops->input_end)
				status = ops->input_end(sink->inner, err);
		} else {
			/* The totals outlive the run's end: the driver waits for the worker. */
			const struct imaddr_run_totals *totals;
			if ((size_t)(end - p) < sizeof(totals))
				return corrupt(sink, err);
			memcpy(&totals, p, sizeof(totals));
			p += sizeof(totals);
			if (ops->end)
				status = ops->end(sink->inner, totals, err);
		}
	}
	return status;
}

static void *work(void *context)
{
	struct threaded_sink *sink = context;
	struct imaddr_batch *batch;

	while ((batch = imaddr_batch_queue_pop(&sink->queue))) {
		/* After a failure, batches are only recycled, so the audit never waits. */
		if (atomic_load(&sink->worker_status) == IMADDR_OK) {
			enum imaddr_status status = replay(sink, batch);
			if (status != IMADDR_OK) {
				sink->worker_err = sink->replay_err;
				atomic_store(&sink->worker_status, status);
			}
		}
		imaddr_batch_queue_recycle(&sink->queue, batch);
	}
	return NULL;
}

static enum imaddr_status worker_failure(struct threaded_sink *sink, struct imaddr_error *err)
{
	enum imaddr_status status = atomic_load(&sink->worker_status);
	if (status != IMADDR_OK && err)
		*err = sink->worker_err;
	return status;
}

/* Hands the current batch to the worker and takes a free one. */
static enum imaddr_status hand_over(struct threaded_sink *sink, struct imaddr_error *err)
{
	if (!imaddr_batch_queue_push(&sink->queue) && atomic_load(&sink->worker_status) == IMADDR_OK)
		return imaddr_error_set(err, IMADDR_ERR_IO, "the %s writer thread has stopped",
					sink->inner->ops->name);
	return worker_failure(sink, err);
}

static void stop_worker(struct threaded_sink *sink, bool cancel)
{
	if (!sink->worker_started)
		return;
	if (cancel)
		imaddr_batch_queue_cancel(&sink->queue);
	else
		imaddr_batch_queue_close(&sink->queue);
	pthread_join(sink->worker, NULL);
	sink->worker_started = false;
}

/* ------------------------------------------------------------------------ */
/* The sink the audit sees. */

static enum imaddr_status begin(struct imaddr_sink *base, const struct imaddr_run_info *info,
				struct imaddr_error *err)
{
	struct threaded_sink *sink = (struct threaded_sink *)base;
	const struct imaddr_sink_ops *ops = sink->inner->ops;
	enum imaddr_status status = ops->begin ? ops->begin(sink->inner, info, err) : IMADDR_OK;
	if (status != IMADDR_OK)
		return status;
	if (!imaddr_worker_start(&sink->worker, work, sink))
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot start the %s writer thread",
					ops->name);
	sink->worker_started = true;
	return IMADDR_OK;
}

static enum imaddr_status maybe_hand_over(struct threaded_sink *sink, struct imaddr_error *err)
{
	if (imaddr_batch_queue_current(&sink->queue)->len < IMADDR_SINK_THREAD_BATCH_SIZE)
		return IMADDR_OK;
	return hand_over(sink, err);
}

static enum imaddr_status user(struct imaddr_sink *base, const struct imaddr_user *u,
			       struct imaddr_error *err)
{
	struct threaded_sink *sink = (struct threaded_sink *)base;
	struct imaddr_buf *batch = imaddr_batch_queue_current(&sink->queue);
	imaddr_buf_append_char(batch, EVENT_USER);
	imaddr_fields_encode_user(batch, u);
	return maybe_hand_over(sink, err);
}

static enum imaddr_status finding(struct imaddr_sink *base, const struct imaddr_finding *f,
				  struct imaddr_error *err)
{
	struct threaded_sink *sink = (struct threaded_sink *)base;
	struct imaddr_buf *batch = imaddr_batch_queue_current(&sink->queue);
	imaddr_buf_append_char(batch, EVENT_FINDING);
	imaddr_fields_encode_finding(batch, f);
	return maybe_hand_over(sink, err);
}

static enum imaddr_status input_end(struct imaddr_sink *base, struct imaddr_error *err)
{
	struct threaded_sink *sink = (struct threaded_sink *)base;
	imaddr_buf_append_char(imaddr_batch_queue_current(&sink->queue), EVENT_INPUT_END);
	/* Hand it over now: the worker can start while the audit finds duplicates. */
	return hand_over(sink, err);
}

static enum imaddr_status end(struct imaddr_sink *base, const struct imaddr_run_totals *totals,
			      struct imaddr_error *err)
{
	struct threaded_sink *sink = (struct threaded_sink *)base;
	struct imaddr_buf *batch = imaddr_batch_queue_current(&sink->queue);
	imaddr_buf_append_char(batch, EVENT_END);
	imaddr_buf_append(batch, &totals, sizeof(totals));
	return hand_over(sink, err);
}

enum imaddr_status imaddr_sink_thread_wait(struct imaddr_sink *base, struct imaddr_error *err)
{
	struct threaded_sink *sink = (struct threaded_sink *)base;
	stop_worker(sink, false);
	return worker_failure(sink, err);
}

/* Past imaddr_sink_thread_wait: the worker is gone, the inner output is ours. */
static enum imaddr_status sink_commit(struct imaddr_sink *base, struct imaddr_error *err)
{
	struct threaded_sink *sink = (struct threaded_sink *)base;
	enum imaddr_status status;

	stop_worker(sink, false);
	status = worker_failure(sink, err);
	if (status == IMADDR_OK && sink->inner->ops->commit)
		status = sink->inner->ops->commit(sink->inner, err);
	return status;
}

static void sink_abort(struct imaddr_sink *base)
{
	struct threaded_sink *sink = (struct threaded_sink *)base;
	stop_worker(sink, true);
	if (sink->inner->ops->abort)
		sink->inner->ops->abort(sink->inner);
}

static void sink_free(struct imaddr_sink *base)
{
	struct threaded_sink *sink = (struct threaded_sink *)base;
	stop_worker(sink, true);
	imaddr_sink_free(sink->inner);
	imaddr_batch_queue_release(&sink->queue);
	free(sink);
}

static const struct imaddr_sink_ops threaded_ops = {
	.name = "threaded",
	.begin = begin,
	.user = user,
	.finding = finding,
	.input_end = input_end,
	.end = end,
	.commit = sink_commit,
	.abort = sink_abort,
	.free = sink_free,
};

struct imaddr_sink *imaddr_sink_thread_wrap(struct imaddr_sink *inner)
{
	struct threaded_sink *sink = imaddr_xcalloc(1, sizeof(*sink));
	/* Its name and flags are the inner output's, so the driver treats it alike. */
	sink->ops = threaded_ops;
	sink->ops.name = inner->ops->name;
	sink->ops.flags = inner->ops->flags;
	sink->base.ops = &sink->ops;
	sink->base.transaction_path = inner->transaction_path;
	sink->inner = inner;
	atomic_init(&sink->worker_status, IMADDR_OK);
	imaddr_batch_queue_init(&sink->queue, IMADDR_SINK_THREAD_BATCHES);
	return &sink->base;
}
