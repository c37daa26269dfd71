#include "sink_ldif_fixes.h"

#include <errno.h>
#include <stdio.h>   /* before ldif.h, which uses FILE without it */
#include <lber.h>
#include <ldif.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "staged_file.h"
#include "buffer.h"
#include "error.h"
#include "mapping.h"
#include "normalize.h"
#include "rules.h"
#include "sink.h"

/* A user whose attribute has several values (value-multiple), by ordinal. */
struct several_values {
	uint64_t ordinal;
	char *attribute;
};

struct ldif_fixes {
	struct imaddr_sink base;
	char *path;
	struct imaddr_staged_file file;
	uint64_t records;
	uint64_t without_dn;          /* non-canonical, but not from a directory */
	uint64_t with_error;          /* non-canonical, but with an error to fix first */
	uint64_t mail_host_kept;      /* a mail address whose host would change spelling */
	uint64_t several_kept;        /* the attribute has other values, whose order counts */
	uint64_t typed_kept;          /* an address after its type, as proxyAddresses holds it */
	struct several_values *several;
	size_t several_count, several_cap;
	bool several_unsorted;
	struct imaddr_address address;   /* a mail as read, taken apart again */
	struct imaddr_buf value;
};

static void forget_several(struct ldif_fixes *fixes)
{
	for (size_t i = 0; i < fixes->several_count; i++)
		free(fixes->several[i].attribute);
	fixes->several_count = 0;
	fixes->several_unsorted = false;
}

static enum imaddr_status begin(struct imaddr_sink *sink, const struct imaddr_run_info *info,
				struct imaddr_error *err)
{
	struct ldif_fixes *fixes = (struct ldif_fixes *)sink;
	forget_several(fixes);
	fixes->records = fixes->without_dn = fixes->with_error = fixes->mail_host_kept = 0;
	fixes->several_kept = fixes->typed_kept = 0;
	enum imaddr_status status = imaddr_staged_file_begin(&fixes->file, info, err);
	if (status == IMADDR_OK)
		fprintf(fixes->file.stream,
			"# Directory URI fixes written by imaddr %s: review, then apply with\n"
			"# ldapmodify -c -f FILE (or ldifde -i -f FILE on Windows). Each record\n"
			"# stands alone: -c goes on past one whose value changed since the audit.\n"
			"version: 1\n\n", IMADDR_VERSION);
	return status;
}

/* One "name: value" line as libldap writes LDIF: base64 when it must be. */
static void put_line(FILE *out, const char *name, const char *value)
{
	char *line = ldif_put_wrap(LDIF_PUT_VALUE, name, value, strlen(value), LDIF_LINE_WIDTH);
	if (!line)
		imaddr_fatal("out of memory");
	fputs(line, out);
	ber_memfree(line);
}

/* The value as the directory should hold it: msRTCSIP keeps its "sip:". */
static const char *fixed_value(struct ldif_fixes *fixes, const struct imaddr_user *user)
{
	if (!imaddr_attribute_is_sip_uri(user->uri_attribute))
		return user->directory_uri;
	imaddr_buf_reset(&fixes->value);
	imaddr_buf_appendf(&fixes->value, "sip:%s", user->directory_uri);
	return fixes->value.data;
}

/*
 * A mail attribute is the user's mail address before it is a URI: its
 * spaces, case and odd full stops may be fixed, but a Unicode host written
 * as its A-label would show as xn--... in every address book. So a host
 * read in Unicode stays in Unicode (UTS #46's U-label form: lower case,
 * '.' between labels); any other is the canonical URI's.
 */
static const char *mail_value(struct ldif_fixes *fixes, const struct imaddr_user *user)
{
	const char *as_read = user->directory_uri_as_read;
	const char *at = strrchr(as_read, '@');
	struct imaddr_address *address = &fixes->address;
	if (!at || imaddr_normalize_is_ascii(at + 1, strlen(at + 1)) ||
	    !imaddr_rules_uri(as_read, strlen(as_read), user->uri_attribute, false, address, NULL))
		return user->directory_uri;
	imaddr_rules_address_finish(address);
	if (imaddr_normalize_is_ascii(address->domain_unicode.data, address->domain_unicode.len))
		return user->directory_uri;
	return address->unicode.data;
}

static int by_ordinal(const void *a, const void *b)
{
	uint64_t x = ((const struct several_values *)a)->ordinal;
	uint64_t y = ((const struct several_values *)b)->ordinal;
	return (x > y) - (x < y);
}

/*
 * Whether the user's URI attribute has other values than the one read. A
 * delete and an add would put the fixed value last, and the first value is
 * what imaddr and Unified CM's sync read: another value would become the
 * directory URI. The others are not known here, so no record is written.
 */
