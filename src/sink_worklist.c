#include "sink_worklist.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "buffer.h"
#include "error.h"
#include "sink.h"
#include "staged_file.h"
#include "temp_file.h"
#include "worklist_writer.h"

/*
 * Findings come during the read, and duplicates after it, without the
 * user's names; the users come in the final pass, in input order, after
 * every finding. So each finding is appended to a temporary file as it
 * comes, with an index entry (its user and where it is) in memory, 16 bytes
 * a finding; the index is sorted by user before the final pass, which then
 * writes each user's findings with the user's names beside them. Memory
 * grows with the findings, never with the users, and rows stream out.
 */
struct spooled_finding {
	uint64_t ordinal;
	uint64_t offset;                 /* in the findings file; input order within a user */
};

struct worklist {
	struct imaddr_sink base;
	char *path;
	bool xlsx;
	struct imaddr_staged_file file;
	/* The findings, until the final pass. */
	FILE *spool;
	char *spool_buffer;              /* the file's, SPOOL_BUFFER_SIZE */
	uint64_t spool_end;              /* where the next finding goes */
	const char *spooled;             /* the file mapped, spool_end bytes, for the final pass */
	struct spooled_finding *index;
	size_t count, capacity;
	size_t next;                     /* the first index entry of a user not written */
	size_t of_no_user;               /* entries of ordinal 0: the first, once sorted */
	bool sorted;
	struct imaddr_dup_groups groups;
	struct imaddr_buf record;        /* a finding read back */
	struct imaddr_worklist_writer writer;
	const char *name;                /* the user's being written, or NULL */
};

/*
 * The findings are written in the order they come, through a buffer of
 * SPOOL_BUFFER_SIZE, and read back by user: a user's come from the read and
 * from each search for duplicates, places apart in the file. Read back
 * through stdio, most findings cost a seek and a read of a 4 KiB buffer,
 * two system calls (0.6 s of system time at a million users); so the final
 * pass reads the file mapped.
 */
#define SPOOL_BUFFER_SIZE (64 * 1024)

/* A finding in the file: numbers, then its strings, each a length and bytes. */
enum spooled_string {
	S_FIELD, S_VALUE, S_MESSAGE, S_SUGGESTION, S_DN, S_USER_ID, S_CLUSTER, S_COUNT
};
struct spooled_head {
	uint32_t code;
	uint32_t length[S_COUNT];        /* UINT32_MAX: NULL */
	uint64_t line;
	uint64_t group;
};

static enum imaddr_status spool_finding(struct worklist *worklist, const struct imaddr_finding *f,
					uint64_t group, struct imaddr_error *err)
{
	/* A user's DN, user ID and cluster come back with the user. */
	bool of_user = f->ordinal > 0;
	const char *strings[S_COUNT] = {
		[S_FIELD] = f->field, [S_VALUE] = f->value, [S_MESSAGE] = f->message,
		[S_SUGGESTION] = f->suggestion, [S_DN] = of_user ? NULL : f->dn,
		[S_USER_ID] = of_user ? NULL : f->user_id, [S_CLUSTER] = of_user ? NULL : f->cluster,
	};
	struct spooled_head head = { .code = (uint32_t)f->code, .line = f->line, .group = group };
	uint64_t offset = worklist->spool_end;
	for (int i = 0; i < S_COUNT; i++)
		head.length[i] = strings[i] ? (uint32_t)strlen(strings[i]) : UINT32_MAX;
	bool failed = fwrite(&head, sizeof(head), 1, worklist->spool) != 1;
	worklist->spool_end += sizeof(head);
	for (int i = 0; !failed && i < S_COUNT; i++) {
		if (strings[i] && head.length[i]) {
			failed = fwrite(strings[i], head.length[i], 1, worklist->spool) != 1;
			worklist->spool_end += head.length[i];
		}
	}
	if (failed)
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write '%s': its temporary file "
					"in '%s' (TMPDIR): %s", worklist->path, imaddr_temp_dir(),
					strerror(errno));
	if (worklist->count == worklist->capacity) {
		worklist->capacity = worklist->capacity ? worklist->capacity * 2 : 1024;
		worklist->index = imaddr_xrealloc(worklist->index,
						  worklist->capacity * sizeof(*worklist->index));
	}
	worklist->index[worklist->count++] = (struct spooled_finding){ f->ordinal, offset };
	return IMADDR_OK;
}

