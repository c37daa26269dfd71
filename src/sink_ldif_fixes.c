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

static enum imaddr_status write_user(struct imaddr_sink *sink, const struct imaddr_user *user,
				     struct imaddr_error *err)
{
	struct ldif_fixes *fixes = (struct ldif_fixes *)sink;
	if (user->has_error || !user->uri_valid || !user->uri_attribute ||
	    !user->directory_uri_as_read)
		return IMADDR_OK;
	const char *value = fixed_value(fixes, user);
	if (!strcmp(value, user->directory_uri_as_read))
		return IMADDR_OK;
	if (!user->dn) {
		fixes->without_dn++;
		return IMADDR_OK;
	}
	FILE *out = fixes->file.stream;
	put_line(out, "dn", user->dn);
	fputs("changetype: modify\n", out);
	put_line(out, "replace", user->uri_attribute);
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

static void describe(struct imaddr_sink *sink, struct imaddr_buf *out)
{
	const struct ldif_fixes *fixes = (const struct ldif_fixes *)sink;
	imaddr_buf_appendf(out, "LDIF fixes '%s': %llu modify record%s\n", fixes->path,
			   (unsigned long long)fixes->records, fixes->records == 1 ? "" : "s");
	if (fixes->without_dn)
		imaddr_buf_appendf(out, "  %llu users with a non-canonical directory URI have no "
				   "DN: the input is not a directory's; fix them with --bat\n",
				   (unsigned long long)fixes->without_dn);
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

/* The users come in a final pass: only then is it known who has a duplicate. */
static const struct imaddr_sink_ops ldif_fixes_ops = {
	.name = "ldif-fixes",
	.flags = IMADDR_SINK_FINAL_PASS,
	.begin = begin,
	.user = write_user,
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
