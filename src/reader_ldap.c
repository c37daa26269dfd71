#include "reader_ldap.h"

#include <ctype.h>
#include <errno.h>
#include <lber.h>
#include <ldap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buffer.h"
#include "ldap_entry.h"
#include "ldap_names.h"
#include "ldap_session.h"
#include "mapping.h"
#include "error.h"

struct ldap_reader {
	struct imaddr_reader base;
	struct imaddr_ldap_options options;  /* strings borrowed from the caller */
	const char *filter;                  /* the options' or the type's default */
	char sasl_mech[16];                  /* the options' in capitals */
	const char *search_base;             /* the options', ldap.conf's BASE or "" */
	char *default_base;                  /* ldap.conf's BASE, when the options have none */
	struct imaddr_ldap_session session;
	char **attributes;                   /* requested; names borrowed from the mapping */
	struct imaddr_mapping mapping;       /* the request's, aliases made primary names */
	struct imaddr_ldap_names names;      /* those primary names */

	/* The entry being read: attributes point into its BER, freed after it. */
	struct imaddr_buf dn;
	struct imaddr_ldap_attribute *entry;
	BerVarray *entry_values;
	size_t entry_count;
	size_t entry_cap;
	struct imaddr_record record;

	uint64_t entries;
	uint64_t references;
	char *first_reference;

	struct timespec started;
	struct timespec last_message;
	struct timespec last_progress;
	uint64_t pages;                      /* pages whose result has come */
	bool paging_refused;                 /* the first page's answer: no paged results */
	bool unpaged;                        /* so the search asks for everything at once */
};

/* ------------------------------------------------------------------------ */
/* Options.                                                                  */

void imaddr_ldap_options_init(struct imaddr_ldap_options *options)
{
	/* Nothing to set up: imaddr_ldap_reader_open refuses the NULL that follows. */
	if (!options)
		return;
	memset(options, 0, sizeof(*options));
	/* As ldapsearch: the configured base unless one is given, named in the label. */
	options->base = imaddr_ldap_configured_base();
	options->scope = IMADDR_LDAP_SCOPE_SUB;
	options->directory_type = IMADDR_DIRECTORY_AD;
}

const char *imaddr_directory_default_filter(enum imaddr_directory_type type)
{
	switch (type) {
	case IMADDR_DIRECTORY_AD:
		return "(&(objectclass=user)(!(objectclass=Computer))"
		       "(!(UserAccountControl:1.2.840.113556.1.4.803:=2)))";
	case IMADDR_DIRECTORY_AD_LDS:
		return "(&(objectclass=user)(!(objectclass=Computer))"
		       "(!(msDS-UserAccountDisabled=TRUE)))";
	case IMADDR_DIRECTORY_OPENLDAP:
		return "(objectclass=inetOrgPerson)";
	}
	/* Not "(objectclass=*)": a caller's stray value must not select every entry. */
	return NULL;
}

const char *imaddr_directory_type_name(enum imaddr_directory_type type)
{
	switch (type) {
	case IMADDR_DIRECTORY_AD: return "ad";
	case IMADDR_DIRECTORY_AD_LDS: return "ad-lds";
	case IMADDR_DIRECTORY_OPENLDAP: return "openldap";
	}
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Progress, for the caller to show.                                         */

static double seconds_between(const struct timespec *from, const struct timespec *to)
{
	return (double)(to->tv_sec - from->tv_sec) + (double)(to->tv_nsec - from->tv_nsec) / 1e9;
}

/* The caller hears at most every IMADDR_LDAP_PROGRESS_MS, and once when done. */
static void report_progress(struct ldap_reader *reader, bool done)
{
	struct timespec now;
	if (!reader->options.progress)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!done &&
	    seconds_between(&reader->last_progress, &now) * 1000 < IMADDR_LDAP_PROGRESS_MS)
		return;
	reader->last_progress = now;
	struct imaddr_ldap_progress progress = {
		.entries = reader->entries,
		.pages = reader->pages,
		.elapsed_seconds = seconds_between(&reader->started, &now),
		.done = done,
	};
	reader->options.progress(reader->options.progress_context, &progress);
}

/* ------------------------------------------------------------------------ */
/* The paged search.                                                         */

