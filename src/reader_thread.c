#include "reader_thread.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch_queue.h"
#include "buffer.h"
#include "fields.h"
#include "reader.h"
#include "error.h"
#include "worker.h"

enum event_kind {
	EVENT_RECORD = 'R',
	EVENT_STAGED = 'S',   /* what the stage made of a record */
	EVENT_NOTICE = 'N'
};

struct threaded_reader {
	struct imaddr_reader base;
	struct imaddr_reader_ops ops;        /* the inner reader's name */
	struct imaddr_reader *inner;
	const struct imaddr_reader_stage *stage;   /* NULL: records as they are */
	bool caller_keeps_up;                      /* at most the batch just handed over waited */

	struct imaddr_batch_queue queue;
	pthread_t worker;
	/* The worker's side: the request it serves and how its run ended. */
	struct imaddr_reader_request inner_request;
	enum imaddr_status inner_status;
	struct imaddr_error inner_err;
	/* The caller's side. */
	const struct imaddr_reader_request *request;
	struct imaddr_record record;
};

/* ------------------------------------------------------------------------ */
/* The worker: the inner reader's callbacks queue what they are given,
 * encoded as fields.h says. */

static enum imaddr_status hand_over_if_full(struct threaded_reader *reader,
					    struct imaddr_error *err)
{
	if (imaddr_batch_queue_current(&reader->queue)->len < IMADDR_READER_THREAD_BATCH_SIZE)
		return IMADDR_OK;
	if (imaddr_batch_queue_push(&reader->queue)) {
		reader->caller_keeps_up = imaddr_batch_queue_waiting(&reader->queue) <= 1;
		return IMADDR_OK;
	}
	/* The audit stopped; its own status is the run's. This one only ends the read. */
	return imaddr_error_set(err, IMADDR_ERR_INPUT, "the audit stopped reading");
}

static enum imaddr_status queue_record(void *context, const struct imaddr_record *record,
				       struct imaddr_error *err)
{
	struct threaded_reader *reader = context;
	struct imaddr_buf *batch = imaddr_batch_queue_current(&reader->queue);
	if (reader->stage) {
		imaddr_buf_append_char(batch, EVENT_STAGED);
		reader->stage->encode(reader->stage->context, record, reader->caller_keeps_up, batch);
	} else {
		imaddr_buf_append_char(batch, EVENT_RECORD);
		imaddr_fields_encode_record(batch, record);
	}
	return hand_over_if_full(reader, err);
}

static enum imaddr_status queue_notice(void *context, enum imaddr_code code, uint64_t line,
				       const char *dn, const char *field, const char *value,
				       const char *message, struct imaddr_error *err)
{
	struct threaded_reader *reader = context;
	/* A notice is a finding of no user: it travels as one. */
	struct imaddr_finding notice = {
		.code = code, .line = line, .dn = dn, .field = field, .value = value,
		.message = message,
	};
	struct imaddr_buf *batch = imaddr_batch_queue_current(&reader->queue);
	imaddr_buf_append_char(batch, EVENT_NOTICE);
	imaddr_fields_encode_finding(batch, &notice);
	return hand_over_if_full(reader, err);
}

static void *work(void *context)
{
	struct threaded_reader *reader = context;
	reader->inner_status = imaddr_reader_run(reader->inner, &reader->inner_request,
						 &reader->inner_err);
	imaddr_batch_queue_close(&reader->queue);
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* The caller's thread: replays the batches into the audit. */

static enum imaddr_status corrupt(const struct threaded_reader *reader, struct imaddr_error *err)
{
	return imaddr_error_set(err, IMADDR_ERR_IO, "the %s reader thread sent a damaged batch",
				reader->ops.name);
}

static enum imaddr_status replay(struct threaded_reader *reader,
				 const struct imaddr_batch *batch, struct imaddr_error *err)
{
	const struct imaddr_reader_request *request = reader->request;
	const char *p = batch->data.data, *end = p + batch->data.len;
	enum imaddr_status status = IMADDR_OK;

	while (status == IMADDR_OK && p < end) {
		char kind = *p++;
		if (kind == EVENT_RECORD) {
			if (!imaddr_fields_decode_record(&p, end, &reader->record))
				return corrupt(reader, err);
			status = request->record(request->context, &reader->record, err);
		} else if (kind == EVENT_STAGED && reader->stage) {
			status = reader->stage->replay(reader->stage->context, &p, end, err);
		} else if (kind == EVENT_NOTICE) {
			struct imaddr_finding notice;
			if (!imaddr_fields_decode_finding(&p, end, &notice))
				return corrupt(reader, err);
			status = request->notice(request->context, notice.code, notice.line,
						 notice.dn, notice.field, notice.value,
						 notice.message, err);
		} else {
			return corrupt(reader, err);
		}
	}
	return status;
}

static enum imaddr_status run(struct imaddr_reader *base,
			      const struct imaddr_reader_request *request,
			      struct imaddr_error *err)
{
	struct threaded_reader *reader = (struct threaded_reader *)base;
	enum imaddr_status status = IMADDR_OK;
	struct imaddr_batch *batch;

	reader->request = request;
	reader->inner_request = *request;
	reader->inner_request.record = queue_record;
	reader->inner_request.notice = queue_notice;
	reader->inner_request.context = reader;
	reader->inner_status = IMADDR_OK;
	imaddr_batch_queue_init(&reader->queue, IMADDR_READER_THREAD_BATCHES);

	if (!imaddr_worker_start(&reader->worker, work, reader)) {
		imaddr_batch_queue_release(&reader->queue);
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot start the %s reader thread",
					reader->ops.name);
	}

	while ((batch = imaddr_batch_queue_pop(&reader->queue))) {
		status = replay(reader, batch, err);
		imaddr_batch_queue_recycle(&reader->queue, batch);
		if (status != IMADDR_OK) {
			imaddr_batch_queue_cancel(&reader->queue);
			break;
		}
	}
	pthread_join(reader->worker, NULL);
	imaddr_batch_queue_release(&reader->queue);
	if (status == IMADDR_OK && reader->inner_status != IMADDR_OK) {
		status = reader->inner_status;
		if (err)
			*err = reader->inner_err;
	}
	return status;
}

static void reader_free(struct imaddr_reader *base)
{
	imaddr_reader_free(imaddr_reader_thread_unwrap(base));
}

struct imaddr_reader *imaddr_reader_thread_unwrap(struct imaddr_reader *base)
{
	struct threaded_reader *reader = (struct threaded_reader *)base;
	struct imaddr_reader *inner = reader->inner;
	free(reader);
	return inner;
}

struct imaddr_reader *imaddr_reader_thread_wrap(struct imaddr_reader *inner)
{
	return imaddr_reader_thread_wrap_staged(inner, NULL);
}

struct imaddr_reader *imaddr_reader_thread_wrap_staged(struct imaddr_reader *inner,
						       const struct imaddr_reader_stage *stage)
{
	struct threaded_reader *reader = imaddr_xcalloc(1, sizeof(*reader));
	reader->stage = stage;
	reader->ops.name = inner->ops->name;
	reader->ops.run = run;
	reader->ops.free = reader_free;
	reader->base.ops = &reader->ops;
	reader->inner = inner;
	return &reader->base;
}
