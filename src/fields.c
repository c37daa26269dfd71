#include "fields.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Writing. */

#define VARINT_MAX 10

/* The buffers the codec writes have no cap: growing fails only for memory. */
static void make_room(struct imaddr_buf *out, size_t bytes)
{
	if (!imaddr_buf_reserve(out, bytes))
		imaddr_fatal("an encoding buffer is full");
}

static inline void put_varint(struct imaddr_buf *out, uint64_t value)
{
	if (out->cap - out->len <= VARINT_MAX)
		make_room(out, VARINT_MAX);
	char *w = out->data + out->len;
	while (value > 0x7f) {
		*w++ = (char)((value & 0x7f) | 0x80);
		value >>= 7;
	}
	*w++ = (char)value;
	out->len = (size_t)(w - out->data);
}

/* A token for bytes of their own, the bytes and a NUL. */
static inline __attribute__((always_inline)) void put_bytes(struct imaddr_buf *out, const char *bytes, size_t len,
			     size_t count)
{
	if (out->cap - out->len <= len + VARINT_MAX + 1)
		make_room(out, len + VARINT_MAX + 1);
	put_varint(out, 1u + (uint64_t)count + len);
	memcpy(out->data + out->len, bytes, len);
	out->len += len;
	out->data[out->len++] = '\0';
}

#define TOKEN_NULL 0u
#define TOKEN_SAME_AS(field) (1u + (uint64_t)(field))

/* `seen` holds the strings written so far, by field index, for `same`. */
static inline __attribute__((always_inline)) void put_string(struct imaddr_buf *out, const char **seen, int index,
			      const char *value, int same, size_t count)
{
	seen[index] = value;
	if (!value)
		put_varint(out, TOKEN_NULL);
	else if (same >= 0 && seen[same] && !strcmp(value, seen[same]))
		put_varint(out, TOKEN_SAME_AS(same));
	else
		put_bytes(out, value, strlen(value), count);
}

/* A record's value: present, the attribute, the bytes (which may hold NULs). */
static inline void put_value(struct imaddr_buf *out, const struct imaddr_value *value,
			     size_t count)
{
	put_varint(out, value->present);
	if (value->attribute)
		put_bytes(out, value->attribute, strlen(value->attribute), count);
	else
		put_varint(out, TOKEN_NULL);
	if (value->data)
		put_bytes(out, value->data, value->len, count);
	else
		put_varint(out, TOKEN_NULL);
}

static inline void put_text(struct imaddr_buf *out, const char *text, size_t size, size_t count)
{
	put_bytes(out, text, strnlen(text, size), count);
}

static void finish(struct imaddr_buf *out)
{
	if (out->cap - out->len < 1)
		make_room(out, 1);
	out->data[out->len] = '\0';
}

/* ------------------------------------------------------------------------ */
/* Reading. */

static bool get_varint_slow(const char **p, const char *end, uint64_t *value)
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

static inline bool get_varint(const char **p, const char *end, uint64_t *value)
{
	if (*p < end && !((unsigned char)**p & 0x80)) {
		*value = (unsigned char)*(*p)++;
		return true;
	}
	return get_varint_slow(p, end, value);
}

/* Bytes of their own (or NULL): a pointer into the encoding, NUL after them. */
static inline __attribute__((always_inline)) bool get_bytes(const char **p, const char *end, size_t count,
			     const char **value, size_t *len)
{
	uint64_t token;
	if (!get_varint(p, end, &token))
		return false;
	if (token == TOKEN_NULL) {
		*value = NULL;
		*len = 0;
		return true;
	}
	if (token <= count)
		return false;
	uint64_t length = token - 1 - count;
	if ((uint64_t)(end - *p) <= length || (*p)[length] != '\0')
		return false;
	*value = *p;
	*len = (size_t)length;
	*p += length + 1;
	return true;
}

static inline __attribute__((always_inline)) bool get_string(const char **p, const char *end, const char **seen, int index,
			      size_t count, const char **value)
{
	size_t len;
	const char *q = *p;
	uint64_t token;
	/* "Same as" refers to an earlier string: one byte, peeked at first. */
	if (get_varint(&q, end, &token) && token != TOKEN_NULL && token <= count) {
		if (token - 1 >= (uint64_t)index)
			return false;
		*p = q;
		*value = seen[index] = seen[token - 1];
		return true;
	}
	if (!get_bytes(p, end, count, value, &len))
		return false;
	seen[index] = *value;
	return true;
}

