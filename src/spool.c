#include "spool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "temp_file.h"

/* A record on file: its u32 length, then the user as fields.h encodes it. */
#define LENGTH_SIZE sizeof(uint32_t)

enum imaddr_status imaddr_spool_init(struct imaddr_spool *spool, struct imaddr_error *err)
{
	memset(spool, 0, sizeof(*spool));
	imaddr_buf_init(&spool->record, 0);
	imaddr_buf_init(&spool->read_buffer, 0);
	imaddr_buf_init(&spool->arena, 0);
	spool->file = imaddr_temp_file();
	if (!spool->file)
		return imaddr_error_set(err, IMADDR_ERR_IO,
					"cannot create a temporary file for the users in '%s' "
					"(TMPDIR): %s", imaddr_temp_dir(), strerror(errno));
	spool->file_buffer = imaddr_stream_buffer(spool->file, 1 << 20);
	return IMADDR_OK;
}

void imaddr_spool_release(struct imaddr_spool *spool)
{
	if (spool->file)
		fclose(spool->file);
	free(spool->file_buffer);
	free(spool->offsets);
	imaddr_buf_release(&spool->record);
	imaddr_buf_release(&spool->read_buffer);
	imaddr_spool_unload(spool);
	imaddr_buf_release(&spool->arena);
	memset(spool, 0, sizeof(*spool));
}

static enum imaddr_status write_failed(struct imaddr_error *err)
{
	return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write the users' temporary file in "
				"'%s' (TMPDIR): %s", imaddr_temp_dir(), strerror(errno));
}

/* A record: its length, then the user's encoding. */
enum imaddr_status imaddr_spool_append_encoded(struct imaddr_spool *spool, const char *encoded,
					       size_t size, struct imaddr_error *err)
{
	uint32_t rest = (uint32_t)size;
	if (spool->count == spool->capacity) {
		spool->capacity = spool->capacity ? spool->capacity * 2 : 4096;
		spool->offsets = imaddr_xrealloc(spool->offsets,
						 spool->capacity * sizeof(*spool->offsets));
	}
	if (fwrite(&rest, 1, LENGTH_SIZE, spool->file) != LENGTH_SIZE ||
	    fwrite(encoded, 1, size, spool->file) != size)
		return write_failed(err);
	spool->offsets[spool->count++] = spool->size;
	spool->size += LENGTH_SIZE + size;
	return IMADDR_OK;
}

enum imaddr_status imaddr_spool_append(struct imaddr_spool *spool,
				       const struct imaddr_spooled_user *user,
				       struct imaddr_error *err)
{
	imaddr_buf_reset(&spool->record);
	imaddr_fields_encode_spooled_user(&spool->record, user);
	return imaddr_spool_append_encoded(spool, spool->record.data, spool->record.len, err);
}

static enum imaddr_status read_error(struct imaddr_error *err)
{
	return imaddr_error_set(err, IMADDR_ERR_IO, "cannot read the users' temporary file in "
				"'%s' (TMPDIR): %s", imaddr_temp_dir(),
				errno ? strerror(errno) : "short read");
}

static enum imaddr_status corrupt(struct imaddr_error *err)
{
	return imaddr_error_set(err, IMADDR_ERR_IO, "the temporary user file is corrupt");
}

static bool decode(const char *raw, uint32_t rest, struct imaddr_spooled_user *out)
{
	const char *p = raw;
	memset(out, 0, sizeof(*out));
	return imaddr_fields_decode_spooled_user(&p, raw + rest, out) &&
	       p == raw + rest;
}

