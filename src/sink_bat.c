#include "sink_bat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "buffer.h"
#include "csv_field.h"
#include "error.h"
#include "mapping.h"
#include "report_file.h"
#include "sink.h"
#include "sink_report.h"
#include "staging.h"

/* Why a user has no row, or that it has one (ROW). */
enum left_out {
	LEFT_OUT_WITH_ERROR,
	LEFT_OUT_WITHOUT_URI,
	LEFT_OUT_UNCHANGED,
	LEFT_OUT_LOSSY,      /* export-lossy: values an export damaged */
	LEFT_OUT_FORMULA,    /* csv-formula: values a spreadsheet would run */
	LEFT_OUT_KINDS,
	ROW = LEFT_OUT_KINDS,
	LEFT_OUT_NOT_SEEN,
};

struct bat_writer {
	struct imaddr_sink base;
	char *path;                  /* as given */
	uint64_t chunk_rows;         /* 0: one file */
	bool to_stdout;              /* "-" */
	char *chunk_stem;            /* "bat" of "out/bat.csv" */
	char **chunk_names;          /* of the files written, in order (chunk_count) */
	char *chunk_extension;       /* ".csv", or "" */
	struct imaddr_staging staging;  /* the file, or the directory of chunks */
	FILE *stream;                /* the file or chunk being written */
	char *stream_buffer;         /* its stdio buffer, shared by the chunks in turn */
	struct imaddr_buf quoted;    /* a field as quoted */
	char *stream_name;           /* for messages */
	size_t chunk_count;
	/* Each cluster's chunks so far: its inputs need not follow one another. */
	struct cluster_chunks {
		char *cluster;               /* NULL: the users of no cluster */
		size_t chunks;
	} *clusters;
	size_t cluster_count;
	size_t file_cluster;         /* clusters[] of the chunk being written */
	bool chunk_open;             /* a chunk was started (they start with a row) */
	uint64_t rows_in_file;
	char *token;                 /* the run's, and the report that decides it */
	char *transaction_path;
	int write_errno;             /* the first failed write's, 0 while none */
	/* What the summary is told (describe). */
	uint64_t rows;
	uint64_t left_out[LEFT_OUT_KINDS];  /* [enum left_out]: the users not in the file */
	uint64_t from_directory;            /* rows of users with a DN: LDAP sync owns them */
	/*
	 * [ordinal]: what select made of the user, counted then in left_out,
	 * LEFT_OUT_NOT_SEEN for one it was not asked about.
	 */
	uint8_t *selected;
	uint64_t selected_size;
	/* The same output in the other form (the one file, or the chunks), if any. */
	char *other_form;
};

static void free_chunk_names(struct bat_writer *writer)
{
	for (size_t i = 0; writer->chunk_names && i < writer->chunk_count; i++)
		free(writer->chunk_names[i]);
	free(writer->chunk_names);
	writer->chunk_names = NULL;
}

/* "out/bat.csv" -> "out/bat" (the directory of chunks), "bat", ".csv" */
static void split_name(const char *path, char **directory, char **stem, char **extension)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	const char *dot = strrchr(base, '.');
	if (!dot || dot == base)
		dot = base + strlen(base);
	*directory = imaddr_xstrndup(path, (size_t)(dot - path));
	*stem = imaddr_xstrndup(base, (size_t)(dot - base));
	*extension = imaddr_xstrdup(dot);
}

char *imaddr_bat_target(const char *path, bool chunked)
{
	char *directory, *stem, *extension;
	split_name(path, &directory, &stem, &extension);
	free(stem);
	free(extension);
	if (chunked)
		return directory;
	free(directory);
	return imaddr_xstrdup(path);
}

static enum imaddr_status write_failed(struct bat_writer *writer, int error_number,
				       struct imaddr_error *err)
{
	return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write '%s': %s",
				writer->stream_name ? writer->stream_name : writer->path,
				strerror(error_number ? error_number : EIO));
}

