#include "audit.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "normalize.h"
#include "status.h"
#include "worker.h"

#define MAX_SINKS 8
/* Duplicate messages list at most this many of the other users. */
#define MAX_LISTED_DUPLICATES 5

static volatile sig_atomic_t stop_requested;

void imaddr_audit_request_stop(void)
{
	stop_requested = 1;
}

struct imaddr_audit {
	struct imaddr_audit_options options;
	struct imaddr_address default_domain;
	struct imaddr_strmap configured_domains;  /* A-label -> configured */
	struct imaddr_sink *sinks[MAX_SINKS];
	size_t sink_count;

	/* Per-user scratch, reused so that the hot path does not allocate. */
	struct imaddr_buf raw[IMADDR_ROLE_COUNT];
	struct imaddr_buf userid;
	struct imaddr_buf userid_key;
	struct imaddr_buf mail_key;
	struct imaddr_buf im_address;
	struct imaddr_buf im_key;
	struct imaddr_address uri;
	struct imaddr_address scratch;
	struct imaddr_check_list checks;

	/* The run. */
	struct imaddr_userstore store;
	struct imaddr_dupindex duplicates[IMADDR_KEY_COUNT];
	const char *key_field[IMADDR_KEY_COUNT];
	struct imaddr_strmap domains;             /* IM domain A-label -> users */
	struct imaddr_strmap domain_cache;        /* see address.h */
	uint8_t *error_bits;
	uint64_t error_bits_size;
	struct imaddr_run_totals totals;
	struct imaddr_domain_count *domain_list;
};

void imaddr_audit_options_init(struct imaddr_audit_options *options)
{
	memset(options, 0, sizeof(*options));
	options->scheme = IMADDR_SCHEME_USERID;
	imaddr_mapping_init(&options->mapping);
}

static enum imaddr_status load_configured_domains(struct imaddr_audit *audit,
						  struct imaddr_error *err)
{
	const char *list = audit->options.im_domains;
	while (list && *list) {
		size_t len = strcspn(list, ",");
		size_t start;
		size_t trimmed = imaddr_normalize_trim(list, len, &start);
		if (trimmed) {
			if (!imaddr_check_domain(list + start, trimmed, NULL, NULL, &audit->scratch,
						 NULL))
				return imaddr_error_set(err, IMADDR_ERR_USAGE,
					"--im-domains: '%.*s' is not a valid IM domain",
					(int)trimmed, list + start);
			imaddr_strmap_get(&audit->configured_domains,
					  audit->scratch.domain_ascii.data);
		}
		list += len;
		if (*list == ',')
			list++;
	}
	return IMADDR_OK;
}

enum imaddr_status imaddr_audit_new(const struct imaddr_audit_options *options,
				    struct imaddr_audit **out, struct imaddr_error *err)
{
	enum imaddr_status status = imaddr_normalize_init(err);
	if (status != IMADDR_OK)
		return status;
	struct imaddr_audit *audit = imaddr_xcalloc(1, sizeof(*audit));
	audit->options = *options;
	imaddr_address_init(&audit->default_domain);
	imaddr_address_init(&audit->uri);
	imaddr_address_init(&audit->scratch);
	imaddr_check_list_init(&audit->checks);
	imaddr_strmap_init(&audit->configured_domains);
	imaddr_strmap_init(&audit->domains);
	imaddr_strmap_init(&audit->domain_cache);
	audit->uri.domain_cache = &audit->domain_cache;
	audit->scratch.domain_cache = &audit->domain_cache;
	for (int role = 0; role < IMADDR_ROLE_COUNT; role++)
		imaddr_buf_init(&audit->raw[role], 0);
	imaddr_buf_init(&audit->userid, 0);
	imaddr_buf_init(&audit->userid_key, 0);
	imaddr_buf_init(&audit->mail_key, 0);
	imaddr_buf_init(&audit->im_address, 0);
	imaddr_buf_init(&audit->im_key, 0);
	for (int kind = 0; kind < IMADDR_KEY_COUNT; kind++)
		imaddr_dupindex_init(&audit->duplicates[kind]);

