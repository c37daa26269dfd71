#include "rules_user.h"

#include <string.h>
#include <strings.h>

#include "csv_field.h"
#include "error.h"
#include "mapping.h"
#include "normalize.h"
#include "spoof.h"

static enum imaddr_status load_configured_domains(struct imaddr_rules_user *rules,
						  struct imaddr_error *err)
{
	const char *list = rules->options->im_domains;
	while (list && *list) {
		size_t len = strcspn(list, ",");
		size_t start;
		size_t trimmed = imaddr_normalize_trim(list, len, &start);
		if (trimmed) {
			if (!imaddr_rules_domain(list + start, trimmed, NULL, NULL, &rules->scratch,
						 NULL))
				return imaddr_error_set(err, IMADDR_ERR_USAGE,
					"--im-domains: '%.*s' is not a valid IM domain",
					(int)trimmed, list + start);
			imaddr_strmap_get(&rules->configured_domains,
					  rules->scratch.domain_ascii.data);
		}
		list += len;
		if (*list == ',')
			list++;
	}
	return IMADDR_OK;
}

/* Today's default domain: the target's unless the cluster has another now. */
static enum imaddr_status load_current_default_domain(struct imaddr_rules_user *rules,
						      struct imaddr_error *err)
{
	const char *domain = rules->options->current_default_domain;
	const char *option = "--current-default-domain";
	if (!domain || !*domain) {
		domain = rules->options->default_domain;
		option = "--default-domain";
	}
	if (!domain || !*domain)
		return imaddr_error_set(err, IMADDR_ERR_USAGE,
					"today's userid scheme needs --current-default-domain");
	imaddr_rules_findings_reset(&rules->quiet);
	if (!imaddr_rules_domain(domain, strlen(domain), NULL, NULL,
				 &rules->current_default_domain, &rules->quiet))
		return imaddr_error_set(err, IMADDR_ERR_USAGE, "%s: %s", option,
					rules->quiet.items[0].message.data);
	return IMADDR_OK;
}

enum imaddr_status imaddr_rules_user_init(struct imaddr_rules_user *rules,
					  const struct imaddr_audit_options *options,
					  struct imaddr_error *err)
{
	memset(rules, 0, sizeof(*rules));
	rules->options = options;
	imaddr_rules_address_init(&rules->default_domain);
	imaddr_rules_address_init(&rules->current_default_domain);
	imaddr_rules_address_init(&rules->current_uri);
	imaddr_rules_findings_init(&rules->quiet);
	imaddr_buf_init(&rules->before, 0);
	imaddr_buf_init(&rules->before_key, 0);
	imaddr_rules_address_init(&rules->uri);
	imaddr_rules_address_init(&rules->scratch);
	imaddr_rules_findings_init(&rules->checks);
	imaddr_strmap_init(&rules->configured_domains);
	imaddr_strmap_init(&rules->domain_cache);
	rules->uri.domain_cache = &rules->domain_cache;
	rules->scratch.domain_cache = &rules->domain_cache;
	rules->current_uri.domain_cache = &rules->domain_cache;
	for (int role = 0; role < IMADDR_ROLE_COUNT; role++)
		imaddr_buf_init(&rules->raw[role], 0);
	imaddr_buf_init(&rules->userid, 0);
	imaddr_buf_init(&rules->userid_key, 0);
	imaddr_buf_init(&rules->mail_key, 0);
	imaddr_buf_init(&rules->im_address, 0);
	imaddr_buf_init(&rules->im_key, 0);
	for (int kind = 0; kind < IMADDR_CONFUSABLE_KINDS; kind++)
		imaddr_buf_init(&rules->skeleton_text[kind], 0);

