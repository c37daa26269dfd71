#include "reader_thread.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch_queue.h"
#include "buffer.h"
#include "reader.h"
#include "status.h"
#include "worker.h"

enum event_kind {
	EVENT_RECORD = 'R',
	EVENT_NOTICE = 'N'
};

struct threaded_reader {
	struct imaddr_reader base;
	struct imaddr_reader_ops ops;        /* the inner reader's name */
	struct imaddr_reader *inner;

	struct imaddr_batch_queue queue;
	pthread_t worker;
	/* The worker's side: the request it serves and how its run ended. */
	struct imaddr_reader_request inner_request;
	enum imaddr_status inner_status;
	struct imaddr_error inner_err;
	/* The caller's side. */
	const struct imaddr_reader_request *request;
	struct imaddr_record record;
	/* Attribute names outlive a record (see reader.h): kept here, once each. */
	char **attributes;
	size_t attribute_count;
	const char *last_attribute[IMADDR_ROLE_COUNT];
};

/* ------------------------------------------------------------------------ */
/* Encoding: see batch_queue.h. */

static void encode_record(struct imaddr_buf *buf, const struct imaddr_record *record)
{
	uint32_t problems = (uint32_t)record->problem_count;
	imaddr_buf_append_char(buf, EVENT_RECORD);
	imaddr_batch_put(buf, &record->line, sizeof(record->line));
	imaddr_batch_put_string(buf, record->dn);
	for (int role = 0; role < IMADDR_ROLE_COUNT; role++) {
		const struct imaddr_value *value = &record->values[role];
		imaddr_buf_append_char(buf, (char)value->present);
		imaddr_batch_put_string(buf, value->attribute);
		imaddr_batch_put_bytes(buf, value->data, value->len);
	}
	imaddr_batch_put(buf, &problems, sizeof(problems));
	for (size_t i = 0; i < record->problem_count; i++) {
		uint32_t code = record->problems[i].code;
		imaddr_batch_put(buf, &code, sizeof(code));
		imaddr_batch_put_string(buf, record->problems[i].field);
		imaddr_batch_put_string(buf, record->problems[i].message);
	}
}

/*
 * The reader's own copy of an attribute name; a role's is mostly its last.
 * The audit also compares a problem's field with a value's attribute by
 * pointer, so both are interned (role -1 for a problem's field).
 */
static const char *intern_attribute(struct threaded_reader *reader, int role, const char *name)
{
	const char *last = role >= 0 ? reader->last_attribute[role] : NULL;
	if (!name || (last && !strcmp(last, name)))
		return name ? last : NULL;
	size_t i = 0;
	while (i < reader->attribute_count && strcmp(reader->attributes[i], name))
		i++;
	if (i == reader->attribute_count) {
		reader->attributes = imaddr_xrealloc(reader->attributes,
						     (i + 1) * sizeof(*reader->attributes));
		reader->attributes[reader->attribute_count++] = imaddr_xstrdup(name);
	}
	if (role >= 0)
		reader->last_attribute[role] = reader->attributes[i];
	return reader->attributes[i];
}

static const char *decode_record(struct threaded_reader *reader, const char *p)
{
	struct imaddr_record *record = &reader->record;
	uint64_t line;
	uint32_t problems;
	IMADDR_BATCH_GET(p, line);
	imaddr_record_reset(record, line);
	record->dn = imaddr_batch_get_string(&p);
	for (int role = 0; role < IMADDR_ROLE_COUNT; role++) {
		struct imaddr_value *value = &record->values[role];
		value->present = *p++;
		value->attribute = intern_attribute(reader, role, imaddr_batch_get_string(&p));
		value->data = imaddr_batch_get_bytes(&p, &value->len);
		value->terminated = value->data != NULL;
	}
	IMADDR_BATCH_GET(p, problems);
	for (uint32_t i = 0; i < problems; i++) {
		uint32_t code;
		IMADDR_BATCH_GET(p, code);
		const char *field = intern_attribute(reader, -1, imaddr_batch_get_string(&p));
		const char *message = imaddr_batch_get_string(&p);
		imaddr_record_add_problem(record, (enum imaddr_code)code, field, "%s", message);
	}
	return p;
}

