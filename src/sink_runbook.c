#include "sink_runbook.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "staged_file.h"
#include "buffer.h"
#include "codes.h"
#include "error.h"
#include "sink.h"

struct runbook {
	struct imaddr_sink base;
	char *path;
	const struct imaddr_audit_options *options;
	int64_t started;
	struct imaddr_staged_file file;
};

/* In the order IM and Presence requires: stopped top down, started bottom up. */
static const char *const services[] = {
	"Cisco Sync Agent",
	"Cisco Client Profile Agent",
	"Cisco Presence Engine",
	"Cisco SIP Proxy",
	"Cisco XCP Router",
};
#define SERVICE_COUNT (sizeof(services) / sizeof(services[0]))

static enum imaddr_status begin(struct imaddr_sink *sink, const struct imaddr_run_info *info,
				struct imaddr_error *err)
{
	struct runbook *runbook = (struct runbook *)sink;
	runbook->options = info->options;
	runbook->started = info->started;
	enum imaddr_status status = imaddr_staged_file_begin(&runbook->file, info, err);
	return status;
}

/* The column or attribute the directory URIs were read from, as the summary names it. */
static const char *uri_source_of(const struct imaddr_audit_options *options,
				 const struct imaddr_run_totals *totals)
{
	const char *read = totals->input ? totals->input->role_attribute[IMADDR_ROLE_DIRECTORY_URI]
					 : NULL;
	return read ? read : options->mapping.names[IMADDR_ROLE_DIRECTORY_URI][0];
}

/* The LDAP attribute the sync maps Directory URI to, or NULL when imaddr cannot tell. */
static const char *uri_attribute(const char *source)
{
	/* PowerShell names AD's mail EmailAddress. */
	if (!strcasecmp(source, "mail") || !strcasecmp(source, "EmailAddress"))
		return "mail";
	if (!strcasecmp(source, "msRTCSIP-PrimaryUserAddress"))
		return "msRTCSIP-PrimaryUserAddress";
	return NULL;
}

static void write_scheme(FILE *out, enum imaddr_scheme scheme, const char *default_domain,
			 const char *uri_source)
{
	if (scheme == IMADDR_SCHEME_USERID)
		fprintf(out, "UserID@Default_Domain, default domain %s\n",
			default_domain ? default_domain : "(none)");
	else
		fprintf(out, "Directory URI (directory URI from %s)\n", uri_source);
}

static void write_blockers(FILE *out, const struct imaddr_run_totals *totals)
{
	uint64_t blockers = totals->by_severity[IMADDR_SEVERITY_ERROR];
	fputs("1. Resolve the blockers. ", out);
	if (!blockers) {
		struct imaddr_buf waived;
		imaddr_buf_init(&waived, 0);
		uint64_t errors = imaddr_codes_describe_errors(totals->waived_by_code, &waived);
		if (errors)
			fprintf(out, "This audit found none but %llu waived error%s (%s).\n"
				"   A waiver accepts a problem in imaddr's reports, not in IM and Presence:\n"
				"   make sure the change can live with each of them. Audit a fresh export\n"
				"   again on the day of the change: the directory may have changed since.\n",
				(unsigned long long)errors, errors == 1 ? "" : "s", waived.data);
		else
			fputs("This audit found none. Audit a fresh export again on the day of the\n"
			      "   change: the directory may have changed since.\n", out);
		imaddr_buf_release(&waived);
		return;
	}
	fprintf(out, "This audit found %llu, on %llu user%s:\n", (unsigned long long)blockers,
		(unsigned long long)totals->users_with_error,
		totals->users_with_error == 1 ? "" : "s");
	for (int code = 0; code < IMADDR_CODE_COUNT; code++) {
		if (totals->by_code[code] && imaddr_code_severity(code) == IMADDR_SEVERITY_ERROR)
			fprintf(out, "     %-26s %8llu\n", imaddr_code_name(code),
				(unsigned long long)totals->by_code[code]);
	}
	fputs("   Do not go on before an audit of a fresh export shows zero blockers:\n"
	      "   IM and Presence refuses, or half applies, the change while any user ID,\n"
	      "   directory URI or resulting IM address is duplicate or invalid.\n", out);
}