/* Every name of every role that can be an LDAP attribute, once. */
static void collect_attributes(struct ldap_reader *reader, const struct imaddr_mapping *mapping)
{
	size_t count = 0;
	reader->attributes = imaddr_xcalloc(IMADDR_ROLE_COUNT * IMADDR_MAPPING_MAX_NAMES + 2,
					    sizeof(*reader->attributes));
	for (int role = 0; role < IMADDR_ROLE_COUNT; role++) {
		for (const char *const *name = mapping->names[role]; *name; name++) {
			bool seen = !imaddr_ldap_entry_attribute_name_valid(*name);
			for (size_t i = 0; !seen && i < count; i++)
				seen = !strcasecmp(reader->attributes[i], *name);
			if (!seen)
				reader->attributes[count++] = (char *)*name;
		}
	}
	/* "1.1" asks for no attributes at all (RFC 4511): the DN alone. */
	if (!count)
		reader->attributes[count++] = (char *)LDAP_NO_ATTRS;
}

/* A required role that no LDAP attribute can hold cannot be read at all. */
static enum imaddr_status check_required_roles(struct ldap_reader *reader,
					       const struct imaddr_reader_request *request,
					       struct imaddr_error *err)
{
	for (int role = 0; role < IMADDR_ROLE_COUNT; role++) {
		if (!(request->required_roles & (1u << role)) ||
		    imaddr_ldap_entry_fallback_name(request->mapping, role))
			continue;
		char names[256];
		imaddr_mapping_describe(request->mapping, role, names, sizeof(names));
		return imaddr_error_set(err, IMADDR_ERR_INPUT,
			"%s: the %s cannot come from LDAP: %s cannot be an LDAP attribute name",
			reader->options.uri, imaddr_role_name(role), names);
	}
	return IMADDR_OK;
}

static void release_entry(struct ldap_reader *reader)
{
	for (size_t i = 0; i < reader->entry_count; i++)
		ber_memfree(reader->entry_values[i]);
	reader->entry_count = 0;
}

static enum imaddr_status read_entry(struct ldap_reader *reader, LDAPMessage *message,
				     const struct imaddr_reader_request *request,
				     struct imaddr_error *err)
{
	BerElement *ber = NULL;
	struct berval dn, name;
	BerVarray values = NULL;
	enum imaddr_status status;

	int rc = ldap_get_dn_ber(reader->session.ld, message, &ber, &dn);
	if (rc != LDAP_SUCCESS) {
		status = imaddr_ldap_session_failure(&reader->session, err, rc, NULL,
				      "cannot decode entry %llu of the search",
				      (unsigned long long)reader->entries + 1);
		goto out;
	}
	imaddr_buf_reset(&reader->dn);
	imaddr_buf_append(&reader->dn, dn.bv_val, dn.bv_len);
	while ((rc = ldap_get_attribute_ber(reader->session.ld, message, ber, &name, &values)) ==
		       LDAP_SUCCESS && name.bv_val) {
		if (reader->entry_count == reader->entry_cap) {
			reader->entry_cap = reader->entry_cap ? reader->entry_cap * 2 : 8;
			reader->entry = imaddr_xrealloc(reader->entry,
				reader->entry_cap * sizeof(*reader->entry));
			reader->entry_values = imaddr_xrealloc(reader->entry_values,
				reader->entry_cap * sizeof(*reader->entry_values));
		}
		struct imaddr_ldap_attribute *attribute = &reader->entry[reader->entry_count];
		reader->entry_values[reader->entry_count++] = values;
		attribute->name = name.bv_val;
		attribute->name_len = name.bv_len;
		attribute->value = NULL;
		attribute->value_len = 0;
		attribute->value_count = 0;
		for (size_t i = 0; values && values[i].bv_val; i++)
			attribute->value_count++;
		if (attribute->value_count) {
			attribute->value = values[0].bv_val;
			attribute->value_len = values[0].bv_len;
		}
		values = NULL;
	}
	if (rc != LDAP_SUCCESS) {
		status = imaddr_ldap_session_failure(&reader->session, err, rc, NULL, "cannot decode the entry '%s'",
				      reader->dn.data);
		goto out;
	}