static inline bool get_value(const char **p, const char *end, size_t count,
			     struct imaddr_value *value)
{
	uint64_t present;
	size_t len;
	if (!get_varint(p, end, &present) || !get_bytes(p, end, count, &value->attribute, &len) ||
	    !get_bytes(p, end, count, &value->data, &value->len))
		return false;
	value->present = present != 0;
	/* Every decoded value ends in a NUL of the encoding's. */
	value->terminated = value->data != NULL;
	return true;
}

static inline bool get_text(const char **p, const char *end, size_t count, char *text,
			    size_t size)
{
	const char *bytes;
	size_t len;
	if (!get_bytes(p, end, count, &bytes, &len) || !bytes)
		return false;
	if (len >= size)
		len = size - 1;
	memcpy(text, bytes, len);
	text[len] = '\0';
	return true;
}

static inline bool get_integer(const char **p, const char *end, uint64_t *value)
{
	return get_varint(p, end, value);
}

/* ------------------------------------------------------------------------ */
/* The codecs, generated from the lists in fields.h. */

/* Each list's field indexes, for "same as" tokens; NONE is -1. */
#define USER_INDEX(kind, name, member, same, flags) U_##name,
#define FINDING_INDEX(kind, name, member, same, flags) G_##name,
#define RECORD_INDEX(kind, name, member, same, flags) R_##name,
#define PROBLEM_INDEX(kind, name, member, same, flags) P_##name,
enum { U_NONE = -1, IMADDR_FIELDS_USER(USER_INDEX) U_COUNT };
enum { U_KEYS_BEFORE = U_COUNT - 1, IMADDR_FIELDS_KEYS(USER_INDEX) SPOOLED_COUNT };
enum { G_NONE = -1, IMADDR_FIELDS_FINDING(FINDING_INDEX) G_COUNT };
enum { R_NONE = -1, IMADDR_FIELDS_RECORD(RECORD_INDEX) R_COUNT };
enum { P_NONE = -1, IMADDR_FIELDS_RECORD_PROBLEM(PROBLEM_INDEX) P_COUNT };

#define ENCODE_INTEGER(value, same, index, count) put_varint(out, (uint64_t)(value));
#define ENCODE_STRING(value, same, index, count) \
	put_string(out, seen, index, value, same, count);
#define ENCODE_VALUE(value, same, index, count) put_value(out, &(value), count);
#define ENCODE_TEXT(value, same, index, count) put_text(out, value, sizeof(value), count);

#define DECODE_INTEGER(value, index, count) \
	if (!get_integer(p, end, &number)) \
		return false; \
	value = (__typeof__(value))number;
#define DECODE_STRING(value, index, count) \
	if (!get_string(p, end, seen, index, count, &(value))) \
		return false;
#define DECODE_VALUE(value, index, count) \
	if (!get_value(p, end, count, &(value))) \
		return false;
#define DECODE_TEXT(value, index, count) \
	if (!get_text(p, end, count, value, sizeof(value))) \
		return false;

#define ENCODE_USER(kind, name, member, same, flags) \
	ENCODE_##kind(user->member, U_##same, U_##name, COUNT)
#define DECODE_USER(kind, name, member, same, flags) DECODE_##kind(user->member, U_##name, COUNT)

#define COUNT U_COUNT
void imaddr_fields_encode_user(struct imaddr_buf *out, const struct imaddr_user *user)
{
	const char *seen[COUNT] = { NULL };
	IMADDR_FIELDS_USER(ENCODE_USER)
	finish(out);
}

bool imaddr_fields_decode_user(const char **p, const char *end, struct imaddr_user *user)
{
	const char *seen[COUNT] = { NULL };
	uint64_t number;
	IMADDR_FIELDS_USER(DECODE_USER)
	return true;
}
#undef COUNT

#define ENCODE_KEY(kind, name, member, same, flags) \
	ENCODE_##kind(spooled->member, U_##same, U_##name, COUNT)
#define DECODE_KEY(kind, name, member, same, flags) DECODE_##kind(spooled->member, U_##name, COUNT)

#define COUNT SPOOLED_COUNT
void imaddr_fields_encode_spooled_user(struct imaddr_buf *out,
				       const struct imaddr_spooled_user *spooled)
{
	const char *seen[COUNT] = { NULL };
	const struct imaddr_user *user = &spooled->user;
	IMADDR_FIELDS_USER(ENCODE_USER)
	IMADDR_FIELDS_KEYS(ENCODE_KEY)
	finish(out);
}

bool imaddr_fields_decode_spooled_user(const char **p, const char *end,
				       struct imaddr_spooled_user *spooled)
{
	const char *seen[COUNT] = { NULL };
	struct imaddr_user *user = &spooled->user;
	uint64_t number;
	IMADDR_FIELDS_USER(DECODE_USER)
	IMADDR_FIELDS_KEYS(DECODE_KEY)
	return true;
}
#undef COUNT

