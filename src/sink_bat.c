#include "sink_bat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csv.h>

#include "atomic_file.h"
#include "buffer.h"
#include "sink.h"
#include "error.h"

struct bat_writer {
	struct imaddr_sink base;
	char *path;
	uint64_t chunk_rows;
	struct imaddr_atomic_file *files;   /* one per chunk, committed together */
	size_t file_count;
	uint64_t rows_in_file;
	/* What the summary is told (describe). */
	uint64_t rows;
	uint64_t chunks;
	uint64_t with_error;
	uint64_t without_uri;
	uint64_t unchanged;
	uint64_t from_directory;            /* rows of users with a DN: LDAP sync owns them */
};

/* "out/bat.csv", 3 -> "out/bat-003.csv" */
static char *chunk_path(const char *path, size_t number)
{
	struct imaddr_buf name;
	imaddr_buf_init(&name, 0);
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(path, '.');
	if (!dot || (slash && dot < slash) || dot == path || (slash && dot == slash + 1))
		dot = path + strlen(path);
	imaddr_buf_appendf(&name, "%.*s-%03zu%s", (int)(dot - path), path, number, dot);
	return imaddr_buf_detach(&name);
}

static enum imaddr_status open_next_file(struct bat_writer *writer, struct imaddr_error *err)
{
	char *path = writer->chunk_rows ? chunk_path(writer->path, writer->file_count + 1)
					: imaddr_xstrdup(writer->path);
	writer->files = imaddr_xrealloc(writer->files,
					(writer->file_count + 1) * sizeof(*writer->files));
	enum imaddr_status status = imaddr_atomic_file_open(&writer->files[writer->file_count],
							    path, err);
	free(path);
	if (status != IMADDR_OK)
		return status;
	FILE *stream = writer->files[writer->file_count++].stream;
	writer->chunks = writer->file_count;
	fputs(IMADDR_BAT_HEADER "\r\n", stream);
	writer->rows_in_file = 0;
	return IMADDR_OK;
}

/* RFC 4180: quote (through libcsv) only the fields that need it. */
static void write_field(FILE *stream, const char *value)
{
	if (strpbrk(value, ",\"\r\n"))
		csv_fwrite(stream, value, strlen(value));
	else
		fputs(value, stream);
}

/* A value as LDAP sync stores it: without msRTCSIP-PrimaryUserAddress's "sip:". */
static const char *as_synced(const char *value)
{
	return value && !strncasecmp(value, "sip:", 4) ? value + 4 : value;
}

/*
 * Whether importing the user's canonical directory URI changes what Unified
 * CM holds: the current URI of a CUCM export (or --current-uri-attr), else
 * the value LDAP sync or an earlier import put there, the URI as read. A
 * row that changes nothing is a wasted minute of a BAT job.
 */
static bool uri_changes(const struct imaddr_user *user)
{
	const char *held = user->current_uri_known ? user->current_uri
						   : as_synced(user->directory_uri_as_read);
	return !held || strcmp(held, user->directory_uri);
}

static enum imaddr_status write_user(struct imaddr_sink *sink, const struct imaddr_user *user,
				     struct imaddr_error *err)
{
	struct bat_writer *writer = (struct bat_writer *)sink;
	if (user->has_error) {
		writer->with_error++;
		return IMADDR_OK;
	}
	if (!user->uri_valid || !user->user_id || !user->directory_uri) {
		writer->without_uri++;
		return IMADDR_OK;
	}
	if (!uri_changes(user)) {
		writer->unchanged++;
		return IMADDR_OK;
	}
	writer->from_directory += user->dn != NULL;
	if (writer->chunk_rows && writer->rows_in_file == writer->chunk_rows) {
		enum imaddr_status status = open_next_file(writer, err);
		if (status != IMADDR_OK)
			return status;
	}
	FILE *stream = writer->files[writer->file_count - 1].stream;
	write_field(stream, user->user_id);
	fputc(',', stream);
	write_field(stream, user->directory_uri);
	fputs("\r\n", stream);
	writer->rows_in_file++;
	writer->rows++;
	return IMADDR_OK;
}

