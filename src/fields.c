#include "fields.h"

#include <stdlib.h>
#include <string.h>

#include "reader.h"

#define MEMBER_SIZE(type, member) sizeof(((type *)0)->member)

#define INTEGER(type, member, flags) \
	{ #member, IMADDR_FIELD_INTEGER, offsetof(type, member), MEMBER_SIZE(type, member), 0, -1, \
	  flags }
#define STRING(type, member, same, flags) \
	{ #member, IMADDR_FIELD_STRING, offsetof(type, member), 0, 0, same, flags }

/*
 * A user. The order is the report's column order; `same_as` names the field
 * a value most often repeats (see fields.h).
 */
enum user_field {
	U_ORDINAL, U_LINE, U_DN, U_USER_ID, U_MAIL, U_FIRST_NAME, U_LAST_NAME, U_DIRECTORY_URI,
	U_CURRENT_URI, U_IM_ADDRESS, U_IM_DOMAIN, U_URI_AS_READ, U_URI_VALID, U_HAS_ERROR,
	U_FINDING_CODES, U_COUNT
};

#define USER_FIELDS(type, prefix) \
	INTEGER(type, prefix ordinal, IMADDR_FIELD_REPORTED), \
	INTEGER(type, prefix line, IMADDR_FIELD_REPORTED | IMADDR_FIELD_ZERO_IS_NULL), \
	STRING(type, prefix dn, -1, IMADDR_FIELD_REPORTED), \
	STRING(type, prefix user_id, -1, IMADDR_FIELD_REPORTED), \
	STRING(type, prefix mail, -1, IMADDR_FIELD_REPORTED), \
	STRING(type, prefix first_name, -1, IMADDR_FIELD_REPORTED), \
	STRING(type, prefix last_name, -1, IMADDR_FIELD_REPORTED), \
	STRING(type, prefix directory_uri, U_MAIL, IMADDR_FIELD_REPORTED), \
	STRING(type, prefix current_uri, U_DIRECTORY_URI, IMADDR_FIELD_REPORTED), \
	STRING(type, prefix im_address, U_DIRECTORY_URI, IMADDR_FIELD_REPORTED), \
	STRING(type, prefix im_domain, -1, IMADDR_FIELD_REPORTED), \
	STRING(type, prefix directory_uri_as_read, U_DIRECTORY_URI, 0), \
	INTEGER(type, prefix uri_valid, 0), \
	INTEGER(type, prefix has_error, 0), \
	INTEGER(type, prefix finding_codes, 0)

static const struct imaddr_field user_fields[U_COUNT] = {
	USER_FIELDS(struct imaddr_user, ),
};

/* The names carry the "user." prefix, which no report column uses: strip it. */
static const struct imaddr_field spooled_user_fields[] = {
	USER_FIELDS(struct imaddr_spooled_user, user.),
	STRING(struct imaddr_spooled_user, keys[IMADDR_KEY_USER_ID], U_USER_ID, 0),
	STRING(struct imaddr_spooled_user, keys[IMADDR_KEY_DIRECTORY_URI], U_DIRECTORY_URI, 0),
	STRING(struct imaddr_spooled_user, keys[IMADDR_KEY_MAIL], U_MAIL, 0),
	STRING(struct imaddr_spooled_user, keys[IMADDR_KEY_IM_ADDRESS], U_COUNT + 1, 0),
};

static const struct imaddr_field finding_fields[] = {
	INTEGER(struct imaddr_finding, code, 0),
	INTEGER(struct imaddr_finding, severity, 0),
	INTEGER(struct imaddr_finding, ordinal, 0),
	INTEGER(struct imaddr_finding, line, 0),
	INTEGER(struct imaddr_finding, related_ordinal, 0),
	INTEGER(struct imaddr_finding, related_line, 0),
	STRING(struct imaddr_finding, dn, -1, 0),
	STRING(struct imaddr_finding, user_id, -1, 0),
	STRING(struct imaddr_finding, field, -1, 0),
	STRING(struct imaddr_finding, value, -1, 0),
	STRING(struct imaddr_finding, message, -1, 0),
	STRING(struct imaddr_finding, related_dn, -1, 0),
	STRING(struct imaddr_finding, suggestion, -1, 0),
};

#define RECORD_VALUE(role) \
	{ "values[" #role "].data", IMADDR_FIELD_BYTES, \
	  offsetof(struct imaddr_record, values[role].data), 0, \
	  offsetof(struct imaddr_record, values[role].len), -1, 0 }, \
	STRING(struct imaddr_record, values[role].attribute, -1, 0), \
	INTEGER(struct imaddr_record, values[role].present, 0)

static const struct imaddr_field record_fields[] = {
	INTEGER(struct imaddr_record, line, 0),
	STRING(struct imaddr_record, dn, -1, 0),
	RECORD_VALUE(IMADDR_ROLE_USER_ID),
	RECORD_VALUE(IMADDR_ROLE_DIRECTORY_URI),
	RECORD_VALUE(IMADDR_ROLE_MAIL),
	RECORD_VALUE(IMADDR_ROLE_FIRST_NAME),
	RECORD_VALUE(IMADDR_ROLE_LAST_NAME),
	RECORD_VALUE(IMADDR_ROLE_CURRENT_URI),
	INTEGER(struct imaddr_record, problem_count, 0),
};
_Static_assert(IMADDR_ROLE_COUNT == 6, "record_fields lists every role");

static const struct imaddr_field record_problem_fields[] = {
	INTEGER(struct imaddr_record_problem, code, 0),
	STRING(struct imaddr_record_problem, field, -1, 0),
	{ "message", IMADDR_FIELD_TEXT, offsetof(struct imaddr_record_problem, message),
	  MEMBER_SIZE(struct imaddr_record_problem, message), 0, -1, 0 },
};

#define TABLE(name, fields) { name, fields, sizeof(fields) / sizeof(fields[0]) }
const struct imaddr_field_table imaddr_fields_user = TABLE("user", user_fields);
const struct imaddr_field_table imaddr_fields_spooled_user =
	TABLE("spooled user", spooled_user_fields);
const struct imaddr_field_table imaddr_fields_finding = TABLE("finding", finding_fields);
const struct imaddr_field_table imaddr_fields_record = TABLE("record", record_fields);
const struct imaddr_field_table imaddr_fields_record_problem =
	TABLE("record problem", record_problem_fields);

/* ------------------------------------------------------------------------ */

static void put_varint(struct imaddr_buf *out, uint64_t value)
{
	char bytes[10];
	size_t n = 0;
	do {
		bytes[n++] = (char)((value & 0x7f) | (value > 0x7f ? 0x80 : 0));
		value >>= 7;
	} while (value);
	imaddr_buf_append(out, bytes, n);
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

static uint64_t load_integer(const char *at, size_t size)
{
	switch (size) {
	case 1: return *(const uint8_t *)at;
	case 2: { uint16_t v; memcpy(&v, at, sizeof(v)); return v; }
	case 4: { uint32_t v; memcpy(&v, at, sizeof(v)); return v; }
	default: { uint64_t v; memcpy(&v, at, sizeof(v)); return v; }
	}
}

/* bool is one byte here: a decoded flag is stored as 0 or 1, never more. */
static void store_integer(char *at, size_t size, uint64_t value)
{
	switch (size) {
	case 1: *(uint8_t *)at = (uint8_t)value; break;
	case 2: { uint16_t v = (uint16_t)value; memcpy(at, &v, sizeof(v)); break; }
	case 4: { uint32_t v = (uint32_t)value; memcpy(at, &v, sizeof(v)); break; }
	default: memcpy(at, &value, sizeof(value)); break;
	}
}

#define TOKEN_NULL 0u
#define TOKEN_SAME_AS(field) (1u + (uint64_t)(field))
#define TOKEN_LENGTH(table, len) (1u + (uint64_t)(table)->count + (uint64_t)(len))

static const char *string_at(const char *object, const struct imaddr_field *field)
{
	const char *value;
	memcpy(&value, object + field->offset, sizeof(value));
	return value;
}

static void put_bytes(struct imaddr_buf *out, const struct imaddr_field_table *table,
		      const char *bytes, size_t len)
{
	put_varint(out, TOKEN_LENGTH(table, len));
	imaddr_buf_append(out, bytes, len);
	imaddr_buf_append_char(out, '\0');
}

void imaddr_fields_encode(struct imaddr_buf *out, const struct imaddr_field_table *table,
			  const void *object)
{
	const char *base = object;
	for (size_t i = 0; i < table->count; i++) {
		const struct imaddr_field *field = &table->fields[i];
		const char *string;
		switch (field->kind) {
		case IMADDR_FIELD_INTEGER:
			put_varint(out, load_integer(base + field->offset, field->size));
			break;
		case IMADDR_FIELD_STRING:
			string = string_at(base, field);
			if (!string) {
				put_varint(out, TOKEN_NULL);
			} else if (field->same_as >= 0 &&
				   string_at(base, &table->fields[field->same_as]) &&
				   !strcmp(string, string_at(base, &table->fields[field->same_as]))) {
				put_varint(out, TOKEN_SAME_AS(field->same_as));
			} else {
				put_bytes(out, table, string, strlen(string));
			}
			break;
		case IMADDR_FIELD_BYTES: {
			size_t len;
			string = string_at(base, field);
			memcpy(&len, base + field->length_offset, sizeof(len));
			if (string)
				put_bytes(out, table, string, len);
			else
				put_varint(out, TOKEN_NULL);
			break;
		}
		case IMADDR_FIELD_TEXT:
			put_bytes(out, table, base + field->offset,
				  strnlen(base + field->offset, field->size));
			break;
		}
	}
}

/* A string token: NULL, another field's value, or bytes of its own. */
static bool get_string(const char **p, const char *end, const struct imaddr_field_table *table,
		       size_t index, const char *base, const char **value, size_t *len)
{
	uint64_t token;
	if (!get_varint(p, end, &token))
		return false;
	if (token == TOKEN_NULL) {
		*value = NULL;
		*len = 0;
		return true;
	}
	if (token < TOKEN_LENGTH(table, 0)) {
		size_t same = (size_t)(token - 1);
		if (same >= index || table->fields[same].kind != IMADDR_FIELD_STRING)
			return false;
		*value = string_at(base, &table->fields[same]);
		*len = *value ? strlen(*value) : 0;
		return true;
	}
	uint64_t length = token - TOKEN_LENGTH(table, 0);
	if ((uint64_t)(end - *p) <= length || (*p)[length] != '\0')
		return false;
	*value = *p;
	*len = (size_t)length;
	*p += length + 1;
	return true;
}

bool imaddr_fields_decode(const char **p, const char *end,
			  const struct imaddr_field_table *table, void *object)
{
	char *base = object;
	for (size_t i = 0; i < table->count; i++) {
		const struct imaddr_field *field = &table->fields[i];
		const char *string;
		size_t len;
		uint64_t number;
		switch (field->kind) {
		case IMADDR_FIELD_INTEGER:
			if (!get_varint(p, end, &number))
				return false;
			store_integer(base + field->offset, field->size, number);
			break;
		case IMADDR_FIELD_STRING:
		case IMADDR_FIELD_BYTES:
			if (!get_string(p, end, table, i, base, &string, &len))
				return false;
			memcpy(base + field->offset, &string, sizeof(string));
			if (field->kind == IMADDR_FIELD_BYTES)
				memcpy(base + field->length_offset, &len, sizeof(len));
			break;
		case IMADDR_FIELD_TEXT:
			if (!get_string(p, end, table, i, base, &string, &len) || !string)
				return false;
			if (len >= field->size)
				len = field->size - 1;
			memcpy(base + field->offset, string, len);
			base[field->offset + len] = '\0';
			break;
		}
	}
	return true;
}

static bool carries(const struct imaddr_field *field, unsigned flags)
{
	return (field->flags & flags) == flags;
}

/* A column's name: the member's, without the prefix of a nested struct. */
static const char *column_name(const struct imaddr_field *field)
{
	const char *dot = strrchr(field->name, '.');
	return dot ? dot + 1 + strspn(dot + 1, " ") : field->name;
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
			imaddr_buf_append_str(&columns, column_name(field));
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
