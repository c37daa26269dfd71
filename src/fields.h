/*
 * The one description of a user, a record and a finding: a table per
 * structure that names each field, says what kind of value it holds and
 * where it lives. Every copy of these structures between the parts of a run
 * is derived from the tables:
 *   - the batches a reader on a worker thread hands to the audit (records),
 *   - the batches the audit hands to an output on a worker (users, findings),
 *   - the spool that keeps a run's users until the duplicates are known,
 *   - the report's column lists (a field's name is its column).
 * Adding a field to a user is one line in fields.c's list plus the code that
 * fills it; nothing else encodes a user by hand.
 *
 * The encoding: integers as LEB128 varints (7 bits a byte, low bits first),
 * strings as one varint token and their bytes followed by a NUL, so that a
 * decoded string points straight into the encoded bytes. A token is 0 for
 * NULL, 1 + f for "equal to field f" (a field may name one earlier field it
 * often equals: under the Directory URI scheme the IM address is the URI,
 * and keys are mostly their values already), and 1 + count + length for
 * bytes of its own.
 */
#ifndef IMADDR_FIELDS_H
#define IMADDR_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buffer.h"
#include "imaddr.h"

enum imaddr_field_kind {
	IMADDR_FIELD_INTEGER,   /* unsigned, of `size` bytes (1, 4 or 8): bool, enums, counts */
	IMADDR_FIELD_STRING,    /* const char *, NUL-terminated, or NULL */
	IMADDR_FIELD_BYTES,     /* const char * at offset and size_t at length_offset; may hold NULs */
	IMADDR_FIELD_TEXT       /* char[size], copied in on decode (truncated to fit) */
};

/* What a field is for, beyond being copied between threads. */
#define IMADDR_FIELD_REPORTED 1u   /* a column of the report's table */
#define IMADDR_FIELD_ZERO_IS_NULL 2u  /* an integer whose 0 means "none" (a line) */

struct imaddr_field {
	const char *name;          /* the report's column, e.g. "user_id" */
	enum imaddr_field_kind kind;
	size_t offset;
	size_t size;               /* INTEGER and TEXT */
	size_t length_offset;      /* BYTES */
	int same_as;               /* an earlier field it often equals, or -1 */
	unsigned flags;
};

struct imaddr_field_table {
	const char *name;          /* "user", for messages */
	const struct imaddr_field *fields;
	size_t count;
};

/** A user as the audit hands it to outputs (struct imaddr_user). */
extern const struct imaddr_field_table imaddr_fields_user;
/** A user with its duplicate keys, as the spool keeps it (struct imaddr_spooled_user). */
extern const struct imaddr_field_table imaddr_fields_spooled_user;
/** A finding (struct imaddr_finding). */
extern const struct imaddr_field_table imaddr_fields_finding;
/** A reader's record without its problems (struct imaddr_record). */
extern const struct imaddr_field_table imaddr_fields_record;
/** One problem of a record (struct imaddr_record_problem). */
extern const struct imaddr_field_table imaddr_fields_record_problem;

/* The comparison keys kept for duplicate detection, one per kind. */
enum imaddr_key_kind {
	IMADDR_KEY_USER_ID = 0,
	IMADDR_KEY_DIRECTORY_URI,
	IMADDR_KEY_MAIL,
	IMADDR_KEY_IM_ADDRESS,
	IMADDR_KEY_COUNT
};

/** A user and the keys it is compared on (NULL when it has none). */
struct imaddr_spooled_user {
	struct imaddr_user user;
	const char *keys[IMADDR_KEY_COUNT];
};

/** Appends `object`, described by `table`, to `out`. */
void imaddr_fields_encode(struct imaddr_buf *out, const struct imaddr_field_table *table,
			  const void *object);

/**
 * Decodes what imaddr_fields_encode wrote at *p (at most up to `end`) into
 * `object` and moves *p past it. Strings and bytes point into the encoded
 * bytes, so they live as long as those. Returns false, leaving *p anywhere,
 * when the bytes are not a whole encoding of the table: the caller reports
 * its buffer as corrupt.
 */
bool imaddr_fields_decode(const char **p, const char *end,
			  const struct imaddr_field_table *table, void *object);

/*
 * The fields carrying `flags` as columns: the integers first, then the
 * strings, each in table order (the order the report's row inserter wants).
 */

/** How many fields of `kind` carry `flags`. */
size_t imaddr_fields_count(const struct imaddr_field_table *table, unsigned flags,
			   enum imaddr_field_kind kind);
/** "name1, name2, ...", for an SQL column list. The caller frees it. */
char *imaddr_fields_columns(const struct imaddr_field_table *table, unsigned flags);
/** Bit n set when the n-th integer column also carries IMADDR_FIELD_ZERO_IS_NULL. */
unsigned imaddr_fields_zero_is_null(const struct imaddr_field_table *table, unsigned flags);
/** The values of those columns: `integers` and `strings` have room for their counts. */
void imaddr_fields_values(const struct imaddr_field_table *table, const void *object,
			  unsigned flags, uint64_t *integers, const char **strings);

#endif /* IMADDR_FIELDS_H */
