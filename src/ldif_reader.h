/*
 * The LDIF reader (libldap's LDIF functions): ldapsearch and ldifde exports.
 * Entries become records exactly as search results do (see ldap_reader.h),
 * with the line of the record's "dn:" line.
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