/* `step` is "5." or "1b."; `before` what the sync and the BAT job must finish before. */
static void write_uri_source(FILE *out, const struct imaddr_audit_options *options,
			     const struct imaddr_run_totals *totals, const char *step,
			     const char *before)
{
	const char *attribute = uri_attribute(uri_source_of(options, totals));
	const char *outputs = totals->outputs ? totals->outputs : "";
	fprintf(out, "%s Give every user the directory URI the target reads:\n"
		     "   - users that LDAP sync owns: in Cisco Unified CM Administration > System >\n"
		     "     LDAP > LDAP Directory, map Directory URI to\n"
		     "     %s,\n", step,
		attribute ? attribute
			  : "the attribute that holds it (mail or msRTCSIP-PrimaryUserAddress)");
	/* The directory's values are fixed in the directory: a sync would undo a BAT import. */
	if (strstr(outputs, "LDIF fixes "))
		fputs("     apply the LDIF fixes this audit wrote to the directory (ldapmodify -c -f,\n"
		      "     see the files below),\n", out);
	fputs("     then run a full sync;\n", out);
	fputs("   - users that are not synchronized: import ", out);
	if (strstr(outputs, "BAT file"))
		fputs("the BAT file this audit wrote\n"
		      "     (see the files below)", out);
	else
		fputs("a BAT file of their URIs\n"
		      "     (imaddr audit --bat)", out);
	fputs(" with Bulk Administration > Users > Update Users >\n"
	      "     Custom File, each cluster's files on that cluster (about 65 users a\n"
	      "     minute).\n", out);
	/* The BAT sink's warning, "1 of these users comes" or "N ... come". */
	if (strstr(outputs, "from a directory (they have a DN)"))
		fputs("     The BAT file also lists users that have a DN: LDAP sync overwrites what\n"
		      "     BAT imports for them, so fix those in the directory instead.\n", out);
	fprintf(out, "   Wait for the sync and the BAT job to finish before %s.\n", before);
}

/*
 * From UserID@Default_Domain to Directory URI the URIs can be set before
 * the window: today's scheme does not read them, and the URIs a user lacks
 * are blockers of step 1 all the same. Hours of BAT jobs then stay out of
 * the window.
 */
static bool uris_before_the_window(const struct imaddr_audit_options *options)
{
	return options->premigration && options->current_scheme == IMADDR_SCHEME_USERID &&
	       options->scheme == IMADDR_SCHEME_DIRECTORY_URI;
}

/*
 * Whether the IM domains may change: a new default domain, or a change of
 * scheme (Directory URI takes the URIs' domains). Without the --current
 * options imaddr does not know, and says what to do in either case.
 */
static bool domains_change(const struct imaddr_audit_options *options,
			   const struct imaddr_run_totals *totals)
{
	if (!options->premigration)
		return true;
	const char *today = options->current_default_domain ? options->current_default_domain
							    : options->default_domain;
	/*
	 * From UserID@Default_Domain the one IM domain today is its default
	 * domain: the target's domains, as this audit counted them, say
	 * whether it stays. From Directory URI imaddr does not know today's.
	 */
	if (options->current_scheme == IMADDR_SCHEME_USERID) {
		if (!today)
			return true;
		for (size_t i = 0; i < totals->domain_count; i++) {
			const struct imaddr_domain_count *domain = &totals->domains[i];
			if (strcasecmp(domain->ascii, today) &&
			    (!domain->unicode || strcasecmp(domain->unicode, today)))
				return true;
		}
		return false;
	}
	return options->current_scheme != options->scheme ||
	       (options->scheme == IMADDR_SCHEME_USERID && today && options->default_domain &&
		strcasecmp(today, options->default_domain));
}

