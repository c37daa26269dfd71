#include "capture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reader.h"

static char *copy(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Doubling: a large test input stays linear, under ASan's realloc too, which always copies. */
static void *grow(void *items, size_t count, size_t *capacity, size_t size)
{
	if (count < *capacity)
		return items;
	*capacity = *capacity ? *capacity * 2 : 64;
	return realloc(items, *capacity * size);
}

static enum imaddr_status on_user(struct imaddr_sink *sink, const struct imaddr_user *user,
				  struct imaddr_error *err)
{
	struct capture *capture = (struct capture *)sink;
	capture->users = grow(capture->users, capture->user_count, &capture->user_capacity,
			      sizeof(*capture->users));
	struct captured_user *u = &capture->users[capture->user_count++];
	u->ordinal = user->ordinal;
	u->user_id = copy(user->user_id);
	u->directory_uri = copy(user->directory_uri);
	u->im_address = copy(user->im_address);
	return IMADDR_OK;
}

static enum imaddr_status on_finding(struct imaddr_sink *sink, const struct imaddr_finding *f,
				     struct imaddr_error *err)
{
	struct capture *capture = (struct capture *)sink;
	capture->findings = grow(capture->findings, capture->finding_count,
				 &capture->finding_capacity, sizeof(*capture->findings));
	struct captured_finding *c = &capture->findings[capture->finding_count++];
	c->code = f->code;
	c->ordinal = f->ordinal;
	c->line = f->line;
	c->related_ordinal = f->related_ordinal;
	c->field = copy(f->field);
	c->value = copy(f->value);
	c->message = copy(f->message);
	c->suggestion = copy(f->suggestion);
	c->waiver_reason = copy(f->waiver_reason);
	return IMADDR_OK;
}

static enum imaddr_status on_end(struct imaddr_sink *sink,
				 const struct imaddr_run_totals *totals, struct imaddr_error *err)
{
	((struct capture *)sink)->totals = *totals;
	return IMADDR_OK;
}

/* The audit owns and frees its sinks; the test keeps the capture. */
static void keep(struct imaddr_sink *sink)
{
	(void)sink;
}

static const struct imaddr_sink_ops capture_ops = {
	.name = "capture",
	.user = on_user,
	.finding = on_finding,
	.end = on_end,
	.free = keep,
};

static struct capture *audit_csv(const char *csv, const struct imaddr_audit_options *options,
				 bool threaded)
{
	struct capture *capture = calloc(1, sizeof(*capture));
	struct imaddr_audit *audit = NULL;
	char path[] = "/tmp/imaddr-test-XXXXXX";
	int fd = mkstemp(path);
	FILE *file = fdopen(fd, "w");
	fputs(csv, file);
	fclose(file);

	capture->base.ops = &capture_ops;
	capture->status = imaddr_audit_new(options, &audit, &capture->err);
	if (capture->status == IMADDR_OK) {
		struct imaddr_reader *reader;
		imaddr_audit_add_sink(audit, &capture->base);
		capture->status = imaddr_csv_reader_open(path, &reader, &capture->err);
		if (capture->status == IMADDR_OK && !threaded)
			reader->regular_file = false;
		if (capture->status == IMADDR_OK)
			capture->status = imaddr_audit_run(audit, reader, NULL, &capture->err);
		imaddr_reader_free(reader);
	}
	imaddr_audit_free(audit);
	unlink(path);
	return capture;
}

struct capture *capture_audit_csv(const char *csv, const struct imaddr_audit_options *options)
{
	return audit_csv(csv, options, true);
}

struct capture *capture_audit_csv_unthreaded(const char *csv,
					     const struct imaddr_audit_options *options)
{
	return audit_csv(csv, options, false);
}

size_t capture_count(const struct capture *capture, enum imaddr_code code)
{
	size_t count = 0;
	for (size_t i = 0; i < capture->finding_count; i++)
		count += capture->findings[i].code == code;
	return count;
}

const struct captured_finding *capture_first(const struct capture *capture,
					     enum imaddr_code code)
{
	for (size_t i = 0; i < capture->finding_count; i++) {
		if (capture->findings[i].code == code)
			return &capture->findings[i];
	}
	return NULL;
}

const char *capture_im_address(const struct capture *capture, uint64_t ordinal)
{
	for (size_t i = 0; i < capture->user_count; i++) {
		if (capture->users[i].ordinal == ordinal)
			return capture->users[i].im_address;
	}
	return NULL;
}

void capture_free(struct capture *capture)
{
	for (size_t i = 0; i < capture->finding_count; i++) {
		struct captured_finding *c = &capture->findings[i];
		free(c->field);
		free(c->value);
		free(c->message);
		free(c->suggestion);
		free(c->waiver_reason);
	}
	for (size_t i = 0; i < capture->user_count; i++) {
		free(capture->users[i].user_id);
		free(capture->users[i].directory_uri);
		free(capture->users[i].im_address);
	}
	free(capture->findings);
	free(capture->users);
	free(capture);
}