	struct imaddr_record *record = &reader->record;
	imaddr_record_reset(record, 0);
	imaddr_ldap_entry_fill(record, &reader->mapping, reader->entry, reader->entry_count);
	record->dn = reader->dn.len ? reader->dn.data : NULL;
	reader->entries++;
	status = request->record(request->context, record, err);
out:
	ber_memfree(values);
	release_entry(reader);
	if (ber)
		ber_free(ber, 0);
	return status;
}

static void count_references(struct ldap_reader *reader, char **urls, bool one_per_url)
{
	size_t count = 0;
	for (size_t i = 0; urls && urls[i]; i++)
		count++;
	if (!count)
		return;
	reader->references += one_per_url ? count : 1;
	if (!reader->first_reference)
		reader->first_reference = imaddr_xstrdup(urls[0]);
}

static enum imaddr_status read_reference(struct ldap_reader *reader, LDAPMessage *message,
					 struct imaddr_error *err)
{
	char **urls = NULL;
	int rc = ldap_parse_reference(reader->session.ld, message, &urls, NULL, 0);
	if (rc != LDAP_SUCCESS)
		return imaddr_ldap_session_failure(&reader->session, err, rc, NULL, "cannot decode a search reference");
	count_references(reader, urls, false);
	ber_memvfree((void **)urls);
	return IMADDR_OK;
}

const char *imaddr_ldap_scope_name(enum imaddr_ldap_scope scope)
{
	switch (scope) {
	case IMADDR_LDAP_SCOPE_ONE: return "one";
	case IMADDR_LDAP_SCOPE_BASE: return "base";
	case IMADDR_LDAP_SCOPE_CHILDREN: return "children";
	default: return "sub";
	}
}

static int ldap_scope(enum imaddr_ldap_scope scope)
{
	switch (scope) {
	case IMADDR_LDAP_SCOPE_ONE: return LDAP_SCOPE_ONELEVEL;
	case IMADDR_LDAP_SCOPE_BASE: return LDAP_SCOPE_BASE;
	case IMADDR_LDAP_SCOPE_CHILDREN: return LDAP_SCOPE_CHILDREN;
	default: return LDAP_SCOPE_SUBTREE;
	}
}

/*
 * The result that ends one page: its status, and the cookie that asks for
 * the next page (empty after the last one). `cookie` is replaced.
 */
static enum imaddr_status read_result(struct ldap_reader *reader, LDAPMessage *message,
				      struct berval *cookie, struct imaddr_error *err)
{
	int code = LDAP_SUCCESS;
	char *diagnostic = NULL, **referrals = NULL;
	LDAPControl **controls = NULL;
	enum imaddr_status status = IMADDR_OK;

	ber_memfree(cookie->bv_val);
	cookie->bv_val = NULL;
	cookie->bv_len = 0;
	int rc = ldap_parse_result(reader->session.ld, message, &code, NULL, &diagnostic, &referrals,
				   &controls, 0);
	if (rc != LDAP_SUCCESS) {
		status = imaddr_ldap_session_failure(&reader->session, err, rc, NULL, "cannot decode the search result");
		goto out;
	}
	if (code == LDAP_REFERRAL) {
		/*
		 * The base itself is on another server: nothing of it is here, and
		 * a run of 0 users would pass for an empty directory.
		 */
		status = imaddr_error_set(err, IMADDR_ERR_LDAP,
					  "%s: search base '%s' is on another server (a referral to "
					  "'%s', not followed): give a --base this server holds",
					  reader->options.uri, reader->search_base,
					  referrals && referrals[0] ? referrals[0] : "?");
		goto out;
	}
	/*
	 * A server may refuse paged results outright (OpenLDAP's
	 * size.prtotal=disabled): before any entry came, ask once without.
	 */
	if (code == LDAP_ADMINLIMIT_EXCEEDED && !reader->unpaged && reader->pages == 1 &&
	    !reader->entries && !reader->references) {
		reader->paging_refused = true;
		goto out;
	}
	if (code == LDAP_SIZELIMIT_EXCEEDED || code == LDAP_TIMELIMIT_EXCEEDED ||
	    code == LDAP_ADMINLIMIT_EXCEEDED) {
		status = imaddr_ldap_session_failure(&reader->session, err, code, diagnostic,
				      "search of '%s' stopped after %llu entries",
				      reader->search_base, (unsigned long long)reader->entries);
		goto out;
	}
	if (code != LDAP_SUCCESS) {
		status = imaddr_ldap_session_failure(&reader->session, err, code, diagnostic,
				      "search of '%s' (scope %s, filter '%s') failed",
				      reader->search_base, imaddr_ldap_scope_name(reader->options.scope),
				      reader->filter);
		goto out;
	}
	LDAPControl *page = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, controls, NULL);
	if (page) {
		ber_int_t estimate;
		rc = ldap_parse_pageresponse_control(reader->session.ld, page, &estimate, cookie);
		if (rc != LDAP_SUCCESS)
			status = imaddr_ldap_session_failure(&reader->session, err, rc, NULL,
					      "cannot decode the paged results control");
	}
	/* No control: the server does not page, and this was everything. */
