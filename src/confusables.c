#include "confusables.h"

#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "fields.h"
#include "normalize.h"
#include "spoof.h"
#include "strmap.h"

static const struct confusable_kind {
	enum imaddr_key_kind key;
	const char *what;
} confusable_kinds[IMADDR_CONFUSABLE_KINDS] = {
	[IMADDR_CONFUSABLE_USER_ID] = { IMADDR_KEY_USER_ID, "user ID" },
	[IMADDR_CONFUSABLE_IM_ADDRESS] = { IMADDR_KEY_IM_ADDRESS, "IM address" },
};

/*
 * Which ASCII characters give which skeleton, grouped by its first byte, for
 * the strings of ASCII characters with a given skeleton. Upper-case letters
 * are left out: a key is case-folded, so no key has one.
 */
static void load_pieces(struct imaddr_confusables_pieces *pieces)
{
	size_t per_byte[256] = { 0 };
	const char *piece;
	size_t len;

	pieces->loaded = true;
	for (int c = 0x20; c < 0x7F; c++) {
		if ((c >= 'A' && c <= 'Z') || !imaddr_spoof_ascii_skeleton(c, &piece, &len) ||
		    !len)
			continue;
		per_byte[(unsigned char)piece[0]]++;
		for (size_t i = 0; i < len; i++)
			pieces->byte_used[(unsigned char)piece[i]] = true;
	}
	pieces->start[0] = 0;
	for (int b = 0; b < 256; b++)
		pieces->start[b + 1] = pieces->start[b] + per_byte[b];
	size_t next[256];
	memcpy(next, pieces->start, sizeof(next));
	for (int c = 0x20; c < 0x7F; c++) {
		if ((c >= 'A' && c <= 'Z') || !imaddr_spoof_ascii_skeleton(c, &piece, &len) ||
		    !len)
			continue;
		pieces->chars[next[(unsigned char)piece[0]]++] = (unsigned char)c;
	}
}

void imaddr_confusables_init(struct imaddr_confusables *confusables)
{
	memset(confusables, 0, sizeof(*confusables));
}

static void release_kind(struct imaddr_confusables_kind *kind)
{
	for (size_t i = 0; i < kind->kept_count; i++)
		free(kind->kept[i].text);
	free(kind->kept);
	free(kind->entries);
	free(kind->field);
	free(kind->counts.slots);
	free(kind->found);
	memset(kind, 0, sizeof(*kind));
}

void imaddr_confusables_release(struct imaddr_confusables *confusables)
{
	for (int kind = 0; kind < IMADDR_CONFUSABLE_KINDS; kind++)
		release_kind(&confusables->kinds[kind]);
	imaddr_spoof_skeleton_memo_release(&confusables->memo);
}

/* 0 marks an empty slot of the table below, so no hash is 0. */
static uint32_t skeleton_hash(const char *skeleton, size_t len)
{
	uint32_t hash = (uint32_t)imaddr_hash(skeleton, len);
	return hash ? hash : 1;
}

static void append_entry(struct imaddr_confusables_kind *k, uint64_t ordinal, uint32_t hash,
			 uint32_t key_hash)
{
	if (k->count == k->capacity) {
		k->capacity = k->capacity ? k->capacity * 2 : 256;
		k->entries = imaddr_xrealloc(k->entries, k->capacity * sizeof(*k->entries));
	}
	k->entries[k->count++] = (struct imaddr_confusables_entry){
		.ordinal = ordinal, .hash = hash, .key_hash = key_hash,
	};
}

/* Whether a string of ASCII characters can have this skeleton: its bytes say no at once. */
static bool maybe_ascii_skeleton(const struct imaddr_confusables_pieces *pieces,
				 const char *skeleton, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!pieces->byte_used[(unsigned char)skeleton[i]])
			return false;
	return len > 0;
}

