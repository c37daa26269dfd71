/* The spool of a run's users (src/spool.h). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "spool.h"

/* The strings checked here: 7 user fields and 4 keys (names: see expect_user). */
enum { USER_FIELDS = 7, FIELD_COUNT = USER_FIELDS + IMADDR_KEY_COUNT, IM_ADDRESS = 6 };
static const char *const field_names[FIELD_COUNT] = {
	"dn", "user_id", "mail", "directory_uri", "directory_uri_as_read", "current_uri",
	"im_address", "key user ID", "key directory URI", "key mail", "key IM",
};

struct expected_user {
	uint64_t line;
	bool uri_valid;
	char *fields[FIELD_COUNT];
};

static uint64_t next_random(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

static char *copy_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/*
 * NULL, "", a copy of an earlier field (the store may keep those as
 * references), or text of varying length with UTF-8, separators and '@'.
 */
static char *make_value(uint64_t *state, uint64_t ordinal, int field,
			const struct expected_user *e, size_t long_extra)
{
	uint64_t r = next_random(state);
	switch (r % 6) {
	case 0:
		return NULL;
	case 1:
		return strdup("");
	case 2:
		if (field > 0)
			return copy_or_null(e->fields[(r >> 8) % (uint64_t)field]);
		break;
	default:
		break;
	}
	size_t extra = (size_t)(r >> 8) % (r % 7 == 0 ? long_extra : 40);
	size_t len = 64 + extra;
	char *value = malloc(len + 1);
	int n = snprintf(value, len + 1, "%s#%llu:m\xc3\xbcller,\"x\"\n@", field_names[field],
			 (unsigned long long)ordinal);
	for (size_t i = (size_t)n; i < len; i++)
		value[i] = (char)('A' + (i + ordinal + (uint64_t)field) % 58);
	value[len] = '\0';
	if (field == IM_ADDRESS && (r >> 20) % 2)
		memcpy(value + len - 12, "@example.com", 12);
	return value;
}

static void make_user(struct expected_user *e, uint64_t *state, uint64_t ordinal,
		      size_t long_extra)
{
	/* Lines past 32 bits must survive too. */
	e->line = ordinal % 3 ? ordinal * 2 + 1 : ordinal + 0x100000000ULL;
	e->uri_valid = next_random(state) % 2;
	for (int field = 0; field < FIELD_COUNT; field++)
		e->fields[field] = make_value(state, ordinal, field, e, long_extra);
}

static const char *domain_of(const char *im_address)
{
	const char *at = im_address ? strrchr(im_address, '@') : NULL;
	return at ? at + 1 : NULL;
}

static void fill_user(const struct expected_user *e, uint64_t ordinal, struct imaddr_user *user,
		      const char *keys[IMADDR_KEY_COUNT])
{
	memset(user, 0, sizeof(*user));
	user->ordinal = ordinal;
	user->line = e->line;
	user->uri_valid = e->uri_valid;
	user->dn = e->fields[0];
	user->user_id = e->fields[1];
	user->mail = e->fields[2];
	user->first_name = "First";
	user->last_name = "Last";
	user->directory_uri = e->fields[3];
	user->directory_uri_as_read = e->fields[4];
	user->current_uri = e->fields[5];
	user->im_address = e->fields[IM_ADDRESS];
	user->im_domain = domain_of(e->fields[IM_ADDRESS]);
	for (int k = 0; k < IMADDR_KEY_COUNT; k++)
		keys[k] = e->fields[USER_FIELDS + k];
}

static enum imaddr_status spool_append(struct imaddr_spool *spool, const struct imaddr_user *user,
				       const char *const keys[IMADDR_KEY_COUNT],
				       struct imaddr_error *err)
{
	struct imaddr_spooled_user spooled = { .user = *user };
	memcpy(spooled.keys, keys, sizeof(spooled.keys));
	return imaddr_spool_append(spool, &spooled, err);
}

static void expect_string(const char *actual, const char *expected, uint64_t ordinal,
			  const char *field)
{
	if (!expected) {
		cr_assert_null(actual, "user %llu: %s should be NULL, is '%s'",
			       (unsigned long long)ordinal, field, actual);
		return;
	}
	cr_assert_not_null(actual, "user %llu: %s should be '%s', is NULL",
			   (unsigned long long)ordinal, field, expected);
	cr_assert_str_eq(actual, expected, "user %llu: %s", (unsigned long long)ordinal, field);
}

static void expect_user(const struct imaddr_spooled_user *got, const struct expected_user *e,
			uint64_t ordinal)
{
	const char *actual[FIELD_COUNT] = {
		got->user.dn, got->user.user_id, got->user.mail, got->user.directory_uri,
		got->user.directory_uri_as_read, got->user.current_uri, got->user.im_address,
		got->keys[IMADDR_KEY_USER_ID], got->keys[IMADDR_KEY_DIRECTORY_URI],
		got->keys[IMADDR_KEY_MAIL], got->keys[IMADDR_KEY_IM_ADDRESS],
	};
	cr_assert_eq(got->user.ordinal, ordinal);
	cr_assert_eq(got->user.line, e->line, "user %llu: line", (unsigned long long)ordinal);
	cr_assert_eq(got->user.uri_valid, e->uri_valid, "user %llu: uri_valid",
		     (unsigned long long)ordinal);
	cr_assert_not(got->user.has_error);
	for (int field = 0; field < FIELD_COUNT; field++)
		expect_string(actual[field], e->fields[field], ordinal, field_names[field]);
	expect_string(got->user.im_domain, domain_of(e->fields[IM_ADDRESS]), ordinal,
		      "im_domain");
	cr_assert_str_eq(got->user.first_name, "First");
	cr_assert_str_eq(got->user.last_name, "Last");
}

static void free_expected(struct expected_user *users, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		for (int field = 0; field < FIELD_COUNT; field++)
			free(users[i].fields[field]);
	}
	free(users);
}