out:
	ldap_memfree(diagnostic);
	ber_memvfree((void **)referrals);
	ldap_controls_free(controls);
	return status;
}

/* Waits for the next message of the page, reporting progress meanwhile. */
static enum imaddr_status next_message(struct ldap_reader *reader, int msgid,
				       LDAPMessage **message, struct imaddr_error *err)
{
	const int timeout = reader->options.timeout_seconds;
	for (;;) {
		struct timeval wait_time = { .tv_usec = IMADDR_LDAP_PROGRESS_MS * 1000 };
		struct timespec now;
		errno = 0;
		int type = ldap_result(reader->session.ld, msgid, LDAP_MSG_ONE, &wait_time, message);
		if (type > 0) {
			clock_gettime(CLOCK_MONOTONIC, &reader->last_message);
			return IMADDR_OK;
		}
		if (type < 0) {
			/* Without LDAP_OPT_RESTART a caught signal (SIGINT) ends the wait. */
			if (errno == EINTR)
				return imaddr_error_set(err, IMADDR_ERR_INTERRUPTED,
							"%s: interrupted", reader->options.uri);
			int rc = LDAP_SERVER_DOWN;
			ldap_get_option(reader->session.ld, LDAP_OPT_RESULT_CODE, &rc);
			return imaddr_ldap_session_failure(&reader->session, err, rc, NULL,
					    "connection lost during the search of '%s' after "
					    "%llu entries", reader->search_base,
					    (unsigned long long)reader->entries);
		}
		report_progress(reader, false);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (timeout > 0 && seconds_between(&reader->last_message, &now) >= timeout)
			return imaddr_error_set(err, IMADDR_ERR_LDAP,
				"%s: search of '%s' timed out: no answer for %d second%s, "
				"after %llu entries", reader->options.uri, reader->search_base,
				timeout, timeout == 1 ? "" : "s",
				(unsigned long long)reader->entries);
	}
}

/* One page: sends the request and reads every message up to its result. */
static enum imaddr_status read_page(struct ldap_reader *reader,
				    const struct imaddr_reader_request *request,
				    struct berval *cookie, struct imaddr_error *err)
{
	const struct imaddr_ldap_options *options = &reader->options;
	LDAPControl *page = NULL;
	LDAPMessage *message = NULL;
	enum imaddr_status status = IMADDR_OK;
	int msgid = -1;
	int page_size = options->page_size > 0 ? options->page_size
					       : IMADDR_LDAP_PAGE_SIZE_DEFAULT;