	const char *domain = options->default_domain;
	if (options->scheme == IMADDR_SCHEME_USERID && (!domain || !*domain)) {
		status = imaddr_error_set(err, IMADDR_ERR_USAGE,
			"the userid scheme needs --default-domain");
		goto fail;
	}
	if (domain && *domain &&
	    !imaddr_check_domain(domain, strlen(domain), NULL, NULL, &audit->default_domain,
				 &audit->checks)) {
		status = imaddr_error_set(err, IMADDR_ERR_USAGE, "--default-domain: %s",
					  audit->checks.items[0].message.data);
		goto fail;
	}
	status = load_configured_domains(audit, err);
	if (status != IMADDR_OK)
		goto fail;
	*out = audit;
	return IMADDR_OK;
fail:
	imaddr_audit_free(audit);
	return status;
}

void imaddr_audit_add_sink(struct imaddr_audit *audit, struct imaddr_sink *sink)
{
	if (audit->sink_count == MAX_SINKS) {
		fputs("imaddr: too many outputs\n", stderr);
		abort();
	}
	audit->sinks[audit->sink_count++] = sink;
}

void imaddr_sink_free(struct imaddr_sink *sink)
{
	if (sink && sink->ops->free)
		sink->ops->free(sink);
}

void imaddr_audit_free(struct imaddr_audit *audit)
{
	if (!audit)
		return;
	for (size_t i = 0; i < audit->sink_count; i++)
		imaddr_sink_free(audit->sinks[i]);
	imaddr_address_release(&audit->default_domain);
	imaddr_address_release(&audit->uri);
	imaddr_address_release(&audit->scratch);
	imaddr_check_list_release(&audit->checks);
	imaddr_strmap_release(&audit->configured_domains);
	imaddr_strmap_release(&audit->domains);
	imaddr_strmap_release(&audit->domain_cache);
	for (int role = 0; role < IMADDR_ROLE_COUNT; role++)
		imaddr_buf_release(&audit->raw[role]);
	imaddr_buf_release(&audit->userid);
	imaddr_buf_release(&audit->userid_key);
	imaddr_buf_release(&audit->mail_key);
	imaddr_buf_release(&audit->im_address);
	imaddr_buf_release(&audit->im_key);
	for (int kind = 0; kind < IMADDR_KEY_COUNT; kind++)
		imaddr_dupindex_release(&audit->duplicates[kind]);
	imaddr_userstore_release(&audit->store);
	free(audit->error_bits);
	free(audit->domain_list);
	free(audit);
}

/* ------------------------------------------------------------------------ */

static void mark_error(struct imaddr_audit *audit, uint64_t ordinal)
{
	uint64_t byte = ordinal / 8;
	if (byte >= audit->error_bits_size) {
		uint64_t size = audit->error_bits_size ? audit->error_bits_size : 4096;
		while (size <= byte)
			size *= 2;
		audit->error_bits = imaddr_xrealloc(audit->error_bits, size);
		memset(audit->error_bits + audit->error_bits_size, 0,
		       size - audit->error_bits_size);
		audit->error_bits_size = size;
	}
	if (!(audit->error_bits[byte] & (1u << (ordinal % 8))))
		audit->totals.users_with_error += ordinal > 0;
	audit->error_bits[byte] |= (uint8_t)(1u << (ordinal % 8));
}

static bool has_error(const struct imaddr_audit *audit, uint64_t ordinal)
{
	uint64_t byte = ordinal / 8;
	return byte < audit->error_bits_size && (audit->error_bits[byte] & (1u << (ordinal % 8)));
}

