/* A label's user cache (src/user_cache.h), with the spool it holds (src/spool.h). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "spool.h"
#include "user_cache.h"

static char dir[] = "/tmp/imaddr-user-cache-XXXXXX";
static char path[sizeof(dir) + 16];
static const uint64_t print[4] = { 1, 2, 3, 4 };

static void make_dir(void)
{
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/c.users", dir);
}

static void remove_dir(void)
{
	char index[sizeof(path) + 16];
	snprintf(index, sizeof(index), "%s.index", path);
	unlink(path);
	unlink(index);
	snprintf(index, sizeof(index), "%s.index.Ab12Cd", path);
	unlink(index);
	rmdir(dir);
}

TestSuite(user_cache, .init = make_dir, .fini = remove_dir);

/* A user of `ordinal` at `line` whose user ID is `user_id`, as the spool encodes it. */
static void encode(struct imaddr_buf *out, uint64_t ordinal, uint64_t line, const char *user_id)
{
	struct imaddr_spooled_user user;
	memset(&user, 0, sizeof(user));
	user.user.ordinal = ordinal;
	user.user.line = line;
	user.user.user_id = user_id;
	imaddr_buf_reset(out);
	imaddr_fields_encode_spooled_user(out, &user);
}

/*
 * A run: `count` users named u0, u1...; each found in the cache or written to
 * it. One that fails (!committed) fails after its index was written.
 */
static size_t run_ending(const uint64_t fingerprint[4], size_t count, size_t first_line,
			 bool *in_use, bool committed)
{
	struct imaddr_user_cache cache;
	struct imaddr_spool spool;
	struct imaddr_error err = { "" };
	struct imaddr_buf encoded;
	struct imaddr_user_cache_finder finder;
	size_t found = 0;

	cr_assert_eq(imaddr_user_cache_open(&cache, path, fingerprint, in_use, &err), IMADDR_OK,
		     "%s", err.message);
	if (*in_use)
		return 0;
	imaddr_spool_init_cache(&spool, cache.file, cache.size, path);
	imaddr_buf_init(&encoded, 0);
	imaddr_user_cache_finder_init(&finder);
	for (size_t i = 0; i < count; i++) {
		char name[32];
		uint8_t key[IMADDR_SPOOL_KEY_SIZE], tag[IMADDR_SPOOL_TAG_SIZE];
		uint64_t offset;
		uint32_t entry_size;
		size_t size;
		snprintf(name, sizeof(name), "u%zu", i);
		/* A record's encoding starts with its line: 0 here, left out of the key. */
		char record[sizeof(name) + 1] = "";
		memcpy(record + 1, name, strlen(name));
		cr_assert(imaddr_user_cache_encoded_record_key(&cache, record, strlen(name) + 1,
							       NULL, key));
		if (imaddr_user_cache_find(&cache, &finder, key, &offset, &entry_size, &size)) {
			found++;
			imaddr_spool_append_kept(&spool, offset, entry_size, first_line + i);
		} else {
			encode(&encoded, i + 1, first_line + i, name);
			imaddr_user_cache_tag(&cache, key, encoded.data, encoded.len, tag);
			cr_assert_eq(imaddr_spool_append_encoded(&spool, tag, encoded.data, encoded.len,
								 first_line + i, &offset, &entry_size,
								 &err), IMADDR_OK);
		}
		imaddr_user_cache_note(&cache, key, offset, entry_size);
	}
	/* Every user reads back at this run's place, wherever its entry is. */
	for (size_t i = 0; i < count; i++) {
		struct imaddr_spooled_user user;
		char name[32];
		snprintf(name, sizeof(name), "u%zu", i);
		cr_assert_eq(imaddr_spool_get(&spool, i + 1, &user, &err), IMADDR_OK, "%s",
			     err.message);
		cr_assert_eq(user.user.ordinal, i + 1);
		cr_assert_eq(user.user.line, first_line + i);
		cr_assert_str_eq(user.user.user_id, name);
	}
	cr_assert_eq(imaddr_user_cache_write_index(&cache, &err), IMADDR_OK, "%s", err.message);
	if (committed)
		cr_assert_eq(imaddr_user_cache_commit(&cache, &err), IMADDR_OK, "%s",
			     err.message);
	imaddr_buf_release(&encoded);
	imaddr_user_cache_finder_release(&finder);
	imaddr_spool_release(&spool);
	imaddr_user_cache_close(&cache);
	return found;
}