/* Maps the file of findings for the final pass. */
static enum imaddr_status map_findings(struct worklist *worklist, struct imaddr_error *err)
{
	if (fflush(worklist->spool) != 0)
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write '%s': its temporary file "
					"in '%s' (TMPDIR): %s", worklist->path, imaddr_temp_dir(),
					strerror(errno));
	if (!worklist->spool_end)
		return IMADDR_OK;
	void *map = mmap(NULL, worklist->spool_end, PROT_READ, MAP_PRIVATE,
			 fileno(worklist->spool), 0);
	if (map == MAP_FAILED)
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write '%s': cannot map a "
					"temporary file: %s", worklist->path, strerror(errno));
	worklist->spooled = map;
	return IMADDR_OK;
}

/* Reads the finding at `at` back; the strings point into worklist->record. */
static enum imaddr_status read_finding(struct worklist *worklist, const struct spooled_finding *at,
				       struct spooled_head *head, const char *strings[S_COUNT],
				       struct imaddr_error *err)
{
	uint64_t offset = at->offset, end = worklist->spool_end;
	bool failed = !worklist->spooled || offset > end || end - offset < sizeof(*head);
	if (!failed) {
		memcpy(head, worklist->spooled + offset, sizeof(*head));
		offset += sizeof(*head);
	}
	uint64_t bytes = 0;
	for (int i = 0; !failed && i < S_COUNT; i++)
		bytes += head->length[i] == UINT32_MAX ? 0 : head->length[i];
	failed = failed || bytes > end - offset;
	imaddr_buf_reset(&worklist->record);
	if (!failed)
		imaddr_buf_reserve(&worklist->record, (size_t)bytes + S_COUNT);
	for (int i = 0; !failed && i < S_COUNT; i++) {
		strings[i] = NULL;
		if (head->length[i] == UINT32_MAX)
			continue;
		char *start = worklist->record.data + worklist->record.len;
		memcpy(start, worklist->spooled + offset, head->length[i]);
		start[head->length[i]] = '\0';
		offset += head->length[i];
		worklist->record.len += head->length[i] + 1;
		strings[i] = start;
	}
	if (failed)
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write '%s': reading a temporary "
					"file back failed", worklist->path);
	return IMADDR_OK;
}

/* The findings once written: the file, its map and their index. */
static void release_findings(struct worklist *worklist)
{
	if (worklist->spooled)
		munmap((void *)worklist->spooled, worklist->spool_end);
	worklist->spooled = NULL;
	if (worklist->spool)
		fclose(worklist->spool);
	worklist->spool = NULL;
	free(worklist->spool_buffer);
	worklist->spool_buffer = NULL;
	free(worklist->index);
	worklist->index = NULL;
	worklist->count = worklist->capacity = 0;
}

/* ------------------------------------------------------------------------ */

static enum imaddr_status begin(struct imaddr_sink *sink, const struct imaddr_run_info *info,
				struct imaddr_error *err)
{
	struct worklist *worklist = (struct worklist *)sink;
	enum imaddr_status status = imaddr_staged_file_begin(&worklist->file, info, err);
	if (status != IMADDR_OK)
		return status;
	worklist->spool = imaddr_temp_file();
	if (!worklist->spool)
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write '%s': no temporary file "
					"in '%s' (TMPDIR): %s", worklist->path, imaddr_temp_dir(),
					strerror(errno));
	worklist->spool_buffer = imaddr_stream_buffer(worklist->spool, SPOOL_BUFFER_SIZE);
	worklist->spool_end = 0;
	if (worklist->xlsx) {
		/* libxlsxwriter writes the file itself, at its temporary name, at the end. */
		fclose(worklist->file.stream);
		worklist->file.stream = NULL;
	}
	return imaddr_worklist_writer_begin(&worklist->writer, worklist->path, worklist->xlsx,
					    worklist->file.stream, worklist->file.staging.staged,
					    err);
}

