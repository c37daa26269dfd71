#include "ldap_entry.h"

#include <string.h>
#include <strings.h>

#include "mapping.h"
#include "normalize.h"

/* Of a value quoted in a message, in bytes. */
#define SHOWN_VALUE_MAX 80

bool imaddr_ldap_entry_attribute_name_valid(const char *name)
{
	const char *p = name;
	if (!p || !*p)
		return false;
	if (*p >= '0' && *p <= '9') {
		/* A numeric OID: digits separated by single dots. */
		for (bool digit = false; *p && *p != ';'; p++) {
			if (*p >= '0' && *p <= '9')
				digit = true;
			else if (*p == '.' && digit)
				digit = false;
			else
				return false;
		}
		if (p[-1] == '.')
			return false;
	} else {
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
			return false;
		for (p++; *p && *p != ';'; p++) {
			if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			      (*p >= '0' && *p <= '9') || *p == '-'))
				return false;
		}
	}
	/* Options: ;lang-de, ;binary... */
	while (*p == ';') {
		const char *option = ++p;
		while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		       (*p >= '0' && *p <= '9') || *p == '-')
			p++;
		if (p == option)
			return false;
	}
	return *p == '\0';
}

const struct imaddr_ldap_attribute *imaddr_ldap_entry_find(
	const struct imaddr_ldap_attribute *attributes, size_t count, const char *name,
	size_t name_len)
{
	for (size_t i = 0; i < count; i++) {
		const struct imaddr_ldap_attribute *attribute = &attributes[i];
		if (attribute->name_len == name_len && !strncasecmp(attribute->name, name, name_len))
			return attribute;
	}
	return NULL;
}

const char *imaddr_ldap_entry_fallback_name(const struct imaddr_mapping *mapping,
					    enum imaddr_role role)
{
	for (const char *const *name = mapping->names[role]; *name; name++) {
		if (imaddr_ldap_entry_attribute_name_valid(*name))
			return *name;
	}
	return NULL;
}

/* An entry as imaddr_mapping_resolve's context. */
struct entry_view {
	const struct imaddr_ldap_attribute *attributes;
	size_t count;
};

static const struct imaddr_ldap_attribute *find_attribute(const struct entry_view *entry,
							   const char *name)
{
	return imaddr_ldap_entry_find(entry->attributes, entry->count, name, strlen(name));
}

static bool entry_has(void *context, const char *name)
{
	return find_attribute(context, name) != NULL;
}

static bool problem_reported(const struct imaddr_record *record, const char *attribute)
{
	for (size_t i = 0; i < record->problem_count; i++) {
		if (record->problems[i].code == IMADDR_CODE_VALUE_MULTIPLE &&
		    record->problems[i].field && !strcasecmp(record->problems[i].field, attribute))
			return true;
	}
	return false;
}

/*
 * Names the value used, so that whoever fixes the entry sees which one
 * Unified CM takes; bytes that are not UTF-8 (an LDIF's base64) are not
 * quoted in a message.
 */
static void report_multiple(struct imaddr_record *record, const char *name,
			    const struct imaddr_ldap_attribute *attribute)
{
	size_t shown = attribute->value_len;
	if (shown > SHOWN_VALUE_MAX) {
		shown = SHOWN_VALUE_MAX;
		/* Cut at a character, not inside one. */
		while (shown && ((unsigned char)attribute->value[shown] & 0xC0) == 0x80)
			shown--;
	}
	size_t bad;
	if (imaddr_normalize_utf8_valid(attribute->value, shown, &bad) &&
	    !memchr(attribute->value, '\0', shown))
		imaddr_record_add_problem(record, IMADDR_CODE_VALUE_MULTIPLE, name,
			"'%s' has %zu values: only the first, '%.*s%s', is used", name,
			attribute->value_count, (int)shown, attribute->value,
			shown < attribute->value_len ? "..." : "");
	else
		imaddr_record_add_problem(record, IMADDR_CODE_VALUE_MULTIPLE, name,
			"'%s' has %zu values: only the first is used", name,
			attribute->value_count);
}

void imaddr_ldap_entry_fill(struct imaddr_record *record, const struct imaddr_mapping *mapping,
			    const struct imaddr_ldap_attribute *attributes, size_t count)
{
	struct entry_view entry = { attributes, count };
	for (int role = 0; role < IMADDR_ROLE_COUNT; role++) {
		struct imaddr_value *value = &record->values[role];
		const char *name = imaddr_mapping_resolve(mapping, role, entry_has, &entry);
		if (!name) {
			value->attribute = imaddr_ldap_entry_fallback_name(mapping, role);
			continue;
		}
		const struct imaddr_ldap_attribute *attribute = find_attribute(&entry, name);
		value->attribute = name;
		if (!attribute->value)
			continue;
		value->data = attribute->value;
		value->len = attribute->value_len;
		value->present = attribute->value_len > 0;
		/* Two roles may read one attribute (mail): one problem is enough. */
		if (attribute->value_count > 1 && !problem_reported(record, name))
			report_multiple(record, name, attribute);
	}
}