/* Flushes, syncs and closes the current file; standard output is only flushed. */
static enum imaddr_status close_stream(struct bat_writer *writer, struct imaddr_error *err)
{
	FILE *stream = writer->stream;
	if (!stream)
		return IMADDR_OK;
	writer->stream = NULL;
	errno = 0;
	bool failed = fflush(stream) != 0 || ferror(stream);
	if (!failed && !writer->to_stdout)
		failed = fsync(fileno(stream)) != 0;
	int saved = errno;
	if (!writer->to_stdout)
		failed |= fclose(stream) != 0;
	if (!saved)
		saved = errno;
	if (failed && !writer->write_errno)
		writer->write_errno = saved ? saved : EIO;
	return writer->write_errno ? write_failed(writer, writer->write_errno, err) : IMADDR_OK;
}

static enum imaddr_status open_stream(struct bat_writer *writer, int fd, const char *name,
				      struct imaddr_error *err)
{
	writer->stream = fdopen(fd, "w");
	free(writer->stream_name);
	writer->stream_name = imaddr_xstrdup(name);
	if (!writer->stream) {
		close(fd);
		return write_failed(writer, errno, err);
	}
	/* Standard output's stream is flushed, never closed: it keeps stdio's buffer. */
	if (!writer->to_stdout) {
		if (!writer->stream_buffer)
			writer->stream_buffer = imaddr_xmalloc(1 << 16);
		setvbuf(writer->stream, writer->stream_buffer, _IOFBF, 1 << 16);
	}
	fputs(IMADDR_BAT_HEADER "\r\n", writer->stream);
	writer->rows_in_file = 0;
	return IMADDR_OK;
}