static void describe(struct imaddr_sink *sink, struct imaddr_buf *out)
{
	const struct bat_writer *writer = (const struct bat_writer *)sink;
	imaddr_buf_appendf(out, "BAT file '%s': %llu row%s", writer->path,
			   (unsigned long long)writer->rows, writer->rows == 1 ? "" : "s");
	if (writer->chunk_rows)
		imaddr_buf_appendf(out, " in %llu file%s of at most %llu",
				   (unsigned long long)writer->chunks, writer->chunks == 1 ? "" : "s",
				   (unsigned long long)writer->chunk_rows);
	imaddr_buf_appendf(out, "; left out: %llu with errors, %llu without a valid directory "
			   "URI, %llu whose directory URI does not change\n",
			   (unsigned long long)writer->with_error,
			   (unsigned long long)writer->without_uri,
			   (unsigned long long)writer->unchanged);
	if (writer->from_directory)
		imaddr_buf_appendf(out, "  warning: %llu of these users come from a directory (they "
				   "have a DN): LDAP sync overwrites what BAT imports; fix the "
				   "directory instead\n", (unsigned long long)writer->from_directory);
}

static void abort_files(struct bat_writer *writer)
{
	for (size_t i = 0; i < writer->file_count; i++)
		imaddr_atomic_file_abort(&writer->files[i]);
	free(writer->files);
	writer->files = NULL;
	writer->file_count = 0;
}

/* Chunks left over from an earlier, longer run would be imported by mistake. */
static void remove_stale_chunks(struct bat_writer *writer)
{
	for (size_t number = writer->file_count + 1;; number++) {
		char *path = chunk_path(writer->path, number);
		int removed = unlink(path);
		free(path);
		if (removed != 0)
			break;
	}
}

static enum imaddr_status begin(struct imaddr_sink *sink, const struct imaddr_run_info *info,
				struct imaddr_error *err)
{
	return open_next_file((struct bat_writer *)sink, err);
}

static enum imaddr_status end(struct imaddr_sink *sink, const struct imaddr_run_totals *totals,
			      struct imaddr_error *err)
{
	struct bat_writer *writer = (struct bat_writer *)sink;
	enum imaddr_status status = IMADDR_OK;
	/* Every chunk is on disk before the first one replaces an older file. */
	for (size_t i = 0; status == IMADDR_OK && i < writer->file_count; i++)
		status = imaddr_atomic_file_sync(&writer->files[i], err);
	for (size_t i = 0; status == IMADDR_OK && i < writer->file_count; i++)
		status = imaddr_atomic_file_commit(&writer->files[i], err);
	if (status != IMADDR_OK) {
		abort_files(writer);
		return status;
	}
	if (writer->chunk_rows)
		remove_stale_chunks(writer);
	free(writer->files);
	writer->files = NULL;
	writer->file_count = 0;
	return IMADDR_OK;
}

static void bat_abort(struct imaddr_sink *sink)
{
	abort_files((struct bat_writer *)sink);
}

static void bat_free(struct imaddr_sink *sink)
{
	struct bat_writer *writer = (struct bat_writer *)sink;
	abort_files(writer);
	free(writer->path);
	free(writer);
}

/* The users come in a final pass: only then is it known who has an error. */
static const struct imaddr_sink_ops bat_writer_ops = {
	.name = "bat",
	.flags = IMADDR_SINK_FINAL_PASS,
	.begin = begin,
	.user = write_user,
	.end = end,
	.describe = describe,
	.abort = bat_abort,
	.free = bat_free,
};

enum imaddr_status imaddr_sink_bat_open(const char *path, uint64_t chunk_rows,
					struct imaddr_sink **out, struct imaddr_error *err)
{
	/* Refuse at once what would only fail after a long run. */
	enum imaddr_status status = imaddr_atomic_file_check_directory(path, IMADDR_ERR_IO, "write",
								   err);
	if (status != IMADDR_OK)
		return status;
	struct bat_writer *writer = imaddr_xcalloc(1, sizeof(*writer));
	writer->base.ops = &bat_writer_ops;
	writer->path = imaddr_xstrdup(path);
	writer->chunk_rows = chunk_rows;
	*out = &writer->base;
	return IMADDR_OK;
}
