/*
 * imaddr: audit end users' IM addresses for Cisco Unified CM IM and Presence.
 *
 * The library reads end users from CSV, LDIF or LDAP (readers), checks every
 * user ID, directory URI and resulting IM address (the audit), and hands users
 * and findings to outputs: a BAT import CSV, a SQLite report and a text
 * summary. The library never prints and never exits; it may use a second
 * core for parsing and for the report.
 *
 * Memory: the library never returns NULL for lack of memory. Like git's
 * xmalloc, an allocation failure prints "imaddr: out of memory" and aborts.
 * A batch tool cannot do anything useful half way through a run without memory,
 * and every caller is spared a branch that would never be tested. ICU's data
 * missing after imaddr_audit_new() succeeded (a broken installation) is
 * treated alike. Those are the only messages the library prints.
 *
 * Errors: functions that can fail return an enum imaddr_status and, where the
 * caller passes one, fill a caller-owned struct imaddr_error with a message
 * naming the file, line or DN and field. `err` may be NULL: the call works
 * the same, without the message. A NULL where a function needs an object
 * or a path (the audit's functions, the readers' openers,
 * the outputs' openers, the address checks and the imaddr_report_*
 * functions) is refused with IMADDR_ERR_USAGE and a message naming the
 * function and the argument ("imaddr_audit_new: 'options' is NULL"), not a
 * crash; an _init given NULL does nothing. A bad record is not an error of
 * the library: it becomes a finding.
 *
 * Threads: the library keeps a run's state in the objects the caller holds
 * (audit, reader, output, address checker), and sets itself up (ICU, the
 * Unicode tables, SQLite) once, on whichever thread comes first. So:
 *  - Objects of one run on one thread and those of another on another run
 *    at once: two audits on two threads, each with its own options, readers
 *    and outputs, give what each gives alone. Options and the strings they
 *    borrow are only read, and may be shared by audits that run at once.
 *    Likewise an address checker per thread, imaddr_check_address, the
 *    imaddr_report_* functions and the functions on names and codes.
 *  - One object is never used from two threads at once: not an audit, a
 *    reader, an output or a checker, nor a mapping or options being set.
 *    An object may pass from one thread to another between calls.
 *  - Two runs at once share the files they name, not the memory: a BAT
 *    file's and a report's runs take turns (wait_ms); a user cache in use
 *    is left to its run (the other runs without); any other output file,
 *    and standard input, are for one run at a time.
 *  - Process-wide: imaddr_audit_request_stop stops every audit in the
 *    process, and imaddr_set_step_hook is set before any run.
 * An audit runs threads of its own (a file parsed on one, some outputs on
 * others) and joins them before imaddr_audit_run returns; an LDAP reader's
 * progress callback is called on the thread that runs the audit.
 */
#ifndef IMADDR_H
#define IMADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IMADDR_VERSION "0.1.0"

enum imaddr_status {
	IMADDR_OK = 0,
	IMADDR_ERR_USAGE,    /* bad option or configuration */
	IMADDR_ERR_INPUT,    /* the input cannot be read as a whole */
	IMADDR_ERR_IO,       /* reading or writing a file failed */
	IMADDR_ERR_LDAP,     /* the directory server or the connection failed */
	IMADDR_ERR_DB,       /* SQLite refused the report */
	IMADDR_ERR_UNICODE,  /* ICU could not be initialised */
	IMADDR_ERR_INTERRUPTED
};

/** A short description of a status, e.g. "input error". Never NULL. */
const char *imaddr_strerror(enum imaddr_status status);

#define IMADDR_ERROR_MAX 1024

/** Caller-owned error details: filled by a failing call, untouched otherwise. */
struct imaddr_error {
	char message[IMADDR_ERROR_MAX];
};

enum imaddr_severity {
	IMADDR_SEVERITY_INFO = 0,
	IMADDR_SEVERITY_WARNING,
	IMADDR_SEVERITY_ERROR
};

/** "info", "warning" or "error" ("unknown" for a value that is none). */
const char *imaddr_severity_name(enum imaddr_severity severity);
/** Parses "info", "warning" or "error"; returns false for anything else. */
bool imaddr_severity_parse(const char *name, enum imaddr_severity *out);

/*
 * Finding codes. The names ("userid-duplicate") are stable: scripts and the
 * report rely on them. docs/findings.md explains each one.
 */
enum imaddr_code {
	IMADDR_CODE_USERID_MISSING,
	IMADDR_CODE_USERID_INVALID,
	IMADDR_CODE_USERID_DUPLICATE,
	IMADDR_CODE_URI_MISSING,
	IMADDR_CODE_URI_INVALID,
	IMADDR_CODE_URI_DUPLICATE,
	IMADDR_CODE_MAIL_DUPLICATE,
	IMADDR_CODE_DOMAIN_INVALID,
	IMADDR_CODE_IM_ADDRESS_DUPLICATE,
	IMADDR_CODE_IM_ADDRESS_INVALID,
	IMADDR_CODE_RECORD_MALFORMED,
	IMADDR_CODE_USERID_IS_ADDRESS,
	IMADDR_CODE_USERID_NOT_CANONICAL,
	IMADDR_CODE_URI_NOT_CANONICAL,
	IMADDR_CODE_LASTNAME_MISSING,
	IMADDR_CODE_IM_ADDRESS_NEEDS_ESCAPING,
	IMADDR_CODE_JABBER_UNSUPPORTED_CHAR,
	IMADDR_CODE_DOMAIN_NOT_CONFIGURED,
	IMADDR_CODE_TOO_MANY_DOMAINS,
	IMADDR_CODE_VALUE_MULTIPLE,
	IMADDR_CODE_LDAP_REFERENCE,
	IMADDR_CODE_MAIL_INVALID,
	IMADDR_CODE_MAIL_NOT_CANONICAL,
	IMADDR_CODE_MAIL_NOT_DOT_ATOM,
	IMADDR_CODE_EXPORT_LOSSY,
	IMADDR_CODE_IM_ADDRESS_CHANGES,
	IMADDR_CODE_WAIVER_EXPIRED,
	IMADDR_CODE_WAIVER_UNUSED,
	IMADDR_CODE_CONFUSABLE,
	IMADDR_CODE_MIXED_SCRIPT,
	IMADDR_CODE_INVISIBLE_CHAR,
	IMADDR_CODE_IDNA_DEVIATION,
	IMADDR_CODE_CSV_FORMULA,
	IMADDR_CODE_COUNT
};

