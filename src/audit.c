#include "audit.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "audit_internal.h"
#include "sink_bat.h"
#include "confusables.h"
#include "duplicates.h"
#include "reader_thread.h"
#include "rules_user.h"
#include "sink.h"
#include "spool.h"
#include "error.h"
#include "icu.h"
#include "strmap.h"
#include "user_cache.h"
#include "waivers.h"

/* Cisco's Expressway guidance: at most this many IM domains. */
#define MAX_DOMAINS 75

void imaddr_audit_request_stop(void)
{
	imaddr_stop_request();
}

void imaddr_audit_options_init(struct imaddr_audit_options *options)
{
	/* Nothing to set up: imaddr_audit_new refuses the NULL that follows. */
	if (!options)
		return;
	memset(options, 0, sizeof(*options));
	options->scheme = IMADDR_SCHEME_USERID;
	options->max_shrink_percent = 10;
	imaddr_mapping_init(&options->mapping);
}

static bool is_scheme(enum imaddr_scheme scheme)
{
	return (unsigned)scheme <= IMADDR_SCHEME_DIRECTORY_URI;
}

enum imaddr_status imaddr_audit_new(const struct imaddr_audit_options *options,
				    struct imaddr_audit **out, struct imaddr_error *err)
{
	if (!out)
		return imaddr_error_null(err, __func__, "out");
	*out = NULL;
	if (!options)
		return imaddr_error_null(err, __func__, "options");
	/* Anything else would be checked as neither scheme and stored as the URI one. */
	if (!is_scheme(options->scheme))
		return imaddr_error_set(err, IMADDR_ERR_USAGE,
					"the scheme %d is none of enum imaddr_scheme's",
					(int)options->scheme);
	if (options->premigration && !is_scheme(options->current_scheme))
		return imaddr_error_set(err, IMADDR_ERR_USAGE,
					"today's scheme %d is none of enum imaddr_scheme's",
					(int)options->current_scheme);
	enum imaddr_status status = imaddr_icu_init(err);
	if (status != IMADDR_OK)
		return status;
	struct imaddr_audit *audit = imaddr_xcalloc(1, sizeof(*audit));
	audit->options = *options;
	for (int code = 0; code < IMADDR_CODE_COUNT; code++) {
		if (imaddr_code_severity(code) == IMADDR_SEVERITY_ERROR)
			audit->error_codes |= (uint64_t)1 << code;
	}
	imaddr_sink_driver_init(&audit->sinks);
	imaddr_duplicates_init(&audit->duplicates);
	imaddr_confusables_init(&audit->confusables);
	imaddr_strmap_init(&audit->domains);
	audit->cache.fd = -1;
	imaddr_user_cache_finder_init(&audit->finder_here);
	imaddr_user_cache_finder_init(&audit->finder_reader);
	imaddr_buf_init(&audit->encoded_here, 0);
	status = imaddr_rules_user_init(&audit->rules, &audit->options, err);
	if (status == IMADDR_OK)
		status = imaddr_rules_user_init(&audit->rules_here, &audit->options, err);
	if (status == IMADDR_OK && options->waivers) {
		audit->waivers = imaddr_xmalloc(sizeof(*audit->waivers));
		imaddr_waivers_init(audit->waivers);
		status = imaddr_waivers_load(audit->waivers, options->waivers, err);
	}
	if (status != IMADDR_OK) {
		imaddr_audit_free(audit);
		return status;
	}
	*out = audit;
	return IMADDR_OK;
}

enum imaddr_status imaddr_audit_add_sink(struct imaddr_audit *audit, struct imaddr_sink *sink)
{
	const char *refused = NULL;
	/* No audit to take it over: the output stays the caller's to free. */
	if (!audit)
		return IMADDR_ERR_USAGE;
	/* A NULL is most likely an open that failed unseen: its run would lack an output. */
	if (!sink)
		refused = "an output given to the audit was NULL";
	/* Taken twice, it would be freed twice. */
	else if (sink->taken)
		refused = "an output was given to an audit twice";
	if (refused) {
		if (!audit->refused_sink)
			audit->refused_sink = refused;
		return IMADDR_ERR_USAGE;
	}
	sink->taken = true;
	imaddr_sink_driver_add(&audit->sinks, sink);
	return IMADDR_OK;
}