static void write_runbook(struct runbook *runbook, const struct imaddr_run_totals *totals)
{
	const struct imaddr_audit_options *options = runbook->options;
	FILE *out = runbook->file.stream;
	char when[32] = "";
	time_t started = (time_t)runbook->started;
	struct tm utc;
	const char *uri_source = uri_source_of(options, totals);

	if (gmtime_r(&started, &utc))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &utc);
	fprintf(out, "Changing the IM address scheme or default domain of IM and Presence: runbook\n"
		     "Written by imaddr %s on %s from the audit of %s.\n\n",
		IMADDR_VERSION, when, options->input_name ? options->input_name : "the input");
	fputs("Today:  ", out);
	if (options->premigration)
		write_scheme(out, options->current_scheme,
			     options->current_default_domain ? options->current_default_domain
							     : options->default_domain,
			     options->mapping.names[IMADDR_ROLE_CURRENT_URI][0]);
	else
		fputs("not given (run imaddr with --current-scheme and\n"
		      "        --current-default-domain to see each user's change)\n", out);
	fputs("Target: ", out);
	write_scheme(out, options->scheme, options->default_domain, uri_source);
	fprintf(out, "Users:  %llu, with an IM address under the target: %llu\n",
		(unsigned long long)totals->users,
		(unsigned long long)totals->users_with_im_address);
	if (options->premigration)
		fprintf(out, "        IM addresses that change: %llu, lost: %llu, gained: %llu\n",
			(unsigned long long)totals->im_address_changes,
			(unsigned long long)totals->im_address_lost,
			(unsigned long long)totals->im_address_gained);
	fprintf(out, "Verdict: %s\n\n", totals->by_severity[IMADDR_SEVERITY_ERROR] ? "NO-GO" : "GO");

	fputs("The scheme and the default domain are cluster-wide and the same on every\n"
	      "IM and Presence cluster: the change moves every user's IM address at once\n"
	      "and cannot be staged. Plan a maintenance window; users are signed out.\n"
	      "With several clusters, take each step on every cluster before the next,\n"
	      "with the same scheme, default domain and Directory URI mapping on all.\n\n",
	      out);
	write_blockers(out, totals);
	if (uris_before_the_window(options)) {
		fputs("   Today's scheme does not read directory URIs: set them now, outside\n"
		      "   the window, and audit again.\n", out);
		write_uri_source(out, options, totals, "1b.", "you audit again");
	}
	fputs("\nBefore the window, take a DRS backup of every Unified CM and IM and Presence\n"
	      "cluster (Disaster Recovery System > Backup > Manual Backup). In the window:\n\n",
	      out);
	fputs("2. Record the active users of each Presence Redundancy Group (Cisco Unified\n"
	      "   CM Administration > System > Presence Redundancy Groups), then disable\n"
	      "   High Availability on each group and wait two minutes.\n", out);
	/*
	 * Stopping the XCP Router stops every XCP service, and starting it
	 * starts none of them again (Cisco's IM and Presence deployment guide).
	 */
	fputs("3. On every IM and Presence node, note which Cisco XCP services are running\n"
	      "   (Connection Manager, Web Connection Manager, Text Conference Manager,\n"
	      "   Message Archiver, Directory Service, Authentication Service, the SIP and\n"
	      "   XMPP Federation Connection Managers...): stopping Cisco XCP Router stops\n"
	      "   them all, and starting it again starts none of them. Then stop these\n"
	      "   services in this order (Cisco Unified IM and Presence Serviceability >\n"
	      "   Tools > Control Center):\n",
	      out);
	for (size_t i = 0; i < SERVICE_COUNT; i++)
		fprintf(out, "     %c. %s\n", (char)('a' + i), services[i]);
	fputs("4. Set the IM address scheme", out);
	if (options->scheme == IMADDR_SCHEME_USERID)
		fprintf(out, " to UserID@Default_Domain and the default domain\n"
			     "   to %s", options->default_domain ? options->default_domain : "");
	else
		fputs(" to Directory URI", out);
	fputs(" (Cisco Unified CM IM and Presence\n"
	      "   Administration > Presence > Settings > Advanced Configuration).\n", out);
	if (uris_before_the_window(options))
		fputs("5. Nothing to import: the directory URIs were set in step 1b. Check that\n"
		      "   no LDAP sync or BAT job is still running.\n", out);
	else if (options->scheme == IMADDR_SCHEME_DIRECTORY_URI)
		write_uri_source(out, options, totals, "5.", "step 6");
	else
		fputs("5. Nothing to import: the user IDs are the IM addresses' local parts.\n",
		      out);
	fputs("6. Start the services again in this order:\n", out);
	for (size_t i = 0; i < SERVICE_COUNT; i++)
		fprintf(out, "     %c. %s%s\n", (char)('a' + i), services[SERVICE_COUNT - 1 - i],
			!strcmp(services[SERVICE_COUNT - 1 - i], "Cisco Presence Engine")
				? " (on every node)" : "");
	fprintf(out, "     %c. every Cisco XCP service step 3 noted on the node; then check in\n"
		     "        Control Center that each of them is Started.\n",
		(char)('a' + SERVICE_COUNT));
	if (domains_change(options, totals))
		fputs("   The IM domains change: regenerate the cup-xmpp and cup-xmpp-s2s\n"
		      "   certificates (Cisco Unified OS Administration > Security > Certificate\n"
		      "   Management) so that their Subject Alternative Names are the IM domains\n"
		      "   below, have them signed again if a CA signs them, and update the DNS\n"
		      "   SRV records and federation partners that name the old domain.\n", out);
	else
		fputs("   The IM domains stay as they are (below): the cup-xmpp and cup-xmpp-s2s\n"
		      "   certificates need no change.\n", out);
	fputs("7. Re-enable High Availability on each Presence Redundancy Group once its\n"
	      "   active session counts match the ones recorded in step 2.\n", out);
	fputs("8. Audit a fresh export under the new scheme (imaddr audit without the\n"
	      "   --current options): it should find no errors, and the IM domain list\n"
	      "   below should be the Subject Alternative Names of the cup-xmpp-s2s\n"
	      "   certificate.\n", out);
	if (totals->domain_count) {
		fputs("\nIM domains under the target:", out);
		for (size_t i = 0; i < totals->domain_count; i++)
			fprintf(out, "%s%s", i ? ", " : " ", totals->domains[i].ascii);
		fputc('\n', out);
	}
	if (totals->outputs && *totals->outputs)
		fprintf(out, "\nFiles this audit wrote:\n%s", totals->outputs);
}

