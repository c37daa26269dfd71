#include "spool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "file_windows.h"
#include "temp_file.h"

/*
 * An entry on file: the u32 length of the user's encoding, in a user cache
 * the user's tag (IMADDR_SPOOL_TAG_SIZE bytes: a check of its key and bytes), then
 * the user as fields.h encodes it.
 */
#define LENGTH_SIZE sizeof(uint32_t)

static size_t tag_size(const struct imaddr_spool *spool)
{
	return spool->tagged ? IMADDR_SPOOL_TAG_SIZE : 0;
}

static void spool_init(struct imaddr_spool *spool)
{
	memset(spool, 0, sizeof(*spool));
	imaddr_buf_init(&spool->record, 0);
	imaddr_buf_init(&spool->read_buffer, 0);
	imaddr_buf_init(&spool->arena, 0);
}

enum imaddr_status imaddr_spool_init(struct imaddr_spool *spool, struct imaddr_error *err)
{
	spool_init(spool);
	spool->file = imaddr_temp_file();
	if (!spool->file)
		return imaddr_error_set(err, IMADDR_ERR_IO,
					"cannot create a temporary file for the users in '%s' "
					"(TMPDIR): %s", imaddr_temp_dir(), strerror(errno));
	spool->owned = true;
	struct imaddr_buf name;
	imaddr_buf_init(&name, 0);
	imaddr_buf_appendf(&name, "the users' temporary file in '%s' (TMPDIR)", imaddr_temp_dir());
	spool->name = imaddr_buf_detach(&name);
	spool->file_buffer = imaddr_stream_buffer(spool->file, 1 << 20);
	return IMADDR_OK;
}

void imaddr_spool_init_cache(struct imaddr_spool *spool, FILE *file, uint64_t size,
			     const char *name)
{
	spool_init(spool);
	spool->file = file;
	spool->tagged = true;
	spool->size = size;
	struct imaddr_buf text;
	imaddr_buf_init(&text, 0);
	imaddr_buf_appendf(&text, "the user cache '%s'", name);
	spool->name = imaddr_buf_detach(&text);
}

void imaddr_spool_release(struct imaddr_spool *spool)
{
	if (spool->file && spool->owned)
		fclose(spool->file);
	free(spool->file_buffer);
	free(spool->name);
	free(spool->offsets);
	free(spool->sizes);
	free(spool->lines);
	imaddr_buf_release(&spool->record);
	imaddr_buf_release(&spool->read_buffer);
	imaddr_spool_unload(spool);
	imaddr_buf_release(&spool->arena);
	memset(spool, 0, sizeof(*spool));
}

static enum imaddr_status write_failed(struct imaddr_spool *spool, struct imaddr_error *err)
{
	return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write %s: %s", spool->name,
				strerror(errno));
}

static void make_room(struct imaddr_spool *spool)
{
	if (spool->count < spool->capacity)
		return;
	spool->capacity = spool->capacity ? spool->capacity * 2 : 4096;
	spool->offsets = imaddr_xrealloc(spool->offsets, spool->capacity * sizeof(*spool->offsets));
	spool->sizes = imaddr_xrealloc(spool->sizes, spool->capacity * sizeof(*spool->sizes));
	spool->lines = imaddr_xrealloc(spool->lines, spool->capacity * sizeof(*spool->lines));
}

static void place(struct imaddr_spool *spool, uint64_t offset, uint32_t size, uint64_t line)
{
	make_room(spool);
	spool->offsets[spool->count] = offset;
	spool->sizes[spool->count] = size;
	spool->lines[spool->count] = line;
	spool->count++;
}