void imaddr_audit_free(struct imaddr_audit *audit)
{
	if (!audit)
		return;
	imaddr_sink_driver_release(&audit->sinks);
	imaddr_rules_user_release(&audit->rules);
	imaddr_rules_user_release(&audit->rules_here);
	imaddr_duplicates_release(&audit->duplicates);
	imaddr_confusables_release(&audit->confusables);
	imaddr_strmap_release(&audit->domains);
	imaddr_spool_release(&audit->spool);
	imaddr_user_cache_close(&audit->cache);
	imaddr_user_cache_finder_release(&audit->finder_here);
	imaddr_user_cache_finder_release(&audit->finder_reader);
	imaddr_buf_release(&audit->encoded_here);
	free(audit->cache_problem);
	free(audit->finding_codes);
	free(audit->waived_codes);
	if (audit->waivers)
		imaddr_waivers_release(audit->waivers);
	free(audit->waivers);
	free(audit->domain_list);
	for (int role = 0; role < IMADDR_ROLE_COUNT; role++)
		free(audit->role_attribute[role]);
	free(audit);
}

/* ------------------------------------------------------------------------ */

/* Every code the user has, waived or not. */
static uint64_t codes_of(const struct imaddr_audit *audit, uint64_t ordinal)
{
	if (ordinal >= audit->finding_codes_size)
		return 0;
	return audit->finding_codes[ordinal] |
	       (audit->waived_codes ? audit->waived_codes[ordinal] : 0);
}

_Static_assert(IMADDR_CODE_COUNT <= 64, "a user's finding codes are bits of a uint64_t");

static bool any_error(const struct imaddr_audit *audit, uint64_t codes)
{
	return (codes & audit->error_codes) != 0;
}

static uint64_t *grow_codes(uint64_t *codes, uint64_t used, uint64_t size)
{
	codes = imaddr_xrealloc(codes, size * sizeof(*codes));
	memset(codes + used, 0, (size - used) * sizeof(*codes));
	return codes;
}

/* A finding's code in its user's codes: the waived ones apart, if any. */
static void note_code(struct imaddr_audit *audit, uint64_t ordinal, enum imaddr_code code,
		      bool waived)
{
	if (ordinal >= audit->finding_codes_size) {
		uint64_t size = audit->finding_codes_size ? audit->finding_codes_size : 4096;
		while (size <= ordinal)
			size *= 2;
		audit->finding_codes = grow_codes(audit->finding_codes, audit->finding_codes_size,
						  size);
		if (audit->waivers)
			audit->waived_codes = grow_codes(audit->waived_codes,
							 audit->finding_codes_size, size);
		audit->finding_codes_size = size;
	}
	if (waived) {
		audit->waived_codes[ordinal] |= (uint64_t)1 << code;
		return;
	}
	uint64_t *codes = &audit->finding_codes[ordinal];
	if (ordinal > 0 && imaddr_code_severity(code) == IMADDR_SEVERITY_ERROR &&
	    !any_error(audit, *codes))
		audit->totals.users_with_error++;
	*codes |= (uint64_t)1 << code;
}

/* A finding a waiver accepts: to every output with its reason, counted apart. */
static enum imaddr_status emit_waived(struct imaddr_audit *audit,
				      const struct imaddr_finding *finding,
				      const struct imaddr_waiver *waiver, struct imaddr_error *err)
{
	struct imaddr_finding waived = *finding;
	waived.waiver_reason = waiver->reason;
	waived.waiver_expires = waiver->expires;
	waived.waiver_source = waiver->source;
	audit->totals.waived++;
	audit->totals.waived_by_code[finding->code]++;
	note_code(audit, finding->ordinal, finding->code, true);
	return imaddr_sink_driver_finding(&audit->sinks, &waived, err);
}

static enum imaddr_status emit_finding(void *context, const struct imaddr_finding *finding,
				       struct imaddr_error *err)
{
	struct imaddr_audit *audit = context;
	const struct imaddr_waiver *waiver;
	if (audit->waivers && (waiver = imaddr_waivers_match(audit->waivers, finding)))
		return emit_waived(audit, finding, waiver, err);
	audit->totals.by_code[finding->code]++;
	audit->totals.by_severity[finding->severity]++;
	note_code(audit, finding->ordinal, finding->code, false);
	return imaddr_sink_driver_finding(&audit->sinks, finding, err);
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
		.cluster = ((struct imaddr_audit *)context)->cluster,
	};
	return emit_finding(context, &finding, err);
}

