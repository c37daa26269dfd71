/* The threaded reader wrapper: the same records and notices, in order, with
 * failures carried both ways. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "imaddr.h"
#include "reader.h"
#include "reader_thread.h"
#include "error.h"

/* A reader that makes up `count` records, with a notice every 7th. */
struct fake_reader {
	struct imaddr_reader base;
	uint64_t count;
	uint64_t fail_after;          /* 0: never; else fail once this many are out */
	uint64_t handed;              /* records the request accepted */
	enum imaddr_status stopped_with;
};

static const char *const attribute_names[IMADDR_ROLE_COUNT] = {
	"sAMAccountName", "mail", "mail", "givenName", "sn", "DIRECTORY URI",
};

static void make_record(struct imaddr_record *record, uint64_t i, char *user_id, size_t size)
{
	imaddr_record_reset(record, i * 2);
	record->dn = i % 3 ? "cn=someone,dc=example,dc=com" : NULL;
	/* "u<i>" with a NUL inside every 5th, to check lengths are kept. */
	int len = snprintf(user_id, size, "u%llu%s", (unsigned long long)i, i % 5 ? "" : "Xnul");
	if (i % 5 == 0)
		user_id[len - 3] = '\0';
	for (int role = 0; role < IMADDR_ROLE_COUNT; role++)
		record->values[role].attribute = attribute_names[role];
	record->values[IMADDR_ROLE_USER_ID].data = user_id;
	record->values[IMADDR_ROLE_USER_ID].len = (size_t)len;
	record->values[IMADDR_ROLE_USER_ID].present = true;
	record->values[IMADDR_ROLE_MAIL].data = "a@example.com";
	record->values[IMADDR_ROLE_MAIL].len = 13;
	record->values[IMADDR_ROLE_MAIL].present = i % 2;
	if (i % 4 == 0)
		imaddr_record_add_problem(record, IMADDR_CODE_RECORD_MALFORMED,
					  attribute_names[IMADDR_ROLE_LAST_NAME], "row %llu dropped sn",
					  (unsigned long long)i);
}

static enum imaddr_status fake_run(struct imaddr_reader *base,
				   const struct imaddr_reader_request *request,
				   struct imaddr_error *err)
{
	struct fake_reader *reader = (struct fake_reader *)base;
	struct imaddr_record record;
	char user_id[64];
	enum imaddr_status status = IMADDR_OK;

	for (uint64_t i = 1; status == IMADDR_OK && i <= reader->count; i++) {
		if (reader->fail_after && reader->handed == reader->fail_after)
			return imaddr_error_set(err, IMADDR_ERR_IO, "disk gone after %llu",
						(unsigned long long)reader->handed);
		make_record(&record, i, user_id, sizeof(user_id));
		status = request->record(request->context, &record, err);
		if (status == IMADDR_OK)
			reader->handed++;
		if (status == IMADDR_OK && i % 7 == 0)
			status = request->notice(request->context, IMADDR_CODE_LDAP_REFERENCE, i,
						 NULL, "sn", "x,y", "skipped", err);
	}
	reader->stopped_with = status;
	return status;
}

static void fake_free(struct imaddr_reader *base)
{
	free(base);
}

static const struct imaddr_reader_ops fake_ops = { .name = "fake", .run = fake_run,
						   .free = fake_free };

static struct fake_reader *fake_new(uint64_t count)
{
	struct fake_reader *reader = calloc(1, sizeof(*reader));
	reader->base.ops = &fake_ops;
	reader->count = count;
	return reader;
}

/* What the audit's side saw, as text. */
struct log {
	struct imaddr_buf text;   /* grows by doubling: the log reaches megabytes */
	uint64_t records;
	uint64_t fail_at;             /* 0: never */
};

static void append(struct log *log, const char *text)
{
	imaddr_buf_append_str(&log->text, text);
}

