#include <criterion/criterion.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/uidna.h>
#include <unicode/ustring.h>

#include "normalize.h"

static struct imaddr_buf out, ascii, unicode;

/*
 * No imaddr_icu_init() here: Criterion runs every test in a process
 * of its own, so each test also shows that the functions open ICU lazily.
 */
static void setup(void)
{
	imaddr_buf_init(&out, 0);
	imaddr_buf_init(&ascii, 0);
	imaddr_buf_init(&unicode, 0);
}

static void teardown(void)
{
	imaddr_buf_release(&out);
	imaddr_buf_release(&ascii);
	imaddr_buf_release(&unicode);
}

TestSuite(normalize, .init = setup, .fini = teardown);

static const char *key_of(const char *s, struct imaddr_buf *key)
{
	imaddr_normalize_key(s, strlen(s), key);
	return key->data;
}

static uint32_t domain(const char *s)
{
	return imaddr_normalize_domain(s, strlen(s), &ascii, &unicode);
}

static int32_t disallowed(const char *s, size_t *offset)
{
	return imaddr_normalize_precis_disallowed(s, strlen(s), offset);
}

static bool valid(const char *s, size_t len, size_t *bad_offset)
{
	return imaddr_normalize_utf8_valid(s, len, bad_offset);
}

Test(normalize, works_without_init)
{
	cr_assert_str_eq(key_of("\xEF\xBC\xADu\xCC\x88ller", &out), "m\xC3\xBCller");    /* Ｍüller */
}

Test(normalize, nfc_composes_nfd_input_and_reports_it)
{
	const char *nfd = "Jose\xCC\x81";    /* e + COMBINING ACUTE ACCENT */

	cr_assert(imaddr_normalize_nfc(nfd, strlen(nfd), &out));
	cr_assert_str_eq(out.data, "Jos\xC3\xA9");
}

Test(normalize, nfc_leaves_nfc_input_alone)
{
	cr_assert_not(imaddr_normalize_nfc("jsmith", 6, &out));
	cr_assert_str_eq(out.data, "jsmith");
	cr_assert_not(imaddr_normalize_nfc("Jos\xC3\xA9", 5, &out));
	cr_assert_str_eq(out.data, "Jos\xC3\xA9");
	cr_assert_not(imaddr_normalize_nfc("\xE5\xB1\xB1\xE7\x94\xB0", 6, &out));    /* 山田 */
	cr_assert_str_eq(out.data, "\xE5\xB1\xB1\xE7\x94\xB0");
}

Test(normalize, nfc_keeps_embedded_nul)
{
	cr_assert_not(imaddr_normalize_nfc("a\0b", 3, &out));
	cr_assert_eq(out.len, 3);
	cr_assert(imaddr_normalize_nfc("e\xCC\x81\0x", 5, &out));
	cr_assert_eq(out.len, 4);
	cr_assert_eq(memcmp(out.data, "\xC3\xA9\0x", 4), 0);
}

Test(normalize, nfc_of_long_input)
{
	struct imaddr_buf input, expected;

	imaddr_buf_init(&input, 0);
	imaddr_buf_init(&expected, 0);
	for (int i = 0; i < 1000; i++) {
		imaddr_buf_append_str(&input, "e\xCC\x81");
		imaddr_buf_append_str(&expected, "\xC3\xA9");
	}
	cr_assert(imaddr_normalize_nfc(input.data, input.len, &out));
	cr_assert_str_eq(out.data, expected.data);
	cr_assert_not(imaddr_normalize_nfc(expected.data, expected.len, &out));
	cr_assert_str_eq(out.data, expected.data);
	imaddr_buf_release(&input);
	imaddr_buf_release(&expected);
}

Test(normalize, nfc_respects_the_buffer_cap)
{
	struct imaddr_buf small;

	imaddr_buf_init(&small, 4);
	imaddr_normalize_nfc("e\xCC\x81\xCC\x81\xCC\x81", 7, &small);
	cr_assert_eq(small.len, 0);
	imaddr_buf_release(&small);
}

