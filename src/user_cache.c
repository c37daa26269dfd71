/* dladdr(), to know the library's build. */
#define _GNU_SOURCE
#include "user_cache.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <unicode/uversion.h>

#include "error.h"
#include "fields.h"
#include "file_windows.h"
#include "strmap.h"

/* Raised when what the files hold changes meaning. */
#define CACHE_FORMAT 3

static const char data_magic[8] = "imaddrUD";
static const char index_magic[8] = "imaddrUI";

/* The head of PATH, then its entries. */
struct data_header {
	char magic[8];
	uint64_t format;
	uint64_t fingerprint[4];
	uint64_t seed[4];
};

/* The head of PATH.index, then `count` entries. */
struct index_header {
	char magic[8];
	uint64_t format;
	uint64_t fingerprint[4];
	uint64_t seed[4];
	uint64_t count;
	uint64_t used;            /* the bytes of PATH the entries take */
	uint64_t checksum;        /* of the entries */
};

/* Read on from the entry found last: most users are where they were. */
#define WINDOW (1 << 20)

static enum imaddr_status failed(const char *what, const char *path, struct imaddr_error *err)
{
	return imaddr_error_set(err, IMADDR_ERR_IO, "cannot %s the user cache '%s': %s", what,
				path, strerror(errno ? errno : EIO));
}

static bool write_all(int fd, const void *data, size_t size)
{
	const char *p = data;
	while (size) {
		ssize_t put = write(fd, p, size);
		if (put < 0 && errno == EINTR)
			continue;
		if (put <= 0)
			return false;
		p += put;
		size -= (size_t)put;
	}
	return true;
}

static void hash128(const uint64_t *seed, const void *bytes, size_t length, uint64_t out[2]);

static uint64_t checksum(const struct imaddr_user_cache *cache,
			 const struct imaddr_user_cache_entry *entries, size_t count)
{
	uint64_t halves[2];
	hash128(cache->seed, entries, count * sizeof(*entries), halves);
	return halves[0];
}

