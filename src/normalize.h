/*
 * Text as the rules compare it, through ICU: UTF-8 validation, NFC,
 * comparison keys (NFKC_Casefold), UTS #46 domain processing and the
 * character classes the address checks need (PRECIS IdentifierClass,
 * controls). Hostile Unicode (UTS #39) is spoof.h's.
 *
 * Input is UTF-8 with an explicit length (embedded NULs are allowed and are
 * treated as the code point U+0000). Output goes into caller-owned buffers,
 * which are reset first. The functions are safe to call from several threads;
 * the ICU services are opened on first use if imaddr_icu_init() was not
 * called (icu.h).
 */
#ifndef IMADDR_NORMALIZE_H
#define IMADDR_NORMALIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buffer.h"
#include "imaddr.h"

/** True when s is well-formed UTF-8; else *bad_offset is the first bad byte. */
bool imaddr_normalize_utf8_valid(const char *s, size_t len, size_t *bad_offset);

/**
 * Copies s to out (reset first) with every byte that is not part of
 * well-formed UTF-8 replaced by U+FFFD, and NUL by U+FFFD too, for outputs
 * that must be valid UTF-8 text (JSON, HTML, a spreadsheet). Returns true
 * when something was replaced.
 */
bool imaddr_normalize_utf8_repair(const char *s, size_t len, struct imaddr_buf *out);

/**
 * The columns well-formed UTF-8 takes on a terminal: 2 for East Asian Wide
 * and Fullwidth characters (UCHAR_EAST_ASIAN_WIDTH), 0 for combining marks,
 * format characters and controls, 1 for the rest.
 */
size_t imaddr_normalize_display_width(const char *s, size_t len);

/** The number of code points in well-formed UTF-8. */
size_t imaddr_normalize_codepoints(const char *s, size_t len);

/**
 * Strips Unicode White_Space from both ends: sets *start and returns the new
 * length of s + *start. Well-formed UTF-8 only.
 */
size_t imaddr_normalize_trim(const char *s, size_t len, size_t *start);

/** Writes the NFC form of s to out; returns true when it differs from s. */
bool imaddr_normalize_nfc(const char *s, size_t len, struct imaddr_buf *out);

/**
 * Writes the comparison key of s: NFKC_Casefold, so that case and width
 * variants ("JSmith", "ｊｓｍｉｔｈ") and NFC/NFD spellings share one key.
 */
void imaddr_normalize_key(const char *s, size_t len, struct imaddr_buf *out);

/**
 * UTS #46 processing of a domain: nontransitional, CheckHyphens, CheckBidi,
 * CheckJoiners, UseSTD3ASCIIRules and VerifyDnsLength. Writes the lowercase
 * A-label form to `ascii` and the U-label form to `unicode` (both written
 * even on error, as far as ICU produced them) and returns the UTS #46 error
 * bits (ICU's UIDNA_ERROR_* values); 0 means the domain is valid. Agrees with
 * every line of IdnaTestV2.txt 15.0 (toAsciiN).
 */
uint32_t imaddr_normalize_domain(const char *s, size_t len, struct imaddr_buf *ascii,
				 struct imaddr_buf *unicode);

/** Describes UTS #46 error bits in words, e.g. "label too long, bidi rule". */
void imaddr_normalize_describe_domain_errors(uint32_t errors, struct imaddr_buf *out);

/**
 * The first code point of s that the PRECIS IdentifierClass (RFC 8264,
 * section 4.2: the class of XMPP localparts, RFC 7622) disallows, or -1 when
 * all are allowed. *offset is its byte offset. Well-formed UTF-8 only.
 */
int32_t imaddr_normalize_precis_disallowed(const char *s, size_t len, size_t *offset);

/** The first control character (general category Cc) of s, or -1. */
int32_t imaddr_normalize_first_control(const char *s, size_t len, size_t *offset);

/**
 * True when s is all ASCII: none of spoof.h's checks can then find
 * anything. Inline, and eight bytes at a time (the last eight, or the last
 * four, overlapping): it is asked of most values, and most are short.
 */
static inline bool imaddr_normalize_is_ascii(const char *s, size_t len)
{
	const uint64_t high = 0x8080808080808080ULL;
	uint64_t word, last;
	if (len >= 8) {
		for (size_t i = 0; i + 8 <= len; i += 8) {
			memcpy(&word, s + i, 8);
			if (word & high)
				return false;
		}
		memcpy(&last, s + len - 8, 8);
		return !(last & high);
	}
	if (len >= 4) {
		uint32_t first4, last4;
		memcpy(&first4, s, 4);
		memcpy(&last4, s + len - 4, 4);
		return !((first4 | last4) & 0x80808080u);
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

/**
 * UTS #46 transitional processing of a domain (IDNA2003's mapping: ß to ss,
 * ς to σ, ZWJ and ZWNJ removed), the form older clients and libraries look
 * up: writes its lowercase A-label form to `ascii` and returns its error
 * bits, as imaddr_normalize_domain does for the nontransitional form.
 */
uint32_t imaddr_normalize_domain_transitional(const char *s, size_t len,
					      struct imaddr_buf *ascii);

/** Writes "U+00E9 LATIN SMALL LETTER E WITH ACUTE" for a code point. */
void imaddr_normalize_describe_codepoint(int32_t codepoint, struct imaddr_buf *out);

/** The code point that starts at byte `offset` of s, or -1 when the bytes
 *  there are ill-formed or offset is past the end. */
int32_t imaddr_normalize_codepoint_at(const char *s, size_t len, size_t offset);

#endif /* IMADDR_NORMALIZE_H */
