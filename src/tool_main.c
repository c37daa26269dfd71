#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tool.h"

static const char usage[] =
	"usage: imaddr audit (--csv FILE | --ldif FILE | --ldap URI) [options]\n"
	"       imaddr check-address [--json] [ADDRESS...]\n"
	"       imaddr report --db FILE --html OUT.html [--run N]\n"
	"       imaddr --help | --version\n"
	"\n"
	"Audits the IM addresses of Cisco Unified CM IM and Presence end users:\n"
	"duplicate and invalid user IDs, directory URIs and IM addresses, under the\n"
	"UserID@Default_Domain or the Directory URI scheme. Writes a BAT import CSV,\n"
	"a SQLite report and a summary. 'imaddr audit --help' lists the options;\n"
	"man imaddr (docs/imaddr.1) says everything.\n";

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

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return TOOL_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, stdout);
		return TOOL_EXIT_CLEAN;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("imaddr %s\n", IMADDR_VERSION);
		return TOOL_EXIT_CLEAN;
	}
	if (!strcmp(argv[1], "audit"))
		return tool_audit(argc - 1, argv + 1);
	if (!strcmp(argv[1], "report"))
		return tool_report(argc - 1, argv + 1);
	if (!strcmp(argv[1], "check-address"))
		return tool_check_address(argc - 1, argv + 1);
	tool_error("'%s' is not a command", argv[1]);
	fputs(usage, stderr);
	return TOOL_EXIT_USAGE;
}