/** The stable name of a code, e.g. "uri-duplicate". */
const char *imaddr_code_name(enum imaddr_code code);
/** The severity every finding of that code has. */
enum imaddr_severity imaddr_code_severity(enum imaddr_code code);
/** One line saying what the code means. */
const char *imaddr_code_summary(enum imaddr_code code);
/** Looks a code up by name, in any case; returns false when there is none. */
bool imaddr_code_parse(const char *name, enum imaddr_code *out);

enum imaddr_scheme {
	IMADDR_SCHEME_USERID = 0,       /* <user id>@<default domain> */
	IMADDR_SCHEME_DIRECTORY_URI     /* the directory URI */
};

/*
 * Where a user's values come from. Each role names the input attributes
 * (CSV columns, LDAP attributes) that may hold it, first match wins; names
 * are compared case-insensitively.
 */
enum imaddr_role {
	IMADDR_ROLE_USER_ID = 0,
	IMADDR_ROLE_DIRECTORY_URI,   /* the source of the directory URI */
	IMADDR_ROLE_MAIL,
	IMADDR_ROLE_FIRST_NAME,
	IMADDR_ROLE_LAST_NAME,
	IMADDR_ROLE_CURRENT_URI,     /* the URI CUCM holds now (CUCM export) */
	IMADDR_ROLE_COUNT
};

#define IMADDR_MAPPING_MAX_NAMES 4

struct imaddr_mapping {
	/* NULL-terminated lists of attribute names per role. */
	const char *names[IMADDR_ROLE_COUNT][IMADDR_MAPPING_MAX_NAMES + 1];
	/* The CSV columns that may hold the entry's DN (LDIF and LDAP have it). */
	const char *dn_names[IMADDR_MAPPING_MAX_NAMES + 1];
};

/**
 * Fills a mapping with the defaults, which know LDAP attribute names,
 * PowerShell's (Get-ADUser) and ADSI property names and Unified CM's export
 * headers: user ID from sAMAccountName, else "USER ID"; directory URI from
 * "DIRECTORY URI", else mail, else EmailAddress; mail from mail, "MAIL ID"
 * or EmailAddress; names from givenName/sn (Surname) or "FIRST NAME"/"LAST
 * NAME"; the current URI from "DIRECTORY URI"; a CSV's DN from dn or
 * DistinguishedName.
 */
void imaddr_mapping_init(struct imaddr_mapping *mapping);
/**
 * Makes `name` the only source of `role`. `name` must outlive the mapping.
 * Fails with IMADDR_ERR_USAGE, the mapping untouched, when `role` is none of
 * enum imaddr_role's values (IMADDR_ROLE_COUNT included).
 */
enum imaddr_status imaddr_mapping_set(struct imaddr_mapping *mapping, enum imaddr_role role,
				      const char *name);
/** Makes `name` the only CSV column read as the DN. `name` must outlive the mapping. */
void imaddr_mapping_set_dn(struct imaddr_mapping *mapping, const char *name);
/** True when `attribute` is the attribute whose values carry a "sip:" prefix. */
bool imaddr_attribute_is_sip_uri(const char *attribute);

/** The options of one audit run. Strings are borrowed for the run's life. */
struct imaddr_audit_options {
	/* The target: the scheme and default domain the cluster is to have. */
	enum imaddr_scheme scheme;
	const char *default_domain;   /* required for the userid scheme */
	const char *im_domains;       /* comma-separated configured IM domains, or NULL */
	const char *input_name;       /* recorded in the report, e.g. "users.csv" */
	struct imaddr_mapping mapping;
	/*
	 * A pre-migration run also computes each user's IM address under the
	 * configuration the cluster has today, and reports every change. Today's
	 * directory URI is the input's current URI (IMADDR_ROLE_CURRENT_URI: a
	 * CUCM export's DIRECTORY URI, or --current-uri-attr) when it has one,
	 * else the directory URI as read.
	 */
	bool premigration;
	enum imaddr_scheme current_scheme;
	const char *current_default_domain;   /* NULL: default_domain */
	/*
	 * The run's identity in the report: its previous run is the latest
	 * committed run with the same label (NULL: input_name). The source's
	 * base, scope and filter are recorded beside it (NULL: none).
	 */
	const char *label;
	const char *source_base;
	const char *source_scope;
	const char *source_filter;
	/*
	 * A broken source is not a clean night: the report refuses a run whose
	 * users fall by more than max_shrink_percent against the previous run of
	 * its label (IMADDR_ERR_INPUT, nothing recorded), unless allow_shrink.
	 */
	unsigned max_shrink_percent;  /* imaddr_audit_options_init: 10 */
	bool allow_shrink;
	/*
	 * Accepted exceptions: a CSV file of waivers (code, user_id, value,
	 * reason, expires; docs/nightly.md), or NULL. A finding a waiver
	 * matches still reaches every output, with the waiver's reason, but is
	 * counted apart (imaddr_run_totals.waived), not by code or severity.
	 */
	const char *waivers;
	/*
	 * Where the user caches go (NULL: none), a directory made when missing:
	 * one per label (label, else input_name), a file where the users this
	 * run checks are kept, so that the label's next run takes the records
	 * it saw before from it instead of checking them again. The program
	 * puts it beside the report (docs/nightly.md). A run that finds its
	 * label's cache in use by another, or cannot open it, runs without it
	 * (and says so in totals->outputs); one whose options differ starts it
	 * afresh. A pre-migration run keeps none.
	 */
	const char *user_cache_dir;
};

