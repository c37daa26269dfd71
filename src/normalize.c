/*
 * UTF-8, the normalization forms, UTS #46 and PRECIS through ICU. See
 * normalize.h for the contracts; the services are icu.c's.
 *
 * Speed matters: an audit calls these functions several times for each of up
 * to millions of users. So the services are opened once, pure ASCII (the
 * common case) takes paths that never reach ICU's normalizers, and the UTF-16
 * copies ICU needs live on the stack unless the input is long.
 */
#include "normalize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/uidna.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

#include "icu.h"

/* Enough UTF-16 units for any realistic user ID, URI or domain. */
#define STACK_UNITS 256
/* Enough bytes for any valid domain name in either form. */
#define STACK_DOMAIN_BYTES 1024

int32_t imaddr_normalize_codepoint_at(const char *s, size_t len, size_t offset)
{
	if (offset >= len)
		return -1;
	UChar32 c = imaddr_icu_next_codepoint(s, len, &offset);
	return c < 0 ? -1 : c;
}

bool imaddr_normalize_utf8_valid(const char *s, size_t len, size_t *bad_offset)
{
	size_t i = 0;

	while (i < len) {
		size_t start = i;
		if ((unsigned char)s[i] < 0x80) {
			i++;
			continue;
		}
		if (imaddr_icu_next_codepoint(s, len, &i) < 0) {
			if (bad_offset)
				*bad_offset = start;
			return false;
		}
	}
	return true;
}

bool imaddr_normalize_utf8_repair(const char *s, size_t len, struct imaddr_buf *out)
{
	bool replaced = false;
	size_t i = 0;
	size_t copied = 0;   /* the bytes before it are in `out` */

	imaddr_buf_reset(out);
	while (i < len) {
		size_t start = i;
		UChar32 c = (unsigned char)s[i] < 0x80 ? (UChar32)(unsigned char)s[i++]
						       : imaddr_icu_next_codepoint(s, len, &i);
		if (c > 0)
			continue;
		/* Valid text goes over in runs: a character at a time cost the worklist a tenth. */
		imaddr_buf_append(out, s + copied, start - copied);
		imaddr_buf_append(out, "\xEF\xBF\xBD", 3);
		replaced = true;
		copied = i;
	}
	imaddr_buf_append(out, s + copied, len - copied);
	return replaced;
}

size_t imaddr_normalize_display_width(const char *s, size_t len)
{
	size_t width = 0, i = 0;

	while (i < len) {
		if ((unsigned char)s[i] < 0x80) {
			width += (unsigned char)s[i++] >= 0x20;
			continue;
		}
		UChar32 c = imaddr_icu_next_codepoint(s, len, &i);
		if (c < 0)
			width++;
		else if (u_getIntPropertyValue(c, UCHAR_EAST_ASIAN_WIDTH) == U_EA_WIDE ||
			 u_getIntPropertyValue(c, UCHAR_EAST_ASIAN_WIDTH) == U_EA_FULLWIDTH)
			width += 2;
		else if (!(U_GET_GC_MASK(c) & (U_GC_MN_MASK | U_GC_ME_MASK | U_GC_CF_MASK |
						U_GC_CC_MASK)))
			width++;
	}
	return width;
}

size_t imaddr_normalize_codepoints(const char *s, size_t len)
{
	size_t count = 0;

	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			count++;
	return count;
}

static bool is_ascii_white_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

size_t imaddr_normalize_trim(const char *s, size_t len, size_t *start)
{
	size_t begin = 0, end = len;

	/* The usual case: ASCII at both ends that is not white space. */
	if (len && (unsigned char)s[0] < 0x80 && (unsigned char)s[len - 1] < 0x80 &&
	    !is_ascii_white_space((unsigned char)s[0]) &&
	    !is_ascii_white_space((unsigned char)s[len - 1])) {
		*start = 0;
		return len;
	}

	while (begin < end) {
		size_t next = begin;
		UChar32 c = imaddr_icu_next_codepoint(s, end, &next);
		if (c < 0 || !u_isUWhiteSpace(c))
			break;
		begin = next;
	}
	while (end > begin) {
		size_t last = end - 1, next;
		UChar32 c;
		/* Back up to the lead byte: at most three continuation bytes. */
		while (last > begin && end - last < 4 &&
		       ((unsigned char)s[last] & 0xC0) == 0x80)
			last--;
		next = last;
		c = imaddr_icu_next_codepoint(s, end, &next);
		if (c < 0 || next != end || !u_isUWhiteSpace(c))
			break;
		end = last;
	}
	*start = begin;
	return end - begin;
}

