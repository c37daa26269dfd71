#include "ldif_filter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ldap.h>

#include "buffer.h"
#include "error.h"

/* RFC 4511, section 4.5.1.7: a filter item is True, False or Undefined. */
enum truth { FALSE_ = 0, TRUE_, UNDEFINED };

/* Active Directory's bitwise matching rules. */
#define RULE_BIT_AND "1.2.840.113556.1.4.803"
#define RULE_BIT_OR "1.2.840.113556.1.4.804"

/* Whether an item's attribute has a space in it, as "(USER ID=x)" does. */
static bool spaced_attribute(const char *text)
{
	for (const char *open = strchr(text, '('); open; open = strchr(open + 1, '(')) {
		size_t name = strcspn(open + 1, "()=<>~");
		if (open[1 + name] != '=' && open[1 + name] != '<' && open[1 + name] != '>' &&
		    open[1 + name] != '~')
			continue;
		const char *space = memchr(open + 1, ' ', name);
		/* Spaces around the whole name are no name's: "( cn=x)" is another mistake. */
		if (space && space > open + 1 && open[name] != ' ')
			return true;
	}
	return false;
}

enum imaddr_status imaddr_ldif_filter_init(struct imaddr_ldif_filter *filter, const char *text,
					   struct imaddr_error *err)
{
	LDAP *ld = NULL;
	memset(filter, 0, sizeof(*filter));
	/* A handle that never connects: the encoder only needs its options. */
	int rc = ldap_initialize(&ld, NULL);
	if (rc == LDAP_SUCCESS)
		rc = ldap_create_assertion_control_value(ld, (char *)text, &filter->encoded);
	if (ld)
		ldap_unbind_ext(ld, NULL, NULL);
	if (rc != LDAP_SUCCESS) {
		ber_memfree(filter->encoded.bv_val);
		filter->encoded.bv_val = NULL;
		return imaddr_error_set(err, IMADDR_ERR_USAGE,
					"invalid filter '%s': not an LDAP search filter (RFC 4515)%s",
					text, spaced_attribute(text)
					? "; an attribute has no spaces: a CSV column named with "
					  "them is written with '-' for each (USER-ID for 'USER ID')"
					: "");
	}
	filter->text = imaddr_xstrdup(text);
	return IMADDR_OK;
}

void imaddr_ldif_filter_release(struct imaddr_ldif_filter *filter)
{
	ber_memfree(filter->encoded.bv_val);
	free(filter->text);
	memset(filter, 0, sizeof(*filter));
}

struct entry {
	const struct imaddr_ldif_value *values;
	size_t count;
	/* imaddr_ldif_filter_each_type: every item is visited, none decided. */
	void (*each_type)(const struct berval *type, void *context);
	void *context;
};

bool imaddr_ldif_type_matches(const struct berval *entry_type, const struct berval *filter_type)
{
	size_t len = entry_type->bv_len;
	const char *semicolon = memchr(entry_type->bv_val, ';', len);
	if (semicolon)
		len = (size_t)(semicolon - entry_type->bv_val);
	return len == filter_type->bv_len &&
	       !strncasecmp(entry_type->bv_val, filter_type->bv_val, len);
}

static bool parse_integer(const struct berval *value, long long *out)
{
	char text[32];
	char *end;
	if (!value->bv_len || value->bv_len >= sizeof(text))
		return false;
	memcpy(text, value->bv_val, value->bv_len);
	text[value->bv_len] = '\0';
	errno = 0;
	*out = strtoll(text, &end, 10);
	return !errno && !*end;
}

/* caseIgnoreMatch's ordering for ASCII; integers as integers. */
static int compare_values(const struct berval *a, const struct berval *b)
{
	long long x, y;
	if (parse_integer(a, &x) && parse_integer(b, &y))
		return (x > y) - (x < y);
	size_t len = a->bv_len < b->bv_len ? a->bv_len : b->bv_len;
	int order = strncasecmp(a->bv_val, b->bv_val, len);
	if (order)
		return order;
	return (a->bv_len > b->bv_len) - (a->bv_len < b->bv_len);
}