	const char *domain = options->default_domain;
	if (options->scheme == IMADDR_SCHEME_USERID && (!domain || !*domain))
		return imaddr_error_set(err, IMADDR_ERR_USAGE,
					"the userid scheme needs --default-domain");
	if (domain && *domain &&
	    !imaddr_rules_domain(domain, strlen(domain), NULL, NULL, &rules->default_domain,
				 &rules->checks))
		return imaddr_error_set(err, IMADDR_ERR_USAGE, "--default-domain: %s",
					rules->checks.items[0].message.data);
	enum imaddr_status status = load_configured_domains(rules, err);
	if (status == IMADDR_OK && options->premigration &&
	    options->current_scheme == IMADDR_SCHEME_USERID)
		status = load_current_default_domain(rules, err);
	return status;
}

void imaddr_rules_user_release(struct imaddr_rules_user *rules)
{
	imaddr_rules_address_release(&rules->default_domain);
	imaddr_rules_address_release(&rules->current_default_domain);
	imaddr_rules_address_release(&rules->current_uri);
	imaddr_rules_findings_release(&rules->quiet);
	imaddr_buf_release(&rules->before);
	imaddr_buf_release(&rules->before_key);
	imaddr_rules_address_release(&rules->uri);
	imaddr_rules_address_release(&rules->scratch);
	imaddr_rules_findings_release(&rules->checks);
	imaddr_strmap_release(&rules->configured_domains);
	imaddr_strmap_release(&rules->domain_cache);
	for (int role = 0; role < IMADDR_ROLE_COUNT; role++)
		imaddr_buf_release(&rules->raw[role]);
	imaddr_buf_release(&rules->userid);
	imaddr_buf_release(&rules->userid_key);
	imaddr_buf_release(&rules->mail_key);
	imaddr_buf_release(&rules->im_address);
	imaddr_buf_release(&rules->im_key);
	for (int kind = 0; kind < IMADDR_CONFUSABLE_KINDS; kind++)
		imaddr_buf_release(&rules->skeleton_text[kind]);
	imaddr_spoof_skeleton_memo_release(&rules->skeleton_memo);
}

bool imaddr_rules_user_domain_configured(const struct imaddr_rules_user *rules,
					 const char *ascii)
{
	return !rules->configured_domains.used ||
	       imaddr_strmap_find(&rules->configured_domains, ascii);
}

/*
 * The value of a role as a C string. An LDIF's base64 value may hold NULs,
 * each reported (record-malformed) and kept as U+FFFD, as the outputs write
 * it: the value is not cut short at the first.
 */
static const char *raw_value(struct imaddr_rules_user *rules, const struct imaddr_record *record,
			     enum imaddr_role role)
{
	const struct imaddr_value *value = &record->values[role];
	if (!value->present)
		return NULL;
	const char *nul = memchr(value->data, '\0', value->len);
	if (value->terminated && !nul)
		return value->data;
	struct imaddr_buf *raw = &rules->raw[role];
	imaddr_buf_reset(raw);
	const char *p = value->data, *end = value->data + value->len;
	for (; nul; p = nul + 1, nul = memchr(p, '\0', (size_t)(end - p))) {
		imaddr_buf_append(raw, p, (size_t)(nul - p));
		imaddr_buf_append_str(raw, "\xef\xbf\xbd");
	}
	imaddr_buf_append(raw, p, (size_t)(end - p));
	return raw->data;
}

static const char *field_name(const struct imaddr_rules_user *rules,
			      const struct imaddr_record *record, enum imaddr_role role)
{
	const char *attribute = record->values[role].attribute;
	return attribute ? attribute : rules->options->mapping.names[role][0];
}

/* Findings the checks left without a value get the value they checked. */
static void fill_values(struct imaddr_rules_findings *list, size_t from, const char *value)
{
	for (size_t i = from; i < list->count; i++) {
		if (!list->items[i].value)
			list->items[i].value = value;
	}
}

/*
 * A value the reader had to drop is reported once, not again as missing.
 * By name, not by pointer: the record may have been copied between threads.
 */
static bool reader_dropped(const struct imaddr_record *record, enum imaddr_role role)
{
	const char *attribute = record->values[role].attribute;
	for (size_t i = 0; attribute && i < record->problem_count; i++) {
		const char *field = record->problems[i].field;
		if (field && !strcmp(field, attribute))
			return true;
	}
	return false;
}