static void count_domain(struct imaddr_audit *audit, const char *ascii, const char *unicode)
{
	struct imaddr_strmap_entry *entry = imaddr_strmap_get(&audit->domains, ascii);
	if (!entry->text)
		entry->text = imaddr_xstrdup(unicode);
	entry->count++;
}

/* Which attribute fed each role: the first user's, and whether others differ. */
static void note_roles(struct imaddr_audit *audit, const struct imaddr_record *record)
{
	for (int role = 0; role < IMADDR_ROLE_COUNT; role++) {
		const char *name = record->values[role].attribute;
		const char *first = audit->role_attribute[role];
		if (!audit->users_numbered) {
			audit->role_attribute[role] = name ? imaddr_xstrdup(name) : NULL;
			audit->input.role_attribute[role] = audit->role_attribute[role];
		} else if (!audit->input.role_attribute_varies[role] &&
			   (!first != !name || (name && strcasecmp(first, name)))) {
			audit->input.role_attribute_varies[role] = true;
		}
	}
}

/* The user's skeletons, for confusable, with the attributes the keys came from. */
static void add_skeletons(struct imaddr_audit *audit, const struct imaddr_checked_user *checked)
{
	static const enum imaddr_key_kind key_of[IMADDR_CONFUSABLE_KINDS] = {
		[IMADDR_CONFUSABLE_USER_ID] = IMADDR_KEY_USER_ID,
		[IMADDR_CONFUSABLE_IM_ADDRESS] = IMADDR_KEY_IM_ADDRESS,
	};
	for (int kind = 0; kind < IMADDR_CONFUSABLE_KINDS; kind++) {
		const char *skeleton = checked->skeleton[kind];
		if (skeleton)
			imaddr_confusables_add(&audit->confusables, kind,
					       checked->spooled.user.ordinal, skeleton,
					       strlen(skeleton), checked->spooled.keys[key_of[kind]],
					       checked->key_field[key_of[kind]]);
	}
}

/* Each duplicates' index, sorted, before it goes: the ASCII look-alikes are in it. */
static void look_up_lookalikes(void *context, enum imaddr_key_kind kind,
			       const struct imaddr_duplicates *duplicates)
{
	struct imaddr_audit *audit = context;
	imaddr_confusables_look_up(&audit->confusables, kind, duplicates, &audit->domains);
}

_Static_assert(IMADDR_FIELDS_SKELETONS == IMADDR_CONFUSABLE_KINDS, "fields.h's skeletons");
_Static_assert(IMADDR_FIELDS_MAX_CHECKS == IMADDR_RULES_MAX_FINDINGS, "fields.h's checks");

/* A user's number, in input order, and the attributes its values came from. */
uint64_t imaddr_audit_number_user(struct imaddr_audit *audit, const struct imaddr_record *record)
{
	note_roles(audit, record);
	return ++audit->users_numbered;
}

/*
 * A record through the rules: the part of a user that needs nothing of the
 * run but the rules, so that it can run on the thread reading the file. The
 * strings are the rules' and the record's until the next check.
 */
void imaddr_audit_check_record(struct imaddr_audit *audit, struct imaddr_rules_user *rules,
			       const struct imaddr_record *record, uint64_t ordinal,
			       struct imaddr_checked_user *checked)
{
	imaddr_rules_user_check(rules, record, ordinal, &checked->spooled);
	checked->spooled.user.cluster = audit->cluster;
	for (int kind = 0; kind < IMADDR_KEY_COUNT; kind++)
		checked->key_field[kind] = rules->key_field[kind];
	/* Mostly the A-label itself: then not copied between threads, nor cached. */
	const char *unicode = rules->im_domain_unicode, *ascii = checked->spooled.user.im_domain;
	checked->im_domain_unicode = unicode && (!ascii || strcmp(unicode, ascii)) ? unicode : NULL;
	checked->change = rules->change;
	for (int kind = 0; kind < IMADDR_CONFUSABLE_KINDS; kind++)
		checked->skeleton[kind] = rules->skeleton[kind] ? rules->skeleton[kind]->data : NULL;
	checked->check_count = rules->checks.count;
	for (size_t i = 0; i < rules->checks.count; i++) {
		const struct imaddr_rules_finding *item = &rules->checks.items[i];
		checked->checks[i] = (struct imaddr_checked_finding){
			.code = item->code,
			.field = item->field,
			.value = item->value,
			.message = item->message.data,
			.suggestion = item->suggestion.len ? item->suggestion.data : NULL,
		};
	}
}