enum imaddr_status imaddr_spool_append_encoded(struct imaddr_spool *spool, const uint8_t *tag,
					       const char *encoded, size_t size, uint64_t line,
					       uint64_t *offset, uint32_t *entry_size,
					       struct imaddr_error *err)
{
	uint32_t rest = (uint32_t)size;
	size_t tagged = tag_size(spool);
	static const uint8_t no_tag[IMADDR_SPOOL_TAG_SIZE];
	if (fwrite(&rest, 1, LENGTH_SIZE, spool->file) != LENGTH_SIZE ||
	    fwrite(tag ? tag : no_tag, 1, tagged, spool->file) != tagged ||
	    fwrite(encoded, 1, size, spool->file) != size)
		return write_failed(spool, err);
	uint32_t total = (uint32_t)(LENGTH_SIZE + tagged + size);
	if (offset)
		*offset = spool->size;
	if (entry_size)
		*entry_size = total;
	place(spool, spool->size, total, line);
	spool->size += total;
	return IMADDR_OK;
}

enum imaddr_status imaddr_spool_append(struct imaddr_spool *spool,
				       const struct imaddr_spooled_user *user,
				       struct imaddr_error *err)
{
	imaddr_buf_reset(&spool->record);
	imaddr_fields_encode_spooled_user(&spool->record, user);
	return imaddr_spool_append_encoded(spool, NULL, spool->record.data, spool->record.len,
					   user->user.line, NULL, NULL, err);
}

void imaddr_spool_append_kept(struct imaddr_spool *spool, uint64_t offset, uint32_t entry_size,
			      uint64_t line)
{
	place(spool, offset, entry_size, line);
}

static enum imaddr_status read_error(struct imaddr_spool *spool, struct imaddr_error *err)
{
	return imaddr_error_set(err, IMADDR_ERR_IO, "cannot read %s: %s", spool->name,
				errno ? strerror(errno) : "short read");
}

static enum imaddr_status corrupt(struct imaddr_spool *spool, struct imaddr_error *err)
{
	return imaddr_error_set(err, IMADDR_ERR_IO, "%s is corrupt", spool->name);
}

/*
 * User `ordinal` from its entry at `raw` (`size` bytes): the spooled user
 * its encoding starts with, at this run's position.
 */
static bool decode(const struct imaddr_spool *spool, const char *raw, size_t size,
		   uint64_t ordinal, struct imaddr_spooled_user *out)
{
	uint32_t rest;
	size_t skip = LENGTH_SIZE + tag_size(spool);
	if (size < skip)
		return false;
	memcpy(&rest, raw, sizeof(rest));
	if (rest != size - skip)
		return false;
	const char *p = raw + skip;
	memset(out, 0, sizeof(*out));
	if (!imaddr_fields_decode_spooled_user(&p, raw + size, out))
		return false;
	out->user.ordinal = ordinal;
	out->user.line = spool->lines[ordinal - 1];
	return true;
}

/* Where user `ordinal`'s entry starts, and its size. */
static size_t record_at(const struct imaddr_spool *spool, uint64_t ordinal, uint64_t *begin)
{
	*begin = spool->offsets[ordinal - 1];
	return spool->sizes[ordinal - 1];
}

/* The record of `ordinal` if it was read ahead, else NULL. */
static const char *preloaded(const struct imaddr_spool *spool, uint64_t ordinal)
{
	size_t low = 0, high = spool->preloaded_count;
	while (low < high) {
		size_t middle = low + (high - low) / 2;
		if (spool->preloaded[middle] < ordinal)
			low = middle + 1;
		else
			high = middle;
	}
	if (low == spool->preloaded_count || spool->preloaded[low] != ordinal)
		return NULL;
	return spool->arena.data + spool->preloaded_at[low];
}

void imaddr_spool_unload(struct imaddr_spool *spool)
{
	free(spool->preloaded);
	free(spool->preloaded_at);
	spool->preloaded = NULL;
	spool->preloaded_at = NULL;
	spool->preloaded_count = 0;
	imaddr_buf_reset(&spool->arena);
}

/* A window of the file read at once: a few thousand users. */
#define PRELOAD_WINDOW (256 * 1024)