	/* Not critical: a server without paging sends everything in one go. */
	int rc = reader->unpaged ? LDAP_SUCCESS
				 : ldap_create_page_control(reader->session.ld, page_size, cookie,
							    0, &page);
	if (rc != LDAP_SUCCESS)
		return imaddr_ldap_session_failure(&reader->session, err, rc, NULL, "cannot make the paged results control");
	LDAPControl *controls[] = { page, NULL };
	struct timeval time_limit = { .tv_sec = options->timeout_seconds };
	rc = ldap_search_ext(reader->session.ld, reader->search_base, ldap_scope(options->scope),
			     reader->filter, reader->attributes, 0, controls, NULL,
			     options->timeout_seconds > 0 ? &time_limit : NULL, 0, &msgid);
	ldap_control_free(page);
	if (rc == LDAP_FILTER_ERROR)
		return imaddr_error_set(err, IMADDR_ERR_LDAP, "%s: invalid filter '%s'",
					options->uri, reader->filter);
	if (rc != LDAP_SUCCESS)
		return imaddr_ldap_session_failure(&reader->session, err, rc, NULL, "search of '%s' failed",
				    reader->search_base);
	clock_gettime(CLOCK_MONOTONIC, &reader->last_message);
	for (;;) {
		status = next_message(reader, msgid, &message, err);
		if (status != IMADDR_OK)
			break;
		switch (ldap_msgtype(message)) {
		case LDAP_RES_SEARCH_ENTRY:
			status = read_entry(reader, message, request, err);
			report_progress(reader, false);
			break;
		case LDAP_RES_SEARCH_REFERENCE:
			status = read_reference(reader, message, err);
			break;
		case LDAP_RES_SEARCH_RESULT:
			reader->pages++;
			status = read_result(reader, message, cookie, err);
			ldap_msgfree(message);
			return status;
		default:
			break;   /* intermediate responses mean nothing here */
		}
		ldap_msgfree(message);
		message = NULL;
		if (status != IMADDR_OK)
			break;
	}
	/* Stopped in the middle: the server can stop too. */
	if (reader->session.ld && msgid >= 0)
		ldap_abandon_ext(reader->session.ld, msgid, NULL, NULL);
	return status;
}

static enum imaddr_status report_references(struct ldap_reader *reader,
					    const struct imaddr_reader_request *request,
					    struct imaddr_error *err)
{
	char message[IMADDR_ERROR_MAX];
	if (!reader->references)
		return IMADDR_OK;
	snprintf(message, sizeof(message),
		 "%llu referral%s to other servers not followed; the first: '%s'",
		 (unsigned long long)reader->references, reader->references == 1 ? "" : "s",
		 reader->first_reference);
	return request->notice(request->context, IMADDR_CODE_LDAP_REFERENCE, 0, NULL, NULL,
			       reader->first_reference, message, err);
}

/*
 * A server that goes away leaves a socket whose next write raises SIGPIPE,
 * which would end the program without a word. While the reader runs,
 * SIGPIPE is blocked, so the write fails with EPIPE and the run with a
 * message; a SIGPIPE raised meanwhile is then discarded.
 */
struct pipe_guard {
	sigset_t saved;
	bool pending_before;
	bool active;
};

static void block_sigpipe(struct pipe_guard *guard)
{
	sigset_t pipe_only, pending;
	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	guard->active = pthread_sigmask(SIG_BLOCK, &pipe_only, &guard->saved) == 0;
	guard->pending_before = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
}

static void unblock_sigpipe(struct pipe_guard *guard)
{
	sigset_t pipe_only, pending;
	if (!guard->active)
		return;
	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	if (!guard->pending_before && sigismember(&guard->saved, SIGPIPE) != 1 &&
	    sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
		struct timespec no_wait = { 0, 0 };
		sigtimedwait(&pipe_only, NULL, &no_wait);
	}
	pthread_sigmask(SIG_SETMASK, &guard->saved, NULL);
}

static enum imaddr_status run(struct imaddr_reader *base,
			      const struct imaddr_reader_request *request,
			      struct imaddr_error *err)
{
	struct ldap_reader *reader = (struct ldap_reader *)base;
	struct berval cookie = { 0, NULL };
	struct pipe_guard guard;

	reader->entries = reader->references = reader->pages = 0;
	clock_gettime(CLOCK_MONOTONIC, &reader->started);
	reader->last_progress = reader->started;
	enum imaddr_status status = check_required_roles(reader, request, err);
	if (status != IMADDR_OK)
		return status;

