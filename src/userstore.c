#include "userstore.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "status.h"

/*
 * Record layout: u32 length of the rest, the line as a varint, u8 flags,
 * then the strings below, each a varint token and its bytes. A token is 0
 * for NULL, 1 + f for "the same as field f", and 1 + F_COUNT + the length
 * for a string of its own. Varints (LEB128: 7 bits a byte, low bits first)
 * make the typical token and line 1 to 3 bytes where fixed sizes took 4 and
 * 8: a quarter of the spool.
 */
enum stored_field {
	F_DN, F_USER_ID, F_MAIL, F_DIRECTORY_URI, F_URI_AS_READ, F_CURRENT_URI, F_IM_ADDRESS,
	F_KEY_USER_ID, F_KEY_URI, F_KEY_MAIL, F_KEY_IM,
	F_COUNT
};

/*
 * A field equal to an earlier one is stored as a reference to it: keys are
 * mostly their values lowercased already, and under the Directory URI scheme
 * the IM address is the URI. That halves the spool of a million users.
 */
static const int same_candidate[F_COUNT] = {
	[F_DN] = -1, [F_USER_ID] = -1, [F_MAIL] = -1, [F_DIRECTORY_URI] = F_MAIL,
	[F_URI_AS_READ] = F_DIRECTORY_URI,
	[F_CURRENT_URI] = F_DIRECTORY_URI, [F_IM_ADDRESS] = F_DIRECTORY_URI,
	[F_KEY_USER_ID] = F_USER_ID, [F_KEY_URI] = F_DIRECTORY_URI, [F_KEY_MAIL] = F_MAIL,
	[F_KEY_IM] = F_KEY_URI,
};

#define FLAG_URI_VALID 1u
#define TOKEN_NULL 0u
#define TOKEN_SAME_AS(field) (1u + (uint64_t)(field))
#define TOKEN_LENGTH(len) (1u + F_COUNT + (uint64_t)(len))

enum imaddr_status imaddr_userstore_init(struct imaddr_userstore *store,
					 struct imaddr_error *err)
{
	memset(store, 0, sizeof(*store));
	imaddr_buf_init(&store->record, 0);
	imaddr_buf_init(&store->read_buffer, 0);
	store->file = tmpfile();
	if (!store->file)
		return imaddr_error_set(err, IMADDR_ERR_IO,
					"cannot create a temporary file for the users: %s",
					strerror(errno));
	setvbuf(store->file, NULL, _IOFBF, 1 << 20);
	return IMADDR_OK;
}

void imaddr_userstore_release(struct imaddr_userstore *store)
{
	if (store->file)
		fclose(store->file);
	free(store->offsets);
	imaddr_buf_release(&store->record);
	imaddr_buf_release(&store->read_buffer);
	memset(store, 0, sizeof(*store));
}

static void put_varint(struct imaddr_buf *buf, uint64_t value)
{
	char bytes[10];
	size_t n = 0;
	do {
		bytes[n++] = (char)((value & 0x7f) | (value > 0x7f ? 0x80 : 0));
		value >>= 7;
	} while (value);
	imaddr_buf_append(buf, bytes, n);
}

static void put_string(struct imaddr_buf *buf, const char *s)
{
	if (!s) {
		put_varint(buf, TOKEN_NULL);
		return;
	}
	size_t len = strlen(s);
	put_varint(buf, TOKEN_LENGTH(len));
	imaddr_buf_append(buf, s, len);
}

enum imaddr_status imaddr_userstore_append(struct imaddr_userstore *store,
					   const struct imaddr_user *user,
					   const char *const keys[IMADDR_KEY_COUNT],
					   struct imaddr_error *err)
{
	struct imaddr_buf *buf = &store->record;
	const char *fields[F_COUNT] = {
		user->dn, user->user_id, user->mail, user->directory_uri,
		user->directory_uri_as_read, user->current_uri,
		user->im_address, keys[IMADDR_KEY_USER_ID], keys[IMADDR_KEY_DIRECTORY_URI],
		keys[IMADDR_KEY_MAIL], keys[IMADDR_KEY_IM_ADDRESS],
	};
	uint8_t flags = user->uri_valid ? FLAG_URI_VALID : 0;

