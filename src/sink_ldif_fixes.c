#include "sink_ldif_fixes.h"

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
#include "sink.h"

struct ldif_fixes {
	struct imaddr_sink base;
	char *path;
	struct imaddr_staged_file file;
	uint64_t records;
	uint64_t without_dn;          /* non-canonical, but not from a directory */
	uint64_t mail_host_kept;      /* a mail address whose host would change spelling */
	struct imaddr_buf value;
};

static enum imaddr_status begin(struct imaddr_sink *sink, const struct imaddr_run_info *info,
				struct imaddr_error *err)
{
	struct ldif_fixes *fixes = (struct ldif_fixes *)sink;
	enum imaddr_status status = imaddr_staged_file_begin(&fixes->file, info, err);
	if (status == IMADDR_OK)
		fprintf(fixes->file.stream,
			"# Directory URI fixes written by imaddr %s: review, then apply with\n"
			"# ldapmodify -f FILE (or ldifde -i -f FILE on Windows).\n"
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

/* What follows the last '@' of an address. */
static const char *host_of(const char *address)
{
	const char *at = strrchr(address, '@');
	return at ? at + 1 : "";
}

static enum imaddr_status write_user(struct imaddr_sink *sink, const struct imaddr_user *user,
				     struct imaddr_error *err)
{
	struct ldif_fixes *fixes = (struct ldif_fixes *)sink;
	/* A record for every finding that asks for one, and for nothing else. */
	if (user->has_error || !user->uri_valid || !user->uri_attribute ||
	    !user->directory_uri_as_read ||
	    !(user->finding_codes & ((uint64_t)1 << IMADDR_CODE_URI_NOT_CANONICAL)))
		return IMADDR_OK;
	const char *value = fixed_value(fixes, user);
	if (!strcmp(value, user->directory_uri_as_read))
		return IMADDR_OK;
	if (!user->dn) {
		fixes->without_dn++;
		return IMADDR_OK;
	}
	/*
	 * A mail attribute is the user's mail address before it is a URI: its
	 * host's case may be fixed, but a Unicode host rewritten as its A-label
	 * would show as xn--... in every address book.
	 */
	if (!imaddr_attribute_is_sip_uri(user->uri_attribute) &&
	    strcasecmp(host_of(value), host_of(user->directory_uri_as_read))) {
		fixes->mail_host_kept++;
		return IMADDR_OK;
	}
	/*
	 * The one value read, deleted and added anew: a replace would also
	 * remove the attribute's other values (an OpenLDAP mail alias), and a
	 * value changed since the audit makes the record fail, not overwrite it.
	 */
	FILE *out = fixes->file.stream;
	put_line(out, "dn", user->dn);
	fputs("changetype: modify\n", out);
	put_line(out, "delete", user->uri_attribute);
	put_line(out, user->uri_attribute, user->directory_uri_as_read);
	fputs("-\n", out);
	put_line(out, "add", user->uri_attribute);
	put_line(out, user->uri_attribute, value);
	fputs("-\n\n", out);
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
			   !fixes->records && !fixes->without_dn && !fixes->mail_host_kept
				   ? " (no directory URI is written otherwise than canonical)" : "");
	if (fixes->without_dn)
		imaddr_buf_appendf(out, "  %llu user%s with a non-canonical directory URI %s no "
				   "DN: the input is not a directory's; fix %s with --bat\n",
				   (unsigned long long)fixes->without_dn,
				   fixes->without_dn == 1 ? "" : "s",
				   fixes->without_dn == 1 ? "has" : "have",
				   fixes->without_dn == 1 ? "it" : "them");
	if (fixes->mail_host_kept)
		imaddr_buf_appendf(out, "  %llu %s mail has a host the directory URI spells "
				   "otherwise (a Unicode host as its A-label): not rewritten, as it "
				   "is %s mail address\n",
				   (unsigned long long)fixes->mail_host_kept,
				   fixes->mail_host_kept == 1 ? "user's" : "users'",
				   fixes->mail_host_kept == 1 ? "the user's" : "their");
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
	imaddr_buf_release(&fixes->value);
	imaddr_staged_file_release(&fixes->file);
	free(fixes->path);
	free(fixes);
}

/* Only a user whose checks asked for a record may get one. */
static bool select_user(struct imaddr_sink *sink, const struct imaddr_user *user)
{
	return !user->has_error &&
	       (user->finding_codes & ((uint64_t)1 << IMADDR_CODE_URI_NOT_CANONICAL));
}

/* The users come in a final pass: only then is it known who has a duplicate. */
static const struct imaddr_sink_ops ldif_fixes_ops = {
	.name = "ldif-fixes",
	.flags = IMADDR_SINK_FINAL_PASS,
	.begin = begin,
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
	enum imaddr_status status = imaddr_staged_file_check(path, err);
	if (status != IMADDR_OK)
		return status;
	struct ldif_fixes *fixes = imaddr_xcalloc(1, sizeof(*fixes));
	fixes->base.ops = &ldif_fixes_ops;
	fixes->path = imaddr_xstrdup(path);
	imaddr_staged_file_init(&fixes->file, fixes->path, IMADDR_STAGED_FILE_WAIT_MS);
	imaddr_buf_init(&fixes->value, 0);
	*out = &fixes->base;
	return IMADDR_OK;
}