Test(normalize, key_folds_case_and_width)
{
	struct imaddr_buf other;

	imaddr_buf_init(&other, 0);
	cr_assert_str_eq(key_of("JSmith", &out), "jsmith");
	cr_assert_str_eq(key_of("\xEF\xBD\x8A\xEF\xBD\x93\xEF\xBD\x8D\xEF\xBD\x89\xEF\xBD\x94"
				"\xEF\xBD\x88", &other), "jsmith");    /* ｊｓｍｉｔｈ */
	cr_assert_str_eq(key_of("jsmith", &out), "jsmith");
	imaddr_buf_release(&other);
}

Test(normalize, key_joins_nfd_and_nfc)
{
	struct imaddr_buf other;

	imaddr_buf_init(&other, 0);
	cr_assert_str_eq(key_of("Jose\xCC\x81", &out), key_of("JOS\xC3\x89", &other));
	cr_assert_str_eq(out.data, "jos\xC3\xA9");
	cr_assert_str_eq(key_of("Stra\xC3\x9F" "e", &out), "strasse");
	imaddr_buf_release(&other);
}

Test(normalize, key_of_long_input)
{
	struct imaddr_buf input;

	imaddr_buf_init(&input, 0);
	for (int i = 0; i < 300; i++)
		imaddr_buf_append_str(&input, "\xEF\xB7\xBA");    /* U+FDFA: 18 letters */
	imaddr_normalize_key(input.data, input.len, &out);
	cr_assert_eq(imaddr_normalize_codepoints(out.data, out.len), 300 * 18);
	imaddr_buf_release(&input);
}

Test(normalize, domain_gives_a_label_and_u_label)
{
	cr_assert_eq(domain("B\xC3\xBC" "cher.example"), 0);
	cr_assert_str_eq(ascii.data, "xn--bcher-kva.example");
	cr_assert_str_eq(unicode.data, "b\xC3\xBC" "cher.example");
}

Test(normalize, domain_lowercases)
{
	cr_assert_eq(domain("EXAMPLE.COM"), 0);
	cr_assert_str_eq(ascii.data, "example.com");
	cr_assert_str_eq(unicode.data, "example.com");
	cr_assert_eq(domain("XN--BCHER-KVA.Example"), 0);
	cr_assert_str_eq(ascii.data, "xn--bcher-kva.example");
	cr_assert_str_eq(unicode.data, "b\xC3\xBC" "cher.example");
}

Test(normalize, domain_is_nontransitional)
{
	cr_assert_eq(domain("fa\xC3\x9F.de"), 0);
	cr_assert_str_eq(ascii.data, "xn--fa-hia.de");
	cr_assert_str_eq(unicode.data, "fa\xC3\x9F.de");
}

Test(normalize, domain_refuses_leading_hyphen)
{
	cr_assert_eq(domain("-abc.com"), UIDNA_ERROR_LEADING_HYPHEN);
}

Test(normalize, domain_refuses_empty_label)
{
	cr_assert_eq(domain("a..b"), UIDNA_ERROR_EMPTY_LABEL);
	cr_assert_eq(domain(""), UIDNA_ERROR_EMPTY_LABEL);
	cr_assert_eq(domain(".example.com"), UIDNA_ERROR_EMPTY_LABEL);
}

/* UTS #46 15.0 allows the root label: IdnaTestV2.txt has "a.b.c.d." valid. */
Test(normalize, domain_allows_trailing_dot)
{
	cr_assert_eq(domain("example.com."), 0);
	cr_assert_str_eq(ascii.data, "example.com.");
}

Test(normalize, domain_refuses_64_byte_label)
{
	char name[80];

	memset(name, 'a', 64);
	strcpy(name + 64, ".com");
	cr_assert_eq(domain(name), UIDNA_ERROR_LABEL_TOO_LONG);
	name[63] = '.';    /* two labels, 63 and 0+4 */
	memmove(name + 63, name + 64, strlen(name + 64) + 1);
	cr_assert_eq(domain(name), 0);
}