static void check_text_field(struct imaddr_rules_user *rules, const struct imaddr_record *record,
			     enum imaddr_role role, const char *value)
{
	size_t bad;
	const struct imaddr_value *v = &record->values[role];
	if (!value)
		return;
	if (!imaddr_normalize_utf8_valid(v->data, v->len, &bad))
		imaddr_rules_findings_add(&rules->checks, IMADDR_CODE_RECORD_MALFORMED, v->attribute, value,
				 "%s is not valid UTF-8 (byte %zu)", imaddr_role_name(role),
				 bad + 1);
	else if (memchr(v->data, '\0', v->len))
		imaddr_rules_findings_add(&rules->checks, IMADDR_CODE_RECORD_MALFORMED, v->attribute, value,
				 "%s holds a NUL byte", imaddr_role_name(role));
}

/* An empty userid_key afterwards tells compute_im_address there is no valid user ID. */
static void check_user_id(struct imaddr_rules_user *rules, const struct imaddr_record *record,
			  struct imaddr_spooled_user *out)
{
	const struct imaddr_value *value = &record->values[IMADDR_ROLE_USER_ID];
	const char *field = field_name(rules, record, IMADDR_ROLE_USER_ID);
	size_t before = rules->checks.count;

	imaddr_buf_reset(&rules->userid);
	imaddr_buf_reset(&rules->userid_key);
	if (!value->present) {
		if (!reader_dropped(record, IMADDR_ROLE_USER_ID))
			imaddr_rules_findings_add(&rules->checks, IMADDR_CODE_USERID_MISSING, field, NULL,
					 "the user has no user ID");
		return;
	}
	bool valid = imaddr_rules_userid(value->data, value->len, field, &rules->userid,
					 &rules->userid_key, &rules->userid_ascii, &rules->checks);
	fill_values(&rules->checks, before, out->user.user_id);
	if (!valid)
		return;
	out->keys[IMADDR_KEY_USER_ID] = rules->userid_key.data;
	rules->key_field[IMADDR_KEY_USER_ID] = field;
}

static void check_directory_uri(struct imaddr_rules_user *rules,
				const struct imaddr_record *record, struct imaddr_spooled_user *out)
{
	const struct imaddr_value *value = &record->values[IMADDR_ROLE_DIRECTORY_URI];
	const char *field = field_name(rules, record, IMADDR_ROLE_DIRECTORY_URI);
	struct imaddr_user *user = &out->user;
	size_t before = rules->checks.count;

	if (!value->present) {
		if (rules->options->scheme == IMADDR_SCHEME_DIRECTORY_URI &&
		    !reader_dropped(record, IMADDR_ROLE_DIRECTORY_URI))
			imaddr_rules_findings_add(&rules->checks, IMADDR_CODE_URI_MISSING, field, NULL,
					 "the directory URI scheme needs a directory URI (%s)",
					 field);
		return;
	}
	user->uri_valid = imaddr_rules_uri(value->data, value->len, field,
					   imaddr_attribute_is_sip_uri(value->attribute),
					   &rules->uri, &rules->checks);
	fill_values(&rules->checks, before, user->directory_uri);
	if (!user->uri_valid)
		return;
	imaddr_rules_address_finish(&rules->uri);
	user->directory_uri = rules->uri.canonical.data;
	out->keys[IMADDR_KEY_DIRECTORY_URI] = rules->uri.key.data;
	rules->key_field[IMADDR_KEY_DIRECTORY_URI] = field;
}

