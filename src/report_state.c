#include "report_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

/*
 * The state's bytes: run id, count, then per version its hash, its id, and
 * a user's ordinal and line (line << 32 | ordinal) or a finding's users;
 * 64-bit little-endian numbers.
 */
#define HEADER_SIZE 16
#define ITEM_SIZE 24

static bool of_users(const char *what)
{
	return strcmp(what, "users") == 0;
}

void imaddr_report_versions_init(struct imaddr_report_versions *versions)
{
	memset(versions, 0, sizeof(*versions));
}

void imaddr_report_versions_release(struct imaddr_report_versions *versions)
{
	free(versions->items);
	free(versions->held);
	free(versions->slots);
	imaddr_report_versions_init(versions);
}

static void reserve(struct imaddr_report_versions *versions, size_t count)
{
	if (count <= versions->capacity)
		return;
	size_t capacity = versions->capacity ? versions->capacity : 1024;
	while (capacity < count)
		capacity *= 2;
	versions->items = imaddr_xrealloc(versions->items, capacity * sizeof(*versions->items));
	versions->held = imaddr_xrealloc(versions->held, capacity * sizeof(*versions->held));
	memset(versions->items + versions->capacity, 0,
	       (capacity - versions->capacity) * sizeof(*versions->items));
	memset(versions->held + versions->capacity, 0,
	       (capacity - versions->capacity) * sizeof(*versions->held));
	versions->capacity = capacity;
}

void imaddr_report_versions_set(struct imaddr_report_versions *versions, size_t index,
				const struct imaddr_report_version *item)
{
	reserve(versions, index + 1);
	versions->items[index] = *item;
	if (index >= versions->count)
		versions->count = index + 1;
}

/* Open addressing on the hash's low bits; the table at most half full. */
static void build_slots(struct imaddr_report_versions *versions)
{
	size_t size = 16;
	while (size < versions->count * 2)
		size *= 2;
	versions->slots = imaddr_xcalloc(size, sizeof(*versions->slots));
	versions->slot_mask = size - 1;
	for (size_t i = 0; i < versions->count; i++) {
		size_t slot = (size_t)versions->items[i].hash & versions->slot_mask;
		while (versions->slots[slot])
			slot = (slot + 1) & versions->slot_mask;
		versions->slots[slot] = (uint32_t)(i + 1);
	}
}

size_t imaddr_report_versions_find(struct imaddr_report_versions *versions, uint64_t hash,
				   const uint64_t *users)
{
	if (!versions->count || versions->count >= UINT32_MAX)
		return SIZE_MAX;
	if (!versions->slots)
		build_slots(versions);
	for (size_t slot = (size_t)hash & versions->slot_mask; versions->slots[slot];
	     slot = (slot + 1) & versions->slot_mask) {
		size_t index = versions->slots[slot] - 1;
		const struct imaddr_report_version *item = &versions->items[index];
		if (item->hash == hash && !versions->held[index] && item->id &&
		    (!users || item->users == *users))
			return index;
	}
	return SIZE_MAX;
}

uint64_t imaddr_report_versions_users(sqlite3_int64 user_version,
				      sqlite3_int64 related_version)
{
	if (!user_version && !related_version)
		return 0;
	return imaddr_hash_combine(imaddr_hash_combine(1, (uint64_t)user_version),
				   (uint64_t)related_version);
}

sqlite3_int64 imaddr_report_versions_take(struct imaddr_report_versions *versions,
					  uint64_t hash, uint64_t users)
{
	size_t index = imaddr_report_versions_find(versions, hash, &users);
	if (index == SIZE_MAX)
		return 0;
	versions->held[index] = true;
	return versions->items[index].id;
}

static inline void store_u64(unsigned char *at, uint64_t value)
{
	for (int i = 0; i < 8; i++)
		at[i] = (unsigned char)(value >> (8 * i));
}

static void put_u64(struct imaddr_buf *out, uint64_t value)
{
	unsigned char bytes[8];
	store_u64(bytes, value);
	imaddr_buf_append(out, bytes, 8);
}

