/*
 * The rules of a directory URI, Unified CM's: a plain path for the common
 * case and the general path for the rest. See rules.h for the contracts.
 */
#include "rules_internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mapping.h"
#include "normalize.h"
#include "strmap.h"

/*
 * Unified CM's directory URI user part: letters, digits and the PLAIN
 * characters below are taken as they are; the ENCODED ones are taken but
 * stored percent-encoded (each counts three towards the 254-character
 * limit); the rest of ASCII is refused. Non-ASCII characters are taken and
 * stored percent-encoded.
 */
enum user_char_class { USER_CHAR_REJECTED = 0, USER_CHAR_PLAIN, USER_CHAR_ENCODED };

static const unsigned char user_char_class[128] = {
	['!'] = USER_CHAR_PLAIN,
	['$'] = USER_CHAR_PLAIN,
	['%'] = USER_CHAR_PLAIN,
	['&'] = USER_CHAR_PLAIN,
	['*'] = USER_CHAR_PLAIN,
	['_'] = USER_CHAR_PLAIN,
	['+'] = USER_CHAR_PLAIN,
	['~'] = USER_CHAR_PLAIN,
	['-'] = USER_CHAR_PLAIN,
	['='] = USER_CHAR_PLAIN,
	['\\'] = USER_CHAR_PLAIN,
	['?'] = USER_CHAR_PLAIN,
	['\''] = USER_CHAR_PLAIN,
	[','] = USER_CHAR_PLAIN,
	['.'] = USER_CHAR_PLAIN,
	['/'] = USER_CHAR_PLAIN,
	/* Listed by the System Configuration Guide since 11.5 (SIP's "mark"). */
	['('] = USER_CHAR_PLAIN,
	[')'] = USER_CHAR_PLAIN,
	['#'] = USER_CHAR_ENCODED,
	['^'] = USER_CHAR_ENCODED,
	['`'] = USER_CHAR_ENCODED,
	['{'] = USER_CHAR_ENCODED,
	['}'] = USER_CHAR_ENCODED,
	['|'] = USER_CHAR_ENCODED,
	[':'] = USER_CHAR_ENCODED,
	['"'] = USER_CHAR_ENCODED,
	['<'] = USER_CHAR_ENCODED,
	['>'] = USER_CHAR_ENCODED,
	['['] = USER_CHAR_ENCODED,
	[']'] = USER_CHAR_ENCODED,
	[' '] = USER_CHAR_ENCODED,
};

static enum user_char_class classify_user_char(unsigned char c)
{
	return imaddr_rules_is_alnum_ascii(c) ? USER_CHAR_PLAIN
					      : (enum user_char_class)user_char_class[c];
}

static size_t encoded_user_length(const char *user, size_t len)
{
	size_t length = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)user[i];
		length += c >= 0x80 || classify_user_char(c) == USER_CHAR_ENCODED ? 3 : 1;
	}
	return length;
}

static int32_t first_rejected_user_char(const char *user, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)user[i];
		if (c < 0x80 && classify_user_char(c) == USER_CHAR_REJECTED)
			return c;
	}
	return -1;
}

/*
 * UTS #46 maps these full stops to '.', so imaddr_rules_domain takes a host
 * written with them: U+3002 IDEOGRAPHIC, U+FF0E FULLWIDTH and U+FF61
 * HALFWIDTH IDEOGRAPHIC FULL STOP. The check for a dot must see them too.
 */
static bool has_other_full_stops(const char *host, size_t len)
{
	static const char *const stops[] = { "\xE3\x80\x82", "\xEF\xBC\x8E", "\xEF\xBD\xA1" };
	for (size_t i = 0; i + 3 <= len; i++) {
		if ((unsigned char)host[i] != 0xE3 && (unsigned char)host[i] != 0xEF)
			continue;
		for (size_t k = 0; k < sizeof(stops) / sizeof(*stops); k++) {
			if (!memcmp(host + i, stops[k], 3))
				return true;
		}
	}
	return false;
}