static struct expected_user *append_users(struct imaddr_spool *store, size_t count,
					  uint64_t seed, size_t long_extra)
{
	struct imaddr_error err = { "" };
	struct expected_user *users = calloc(count, sizeof(*users));
	uint64_t state = seed;
	for (uint64_t ordinal = 1; ordinal <= count; ordinal++) {
		struct expected_user *e = &users[ordinal - 1];
		make_user(e, &state, ordinal, long_extra);
		struct imaddr_user user;
		const char *keys[IMADDR_KEY_COUNT];
		fill_user(e, ordinal, &user, keys);
		cr_assert_eq(spool_append(store, &user, keys, &err), IMADDR_OK, "%s",
			     err.message);
		cr_assert_eq(store->count, ordinal);
	}
	return users;
}

Test(spool, thousand_users_read_back_in_any_order)
{
	enum { N = 1000 };
	struct imaddr_spool store;
	struct imaddr_error err = { "" };
	uint64_t state = 0x2545f4914f6cdd1dULL;

	cr_assert_eq(imaddr_spool_init(&store, &err), IMADDR_OK, "%s", err.message);
	struct expected_user *users = append_users(&store, N, 0x9e3779b97f4a7c15ULL, 3000);
	struct imaddr_spooled_user got;
	for (int i = 0; i < 3000; i++) {
		uint64_t ordinal = 1 + next_random(&state) % N;
		cr_assert_eq(imaddr_spool_get(&store, ordinal, &got, &err), IMADDR_OK, "%s",
			     err.message);
		expect_user(&got, &users[ordinal - 1], ordinal);
	}
	/* Every user once, last to first. */
	for (uint64_t ordinal = N; ordinal >= 1; ordinal--) {
		cr_assert_eq(imaddr_spool_get(&store, ordinal, &got, &err), IMADDR_OK, "%s",
			     err.message);
		expect_user(&got, &users[ordinal - 1], ordinal);
	}
	imaddr_spool_release(&store);
	free_expected(users, N);
}

