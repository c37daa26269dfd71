#include "rules.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "normalize.h"
#include "spoof.h"
#include "strmap.h"

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

static void reset_address(struct imaddr_address *address)
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

static bool is_ipv4(const char *host, size_t len)
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

/* A short, printable rendering of a code point for messages. */
static void describe_char(int32_t codepoint, char *out, size_t size)
{
	struct imaddr_buf text;
	imaddr_buf_init(&text, 0);
	imaddr_normalize_describe_codepoint(codepoint, &text);
	snprintf(out, size, "%s", text.data);
	imaddr_buf_release(&text);
}

/*
 * What UTS #39 and UTS #46 say of a valid domain (IMADDR_RULES_DOMAIN_*),
 * and its skeleton. Deviation characters and other scripts are not ASCII,
 * so an ASCII spelling asks ICU nothing but its A-labels' scripts.
 */
static void inspect_domain(const char *domain, size_t len, struct imaddr_address *address)
{
	const char *unicode = address->domain_unicode.data;
	struct imaddr_buf *transitional = &address->domain_transitional_buf;

	address->domain_flags = 0;
	imaddr_buf_reset(transitional);
	/* UTS #46 drops a soft hyphen or a zero width space without a word. */
	if (imaddr_spoof_first_invisible(domain, len, NULL) >= 0)
		address->domain_flags |= IMADDR_RULES_DOMAIN_INVISIBLE;
	if (!imaddr_normalize_is_ascii(domain, len)) {
		uint32_t errors = imaddr_normalize_domain_transitional(domain, len, transitional);
		if (errors)
			imaddr_buf_reset(transitional);
		if (errors || strcmp(transitional->data, address->domain_ascii.data))
			address->domain_flags |= IMADDR_RULES_DOMAIN_DEVIATION;
		else
			imaddr_buf_reset(transitional);
	}
	address->domain_transitional = transitional->data;
	if (!imaddr_normalize_is_ascii(unicode, address->domain_unicode.len)) {
		address->domain_flags |= IMADDR_RULES_DOMAIN_NOT_ASCII;
		for (const char *label = unicode; *label;) {
			size_t label_len = strcspn(label, ".");
			if (imaddr_spoof_mixed_script(label, label_len, NULL))
				address->domain_flags |= IMADDR_RULES_DOMAIN_MIXED_SCRIPT;
			label += label_len + (label[label_len] == '.');
		}
	}
	imaddr_spoof_skeleton(unicode, address->domain_unicode.len, NULL,
				  &address->domain_skeleton_buf);
	address->domain_skeleton = address->domain_skeleton_buf.data;
}

/*
 * invisible-char: a character not seen where the value is shown makes it
 * another value than the one an administrator reads, or (a bidi control)
 * shows it in another order. Only text that is not all ASCII can have one.
 */
static void check_invisible(const char *value, size_t len, const char *field, const char *what,
			    struct imaddr_rules_findings *list)
{
	size_t offset;
	int32_t c = imaddr_spoof_first_invisible(value, len, &offset);
	if (c < 0)
		return;
	char name[96];
	describe_char(c, name, sizeof(name));
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
static void check_mixed_script(const char *text, size_t len, const char *field, const char *what,
			       struct imaddr_rules_findings *list)
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
static void check_mixed_script_labels(const char *domain, const char *field, const char *what,
				      struct imaddr_rules_findings *list)
{
	for (const char *label = domain; *label;) {
		size_t label_len = strcspn(label, ".");
		check_mixed_script(label, label_len, field, what, list);
		label += label_len + (label[label_len] == '.');
	}
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

bool imaddr_rules_domain(const char *domain, size_t len, const char *field, const char *value,
			 struct imaddr_address *address, struct imaddr_rules_findings *list)
{
	struct imaddr_buf why;
	bool valid = false;

	address->domain_flags = 0;
	address->domain_skeleton = "";

