/*
 * An LDAP entry as a record: which of an entry's attributes feeds which
 * role. The LDAP reader's search results and the LDIF reader's records are
 * both entries and go through here, so that one directory gives the same
 * users whichever way it is read. No libldap call: the readers hand over
 * the attributes they decoded.
 */
#ifndef IMADDR_LDAP_ENTRY_H
#define IMADDR_LDAP_ENTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "reader.h"

/** One attribute of an entry, from a search result or an LDIF record. */
struct imaddr_ldap_attribute {
	const char *name;        /* not necessarily NUL-terminated */
	size_t name_len;
	const char *value;       /* the first value (raw bytes), NULL when none */
	size_t value_len;
	size_t value_count;
};

/**
 * Fills record->values from an entry's attributes, which it borrows: the
 * values point into `attributes` until they go. For each role, the first of
 * the mapping's names the entry has (case-insensitively) is the role's
 * attribute; when the entry has none of them, value->attribute is
 * imaddr_ldap_entry_fallback_name()'s (so that an entry without sn reports
 * a missing last name). value->attribute always points into `mapping`. An
 * attribute with more than one value gives its first and a value-multiple
 * problem. The caller resets the record and sets its line and DN.
 */
void imaddr_ldap_entry_fill(struct imaddr_record *record, const struct imaddr_mapping *mapping,
			    const struct imaddr_ldap_attribute *attributes, size_t count);

/**
 * The attribute named `name` (`name_len` bytes, compared case-insensitively)
 * among `count` attributes, or NULL.
 */
const struct imaddr_ldap_attribute *imaddr_ldap_entry_find(
	const struct imaddr_ldap_attribute *attributes, size_t count, const char *name,
	size_t name_len);

/**
 * The first of a role's names that can be an LDAP attribute, or NULL when
 * none can ("USER ID" is a CSV column): what an entry without the role
 * lacks, and what a search must ask for.
 */
const char *imaddr_ldap_entry_fallback_name(const struct imaddr_mapping *mapping,
					    enum imaddr_role role);

/**
 * True when `name` can be an LDAP attribute description (RFC 4512: a
 * descriptor or numeric OID, with ;options). "USER ID", a CSV column, cannot.
 */
bool imaddr_ldap_entry_attribute_name_valid(const char *name);

#endif /* IMADDR_LDAP_ENTRY_H */
