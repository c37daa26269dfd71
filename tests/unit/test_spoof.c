#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/uscript.h>
#include <unicode/uspoof.h>
#include <unicode/ustring.h>

#include "spoof.h"

static struct imaddr_buf out;

/*
 * No imaddr_icu_init() here: Criterion runs every test in a process of its
 * own, so each test also shows that the functions open ICU lazily.
 */
static void setup(void)
{
	imaddr_buf_init(&out, 0);
}

static void teardown(void)
{
	imaddr_buf_release(&out);
}

TestSuite(spoof, .init = setup, .fini = teardown);


static const char *skeleton_of(const char *s, struct imaddr_skeleton_memo *memo)
{
	imaddr_spoof_skeleton(s, strlen(s), memo, &out);
	return out.data;
}

Test(spoof, skeleton_maps_look_alikes_to_one_prototype)
{
	struct imaddr_skeleton_memo memo = { 0 };
	cr_expect_str_eq(skeleton_of("jsmith", &memo), "jsrnith");
	cr_expect_str_eq(skeleton_of("jsm\xD1\x96th", &memo), "jsrnith");       /* Cyrillic і */
	cr_expect_str_eq(skeleton_of("p\xD0\xB0ypal", &memo), "paypal");        /* Cyrillic а */
	cr_expect_str_eq(skeleton_of("adm\xC4\xB1n", &memo), "adrnin");         /* dotless ı */
	cr_expect_str_eq(skeleton_of("admin", NULL), "adrnin");
	cr_expect_str_eq(skeleton_of("al1", NULL), "all");
	imaddr_spoof_skeleton_memo_release(&memo);
}

Test(spoof, skeleton_says_whether_the_text_is_ascii)
{
	cr_expect(imaddr_spoof_skeleton("jsmith", 6, NULL, &out));
	cr_expect_not(imaddr_spoof_skeleton("jsm\xD1\x96th", 7, NULL, &out));
	cr_expect(imaddr_spoof_skeleton("", 0, NULL, &out));
	cr_expect_str_eq(out.data, "");
}

/* ICU's skeleton of the whole string, straight from the spoof checker. */
static void icu_skeleton(const char *s, char *result, size_t size)
{
	UErrorCode status = U_ZERO_ERROR;
	USpoofChecker *checker = uspoof_open(&status);
	int32_t len = uspoof_getSkeletonUTF8(checker, 0, s, -1, result, (int32_t)size, &status);
	cr_assert(U_SUCCESS(status), "%s", u_errorName(status));
	result[len] = '\0';
	uspoof_close(checker);
}

/*
 * The skeleton taken a code point at a time must be ICU's: strings of
 * letters from many scripts, precomposed and decomposed, combining marks
 * first and last, characters whose decomposition starts with a non-starter
 * (U+0F73), compatibility forms, and ASCII's own look-alikes ('%').
 */
Test(spoof, skeleton_piece_by_piece_is_icus)
{
	static const uint32_t ranges[][2] = {
		{ 0x20, 0x7E }, { 0xA0, 0x24F }, { 0x300, 0x36F }, { 0x370, 0x3FF },
		{ 0x400, 0x4FF }, { 0x530, 0x58F }, { 0x590, 0x5FF }, { 0x600, 0x6FF },
		{ 0x900, 0x97F }, { 0xE00, 0xE7F }, { 0xF70, 0xF8F }, { 0x1100, 0x11FF },
		{ 0x1E00, 0x1FFF }, { 0x2000, 0x206F }, { 0x2100, 0x214F }, { 0x3040, 0x30FF },
		{ 0x4E00, 0x4F00 }, { 0xAC00, 0xAD00 }, { 0xFB00, 0xFB4F }, { 0xFF00, 0xFFEF },
		{ 0x1D400, 0x1D7FF },
	};
	struct imaddr_skeleton_memo memo = { 0 };
	char text[64], expected[512];
	unsigned seed = 20261202;

	for (int n = 0; n < 20000; n++) {
		UChar units[32];
		int32_t unit_count = 0, len = 0;
		int chars = 1 + (int)(rand_r(&seed) % 8);
		UErrorCode status = U_ZERO_ERROR;
		for (int k = 0; k < chars; k++) {
			const uint32_t *range = ranges[rand_r(&seed) % (sizeof(ranges) / sizeof(*ranges))];
			UChar32 c = (UChar32)(range[0] + rand_r(&seed) % (range[1] - range[0] + 1));
			U16_APPEND_UNSAFE(units, unit_count, c);
		}
		u_strToUTF8(text, sizeof(text), &len, units, unit_count, &status);
		cr_assert(U_SUCCESS(status));
		icu_skeleton(text, expected, sizeof(expected));
		cr_assert_str_eq(skeleton_of(text, &memo), expected, "skeleton of '%s'", text);
	}
	imaddr_spoof_skeleton_memo_release(&memo);
}