static enum imaddr_status spool_user(struct imaddr_audit *audit,
				     const struct imaddr_checked_user *checked,
				     const struct imaddr_audit_placement *place,
				     struct imaddr_error *err)
{
	const struct imaddr_user *user = &checked->spooled.user;
	if (!place->key) {
		if (place->encoded)
			return imaddr_spool_append_encoded(&audit->spool, NULL, place->encoded,
							   place->encoded_size, user->line, NULL,
							   NULL, err);
		return imaddr_spool_append(&audit->spool, &checked->spooled, err);
	}
	uint64_t offset = place->offset;
	uint32_t entry_size = place->entry_size;
	if (place->kept) {
		audit->cache_kept++;
		imaddr_spool_append_kept(&audit->spool, offset, entry_size, user->line);
	} else {
		audit->cache_checked++;
		/* The whole checked user: what the next run needs to take it as it is. */
		const char *encoded = place->encoded;
		size_t size = place->encoded_size;
		if (!encoded) {
			imaddr_buf_reset(&audit->encoded_here);
			imaddr_fields_encode_checked_user(&audit->encoded_here, checked);
			encoded = audit->encoded_here.data;
			size = audit->encoded_here.len;
		}
		uint8_t tag[IMADDR_SPOOL_TAG_SIZE];
		imaddr_user_cache_tag(&audit->cache, place->key, encoded, size, tag);
		enum imaddr_status status = imaddr_spool_append_encoded(
			&audit->spool, tag, encoded, size, user->line, &offset, &entry_size, err);
		if (status != IMADDR_OK)
			return status;
	}
	imaddr_user_cache_note(&audit->cache, place->key, offset, entry_size);
	return IMADDR_OK;
}

/*
 * The run's part of a checked user: counts, duplicate and look-alike
 * indexes, the spool, the outputs and the findings.
 */
enum imaddr_status imaddr_audit_take_user(struct imaddr_audit *audit,
					  const struct imaddr_checked_user *checked,
					  const struct imaddr_audit_placement *place,
					  struct imaddr_error *err)
{
	const struct imaddr_user *user = &checked->spooled.user;
	enum imaddr_status status;

	if (imaddr_stop_requested())
		return imaddr_error_set(err, IMADDR_ERR_INTERRUPTED, "interrupted");
	if (user->ordinal > IMADDR_DUPINDEX_MAX_ORDINAL)
		return imaddr_error_set(err, IMADDR_ERR_INPUT,
					"more than %lu users: one audit reads at most that many",
					(unsigned long)IMADDR_DUPINDEX_MAX_ORDINAL);
	audit->totals.users++;
	if (user->im_address) {
		audit->totals.users_with_im_address++;
		count_domain(audit, user->im_domain, checked->im_domain_unicode
							      ? checked->im_domain_unicode
							      : user->im_domain);
	}
	audit->totals.im_address_changes += checked->change == IMADDR_RULES_CHANGED;
	audit->totals.im_address_lost += checked->change == IMADDR_RULES_LOST;
	audit->totals.im_address_gained += checked->change == IMADDR_RULES_GAINED;
	imaddr_duplicates_add(&audit->duplicates, &checked->spooled, checked->key_field);
	add_skeletons(audit, checked);
	status = spool_user(audit, checked, place, err);
	uint64_t codes = 0;
	for (uint64_t i = 0; i < checked->check_count; i++)
		codes |= (uint64_t)1 << checked->checks[i].code;
	if (status == IMADDR_OK)
		status = imaddr_sink_driver_user(&audit->sinks, user, codes, any_error(audit, codes),
						 err);
	for (uint64_t i = 0; status == IMADDR_OK && i < checked->check_count; i++) {
		const struct imaddr_checked_finding *item = &checked->checks[i];
		struct imaddr_finding finding = {
			.code = (enum imaddr_code)item->code,
			.severity = imaddr_code_severity((enum imaddr_code)item->code),
			.ordinal = user->ordinal,
			.line = user->line,
			.dn = user->dn,
			.user_id = user->user_id,
			.field = item->field,
			.value = item->value,
			.message = item->message,
			.suggestion = item->suggestion,
			.cluster = user->cluster,
		};
		status = emit_finding(audit, &finding, err);
	}
	return status;
}

