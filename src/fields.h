/*
 * The one description of a user, a record and a finding: a list per
 * structure (the IMADDR_FIELDS_* macros below) that names each field, says
 * what kind of value it holds and which earlier field it most often equals.
 * Everything that copies these structures between the parts of a run is
 * generated from the lists:
 *   - the batches a reader on a worker thread hands to the audit (records),
 *   - the batches the audit hands to an output on a worker (users, findings),
 *   - the spool that keeps a run's users until the duplicates are known,
 *   - the report's column lists (a field's name is its column).
 * Adding a field to a user is one line in IMADDR_FIELDS_USER plus the code
 * that fills it; nothing else encodes a user by hand.
 *
 * The encoding: integers as LEB128 varints (7 bits a byte, low bits first),
 * strings as one varint token and their bytes followed by a NUL, so that a
 * decoded string points straight into the encoded bytes. A token is 0 for
 * NULL, 1 + f for "equal to field f" (under the Directory URI scheme the IM
 * address is the URI, and keys are mostly their values already), and
 * 1 + count + length for bytes of their own. The encoders and decoders are
 * generated per structure, so that each field's kind is known when it is
 * compiled: they run for every user up to four times a run.
 */
#ifndef IMADDR_FIELDS_H
#define IMADDR_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buffer.h"
#include "imaddr.h"
#include "reader.h"

/* What a field is for, beyond being copied between threads. */
#define IMADDR_FIELD_REPORTED 1u      /* a column of the report's table */
#define IMADDR_FIELD_ZERO_IS_NULL 2u  /* an integer whose 0 means "none" (a line) */

/*
 * X(kind, name, member, same, flags): kind is INTEGER (any unsigned integer,
 * bool or enum), STRING (const char *, NUL-terminated, or NULL), VALUE (a
 * record's struct imaddr_value) or TEXT (a char array); `same` is the name
 * of an earlier STRING field of the list it most often equals, or NONE.
 */
#define IMADDR_FIELDS_USER(X) \
	X(INTEGER, ordinal, ordinal, NONE, IMADDR_FIELD_REPORTED) \
	X(INTEGER, line, line, NONE, IMADDR_FIELD_REPORTED | IMADDR_FIELD_ZERO_IS_NULL) \
	X(STRING, dn, dn, NONE, IMADDR_FIELD_REPORTED) \
	X(STRING, user_id, user_id, NONE, IMADDR_FIELD_REPORTED) \
	X(STRING, mail, mail, NONE, IMADDR_FIELD_REPORTED) \
	X(STRING, first_name, first_name, NONE, IMADDR_FIELD_REPORTED) \
	X(STRING, last_name, last_name, NONE, IMADDR_FIELD_REPORTED) \
	X(STRING, directory_uri, directory_uri, mail, IMADDR_FIELD_REPORTED) \
	X(STRING, current_uri, current_uri, directory_uri, IMADDR_FIELD_REPORTED) \
	X(STRING, im_address, im_address, directory_uri, IMADDR_FIELD_REPORTED) \
	X(STRING, im_domain, im_domain, NONE, IMADDR_FIELD_REPORTED) \
	X(STRING, im_address_before, im_address_before, im_address, IMADDR_FIELD_REPORTED) \
	X(STRING, im_address_change, im_address_change, NONE, IMADDR_FIELD_REPORTED) \
	X(STRING, cluster, cluster, NONE, IMADDR_FIELD_REPORTED) \
	X(STRING, directory_uri_as_read, directory_uri_as_read, directory_uri, 0) \
	X(STRING, uri_attribute, uri_attribute, NONE, 0) \
	X(INTEGER, uri_valid, uri_valid, NONE, 0) \
	X(INTEGER, current_uri_known, current_uri_known, NONE, 0) \
	X(INTEGER, has_error, has_error, NONE, 0) \
	X(INTEGER, finding_codes, finding_codes, NONE, 0)

