#include "confusables.h"

#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "fields.h"
#include "strmap.h"

static const struct confusable_kind {
	enum imaddr_key_kind key;
	const char *what;
} confusable_kinds[IMADDR_CONFUSABLE_KINDS] = {
	[IMADDR_CONFUSABLE_USER_ID] = { IMADDR_KEY_USER_ID, "user ID" },
	[IMADDR_CONFUSABLE_IM_ADDRESS] = { IMADDR_KEY_IM_ADDRESS, "IM address" },
};

void imaddr_confusables_init(struct imaddr_confusables *confusables)
{
	memset(confusables, 0, sizeof(*confusables));
}

static void release_kind(struct imaddr_confusables_kind *kind)
{
	free(kind->ascii);
	free(kind->other);
	free(kind->field);
	memset(kind, 0, sizeof(*kind));
}

void imaddr_confusables_release(struct imaddr_confusables *confusables)
{
	for (int kind = 0; kind < IMADDR_CONFUSABLE_KINDS; kind++)
		release_kind(&confusables->kinds[kind]);
	imaddr_normalize_skeleton_memo_release(&confusables->memo);
}

/* 0 marks "no skeleton" in the ASCII array, so no hash is 0. */
static uint32_t skeleton_hash(const char *skeleton)
{
	uint32_t hash = (uint32_t)imaddr_hash(skeleton, strlen(skeleton));
	return hash ? hash : 1;
}

void imaddr_confusables_add(struct imaddr_confusables *confusables,
			    enum imaddr_confusable_kind kind, uint64_t ordinal,
			    const char *skeleton, bool ascii, const char *field)
{
	struct imaddr_confusables_kind *k = &confusables->kinds[kind];
	uint32_t hash = skeleton_hash(skeleton);

	if (ascii) {
		if (ordinal > k->ascii_size) {
			size_t size = k->ascii_size ? k->ascii_size : 4096;
			while (size < ordinal)
				size *= 2;
			k->ascii = imaddr_xrealloc(k->ascii, size * sizeof(*k->ascii));
			memset(k->ascii + k->ascii_size, 0, (size - k->ascii_size) * sizeof(*k->ascii));
			k->ascii_size = size;
		}
		k->ascii[ordinal - 1] = hash;
	} else {
		if (k->other_count == k->other_capacity) {
			k->other_capacity = k->other_capacity ? k->other_capacity * 2 : 256;
			k->other = imaddr_xrealloc(k->other, k->other_capacity * sizeof(*k->other));
		}
		/* Only a skeleton in ASCII can be an ASCII value's. */
		k->other[k->other_count++] = (struct imaddr_confusables_entry){
			.ordinal = ordinal, .hash = hash,
			.ascii_skeleton = imaddr_normalize_is_ascii(skeleton, strlen(skeleton)),
		};
	}
	if (field && (!k->field || strcmp(k->field, field))) {
		free(k->field);
		k->field = imaddr_xstrdup(field);
	}
}

/* ------------------------------------------------------------------------ */
/* After the read. */

struct run {
	struct imaddr_confusables *confusables;
	struct imaddr_spool *spool;
	imaddr_finding_fn *emit;
	void *context;
	struct imaddr_buf scratch[3];
};

/* What a confusable finding says of one user: kept for the whole group. */
struct member {
	uint64_t ordinal;
	uint64_t line;
	char *dn;
	char *user_id;
	char *value;       /* as shown: the user ID as read, the IM address with its U-label */
	char *key;
	char *skeleton;
	char *cluster;
	bool ascii;
};

/*
 * The skeleton imaddr_confusables_add was given, again from the spooled
 * user's key: the IM address's key is local@A-label, and its skeleton is
 * taken with the U-label, the form people see. Also sets the value shown.
 */