/** Default options: userid scheme, default mapping, no domain, 10% shrink. */
void imaddr_audit_options_init(struct imaddr_audit_options *options);

/* ------------------------------------------------------------------------ */
/* What the audit hands to its sinks.                                        */

/** One end user as the audit saw it. All strings are NUL-terminated UTF-8
 *  owned by the audit and valid only during the callback; NULL when absent. */
struct imaddr_user {
	uint64_t ordinal;          /* 1-based position in the input */
	uint64_t line;             /* CSV or LDIF line; 0 when not from a file */
	const char *dn;            /* the entry's DN (LDAP, LDIF, a CSV dn column) */
	const char *user_id;       /* as read */
	const char *mail;
	const char *first_name;
	const char *last_name;
	const char *directory_uri; /* canonical when valid, else as read */
	const char *directory_uri_as_read;
	const char *uri_attribute; /* the input attribute the directory URI was read from */
	const char *current_uri;   /* what CUCM holds now (msRTCSIP's "sip:" dropped) */
	bool current_uri_known;    /* the input says what CUCM holds (NULL: nothing) */
	const char *im_address;    /* canonical; NULL when the user has none */
	const char *im_domain;     /* A-label domain of the IM address */
	const char *im_address_before;  /* pre-migration: today's IM address, or NULL */
	const char *im_address_change;  /* pre-migration: "changes", "lost", "gained" or NULL */
	const char *cluster;       /* the cluster of the user's input, or NULL */
	bool uri_valid;            /* directory_uri passed every check */
	/* Known only once the duplicates are: set for the outputs that get the
	 * users in a final pass, false and 0 during the read. Waived findings
	 * count here: a waiver accepts a problem, it does not make the data
	 * right, so a user with a waived error stays out of the BAT file. */
	bool has_error;
	uint64_t finding_codes;    /* bit (1 << code) for each code the user has */
};

/** One problem with one user (ordinal > 0) or with the whole run (0). */
struct imaddr_finding {
	enum imaddr_code code;
	enum imaddr_severity severity;
	uint64_t ordinal;
	uint64_t line;
	const char *dn;
	const char *user_id;        /* the user's user ID as read, NULL when none */
	const char *field;          /* the input attribute, e.g. "mail" */
	const char *value;          /* the offending value as read */
	const char *message;
	uint64_t related_ordinal;   /* duplicates: the first other user, else 0 */
	uint64_t related_line;
	const char *related_dn;
	const char *suggestion;     /* a value to use instead, or NULL */
	const char *cluster;        /* the user's cluster (or the input's), or NULL */
	/* Set when a waiver (imaddr_audit_options.waivers) waives the finding. */
	const char *waiver_reason;  /* why it is accepted; NULL: not waived */
	const char *waiver_expires; /* "YYYY-MM-DD", or NULL when the waiver never expires */
	const char *waiver_source;  /* the waiver's file and line, "waivers.csv:4" */
};

/** One IM domain with the number of users whose IM address is in it. */
struct imaddr_domain_count {
	const char *ascii;    /* lowercase A-label form */
	const char *unicode;  /* U-label form */
	uint64_t users;
	bool configured;      /* listed in --im-domains (true when none given) */
};

struct imaddr_audit;

/**
 * How the input was read, for the summary's first lines: so that a file
 * read with the wrong encoding, delimiter or column is seen at once. The
 * strings belong to the reader and the audit and live as long as both.
 */
struct imaddr_input_description {
	const char *format;              /* "CSV", "LDIF" or "LDAP" */
	const char *encoding;            /* "UTF-8", "UTF-16LE"...; NULL for LDAP */
	const char *encoding_how;        /* "byte order mark", "detected", "--encoding"... */
	char delimiter;                  /* CSV's; 0 otherwise */
	bool type_line_skipped;          /* CSV: PowerShell 5.1's "#TYPE ..." first line */
	/* The selection: an LDIF's entries, a CSV's rows (its disabled-account
	 * rule stands in the filter too), an LDAP search's entries */
	const char *filter;              /* what selected the users */
	const char *directory_type;      /* "ad", "ad-lds" or "openldap" */
	const char *directory_type_how;  /* "--directory-type", "inferred"... */
	uint64_t entries;                /* entries (rows) read */
	uint64_t entries_skipped;        /* those the selection left out */
	/* Per role, the column or attribute the first user's value came from
	 * (NULL: the input has none); `varies` when later users differ. */
	const char *role_attribute[IMADDR_ROLE_COUNT];
	bool role_attribute_varies[IMADDR_ROLE_COUNT];
	const char *dn_attribute;        /* CSV: the DN's column, or NULL */
	/* LDAP: the search (its filter is `filter`); NULL for a file */
	const char *search_base;
	const char *search_scope;        /* "sub", "one", "base" or "children" */
};