static bool has_several_values(struct ldif_fixes *fixes, const struct imaddr_user *user)
{
	struct several_values key = { user->ordinal, NULL };
	if (!fixes->several_count)
		return false;
	if (fixes->several_unsorted) {
		qsort(fixes->several, fixes->several_count, sizeof(*fixes->several), by_ordinal);
		fixes->several_unsorted = false;
	}
	const struct several_values *found = bsearch(&key, fixes->several, fixes->several_count,
						     sizeof(*fixes->several), by_ordinal);
	if (!found)
		return false;
	/* Several attributes of the user may have several values: find its URI's. */
	while (found > fixes->several && found[-1].ordinal == user->ordinal)
		found--;
	for (; found < fixes->several + fixes->several_count &&
	       found->ordinal == user->ordinal; found++) {
		if (!strcasecmp(found->attribute, user->uri_attribute))
			return true;
	}
	return false;
}

/* During the read, in input order: the users whose attributes have several values. */
static enum imaddr_status note_finding(struct imaddr_sink *sink,
				       const struct imaddr_finding *finding,
				       struct imaddr_error *err)
{
	(void)err;
	struct ldif_fixes *fixes = (struct ldif_fixes *)sink;
	if (finding->code != IMADDR_CODE_VALUE_MULTIPLE || !finding->ordinal || !finding->field)
		return IMADDR_OK;
	if (fixes->several_count == fixes->several_cap) {
		fixes->several_cap = fixes->several_cap ? 2 * fixes->several_cap : 16;
		fixes->several = imaddr_xrealloc(fixes->several,
						 fixes->several_cap * sizeof(*fixes->several));
	}
	fixes->several[fixes->several_count++] = (struct several_values){
		finding->ordinal, imaddr_xstrdup(finding->field)
	};
	/* Findings come in input order; should one not, the final pass sorts them. */
	size_t n = fixes->several_count;
	if (n > 1 && fixes->several[n - 2].ordinal > fixes->several[n - 1].ordinal)
		fixes->several_unsorted = true;
	return IMADDR_OK;
}

static enum imaddr_status write_user(struct imaddr_sink *sink, const struct imaddr_user *user,
				     struct imaddr_error *err)
{
	struct ldif_fixes *fixes = (struct ldif_fixes *)sink;
	/* A record for every finding that asks for one, and for nothing else. */
	if (!user->uri_valid || !user->uri_attribute || !user->directory_uri_as_read ||
	    !(user->finding_codes & ((uint64_t)1 << IMADDR_CODE_URI_NOT_CANONICAL)))
		return IMADDR_OK;
	/*
	 * Which of two users keeps a shared address is a person's decision, and
	 * Unified CM takes no user with an error: the error is fixed first, and
	 * the next audit writes the record. Counted, so that the summary says
	 * why the file has fewer records than there are uri-not-canonical.
	 */
	if (user->has_error) {
		fixes->with_error++;
		return IMADDR_OK;
	}
	const char *value = fixed_value(fixes, user);
	if (!strcmp(value, user->directory_uri_as_read))
		return IMADDR_OK;
	if (!user->dn) {
		fixes->without_dn++;
		return IMADDR_OK;
	}
	/*
	 * proxyAddresses needs each value's type (Exchange routes by it): the
	 * fix is the mapping, mail for the directory URI, not the attribute.
	 */
	if (imaddr_rules_uri_has_smtp_type(user->directory_uri_as_read,
					   strlen(user->directory_uri_as_read))) {
		fixes->typed_kept++;
		return IMADDR_OK;
	}
	if (!imaddr_attribute_is_sip_uri(user->uri_attribute)) {
		value = mail_value(fixes, user);
		if (!strcmp(value, user->directory_uri_as_read)) {
			fixes->mail_host_kept++;
			return IMADDR_OK;
		}
	}
	if (has_several_values(fixes, user)) {
		fixes->several_kept++;
		return IMADDR_OK;
	}
	/*
	 * The one value read, deleted and added anew: a replace would also
	 * remove the attribute's other values (an OpenLDAP mail alias), and a
	 * value changed since the audit makes the record fail, not overwrite it.
	 */
	FILE *out = fixes->file.stream;
	/* A failed write's errno, kept for prepare's message. */
	errno = 0;
	/* Clusters may sync from different directories: each record says whose it is. */
	if (user->cluster && !strpbrk(user->cluster, "\r\n"))
		fprintf(out, "# cluster %s\n", user->cluster);
	put_line(out, "dn", user->dn);
	fputs("changetype: modify\n", out);
	put_line(out, "delete", user->uri_attribute);
	put_line(out, user->uri_attribute, user->directory_uri_as_read);
	fputs("-\n", out);
	put_line(out, "add", user->uri_attribute);
	put_line(out, user->uri_attribute, value);
	fputs("-\n\n", out);
	imaddr_staged_file_note_errors(&fixes->file);
	fixes->records++;
	return IMADDR_OK;
}

static enum imaddr_status end(struct imaddr_sink *sink, const struct imaddr_run_totals *totals,
			      struct imaddr_error *err)
{
	struct ldif_fixes *fixes = (struct ldif_fixes *)sink;
	/* Synced under its temporary name; put in place once the report has committed. */
	return imaddr_staged_file_prepare(&fixes->file, err);
}

static enum imaddr_status commit(struct imaddr_sink *sink, struct imaddr_error *err)
{
	struct ldif_fixes *fixes = (struct ldif_fixes *)sink;
	return imaddr_staged_file_commit(&fixes->file, err);
}