static bool compute_member(struct run *run, enum imaddr_confusable_kind kind,
			   const struct imaddr_spooled_user *stored, struct member *m)
{
	const char *key = stored->keys[confusable_kinds[kind].key];
	struct imaddr_buf *skeleton = &run->scratch[0], *work = &run->scratch[1];
	struct imaddr_buf *unicode = &run->scratch[2];
	struct imaddr_skeleton_memo *memo = &run->confusables->memo;

	if (!key)
		return false;
	if (kind == IMADDR_CONFUSABLE_USER_ID) {
		m->ascii = imaddr_normalize_skeleton(key, strlen(key), memo, skeleton);
		m->value = imaddr_xstrdup(stored->user.user_id ? stored->user.user_id : "");
	} else {
		const char *at = strrchr(key, '@');
		const char *address = stored->user.im_address;
		const char *address_at = address ? strrchr(address, '@') : NULL;
		if (!at || !address_at)
			return false;
		m->ascii = imaddr_normalize_skeleton(key, (size_t)(at - key), memo, skeleton);
		imaddr_normalize_domain(at + 1, strlen(at + 1), work, unicode);
		m->ascii &= imaddr_normalize_is_ascii(unicode->data, unicode->len);
		imaddr_buf_append_char(skeleton, '@');
		imaddr_normalize_skeleton(unicode->data, unicode->len, memo, work);
		imaddr_buf_append(skeleton, work->data, work->len);
		imaddr_buf_reset(work);
		imaddr_buf_append(work, address, (size_t)(address_at - address) + 1);
		imaddr_buf_append(work, unicode->data, unicode->len);
		m->value = imaddr_xstrdup(work->data);
	}
	m->skeleton = imaddr_xstrdup(skeleton->data);
	m->key = imaddr_xstrdup(key);
	return true;
}

static void free_members(struct member *members, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(members[i].dn);
		free(members[i].user_id);
		free(members[i].value);
		free(members[i].key);
		free(members[i].skeleton);
		free(members[i].cluster);
	}
	free(members);
}

static bool same_cluster(const struct member *a, const struct member *b)
{
	return (!a->cluster && !b->cluster) ||
	       (a->cluster && b->cluster && !strcmp(a->cluster, b->cluster));
}

/* Look-alikes only: the same value is a duplicate, and ASCII with ASCII is noise. */
static bool lookalikes(const struct member *a, const struct member *b)
{
	return strcmp(a->key, b->key) && (!a->ascii || !b->ascii);
}

