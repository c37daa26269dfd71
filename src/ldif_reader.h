/*
 * The LDIF reader: ldapsearch and ldifde exports, read with libldap's LDIF
 * functions (ldif_read_record splits records, ldif_getline joins folded
 * lines and skips comments, ldif_parse_line2 decodes base64 values).
 *
 * Each entry becomes a record exactly as a search result does (see
 * imaddr_ldap_record_fill in ldap_reader.h), with the DN and the line of its
 * "dn:" line. A record that is not an entry (no DN, a line that does not
 * parse, a change record, a value given by URL, which is never fetched) is
 * skipped and reported through the request's notice as record-malformed,
 * with its line; "version: 1" and ldapsearch's "search:/result:" trailer are
 * skipped silently, unless the trailer says the search failed. A file that
 * cannot be opened is IMADDR_ERR_INPUT, one that cannot be read
 * IMADDR_ERR_IO, both naming the file.
 */
#ifndef IMADDR_LDIF_READER_H
#define IMADDR_LDIF_READER_H

#include "reader.h"

/*
 * libldap reads a whole record into memory before it can be looked at; a
 * record larger than this (an export without blank lines between entries?)
 * is reported and skipped rather than parsed.
 */
#define IMADDR_LDIF_RECORD_MAX (16 * 1024 * 1024)

#endif /* IMADDR_LDIF_READER_H */