static size_t run(const uint64_t fingerprint[4], size_t count, size_t first_line,
		  bool *in_use)
{
	return run_ending(fingerprint, count, first_line, in_use, true);
}

Test(user_cache, finds_the_users_of_the_last_run_and_checks_only_the_new)
{
	bool in_use;
	cr_assert_eq(run(print, 100, 2, &in_use), 0);
	cr_assert_eq(run(print, 100, 2, &in_use), 100);
	/* Lines moved and users added after them: found wherever they are. */
	cr_assert_eq(run(print, 150, 10, &in_use), 100);
	cr_assert_eq(run(print, 150, 2, &in_use), 150);
}

Test(user_cache, other_options_start_it_afresh)
{
	static const uint64_t other[4] = { 1, 2, 3, 5 };
	bool in_use;
	struct stat before, afresh;
	run(print, 50, 2, &in_use);
	cr_assert_eq(stat(path, &before), 0);
	cr_assert_eq(run(other, 20, 2, &in_use), 0);
	/* Emptied, not written over: nothing of the 50 users is left behind. */
	cr_assert_eq(stat(path, &afresh), 0);
	cr_assert_lt(afresh.st_size, before.st_size / 2);
	cr_assert_eq(run(other, 20, 2, &in_use), 20);
}

Test(user_cache, a_damaged_entry_is_checked_again)
{
	bool in_use;
	run(print, 20, 2, &in_use);
	/* Flip a byte near the end of the file: inside the last user's entry. */
	FILE *file = fopen(path, "r+");
	cr_assert_not_null(file);
	fseek(file, -2, SEEK_END);
	int byte = fgetc(file);
	fseek(file, -2, SEEK_END);
	fputc(byte ^ 0x20, file);
	fclose(file);
	cr_assert_eq(run(print, 20, 2, &in_use), 19);
	cr_assert_eq(run(print, 20, 2, &in_use), 20);
}

Test(user_cache, one_run_at_a_time)
{
	bool in_use;
	run(print, 10, 2, &in_use);
	int fd = open(path, O_RDONLY);
	cr_assert(fd >= 0);
	cr_assert_eq(flock(fd, LOCK_EX), 0);
	cr_assert_eq(run(print, 10, 2, &in_use), 0);
	cr_assert(in_use);
	close(fd);
	cr_assert_eq(run(print, 10, 2, &in_use), 10);
	cr_assert(!in_use);
}

Test(user_cache, an_index_write_a_killed_run_left_is_removed)
{
	bool in_use;
	char stale[sizeof(path) + 16], other[sizeof(path) + 16];
	run(print, 10, 2, &in_use);
	snprintf(stale, sizeof(stale), "%s.index.Ab12Cd", path);
	snprintf(other, sizeof(other), "%s.indexes", path);
	FILE *file = fopen(stale, "w");
	cr_assert_not_null(file);
	fclose(file);
	file = fopen(other, "w");
	cr_assert_not_null(file);
	fclose(file);
	cr_assert_eq(run(print, 10, 2, &in_use), 10);
	cr_assert_neq(access(stale, F_OK), 0, "the killed run's index write is left");
	cr_assert_eq(access(other, F_OK), 0, "another file is removed");
	unlink(other);
}

Test(user_cache, a_failed_run_leaves_the_last_good_index)
{
	bool in_use;
	run(print, 10, 2, &in_use);
	/* Its index written while the outputs finished, then the run failed. */
	cr_assert_eq(run_ending(print, 30, 2, &in_use, false), 10);
	DIR *listing = opendir(dir);
	cr_assert_not_null(listing);
	for (struct dirent *entry; (entry = readdir(listing));)
		cr_assert_null(strstr(entry->d_name, ".index."), "%s is left", entry->d_name);
	closedir(listing);
	/* The failed run's users u10 to u29 are not in the index. */
	cr_assert_eq(run(print, 30, 2, &in_use), 10);
	cr_assert_eq(run(print, 30, 2, &in_use), 30);
}