static enum truth any_value(const struct entry *entry, const struct berval *type,
			    bool (*test)(const struct berval *value, const void *context),
			    const void *context)
{
	if (entry->each_type) {
		entry->each_type(type, entry->context);
		return UNDEFINED;
	}
	for (size_t i = 0; i < entry->count; i++) {
		if (imaddr_ldif_type_matches(&entry->values[i].type, type) && test(&entry->values[i].value,
									context))
			return TRUE_;
	}
	return FALSE_;
}

struct ordering {
	const struct berval *assertion;
	ber_tag_t tag;
};

static bool ordered(const struct berval *value, const void *context)
{
	const struct ordering *o = context;
	int order = compare_values(value, o->assertion);
	return o->tag == LDAP_FILTER_GE ? order >= 0 : o->tag == LDAP_FILTER_LE ? order <= 0
										 : order == 0;
}

static bool always(const struct berval *value, const void *context)
{
	(void)value;
	(void)context;
	return true;
}

struct substrings {
	struct berval parts[16];
	ber_tag_t tags[16];
	size_t count;
};

static bool has_substrings(const struct berval *value, const void *context)
{
	const struct substrings *s = context;
	const char *p = value->bv_val, *end = value->bv_val + value->bv_len;
	for (size_t i = 0; i < s->count; i++) {
		const struct berval *part = &s->parts[i];
		size_t left = (size_t)(end - p);
		if (part->bv_len > left)
			return false;
		if (s->tags[i] == LDAP_SUBSTRING_INITIAL) {
			if (strncasecmp(p, part->bv_val, part->bv_len))
				return false;
			p += part->bv_len;
		} else if (s->tags[i] == LDAP_SUBSTRING_FINAL) {
			if (strncasecmp(end - part->bv_len, part->bv_val, part->bv_len))
				return false;
			end -= part->bv_len;
		} else {
			const char *found = NULL;
			for (const char *q = p; q + part->bv_len <= end; q++) {
				if (!strncasecmp(q, part->bv_val, part->bv_len)) {
					found = q;
					break;
				}
			}
			if (!found)
				return false;
			p = found + part->bv_len;
		}
	}
	return true;
}

struct bitwise {
	long long mask;
	bool all;
};

static bool bits_set(const struct berval *value, const void *context)
{
	const struct bitwise *b = context;
	long long flags;
	if (!parse_integer(value, &flags))
		return false;
	return b->all ? (flags & b->mask) == b->mask : (flags & b->mask) != 0;
}

static enum truth evaluate(BerElement *ber, const struct entry *entry);

/* The items of an and or or, each read whole from a decoder of their own. */
static enum truth evaluate_set(struct berval *items, const struct entry *entry, bool and)
{
	ber_len_t len;
	enum truth result = and ? TRUE_ : FALSE_;
	BerElement *ber = ber_init(items);
	if (!ber)
		imaddr_fatal("out of memory");
	while (ber_peek_tag(ber, &len) != LBER_DEFAULT) {
		enum truth item = evaluate(ber, entry);
		if (item == (and ? FALSE_ : TRUE_) && !entry->each_type) {
			result = item;
			break;
		}
		if (item == UNDEFINED)
			result = UNDEFINED;
	}
	ber_free(ber, 1);
	return result;
}

static enum truth evaluate_extensible(BerElement *ber, const struct entry *entry)
{
	ber_len_t len;
	char *last;
	struct berval rule = { 0, NULL }, type = { 0, NULL }, value = { 0, NULL };
	for (ber_tag_t tag = ber_first_element(ber, &len, &last); tag != LBER_DEFAULT;
	     tag = ber_next_element(ber, &len, last)) {
		struct berval item;
		ber_tag_t got = ber_scanf(ber, "m", &item);
		if (got == LBER_ERROR)
			return UNDEFINED;
		if (tag == LDAP_FILTER_EXT_OID)
			rule = item;
		else if (tag == LDAP_FILTER_EXT_TYPE)
			type = item;
		else if (tag == LDAP_FILTER_EXT_VALUE)
			value = item;
	}
	if (type.bv_val && entry->each_type)
		return any_value(entry, &type, NULL, NULL);
	struct bitwise bitwise;
	if (!type.bv_val || !rule.bv_val || !parse_integer(&value, &bitwise.mask))
		return UNDEFINED;
	if (rule.bv_len == strlen(RULE_BIT_AND) && !memcmp(rule.bv_val, RULE_BIT_AND, rule.bv_len))
		bitwise.all = true;
	else if (rule.bv_len == strlen(RULE_BIT_OR) && !memcmp(rule.bv_val, RULE_BIT_OR,
								rule.bv_len))
		bitwise.all = false;
	else
		return UNDEFINED;
	return any_value(entry, &type, bits_set, &bitwise);
}

