/* What every command of the program shares: exit statuses, messages, option checks. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tool.h"

int tool_exit_for(enum imaddr_status status)
{
	switch (status) {
	case IMADDR_OK:
		return TOOL_EXIT_CLEAN;
	case IMADDR_ERR_USAGE:
	case IMADDR_ERR_INPUT:
		return TOOL_EXIT_USAGE;
	case IMADDR_ERR_INTERRUPTED:
		return TOOL_EXIT_INTERRUPTED;
	default:
		return TOOL_EXIT_FAILURE;
	}
}

void tool_error(const char *format, ...)
{
	va_list args;
	fputs("imaddr: ", stderr);
	va_start(args, format);
	vfprintf(stderr, format, args);
	va_end(args);
	fputc('\n', stderr);
}

bool tool_option_typed_in_full(char **argv, const char *name)
{
	const char *typed = argv[optind - 1];
	/* "--name VALUE": the value is the last element getopt_long used. */
	if (optarg && optarg == typed && optind >= 2)
		typed = argv[optind - 2];
	if (strncmp(typed, "--", 2))
		return false;
	typed += 2;
	size_t length = strcspn(typed, "=");
	return length == strlen(name) && !strncmp(typed, name, length);
}

void tool_option_refused(int result, char **argv, const char *command)
{
	const char *typed = optind >= 1 ? argv[optind - 1] : "";
	char name[64];
	if (optopt)
		snprintf(name, sizeof(name), "-%c", optopt);
	else if (!strncmp(typed, "--", 2))
		/* The name only: "--passwd=S3cr3t" shows "--passwd". */
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(typed, "="), typed);
	else
		snprintf(name, sizeof(name), "?");
	if (result == ':')
		tool_error("option '%s' needs a value", name);
	else
		tool_error("unknown option '%s'%s", name,
			   !strncmp(name, "--pass", 6) || !strncmp(name, "--pw", 4)
				   ? ": passwords never go on the command line (use -y FILE, "
				     TOOL_PASSWORD_ENV " or -W)" : "");
	tool_error("'imaddr %s --help' lists the options (never abbreviated)", command);
}