	char written[IMADDR_RULES_DOMAIN_MAX + 1];
	bool cacheable = address->domain_cache && len <= IMADDR_RULES_DOMAIN_MAX &&
			 !memchr(domain, '\0', len);
	if (cacheable) {
		memcpy(written, domain, len);
		written[len] = '\0';
		struct imaddr_strmap_entry *hit = imaddr_strmap_find(address->domain_cache,
								     written);
		if (hit) {
			const char *ascii = hit->text, *unicode = ascii + strlen(ascii) + 1;
			imaddr_buf_reset(&address->domain_ascii);
			imaddr_buf_reset(&address->domain_unicode);
			imaddr_buf_append_str(&address->domain_ascii, ascii);
			imaddr_buf_append_str(&address->domain_unicode, unicode);
			address->domain_flags = (unsigned)hit->count;
			address->domain_skeleton = unicode + address->domain_unicode.len + 1;
			if (address->domain_flags & IMADDR_RULES_DOMAIN_DEVIATION)
				address->domain_transitional = address->domain_skeleton +
							       strlen(address->domain_skeleton) + 1;
			return true;
		}
	}
	imaddr_buf_init(&why, 0);
	uint32_t errors = imaddr_normalize_domain(domain, len, &address->domain_ascii,
						  &address->domain_unicode);
	if (len == 0) {
		imaddr_buf_append_str(&why, "the domain is empty");
	} else if (errors) {
		imaddr_buf_append_str(&why, "IDNA (UTS #46) rejects it: ");
		imaddr_normalize_describe_domain_errors(errors, &why);
	} else if (address->domain_ascii.len > IMADDR_RULES_DOMAIN_MAX) {
		imaddr_buf_appendf(&why, "longer than %d characters", IMADDR_RULES_DOMAIN_MAX);
	} else if (address->domain_ascii.data[address->domain_ascii.len - 1] == '.') {
		/* UTS #46 allows the root label; an IM domain is never written so. */
		imaddr_buf_append_str(&why, "ends with a dot");
	} else if (!strchr(address->domain_ascii.data, '.')) {
		imaddr_buf_append_str(&why, "not a fully qualified domain name (no dot)");
	} else {
		const char *ascii = address->domain_ascii.data;
		const char *last = strrchr(ascii, '.') + 1;
		size_t bad = strspn(ascii, "abcdefghijklmnopqrstuvwxyz0123456789-.");
		if (ascii[bad])
			imaddr_buf_appendf(&why, "IM and Presence allows only a-z, 0-9, '-' and "
					   "'.' in a domain, not '%c'", ascii[bad]);
		else if (ascii[0] == '-' || strstr(ascii, ".-"))
			imaddr_buf_append_str(&why, "a label starts with '-'");
		else if (*last >= '0' && *last <= '9')
			imaddr_buf_appendf(&why, "the last label '%s' starts with a digit", last);
		else
			valid = true;
	}
	if (valid)
		inspect_domain(domain, len, address);
	if (valid && cacheable && address->domain_cache->used < IMADDR_RULES_DOMAIN_CACHE_MAX) {
		struct imaddr_strmap_entry *entry = imaddr_strmap_get(address->domain_cache,
								      written);
		/* The forms, the skeleton and the transitional form in one
		   allocation, so the map's free() releases them; the flags are the
		   entry's count. */
		const struct imaddr_buf *parts[] = { &address->domain_ascii,
			&address->domain_unicode, &address->domain_skeleton_buf,
			&address->domain_transitional_buf };
		size_t size = 0;
		for (size_t i = 0; i < 4; i++)
			size += parts[i]->len + 1;
		char *text = entry->text = imaddr_xmalloc(size);
		for (size_t i = 0; i < 4; i++) {
			memcpy(text, parts[i]->data, parts[i]->len + 1);
			text += parts[i]->len + 1;
		}
		entry->count = address->domain_flags;
	}
	if (!valid && list)
		imaddr_rules_findings_add(list, IMADDR_CODE_DOMAIN_INVALID, field, value,
				 "domain '%.*s' is invalid: %s", (int)(len > 300 ? 300 : len),
				 domain, why.data);
	imaddr_buf_release(&why);
	return valid;
}

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

static bool is_alnum_ascii(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static enum user_char_class classify_user_char(unsigned char c)
{
	return is_alnum_ascii(c) ? USER_CHAR_PLAIN : (enum user_char_class)user_char_class[c];
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

static void join_address(struct imaddr_buf *out, const struct imaddr_buf *local,
			 const struct imaddr_buf *domain)
{
	imaddr_buf_reset(out);
	imaddr_buf_append(out, local->data, local->len);
	imaddr_buf_append_char(out, '@');
	imaddr_buf_append(out, domain->data, domain->len);
}

static bool has_sip_prefix(const char *s, size_t len)
{
	return len >= 4 && !strncasecmp(s, "sip:", 4);
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
		snprintf(why, sizeof(why), "invalid UTF-8 at byte %zu", bad_offset + 1);
		goto invalid;
	}
	/* Before trimming: a CR, LF or tab at either end is as wrong as inside. */
	if ((bad = imaddr_normalize_first_control(value, len, &bad_offset)) >= 0) {
		char name[96];
		describe_char(bad, name, sizeof(name));
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
	if (has_sip_prefix(uri, len)) {
		if (!sip_attribute)
			NOTE("a 'sip:' prefix");
		uri += 4;
		len -= 4;
	}
	const char *at = memchr(uri, '@', len);
	if (!at || memchr(at + 1, '@', len - (size_t)(at + 1 - uri))) {
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
	if (is_ipv4(host, host_len)) {
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
				check_invisible(value, len, field, "directory URI", list);
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
	join_address(&address->canonical, &address->local, &address->domain_ascii);
	if (notes_len && list) {
		struct imaddr_rules_finding *item = imaddr_rules_findings_add(list,
			IMADDR_CODE_URI_NOT_CANONICAL, field, NULL,
			"directory URI is valid but written with %s", notes);
		imaddr_buf_append(&item->suggestion, address->canonical.data,
				  address->canonical.len);
	}
	if (list) {
		/* The host's spelling was looked at once, with its remarks. */
		size_t before_host = (size_t)(host - value);
		check_invisible(value, address->domain_flags & IMADDR_RULES_DOMAIN_INVISIBLE
				? len : before_host, field, "directory URI", list);
		check_mixed_script(address->local.data, address->local.len, field,
				   "directory URI user part", list);
		if (address->domain_flags & IMADDR_RULES_DOMAIN_MIXED_SCRIPT)
			check_mixed_script_labels(address->domain_unicode.data, field,
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
		check_invisible(value, len, field, "directory URI", list);
	return false;
}

bool imaddr_rules_uri(const char *value, size_t len, const char *field, bool sip_attribute,
		      struct imaddr_address *address, struct imaddr_rules_findings *list)
{
	reset_address(address);
	return check_plain_uri(value, len, address) ||
	       check_uri(value, len, field, sip_attribute, address, list);
}

void imaddr_rules_address_finish(struct imaddr_address *address)
{
	join_address(&address->unicode, &address->local, &address->domain_unicode);
	imaddr_normalize_key(address->local.data, address->local.len, &address->key);
	imaddr_buf_append_char(&address->key, '@');
	imaddr_buf_append(&address->key, address->domain_ascii.data, address->domain_ascii.len);
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
		check_mixed_script(userid, len, field, "user ID", list);
		return;
	}
	check_mixed_script(userid, (size_t)(at - userid), field, "user ID local part", list);
	struct imaddr_buf domain;
	imaddr_buf_init(&domain, 0);
	imaddr_buf_append(&domain, at + 1, len - (size_t)(at - userid) - 1);
	check_mixed_script_labels(domain.data, field, "user ID domain label", list);
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
		describe_char(bad, name, sizeof(name));
		imaddr_rules_findings_add(list, IMADDR_CODE_USERID_INVALID, field, NULL,
				 "user ID has the control character %s at byte %zu", name,
				 bad_offset + 1);
		return false;
	}
	*ascii = imaddr_normalize_is_ascii(value, len);
	if (!*ascii)
		check_invisible(value, len, field, "user ID", list);
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
	if (is_ipv4(domain, strlen(domain))) {
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
			describe_char(bad, name, sizeof(name));
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
		struct imaddr_rules_finding *item = imaddr_rules_findings_add(list,
			IMADDR_CODE_IM_ADDRESS_NEEDS_ESCAPING, field, value,
			"IM address local part has characters XMPP carries only "
			"XEP-0106-escaped");
		for (size_t i = 0; i < local_len; i++) {
			unsigned char c = (unsigned char)local[i];
			const char *escape = jid_escape(c);
			if (c == '\\' && backslash_needs_escape(local, local_len, i))
				escape = "\\5c";
			if (escape)
				imaddr_buf_append_str(&item->suggestion, escape);
			else
				imaddr_buf_append_char(&item->suggestion, (char)c);
		}
		imaddr_buf_appendf(&item->suggestion, "@%s", domain);
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
		describe_char(unsupported, name, sizeof(name));
		imaddr_rules_findings_add(list, IMADDR_CODE_JABBER_UNSUPPORTED_CHAR, field, value,
				 "IM address local part has %s; Jabber supports only A-Z a-z "
				 "0-9 . - _ ~ # there", name);
	}
	return true;
}

/* RFC 5322 atext, which RFC 6531 extends with every non-ASCII character. */
static bool is_atext(unsigned char c)
{
	return c >= 0x80 || is_alnum_ascii(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
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
			describe_char(bad, name, sizeof(name));
			imaddr_rules_findings_add(list, IMADDR_CODE_MAIL_INVALID, field, NULL,
					 "mail has the control character %s at byte %zu", name,
					 bad_offset + 1);
		}
		return false;
	}
	if (!checked_as_uri)
		check_invisible(value, len, field, "mail", list);
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
