/*
 * The output driver (sink.c): an output on a worker thread sees the same
 * events in the same order as one on the audit's thread, failures are
 * carried back and abort the outputs, and a final pass replays the users
 * with their final findings.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imaddr.h"
#include "sink.h"

struct recorder {
	struct imaddr_sink base;
	char log[1 << 20];
	size_t len;
	uint64_t fail_at_user;      /* 0: never */
	uint64_t selects;           /* select calls */
	uint64_t selected_with_error;  /* of which with has_error set */
	bool ended;
	bool aborted;
};

static void note(struct recorder *r, const char *text)
{
	size_t n = strlen(text);
	if (r->len + n < sizeof(r->log)) {
		memcpy(r->log + r->len, text, n + 1);
		r->len += n;
	}
}

static enum imaddr_status on_user(struct imaddr_sink *sink, const struct imaddr_user *user,
				  struct imaddr_error *err)
{
	struct recorder *r = (struct recorder *)sink;
	char line[256];
	if (r->fail_at_user && user->ordinal == r->fail_at_user) {
		snprintf(err->message, sizeof(err->message), "refused user %llu",
			 (unsigned long long)user->ordinal);
		return IMADDR_ERR_DB;
	}
	snprintf(line, sizeof(line), "U%llu:%s:%s%s;", (unsigned long long)user->ordinal,
		 user->user_id ? user->user_id : "-", user->im_address ? user->im_address : "-",
		 user->has_error ? ":error" : "");
	note(r, line);
	return IMADDR_OK;
}

static enum imaddr_status on_finding(struct imaddr_sink *sink, const struct imaddr_finding *f,
				     struct imaddr_error *err)
{
	char line[256];
	snprintf(line, sizeof(line), "F%llu:%s;", (unsigned long long)f->ordinal,
		 imaddr_code_name(f->code));
	note((struct recorder *)sink, line);
	return IMADDR_OK;
}

static enum imaddr_status on_input_end(struct imaddr_sink *sink, struct imaddr_error *err)
{
	note((struct recorder *)sink, "I;");
	return IMADDR_OK;
}

static enum imaddr_status on_end(struct imaddr_sink *sink, const struct imaddr_run_totals *totals,
				 struct imaddr_error *err)
{
	struct recorder *r = (struct recorder *)sink;
	char line[64];
	snprintf(line, sizeof(line), "E%llu;", (unsigned long long)totals->users);
	note(r, line);
	r->ended = true;
	return IMADDR_OK;
}

static void on_abort(struct imaddr_sink *sink)
{
	((struct recorder *)sink)->aborted = true;
}

static void keep(struct imaddr_sink *sink)
{
	(void)sink;
}

#define RECORDER_OPS(flag_bits) { \
	.name = "recorder", \
	.flags = flag_bits, \
	.user = on_user, \
	.finding = on_finding, \
	.input_end = on_input_end, \
	.end = on_end, \
	.abort = on_abort, \
	.free = keep, \
}
static const struct imaddr_sink_ops recorder_ops = RECORDER_OPS(0);
static const struct imaddr_sink_ops worker_recorder_ops = RECORDER_OPS(IMADDR_SINK_ON_WORKER);
static const struct imaddr_sink_ops final_recorder_ops = RECORDER_OPS(IMADDR_SINK_FINAL_PASS);
static const struct imaddr_sink_ops final_worker_recorder_ops =
	RECORDER_OPS(IMADDR_SINK_FINAL_PASS | IMADDR_SINK_ON_WORKER);

static char *write_csv(size_t users)
{
	static char path[] = "/tmp/imaddr-thread-XXXXXX";
	strcpy(path, "/tmp/imaddr-thread-XXXXXX");
	int fd = mkstemp(path);
	FILE *file = fdopen(fd, "w");
	fputs("sAMAccountName,sn\n", file);
	for (size_t i = 0; i < users; i++)
		fprintf(file, "user%zu,Name\n", i % 5000 == 4999 ? 0 : i);
	fclose(file);
	return path;
}