static enum imaddr_status emit_finding(struct imaddr_audit *audit,
				       const struct imaddr_finding *finding,
				       struct imaddr_error *err)
{
	audit->totals.by_code[finding->code]++;
	audit->totals.by_severity[finding->severity]++;
	if (finding->severity == IMADDR_SEVERITY_ERROR)
		mark_error(audit, finding->ordinal);
	for (size_t i = 0; i < audit->sink_count; i++) {
		struct imaddr_sink *sink = audit->sinks[i];
		if (!sink->ops->finding)
			continue;
		enum imaddr_status status = sink->ops->finding(sink, finding, err);
		if (status != IMADDR_OK)
			return status;
	}
	return IMADDR_OK;
}

static enum imaddr_status on_notice(void *context, enum imaddr_code code, uint64_t line,
				    const char *dn, const char *field, const char *value,
				    const char *message, struct imaddr_error *err)
{
	struct imaddr_finding finding = {
		.code = code,
		.severity = imaddr_code_severity(code),
		.line = line,
		.dn = dn,
		.field = field,
		.value = value,
		.message = message,
	};
	return emit_finding(context, &finding, err);
}

/* The value of a role as a C string (the input's bytes may hold NULs). */
static const char *raw_value(struct imaddr_audit *audit, const struct imaddr_record *record,
			     enum imaddr_role role)
{
	const struct imaddr_value *value = &record->values[role];
	if (!value->present)
		return NULL;
	if (value->terminated && !memchr(value->data, '\0', value->len))
		return value->data;
	imaddr_buf_reset(&audit->raw[role]);
	imaddr_buf_append(&audit->raw[role], value->data, value->len);
	return audit->raw[role].data;
}

static const char *field_name(const struct imaddr_audit *audit, const struct imaddr_record *record,
			      enum imaddr_role role)
{
	const char *attribute = record->values[role].attribute;
	return attribute ? attribute : audit->options.mapping.names[role][0];
}

/* Findings the checks left without a value get the value they checked. */
static void fill_values(struct imaddr_check_list *list, size_t from, const char *value)
{
	for (size_t i = from; i < list->count; i++) {
		if (!list->items[i].value)
			list->items[i].value = value;
	}
}

/* A value the reader had to drop is reported once, not again as missing. */
static bool reader_dropped(const struct imaddr_record *record, enum imaddr_role role)
{
	const char *attribute = record->values[role].attribute;
	for (size_t i = 0; attribute && i < record->problem_count; i++) {
		if (record->problems[i].field == attribute)
			return true;
	}
	return false;
}

static void check_text_field(struct imaddr_audit *audit, const struct imaddr_record *record,
			     enum imaddr_role role, const char *value)
{
	size_t bad;
	const struct imaddr_value *v = &record->values[role];
	if (!value)
		return;
	if (!imaddr_normalize_utf8_valid(v->data, v->len, &bad))
		imaddr_check_add(&audit->checks, IMADDR_CODE_RECORD_MALFORMED, v->attribute, value,
				 "%s is not valid UTF-8 (byte %zu)", imaddr_role_name(role),
				 bad + 1);
	else if (memchr(v->data, '\0', v->len))
		imaddr_check_add(&audit->checks, IMADDR_CODE_RECORD_MALFORMED, v->attribute, value,
				 "%s holds a NUL byte", imaddr_role_name(role));
}

static void check_user_id(struct imaddr_audit *audit, const struct imaddr_record *record,
			  struct imaddr_user *user, const char **userid_key)
{
	const struct imaddr_value *value = &record->values[IMADDR_ROLE_USER_ID];
	const char *field = field_name(audit, record, IMADDR_ROLE_USER_ID);
	size_t before = audit->checks.count;

	/* An empty key tells compute_im_address that this record has no valid user ID. */
	imaddr_buf_reset(&audit->userid);
	imaddr_buf_reset(&audit->userid_key);
	if (!value->present) {
		if (!reader_dropped(record, IMADDR_ROLE_USER_ID))
			imaddr_check_add(&audit->checks, IMADDR_CODE_USERID_MISSING, field, NULL,
					 "the user has no user ID");
		return;
	}
	bool valid = imaddr_check_userid(value->data, value->len, field, &audit->userid,
					 &audit->userid_key, &audit->checks);
	fill_values(&audit->checks, before, user->user_id);
	if (!valid)
		return;
	*userid_key = audit->userid_key.data;
	audit->key_field[IMADDR_KEY_USER_ID] = field;
}