void imaddr_bat_append_cluster(struct imaddr_buf *name, const char *cluster)
{
	imaddr_buf_append_char(name, '-');
	for (const char *c = cluster; *c; c++) {
		bool plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			     (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' || *c == '-';
		imaddr_buf_append_char(name, plain ? *c : '_');
	}
}

bool imaddr_bat_clusters_clash(const char *a, const char *b)
{
	if (!a || !b || !strcmp(a, b))
		return false;
	struct imaddr_buf name_a, name_b;
	imaddr_buf_init(&name_a, 0);
	imaddr_buf_init(&name_b, 0);
	imaddr_bat_append_cluster(&name_a, a);
	imaddr_bat_append_cluster(&name_b, b);
	bool clash = !strcasecmp(name_a.data, name_b.data);
	imaddr_buf_release(&name_a);
	imaddr_buf_release(&name_b);
	return clash;
}

static struct cluster_chunks *chunks_of(struct bat_writer *writer, const char *cluster)
{
	for (size_t i = 0; i < writer->cluster_count; i++)
		if (imaddr_same_text(writer->clusters[i].cluster, cluster))
			return &writer->clusters[i];
	writer->clusters = imaddr_xrealloc(writer->clusters,
					   (writer->cluster_count + 1) * sizeof(*writer->clusters));
	writer->clusters[writer->cluster_count] = (struct cluster_chunks){
		cluster ? imaddr_xstrdup(cluster) : NULL, 0
	};
	return &writer->clusters[writer->cluster_count++];
}

static void forget_clusters(struct bat_writer *writer)
{
	for (size_t i = 0; i < writer->cluster_count; i++)
		free(writer->clusters[i].cluster);
	free(writer->clusters);
	writer->clusters = NULL;
	writer->cluster_count = 0;
}

/*
 * The next chunk in the staged directory: "out/bat.tmp-XXXXXX/bat-001.csv",
 * or, for users of a cluster, "bat-east-001.csv": a BAT job runs on one
 * cluster, so a chunk never mixes two, and each cluster's count from 001.
 */
static enum imaddr_status open_next_chunk(struct bat_writer *writer, const char *cluster,
					  struct imaddr_error *err)
{
	enum imaddr_status status = close_stream(writer, err);
	struct imaddr_buf name;
	char step[32];

	if (status != IMADDR_OK)
		return status;
	struct cluster_chunks *counted = chunks_of(writer, cluster);
	writer->file_cluster = (size_t)(counted - writer->clusters);
	writer->chunk_open = true;
	imaddr_buf_init(&name, 0);
	imaddr_buf_appendf(&name, "%s/%s", writer->staging.staged, writer->chunk_stem);
	if (cluster)
		imaddr_bat_append_cluster(&name, cluster);
	imaddr_buf_appendf(&name, "-%03zu%s", counted->chunks + 1, writer->chunk_extension);
	int fd = open(name.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0)
		status = imaddr_error_set(err, IMADDR_ERR_IO, "cannot create '%s': %s", name.data,
					  strerror(errno));
	else
		status = open_stream(writer, fd, name.data, err);
	if (status == IMADDR_OK) {
		writer->chunk_names = imaddr_xrealloc(writer->chunk_names,
						      (writer->chunk_count + 1) *
							      sizeof(*writer->chunk_names));
		writer->chunk_names[writer->chunk_count] =
			imaddr_xstrdup(strrchr(name.data, '/') + 1);
	}
	imaddr_buf_release(&name);
	if (status == IMADDR_OK) {
		writer->chunk_count++;
		counted->chunks++;
		snprintf(step, sizeof(step), "bat-chunk-%zu", writer->chunk_count);
		imaddr_step(step);
	}
	return status;
}

/*
 * Whether importing the user's canonical directory URI changes what Unified
 * CM holds: the current URI of a CUCM export (or --current-uri-attr), else
 * the value LDAP sync or an earlier import put there, the URI as read. A
 * row that changes nothing is a wasted minute of a BAT job.
 */
static bool uri_changes(const struct imaddr_user *user)
{
	const char *held = user->current_uri_known
				   ? user->current_uri
				   : imaddr_attribute_value_as_synced(user->directory_uri_as_read,
								      user->uri_attribute);
	return !held || strcmp(held, user->directory_uri);
}

static enum left_out left_out(const struct imaddr_user *user)
{
	if (user->has_error)
		return LEFT_OUT_WITH_ERROR;
	if (!user->uri_valid || !user->user_id || !user->directory_uri)
		return LEFT_OUT_WITHOUT_URI;
	/* A value an export damaged ('J?rgen') must not reach Unified CM. */
	if (user->finding_codes & ((uint64_t)1 << IMADDR_CODE_EXPORT_LOSSY))
		return LEFT_OUT_LOSSY;
	/* Nor a cell that Excel, where BAT files get opened, would run. */
	if (user->finding_codes & ((uint64_t)1 << IMADDR_CODE_CSV_FORMULA))
		return LEFT_OUT_FORMULA;
	if (!uri_changes(user))
		return LEFT_OUT_UNCHANGED;
	return ROW;
}

/*
 * During the read: a user left out now stays out, counted now, unless its
 * findings grow, when the final pass tells it again. The others may be
 * rows.
 */
static bool select_user(struct imaddr_sink *sink, const struct imaddr_user *user)
{
	struct bat_writer *writer = (struct bat_writer *)sink;
	enum left_out why = left_out(user);
	if (user->ordinal >= writer->selected_size) {
		uint64_t size = writer->selected_size ? writer->selected_size : 4096;
		while (size <= user->ordinal)
			size *= 2;
		writer->selected = imaddr_xrealloc(writer->selected, size);
		memset(writer->selected + writer->selected_size, LEFT_OUT_NOT_SEEN,
		       size - writer->selected_size);
		writer->selected_size = size;
	}
	writer->selected[user->ordinal] = (uint8_t)why;
	if (why != ROW)
		writer->left_out[why]++;
	return why == ROW;
}

static enum imaddr_status write_user(struct imaddr_sink *sink, const struct imaddr_user *user,
				     struct imaddr_error *err)
{
	struct bat_writer *writer = (struct bat_writer *)sink;
	enum left_out was = user->ordinal < writer->selected_size ? writer->selected[user->ordinal]
								   : LEFT_OUT_NOT_SEEN;
	/* Counted by select, and now with its final findings. */
	if (was < LEFT_OUT_KINDS)
		writer->left_out[was]--;
	enum left_out why = left_out(user);
	if (why != ROW) {
		writer->left_out[why]++;
		return IMADDR_OK;
	}
	writer->from_directory += user->dn != NULL;
	if (writer->chunk_rows &&
	    (!writer->chunk_open || writer->rows_in_file == writer->chunk_rows ||
	     !imaddr_same_text(user->cluster, writer->clusters[writer->file_cluster].cluster))) {
		enum imaddr_status status = open_next_chunk(writer, user->cluster, err);
		if (status != IMADDR_OK)
			return status;
	}
	FILE *stream = writer->stream;
	imaddr_csv_field_write(stream, user->user_id, strlen(user->user_id), &writer->quoted);
	fputc(',', stream);
	imaddr_csv_field_write(stream, user->directory_uri, strlen(user->directory_uri),
			       &writer->quoted);
	fputs("\r\n", stream);
	writer->rows_in_file++;
	writer->rows++;
	/* A full disk fails the run now, not after the last of a million users. */
	if (ferror(stream)) {
		writer->write_errno = errno ? errno : EIO;
		return write_failed(writer, writer->write_errno, err);
	}
	return IMADDR_OK;
}

static void describe(struct imaddr_sink *sink, struct imaddr_buf *out,
		     struct imaddr_run_totals *told)
{
	const struct bat_writer *writer = (const struct bat_writer *)sink;
	/* The files to import, by the names they have: chunks are not the path given. */
	const char *rows = writer->rows == 1 ? "" : "s";
	if (writer->chunk_rows) {
		imaddr_buf_appendf(out, "BAT files in '%s': %llu row%s in %zu file%s",
				   writer->staging.target, (unsigned long long)writer->rows, rows,
				   writer->chunk_count, writer->chunk_count == 1 ? "" : "s");
		if (writer->chunk_rows == UINT64_MAX)
			imaddr_buf_append_str(out, ", each cluster's apart");
		else
			imaddr_buf_appendf(out, " of at most %llu",
					   (unsigned long long)writer->chunk_rows);
		/* A few names, in the order written: enough to find them all. */
		for (size_t i = 0; i < writer->chunk_count && i < 3; i++)
			imaddr_buf_appendf(out, "%s%s", i ? ", " : " (", writer->chunk_names[i]);
		if (writer->chunk_count > 3)
			imaddr_buf_appendf(out, " and %zu more", writer->chunk_count - 3);
		if (writer->chunk_count)
			imaddr_buf_append_char(out, ')');
	} else {
		imaddr_buf_appendf(out, "BAT file '%s': %llu row%s", writer->path,
				   (unsigned long long)writer->rows, rows);
	}
	imaddr_buf_appendf(out, "; left out: %llu with errors, %llu without a valid directory "
			   "URI, %llu whose directory URI does not change",
			   (unsigned long long)writer->left_out[LEFT_OUT_WITH_ERROR],
			   (unsigned long long)writer->left_out[LEFT_OUT_WITHOUT_URI],
			   (unsigned long long)writer->left_out[LEFT_OUT_UNCHANGED]);
	if (writer->left_out[LEFT_OUT_LOSSY])
		imaddr_buf_appendf(out, ", %llu with values the export damaged (export-lossy)",
				   (unsigned long long)writer->left_out[LEFT_OUT_LOSSY]);
	if (writer->left_out[LEFT_OUT_FORMULA])
		imaddr_buf_appendf(out, ", %llu with values a spreadsheet would take for formulas "
				   "(csv-formula)",
				   (unsigned long long)writer->left_out[LEFT_OUT_FORMULA]);
	imaddr_buf_append_char(out, '\n');
	if (writer->from_directory)
		imaddr_buf_appendf(out, "  warning: %llu of these users %s from a directory (they "
				   "have a DN): LDAP sync overwrites what BAT imports; fix the "
				   "directory instead\n", (unsigned long long)writer->from_directory,
				   writer->from_directory == 1 ? "comes" : "come");
	/*
	 * Left as it is, not removed: it is not what this run was asked to
	 * write, but it may be imported in place of what it wrote.
	 */
	struct stat st;
	if (writer->other_form && lstat(writer->other_form, &st) == 0)
		imaddr_buf_appendf(out, "  warning: '%s' (%s of an earlier run) is still there: "
				   "delete it, so that it is not imported by mistake\n",
				   writer->other_form, writer->chunk_rows ? "the one BAT file"
									 : "the BAT chunks");
}

static enum imaddr_status begin(struct imaddr_sink *sink, const struct imaddr_run_info *info,
				struct imaddr_error *err)
{
	struct bat_writer *writer = (struct bat_writer *)sink;
	enum imaddr_status status;
	int fd = -1;

	free(writer->token);
	free(writer->transaction_path);
	writer->token = imaddr_xstrdup(info && info->token ? info->token : "-");
	writer->transaction_path = info && info->transaction_path
					   ? imaddr_xstrdup(info->transaction_path) : NULL;
	free_chunk_names(writer);
	writer->chunk_count = 0;
	writer->write_errno = 0;
	writer->rows = writer->from_directory = 0;
	memset(writer->left_out, 0, sizeof(writer->left_out));
	free(writer->selected);
	writer->selected = NULL;
	writer->selected_size = 0;
	if (writer->to_stdout) {
		fd = dup(STDOUT_FILENO);
		if (fd < 0)
			return imaddr_error_set(err, IMADDR_ERR_IO,
						"cannot write to standard output: %s",
						strerror(errno));
		return open_stream(writer, fd, "standard output", err);
	}
	status = imaddr_staging_begin(&writer->staging, imaddr_report_holds_token, &fd, err);
	if (status != IMADDR_OK)
		return status;
	/* Chunks start with their first row, whose cluster names them. */
	writer->chunk_open = false;
	forget_clusters(writer);
	if (!writer->chunk_rows)
		status = open_stream(writer, fd, writer->staging.staged, err);
	if (status != IMADDR_OK)
		imaddr_staging_abort(&writer->staging);
	return status;
}

static enum imaddr_status end(struct imaddr_sink *sink, const struct imaddr_run_totals *totals,
			      struct imaddr_error *err)
{
	struct bat_writer *writer = (struct bat_writer *)sink;
	/* No row at all: one chunk of the header alone, as one file would be. */
	enum imaddr_status status = writer->chunk_rows && !writer->chunk_open
					    ? open_next_chunk(writer, NULL, err) : IMADDR_OK;
	if (status == IMADDR_OK)
		status = close_stream(writer, err);
	if (status == IMADDR_OK && !writer->to_stdout)
		status = imaddr_staging_prepare(&writer->staging, writer->token,
						writer->transaction_path, err);
	if (status != IMADDR_OK && !writer->to_stdout)
		imaddr_staging_abort(&writer->staging);
	return status;
}

static enum imaddr_status commit(struct imaddr_sink *sink, struct imaddr_error *err)
{
	struct bat_writer *writer = (struct bat_writer *)sink;
	if (writer->to_stdout)
		return IMADDR_OK;
	return imaddr_staging_commit(&writer->staging, err);
}

static void bat_abort(struct imaddr_sink *sink)
{
	struct bat_writer *writer = (struct bat_writer *)sink;
	if (writer->stream && !writer->to_stdout)
		fclose(writer->stream);
	else if (writer->stream)
		fflush(writer->stream);
	writer->stream = NULL;
	imaddr_staging_abort(&writer->staging);
}

static void bat_free(struct imaddr_sink *sink)
{
	struct bat_writer *writer = (struct bat_writer *)sink;
	bat_abort(sink);
	imaddr_staging_release(&writer->staging);
	free(writer->path);
	free(writer->chunk_stem);
	free(writer->chunk_extension);
	free_chunk_names(writer);
	forget_clusters(writer);
	free(writer->other_form);
	free(writer->stream_name);
	free(writer->stream_buffer);
	imaddr_buf_release(&writer->quoted);
	free(writer->token);
	free(writer->transaction_path);
	free(writer->selected);
	free(writer);
}

/*
 * The rows are written in a final pass: only then is it known who has an
 * error. Most users are left out already during the read.
 */
static const struct imaddr_sink_ops bat_writer_ops = {
	.name = "bat",
	.flags = IMADDR_SINK_FINAL_PASS,
	.begin = begin,
	.user = write_user,
	.select = select_user,
	.end = end,
	.describe = describe,
	.commit = commit,
	.abort = bat_abort,
	.free = bat_free,
};

enum imaddr_status imaddr_sink_bat_open(const char *path, uint64_t chunk_rows, int wait_ms,
					struct imaddr_sink **out, struct imaddr_error *err)
{
	char *target = NULL, *stem = NULL, *extension = NULL;
	enum imaddr_status status = IMADDR_OK;

	if (!out)
		return imaddr_error_null(err, __func__, "out");
	*out = NULL;
	if (!path)
		return imaddr_error_null(err, __func__, "path");
	bool to_stdout = !strcmp(path, "-");
	if (to_stdout && chunk_rows)
		return imaddr_error_set(err, IMADDR_ERR_USAGE,
					"--bat - (standard output) cannot be chunked: chunks are "
					"files in a directory");
	char *other_form = NULL;
	const char *slash = strrchr(path, '/');
	/* Bulk Administration refuses to upload a file whose name holds a comma. */
	if (!to_stdout && strchr(slash ? slash + 1 : path, ','))
		return imaddr_error_set(err, IMADDR_ERR_USAGE,
					"--bat '%s': Bulk Administration cannot upload a file "
					"whose name holds a comma", path);
	if (!to_stdout) {
		split_name(path, &target, &stem, &extension);
		other_form = imaddr_xstrdup(chunk_rows ? path : target);
		if (!chunk_rows) {
			free(target);
			target = imaddr_xstrdup(path);
		}
		/* A name without an extension is its own directory of chunks. */
		if (!strcmp(other_form, target)) {
			free(other_form);
			other_form = NULL;
		}
		/*
		 * Refuse at once what would only fail after a long run: what the
		 * target is first, whoever may write in its directory.
		 */
		status = imaddr_staging_check_target(target, chunk_rows != 0, err);
		if (status == IMADDR_OK)
			status = imaddr_atomic_file_check_directory(target, IMADDR_ERR_IO, "write",
								    err);
		if (status != IMADDR_OK) {
			free(target);
			free(stem);
			free(extension);
			free(other_form);
			return status;
		}
	}
	struct bat_writer *writer = imaddr_xcalloc(1, sizeof(*writer));
	writer->base.ops = &bat_writer_ops;
	writer->path = imaddr_xstrdup(path);
	writer->chunk_rows = chunk_rows;
	writer->to_stdout = to_stdout;
	writer->chunk_stem = stem;
	writer->chunk_extension = extension;
	writer->other_form = other_form;
	imaddr_buf_init(&writer->quoted, 0);
	imaddr_staging_init(&writer->staging, target ? target : path, chunk_rows != 0,
			    wait_ms >= 0 ? wait_ms : IMADDR_SINK_REPORT_BUSY_TIMEOUT_MS);
	free(target);
	*out = &writer->base;
	return IMADDR_OK;
}