	imaddr_buf_reset(buf);
	imaddr_buf_append(buf, &(uint32_t){ 0 }, sizeof(uint32_t));
	put_varint(buf, user->line);
	imaddr_buf_append(buf, &flags, 1);
	for (int i = 0; i < F_COUNT; i++) {
		int same = same_candidate[i];
		if (same >= 0 && fields[i] && fields[same] && !strcmp(fields[i], fields[same]))
			put_varint(buf, TOKEN_SAME_AS(same));
		else
			put_string(buf, fields[i]);
	}
	uint32_t rest = (uint32_t)(buf->len - sizeof(uint32_t));
	memcpy(buf->data, &rest, sizeof(rest));

	if (store->count == store->capacity) {
		store->capacity = store->capacity ? store->capacity * 2 : 4096;
		store->offsets = imaddr_xrealloc(store->offsets,
						 store->capacity * sizeof(*store->offsets));
	}
	if (fwrite(buf->data, 1, buf->len, store->file) != buf->len)
		return imaddr_error_set(err, IMADDR_ERR_IO,
					"cannot write the temporary user file: %s",
					strerror(errno));
	store->offsets[store->count++] = store->size;
	store->size += buf->len;
	return IMADDR_OK;
}

static bool get_varint(const char **p, const char *end, uint64_t *value)
{
	*value = 0;
	for (unsigned shift = 0; *p < end && shift < 64; shift += 7) {
		unsigned char byte = (unsigned char)*(*p)++;
		*value |= (uint64_t)(byte & 0x7f) << shift;
		if (!(byte & 0x80))
			return true;
	}
	return false;
}

/*
 * Decodes the record body at raw (rest bytes, after its length) into out;
 * the strings are copied, NUL-terminated, to `strings`, which has room for
 * rest + F_COUNT bytes.
 */
static bool decode_record(const char *raw, uint32_t rest, uint64_t ordinal, char *strings,
			  struct imaddr_stored_user *out)
{
	const char *p = raw, *end = raw + rest;
	const char *fields[F_COUNT];

	memset(out, 0, sizeof(*out));
	out->user.ordinal = ordinal;
	if (!get_varint(&p, end, &out->user.line) || p == end)
		return false;
	uint8_t flags = (uint8_t)*p++;
	out->user.uri_valid = flags & FLAG_URI_VALID;
	for (int i = 0; i < F_COUNT; i++) {
		uint64_t token;
		if (!get_varint(&p, end, &token))
			return false;
		if (token == TOKEN_NULL) {
			fields[i] = NULL;
			continue;
		}
		if (token < TOKEN_LENGTH(0)) {
			if (token - 1 >= (uint64_t)i)
				return false;
			fields[i] = fields[token - 1];
			continue;
		}
		uint64_t len = token - TOKEN_LENGTH(0);
		if ((uint64_t)(end - p) < len)
			return false;
		memcpy(strings, p, len);
		strings[len] = '\0';
		fields[i] = strings;
		strings += len + 1;
		p += len;
	}
	out->user.dn = fields[F_DN];
	out->user.user_id = fields[F_USER_ID];
	out->user.mail = fields[F_MAIL];
	out->user.directory_uri = fields[F_DIRECTORY_URI];
	out->user.directory_uri_as_read = fields[F_URI_AS_READ];
	out->user.current_uri = fields[F_CURRENT_URI];
	out->user.im_address = fields[F_IM_ADDRESS];
	if (out->user.im_address) {
		const char *at = strrchr(out->user.im_address, '@');
		out->user.im_domain = at ? at + 1 : NULL;
	}
	out->keys[IMADDR_KEY_USER_ID] = fields[F_KEY_USER_ID];
	out->keys[IMADDR_KEY_DIRECTORY_URI] = fields[F_KEY_URI];
	out->keys[IMADDR_KEY_MAIL] = fields[F_KEY_MAIL];
	out->keys[IMADDR_KEY_IM_ADDRESS] = fields[F_KEY_IM];
	return true;
}