static void describe(struct imaddr_sink *sink, struct imaddr_buf *out,
		     struct imaddr_run_totals *told)
{
	const struct ldif_fixes *fixes = (const struct ldif_fixes *)sink;
	imaddr_buf_appendf(out, "LDIF fixes '%s': %llu modify record%s%s\n", fixes->path,
			   (unsigned long long)fixes->records, fixes->records == 1 ? "" : "s",
			   !fixes->records && !fixes->without_dn && !fixes->with_error &&
						   !fixes->mail_host_kept && !fixes->several_kept &&
						   !fixes->typed_kept
				   ? " (no directory URI is written otherwise than canonical)" : "");
	if (fixes->without_dn)
		imaddr_buf_appendf(out, "  %llu user%s with a non-canonical directory URI %s no "
				   "DN: the input is not a directory's; fix %s with --bat\n",
				   (unsigned long long)fixes->without_dn,
				   fixes->without_dn == 1 ? "" : "s",
				   fixes->without_dn == 1 ? "has" : "have",
				   fixes->without_dn == 1 ? "it" : "them");
	if (fixes->with_error)
		imaddr_buf_appendf(out, "  %llu user%s with a non-canonical directory URI %s an "
				   "error as well (a duplicate, say): not rewritten until the error "
				   "is fixed; the worklist has %s\n",
				   (unsigned long long)fixes->with_error,
				   fixes->with_error == 1 ? "" : "s",
				   fixes->with_error == 1 ? "has" : "have",
				   fixes->with_error == 1 ? "it" : "them");
	if (fixes->mail_host_kept)
		imaddr_buf_appendf(out, "  %llu %s mail has a host the directory URI spells "
				   "otherwise (a Unicode host as its A-label): not rewritten, as it "
				   "is %s mail address\n",
				   (unsigned long long)fixes->mail_host_kept,
				   fixes->mail_host_kept == 1 ? "user's" : "users'",
				   fixes->mail_host_kept == 1 ? "the user's" : "their");
	if (fixes->several_kept)
		imaddr_buf_appendf(out, "  %llu user%s whose URI attribute has several values: "
				   "not rewritten, as a modify would make another value the first, "
				   "which is the one read; fix %s by hand\n",
				   (unsigned long long)fixes->several_kept,
				   fixes->several_kept == 1 ? "" : "s",
				   fixes->several_kept == 1 ? "it" : "them");
	if (fixes->typed_kept)
		imaddr_buf_appendf(out, "  %llu user%s whose URI attribute holds the address "
				   "after its type ('SMTP:'), as proxyAddresses does: not rewritten, "
				   "as Exchange needs the type; map the directory URI from mail\n",
				   (unsigned long long)fixes->typed_kept,
				   fixes->typed_kept == 1 ? "" : "s");
}

static void fixes_abort(struct imaddr_sink *sink)
{
	struct ldif_fixes *fixes = (struct ldif_fixes *)sink;
	imaddr_staged_file_abort(&fixes->file);
}

static void fixes_free(struct imaddr_sink *sink)
{
	struct ldif_fixes *fixes = (struct ldif_fixes *)sink;
	fixes_abort(sink);
	forget_several(fixes);
	free(fixes->several);
	imaddr_rules_address_release(&fixes->address);
	imaddr_buf_release(&fixes->value);
	imaddr_staged_file_release(&fixes->file);
	free(fixes->path);
	free(fixes);
}

/* Only a user whose checks asked for a record may get one, or be counted without. */
static bool select_user(struct imaddr_sink *sink, const struct imaddr_user *user)
{
	return user->finding_codes & ((uint64_t)1 << IMADDR_CODE_URI_NOT_CANONICAL);
}

/* The users come in a final pass: only then is it known who has a duplicate. */
static const struct imaddr_sink_ops ldif_fixes_ops = {
	.name = "ldif-fixes",
	.flags = IMADDR_SINK_FINAL_PASS,
	.begin = begin,
	.finding = note_finding,
	.user = write_user,
	.select = select_user,
	.end = end,
	.commit = commit,
	.describe = describe,
	.abort = fixes_abort,
	.free = fixes_free,
};

enum imaddr_status imaddr_sink_ldif_fixes_open(const char *path, struct imaddr_sink **out,
					       struct imaddr_error *err)
{
	if (!out)
		return imaddr_error_null(err, __func__, "out");
	*out = NULL;
	if (!path)
		return imaddr_error_null(err, __func__, "path");
	enum imaddr_status status = imaddr_staged_file_check(path, err);
	if (status != IMADDR_OK)
		return status;
	struct ldif_fixes *fixes = imaddr_xcalloc(1, sizeof(*fixes));
	fixes->base.ops = &ldif_fixes_ops;
	fixes->path = imaddr_xstrdup(path);
	imaddr_staged_file_init(&fixes->file, fixes->path, IMADDR_STAGED_FILE_WAIT_MS);
	imaddr_buf_init(&fixes->value, 0);
	imaddr_rules_address_init(&fixes->address);
	*out = &fixes->base;
	return IMADDR_OK;
}