/* The last run's index, when it belongs to this file and this fingerprint. */
static void load_index(struct imaddr_user_cache *cache)
{
	struct index_header header;
	int fd = open(cache->index_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	struct stat st;
	if (fstat(fd, &st) == 0 && imaddr_pread_all(fd, &header, sizeof(header), 0) &&
	    !memcmp(header.magic, index_magic, sizeof(header.magic)) &&
	    header.format == CACHE_FORMAT &&
	    !memcmp(header.fingerprint, cache->fingerprint, sizeof(header.fingerprint)) &&
	    !memcmp(header.seed, cache->seed, sizeof(header.seed)) &&
	    (uint64_t)st.st_size >= sizeof(header) &&
	    header.count == ((uint64_t)st.st_size - sizeof(header)) /
				    sizeof(struct imaddr_user_cache_entry) &&
	    ((uint64_t)st.st_size - sizeof(header)) % sizeof(struct imaddr_user_cache_entry) == 0) {
		struct imaddr_user_cache_entry *entries =
			imaddr_xmalloc((header.count ? header.count : 1) * sizeof(*entries));
		if (imaddr_pread_all(fd, entries, header.count * sizeof(*entries), sizeof(header)) &&
		    checksum(cache, entries, header.count) == header.checksum) {
			cache->previous = entries;
			cache->previous_count = header.count;
			cache->previous_used = header.used;
		} else {
			free(entries);
		}
	}
	close(fd);
}

/*
 * The temporary files of index writes a killed run left (PATH.index.XXXXXX,
 * mkstemp's): with the lock held, no other run is writing one.
 */
static void remove_stale_indexes(const struct imaddr_user_cache *cache)
{
	const char *slash = strrchr(cache->index_path, '/');
	const char *base = slash ? slash + 1 : cache->index_path;
	size_t dir_length = slash ? (size_t)(slash - cache->index_path) : 0;
	size_t base_length = strlen(base);
	char *dir = dir_length ? imaddr_xstrndup(cache->index_path, dir_length)
			       : imaddr_xstrdup(slash ? "/" : ".");
	DIR *listing = opendir(dir);
	struct dirent *entry;
	while (listing && (entry = readdir(listing))) {
		const char *name = entry->d_name;
		if (strncmp(name, base, base_length) || name[base_length] != '.' ||
		    strlen(name + base_length + 1) != 6)
			continue;
		struct imaddr_buf stale;
		imaddr_buf_init(&stale, 0);
		imaddr_buf_appendf(&stale, "%s/%s", dir, name);
		unlink(stale.data);
		imaddr_buf_release(&stale);
	}
	if (listing)
		closedir(listing);
	free(dir);
}

/* Empties PATH and gives it a new seed: no key of before can match. */
static enum imaddr_status start_afresh(struct imaddr_user_cache *cache, struct imaddr_error *err)
{
	struct data_header header;
	memset(&header, 0, sizeof(header));
	memcpy(header.magic, data_magic, sizeof(header.magic));
	header.format = CACHE_FORMAT;
	memcpy(header.fingerprint, cache->fingerprint, sizeof(header.fingerprint));
	if (getrandom(header.seed, sizeof(header.seed), 0) != (ssize_t)sizeof(header.seed)) {
		/* Without the kernel's randomness, the time and process still vary. */
		header.seed[0] = imaddr_hash(cache->path, strlen(cache->path)) ^ (uint64_t)time(NULL);
		for (int i = 1; i < 4; i++)
			header.seed[i] = header.seed[i - 1] * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
	}
	memcpy(cache->seed, header.seed, sizeof(cache->seed));
	free(cache->previous);
	cache->previous = NULL;
	cache->previous_count = 0;
	cache->previous_used = 0;
	/*
	 * Cut to the header, never to nothing: ext4 writes out at close a file
	 * that was truncated to zero (auto_da_alloc), which held a first run of
	 * a million users for 70 ms with the cache's 240 MB.
	 */
	unlink(cache->index_path);
	errno = 0;
	if (lseek(cache->fd, 0, SEEK_SET) != 0 || !write_all(cache->fd, &header, sizeof(header)) ||
	    ftruncate(cache->fd, (off_t)sizeof(header)) != 0)
		return failed("write", cache->path, err);
	cache->size = sizeof(header);
	return IMADDR_OK;
}

/*
 * Whether PATH has grown to twice what the last run's users took when they
 * were new: an entry of a user that changed or left is never used again.
 */
static bool mostly_unused(const struct imaddr_user_cache *cache)
{
	return cache->size > sizeof(struct data_header) + 2 * cache->previous_used + WINDOW;
}

/*
 * Whether the last run's users lie scattered through PATH: each night's new
 * and changed users are written at its end, and a run reads the users in
 * their input's order, so that after many nights of hires in a sorted
 * export every few users it jumps to another place (file_windows.h). Past
 * one jump in 32 users (the ~1,000 jumps of a 0.1% night pile up to that
 * in a few weeks at a million users) the run starts afresh: a night that
 * checks every user again costs once what the jumps would cost a night.
 */
static bool scattered(const struct imaddr_user_cache *cache)
{
	uint64_t jumps = 0;
	for (size_t i = 1; i < cache->previous_count; i++) {
		uint64_t from = cache->previous[i - 1].offset, to = cache->previous[i].offset;
		jumps += to < from || to - from > WINDOW / 4;
	}
	return jumps > 1024 && jumps > cache->previous_count / 32;
}

enum imaddr_status imaddr_user_cache_open(struct imaddr_user_cache *cache, const char *path,
					  const uint64_t fingerprint[4], bool *in_use,
					  struct imaddr_error *err)
{
	memset(cache, 0, sizeof(*cache));
	cache->fd = -1;
	*in_use = false;
	pthread_mutex_init(&cache->slots_lock, NULL);
	cache->path = imaddr_xstrdup(path);
	size_t length = strlen(path);
	cache->index_path = imaddr_xmalloc(length + sizeof(".index"));
	memcpy(cache->index_path, path, length);
	memcpy(cache->index_path + length, ".index", sizeof(".index"));
	memcpy(cache->fingerprint, fingerprint, sizeof(cache->fingerprint));

	errno = 0;
	cache->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	cache->created = cache->fd >= 0;
	if (cache->fd < 0 && errno == EEXIST)
		cache->fd = open(path, O_RDWR | O_CLOEXEC);
	if (cache->fd < 0) {
		enum imaddr_status status = failed("open", path, err);
		imaddr_user_cache_close(cache);
		return status;
	}
	if (flock(cache->fd, LOCK_EX | LOCK_NB) != 0) {
		enum imaddr_status status = IMADDR_OK;
		if (errno == EWOULDBLOCK)
			*in_use = true;
		else
			status = failed("lock", path, err);
		imaddr_user_cache_close(cache);
		return status;
	}
	remove_stale_indexes(cache);
	struct data_header header;
	memset(&header, 0, sizeof(header));
	struct stat st;
	enum imaddr_status status = IMADDR_OK;
	if (fstat(cache->fd, &st) != 0) {
		status = failed("read", path, err);
	} else if ((uint64_t)st.st_size >= sizeof(header) &&
		   imaddr_pread_all(cache->fd, &header, sizeof(header), 0) &&
		   !memcmp(header.magic, data_magic, sizeof(header.magic)) &&
		   header.format == CACHE_FORMAT &&
		   !memcmp(header.fingerprint, fingerprint, sizeof(header.fingerprint))) {
		memcpy(cache->seed, header.seed, sizeof(cache->seed));
		cache->size = (uint64_t)st.st_size;
		load_index(cache);
		if (!cache->previous)
			cache->afresh = "its index was missing or damaged";
		else if (mostly_unused(cache))
			cache->afresh = "it had grown to twice what the last run used";
		else if (scattered(cache))
			cache->afresh = "the nights since it began had scattered its users through it";
		if (cache->afresh)
			status = start_afresh(cache, err);
	} else {
		bool ours = (uint64_t)st.st_size >= sizeof(header) &&
			    !memcmp(header.magic, data_magic, sizeof(header.magic));
		if (!cache->created)
			cache->afresh = ours ? "the options, imaddr or ICU changed" : "it was damaged";
		status = start_afresh(cache, err);
	}
	if (status == IMADDR_OK) {
		errno = 0;
		cache->file = fdopen(cache->fd, "r+");
		if (cache->file)
			cache->file_buffer = imaddr_stream_buffer(cache->file, 1 << 20);
		if (!cache->file || fseeko(cache->file, (off_t)cache->size, SEEK_SET) != 0)
			status = failed("open", path, err);
	}
	if (status != IMADDR_OK) {
		imaddr_user_cache_close(cache);
		return status;
	}
	return IMADDR_OK;
}

/* The build: the cache's format, the imaddr and ICU versions, the library's file. */
static void describe_build(struct imaddr_buf *out)
{
	UVersionInfo icu;
	u_getVersion(icu);
	imaddr_buf_appendf(out, "format %d; imaddr %s; ICU %u.%u.%u", CACHE_FORMAT, IMADDR_VERSION,
			   icu[0], icu[1], icu[2]);
	/* The library's file as built: a rebuilt library may check otherwise. */
	Dl_info info;
	struct stat st;
	if (dladdr((void *)describe_build, &info) && info.dli_fname &&
	    stat(info.dli_fname, &st) == 0)
		imaddr_buf_appendf(out, "; %s %ju %ju %jd %jd.%09ld", info.dli_fname,
				   (uintmax_t)st.st_dev, (uintmax_t)st.st_ino, (intmax_t)st.st_size,
				   (intmax_t)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

/*
 * What the checks depend on besides the record, for the user cache: the
 * build and the options the rules read (rules_user.c). The cluster is in
 * each record's key.
 */
static void fingerprint(const struct imaddr_audit_options *options, uint64_t out[4])
{
	struct imaddr_buf text;
	imaddr_buf_init(&text, 0);
	describe_build(&text);
	imaddr_buf_appendf(&text, "\nscheme %d\ndefault domain %s\nIM domains %s\n",
			   (int)options->scheme,
			   options->default_domain ? options->default_domain : "(none)",
			   options->im_domains ? options->im_domains : "(none)");
	if (options->premigration)
		imaddr_buf_appendf(&text, "today %d %s\n", (int)options->current_scheme,
				   options->current_default_domain
					   ? options->current_default_domain : "(default)");
	for (int role = 0; role < IMADDR_ROLE_COUNT; role++) {
		imaddr_buf_appendf(&text, "role %d:", role);
		for (const char *const *name = options->mapping.names[role]; *name; name++)
			imaddr_buf_appendf(&text, " %s", *name);
		imaddr_buf_append_char(&text, '\n');
	}
	imaddr_buf_appendf(&text, "DN:");
	for (const char *const *name = options->mapping.dn_names; *name; name++)
		imaddr_buf_appendf(&text, " %s", *name);
	for (int i = 0; i < 4; i++)
		out[i] = imaddr_hash_seeded(text.data, text.len, 0x6a09e667f3bcc908ULL * (i + 1));
	imaddr_buf_release(&text);
}

enum imaddr_status imaddr_user_cache_open_label(struct imaddr_user_cache *cache,
						const struct imaddr_audit_options *options,
						bool *in_use, struct imaddr_error *err)
{
	const char *dir = options->user_cache_dir;
	const char *label = options->label ? options->label : options->input_name;
	struct imaddr_buf path;
	uint64_t print[4];
	bool made_dir;

	*in_use = false;
	errno = 0;
	made_dir = mkdir(dir, 0700) == 0;
	if (!made_dir && errno != EEXIST)
		return imaddr_error_set(err, IMADDR_ERR_IO,
					"cannot make the user cache directory '%s': %s", dir,
					strerror(errno));
	imaddr_buf_init(&path, 0);
	/*
	 * Named by a hash: a label is any text, a file name is not. The cache's
	 * own hash with a seed of its own, so that a change of imaddr_hash does
	 * not leave a label's old file behind under another name.
	 */
	static const uint64_t name_seed[4] = {
		0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL,
		0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
	};
	uint64_t name[2];
	hash128(name_seed, label ? label : "", label ? strlen(label) : 0, name);
	imaddr_buf_appendf(&path, "%s/%016llx.users", dir, (unsigned long long)name[0]);
	fingerprint(options, print);
	enum imaddr_status status = imaddr_user_cache_open(cache, path.data, print, in_use, err);
	imaddr_buf_release(&path);
	if (status == IMADDR_OK && made_dir && imaddr_user_cache_is_open(cache))
		cache->made_dir = imaddr_xstrdup(dir);
	else if (made_dir && !imaddr_user_cache_is_open(cache))
		rmdir(dir);
	return status;
}

/*
 * A record's key: its encoding from after its line (the same user elsewhere
 * in the input is the same user), with the cluster it is read for (its
 * users carry it) in the seed.
 */
bool imaddr_user_cache_encoded_record_key(const struct imaddr_user_cache *cache,
					  const char *encoded, size_t size, const char *cluster,
					  uint8_t key[IMADDR_SPOOL_KEY_SIZE])
{
	const char *rest = imaddr_fields_record_after_line(encoded, encoded + size);
	if (!rest)
		return false;
	uint64_t seed[4], halves[2];
	memcpy(seed, cache->seed, sizeof(seed));
	if (cluster) {
		uint64_t folded = imaddr_hash(cluster, strlen(cluster));
		seed[0] ^= folded;
		seed[2] ^= folded * 0x9e3779b97f4a7c15ULL;
	}
	hash128(seed, rest, (size_t)(encoded + size - rest), halves);
	memcpy(key, halves, IMADDR_SPOOL_KEY_SIZE);
	return true;
}

void imaddr_user_cache_record_key(const struct imaddr_user_cache *cache,
				  struct imaddr_user_cache_finder *finder,
				  const struct imaddr_record *record, const char *cluster,
				  uint8_t key[IMADDR_SPOOL_KEY_SIZE])
{
	imaddr_buf_reset(&finder->record);
	imaddr_fields_encode_record(&finder->record, record);
	imaddr_user_cache_encoded_record_key(cache, finder->record.data, finder->record.len,
					     cluster, key);
}

void imaddr_user_cache_discard(struct imaddr_user_cache *cache)
{
	char *dir = cache->made_dir;
	cache->made_dir = NULL;
	if (cache->created && cache->path)
		unlink(cache->path);
	imaddr_user_cache_close(cache);
	if (dir)
		rmdir(dir);
	free(dir);
}

void imaddr_user_cache_close(struct imaddr_user_cache *cache)
{
	if (cache->file)
		fclose(cache->file);
	else if (cache->fd >= 0)
		close(cache->fd);
	free(cache->file_buffer);
	if (cache->path)
		pthread_mutex_destroy(&cache->slots_lock);
	/* A run that failed after its index was written: the last good one stays. */
	if (cache->staged_index)
		unlink(cache->staged_index);
	free(cache->staged_index);
	free(cache->path);
	free(cache->index_path);
	free(cache->made_dir);
	free(cache->previous);
	free(cache->slots);
	free(cache->current);
	memset(cache, 0, sizeof(*cache));
	cache->fd = -1;
}

/*
 * Two lanes of 64 bits, 16 bytes a step, each step a 128-bit product: the
 * key of every record of the input is computed on the reader's thread,
 * where imaddr_hash's per-word mixing cost as much as a third of parsing.
 * Every constant comes from the cache's secret seed, so that no value makes
 * a lane's product zero for every seed.
 */
static void hash128(const uint64_t *seed, const void *bytes, size_t length, uint64_t out[2])
{
	const unsigned char *p = bytes;
	uint64_t a = seed[0] ^ length, b = seed[1] ^ (length << 32);
	while (length >= 16) {
		uint64_t first, second;
		memcpy(&first, p, 8);
		memcpy(&second, p + 8, 8);
		a = imaddr_fold_product(first ^ seed[2] ^ a, second ^ seed[3]);
		b = imaddr_fold_product(second ^ seed[2] ^ b, first ^ seed[1] ^ a);
		p += 16;
		length -= 16;
	}
	uint64_t first = 0, second = 0;
	memcpy(&first, p, length < 8 ? length : 8);
	if (length > 8)
		memcpy(&second, p + 8, length - 8);
	a = imaddr_fold_product(first ^ seed[2] ^ a, second ^ seed[3] ^ seed[0]);
	b = imaddr_fold_product(second ^ seed[2] ^ b, first ^ seed[1] ^ a);
	out[0] = imaddr_fold_product(a ^ seed[3], b ^ seed[0]);
	out[1] = imaddr_fold_product(b ^ seed[1], a ^ seed[2]);
}

/*
 * What an entry holds before its user: a hash of its bytes seeded with its
 * key, so that one 64-bit value says both that the entry is the key's and
 * that its bytes are as written.
 */
static uint64_t check_of(const struct imaddr_user_cache *cache,
			 const uint8_t key[IMADDR_SPOOL_KEY_SIZE], const void *bytes, size_t length)
{
	uint64_t seed[4], halves[2];
	memcpy(seed, cache->seed, sizeof(seed));
	memcpy(halves, key, sizeof(halves));
	seed[0] ^= halves[0];
	seed[1] ^= halves[1];
	hash128(seed, bytes, length, halves);
	return halves[0];
}

void imaddr_user_cache_tag(const struct imaddr_user_cache *cache,
			   const uint8_t key[IMADDR_SPOOL_KEY_SIZE], const void *encoded,
			   size_t size, uint8_t tag[IMADDR_SPOOL_TAG_SIZE])
{
	uint64_t check = check_of(cache, key, encoded, size);
	memcpy(tag, &check, sizeof(check));
}

static uint64_t key_hash(const uint8_t key[IMADDR_SPOOL_KEY_SIZE])
{
	uint64_t first;
	memcpy(&first, key, sizeof(first));
	return first;
}

/* A table of the last run's keys, for users that moved, built when first needed. */
static void build_slots(struct imaddr_user_cache *cache)
{
	size_t count = 2;
	while (count < 2 * cache->previous_count)
		count *= 2;
	cache->slots = imaddr_xcalloc(count, sizeof(*cache->slots));
	cache->slot_mask = count - 1;
	for (size_t i = 0; i < cache->previous_count; i++) {
		size_t slot = key_hash(cache->previous[i].key) & cache->slot_mask;
		while (cache->slots[slot])
			slot = (slot + 1) & cache->slot_mask;
		cache->slots[slot] = (uint32_t)(i + 1);
	}
}

void imaddr_user_cache_finder_init(struct imaddr_user_cache_finder *finder)
{
	finder->cursor = 0;
	imaddr_file_windows_init(&finder->windows);
	imaddr_buf_init(&finder->record, 0);
}

void imaddr_user_cache_finder_release(struct imaddr_user_cache_finder *finder)
{
	imaddr_file_windows_release(&finder->windows);
	imaddr_buf_release(&finder->record);
	finder->cursor = 0;
}

/* The last run's user with `key`: the one after the finder's last, or any. */
static const struct imaddr_user_cache_entry *
previous_with(struct imaddr_user_cache *cache, struct imaddr_user_cache_finder *finder,
	      const uint8_t key[IMADDR_SPOOL_KEY_SIZE])
{
	if (finder->cursor < cache->previous_count &&
	    !memcmp(cache->previous[finder->cursor].key, key, IMADDR_SPOOL_KEY_SIZE))
		return &cache->previous[finder->cursor++];
	if (!cache->previous_count || cache->previous_count >= UINT32_MAX)
		return NULL;
	pthread_mutex_lock(&cache->slots_lock);
	if (!cache->slots)
		build_slots(cache);
	pthread_mutex_unlock(&cache->slots_lock);
	for (size_t slot = key_hash(key) & cache->slot_mask; cache->slots[slot];
	     slot = (slot + 1) & cache->slot_mask) {
		size_t i = cache->slots[slot] - 1;
		if (!memcmp(cache->previous[i].key, key, IMADDR_SPOOL_KEY_SIZE)) {
			finder->cursor = i + 1;
			return &cache->previous[i];
		}
	}
	return NULL;
}

const char *imaddr_user_cache_find(struct imaddr_user_cache *cache,
				   struct imaddr_user_cache_finder *finder,
				   const uint8_t key[IMADDR_SPOOL_KEY_SIZE], uint64_t *offset,
				   uint32_t *entry_size, size_t *encoding_size)
{
	const struct imaddr_user_cache_entry *entry = previous_with(cache, finder, key);
	const size_t head = sizeof(uint32_t) + IMADDR_SPOOL_TAG_SIZE;
	uint32_t length;
	if (!entry || entry->offset < sizeof(struct data_header))
		return NULL;
	const char *raw = imaddr_file_windows_read(&finder->windows, cache->fd, cache->size,
						   entry->offset, head, WINDOW);
	if (!raw)
		return NULL;
	memcpy(&length, raw, sizeof(length));
	raw = imaddr_file_windows_read(&finder->windows, cache->fd, cache->size, entry->offset,
				       head + length, WINDOW);
	if (!raw)
		return NULL;
	/* Only the entry written for this key, as written: a damaged file costs a check. */
	uint64_t check;
	memcpy(&check, raw + sizeof(length), sizeof(check));
	if (check != check_of(cache, key, raw + head, length))
		return NULL;
	*offset = entry->offset;
	*entry_size = (uint32_t)(head + length);
	*encoding_size = length;
	return raw + head;
}

void imaddr_user_cache_note(struct imaddr_user_cache *cache,
			    const uint8_t key[IMADDR_SPOOL_KEY_SIZE], uint64_t offset,
			    uint32_t entry_size)
{
	if (cache->current_count == cache->current_capacity) {
		cache->current_capacity = cache->current_capacity ? 2 * cache->current_capacity
								  : 4096;
		cache->current = imaddr_xrealloc(cache->current, cache->current_capacity *
								 sizeof(*cache->current));
	}
	struct imaddr_user_cache_entry *entry = &cache->current[cache->current_count++];
	memset(entry, 0, sizeof(*entry));
	memcpy(entry->key, key, IMADDR_SPOOL_KEY_SIZE);
	entry->offset = offset;
	cache->current_used += entry_size;
}

enum imaddr_status imaddr_user_cache_write_index(struct imaddr_user_cache *cache,
						 struct imaddr_error *err)
{
	errno = 0;
	if (fflush(cache->file) != 0)
		return failed("write", cache->path, err);
	cache->index_written = true;
	if (cache->current_count == cache->previous_count &&
	    !memcmp(cache->current, cache->previous,
		    cache->current_count * sizeof(*cache->current)))
		return IMADDR_OK;
	struct index_header header;
	memset(&header, 0, sizeof(header));
	memcpy(header.magic, index_magic, sizeof(header.magic));
	header.format = CACHE_FORMAT;
	memcpy(header.fingerprint, cache->fingerprint, sizeof(header.fingerprint));
	memcpy(header.seed, cache->seed, sizeof(header.seed));
	header.count = cache->current_count;
	header.used = cache->current_used;
	header.checksum = checksum(cache, cache->current, cache->current_count);

	size_t length = strlen(cache->index_path);
	char *temp = imaddr_xmalloc(length + sizeof(".XXXXXX"));
	memcpy(temp, cache->index_path, length);
	memcpy(temp + length, ".XXXXXX", sizeof(".XXXXXX"));
	int fd = mkstemp(temp);
	bool written = fd >= 0 && write_all(fd, &header, sizeof(header)) &&
		       write_all(fd, cache->current, cache->current_count * sizeof(*cache->current));
	int saved = errno;
	if (fd >= 0 && close(fd) != 0 && written) {
		written = false;
		saved = errno;
	}
	if (!written) {
		if (fd >= 0)
			unlink(temp);
		free(temp);
		errno = saved;
		return failed("write", cache->index_path, err);
	}
	cache->staged_index = temp;
	return IMADDR_OK;
}

enum imaddr_status imaddr_user_cache_commit(struct imaddr_user_cache *cache,
					    struct imaddr_error *err)
{
	if (!cache->index_written) {
		enum imaddr_status status = imaddr_user_cache_write_index(cache, err);
		if (status != IMADDR_OK)
			return status;
	}
	if (!cache->staged_index)
		return IMADDR_OK;
	errno = 0;
	if (rename(cache->staged_index, cache->index_path) != 0)
		return failed("write", cache->index_path, err);
	free(cache->staged_index);
	cache->staged_index = NULL;
	return IMADDR_OK;
}
