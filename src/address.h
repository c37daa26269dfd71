/*
 * The checks of one value: user IDs, directory URIs, domains and IM
 * addresses, by Unified CM's and IM and Presence's rules. ICU work is done
 * through normalize.h; this module holds the rules, not the Unicode tables.
 */
#ifndef IMADDR_ADDRESS_H
#define IMADDR_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "buffer.h"
#include "imaddr.h"

#define IMADDR_USERID_MAX_CHARS 128
#define IMADDR_URI_USER_MAX_CHARS 47
#define IMADDR_URI_MAX_ENCODED 254
#define IMADDR_DOMAIN_MAX 255
#define IMADDR_JID_PART_MAX_OCTETS 1023
#define IMADDR_CHECK_MAX_FINDINGS 24

/** Findings collected while checking one user; buffers are reused. */
struct imaddr_check_list {
	size_t count;
	struct imaddr_check_item {
		enum imaddr_code code;
		const char *field;
		const char *value;  /* borrowed, NUL-terminated; NULL: the checked value */
		struct imaddr_buf message;
		struct imaddr_buf suggestion;  /* empty: none */
	} items[IMADDR_CHECK_MAX_FINDINGS];
};

void imaddr_check_list_init(struct imaddr_check_list *list);
void imaddr_check_list_reset(struct imaddr_check_list *list);
void imaddr_check_list_release(struct imaddr_check_list *list);
/** Adds a finding and returns it so a suggestion can be written; past the
 *  maximum the last slot is reused, so a pathological value cannot grow it. */
struct imaddr_check_item *imaddr_check_add(struct imaddr_check_list *list,
					   enum imaddr_code code, const char *field,
					   const char *value, const char *format, ...)
	__attribute__((format(printf, 5, 6)));

/*
 * Valid domains by their bytes as written, with their A-label and U-label
 * forms. A directory has a few dozen domains and a million users: with a
 * cache, UTS #46 runs once per domain spelling instead of once per user.
 */
#define IMADDR_DOMAIN_CACHE_MAX 4096

struct imaddr_strmap;

/** A normalized address: NFC local part, A-label and U-label domain. */
struct imaddr_address {
	struct imaddr_strmap *domain_cache;  /* optional, owned by the caller */
	/* Set by imaddr_check_uri for a URI of letters, digits and . _ ~ - at a
	 * known canonical host: as an IM address it has nothing to report. */
	bool plain;
	struct imaddr_buf local;
	struct imaddr_buf domain_ascii;
	struct imaddr_buf domain_unicode;
	struct imaddr_buf canonical;   /* local@domain_ascii */
	struct imaddr_buf unicode;     /* local@domain_unicode, see imaddr_address_finish */
	struct imaddr_buf key;         /* NFKC_Casefold(local)@domain_ascii, likewise */
};

void imaddr_address_init(struct imaddr_address *address);
void imaddr_address_release(struct imaddr_address *address);

/**
 * Checks a domain by UTS #46 and IM and Presence's rules (only a-z 0-9 - .
 * in A-label form, no label starting with '-', a last label not starting
 * with a digit, at most 255 characters). Fills the domain forms of
 * `address`; adds domain-invalid to `list` (when not NULL) and returns false
 * when it fails. `value` names the value in the finding.
 */
bool imaddr_check_domain(const char *domain, size_t len, const char *field, const char *value,
			 struct imaddr_address *address, struct imaddr_check_list *list);

/**
 * Fills the parts of a valid address that not every caller needs: the
 * U-label form (`unicode`) and the comparison key (`key`).
 */
void imaddr_address_finish(struct imaddr_address *address);

/**
 * Checks a directory URI by Unified CM's rules and fills `address` with its
 * local part, domain forms and canonical form (imaddr_address_finish adds
 * the rest). `sip_attribute` says the value comes from
 * msRTCSIP-PrimaryUserAddress, where a "sip:" prefix is the norm rather
 * than something to report. Returns true when the URI is valid (warnings
 * such as uri-not-canonical may still have been added).
 */
bool imaddr_check_uri(const char *value, size_t len, const char *field, bool sip_attribute,
		      struct imaddr_address *address, struct imaddr_check_list *list);

/**
 * Checks a user ID: missing, invalid, not canonical. Writes the trimmed NFC
 * user ID to `canonical` and its comparison key to `key`. Returns false
 * when the user ID is missing or invalid.
 */
bool imaddr_check_userid(const char *value, size_t len, const char *field,
			 struct imaddr_buf *canonical, struct imaddr_buf *key,
			 struct imaddr_check_list *list);

/**
 * Checks `local`@`domain` as an XMPP address: im-address-invalid (empty
 * part, PRECIS IdentifierClass, over 1023 octets), im-address-needs-escaping
 * (RFC 7622's forbidden characters, which XEP-0106 escapes) and
 * jabber-unsupported-char. An '@' in the local part is skipped here when
 * `userid_is_address` (it has a finding of its own). Returns false when the
 * address cannot be carried at all.
 */
bool imaddr_check_im_address(const char *local, size_t local_len, const char *domain,
			     const char *field, const char *value, bool userid_is_address,
			     struct imaddr_check_list *list);

/** The comparison key of a mail address (or of the raw value when it does
 *  not parse as one), for mail-duplicate. */
void imaddr_address_mail_key(const char *value, size_t len, struct imaddr_address *scratch,
			     struct imaddr_buf *key);

#endif /* IMADDR_ADDRESS_H */