Test(normalize, domain_refuses_254_bytes)
{
	char name[300] = "";

	/* 4 labels of 62 + dots = 251, then ".ab" = 254 */
	for (int i = 0; i < 4; i++) {
		memset(name + strlen(name), 'a', 62);
		name[i * 63 + 62] = i < 3 ? '.' : '\0';
		name[i * 63 + 63] = '\0';
	}
	cr_assert_eq(strlen(name), 251);
	strcat(name, ".b");
	cr_assert_eq(domain(name), 0, "253 bytes are fine");
	strcat(name, "c");
	cr_assert_eq(domain(name), UIDNA_ERROR_DOMAIN_NAME_TOO_LONG);
}

Test(normalize, domain_refuses_hyphens_3_and_4)
{
	cr_assert_eq(domain("ab--cd.com"), UIDNA_ERROR_HYPHEN_3_4);
}

Test(normalize, domain_refuses_what_std3_forbids)
{
	cr_assert(domain("exa_mple.com") & UIDNA_ERROR_DISALLOWED);
	cr_assert(domain("a b.com") & UIDNA_ERROR_DISALLOWED);
	cr_assert(imaddr_normalize_domain("a\0b.com", 7, &ascii, &unicode) &
		  UIDNA_ERROR_DISALLOWED);
	cr_assert(domain("\xC0\xAF.com") & UIDNA_ERROR_DISALLOWED);
}

Test(normalize, describe_domain_errors_in_words)
{
	imaddr_normalize_describe_domain_errors(0, &out);
	cr_assert_str_eq(out.data, "");
	imaddr_normalize_describe_domain_errors(UIDNA_ERROR_LABEL_TOO_LONG, &out);
	cr_assert_str_eq(out.data, "label longer than 63 bytes");
	imaddr_normalize_describe_domain_errors(UIDNA_ERROR_LEADING_HYPHEN | UIDNA_ERROR_BIDI,
						&out);
	cr_assert_str_eq(out.data, "label starts with a hyphen, bidi rule");
	imaddr_normalize_describe_domain_errors(0x10000, &out);
	cr_assert_str_eq(out.data, "unknown error 0x10000");
}

Test(normalize, describe_domain_errors_names_every_bit)
{
	for (uint32_t bit = 1; bit <= UIDNA_ERROR_CONTEXTO_DIGITS; bit <<= 1) {
		imaddr_normalize_describe_domain_errors(bit, &out);
		cr_assert(out.len > 0 && !strstr(out.data, "unknown"), "bit 0x%x", bit);
	}
}

Test(normalize, precis_allows_ascii_punctuation)
{
	cr_assert_eq(disallowed("o'brien", NULL), -1);
	cr_assert_eq(disallowed("first.last+tag_1!", NULL), -1);
}

Test(normalize, precis_refuses_space)
{
	size_t offset = 99;

	cr_assert_eq(disallowed("a b", &offset), 0x20);
	cr_assert_eq(offset, 1);
	cr_assert_eq(disallowed("a\xC2\xA0" "b", &offset), 0xA0);    /* NO-BREAK SPACE */
}

Test(normalize, precis_refuses_compatibility_characters)
{
	size_t offset = 99;

	cr_assert_eq(disallowed("\xEF\xBD\x86\xEF\xBD\x8F\xEF\xBD\x8F", &offset), 0xFF46);    /* ｆｏｏ */
	cr_assert_eq(offset, 0);
	cr_assert_eq(disallowed("x\xC2\xAA", &offset), 0xAA);    /* ª: Lo, NFKC gives a */
	cr_assert_eq(offset, 1);
}