/*
 * A UTF-16 copy of UTF-8 input for ICU: on the stack when it fits, else on
 * the heap. Ill-formed bytes become U+FFFD and are counted, so callers can
 * tell that the copy is not the input.
 */
struct utf16 {
	UChar *units;
	int32_t len;
	int32_t substitutions;
	UChar stack[STACK_UNITS];
};

static void utf16_from_utf8(struct utf16 *text, const char *s, size_t len)
{
	/* No UTF-8 sequence gives more UTF-16 units than it has bytes. */
	int32_t capacity = imaddr_icu_length(len);
	UErrorCode status = U_ZERO_ERROR;

	text->units = capacity <= STACK_UNITS ? text->stack
		: imaddr_xmalloc((size_t)capacity * sizeof(UChar));
	text->substitutions = 0;
	u_strFromUTF8WithSub(text->units, capacity, &text->len, s, capacity, 0xFFFD,
			     &text->substitutions, &status);
	imaddr_icu_check(status);
}

static void utf16_release(struct utf16 *text)
{
	if (text->units != text->stack)
		free(text->units);
}

/*
 * Appends UTF-16 as UTF-8. Past the buffer's cap nothing is appended: the
 * cap is there to stop hostile input, not to be honoured piecemeal.
 */
static void append_utf16(struct imaddr_buf *out, const UChar *units, int32_t len)
{
	UErrorCode status = U_ZERO_ERROR;
	int32_t needed;

	/* Three bytes per unit is always enough; ask for the exact size only
	   when that guess passes the cap. */
	if (len > INT32_MAX / 3 || !imaddr_buf_reserve(out, (size_t)len * 3)) {
		u_strToUTF8(NULL, 0, &needed, units, len, &status);
		if (status != U_BUFFER_OVERFLOW_ERROR)
			imaddr_icu_check(status);
		if (!imaddr_buf_reserve(out, (size_t)needed))
			return;
		status = U_ZERO_ERROR;
	}
	size_t room = out->cap - out->len - 1;
	u_strToUTF8(out->data + out->len, room > INT32_MAX ? INT32_MAX : (int32_t)room,
		    &needed, units, len, &status);
	imaddr_icu_check(status);
	out->len += (size_t)needed;
	out->data[out->len] = '\0';
}

/*
 * Normalizes `text` with `normalizer` and appends the result to `out`.
 * Returns false, appending nothing, when the text already was normalized.
 */
static bool normalize_utf16(const UNormalizer2 *normalizer, const struct utf16 *text,
			    struct imaddr_buf *out)
{
	UErrorCode status = U_ZERO_ERROR;
	UChar stack[STACK_UNITS];
	UChar *result = stack;
	int32_t len;

	if (!text->substitutions &&
	    unorm2_spanQuickCheckYes(normalizer, text->units, text->len, &status) ==
		    text->len)
		return false;
	imaddr_icu_check(status);
	len = unorm2_normalize(normalizer, text->units, text->len, result, STACK_UNITS,
			       &status);
	if (status == U_BUFFER_OVERFLOW_ERROR) {
		result = imaddr_xmalloc((size_t)len * sizeof(UChar));
		status = U_ZERO_ERROR;
		len = unorm2_normalize(normalizer, text->units, text->len, result, len,
				       &status);
	}
	imaddr_icu_check(status);
	bool changed = text->substitutions || len != text->len ||
		memcmp(result, text->units, (size_t)len * sizeof(UChar));
	if (changed)
		append_utf16(out, result, len);
	if (result != stack)
		free(result);
	return changed;
}

/*
 * True when s is well-formed and below U+0300. Such text is already in NFC:
 * nothing below U+0300 decomposes, combines with what precedes it or has a
 * nonzero combining class. That covers ASCII and the Latin-1 names of most
 * directories.
 */