/** What a run amounted to, given to the outputs when it ends. */
struct imaddr_run_totals {
	uint64_t users;
	uint64_t users_with_im_address;
	uint64_t users_with_error;   /* with an error no waiver waived */
	/* Pre-migration: users whose IM address changes, loses one, gains one. */
	uint64_t im_address_changes;
	uint64_t im_address_lost;
	uint64_t im_address_gained;
	/* Findings by code and severity, waived findings left out. */
	uint64_t by_code[IMADDR_CODE_COUNT];
	uint64_t by_severity[3];
	/* The findings a waiver waived, counted apart: they decide nothing. */
	uint64_t waived;
	uint64_t waived_by_code[IMADDR_CODE_COUNT];
	size_t domain_count;
	const struct imaddr_domain_count *domains;  /* sorted by A-label */
	const struct imaddr_input_description *input;  /* never NULL at the end */
	/* For the outputs that end last (the summary), and the caller after a
	 * run: what the outputs wrote, a line each ("BAT file 'bat.csv': 12
	 * rows ..."); NULL before. Valid until imaddr_audit_free. */
	const char *outputs;
	/* For the outputs that end last, and the caller after a run: what
	 * changed since the previous run of the label, told by the report (see
	 * src/sink.h, describe); NULL without a report. Owned by the report,
	 * valid until imaddr_audit_free. */
	const struct imaddr_run_changes *changes;
};

/* How many new findings the changes name. */
#define IMADDR_CHANGES_EXAMPLES 5
/* How many runs of a label the history holds: two months of nightly runs. */
#define IMADDR_HISTORY_RUNS 60

/** One stored run of a label, for a trend over time. */
struct imaddr_run_point {
	int64_t run_id;
	const char *started;         /* "2026-12-01T02:00:00Z" */
	uint64_t users;
	uint64_t errors;
	uint64_t warnings;
	uint64_t infos;
};

/**
 * What changed since the previous run of the same label, as the report
 * computed it inside the run's transaction. Users are matched by user ID
 * (users without one are not counted), findings as the report's
 * new_findings, resolved_findings and waived_findings views match them
 * (docs/report-schema.md). Strings owned by the report.
 */
struct imaddr_run_changes {
	int64_t run_id;              /* this run in the report */
	const char *label;
	int64_t previous_run_id;     /* 0: the first run of its label; nothing below is set */
	const char *previous_started;  /* "2026-12-01T02:00:00Z" */
	uint64_t previous_users;
	uint64_t users_added;
	uint64_t users_removed;
	uint64_t im_addresses_changed;
	uint64_t new_by_code[IMADDR_CODE_COUNT];
	uint64_t resolved_by_code[IMADDR_CODE_COUNT];
	uint64_t new_by_severity[3];
	uint64_t resolved_by_severity[3];
	/* The first new findings, most severe first: "line 4 [mail]: message". */
	size_t example_count;
	const char *examples[IMADDR_CHANGES_EXAMPLES];
	enum imaddr_code example_codes[IMADDR_CHANGES_EXAMPLES];
	/* The label's last runs up to this one, oldest first, this run last:
	 * set on a first run too (one point). */
	size_t history_count;
	const struct imaddr_run_point *history;
	/* The previous run's findings a waiver now accepts: not resolved, as
	 * the problem is still there (the report's waived_findings). */
	uint64_t waived_by_code[IMADDR_CODE_COUNT];
	uint64_t waived_by_severity[3];
	/* The report's file, as the run named it: where `imaddr report` reads
	 * this run again. */
	const char *report_path;
};

/** True when anything at all changed (a first run: false). */
bool imaddr_run_changes_any(const struct imaddr_run_changes *changes);

/**
 * A run's label derived from a file name: its base name with any date or
 * number stamps removed ("/x/users-2026-12-01.csv" and "users_7.csv" both
 * give "users.csv"); a name that is nothing but a stamp is kept whole.
 * Returns a string the caller frees.
 */
char *imaddr_run_label_for_file(const char *path);

/**
 * A run's label derived from a directory search: the LDAP URL of the
 * server, base, scope and filter ("ldap://dc1/dc=example,dc=com??sub?(uid=*)").
 * NULL base or filter: empty. Returns a string the caller frees.
 */
char *imaddr_run_label_for_ldap(const char *uri, const char *base, const char *scope,
				const char *filter);

struct imaddr_run_info {
	const struct imaddr_audit_options *options;
	const char *version;
	int64_t started;          /* Unix time */
	/* Set by the output driver, not the caller: */
	const char *token;        /* the run's random token, kept by the report */
	const char *transaction_path;  /* the report that decides the run, or NULL */
};

/* ------------------------------------------------------------------------ */
/* Outputs. Each is opened here and handed to imaddr_audit_add_sink, which
 * takes it over; the audit decides which run on a thread of their own. An
 * output writes nothing durable before the run succeeds: files appear whole
 * at the end (written to a temporary file, renamed into place) and a failed
 * or interrupted run leaves earlier outputs as they were. Every opener
 * refuses a NULL path, stream or `out` with IMADDR_ERR_USAGE, *out NULL. */

struct imaddr_sink;

/** Frees an output that was never handed to an audit; NULL is fine. */
void imaddr_sink_free(struct imaddr_sink *sink);

/**
 * Opens a SQLite report at `path` (created when missing, appended to when it
 * exists: every run is kept). Nothing is written before the run begins; the
 * run is one transaction committed at its end, and that commit is the run's
 * commit point for every output (docs/design.md, "All or nothing"). Another
 * run's lock is waited for up to `wait_ms` milliseconds (< 0: 30 s), from
 * the first statement on. Fails with IMADDR_ERR_DB when the file cannot be
 * opened or is not an imaddr report.
 */
enum imaddr_status imaddr_sink_report_open(const char *path, int wait_ms,
					   struct imaddr_sink **out, struct imaddr_error *err);

/**
 * A BAT "Update Users" CSV (USER ID,DIRECTORY URI) at `path` ("-": standard
 * output, not with chunks). With `chunk_rows` > 0 the rows are split into
 * files path-001.csv, path-002.csv... in the directory `path` without its
 * extension, which is replaced whole; users of a cluster go to files of
 * their own, path-CLUSTER-001.csv..., as a BAT job runs on one cluster.
 * UINT64_MAX: that directory, without a limit of rows, for a run of
 * several clusters. Runs on one path take turns through
 * path.lock, waiting up to `wait_ms` milliseconds (< 0: 30 s). Fails with
 * IMADDR_ERR_IO when the file's directory does not exist or `path` is a
 * symbolic link, a device or a FIFO.
 */
