#include "duplicates.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buffer.h"
#include "normalize.h"
#include "worker.h"

void imaddr_duplicates_init(struct imaddr_duplicates *duplicates)
{
	for (int kind = 0; kind < IMADDR_KEY_COUNT; kind++) {
		imaddr_dupindex_init(&duplicates->indexes[kind]);
		duplicates->field[kind] = NULL;
	}
}

void imaddr_duplicates_release(struct imaddr_duplicates *duplicates)
{
	for (int kind = 0; kind < IMADDR_KEY_COUNT; kind++) {
		imaddr_dupindex_release(&duplicates->indexes[kind]);
		free(duplicates->field[kind]);
		duplicates->field[kind] = NULL;
	}
}

void imaddr_duplicates_add(struct imaddr_duplicates *duplicates,
			   const struct imaddr_spooled_user *user,
			   const char *const key_field[IMADDR_KEY_COUNT])
{
	for (int kind = 0; kind < IMADDR_KEY_COUNT; kind++) {
		const char *key = user->keys[kind], *field = key_field[kind];
		if (!key)
			continue;
		imaddr_dupindex_add(&duplicates->indexes[kind], key, strlen(key),
				    user->user.ordinal);
		if (field && (!duplicates->field[kind] || strcmp(duplicates->field[kind], field))) {
			free(duplicates->field[kind]);
			duplicates->field[kind] = imaddr_xstrdup(field);
		}
	}
}

/* One report_duplicates call. */
struct run {
	struct imaddr_duplicates *duplicates;
	struct imaddr_spool *spool;
	imaddr_finding_fn *emit;
	imaddr_duplicates_index_fn *sorted;
	void *context;
	struct imaddr_buf scratch[2];   /* for the differences the messages name */
};

static const struct duplicate_kind {
	enum imaddr_code code;
	const char *what;
} duplicate_kinds[IMADDR_KEY_COUNT] = {
	[IMADDR_KEY_USER_ID] = { IMADDR_CODE_USERID_DUPLICATE, "user ID" },
	[IMADDR_KEY_DIRECTORY_URI] = { IMADDR_CODE_URI_DUPLICATE, "directory URI" },
	[IMADDR_KEY_MAIL] = { IMADDR_CODE_MAIL_DUPLICATE, "mail" },
	[IMADDR_KEY_IM_ADDRESS] = { IMADDR_CODE_IM_ADDRESS_DUPLICATE, "IM address" },
};

/* What a duplicate finding says of one user: kept for the whole group. */
struct member {
	uint64_t ordinal;
	uint64_t line;
	char *dn;
	char *user_id;
	char *value;
	char *key;
	char *cluster;
};

static const char *member_value(const struct imaddr_spooled_user *stored, enum imaddr_key_kind kind)
{
	switch (kind) {
	case IMADDR_KEY_USER_ID: return stored->user.user_id;
	case IMADDR_KEY_DIRECTORY_URI: return stored->user.directory_uri_as_read;
	case IMADDR_KEY_MAIL: return stored->user.mail;
	default: return stored->user.im_address;
	}
}

static void describe_member(struct imaddr_buf *out, const struct member *m, bool clusters)
{
	if (m->dn)
		imaddr_buf_appendf(out, "'%s'", m->dn);
	else
		imaddr_buf_appendf(out, "line %llu", (unsigned long long)m->line);
	if (clusters)
		imaddr_buf_appendf(out, " in cluster '%s'", m->cluster ? m->cluster : "");
}

static bool same_cluster(const struct member *a, const struct member *b)
{
	return (!a->cluster && !b->cluster) ||
	       (a->cluster && b->cluster && !strcmp(a->cluster, b->cluster));
}

/* A group that spans clusters names each member's: IM and Presence sees them all. */
static bool spans_clusters(const struct member *members, size_t count)
{
	for (size_t i = 1; i < count; i++) {
		if (!same_cluster(&members[0], &members[i]))
			return true;
	}
	return false;
}

/* Whether two texts are equal once both are NFC. */
static bool same_nfc(const char *a, const char *b, struct imaddr_buf scratch[2])
{
	imaddr_buf_reset(&scratch[0]);
	imaddr_buf_reset(&scratch[1]);
	imaddr_normalize_nfc(a, strlen(a), &scratch[0]);
	imaddr_normalize_nfc(b, strlen(b), &scratch[1]);
	return scratch[0].len == scratch[1].len &&
	       !memcmp(scratch[0].data, scratch[1].data, scratch[0].len);
}