static bool has_sip_prefix(const char *s, size_t len)
{
	return len >= 4 && !strncasecmp(s, "sip:", 4);
}

/*
 * AD's proxyAddresses holds each address after its type, "SMTP:" for the
 * primary mail and "smtp:" for the others: a directory URI that starts so
 * was read from that attribute, or copied from it, and is meant without it.
 */
static bool has_smtp_prefix(const char *s, size_t len)
{
	return len >= 5 && !strncasecmp(s, "smtp:", 5);
}

bool imaddr_rules_uri_has_smtp_type(const char *value, size_t len)
{
	size_t start;
	size_t trimmed = imaddr_normalize_trim(value, len, &start);
	return has_smtp_prefix(value + start, trimmed);
}

/*
 * For check_plain_uri, per byte: PLAIN_USER for letters, digits and . _ ~ -
 * (plain for Unified CM, safe for Jabber and XMPP); PLAIN_HOST for what a
 * canonical A-label host is made of (a-z 0-9 . -). Bytes from 128 up are 0.
 */
#define PLAIN_USER 1
#define PLAIN_HOST 2
static const unsigned char plain_class[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 0,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 0, 0,
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
	0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 1, 0,
};

/*
 * The common case in one pass: a user part of plain characters, one '@' and
 * a host already found valid and written in its canonical form. Anything
 * else, however slightly different, takes the general path, which gives the
 * same answer for these (the unit tests compare the two).
 */
static bool check_plain_uri(const char *value, size_t len, struct imaddr_address *address)
{
	size_t user_len = 0;
	if (!address->domain_cache || len > IMADDR_RULES_URI_MAX_ENCODED)
		return false;
	while (user_len < len && (plain_class[(unsigned char)value[user_len]] & PLAIN_USER))
		user_len++;
	if (!user_len || user_len > IMADDR_RULES_URI_USER_MAX_CHARS || user_len + 1 >= len ||
	    value[user_len] != '@')
		return false;
	const char *host = value + user_len + 1;
	size_t host_len = len - user_len - 1;
	for (size_t i = 0; i < host_len; i++) {
		if (!(plain_class[(unsigned char)host[i]] & PLAIN_HOST))
			return false;
	}
	struct imaddr_strmap_entry *hit = imaddr_strmap_find_n(address->domain_cache, host,
							      host_len);
	/* The host must be its own A-label form: lowercase and canonical, and
	   have nothing to report (an A-label whose U-label mixes scripts). */
	if (!hit || strncmp(hit->text, host, host_len) || hit->text[host_len] ||
	    (hit->count & IMADDR_RULES_DOMAIN_REMARKS))
		return false;
	const char *unicode = hit->text + host_len + 1;
	imaddr_buf_append(&address->local, value, user_len);
	imaddr_buf_append(&address->domain_ascii, host, host_len);
	imaddr_buf_append_str(&address->domain_unicode, unicode);
	imaddr_buf_append(&address->canonical, value, len);
	address->domain_flags = (unsigned)hit->count;
	address->domain_skeleton = unicode + address->domain_unicode.len + 1;
	address->plain = true;
	return true;
}

/* idna-deviation: the host as IDNA2003 (transitional) clients would look it up. */
static void check_idna_deviation(const char *host, size_t host_len, const char *field,
				 const struct imaddr_address *address,
				 struct imaddr_rules_findings *list)
{
	int shown = (int)(host_len > 200 ? 200 : host_len);
	if (!*address->domain_transitional)
		imaddr_rules_findings_add(list, IMADDR_CODE_IDNA_DEVIATION, field, NULL,
				 "domain '%.*s' is '%s' by IDNA2008 (nontransitional UTS #46), "
				 "but transitional processing (IDNA2003), which older clients use, "
				 "rejects it", shown, host, address->domain_ascii.data);
	else
		imaddr_rules_findings_add(list, IMADDR_CODE_IDNA_DEVIATION, field, NULL,
				 "domain '%.*s' is '%s' by IDNA2008 (nontransitional UTS #46), but "
				 "'%s' by transitional processing (IDNA2003): older clients reach "
				 "another domain", shown, host, address->domain_ascii.data,
				 address->domain_transitional);
}

