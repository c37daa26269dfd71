/*
 * Accepted exceptions (--waivers FILE): a CSV file whose lines each waive
 * the findings of one code for one user ID, one value, or both. A waived
 * finding still reaches every output, with the waiver's reason, but is
 * counted apart and never decides the exit status (audit.c). A waiver
 * past its expiry date waives nothing, and one that waived nothing is
 * itself reported (waiver-expired, waiver-unused). docs/nightly.md
 * describes the file.
 *
 * Lookups are by hash (strmap.h): a finding costs one bit test when no
 * waiver names its code, and a comparison key and one probe when one does.
 */
#ifndef IMADDR_WAIVERS_H
#define IMADDR_WAIVERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buffer.h"
#include "imaddr.h"
#include "strmap.h"

/* The largest waivers file read, and the longest field of a line. */
#define IMADDR_WAIVERS_FILE_MAX (16 * 1024 * 1024)
#define IMADDR_WAIVERS_FIELD_MAX 4096

/* "YYYY-MM-DD" and its NUL. */
#define IMADDR_WAIVERS_DATE_SIZE 11

/** One line of the waivers file. Strings are owned by the list. */
struct imaddr_waiver {
	enum imaddr_code code;
	char *user_id;        /* as written, or NULL */
	char *value;          /* as written, or NULL */
	char *user_key;       /* their comparison keys (normalize.h), or NULL */
	char *value_key;
	char *reason;
	char *expires;        /* "YYYY-MM-DD", or NULL: never */
	char *source;         /* "FILE:LINE", as findings carry it */
	char *subject;        /* "mail-duplicate, user ID 'helpdesk'", for messages */
	uint64_t line;
	size_t next;          /* the next waiver under the same key, plus 1; 0 ends */
	/* The run's: */
	bool expired;         /* expires is before the run's date */
	uint64_t matched;     /* findings it matched (expired or not) */
};

struct imaddr_waivers {
	char *path;                     /* the file as given */
	struct imaddr_waiver *items;
	size_t count;
	/* code, 'u' or 'v' and a key -> the first waiver under it, plus 1 (count) */
	struct imaddr_strmap index;
	uint64_t user_codes;            /* bit (1 << code): a waiver names a user ID */
	uint64_t value_codes;           /* bit (1 << code): a waiver names only a value */
	struct imaddr_buf user_key;     /* the finding being matched: its keys */
	struct imaddr_buf value_key;
	struct imaddr_buf probe;
};

void imaddr_waivers_init(struct imaddr_waivers *waivers);
void imaddr_waivers_release(struct imaddr_waivers *waivers);

/**
 * Reads the waivers file at `path` into an empty list. IMADDR_ERR_INPUT,
 * naming the file, the line and the field, when it cannot be read or a line
 * is not a waiver: the list is then released and empty.
 */
enum imaddr_status imaddr_waivers_load(struct imaddr_waivers *waivers, const char *path,
				       struct imaddr_error *err);

/** The same for the file's bytes, `name` being the file in messages. */
enum imaddr_status imaddr_waivers_parse(struct imaddr_waivers *waivers, const char *name,
					const char *bytes, size_t len, struct imaddr_error *err);

/**
 * Starts a run on `today` ("YYYY-MM-DD", the run's date in UTC): a waiver
 * that expires before it waives nothing; every count starts at 0.
 */
void imaddr_waivers_start(struct imaddr_waivers *waivers, const char *today);

/**
 * The waiver that waives `finding`, or NULL: the most specific one (user ID
 * and value, then user ID, then value) of those that match its code and
 * the comparison keys of its user ID and value. Every waiver that matches
 * counts the finding, an expired one too, which never waives. Not
 * thread-safe: the audit's thread matches every finding.
 */
const struct imaddr_waiver *imaddr_waivers_match(struct imaddr_waivers *waivers,
						 const struct imaddr_finding *finding);

/**
 * What the run has to say of waiver `index` once every finding is known:
 * true and a waiver-expired or waiver-unused finding in `finding` (its
 * message in `message`, its strings the list's) when it expired or matched
 * nothing; false when it did its work.
 */
bool imaddr_waivers_finding(const struct imaddr_waivers *waivers, size_t index,
			    struct imaddr_finding *finding, struct imaddr_buf *message);

/** Whether `text` is a date YYYY-MM-DD of the Gregorian calendar. */
bool imaddr_waivers_date_valid(const char *text);

#endif /* IMADDR_WAIVERS_H */
