/*
 * UTS #39 through ICU's spoof checker. See spoof.h for the contracts.
 *
 * Speed matters here too: every value that is not all ASCII is asked for its
 * invisible characters and its scripts, and the look-alike search takes the
 * skeletons of many values. So what ICU says of a block, of a code point and
 * of each ASCII character is remembered, and text of one script is judged
 * without ICU.
 */
#include "spoof.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/uscript.h>
#include <unicode/uspoof.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

#include "icu.h"
#include "normalize.h"

/* Enough bytes for the skeleton of any realistic value. */
#define STACK_SKELETON_BYTES 1024

/*
 * Whether each 64-code-point block of the BMP holds a Default_Ignorable
 * code point, asked of ICU the first time a character of the block comes:
 * a Cyrillic or Han name then asks ICU nothing for each of its characters,
 * and a run pays for the few blocks its directory writes in. Threads that
 * meet a new block at once both ask and store the same answer.
 */
enum { BLOCK_UNKNOWN = 0, BLOCK_VISIBLE, BLOCK_MAY_BE_INVISIBLE };
static _Atomic uint8_t invisible_blocks[0x10000 / 64];

/* How many bytes s starts with below 0x80: eight at a time, as most values are ASCII. */
static size_t ascii_prefix(const char *s, size_t len)
{
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t word;
		memcpy(&word, s + i, 8);
		if (word & 0x8080808080808080ULL)
			break;
	}
	while (i < len && (unsigned char)s[i] < 0x80)
		i++;
	return i;
}

static bool block_may_be_invisible(int32_t block)
{
	uint8_t known = atomic_load_explicit(&invisible_blocks[block], memory_order_relaxed);
	if (known == BLOCK_UNKNOWN) {
		known = BLOCK_VISIBLE;
		for (UChar32 c = block << 6; c < (block + 1) << 6; c++)
			if (u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT))
				known = BLOCK_MAY_BE_INVISIBLE;
		atomic_store_explicit(&invisible_blocks[block], known, memory_order_relaxed);
	}
	return known == BLOCK_MAY_BE_INVISIBLE;
}

/*
 * The block of the character a well-formed sequence of two or three bytes
 * starts, read off its first two bytes; -1 for anything else (ASCII, four
 * bytes, ill-formed), which is decoded and asked of ICU.
 */
static int32_t bmp_block(const unsigned char *p, size_t available)
{
	if (p[0] >= 0xC2 && p[0] < 0xE0 && available >= 2 && (p[1] & 0xC0) == 0x80)
		return p[0] & 0x1F;
	if (p[0] >= 0xE0 && p[0] < 0xF0 && available >= 3 && (p[1] & 0xC0) == 0x80 &&
	    (p[2] & 0xC0) == 0x80)
		return (p[0] & 0x0F) << 6 | (p[1] & 0x3F);
	return -1;
}

/*
 * Every Bidi_Control code point and U+FEFF are Default_Ignorable too (a unit
 * test holds ICU to it), so one property answers for all three.
 */
int32_t imaddr_spoof_first_invisible(const char *s, size_t len, size_t *offset)
{
	size_t i = ascii_prefix(s, len);
	while (i < len) {
		size_t start = i;
		const unsigned char *p = (const unsigned char *)s + i;
		if (p[0] < 0x80) {
			i++;
			continue;
		}
		int32_t block = bmp_block(p, len - i);
		if (block >= 0 && !block_may_be_invisible(block)) {
			i += p[0] < 0xE0 ? 2 : 3;
			continue;
		}
		UChar32 c = imaddr_icu_next_codepoint(s, len, &i);
		if (c >= 0 && u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT)) {
			if (offset)
				*offset = start;
			return c;
		}
	}
	return -1;
}

bool imaddr_spoof_is_bidi_control(int32_t codepoint)
{
	return u_hasBinaryProperty(codepoint, UCHAR_BIDI_CONTROL);
}