static bool is_nfc_inert(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		if ((unsigned char)s[i] < 0x80) {
			i++;
			continue;
		}
		UChar32 c = imaddr_icu_next_codepoint(s, len, &i);
		if (c < 0 || c >= 0x300)
			return false;
	}
	return true;
}

bool imaddr_normalize_nfc(const char *s, size_t len, struct imaddr_buf *out)
{
	struct utf16 text;
	bool changed;

	imaddr_buf_reset(out);
	if (is_nfc_inert(s, len)) {
		imaddr_buf_append(out, s, len);
		return false;
	}
	const UNormalizer2 *nfc = imaddr_icu_services()->nfc;
	utf16_from_utf8(&text, s, len);
	changed = normalize_utf16(nfc, &text, out);
	if (!changed)
		imaddr_buf_append(out, s, len);
	utf16_release(&text);
	return changed;
}

void imaddr_normalize_key(const char *s, size_t len, struct imaddr_buf *out)
{
	struct utf16 text;

	imaddr_buf_reset(out);
	if (imaddr_normalize_is_ascii(s, len)) {
		/* NFKC_Casefold maps ASCII to itself but for A-Z. */
		if (!imaddr_buf_reserve(out, len))
			return;
		for (size_t i = 0; i < len; i++) {
			char c = s[i];
			out->data[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
		}
		out->len = len;
		out->data[len] = '\0';
		return;
	}
	const UNormalizer2 *nfkc_casefold = imaddr_icu_services()->nfkc_casefold;
	utf16_from_utf8(&text, s, len);
	if (!normalize_utf16(nfkc_casefold, &text, out))
		imaddr_buf_append(out, s, len);
	utf16_release(&text);
}

/*
 * Runs one UTS #46 operation into `out`. The result goes through a stack
 * buffer because ICU must be told the capacity up front and the caller's
 * buffer may have a cap lower than ICU's output.
 */
static uint32_t run_uts46(const UIDNA *service, bool to_ascii, const char *s, int32_t len,
			  struct imaddr_buf *out)
{
	char stack[STACK_DOMAIN_BYTES];
	char *result = stack;
	UIDNAInfo info = UIDNA_INFO_INITIALIZER;
	UErrorCode status = U_ZERO_ERROR;
	int32_t (*operation)(const UIDNA *, const char *, int32_t, char *, int32_t,
			     UIDNAInfo *, UErrorCode *) =
		to_ascii ? uidna_nameToASCII_UTF8 : uidna_nameToUnicodeUTF8;

	int32_t result_len = operation(service, s, len, result, sizeof(stack), &info, &status);
	if (status == U_BUFFER_OVERFLOW_ERROR) {
		result = imaddr_xmalloc((size_t)result_len);
		status = U_ZERO_ERROR;
		info = (UIDNAInfo)UIDNA_INFO_INITIALIZER;
		result_len = operation(service, s, len, result, result_len, &info, &status);
	}
	imaddr_icu_check(status);
	imaddr_buf_append(out, result, (size_t)result_len);
	if (result != stack)
		free(result);
	return info.errors;
}

/*
 * ICU's bits are passed on as they are, with no post-processing. ICU 72
 * carries Unicode 15.0 data, and its toASCII already agrees with every
 * toAsciiN line of IdnaTestV2.txt 15.0 on error or not and on the result:
 * a trailing dot (the root label) is valid and not counted in the 253
 * bytes, an empty label is UIDNA_ERROR_EMPTY_LABEL (the file's A4_2, or
 * X4_2 inherited from toUnicode), and lengths give LABEL_TOO_LONG and
 * DOMAIN_NAME_TOO_LONG (A4_2, A4_1). tests/unit/test_idna_conformance.c
 * runs the whole file, so an ICU that drifts from it fails there first.
 */
uint32_t imaddr_normalize_domain(const char *s, size_t len, struct imaddr_buf *ascii,
				 struct imaddr_buf *unicode)
{
	uint32_t errors;

	imaddr_buf_reset(ascii);
	imaddr_buf_reset(unicode);
	const UIDNA *uts46 = imaddr_icu_services()->uts46;
	if (len > INT32_MAX)
		return UIDNA_ERROR_DOMAIN_NAME_TOO_LONG;    /* ICU cannot take it */
	errors = run_uts46(uts46, true, s, (int32_t)len, ascii);
	run_uts46(uts46, false, s, (int32_t)len, unicode);
	return errors;
}

uint32_t imaddr_normalize_domain_transitional(const char *s, size_t len,
					      struct imaddr_buf *ascii)
{
	imaddr_buf_reset(ascii);
	const UIDNA *transitional = imaddr_icu_services()->uts46_transitional;
	if (len > INT32_MAX)
		return UIDNA_ERROR_DOMAIN_NAME_TOO_LONG;
	return run_uts46(transitional, true, s, (int32_t)len, ascii);
}

static const struct {
	uint32_t bit;
	const char *words;
} domain_errors[] = {
	{ UIDNA_ERROR_EMPTY_LABEL, "empty label" },
	{ UIDNA_ERROR_LABEL_TOO_LONG, "label longer than 63 bytes" },
	{ UIDNA_ERROR_DOMAIN_NAME_TOO_LONG, "domain name longer than 253 bytes" },
	{ UIDNA_ERROR_LEADING_HYPHEN, "label starts with a hyphen" },
	{ UIDNA_ERROR_TRAILING_HYPHEN, "label ends with a hyphen" },
	{ UIDNA_ERROR_HYPHEN_3_4, "hyphens in the third and fourth positions" },
	{ UIDNA_ERROR_LEADING_COMBINING_MARK, "label starts with a combining mark" },
	{ UIDNA_ERROR_DISALLOWED, "disallowed character" },
	{ UIDNA_ERROR_PUNYCODE, "invalid punycode" },
	{ UIDNA_ERROR_LABEL_HAS_DOT, "label contains a dot" },
	{ UIDNA_ERROR_INVALID_ACE_LABEL, "invalid xn-- label" },
	{ UIDNA_ERROR_BIDI, "bidi rule" },
	{ UIDNA_ERROR_CONTEXTJ, "misplaced joiner" },
	{ UIDNA_ERROR_CONTEXTO_PUNCTUATION, "misplaced contextual punctuation" },
	{ UIDNA_ERROR_CONTEXTO_DIGITS, "mixed Arabic-Indic digits" },
};

void imaddr_normalize_describe_domain_errors(uint32_t errors, struct imaddr_buf *out)
{
	imaddr_buf_reset(out);
	for (size_t i = 0; i < sizeof(domain_errors) / sizeof(domain_errors[0]); i++) {
		if (!(errors & domain_errors[i].bit))
			continue;
		if (out->len)
			imaddr_buf_append_str(out, ", ");
		imaddr_buf_append_str(out, domain_errors[i].words);
		errors &= ~domain_errors[i].bit;
	}
	if (errors)
		imaddr_buf_appendf(out, "%sunknown error 0x%x", out->len ? ", " : "",
				   (unsigned)errors);
}

/*
 * RFC 5892 section 2.6, the Exceptions that RFC 8264 applies before any
 * other rule: 1 PVALID, 0 not allowed, -1 not an exception.
 *
 * CONTEXTO characters (middle dot, Greek keraia, Hebrew geresh and gershayim,
 * Katakana middle dot, Arabic-Indic digits) count as disallowed here, and so
 * do the CONTEXTJ joiners (ZWNJ, ZWJ: refused below as default ignorable).
 * Their rules depend on the neighbouring characters; implementing them buys
 * little for user IDs, and refusing them is the strict side to err on: at
 * worst a rare address gets a finding that a full PRECIS check would not
 * give, never the reverse.
 */
static int precis_exception(UChar32 c)
{
	switch (c) {
	case 0x00DF: case 0x03C2: case 0x06FD: case 0x06FE: case 0x0F0B: case 0x3007:
		return 1;    /* PVALID */
	case 0x00B7: case 0x0375: case 0x05F3: case 0x05F4: case 0x30FB:
	case 0x0640: case 0x07FA: case 0x302E: case 0x302F: case 0x3031: case 0x3032:
	case 0x3033: case 0x3034: case 0x3035: case 0x303B:
		return 0;    /* CONTEXTO or DISALLOWED */
	default:
		if ((c >= 0x0660 && c <= 0x0669) || (c >= 0x06F0 && c <= 0x06F9))
			return 0;    /* CONTEXTO */
		return -1;
	}
}

/* True when NFKC changes the code point (RFC 8264 section 9.17, HasCompat). */
static bool has_compat(UChar32 c)
{
	UChar units[2];
	int32_t len = 0;
	UErrorCode status = U_ZERO_ERROR;

	U16_APPEND_UNSAFE(units, len, c);
	return !unorm2_isNormalized(imaddr_icu_services()->nfkc, units, len, &status) ||
	       U_FAILURE(status);
}

/* RFC 8264 section 8, the derivation of the IdentifierClass. */
static bool precis_identifier_allowed(UChar32 c)
{
	const uint32_t letter_digits = U_GC_LL_MASK | U_GC_LU_MASK | U_GC_LO_MASK |
		U_GC_ND_MASK | U_GC_LM_MASK | U_GC_MN_MASK | U_GC_MC_MASK;
	int exception;
	int32_t jamo;

	if (c >= 0x21 && c <= 0x7E)
		return true;     /* ASCII7 */
	exception = precis_exception(c);
	if (exception >= 0)
		return exception;
	/* Unassigned, Controls, Spaces, Symbols and Punctuation all fail
	   here, as do the classes PRECIS leaves to FreeformClass. */
	if (!(U_MASK(u_charType(c)) & letter_digits))
		return false;
	jamo = u_getIntPropertyValue(c, UCHAR_HANGUL_SYLLABLE_TYPE);
	if (jamo == U_HST_LEADING_JAMO || jamo == U_HST_VOWEL_JAMO ||
	    jamo == U_HST_TRAILING_JAMO)
		return false;    /* OldHangulJamo */
	if (u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT) ||
	    u_hasBinaryProperty(c, UCHAR_NONCHARACTER_CODE_POINT))
		return false;    /* PrecisIgnorableProperties; JoinControl too */
	return !has_compat(c);
}

