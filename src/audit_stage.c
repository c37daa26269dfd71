/*
 * What the reader's thread hands the audit's (struct imaddr_reader_stage):
 * a record, a user it checked, or one the user cache kept, in one batch
 * encoding, and its taking on the audit's thread.
 */
#include <string.h>

#include "audit_internal.h"
#include "error.h"
#include "fields.h"

/*
 * What the reader's thread hands over: a record, or a user it checked or
 * the user cache kept, after its key when the run has a cache.
 */
enum { STAGED_CHECKED = 'C', STAGED_RECORD = 'R', STAGED_KEPT = 'K' };

/*
 * On the reader's thread. The rules are the heavier half of a user; the
 * reader's thread does them while the audit's falls behind, and leaves them
 * to it while it keeps up: on a first run SQLite keeps a core busy and the
 * audit's thread has time to spare, on a second run it has none. So does
 * finding a record in the user cache: a record it has seen needs no rules,
 * its checked user comes from the cache at this run's position.
 */
void imaddr_audit_stage_check(void *context, const struct imaddr_record *record,
			      bool audit_keeps_up, struct imaddr_buf *out)
{
	struct imaddr_audit *audit = context;
	uint64_t ordinal = imaddr_audit_number_user(audit, record);
	uint8_t key[IMADDR_SPOOL_KEY_SIZE];
	bool cached = imaddr_user_cache_is_open(&audit->cache);

	if (audit_keeps_up) {
		imaddr_buf_append_char(out, STAGED_RECORD);
		imaddr_buf_append(out, &ordinal, sizeof(ordinal));
		imaddr_fields_encode_record(out, record);
		return;
	}
	if (cached) {
		imaddr_user_cache_record_key(&audit->cache, &audit->finder_reader, record,
					     audit->cluster, key);
		uint64_t offset;
		uint32_t entry_size;
		size_t size;
		const char *found = imaddr_user_cache_find(&audit->cache, &audit->finder_reader,
							   key, &offset, &entry_size, &size);
		if (found) {
			size_t start = out->len;
			imaddr_buf_append_char(out, STAGED_KEPT);
			imaddr_buf_append(out, key, sizeof(key));
			imaddr_buf_append(out, &offset, sizeof(offset));
			imaddr_buf_append(out, &entry_size, sizeof(entry_size));
			if (imaddr_fields_append_repositioned(out, found, size, ordinal,
							      record->line))
				return;
			out->len = start;    /* not a user after all: checked below */
		}
	}
	struct imaddr_checked_user checked;
	imaddr_audit_check_record(audit, &audit->rules, record, ordinal, &checked);
	imaddr_buf_append_char(out, STAGED_CHECKED);
	if (cached)
		imaddr_buf_append(out, key, sizeof(key));
	imaddr_fields_encode_checked_user(out, &checked);
}

static enum imaddr_status damaged(struct imaddr_error *err)
{
	return imaddr_error_set(err, IMADDR_ERR_IO, "the reader thread sent a damaged batch");
}

static bool take_bytes(const char **p, const char *end, void *out, size_t size)
{
	if ((size_t)(end - *p) < size)
		return false;
	memcpy(out, *p, size);
	*p += size;
	return true;
}

/* On the audit's thread: what the reader's handed over. */
enum imaddr_status imaddr_audit_stage_take(void *context, const char **p, const char *end,
					   struct imaddr_error *err)
{
	struct imaddr_audit *audit = context;
	struct imaddr_checked_user checked;
	uint8_t key[IMADDR_SPOOL_KEY_SIZE];
	struct imaddr_audit_placement place = { 0 };
	uint64_t ordinal;

	if (*p == end)
		return damaged(err);
	char kind = *(*p)++;
	if (kind == STAGED_RECORD) {
		if (!take_bytes(p, end, &ordinal, sizeof(ordinal)))
			return damaged(err);
		const char *encoded = *p;
		if (!imaddr_fields_decode_record(p, end, &audit->record_here))
			return damaged(err);
		/* Its key from the bytes at hand: not encoded again. */
		if (imaddr_user_cache_is_open(&audit->cache) &&
		    !imaddr_user_cache_encoded_record_key(&audit->cache, encoded,
							  (size_t)(*p - encoded), audit->cluster,
							  key))
			return damaged(err);
		return imaddr_audit_take_record(audit, &audit->rules_here, &audit->record_here,
						ordinal, key, err);
	}
	if (imaddr_user_cache_is_open(&audit->cache)) {
		if (!take_bytes(p, end, key, sizeof(key)))
			return damaged(err);
		place.key = key;
	}
	if (kind == STAGED_KEPT) {
		if (!place.key || !take_bytes(p, end, &place.offset, sizeof(place.offset)) ||
		    !take_bytes(p, end, &place.entry_size, sizeof(place.entry_size)))
			return damaged(err);
		place.kept = true;
	} else if (kind != STAGED_CHECKED) {
		return damaged(err);
	}
	const char *encoded = *p, *spooled_end;
	if (!imaddr_fields_decode_checked_user(p, end, &checked, &spooled_end))
		return damaged(err);
	/* A user cache keeps the whole checked user, the spool its spooled user. */
	place.encoded = encoded;
	place.encoded_size = (size_t)((place.key ? *p : spooled_end) - encoded);
	return imaddr_audit_take_user(audit, &checked, &place, err);
}