enum imaddr_status imaddr_sink_bat_open(const char *path, uint64_t chunk_rows, int wait_ms,
					struct imaddr_sink **out, struct imaddr_error *err);

/**
 * The change procedure for the target (a text file at `path`): IM and
 * Presence's steps in the order it requires, with the run's figures. Fails
 * with IMADDR_ERR_IO when the file's directory does not exist.
 */
enum imaddr_status imaddr_sink_runbook_open(const char *path, struct imaddr_sink **out,
					    struct imaddr_error *err);

/**
 * Directory fixes (an LDIF file at `path`): a changetype: modify record per
 * user with a DN whose directory URI source is valid but not canonical,
 * replacing that attribute; for ldapmodify or ldifde. Fails with
 * IMADDR_ERR_IO when the file's directory does not exist.
 */
enum imaddr_status imaddr_sink_ldif_fixes_open(const char *path, struct imaddr_sink **out,
					       struct imaddr_error *err);

/**
 * Only the summary's section "since the previous run" (the report's
 * changes), and only when something changed: what a nightly run under cron
 * mails. Prints nothing without a report; on a label's first run, which has
 * nothing to compare with, that it is the first and the run's counts.
 * Fails as imaddr_sink_summary_open does.
 */
enum imaddr_status imaddr_sink_summary_open_changes(void *out, struct imaddr_sink **sink,
						    struct imaddr_error *err);

/* The version of the JSON document's schema (docs/json.md): "imaddr_json". */
#define IMADDR_JSON_SCHEMA 1
/* How many findings of each code the JSON document lists by default. */
#define IMADDR_JSON_FINDINGS_PER_CODE 20

/**
 * The run as one JSON document at `path` ("-": standard output, written when
 * the run ends): its options, verdict, counts by severity and code, the IM
 * domains, the files the other outputs wrote and the first
 * `findings_per_code` findings of each code (docs/json.md). Fails with
 * IMADDR_ERR_IO when the file's directory does not exist.
 */
enum imaddr_status imaddr_sink_json_open(const char *path, size_t findings_per_code,
					 struct imaddr_sink **out, struct imaddr_error *err);

/**
 * The worklist at `path`: one row per finding (pre-migration changes aside)
 * with the user's cluster, line, user ID, DN and name, the field, value,
 * code, severity, message, suggestion and duplicate group, users in input
 * order and each user's findings together. A path ending in .xlsx gives a
 * spreadsheet with a frozen header and an autofilter; .csv a CSV with a
 * UTF-8 BOM whose cells that start with = + - or @ get a leading '.
 * Fails with IMADDR_ERR_USAGE for another name and IMADDR_ERR_IO when the
 * file's directory does not exist. Memory grows with the findings (16 bytes
 * each), not with the users: the findings wait in a temporary file.
 */
enum imaddr_status imaddr_sink_worklist_open(const char *path, struct imaddr_sink **out,
					     struct imaddr_error *err);

/**
 * The HTML report of the run at `path`: one self-contained page (no network
 * access when opened, readable with scripts off) with the verdict, the
 * counts, the IM domains and SAN list, the findings grouped by duplicate
 * group with search, filters and sorting, and for a pre-migration run the
 * before/after table (docs/html.md). At most 200 findings of a code are on
 * the page, and up to 200 more to finish the duplicate group the 200th falls
 * in; the worklist has them all. Fails with
 * IMADDR_ERR_IO when the file's directory does not exist.
 */
enum imaddr_status imaddr_sink_html_open(const char *path, struct imaddr_sink **out,
					 struct imaddr_error *err);

/**
 * The same page for run `run_id` (0: the newest) of the SQLite report at
 * `db_path`, which is only read. Fails with IMADDR_ERR_DB when the file is
 * not an imaddr report of this schema, IMADDR_ERR_USAGE when it has no such
 * run, IMADDR_ERR_IO when the page cannot be written ("cannot write 'path':
 * why"), IMADDR_ERR_INTERRUPTED when a stop was requested
 * (imaddr_audit_request_stop) before the page was in place. On failure the
 * file is as it was.
 */
enum imaddr_status imaddr_report_write_html(const char *db_path, int64_t run_id,
					    const char *html_path, struct imaddr_error *err);

/**
 * The JSON document of run `run_id` (0: the newest) of the SQLite report at
 * `db_path`, which is only read, to `json_path` ("-": standard output): the
 * document imaddr_sink_json_open's output wrote for the run, with the first
 * `findings_per_code` findings of each code, but with no "outputs" (the
 * report does not keep what the other outputs wrote) and, for the
 * im-address-changes findings the report keeps as users' columns, the
 * "field" null when the input's attribute for it varied (docs/json.md).
 * Fails as imaddr_report_write_html does.
 */
enum imaddr_status imaddr_report_write_json(const char *db_path, int64_t run_id,
					    const char *json_path, size_t findings_per_code,
					    struct imaddr_error *err);

/**
 * The worklist of run `run_id` (0: the newest) of the SQLite report at
 * `db_path`, which is only read, to `path` (.xlsx or .csv): the rows the
 * audit's imaddr_sink_worklist_open output wrote for the run, in the same
 * order. Fails with IMADDR_ERR_USAGE for another extension, else as
 * imaddr_report_write_html does.
 */
enum imaddr_status imaddr_report_write_worklist(const char *db_path, int64_t run_id,
						const char *path, struct imaddr_error *err);