/*
 * Finds the first code point `allowed` refuses. Ill-formed bytes are passed
 * on as U+FFFD, so that a caller that skipped validation gets a defined
 * answer: PRECIS refuses U+FFFD (a symbol), a control check lets it pass.
 */
static int32_t first_refused(const char *s, size_t len, size_t *offset,
			     bool (*allowed)(UChar32))
{
	size_t i = 0;

	while (i < len) {
		size_t start = i;
		UChar32 c = (unsigned char)s[i];
		/* ASCII, nearly all of a directory, needs no decoding. */
		if (c < 0x80)
			i++;
		else if ((c = imaddr_icu_next_codepoint(s, len, &i)) < 0)
			c = 0xFFFD;
		if (!allowed(c)) {
			if (offset)
				*offset = start;
			return c;
		}
	}
	return -1;
}

int32_t imaddr_normalize_precis_disallowed(const char *s, size_t len, size_t *offset)
{
	return first_refused(s, len, offset, precis_identifier_allowed);
}

static bool is_not_control(UChar32 c)
{
	if (c < 0x80)
		return c >= 0x20 && c != 0x7F;
	return u_charType(c) != U_CONTROL_CHAR;
}

int32_t imaddr_normalize_first_control(const char *s, size_t len, size_t *offset)
{
	return first_refused(s, len, offset, is_not_control);
}

void imaddr_normalize_describe_codepoint(int32_t codepoint, struct imaddr_buf *out)
{
	char name[128];
	UErrorCode status = U_ZERO_ERROR;
	int32_t name_len;

	imaddr_buf_reset(out);
	if (codepoint < 0 || codepoint > 0x10FFFF) {
		imaddr_buf_appendf(out, "invalid code point %ld", (long)codepoint);
		return;
	}
	imaddr_buf_appendf(out, "U+%04lX", (unsigned long)codepoint);
	name_len = u_charName(codepoint, U_UNICODE_CHAR_NAME, name, sizeof(name), &status);
	if (U_SUCCESS(status) && name_len > 0 && name_len < (int32_t)sizeof(name))
		imaddr_buf_appendf(out, " %.*s", (int)name_len, name);
}
