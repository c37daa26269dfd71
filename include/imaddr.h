/*
 * imaddr: audit end users' IM addresses for Cisco Unified CM IM and Presence.
 *
 * The library reads end users from CSV, LDIF or LDAP (readers), checks every
 * user ID, directory URI and resulting IM address (the audit), and hands users
 * and findings to outputs (sinks): a BAT import CSV, a SQLite report and a
 * text summary.
 *
 * Memory: the library never returns NULL for lack of memory. Like git's
 * xmalloc, an allocation failure prints "imaddr: out of memory" and aborts.
 * A batch tool cannot do anything useful half way through a run without memory,
 * and every caller is spared a branch that would never be tested.
 *
 * Errors: functions that can fail return an enum imaddr_status and, where the
 * caller passes one, fill a caller-owned struct imaddr_error with a message
 * naming the file, line or DN and field. A bad record is not an error of the
 * library: it becomes a finding.
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

/** "info", "warning" or "error". */
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
	IMADDR_CODE_COUNT
};

/** The stable name of a code, e.g. "uri-duplicate". */
const char *imaddr_code_name(enum imaddr_code code);
/** The severity every finding of that code has. */
enum imaddr_severity imaddr_code_severity(enum imaddr_code code);
/** One line saying what the code means. */
const char *imaddr_code_summary(enum imaddr_code code);
/** Looks a code up by name; returns false when there is none. */
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
};

/**
 * Fills a mapping with the defaults: user ID from sAMAccountName, else
 * "USER ID"; directory URI from "DIRECTORY URI", else mail; mail from mail,
 * else "MAIL ID"; names from givenName/sn or "FIRST NAME"/"LAST NAME"; the
 * current URI from "DIRECTORY URI".
 */
void imaddr_mapping_init(struct imaddr_mapping *mapping);
/** Makes `name` the only source of `role`. `name` must outlive the mapping. */
void imaddr_mapping_set(struct imaddr_mapping *mapping, enum imaddr_role role,
			const char *name);
/** True when `attribute` is the attribute whose values carry a "sip:" prefix. */
bool imaddr_attribute_is_sip_uri(const char *attribute);

/** The options of one audit run. Strings are borrowed for the run's life. */
struct imaddr_audit_options {
	enum imaddr_scheme scheme;
	const char *default_domain;   /* required for the userid scheme */
	const char *im_domains;       /* comma-separated configured IM domains, or NULL */
	const char *input_name;       /* recorded in the report, e.g. "users.csv" */
	struct imaddr_mapping mapping;
};

/** Default options: userid scheme, default mapping, no domain. */
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
	const char *current_uri;   /* what CUCM holds now, from a CUCM export */
	const char *im_address;    /* canonical; NULL when the user has none */
	const char *im_domain;     /* A-label domain of the IM address */
	bool uri_valid;            /* directory_uri passed every check */
	bool has_error;            /* set only in imaddr_audit_each_user() */
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
};

/** One IM domain with the number of users whose IM address is in it. */
struct imaddr_domain_count {
	const char *ascii;    /* lowercase A-label form */
	const char *unicode;  /* U-label form */
	uint64_t users;
	bool configured;      /* listed in --im-domains (true when none given) */
};

struct imaddr_audit;

/** What a run amounted to, given to the sinks when it ends. */
struct imaddr_run_totals {
	uint64_t users;
	uint64_t users_with_im_address;
	uint64_t users_with_error;
	uint64_t by_code[IMADDR_CODE_COUNT];
	uint64_t by_severity[3];
	size_t domain_count;
	const struct imaddr_domain_count *domains;  /* sorted by A-label */
};

struct imaddr_run_info {
	const struct imaddr_audit_options *options;
	const char *version;
	int64_t started;          /* Unix time */
};

/*
 * An output. Every callback may be NULL. `begin` is called once before the
 * first user, `user` once per user in input order, `input_end` once after
 * the last user (before the duplicates' findings), `finding` once per
 * finding (per-user checks during the read, duplicates and run-level
 * findings after it), `end` once after the last finding with the audit
 * still readable (see imaddr_audit_each_user); `end` makes the output
 * durable (commit, rename). An output that ends in the background returns
 * from `end` at once and reports its outcome from `wait`, which the audit
 * calls after every sink's `end`. `abort` throws a partial output away; it
 * is called instead of `end` when the run fails, and also after a failing
 * `end` or `wait`. `free` releases the sink.
 */
