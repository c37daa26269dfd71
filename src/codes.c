#include "codes.h"

#include <string.h>
#include <strings.h>

static const struct code_entry {
	const char *name;
	enum imaddr_severity severity;
	const char *summary;
} codes[IMADDR_CODE_COUNT] = {
	[IMADDR_CODE_USERID_MISSING] = { "userid-missing", IMADDR_SEVERITY_ERROR,
		"the user has no user ID" },
	[IMADDR_CODE_USERID_INVALID] = { "userid-invalid", IMADDR_SEVERITY_ERROR,
		"the user ID has control characters or invalid UTF-8, or is too long" },
	[IMADDR_CODE_USERID_DUPLICATE] = { "userid-duplicate", IMADDR_SEVERITY_ERROR,
		"another user has the same user ID, ignoring case and width" },
	[IMADDR_CODE_URI_MISSING] = { "uri-missing", IMADDR_SEVERITY_ERROR,
		"the directory URI scheme needs a directory URI and the user has none" },
	[IMADDR_CODE_URI_INVALID] = { "uri-invalid", IMADDR_SEVERITY_ERROR,
		"the directory URI breaks Unified CM's directory URI rules" },
	[IMADDR_CODE_URI_DUPLICATE] = { "uri-duplicate", IMADDR_SEVERITY_ERROR,
		"another user has the same directory URI, ignoring case" },
	[IMADDR_CODE_MAIL_DUPLICATE] = { "mail-duplicate", IMADDR_SEVERITY_ERROR,
		"another user has the same mail address; LDAP sync skips such users" },
	[IMADDR_CODE_DOMAIN_INVALID] = { "domain-invalid", IMADDR_SEVERITY_ERROR,
		"the domain fails IDNA (UTS #46) or IM and Presence's domain rules" },
	[IMADDR_CODE_IM_ADDRESS_DUPLICATE] = { "im-address-duplicate", IMADDR_SEVERITY_ERROR,
		"another user would get the same IM address" },
	[IMADDR_CODE_IM_ADDRESS_INVALID] = { "im-address-invalid", IMADDR_SEVERITY_ERROR,
		"the IM address cannot be carried as an XMPP address" },
	[IMADDR_CODE_RECORD_MALFORMED] = { "record-malformed", IMADDR_SEVERITY_ERROR,
		"the input record cannot be read as it stands" },
	[IMADDR_CODE_USERID_IS_ADDRESS] = { "userid-is-address", IMADDR_SEVERITY_WARNING,
		"the user ID is an e-mail address, so the IM address has two @" },
	[IMADDR_CODE_USERID_NOT_CANONICAL] = { "userid-not-canonical", IMADDR_SEVERITY_WARNING,
		"the user ID has surrounding white space or is not in NFC" },
	[IMADDR_CODE_URI_NOT_CANONICAL] = { "uri-not-canonical", IMADDR_SEVERITY_WARNING,
		"the directory URI is valid but not written in canonical form" },
	[IMADDR_CODE_LASTNAME_MISSING] = { "lastname-missing", IMADDR_SEVERITY_WARNING,
		"the user has no last name; LDAP sync and BAT inserts need one" },
	[IMADDR_CODE_IM_ADDRESS_NEEDS_ESCAPING] = { "im-address-needs-escaping",
		IMADDR_SEVERITY_WARNING,
		"the IM address local part must travel XEP-0106-escaped" },
	[IMADDR_CODE_JABBER_UNSUPPORTED_CHAR] = { "jabber-unsupported-char",
		IMADDR_SEVERITY_WARNING,
		"the IM address local part has characters Jabber clients do not support" },
	[IMADDR_CODE_DOMAIN_NOT_CONFIGURED] = { "domain-not-configured", IMADDR_SEVERITY_WARNING,
		"the IM address domain is not one of the configured IM domains" },
	[IMADDR_CODE_TOO_MANY_DOMAINS] = { "too-many-domains", IMADDR_SEVERITY_WARNING,
		"more IM domains than Cisco recommends (75)" },
	[IMADDR_CODE_VALUE_MULTIPLE] = { "value-multiple", IMADDR_SEVERITY_WARNING,
		"a multi-valued attribute: the first value is used, the others ignored" },
	[IMADDR_CODE_LDAP_REFERENCE] = { "ldap-reference", IMADDR_SEVERITY_INFO,
		"the server returned referrals or continuation references, not followed" },
	[IMADDR_CODE_MAIL_INVALID] = { "mail-invalid", IMADDR_SEVERITY_ERROR,
		"the mail address has a control character" },
	[IMADDR_CODE_MAIL_NOT_CANONICAL] = { "mail-not-canonical", IMADDR_SEVERITY_WARNING,
		"the mail address has surrounding white space" },
	[IMADDR_CODE_MAIL_NOT_DOT_ATOM] = { "mail-not-dot-atom", IMADDR_SEVERITY_WARNING,
		"the mail local part is not an RFC 5321 dot-atom; mail and Webex reject it" },
	[IMADDR_CODE_EXPORT_LOSSY] = { "export-lossy", IMADDR_SEVERITY_WARNING,
		"a value the export damaged ('?' for letters, a type name for a list, Excel's 1.2E+11); kept out of BAT" },
	[IMADDR_CODE_IM_ADDRESS_CHANGES] = { "im-address-changes", IMADDR_SEVERITY_INFO,
		"the user's IM address changes with the new scheme or default domain" },
	[IMADDR_CODE_WAIVER_EXPIRED] = { "waiver-expired", IMADDR_SEVERITY_WARNING,
		"a waiver is past its expiry date: the findings it matches count again" },
	[IMADDR_CODE_WAIVER_UNUSED] = { "waiver-unused", IMADDR_SEVERITY_WARNING,
		"a waiver matched no finding: its problem is gone, or it is written wrong" },
	[IMADDR_CODE_CONFUSABLE] = { "confusable", IMADDR_SEVERITY_WARNING,
		"another user's user ID or IM address looks the same (UTS #39 skeleton)" },
	[IMADDR_CODE_MIXED_SCRIPT] = { "mixed-script", IMADDR_SEVERITY_WARNING,
		"a user ID, user part or domain label mixes scripts, as look-alikes do" },
	[IMADDR_CODE_INVISIBLE_CHAR] = { "invisible-char", IMADDR_SEVERITY_ERROR,
		"an invisible character, bidi control or byte order mark inside a value" },
	[IMADDR_CODE_IDNA_DEVIATION] = { "idna-deviation", IMADDR_SEVERITY_WARNING,
		"the domain has ß, ς, ZWJ or ZWNJ: older IDNA clients reach another domain" },
	[IMADDR_CODE_CSV_FORMULA] = { "csv-formula", IMADDR_SEVERITY_WARNING,
		"a BAT value starts with = + - @, tab or CR (a formula); kept out of BAT" },
};