static void check_directory_uri(struct imaddr_audit *audit, const struct imaddr_record *record,
				struct imaddr_user *user, const char **uri_key)
{
	const struct imaddr_value *value = &record->values[IMADDR_ROLE_DIRECTORY_URI];
	const char *field = field_name(audit, record, IMADDR_ROLE_DIRECTORY_URI);
	size_t before = audit->checks.count;

	if (!value->present) {
		if (audit->options.scheme == IMADDR_SCHEME_DIRECTORY_URI &&
		    !reader_dropped(record, IMADDR_ROLE_DIRECTORY_URI))
			imaddr_check_add(&audit->checks, IMADDR_CODE_URI_MISSING, field, NULL,
					 "the directory URI scheme needs a directory URI (%s)",
					 field);
		return;
	}
	user->uri_valid = imaddr_check_uri(value->data, value->len, field,
					   imaddr_attribute_is_sip_uri(value->attribute),
					   &audit->uri, &audit->checks);
	fill_values(&audit->checks, before, user->directory_uri);
	if (!user->uri_valid)
		return;
	imaddr_address_finish(&audit->uri);
	user->directory_uri = audit->uri.canonical.data;
	*uri_key = audit->uri.key.data;
	audit->key_field[IMADDR_KEY_DIRECTORY_URI] = field;
}

static void count_domain(struct imaddr_audit *audit, const char *ascii, const char *unicode)
{
	struct imaddr_strmap_entry *entry = imaddr_strmap_get(&audit->domains, ascii);
	if (!entry->text)
		entry->text = imaddr_xstrdup(unicode);
	entry->count++;
}

static void compute_im_address(struct imaddr_audit *audit, const struct imaddr_record *record,
			       struct imaddr_user *user, const char **im_key)
{
	const char *local, *domain, *unicode_domain, *key_local, *field;
	size_t local_len, before = audit->checks.count;
	bool userid_is_address = false;

	if (audit->options.scheme == IMADDR_SCHEME_USERID) {
		if (!audit->userid_key.len)
			return;
		field = field_name(audit, record, IMADDR_ROLE_USER_ID);
		local = audit->userid.data;
		local_len = audit->userid.len;
		key_local = audit->userid_key.data;
		domain = audit->default_domain.domain_ascii.data;
		unicode_domain = audit->default_domain.domain_unicode.data;
		if (memchr(local, '@', local_len)) {
			userid_is_address = true;
			imaddr_check_add(&audit->checks, IMADDR_CODE_USERID_IS_ADDRESS, field,
					 user->user_id,
					 "the user ID is an e-mail address, so the IM address is "
					 "'%s@%s'", local, domain);
		}
	} else {
		if (!user->uri_valid)
			return;
		field = field_name(audit, record, IMADDR_ROLE_DIRECTORY_URI);
		local = audit->uri.local.data;
		local_len = audit->uri.local.len;
		key_local = NULL;
		domain = audit->uri.domain_ascii.data;
		unicode_domain = audit->uri.domain_unicode.data;
	}
	imaddr_buf_reset(&audit->im_address);
	imaddr_buf_append(&audit->im_address, local, local_len);
	imaddr_buf_append_char(&audit->im_address, '@');
	imaddr_buf_append_str(&audit->im_address, domain);
	/* A plain URI (see address.h) has nothing to report as an IM address. */
	bool plain = audit->options.scheme == IMADDR_SCHEME_DIRECTORY_URI && audit->uri.plain;
	bool valid = plain || imaddr_check_im_address(local, local_len, domain, field,
						      audit->im_address.data,
						      userid_is_address, &audit->checks);
	fill_values(&audit->checks, before, audit->im_address.data);
	if (!valid)
		return;
	imaddr_buf_reset(&audit->im_key);
	if (key_local) {
		imaddr_buf_append_str(&audit->im_key, key_local);
		imaddr_buf_append_char(&audit->im_key, '@');
		imaddr_buf_append_str(&audit->im_key, domain);
	} else
		imaddr_buf_append(&audit->im_key, audit->uri.key.data, audit->uri.key.len);
	user->im_address = audit->im_address.data;
	user->im_domain = domain;
	*im_key = audit->im_key.data;
	audit->key_field[IMADDR_KEY_IM_ADDRESS] = field;
	count_domain(audit, domain, unicode_domain);
	if (audit->configured_domains.used &&
	    !imaddr_strmap_find(&audit->configured_domains, domain))
		imaddr_check_add(&audit->checks, IMADDR_CODE_DOMAIN_NOT_CONFIGURED, field,
				 audit->im_address.data,
				 "IM domain '%s' is not one of the configured IM domains "
				 "(--im-domains)", domain);
}

