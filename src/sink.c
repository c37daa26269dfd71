#include "sink.h"

#include <stdlib.h>

#include "buffer.h"
#include "sink_thread.h"

void imaddr_sink_free(struct imaddr_sink *sink)
{
	if (sink && sink->ops->free)
		sink->ops->free(sink);
}

void imaddr_sink_driver_init(struct imaddr_sink_driver *driver)
{
	driver->slots = NULL;
	driver->count = 0;
	driver->begun = 0;
	driver->final_pass = false;
}

void imaddr_sink_driver_add(struct imaddr_sink_driver *driver, struct imaddr_sink *sink)
{
	driver->slots = imaddr_xrealloc(driver->slots, (driver->count + 1) * sizeof(*driver->slots));
	driver->slots[driver->count++] = (struct imaddr_sink_slot){ .sink = sink };
	if (sink->ops->flags & IMADDR_SINK_FINAL_PASS)
		driver->final_pass = true;
}

static void abort_slot(struct imaddr_sink_slot *slot)
{
	if (!slot->ended && slot->sink->ops->abort)
		slot->sink->ops->abort(slot->sink);
	slot->ended = true;
}

void imaddr_sink_driver_abort(struct imaddr_sink_driver *driver)
{
	for (size_t i = 0; i < driver->begun; i++)
		abort_slot(&driver->slots[i]);
}

void imaddr_sink_driver_release(struct imaddr_sink_driver *driver)
{
	imaddr_sink_driver_abort(driver);
	for (size_t i = 0; i < driver->count; i++)
		imaddr_sink_free(driver->slots[i].sink);
	free(driver->slots);
	imaddr_sink_driver_init(driver);
}

enum imaddr_status imaddr_sink_driver_begin(struct imaddr_sink_driver *driver,
					    const struct imaddr_run_info *info,
					    struct imaddr_error *err)
{
	enum imaddr_status status = IMADDR_OK;
	for (size_t i = 0; status == IMADDR_OK && i < driver->count; i++) {
		struct imaddr_sink_slot *slot = &driver->slots[i];
		if (slot->sink->ops->flags & IMADDR_SINK_ON_WORKER) {
			slot->sink = imaddr_sink_thread_wrap(slot->sink);
			slot->threaded = true;
		}
		if (slot->sink->ops->begin)
			status = slot->sink->ops->begin(slot->sink, info, err);
		driver->begun = i + 1;
	}
	return status;
}

static bool final_pass(const struct imaddr_sink_slot *slot)
{
	return slot->sink->ops->flags & IMADDR_SINK_FINAL_PASS;
}

enum imaddr_status imaddr_sink_driver_user(struct imaddr_sink_driver *driver,
					   const struct imaddr_user *user,
					   struct imaddr_error *err)
{
	for (size_t i = 0; i < driver->count; i++) {
		struct imaddr_sink *sink = driver->slots[i].sink;
		if (!sink->ops->user || final_pass(&driver->slots[i]))
			continue;
		enum imaddr_status status = sink->ops->user(sink, user, err);
		if (status != IMADDR_OK)
			return status;
	}
	return IMADDR_OK;
}

enum imaddr_status imaddr_sink_driver_finding(struct imaddr_sink_driver *driver,
					      const struct imaddr_finding *finding,
					      struct imaddr_error *err)
{
	for (size_t i = 0; i < driver->count; i++) {
		struct imaddr_sink *sink = driver->slots[i].sink;
		if (!sink->ops->finding)
			continue;
		enum imaddr_status status = sink->ops->finding(sink, finding, err);
		if (status != IMADDR_OK)
			return status;
	}
	return IMADDR_OK;
}

enum imaddr_status imaddr_sink_driver_input_end(struct imaddr_sink_driver *driver,
						struct imaddr_error *err)
{
	for (size_t i = 0; i < driver->count; i++) {
		struct imaddr_sink *sink = driver->slots[i].sink;
		if (!sink->ops->input_end)
			continue;
		enum imaddr_status status = sink->ops->input_end(sink, err);
		if (status != IMADDR_OK)
			return status;
	}
	return IMADDR_OK;
}

static enum imaddr_status deliver_final(struct imaddr_sink_driver *driver,
					const struct imaddr_user *user, struct imaddr_error *err)
{
	for (size_t i = 0; i < driver->count; i++) {
		struct imaddr_sink *sink = driver->slots[i].sink;
		if (!sink->ops->user || !final_pass(&driver->slots[i]))
			continue;
		enum imaddr_status status = sink->ops->user(sink, user, err);
		if (status != IMADDR_OK)
			return status;
	}
	return IMADDR_OK;
}

