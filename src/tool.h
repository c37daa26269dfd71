/* The imaddr program: a thin command line over the library. */
#ifndef IMADDR_TOOL_H
#define IMADDR_TOOL_H

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

int tool_audit(int argc, char **argv);
int tool_check_address(int argc, char **argv);
int tool_report(int argc, char **argv);

#endif /* IMADDR_TOOL_H */
