/*
 * imaddr audit's settings: the command line (getopt_long, ldapsearch's
 * short options), the configuration file's [profile] sections under it, and
 * the checks that need no input or server, up to the options the library is
 * handed. tool_audit.c runs the audit they describe.
 */
#ifndef IMADDR_TOOL_AUDIT_OPTIONS_H
#define IMADDR_TOOL_AUDIT_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "imaddr.h"
#include "tool.h"

enum option_id {
	OPT_ASK_PASSWORD = 'W', OPT_BASE = 'b', OPT_BIND_DN = 'D', OPT_HELP = 'h',
	OPT_LDAP = 'H', OPT_PASSWORD_FILE = 'y', OPT_QUIET = 'q', OPT_SASL_MECH = 'Y',
	OPT_SCOPE = 's', OPT_SIMPLE = 'x', OPT_STARTTLS = 'Z', OPT_VERSION = 'V',
	OPT_BAT = 256, OPT_BAT_CHUNK, OPT_CA_FILE, OPT_CLUSTER, OPT_CONFIG, OPT_CSV,
	OPT_CURRENT_DEFAULT_DOMAIN, OPT_CURRENT_SCHEME, OPT_CURRENT_URI_ATTR, OPT_DB,
	OPT_DEFAULT_DOMAIN, OPT_DELIMITER, OPT_DIRECTORY_TYPE, OPT_DN_ATTR, OPT_ENCODING,
	OPT_FAIL_ON, OPT_FILTER, OPT_FIRST_NAME_ATTR, OPT_HTML, OPT_IM_DOMAINS, OPT_JSON,
	OPT_JSON_FINDINGS, OPT_LAST_NAME_ATTR, OPT_LDIF, OPT_LDIF_FIXES, OPT_MAIL_ATTR,
	OPT_PAGE_SIZE, OPT_PROFILE, OPT_RUNBOOK, OPT_SCHEME, OPT_TIMEOUT, OPT_URI_ATTR,
	OPT_USERID_ATTR, OPT_WAIT, OPT_WORKLIST, OPT_ALLOW_SHRINK, OPT_FAIL_ON_NEW, OPT_LABEL,
	OPT_MAX_SHRINK, OPT_WAIVERS, OPT_KEEP_RUNS, OPT_SYSLOG, OPT_SYSLOG_FACILITY,
	OPT_NO_USER_CACHE,
	OPT_END
};

/* The LDAP progress line on standard error, redrawn in place. */
struct progress_line {
	const char *uri;
	int width;           /* of the longest line drawn; 0 when none is shown */
};

/* An input as given: CSV, LDIF or the directory server, and its cluster. */
#define MAX_INPUTS 16
struct tool_input {
	int kind;                 /* OPT_CSV, OPT_LDIF or OPT_LDAP */
	const char *name;         /* the file or the server's URI */
	const char *cluster;
};

struct audit_config {
	struct tool_input inputs[MAX_INPUTS];
	size_t input_count;
	const char *cluster;      /* the one the next inputs belong to */
	struct imaddr_audit_options audit;
	struct imaddr_ldap_options ldap;
	struct imaddr_file_options file;
	struct progress_line progress;
	const char *bat;
	const char *db;
	const char *runbook;
	const char *ldif_fixes;
	const char *json;
	const char *worklist;
	const char *html;
	long json_findings;
	long keep_runs;              /* 0: every run kept */
	bool syslog;                 /* a line for the run to syslog */
	int syslog_facility;
	const char *password_file;
	const char *userid_attr;
	const char *uri_attr;
	const char *mail_attr;
	const char *first_name_attr;
	const char *last_name_attr;
	const char *dn_attr;
	const char *current_uri_attr;
	bool current_scheme_given;
	bool directory_type_given;
	bool ask_password;
	uint64_t bat_chunk;
	int wait_ms;                 /* -1: the library's default */
	bool quiet;
	bool fail_never;
	bool fail_new;               /* only findings the previous run did not have */
	enum imaddr_severity fail_on;
	char *configured_uri;            /* ldap.conf's URI, when no input is given */
	struct tool_password *password;  /* main's buffer */
	const char *config_path;         /* --config */
	const char *profile;             /* --profile */
	struct tool_config_file config_file;  /* its settings, which the options borrow */
	bool given[OPT_END];             /* set on the command line */
	bool fail_new_asked;             /* --fail-on new, as asked[] says */
	bool fail_never_asked;           /* --fail-on never, alike */
	/* Set by the command line or by the chosen profile's section: what the
	 * run was asked for, not a default outside any section. */
	bool asked[OPT_END];
	bool decided[OPT_END];           /* set on the command line or by the file */
	bool answered;                   /* --help or --version: printed, nothing to run */
	char *name;                      /* input_name's, which audit.input_name borrows */
	char *label;                     /* derived_label's, which audit.label borrows */
	bool no_user_cache;              /* --no-user-cache */
	char *user_cache;                /* the label's, which audit.user_cache borrows */
};

/**
 * The rows of a BAT chunk: --bat-chunk's, or with several clusters, whose
 * rows go to files apart, as many as they have (UINT64_MAX); 0: one file.
 */
uint64_t tool_audit_bat_chunk(const struct audit_config *config);

/**
 * Fills `config` from the command line and the configuration file and
 * checks it: no password is read, no input or output opened. Returns a
 * TOOL_EXIT_* status, with config->answered after --help or --version.
 */
int tool_audit_options_read(int argc, char **argv, struct audit_config *config,
			    struct tool_password *password);

#endif /* IMADDR_TOOL_AUDIT_OPTIONS_H */
