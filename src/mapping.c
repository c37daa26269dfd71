#include "mapping.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

void imaddr_mapping_init(struct imaddr_mapping *mapping)
{
	static const char *const defaults[IMADDR_ROLE_COUNT][IMADDR_MAPPING_MAX_NAMES + 1] = {
		[IMADDR_ROLE_USER_ID] = { "sAMAccountName", "USER ID" },
		/* EmailAddress: PowerShell's Get-ADUser name for mail. */
		[IMADDR_ROLE_DIRECTORY_URI] = { "DIRECTORY URI", "mail", "EmailAddress" },
		[IMADDR_ROLE_MAIL] = { "mail", "MAIL ID", "EmailAddress" },
		[IMADDR_ROLE_FIRST_NAME] = { "givenName", "FIRST NAME" },
		/* Surname: PowerShell's; an LDAP alias of sn in OpenLDAP too. */
		[IMADDR_ROLE_LAST_NAME] = { "sn", "LAST NAME", "Surname" },
		[IMADDR_ROLE_CURRENT_URI] = { "DIRECTORY URI" },
	};
	static const char *const dn_defaults[IMADDR_MAPPING_MAX_NAMES + 1] = {
		"dn", "DistinguishedName"
	};
	memcpy(mapping->names, defaults, sizeof(defaults));
	memcpy(mapping->dn_names, dn_defaults, sizeof(dn_defaults));
}

void imaddr_mapping_set_dn(struct imaddr_mapping *mapping, const char *name)
{
	memset(mapping->dn_names, 0, sizeof(mapping->dn_names));
	mapping->dn_names[0] = name;
}

enum imaddr_status imaddr_mapping_set(struct imaddr_mapping *mapping, enum imaddr_role role,
				      const char *name)
{
	/* names[] has a row per role and nothing past: anything else is written elsewhere. */
	if ((unsigned)role >= IMADDR_ROLE_COUNT)
		return IMADDR_ERR_USAGE;
	memset(mapping->names[role], 0, sizeof(mapping->names[role]));
	mapping->names[role][0] = name;
	return IMADDR_OK;
}

bool imaddr_attribute_is_sip_uri(const char *attribute)
{
	return attribute && !strcasecmp(attribute, "msRTCSIP-PrimaryUserAddress");
}

const char *imaddr_attribute_value_as_synced(const char *value, const char *attribute)
{
	return value && imaddr_attribute_is_sip_uri(attribute) && !strncasecmp(value, "sip:", 4)
		       ? value + 4 : value;
}

const char *imaddr_mapping_resolve(const struct imaddr_mapping *mapping, enum imaddr_role role,
				   bool (*has_attribute)(void *context, const char *name),
				   void *context)
{
	for (const char *const *name = mapping->names[role]; *name; name++) {
		if (has_attribute(context, *name))
			return *name;
	}
	return NULL;
}

const char *imaddr_mapping_resolve_dn(const struct imaddr_mapping *mapping,
				      bool (*has_attribute)(void *context, const char *name),
				      void *context)
{
	for (const char *const *name = mapping->dn_names; *name; name++) {
		if (has_attribute(context, *name))
			return *name;
	}
	return NULL;
}

void imaddr_mapping_describe(const struct imaddr_mapping *mapping, enum imaddr_role role,
			     char *out, size_t size)
{
	size_t used = 0;
	out[0] = '\0';
	for (const char *const *name = mapping->names[role]; *name && used < size; name++) {
		int n = snprintf(out + used, size - used, "%s'%s'",
				 name == mapping->names[role] ? "" : " or ", *name);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

const char *imaddr_role_name(enum imaddr_role role)
{
	static const char *const names[IMADDR_ROLE_COUNT] = {
		[IMADDR_ROLE_USER_ID] = "user ID",
		[IMADDR_ROLE_DIRECTORY_URI] = "directory URI",
		[IMADDR_ROLE_MAIL] = "mail",
		[IMADDR_ROLE_FIRST_NAME] = "first name",
		[IMADDR_ROLE_LAST_NAME] = "last name",
		[IMADDR_ROLE_CURRENT_URI] = "current directory URI",
	};
	return (unsigned)role < IMADDR_ROLE_COUNT ? names[role] : "value";
}