/* A spooled user's keys, after its user fields (whose names `same` may use). */
#define IMADDR_FIELDS_KEYS(X) \
	X(STRING, key_user_id, keys[IMADDR_KEY_USER_ID], user_id, 0) \
	X(STRING, key_directory_uri, keys[IMADDR_KEY_DIRECTORY_URI], directory_uri, 0) \
	X(STRING, key_mail, keys[IMADDR_KEY_MAIL], mail, 0) \
	X(STRING, key_im_address, keys[IMADDR_KEY_IM_ADDRESS], key_directory_uri, 0)

#define IMADDR_FIELDS_FINDING(X) \
	X(INTEGER, code, code, NONE, 0) \
	X(INTEGER, severity, severity, NONE, 0) \
	X(INTEGER, ordinal, ordinal, NONE, 0) \
	X(INTEGER, line, line, NONE, 0) \
	X(INTEGER, related_ordinal, related_ordinal, NONE, 0) \
	X(INTEGER, related_line, related_line, NONE, 0) \
	X(STRING, dn, dn, NONE, 0) \
	X(STRING, user_id, user_id, NONE, 0) \
	X(STRING, field, field, NONE, 0) \
	X(STRING, value, value, NONE, 0) \
	X(STRING, message, message, NONE, 0) \
	X(STRING, related_dn, related_dn, NONE, 0) \
	X(STRING, suggestion, suggestion, NONE, 0) \
	X(STRING, cluster, cluster, NONE, 0) \
	X(STRING, waiver_reason, waiver_reason, NONE, 0) \
	X(STRING, waiver_expires, waiver_expires, NONE, 0) \
	X(STRING, waiver_source, waiver_source, NONE, 0)

/* A record's problems follow it, problem_count of them. */
#define IMADDR_FIELDS_RECORD(X) \
	X(INTEGER, line, line, NONE, 0) \
	X(STRING, dn, dn, NONE, 0) \
	X(VALUE, user_id, values[IMADDR_ROLE_USER_ID], NONE, 0) \
	X(VALUE, directory_uri, values[IMADDR_ROLE_DIRECTORY_URI], NONE, 0) \
	X(VALUE, mail, values[IMADDR_ROLE_MAIL], NONE, 0) \
	X(VALUE, first_name, values[IMADDR_ROLE_FIRST_NAME], NONE, 0) \
	X(VALUE, last_name, values[IMADDR_ROLE_LAST_NAME], NONE, 0) \
	X(VALUE, current_uri, values[IMADDR_ROLE_CURRENT_URI], NONE, 0) \
	X(INTEGER, problem_count, problem_count, NONE, 0)

#define IMADDR_FIELDS_RECORD_PROBLEM(X) \
	X(INTEGER, code, code, NONE, 0) \
	X(STRING, field, field, NONE, 0) \
	X(TEXT, message, message, NONE, 0)

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

/*
 * What the rules made of a record besides the user and its keys, when the
 * rules run on the reader's thread (audit.c): where each key came from, the
 * IM domain's U-label (NULL when it is the A-label), the pre-migration change, the look-alike skeletons
 * (IMADDR_FIELDS_SKELETONS, as confusables.h counts them) and the findings.
 */
#define IMADDR_FIELDS_SKELETONS 2
#define IMADDR_FIELDS_MAX_CHECKS 24   /* rules.h's IMADDR_RULES_MAX_FINDINGS */

struct imaddr_checked_user {
	struct imaddr_spooled_user spooled;
	const char *key_field[IMADDR_KEY_COUNT];
	const char *im_domain_unicode;
	uint64_t change;                        /* enum imaddr_rules_change */
	const char *skeleton[IMADDR_FIELDS_SKELETONS];
	uint64_t check_count;
	struct imaddr_checked_finding {
		uint64_t code;                      /* enum imaddr_code */
		const char *field;
		const char *value;
		const char *message;
		const char *suggestion;
	} checks[IMADDR_FIELDS_MAX_CHECKS];
};

