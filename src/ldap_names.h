/*
 * Attribute names as the server knows them. An administrator may name an
 * attribute by an alias (surname, rfc822Mailbox) or by its OID; the server
 * asked for either answers with the attribute's primary name (sn, mail),
 * which the entry's values are then found under. The server's subschema
 * (RFC 4512) says which attribute type a name is.
 */
#ifndef IMADDR_LDAP_NAMES_H
#define IMADDR_LDAP_NAMES_H

#include "imaddr.h"
#include "ldap_session.h"

/** The primary names the mapping's aliases were replaced by, owned here. */
struct imaddr_ldap_names {
	char **primary;
	size_t count;
};

/**
 * In `mapping`, replaces every LDAP attribute name of a role whose names
 * are not imaddr's defaults, and that the server's schema knows under
 * another primary name, by that name. A name that no attribute type of the schema
 * has is IMADDR_ERR_INPUT, naming its role: every user would lack it. The
 * schema is read only when the mapping holds such a name; a server that
 * does not let it be read leaves the names as they are.
 */
enum imaddr_status imaddr_ldap_names_resolve(struct imaddr_ldap_session *session,
					     struct imaddr_mapping *mapping,
					     struct imaddr_ldap_names *names,
					     struct imaddr_error *err);

void imaddr_ldap_names_release(struct imaddr_ldap_names *names);

#endif /* IMADDR_LDAP_NAMES_H */