static uint64_t get_u64(const unsigned char *bytes)
{
	uint64_t value = 0;
	for (int i = 7; i >= 0; i--)
		value = value << 8 | bytes[i];
	return value;
}

uint64_t imaddr_report_state_hash(const uint64_t *numbers, int number_count,
				  const char *const *texts, int text_count)
{
	uint64_t hash = (uint64_t)number_count << 32 | (uint64_t)text_count;
	for (int i = 0; i < number_count; i++)
		hash = imaddr_hash_combine(hash, numbers[i]);
	/* A hash per text: ("ab", "c") is not ("a", "bc"), and no copy is made. */
	for (int i = 0; i < text_count; i++)
		hash = imaddr_hash_combine(hash, texts[i] ? imaddr_hash(texts[i], strlen(texts[i]))
							  : UINT64_MAX);
	return hash ? hash : 1;
}

static const char load_sql[] =
	"SELECT data FROM label_states WHERE label = ?1 AND what = ?2";

int imaddr_report_state_load(sqlite3 *db, const char *label, const char *what,
			     sqlite3_int64 run_id, struct imaddr_report_versions *versions,
			     bool *found)
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v2(db, load_sql, -1, &stmt, NULL);

	*found = false;
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(stmt, 1, label, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(stmt, 2, what, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const unsigned char *data = sqlite3_column_blob(stmt, 0);
		size_t size = (size_t)sqlite3_column_bytes(stmt, 0);
		rc = SQLITE_OK;
		bool users = of_users(what);
		if (data && size >= HEADER_SIZE && (sqlite3_int64)get_u64(data) == run_id) {
			uint64_t count = get_u64(data + 8);
			if (count == (size - HEADER_SIZE) / ITEM_SIZE &&
			    size == HEADER_SIZE + count * ITEM_SIZE) {
				reserve(versions, (size_t)count);
				versions->count = (size_t)count;
				for (size_t i = 0; i < count; i++) {
					const unsigned char *item = data + HEADER_SIZE + i * ITEM_SIZE;
					versions->items[i].hash = get_u64(item);
					versions->items[i].id = (sqlite3_int64)get_u64(item + 8);
					uint64_t link = get_u64(item + 16);
					if (users) {
						versions->items[i].ordinal = (uint32_t)link;
						versions->items[i].line = (uint32_t)(link >> 32);
					} else {
						versions->items[i].users = link;
					}
				}
				*found = true;
			}
		}
	}
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_finalize(stmt);
	return rc;
}

/* Encoded a chunk at a time, so that the state is never whole in memory. */
#define CHUNK_ITEMS 4096

static void encode_items(const struct imaddr_report_versions *versions, size_t first,
			 size_t count, bool users, struct imaddr_buf *out)
{
	/* Stored in place: a million users' three numbers each, in the run's last step. */
	(void)imaddr_buf_reserve(out, count * ITEM_SIZE); /* no limit: cannot fail */
	unsigned char *at = (unsigned char *)out->data + out->len;
	for (size_t i = first; i < first + count; i++, at += ITEM_SIZE) {
		const struct imaddr_report_version *item = &versions->items[i];
		store_u64(at, item->hash);
		store_u64(at + 8, (uint64_t)item->id);
		store_u64(at + 16, users ? (uint64_t)item->line << 32 | item->ordinal : item->users);
	}
	out->len += count * ITEM_SIZE;
	out->data[out->len] = '\0';
}

/*
 * Written in place through incremental blob I/O: an UPDATE would rewrite the
 * whole record, and a night that changed nothing would still rewrite
 * megabytes. A state of another size is first replaced by zeros of its size.
 */