#define IMADDR_FIELDS_CHECKED(X) \
	X(STRING, key_field_user_id, key_field[IMADDR_KEY_USER_ID], NONE, 0) \
	X(STRING, key_field_directory_uri, key_field[IMADDR_KEY_DIRECTORY_URI], NONE, 0) \
	X(STRING, key_field_mail, key_field[IMADDR_KEY_MAIL], key_field_directory_uri, 0) \
	X(STRING, key_field_im_address, key_field[IMADDR_KEY_IM_ADDRESS], \
	  key_field_directory_uri, 0) \
	X(STRING, im_domain_unicode, im_domain_unicode, NONE, 0) \
	X(INTEGER, change, change, NONE, 0) \
	X(STRING, skeleton_user_id, skeleton[0], NONE, 0) \
	X(STRING, skeleton_im_address, skeleton[1], NONE, 0) \
	X(INTEGER, check_count, check_count, NONE, 0)

#define IMADDR_FIELDS_CHECK(X) \
	X(INTEGER, code, code, NONE, 0) \
	X(STRING, field, field, NONE, 0) \
	X(STRING, value, value, NONE, 0) \
	X(STRING, message, message, NONE, 0) \
	X(STRING, suggestion, suggestion, NONE, 0)

/*
 * Encoders append an object to `out` (a buffer without a cap). Decoders read
 * what the encoder wrote at *p, at most up to `end`, into the object and
 * move *p past it; strings point into the encoded bytes, so they live as
 * long as those. A decoder returns false, leaving *p anywhere, when the
 * bytes are not a whole encoding: the caller reports its buffer as corrupt.
 */
void imaddr_fields_encode_user(struct imaddr_buf *out, const struct imaddr_user *user);
bool imaddr_fields_decode_user(const char **p, const char *end, struct imaddr_user *user);
void imaddr_fields_encode_spooled_user(struct imaddr_buf *out,
				       const struct imaddr_spooled_user *user);
bool imaddr_fields_decode_spooled_user(const char **p, const char *end,
				       struct imaddr_spooled_user *user);
void imaddr_fields_encode_finding(struct imaddr_buf *out, const struct imaddr_finding *finding);
bool imaddr_fields_decode_finding(const char **p, const char *end,
				  struct imaddr_finding *finding);
/**
 * A checked user: its spooled user's encoding (which the spool can store as
 * it is) followed by the rest. `spooled_end` gets where the first ends.
 */
void imaddr_fields_encode_checked_user(struct imaddr_buf *out,
				       const struct imaddr_checked_user *checked);
bool imaddr_fields_decode_checked_user(const char **p, const char *end,
				       struct imaddr_checked_user *checked,
				       const char **spooled_end);
/**
 * Appends to `out` the `size` bytes of a user's encoding at `encoded` (a
 * user's, a spooled user's or a checked user's: each starts with the
 * user's), as if encoded with `ordinal` and `line` instead of its own: a
 * user kept from an earlier run at another place in the input. False when
 * the bytes do not start with a position.
 */
bool imaddr_fields_append_repositioned(struct imaddr_buf *out, const char *encoded, size_t size,
				       uint64_t ordinal, uint64_t line);
/**
 * Where a record's encoding (from `encoded` to `end`) goes on after its
 * line, its first field: the record wherever it stands. NULL when it does
 * not start with one.
 */
const char *imaddr_fields_record_after_line(const char *encoded, const char *end);
/** A record with its problems; decoded values are NUL-terminated (`terminated`). */
void imaddr_fields_encode_record(struct imaddr_buf *out, const struct imaddr_record *record);
bool imaddr_fields_decode_record(const char **p, const char *end, struct imaddr_record *record);

/* ------------------------------------------------------------------------ */
/* The user's fields as columns, for the report. */

enum imaddr_field_kind {
	IMADDR_FIELD_INTEGER,
	IMADDR_FIELD_STRING,
	IMADDR_FIELD_VALUE,
	IMADDR_FIELD_TEXT
};

struct imaddr_field {
	const char *name;          /* the report's column, e.g. "user_id" */
	enum imaddr_field_kind kind;
	size_t offset;
	size_t size;
	unsigned flags;
};

struct imaddr_field_table {
	const struct imaddr_field *fields;
	size_t count;
};

/** struct imaddr_user's fields, in IMADDR_FIELDS_USER's order. */
extern const struct imaddr_field_table imaddr_fields_user;

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