/* Users read ahead come from memory: the file can be gone under them. */
Test(spool, preloaded_users_read_back_without_the_file)
{
	enum { N = 2000 };
	struct imaddr_spool store;
	struct imaddr_error err = { "" };
	uint64_t wanted[N];
	size_t count = 0;

	cr_assert_eq(imaddr_spool_init(&store, &err), IMADDR_OK, "%s", err.message);
	/* Records of up to 3 KB: some larger than nothing, none over a window. */
	struct expected_user *users = append_users(&store, N, 0x51ed2701a7c0ffeeULL, 3000);
	for (uint64_t ordinal = 1; ordinal <= N; ordinal += 1 + ordinal % 13)
		wanted[count++] = ordinal;
	cr_assert_eq(imaddr_spool_preload(&store, wanted, count, SIZE_MAX, &err), IMADDR_OK,
		     "%s", err.message);
	cr_assert_eq(store.preloaded_count, count);
	cr_assert_eq(ftruncate(fileno(store.file), 0), 0);
	struct imaddr_spooled_user got;
	for (size_t i = count; i-- > 0;) {
		cr_assert_eq(imaddr_spool_get(&store, wanted[i], &got, &err), IMADDR_OK, "%s",
			     err.message);
		expect_user(&got, &users[wanted[i] - 1], wanted[i]);
	}
	/* One not read ahead is looked for in the file, which is empty now. */
	cr_assert_neq(imaddr_spool_get(&store, 2, &got, &err), IMADDR_OK);
	imaddr_spool_release(&store);
	free_expected(users, N);
}

/* Past the limit, users are read from the file as before, and all read back right. */
Test(spool, preload_stops_at_its_limit)
{
	enum { N = 500 };
	struct imaddr_spool store;
	struct imaddr_error err = { "" };
	uint64_t wanted[N];

	cr_assert_eq(imaddr_spool_init(&store, &err), IMADDR_OK, "%s", err.message);
	struct expected_user *users = append_users(&store, N, 0x0ddba11cafef00dULL, 300);
	for (size_t i = 0; i < N; i++)
		wanted[i] = i + 1;
	cr_assert_eq(imaddr_spool_preload(&store, wanted, N, 4096, &err), IMADDR_OK, "%s",
		     err.message);
	cr_assert_gt(store.preloaded_count, 0);
	cr_assert_lt(store.preloaded_count, N);
	cr_assert_leq(store.arena.len, 4096);
	struct imaddr_spooled_user got;
	for (uint64_t ordinal = N; ordinal >= 1; ordinal--) {
		cr_assert_eq(imaddr_spool_get(&store, ordinal, &got, &err), IMADDR_OK, "%s",
			     err.message);
		expect_user(&got, &users[ordinal - 1], ordinal);
	}
	imaddr_spool_unload(&store);
	cr_assert_eq(store.preloaded_count, 0);
	imaddr_spool_release(&store);
	free_expected(users, N);
}

struct each_check {
	const struct expected_user *users;
	uint64_t seen;
	uint64_t stop_at;
};

static enum imaddr_status check_each(void *context, struct imaddr_spooled_user *user,
				     struct imaddr_error *err)
{
	struct each_check *check = context;
	check->seen++;
	cr_assert_eq(user->user.ordinal, check->seen, "users out of order");
	expect_user(user, &check->users[check->seen - 1], check->seen);
	if (check->seen == check->stop_at)
		return imaddr_error_set(err, IMADDR_ERR_IO, "stop at %llu",
					(unsigned long long)check->seen);
	return IMADDR_OK;
}

