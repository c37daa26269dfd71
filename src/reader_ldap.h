/*
 * The LDAP reader (libldap): a paged search of a directory server. The
 * connection, TLS and the bind are ldap_session.h's; this file sends the
 * search and reads every entry through RFC 2696 paged results, asking only
 * for the mapping's attributes. What an entry's attributes make of a record
 * is ldap_entry.h's, which the LDIF reader shares.
 *
 * imaddr_ldap_reader_open (include/imaddr.h) checks the options without
 * contacting anything: a mistake there is IMADDR_ERR_USAGE. Referrals are
 * counted, not followed, and reported once at the end as one ldap-reference
 * notice. Any failure of the server or the connection is IMADDR_ERR_LDAP
 * with "URI: what failed: libldap's text (the server's text)"; a caught
 * signal while waiting is IMADDR_ERR_INTERRUPTED. SIGPIPE is blocked while
 * the reader runs.
 */
#ifndef IMADDR_READER_LDAP_H
#define IMADDR_READER_LDAP_H

#include "reader.h"

/* Entries per page when the options say 0. */
#define IMADDR_LDAP_PAGE_SIZE_DEFAULT 1000
/* The options' progress callback is called at most this often, in milliseconds. */
#define IMADDR_LDAP_PROGRESS_MS 250

/** Whether the reader still holds its copy of the bind password (for tests). */
bool imaddr_ldap_reader_holds_password(const struct imaddr_reader *reader);

#endif /* IMADDR_READER_LDAP_H */