/**
 * Which run of the SQLite report at `db_path` (only read) a command means:
 * run `run_id`, which must be of `label` when `label` is not NULL; else the
 * newest run of `label`; else (0 and NULL) the newest run. Sets `*found` to
 * its id. Fails with IMADDR_ERR_USAGE when the report has no such run (for
 * a label it has no run of, the message names a few labels it has), and
 * IMADDR_ERR_DB when the file is not an imaddr report of this schema.
 */
enum imaddr_status imaddr_report_find_run(const char *db_path, const char *label,
					  int64_t run_id, int64_t *found,
					  struct imaddr_error *err);

/**
 * Prints to `out` (a FILE *) the text summary of run `run_id` (0: the
 * newest) of the SQLite report at `db_path`, which is only read: what the
 * audit printed for that run, its section "since the previous run"
 * included, without the lines naming the files the other outputs wrote,
 * which the report does not keep. Fails with IMADDR_ERR_USAGE when `out`
 * is NULL (before the report is opened), when the report has no such run or no summary of it (a run recorded by an imaddr
 * that kept none), IMADDR_ERR_DB when the file is not an imaddr report of
 * this schema, IMADDR_ERR_IO when `out` cannot be written,
 * IMADDR_ERR_INTERRUPTED when a stop was requested before it was begun.
 */
enum imaddr_status imaddr_report_write_summary(const char *db_path, int64_t run_id, void *out,
					       struct imaddr_error *err);

/** What imaddr_report_prune removed and gave back. */
struct imaddr_prune_result {
	uint64_t labels;            /* labels that lost runs */
	uint64_t runs;              /* runs removed */
	uint64_t user_versions;     /* versions of users no kept run holds */
	uint64_t finding_versions;  /* versions of findings no kept run holds */
	uint64_t other_rows;        /* the removed runs' domains, changes, summaries... */
	uint64_t bytes_freed;       /* pages the removed rows took, now free */
	bool vacuumed;              /* enough of them to give back: VACUUM ran */
	uint64_t bytes_before;      /* the report's size before and after */
	uint64_t bytes_after;
};

/**
 * Keeps the newest `keep` (at least 1) runs of each label of the SQLite
 * report at `db_path`, or of `label` alone when it is not NULL, and removes
 * the others in one transaction (waiting up to `wait_ms` milliseconds, < 0:
 * 30 s, for a run that holds the report). Every kept run reads as it did: a
 * removed run that wrote versions a kept run still holds stays in `runs`
 * as a row marked pruned, which no view and no stored run shows.
 * The oldest kept run has no previous run in the report any more; its stored
 * summary still says what it was compared with. Then, when the pages free
 * are a tenth of the report or more, they are given back to the file system
 * (VACUUM); fewer stay for the next runs to fill (docs/report-schema.md,
 * "Pruning old runs"). Fills `result`, which may be NULL when the caller
 * does not ask (zeroes on failure). Fails with
 * IMADDR_ERR_USAGE when `label` has no run, IMADDR_ERR_DB when the file is
 * not an imaddr report of this schema or SQLite fails; a failure of the
 * VACUUM leaves the runs removed and says so.
 */
enum imaddr_status imaddr_report_prune(const char *db_path, const char *label, unsigned keep,
				       int wait_ms, struct imaddr_prune_result *result,
				       struct imaddr_error *err);

/**
 * The text summary, printed to `out` (a FILE *) when the run ends. Fails
 * with IMADDR_ERR_USAGE, *sink NULL, when `out` is NULL.
 */
enum imaddr_status imaddr_sink_summary_open(void *out, struct imaddr_sink **sink,
					    struct imaddr_error *err);

/* ------------------------------------------------------------------------ */
/* Readers: each turns its input into records for the audit.                 */

struct imaddr_reader;

/**
 * Opens a CSV file ("-" is standard input) and sets *out to its reader.
 * IMADDR_ERR_INPUT, naming the file, when it cannot be opened; *out is then
 * NULL. A NULL `path` or `out` is IMADDR_ERR_USAGE. Release the reader with
 * imaddr_reader_free.
 */
enum imaddr_status imaddr_csv_reader_open(const char *path, struct imaddr_reader **out,
					  struct imaddr_error *err);

/**
 * Opens an LDIF file ("-" is standard input): as imaddr_csv_reader_open.
 * A NULL `path` or `out` is IMADDR_ERR_USAGE, as for imaddr_ldif_reader_open_with.
 */
enum imaddr_status imaddr_ldif_reader_open(const char *path, struct imaddr_reader **out,
					   struct imaddr_error *err);

/* ldapsearch's -s: the subtree with the base (sub), the base's children (one),
 * the base alone (base), the subtree without the base (children, RFC 4512's
 * subordinate scope: OpenLDAP has it, Active Directory does not). */
enum imaddr_ldap_scope {
	IMADDR_LDAP_SCOPE_SUB = 0,
	IMADDR_LDAP_SCOPE_ONE,
	IMADDR_LDAP_SCOPE_BASE,
	IMADDR_LDAP_SCOPE_CHILDREN
};
/** The scope's name as ldapsearch's -s takes it and an LDAP URL writes it: "sub" for any other value. */
const char *imaddr_ldap_scope_name(enum imaddr_ldap_scope scope);

enum imaddr_directory_type {
	IMADDR_DIRECTORY_AD = 0,
	IMADDR_DIRECTORY_AD_LDS,
	IMADDR_DIRECTORY_OPENLDAP
};

/** How far an LDAP search has come, for a progress display. */
struct imaddr_ldap_progress {
	uint64_t entries;             /* entries read so far */
	uint64_t pages;               /* pages of results read so far */
	double elapsed_seconds;       /* since the run started, connecting included */
	bool done;                    /* the search has ended, or failed: the last call */
};