/* Whether two addresses differ only in how their domain is written. */
static bool same_address_but_domain_form(const char *a, const char *b,
					 struct imaddr_buf scratch[2])
{
	const char *at_a = strrchr(a, '@'), *at_b = strrchr(b, '@');
	if (!at_a || !at_b || at_a - a != at_b - b || strncmp(a, b, (size_t)(at_a - a)))
		return false;
	struct imaddr_buf unicode;
	imaddr_buf_init(&unicode, 0);
	imaddr_buf_reset(&scratch[0]);
	imaddr_buf_reset(&scratch[1]);
	imaddr_normalize_domain(at_a + 1, strlen(at_a + 1), &scratch[0], &unicode);
	imaddr_buf_reset(&unicode);
	imaddr_normalize_domain(at_b + 1, strlen(at_b + 1), &scratch[1], &unicode);
	imaddr_buf_release(&unicode);
	return scratch[0].len == scratch[1].len &&
	       !memcmp(scratch[0].data, scratch[1].data, scratch[0].len);
}

/* How two values that share a key differ, as precisely as it can be told. */
enum difference {
	SAME,
	IN_CASE,
	IN_FORM,             /* NFC and NFD */
	IN_DOMAIN_FORM,      /* U-label and A-label */
	IN_CASE_WIDTH_FORM,  /* what the key folds, told apart no further */
};

static enum difference difference(const char *a, const char *b, struct imaddr_buf scratch[2])
{
	if (!strcmp(a, b))
		return SAME;
	if (!strcasecmp(a, b))
		return IN_CASE;
	if (same_nfc(a, b, scratch))
		return IN_FORM;
	if (same_address_but_domain_form(a, b, scratch))
		return IN_DOMAIN_FORM;
	return IN_CASE_WIDTH_FORM;
}

/* An administrator looks for the one difference named. */
static const char *difference_text(enum difference difference)
{
	switch (difference) {
	case IN_CASE:
		return "differs only in case";
	case IN_FORM:
		return "differs only in Unicode form: composed and decomposed characters";
	case IN_DOMAIN_FORM:
		return "differs only in how the domain is written: U-label and A-label";
	default:
		return "differs only in case, width, Unicode form or how a domain is written";
	}
}

static enum imaddr_status report_group(struct run *run, enum imaddr_key_kind kind,
				       struct member *members, size_t count,
				       struct imaddr_error *err)
{
	const struct duplicate_kind *what = &duplicate_kinds[kind];
	struct imaddr_buf message;
	enum imaddr_status status = IMADDR_OK;

	bool clusters = spans_clusters(members, count);
	imaddr_buf_init(&message, 0);
	for (size_t i = 0; i < count && status == IMADDR_OK; i++) {
		struct member *self = &members[i];
		struct member *first = &members[i == 0 ? 1 : 0];
		bool exact = !strcmp(self->value, first->value);
		imaddr_buf_reset(&message);
		imaddr_buf_appendf(&message, "%s '%s' ", what->what, self->value);
		if (clusters)
			imaddr_buf_appendf(&message, "of cluster '%s' ",
					   self->cluster ? self->cluster : "");
		imaddr_buf_append_str(&message, "is shared with ");
		size_t listed = 0;
		enum difference differs = SAME;
		for (size_t j = 0; j < count && listed < IMADDR_DUPLICATES_LISTED; j++) {
			if (j == i)
				continue;
			imaddr_buf_append_str(&message, listed ? ", " : "");
			describe_member(&message, &members[j], clusters);
			enum difference this = difference(self->value, members[j].value,
							  run->scratch);
			if (this != SAME)
				imaddr_buf_appendf(&message, " ('%s')", members[j].value);
			/* The listed members' differences, named together when they agree. */
			differs = differs == SAME || differs == this ? this
				: this == SAME ? differs : IN_CASE_WIDTH_FORM;
			listed++;
		}
		if (count - 1 > listed)
			imaddr_buf_appendf(&message, " and %zu more", count - 1 - listed);
		if (exact)
			imaddr_buf_append_str(&message, count == 2 ? " (exact duplicate)"
							  : " (exact duplicate of the first)");
		else
			imaddr_buf_appendf(&message, " (%s)", difference_text(differs));
		struct imaddr_finding finding = {
			.code = what->code,
			.severity = imaddr_code_severity(what->code),
			.ordinal = self->ordinal,
			.line = self->line,
			.dn = self->dn,
			.user_id = self->user_id,
			.field = run->duplicates->field[kind],
			.value = self->value,
			.message = message.data,
			.related_ordinal = first->ordinal,
			.related_line = first->line,
			.related_dn = first->dn,
			.cluster = self->cluster,
		};
		status = run->emit(run->context, &finding, err);
	}
	imaddr_buf_release(&message);
	return status;
}

