/*
 * The rules of a mail address (RFC 5321's dot-atom) and its comparison key.
 * See rules.h for the contracts.
 */
#include "rules_internal.h"

#include <stdio.h>
#include <string.h>

#include "normalize.h"

/* RFC 5322 atext, which RFC 6531 extends with every non-ASCII character. */
static bool is_atext(unsigned char c)
{
	return c >= 0x80 || imaddr_rules_is_alnum_ascii(c) ||
	       (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* Why a local part is not a dot-atom, or NULL when it is one. */
static const char *dot_atom_problem(const char *local, size_t len, char *why, size_t size)
{
	if (!len)
		return "the local part is empty";
	if (len > 64) {
		snprintf(why, size, "the local part has %zu octets; at most 64", len);
		return why;
	}
	if (len >= 2 && local[0] == '"' && local[len - 1] == '"')
		return "the local part is quoted";
	if (local[0] == '.')
		return "the local part starts with a dot";
	if (local[len - 1] == '.')
		return "the local part ends with a dot";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)local[i];
		if (c == '.' && local[i + 1] == '.')
			return "the local part has two dots in a row";
		if (c != '.' && !is_atext(c)) {
			snprintf(why, size, c == ' ' ? "the local part has a space"
				 : "the local part has '%c'", c);
			return why;
		}
	}
	return NULL;
}

bool imaddr_rules_mail(const char *value, size_t len, const char *field, bool checked_as_uri,
		       struct imaddr_rules_findings *list)
{
	size_t bad_offset, start;
	int32_t bad = imaddr_normalize_first_control(value, len, &bad_offset);
	if (bad >= 0) {
		if (!checked_as_uri) {
			char name[96];
			imaddr_rules_describe_char(bad, name, sizeof(name));
			imaddr_rules_findings_add(list, IMADDR_CODE_MAIL_INVALID, field, NULL,
					 "mail has the control character %s at byte %zu", name,
					 bad_offset + 1);
		}
		return false;
	}
	if (!checked_as_uri)
		imaddr_rules_check_invisible(value, len, field, "mail", list);
	size_t trimmed = imaddr_normalize_trim(value, len, &start);
	if (trimmed != len && !checked_as_uri) {
		struct imaddr_rules_finding *item = imaddr_rules_findings_add(list,
			IMADDR_CODE_MAIL_NOT_CANONICAL, field, NULL,
			"mail has surrounding white space");
		imaddr_buf_append(&item->suggestion, value + start, trimmed);
	}
	const char *mail = value + start;
	const char *at = NULL;
	for (size_t i = trimmed; i-- > 0;) {
		if (mail[i] == '@') {
			at = mail + i;
			break;
		}
	}
	char why[96];
	const char *problem = at ? dot_atom_problem(mail, (size_t)(at - mail), why, sizeof(why))
				 : NULL;
	if (problem)
		imaddr_rules_findings_add(list, IMADDR_CODE_MAIL_NOT_DOT_ATOM, field, NULL,
				 "mail is not an RFC 5321 dot-atom (%s): LDAP sync copies it to "
				 "Mail ID, and mail and Webex identities reject it", problem);
	return true;
}

void imaddr_rules_mail_key(const char *value, size_t len, struct imaddr_address *scratch,
			     struct imaddr_buf *key)
{
	size_t start;
	imaddr_buf_reset(key);
	len = imaddr_normalize_trim(value, len, &start);
	value += start;
	const char *at = NULL;
	for (size_t i = len; i-- > 0;) {
		if (value[i] == '@') {
			at = value + i;
			break;
		}
	}
	if (!at) {
		imaddr_normalize_key(value, len, key);
		return;
	}
	size_t local_len = (size_t)(at - value);
	imaddr_normalize_key(value, local_len, key);
	/* A domain IDNA rejects still needs a key: fold it like a local part. */
	if (!imaddr_rules_domain(at + 1, len - local_len - 1, NULL, NULL, scratch, NULL))
		imaddr_normalize_key(at + 1, len - local_len - 1, &scratch->domain_ascii);
	imaddr_buf_append_char(key, '@');
	imaddr_buf_append(key, scratch->domain_ascii.data, scratch->domain_ascii.len);
}