int imaddr_report_state_save(sqlite3 *db, const char *label, const char *what,
			     sqlite3_int64 run_id, const struct imaddr_report_versions *versions,
			     bool unchanged)
{
	struct imaddr_buf data;
	sqlite3_stmt *stmt = NULL;
	sqlite3_blob *blob = NULL;
	sqlite3_int64 rowid = 0;
	sqlite3_int64 size = -1;
	sqlite3_int64 wanted = HEADER_SIZE + (sqlite3_int64)(versions->count * ITEM_SIZE);
	int rc = sqlite3_prepare_v2(db, "SELECT rowid, length(data) FROM label_states"
					" WHERE label = ?1 AND what = ?2", -1, &stmt, NULL);

	imaddr_buf_init(&data, 0);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(stmt, 1, label, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(stmt, 2, what, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		rowid = sqlite3_column_int64(stmt, 0);
		size = sqlite3_column_int64(stmt, 1);
	}
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_finalize(stmt);
	stmt = NULL;
	if (rc != SQLITE_OK)
		goto out;
	unchanged = unchanged && size >= HEADER_SIZE;
	if (!unchanged && size != wanted) {
		rc = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO label_states (label, what, data)"
					    " VALUES (?1, ?2, zeroblob(?3))", -1, &stmt, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_text(stmt, 1, label, -1, SQLITE_STATIC);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_text(stmt, 2, what, -1, SQLITE_STATIC);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int64(stmt, 3, wanted);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(stmt) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
		rowid = sqlite3_last_insert_rowid(db);
		if (rc != SQLITE_OK)
			goto out;
	}
	rc = sqlite3_blob_open(db, "main", "label_states", "data", rowid, 1, &blob);
	put_u64(&data, (uint64_t)run_id);
	put_u64(&data, versions->count);
	if (rc == SQLITE_OK)
		rc = sqlite3_blob_write(blob, data.data, unchanged ? 8 : HEADER_SIZE, 0);
	for (size_t first = 0; rc == SQLITE_OK && !unchanged && first < versions->count;
	     first += CHUNK_ITEMS) {
		size_t count = versions->count - first < CHUNK_ITEMS ? versions->count - first
								    : CHUNK_ITEMS;
		imaddr_buf_reset(&data);
		encode_items(versions, first, count, of_users(what), &data);
		rc = sqlite3_blob_write(blob, data.data, (int)data.len,
					(int)(HEADER_SIZE + first * ITEM_SIZE));
	}
out:
	if (blob) {
		int closed = sqlite3_blob_close(blob);
		if (rc == SQLITE_OK)
			rc = closed;
	}
	sqlite3_finalize(stmt);
	imaddr_buf_release(&data);
	return rc;
}

int imaddr_report_state_end_unheld(sqlite3 *db, const char *table, sqlite3_int64 run_id,
				   const struct imaddr_report_versions *previous)
{
	char sql[96];
	sqlite3_stmt *stmt = NULL;

	snprintf(sql, sizeof(sql), "UPDATE %s SET end_run = ?1 WHERE id = ?2", table);
	int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 1, run_id);
	for (size_t i = 0; rc == SQLITE_OK && i < previous->count; i++) {
		if (previous->held[i] || !previous->items[i].id)
			continue;
		rc = sqlite3_bind_int64(stmt, 2, previous->items[i].id);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(stmt) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
		sqlite3_reset(stmt);
	}
	sqlite3_finalize(stmt);
	return rc;
}