static void free_members(struct member *members, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(members[i].dn);
		free(members[i].user_id);
		free(members[i].value);
		free(members[i].key);
		free(members[i].cluster);
	}
	free(members);
}

static int by_key_then_ordinal(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	int order = strcmp(x->key, y->key);
	if (order)
		return order;
	return x->ordinal < y->ordinal ? -1 : x->ordinal > y->ordinal;
}

int imaddr_candidate_group_by_first_ordinal(const void *a, const void *b)
{
	const struct imaddr_candidate_group *x = a, *y = b;
	return x->first_ordinal < y->first_ordinal ? -1 : x->first_ordinal > y->first_ordinal;
}

static enum imaddr_status report_candidates(struct run *run, enum imaddr_key_kind kind,
					    const struct imaddr_candidate_group *group,
					    struct imaddr_error *err)
{
	struct imaddr_dupindex *index = &run->duplicates->indexes[kind];
	struct member *members = imaddr_xcalloc(group->count, sizeof(*members));
	enum imaddr_status status = IMADDR_OK;

	for (size_t i = 0; i < group->count && status == IMADDR_OK; i++) {
		struct imaddr_spooled_user stored;
		status = imaddr_spool_get(run->spool, index->entries[group->start + i].ordinal,
					      &stored, err);
		if (status != IMADDR_OK)
			break;
		const char *value = member_value(&stored, kind);
		members[i].ordinal = stored.user.ordinal;
		members[i].line = stored.user.line;
		members[i].dn = stored.user.dn ? imaddr_xstrdup(stored.user.dn) : NULL;
		members[i].user_id = stored.user.user_id ? imaddr_xstrdup(stored.user.user_id) : NULL;
		members[i].value = imaddr_xstrdup(value ? value : "");
		members[i].key = imaddr_xstrdup(stored.keys[kind] ? stored.keys[kind] : "");
		members[i].cluster = stored.user.cluster ? imaddr_xstrdup(stored.user.cluster) : NULL;
	}
	/* Equal hashes are candidates; equal keys are duplicates. */
	if (status == IMADDR_OK)
		qsort(members, group->count, sizeof(*members), by_key_then_ordinal);
	for (size_t i = 0; status == IMADDR_OK && i < group->count;) {
		size_t j = i + 1;
		while (j < group->count && !strcmp(members[i].key, members[j].key))
			j++;
		if (j - i >= 2)
			status = report_group(run, kind, members + i, j - i, err);
		i = j;
	}
	free_members(members, group->count);
	return status;
}

struct sort_job {
	struct imaddr_dupindex *indexes;
	int from, to;
};

static void *sort_indexes(void *context)
{
	const struct sort_job *job = context;
	for (int kind = job->from; kind < job->to; kind++)
		imaddr_dupindex_sort(&job->indexes[kind]);
	return NULL;
}

/*
 * The four indexes are independent, and once the read is over its threads
 * are too: half of them are sorted on a thread of their own. Should the
 * thread not start, this one sorts them all.
 */
static void sort_indexes_in_parallel(struct imaddr_dupindex *indexes)
{
	struct sort_job mine = { indexes, 0, IMADDR_KEY_COUNT / 2 };
	struct sort_job other = { indexes, IMADDR_KEY_COUNT / 2, IMADDR_KEY_COUNT };
	pthread_t helper;
	bool threaded = imaddr_worker_start(&helper, sort_indexes, &other);

	if (!threaded)
		mine.to = IMADDR_KEY_COUNT;
	sort_indexes(&mine);
	if (threaded)
		pthread_join(helper, NULL);
}

/* One index's candidate groups. */
struct candidates {
	struct imaddr_candidate_group *groups;
	size_t count;
};

/*
 * Groups are reported in the order of their first user, not of their hash,
 * so that the output reads like the input and does not change with the hash.
 */
static void collect_candidates(const struct imaddr_dupindex *index, struct candidates *out)
{
	size_t capacity = 0, position = 0, start, count;

	out->groups = NULL;
	out->count = 0;
	while (imaddr_dupindex_next_group(index, &position, &start, &count)) {
		if (out->count == capacity) {
			capacity = capacity ? capacity * 2 : 64;
			out->groups = imaddr_xrealloc(out->groups, capacity * sizeof(*out->groups));
		}
		out->groups[out->count++] = (struct imaddr_candidate_group){
			start, count, index->entries[start].ordinal
		};
	}
	if (out->count)
		qsort(out->groups, out->count, sizeof(*out->groups),
		      imaddr_candidate_group_by_first_ordinal);
}

