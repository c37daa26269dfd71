/*
 * The checks of one value: user IDs, directory URIs, domains, IM addresses
 * and mail, by Unified CM's and IM and Presence's rules. ICU work is done
 * through normalize.h and spoof.h; this module holds the rules, not the
 * Unicode tables. A file a value: rules.c (the findings list, the address
 * and the user ID), rules_domain.c, rules_uri.c, rules_im_address.c and
 * rules_mail.c; rules_internal.h is what they share.
 */
#ifndef IMADDR_RULES_H
#define IMADDR_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "buffer.h"
#include "imaddr.h"

#define IMADDR_RULES_USERID_MAX_CHARS 128
#define IMADDR_RULES_URI_USER_MAX_CHARS 47
#define IMADDR_RULES_URI_MAX_ENCODED 254
#define IMADDR_RULES_DOMAIN_MAX 255
#define IMADDR_RULES_JID_PART_MAX_OCTETS 1023
#define IMADDR_RULES_MAX_FINDINGS 24

/** Findings collected while checking one user; buffers are reused. */
struct imaddr_rules_findings {
	size_t count;
	struct imaddr_rules_finding {
		enum imaddr_code code;
		const char *field;
		const char *value;  /* borrowed, NUL-terminated; NULL: the checked value */
		struct imaddr_buf message;
		struct imaddr_buf suggestion;  /* empty: none */
	} items[IMADDR_RULES_MAX_FINDINGS];
};

void imaddr_rules_findings_init(struct imaddr_rules_findings *list);
void imaddr_rules_findings_reset(struct imaddr_rules_findings *list);
void imaddr_rules_findings_release(struct imaddr_rules_findings *list);
/** Adds a finding and returns it so a suggestion can be written; past the
 *  maximum the last slot is reused, so a pathological value cannot grow it. */
struct imaddr_rules_finding *imaddr_rules_findings_add(struct imaddr_rules_findings *list,
					   enum imaddr_code code, const char *field,
					   const char *value, const char *format, ...)
	__attribute__((format(printf, 5, 6)));

/*
 * Valid domains by their bytes as written, with their A-label and U-label
 * forms. A directory has a few dozen domains and a million users: with a
 * cache, UTS #46 runs once per domain spelling instead of once per user.
 */
#define IMADDR_RULES_DOMAIN_CACHE_MAX 4096

struct imaddr_strmap;

/*
 * What UTS #39 and UTS #46 say of a valid domain, found once per spelling
 * (a cache entry's `count` holds them): remarks for the findings, and
 * whether the U-label form is ASCII.
 */
#define IMADDR_RULES_DOMAIN_DEVIATION 1u     /* transitional processing gives another domain */
#define IMADDR_RULES_DOMAIN_MIXED_SCRIPT 2u  /* a U-label mixes scripts */
#define IMADDR_RULES_DOMAIN_NOT_ASCII 4u     /* the U-label form has non-ASCII characters */
#define IMADDR_RULES_DOMAIN_INVISIBLE 8u     /* the spelling has an invisible character */
#define IMADDR_RULES_DOMAIN_REMARKS (IMADDR_RULES_DOMAIN_DEVIATION | \
				     IMADDR_RULES_DOMAIN_MIXED_SCRIPT | \
				     IMADDR_RULES_DOMAIN_INVISIBLE)

/** A normalized address: NFC local part, A-label and U-label domain. */
struct imaddr_address {
	struct imaddr_strmap *domain_cache;  /* optional, owned by the caller */
	/* Set by imaddr_rules_uri for a URI of letters, digits and . _ ~ - at a
	 * known canonical host: as an IM address it has nothing to report. */
	bool plain;
	struct imaddr_buf local;
	struct imaddr_buf domain_ascii;
	struct imaddr_buf domain_unicode;
	/* Set with the domain forms: IMADDR_RULES_DOMAIN_*, the UTS #39
	 * skeleton of the U-label form and, with IMADDR_RULES_DOMAIN_DEVIATION,
	 * the transitional A-label form ("" when transitional processing fails);
	 * in the cache, or in the buffers. */
	unsigned domain_flags;
	const char *domain_skeleton;
	const char *domain_transitional;
	struct imaddr_buf domain_skeleton_buf;
	struct imaddr_buf domain_transitional_buf;
	struct imaddr_buf canonical;   /* local@domain_ascii */
	struct imaddr_buf unicode;     /* local@domain_unicode, see imaddr_rules_address_finish */
	struct imaddr_buf key;         /* NFKC_Casefold(local)@domain_ascii, likewise */
};

