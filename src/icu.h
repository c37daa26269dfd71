/*
 * The ICU services normalize.c and spoof.c share, opened once per process,
 * and the glue each of their ICU calls needs: lengths ICU can count,
 * ICU's errors under the out-of-memory policy, and UTF-8 stepped through a
 * code point at a time. The helpers are inline: the normalizers and the
 * spoof checks call them for every value of a run.
 */
#ifndef IMADDR_ICU_H
#define IMADDR_ICU_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <unicode/uidna.h>
#include <unicode/unorm2.h>
#include <unicode/uspoof.h>
#include <unicode/utf8.h>

#include "buffer.h"
#include "imaddr.h"

/* Opened by imaddr_icu_init, never closed; shared read-only by every thread. */
struct imaddr_icu_services {
	const UNormalizer2 *nfc;
	const UNormalizer2 *nfkc;
	const UNormalizer2 *nfkc_casefold;
	UIDNA *uts46;                /* nontransitional, the domain checks */
	UIDNA *uts46_transitional;   /* what IDNA2003 clients do, for idna-deviation */
	USpoofChecker *spoof;        /* UTS #39 at the highly restrictive level */
};

/**
 * Opens the ICU services once per process; later calls, from any thread,
 * return at once. IMADDR_ERR_UNICODE, with the service named in `err` (may
 * be NULL), when ICU cannot open one: a broken installation.
 */
enum imaddr_status imaddr_icu_init(struct imaddr_error *err);

/* For imaddr_icu_services() alone: the services, set once ready is. */
extern struct imaddr_icu_services imaddr_icu_opened;
extern atomic_bool imaddr_icu_ready;
void imaddr_icu_init_or_die(void);

/**
 * The services. Opens them when no caller has called imaddr_icu_init(): the
 * functions that need them have no error return, and a caller that forgot
 * the init must not get wrong answers. ICU's data is linked into the
 * library, so failing here is fatal like an allocation failure (see
 * include/imaddr.h). Called for every value: a flag first, then the
 * pthread_once that is a call.
 */
static inline const struct imaddr_icu_services *imaddr_icu_services(void)
{
	if (!atomic_load_explicit(&imaddr_icu_ready, memory_order_acquire))
		imaddr_icu_init_or_die();
	return &imaddr_icu_opened;
}

/*
 * ICU counts in int32_t. Nothing in a directory comes near that, and the
 * readers cap their fields far below it. The same goes for an ICU result
 * too long for int32_t, and for ICU running out of memory: all of them are
 * treated like an allocation failure.
 */
static inline int32_t imaddr_icu_length(size_t len)
{
	if (len > INT32_MAX)
		imaddr_fatal("string too long for ICU");
	return (int32_t)len;
}

static inline void imaddr_icu_check(UErrorCode status)
{
	if (status == U_MEMORY_ALLOCATION_ERROR)
		imaddr_fatal("out of memory");
	if (U_FAILURE(status))
		imaddr_fatal("string too long for ICU");
}

/*
 * Decodes the code point at s[*i] and moves *i past it. Ill-formed bytes
 * give a negative value and are skipped as U8_NEXT skips them. Only up to
 * four bytes are handed to U8_NEXT, so its int32_t indexes never overflow.
 */
static inline UChar32 imaddr_icu_next_codepoint(const char *s, size_t len, size_t *i)
{
	const uint8_t *bytes = (const uint8_t *)s + *i;
	int32_t at = 0;
	int32_t available = len - *i < 4 ? (int32_t)(len - *i) : 4;
	UChar32 c;

	U8_NEXT(bytes, at, available, c);
	*i += (size_t)at;
	return c;
}

#endif /* IMADDR_ICU_H */