Test(spool, each_visits_every_user_in_order)
{
	/* About 4 MiB of records: several of each's 1 MiB blocks. */
	enum { N = 3000 };
	struct imaddr_spool store;
	struct imaddr_error err = { "" };
	cr_assert_eq(imaddr_spool_init(&store, &err), IMADDR_OK, "%s", err.message);
	struct expected_user *users = append_users(&store, N, 0x243f6a8885a308d3ULL, 6000);
	cr_assert_gt(store.size, 3u << 20, "the records should span several blocks");
	struct each_check check = { users, 0, 0 };
	cr_assert_eq(imaddr_spool_each(&store, check_each, &check, &err), IMADDR_OK, "%s",
		     err.message);
	cr_assert_eq(check.seen, N);
	/* A second pass, after a random get, sees the same. */
	struct imaddr_spooled_user got;
	cr_assert_eq(imaddr_spool_get(&store, 17, &got, &err), IMADDR_OK);
	check.seen = 0;
	cr_assert_eq(imaddr_spool_each(&store, check_each, &check, &err), IMADDR_OK, "%s",
		     err.message);
	cr_assert_eq(check.seen, N);
	imaddr_spool_release(&store);
	free_expected(users, N);
}

Test(spool, each_reads_a_record_larger_than_its_block)
{
	enum { BIG = 3 << 20 };
	struct imaddr_spool store;
	struct imaddr_error err = { "" };
	char *big = malloc(BIG + 1);
	memset(big, 'q', BIG);
	big[BIG] = '\0';
	struct expected_user users[3] = {
		{ .line = 2, .fields = { [1] = "before", [2] = "m@example.com" } },
		{ .line = 3, .uri_valid = true, .fields = { [1] = "big", [3] = big } },
		{ .line = 4, .fields = { [1] = "after", [IM_ADDRESS] = "after@example.com" } },
	};
	cr_assert_eq(imaddr_spool_init(&store, &err), IMADDR_OK, "%s", err.message);
	for (uint64_t ordinal = 1; ordinal <= 3; ordinal++) {
		struct imaddr_user user;
		const char *keys[IMADDR_KEY_COUNT];
		fill_user(&users[ordinal - 1], ordinal, &user, keys);
		cr_assert_eq(spool_append(&store, &user, keys, &err), IMADDR_OK);
	}
	struct each_check check = { users, 0, 0 };
	cr_assert_eq(imaddr_spool_each(&store, check_each, &check, &err), IMADDR_OK, "%s",
		     err.message);
	cr_assert_eq(check.seen, 3);
	imaddr_spool_release(&store);
	free(big);
}

Test(spool, each_stops_at_the_first_failure)
{
	struct imaddr_spool store;
	struct imaddr_error err = { "" };
	cr_assert_eq(imaddr_spool_init(&store, &err), IMADDR_OK, "%s", err.message);
	struct expected_user *users = append_users(&store, 10, 42, 40);
	struct each_check check = { users, 0, 4 };
	cr_assert_eq(imaddr_spool_each(&store, check_each, &check, &err), IMADDR_ERR_IO);
	cr_assert_str_eq(err.message, "stop at 4");
	cr_assert_eq(check.seen, 4);
	imaddr_spool_release(&store);
	free_expected(users, 10);
}

Test(spool, each_of_an_empty_store_calls_nothing)
{
	struct imaddr_spool store;
	struct imaddr_error err = { "" };
	cr_assert_eq(imaddr_spool_init(&store, &err), IMADDR_OK, "%s", err.message);
	struct each_check check = { NULL, 0, 0 };
	cr_assert_eq(imaddr_spool_each(&store, check_each, &check, &err), IMADDR_OK);
	cr_assert_eq(check.seen, 0);
	imaddr_spool_release(&store);
}

