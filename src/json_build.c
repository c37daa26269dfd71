#include "json_build.h"

#include <string.h>

#include "normalize.h"

json_t *imaddr_json_checked(json_t *value)
{
	if (!value)
		imaddr_fatal("out of memory");
	return value;
}

void imaddr_json_set(json_t *object, const char *key, json_t *value)
{
	if (json_object_set_new(object, key, imaddr_json_checked(value)) != 0)
		imaddr_fatal("out of memory");
}

void imaddr_json_append(json_t *array, json_t *value)
{
	if (json_array_append_new(array, imaddr_json_checked(value)) != 0)
		imaddr_fatal("out of memory");
}

json_t *imaddr_json_text(struct imaddr_buf *scratch, const char *value)
{
	if (!value)
		return json_null();
	return imaddr_json_bytes(scratch, value, strlen(value));
}

json_t *imaddr_json_bytes(struct imaddr_buf *scratch, const char *value, size_t length)
{
	imaddr_normalize_utf8_repair(value, length, scratch);
	return imaddr_json_checked(json_stringn(scratch->data ? scratch->data : "", scratch->len));
}

json_t *imaddr_json_count(uint64_t value)
{
	return json_integer(value > INT64_MAX ? INT64_MAX : (json_int_t)value);
}
