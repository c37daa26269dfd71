#include "report_json.h"

#include <stdio.h>
#include <string.h>

#include "atomic_file.h"
#include "buffer.h"
#include "error.h"
#include "json_build.h"
#include "json_document.h"
#include "report_read.h"

struct listing {
	json_t *findings;
	uint64_t listed[IMADDR_CODE_COUNT];
	struct imaddr_buf *scratch;
};

static enum imaddr_status list_finding(void *context, const struct imaddr_stored_finding *stored,
				       struct imaddr_error *err)
{
	struct listing *listing = context;
	(void)err;
	listing->listed[stored->finding.code]++;
	imaddr_json_append(listing->findings, imaddr_json_finding(listing->scratch, &stored->finding,
								  stored->duplicate_group));
	return IMADDR_OK;
}

static json_t *stored_document(struct imaddr_stored_run *run, size_t per_code,
			       struct imaddr_buf *scratch, struct imaddr_error *err,
			       enum imaddr_status *status)
{
	struct listing listing = { imaddr_json_checked(json_array()), { 0 }, scratch };
	/* As the audit lists them: the waived too, and the IM address changes. */
	const struct imaddr_stored_findings_wanted wanted = {
		.per_code = per_code,
		.waived = true,
		.im_address_changes = true,
	};
	*status = imaddr_stored_run_findings(run, &wanted, list_finding, &listing, err);
	if (*status != IMADDR_OK) {
		json_decref(listing.findings);
		return NULL;
	}
	struct imaddr_run_description description;
	imaddr_stored_run_describe(run, &description);
	return imaddr_json_document(&description, &run->totals, listing.listed, per_code,
				    listing.findings, scratch);
}

enum imaddr_status imaddr_report_write_json(const char *db_path, int64_t run_id,
					    const char *json_path, size_t findings_per_code,
					    struct imaddr_error *err)
{
	struct imaddr_stored_run run;
	struct imaddr_buf scratch;
	json_t *document = NULL;

	if (!db_path)
		return imaddr_error_null(err, __func__, "db_path");
	if (!json_path)
		return imaddr_error_null(err, __func__, "json_path");
	bool to_stdout = !strcmp(json_path, "-");
	memset(&run, 0, sizeof(run));
	imaddr_buf_init(&scratch, 0);
	enum imaddr_status status = IMADDR_OK;
	if (!to_stdout)
		status = imaddr_atomic_file_check_directory(json_path, IMADDR_ERR_IO, "write", err);
	if (status == IMADDR_OK)
		status = imaddr_stored_run_open(db_path, run_id, &run, err);
	if (status == IMADDR_OK)
		document = stored_document(&run, findings_per_code, &scratch, err, &status);
	imaddr_stored_run_close(&run);
	/* Standard output cannot be taken back: a stop is the last word before it. */
	if (status == IMADDR_OK && to_stdout && imaddr_stop_requested())
		status = imaddr_error_set(err, IMADDR_ERR_INTERRUPTED, "interrupted");

	int error = 0;
	if (status == IMADDR_OK && to_stdout) {
		if ((error = imaddr_json_document_write(document, stdout, true)))
			status = imaddr_error_set(err, IMADDR_ERR_IO, "cannot write the JSON to "
						  "standard output: %s", strerror(error));
	} else if (status == IMADDR_OK) {
		struct imaddr_atomic_file file;
		status = imaddr_atomic_file_open(&file, json_path, err);
		if (status == IMADDR_OK && (error = imaddr_json_document_write(document, file.stream, false))) {
			imaddr_atomic_file_abort(&file);
			status = imaddr_error_set(err, IMADDR_ERR_IO, "cannot write '%s': %s",
						  json_path, strerror(error));
		} else if (status == IMADDR_OK) {
			status = imaddr_atomic_file_commit(&file, err);
		}
	}
	json_decref(document);
	imaddr_buf_release(&scratch);
	return status;
}
