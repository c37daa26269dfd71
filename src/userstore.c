#include "userstore.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "status.h"

/*
 * Record layout: u32 length of the rest, u64 line, u8 flags, then the
 * strings below as u32 length (UINT32_MAX for NULL) and bytes.
 */
enum stored_field {
	F_DN, F_USER_ID, F_MAIL, F_FIRST_NAME, F_LAST_NAME, F_DIRECTORY_URI, F_CURRENT_URI,
	F_IM_ADDRESS, F_IM_DOMAIN, F_KEY_USER_ID, F_KEY_URI, F_KEY_MAIL, F_KEY_IM,
	F_COUNT
};

#define FLAG_URI_VALID 1u
#define ABSENT UINT32_MAX

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

static void put_u32(struct imaddr_buf *buf, uint32_t value)
{
	imaddr_buf_append(buf, &value, sizeof(value));
}

static void put_string(struct imaddr_buf *buf, const char *s)
{
	if (!s) {
		put_u32(buf, ABSENT);
		return;
	}
	size_t len = strlen(s);
	put_u32(buf, (uint32_t)len);
	imaddr_buf_append(buf, s, len);
}

enum imaddr_status imaddr_userstore_append(struct imaddr_userstore *store,
					   const struct imaddr_user *user,
					   const char *const keys[IMADDR_KEY_COUNT],
					   struct imaddr_error *err)
{
	struct imaddr_buf *buf = &store->record;
	const char *fields[F_COUNT] = {
		user->dn, user->user_id, user->mail, user->first_name, user->last_name,
		user->directory_uri, user->current_uri, user->im_address, user->im_domain,
		keys[IMADDR_KEY_USER_ID], keys[IMADDR_KEY_DIRECTORY_URI], keys[IMADDR_KEY_MAIL],
		keys[IMADDR_KEY_IM_ADDRESS],
	};
	uint8_t flags = user->uri_valid ? FLAG_URI_VALID : 0;

	imaddr_buf_reset(buf);
	put_u32(buf, 0);
	imaddr_buf_append(buf, &user->line, sizeof(user->line));
	imaddr_buf_append(buf, &flags, 1);
	for (int i = 0; i < F_COUNT; i++)
		put_string(buf, fields[i]);
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

static bool get_u32(const char **p, const char *end, uint32_t *value)
{
	if ((size_t)(end - *p) < sizeof(*value))
		return false;
	memcpy(value, *p, sizeof(*value));
	*p += sizeof(*value);
	return true;
}

enum imaddr_status imaddr_userstore_get(struct imaddr_userstore *store, uint64_t ordinal,
					struct imaddr_stored_user *out,
					struct imaddr_error *err)
{
	uint32_t rest;
	if (ordinal == 0 || ordinal > store->count)
		return imaddr_error_set(err, IMADDR_ERR_IO, "no user %llu in the store",
					(unsigned long long)ordinal);
	if (fflush(store->file) != 0)
		goto io_error;
	int fd = fileno(store->file);
	off_t offset = (off_t)store->offsets[ordinal - 1];
	if (pread(fd, &rest, sizeof(rest), offset) != (ssize_t)sizeof(rest))
		goto io_error;
	/* Each string gets its own NUL: room for the record and F_COUNT NULs. */
	imaddr_buf_reset(&store->read_buffer);
	if (!imaddr_buf_reserve(&store->read_buffer, (size_t)rest * 2 + F_COUNT + 16))
		goto io_error;
	char *raw = store->read_buffer.data;
	if (pread(fd, raw, rest, offset + (off_t)sizeof(rest)) != (ssize_t)rest)
		goto io_error;
	char *strings = raw + rest;
	const char *p = raw, *end = raw + rest;

	memset(out, 0, sizeof(*out));
	out->user.ordinal = ordinal;
	memcpy(&out->user.line, p, sizeof(out->user.line));
	p += sizeof(out->user.line);
	uint8_t flags = (uint8_t)*p++;
	out->user.uri_valid = flags & FLAG_URI_VALID;
	const char *fields[F_COUNT];
	for (int i = 0; i < F_COUNT; i++) {
		uint32_t len;
		if (!get_u32(&p, end, &len))
			goto corrupt;
		if (len == ABSENT) {
			fields[i] = NULL;
			continue;
		}
		if ((size_t)(end - p) < len)
			goto corrupt;
		memcpy(strings, p, len);
		strings[len] = '\0';
		fields[i] = strings;
		strings += len + 1;
		p += len;
	}
	out->user.dn = fields[F_DN];
	out->user.user_id = fields[F_USER_ID];
	out->user.mail = fields[F_MAIL];
	out->user.first_name = fields[F_FIRST_NAME];
	out->user.last_name = fields[F_LAST_NAME];
	out->user.directory_uri = fields[F_DIRECTORY_URI];
	out->user.current_uri = fields[F_CURRENT_URI];
	out->user.im_address = fields[F_IM_ADDRESS];
	out->user.im_domain = fields[F_IM_DOMAIN];
	out->keys[IMADDR_KEY_USER_ID] = fields[F_KEY_USER_ID];
	out->keys[IMADDR_KEY_DIRECTORY_URI] = fields[F_KEY_URI];
	out->keys[IMADDR_KEY_MAIL] = fields[F_KEY_MAIL];
	out->keys[IMADDR_KEY_IM_ADDRESS] = fields[F_KEY_IM];
	return IMADDR_OK;
corrupt:
	return imaddr_error_set(err, IMADDR_ERR_IO, "the temporary user file is corrupt");
io_error:
	return imaddr_error_set(err, IMADDR_ERR_IO, "cannot read the temporary user file: %s",
				strerror(errno));
}