static enum imaddr_status find_duplicates(struct run *run, enum imaddr_key_kind kind,
					  const struct candidates *candidates,
					  struct imaddr_error *err)
{
	enum imaddr_status status = IMADDR_OK;

	for (size_t i = 0; status == IMADDR_OK && i < candidates->count; i++)
		status = report_candidates(run, kind, &candidates->groups[i], err);
	if (status == IMADDR_OK && run->sorted)
		run->sorted(run->context, kind, run->duplicates);
	imaddr_dupindex_release(&run->duplicates->indexes[kind]);
	return status;
}

static int by_ordinal(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/*
 * The members of every candidate group, read from the spool ahead in one
 * pass: a million-user directory with 1% duplicates has some 70,000 of
 * them, scattered, and reading each alone cost one system call.
 */
static enum imaddr_status preload_members(struct run *run,
					  const struct candidates candidates[IMADDR_KEY_COUNT],
					  struct imaddr_error *err)
{
	uint64_t *ordinals = NULL;
	size_t count = 0, capacity = 0;

	for (int kind = 0; kind < IMADDR_KEY_COUNT; kind++) {
		const struct imaddr_dupindex *index = &run->duplicates->indexes[kind];
		for (size_t g = 0; g < candidates[kind].count; g++) {
			const struct imaddr_candidate_group *group = &candidates[kind].groups[g];
			if (count + group->count > capacity) {
				capacity = (count + group->count) * 2;
				ordinals = imaddr_xrealloc(ordinals, capacity * sizeof(*ordinals));
			}
			for (size_t i = group->start; i < group->start + group->count; i++)
				ordinals[count++] = index->entries[i].ordinal;
		}
	}
	size_t unique = 0;
	if (count) {
		qsort(ordinals, count, sizeof(*ordinals), by_ordinal);
		for (size_t i = 0; i < count; i++) {
			if (!unique || ordinals[unique - 1] != ordinals[i])
				ordinals[unique++] = ordinals[i];
		}
	}
	enum imaddr_status status = imaddr_spool_preload(run->spool, ordinals, unique,
							 IMADDR_DUPLICATES_PRELOAD_MAX, err);
	free(ordinals);
	return status;
}

enum imaddr_status imaddr_duplicates_report(struct imaddr_duplicates *duplicates,
					    struct imaddr_spool *spool, imaddr_finding_fn *emit,
					    imaddr_duplicates_index_fn *sorted, void *context,
					    struct imaddr_error *err)
{
	struct run run = { duplicates, spool, emit, sorted, context, { { 0 } } };
	struct candidates candidates[IMADDR_KEY_COUNT];

	imaddr_buf_init(&run.scratch[0], 0);
	imaddr_buf_init(&run.scratch[1], 0);

	sort_indexes_in_parallel(duplicates->indexes);
	for (int kind = 0; kind < IMADDR_KEY_COUNT; kind++)
		collect_candidates(&duplicates->indexes[kind], &candidates[kind]);
	enum imaddr_status status = preload_members(&run, candidates, err);
	for (int kind = 0; status == IMADDR_OK && kind < IMADDR_KEY_COUNT; kind++)
		status = find_duplicates(&run, kind, &candidates[kind], err);
	for (int kind = 0; kind < IMADDR_KEY_COUNT; kind++)
		free(candidates[kind].groups);
	imaddr_spool_unload(spool);
	imaddr_buf_release(&run.scratch[0]);
	imaddr_buf_release(&run.scratch[1]);
	return status;
}

void imaddr_duplicates_find(const struct imaddr_duplicates *duplicates,
			    enum imaddr_key_kind kind, const char *key, size_t len,
			    uint64_t **ordinals, size_t *count, size_t *capacity)
{
	const struct imaddr_dupindex *index = &duplicates->indexes[kind];
	size_t start, found;
	imaddr_dupindex_find(index, key, len, &start, &found);
	for (size_t i = start; i < start + found; i++) {
		if (*count == *capacity) {
			*capacity = *capacity ? *capacity * 2 : 16;
			*ordinals = imaddr_xrealloc(*ordinals, *capacity * sizeof(**ordinals));
		}
		(*ordinals)[(*count)++] = index->entries[i].ordinal;
	}
}