/* The length of the UTF-8 sequence a lead byte starts. */
static size_t sequence_length(unsigned char lead)
{
	return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

static bool has_sequence(const char *text, const char *sequence, size_t n)
{
	for (const char *p = strchr(text, sequence[0]); p; p = strchr(p + 1, sequence[0]))
		if (!strncmp(p, sequence, n))
			return true;
	return false;
}

/* The first character of `value` outside ASCII that `other` does not have, or -1. */
static int32_t first_foreign(const char *value, const char *other)
{
	size_t len = strlen(value);
	for (size_t i = 0; i < len; i += sequence_length((unsigned char)value[i])) {
		size_t n = sequence_length((unsigned char)value[i]);
		if (n > 1 && i + n <= len && !has_sequence(other, value + i, n))
			return imaddr_normalize_codepoint_at(value, len, i);
	}
	return -1;
}

static void describe_member(struct imaddr_buf *out, enum imaddr_confusable_kind kind,
			    const struct member *m, bool clusters)
{
	imaddr_buf_appendf(out, "'%s' (", m->value);
	if (m->dn)
		imaddr_buf_appendf(out, "'%s'", m->dn);
	else
		imaddr_buf_appendf(out, "line %llu", (unsigned long long)m->line);
	if (clusters)
		imaddr_buf_appendf(out, " in cluster '%s'", m->cluster ? m->cluster : "");
	if (kind == IMADDR_CONFUSABLE_IM_ADDRESS && m->user_id)
		imaddr_buf_appendf(out, ", user ID '%s'", m->user_id);
	imaddr_buf_append_char(out, ')');
}

/* Names the character that makes the look-alike, taken from the value that has it. */
static void describe_lookalike(struct imaddr_buf *out, const struct member *self,
			       const struct member *other)
{
	struct imaddr_buf name;
	bool mine = !self->ascii;
	int32_t c = first_foreign(mine ? self->value : other->value,
				  mine ? other->value : self->value);
	if (c < 0 && mine && !other->ascii) {
		mine = false;
		c = first_foreign(other->value, self->value);
	}
	if (c < 0) {
		imaddr_buf_append_str(out, ": they differ only in characters that look alike "
				      "(UTS #39)");
		return;
	}
	imaddr_buf_init(&name, 0);
	imaddr_normalize_describe_codepoint(c, &name);
	imaddr_buf_appendf(out, mine ? ": its %s is a look-alike (UTS #39)"
			   : ": the other's %s is a look-alike (UTS #39)", name.data);
	imaddr_buf_release(&name);
}

/* One finding for each member with a look-alike among the others, naming them. */
static enum imaddr_status report_lookalikes(struct run *run, enum imaddr_confusable_kind kind,
					    const struct member *members, size_t count,
					    struct imaddr_error *err)
{
	struct imaddr_buf message;
	enum imaddr_status status = IMADDR_OK;
	bool clusters = false;

	for (size_t i = 1; i < count; i++)
		clusters |= !same_cluster(&members[0], &members[i]);
	imaddr_buf_init(&message, 0);
	for (size_t i = 0; i < count && status == IMADDR_OK; i++) {
		const struct member *self = &members[i], *first = NULL;
		size_t listed = 0, more = 0;
		imaddr_buf_reset(&message);
		imaddr_buf_appendf(&message, "%s '%s' looks the same as ",
				   confusable_kinds[kind].what, self->value);
		for (size_t j = 0; j < count; j++) {
			if (j == i || !lookalikes(self, &members[j]))
				continue;
			if (listed == IMADDR_DUPLICATES_LISTED) {
				more++;
				continue;
			}
			imaddr_buf_append_str(&message, listed ? ", " : "");
			describe_member(&message, kind, &members[j], clusters);
			if (!first)
				first = &members[j];
			listed++;
		}
		if (!first)
			continue;
		if (more)
			imaddr_buf_appendf(&message, " and %zu more", more);
		describe_lookalike(&message, self, first);
		struct imaddr_finding finding = {
			.code = IMADDR_CODE_CONFUSABLE,
			.severity = imaddr_code_severity(IMADDR_CODE_CONFUSABLE),
			.ordinal = self->ordinal,
			.line = self->line,
			.dn = self->dn,
			.user_id = self->user_id,
			.field = run->confusables->kinds[kind].field,
			.value = self->value,
			.message = message.data,
			.cluster = self->cluster,
		};
		status = run->emit(run->context, &finding, err);
	}
	imaddr_buf_release(&message);
	return status;
}

static int by_skeleton_then_ordinal(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	int order = strcmp(x->skeleton, y->skeleton);
	if (order)
		return order;
	return x->ordinal < y->ordinal ? -1 : x->ordinal > y->ordinal;
}

/* Equal hashes are candidates; equal skeletons are look-alikes. */
static enum imaddr_status confirm_group(struct run *run, enum imaddr_confusable_kind kind,
					const struct imaddr_confusables_entry *entries,
					size_t count, struct imaddr_error *err)
{
	struct member *members = imaddr_xcalloc(count, sizeof(*members));
	enum imaddr_status status = IMADDR_OK;
	size_t kept = 0;

	for (size_t i = 0; i < count && status == IMADDR_OK; i++) {
		struct imaddr_spooled_user stored;
		status = imaddr_spool_get(run->spool, entries[i].ordinal, &stored, err);
		if (status != IMADDR_OK || !compute_member(run, kind, &stored, &members[kept]))
			continue;
		struct member *m = &members[kept++];
		m->ordinal = stored.user.ordinal;
		m->line = stored.user.line;
		m->dn = stored.user.dn ? imaddr_xstrdup(stored.user.dn) : NULL;
		m->user_id = stored.user.user_id ? imaddr_xstrdup(stored.user.user_id) : NULL;
		m->cluster = stored.user.cluster ? imaddr_xstrdup(stored.user.cluster) : NULL;
	}
	if (status == IMADDR_OK)
		qsort(members, kept, sizeof(*members), by_skeleton_then_ordinal);
	for (size_t i = 0; status == IMADDR_OK && i < kept;) {
		size_t j = i + 1;
		while (j < kept && !strcmp(members[i].skeleton, members[j].skeleton))
			j++;
		if (j - i >= 2)
			status = report_lookalikes(run, kind, members + i, j - i, err);
		i = j;
	}
	free_members(members, kept);
	return status;
}

static int by_hash_then_ordinal(const void *a, const void *b)
{
	const struct imaddr_confusables_entry *x = a, *y = b;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->ordinal < y->ordinal ? -1 : x->ordinal > y->ordinal;
}

struct candidate_group {
	size_t start;
	size_t count;
	uint64_t first_ordinal;
};

static int by_first_ordinal(const void *a, const void *b)
{
	const struct candidate_group *x = a, *y = b;
	return x->first_ordinal < y->first_ordinal ? -1 : x->first_ordinal > y->first_ordinal;
}

/*
 * The ASCII skeletons worth a look: those whose hash one of the others has
 * in ASCII, found through a set of those hashes in one pass over the array.
 * Appended to the kind's other entries.
 */
static void add_ascii_candidates(struct imaddr_confusables_kind *k)
{
	size_t wanted = 0, slots = 16;
	for (size_t i = 0; i < k->other_count; i++)
		wanted += k->other[i].ascii_skeleton;
	if (!wanted || !k->ascii)
		return;
	while (slots < 2 * wanted)
		slots *= 2;
	uint32_t *set = imaddr_xcalloc(slots, sizeof(*set));
	for (size_t i = 0; i < k->other_count; i++) {
		if (!k->other[i].ascii_skeleton)
			continue;
		size_t s = k->other[i].hash & (slots - 1);
		while (set[s] && set[s] != k->other[i].hash)
			s = (s + 1) & (slots - 1);
		set[s] = k->other[i].hash;
	}
	for (size_t i = 0; i < k->ascii_size; i++) {
		uint32_t hash = k->ascii[i];
		if (!hash)
			continue;
		size_t s = hash & (slots - 1);
		while (set[s] && set[s] != hash)
			s = (s + 1) & (slots - 1);
		if (!set[s])
			continue;
		if (k->other_count == k->other_capacity) {
			k->other_capacity *= 2;
			k->other = imaddr_xrealloc(k->other, k->other_capacity * sizeof(*k->other));
		}
		k->other[k->other_count++] = (struct imaddr_confusables_entry){
			.ordinal = i + 1, .hash = hash, .ascii_skeleton = true,
		};
	}
	free(set);
}

static enum imaddr_status report_kind(struct run *run, enum imaddr_confusable_kind kind,
				      struct imaddr_error *err)
{
	struct imaddr_confusables_kind *k = &run->confusables->kinds[kind];
	struct candidate_group *groups = NULL;
	size_t group_count = 0, group_cap = 0;
	enum imaddr_status status = IMADDR_OK;

	if (!k->other_count)
		goto out;
	add_ascii_candidates(k);
	free(k->ascii);
	k->ascii = NULL;
	k->ascii_size = 0;
	qsort(k->other, k->other_count, sizeof(*k->other), by_hash_then_ordinal);
	for (size_t i = 0; i < k->other_count;) {
		size_t j = i + 1;
		while (j < k->other_count && k->other[j].hash == k->other[i].hash)
			j++;
		if (j - i >= 2) {
			if (group_count == group_cap) {
				group_cap = group_cap ? group_cap * 2 : 64;
				groups = imaddr_xrealloc(groups, group_cap * sizeof(*groups));
			}
			groups[group_count++] = (struct candidate_group){
				i, j - i, k->other[i].ordinal
			};
		}
		i = j;
	}
	if (group_count)
		qsort(groups, group_count, sizeof(*groups), by_first_ordinal);
	for (size_t i = 0; status == IMADDR_OK && i < group_count; i++)
		status = confirm_group(run, kind, k->other + groups[i].start, groups[i].count, err);
	free(groups);
out:
	/* The field stays: nothing needs it after the report, and release frees it. */
	free(k->ascii);
	free(k->other);
	k->ascii = NULL;
	k->other = NULL;
	k->ascii_size = k->other_count = k->other_capacity = 0;
	return status;
}

enum imaddr_status imaddr_confusables_report(struct imaddr_confusables *confusables,
					     struct imaddr_spool *spool, imaddr_finding_fn *emit,
					     void *context, struct imaddr_error *err)
{
	struct run run = { confusables, spool, emit, context, { { 0 } } };
	enum imaddr_status status = IMADDR_OK;

	for (int i = 0; i < 3; i++)
		imaddr_buf_init(&run.scratch[i], 0);
	for (int kind = 0; status == IMADDR_OK && kind < IMADDR_CONFUSABLE_KINDS; kind++)
		status = report_kind(&run, kind, err);
	for (int i = 0; i < 3; i++)
		imaddr_buf_release(&run.scratch[i]);
	return status;
}