static enum imaddr_status on_record(void *context, const struct imaddr_record *record,
				    struct imaddr_error *err)
{
	struct imaddr_audit *audit = context;
	struct imaddr_user user = { 0 };
	const char *keys[IMADDR_KEY_COUNT] = { NULL };
	enum imaddr_status status;

	if (stop_requested)
		return imaddr_error_set(err, IMADDR_ERR_INTERRUPTED, "interrupted");
	imaddr_check_list_reset(&audit->checks);
	user.ordinal = audit->totals.users + 1;
	user.line = record->line;
	user.dn = record->dn;
	user.user_id = raw_value(audit, record, IMADDR_ROLE_USER_ID);
	user.mail = raw_value(audit, record, IMADDR_ROLE_MAIL);
	user.first_name = raw_value(audit, record, IMADDR_ROLE_FIRST_NAME);
	user.last_name = raw_value(audit, record, IMADDR_ROLE_LAST_NAME);
	user.directory_uri = raw_value(audit, record, IMADDR_ROLE_DIRECTORY_URI);
	user.directory_uri_as_read = user.directory_uri;
	user.current_uri = raw_value(audit, record, IMADDR_ROLE_CURRENT_URI);

	for (size_t i = 0; i < record->problem_count; i++) {
		const struct imaddr_record_problem *problem = &record->problems[i];
		imaddr_check_add(&audit->checks, problem->code, problem->field, NULL, "%s",
				 problem->message);
	}
	check_user_id(audit, record, &user, &keys[IMADDR_KEY_USER_ID]);
	check_directory_uri(audit, record, &user, &keys[IMADDR_KEY_DIRECTORY_URI]);
	if (user.mail) {
		const struct imaddr_value *mail = &record->values[IMADDR_ROLE_MAIL];
		check_text_field(audit, record, IMADDR_ROLE_MAIL, user.mail);
		imaddr_address_mail_key(mail->data, mail->len, &audit->scratch, &audit->mail_key);
		keys[IMADDR_KEY_MAIL] = audit->mail_key.data;
		audit->key_field[IMADDR_KEY_MAIL] = mail->attribute;
	}
	check_text_field(audit, record, IMADDR_ROLE_FIRST_NAME, user.first_name);
	check_text_field(audit, record, IMADDR_ROLE_LAST_NAME, user.last_name);
	if (record->values[IMADDR_ROLE_LAST_NAME].attribute && !user.last_name &&
	    !reader_dropped(record, IMADDR_ROLE_LAST_NAME))
		imaddr_check_add(&audit->checks, IMADDR_CODE_LASTNAME_MISSING,
				 record->values[IMADDR_ROLE_LAST_NAME].attribute, "",
				 "the user has no last name: LDAP sync skips such users and BAT "
				 "inserts require one");
	compute_im_address(audit, record, &user, &keys[IMADDR_KEY_IM_ADDRESS]);