static void check_mail(struct imaddr_rules_user *rules, const struct imaddr_record *record,
		       struct imaddr_spooled_user *out)
{
	const struct imaddr_value *mail = &record->values[IMADDR_ROLE_MAIL];
	if (!out->user.mail)
		return;
	size_t bad, before = rules->checks.count;
	check_text_field(rules, record, IMADDR_ROLE_MAIL, out->user.mail);
	if (imaddr_normalize_utf8_valid(mail->data, mail->len, &bad) &&
	    !memchr(mail->data, '\0', mail->len)) {
		/* Read from the URI's own attribute, the URI's findings said it. */
		const struct imaddr_value *uri = &record->values[IMADDR_ROLE_DIRECTORY_URI];
		bool checked_as_uri = uri->present && uri->attribute && mail->attribute &&
				      !strcasecmp(uri->attribute, mail->attribute);
		imaddr_rules_mail(mail->data, mail->len, mail->attribute, checked_as_uri,
				  &rules->checks);
		fill_values(&rules->checks, before, out->user.mail);
	}
	imaddr_rules_mail_key(mail->data, mail->len, &rules->scratch, &rules->mail_key);
	out->keys[IMADDR_KEY_MAIL] = rules->mail_key.data;
	rules->key_field[IMADDR_KEY_MAIL] = mail->attribute;
}

static void check_names(struct imaddr_rules_user *rules, const struct imaddr_record *record,
			const struct imaddr_user *user)
{
	const char *last_name_attribute = record->values[IMADDR_ROLE_LAST_NAME].attribute;
	check_text_field(rules, record, IMADDR_ROLE_FIRST_NAME, user->first_name);
	check_text_field(rules, record, IMADDR_ROLE_LAST_NAME, user->last_name);
	if (last_name_attribute && !user->last_name &&
	    !reader_dropped(record, IMADDR_ROLE_LAST_NAME))
		imaddr_rules_findings_add(&rules->checks, IMADDR_CODE_LASTNAME_MISSING,
					  last_name_attribute, NULL, "the user has no last name: LDAP "
					  "sync skips such users and BAT inserts require one");
}

static void compute_im_address(struct imaddr_rules_user *rules,
			       const struct imaddr_record *record, struct imaddr_spooled_user *out)
{
	const char *local, *domain, *unicode_domain, *key_local, *field;
	struct imaddr_user *user = &out->user;
	size_t local_len, before = rules->checks.count;
	bool userid_is_address = false;

	if (rules->options->scheme == IMADDR_SCHEME_USERID) {
		if (!rules->userid_key.len)
			return;
		field = field_name(rules, record, IMADDR_ROLE_USER_ID);
		local = rules->userid.data;
		local_len = rules->userid.len;
		key_local = rules->userid_key.data;
		domain = rules->default_domain.domain_ascii.data;
		unicode_domain = rules->default_domain.domain_unicode.data;
		if (memchr(local, '@', local_len)) {
			userid_is_address = true;
			imaddr_rules_findings_add(&rules->checks, IMADDR_CODE_USERID_IS_ADDRESS, field,
					 user->user_id,
					 "the user ID is an e-mail address, so the IM address is "
					 "'%s@%s'", local, domain);
		}
	} else {
		if (!user->uri_valid)
			return;
		field = field_name(rules, record, IMADDR_ROLE_DIRECTORY_URI);
		local = rules->uri.local.data;
		local_len = rules->uri.local.len;
		key_local = NULL;
		domain = rules->uri.domain_ascii.data;
		unicode_domain = rules->uri.domain_unicode.data;
	}
	imaddr_buf_reset(&rules->im_address);
	imaddr_buf_append(&rules->im_address, local, local_len);
	imaddr_buf_append_char(&rules->im_address, '@');
	imaddr_buf_append_str(&rules->im_address, domain);
	/* A plain URI (see rules.h) has nothing to report as an IM address. */
	bool plain = rules->options->scheme == IMADDR_SCHEME_DIRECTORY_URI && rules->uri.plain;
	bool valid = plain || imaddr_rules_im_address(local, local_len, domain, field,
						      rules->im_address.data,
						      userid_is_address, &rules->checks);
	fill_values(&rules->checks, before, rules->im_address.data);
	if (!valid)
		return;
	imaddr_buf_reset(&rules->im_key);
	if (key_local) {
		imaddr_buf_append_str(&rules->im_key, key_local);
		imaddr_buf_append_char(&rules->im_key, '@');
		imaddr_buf_append_str(&rules->im_key, domain);
	} else
		imaddr_buf_append(&rules->im_key, rules->uri.key.data, rules->uri.key.len);
	user->im_address = rules->im_address.data;
	user->im_domain = domain;
	rules->im_domain_unicode = unicode_domain;
	out->keys[IMADDR_KEY_IM_ADDRESS] = rules->im_key.data;
	rules->key_field[IMADDR_KEY_IM_ADDRESS] = field;
	if (!imaddr_rules_user_domain_configured(rules, domain))
		imaddr_rules_findings_add(&rules->checks, IMADDR_CODE_DOMAIN_NOT_CONFIGURED, field,
				 rules->im_address.data,
				 "IM domain '%s' is not one of the configured IM domains "
				 "(--im-domains)", domain);
}

