/*
 * The attribute mapping: for each role (user ID, directory URI...), the
 * input attributes (CSV columns, LDAP attributes) that may hold it, first
 * match wins, names compared case-insensitively. imaddr_mapping_init and
 * imaddr_mapping_set, which fill one, are public (include/imaddr.h); the
 * readers resolve a mapping against their input through the functions
 * here, and the audit names roles in its messages with imaddr_role_name.
 */
#ifndef IMADDR_MAPPING_H
#define IMADDR_MAPPING_H

#include <stdbool.h>
#include <stddef.h>

#include "imaddr.h"

/**
 * The first name of a role's list that `has_attribute` accepts, or NULL.
 * Readers with a fixed attribute set (a CSV header) use it once; readers
 * whose entries differ (LDIF) use it per entry. The name returned points
 * into the mapping.
 */
const char *imaddr_mapping_resolve(const struct imaddr_mapping *mapping, enum imaddr_role role,
				   bool (*has_attribute)(void *context, const char *name),
				   void *context);

/** As imaddr_mapping_resolve, for the CSV column of the DN. */
const char *imaddr_mapping_resolve_dn(const struct imaddr_mapping *mapping,
				      bool (*has_attribute)(void *context, const char *name),
				      void *context);

/**
 * "'sAMAccountName' or 'USER ID'": the names of a role, for messages,
 * written into `out` and cut at `size` bytes.
 */
void imaddr_mapping_describe(const struct imaddr_mapping *mapping, enum imaddr_role role,
			     char *out, size_t size);

/** The role's name in messages: "user ID", "directory URI"... Never NULL. */
/*
 * A directory URI attribute's value as Unified CM's LDAP sync stores it:
 * msRTCSIP-PrimaryUserAddress's "sip:" dropped, any other attribute's value
 * whole. NULL stays NULL.
 */
const char *imaddr_attribute_value_as_synced(const char *value, const char *attribute);

const char *imaddr_role_name(enum imaddr_role role);

#endif /* IMADDR_MAPPING_H */