static bool is_ascii_letter(UChar32 c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Common and Inherited characters (digits, punctuation, marks) go with any script. */
static bool goes_with_any_script(UChar32 c)
{
	return uscript_hasScript(c, USCRIPT_COMMON) || uscript_hasScript(c, USCRIPT_INHERITED);
}

/*
 * True when one script has every character of s (in its Script_Extensions),
 * Common and Inherited characters aside: UTS #39's resolved script set is
 * then not empty, the level single-script restrictive at most, and ICU need
 * not be asked. False means "ask ICU", not "mixed": Japanese (Han and Kana)
 * is one writing system of several scripts, which ICU knows. A character's
 * Script_Extensions hold its Script when that is not Common or Inherited,
 * so a character of the script found first needs no more than its Script.
 */
static bool one_script(const char *s, size_t len)
{
	UScriptCode script = USCRIPT_INVALID_CODE;
	size_t i = 0;

	while (i < len) {
		UChar32 c = (unsigned char)s[i];
		UErrorCode status = U_ZERO_ERROR;
		if (c < 0x80) {
			i++;
			if (!is_ascii_letter(c))
				continue;
			if (script == USCRIPT_INVALID_CODE)
				script = USCRIPT_LATIN;
			if (script != USCRIPT_LATIN)
				return false;
			continue;
		}
		if ((c = imaddr_icu_next_codepoint(s, len, &i)) < 0)
			return false;
		UScriptCode own = uscript_getScript(c, &status);
		if (U_FAILURE(status))
			return false;
		if (own == USCRIPT_COMMON || own == USCRIPT_INHERITED) {
			/* Common with a list of scripts (U+0964 DEVANAGARI DANDA): ICU's to judge. */
			if (!goes_with_any_script(c))
				return false;
			continue;
		}
		if (script == USCRIPT_INVALID_CODE)
			script = own;
		if (own != script && !uscript_hasScript(c, script))
			return false;
	}
	return true;
}

/* "Latin and Cyrillic": the scripts of s in the order they appear. */
static void describe_scripts(const char *s, size_t len, struct imaddr_buf *out)
{
	UScriptCode seen[8];
	size_t count = 0, i = 0;

	imaddr_buf_reset(out);
	while (i < len && count < sizeof(seen) / sizeof(*seen)) {
		UChar32 c = (unsigned char)s[i] < 0x80 ? (unsigned char)s[i++]
						       : imaddr_icu_next_codepoint(s, len, &i);
		UErrorCode status = U_ZERO_ERROR;
		UScriptCode script;
		if (c < 0 || (c < 0x80 && !is_ascii_letter(c)) || goes_with_any_script(c))
			continue;
		if (uscript_getScriptExtensions(c, &script, 1, &status) < 1 &&
		    status != U_BUFFER_OVERFLOW_ERROR)
			continue;
		size_t k = 0;
		while (k < count && seen[k] != script)
			k++;
		if (k == count)
			seen[count++] = script;
	}
	for (size_t k = 0; k < count; k++)
		imaddr_buf_appendf(out, "%s%s", k == 0 ? "" : k + 1 == count ? " and " : ", ",
				   uscript_getName(seen[k]));
}

bool imaddr_spoof_mixed_script(const char *s, size_t len, struct imaddr_buf *scripts)
{
	if (one_script(s, len))
		return false;
	const USpoofChecker *spoof = imaddr_icu_services()->spoof;
	UErrorCode status = U_ZERO_ERROR;
	int32_t checks = uspoof_check2UTF8(spoof, s, imaddr_icu_length(len), NULL, &status);
	if (status == U_MEMORY_ALLOCATION_ERROR)
		imaddr_fatal("out of memory");
	if (U_FAILURE(status) || !(checks & USPOOF_RESTRICTION_LEVEL))
		return false;
	if (scripts)
		describe_scripts(s, len, scripts);
	return true;
}

/*
 * The skeleton of one code point, to be copied whole (16 bytes) and counted
 * by `len`; len < 0 when a string's skeleton cannot be taken one code point
 * at a time through it (see skeleton_piece_of).
 */
#define SKELETON_PIECE_MAX 15
struct skeleton_piece {
	char bytes[SKELETON_PIECE_MAX + 1];
	int8_t len;
};

/* Filled from the spoof checker when the first skeleton is asked for. */
static struct skeleton_piece ascii_skeletons[128];
static pthread_once_t ascii_skeletons_once = PTHREAD_ONCE_INIT;
static atomic_bool ascii_skeletons_ready;

/*
 * The skeleton of a string is NFD(map(NFD(s))), map replacing each code
 * point by its prototype. Taken one code point at a time it is the same
 * string when nothing reorders across the seams: when each code point's NFD
 * and each code point's skeleton start with a starter (combining class 0).
 * ICU gives the skeleton of the code point alone; a code point that breaks
 * the rule, or whose skeleton is longer than a piece holds, sends the whole
 * string to ICU.
 */
static void skeleton_piece_of(UChar32 c, struct skeleton_piece *piece)
{
	UChar units[2], result[64];
	int32_t unit_count = 0, bytes = 0;
	UErrorCode status = U_ZERO_ERROR;

	piece->len = -1;
	U16_APPEND_UNSAFE(units, unit_count, c);
	int32_t len = uspoof_getSkeleton(imaddr_icu_services()->spoof, 0, units, unit_count,
					 result, 64, &status);
	if (U_FAILURE(status) || u_getIntPropertyValue(c, UCHAR_LEAD_CANONICAL_COMBINING_CLASS))
		return;
	if (len > 0) {
		UChar32 first;
		U16_GET_UNSAFE(result, 0, first);
		if (u_getCombiningClass(first))
			return;
	}
	u_strToUTF8(piece->bytes, SKELETON_PIECE_MAX, &bytes, result, len, &status);
	if (U_SUCCESS(status) && status != U_STRING_NOT_TERMINATED_WARNING)
		piece->len = (int8_t)bytes;
}

/* A memo of 8192 slots, at most three quarters used: 192 KiB for 6144 code points. */
#define MEMO_BITS 13
#define MEMO_SLOTS (1u << MEMO_BITS)
#define MEMO_MAX (MEMO_SLOTS / 4 * 3)

struct imaddr_skeleton_memo_slot {
	int32_t codepoint;    /* 0: empty (ASCII is never kept here) */
	struct skeleton_piece piece;
};

void imaddr_spoof_skeleton_memo_release(struct imaddr_skeleton_memo *memo)
{
	free(memo->slots);
	memo->slots = NULL;
	memo->used = 0;
}

/* The piece of a non-ASCII code point, computed once; NULL when the memo is full. */
static const struct skeleton_piece *memo_piece(struct imaddr_skeleton_memo *memo, UChar32 c)
{
	if (!memo->slots)
		memo->slots = imaddr_xcalloc(MEMO_SLOTS, sizeof(*memo->slots));
	uint32_t i = ((uint32_t)c * 2654435761u) >> (32 - MEMO_BITS);
	while (memo->slots[i].codepoint) {
		if (memo->slots[i].codepoint == c)
			return &memo->slots[i].piece;
		i = (i + 1) & (MEMO_SLOTS - 1);
	}
	if (memo->used >= MEMO_MAX)
		return NULL;
	memo->used++;
	memo->slots[i].codepoint = c;
	skeleton_piece_of(c, &memo->slots[i].piece);
	return &memo->slots[i].piece;
}

static void skeleton_whole(const char *s, size_t len, struct imaddr_buf *out)
{
	const USpoofChecker *spoof = imaddr_icu_services()->spoof;
	char stack[STACK_SKELETON_BYTES];
	char *result = stack;
	UErrorCode status = U_ZERO_ERROR;
	int32_t result_len = uspoof_getSkeletonUTF8(spoof, 0, s, imaddr_icu_length(len), result,
						    sizeof(stack), &status);
	if (status == U_BUFFER_OVERFLOW_ERROR) {
		result = imaddr_xmalloc((size_t)result_len);
		status = U_ZERO_ERROR;
		result_len = uspoof_getSkeletonUTF8(spoof, 0, s, imaddr_icu_length(len), result,
						    result_len, &status);
	}
	imaddr_icu_check(status);
	imaddr_buf_reset(out);
	imaddr_buf_append(out, result, (size_t)result_len);
	if (result != stack)
		free(result);
}

static void load_ascii_skeletons(void)
{
	for (UChar32 c = 0; c < 0x80; c++)
		skeleton_piece_of(c, &ascii_skeletons[c]);
	atomic_store_explicit(&ascii_skeletons_ready, true, memory_order_release);
}

/* The services and the table of ASCII skeletons: a flag first, as imaddr_icu_services(). */
static inline void need_ascii_skeletons(void)
{
	if (!atomic_load_explicit(&ascii_skeletons_ready, memory_order_acquire)) {
		imaddr_icu_services();
		pthread_once(&ascii_skeletons_once, load_ascii_skeletons);
	}
}

bool imaddr_spoof_ascii_skeleton(unsigned char c, const char **piece, size_t *len)
{
	need_ascii_skeletons();
	if (c >= 0x80 || ascii_skeletons[c].len < 0)
		return false;
	*piece = ascii_skeletons[c].bytes;
	*len = (size_t)ascii_skeletons[c].len;
	return true;
}

bool imaddr_spoof_skeleton(const char *s, size_t len, struct imaddr_skeleton_memo *memo,
			   struct imaddr_buf *out)
{
	bool ascii = true;

	need_ascii_skeletons();
	imaddr_buf_reset(out);
	/* Each byte gives at most one piece, and a piece is copied whole. */
	if (len > SIZE_MAX / (SKELETON_PIECE_MAX + 1) - 1 ||
	    !imaddr_buf_reserve(out, (len + 1) * (SKELETON_PIECE_MAX + 1)))
		goto whole;
	char *o = out->data;
	for (size_t i = 0; i < len;) {
		const struct skeleton_piece *piece;
		unsigned char b = (unsigned char)s[i];
		if (b < 0x80) {
			piece = &ascii_skeletons[b];
			i++;
		} else {
			ascii = false;
			UChar32 c = imaddr_icu_next_codepoint(s, len, &i);
			if (!memo || c < 0 || !(piece = memo_piece(memo, c)))
				goto whole;
		}
		if (piece->len < 0)
			goto whole;
		memcpy(o, piece->bytes, sizeof(piece->bytes));
		o += piece->len;
	}
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
	return ascii;
whole:
	skeleton_whole(s, len, out);
	return imaddr_normalize_is_ascii(s, len);
}
