/*
 * What the rules' files (rules.c, rules_domain.c, rules_uri.c,
 * rules_im_address.c, rules_mail.c) share and nobody else needs: defined in
 * rules.c, but for the one-liner inline here.
 */
#ifndef IMADDR_RULES_INTERNAL_H
#define IMADDR_RULES_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules.h"

/** Empties the forms of `address` before a URI fills them; its cache stays. */
void imaddr_rules_address_reset(struct imaddr_address *address);

/** Writes local@domain to `out`. */
void imaddr_rules_join_address(struct imaddr_buf *out, const struct imaddr_buf *local,
			       const struct imaddr_buf *domain);

/** True when host is a dotted IPv4 address, as inet_pton reads one. */
bool imaddr_rules_is_ipv4(const char *host, size_t len);

static inline bool imaddr_rules_is_alnum_ascii(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/** A short, printable rendering of a code point for messages, into out[size]. */
void imaddr_rules_describe_char(int32_t codepoint, char *out, size_t size);

/**
 * invisible-char: adds a finding to `list` for the first character of value
 * not seen where it is shown, if any. `what` names the value in the message
 * ("user ID", "mail").
 */
void imaddr_rules_check_invisible(const char *value, size_t len, const char *field,
				  const char *what, struct imaddr_rules_findings *list);

/** mixed-script for one identifier: a user part, a user ID, a domain label. */
void imaddr_rules_check_mixed_script(const char *text, size_t len, const char *field,
				     const char *what, struct imaddr_rules_findings *list);

/** mixed-script for each label of a domain's U-label form (NUL-terminated). */
void imaddr_rules_check_mixed_script_labels(const char *domain, const char *field,
					    const char *what,
					    struct imaddr_rules_findings *list);

#endif /* IMADDR_RULES_INTERNAL_H */