int imaddr_report_state_end_all(sqlite3 *db, const char *table, const char *label,
				sqlite3_int64 run_id)
{
	char sql[256];
	sqlite3_stmt *stmt = NULL;

	snprintf(sql, sizeof(sql),
		 "UPDATE %s SET end_run = ?1 WHERE end_run IS NULL AND first_run IN"
		 " (SELECT id FROM runs WHERE label IS ?2 AND id < ?1)", table);
	int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 1, run_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(stmt, 2, label, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
	sqlite3_finalize(stmt);
	return rc;
}

void imaddr_report_positions_release(struct imaddr_report_positions *positions)
{
	free(positions->items);
	memset(positions, 0, sizeof(*positions));
}

void imaddr_report_positions_add(struct imaddr_report_positions *positions,
				 const struct imaddr_report_position *position)
{
	if (positions->count == positions->capacity) {
		positions->capacity = positions->capacity ? positions->capacity * 2 : 64;
		positions->items = imaddr_xrealloc(positions->items,
						   positions->capacity * sizeof(*positions->items));
	}
	positions->items[positions->count++] = *position;
}

static int compare_positions(const struct imaddr_report_position *x,
			     const struct imaddr_report_position *y)
{
	if (x->version_lo != y->version_lo)
		return x->version_lo < y->version_lo ? -1 : 1;
	if (x->version_hi != y->version_hi)
		return x->version_hi < y->version_hi ? -1 : 1;
	if (x->ordinal_shift != y->ordinal_shift)
		return x->ordinal_shift < y->ordinal_shift ? -1 : 1;
	return x->line_shift < y->line_shift ? -1 : x->line_shift > y->line_shift;
}

static int by_position(const void *a, const void *b)
{
	return compare_positions(a, b);
}

/* The stretches the label's runs before ?2 still hold. */
#define HELD_POSITIONS_SQL \
	"FROM user_positions INDEXED BY user_positions_held\n" \
	"WHERE end_run IS NULL AND first_run IN (SELECT id FROM runs WHERE label IS ?1 AND id < ?2)\n"

/* The previous run's positions, in the order by_position sorts. */
static const char held_positions_sql[] =
	"SELECT id, version_lo, version_hi, ordinal_shift, line_shift\n"
	HELD_POSITIONS_SQL
	"ORDER BY version_lo, version_hi, ordinal_shift, line_shift";

int imaddr_report_positions_count(sqlite3 *db, const char *label, sqlite3_int64 run_id,
				  uint64_t *count)
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v2(db, "SELECT count(*)\n" HELD_POSITIONS_SQL, -1, &stmt, NULL);

	*count = 0;
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(stmt, 1, label, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 2, run_id);
	if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		*count = (uint64_t)sqlite3_column_int64(stmt, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(stmt);
	return rc;
}

int imaddr_report_positions_save(sqlite3 *db, const char *label, sqlite3_int64 run_id,
				 struct imaddr_report_positions *positions)
{
	sqlite3_stmt *held = NULL, *end = NULL, *insert = NULL;
	bool *held_again = imaddr_xcalloc(positions->count + 1, sizeof(*held_again));
	size_t next = 0;
	int rc = sqlite3_prepare_v2(db, held_positions_sql, -1, &held, NULL);

	if (positions->count)
		qsort(positions->items, positions->count, sizeof(*positions->items), by_position);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "UPDATE user_positions SET end_run = ?1 WHERE id = ?2",
					-1, &end, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "INSERT INTO user_positions (first_run, version_lo,"
					    " version_hi, ordinal_shift, line_shift)"
					    " VALUES (?1, ?2, ?3, ?4, ?5)", -1, &insert, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(held, 1, label, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(held, 2, run_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(end, 1, run_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(insert, 1, run_id);
	/* Both sorted alike: a merge. */
	while (rc == SQLITE_OK && (rc = sqlite3_step(held)) == SQLITE_ROW) {
		struct imaddr_report_position before = {
			.version_lo = sqlite3_column_int64(held, 1),
			.version_hi = sqlite3_column_int64(held, 2),
			.ordinal_shift = sqlite3_column_int64(held, 3),
			.line_shift = sqlite3_column_int64(held, 4),
		};
		rc = SQLITE_OK;
		while (next < positions->count &&
		       compare_positions(&positions->items[next], &before) < 0)
			next++;
		if (next < positions->count &&
		    compare_positions(&positions->items[next], &before) == 0) {
			held_again[next++] = true;
			continue;
		}
		rc = sqlite3_bind_int64(end, 2, sqlite3_column_int64(held, 0));
		if (rc == SQLITE_OK)
			rc = sqlite3_step(end) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
		sqlite3_reset(end);
	}
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	for (size_t i = 0; rc == SQLITE_OK && i < positions->count; i++) {
		const struct imaddr_report_position *position = &positions->items[i];
		if (held_again[i])
			continue;
		rc = sqlite3_bind_int64(insert, 2, position->version_lo);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int64(insert, 3, position->version_hi);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int64(insert, 4, position->ordinal_shift);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int64(insert, 5, position->line_shift);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(insert) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
		sqlite3_reset(insert);
	}
	free(held_again);
	sqlite3_finalize(held);
	sqlite3_finalize(end);
	sqlite3_finalize(insert);
	return rc;
}