/*
 * A record on the audit's thread, numbered `ordinal`: from the user cache
 * when it has seen it, else through `rules`.
 */
enum imaddr_status imaddr_audit_take_record(struct imaddr_audit *audit,
					    struct imaddr_rules_user *rules,
					    const struct imaddr_record *record, uint64_t ordinal,
					    const uint8_t *key_given, struct imaddr_error *err)
{
	struct imaddr_checked_user checked;
	uint8_t key[IMADDR_SPOOL_KEY_SIZE];
	struct imaddr_audit_placement place = { 0 };

	if (imaddr_user_cache_is_open(&audit->cache)) {
		if (key_given)
			memcpy(key, key_given, sizeof(key));
		else
			imaddr_user_cache_record_key(&audit->cache, &audit->finder_here, record,
						     audit->cluster, key);
		place.key = key;
		size_t size;
		const char *found = imaddr_user_cache_find(&audit->cache, &audit->finder_here, key,
							   &place.offset, &place.entry_size, &size);
		const char *p = found, *spooled_end;
		if (found && imaddr_fields_decode_checked_user(&p, found + size, &checked,
							       &spooled_end)) {
			place.kept = true;
			checked.spooled.user.ordinal = ordinal;
			checked.spooled.user.line = record->line;
			return imaddr_audit_take_user(audit, &checked, &place, err);
		}
	}
	imaddr_audit_check_record(audit, rules, record, ordinal, &checked);
	return imaddr_audit_take_user(audit, &checked, &place, err);
}

/* A record read on the audit's thread (standard input, LDAP). */
static enum imaddr_status on_record(void *context, const struct imaddr_record *record,
				    struct imaddr_error *err)
{
	struct imaddr_audit *audit = context;
	uint64_t ordinal = imaddr_audit_number_user(audit, record);
	return imaddr_audit_take_record(audit, &audit->rules, record, ordinal, NULL, err);
}

/* ------------------------------------------------------------------------ */
/* After the read. */

static enum imaddr_status finish_domains(struct imaddr_audit *audit, struct imaddr_error *err)
{
	struct imaddr_strmap_entry **sorted = imaddr_strmap_sorted(&audit->domains);
	size_t count = audit->domains.used;
	audit->domain_list = imaddr_xcalloc(count + 1, sizeof(*audit->domain_list));
	for (size_t i = 0; i < count; i++) {
		audit->domain_list[i].ascii = sorted[i]->key;
		audit->domain_list[i].unicode = sorted[i]->text;
		audit->domain_list[i].users = sorted[i]->count;
		audit->domain_list[i].configured =
			imaddr_rules_user_domain_configured(&audit->rules, sorted[i]->key);
	}
	free(sorted);
	audit->totals.domains = audit->domain_list;
	audit->totals.domain_count = count;
	if (count <= MAX_DOMAINS)
		return IMADDR_OK;
	char message[200];
	snprintf(message, sizeof(message),
		 "the users' IM addresses span %zu IM domains; Cisco recommends at most %d "
		 "(Expressway)", count, MAX_DOMAINS);
	struct imaddr_finding finding = {
		.code = IMADDR_CODE_TOO_MANY_DOMAINS,
		.severity = imaddr_code_severity(IMADDR_CODE_TOO_MANY_DOMAINS),
		.message = message,
	};
	return emit_finding(audit, &finding, err);
}

/* What the waivers file itself amounts to: waivers expired, and waivers unused. */
static enum imaddr_status report_waivers(struct imaddr_audit *audit, struct imaddr_error *err)
{
	struct imaddr_finding finding;
	struct imaddr_buf message;
	enum imaddr_status status = IMADDR_OK;

