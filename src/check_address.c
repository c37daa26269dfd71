/* Address checks one at a time: imaddr_address_checker and imaddr_check_address(). */
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "error.h"
#include "icu.h"
#include "strmap.h"

struct imaddr_address_checker {
	struct imaddr_rules_findings checks;
	struct imaddr_address address;
	struct imaddr_strmap domain_cache;
	struct imaddr_address_result result;
};

enum imaddr_status imaddr_address_checker_new(struct imaddr_address_checker **out,
					      struct imaddr_error *err)
{
	if (!out)
		return imaddr_error_null(err, __func__, "out");
	*out = NULL;
	enum imaddr_status status = imaddr_icu_init(err);
	if (status != IMADDR_OK)
		return status;
	struct imaddr_address_checker *checker = imaddr_xcalloc(1, sizeof(*checker));
	imaddr_rules_findings_init(&checker->checks);
	imaddr_rules_address_init(&checker->address);
	imaddr_strmap_init(&checker->domain_cache);
	checker->address.domain_cache = &checker->domain_cache;
	*out = checker;
	return IMADDR_OK;
}

const struct imaddr_address_result *imaddr_address_checker_check(
	struct imaddr_address_checker *checker, const char *text, size_t length)
{
	/* No status to say it with: the answer to a mistake, as for the address. */
	if (!checker || (!text && length))
		return NULL;
	struct imaddr_rules_findings *checks = &checker->checks;
	struct imaddr_address *address = &checker->address;
	struct imaddr_address_result *result = &checker->result;

	/* (NULL, 0): the empty address, with no NULL for the rules' memcpy. */
	if (!text)
		text = "";
	imaddr_rules_findings_reset(checks);
	result->canonical = result->unicode = NULL;
	/* "sip:" is how SIP URIs are written: accepted here without a remark. */
	if (imaddr_rules_uri(text, length, "address", true, address, checks)) {
		result->canonical = address->canonical.data;
		/* Only the U-label form: the comparison key is for duplicates. */
		if (address->domain_unicode.len == address->domain_ascii.len &&
		    !memcmp(address->domain_unicode.data, address->domain_ascii.data,
			    address->domain_ascii.len)) {
			result->unicode = address->canonical.data;
		} else {
			imaddr_buf_reset(&address->unicode);
			imaddr_buf_append(&address->unicode, address->local.data,
					  address->local.len);
			imaddr_buf_append_char(&address->unicode, '@');
			imaddr_buf_append(&address->unicode, address->domain_unicode.data,
					  address->domain_unicode.len);
			result->unicode = address->unicode.data;
		}
		if (!address->plain)
			imaddr_rules_im_address(address->local.data, address->local.len,
						address->domain_ascii.data, "address",
						address->canonical.data, false, checks);
	}
	result->finding_count = checks->count;
	for (size_t i = 0; i < checks->count; i++) {
		const struct imaddr_rules_finding *item = &checks->items[i];
		result->findings[i].code = item->code;
		result->findings[i].message = item->message.data;
		result->findings[i].suggestion = item->suggestion.len ? item->suggestion.data
								       : NULL;
	}
	return result;
}

void imaddr_address_checker_free(struct imaddr_address_checker *checker)
{
	if (!checker)
		return;
	imaddr_rules_findings_release(&checker->checks);
	imaddr_rules_address_release(&checker->address);
	imaddr_strmap_release(&checker->domain_cache);
	free(checker);
}

static enum imaddr_status null_address(size_t length, struct imaddr_error *err)
{
	return imaddr_error_set(err, IMADDR_ERR_USAGE, "no address (NULL) but a length of %zu "
				"bytes", length);
}

enum imaddr_status imaddr_check_address(const char *text, size_t length,
					struct imaddr_address_report *report,
					struct imaddr_error *err)
{
	struct imaddr_address_checker *checker;

	if (!report)
		return imaddr_error_null(err, __func__, "report");
	memset(report, 0, sizeof(*report));
	if (!text && length)
		return null_address(length, err);
	enum imaddr_status status = imaddr_address_checker_new(&checker, err);
	if (status != IMADDR_OK)
		return status;
	const struct imaddr_address_result *result =
		imaddr_address_checker_check(checker, text, length);
	report->canonical = result->canonical ? imaddr_xstrdup(result->canonical) : NULL;
	report->unicode = result->unicode ? imaddr_xstrdup(result->unicode) : NULL;
	report->finding_count = result->finding_count;
	report->findings = imaddr_xcalloc(result->finding_count + 1, sizeof(*report->findings));
	for (size_t i = 0; i < result->finding_count; i++) {
		struct imaddr_buf message;
		imaddr_buf_init(&message, 0);
		imaddr_buf_append_str(&message, result->findings[i].message);
		if (result->findings[i].suggestion)
			imaddr_buf_appendf(&message, " (use '%s')", result->findings[i].suggestion);
		report->findings[i].code = result->findings[i].code;
		report->findings[i].message = imaddr_buf_detach(&message);
	}
	imaddr_address_checker_free(checker);
	return IMADDR_OK;
}

void imaddr_address_report_release(struct imaddr_address_report *report)
{
	if (!report)
		return;
	for (size_t i = 0; i < report->finding_count; i++)
		free(report->findings[i].message);
	free(report->findings);
	free(report->canonical);
	free(report->unicode);
	memset(report, 0, sizeof(*report));
}
