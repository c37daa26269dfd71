#include "sink_html.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buffer.h"
#include "error.h"
#include "html_report.h"
#include "sink.h"
#include "staged_file.h"
#include "temp_file.h"

/*
 * The verdict and the counts come first on the page and are known last, so
 * the rows wait in two temporary files (findings, before/after) that end()
 * copies under the overview. Memory holds no row.
 */
struct html_writer {
	struct imaddr_sink base;
	char *path;
	const struct imaddr_audit_options *options;
	int64_t started;
	struct imaddr_staged_file file;
	FILE *findings;
	FILE *plan;
	struct imaddr_dup_groups groups;
	uint64_t listed[IMADDR_CODE_COUNT];
	uint64_t last_group[IMADDR_CODE_COUNT];  /* of the last row listed; 0: none */
	uint64_t findings_listed, findings_total;
	uint64_t plan_listed, plan_total;
};

static enum imaddr_status begin(struct imaddr_sink *sink, const struct imaddr_run_info *info,
				struct imaddr_error *err)
{
	struct html_writer *writer = (struct html_writer *)sink;
	writer->options = info->options;
	writer->started = info->started;
	enum imaddr_status status = imaddr_staged_file_begin(&writer->file, info, err);
	if (status != IMADDR_OK)
		return status;
	writer->findings = imaddr_temp_file();
	writer->plan = writer->findings ? imaddr_temp_file() : NULL;
	if (!writer->findings || !writer->plan)
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write '%s': no temporary file "
					"in '%s' (TMPDIR): %s", writer->path, imaddr_temp_dir(),
					strerror(errno));
	return IMADDR_OK;
}

static enum imaddr_status user(struct imaddr_sink *sink, const struct imaddr_user *u,
			       struct imaddr_error *err)
{
	struct html_writer *writer = (struct html_writer *)sink;
	if (!u->im_address_change)
		return IMADDR_OK;
	if (writer->plan_total++ >= IMADDR_HTML_PLAN_ROWS)
		return IMADDR_OK;
	writer->plan_listed++;
	struct imaddr_html_plan_row row = {
		.cluster = u->cluster, .line = u->line, .dn = u->dn, .user_id = u->user_id,
		.before = u->im_address_before, .after = u->im_address, .change = u->im_address_change,
	};
	imaddr_html_plan_row(writer->plan, &row);
	return IMADDR_OK;
}

static enum imaddr_status finding(struct imaddr_sink *sink, const struct imaddr_finding *f,
				  struct imaddr_error *err)
{
	struct html_writer *writer = (struct html_writer *)sink;
	uint64_t group = imaddr_dup_groups_next(&writer->groups, f);
	/*
	 * The before/after table shows the changes; as findings they would be
	 * noise. Waived findings are a count of the overview, not rows.
	 */
	if (f->code == IMADDR_CODE_IM_ADDRESS_CHANGES || f->waiver_reason)
		return IMADDR_OK;
	writer->findings_total++;
	/* Past the cap, only the rest of the duplicate group it fell in, within bounds. */
	if (writer->listed[f->code] >= IMADDR_HTML_FINDINGS_PER_CODE &&
	    (!group || group != writer->last_group[f->code] ||
	     writer->listed[f->code] >= IMADDR_HTML_FINDINGS_PER_CODE + IMADDR_HTML_GROUP_REST_MAX))
		return IMADDR_OK;
	writer->listed[f->code]++;
	writer->last_group[f->code] = group;
	writer->findings_listed++;
	imaddr_html_finding_row(writer->findings, f, group);
	return IMADDR_OK;
}

/*
 * The rows held in a temporary file, copied to the page: false with errno
 * when the temporary file fails. A failed write to the page stops the copy
 * and is the page's (its error flag, staged_file_note_errors).
 */
static bool copy_rows(FILE *from, FILE *to)
{
	char chunk[1 << 16];
	size_t length;
	if (fflush(from) != 0 || fseek(from, 0, SEEK_SET) != 0)
		return false;
	while ((length = fread(chunk, 1, sizeof(chunk), from)) > 0) {
		if (fwrite(chunk, 1, length, to) != length)
			return true;
	}
	return !ferror(from);
}