/** How to reach and read a directory server. Strings are borrowed. */
struct imaddr_ldap_options {
	const char *uri;              /* ldap://, ldaps:// or ldapi:// (see below) */
	const char *base;             /* imaddr_ldap_options_init: ldap.conf's BASE, or NULL */
	enum imaddr_ldap_scope scope;
	const char *filter;           /* NULL: the directory type's default */
	enum imaddr_directory_type directory_type;
	const char *bind_dn;          /* NULL: anonymous unless sasl_mech */
	const char *password;         /* for a simple bind; copied at open, never logged */
	const char *sasl_mech;        /* EXTERNAL or GSSAPI, or NULL */
	const char *ca_file;
	bool starttls;
	int page_size;                /* 0: 1000 */
	int timeout_seconds;          /* 0: none */
	/*
	 * Called on the thread that runs the reader while the search runs, at
	 * most every 250 ms, and then once with `done` set when the search
	 * ends, successful or not (a run that fails before connecting makes no
	 * call at all). NULL: no calls. The library prints nothing itself: the
	 * imaddr program draws a line on standard error when it is a terminal.
	 */
	void (*progress)(void *context, const struct imaddr_ldap_progress *progress);
	void *progress_context;
};

/**
 * The defaults: subtree scope, Active Directory, and the base libldap's
 * configuration names (ldap.conf's or .ldaprc's BASE, or LDAPBASE), as
 * ldapsearch takes it without -b, so that the run's label names it.
 */
void imaddr_ldap_options_init(struct imaddr_ldap_options *options);

/** How a CSV or LDIF file is read. Strings are borrowed. */
struct imaddr_file_options {
	/* NULL: a byte order mark decides, else UTF-8 when the bytes are valid
	 * UTF-8, else ICU's detector when it is confident; any ICU name. */
	const char *encoding;
	/* CSV: ',', ';' or '\t'; 0: whichever splits the header into most columns. */
	char delimiter;
	/* Which entries (LDIF) or rows (CSV) are users, as Unified CM's LDAP
	 * sync selects them: `filter` (RFC 4515), else the directory type's
	 * default filter. The type is inferred from the entries (a CSV's
	 * objectClass column) when not given. */
	const char *filter;
	enum imaddr_directory_type directory_type;
	bool directory_type_given;
};

void imaddr_file_options_init(struct imaddr_file_options *options);

/**
 * imaddr_csv_reader_open and imaddr_ldif_reader_open with options (NULL:
 * the defaults). IMADDR_ERR_USAGE for an encoding ICU does not know, a
 * delimiter other than those three, an invalid filter, a directory type
 * that is none of enum imaddr_directory_type's values, or a NULL `path` or
 * `out`. A CSV's rows are selected by the filter as entries, each column an
 * attribute; the CSV reader refuses, at the header, a filter that tests a
 * column the header lacks, and a directory type without an objectClass
 * column.
 */
enum imaddr_status imaddr_csv_reader_open_with(const char *path,
					       const struct imaddr_file_options *options,
					       struct imaddr_reader **out, struct imaddr_error *err);
enum imaddr_status imaddr_ldif_reader_open_with(const char *path,
						const struct imaddr_file_options *options,
						struct imaddr_reader **out, struct imaddr_error *err);
/** The filter CUCM uses for a directory type; NULL for a value outside the enum. */
const char *imaddr_directory_default_filter(enum imaddr_directory_type type);

/** "ad", "ad-lds" or "openldap", as --directory-type takes it; NULL for another value. */
const char *imaddr_directory_type_name(enum imaddr_directory_type type);

/**
 * The URI libldap's configuration names (ldap.conf's or .ldaprc's URI, or
 * LDAPURI), as ldapsearch uses it when -H is not given; NULL when there is
 * none. The caller frees it with free().
 */
char *imaddr_ldap_configured_uri(void);

/**
 * Prepares an LDAP reader and sets *out to it; nothing is contacted before
 * the audit runs it. IMADDR_ERR_USAGE when the options are wrong (see
 * docs/ldap.md; a scope or directory type that is none of its enum's
 * values comes first) or NULL, or `out` is NULL; *out is then NULL. The options' strings are borrowed,
 * except the password: the reader keeps a copy of its own, which it clears
 * (explicit_bzero) as soon as the bind is done or has failed, so the caller
 * may clear its own as soon as this returns.
 */
enum imaddr_status imaddr_ldap_reader_open(const struct imaddr_ldap_options *options,
					   struct imaddr_reader **out, struct imaddr_error *err);

/**
 * A reader of any kind runs once: it reads its input in the audit it is
 * given to, and an audit given it again (or twice in one run) fails with
 * IMADDR_ERR_USAGE, as it would otherwise read nothing. Open the input
 * again for another run. NULL is fine here.
 */
void imaddr_reader_free(struct imaddr_reader *reader);

/* ------------------------------------------------------------------------ */
/* The audit.                                                                */

struct imaddr_audit;

/**
 * Creates an audit. Fails with IMADDR_ERR_USAGE when the options are
 * inconsistent (a scheme, or today's scheme in a pre-migration run, that is
 * none of enum imaddr_scheme's values, no default domain for the userid
 * scheme, an invalid default domain or IM domain), and with IMADDR_ERR_INPUT, naming the file, line and
 * field, when the waivers file cannot be read or has a line that is not a
 * waiver. *out is NULL on failure.
 */
enum imaddr_status imaddr_audit_new(const struct imaddr_audit_options *options,
				    struct imaddr_audit **out, struct imaddr_error *err);

/**
 * Adds an output; the audit takes it over, also when the run fails, and
 * frees it with itself. An output is given once: given again (to this audit
 * or another, while the first holds it) or NULL, it is refused with
 * IMADDR_ERR_USAGE, left as it was, and the run fails with IMADDR_ERR_USAGE
 * saying so. An output whose audit was freed is gone: never give it again.
 * A NULL `audit` is IMADDR_ERR_USAGE too, the output left the caller's.
 */