static enum imaddr_status finding(struct imaddr_sink *sink, const struct imaddr_finding *f,
				  struct imaddr_error *err)
{
	struct worklist *worklist = (struct worklist *)sink;
	uint64_t group = imaddr_dup_groups_next(&worklist->groups, f);
	/*
	 * A pre-migration run's changes are a plan, not work, and a waived
	 * finding was accepted: the report has both.
	 */
	if (f->code == IMADDR_CODE_IM_ADDRESS_CHANGES || f->waiver_reason)
		return IMADDR_OK;
	return spool_finding(worklist, f, group, err);
}

static int by_user(const void *a, const void *b)
{
	const struct spooled_finding *x = a, *y = b;
	if (x->ordinal != y->ordinal)
		return x->ordinal < y->ordinal ? -1 : 1;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/*
 * Sorts the findings by user and maps their file, once: those of no user
 * (ordinal 0) come first.
 */
static enum imaddr_status sort_findings(struct worklist *worklist, struct imaddr_error *err)
{
	if (worklist->sorted)
		return IMADDR_OK;
	worklist->sorted = true;
	if (worklist->count)
		qsort(worklist->index, worklist->count, sizeof(*worklist->index), by_user);
	while (worklist->of_no_user < worklist->count &&
	       worklist->index[worklist->of_no_user].ordinal == 0)
		worklist->of_no_user++;
	worklist->next = worklist->of_no_user;
	return map_findings(worklist, err);
}

static enum imaddr_status write_finding(struct worklist *worklist, const struct imaddr_user *user,
					const struct spooled_finding *at, struct imaddr_error *err)
{
	struct spooled_head head;
	const char *strings[S_COUNT];
	enum imaddr_status status = read_finding(worklist, at, &head, strings, err);
	if (status != IMADDR_OK)
		return status;
	struct imaddr_worklist_row row = { .line = head.line, .group = head.group };
	const char **text = row.text;
	text[IMADDR_WORKLIST_CLUSTER] = user ? user->cluster : strings[S_CLUSTER];
	text[IMADDR_WORKLIST_USER_ID] = user ? user->user_id : strings[S_USER_ID];
	text[IMADDR_WORKLIST_DN] = user ? user->dn : strings[S_DN];
	text[IMADDR_WORKLIST_NAME] = user ? worklist->name : NULL;
	text[IMADDR_WORKLIST_FIELD] = strings[S_FIELD];
	text[IMADDR_WORKLIST_VALUE] = strings[S_VALUE];
	text[IMADDR_WORKLIST_CODE] = imaddr_code_name((enum imaddr_code)head.code);
	text[IMADDR_WORKLIST_SEVERITY] =
		imaddr_severity_name(imaddr_code_severity((enum imaddr_code)head.code));
	text[IMADDR_WORKLIST_MESSAGE] = strings[S_MESSAGE];
	text[IMADDR_WORKLIST_SUGGESTION] = strings[S_SUGGESTION];
	imaddr_worklist_writer_row(&worklist->writer, &row);
	return IMADDR_OK;
}

/* The final pass: users in input order, so each one's findings are the next. */
static enum imaddr_status user(struct imaddr_sink *sink, const struct imaddr_user *u,
			       struct imaddr_error *err)
{
	struct worklist *worklist = (struct worklist *)sink;
	enum imaddr_status status = sort_findings(worklist, err);
	if (status != IMADDR_OK)
		return status;
	if (worklist->next == worklist->count || worklist->index[worklist->next].ordinal != u->ordinal)
		return IMADDR_OK;
	worklist->name = imaddr_worklist_writer_name(&worklist->writer, u->first_name,
						     u->last_name);
	while (status == IMADDR_OK && worklist->next < worklist->count &&
	       worklist->index[worklist->next].ordinal == u->ordinal)
		status = write_finding(worklist, u, &worklist->index[worklist->next++], err);
	return status;
}

static enum imaddr_status end(struct imaddr_sink *sink, const struct imaddr_run_totals *totals,
			      struct imaddr_error *err)
{
	struct worklist *worklist = (struct worklist *)sink;
	/* Findings of no user (skipped rows, the run's own) come after the users'. */
	enum imaddr_status status = sort_findings(worklist, err);
	for (size_t i = 0; status == IMADDR_OK && i < worklist->of_no_user; i++)
		status = write_finding(worklist, NULL, &worklist->index[i], err);
	release_findings(worklist);
	if (status != IMADDR_OK)
		return status;
	if (!worklist->xlsx)
		return imaddr_staged_file_prepare(&worklist->file, err);
	status = imaddr_worklist_writer_end(&worklist->writer, err);
	if (status != IMADDR_OK)
		return status;
	/* Reopened so that the prepare syncs what libxlsxwriter wrote. */
	worklist->file.stream = fopen(worklist->file.staging.staged, "r+");
	if (!worklist->file.stream)
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write '%s': %s", worklist->path,
					strerror(errno));
	return imaddr_staged_file_prepare(&worklist->file, err);
}