struct imaddr_sink;
struct imaddr_sink_ops {
	const char *name;
	enum imaddr_status (*begin)(struct imaddr_sink *sink,
				    const struct imaddr_run_info *info,
				    struct imaddr_error *err);
	enum imaddr_status (*user)(struct imaddr_sink *sink,
				   const struct imaddr_user *user,
				   struct imaddr_error *err);
	enum imaddr_status (*finding)(struct imaddr_sink *sink,
				      const struct imaddr_finding *finding,
				      struct imaddr_error *err);
	enum imaddr_status (*input_end)(struct imaddr_sink *sink, struct imaddr_error *err);
	enum imaddr_status (*end)(struct imaddr_sink *sink,
				  struct imaddr_audit *audit,
				  const struct imaddr_run_totals *totals,
				  struct imaddr_error *err);
	enum imaddr_status (*wait)(struct imaddr_sink *sink, struct imaddr_error *err);
	void (*abort)(struct imaddr_sink *sink);
	void (*free)(struct imaddr_sink *sink);
};

/** The common head of every sink; implementations embed it first. */
struct imaddr_sink {
	const struct imaddr_sink_ops *ops;
};

/** Frees any sink through its ops; NULL is fine. */
void imaddr_sink_free(struct imaddr_sink *sink);

/**
 * Opens a SQLite report at `path` (created when missing, appended to when it
 * exists: every run is kept). Nothing is written before `begin`; the run is
 * one transaction committed in `end`. Returns NULL and fills `err` when the
 * file cannot be opened or is not an imaddr report. The first call turns
 * SQLite's memory statistics off for the process (sqlite3_memory_used() then
 * reports 0) unless SQLite is already initialized: their lock costs a sixth
 * of each insert.
 */
struct imaddr_sink *imaddr_report_db_open(const char *path, struct imaddr_error *err);

/**
 * A BAT "Update Users" CSV (USER ID,DIRECTORY URI) at `path`. With
 * `chunk_rows` > 0 the rows are split into path-001.csv, path-002.csv...
 * Written to a temporary file and renamed on `end`.
 */
struct imaddr_sink *imaddr_bat_writer_open(const char *path, uint64_t chunk_rows,
					   struct imaddr_error *err);

/**
 * Runs `inner` on a worker thread, so that a slow output (the SQLite report)
 * overlaps with reading and checking: users, findings, `input_end` and `end`
 * are queued to the worker in order; `wait` returns the outcome. `begin` and
 * `abort` run on the caller's thread. Takes ownership of `inner`.
 */
struct imaddr_sink *imaddr_sink_threaded(struct imaddr_sink *inner);

/** The text summary, printed to `out` (a FILE *) when the run ends. */
struct imaddr_sink *imaddr_summary_open(void *out);

/* ------------------------------------------------------------------------ */
/* Readers: each turns its input into records for the audit.                 */

struct imaddr_reader;

/**
 * Opens a CSV file ("-" is standard input) and sets *out to its reader.
 * IMADDR_ERR_INPUT, naming the file, when it cannot be opened; *out is then
 * NULL. Release the reader with imaddr_reader_free.
 */
enum imaddr_status imaddr_csv_reader_open(const char *path, struct imaddr_reader **out,
					  struct imaddr_error *err);

/** Opens an LDIF file ("-" is standard input): as imaddr_csv_reader_open. */
enum imaddr_status imaddr_ldif_reader_open(const char *path, struct imaddr_reader **out,
					   struct imaddr_error *err);

enum imaddr_ldap_scope { IMADDR_LDAP_SCOPE_SUB = 0, IMADDR_LDAP_SCOPE_ONE };
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
	const char *uri;              /* ldap://, ldaps:// or ldapi:// */
	const char *base;
	enum imaddr_ldap_scope scope;
	const char *filter;           /* NULL: the directory type's default */
	enum imaddr_directory_type directory_type;
	const char *bind_dn;          /* NULL: anonymous unless sasl_mech */
	const char *password;         /* for a simple bind; never logged */
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