	block_sigpipe(&guard);
	status = imaddr_ldap_session_open(&reader->session, err);
	if (status == IMADDR_OK && !reader->options.base) {
		free(reader->default_base);
		reader->default_base = imaddr_xstrdup(reader->session.default_base
							       ? reader->session.default_base : "");
		reader->search_base = reader->default_base;
	}
	reader->base.input.search_base = reader->search_base;
	reader->mapping = *request->mapping;
	imaddr_ldap_names_release(&reader->names);
	if (status == IMADDR_OK)
		status = imaddr_ldap_names_resolve(&reader->session, &reader->mapping,
						   &reader->names, err);
	free(reader->attributes);
	collect_attributes(reader, &reader->mapping);
	reader->paging_refused = reader->unpaged = false;
	while (status == IMADDR_OK) {
		status = read_page(reader, request, &cookie, err);
		/* A server that refuses paging answers one search whole, as ldapsearch asks. */
		if (status == IMADDR_OK && reader->paging_refused && !reader->unpaged) {
			reader->unpaged = true;
			continue;
		}
		if (!cookie.bv_len)
			break;
	}
	report_progress(reader, true);
	reader->base.input.entries = reader->entries;
	ber_memfree(cookie.bv_val);
	imaddr_ldap_session_close(&reader->session);
	unblock_sigpipe(&guard);
	if (status == IMADDR_OK)
		status = report_references(reader, request, err);
	return status;
}

bool imaddr_ldap_reader_holds_password(const struct imaddr_reader *base)
{
	return ((const struct ldap_reader *)base)->session.password != NULL;
}

static enum imaddr_status ldap_no_users(struct imaddr_reader *base, struct imaddr_error *err)
{
	struct ldap_reader *reader = (struct ldap_reader *)base;
	return imaddr_error_set(err, IMADDR_ERR_INPUT,
		"%s: no users: the search of '%s' (scope %s, filter '%s') found no entries%s",
		reader->options.uri, reader->search_base ? reader->search_base : "",
		imaddr_ldap_scope_name(reader->options.scope), reader->filter,
		reader->references ? ", only references to other servers" : "");
}

static void ldap_reader_free(struct imaddr_reader *base)
{
	struct ldap_reader *reader = (struct ldap_reader *)base;
	imaddr_ldap_session_close(&reader->session);
	free(reader->default_base);
	free(reader->attributes);
	imaddr_ldap_names_release(&reader->names);
	free(reader->entry);
	free(reader->entry_values);
	free(reader->first_reference);
	imaddr_buf_release(&reader->dn);
	free(reader);
}

static const struct imaddr_reader_ops ldap_reader_ops = {
	.name = "ldap",
	.run = run,
	.no_users = ldap_no_users,
	.free = ldap_reader_free,
};

enum imaddr_status imaddr_ldap_reader_open(const struct imaddr_ldap_options *options,
					   struct imaddr_reader **out, struct imaddr_error *err)
{
	if (!out)
		return imaddr_error_null(err, __func__, "out");
	*out = NULL;
	if (!options)
		return imaddr_error_null(err, __func__, "options");
	const char *filter = !options->filter ? imaddr_directory_default_filter(options->directory_type)
			     : *options->filter ? options->filter : "(objectclass=*)";
	enum imaddr_status status = imaddr_ldap_session_check_options(options, filter, err);
	if (status != IMADDR_OK)
		return status;
	struct ldap_reader *reader = imaddr_xcalloc(1, sizeof(*reader));
	reader->base.ops = &ldap_reader_ops;
	/* As the CSV and LDIF readers name theirs: the summary's "input: LDAP". */
	reader->base.input.format = "LDAP";
	reader->options = *options;
	reader->filter = filter;
	reader->search_base = options->base;
	/* The summary's search and entries lines, as a file's selection has them. */
	struct imaddr_input_description *input = &reader->base.input;
	input->filter = filter;
	if (!options->filter) {
		input->directory_type = imaddr_directory_type_name(options->directory_type);
		input->directory_type_how = "Unified CM's default filter";
	}
	input->search_scope = imaddr_ldap_scope_name(options->scope);
	if (options->sasl_mech) {
		/* Checked: EXTERNAL or GSSAPI in some case. */
		for (size_t i = 0; options->sasl_mech[i] && i + 1 < sizeof(reader->sasl_mech); i++)
			reader->sasl_mech[i] = (char)toupper((unsigned char)options->sasl_mech[i]);
		reader->options.sasl_mech = reader->sasl_mech;
	}
	imaddr_ldap_session_init(&reader->session, &reader->options);
	imaddr_buf_init(&reader->dn, 0);
	*out = &reader->base;
	return IMADDR_OK;
}