#define ENCODE_FINDING(kind, name, member, same, flags) \
	ENCODE_##kind(finding->member, G_##same, G_##name, G_COUNT)
#define DECODE_FINDING(kind, name, member, same, flags) \
	DECODE_##kind(finding->member, G_##name, G_COUNT)

void imaddr_fields_encode_finding(struct imaddr_buf *out, const struct imaddr_finding *finding)
{
	const char *seen[G_COUNT] = { NULL };
	IMADDR_FIELDS_FINDING(ENCODE_FINDING)
	finish(out);
}

bool imaddr_fields_decode_finding(const char **p, const char *end,
				  struct imaddr_finding *finding)
{
	const char *seen[G_COUNT] = { NULL };
	uint64_t number;
	IMADDR_FIELDS_FINDING(DECODE_FINDING)
	return true;
}

#define CHECKED_INDEX(kind, name, member, same, flags) C_##name,
#define CHECK_INDEX(kind, name, member, same, flags) K_##name,
enum { C_NONE = -1, IMADDR_FIELDS_CHECKED(CHECKED_INDEX) C_COUNT };
enum { K_NONE = -1, IMADDR_FIELDS_CHECK(CHECK_INDEX) K_COUNT };
_Static_assert((int)K_COUNT <= (int)C_COUNT, "a finding's fields reuse the checked user's seen[]");
#define ENCODE_CHECKED(kind, name, member, same, flags) \
	ENCODE_##kind(checked->member, C_##same, C_##name, C_COUNT)
#define DECODE_CHECKED(kind, name, member, same, flags) \
	DECODE_##kind(checked->member, C_##name, C_COUNT)
#define ENCODE_CHECK(kind, name, member, same, flags) \
	ENCODE_##kind(check->member, K_##same, K_##name, K_COUNT)
#define DECODE_CHECK(kind, name, member, same, flags) \
	DECODE_##kind(check->member, K_##name, K_COUNT)

void imaddr_fields_encode_checked_user(struct imaddr_buf *out,
				       const struct imaddr_checked_user *checked)
{
	imaddr_fields_encode_spooled_user(out, &checked->spooled);
	const char *seen[C_COUNT] = { NULL };
	IMADDR_FIELDS_CHECKED(ENCODE_CHECKED)
	for (uint64_t i = 0; i < checked->check_count; i++) {
		const struct imaddr_checked_finding *check = &checked->checks[i];
		memset(seen, 0, sizeof(seen));   /* a finding's fields are their own list */
		IMADDR_FIELDS_CHECK(ENCODE_CHECK)
	}
	finish(out);
}

bool imaddr_fields_decode_checked_user(const char **p, const char *end,
				       struct imaddr_checked_user *checked,
				       const char **spooled_end)
{
	if (!imaddr_fields_decode_spooled_user(p, end, &checked->spooled))
		return false;
	*spooled_end = *p;
	const char *seen[C_COUNT] = { NULL };
	uint64_t number;
	IMADDR_FIELDS_CHECKED(DECODE_CHECKED)
	if (checked->check_count > IMADDR_FIELDS_MAX_CHECKS)
		return false;
	for (uint64_t i = 0; i < checked->check_count; i++) {
		struct imaddr_checked_finding *check = &checked->checks[i];
		memset(seen, 0, sizeof(seen));
		IMADDR_FIELDS_CHECK(DECODE_CHECK)
	}
	return true;
}

#define ENCODE_RECORD(kind, name, member, same, flags) \
	ENCODE_##kind(record->member, R_##same, R_##name, R_COUNT)
#define DECODE_RECORD(kind, name, member, same, flags) \
	DECODE_##kind(record->member, R_##name, R_COUNT)
#define ENCODE_PROBLEM(kind, name, member, same, flags) \
	ENCODE_##kind(problem->member, P_##same, P_##name, P_COUNT)
#define DECODE_PROBLEM(kind, name, member, same, flags) \
	DECODE_##kind(problem->member, P_##name, P_COUNT)

void imaddr_fields_encode_record(struct imaddr_buf *out, const struct imaddr_record *record)
{
	const char *seen[R_COUNT] = { NULL };
	IMADDR_FIELDS_RECORD(ENCODE_RECORD)
	for (size_t i = 0; i < record->problem_count; i++) {
		const struct imaddr_record_problem *problem = &record->problems[i];
		IMADDR_FIELDS_RECORD_PROBLEM(ENCODE_PROBLEM)
	}
	(void)seen;
	finish(out);
}