static enum truth evaluate_substrings(BerElement *ber, const struct entry *entry)
{
	ber_len_t len;
	char *last;
	struct berval type;
	struct substrings parts = { .count = 0 };
	if (ber_scanf(ber, "{m", &type) == LBER_ERROR)
		return UNDEFINED;
	for (ber_tag_t tag = ber_first_element(ber, &len, &last); tag != LBER_DEFAULT;
	     tag = ber_next_element(ber, &len, last)) {
		if (parts.count == sizeof(parts.parts) / sizeof(*parts.parts) ||
		    ber_scanf(ber, "m", &parts.parts[parts.count]) == LBER_ERROR)
			return UNDEFINED;
		parts.tags[parts.count++] = tag;
	}
	return any_value(entry, &type, has_substrings, &parts);
}

static enum truth evaluate(BerElement *ber, const struct entry *entry)
{
	ber_len_t len;
	struct berval type, value;
	ber_tag_t tag = ber_peek_tag(ber, &len);
	switch (tag) {
	case LDAP_FILTER_AND:
	case LDAP_FILTER_OR: {
		struct berval items;
		if (ber_scanf(ber, "m", &items) == LBER_ERROR)
			return UNDEFINED;
		return evaluate_set(&items, entry, tag == LDAP_FILTER_AND);
	}
	case LDAP_FILTER_NOT: {
		if (ber_skip_tag(ber, &len) == LBER_ERROR)
			return UNDEFINED;
		enum truth inner = evaluate(ber, entry);
		return inner == UNDEFINED ? UNDEFINED : inner == TRUE_ ? FALSE_ : TRUE_;
	}
	case LDAP_FILTER_EQUALITY:
	case LDAP_FILTER_GE:
	case LDAP_FILTER_LE:
	case LDAP_FILTER_APPROX: {
		if (ber_scanf(ber, "{mm}", &type, &value) == LBER_ERROR)
			return UNDEFINED;
		struct ordering o = { &value, tag };
		return any_value(entry, &type, ordered, &o);
	}
	case LDAP_FILTER_SUBSTRINGS:
		return evaluate_substrings(ber, entry);
	case LDAP_FILTER_PRESENT:
		if (ber_scanf(ber, "m", &type) == LBER_ERROR)
			return UNDEFINED;
		return any_value(entry, &type, always, NULL);
	case LDAP_FILTER_EXT:
		return evaluate_extensible(ber, entry);
	default:
		/* Skipped whole, so that the items after it are read right. */
		ber_scanf(ber, "x");
		return UNDEFINED;
	}
}

static enum truth evaluate_filter(const struct imaddr_ldif_filter *filter,
				  const struct entry *entry)
{
	BerElement *ber = ber_init((struct berval *)&filter->encoded);
	if (!ber)
		imaddr_fatal("out of memory");
	enum truth result = evaluate(ber, entry);
	ber_free(ber, 1);
	return result;
}

bool imaddr_ldif_filter_match(const struct imaddr_ldif_filter *filter,
			      const struct imaddr_ldif_value *values, size_t count)
{
	struct entry entry = { .values = values, .count = count };
	return evaluate_filter(filter, &entry) == TRUE_;
}

void imaddr_ldif_filter_each_type(const struct imaddr_ldif_filter *filter,
				  void (*each)(const struct berval *type, void *context),
				  void *context)
{
	struct entry entry = { .each_type = each, .context = context };
	evaluate_filter(filter, &entry);
}