/* A letter, or a byte of a character beyond ASCII (most are letters). */
static bool is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (unsigned char)c >= 0x80;
}

static bool is_alphanumeric(char c)
{
	return is_letter(c) || (c >= '0' && c <= '9');
}

/*
 * What an export that cannot encode a character writes in its place
 * (PowerShell 5.1's Export-Csv writes ASCII by default): a '?' next to a
 * letter ('Jürgen' becomes 'J?rgen'), next to another '?' (a Cyrillic or
 * Chinese name becomes '????'), or standing for a whole word ('王' becomes
 * '?'). 'j?rgen@example.com' and '????@example.com' are valid directory
 * URIs, so nothing else would stop the damage reaching the BAT file.
 */
static bool looks_lossy(const char *value)
{
	for (const char *q = value ? strchr(value, '?') : NULL; q; q = strchr(q + 1, '?')) {
		char before = q > value ? q[-1] : '\0', after = q[1];
		if (is_letter(before) || is_letter(after) || before == '?' || after == '?' ||
		    (!is_alphanumeric(before) && !is_alphanumeric(after)))
			return true;
	}
	return false;
}

/*
 * A .NET type name where a value belongs: Export-Csv writes a multi-valued
 * property (proxyAddresses, otherMailbox) as its collection's type,
 * 'Microsoft.ActiveDirectory.Management.ADPropertyValueCollection' or
 * 'System.String[]', unless the command joins the values.
 */
static bool is_type_name(const char *value)
{
	if (!value || (strncmp(value, "Microsoft.", 10) && strncmp(value, "System.", 7)))
		return false;
	size_t length = strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				      "0123456789._`");
	return !value[length] || !strcmp(value + length, "[]");
}

/*
 * A number as Excel writes the cell it took for one, when the cell is not
 * formatted as text: a long user ID (employeeNumber, a telephone number)
 * rounded to six digits in scientific notation, '123456789012' as
 * '1.23457E+11' ('1,23457E+11' where the decimal separator is a comma).
 */