	if (!audit->waivers)
		return IMADDR_OK;
	imaddr_buf_init(&message, 0);
	for (size_t i = 0; status == IMADDR_OK && i < audit->waivers->count; i++) {
		if (imaddr_waivers_finding(audit->waivers, i, &finding, &message))
			status = emit_finding(audit, &finding, err);
	}
	imaddr_buf_release(&message);
	return status;
}

/* The run's date as a waiver's expiry is written, in UTC as the report's times. */
static void start_waivers(struct imaddr_audit *audit, int64_t started)
{
	char today[IMADDR_WAIVERS_DATE_SIZE] = "0000-00-00";
	time_t seconds = (time_t)started;
	struct tm tm;

	if (!audit->waivers)
		return;
	if (gmtime_r(&seconds, &tm))
		strftime(today, sizeof(today), "%Y-%m-%d", &tm);
	imaddr_waivers_start(audit->waivers, today);
}

struct final_pass {
	struct imaddr_audit *audit;
	imaddr_sink_deliver_fn *deliver;
	struct imaddr_sink_driver *driver;
};

static enum imaddr_status deliver_spooled(void *context, struct imaddr_spooled_user *spooled,
					  struct imaddr_error *err)
{
	struct final_pass *pass = context;
	struct imaddr_user *user = &spooled->user;
	user->finding_codes = codes_of(pass->audit, user->ordinal);
	user->has_error = any_error(pass->audit, user->finding_codes);
	return pass->deliver(pass->driver, user, err);
}

static bool replays(const void *driver, uint64_t ordinal)
{
	return imaddr_sink_driver_replays(driver, ordinal);
}

/* The final pass: the users an output wants, in input order, findings final. */
static enum imaddr_status replay_users(void *context, imaddr_sink_deliver_fn *deliver,
				       struct imaddr_sink_driver *driver, struct imaddr_error *err)
{
	struct final_pass pass = { context, deliver, driver };
	enum imaddr_status status = imaddr_spool_each_wanted(&pass.audit->spool, replays, driver,
							     deliver_spooled, &pass, err);
	/* While the outputs finish: the commit then only renames it. */
	if (status == IMADDR_OK && imaddr_user_cache_is_open(&pass.audit->cache))
		status = imaddr_user_cache_write_index(&pass.audit->cache, err);
	return status;
}

/*
 * A regular file is parsed on a thread of its own. Standard input, pipes
 * and LDAP are not: a worker blocked waiting for them would hold up the end
 * of an interrupted run, and a directory server is slower than the audit.
 */
static struct imaddr_reader *schedule_reader(struct imaddr_audit *audit,
					     struct imaddr_reader *reader, bool *wrapped)
{
	*wrapped = reader->regular_file;
	audit->check_stage = (struct imaddr_reader_stage){
		.context = audit, .encode = imaddr_audit_stage_check, .replay = imaddr_audit_stage_take,
	};
	return *wrapped ? imaddr_reader_thread_wrap_staged(reader, &audit->check_stage) : reader;
}

/* The wrapper is the run's: the caller keeps owning the reader inside it. */
static void unschedule_reader(struct imaddr_reader *reader, bool wrapped)
{
	if (wrapped)
		imaddr_reader_thread_unwrap(reader);
}

/* The reader's description of its input with the roles the audit saw. */
static void describe_input(struct imaddr_audit *audit, const struct imaddr_reader *reader)
{
	struct imaddr_input_description *input = &audit->input;
	bool varies[IMADDR_ROLE_COUNT];
	memcpy(varies, input->role_attribute_varies, sizeof(varies));
	*input = reader->input;
	for (int role = 0; role < IMADDR_ROLE_COUNT; role++) {
		input->role_attribute[role] = audit->role_attribute[role];
		input->role_attribute_varies[role] = varies[role];
	}
	if (!input->format)
		input->format = reader->ops->name;
	audit->totals.input = input;
}

