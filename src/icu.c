/*
 * The ICU services, opened once per process. See icu.h for the contracts.
 */
#include "icu.h"

#include <pthread.h>
#include <stdio.h>

struct imaddr_icu_services imaddr_icu_opened;
atomic_bool imaddr_icu_ready;
static char init_failure[IMADDR_ERROR_MAX];
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void open_services(void)
{
	struct imaddr_icu_services *icu = &imaddr_icu_opened;
	UErrorCode status = U_ZERO_ERROR;
	const char *what = "NFC normalizer";

	icu->nfc = unorm2_getNFCInstance(&status);
	if (U_SUCCESS(status)) {
		what = "NFKC normalizer";
		icu->nfkc = unorm2_getNFKCInstance(&status);
	}
	if (U_SUCCESS(status)) {
		what = "NFKC_Casefold normalizer";
		icu->nfkc_casefold = unorm2_getNFKCCasefoldInstance(&status);
	}
	if (U_SUCCESS(status)) {
		what = "UTS #46 service";
		/*
		 * Nontransitional both ways, so that "faß.de" keeps its sharp s.
		 * CheckHyphens and VerifyDnsLength are not options in ICU: its
		 * toASCII always does both. CONTEXTO stays off because UTS #46
		 * does not ask for it and IdnaTestV2.txt does not test it.
		 */
		icu->uts46 = uidna_openUTS46(UIDNA_USE_STD3_RULES | UIDNA_CHECK_BIDI |
					     UIDNA_CHECK_CONTEXTJ |
					     UIDNA_NONTRANSITIONAL_TO_ASCII |
					     UIDNA_NONTRANSITIONAL_TO_UNICODE,
					     &status);
	}
	if (U_SUCCESS(status)) {
		/* What IDNA2003 clients do, for idna-deviation: the same rules, transitional. */
		what = "UTS #46 transitional service";
		icu->uts46_transitional = uidna_openUTS46(UIDNA_USE_STD3_RULES |
							  UIDNA_CHECK_BIDI |
							  UIDNA_CHECK_CONTEXTJ, &status);
	}
	if (U_SUCCESS(status)) {
		what = "spoof checker (UTS #39)";
		icu->spoof = uspoof_open(&status);
		uspoof_setChecks(icu->spoof, USPOOF_RESTRICTION_LEVEL, &status);
		if (U_SUCCESS(status))
			uspoof_setRestrictionLevel(icu->spoof, USPOOF_HIGHLY_RESTRICTIVE);
	}

	if (U_FAILURE(status))
		snprintf(init_failure, sizeof(init_failure), "cannot open the ICU %s: %s",
			 what, u_errorName(status));
	else
		atomic_store_explicit(&imaddr_icu_ready, true, memory_order_release);
}

enum imaddr_status imaddr_icu_init(struct imaddr_error *err)
{
	pthread_once(&init_once, open_services);
	if (!init_failure[0])
		return IMADDR_OK;
	if (err)
		snprintf(err->message, sizeof(err->message), "%s", init_failure);
	return IMADDR_ERR_UNICODE;
}

void imaddr_icu_init_or_die(void)
{
	if (imaddr_icu_init(NULL) != IMADDR_OK)
		imaddr_fatal(init_failure);
}
