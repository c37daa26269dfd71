#include <criterion/criterion.h>

#include <string.h>

#include "icu.h"

Test(icu, init_is_idempotent)
{
	struct imaddr_error err = { "untouched" };

	cr_assert_eq(imaddr_icu_init(&err), IMADDR_OK);
	cr_assert_eq(imaddr_icu_init(&err), IMADDR_OK);
	cr_assert_str_eq(err.message, "untouched");
}

/* Criterion runs each test in a process of its own: nothing opened them here. */
Test(icu, services_open_on_first_use)
{
	const struct imaddr_icu_services *icu = imaddr_icu_services();

	cr_assert_not_null(icu->nfc);
	cr_assert_not_null(icu->nfkc);
	cr_assert_not_null(icu->nfkc_casefold);
	cr_assert_not_null(icu->uts46);
	cr_assert_not_null(icu->uts46_transitional);
	cr_assert_not_null(icu->spoof);
	cr_assert_eq(imaddr_icu_services(), icu);
}

Test(icu, next_codepoint_steps_over_ill_formed_bytes)
{
	/* a, é, a stray byte, 😀 and a € cut short */
	const char *text = "a\xC3\xA9\xFF\xF0\x9F\x98\x80\xE2\x82";
	size_t len = strlen(text), i = 0;

	cr_expect_eq(imaddr_icu_next_codepoint(text, len, &i), 'a');
	cr_expect_eq(i, 1);
	cr_expect_eq(imaddr_icu_next_codepoint(text, len, &i), 0xE9);
	cr_expect_eq(i, 3);
	cr_expect_lt(imaddr_icu_next_codepoint(text, len, &i), 0);
	cr_expect_eq(i, 4);
	cr_expect_eq(imaddr_icu_next_codepoint(text, len, &i), 0x1F600);
	cr_expect_eq(i, 8);
	cr_expect_lt(imaddr_icu_next_codepoint(text, len, &i), 0);
	cr_expect_eq(i, len);
}