Test(spoof, ascii_skeleton_pieces)
{
	const char *piece;
	size_t len;
	cr_assert(imaddr_spoof_ascii_skeleton('m', &piece, &len));
	cr_expect_eq(len, 2);
	cr_expect_eq(strncmp(piece, "rn", 2), 0);
	cr_assert(imaddr_spoof_ascii_skeleton('a', &piece, &len));
	cr_expect_eq(len, 1);
	cr_expect_eq(piece[0], 'a');
	cr_expect_not(imaddr_spoof_ascii_skeleton(0xC3, &piece, &len));
}

static int32_t invisible(const char *s, size_t *offset)
{
	return imaddr_spoof_first_invisible(s, strlen(s), offset);
}

Test(spoof, first_invisible_finds_ignorables_bidi_controls_and_bom)
{
	size_t offset = 99;
	cr_expect_eq(invisible("\xE2\x80\xAEnimda", &offset), 0x202E);     /* RLO */
	cr_expect_eq(offset, 0);
	cr_expect_eq(invisible("\xEF\xBB\xBFjsmith", &offset), 0xFEFF);     /* BOM */
	cr_expect_eq(invisible("j\xE2\x80\x8Bsmith", &offset), 0x200B);     /* ZWSP */
	cr_expect_eq(offset, 1);
	cr_expect_eq(invisible("exa\xC2\xADmple.com", &offset), 0xAD);      /* soft hyphen */
	cr_expect_eq(offset, 3);
	cr_expect_eq(invisible("\xD0\xB8\xE2\x81\xA0x", &offset), 0x2060);  /* word joiner */
	cr_expect_eq(offset, 2);
	cr_expect_eq(invisible("x\xF3\xA0\x80\x81", &offset), 0xE0001);     /* language tag */
	cr_expect_eq(invisible("\xE1\x85\x9F", &offset), 0x115F);           /* Hangul filler */
}

Test(spoof, first_invisible_passes_what_is_seen)
{
	cr_expect_eq(invisible("jsmith@example.com", NULL), -1);
	cr_expect_eq(invisible("\xD0\xB8\xD0\xB2\xD0\xB0\xD0\xBD", NULL), -1);   /* иван */
	cr_expect_eq(invisible("\xE5\xBC\xA0\xE4\xBC\x9F", NULL), -1);           /* 张伟 */
	cr_expect_eq(invisible("gro\xC3\x9F", NULL), -1);                         /* groß */
	cr_expect_eq(invisible("o\xE2\x80\x99" "brien", NULL), -1);               /* ’ */
	cr_expect_eq(invisible("bad\xFF\xFE", NULL), -1);                         /* ill-formed */
}

/* The blocks that skip ICU must not hide one: every BMP code point agrees with ICU. */
Test(spoof, first_invisible_agrees_with_icu_on_the_whole_bmp)
{
	for (UChar32 c = 0x80; c < 0x10000; c++) {
		if (U_IS_SURROGATE(c))
			continue;
		char text[4];
		int32_t len = 0;
		U8_APPEND_UNSAFE(text, len, c);
		bool expected = u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT) ||
				u_hasBinaryProperty(c, UCHAR_BIDI_CONTROL) || c == 0xFEFF;
		cr_assert_eq(imaddr_spoof_first_invisible(text, (size_t)len, NULL) == c,
			     expected, "U+%04X", (unsigned)c);
	}
}

/* first_invisible asks Default_Ignorable alone: the other two must be in it. */
Test(spoof, bidi_controls_and_bom_are_default_ignorable)
{
	for (UChar32 c = 0; c <= 0x10FFFF; c++) {
		if (u_hasBinaryProperty(c, UCHAR_BIDI_CONTROL))
			cr_assert(u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT),
				  "U+%04X", (unsigned)c);
		cr_expect_eq(imaddr_spoof_is_bidi_control(c),
			     u_hasBinaryProperty(c, UCHAR_BIDI_CONTROL));
	}
	cr_assert(u_hasBinaryProperty(0xFEFF, UCHAR_DEFAULT_IGNORABLE_CODE_POINT));
}

static bool mixed(const char *s)
{
	return imaddr_spoof_mixed_script(s, strlen(s), &out);
}

Test(spoof, mixed_script_finds_latin_with_cyrillic_or_greek)
{
	cr_assert(mixed("jsm\xD1\x96th"));
	cr_expect_str_eq(out.data, "Latin and Cyrillic");
	cr_assert(mixed("p\xD0\xB0ypal"));
	cr_assert(mixed("\xCE\xB1" "bc"));                               /* αbc */
	cr_expect_str_eq(out.data, "Greek and Latin");
	cr_assert(mixed("\xD0\xB8\xCE\xB1x"));                          /* иαx */
	cr_expect_str_eq(out.data, "Cyrillic, Greek and Latin");
}