void imaddr_confusables_add(struct imaddr_confusables *confusables,
			    enum imaddr_confusable_kind kind, uint64_t ordinal,
			    const char *skeleton, size_t len, const char *key,
			    const char *field)
{
	struct imaddr_confusables_kind *k = &confusables->kinds[kind];
	uint32_t hash = skeleton_hash(skeleton, len);
	append_entry(k, ordinal, hash, skeleton_hash(key, strlen(key)));
	if (!confusables->pieces.loaded)
		load_pieces(&confusables->pieces);
	if (maybe_ascii_skeleton(&confusables->pieces, skeleton, len)) {
		if (k->kept_count == k->kept_capacity) {
			k->kept_capacity = k->kept_capacity ? k->kept_capacity * 2 : 16;
			k->kept = imaddr_xrealloc(k->kept, k->kept_capacity * sizeof(*k->kept));
		}
		k->kept[k->kept_count++] = (struct imaddr_confusables_skeleton){
			hash, imaddr_xstrndup(skeleton, len)
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
	struct imaddr_strmap domains;    /* A-label -> U-label, NUL, its skeleton */
	/* A kind's findings, emitted together in user order once all are known. */
	struct imaddr_finding *pending;
	size_t pending_count, pending_cap;
};

static char *copy_or_null(const char *text)
{
	return text ? imaddr_xstrdup(text) : NULL;
}

/* Its strings are copied; its field is the kind's, which outlives the run. */
static void keep_finding(struct run *run, const struct imaddr_finding *finding)
{
	if (run->pending_count == run->pending_cap) {
		run->pending_cap = run->pending_cap ? 2 * run->pending_cap : 64;
		run->pending = imaddr_xrealloc(run->pending, run->pending_cap * sizeof(*run->pending));
	}
	struct imaddr_finding *kept = &run->pending[run->pending_count++];
	*kept = *finding;
	kept->dn = copy_or_null(finding->dn);
	kept->user_id = copy_or_null(finding->user_id);
	kept->value = copy_or_null(finding->value);
	kept->message = copy_or_null(finding->message);
	kept->cluster = copy_or_null(finding->cluster);
}

static int by_ordinal(const void *a, const void *b)
{
	const struct imaddr_finding *x = a, *y = b;
	return x->ordinal < y->ordinal ? -1 : x->ordinal > y->ordinal;
}

/*
 * In user order, whatever groups they came in: the order the report can
 * read them back in (report_read.c), so that a listing cut at N findings
 * names the same ones from the audit and from the report.
 */
static enum imaddr_status emit_kept(struct run *run, enum imaddr_status status,
				    struct imaddr_error *err)
{
	if (run->pending_count)
		qsort(run->pending, run->pending_count, sizeof(*run->pending), by_ordinal);
	for (size_t i = 0; i < run->pending_count; i++) {
		struct imaddr_finding *kept = &run->pending[i];
		if (status == IMADDR_OK)
			status = run->emit(run->context, kept, err);
		free((char *)kept->dn);
		free((char *)kept->user_id);
		free((char *)kept->value);
		free((char *)kept->message);
		free((char *)kept->cluster);
	}
	run->pending_count = 0;
	return status;
}

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
		m->ascii = imaddr_spoof_skeleton(key, strlen(key), memo, skeleton);
		m->value = imaddr_xstrdup(stored->user.user_id ? stored->user.user_id : "");
	} else {
		const char *at = strrchr(key, '@');
		const char *address = stored->user.im_address;
		const char *address_at = address ? strrchr(address, '@') : NULL;
		if (!at || !address_at)
			return false;
		m->ascii = imaddr_spoof_skeleton(key, (size_t)(at - key), memo, skeleton);
		/* A group's members mostly share a domain: its forms are kept. */
		struct imaddr_strmap_entry *domain = imaddr_strmap_get(&run->domains, at + 1);
		if (!domain->text) {
			imaddr_normalize_domain(at + 1, strlen(at + 1), work, unicode);
			imaddr_spoof_skeleton(unicode->data, unicode->len, memo, work);
			imaddr_buf_append_char(unicode, '\0');
			imaddr_buf_append(unicode, work->data, work->len);
			domain->text = imaddr_xmalloc(unicode->len + 1);
			memcpy(domain->text, unicode->data, unicode->len + 1);
		}
		const char *domain_unicode = domain->text;
		size_t unicode_len = strlen(domain_unicode);
		m->ascii &= imaddr_normalize_is_ascii(domain_unicode, unicode_len);
		imaddr_buf_append_char(skeleton, '@');
		imaddr_buf_append_str(skeleton, domain_unicode + unicode_len + 1);
		imaddr_buf_reset(work);
		imaddr_buf_append(work, address, (size_t)(address_at - address) + 1);
		imaddr_buf_append(work, domain_unicode, unicode_len);
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
		keep_finding(run, &finding);
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
		/* Sorted: an ASCII value found through two equal skeletons comes twice. */
		if (i > 0 && entries[i].ordinal == entries[i - 1].ordinal)
			continue;
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

static struct imaddr_confusables_count *count_slot(const struct imaddr_confusables_counts *counts,
						  uint32_t hash)
{
	size_t i = hash & counts->mask;
	while (counts->slots[i].hash && counts->slots[i].hash != hash)
		i = (i + 1) & counts->mask;
	return &counts->slots[i];
}

static void count_hashes(struct imaddr_confusables_kind *k)
{
	size_t size = 16;
	while (size < 2 * k->count)
		size *= 2;
	free(k->counts.slots);
	k->counts.slots = imaddr_xcalloc(size, sizeof(*k->counts.slots));
	k->counts.mask = size - 1;
	for (size_t i = 0; i < k->count; i++) {
		struct imaddr_confusables_count *slot = count_slot(&k->counts, k->entries[i].hash);
		slot->hash = k->entries[i].hash;
		slot->count++;
	}
}

static bool indexed(const struct imaddr_confusables_kind *k, uint64_t ordinal)
{
	size_t low = 0, high = k->count;
	while (low < high) {
		size_t middle = low + (high - low) / 2;
		if (k->entries[middle].ordinal < ordinal)
			low = middle + 1;
		else
			high = middle;
	}
	return low < k->count && k->entries[low].ordinal == ordinal;
}

/* An ASCII value with `hash`: a candidate when an indexed skeleton has it. */
static void found_ascii(struct imaddr_confusables_kind *k, uint64_t ordinal, uint32_t hash)
{
	struct imaddr_confusables_count *slot = count_slot(&k->counts, hash);
	/* A value with an A-label domain was indexed as its U-label. */
	if (!slot->hash || indexed(k, ordinal))
		return;
	slot->count++;
	if (k->found_count == k->found_capacity) {
		k->found_capacity = k->found_capacity ? k->found_capacity * 2 : 64;
		k->found = imaddr_xrealloc(k->found, k->found_capacity * sizeof(*k->found));
	}
	k->found[k->found_count++] = (struct imaddr_confusables_entry){
		.ordinal = ordinal, .hash = hash,
	};
}

/*
 * The strings of ASCII characters whose skeleton is `skeleton`, written to
 * `out` one after another with their NUL: at most PREIMAGES_MAX, or false.
 * Most skeletons have one ("aerin.weiss", the skeleton of "ærin.weiß"'s
 * key); each "l" (from l, 1, |) or "rn" (from rn, m) multiplies them.
 */
#define PREIMAGES_MAX 64
#define PREIMAGE_LEN_MAX 512

struct preimages {
	const struct imaddr_confusables_pieces *pieces;
	const char *skeleton;
	size_t len;
	char word[PREIMAGE_LEN_MAX + 1];
	/* Positions of the skeleton no ASCII string completes: without them a
	 * hostile value ("rnrn...rn" and a character nothing spells) costs an
	 * exponential search that finds nothing (the fuzzer's). */
	bool dead_end[PREIMAGE_LEN_MAX + 1];
	struct imaddr_buf *out;
	size_t count;
	bool too_many;
};

/* Whether some ASCII string spells the skeleton from `at` on. */
static bool enumerate(struct preimages *p, size_t at, size_t written)
{
	if (p->too_many)
		return true;
	if (at == p->len) {
		if (p->count == PREIMAGES_MAX) {
			p->too_many = true;
			return true;
		}
		imaddr_buf_append(p->out, p->word, written + 1);
		p->count++;
		return true;
	}
	if (p->dead_end[at])
		return false;
	bool completed = false;
	unsigned char first = (unsigned char)p->skeleton[at];
	for (size_t i = p->pieces->start[first]; i < p->pieces->start[first + 1]; i++) {
		unsigned char c = p->pieces->chars[i];
		const char *piece;
		size_t piece_len;
		imaddr_spoof_ascii_skeleton(c, &piece, &piece_len);
		if (piece_len > p->len - at || memcmp(piece, p->skeleton + at, piece_len))
			continue;
		p->word[written] = (char)c;
		p->word[written + 1] = '\0';
		completed |= enumerate(p, at + piece_len, written + 1);
	}
	p->dead_end[at] = !completed;
	return completed;
}

static bool preimages_of(const struct imaddr_confusables_pieces *pieces, const char *skeleton,
			 struct imaddr_buf *out, size_t *count)
{
	struct preimages p = { .pieces = pieces, .skeleton = skeleton, .len = strlen(skeleton),
			       .out = out };
	imaddr_buf_reset(out);
	if (p.len > PREIMAGE_LEN_MAX)
		return false;
	enumerate(&p, 0, 0);
	*count = p.count;
	return !p.too_many;
}

/* The run's IM domains that are ASCII in both forms, with their skeletons. */
struct ascii_domains {
	size_t count;
	char **names;
	char **skeletons;
};

static void load_ascii_domains(const struct imaddr_strmap *domains, struct ascii_domains *out)
{
	struct imaddr_buf skeleton;
	imaddr_buf_init(&skeleton, 0);
	out->count = 0;
	out->names = imaddr_xcalloc(domains->used + 1, sizeof(*out->names));
	out->skeletons = imaddr_xcalloc(domains->used + 1, sizeof(*out->skeletons));
	for (size_t i = 0; i < domains->slot_count; i++) {
		const struct imaddr_strmap_entry *entry = &domains->slots[i];
		if (!entry->key || !entry->text || strcmp(entry->key, entry->text))
			continue;    /* a U-label: its users were indexed */
		imaddr_spoof_skeleton(entry->key, strlen(entry->key), NULL, &skeleton);
		out->names[out->count] = entry->key;
		out->skeletons[out->count++] = imaddr_xstrdup(skeleton.data);
	}
	imaddr_buf_release(&skeleton);
}

static void release_ascii_domains(struct ascii_domains *domains)
{
	for (size_t i = 0; i < domains->count; i++)
		free(domains->skeletons[i]);
	free(domains->names);
	free(domains->skeletons);
}

/* The ASCII keys with `skeleton`, looked up in the duplicates' index. */
struct look_up {
	struct imaddr_confusables *confusables;
	struct imaddr_confusables_kind *k;
	const struct imaddr_duplicates *duplicates;
	enum imaddr_key_kind key;
	struct imaddr_buf words, key_text;
	uint64_t *ordinals;
	size_t ordinal_count, ordinal_capacity;
};

static void look_up_key(struct look_up *l, const char *key, uint32_t hash)
{
	l->ordinal_count = 0;
	imaddr_duplicates_find(l->duplicates, l->key, key, strlen(key), &l->ordinals,
			       &l->ordinal_count, &l->ordinal_capacity);
	for (size_t o = 0; o < l->ordinal_count; o++)
		found_ascii(l->k, l->ordinals[o], hash);
}

/*
 * An IM address's skeleton is its local part's @ its domain's. Spelling the
 * domain in ASCII would multiply the spellings ("example.com" alone has
 * twelve: l, 1 or |, m or rn twice), but the run has only a few domains:
 * those whose skeleton it is are the domain's spellings.
 */
static bool look_up_address(struct look_up *l, const struct ascii_domains *domains,
			    const char *skeleton, uint32_t hash)
{
	const char *at = strrchr(skeleton, '@');
	size_t count;
	if (!at)
		return true;
	bool any = false;
	for (size_t d = 0; d < domains->count && !any; d++)
		any = !strcmp(domains->skeletons[d], at + 1);
	if (!any)
		return true;
	char *local = imaddr_xstrndup(skeleton, (size_t)(at - skeleton));
	bool complete = preimages_of(&l->confusables->pieces, local, &l->words, &count);
	free(local);
	const char *word = l->words.data;
	for (size_t w = 0; complete && w < count; w++, word += strlen(word) + 1) {
		for (size_t d = 0; d < domains->count; d++) {
			if (strcmp(domains->skeletons[d], at + 1))
				continue;
			imaddr_buf_reset(&l->key_text);
			imaddr_buf_appendf(&l->key_text, "%s@%s", word, domains->names[d]);
			look_up_key(l, l->key_text.data, hash);
		}
	}
	return complete;
}

void imaddr_confusables_look_up(struct imaddr_confusables *confusables, enum imaddr_key_kind key,
				const struct imaddr_duplicates *duplicates,
				const struct imaddr_strmap *domains)
{
	int kind = 0;
	while (kind < IMADDR_CONFUSABLE_KINDS && confusable_kinds[kind].key != key)
		kind++;
	if (kind == IMADDR_CONFUSABLE_KINDS || !confusables->kinds[kind].count)
		return;
	struct imaddr_confusables_kind *k = &confusables->kinds[kind];
	struct look_up l = { confusables, k, duplicates, key, { 0 }, { 0 }, NULL, 0, 0 };
	struct ascii_domains ascii_domains = { 0 };
	bool complete = true;

	count_hashes(k);
	imaddr_buf_init(&l.words, 0);
	imaddr_buf_init(&l.key_text, 0);
	if (kind == IMADDR_CONFUSABLE_IM_ADDRESS && k->kept_count)
		load_ascii_domains(domains, &ascii_domains);
	for (size_t i = 0; complete && i < k->kept_count; i++) {
		const char *skeleton = k->kept[i].text;
		size_t count;
		if (kind == IMADDR_CONFUSABLE_IM_ADDRESS) {
			complete = look_up_address(&l, &ascii_domains, skeleton, k->kept[i].hash);
			continue;
		}
		complete = preimages_of(&confusables->pieces, skeleton, &l.words, &count);
		const char *word = l.words.data;
		for (size_t w = 0; complete && w < count; w++, word += strlen(word) + 1)
			look_up_key(&l, word, k->kept[i].hash);
	}
	release_ascii_domains(&ascii_domains);
	free(l.ordinals);
	imaddr_buf_release(&l.words);
	imaddr_buf_release(&l.key_text);
	if (!complete) {
		/* Start over: the pass over the spool finds every ASCII candidate. */
		k->found_count = 0;
		count_hashes(k);
	}
	k->looked_up = complete;
}

/* The fallback: a pass over the spool taking the ASCII values' skeletons. */
struct ascii_pass {
	struct imaddr_confusables *confusables;
	struct imaddr_buf skeleton;
};

static enum imaddr_status take_ascii_skeletons(void *context, struct imaddr_spooled_user *user,
					       struct imaddr_error *err)
{
	struct ascii_pass *pass = context;
	for (int kind = 0; kind < IMADDR_CONFUSABLE_KINDS; kind++) {
		struct imaddr_confusables_kind *k = &pass->confusables->kinds[kind];
		const char *key = user->keys[confusable_kinds[kind].key];
		if (!k->count || k->looked_up || !key || !imaddr_normalize_is_ascii(key, strlen(key)))
			continue;
		/* All ASCII: the skeleton of local@domain is local's @ domain's. */
		imaddr_spoof_skeleton(key, strlen(key), NULL, &pass->skeleton);
		found_ascii(k, user->user.ordinal,
			    skeleton_hash(pass->skeleton.data, pass->skeleton.len));
	}
	return IMADDR_OK;
}

/* The candidates of a kind: entries whose hash another entry or ASCII value has. */
static void keep_candidates(struct imaddr_confusables_kind *k)
{
	size_t kept = 0;
	for (size_t i = 0; i < k->count; i++) {
		if (count_slot(&k->counts, k->entries[i].hash)->count >= 2)
			k->entries[kept++] = k->entries[i];
	}
	k->count = kept;
	for (size_t i = 0; i < k->found_count; i++)
		append_entry(k, k->found[i].ordinal, k->found[i].hash, 0);
	k->found_count = 0;
}

static int by_hash_then_ordinal(const void *a, const void *b)
{
	const struct imaddr_confusables_entry *x = a, *y = b;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->ordinal < y->ordinal ? -1 : x->ordinal > y->ordinal;
}

static enum imaddr_status report_kind(struct run *run, enum imaddr_confusable_kind kind,
				      struct imaddr_error *err)
{
	struct imaddr_confusables_kind *k = &run->confusables->kinds[kind];
	struct imaddr_candidate_group *groups = NULL;
	size_t group_count = 0, group_cap = 0;
	enum imaddr_status status = IMADDR_OK;

	keep_candidates(k);
	qsort(k->entries, k->count, sizeof(*k->entries), by_hash_then_ordinal);
	for (size_t i = 0; i < k->count;) {
		size_t j = i + 1;
		while (j < k->count && k->entries[j].hash == k->entries[i].hash)
			j++;
		/* Values of one key share its skeleton: duplicates, not look-alikes. */
		bool one_key = k->entries[i].key_hash != 0;
		for (size_t m = i + 1; one_key && m < j; m++)
			one_key = k->entries[m].key_hash == k->entries[i].key_hash;
		if (j - i >= 2 && !one_key) {
			if (group_count == group_cap) {
				group_cap = group_cap ? group_cap * 2 : 64;
				groups = imaddr_xrealloc(groups, group_cap * sizeof(*groups));
			}
			groups[group_count++] = (struct imaddr_candidate_group){
				i, j - i, k->entries[i].ordinal
			};
		}
		i = j;
	}
	if (group_count)
		qsort(groups, group_count, sizeof(*groups), imaddr_candidate_group_by_first_ordinal);
	for (size_t i = 0; status == IMADDR_OK && i < group_count; i++)
		status = confirm_group(run, kind, k->entries + groups[i].start, groups[i].count,
				       err);
	free(groups);
	/* After a failure they are only freed. */
	return emit_kept(run, status, err);
}

enum imaddr_status imaddr_confusables_report(struct imaddr_confusables *confusables,
					     struct imaddr_spool *spool, imaddr_finding_fn *emit,
					     void *context, struct imaddr_error *err)
{
	struct run run = { .confusables = confusables, .spool = spool, .emit = emit,
			   .context = context };
	struct ascii_pass pass = { .confusables = confusables };
	enum imaddr_status status = IMADDR_OK;
	bool pass_wanted = false;

	for (int kind = 0; kind < IMADDR_CONFUSABLE_KINDS; kind++) {
		struct imaddr_confusables_kind *k = &confusables->kinds[kind];
		if (k->count && !k->counts.slots)
			count_hashes(k);
		pass_wanted |= k->count && !k->looked_up;
	}
	imaddr_buf_init(&pass.skeleton, 0);
	if (pass_wanted)
		status = imaddr_spool_each(spool, take_ascii_skeletons, &pass, err);
	imaddr_buf_release(&pass.skeleton);
	for (int i = 0; i < 3; i++)
		imaddr_buf_init(&run.scratch[i], 0);
	imaddr_strmap_init(&run.domains);
	for (int kind = 0; status == IMADDR_OK && kind < IMADDR_CONFUSABLE_KINDS; kind++) {
		if (confusables->kinds[kind].count)
			status = report_kind(&run, kind, err);
	}
	for (int kind = 0; kind < IMADDR_CONFUSABLE_KINDS; kind++) {
		/* The field stays for release: the findings are out. */
		char *field = confusables->kinds[kind].field;
		confusables->kinds[kind].field = NULL;
		release_kind(&confusables->kinds[kind]);
		confusables->kinds[kind].field = field;
	}
	for (int i = 0; i < 3; i++)
		imaddr_buf_release(&run.scratch[i]);
	imaddr_strmap_release(&run.domains);
	free(run.pending);
	return status;
}