	audit->totals.users++;
	if (user.im_address)
		audit->totals.users_with_im_address++;
	for (int kind = 0; kind < IMADDR_KEY_COUNT; kind++) {
		if (keys[kind])
			imaddr_dupindex_add(&audit->duplicates[kind], keys[kind],
					    strlen(keys[kind]), user.ordinal);
	}
	status = imaddr_userstore_append(&audit->store, &user, keys, err);
	for (size_t i = 0; status == IMADDR_OK && i < audit->sink_count; i++) {
		struct imaddr_sink *sink = audit->sinks[i];
		if (sink->ops->user)
			status = sink->ops->user(sink, &user, err);
	}
	for (size_t i = 0; status == IMADDR_OK && i < audit->checks.count; i++) {
		const struct imaddr_check_item *item = &audit->checks.items[i];
		struct imaddr_finding finding = {
			.code = item->code,
			.severity = imaddr_code_severity(item->code),
			.ordinal = user.ordinal,
			.line = user.line,
			.dn = user.dn,
			.user_id = user.user_id,
			.field = item->field,
			.value = item->value,
			.message = item->message.data,
			.suggestion = item->suggestion.len ? item->suggestion.data : NULL,
		};
		status = emit_finding(audit, &finding, err);
	}
	return status;
}

/* ------------------------------------------------------------------------ */
/* After the read: duplicates.                                               */

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
};

static const char *member_value(const struct imaddr_stored_user *stored, enum imaddr_key_kind kind)
{
	switch (kind) {
	case IMADDR_KEY_USER_ID: return stored->user.user_id;
	case IMADDR_KEY_DIRECTORY_URI: return stored->user.directory_uri_as_read;
	case IMADDR_KEY_MAIL: return stored->user.mail;
	default: return stored->user.im_address;
	}
}

static void describe_member(struct imaddr_buf *out, const struct member *m)
{
	if (m->dn)
		imaddr_buf_appendf(out, "'%s'", m->dn);
	else
		imaddr_buf_appendf(out, "line %llu", (unsigned long long)m->line);
}

static enum imaddr_status report_group(struct imaddr_audit *audit, enum imaddr_key_kind kind,
				       struct member *members, size_t count,
				       struct imaddr_error *err)
{
	const struct duplicate_kind *what = &duplicate_kinds[kind];
	struct imaddr_buf message;
	enum imaddr_status status = IMADDR_OK;

