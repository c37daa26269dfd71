#include "atomic_file.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buffer.h"
#include "error.h"

mode_t imaddr_output_mode(mode_t mode)
{
	/* Linux 4.7 and later: "Umask:\t0022" in the process's status. */
	FILE *status = fopen("/proc/self/status", "r");
	char line[256];
	unsigned mask;
	bool found = false;
	while (status && !found && fgets(line, sizeof(line), status))
		found = sscanf(line, "Umask: %o", &mask) == 1;
	if (status)
		fclose(status);
	if (!found) {
		mode_t old = umask(0);
		umask(old);
		mask = old;
	}
	return mode & ~(mode_t)mask;
}

enum imaddr_status imaddr_atomic_file_open(struct imaddr_atomic_file *file, const char *path,
					   struct imaddr_error *err)
{
	struct imaddr_buf temp;
	imaddr_buf_init(&temp, 0);
	imaddr_buf_appendf(&temp, "%s.tmp-XXXXXX", path);
	memset(file, 0, sizeof(*file));

	int fd = mkstemp(temp.data);
	if (fd < 0) {
		enum imaddr_status status = imaddr_error_set(err, IMADDR_ERR_IO,
			"cannot create '%s': %s", path, strerror(errno));
		imaddr_buf_release(&temp);
		return status;
	}
	/* mkstemp makes 0600; an output should read like any file the user makes. */
	fchmod(fd, imaddr_output_mode(0666));
	file->stream = fdopen(fd, "w");
	if (!file->stream) {
		close(fd);
		unlink(temp.data);
		imaddr_buf_release(&temp);
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write '%s': %s", path,
					strerror(errno));
	}
	file->stream_buffer = imaddr_stream_buffer(file->stream, 1 << 16);
	file->path = imaddr_xstrdup(path);
	file->temp_path = imaddr_buf_detach(&temp);
	imaddr_step("output-opened");
	return IMADDR_OK;
}

void imaddr_atomic_file_note_errors(struct imaddr_atomic_file *file)
{
	if (file->stream && ferror(file->stream) && !file->write_errno)
		file->write_errno = errno;
}

enum imaddr_status imaddr_atomic_file_sync(struct imaddr_atomic_file *file,
					   struct imaddr_error *err)
{
	struct stat st;
	if (!file->stream)
		return IMADDR_OK;
	/*
	 * Each cause as its call leaves it: errno from before would be some
	 * earlier call's. A write that failed earlier is the cause noted, else
	 * the flush's of what is pending (a full disk stays full); when stdio
	 * dropped it all, EIO is all there is to say.
	 */
	int error = 0;
	if (fflush(file->stream) != 0)
		error = file->write_errno ? file->write_errno : errno ? errno : EIO;
	else if (ferror(file->stream))
		error = file->write_errno ? file->write_errno : EIO;
	else if (fsync(fileno(file->stream)) != 0)
		error = errno;
	if (fclose(file->stream) != 0 && !error)
		error = errno ? errno : EIO;
	file->stream = NULL;
	free(file->stream_buffer);
	file->stream_buffer = NULL;
	/* A directory in the way would fail the rename after others succeeded. */
	if (!error && stat(file->path, &st) == 0 && S_ISDIR(st.st_mode))
		error = EISDIR;
	if (error) {
		enum imaddr_status status = imaddr_error_set(err, IMADDR_ERR_IO,
			"cannot write '%s': %s", file->path, strerror(error));
		imaddr_atomic_file_abort(file);
		return status;
	}
	return IMADDR_OK;
}

enum imaddr_status imaddr_atomic_file_commit(struct imaddr_atomic_file *file,
					     struct imaddr_error *err)
{
	enum imaddr_status status = imaddr_atomic_file_sync(file, err);
	if (status != IMADDR_OK)
		return status;
	/* The last moment a SIGINT or SIGTERM can still leave the previous file. */
	if (imaddr_stop_requested()) {
		imaddr_atomic_file_abort(file);
		return imaddr_error_set(err, IMADDR_ERR_INTERRUPTED, "interrupted");
	}
	if (rename(file->temp_path, file->path) != 0) {
		status = imaddr_error_set(err, IMADDR_ERR_IO, "cannot write '%s': %s",
					  file->path, strerror(errno));
		imaddr_atomic_file_abort(file);
		return status;
	}
	free(file->temp_path);
	free(file->path);
	file->temp_path = NULL;
	file->path = NULL;
	return IMADDR_OK;
}

void imaddr_atomic_file_abort(struct imaddr_atomic_file *file)
{
	if (file->stream)
		fclose(file->stream);
	free(file->stream_buffer);
	if (file->temp_path)
		unlink(file->temp_path);
	free(file->temp_path);
	free(file->path);
	memset(file, 0, sizeof(*file));
}

enum imaddr_status imaddr_atomic_file_check_directory(const char *path,
						      enum imaddr_status failure,
						      const char *action,
						      struct imaddr_error *err)
{
	const char *slash = strrchr(path, '/');
	enum imaddr_status status = IMADDR_OK;
	char *directory;
	struct stat st;

	if (!slash)
		directory = imaddr_xstrdup(".");
	else if (slash == path)
		directory = imaddr_xstrdup("/");
	else
		directory = imaddr_xstrndup(path, (size_t)(slash - path));

	if (stat(directory, &st) != 0)
		status = imaddr_error_set(err, failure, "cannot %s '%s': %s", action, path,
					  strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		status = imaddr_error_set(err, failure, "cannot %s '%s': %s", action, path,
					  strerror(ENOTDIR));
	else if (access(directory, W_OK | X_OK) != 0)
		status = imaddr_error_set(err, failure, "cannot %s '%s': %s", action, path,
					  strerror(errno));
	free(directory);
	return status;
}
