/*
 * Building JSON documents with jansson under the library's policy (running
 * out of memory ends the program, include/imaddr.h), for the JSON output
 * (sink_json.c) and the report's stored summaries (report_summary.c).
 */
#ifndef IMADDR_JSON_BUILD_H
#define IMADDR_JSON_BUILD_H

#include <stdint.h>

#include <jansson.h>

#include "buffer.h"

/** `value`, which must not be NULL (jansson's out of memory). */
json_t *imaddr_json_checked(json_t *value);
/** Sets `key` of `object` to `value`, taking its reference. */
void imaddr_json_set(json_t *object, const char *key, json_t *value);
/** Appends `value` to `array`, taking its reference. */
void imaddr_json_append(json_t *array, json_t *value);
/**
 * Directory text as a JSON string, or null for NULL: JSON strings are
 * UTF-8, so a byte that is not becomes U+FFFD. `scratch` is reused.
 */
json_t *imaddr_json_text(struct imaddr_buf *scratch, const char *value);
/** The same for `length` bytes, which may hold NULs (each becomes U+FFFD). */
json_t *imaddr_json_bytes(struct imaddr_buf *scratch, const char *value, size_t length);
/** A count as a JSON integer, INT64_MAX at most. */
json_t *imaddr_json_count(uint64_t value);

#endif /* IMADDR_JSON_BUILD_H */
