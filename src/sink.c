#include "sink.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "buffer.h"
#include "error.h"
#include "sink_thread.h"

void imaddr_sink_free(struct imaddr_sink *sink)
{
	if (sink && sink->ops->free)
		sink->ops->free(sink);
}

/* 128 bits that no other run shares, as hex: a killed run's journal names it. */
static void make_token(char token[33])
{
	unsigned char bytes[16];
	size_t got = 0;

	while (got < sizeof(bytes)) {
		ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < sizeof(bytes)) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		uint64_t mix = (uint64_t)now.tv_sec * 1000000007u ^ (uint64_t)now.tv_nsec ^
			       (uint64_t)getpid() << 32;
		for (size_t i = 0; i < sizeof(bytes); i++) {
			mix = mix * 6364136223846793005u + 1442695040888963407u;
			bytes[i] = (unsigned char)(mix >> 56);
		}
	}
	for (size_t i = 0; i < sizeof(bytes); i++)
		snprintf(token + 2 * i, 3, "%02x", bytes[i]);
}

void imaddr_sink_driver_init(struct imaddr_sink_driver *driver)
{
	driver->slots = NULL;
	driver->count = 0;
	driver->begun = 0;
	driver->final_pass = false;
	driver->decider = 0;
	driver->decided = false;
	driver->replay_all = false;
	driver->selective = false;
	driver->replay_outputs = 0;
	driver->input_ended = false;
	driver->last_ordinal = 0;
	driver->replay = NULL;
	driver->replay_size = 0;
	driver->notes = NULL;
	driver->run_notes = NULL;
	memset(&driver->told, 0, sizeof(driver->told));
	driver->token[0] = '\0';
}

/* The bit of replay[] that says the user's findings grew after the read. */
#define REPLAY_GREW 0x80u
#define REPLAY_OUTPUTS 7

void imaddr_sink_driver_add(struct imaddr_sink_driver *driver, struct imaddr_sink *sink)
{
	const struct imaddr_sink_ops *ops = sink->ops;
	struct imaddr_sink_slot slot = { .sink = sink };

	if (ops->flags & IMADDR_SINK_FINAL_PASS) {
		driver->final_pass = true;
		/* An output on a worker loses its select when it is wrapped. */
		bool selects = (ops->select && !(ops->flags & IMADDR_SINK_ON_WORKER)) ||
			       (ops->flags & IMADDR_SINK_USERS_WITH_FINDINGS);
		if (selects && driver->replay_outputs < REPLAY_OUTPUTS) {
			slot.replay_bit = (uint8_t)(1u << driver->replay_outputs++);
			driver->selective = true;
		} else {
			driver->replay_all = true;
		}
	}
	driver->slots = imaddr_xrealloc(driver->slots, (driver->count + 1) * sizeof(*driver->slots));
	driver->slots[driver->count++] = slot;
}

void imaddr_sink_driver_add_note(struct imaddr_sink_driver *driver, const char *line)
{
	struct imaddr_buf notes;
	imaddr_buf_init(&notes, 0);
	if (driver->run_notes)
		imaddr_buf_append_str(&notes, driver->run_notes);
	imaddr_buf_appendf(&notes, "%s\n", line);
	free(driver->run_notes);
	driver->run_notes = imaddr_buf_detach(&notes);
}

static void abort_slot(struct imaddr_sink_slot *slot)
{
	if (!slot->done && slot->sink->ops->abort)
		slot->sink->ops->abort(slot->sink);
	slot->done = true;
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
	free(driver->replay);
	free(driver->notes);
	free(driver->run_notes);
	imaddr_sink_driver_init(driver);
}

enum imaddr_status imaddr_sink_driver_begin(struct imaddr_sink_driver *driver,
					    const struct imaddr_run_info *info,
					    struct imaddr_error *err)
{
	static const struct imaddr_run_info no_info;
	struct imaddr_run_info run = info ? *info : no_info;
	enum imaddr_status status = IMADDR_OK;

