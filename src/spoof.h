/*
 * Hostile Unicode, by UTS #39 and ICU's spoof checker: the characters not
 * seen where a value is shown (invisible-char), scripts mixed the way
 * look-alikes are made (mixed-script), and the skeletons that make
 * look-alikes equal (confusable).
 *
 * Input is UTF-8 with an explicit length; output goes into caller-owned
 * buffers, which are reset first. Safe to call from several threads (a
 * skeleton memo excepted, which is one thread's); the ICU services are
 * opened on first use if imaddr_icu_init() was not called. An ASCII value
 * has no invisible character and mixes no scripts: both checks pass it
 * without ICU, and most callers do not ask (imaddr_normalize_is_ascii).
 */
#ifndef IMADDR_SPOOF_H
#define IMADDR_SPOOF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buffer.h"

/**
 * The first code point of s that is not seen where the value is shown: a
 * Default_Ignorable_Code_Point (U+200B ZERO WIDTH SPACE, U+00AD SOFT
 * HYPHEN, U+2060 WORD JOINER...), a Bidi_Control (U+202E RIGHT-TO-LEFT
 * OVERRIDE...) or U+FEFF, the byte order mark; -1 when there is none.
 * *offset is its byte offset. Ill-formed bytes are passed over.
 */
int32_t imaddr_spoof_first_invisible(const char *s, size_t len, size_t *offset);

/** True for a Bidi_Control code point (U+200E, U+202A..U+202E, U+2066..U+2069...). */
bool imaddr_spoof_is_bidi_control(int32_t codepoint);

/**
 * Whether s mixes scripts beyond UTS #39's highly restrictive level, by
 * ICU's spoof checker (USPOOF_RESTRICTION_LEVEL): Latin with Cyrillic or
 * Greek, say, but not one script alone, nor Latin with Han and Kana (Japan),
 * Hangul (Korea) or Bopomofo. When it does and `scripts` is not NULL, writes
 * the scripts it has, e.g. "Latin and Cyrillic". ASCII and text of one
 * script never reach ICU.
 */
bool imaddr_spoof_mixed_script(const char *s, size_t len, struct imaddr_buf *scripts);

/*
 * UTS #39 skeletons of single code points, remembered: a directory's names
 * draw on a few hundred characters, and ICU's skeleton of a whole string
 * costs thousands of instructions. Owned by one thread; zero it to start
 * (NULL slots), release it with imaddr_spoof_skeleton_memo_release.
 */
struct imaddr_skeleton_memo {
	struct imaddr_skeleton_memo_slot *slots;
	size_t used;
};

void imaddr_spoof_skeleton_memo_release(struct imaddr_skeleton_memo *memo);

/**
 * Writes the UTS #39 skeleton of s (ICU's uspoof_getSkeleton: NFD, each
 * code point replaced by its confusables.txt prototype, NFD again), so that
 * "jsmіth" with a Cyrillic і and "jsmith" both give "jsrnith". Returns true
 * when s is all ASCII. ASCII characters, and those in `memo` (may be NULL),
 * are looked up one at a time where the definition allows it (a character
 * and its skeleton both start with a starter); anything else goes to ICU
 * whole. The result is ICU's either way.
 */
bool imaddr_spoof_skeleton(const char *s, size_t len, struct imaddr_skeleton_memo *memo,
			   struct imaddr_buf *out);

/**
 * The skeleton of one ASCII character as imaddr_spoof_skeleton writes it
 * inside a string ("m" gives "rn", "1" gives "l", "a" gives "a"): sets
 * *piece and *len and returns true; false for a byte that is not ASCII, or
 * that sends a string to ICU whole.
 */
bool imaddr_spoof_ascii_skeleton(unsigned char c, const char **piece, size_t *len);

#endif /* IMADDR_SPOOF_H */
