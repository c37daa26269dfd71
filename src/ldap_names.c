#include "ldap_names.h"

#include <ldap_schema.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buffer.h"
#include "error.h"
#include "ldap_entry.h"
#include "mapping.h"

/* Whether the role's names are imaddr's own: names of the server's primary form. */
static bool default_names(const struct imaddr_mapping *mapping, int role)
{
	struct imaddr_mapping defaults;
	imaddr_mapping_init(&defaults);
	size_t i = 0;
	for (; defaults.names[role][i] && mapping->names[role][i]; i++) {
		if (strcmp(defaults.names[role][i], mapping->names[role][i]))
			return false;
	}
	return !defaults.names[role][i] && !mapping->names[role][i];
}

/* The names worth asking the schema about: LDAP names the caller chose. */
static bool chosen_names(const struct imaddr_mapping *mapping)
{
	for (int role = 0; role < IMADDR_ROLE_COUNT; role++) {
		if (default_names(mapping, role))
			continue;
		for (const char *const *name = mapping->names[role]; *name; name++) {
			if (imaddr_ldap_entry_attribute_name_valid(*name))
				return true;
		}
	}
	return false;
}

static struct timeval *search_limit(const struct imaddr_ldap_session *session,
				    struct timeval *limit)
{
	if (session->options->timeout_seconds <= 0)
		return NULL;
	limit->tv_sec = session->options->timeout_seconds;
	limit->tv_usec = 0;
	return limit;
}

/* One attribute of one entry, read with a base search; NULL when there is none. */
static struct berval **read_values(struct imaddr_ldap_session *session, const char *dn,
				   const char *filter, char *attribute)
{
	char *attributes[] = { attribute, NULL };
	struct timeval limit;
	LDAPMessage *result = NULL;
	struct berval **values = NULL;
	int rc = ldap_search_ext_s(session->ld, dn, LDAP_SCOPE_BASE, filter, attributes, 0, NULL,
				   NULL, search_limit(session, &limit), 1, &result);
	LDAPMessage *entry = rc == LDAP_SUCCESS ? ldap_first_entry(session->ld, result) : NULL;
	if (entry)
		values = ldap_get_values_len(session->ld, entry, attribute);
	ldap_msgfree(result);
	return values;
}

/* Whether `text` is the `length` bytes of `name`, whatever their case. */
static bool same_name(const char *text, const char *name, size_t length)
{
	return strlen(text) == length && !strncasecmp(text, name, length);
}

/*
 * The attribute type of the schema's `types` that the first `length` bytes
 * of `name` (without its options, ";lang-de") name, by a name or its OID.
 */
static LDAPAttributeType *find_type(struct berval **types, const char *name, size_t length)
{
	for (size_t i = 0; types[i]; i++) {
		int code;
		const char *where;
		LDAPAttributeType *type = ldap_str2attributetype(types[i]->bv_val, &code, &where,
								 LDAP_SCHEMA_ALLOW_ALL);
		if (!type)
			continue;
		bool named = type->at_oid && same_name(type->at_oid, name, length);
		for (char **alias = type->at_names; !named && alias && *alias; alias++)
			named = same_name(*alias, name, length);
		if (named)
			return type;
		ldap_attributetype_free(type);
	}
	return NULL;
}

/* `primary` with the options of the name it replaces. */
static const char *keep_name(struct imaddr_ldap_names *names, const char *primary,
			     const char *options)
{
	struct imaddr_buf name;
	imaddr_buf_init(&name, 0);
	imaddr_buf_appendf(&name, "%s%s", primary, options);
	names->primary = imaddr_xrealloc(names->primary,
					 (names->count + 1) * sizeof(*names->primary));
	return names->primary[names->count++] = imaddr_buf_detach(&name);
}

enum imaddr_status imaddr_ldap_names_resolve(struct imaddr_ldap_session *session,
					     struct imaddr_mapping *mapping,
					     struct imaddr_ldap_names *names,
					     struct imaddr_error *err)
{
	if (!chosen_names(mapping))
		return IMADDR_OK;
	struct berval **subschema = read_values(session, "", "(objectClass=*)",
						"subschemaSubentry");
	struct berval **types = NULL;
	if (subschema && subschema[0])
		types = read_values(session, subschema[0]->bv_val, "(objectClass=subschema)",
				    "attributeTypes");
	enum imaddr_status status = IMADDR_OK;
	for (int role = 0; types && status == IMADDR_OK && role < IMADDR_ROLE_COUNT; role++) {
		if (default_names(mapping, role))
			continue;
		for (const char **name = mapping->names[role]; *name; name++) {
			if (!imaddr_ldap_entry_attribute_name_valid(*name))
				continue;
			const char *options = strchr(*name, ';');
			size_t length = options ? (size_t)(options - *name) : strlen(*name);
			LDAPAttributeType *type = find_type(types, *name, length);
			if (!type) {
				status = imaddr_error_set(err, IMADDR_ERR_INPUT,
					"%s: the %s's attribute '%s' is no attribute type of the "
					"server's schema (%s): every user would lack it; is it "
					"spelled right?",
					session->options->uri ? session->options->uri : "LDAP",
					imaddr_role_name(role), *name, subschema[0]->bv_val);
				break;
			}
			const char *primary = type->at_names && type->at_names[0]
						      ? type->at_names[0] : type->at_oid;
			if (primary && !same_name(primary, *name, length))
				*name = keep_name(names, primary, options ? options : "");
			ldap_attributetype_free(type);
		}
	}
	ber_bvecfree(types);
	ber_bvecfree(subschema);
	return status;
}

void imaddr_ldap_names_release(struct imaddr_ldap_names *names)
{
	for (size_t i = 0; i < names->count; i++)
		free(names->primary[i]);
	free(names->primary);
	names->primary = NULL;
	names->count = 0;
}