	make_token(driver->token);
	run.token = driver->token;
	run.transaction_path = NULL;
	driver->decider = driver->count;
	for (size_t i = 0; i < driver->count; i++) {
		if (driver->slots[i].sink->transaction_path) {
			driver->decider = i;
			run.transaction_path = driver->slots[i].sink->transaction_path;
			break;
		}
	}
	for (size_t i = 0; status == IMADDR_OK && i < driver->count; i++) {
		struct imaddr_sink_slot *slot = &driver->slots[i];
		if (slot->sink->ops->flags & IMADDR_SINK_ON_WORKER) {
			slot->sink = imaddr_sink_thread_wrap(slot->sink);
			slot->threaded = true;
		}
		if (slot->sink->ops->begin)
			status = slot->sink->ops->begin(slot->sink, &run, err);
		driver->begun = i + 1;
	}
	if (status == IMADDR_OK)
		imaddr_step("begun");
	return status;
}

static bool final_pass(const struct imaddr_sink_slot *slot)
{
	return slot->sink->ops->flags & IMADDR_SINK_FINAL_PASS;
}

static void note_replay(struct imaddr_sink_driver *driver, uint64_t ordinal, uint8_t bits)
{
	if (ordinal >= driver->replay_size) {
		uint64_t size = driver->replay_size ? driver->replay_size : 4096;
		while (size <= ordinal)
			size *= 2;
		driver->replay = imaddr_xrealloc(driver->replay, size);
		memset(driver->replay + driver->replay_size, 0, size - driver->replay_size);
		driver->replay_size = size;
	}
	driver->replay[ordinal] |= bits;
}

enum imaddr_status imaddr_sink_driver_user(struct imaddr_sink_driver *driver,
					   const struct imaddr_user *user, uint64_t codes,
					   bool has_error, struct imaddr_error *err)
{
	struct imaddr_user so_far = *user;
	uint8_t wanted = 0;

	so_far.finding_codes = codes;
	so_far.has_error = has_error;
	for (size_t i = 0; i < driver->count; i++) {
		const struct imaddr_sink_slot *slot = &driver->slots[i];
		struct imaddr_sink *sink = slot->sink;
		if (final_pass(slot)) {
			if (slot->replay_bit &&
			    (sink->ops->select ? sink->ops->select(sink, &so_far) : codes != 0))
				wanted |= slot->replay_bit;
			continue;
		}
		if (!sink->ops->user)
			continue;
		enum imaddr_status status = sink->ops->user(sink, user, err);
		if (status != IMADDR_OK)
			return status;
	}
	if (driver->selective && wanted)
		note_replay(driver, user->ordinal, wanted);
	driver->last_ordinal = user->ordinal;
	return IMADDR_OK;
}

bool imaddr_sink_driver_replays(const struct imaddr_sink_driver *driver, uint64_t ordinal)
{
	return driver->replay_all || (ordinal < driver->replay_size && driver->replay[ordinal]);
}

enum imaddr_status imaddr_sink_driver_finding(struct imaddr_sink_driver *driver,
					      const struct imaddr_finding *finding,
					      struct imaddr_error *err)
{
	/* A user's own findings follow it; any other grew its findings after its select. */
	if (driver->selective && finding->ordinal &&
	    (driver->input_ended || finding->ordinal != driver->last_ordinal))
		note_replay(driver, finding->ordinal, REPLAY_GREW);
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
	driver->input_ended = true;
	imaddr_step("input-end");
	return IMADDR_OK;
}

static enum imaddr_status interrupted(struct imaddr_error *err);

