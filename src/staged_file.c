#include "staged_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "buffer.h"
#include "error.h"
#include "report_file.h"

void imaddr_staged_file_init(struct imaddr_staged_file *file, const char *target, int wait_ms)
{
	memset(file, 0, sizeof(*file));
	imaddr_staging_init(&file->staging, target, false, wait_ms);
}

enum imaddr_status imaddr_staged_file_check(const char *target, struct imaddr_error *err)
{
	if (!strcmp(target, "-"))
		return imaddr_error_set(err, IMADDR_ERR_USAGE, "'-' would be a file named '-': "
					"only the BAT file and the JSON document write to standard "
					"output; give this output a file name");
	/* What the target is first: /dev/null is a device, whoever may write in /dev. */
	enum imaddr_status status = imaddr_staging_check_target(target, false, err);
	if (status == IMADDR_OK)
		status = imaddr_atomic_file_check_directory(target, IMADDR_ERR_IO, "write", err);
	return status;
}

enum imaddr_status imaddr_staged_file_begin(struct imaddr_staged_file *file,
					    const struct imaddr_run_info *info,
					    struct imaddr_error *err)
{
	int fd = -1;
	free(file->token);
	free(file->report_path);
	file->token = info->token ? imaddr_xstrdup(info->token) : NULL;
	file->report_path = info->transaction_path ? imaddr_xstrdup(info->transaction_path) : NULL;
	enum imaddr_status status = imaddr_staging_begin(&file->staging, imaddr_report_holds_token,
							 &fd, err);
	if (status != IMADDR_OK)
		return status;
	file->write_errno = 0;
	file->stream = fdopen(fd, "w");
	if (!file->stream) {
		int saved = errno;
		close(fd);
		imaddr_staging_abort(&file->staging);
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write '%s': %s",
					file->staging.target, strerror(saved));
	}
	return IMADDR_OK;
}

void imaddr_staged_file_note_errors(struct imaddr_staged_file *file)
{
	if (file->stream && ferror(file->stream) && !file->write_errno)
		file->write_errno = errno;
}

enum imaddr_status imaddr_staged_file_prepare(struct imaddr_staged_file *file,
					      struct imaddr_error *err)
{
	FILE *stream = file->stream;
	int error = 0;
	file->stream = NULL;
	/*
	 * Not errno = 0 first: that would lose the errno of the writes just
	 * made, and an earlier failure whose buffer stdio dropped flushes
	 * nothing now, leaving only EIO to say.
	 */
	if (!stream) {
		error = EIO;
	} else if (fflush(stream) != 0) {
		error = file->write_errno ? file->write_errno : errno ? errno : EIO;
	} else if (ferror(stream)) {
		error = file->write_errno ? file->write_errno : EIO;
	} else if (fsync(fileno(stream)) != 0) {
		error = errno;
	}
	if (stream && fclose(stream) != 0 && !error)
		error = errno ? errno : EIO;
	file->write_errno = 0;
	enum imaddr_status status = IMADDR_OK;
	if (error)
		status = imaddr_error_set(err, IMADDR_ERR_IO, "cannot write '%s': %s",
					  file->staging.target, strerror(error));
	if (status == IMADDR_OK)
		status = imaddr_staging_prepare(&file->staging, file->token, file->report_path,
						err);
	if (status != IMADDR_OK)
		imaddr_staging_abort(&file->staging);
	return status;
}

enum imaddr_status imaddr_staged_file_commit(struct imaddr_staged_file *file,
					     struct imaddr_error *err)
{
	return imaddr_staging_commit(&file->staging, err);
}

void imaddr_staged_file_abort(struct imaddr_staged_file *file)
{
	if (file->stream)
		fclose(file->stream);
	file->stream = NULL;
	imaddr_staging_abort(&file->staging);
}

void imaddr_staged_file_release(struct imaddr_staged_file *file)
{
	imaddr_staged_file_abort(file);
	imaddr_staging_release(&file->staging);
	free(file->token);
	free(file->report_path);
	file->token = file->report_path = NULL;
}