static enum imaddr_status on_record(void *context, const struct imaddr_record *record,
				    struct imaddr_error *err)
{
	struct log *log = context;
	char line[512];
	if (log->fail_at && log->records + 1 == log->fail_at)
		return imaddr_error_set(err, IMADDR_ERR_INTERRUPTED, "stopped at %llu",
					(unsigned long long)log->fail_at);
	log->records++;
	const struct imaddr_value *user_id = &record->values[IMADDR_ROLE_USER_ID];
	const struct imaddr_value *mail = &record->values[IMADDR_ROLE_MAIL];
	const struct imaddr_value *last = &record->values[IMADDR_ROLE_LAST_NAME];
	snprintf(line, sizeof(line), "R%llu:%s:%zu:%.*s|%s:%d:%s|%s:%zu",
		 (unsigned long long)record->line, record->dn ? record->dn : "-", user_id->len,
		 (int)strlen(user_id->data), user_id->data, mail->attribute, mail->present,
		 mail->present ? mail->data : "-", last->attribute, record->problem_count);
	append(log, line);
	for (size_t i = 0; i < record->problem_count; i++) {
		/* The audit tells a dropped field by its name. */
		snprintf(line, sizeof(line), "[%s:%s:%d]", imaddr_code_name(record->problems[i].code),
			 record->problems[i].message,
			 !strcmp(record->problems[i].field, last->attribute));
		append(log, line);
	}
	append(log, ";");
	return IMADDR_OK;
}

static enum imaddr_status on_notice(void *context, enum imaddr_code code, uint64_t line,
				    const char *dn, const char *field, const char *value,
				    const char *message, struct imaddr_error *err)
{
	char text[256];
	snprintf(text, sizeof(text), "N%llu:%s:%s:%s:%s:%s;", (unsigned long long)line,
		 imaddr_code_name(code), dn ? dn : "-", field, value, message);
	append(context, text);
	return IMADDR_OK;
}

static enum imaddr_status run_reader(struct imaddr_reader *reader, struct log *log,
				     struct imaddr_error *err)
{
	static struct imaddr_mapping mapping;
	struct imaddr_reader_request request = {
		.mapping = &mapping, .record = on_record, .notice = on_notice, .context = log,
	};
	return imaddr_reader_run(reader, &request, err);
}

Test(reader_thread, replays_what_the_reader_gives_in_order)
{
	struct imaddr_error err = { "" };
	struct log direct = { 0 }, threaded = { 0 };
	imaddr_buf_init(&direct.text, 0);
	imaddr_buf_init(&threaded.text, 0);
	struct fake_reader *plain = fake_new(50000);
	struct imaddr_reader *wrapped = imaddr_reader_thread_wrap(&fake_new(50000)->base);

	cr_assert_eq(run_reader(&plain->base, &direct, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(run_reader(wrapped, &threaded, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(threaded.records, 50000);
	cr_assert(direct.text.len > 1 << 20, "the run spans several batches");
	/* Not cr_assert_str_eq: Criterion cannot send a message of megabytes. */
	cr_assert(!strcmp(threaded.text.data, direct.text.data), "the logs differ");
	cr_assert_str_eq(wrapped->ops->name, "fake");
	imaddr_reader_free(wrapped);
	imaddr_reader_free(&plain->base);
	imaddr_buf_release(&direct.text);
	imaddr_buf_release(&threaded.text);
}

Test(reader_thread, an_audit_failure_stops_the_reader)
{
	struct imaddr_error err = { "" };
	struct log log = { .fail_at = 30000 };
	imaddr_buf_init(&log.text, 0);
	struct fake_reader *inner = fake_new(1000000);
	struct imaddr_reader *wrapped = imaddr_reader_thread_wrap(&inner->base);

	cr_assert_eq(run_reader(wrapped, &log, &err), IMADDR_ERR_INTERRUPTED);
	cr_assert_str_eq(err.message, "stopped at 30000");
	cr_assert_eq(log.records, 29999);
	/* The worker ran ahead by at most the queue, then was told to stop. */
	cr_assert_neq(inner->stopped_with, IMADDR_OK);
	cr_assert_lt(inner->handed, 200000);
	imaddr_reader_free(wrapped);
	imaddr_buf_release(&log.text);
}

Test(reader_thread, a_reader_failure_comes_after_the_records_before_it)
{
	struct imaddr_error err = { "" };
	struct log log = { 0 };
	imaddr_buf_init(&log.text, 0);
	struct fake_reader *inner = fake_new(100000);
	struct imaddr_reader *wrapped = imaddr_reader_thread_wrap(&inner->base);

	inner->fail_after = 12345;
	cr_assert_eq(run_reader(wrapped, &log, &err), IMADDR_ERR_IO);
	cr_assert_str_eq(err.message, "disk gone after 12345");
	cr_assert_eq(log.records, 12345);
	imaddr_reader_free(wrapped);
	imaddr_buf_release(&log.text);
}
