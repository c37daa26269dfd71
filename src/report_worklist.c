#include "report_worklist.h"

#include <errno.h>
#include <string.h>

#include "atomic_file.h"
#include "error.h"
#include "report_read.h"
#include "worklist_writer.h"

static enum imaddr_status write_row(void *context, const struct imaddr_stored_finding *stored,
				    struct imaddr_error *err)
{
	struct imaddr_worklist_writer *writer = context;
	const struct imaddr_finding *f = &stored->finding;
	struct imaddr_worklist_row row = { .line = f->line, .group = stored->duplicate_group };
	const char **text = row.text;
	(void)err;
	text[IMADDR_WORKLIST_CLUSTER] = f->cluster;
	text[IMADDR_WORKLIST_USER_ID] = f->user_id;
	text[IMADDR_WORKLIST_DN] = f->dn;
	text[IMADDR_WORKLIST_NAME] = f->ordinal ? imaddr_worklist_writer_name(
							  writer, stored->first_name, stored->last_name)
						: NULL;
	text[IMADDR_WORKLIST_FIELD] = f->field;
	text[IMADDR_WORKLIST_VALUE] = f->value;
	text[IMADDR_WORKLIST_CODE] = imaddr_code_name(f->code);
	text[IMADDR_WORKLIST_SEVERITY] = imaddr_severity_name(f->severity);
	text[IMADDR_WORKLIST_MESSAGE] = f->message;
	text[IMADDR_WORKLIST_SUGGESTION] = f->suggestion;
	imaddr_worklist_writer_row(writer, &row);
	return IMADDR_OK;
}

enum imaddr_status imaddr_report_write_worklist(const char *db_path, int64_t run_id,
						const char *path, struct imaddr_error *err)
{
	struct imaddr_stored_run run;
	struct imaddr_atomic_file file;
	struct imaddr_worklist_writer writer;
	bool xlsx = false, opened = false;

	if (!db_path)
		return imaddr_error_null(err, __func__, "db_path");
	if (!path)
		return imaddr_error_null(err, __func__, "path");
	memset(&run, 0, sizeof(run));
	memset(&writer, 0, sizeof(writer));
	enum imaddr_status status = imaddr_worklist_form(path, "--worklist", &xlsx, err);
	if (status == IMADDR_OK)
		status = imaddr_atomic_file_check_directory(path, IMADDR_ERR_IO, "write", err);
	if (status == IMADDR_OK)
		status = imaddr_stored_run_open(db_path, run_id, &run, err);
	if (status == IMADDR_OK)
		status = imaddr_atomic_file_open(&file, path, err);
	opened = status == IMADDR_OK;
	if (status == IMADDR_OK && xlsx) {
		/* libxlsxwriter writes the file itself, at the temporary name, at the end. */
		fclose(file.stream);
		file.stream = NULL;
	}
	if (status == IMADDR_OK)
		status = imaddr_worklist_writer_begin(&writer, path, xlsx, file.stream,
						      file.temp_path, err);
	/* The rows the audit's worklist has: the work, not the plan nor what was accepted. */
	const struct imaddr_stored_findings_wanted wanted = {
		.per_code = UINT64_MAX,
		.by_user = true,
	};
	if (status == IMADDR_OK)
		status = imaddr_stored_run_findings(&run, &wanted, write_row, &writer, err);
	if (status == IMADDR_OK)
		status = imaddr_worklist_writer_end(&writer, err);
	/* Reopened so that the commit syncs what libxlsxwriter wrote. */
	if (status == IMADDR_OK && xlsx && !(file.stream = fopen(file.temp_path, "r+")))
		status = imaddr_error_set(err, IMADDR_ERR_IO, "cannot write '%s': %s", path,
					  strerror(errno));
	if (status == IMADDR_OK) {
		opened = false;
		status = imaddr_atomic_file_commit(&file, err);
	}
	imaddr_worklist_writer_release(&writer);
	if (opened)
		imaddr_atomic_file_abort(&file);
	imaddr_stored_run_close(&run);
	return status;
}
