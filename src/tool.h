/* The imaddr program: a thin command line over the library. */
#ifndef IMADDR_TOOL_H
#define IMADDR_TOOL_H

#include <stdio.h>

#include "imaddr.h"

/* Exit statuses, documented in docs/imaddr.1. */
enum tool_exit {
	TOOL_EXIT_CLEAN = 0,        /* nothing at or above the --fail-on threshold */
	TOOL_EXIT_FINDINGS = 1,     /* findings at or above the threshold */
	TOOL_EXIT_USAGE = 2,        /* usage error, or input that cannot be read */
	TOOL_EXIT_FAILURE = 3,      /* I/O, LDAP or report database failure */
	TOOL_EXIT_INTERRUPTED = 130 /* stopped by SIGINT or SIGTERM */
};

/** The exit status for a library status. */
int tool_exit_for(enum imaddr_status status);
/** Prints "imaddr: message" to standard error. */
void tool_error(const char *format, ...) __attribute__((format(printf, 1, 2)));
/** The first message tool_error printed (without "imaddr: "), or NULL. */
const char *tool_first_error(void);
/**
 * SIGINT and SIGTERM ask the library to stop (imaddr_audit_request_stop):
 * the command then throws its outputs away and exits TOOL_EXIT_INTERRUPTED.
 */
void tool_catch_signals(void);
/**
 * The tests' hooks on the library's steps (imaddr_set_step_hook):
 * IMADDR_TEST_KILL_AT=STEP raises SIGKILL at that step (the tests of what a
 * killed run leaves, tests/cases/kill-*); STEP:TERM and STEP:INT raise that
 * signal instead. IMADDR_TEST_FULL_DISK=PATH: from the first step on (begun
 * in the audit, output-opened in report), the output PATH's temporary file
 * writes to /dev/full, as if its disk had filled up (ENOSPC).
 */
void tool_set_test_hooks(void);
/**
 * What a prune removed (imaddr prune, audit --keep-runs), `keep` runs kept
 * of each label or of `label`: a line or two to `out`.
 */
void tool_print_pruned(FILE *out, const struct imaddr_prune_result *result, unsigned keep,
		       const char *label);

/* ------------------------------------------------------------------------ */
/* The bind password (tool_password.c).                                      */

#define TOOL_PASSWORD_ENV "IMADDR_LDAP_PASSWORD"

/** The program's one buffer for the LDAP password; main() owns it. */
struct tool_password {
	char text[512];
	bool held;               /* text is a password, not empty */
	bool from_environment;   /* IMADDR_LDAP_PASSWORD was set (maybe empty) */
	bool too_long;           /* IMADDR_LDAP_PASSWORD did not fit */
};

/**
 * At start-up: copies IMADDR_LDAP_PASSWORD, if set, into the buffer, wipes the
 * environment's copy and removes the variable, so that no child process and
 * no reader of /proc/PID/environ sees it. The process is then not dumpable.
 */
void tool_password_take_environment(struct tool_password *password);
/**
 * The first line of the file at path, its line end removed. Refuses a file
 * that other users may read or write, an empty one, or a line that does not
 * fit. Prints its own message; returns a TOOL_EXIT_* status. The process is
 * not dumpable from then on.
 */
int tool_password_read_file(struct tool_password *password, const char *path);
/** Asks on the terminal, without echo; as tool_password_read_file. */
int tool_password_prompt(struct tool_password *password, const char *bind_dn);
/** Wipes the buffer (explicit_bzero). */
void tool_password_clear(struct tool_password *password);

/* ------------------------------------------------------------------------ */
/* The configuration file (tool_config.c).                                   */

/* Read when present and no --config is given. */
/*
 * A configuration file is a few hundred bytes: one past this (a device such
 * as /dev/zero, which has no end) is refused once this much is read.
 */
#define TOOL_CONFIG_MAX_BYTES (1024 * 1024)

#ifndef TOOL_CONFIG_DEFAULT
#define TOOL_CONFIG_DEFAULT "/etc/imaddr/imaddr.conf"
#endif
/* Names the file read without --config instead, "" for none (the tests' own runs). */
#define TOOL_CONFIG_ENV "IMADDR_CONFIG"

/** TOOL_CONFIG_ENV's value when set, else TOOL_CONFIG_DEFAULT; "" for none. */
const char *tool_config_default_path(void);