static enum imaddr_status run(struct recorder *r, const struct imaddr_sink_ops *ops,
			      size_t users, struct imaddr_error *err)
{
	struct imaddr_audit_options options;
	struct imaddr_audit *audit;
	imaddr_audit_options_init(&options);
	options.default_domain = "example.com";
	cr_assert_eq(imaddr_audit_new(&options, &audit, err), IMADDR_OK);
	r->base.ops = ops;
	imaddr_audit_add_sink(audit, &r->base);
	char *path = write_csv(users);
	struct imaddr_reader *reader;
	cr_assert_eq(imaddr_csv_reader_open(path, &reader, err), IMADDR_OK);
	enum imaddr_status status = imaddr_audit_run(audit, reader, NULL, err);
	imaddr_reader_free(reader);
	imaddr_audit_free(audit);
	unlink(path);
	return status;
}

Test(sink, worker_sees_every_event_in_order)
{
	static struct recorder direct, threaded;
	struct imaddr_error err;
	/* 12000 users with duplicates: users, findings, input end and end. */
	cr_assert_eq(run(&direct, &recorder_ops, 12000, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(run(&threaded, &worker_recorder_ops, 12000, &err), IMADDR_OK, "%s",
		     err.message);
	cr_expect(threaded.ended);
	cr_expect_str_eq(threaded.log, direct.log);
	cr_expect(strstr(threaded.log, "I;") != NULL);
	cr_expect(strstr(threaded.log, "userid-duplicate") != NULL);
}

Test(sink, a_failing_worker_output_fails_the_run_and_is_aborted)
{
	static struct recorder r = { .fail_at_user = 7 };
	struct imaddr_error err;
	/* Enough events to cross a batch boundary, so the failure is seen. */
	enum imaddr_status status = run(&r, &worker_recorder_ops, 60000, &err);
	cr_expect_eq(status, IMADDR_ERR_DB);
	cr_expect(strstr(err.message, "refused user 7") != NULL, "%s", err.message);
	cr_expect(r.aborted);
	cr_expect(!r.ended);
}

Test(sink, a_failing_output_fails_the_run_and_is_aborted)
{
	static struct recorder r = { .fail_at_user = 7 };
	struct imaddr_error err;
	cr_expect_eq(run(&r, &recorder_ops, 100, &err), IMADDR_ERR_DB);
	cr_expect(strstr(err.message, "refused user 7") != NULL, "%s", err.message);
	cr_expect(r.aborted);
	cr_expect(!r.ended);
}

/* Every finding comes before the first user, and duplicates are errors then. */
static void expect_final_pass(const struct recorder *r, size_t users)
{
	const char *first_user = strstr(r->log, "U1:");
	cr_assert_not_null(first_user);
	cr_expect(strstr(r->log, "F") < first_user, "findings come first");
	cr_expect(strstr(first_user, "F") == NULL, "no finding after the first user");
	cr_expect(strstr(r->log, "I;") < first_user);
	/* user0 is shared by the first user and every 5000th: duplicates, errors. */
	cr_expect(strstr(r->log, "U1:user0:user0@example.com:error;") != NULL);
	cr_expect(strstr(r->log, "U2:user1:user1@example.com;") != NULL);
	char last[64];
	snprintf(last, sizeof(last), "U%zu:", users);
	cr_expect(strstr(r->log, last) != NULL, "every user replayed");
	cr_expect(r->ended);
}

Test(sink, final_pass_replays_users_with_their_final_findings)
{
	static struct recorder r;
	struct imaddr_error err;
	cr_assert_eq(run(&r, &final_recorder_ops, 12000, &err), IMADDR_OK, "%s", err.message);
	expect_final_pass(&r, 12000);
}

Test(sink, final_pass_on_a_worker)
{
	static struct recorder r, direct;
	struct imaddr_error err;
	cr_assert_eq(run(&r, &final_worker_recorder_ops, 12000, &err), IMADDR_OK, "%s",
		     err.message);
	cr_assert_eq(run(&direct, &final_recorder_ops, 12000, &err), IMADDR_OK, "%s",
		     err.message);
	expect_final_pass(&r, 12000);
	cr_expect_str_eq(r.log, direct.log);
}

static const struct imaddr_sink_ops final_with_findings_recorder_ops =
	RECORDER_OPS(IMADDR_SINK_FINAL_PASS | IMADDR_SINK_ON_WORKER |
		     IMADDR_SINK_USERS_WITH_FINDINGS);

/* `log` with the users events `kept` says no to left out (kept[ordinal]). */
static void only_users(const char *log, const bool *kept, size_t kept_size, char *out,
		       size_t size)
{
	size_t len = 0;
	for (const char *event = log; *event;) {
		const char *next = strchr(event, ';');
		next = next ? next + 1 : event + strlen(event);
		unsigned long ordinal = strtoul(event + 1, NULL, 10);
		if (*event != 'U' || (ordinal < kept_size && kept[ordinal])) {
			cr_assert_lt(len + (size_t)(next - event), size);
			memcpy(out + len, event, (size_t)(next - event));
			len += (size_t)(next - event);
		}
		event = next;
	}
	out[len] = '\0';
}

/* Marks in `named` the users a finding names in `log` from `from` on. */
static void mark_named(const char *from, bool *named, size_t size)
{
	for (const char *f = strchr(from, 'F'); f; f = strchr(f + 1, 'F')) {
		unsigned long ordinal = strtoul(f + 1, NULL, 10);
		if (ordinal < size)
			named[ordinal] = true;
	}
}

/* The log of a whole final pass less the users no finding names. */
static void users_with_findings(const char *log, char *out, size_t size)
{
	static bool named[12001];
	memset(named, 0, sizeof(named));
	mark_named(log, named, sizeof(named));
	only_users(log, named, sizeof(named), out, size);
}

Test(sink, final_pass_of_the_users_with_findings)
{
	static struct recorder r, whole;
	static char expected[1 << 20];
	struct imaddr_error err;
	cr_assert_eq(run(&r, &final_with_findings_recorder_ops, 12000, &err), IMADDR_OK, "%s",
		     err.message);
	cr_assert_eq(run(&whole, &final_recorder_ops, 12000, &err), IMADDR_OK, "%s",
		     err.message);
	users_with_findings(whole.log, expected, sizeof(expected));
	cr_expect_str_eq(r.log, expected);
	/* The duplicates' users are there, the others not. */
	cr_expect(strstr(r.log, "U1:user0:user0@example.com:error;") != NULL);
	cr_expect(strstr(r.log, "U2:") == NULL);
	cr_expect(r.ended);
}

/* Every seventh user, and the select calls counted. */
static bool select_sevenths(struct imaddr_sink *sink, const struct imaddr_user *user)
{
	struct recorder *r = (struct recorder *)sink;
	r->selects++;
	r->selected_with_error += user->has_error;
	return user->ordinal % 7 == 0;
}

static const struct imaddr_sink_ops final_selecting_recorder_ops = {
	.name = "recorder",
	.flags = IMADDR_SINK_FINAL_PASS,
	.user = on_user,
	.select = select_sevenths,
	.finding = on_finding,
	.input_end = on_input_end,
	.end = on_end,
	.abort = on_abort,
	.free = keep,
};

/*
 * The log of a whole final pass less the users neither selected (every
 * seventh) nor named by a finding after the input's end.
 */
static void selected_or_grown(const char *log, char *out, size_t size)
{
	static bool kept[12001];
	for (size_t ordinal = 0; ordinal < sizeof(kept); ordinal++)
		kept[ordinal] = ordinal % 7 == 0;
	const char *input_end = strstr(log, "I;");
	cr_assert_not_null(input_end);
	mark_named(input_end, kept, sizeof(kept));
	only_users(log, kept, sizeof(kept), out, size);
}

/*
 * An output that selects gets, in its final pass, the users it selected and
 * those whose findings grew after the read (the duplicates of user0, which
 * were no errors when it was asked), with their final findings, and no
 * others.
 */
Test(sink, final_pass_of_the_users_selected_or_grown)
{
	static struct recorder r, whole;
	static char expected[1 << 20];
	struct imaddr_error err;
	cr_assert_eq(run(&r, &final_selecting_recorder_ops, 12000, &err), IMADDR_OK, "%s",
		     err.message);
	cr_assert_eq(run(&whole, &final_recorder_ops, 12000, &err), IMADDR_OK, "%s",
		     err.message);
	cr_expect_eq(r.selects, 12000);
	cr_expect_eq(r.selected_with_error, 0);
	selected_or_grown(whole.log, expected, sizeof(expected));
	cr_expect_str_eq(r.log, expected);
	cr_expect(strstr(r.log, "U1:user0:user0@example.com:error;") != NULL);
	cr_expect(strstr(r.log, "U5000:user0:user0@example.com:error;") != NULL);
	cr_expect(strstr(r.log, "U7:user6:user6@example.com;") != NULL);
	cr_expect(strstr(r.log, "U2:") == NULL);
	cr_expect(r.ended);
}

/* Each opener as one signature, so that one loop tries them all. */
static enum imaddr_status open_bat(const char *path, struct imaddr_sink **out,
				   struct imaddr_error *err)
{
	return imaddr_sink_bat_open(path, 0, 0, out, err);
}

static enum imaddr_status open_report(const char *path, struct imaddr_sink **out,
				      struct imaddr_error *err)
{
	return imaddr_sink_report_open(path, 0, out, err);
}

static enum imaddr_status open_json(const char *path, struct imaddr_sink **out,
				    struct imaddr_error *err)
{
	return imaddr_sink_json_open(path, 1, out, err);
}

/*
 * A NULL path or out is a caller's mistake, refused as one and naming the
 * opener, before any file is looked at; with or without `err`.
 */
Test(sink, every_opener_refuses_a_null_path_or_out)
{
	static const struct {
		const char *name;
		enum imaddr_status (*open)(const char *path, struct imaddr_sink **out,
					   struct imaddr_error *err);
	} openers[] = {
		{ "imaddr_sink_bat_open", open_bat },
		{ "imaddr_sink_html_open", imaddr_sink_html_open },
		{ "imaddr_sink_json_open", open_json },
		{ "imaddr_sink_ldif_fixes_open", imaddr_sink_ldif_fixes_open },
		{ "imaddr_sink_report_open", open_report },
		{ "imaddr_sink_runbook_open", imaddr_sink_runbook_open },
		{ "imaddr_sink_worklist_open", imaddr_sink_worklist_open },
	};
	char expected[IMADDR_ERROR_MAX];
	for (size_t i = 0; i < sizeof(openers) / sizeof(openers[0]); i++) {
		struct imaddr_sink *sink = (struct imaddr_sink *)&sink;
		struct imaddr_error err = { "" };
		cr_expect_eq(openers[i].open(NULL, &sink, &err), IMADDR_ERR_USAGE, "%s",
			     openers[i].name);
		cr_expect_null(sink, "%s", openers[i].name);
		snprintf(expected, sizeof(expected), "%s: 'path' is NULL", openers[i].name);
		cr_expect_str_eq(err.message, expected);
		cr_expect_eq(openers[i].open("out.csv", NULL, &err), IMADDR_ERR_USAGE, "%s",
			     openers[i].name);
		snprintf(expected, sizeof(expected), "%s: 'out' is NULL", openers[i].name);
		cr_expect_str_eq(err.message, expected);
		cr_expect_eq(openers[i].open(NULL, NULL, NULL), IMADDR_ERR_USAGE, "%s",
			     openers[i].name);
	}
	struct imaddr_error err = { "" };
	cr_expect_eq(imaddr_sink_summary_open(stdout, NULL, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "imaddr_sink_summary_open: 'sink' is NULL");
	cr_expect_eq(imaddr_sink_summary_open_changes(stdout, NULL, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "imaddr_sink_summary_open_changes: 'sink' is NULL");
}