struct notice {
	uint32_t code;
	uint64_t line;
	const char *dn, *field, *value, *message;
};

static void encode_notice(struct imaddr_buf *buf, const struct notice *notice)
{
	imaddr_buf_append_char(buf, EVENT_NOTICE);
	imaddr_batch_put(buf, &notice->code, sizeof(notice->code));
	imaddr_batch_put(buf, &notice->line, sizeof(notice->line));
	imaddr_batch_put_string(buf, notice->dn);
	imaddr_batch_put_string(buf, notice->field);
	imaddr_batch_put_string(buf, notice->value);
	imaddr_batch_put_string(buf, notice->message);
}

static const char *decode_notice(const char *p, struct notice *notice)
{
	IMADDR_BATCH_GET(p, notice->code);
	IMADDR_BATCH_GET(p, notice->line);
	notice->dn = imaddr_batch_get_string(&p);
	notice->field = imaddr_batch_get_string(&p);
	notice->value = imaddr_batch_get_string(&p);
	notice->message = imaddr_batch_get_string(&p);
	return p;
}

/* ------------------------------------------------------------------------ */
/* The worker: the inner reader's callbacks queue what they are given. */

static enum imaddr_status hand_over_if_full(struct threaded_reader *reader,
					    struct imaddr_error *err)
{
	if (imaddr_batch_queue_current(&reader->queue)->len < IMADDR_READER_THREAD_BATCH_SIZE)
		return IMADDR_OK;
	if (imaddr_batch_queue_push(&reader->queue))
		return IMADDR_OK;
	/* The audit stopped; its own status is the run's. This one only ends the read. */
	return imaddr_error_set(err, IMADDR_ERR_INPUT, "the audit stopped reading");
}

static enum imaddr_status queue_record(void *context, const struct imaddr_record *record,
				       struct imaddr_error *err)
{
	struct threaded_reader *reader = context;
	encode_record(imaddr_batch_queue_current(&reader->queue), record);
	return hand_over_if_full(reader, err);
}

static enum imaddr_status queue_notice(void *context, enum imaddr_code code, uint64_t line,
				       const char *dn, const char *field, const char *value,
				       const char *message, struct imaddr_error *err)
{
	struct threaded_reader *reader = context;
	struct notice notice = { code, line, dn, field, value, message };
	encode_notice(imaddr_batch_queue_current(&reader->queue), &notice);
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

static enum imaddr_status replay(struct threaded_reader *reader,
				 const struct imaddr_batch *batch, struct imaddr_error *err)
{
	const struct imaddr_reader_request *request = reader->request;
	const char *p = batch->data.data, *end = p + batch->data.len;
	enum imaddr_status status = IMADDR_OK;

	while (status == IMADDR_OK && p < end) {
		char kind = *p++;
		if (kind == EVENT_RECORD) {
			p = decode_record(reader, p);
			status = request->record(request->context, &reader->record, err);
		} else {
			struct notice notice;
			p = decode_notice(p, &notice);
			status = request->notice(request->context, (enum imaddr_code)notice.code,
						 notice.line, notice.dn, notice.field,
						 notice.value, notice.message, err);
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
	struct threaded_reader *reader = (struct threaded_reader *)base;
	imaddr_reader_free(reader->inner);
	for (size_t i = 0; i < reader->attribute_count; i++)
		free(reader->attributes[i]);
	free(reader->attributes);
	free(reader);
}

struct imaddr_reader *imaddr_reader_threaded(struct imaddr_reader *inner)
{
	struct threaded_reader *reader = imaddr_xcalloc(1, sizeof(*reader));
	reader->ops.name = inner->ops->name;
	reader->ops.run = run;
	reader->ops.free = reader_free;
	reader->base.ops = &reader->ops;
	reader->inner = inner;
	return &reader->base;
}