void imaddr_ldap_options_init(struct imaddr_ldap_options *options);
/** The filter CUCM uses for a directory type. */
const char *imaddr_directory_default_filter(enum imaddr_directory_type type);

/**
 * Prepares an LDAP reader and sets *out to it; nothing is contacted before
 * the audit runs it. IMADDR_ERR_USAGE when the options are wrong (see
 * docs/ldap.md); *out is then NULL. The options' strings are borrowed.
 */
enum imaddr_status imaddr_ldap_reader_open(const struct imaddr_ldap_options *options,
					   struct imaddr_reader **out, struct imaddr_error *err);

/**
 * Runs `inner` on a worker thread, so that parsing overlaps with the audit's
 * checks: records and notices are queued to the caller's thread in order,
 * and the audit sees them exactly as `inner` would hand them over. For
 * readers of regular files: a worker blocked on a pipe or a network would
 * hold up the end of a stopped run. Takes ownership of `inner`.
 */
struct imaddr_reader *imaddr_reader_threaded(struct imaddr_reader *inner);

void imaddr_reader_free(struct imaddr_reader *reader);

/* ------------------------------------------------------------------------ */
/* The audit.                                                                */

/**
 * Creates an audit. Fails with IMADDR_ERR_USAGE when the options are
 * inconsistent (no default domain for the userid scheme, an invalid default
 * domain or IM domain).
 */
enum imaddr_status imaddr_audit_new(const struct imaddr_audit_options *options,
				    struct imaddr_audit **out, struct imaddr_error *err);

/** Adds an output; the audit takes ownership of it. */
void imaddr_audit_add_sink(struct imaddr_audit *audit, struct imaddr_sink *sink);

/**
 * Reads every record from `reader`, checks it, and feeds the sinks; then
 * finds duplicates and ends the sinks. On failure every sink is aborted, so
 * no output is left half-written. `totals` may be NULL.
 */
enum imaddr_status imaddr_audit_run(struct imaddr_audit *audit,
				    struct imaddr_reader *reader,
				    struct imaddr_run_totals *totals,
				    struct imaddr_error *err);

/**
 * Calls `fn` for every user of a finished run in input order, with has_error
 * set. Meant for a sink's `end` (the BAT writer uses it). The users' names
 * (first_name, last_name) are NULL here: the run does not keep them. Stops
 * at, and returns, the first status other than IMADDR_OK.
 */
typedef enum imaddr_status imaddr_user_fn(void *context, const struct imaddr_user *user,
					  struct imaddr_error *err);
enum imaddr_status imaddr_audit_each_user(struct imaddr_audit *audit, imaddr_user_fn *fn,
					  void *context, struct imaddr_error *err);

void imaddr_audit_free(struct imaddr_audit *audit);

/**
 * Asks running audits to stop at the next record: the run then fails with
 * IMADDR_ERR_INTERRUPTED and every output is thrown away. Async-signal-safe,
 * meant for a SIGINT or SIGTERM handler.
 */
void imaddr_audit_request_stop(void);

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
 * when ICU cannot be initialised.
 */
struct imaddr_address_checker;
enum imaddr_status imaddr_address_checker_new(struct imaddr_address_checker **out,
					      struct imaddr_error *err);
/** Checks one address as a directory URI and an IM address ("sip:" accepted). */
const struct imaddr_address_result *imaddr_address_checker_check(
	struct imaddr_address_checker *checker, const char *address, size_t length);
void imaddr_address_checker_free(struct imaddr_address_checker *checker);

/**
 * Checks one address as a directory URI and as an IM address. A "sip:"
 * prefix is accepted. Fails only when ICU cannot be initialised. The report
 * owns copies of everything; release it with imaddr_address_report_release.
 */
enum imaddr_status imaddr_check_address(const char *address, size_t length,
					struct imaddr_address_report *report,
					struct imaddr_error *err);
void imaddr_address_report_release(struct imaddr_address_report *report);

#ifdef __cplusplus
}
#endif

#endif /* IMADDR_H */
