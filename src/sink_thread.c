#include "sink_thread.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "batch_queue.h"
#include "buffer.h"
#include "status.h"
#include "worker.h"

enum event_kind {
	EVENT_USER = 'U',
	EVENT_FINDING = 'F',
	EVENT_INPUT_END = 'I',
	EVENT_END = 'E'
};

/* What `end` hands to the worker: both outlive the run, see imaddr.h. */
struct end_request {
	struct imaddr_audit *audit;
	const struct imaddr_run_totals *totals;
};

struct threaded_sink {
	struct imaddr_sink base;
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
/* Encoding: see batch_queue.h. */

static void encode_user(struct imaddr_buf *buf, const struct imaddr_user *user)
{
	imaddr_buf_append_char(buf, EVENT_USER);
	imaddr_batch_put(buf, &user->ordinal, sizeof(user->ordinal));
	imaddr_batch_put(buf, &user->line, sizeof(user->line));
	imaddr_buf_append_char(buf, (char)(user->uri_valid | (user->has_error << 1)));
	imaddr_batch_put_string(buf, user->dn);
	imaddr_batch_put_string(buf, user->user_id);
	imaddr_batch_put_string(buf, user->mail);
	imaddr_batch_put_string(buf, user->first_name);
	imaddr_batch_put_string(buf, user->last_name);
	imaddr_batch_put_string(buf, user->directory_uri);
	imaddr_batch_put_string(buf, user->directory_uri_as_read);
	imaddr_batch_put_string(buf, user->current_uri);
	imaddr_batch_put_string(buf, user->im_address);
	imaddr_batch_put_string(buf, user->im_domain);
}

static const char *decode_user(const char *p, struct imaddr_user *user)
{
	IMADDR_BATCH_GET(p, user->ordinal);
	IMADDR_BATCH_GET(p, user->line);
	unsigned char flags = (unsigned char)*p++;
	user->uri_valid = flags & 1;
	user->has_error = flags & 2;
	user->dn = imaddr_batch_get_string(&p);
	user->user_id = imaddr_batch_get_string(&p);
	user->mail = imaddr_batch_get_string(&p);
	user->first_name = imaddr_batch_get_string(&p);
	user->last_name = imaddr_batch_get_string(&p);
	user->directory_uri = imaddr_batch_get_string(&p);
	user->directory_uri_as_read = imaddr_batch_get_string(&p);
	user->current_uri = imaddr_batch_get_string(&p);
	user->im_address = imaddr_batch_get_string(&p);
	user->im_domain = imaddr_batch_get_string(&p);
	return p;
}

static void encode_finding(struct imaddr_buf *buf, const struct imaddr_finding *finding)
{
	uint32_t code = finding->code, severity = finding->severity;
	imaddr_buf_append_char(buf, EVENT_FINDING);
	imaddr_batch_put(buf, &code, sizeof(code));
	imaddr_batch_put(buf, &severity, sizeof(severity));
	imaddr_batch_put(buf, &finding->ordinal, sizeof(finding->ordinal));
	imaddr_batch_put(buf, &finding->line, sizeof(finding->line));
	imaddr_batch_put(buf, &finding->related_ordinal, sizeof(finding->related_ordinal));
	imaddr_batch_put(buf, &finding->related_line, sizeof(finding->related_line));
	imaddr_batch_put_string(buf, finding->dn);
	imaddr_batch_put_string(buf, finding->user_id);
	imaddr_batch_put_string(buf, finding->field);
	imaddr_batch_put_string(buf, finding->value);
	imaddr_batch_put_string(buf, finding->message);
	imaddr_batch_put_string(buf, finding->related_dn);
	imaddr_batch_put_string(buf, finding->suggestion);
}

static const char *decode_finding(const char *p, struct imaddr_finding *finding)
{
	uint32_t code, severity;
	IMADDR_BATCH_GET(p, code);
	IMADDR_BATCH_GET(p, severity);
	finding->code = (enum imaddr_code)code;
	finding->severity = (enum imaddr_severity)severity;
	IMADDR_BATCH_GET(p, finding->ordinal);
	IMADDR_BATCH_GET(p, finding->line);
	IMADDR_BATCH_GET(p, finding->related_ordinal);
	IMADDR_BATCH_GET(p, finding->related_line);
	finding->dn = imaddr_batch_get_string(&p);
	finding->user_id = imaddr_batch_get_string(&p);
	finding->field = imaddr_batch_get_string(&p);
	finding->value = imaddr_batch_get_string(&p);
	finding->message = imaddr_batch_get_string(&p);
	finding->related_dn = imaddr_batch_get_string(&p);
	finding->suggestion = imaddr_batch_get_string(&p);
	return p;
}

/* ------------------------------------------------------------------------ */
/* The worker. */

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
			p = decode_user(p, &user);
			if (ops->user)
				status = ops->user(sink->inner, &user, err);
		} else if (kind == EVENT_FINDING) {
			struct imaddr_finding finding;
			p = decode_finding(p, &finding);
			if (ops->finding)
				status = ops->finding(sink->inner, &finding, err);
		} else if (kind == EVENT_INPUT_END) {
			if (ops->input_end)
				status = ops->input_end(sink->inner, err);
		} else {
			struct end_request request;
			IMADDR_BATCH_GET(p, request);
			if (ops->end)
				status = ops->end(sink->inner, request.audit, request.totals, err);
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
	encode_user(imaddr_batch_queue_current(&sink->queue), u);
	return maybe_hand_over(sink, err);
}

static enum imaddr_status finding(struct imaddr_sink *base, const struct imaddr_finding *f,
				  struct imaddr_error *err)
{
	struct threaded_sink *sink = (struct threaded_sink *)base;
	encode_finding(imaddr_batch_queue_current(&sink->queue), f);
	return maybe_hand_over(sink, err);
}

static enum imaddr_status input_end(struct imaddr_sink *base, struct imaddr_error *err)
{
	struct threaded_sink *sink = (struct threaded_sink *)base;
	imaddr_buf_append_char(imaddr_batch_queue_current(&sink->queue), EVENT_INPUT_END);
	/* Hand it over now: the worker can start while the audit finds duplicates. */
	return hand_over(sink, err);
}

static enum imaddr_status end(struct imaddr_sink *base, struct imaddr_audit *audit,
			      const struct imaddr_run_totals *totals, struct imaddr_error *err)
{
	struct threaded_sink *sink = (struct threaded_sink *)base;
	struct end_request request = { audit, totals };
	struct imaddr_buf *batch = imaddr_batch_queue_current(&sink->queue);
	imaddr_buf_append_char(batch, EVENT_END);
	imaddr_batch_put(batch, &request, sizeof(request));
	return hand_over(sink, err);
}

static enum imaddr_status wait_for_worker(struct imaddr_sink *base, struct imaddr_error *err)
{
	struct threaded_sink *sink = (struct threaded_sink *)base;
	stop_worker(sink, false);
	return worker_failure(sink, err);
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
	.wait = wait_for_worker,
	.abort = sink_abort,
	.free = sink_free,
};

struct imaddr_sink *imaddr_sink_threaded(struct imaddr_sink *inner)
{
	struct threaded_sink *sink = imaddr_xcalloc(1, sizeof(*sink));
	sink->base.ops = &threaded_ops;
	sink->inner = inner;
	atomic_init(&sink->worker_status, IMADDR_OK);
	imaddr_batch_queue_init(&sink->queue, IMADDR_SINK_THREAD_BATCHES);
	return &sink->base;
}