enum imaddr_status imaddr_audit_add_sink(struct imaddr_audit *audit, struct imaddr_sink *sink);

/**
 * Reads every record from `reader` (which stays the caller's), checks it,
 * and feeds the outputs; then finds duplicates and ends the outputs. On
 * failure every output is thrown away, so none is left half-written.
 * `totals` may be NULL. An audit runs once: a second call fails with
 * IMADDR_ERR_USAGE (make a new audit, with its outputs, for each run). So
 * does a NULL `reader` or one that has run (see imaddr_reader_free),
 * before anything is read: the audit can then still run.
 */
enum imaddr_status imaddr_audit_run(struct imaddr_audit *audit,
				    struct imaddr_reader *reader,
				    struct imaddr_run_totals *totals,
				    struct imaddr_error *err);

/** One input of a run: a reader (the caller's) and the cluster it holds. */
struct imaddr_input {
	struct imaddr_reader *reader;
	const char *cluster;        /* NULL: no cluster */
};

/**
 * imaddr_audit_run over several inputs, read one after the other into one
 * run: the users of every input are checked against each other (a user ID
 * in two clusters is a duplicate, as IM and Presence sees them all), and
 * each user and finding carries its input's cluster. `count` is at least
 * one and every input has a reader of its own (else IMADDR_ERR_USAGE).
 */
enum imaddr_status imaddr_audit_run_inputs(struct imaddr_audit *audit,
					   const struct imaddr_input *inputs, size_t count,
					   struct imaddr_run_totals *totals, struct imaddr_error *err);

void imaddr_audit_free(struct imaddr_audit *audit);

/**
 * Asks running audits to stop at the next record: the run then fails with
 * IMADDR_ERR_INTERRUPTED and every output is thrown away. Async-signal-safe,
 * meant for a SIGINT or SIGTERM handler. The request stays for the rest of
 * the process: every audit run after it fails the same way, as a program
 * told to stop should not start another run.
 */
void imaddr_audit_request_stop(void);

/**
 * For tests: `hook` is called with the name of each step of the output
 * protocol as the run passes it (docs/design.md lists them), so that a test
 * can kill the process at that moment. NULL removes it. Not thread-safe:
 * set it before a run.
 */
void imaddr_set_step_hook(void (*hook)(const char *step));

/* ------------------------------------------------------------------------ */
/* One address at a time.                                                    */

/** An address checked on its own: canonical and Unicode forms, findings. */
struct imaddr_address_report {
	char *canonical;         /* NFC local part @ lowercase A-label domain, or NULL */
	char *unicode;           /* NFC local part @ U-label domain, or NULL */
	size_t finding_count;
	struct imaddr_address_finding {
		enum imaddr_code code;
		char *message;
	} *findings;
};

#define IMADDR_ADDRESS_MAX_FINDINGS 24

/** What a checker found: views valid until its next check or free. */
struct imaddr_address_result {
	const char *canonical;   /* NFC local part @ lowercase A-label domain, or NULL */
	const char *unicode;     /* NFC local part @ U-label domain, or NULL */
	size_t finding_count;
	struct imaddr_address_result_finding {
		enum imaddr_code code;
		const char *message;
		const char *suggestion;  /* NULL when there is none */
	} findings[IMADDR_ADDRESS_MAX_FINDINGS];
};

/**
 * Checks addresses one after another, reusing its buffers and remembering
 * the domains it has seen: for lists of millions of addresses. Fails only
 * when ICU cannot be initialised, or with IMADDR_ERR_USAGE for a NULL `out`.
 */
struct imaddr_address_checker;
enum imaddr_status imaddr_address_checker_new(struct imaddr_address_checker **out,
					      struct imaddr_error *err);
/**
 * Checks one address as a directory URI and an IM address ("sip:" accepted):
 * the `length` bytes at `address`, which need no NUL. (NULL, 0) is the empty
 * address, checked as "" is; NULL with another length is a mistake of the
 * caller's, answered with NULL and nothing read, and so is a NULL `checker`.
 */
const struct imaddr_address_result *imaddr_address_checker_check(
	struct imaddr_address_checker *checker, const char *address, size_t length);
void imaddr_address_checker_free(struct imaddr_address_checker *checker);

/**
 * Checks one address as a directory URI and as an IM address. A "sip:"
 * prefix is accepted. (NULL, 0) is the empty address, as for the checker.
 * Fails with IMADDR_ERR_USAGE for NULL with another length (the report is
 * then empty) or a NULL `report`, else only when ICU cannot be initialised.
 * The report owns copies of everything; release it with
 * imaddr_address_report_release (NULL is fine there).
 */
enum imaddr_status imaddr_check_address(const char *address, size_t length,
					struct imaddr_address_report *report,
					struct imaddr_error *err);
void imaddr_address_report_release(struct imaddr_address_report *report);

/**
 * Writes one checked address as a line of JSON (JSON Lines) to `out` (a
 * FILE *): address, canonical, unicode, valid (no error) and findings
 * (code, severity, message, suggestion); see docs/json.md. Bytes that are
 * not UTF-8 become U+FFFD. `address` and `length` as for the checker: NULL
 * with a length other than 0 fails with IMADDR_ERR_USAGE, nothing written,
 * and so does a NULL `out` or `result`. Fails with IMADDR_ERR_IO when the write fails.
 */
enum imaddr_status imaddr_address_result_write_json(const char *address, size_t length,
						    const struct imaddr_address_result *result,
						    void *out, struct imaddr_error *err);

#ifdef __cplusplus
}
#endif

#endif /* IMADDR_H */