/** One "name = value" line; section "" before the first [profile]. */
struct tool_config_entry {
	char *section;
	char *key;
	char *value;
	int line;
};

/** A configuration file's settings in file order; path is borrowed. */
struct tool_config_file {
	const char *path;
	struct tool_config_entry *entries;
	size_t count;
	size_t cap;
};

/**
 * Reads every setting of the INI file at path (libinih: '#' and ';'
 * comments, [sections]). A syntax error or a line too long for libinih is
 * reported with its line. Prints its own message; returns a TOOL_EXIT_*
 * status. Release the file in any case.
 */
int tool_config_read(struct tool_config_file *file, const char *path);
/** Whether the file has settings in [section]. */
bool tool_config_has_section(const struct tool_config_file *file, const char *section);
void tool_config_release(struct tool_config_file *file);

/* ------------------------------------------------------------------------ */
/* The run's line for syslog (tool_syslog.c): audit --syslog.                */

struct imaddr_buf;

/** What one run's line says; a count the run did not get to is "-". */
struct tool_syslog_run {
	const char *label;           /* NULL before the options were read */
	int64_t run_id;              /* in the report; 0 without one */
	int64_t previous_run_id;     /* the run compared with; 0 for none */
	bool completed;              /* the run ended: the counts are known */
	uint64_t users;
	uint64_t errors;
	uint64_t warnings;
	uint64_t new_findings;       /* any severity; with a previous run only */
	uint64_t resolved_findings;
	int exit_status;
	const char *error;           /* the message printed, when it failed */
};

/**
 * The line, appended to `out`: key=value fields, always the same keys in the
 * same order: label="users.csv" run=42 previous=41 users=1200 errors=3
 * warnings=10 new=1 resolved=2 exit=1, then error="..." after a failure.
 * Quoted values escape '"', '\' and control characters.
 */
void tool_syslog_format(const struct tool_syslog_run *run, struct imaddr_buf *out);
/** LOG_INFO for exit 0, LOG_WARNING for 1 (findings), LOG_ERR for a failure. */
int tool_syslog_priority(int exit_status);
/** The facility of a name (user, daemon, local0 to local7); false for another. */
bool tool_syslog_facility(const char *name, int *facility);
/** The line through syslog(3): ident "imaddr" with the PID, at `facility` (0: LOG_USER). */
void tool_syslog_send(int facility, const struct tool_syslog_run *run);

/* ------------------------------------------------------------------------ */
/* Options.                                                                  */

/**
 * Whether the long option getopt_long just returned (longindex, optind and
 * optarg as it left them) was typed in full: getopt_long takes any unique
 * abbreviation, and "--password S3cr3t" must not become --password-file.
 */
bool tool_option_typed_in_full(char **argv, const char *name);
/**
 * Prints what getopt_long refused (optstring starts with ':'), without ever
 * echoing a value, which could be a password.
 */
void tool_option_refused(int result, char **argv, const char *command);
/**
 * An option's whole number from `min` to `max` into `*out`; else prints
 * "OPTION takes a whole number from MIN to MAX, not 'TEXT'" and is false.
 */
bool tool_parse_number(const char *option, const char *text, long min, long max, long *out);

/** A file a command reads or writes, named by the option that gave it. */
struct tool_path {
	const char *option;   /* "--csv", "--db", "--json"... */
	const char *path;     /* NULL: not given; "-": standard input or output */
	bool written;         /* an output; the others are read (the report: both) */
};
/**
 * Refuses an output that names a file another option names: an input, the
 * report, or another output (the same file by device and inode, or by its
 * directory's real path and its name when it does not exist yet), which the
 * run would otherwise replace when it puts its outputs in place. Prints the
 * message; false when refused.
 */
bool tool_paths_apart(const struct tool_path *paths, size_t count);

int tool_audit(int argc, char **argv, struct tool_password *password);
/**
 * What tool_audit does before it reads a password: `argv` (argv[0] is
 * "audit") and the configuration file read and checked, with the same
 * messages and TOOL_EXIT_* status (TOOL_EXIT_CLEAN after --help and
 * --version), and nothing opened or run. Never exits; may be called again.
 * The option fuzzer's entry (tests/fuzz/fuzz_options.c).
 */
int tool_audit_configure_only(int argc, char **argv);
int tool_check_address(int argc, char **argv);
int tool_prune(int argc, char **argv);
int tool_report(int argc, char **argv);

#endif /* IMADDR_TOOL_H */