	imaddr_buf_init(&message, 0);
	for (size_t i = 0; i < count && status == IMADDR_OK; i++) {
		struct member *self = &members[i];
		struct member *first = &members[i == 0 ? 1 : 0];
		bool exact = !strcmp(self->value, first->value);
		imaddr_buf_reset(&message);
		imaddr_buf_appendf(&message, "%s '%s' is shared with ", what->what, self->value);
		size_t listed = 0;
		for (size_t j = 0; j < count && listed < MAX_LISTED_DUPLICATES; j++) {
			if (j == i)
				continue;
			imaddr_buf_append_str(&message, listed ? ", " : "");
			describe_member(&message, &members[j]);
			if (strcmp(self->value, members[j].value))
				imaddr_buf_appendf(&message, " ('%s')", members[j].value);
			listed++;
		}
		if (count - 1 > listed)
			imaddr_buf_appendf(&message, " and %zu more", count - 1 - listed);
		imaddr_buf_append_str(&message, exact && count == 2 ? " (exact duplicate)"
				      : exact ? " (exact duplicate of the first)"
				      : " (differs only in case, width, Unicode form or "
					"U-label/A-label spelling)");
		struct imaddr_finding finding = {
			.code = what->code,
			.severity = imaddr_code_severity(what->code),
			.ordinal = self->ordinal,
			.line = self->line,
			.dn = self->dn,
			.user_id = self->user_id,
			.field = audit->key_field[kind],
			.value = self->value,
			.message = message.data,
			.related_ordinal = first->ordinal,
			.related_line = first->line,
			.related_dn = first->dn,
		};
		status = emit_finding(audit, &finding, err);
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

static enum imaddr_status report_candidates(struct imaddr_audit *audit, enum imaddr_key_kind kind,
					    const struct candidate_group *group,
					    struct imaddr_error *err)
{
	struct imaddr_dupindex *index = &audit->duplicates[kind];
	struct member *members = imaddr_xcalloc(group->count, sizeof(*members));
	enum imaddr_status status = IMADDR_OK;

	for (size_t i = 0; i < group->count && status == IMADDR_OK; i++) {
		struct imaddr_stored_user stored;
		status = imaddr_userstore_get(&audit->store, index->entries[group->start + i].ordinal,
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
	}
	/* Equal hashes are candidates; equal keys are duplicates. */
	if (status == IMADDR_OK)
		qsort(members, group->count, sizeof(*members), by_key_then_ordinal);
	for (size_t i = 0; status == IMADDR_OK && i < group->count;) {
		size_t j = i + 1;
		while (j < group->count && !strcmp(members[i].key, members[j].key))
			j++;
		if (j - i >= 2)
			status = report_group(audit, kind, members + i, j - i, err);
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
static void sort_duplicate_indexes(struct imaddr_audit *audit)
{
	struct sort_job mine = { audit->duplicates, 0, IMADDR_KEY_COUNT / 2 };
	struct sort_job other = { audit->duplicates, IMADDR_KEY_COUNT / 2, IMADDR_KEY_COUNT };
	pthread_t helper;
	bool threaded = imaddr_worker_start(&helper, sort_indexes, &other);

	if (!threaded)
		mine.to = IMADDR_KEY_COUNT;
	sort_indexes(&mine);
	if (threaded)
		pthread_join(helper, NULL);
}

/*
 * Groups are reported in the order of their first user, not of their hash,
 * so that the output reads like the input and does not change with the hash.
 */
static enum imaddr_status find_duplicates(struct imaddr_audit *audit, enum imaddr_key_kind kind,
					  struct imaddr_error *err)
{
	struct imaddr_dupindex *index = &audit->duplicates[kind];
	struct candidate_group *groups = NULL;
	size_t group_count = 0, group_cap = 0, position = 0, start, count;
	enum imaddr_status status = IMADDR_OK;

	while (imaddr_dupindex_next_group(index, &position, &start, &count)) {
		if (group_count == group_cap) {
			group_cap = group_cap ? group_cap * 2 : 64;
			groups = imaddr_xrealloc(groups, group_cap * sizeof(*groups));
		}
		groups[group_count++] = (struct candidate_group){
			start, count, index->entries[start].ordinal
		};
	}
	if (group_count)
		qsort(groups, group_count, sizeof(*groups), by_first_ordinal);
	for (size_t i = 0; status == IMADDR_OK && i < group_count; i++)
		status = report_candidates(audit, kind, &groups[i], err);
	free(groups);
	imaddr_dupindex_release(index);
	return status;
}

static enum imaddr_status finish_domains(struct imaddr_audit *audit, struct imaddr_error *err)
{
	struct imaddr_strmap_entry **sorted = imaddr_strmap_sorted(&audit->domains);
	size_t count = audit->domains.used;
	audit->domain_list = imaddr_xcalloc(count + 1, sizeof(*audit->domain_list));
	for (size_t i = 0; i < count; i++) {
		audit->domain_list[i].ascii = sorted[i]->key;
		audit->domain_list[i].unicode = sorted[i]->text;
		audit->domain_list[i].users = sorted[i]->count;
		audit->domain_list[i].configured = !audit->configured_domains.used ||
			imaddr_strmap_find(&audit->configured_domains, sorted[i]->key);
	}
	free(sorted);
	audit->totals.domains = audit->domain_list;
	audit->totals.domain_count = count;
	if (count <= IMADDR_AUDIT_MAX_DOMAINS)
		return IMADDR_OK;
	char message[200];
	snprintf(message, sizeof(message),
		 "the users' IM addresses span %zu IM domains; Cisco recommends at most %d "
		 "(Expressway)", count, IMADDR_AUDIT_MAX_DOMAINS);
	struct imaddr_finding finding = {
		.code = IMADDR_CODE_TOO_MANY_DOMAINS,
		.severity = imaddr_code_severity(IMADDR_CODE_TOO_MANY_DOMAINS),
		.message = message,
	};
	return emit_finding(audit, &finding, err);
}

static void abort_sinks(struct imaddr_audit *audit, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		if (audit->sinks[i]->ops->abort)
			audit->sinks[i]->ops->abort(audit->sinks[i]);
	}
}

enum imaddr_status imaddr_audit_run(struct imaddr_audit *audit, struct imaddr_reader *reader,
				    struct imaddr_run_totals *totals, struct imaddr_error *err)
{
	struct imaddr_run_info info = {
		.options = &audit->options,
		.version = IMADDR_VERSION,
		.started = (int64_t)time(NULL),
	};
	struct imaddr_reader_request request = {
		.mapping = &audit->options.mapping,
		.required_roles = 1u << IMADDR_ROLE_USER_ID,
		.record = on_record,
		.notice = on_notice,
		.context = audit,
	};
	size_t begun = 0;
	enum imaddr_status status = imaddr_userstore_init(&audit->store, err);

	if (audit->options.scheme == IMADDR_SCHEME_DIRECTORY_URI)
		request.required_roles |= 1u << IMADDR_ROLE_DIRECTORY_URI;
	for (; status == IMADDR_OK && begun < audit->sink_count; begun++) {
		struct imaddr_sink *sink = audit->sinks[begun];
		if (sink->ops->begin)
			status = sink->ops->begin(sink, &info, err);
	}
	if (status == IMADDR_OK)
		status = imaddr_reader_run(reader, &request, err);
	for (size_t i = 0; status == IMADDR_OK && i < audit->sink_count; i++) {
		struct imaddr_sink *sink = audit->sinks[i];
		if (sink->ops->input_end)
			status = sink->ops->input_end(sink, err);
	}
	if (status == IMADDR_OK)
		sort_duplicate_indexes(audit);
	for (int kind = 0; status == IMADDR_OK && kind < IMADDR_KEY_COUNT; kind++)
		status = find_duplicates(audit, kind, err);
	if (status == IMADDR_OK)
		status = finish_domains(audit, err);
	if (status != IMADDR_OK) {
		abort_sinks(audit, 0, begun);
		return status;
	}
	for (size_t i = 0; i < audit->sink_count; i++) {
		struct imaddr_sink *sink = audit->sinks[i];
		if (sink->ops->end)
			status = sink->ops->end(sink, audit, &audit->totals, err);
		if (status != IMADDR_OK) {
			/* Outputs already ended stay; the rest are thrown away. */
			abort_sinks(audit, i, audit->sink_count);
			return status;
		}
	}
	/* Outputs that end in the background (the report) finish here. */
	for (size_t i = 0; i < audit->sink_count; i++) {
		struct imaddr_sink *sink = audit->sinks[i];
		if (sink->ops->wait)
			status = sink->ops->wait(sink, err);
		if (status != IMADDR_OK) {
			abort_sinks(audit, i, audit->sink_count);
			return status;
		}
	}
	if (totals)
		*totals = audit->totals;
	return IMADDR_OK;
}

struct each_user {
	struct imaddr_audit *audit;
	imaddr_user_fn *fn;
	void *context;
};

static enum imaddr_status each_stored_user(void *context, const struct imaddr_stored_user *stored,
					   struct imaddr_error *err)
{
	struct each_user *each = context;
	struct imaddr_user user = stored->user;
	user.has_error = has_error(each->audit, user.ordinal);
	return each->fn(each->context, &user, err);
}

enum imaddr_status imaddr_audit_each_user(struct imaddr_audit *audit, imaddr_user_fn *fn,
					  void *context, struct imaddr_error *err)
{
	struct each_user each = { audit, fn, context };
	return imaddr_userstore_each(&audit->store, each_stored_user, &each, err);
}