/* Reads one input, on a thread of its own when it is a file. */
static enum imaddr_status read_input(struct imaddr_audit *audit, const struct imaddr_input *input,
				     const struct imaddr_reader_request *request,
				     struct imaddr_error *err)
{
	bool wrapped;
	audit->cluster = input->cluster;
	struct imaddr_reader *scheduled = schedule_reader(audit, input->reader, &wrapped);
	uint64_t users_before = audit->totals.users;
	enum imaddr_status status = imaddr_reader_run(scheduled, request, err);
	unschedule_reader(scheduled, wrapped);
	/* An input of no one is a wrong input or a wrong search, not a clean run. */
	if (status == IMADDR_OK && audit->totals.users == users_before)
		status = imaddr_reader_no_users(input->reader, err);
	return status;
}

/* The user cache's line among the outputs: whether it was used, and how much it saved. */
static void note_cache(struct imaddr_audit *audit)
{
	const char *dir = audit->options.user_cache_dir;
	struct imaddr_buf line;

	if (!dir || audit->options.premigration)
		return;
	imaddr_buf_init(&line, 0);
	imaddr_buf_appendf(&line, "user cache '%s': ", dir);
	if (audit->cache_problem)
		imaddr_buf_appendf(&line, "not used (%s); every user checked", audit->cache_problem);
	else if (audit->cache_in_use)
		imaddr_buf_append_str(&line, "not used, another run of the label holds it; "
					     "every user checked");
	else if (audit->cache.previous_count)
		imaddr_buf_appendf(&line, "%llu users unchanged since the label's last run, taken "
				   "from it; %llu checked",
				   (unsigned long long)audit->cache_kept,
				   (unsigned long long)audit->cache_checked);
	else
		imaddr_buf_appendf(&line, "%s%s%s%llu users checked and kept, so that the "
				   "label's next run checks only the users that change",
				   audit->cache.afresh ? "started afresh (" : "",
				   audit->cache.afresh ? audit->cache.afresh : "",
				   audit->cache.afresh ? "); " : "",
				   (unsigned long long)audit->cache_checked);
	imaddr_sink_driver_add_note(&audit->sinks, line.data);
	imaddr_buf_release(&line);
}

/* A failed run leaves no user cache (nor its directory) that it made. */
static void discard_cache(struct imaddr_audit *audit)
{
	imaddr_spool_release(&audit->spool);
	imaddr_user_cache_discard(&audit->cache);
}

/* The spool: in the label's user cache when the run has one free, else a temporary file. */
static enum imaddr_status open_spool(struct imaddr_audit *audit, struct imaddr_error *err)
{
	bool in_use = false;
	/*
	 * A pre-migration run is a one-off before a change, and each of its
	 * users carries the change of its IM address: a cache would cost its
	 * first run a third more writing for a second run that seldom comes.
	 */
	if (audit->options.user_cache_dir && !audit->options.premigration) {
		struct imaddr_error cache_err = { "" };
		/* A cache saves time, nothing more: a run goes on without one it cannot use. */
		if (imaddr_user_cache_open_label(&audit->cache, &audit->options, &in_use,
						 &cache_err) != IMADDR_OK)
			audit->cache_problem = imaddr_xstrdup(cache_err.message);
		audit->cache_in_use = in_use;
	}
	if (!imaddr_user_cache_is_open(&audit->cache))
		return imaddr_spool_init(&audit->spool, err);
	imaddr_spool_init_cache(&audit->spool, audit->cache.file, audit->cache.size,
				audit->cache.path);
	return IMADDR_OK;
}