bool imaddr_fields_decode_record(const char **p, const char *end, struct imaddr_record *record)
{
	const char *seen[R_COUNT] = { NULL };
	uint64_t number;
	IMADDR_FIELDS_RECORD(DECODE_RECORD)
	if (record->problem_count > IMADDR_RECORD_MAX_PROBLEMS)
		return false;
	for (size_t i = 0; i < record->problem_count; i++) {
		struct imaddr_record_problem *problem = &record->problems[i];
		IMADDR_FIELDS_RECORD_PROBLEM(DECODE_PROBLEM)
	}
	return true;
}

/* ------------------------------------------------------------------------ */
/* Columns. */

#define USER_COLUMN(kind, name, member, same, flags) \
	{ #name, IMADDR_FIELD_##kind, offsetof(struct imaddr_user, member), \
	  sizeof(((struct imaddr_user *)0)->member), flags },
static const struct imaddr_field user_fields[] = { IMADDR_FIELDS_USER(USER_COLUMN) };
const struct imaddr_field_table imaddr_fields_user = {
	user_fields, sizeof(user_fields) / sizeof(user_fields[0])
};

static uint64_t load_integer(const char *at, size_t size)
{
	switch (size) {
	case 1: return *(const uint8_t *)at;
	case 2: { uint16_t v; memcpy(&v, at, sizeof(v)); return v; }
	case 4: { uint32_t v; memcpy(&v, at, sizeof(v)); return v; }
	default: { uint64_t v; memcpy(&v, at, sizeof(v)); return v; }
	}
}

static const char *string_at(const char *object, const struct imaddr_field *field)
{
	const char *value;
	memcpy(&value, object + field->offset, sizeof(value));
	return value;
}

static bool carries(const struct imaddr_field *field, unsigned flags)
{
	return (field->flags & flags) == flags;
}

size_t imaddr_fields_count(const struct imaddr_field_table *table, unsigned flags,
			   enum imaddr_field_kind kind)
{
	size_t count = 0;
	for (size_t i = 0; i < table->count; i++)
		count += carries(&table->fields[i], flags) && table->fields[i].kind == kind;
	return count;
}

char *imaddr_fields_columns(const struct imaddr_field_table *table, unsigned flags)
{
	static const enum imaddr_field_kind order[] = { IMADDR_FIELD_INTEGER, IMADDR_FIELD_STRING };
	struct imaddr_buf columns;
	imaddr_buf_init(&columns, 0);
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		for (size_t i = 0; i < table->count; i++) {
			const struct imaddr_field *field = &table->fields[i];
			if (!carries(field, flags) || field->kind != order[k])
				continue;
			imaddr_buf_append_str(&columns, columns.len ? ", " : "");
			imaddr_buf_append_str(&columns, field->name);
		}
	}
	return imaddr_buf_detach(&columns);
}

unsigned imaddr_fields_zero_is_null(const struct imaddr_field_table *table, unsigned flags)
{
	unsigned bits = 0, n = 0;
	for (size_t i = 0; i < table->count; i++) {
		const struct imaddr_field *field = &table->fields[i];
		if (!carries(field, flags) || field->kind != IMADDR_FIELD_INTEGER)
			continue;
		if (field->flags & IMADDR_FIELD_ZERO_IS_NULL)
			bits |= 1u << n;
		n++;
	}
	return bits;
}

void imaddr_fields_values(const struct imaddr_field_table *table, const void *object,
			  unsigned flags, uint64_t *integers, const char **strings)
{
	const char *base = object;
	for (size_t i = 0; i < table->count; i++) {
		const struct imaddr_field *field = &table->fields[i];
		if (!carries(field, flags))
			continue;
		if (field->kind == IMADDR_FIELD_INTEGER)
			*integers++ = load_integer(base + field->offset, field->size);
		else if (field->kind == IMADDR_FIELD_STRING)
			*strings++ = string_at(base, field);
	}
}

_Static_assert(U_ordinal == 0 && U_line == 1, "a user's encoding starts with its position");
_Static_assert(R_line == 0, "a record's encoding starts with its line");

const char *imaddr_fields_record_after_line(const char *encoded, const char *end)
{
	uint64_t line;
	return get_varint(&encoded, end, &line) ? encoded : NULL;
}

bool imaddr_fields_append_repositioned(struct imaddr_buf *out, const char *encoded, size_t size,
				       uint64_t ordinal, uint64_t line)
{
	const char *p = encoded, *end = encoded + size;
	uint64_t skipped;
	if (!get_varint(&p, end, &skipped) || !get_varint(&p, end, &skipped))
		return false;
	put_varint(out, ordinal);
	put_varint(out, line);
	imaddr_buf_append(out, p, (size_t)(end - p));
	finish(out);
	return true;
}