/* Where user `ordinal`'s record (its length included) starts, and its size. */
static size_t record_at(const struct imaddr_spool *spool, uint64_t ordinal, uint64_t *begin)
{
	*begin = spool->offsets[ordinal - 1];
	uint64_t end = ordinal < spool->count ? spool->offsets[ordinal] : spool->size;
	return (size_t)(end - *begin);
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
	struct imaddr_buf window;
	uint64_t window_begin = 0, window_end = 0;
	enum imaddr_status status = IMADDR_OK;

	imaddr_spool_unload(spool);
	errno = 0;
	if (fflush(spool->file) != 0)
		return read_error(err);
	if (!count)
		return IMADDR_OK;
	spool->preloaded = imaddr_xmalloc(count * sizeof(*spool->preloaded));
	spool->preloaded_at = imaddr_xmalloc(count * sizeof(*spool->preloaded_at));
	imaddr_buf_init(&window, 0);
	for (size_t i = 0; i < count; i++) {
		uint64_t ordinal = ordinals[i];
		if (ordinal == 0 || ordinal > spool->count)
			continue;
		uint64_t begin;
		size_t size = record_at(spool, ordinal, &begin);
		if (spool->arena.len + size > limit)
			break;
		if (begin < window_begin || begin + size > window_end) {
			size_t want = size > PRELOAD_WINDOW ? size : PRELOAD_WINDOW;
			if (want > spool->size - begin)
				want = (size_t)(spool->size - begin);
			imaddr_buf_reset(&window);
			if (!imaddr_buf_reserve(&window, want) ||
			    pread(fileno(spool->file), window.data, want, (off_t)begin) !=
				    (ssize_t)want) {
				status = read_error(err);
				break;
			}
			window_begin = begin;
			window_end = begin + want;
		}
		spool->preloaded[spool->preloaded_count] = ordinal;
		spool->preloaded_at[spool->preloaded_count++] = spool->arena.len;
		imaddr_buf_append(&spool->arena, window.data + (begin - window_begin), size);
	}
	imaddr_buf_release(&window);
	if (status != IMADDR_OK)
		imaddr_spool_unload(spool);
	return status;
}

enum imaddr_status imaddr_spool_get(struct imaddr_spool *spool, uint64_t ordinal,
				    struct imaddr_spooled_user *out, struct imaddr_error *err)
{
	uint32_t rest;
	if (ordinal == 0 || ordinal > spool->count)
		return imaddr_error_set(err, IMADDR_ERR_IO, "no user %llu in the spool",
					(unsigned long long)ordinal);
	errno = 0;
	if (fflush(spool->file) != 0)
		return read_error(err);
	/*
	 * The offsets give the record's size, so one pread reads it whole: the
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
			return read_error(err);
		if (pread(fileno(spool->file), spool->read_buffer.data, size, (off_t)begin) !=
		    (ssize_t)size)
			return read_error(err);
		raw = spool->read_buffer.data;
	}
	memcpy(&rest, raw, sizeof(rest));
	if (rest != size - LENGTH_SIZE || !decode(raw + LENGTH_SIZE, rest, out) ||
	    out->user.ordinal != ordinal)
		return corrupt(err);
	return IMADDR_OK;
}

#define EACH_CHUNK (1 << 20)

enum imaddr_status imaddr_spool_each(struct imaddr_spool *spool, imaddr_spool_fn *fn,
				     void *context, struct imaddr_error *err)
{
	struct imaddr_buf chunk;
	enum imaddr_status status = IMADDR_OK;
	uint64_t offset = 0, ordinal = 0;
	size_t have = 0, used = 0;

	errno = 0;
	if (fflush(spool->file) != 0)
		return read_error(err);
	imaddr_buf_init(&chunk, 0);
	imaddr_buf_reserve(&chunk, EACH_CHUNK);
	int fd = fileno(spool->file);
	while (status == IMADDR_OK && ordinal < spool->count) {
		uint32_t rest;
		/* Refill when the next record is not whole in the chunk. */
		if (have - used < LENGTH_SIZE ||
		    (memcpy(&rest, chunk.data + used, sizeof(rest)),
		     have - used < LENGTH_SIZE + rest)) {
			memmove(chunk.data, chunk.data + used, have - used);
			have -= used;
			used = 0;
			if (have >= LENGTH_SIZE) {
				memcpy(&rest, chunk.data, sizeof(rest));
				imaddr_buf_reserve(&chunk, LENGTH_SIZE + rest);
			}
			ssize_t got = pread(fd, chunk.data + have, chunk.cap - 1 - have,
					    (off_t)offset);
			if (got <= 0) {
				status = read_error(err);
				break;
			}
			have += (size_t)got;
			offset += (uint64_t)got;
			continue;
		}
		struct imaddr_spooled_user user;
		if (!decode(chunk.data + used + LENGTH_SIZE, rest, &user) ||
		    user.user.ordinal != ++ordinal) {
			status = corrupt(err);
			break;
		}
		used += LENGTH_SIZE + rest;
		status = fn(context, &user, err);
	}
	imaddr_buf_release(&chunk);
	return status;
}