enum imaddr_status imaddr_spool_preload(struct imaddr_spool *spool, const uint64_t *ordinals,
					size_t count, size_t limit, struct imaddr_error *err)
{
	struct imaddr_file_windows windows;
	enum imaddr_status status = IMADDR_OK;

	imaddr_spool_unload(spool);
	errno = 0;
	if (fflush(spool->file) != 0)
		return read_error(spool, err);
	if (!count)
		return IMADDR_OK;
	spool->preloaded = imaddr_xmalloc(count * sizeof(*spool->preloaded));
	spool->preloaded_at = imaddr_xmalloc(count * sizeof(*spool->preloaded_at));
	imaddr_file_windows_init(&windows);
	for (size_t i = 0; i < count; i++) {
		uint64_t ordinal = ordinals[i];
		if (ordinal == 0 || ordinal > spool->count)
			continue;
		uint64_t begin;
		size_t size = record_at(spool, ordinal, &begin);
		if (spool->arena.len + size > limit)
			break;
		const char *raw = imaddr_file_windows_read(&windows, fileno(spool->file), spool->size,
							   begin, size, PRELOAD_WINDOW);
		if (!raw) {
			status = read_error(spool, err);
			break;
		}
		spool->preloaded[spool->preloaded_count] = ordinal;
		spool->preloaded_at[spool->preloaded_count++] = spool->arena.len;
		imaddr_buf_append(&spool->arena, raw, size);
	}
	imaddr_file_windows_release(&windows);
	if (status != IMADDR_OK)
		imaddr_spool_unload(spool);
	return status;
}

enum imaddr_status imaddr_spool_get(struct imaddr_spool *spool, uint64_t ordinal,
				    struct imaddr_spooled_user *out, struct imaddr_error *err)
{
	if (ordinal == 0 || ordinal > spool->count)
		return imaddr_error_set(err, IMADDR_ERR_IO, "no user %llu in the spool",
					(unsigned long long)ordinal);
	errno = 0;
	if (fflush(spool->file) != 0)
		return read_error(spool, err);
	/*
	 * The entry's size is known, so one pread reads it whole: the
	 * duplicate search reads every member of every candidate group, tens of
	 * thousands of users in a large directory. (A mapping of the file would
	 * save even that call, but its pages would count as the process's own.)
	 */
	uint64_t begin;
	size_t size = record_at(spool, ordinal, &begin);
	const char *raw = preloaded(spool, ordinal);
	if (!raw) {
		imaddr_buf_reset(&spool->read_buffer);
		if (size < LENGTH_SIZE || !imaddr_buf_reserve(&spool->read_buffer, size))
			return read_error(spool, err);
		if (pread(fileno(spool->file), spool->read_buffer.data, size, (off_t)begin) !=
		    (ssize_t)size)
			return read_error(spool, err);
		raw = spool->read_buffer.data;
	}
	if (!decode(spool, raw, size, ordinal, out))
		return corrupt(spool, err);
	return IMADDR_OK;
}

#define EACH_CHUNK (1 << 20)

enum imaddr_status imaddr_spool_each_wanted(struct imaddr_spool *spool,
					    imaddr_spool_wanted_fn *wanted,
					    const void *wanted_context, imaddr_spool_fn *fn,
					    void *context, struct imaddr_error *err)
{
	struct imaddr_file_windows windows;
	enum imaddr_status status = IMADDR_OK;

	errno = 0;
	if (fflush(spool->file) != 0)
		return read_error(spool, err);
	imaddr_file_windows_init(&windows);
	for (uint64_t ordinal = 1; status == IMADDR_OK && ordinal <= spool->count; ordinal++) {
		if (wanted && !wanted(wanted_context, ordinal))
			continue;
		uint64_t begin;
		size_t size = record_at(spool, ordinal, &begin);
		const char *raw = imaddr_file_windows_read(&windows, fileno(spool->file), spool->size,
							   begin, size, EACH_CHUNK);
		if (!raw) {
			status = read_error(spool, err);
			break;
		}
		struct imaddr_spooled_user user;
		if (!decode(spool, raw, size, ordinal, &user)) {
			status = corrupt(spool, err);
			break;
		}
		status = fn(context, &user, err);
	}
	imaddr_file_windows_release(&windows);
	return status;
}

enum imaddr_status imaddr_spool_each(struct imaddr_spool *spool, imaddr_spool_fn *fn,
				     void *context, struct imaddr_error *err)
{
	return imaddr_spool_each_wanted(spool, NULL, NULL, fn, context, err);
}