static enum imaddr_status end(struct imaddr_sink *sink, const struct imaddr_run_totals *totals,
			      struct imaddr_error *err)
{
	struct html_writer *writer = (struct html_writer *)sink;
	const struct imaddr_audit_options *options = writer->options;
	FILE *out = writer->file.stream;
	struct imaddr_run_description run;
	char started[IMADDR_RUN_TIME_SIZE];
	imaddr_run_description_of_run(&run, options, writer->started, started, totals);
	/* The first failed write's errno stays for the message (no call sets it to 0). */
	errno = 0;
	imaddr_html_begin(out, &run);
	imaddr_html_overview(out, &run, totals, totals->outputs);
	imaddr_html_findings_begin(out, totals, writer->findings_listed, writer->findings_total);
	bool copied = copy_rows(writer->findings, out);
	int temp_errno = copied ? 0 : errno;
	imaddr_html_findings_end(out);
	if (copied && options->premigration) {
		imaddr_html_plan_begin(out, writer->plan_listed, writer->plan_total);
		copied = copy_rows(writer->plan, out);
		temp_errno = copied ? 0 : errno;
		imaddr_html_plan_end(out);
	}
	imaddr_html_end(out);
	if (!copied) {
		imaddr_staged_file_abort(&writer->file);
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write '%s': its temporary files "
					"in '%s' (TMPDIR) failed: %s", writer->path,
					imaddr_temp_dir(), strerror(temp_errno ? temp_errno : EIO));
	}
	imaddr_staged_file_note_errors(&writer->file);
	return imaddr_staged_file_prepare(&writer->file, err);
}

static enum imaddr_status commit(struct imaddr_sink *sink, struct imaddr_error *err)
{
	return imaddr_staged_file_commit(&((struct html_writer *)sink)->file, err);
}

static void describe(struct imaddr_sink *sink, struct imaddr_buf *out,
		     struct imaddr_run_totals *told)
{
	imaddr_buf_appendf(out, "HTML report '%s'\n", ((struct html_writer *)sink)->path);
}

static void close_run(struct html_writer *writer)
{
	imaddr_staged_file_abort(&writer->file);
	if (writer->findings)
		fclose(writer->findings);
	if (writer->plan)
		fclose(writer->plan);
	writer->findings = writer->plan = NULL;
}

static void html_abort(struct imaddr_sink *sink)
{
	close_run((struct html_writer *)sink);
}

static void html_free(struct imaddr_sink *sink)
{
	struct html_writer *writer = (struct html_writer *)sink;
	close_run(writer);
	imaddr_staged_file_release(&writer->file);
	free(writer->path);
	free(writer);
}

/* Last: the page lists the files the other outputs wrote. */
static const struct imaddr_sink_ops html_ops = {
	.name = "html",
	.flags = IMADDR_SINK_LAST,
	.begin = begin,
	.user = user,
	.finding = finding,
	.end = end,
	.describe = describe,
	.commit = commit,
	.abort = html_abort,
	.free = html_free,
};

enum imaddr_status imaddr_sink_html_open(const char *path, struct imaddr_sink **out,
					 struct imaddr_error *err)
{
	if (!out)
		return imaddr_error_null(err, __func__, "out");
	*out = NULL;
	if (!path)
		return imaddr_error_null(err, __func__, "path");
	enum imaddr_status status = imaddr_staged_file_check(path, err);
	if (status != IMADDR_OK)
		return status;
	struct html_writer *writer = imaddr_xcalloc(1, sizeof(*writer));
	writer->base.ops = &html_ops;
	writer->path = imaddr_xstrdup(path);
	imaddr_staged_file_init(&writer->file, writer->path, IMADDR_STAGED_FILE_WAIT_MS);
	imaddr_dup_groups_init(&writer->groups);
	*out = &writer->base;
	return IMADDR_OK;
}