Test(spool, equal_fields_read_back_as_values)
{
	/* Every field the same text: stored as references, read as strings. */
	struct imaddr_spool store;
	struct imaddr_error err = { "" };
	const char *same = "js@example.com";
	struct imaddr_user user = {
		.ordinal = 1, .line = 2, .dn = same, .user_id = same, .mail = same,
		.directory_uri = same, .directory_uri_as_read = same, .current_uri = same,
		.im_address = same, .im_domain = "example.com", .uri_valid = true,
	};
	const char *keys[IMADDR_KEY_COUNT] = { same, same, same, same };
	struct imaddr_user other = { .ordinal = 2, .line = 3, .user_id = "mr",
				     .directory_uri = "MR@example.com",
				     .directory_uri_as_read = "sip:MR@Example.com",
				     .current_uri = "mr@example.com",
				     .im_address = "MR@example.com", .im_domain = "example.com" };
	const char *other_keys[IMADDR_KEY_COUNT] = { "mr", "mr@example.com", NULL,
						     "mr@example.com" };
	cr_assert_eq(imaddr_spool_init(&store, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(spool_append(&store, &user, keys, &err), IMADDR_OK);
	cr_assert_eq(spool_append(&store, &other, other_keys, &err), IMADDR_OK);

	struct imaddr_spooled_user got;
	cr_assert_eq(imaddr_spool_get(&store, 1, &got, &err), IMADDR_OK, "%s", err.message);
	cr_assert_str_eq(got.user.dn, same);
	cr_assert_str_eq(got.user.user_id, same);
	cr_assert_str_eq(got.user.mail, same);
	cr_assert_str_eq(got.user.directory_uri, same);
	cr_assert_str_eq(got.user.directory_uri_as_read, same);
	cr_assert_str_eq(got.user.current_uri, same);
	cr_assert_str_eq(got.user.im_address, same);
	cr_assert_str_eq(got.user.im_domain, "example.com");
	for (int k = 0; k < IMADDR_KEY_COUNT; k++)
		cr_assert_str_eq(got.keys[k], same, "key %d", k);
	cr_assert_eq(imaddr_spool_get(&store, 2, &got, &err), IMADDR_OK, "%s", err.message);
	cr_assert_null(got.user.dn);
	cr_assert_str_eq(got.user.user_id, "mr");
	cr_assert_null(got.user.mail);
	cr_assert_str_eq(got.user.directory_uri, "MR@example.com");
	cr_assert_str_eq(got.user.directory_uri_as_read, "sip:MR@Example.com");
	cr_assert_str_eq(got.user.current_uri, "mr@example.com");
	cr_assert_str_eq(got.user.im_address, "MR@example.com");
	cr_assert_str_eq(got.keys[IMADDR_KEY_USER_ID], "mr");
	cr_assert_str_eq(got.keys[IMADDR_KEY_DIRECTORY_URI], "mr@example.com");
	cr_assert_null(got.keys[IMADDR_KEY_MAIL]);
	cr_assert_str_eq(got.keys[IMADDR_KEY_IM_ADDRESS], "mr@example.com");
	imaddr_spool_release(&store);
}

Test(spool, null_and_empty_strings_are_kept_apart)
{
	struct imaddr_spool store;
	struct imaddr_error err = { "" };
	struct imaddr_user user = { .ordinal = 1, .line = 7, .user_id = "", .mail = NULL,
				    .directory_uri = "js@example.com", .uri_valid = true };
	const char *keys[IMADDR_KEY_COUNT] = { "", NULL, "js@example.com", NULL };
	cr_assert_eq(imaddr_spool_init(&store, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(spool_append(&store, &user, keys, &err), IMADDR_OK);

	struct imaddr_spooled_user got;
	cr_assert_eq(imaddr_spool_get(&store, 1, &got, &err), IMADDR_OK, "%s", err.message);
	cr_assert_not_null(got.user.user_id);
	cr_assert_str_eq(got.user.user_id, "");
	cr_assert_null(got.user.mail);
	cr_assert_null(got.user.dn);
	cr_assert_str_eq(got.user.directory_uri, "js@example.com");
	cr_assert(got.user.uri_valid);
	cr_assert_eq(got.user.line, 7);
	cr_assert_str_eq(got.keys[IMADDR_KEY_USER_ID], "");
	cr_assert_null(got.keys[IMADDR_KEY_DIRECTORY_URI]);
	cr_assert_str_eq(got.keys[IMADDR_KEY_MAIL], "js@example.com");
	cr_assert_null(got.keys[IMADDR_KEY_IM_ADDRESS]);
	imaddr_spool_release(&store);
}

Test(spool, uri_valid_flag_round_trips)
{
	struct imaddr_spool store;
	struct imaddr_error err = { "" };
	const char *keys[IMADDR_KEY_COUNT] = { NULL };
	cr_assert_eq(imaddr_spool_init(&store, &err), IMADDR_OK, "%s", err.message);
	for (uint64_t ordinal = 1; ordinal <= 4; ordinal++) {
		struct imaddr_user user = { .ordinal = ordinal, .line = ordinal + 1,
					    .uri_valid = ordinal == 2 || ordinal == 3,
					    .has_error = true };
		cr_assert_eq(spool_append(&store, &user, keys, &err), IMADDR_OK);
	}
	struct imaddr_spooled_user got;
	static const bool expected[] = { false, true, true, false };
	for (uint64_t ordinal = 1; ordinal <= 4; ordinal++) {
		cr_assert_eq(imaddr_spool_get(&store, ordinal, &got, &err), IMADDR_OK);
		cr_assert_eq(got.user.uri_valid, expected[ordinal - 1], "user %llu",
			     (unsigned long long)ordinal);
		cr_assert_eq(got.user.line, ordinal + 1);
		cr_assert(got.user.has_error);
	}
	imaddr_spool_release(&store);
}

Test(spool, reads_between_appends_see_every_user)
{
	/* A read flushes the spool; appending afterwards must not lose data. */
	struct imaddr_spool store;
	struct imaddr_error err = { "" };
	char user_id[32];
	const char *keys[IMADDR_KEY_COUNT] = { NULL };
	cr_assert_eq(imaddr_spool_init(&store, &err), IMADDR_OK, "%s", err.message);
	for (uint64_t ordinal = 1; ordinal <= 50; ordinal++) {
		snprintf(user_id, sizeof(user_id), "user%llu", (unsigned long long)ordinal);
		struct imaddr_user user = { .ordinal = ordinal, .line = ordinal * 10,
					    .user_id = user_id };
		cr_assert_eq(spool_append(&store, &user, keys, &err), IMADDR_OK);
		struct imaddr_spooled_user got;
		uint64_t back = 1 + (ordinal * 37 + 11) % ordinal;
		cr_assert_eq(imaddr_spool_get(&store, back, &got, &err), IMADDR_OK, "%s",
			     err.message);
		snprintf(user_id, sizeof(user_id), "user%llu", (unsigned long long)back);
		cr_assert_str_eq(got.user.user_id, user_id);
		cr_assert_eq(got.user.line, back * 10);
		cr_assert_eq(imaddr_spool_get(&store, ordinal, &got, &err), IMADDR_OK);
		snprintf(user_id, sizeof(user_id), "user%llu", (unsigned long long)ordinal);
		cr_assert_str_eq(got.user.user_id, user_id);
	}
	imaddr_spool_release(&store);
}

Test(spool, long_values_round_trip)
{
	enum { LEN = 200000 };
	struct imaddr_spool store;
	struct imaddr_error err = { "" };
	char *big = malloc(LEN + 1);
	for (size_t i = 0; i < LEN; i++)
		big[i] = (char)('a' + i % 26);
	big[LEN] = '\0';
	const char *keys[IMADDR_KEY_COUNT] = { big, "k", NULL, big };
	struct imaddr_user first = { .ordinal = 1, .line = 2, .directory_uri = big, .mail = "m" };
	struct imaddr_user second = { .ordinal = 2, .line = 3, .user_id = "short" };
	cr_assert_eq(imaddr_spool_init(&store, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(spool_append(&store, &first, keys, &err), IMADDR_OK);
	cr_assert_eq(spool_append(&store, &second, keys, &err), IMADDR_OK);

	struct imaddr_spooled_user got;
	cr_assert_eq(imaddr_spool_get(&store, 2, &got, &err), IMADDR_OK);
	cr_assert_str_eq(got.user.user_id, "short");
	cr_assert_eq(imaddr_spool_get(&store, 1, &got, &err), IMADDR_OK);
	cr_assert_eq(strlen(got.user.directory_uri), LEN);
	cr_assert_str_eq(got.user.directory_uri, big);
	cr_assert_str_eq(got.user.mail, "m");
	cr_assert_str_eq(got.keys[IMADDR_KEY_USER_ID], big);
	cr_assert_str_eq(got.keys[IMADDR_KEY_DIRECTORY_URI], "k");
	cr_assert_str_eq(got.keys[IMADDR_KEY_IM_ADDRESS], big);
	imaddr_spool_release(&store);
	free(big);
}

Test(spool, get_of_ordinal_zero_or_past_the_count_fails)
{
	struct imaddr_spool store;
	struct imaddr_error err = { "" };
	const char *keys[IMADDR_KEY_COUNT] = { NULL };
	struct imaddr_spooled_user got;
	cr_assert_eq(imaddr_spool_init(&store, &err), IMADDR_OK, "%s", err.message);

	cr_assert_neq(imaddr_spool_get(&store, 1, &got, &err), IMADDR_OK,
		      "an empty store returned user 1");
	for (uint64_t ordinal = 1; ordinal <= 3; ordinal++) {
		struct imaddr_user user = { .ordinal = ordinal, .line = ordinal, .user_id = "u" };
		cr_assert_eq(spool_append(&store, &user, keys, &err), IMADDR_OK);
	}
	err.message[0] = '\0';
	cr_assert_eq(imaddr_spool_get(&store, 0, &got, &err), IMADDR_ERR_IO);
	cr_assert_str_eq(err.message, "no user 0 in the spool");
	err.message[0] = '\0';
	cr_assert_eq(imaddr_spool_get(&store, 4, &got, &err), IMADDR_ERR_IO);
	cr_assert_str_eq(err.message, "no user 4 in the spool");
	cr_assert_eq(imaddr_spool_get(&store, UINT64_MAX, &got, &err), IMADDR_ERR_IO);
	/* A failed get leaves the store usable. */
	cr_assert_eq(imaddr_spool_get(&store, 3, &got, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(got.user.line, 3);
	/* A NULL error buffer is allowed. */
	cr_assert_eq(imaddr_spool_get(&store, 0, &got, NULL), IMADDR_ERR_IO);
	imaddr_spool_release(&store);
}

/* A full disk names where the spool is, so that TMPDIR can be moved. */
Test(spool, a_full_disk_is_an_io_error_naming_the_directory)
{
	struct imaddr_spool store;
	struct imaddr_error err = { "" };
	cr_assert_eq(imaddr_spool_init(&store, &err), IMADDR_OK, "%s", err.message);
	FILE *full = fopen("/dev/full", "w");
	cr_assert(full, "no /dev/full");
	fclose(store.file);
	store.file = full;       /* its 1 MiB stdio buffer is gone with the old stream */
	struct imaddr_user user = { .dn = "cn=a", .user_id = "a" };
	const char *keys[IMADDR_KEY_COUNT] = { "a" };
	enum imaddr_status status = IMADDR_OK;
	/* The stream's own buffer fills after a few hundred users; writing it fails. */
	for (int i = 0; i < 100000 && status == IMADDR_OK; i++) {
		user.ordinal = (uint64_t)i + 1;
		status = spool_append(&store, &user, keys, &err);
	}
	cr_assert_eq(status, IMADDR_ERR_IO);
	cr_expect(strstr(err.message, "(TMPDIR): No space left on device"), "%s", err.message);
	imaddr_spool_release(&store);
}
