/*
 * The LDIF reader: ldapsearch and ldifde exports. The reader splits the
 * file into records itself, each line and each record within a cap;
 * libldap's LDIF functions then read each record (ldif_getline joins folded
 * lines and skips comments, ldif_parse_line2 decodes base64 values).
 * libldap's own record reader, ldif_read_record, is not used: it follows
 * "include:" lines to any file or URL and holds a line whole, however long.
 *
 * Each entry becomes a record exactly as a search result does (see
 * imaddr_ldap_entry_fill in ldap_entry.h), with the DN and the line of its
 * "dn:" line. A record that is not an entry (no DN, a line that does not
 * parse, a change record, a value given by URL, which is never fetched, a
 * NUL byte outside base64, a line or a record over its cap) is skipped and
 * reported through the request's notice as record-malformed, with its line;
 * so is an "include:" line, whose file is never opened. "version: 1",
 * ldapsearch's "search:/result:" trailer and a record's leading entry
 * number (a line of digits, as old LDIF has) are skipped silently, unless
 * the trailer says the search failed. A file that cannot be opened is
 * IMADDR_ERR_INPUT, one that cannot be read IMADDR_ERR_IO, both naming the
 * file.
 */
#ifndef IMADDR_READER_LDIF_H
#define IMADDR_READER_LDIF_H

#include "reader.h"

/*
 * A record is held whole while it is parsed: one larger than this (an
 * export without blank lines between entries?) is reported and skipped
 * rather than held. A line longer than IMADDR_LDIF_LINE_MAX skips its
 * record the same way; long values are folded (ldapsearch folds at 76
 * columns), so that only a broken or hostile file has one.
 */
#define IMADDR_LDIF_RECORD_MAX (16 * 1024 * 1024)
#define IMADDR_LDIF_LINE_MAX (1024 * 1024)

#endif /* IMADDR_READER_LDIF_H */