static enum imaddr_status deliver_final(struct imaddr_sink_driver *driver,
					const struct imaddr_user *user, struct imaddr_error *err)
{
	if (imaddr_stop_requested())
		return interrupted(err);
	uint8_t bits = driver->selective && user->ordinal < driver->replay_size
			       ? driver->replay[user->ordinal]
			       : 0;
	for (size_t i = 0; i < driver->count; i++) {
		const struct imaddr_sink_slot *slot = &driver->slots[i];
		struct imaddr_sink *sink = slot->sink;
		if (!sink->ops->user || !final_pass(slot))
			continue;
		if (slot->replay_bit && !(bits & (slot->replay_bit | REPLAY_GREW)))
			continue;
		if ((sink->ops->flags & IMADDR_SINK_USERS_WITH_FINDINGS) && !user->finding_codes)
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
static char *describe_outputs(struct imaddr_sink_driver *driver, struct imaddr_run_totals *told)
{
	struct imaddr_buf notes;
	imaddr_buf_init(&notes, 0);
	for (size_t i = 0; i < driver->count; i++) {
		struct imaddr_sink *sink = driver->slots[i].sink;
		if (sink->ops->describe)
			sink->ops->describe(sink, &notes, told);
	}
	if (driver->run_notes)
		imaddr_buf_append_str(&notes, driver->run_notes);
	return imaddr_buf_detach(&notes);
}

static enum imaddr_status commit_slot(struct imaddr_sink_slot *slot, struct imaddr_error *err)
{
	enum imaddr_status status = IMADDR_OK;
	if (slot->sink->ops->commit)
		status = slot->sink->ops->commit(slot->sink, err);
	if (status == IMADDR_OK)
		slot->done = true;
	return status;
}

static enum imaddr_status interrupted(struct imaddr_error *err)
{
	return imaddr_error_set(err, IMADDR_ERR_INTERRUPTED, "interrupted");
}

/* Every output durable under a temporary name, none in place. */
static enum imaddr_status prepare(struct imaddr_sink_driver *driver,
				  imaddr_sink_replay_fn *replay, void *replay_context,
				  const struct imaddr_run_totals *totals, struct imaddr_error *err)
{
	enum imaddr_status status = IMADDR_OK;
	size_t i;

	for (i = 0; status == IMADDR_OK && i < driver->count; i++) {
		struct imaddr_sink_slot *slot = &driver->slots[i];
		if (slot->threaded && !final_pass(slot) && !last(slot))
			status = end_slot(slot, totals, err);
	}
	if (status == IMADDR_OK && driver->final_pass) {
		/* Also when no user is read back: the step is the pass's start. */
		imaddr_step("final-pass");
		status = replay(replay_context, deliver_final, driver, err);
	}
	if (status == IMADDR_OK && imaddr_stop_requested())
		status = interrupted(err);
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
		/* Told what the others wrote; kept until they commit. */
		driver->told = *totals;
		driver->notes = describe_outputs(driver, &driver->told);
		driver->told.outputs = driver->notes;
		for (i = 0; status == IMADDR_OK && i < driver->count; i++) {
			struct imaddr_sink_slot *slot = &driver->slots[i];
			if (!last(slot))
				continue;
			status = end_slot(slot, &driver->told, err);
			if (status == IMADDR_OK && slot->threaded)
				status = imaddr_sink_thread_wait(slot->sink, err);
			if (status == IMADDR_OK)
				slot->ended = true;
		}
	}
	return status;
}

enum imaddr_status imaddr_sink_driver_end(struct imaddr_sink_driver *driver,
					  imaddr_sink_replay_fn *replay, void *replay_context,
					  const struct imaddr_run_totals *totals,
					  struct imaddr_error *err)
{
	enum imaddr_status status = prepare(driver, replay, replay_context, totals, err);

	if (status == IMADDR_OK)
		imaddr_step("prepared");
	/* The last moment a stop still leaves everything as it was. */
	if (status == IMADDR_OK && imaddr_stop_requested())
		status = interrupted(err);
	if (status == IMADDR_OK && driver->decider < driver->count)
		status = commit_slot(&driver->slots[driver->decider], err);
	if (status != IMADDR_OK) {
		imaddr_sink_driver_abort(driver);
		return status;
	}
	driver->decided = true;
	imaddr_step("decided");
	/* Past the commit point: every output is committed, whatever fails; last the last. */
	for (size_t i = 0; i < 2 * driver->count; i++) {
		struct imaddr_sink_slot *slot = &driver->slots[i % driver->count];
		struct imaddr_error slot_err = { "" };
		if (slot->done || last(slot) != (i >= driver->count))
			continue;
		enum imaddr_status slot_status = commit_slot(slot, &slot_err);
		if (slot_status != IMADDR_OK && status == IMADDR_OK) {
			status = slot_status;
			if (err)
				*err = slot_err;
		}
		slot->done = true;
	}
	if (status == IMADDR_OK)
		imaddr_step("committed");
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