const char *imaddr_code_name(enum imaddr_code code)
{
	return (unsigned)code < IMADDR_CODE_COUNT ? codes[code].name : "unknown";
}

enum imaddr_severity imaddr_code_severity(enum imaddr_code code)
{
	return (unsigned)code < IMADDR_CODE_COUNT ? codes[code].severity
						    : IMADDR_SEVERITY_ERROR;
}

const char *imaddr_code_summary(enum imaddr_code code)
{
	return (unsigned)code < IMADDR_CODE_COUNT ? codes[code].summary : "";
}

bool imaddr_code_parse(const char *name, enum imaddr_code *out)
{
	for (int code = 0; code < IMADDR_CODE_COUNT; code++) {
		if (!strcasecmp(codes[code].name, name)) {
			*out = (enum imaddr_code)code;
			return true;
		}
	}
	return false;
}

static const char *const severity_names[] = { "info", "warning", "error" };

const char *imaddr_severity_name(enum imaddr_severity severity)
{
	return (unsigned)severity < 3 ? severity_names[severity] : "unknown";
}

bool imaddr_severity_parse(const char *name, enum imaddr_severity *out)
{
	for (int severity = 0; severity < 3; severity++) {
		if (!strcasecmp(severity_names[severity], name)) {
			*out = (enum imaddr_severity)severity;
			return true;
		}
	}
	return false;
}

uint64_t imaddr_codes_describe_errors(const uint64_t by_code[IMADDR_CODE_COUNT],
				      struct imaddr_buf *out)
{
	uint64_t errors = 0;
	for (int code = 0; code < IMADDR_CODE_COUNT; code++) {
		if (!by_code[code] || codes[code].severity != IMADDR_SEVERITY_ERROR)
			continue;
		imaddr_buf_appendf(out, "%s%s %llu", errors ? ", " : "", codes[code].name,
				   (unsigned long long)by_code[code]);
		errors += by_code[code];
	}
	return errors;
}

uint64_t imaddr_codes_describe_waived_errors(const uint64_t waived_by_code[IMADDR_CODE_COUNT],
					     struct imaddr_buf *out)
{
	struct imaddr_buf codes_named;
	imaddr_buf_init(&codes_named, 0);
	uint64_t errors = imaddr_codes_describe_errors(waived_by_code, &codes_named);
	/* A waiver accepts a problem in imaddr's reports, not in IM and Presence. */
	if (errors)
		imaddr_buf_appendf(out, "%llu waived error%s (%s): IM and Presence knows no "
				   "waivers; make sure the change can live with %s",
				   (unsigned long long)errors, errors == 1 ? "" : "s",
				   codes_named.data, errors == 1 ? "it" : "each");
	imaddr_buf_release(&codes_named);
	return errors;
}
