/*
 * What the rules of one value share (rules_internal.h): the findings list,
 * the address the URI and domain rules fill, and the reports of hostile
 * Unicode every value can get (invisible-char, mixed-script); and the rules
 * of the user ID. See rules.h for the contracts.
 */
#include "rules_internal.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "normalize.h"
#include "spoof.h"

void imaddr_rules_findings_init(struct imaddr_rules_findings *list)
{
	list->count = 0;
	for (size_t i = 0; i < IMADDR_RULES_MAX_FINDINGS; i++) {
		imaddr_buf_init(&list->items[i].message, 4096);
		imaddr_buf_init(&list->items[i].suggestion, 0);
	}
}

void imaddr_rules_findings_reset(struct imaddr_rules_findings *list)
{
	list->count = 0;
}

void imaddr_rules_findings_release(struct imaddr_rules_findings *list)
{
	for (size_t i = 0; i < IMADDR_RULES_MAX_FINDINGS; i++) {
		imaddr_buf_release(&list->items[i].message);
		imaddr_buf_release(&list->items[i].suggestion);
	}
	list->count = 0;
}

struct imaddr_rules_finding *imaddr_rules_findings_add(struct imaddr_rules_findings *list,
					   enum imaddr_code code, const char *field,
					   const char *value, const char *format, ...)
{
	if (list->count < IMADDR_RULES_MAX_FINDINGS)
		list->count++;
	struct imaddr_rules_finding *item = &list->items[list->count - 1];
	item->code = code;
	item->field = field;
	item->value = value;
	imaddr_buf_reset(&item->message);
	imaddr_buf_reset(&item->suggestion);

	char small[512];
	va_list args;
	va_start(args, format);
	vsnprintf(small, sizeof(small), format, args);
	va_end(args);
	imaddr_buf_append_str(&item->message, small);
	return item;
}

void imaddr_rules_address_init(struct imaddr_address *address)
{
	address->domain_cache = NULL;
	address->plain = false;
	imaddr_buf_init(&address->local, 0);
	imaddr_buf_init(&address->domain_ascii, 0);
	imaddr_buf_init(&address->domain_unicode, 0);
	imaddr_buf_init(&address->canonical, 0);
	imaddr_buf_init(&address->unicode, 0);
	imaddr_buf_init(&address->key, 0);
	imaddr_buf_init(&address->domain_skeleton_buf, 0);
	imaddr_buf_init(&address->domain_transitional_buf, 0);
	address->domain_flags = 0;
	address->domain_skeleton = "";
	address->domain_transitional = "";
}

void imaddr_rules_address_release(struct imaddr_address *address)
{
	imaddr_buf_release(&address->local);
	imaddr_buf_release(&address->domain_ascii);
	imaddr_buf_release(&address->domain_unicode);
	imaddr_buf_release(&address->canonical);
	imaddr_buf_release(&address->unicode);
	imaddr_buf_release(&address->key);
	imaddr_buf_release(&address->domain_skeleton_buf);
	imaddr_buf_release(&address->domain_transitional_buf);
}

void imaddr_rules_address_reset(struct imaddr_address *address)
{
	address->plain = false;
	imaddr_buf_reset(&address->local);
	imaddr_buf_reset(&address->domain_ascii);
	imaddr_buf_reset(&address->domain_unicode);
	imaddr_buf_reset(&address->canonical);
	imaddr_buf_reset(&address->unicode);
	imaddr_buf_reset(&address->key);
	address->domain_flags = 0;
	address->domain_skeleton = "";
	address->domain_transitional = "";
}

void imaddr_rules_join_address(struct imaddr_buf *out, const struct imaddr_buf *local,
			       const struct imaddr_buf *domain)
{
	imaddr_buf_reset(out);
	imaddr_buf_append(out, local->data, local->len);
	imaddr_buf_append_char(out, '@');
	imaddr_buf_append(out, domain->data, domain->len);
}

void imaddr_rules_address_finish(struct imaddr_address *address)
{
	imaddr_rules_join_address(&address->unicode, &address->local, &address->domain_unicode);
	imaddr_normalize_key(address->local.data, address->local.len, &address->key);
	imaddr_buf_append_char(&address->key, '@');
	imaddr_buf_append(&address->key, address->domain_ascii.data, address->domain_ascii.len);
}

bool imaddr_rules_is_ipv4(const char *host, size_t len)
{
	char text[INET_ADDRSTRLEN];
	struct in_addr parsed;
	if (len >= sizeof(text))
		return false;
	/* Most hosts have a letter: no need to ask inet_pton. */
	for (size_t i = 0; i < len; i++) {
		if ((host[i] < '0' || host[i] > '9') && host[i] != '.')
			return false;
	}
	memcpy(text, host, len);
	text[len] = '\0';
	return inet_pton(AF_INET, text, &parsed) == 1;
}

void imaddr_rules_describe_char(int32_t codepoint, char *out, size_t size)
{
	struct imaddr_buf text;
	imaddr_buf_init(&text, 0);
	imaddr_normalize_describe_codepoint(codepoint, &text);
	snprintf(out, size, "%s", text.data);
	imaddr_buf_release(&text);
}

/*
 * invisible-char: a character not seen where the value is shown makes it
 * another value than the one an administrator reads, or (a bidi control)
 * shows it in another order. Only text that is not all ASCII can have one.
 */