static bool is_scientific_notation(const char *value)
{
	const char *p = value;
	if (!p || *p < '0' || *p > '9')
		return false;
	p++;
	if ((*p == '.' || *p == ',') && p[1] >= '0' && p[1] <= '9') {
		p++;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if ((*p != 'E' && *p != 'e') || p[1] != '+')
		return false;
	p += 2;
	size_t digits = strspn(p, "0123456789");
	return digits >= 2 && !p[digits];
}

static void check_lossy_export(struct imaddr_rules_user *rules, const struct imaddr_record *record,
			       const struct imaddr_user *user)
{
	static const enum imaddr_role roles[] = { IMADDR_ROLE_USER_ID, IMADDR_ROLE_FIRST_NAME,
		IMADDR_ROLE_LAST_NAME, IMADDR_ROLE_MAIL, IMADDR_ROLE_DIRECTORY_URI };
	const char *values[] = { user->user_id, user->first_name, user->last_name, user->mail,
				 user->directory_uri_as_read };
	for (size_t i = 0; i < sizeof(roles) / sizeof(*roles); i++) {
		const char *field = field_name(rules, record, roles[i]);
		/* One address is wanted, not a list joined: say where Unified CM takes it from. */
		if (is_type_name(values[i]) && roles[i] == IMADDR_ROLE_DIRECTORY_URI) {
			imaddr_rules_findings_add(&rules->checks, IMADDR_CODE_EXPORT_LOSSY, field,
				values[i],
				"%s holds '%.80s', PowerShell's name for a list of values, not "
				"the values: a directory URI is one address, which Unified CM "
				"takes from mail or msRTCSIP-PrimaryUserAddress: export one of "
				"those and give it with --uri-attr; the user is left out of the "
				"BAT file", field ? field : imaddr_role_name(roles[i]), values[i]);
			return;
		}
		if (is_type_name(values[i])) {
			imaddr_rules_findings_add(&rules->checks, IMADDR_CODE_EXPORT_LOSSY, field,
				values[i],
				"%s holds '%.80s', PowerShell's name for a list of values, not "
				"the values: Export-Csv writes a multi-valued property so; export "
				"it joined (Select-Object @{n='%s';e={$_.%s -join ';'}}); the user "
				"is left out of the BAT file", field ? field : imaddr_role_name(roles[i]),
				values[i], field ? field : "name", field ? field : "name");
			return;
		}
		if (roles[i] == IMADDR_ROLE_USER_ID && is_scientific_notation(values[i])) {
			imaddr_rules_findings_add(&rules->checks, IMADDR_CODE_EXPORT_LOSSY, field,
				values[i],
				"user ID '%.80s' is a number Excel rounded and wrote in scientific "
				"notation: its digits are lost; export again and open the file in "
				"Excel with Data > From Text/CSV, the column's type set to Text, "
				"or format the column as Text before pasting into it; the user is "
				"left out of the BAT file", values[i]);
			return;
		}
		if (!looks_lossy(values[i]))
			continue;
		imaddr_rules_findings_add(&rules->checks, IMADDR_CODE_EXPORT_LOSSY, field, values[i],
			"%s '%.80s' has a '?' where a letter belongs: the export probably "
			"replaced characters it could not encode (PowerShell 5.1's Export-Csv "
			"without -Encoding UTF8); the user is left out of the BAT file",
			imaddr_role_name(roles[i]), values[i]);
		return;
	}
}


/* csv-formula: the BAT file's values are the user ID as read and the canonical URI. */
static void check_csv_formula(struct imaddr_rules_user *rules, const struct imaddr_record *record,
			      const struct imaddr_user *user)
{
	const char *start;
	if ((start = imaddr_csv_formula_start(user->user_id)))
		imaddr_rules_findings_add(&rules->checks, IMADDR_CODE_CSV_FORMULA,
			field_name(rules, record, IMADDR_ROLE_USER_ID), user->user_id,
			"user ID '%.80s' begins with %s: a spreadsheet opening the BAT file "
			"would take it for a formula; the user is left out of the BAT file",
			user->user_id, start);
	if (user->uri_valid && (start = imaddr_csv_formula_start(user->directory_uri)))
		imaddr_rules_findings_add(&rules->checks, IMADDR_CODE_CSV_FORMULA,
			field_name(rules, record, IMADDR_ROLE_DIRECTORY_URI), user->directory_uri,
			"directory URI '%.80s' begins with %s: a spreadsheet opening the BAT "
			"file would take it for a formula; the user is left out of the BAT file",
			user->directory_uri, start);
}

/*
 * The skeletons for confusable, of the values that are not all ASCII. An IM
 * address's is its local part's key and its domain's U-label, whose
 * skeleton the domain cache keeps: a million users at a few dozen domains
 * take the domain's skeleton once.
 */
static void compute_skeletons(struct imaddr_rules_user *rules,
			      const struct imaddr_spooled_user *out)
{
	struct imaddr_skeleton_memo *memo = &rules->skeleton_memo;
	/* An ASCII user ID has an ASCII key; one that is not may fold to ASCII. */
	const struct imaddr_buf *key = &rules->userid_key;
	if (key->len && !rules->userid_ascii && !imaddr_normalize_is_ascii(key->data, key->len)) {
		struct imaddr_buf *text = &rules->skeleton_text[IMADDR_CONFUSABLE_USER_ID];
		imaddr_spoof_skeleton(key->data, key->len, memo, text);
		rules->skeleton[IMADDR_CONFUSABLE_USER_ID] = text;
	}
	const struct imaddr_address *uri = &rules->uri;
	if (rules->options->scheme != IMADDR_SCHEME_DIRECTORY_URI ||
	    !out->keys[IMADDR_KEY_IM_ADDRESS] || uri->key.len <= uri->domain_ascii.len)
		return;
	/* A plain URI (rules.h) is ASCII, but its domain's U-label may not be. */
	if (!(uri->domain_flags & IMADDR_RULES_DOMAIN_NOT_ASCII) &&
	    (uri->plain || imaddr_normalize_is_ascii(uri->key.data, uri->key.len)))
		return;
	size_t local_len = uri->key.len - uri->domain_ascii.len - 1;
	struct imaddr_buf *text = &rules->skeleton_text[IMADDR_CONFUSABLE_IM_ADDRESS];
	imaddr_spoof_skeleton(uri->key.data, local_len, memo, text);
	imaddr_buf_append_char(text, '@');
	imaddr_buf_append_str(text, uri->domain_skeleton);
	rules->skeleton[IMADDR_CONFUSABLE_IM_ADDRESS] = text;
}

/* Today's directory URI: the current URI the input holds, else the URI as read. */
static bool current_directory_uri(struct imaddr_rules_user *rules,
				  const struct imaddr_record *record,
				  const struct imaddr_spooled_user *out)
{
	const struct imaddr_value *current = &record->values[IMADDR_ROLE_CURRENT_URI];
	if (!current->present) {
		if (!out->user.uri_valid)
			return false;
		imaddr_buf_append(&rules->before, rules->uri.canonical.data, rules->uri.canonical.len);
		imaddr_buf_append(&rules->before_key, rules->uri.key.data, rules->uri.key.len);
		return true;
	}
	imaddr_rules_findings_reset(&rules->quiet);
	if (!imaddr_rules_uri(current->data, current->len, current->attribute,
			      imaddr_attribute_is_sip_uri(current->attribute), &rules->current_uri,
			      &rules->quiet))
		return false;
	imaddr_rules_address_finish(&rules->current_uri);
	imaddr_buf_append(&rules->before, rules->current_uri.canonical.data,
			  rules->current_uri.canonical.len);
	imaddr_buf_append(&rules->before_key, rules->current_uri.key.data,
			  rules->current_uri.key.len);
	return true;
}

/*
 * The IM address the user has today, and how the target changes it. IM
 * addresses compare as JIDs do: the local part ignoring case and width.
 */
static void compute_im_address_before(struct imaddr_rules_user *rules,
				      const struct imaddr_record *record,
				      struct imaddr_spooled_user *out)
{
	struct imaddr_user *user = &out->user;
	const char *after_key = out->keys[IMADDR_KEY_IM_ADDRESS];
	bool has_before;

	imaddr_buf_reset(&rules->before);
	imaddr_buf_reset(&rules->before_key);
	if (rules->options->current_scheme == IMADDR_SCHEME_USERID) {
		const char *domain = rules->current_default_domain.domain_ascii.data;
		has_before = rules->userid_key.len > 0;
		if (has_before) {
			/* Appends, not a printf: every user of a pre-migration run comes here. */
			imaddr_buf_append(&rules->before, rules->userid.data, rules->userid.len);
			imaddr_buf_append_char(&rules->before, '@');
			imaddr_buf_append_str(&rules->before, domain);
			imaddr_buf_append(&rules->before_key, rules->userid_key.data,
					  rules->userid_key.len);
			imaddr_buf_append_char(&rules->before_key, '@');
			imaddr_buf_append_str(&rules->before_key, domain);
		}
	} else {
		has_before = current_directory_uri(rules, record, out);
	}
	if (has_before)
		user->im_address_before = rules->before.data;
	if (has_before && after_key) {
		if (strcmp(rules->before_key.data, after_key))
			rules->change = IMADDR_RULES_CHANGED;
	} else if (has_before) {
		rules->change = IMADDR_RULES_LOST;
	} else if (after_key) {
		rules->change = IMADDR_RULES_GAINED;
	}
	const char *field = field_name(rules, record, rules->options->scheme == IMADDR_SCHEME_USERID
						       ? IMADDR_ROLE_USER_ID
						       : IMADDR_ROLE_DIRECTORY_URI);
	static const char *const change_names[] = {
		[IMADDR_RULES_UNCHANGED] = NULL, [IMADDR_RULES_CHANGED] = "changes",
		[IMADDR_RULES_LOST] = "lost", [IMADDR_RULES_GAINED] = "gained",
	};
	user->im_address_change = change_names[rules->change];
	switch (rules->change) {
	case IMADDR_RULES_CHANGED:
		imaddr_rules_findings_add(&rules->checks, IMADDR_CODE_IM_ADDRESS_CHANGES, field,
					  user->im_address, "IM address changes from '%s' to '%s'",
					  user->im_address_before, user->im_address);
		break;
	case IMADDR_RULES_LOST:
		imaddr_rules_findings_add(&rules->checks, IMADDR_CODE_IM_ADDRESS_CHANGES, field,
					  NULL, "the user loses the IM address '%s'",
					  user->im_address_before);
		break;
	case IMADDR_RULES_GAINED:
		imaddr_rules_findings_add(&rules->checks, IMADDR_CODE_IM_ADDRESS_CHANGES, field,
					  user->im_address, "the user gets the IM address '%s', "
					  "having none today", user->im_address);
		break;
	case IMADDR_RULES_UNCHANGED:
		break;
	}
}

void imaddr_rules_user_check(struct imaddr_rules_user *rules, const struct imaddr_record *record,
			     uint64_t ordinal, struct imaddr_spooled_user *out)
{
	struct imaddr_user *user = &out->user;

	memset(out, 0, sizeof(*out));
	memset(rules->key_field, 0, sizeof(rules->key_field));
	memset(rules->skeleton, 0, sizeof(rules->skeleton));
	rules->im_domain_unicode = NULL;
	rules->change = IMADDR_RULES_UNCHANGED;
	imaddr_rules_findings_reset(&rules->checks);
	user->ordinal = ordinal;
	user->line = record->line;
	user->dn = record->dn;
	user->user_id = raw_value(rules, record, IMADDR_ROLE_USER_ID);
	user->mail = raw_value(rules, record, IMADDR_ROLE_MAIL);
	user->first_name = raw_value(rules, record, IMADDR_ROLE_FIRST_NAME);
	user->last_name = raw_value(rules, record, IMADDR_ROLE_LAST_NAME);
	user->directory_uri = raw_value(rules, record, IMADDR_ROLE_DIRECTORY_URI);
	user->directory_uri_as_read = user->directory_uri;
	user->uri_attribute = record->values[IMADDR_ROLE_DIRECTORY_URI].attribute;
	/* As Unified CM holds it, which the BAT file compares with. */
	user->current_uri = imaddr_attribute_value_as_synced(
		raw_value(rules, record, IMADDR_ROLE_CURRENT_URI),
		record->values[IMADDR_ROLE_CURRENT_URI].attribute);
	user->current_uri_known = record->values[IMADDR_ROLE_CURRENT_URI].attribute != NULL;

	for (size_t i = 0; i < record->problem_count; i++) {
		const struct imaddr_record_problem *problem = &record->problems[i];
		imaddr_rules_findings_add(&rules->checks, problem->code, problem->field, NULL, "%s",
				 problem->message);
	}
	check_user_id(rules, record, out);
	check_directory_uri(rules, record, out);
	check_mail(rules, record, out);
	check_names(rules, record, user);
	compute_im_address(rules, record, out);
	if (rules->options->premigration)
		compute_im_address_before(rules, record, out);
	check_lossy_export(rules, record, user);
	check_csv_formula(rules, record, user);
	compute_skeletons(rules, out);
}