void imaddr_rules_address_init(struct imaddr_address *address);
void imaddr_rules_address_release(struct imaddr_address *address);

/**
 * Checks a domain by UTS #46 and IM and Presence's rules (only a-z 0-9 - .
 * in A-label form, no label starting with '-', a last label not starting
 * with a digit, at most 255 characters). Fills the domain forms of
 * `address`, with its flags and skeleton when valid; adds domain-invalid to
 * `list` (when not NULL) and returns false when it fails. `value` names the
 * value in the finding.
 */
bool imaddr_rules_domain(const char *domain, size_t len, const char *field, const char *value,
			 struct imaddr_address *address, struct imaddr_rules_findings *list);

/**
 * Fills the parts of a valid address that not every caller needs: the
 * U-label form (`unicode`) and the comparison key (`key`).
 */
void imaddr_rules_address_finish(struct imaddr_address *address);

/**
 * Checks a directory URI by Unified CM's rules and fills `address` with its
 * local part, domain forms and canonical form (imaddr_rules_address_finish adds
 * the rest). `sip_attribute` says the value comes from
 * msRTCSIP-PrimaryUserAddress, where a "sip:" prefix is the norm rather
 * than something to report. Returns true when the URI is valid (warnings
 * such as uri-not-canonical may still have been added). Hostile Unicode is
 * reported too, without making the URI invalid: invisible-char anywhere in
 * the value, and for a valid URI mixed-script (the user part, a U-label)
 * and idna-deviation (the host).
 */
bool imaddr_rules_uri(const char *value, size_t len, const char *field, bool sip_attribute,
		      struct imaddr_address *address, struct imaddr_rules_findings *list);

/**
 * Whether a directory URI as read starts (past surrounding white space)
 * with the address type "SMTP:" of AD's proxyAddresses, which
 * imaddr_rules_uri takes off and reports.
 */
bool imaddr_rules_uri_has_smtp_type(const char *value, size_t len);

/**
 * Checks a user ID: missing, invalid, not canonical, invisible-char and
 * mixed-script (a user ID with an '@' by its parts, as an address). Writes
 * the trimmed NFC user ID to `canonical` and its comparison key to `key`,
 * and sets *ascii when the value is all ASCII (so is the key). Returns
 * false when the user ID is missing or invalid.
 */
bool imaddr_rules_userid(const char *value, size_t len, const char *field,
			 struct imaddr_buf *canonical, struct imaddr_buf *key, bool *ascii,
			 struct imaddr_rules_findings *list);

/**
 * Checks `local`@`domain` as an XMPP address: im-address-invalid (empty
 * part, PRECIS IdentifierClass, over 1023 octets), im-address-needs-escaping
 * (RFC 7622's forbidden characters, which XEP-0106 escapes) and
 * jabber-unsupported-char. An '@' in the local part is skipped here when
 * `userid_is_address` (it has a finding of its own). Returns false when the
 * address cannot be carried at all.
 */
bool imaddr_rules_im_address(const char *local, size_t local_len, const char *domain,
			     const char *field, const char *value, bool userid_is_address,
			     struct imaddr_rules_findings *list);

/**
 * Checks a mail address: a control character anywhere is mail-invalid,
 * surrounding white space mail-not-canonical (the trimmed value is the
 * suggestion), an invisible character invisible-char, and a local part that
 * breaks RFC 5321's dot-atom (a leading, trailing or doubled dot, a quoted
 * local part, a character outside atext, over 64 octets) mail-not-dot-atom.
 * `checked_as_uri` says the same value is also the directory URI, whose
 * findings already cover control characters, invisible characters and white
 * space. Well-formed UTF-8 only. Returns false on mail-invalid.
 */
bool imaddr_rules_mail(const char *value, size_t len, const char *field, bool checked_as_uri,
		       struct imaddr_rules_findings *list);

/** The comparison key of a mail address (or of the raw value when it does
 *  not parse as one), for mail-duplicate. */
void imaddr_rules_mail_key(const char *value, size_t len, struct imaddr_address *scratch,
			     struct imaddr_buf *key);

#endif /* IMADDR_RULES_H */