Test(normalize, precis_allows_letters)
{
	cr_assert_eq(disallowed("\xC3\xA9", NULL), -1);                    /* é */
	cr_assert_eq(disallowed("stra\xC3\x9F" "e", NULL), -1);            /* ß: an exception */
	cr_assert_eq(disallowed("\xE5\xB1\xB1\xE7\x94\xB0", NULL), -1);    /* 山田 */
	cr_assert_eq(disallowed("\xD0\xB8\xD0\xB2\xD0\xB0\xD0\xBD", NULL), -1);    /* иван */
}

Test(normalize, precis_refuses_symbols)
{
	cr_assert_eq(disallowed("snow\xE2\x98\x83", NULL), 0x2603);
	cr_assert_eq(disallowed("\xE2\x82\xAC", NULL), 0x20AC);    /* € */
}

Test(normalize, precis_refuses_controls_and_ignorables)
{
	cr_assert_eq(imaddr_normalize_precis_disallowed("a\0", 2, NULL), 0);
	cr_assert_eq(disallowed("a\x7F", NULL), 0x7F);
	cr_assert_eq(disallowed("a\xC2\xAD" "b", NULL), 0xAD);         /* SOFT HYPHEN */
	cr_assert_eq(disallowed("a\xE2\x80\x8D" "b", NULL), 0x200D);   /* ZWJ */
}

Test(normalize, precis_refuses_exceptions_and_contexto)
{
	cr_assert_eq(disallowed("\xD8\xA8\xD9\x80", NULL), 0x640);    /* ARABIC TATWEEL */
	cr_assert_eq(disallowed("l\xC2\xB7l", NULL), 0xB7);           /* MIDDLE DOT */
	cr_assert_eq(disallowed("\xD9\xA1", NULL), 0x661);            /* ARABIC-INDIC ONE */
}

Test(normalize, precis_refuses_unassigned_and_old_hangul_jamo)
{
	cr_assert_eq(disallowed("\xCD\xB8", NULL), 0x378);            /* unassigned */
	cr_assert_eq(disallowed("\xE1\x84\x80", NULL), 0x1100);       /* CHOSEONG KIYEOK */
	cr_assert_eq(disallowed("\xEA\xB0\x80", NULL), -1);           /* 가 */
}

Test(normalize, utf8_valid_accepts_well_formed)
{
	const char *text = "a\0\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF";

	cr_assert(valid(text, 15, NULL));
	cr_assert(valid("", 0, NULL));
}

Test(normalize, utf8_valid_rejects_overlong)
{
	size_t offset = 99;

	cr_assert_not(valid("a\xC0\xAF", 3, &offset));
	cr_assert_eq(offset, 1);
	cr_assert_not(valid("\xE0\x80\xAF", 3, &offset));
	cr_assert_eq(offset, 0);
}

Test(normalize, utf8_valid_rejects_surrogates)
{
	size_t offset = 99;

	cr_assert_not(valid("ab\xED\xA0\x80", 5, &offset));
	cr_assert_eq(offset, 2);
}

Test(normalize, utf8_valid_rejects_beyond_u10ffff)
{
	size_t offset = 99;

	cr_assert_not(valid("\xF4\x90\x80\x80", 4, &offset));
	cr_assert_eq(offset, 0);
	cr_assert_not(valid("\xF5\x80\x80\x80", 4, &offset));
	cr_assert_not(valid("\xFF", 1, &offset));
}

Test(normalize, utf8_valid_rejects_truncated)
{
	size_t offset = 99;

	cr_assert_not(valid("x\xE2\x82", 3, &offset));
	cr_assert_eq(offset, 1);
	cr_assert_not(valid("\xE2\x82x", 3, &offset));
	cr_assert_not(valid("\x80", 1, &offset));
}