/* The general path of imaddr_rules_uri, apart so that the plain path pays for none of it. */
static bool __attribute__((noinline)) check_uri(const char *value, size_t len, const char *field,
						bool sip_attribute, struct imaddr_address *address,
						struct imaddr_rules_findings *list)
{
	char why[256];
	char notes[256];
	size_t bad_offset, start;
	size_t notes_len = 0;
	int32_t bad;
	bool text_checked = false;

	notes[0] = '\0';
#define NOTE(text) \
	notes_len += (size_t)snprintf(notes + notes_len, sizeof(notes) - notes_len, "%s%s", \
				      notes_len ? ", " : "", text)
	if (!imaddr_normalize_utf8_valid(value, len, &bad_offset)) {
		snprintf(why, sizeof(why), "invalid UTF-8 at byte %zu (0x%02X)", bad_offset + 1,
			 (unsigned char)value[bad_offset]);
		goto invalid;
	}
	/* Before trimming: a CR, LF or tab at either end is as wrong as inside. */
	if ((bad = imaddr_normalize_first_control(value, len, &bad_offset)) >= 0) {
		char name[96];
		imaddr_rules_describe_char(bad, name, sizeof(name));
		snprintf(why, sizeof(why), "control character %s at byte %zu", name,
			 bad_offset + 1);
		goto invalid;
	}
	/* Past here an invalid URI may still be hostile text: see invalid. */
	text_checked = true;
	size_t trimmed = imaddr_normalize_trim(value, len, &start);
	if (trimmed != len)
		NOTE("surrounding white space");
	const char *uri = value + start;
	len = trimmed;
	bool sip_prefix = has_sip_prefix(uri, len);
	if (sip_prefix) {
		if (!sip_attribute)
			NOTE("a 'sip:' prefix");
		uri += 4;
		len -= 4;
	} else if (has_smtp_prefix(uri, len)) {
		NOTE("the address type 'SMTP:' of AD's proxyAddresses");
		uri += 5;
		len -= 5;
	}
	const char *at = memchr(uri, '@', len);
	if (!at || memchr(at + 1, '@', len - (size_t)(at + 1 - uri))) {
		/* An export joins a multi-valued attribute's values (csvde, -join ';'). */
		if (at && memchr(uri, ';', len))
			snprintf(why, sizeof(why), "more than one '@': several addresses joined "
				 "with ';', as an export writes a multi-valued attribute such as "
				 "proxyAddresses; a directory URI is one address (Unified CM maps "
				 "it from mail or msRTCSIP-PrimaryUserAddress)");
		else
			snprintf(why, sizeof(why), "%s", at ? "more than one '@'" : "no '@'");
		goto invalid;
	}
	const char *user = uri, *host = at + 1;
	size_t user_len = (size_t)(at - uri), host_len = len - user_len - 1;
	if (!user_len || !host_len) {
		snprintf(why, sizeof(why), "the %s part is empty", user_len ? "host" : "user");
		goto invalid;
	}
	if (imaddr_normalize_nfc(user, user_len, &address->local))
		NOTE("a user part not in NFC");
	size_t user_chars = imaddr_normalize_codepoints(address->local.data, address->local.len);
	if (user_chars > IMADDR_RULES_URI_USER_MAX_CHARS) {
		snprintf(why, sizeof(why), "the user part has %zu characters; at most %d",
			 user_chars, IMADDR_RULES_URI_USER_MAX_CHARS);
		goto invalid;
	}
	if ((bad = first_rejected_user_char(address->local.data, address->local.len)) >= 0) {
		snprintf(why, sizeof(why), "Unified CM does not accept '%c' in the user part",
			 (char)bad);
		goto invalid;
	}
	if (imaddr_rules_is_ipv4(host, host_len)) {
		imaddr_buf_append(&address->domain_ascii, host, host_len);
		imaddr_buf_append(&address->domain_unicode, host, host_len);
	} else {
		bool other_stops = has_other_full_stops(host, host_len);
		if (!memchr(host, '.', host_len) && !other_stops) {
			snprintf(why, sizeof(why),
				 "the host '%.*s' is neither a fully qualified domain name nor "
				 "an IPv4 address", (int)(host_len > 100 ? 100 : host_len), host);
			goto invalid;
		}
		if (!imaddr_rules_domain(host, host_len, field, NULL, address, list)) {
			if (list)
				imaddr_rules_check_invisible(value, len, field, "directory URI",
							     list);
			return false;
		}
		bool ascii_host = true;
		for (size_t i = 0; i < host_len; i++)
			ascii_host &= (unsigned char)host[i] < 0x80;
		if (other_stops)
			NOTE("full stops other than '.' between the host's labels");
		else if (!ascii_host)
			NOTE("a Unicode (U-label) host");
		else if (host_len != address->domain_ascii.len ||
			 memcmp(host, address->domain_ascii.data, host_len))
			NOTE("an upper-case host");
	}
	size_t encoded = encoded_user_length(address->local.data, address->local.len) + 1 +
			 address->domain_ascii.len;
	if (encoded > IMADDR_RULES_URI_MAX_ENCODED) {
		snprintf(why, sizeof(why), "%zu characters once percent-encoded; at most %d",
			 encoded, IMADDR_RULES_URI_MAX_ENCODED);
		goto invalid;
	}
	imaddr_rules_join_address(&address->canonical, &address->local, &address->domain_ascii);
	if (notes_len && list) {
		struct imaddr_rules_finding *item = imaddr_rules_findings_add(list,
			IMADDR_CODE_URI_NOT_CANONICAL, field, NULL,
			"directory URI is valid but written with %s", notes);
		/*
		 * A value for the field the finding names: msRTCSIP-PrimaryUserAddress
		 * without its "sip:" would break the user's Skype or Lync address,
		 * and --ldif-fixes writes it with one.
		 */
		if (imaddr_attribute_is_sip_uri(field) || (sip_attribute && sip_prefix))
			imaddr_buf_append_str(&item->suggestion, "sip:");
		imaddr_buf_append(&item->suggestion, address->canonical.data,
				  address->canonical.len);
	}
	if (list) {
		/* The host's spelling was looked at once, with its remarks. */
		size_t before_host = (size_t)(host - value);
		bool invisible_host = address->domain_flags & IMADDR_RULES_DOMAIN_INVISIBLE;
		imaddr_rules_check_invisible(value, invisible_host ? len : before_host, field,
					     "directory URI", list);
		imaddr_rules_check_mixed_script(address->local.data, address->local.len, field,
						"directory URI user part", list);
		if (address->domain_flags & IMADDR_RULES_DOMAIN_MIXED_SCRIPT)
			imaddr_rules_check_mixed_script_labels(address->domain_unicode.data, field,
							       "directory URI domain label", list);
		if (address->domain_flags & IMADDR_RULES_DOMAIN_DEVIATION)
			check_idna_deviation(host, host_len, field, address, list);
	}
	return true;
#undef NOTE
invalid:
	if (list)
		imaddr_rules_findings_add(list, IMADDR_CODE_URI_INVALID, field, NULL,
				 "directory URI is invalid: %s", why);
	if (list && text_checked)
		imaddr_rules_check_invisible(value, len, field, "directory URI", list);
	return false;
}

bool imaddr_rules_uri(const char *value, size_t len, const char *field, bool sip_attribute,
		      struct imaddr_address *address, struct imaddr_rules_findings *list)
{
	imaddr_rules_address_reset(address);
	return check_plain_uri(value, len, address) ||
	       check_uri(value, len, field, sip_attribute, address, list);
}