void imaddr_rules_check_invisible(const char *value, size_t len, const char *field,
				  const char *what, struct imaddr_rules_findings *list)
{
	size_t offset;
	int32_t c = imaddr_spoof_first_invisible(value, len, &offset);
	if (c < 0)
		return;
	char name[96];
	imaddr_rules_describe_char(c, name, sizeof(name));
	if (c == 0xFEFF)
		imaddr_rules_findings_add(list, IMADDR_CODE_INVISIBLE_CHAR, field, NULL,
				 "%s has a byte order mark (%s) at byte %zu: the value looks "
				 "like one without it, but is not the same", what, name, offset + 1);
	else if (imaddr_spoof_is_bidi_control(c))
		imaddr_rules_findings_add(list, IMADDR_CODE_INVISIBLE_CHAR, field, NULL,
				 "%s has the bidirectional control %s at byte %zu: unseen, it "
				 "changes the order in which the value is shown", what, name,
				 offset + 1);
	else
		imaddr_rules_findings_add(list, IMADDR_CODE_INVISIBLE_CHAR, field, NULL,
				 "%s has the invisible character %s at byte %zu: the value looks "
				 "like one without it, but is not the same", what, name, offset + 1);
}

/* mixed-script for one identifier: a user part, a user ID, a domain label. */
void imaddr_rules_check_mixed_script(const char *text, size_t len, const char *field,
				     const char *what, struct imaddr_rules_findings *list)
{
	struct imaddr_buf scripts;
	if (imaddr_normalize_is_ascii(text, len))
		return;
	imaddr_buf_init(&scripts, 0);
	if (imaddr_spoof_mixed_script(text, len, &scripts))
		imaddr_rules_findings_add(list, IMADDR_CODE_MIXED_SCRIPT, field, NULL,
				 "%s '%.*s' mixes the %s scripts, beyond UTS #39's highly "
				 "restrictive level: the way look-alikes are made", what,
				 (int)(len > 200 ? 200 : len), text, scripts.data);
	imaddr_buf_release(&scripts);
}

/* mixed-script for each label of a domain's U-label form. */
void imaddr_rules_check_mixed_script_labels(const char *domain, const char *field, const char *what,
					    struct imaddr_rules_findings *list)
{
	for (const char *label = domain; *label;) {
		size_t label_len = strcspn(label, ".");
		imaddr_rules_check_mixed_script(label, label_len, field, what, list);
		label += label_len + (label[label_len] == '.');
	}
}

/* A user ID is one identifier, unless it is an address: then its parts are. */
static void check_userid_scripts(const char *userid, size_t len, const char *field,
				 struct imaddr_rules_findings *list)
{
	const char *at = NULL;
	for (size_t i = len; i-- > 0 && !at;)
		if (userid[i] == '@')
			at = userid + i;
	if (!at) {
		imaddr_rules_check_mixed_script(userid, len, field, "user ID", list);
		return;
	}
	imaddr_rules_check_mixed_script(userid, (size_t)(at - userid), field, "user ID local part",
					list);
	struct imaddr_buf domain;
	imaddr_buf_init(&domain, 0);
	imaddr_buf_append(&domain, at + 1, len - (size_t)(at - userid) - 1);
	imaddr_rules_check_mixed_script_labels(domain.data, field, "user ID domain label", list);
	imaddr_buf_release(&domain);
}

bool imaddr_rules_userid(const char *value, size_t len, const char *field,
			 struct imaddr_buf *canonical, struct imaddr_buf *key, bool *ascii,
			 struct imaddr_rules_findings *list)
{
	size_t bad_offset, start;
	int32_t bad;

	imaddr_buf_reset(canonical);
	imaddr_buf_reset(key);
	*ascii = false;
	if (!imaddr_normalize_utf8_valid(value, len, &bad_offset)) {
		imaddr_rules_findings_add(list, IMADDR_CODE_USERID_INVALID, field, NULL,
				 "user ID is not valid UTF-8 (byte %zu)", bad_offset + 1);
		return false;
	}
	size_t trimmed = imaddr_normalize_trim(value, len, &start);
	if (!trimmed) {
		imaddr_rules_findings_add(list, IMADDR_CODE_USERID_MISSING, field, NULL,
				 "user ID is blank");
		return false;
	}
	if ((bad = imaddr_normalize_first_control(value, len, &bad_offset)) >= 0) {
		char name[96];
		imaddr_rules_describe_char(bad, name, sizeof(name));
		imaddr_rules_findings_add(list, IMADDR_CODE_USERID_INVALID, field, NULL,
				 "user ID has the control character %s at byte %zu", name,
				 bad_offset + 1);
		return false;
	}
	*ascii = imaddr_normalize_is_ascii(value, len);
	if (!*ascii)
		imaddr_rules_check_invisible(value, len, field, "user ID", list);
	bool not_nfc = imaddr_normalize_nfc(value + start, trimmed, canonical);
	size_t chars = imaddr_normalize_codepoints(canonical->data, canonical->len);
	if (chars > IMADDR_RULES_USERID_MAX_CHARS) {
		imaddr_rules_findings_add(list, IMADDR_CODE_USERID_INVALID, field, NULL,
				 "user ID has %zu characters; at most %d", chars,
				 IMADDR_RULES_USERID_MAX_CHARS);
		return false;
	}
	if (not_nfc || trimmed != len) {
		struct imaddr_rules_finding *item = imaddr_rules_findings_add(list,
			IMADDR_CODE_USERID_NOT_CANONICAL, field, NULL, "user ID %s",
			trimmed != len && not_nfc ? "has surrounding white space and is not in NFC"
			: trimmed != len ? "has surrounding white space" : "is not in NFC");
		imaddr_buf_append(&item->suggestion, canonical->data, canonical->len);
	}
	if (!*ascii)
		check_userid_scripts(canonical->data, canonical->len, field, list);
	imaddr_normalize_key(canonical->data, canonical->len, key);
	return true;
}