static enum imaddr_status commit(struct imaddr_sink *sink, struct imaddr_error *err)
{
	return imaddr_staged_file_commit(&((struct worklist *)sink)->file, err);
}

static void describe(struct imaddr_sink *sink, struct imaddr_buf *out,
		     struct imaddr_run_totals *told)
{
	const struct worklist *worklist = (const struct worklist *)sink;
	imaddr_worklist_writer_describe(&worklist->writer, out);
}

static void release_run(struct worklist *worklist)
{
	/* A spreadsheet not ended is written now, and removed with the staged file. */
	imaddr_worklist_writer_release(&worklist->writer);
	imaddr_staged_file_abort(&worklist->file);
	release_findings(worklist);
}

static void worklist_abort(struct imaddr_sink *sink)
{
	release_run((struct worklist *)sink);
}

static void worklist_free(struct imaddr_sink *sink)
{
	struct worklist *worklist = (struct worklist *)sink;
	release_run(worklist);
	imaddr_staged_file_release(&worklist->file);
	imaddr_buf_release(&worklist->record);
	free(worklist->path);
	free(worklist);
}

/*
 * The final pass brings each user's names to the user's findings: those of
 * users with findings only. A worker of its own: the spreadsheet's deflate
 * costs as much as the audit, and overlaps it.
 */
static const struct imaddr_sink_ops worklist_ops = {
	.name = "worklist",
	.flags = IMADDR_SINK_FINAL_PASS | IMADDR_SINK_ON_WORKER | IMADDR_SINK_USERS_WITH_FINDINGS,
	.begin = begin,
	.user = user,
	.finding = finding,
	.end = end,
	.describe = describe,
	.commit = commit,
	.abort = worklist_abort,
	.free = worklist_free,
};

enum imaddr_status imaddr_sink_worklist_open(const char *path, struct imaddr_sink **out,
					     struct imaddr_error *err)
{
	bool xlsx;
	if (!out)
		return imaddr_error_null(err, __func__, "out");
	*out = NULL;
	if (!path)
		return imaddr_error_null(err, __func__, "path");
	enum imaddr_status status = imaddr_worklist_form(path, "--worklist", &xlsx, err);
	if (status == IMADDR_OK)
		status = imaddr_staged_file_check(path, err);
	if (status != IMADDR_OK)
		return status;
	struct worklist *worklist = imaddr_xcalloc(1, sizeof(*worklist));
	worklist->base.ops = &worklist_ops;
	worklist->path = imaddr_xstrdup(path);
	worklist->xlsx = xlsx;
	imaddr_staged_file_init(&worklist->file, worklist->path, IMADDR_STAGED_FILE_WAIT_MS);
	imaddr_dup_groups_init(&worklist->groups);
	imaddr_buf_init(&worklist->record, 0);
	*out = &worklist->base;
	return IMADDR_OK;
}
