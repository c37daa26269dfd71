/*
 * A run's identity: the label that names an audit profile in the report, so
 * that tonight's run is compared with last night's of the same source
 * (docs/report-schema.md, "Run identity").
 */
#include <stdbool.h>
#include <string.h>

#include "buffer.h"
#include "imaddr.h"

static bool is_separator(char c)
{
	return c == '-' || c == '_' || c == '.' || c == ' ';
}

/*
 * A stamp is a token between separators made of digits, with at most the
 * letters of a time ("T", "Z") among them: 2026, 12, 01T0200Z, 7.
 */
static bool is_stamp(const char *token, size_t len)
{
	bool digit = false;

	for (size_t i = 0; i < len; i++) {
		if (token[i] >= '0' && token[i] <= '9')
			digit = true;
		else if (token[i] != 'T' && token[i] != 'Z')
			return false;
	}
	return digit;
}

char *imaddr_run_label_for_file(const char *path)
{
	const char *name = strrchr(path, '/');
	struct imaddr_buf label;

	name = name && name[1] ? name + 1 : path;
	/* The extension stays: users.csv and users.ldif are two profiles. */
	const char *dot = strrchr(name, '.');
	size_t stem_len = dot && dot != name ? (size_t)(dot - name) : strlen(name);
	imaddr_buf_init(&label, 0);
	for (size_t i = 0; i < stem_len;) {
		size_t start = i;
		/* A token and the separators before it go together. */
		while (i < stem_len && is_separator(name[i]))
			i++;
		size_t token = i;
		while (i < stem_len && !is_separator(name[i]))
			i++;
		if (!is_stamp(name + token, i - token) || token == i)
			imaddr_buf_append(&label, name + start, i - start);
	}
	/* Nothing but a stamp (20261201.csv): the name is the label. */
	if (!label.len)
		imaddr_buf_append(&label, name, stem_len);
	imaddr_buf_append_str(&label, name + stem_len);
	return imaddr_buf_detach(&label);
}

char *imaddr_run_label_for_ldap(const char *uri, const char *base, const char *scope,
				const char *filter)
{
	struct imaddr_buf label;
	size_t len = strlen(uri);

	imaddr_buf_init(&label, 0);
	/* RFC 4516: ldap://host/base?attributes?scope?filter */
	while (len && uri[len - 1] == '/')
		len--;
	imaddr_buf_append(&label, uri, len);
	imaddr_buf_appendf(&label, "/%s??%s?%s", base ? base : "", scope ? scope : "sub",
			   filter ? filter : "");
	return imaddr_buf_detach(&label);
}

bool imaddr_run_changes_any(const struct imaddr_run_changes *changes)
{
	if (!changes || !changes->previous_run_id)
		return false;
	if (changes->users_added || changes->users_removed || changes->im_addresses_changed)
		return true;
	for (int severity = 0; severity < 3; severity++) {
		if (changes->new_by_severity[severity] || changes->resolved_by_severity[severity] ||
		    changes->waived_by_severity[severity])
			return true;
	}
	return false;
}