enum imaddr_status imaddr_audit_run_inputs(struct imaddr_audit *audit,
					   const struct imaddr_input *inputs, size_t count,
					   struct imaddr_run_totals *totals, struct imaddr_error *err)
{
	if (!audit)
		return imaddr_error_null(err, __func__, "audit");
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
	if (audit->refused_sink)
		return imaddr_error_set(err, IMADDR_ERR_USAGE, "%s", audit->refused_sink);
	/* Its spool, indexes and outputs hold one run: a second would mix two. */
	if (audit->ran)
		return imaddr_error_set(err, IMADDR_ERR_USAGE,
					"an audit runs once: make a new one for another run");
	if (!count || !inputs)
		return imaddr_error_set(err, IMADDR_ERR_USAGE, "an audit needs an input");
	for (size_t i = 0; i < count; i++) {
		if (!inputs[i].reader)
			return imaddr_error_set(err, IMADDR_ERR_USAGE, "the reader of input %zu is NULL",
						i + 1);
		/* Read again, it would give no one: a wrong "no users" at best. */
		if (inputs[i].reader->ran)
			return imaddr_error_set(err, IMADDR_ERR_USAGE, "the reader of input %zu has "
						"run: a reader runs once, open the input again for "
						"another run", i + 1);
		for (size_t j = 0; j < i; j++) {
			if (inputs[j].reader == inputs[i].reader)
				return imaddr_error_set(err, IMADDR_ERR_USAGE, "inputs %zu and %zu have "
							"the same reader: a reader runs once",
							j + 1, i + 1);
			if (imaddr_bat_clusters_clash(inputs[j].cluster, inputs[i].cluster))
				return imaddr_error_set(err, IMADDR_ERR_USAGE,
					"clusters '%s' and '%s' differ only in case or in characters "
					"a file name cannot hold: their BAT files would have one name; "
					"name them apart", inputs[j].cluster, inputs[i].cluster);
		}
	}
	audit->ran = true;
	enum imaddr_status status = open_spool(audit, err);

	if (audit->options.scheme == IMADDR_SCHEME_DIRECTORY_URI)
		request.required_roles |= 1u << IMADDR_ROLE_DIRECTORY_URI;
	start_waivers(audit, info.started);
	if (status == IMADDR_OK)
		status = imaddr_sink_driver_begin(&audit->sinks, &info, err);
	for (size_t i = 0; status == IMADDR_OK && i < count; i++)
		status = read_input(audit, &inputs[i], &request, err);
	audit->cluster = NULL;
	/* Several inputs: the first one's description (see the summary). */
	if (count)
		describe_input(audit, inputs[0].reader);
	if (status == IMADDR_OK)
		status = imaddr_sink_driver_input_end(&audit->sinks, err);
	if (status == IMADDR_OK)
		status = imaddr_duplicates_report(&audit->duplicates, &audit->spool, emit_finding,
						  look_up_lookalikes, audit, err);
	if (status == IMADDR_OK)
		status = imaddr_confusables_report(&audit->confusables, &audit->spool, emit_finding,
						   audit, err);
	imaddr_confusables_release(&audit->confusables);
	if (status == IMADDR_OK)
		status = finish_domains(audit, err);
	if (status == IMADDR_OK)
		status = report_waivers(audit, err);
	if (status == IMADDR_OK) {
		note_cache(audit);
		status = imaddr_sink_driver_end(&audit->sinks, replay_users, audit, &audit->totals,
						err);
	}
	else
		imaddr_sink_driver_abort(&audit->sinks);
	/*
	 * After the outputs: a run that failed leaves the last good run's index.
	 * One the report recorded keeps its own, though an output after the
	 * commit point failed (--json - or the summary on a full disk): the
	 * label's next run follows this one.
	 */
	bool cache_kept = false;
	if ((status == IMADDR_OK || audit->sinks.decided) &&
	    imaddr_user_cache_is_open(&audit->cache)) {
		struct imaddr_error cache_err = { "" };
		enum imaddr_status cache_status = imaddr_user_cache_commit(
			&audit->cache, status == IMADDR_OK ? err : &cache_err);
		cache_kept = cache_status == IMADDR_OK;
		if (status == IMADDR_OK)
			status = cache_status;
	}
	if (status != IMADDR_OK && !cache_kept)
		discard_cache(audit);
	if (status == IMADDR_OK && totals) {
		*totals = audit->totals;
		/* The report's, alive with its sink until imaddr_audit_free. */
		totals->changes = audit->sinks.told.changes;
		/* The driver's, alike. */
		totals->outputs = audit->sinks.told.outputs;
	}
	return status;
}

enum imaddr_status imaddr_audit_run(struct imaddr_audit *audit, struct imaddr_reader *reader,
				    struct imaddr_run_totals *totals, struct imaddr_error *err)
{
	/* Named here: imaddr_audit_run_inputs is not what the caller called. */
	if (!audit)
		return imaddr_error_null(err, __func__, "audit");
	struct imaddr_input input = { .reader = reader };
	return imaddr_audit_run_inputs(audit, &input, 1, totals, err);
}