static enum imaddr_status read_error(struct imaddr_error *err)
{
	return imaddr_error_set(err, IMADDR_ERR_IO, "cannot read the temporary user file: %s",
				errno ? strerror(errno) : "short read");
}

enum imaddr_status imaddr_userstore_get(struct imaddr_userstore *store, uint64_t ordinal,
					struct imaddr_stored_user *out,
					struct imaddr_error *err)
{
	uint32_t rest;
	if (ordinal == 0 || ordinal > store->count)
		return imaddr_error_set(err, IMADDR_ERR_IO, "no user %llu in the store",
					(unsigned long long)ordinal);
	errno = 0;
	if (fflush(store->file) != 0)
		return read_error(err);
	/*
	 * The offsets give the record's size, so one pread reads it whole: the
	 * duplicate search reads every member of every candidate group, tens of
	 * thousands of users in a large directory. (A mapping of the file would
	 * save even that call, but its pages would count as the process's own.)
	 */
	uint64_t begin = store->offsets[ordinal - 1];
	uint64_t end = ordinal < store->count ? store->offsets[ordinal] : store->size;
	size_t size = (size_t)(end - begin);
	imaddr_buf_reset(&store->read_buffer);
	if (size < sizeof(rest) || !imaddr_buf_reserve(&store->read_buffer, size * 2 + F_COUNT))
		return read_error(err);
	char *raw = store->read_buffer.data;
	if (pread(fileno(store->file), raw, size, (off_t)begin) != (ssize_t)size)
		return read_error(err);
	memcpy(&rest, raw, sizeof(rest));
	if (rest != size - sizeof(rest))
		return imaddr_error_set(err, IMADDR_ERR_IO, "the temporary user file is corrupt");
	raw += sizeof(rest);
	if (!decode_record(raw, rest, ordinal, raw + rest, out))
		return imaddr_error_set(err, IMADDR_ERR_IO, "the temporary user file is corrupt");
	return IMADDR_OK;
}

#define EACH_CHUNK (1 << 20)

enum imaddr_status imaddr_userstore_each(struct imaddr_userstore *store,
					 imaddr_userstore_fn *fn, void *context,
					 struct imaddr_error *err)
{
	struct imaddr_buf chunk, strings;
	enum imaddr_status status = IMADDR_OK;
	uint64_t offset = 0, ordinal = 0;
	size_t have = 0, used = 0;

	errno = 0;
	if (fflush(store->file) != 0)
		return read_error(err);
	imaddr_buf_init(&chunk, 0);
	imaddr_buf_init(&strings, 0);
	imaddr_buf_reserve(&chunk, EACH_CHUNK);
	int fd = fileno(store->file);
	while (status == IMADDR_OK && ordinal < store->count) {
		uint32_t rest;
		/* Refill when the next record is not whole in the chunk. */
		if (have - used < sizeof(rest) ||
		    (memcpy(&rest, chunk.data + used, sizeof(rest)),
		     have - used < sizeof(rest) + rest)) {
			memmove(chunk.data, chunk.data + used, have - used);
			have -= used;
			used = 0;
			if (have >= sizeof(rest)) {
				memcpy(&rest, chunk.data, sizeof(rest));
				imaddr_buf_reserve(&chunk, sizeof(rest) + rest);
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
		imaddr_buf_reset(&strings);
		imaddr_buf_reserve(&strings, (size_t)rest + F_COUNT);
		struct imaddr_stored_user stored;
		if (!decode_record(chunk.data + used + sizeof(rest), rest, ++ordinal, strings.data,
				   &stored)) {
			status = imaddr_error_set(err, IMADDR_ERR_IO,
						  "the temporary user file is corrupt");
			break;
		}
		used += sizeof(rest) + rest;
		status = fn(context, &stored, err);
	}
	imaddr_buf_release(&chunk);
	imaddr_buf_release(&strings);
	return status;
}
