/* imaddr_check_address(): the audit's address checks on one address. */
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "normalize.h"

enum imaddr_status imaddr_check_address(const char *text, size_t length,
					struct imaddr_address_report *report,
					struct imaddr_error *err)
{
	struct imaddr_check_list checks;
	struct imaddr_address address;

	memset(report, 0, sizeof(*report));
	enum imaddr_status status = imaddr_normalize_init(err);
	if (status != IMADDR_OK)
		return status;
	imaddr_check_list_init(&checks);
	imaddr_address_init(&address);

	/* "sip:" is how SIP URIs are written: accepted here without a remark. */
	if (imaddr_check_uri(text, length, "address", true, &address, &checks)) {
		report->canonical = imaddr_xstrdup(address.canonical.data);
		report->unicode = imaddr_xstrdup(address.unicode.data);
		imaddr_check_im_address(address.local.data, address.local.len,
					address.domain_ascii.data, "address",
					address.canonical.data, false, &checks);
	}
	report->finding_count = checks.count;
	report->findings = imaddr_xcalloc(checks.count + 1, sizeof(*report->findings));
	for (size_t i = 0; i < checks.count; i++) {
		const struct imaddr_check_item *item = &checks.items[i];
		report->findings[i].code = item->code;
		if (item->suggestion.len)
			imaddr_buf_appendf(&checks.items[i].message, " (use '%s')",
					   item->suggestion.data);
		report->findings[i].message = imaddr_xstrdup(item->message.data);
	}
	imaddr_address_release(&address);
	imaddr_check_list_release(&checks);
	return IMADDR_OK;
}

void imaddr_address_report_release(struct imaddr_address_report *report)
{
	for (size_t i = 0; i < report->finding_count; i++)
		free(report->findings[i].message);
	free(report->findings);
	free(report->canonical);
	free(report->unicode);
	memset(report, 0, sizeof(*report));
}