static enum imaddr_status end(struct imaddr_sink *sink, const struct imaddr_run_totals *totals,
			      struct imaddr_error *err)
{
	struct runbook *runbook = (struct runbook *)sink;
	/* A failed write's errno, kept for prepare's message. */
	errno = 0;
	write_runbook(runbook, totals);
	imaddr_staged_file_note_errors(&runbook->file);
	/* Synced under its temporary name; put in place once the report has committed. */
	return imaddr_staged_file_prepare(&runbook->file, err);
}

static enum imaddr_status commit(struct imaddr_sink *sink, struct imaddr_error *err)
{
	struct runbook *runbook = (struct runbook *)sink;
	return imaddr_staged_file_commit(&runbook->file, err);
}

static void describe(struct imaddr_sink *sink, struct imaddr_buf *out,
		     struct imaddr_run_totals *told)
{
	imaddr_buf_appendf(out, "runbook '%s'\n", ((struct runbook *)sink)->path);
}

static void runbook_abort(struct imaddr_sink *sink)
{
	struct runbook *runbook = (struct runbook *)sink;
	imaddr_staged_file_abort(&runbook->file);
}

static void runbook_free(struct imaddr_sink *sink)
{
	struct runbook *runbook = (struct runbook *)sink;
	runbook_abort(sink);
	imaddr_staged_file_release(&runbook->file);
	free(runbook->path);
	free(runbook);
}

/* Last: it names the files the other outputs wrote. */
static const struct imaddr_sink_ops runbook_ops = {
	.name = "runbook",
	.flags = IMADDR_SINK_LAST,
	.begin = begin,
	.end = end,
	.commit = commit,
	.describe = describe,
	.abort = runbook_abort,
	.free = runbook_free,
};

enum imaddr_status imaddr_sink_runbook_open(const char *path, struct imaddr_sink **out,
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
	struct runbook *runbook = imaddr_xcalloc(1, sizeof(*runbook));
	runbook->base.ops = &runbook_ops;
	runbook->path = imaddr_xstrdup(path);
	imaddr_staged_file_init(&runbook->file, runbook->path, IMADDR_STAGED_FILE_WAIT_MS);
	*out = &runbook->base;
	return IMADDR_OK;
}
