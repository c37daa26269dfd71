/*
 * The LDAP reader (libldap): a paged search of a directory server. Every
 * libldap call of the network path lives in reader_ldap.c; the LDIF reader
 * shares the part that turns an entry's attributes into a record.
 *
 * imaddr_ldap_reader_open (include/imaddr.h) checks the options without
 * contacting anything: a mistake there is IMADDR_ERR_USAGE. The run then
 * connects (StartTLS, certificate verification demanded), checks the filter
 * before sending it, binds (anonymous, simple or SASL), and reads every
 * entry through RFC 2696 paged results, asking only for the mapping's
 * attributes. Referrals are counted, not followed, and reported once at the
 * end as one ldap-reference notice. Any failure of the server or the
 * connection is IMADDR_ERR_LDAP with "URI: what failed: libldap's text
 * (the server's text)"; a caught signal while waiting is
 * IMADDR_ERR_INTERRUPTED. SIGPIPE is blocked while the reader runs.
 */
#ifndef IMADDR_READER_LDAP_H
#define IMADDR_READER_LDAP_H

#include "reader.h"

/* Entries per page when the options say 0. */
#define IMADDR_LDAP_PAGE_SIZE_DEFAULT 1000
/* The progress line is redrawn at most this often, in milliseconds. */
#define IMADDR_LDAP_PROGRESS_MS 250

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
 * attribute; when the entry has none of them, value->attribute is the
 * role's first name that can be an LDAP attribute (so that an entry
 * without sn reports a missing last name), or NULL when no name can be.
 * value->attribute always points into `mapping`. An attribute with more
 * than one value gives its first and a value-multiple problem. The caller
 * resets the record and sets its line and DN.
 */
void imaddr_ldap_record_fill(struct imaddr_record *record, const struct imaddr_mapping *mapping,
			     const struct imaddr_ldap_attribute *attributes, size_t count);

/**
 * True when `name` can be an LDAP attribute description (RFC 4512: a
 * descriptor or numeric OID, with ;options). "USER ID", a CSV column, cannot.
 */
bool imaddr_ldap_attribute_name_valid(const char *name);

#endif /* IMADDR_READER_LDAP_H */