static enum imaddr_status end_slot(struct imaddr_sink_slot *slot,
				   const struct imaddr_run_totals *totals, struct imaddr_error *err)
{
	enum imaddr_status status = IMADDR_OK;
	if (slot->sink->ops->end)
		status = slot->sink->ops->end(slot->sink, totals, err);
	/* A threaded output's end is only queued: it is durable after the wait. */
	if (status == IMADDR_OK && !slot->threaded)
		slot->ended = true;
	return status;
}

static bool last(const struct imaddr_sink_slot *slot)
{
	return slot->sink->ops->flags & IMADDR_SINK_LAST;
}

/*
 * What the outputs wrote, a line each, for those that end last; an output
 * that ends last itself may only name its file here.
 */
static char *describe_outputs(struct imaddr_sink_driver *driver)
{
	struct imaddr_buf notes;
	imaddr_buf_init(&notes, 0);
	for (size_t i = 0; i < driver->count; i++) {
		struct imaddr_sink *sink = driver->slots[i].sink;
		if (sink->ops->describe)
			sink->ops->describe(sink, &notes);
	}
	return imaddr_buf_detach(&notes);
}

enum imaddr_status imaddr_sink_driver_end(struct imaddr_sink_driver *driver,
					  imaddr_sink_replay_fn *replay, void *replay_context,
					  const struct imaddr_run_totals *totals,
					  struct imaddr_error *err)
{
	enum imaddr_status status = IMADDR_OK;
	size_t i;

	for (i = 0; status == IMADDR_OK && i < driver->count; i++) {
		struct imaddr_sink_slot *slot = &driver->slots[i];
		if (slot->threaded && !final_pass(slot) && !last(slot))
			status = end_slot(slot, totals, err);
	}
	if (status == IMADDR_OK && driver->final_pass)
		status = replay(replay_context, deliver_final, driver, err);
	for (i = 0; status == IMADDR_OK && i < driver->count; i++) {
		struct imaddr_sink_slot *slot = &driver->slots[i];
		if ((!slot->threaded || final_pass(slot)) && !last(slot))
			status = end_slot(slot, totals, err);
	}
	for (i = 0; status == IMADDR_OK && i < driver->count; i++) {
		struct imaddr_sink_slot *slot = &driver->slots[i];
		if (!slot->threaded || last(slot))
			continue;
		status = imaddr_sink_thread_wait(slot->sink, err);
		if (status == IMADDR_OK)
			slot->ended = true;
	}
	if (status == IMADDR_OK) {
		struct imaddr_run_totals told = *totals;
		char *notes = describe_outputs(driver);
		told.outputs = notes;
		for (i = 0; status == IMADDR_OK && i < driver->count; i++) {
			struct imaddr_sink_slot *slot = &driver->slots[i];
			if (!last(slot))
				continue;
			status = end_slot(slot, &told, err);
			if (status == IMADDR_OK && slot->threaded)
				status = imaddr_sink_thread_wait(slot->sink, err);
			if (status == IMADDR_OK)
				slot->ended = true;
		}
		free(notes);
	}
	if (status != IMADDR_OK)
		imaddr_sink_driver_abort(driver);
	return status;
}

void imaddr_dup_groups_init(struct imaddr_dup_groups *groups)
{
	groups->code = IMADDR_CODE_COUNT;
	groups->first_member = 0;
	groups->count = 0;
}

bool imaddr_code_is_duplicate(enum imaddr_code code)
{
	return code == IMADDR_CODE_USERID_DUPLICATE || code == IMADDR_CODE_URI_DUPLICATE ||
	       code == IMADDR_CODE_MAIL_DUPLICATE || code == IMADDR_CODE_IM_ADDRESS_DUPLICATE;
}

uint64_t imaddr_dup_groups_next(struct imaddr_dup_groups *groups,
				const struct imaddr_finding *finding)
{
	if (!imaddr_code_is_duplicate(finding->code) || !finding->related_ordinal)
		return 0;
	uint64_t first = finding->ordinal < finding->related_ordinal ? finding->ordinal
								     : finding->related_ordinal;
	if (finding->code != groups->code || first != groups->first_member) {
		groups->code = finding->code;
		groups->first_member = first;
		groups->count++;
	}
	return groups->count;
}
