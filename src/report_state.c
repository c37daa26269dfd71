#include "report_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

/* The state's bytes: run id, count, then per version hash and id; little endian. */
#define HEADER_SIZE 16
#define ITEM_SIZE 16

void imaddr_report_versions_init(struct imaddr_report_versions *versions)
{
	memset(versions, 0, sizeof(*versions));
}

void imaddr_report_versions_release(struct imaddr_report_versions *versions)
{
	free(versions->items);
	free(versions->held);
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
				uint64_t hash, sqlite3_int64 id)
{
	reserve(versions, index + 1);
	versions->items[index].hash = hash;
	versions->items[index].id = id;
	if (index >= versions->count)
		versions->count = index + 1;
}

static int by_hash(const void *a, const void *b)
{
	const struct imaddr_report_version *x = a, *y = b;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

void imaddr_report_versions_sort(struct imaddr_report_versions *versions)
{
	if (versions->count)
		qsort(versions->items, versions->count, sizeof(*versions->items), by_hash);
}

sqlite3_int64 imaddr_report_versions_take(struct imaddr_report_versions *versions,
					  uint64_t hash)
{
	size_t low = 0, high = versions->count;

	while (low < high) {
		size_t middle = low + (high - low) / 2;
		if (versions->items[middle].hash < hash)
			low = middle + 1;
		else
			high = middle;
	}
	for (; low < versions->count && versions->items[low].hash == hash; low++) {
		if (!versions->held[low]) {
			versions->held[low] = true;
			return versions->items[low].id;
		}
	}
	return 0;
}

static void put_u64(struct imaddr_buf *out, uint64_t value)
{
	unsigned char bytes[8];
	for (int i = 0; i < 8; i++)
		bytes[i] = (unsigned char)(value >> (8 * i));
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

static void encode(const struct imaddr_report_versions *versions, sqlite3_int64 run_id,
		   struct imaddr_buf *out)
{
	put_u64(out, (uint64_t)run_id);
	put_u64(out, versions->count);
	for (size_t i = 0; i < versions->count; i++) {
		put_u64(out, versions->items[i].hash);
		put_u64(out, (uint64_t)versions->items[i].id);
	}
}

/*
 * Written in place through incremental blob I/O when the size stays: an
 * UPDATE would rewrite the whole record, and a night that changed nothing
 * would still rewrite megabytes.
 */
int imaddr_report_state_save(sqlite3 *db, const char *label, const char *what,
			     sqlite3_int64 run_id, const struct imaddr_report_versions *versions,
			     bool unchanged)
{
	struct imaddr_buf data;
	sqlite3_stmt *stmt = NULL;
	sqlite3_blob *blob = NULL;
	sqlite3_int64 rowid = 0;
	int size = -1;
	int rc = sqlite3_prepare_v2(db, "SELECT rowid, length(data) FROM label_states"
					" WHERE label = ?1 AND what = ?2", -1, &stmt, NULL);

	imaddr_buf_init(&data, 0);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(stmt, 1, label, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(stmt, 2, what, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		rowid = sqlite3_column_int64(stmt, 0);
		size = sqlite3_column_int(stmt, 1);
	}
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_finalize(stmt);
	stmt = NULL;
	if (rc != SQLITE_OK)
		goto out;
	if (unchanged && size >= HEADER_SIZE) {
		put_u64(&data, (uint64_t)run_id);
	} else {
		encode(versions, run_id, &data);
		if ((size_t)size != data.len) {
			rc = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO label_states"
						    " (label, what, data) VALUES (?1, ?2, ?3)",
						-1, &stmt, NULL);
			if (rc == SQLITE_OK)
				rc = sqlite3_bind_text(stmt, 1, label, -1, SQLITE_STATIC);
			if (rc == SQLITE_OK)
				rc = sqlite3_bind_text(stmt, 2, what, -1, SQLITE_STATIC);
			if (rc == SQLITE_OK)
				rc = sqlite3_bind_blob64(stmt, 3, data.len ? data.data : "",
							 data.len, SQLITE_STATIC);
			if (rc == SQLITE_OK)
				rc = sqlite3_step(stmt) == SQLITE_DONE ? SQLITE_OK
								       : sqlite3_errcode(db);
			goto out;
		}
	}
	rc = sqlite3_blob_open(db, "main", "label_states", "data", rowid, 1, &blob);
	if (rc == SQLITE_OK)
		rc = sqlite3_blob_write(blob, data.data, (int)data.len, 0);
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
