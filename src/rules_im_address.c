/*
 * The rules of an IM address as XMPP carries it: RFC 7622's localpart
 * (PRECIS IdentifierClass), XEP-0106's escaping, and what Jabber supports.
 * See rules.h for the contracts.
 */
#include "rules_internal.h"

#include <string.h>
#include <strings.h>

#include "normalize.h"

/* RFC 7622 forbids these in a localpart; XEP-0106 escapes them as \XX. */
static const char *jid_escape(unsigned char c)
{
	switch (c) {
	case ' ': return "\\20";
	case '"': return "\\22";
	case '&': return "\\26";
	case '\'': return "\\27";
	case '/': return "\\2f";
	case ':': return "\\3a";
	case '<': return "\\3c";
	case '>': return "\\3e";
	case '@': return "\\40";
	default: return NULL;
	}
}

/* XEP-0106 escapes a backslash only where it would read as an escape. */
static bool backslash_needs_escape(const char *s, size_t len, size_t i)
{
	static const char *const sequences[] = { "20", "22", "26", "27", "2f", "3a", "3c",
						  "3e", "40", "5c" };
	if (len - i < 3)
		return false;
	for (size_t k = 0; k < sizeof(sequences) / sizeof(*sequences); k++) {
		if (!strncasecmp(s + i + 1, sequences[k], 2))
			return true;
	}
	return false;
}

static bool is_jabber_safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '_' || c == '~' || c == '#';
}

bool imaddr_rules_im_address(const char *local, size_t local_len, const char *domain,
			     const char *field, const char *value, bool userid_is_address,
			     struct imaddr_rules_findings *list)
{
	size_t offset;
	bool needs_escaping = false;
	int32_t unsupported = -1;

	if (!local_len || !domain || !*domain) {
		imaddr_rules_findings_add(list, IMADDR_CODE_IM_ADDRESS_INVALID, field, value,
				 "IM address has an empty %s", local_len ? "domain" : "local part");
		return false;
	}
	if (imaddr_rules_is_ipv4(domain, strlen(domain))) {
		imaddr_rules_findings_add(list, IMADDR_CODE_DOMAIN_INVALID, field, value,
				 "IM domain '%s' is an IP address; IM and Presence needs a domain "
				 "name", domain);
		return false;
	}
	if (local_len > IMADDR_RULES_JID_PART_MAX_OCTETS) {
		imaddr_rules_findings_add(list, IMADDR_CODE_IM_ADDRESS_INVALID, field, value,
				 "IM address local part has %zu octets; XMPP allows %d",
				 local_len, IMADDR_RULES_JID_PART_MAX_OCTETS);
		return false;
	}
	/* The common case: only characters Jabber supports, nothing to escape. */
	size_t safe = 0;
	while (safe < local_len && is_jabber_safe((unsigned char)local[safe]))
		safe++;
	if (safe == local_len)
		return true;
	/* Check each run between characters that escaping takes care of. */
	size_t run_start = 0;
	for (size_t i = 0; i <= local_len; i++) {
		unsigned char c = i < local_len ? (unsigned char)local[i] : 0;
		bool escaped = i < local_len && jid_escape(c) != NULL;
		if (i < local_len && !escaped)
			continue;
		int32_t bad = imaddr_normalize_precis_disallowed(local + run_start, i - run_start,
								 &offset);
		if (bad >= 0) {
			char name[96];
			imaddr_rules_describe_char(bad, name, sizeof(name));
			imaddr_rules_findings_add(list, IMADDR_CODE_IM_ADDRESS_INVALID, field, value,
					 "IM address local part has %s, which XMPP (PRECIS "
					 "IdentifierClass) does not allow", name);
			return false;
		}
		if (escaped && !(c == '@' && userid_is_address))
			needs_escaping = true;
		run_start = i + 1;
	}
	if (needs_escaping) {
		/*
		 * The escaped form is how the address travels, not a value for the
		 * directory: written there, its backslash would be escaped in turn.
		 * So it is said in the message, and there is no suggestion.
		 */
		struct imaddr_rules_finding *item = imaddr_rules_findings_add(list,
			IMADDR_CODE_IM_ADDRESS_NEEDS_ESCAPING, field, value,
			"IM address local part has characters XMPP carries only "
			"XEP-0106-escaped: it travels as '");
		for (size_t i = 0; i < local_len; i++) {
			unsigned char c = (unsigned char)local[i];
			const char *escape = jid_escape(c);
			if (c == '\\' && backslash_needs_escape(local, local_len, i))
				escape = "\\5c";
			if (escape)
				imaddr_buf_append_str(&item->message, escape);
			else
				imaddr_buf_append_char(&item->message, (char)c);
		}
		imaddr_buf_appendf(&item->message, "@%s'", domain);
	}
	for (size_t i = 0; i < local_len; i++) {
		unsigned char c = (unsigned char)local[i];
		if (!is_jabber_safe(c) && !jid_escape(c)) {
			unsupported = imaddr_normalize_codepoint_at(local, local_len, i);
			break;
		}
	}
	if (unsupported >= 0) {
		char name[96];
		imaddr_rules_describe_char(unsupported, name, sizeof(name));
		imaddr_rules_findings_add(list, IMADDR_CODE_JABBER_UNSUPPORTED_CHAR, field, value,
				 "IM address local part has %s; Jabber supports only A-Z a-z "
				 "0-9 . - _ ~ # there", name);
	}
	return true;
}