Test(normalize, display_width_counts_terminal_columns)
{
	cr_assert_eq(imaddr_normalize_display_width("", 0), 0);
	cr_assert_eq(imaddr_normalize_display_width("example.com", 11), 11);
	/* ü is one column, precomposed or as u + U+0308 COMBINING DIAERESIS. */
	cr_assert_eq(imaddr_normalize_display_width("m\xC3\xBCnchen", 8), 7);
	cr_assert_eq(imaddr_normalize_display_width("mu\xCC\x88nchen", 9), 7);
	/* East Asian Wide (例え) and Fullwidth (ｓａｍ): two columns each. */
	cr_assert_eq(imaddr_normalize_display_width("\xE4\xBE\x8B\xE3\x81\x88.jp", 9), 7);
	cr_assert_eq(imaddr_normalize_display_width("\xEF\xBD\x93\xEF\xBD\x81\xEF\xBD\x8D", 9),
		     6);
	/* Halfwidth katakana (ｶ) is one; a zero-width joiner and controls none. */
	cr_assert_eq(imaddr_normalize_display_width("\xEF\xBD\xB6", 3), 1);
	cr_assert_eq(imaddr_normalize_display_width("a\xE2\x80\x8D\tb", 6), 2);
}

Test(normalize, utf8_repair_replaces_what_is_not_utf8)
{
	struct imaddr_buf repaired;
	imaddr_buf_init(&repaired, 0);
	cr_assert_not(imaddr_normalize_utf8_repair("ok \xC3\xBC", 5, &repaired));
	cr_assert_eq(repaired.len, 5);
	cr_assert(imaddr_normalize_utf8_repair("a\xFF" "b\0c\xC3", 6, &repaired));
	cr_assert_eq(repaired.len, 12);
	cr_assert_eq(memcmp(repaired.data, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\xEF\xBF\xBD", 12), 0);
	imaddr_buf_release(&repaired);
}

Test(normalize, codepoints_counts_characters)
{
	cr_assert_eq(imaddr_normalize_codepoints("", 0), 0);
	cr_assert_eq(imaddr_normalize_codepoints("a\0b", 3), 3);
	cr_assert_eq(imaddr_normalize_codepoints("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 9), 3);
}

Test(normalize, trim_removes_unicode_white_space)
{
	const char *text = " \t\xC2\xA0jsmith\xE3\x80\x80 ";    /* NBSP, IDEOGRAPHIC SPACE */
	size_t start = 99;
	size_t len = imaddr_normalize_trim(text, strlen(text), &start);

	cr_assert_eq(start, 4);
	cr_assert_eq(len, 6);
	cr_assert_eq(memcmp(text + start, "jsmith", 6), 0);
}

Test(normalize, trim_keeps_inner_space_and_other_characters)
{
	size_t start = 99;

	cr_assert_eq(imaddr_normalize_trim("a b", 3, &start), 3);
	cr_assert_eq(start, 0);
	/* ZERO WIDTH SPACE is not White_Space */
	cr_assert_eq(imaddr_normalize_trim("\xE2\x80\x8B" "a", 4, &start), 4);
	cr_assert_eq(imaddr_normalize_trim("a\xC3\xA9", 3, &start), 3);
}

Test(normalize, trim_of_only_space_is_empty)
{
	size_t start = 99;

	cr_assert_eq(imaddr_normalize_trim(" \xC2\xA0 ", 4, &start), 0);
	cr_assert_eq(imaddr_normalize_trim("", 0, &start), 0);
	cr_assert_eq(start, 0);
}

Test(normalize, first_control_finds_cc)
{
	size_t offset = 99;

	cr_assert_eq(imaddr_normalize_first_control("jsmith", 6, &offset), -1);
	cr_assert_eq(imaddr_normalize_first_control("j\xC3\xA9\tx", 5, &offset), '\t');
	cr_assert_eq(offset, 3);
	cr_assert_eq(imaddr_normalize_first_control("a\xC2\x85", 3, &offset), 0x85);    /* NEL */
	cr_assert_eq(imaddr_normalize_first_control("a\0", 2, &offset), 0);
	cr_assert_eq(imaddr_normalize_first_control("a\xE2\x80\x8B", 4, &offset), -1);    /* Cf */
}

Test(normalize, describe_codepoint_gives_name)
{
	imaddr_normalize_describe_codepoint(0xE9, &out);
	cr_assert_str_eq(out.data, "U+00E9 LATIN SMALL LETTER E WITH ACUTE");
	imaddr_normalize_describe_codepoint(0x1F600, &out);
	cr_assert_str_eq(out.data, "U+1F600 GRINNING FACE");
	imaddr_normalize_describe_codepoint(0xAC00, &out);
	cr_assert_str_eq(out.data, "U+AC00 HANGUL SYLLABLE GA");
}

Test(normalize, describe_codepoint_without_name)
{
	imaddr_normalize_describe_codepoint(0x0A, &out);
	cr_assert_str_eq(out.data, "U+000A");
	imaddr_normalize_describe_codepoint(0xE000, &out);    /* private use */
	cr_assert_str_eq(out.data, "U+E000");
	imaddr_normalize_describe_codepoint(0x378, &out);     /* unassigned */
	cr_assert_str_eq(out.data, "U+0378");
}

static void *normalize_in_thread(void *unused)
{
	struct imaddr_buf key, a, u;
	bool ok = true;

	(void)unused;
	imaddr_buf_init(&key, 0);
	imaddr_buf_init(&a, 0);
	imaddr_buf_init(&u, 0);
	for (int i = 0; i < 2000 && ok; i++) {
		imaddr_normalize_key("J\xC3\xBCRGEN", 7, &key);
		ok = !strcmp(key.data, "j\xC3\xBCrgen") &&
			imaddr_normalize_domain("M\xC3\xBCnchen.example", 16, &a, &u) == 0 &&
			!strcmp(a.data, "xn--mnchen-3ya.example");
	}
	imaddr_buf_release(&key);
	imaddr_buf_release(&a);
	imaddr_buf_release(&u);
	return ok ? &out : NULL;
}

Test(normalize, is_thread_safe)
{
	pthread_t threads[4];
	void *result;

	for (int i = 0; i < 4; i++)
		cr_assert_eq(pthread_create(&threads[i], NULL, normalize_in_thread, NULL), 0);
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(pthread_join(threads[i], &result), 0);
		cr_assert_not_null(result);
	}
}

Test(normalize, is_ascii_at_every_length_and_position)
{
	char text[40];
	for (size_t len = 0; len < sizeof(text); len++) {
		memset(text, 'a', len);
		cr_expect(imaddr_normalize_is_ascii(text, len), "length %zu", len);
		for (size_t at = 0; at < len; at++) {
			memset(text, 'a', len);
			text[at] = (char)0xC3;
			cr_expect_not(imaddr_normalize_is_ascii(text, len), "length %zu, at %zu",
				      len, at);
		}
	}
}

Test(normalize, transitional_domain_maps_the_deviations)
{
	cr_expect_eq(imaddr_normalize_domain_transitional("fa\xC3\x9F.de", 7, &ascii), 0);
	cr_expect_str_eq(ascii.data, "fass.de");
	cr_expect_eq(domain("fa\xC3\x9F.de"), 0);
	cr_expect_str_eq(ascii.data, "xn--fa-hia.de");
	/* σοφος: the final sigma becomes σ, as if written σοφοσ. */
	const char *sofos = "\xCF\x83\xCE\xBF\xCF\x86\xCE\xBF\xCF\x82.gr";
	const char *sofos_sigma = "\xCF\x83\xCE\xBF\xCF\x86\xCE\xBF\xCF\x83.gr";
	cr_expect_eq(domain(sofos_sigma), 0);
	char expected[64];
	snprintf(expected, sizeof(expected), "%s", ascii.data);
	imaddr_normalize_domain_transitional(sofos, strlen(sofos), &ascii);
	cr_expect_str_eq(ascii.data, expected);
	cr_expect_eq(domain(sofos), 0);
	cr_expect_str_neq(ascii.data, expected);
	imaddr_normalize_domain_transitional("example.com", 11, &ascii);
	cr_expect_str_eq(ascii.data, "example.com");
}
