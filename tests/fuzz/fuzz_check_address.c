/* libFuzzer target: any bytes through the address checker, cold and warm. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imaddr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct imaddr_address_checker *warm;
	struct imaddr_address_checker *cold;
	struct imaddr_error err;

	if (!warm && imaddr_address_checker_new(&warm, &err) != IMADDR_OK)
		abort();
	if (imaddr_address_checker_new(&cold, &err) != IMADDR_OK)
		abort();
	const struct imaddr_address_result *a =
		imaddr_address_checker_check(cold, (const char *)data, size);
	const char *canonical = a->canonical;
	size_t findings = a->finding_count;
	const struct imaddr_address_result *b =
		imaddr_address_checker_check(warm, (const char *)data, size);
	/* The warm checker's fast path must agree with the general one. */
	if ((canonical == NULL) != (b->canonical == NULL) ||
	    (canonical && strcmp(canonical, b->canonical)) || findings != b->finding_count)
		abort();
	imaddr_address_checker_free(cold);
	return 0;
}
