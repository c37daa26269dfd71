/*
 * The rules of a domain: UTS #46 and IM and Presence's, what UTS #39 and
 * transitional processing say of a valid one, and the cache that asks it
 * all once per spelling. See rules.h for the contracts.
 */
#include "rules_internal.h"

#include <string.h>

#include "normalize.h"
#include "spoof.h"
#include "strmap.h"

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