Test(spoof, mixed_script_passes_one_script_and_writing_systems)
{
	cr_expect_not(mixed("jsmith"));
	cr_expect_not(mixed("j.smith-2"));
	cr_expect_not(mixed("\xD0\xB8\xD0\xB2\xD0\xB0\xD0\xBD.\xD0\xBF\xD0\xB5\xD1\x82\xD1\x80"
			    "\xD0\xBE\xD0\xB2"));                       /* иван.петров */
	cr_expect_not(mixed("\xE5\xBC\xA0\xE4\xBC\x9F"));                /* 张伟 */
	cr_expect_not(mixed("\xE5\xB1\xB1\xE7\x94\xB0\xE3\x81\x9F\xE3\x82\x8D\xE3\x81\x86"));
	cr_expect_not(mixed("\xE5\xB1\xB1\xE7\x94\xB0taro"));            /* Han with Latin */
	cr_expect_not(mixed("\xEA\xB9\x80\xEB\xAF\xBC\xEC\xA4\x80"));    /* 김민준 */
	cr_expect_not(mixed("gro\xC3\x9F"));                              /* groß */
	cr_expect_not(mixed("j\xC3\xBCrgen.m\xC3\xBCller"));
	cr_expect_not(mixed("\xCF\x80\xCE\xB1\xCF\x80\xCE\xB1\xCE\xB4\xCF\x8C\xCF\x80\xCE\xBF"
			    "\xCF\x85\xCE\xBB\xCE\xBF\xCF\x82"));       /* παπαδόπουλος */
}

/*
 * The shortcut for text of one script must answer as ICU does: random text
 * of letters, digits, marks and punctuation from several scripts.
 */
Test(spoof, mixed_script_agrees_with_icu)
{
	static const uint32_t ranges[][2] = {
		{ 0x30, 0x39 }, { 0x41, 0x5A }, { 0x61, 0x7A }, { 0x2D, 0x2E }, { 0xC0, 0x24F },
		{ 0x300, 0x36F }, { 0x370, 0x3FF }, { 0x400, 0x4FF }, { 0x900, 0x97F },
		{ 0x964, 0x965 }, { 0x3040, 0x30FF }, { 0x4E00, 0x4E40 }, { 0xAC00, 0xAC40 },
		{ 0x3100, 0x312F }, { 0xFF10, 0xFF5A },
	};
	UErrorCode status = U_ZERO_ERROR;
	USpoofChecker *checker = uspoof_open(&status);
	uspoof_setChecks(checker, USPOOF_RESTRICTION_LEVEL, &status);
	uspoof_setRestrictionLevel(checker, USPOOF_HIGHLY_RESTRICTIVE);
	cr_assert(U_SUCCESS(status));
	unsigned seed = 39;
	char text[64];

	for (int n = 0; n < 20000; n++) {
		UChar units[32];
		int32_t unit_count = 0, len = 0;
		int chars = 1 + (int)(rand_r(&seed) % 6);
		/* Mostly one range, so that one script is common. */
		const uint32_t *range = ranges[rand_r(&seed) % (sizeof(ranges) / sizeof(*ranges))];
		for (int k = 0; k < chars; k++) {
			if (rand_r(&seed) % 4 == 0)
				range = ranges[rand_r(&seed) % (sizeof(ranges) / sizeof(*ranges))];
			UChar32 c = (UChar32)(range[0] + rand_r(&seed) % (range[1] - range[0] + 1));
			U16_APPEND_UNSAFE(units, unit_count, c);
		}
		status = U_ZERO_ERROR;
		u_strToUTF8(text, sizeof(text), &len, units, unit_count, &status);
		int32_t checks = uspoof_check2UTF8(checker, text, len, NULL, &status);
		cr_assert(U_SUCCESS(status));
		cr_assert_eq(mixed(text), (checks & USPOOF_RESTRICTION_LEVEL) != 0, "'%s'", text);
	}
	uspoof_close(checker);
}

/* one_script trusts a character's Script to be among its Script_Extensions. */
Test(spoof, a_script_is_among_its_characters_script_extensions)
{
	for (UChar32 c = 0; c <= 0x10FFFF; c++) {
		UErrorCode status = U_ZERO_ERROR;
		UScriptCode script = uscript_getScript(c, &status);
		if (script == USCRIPT_COMMON || script == USCRIPT_INHERITED)
			continue;
		cr_assert(uscript_hasScript(c, script), "U+%04X", (unsigned)c);
	}
}
