#include <stdio.h>
#include <string.h>

#include "tool.h"

static const char usage[] =
	"usage: imaddr audit [--csv FILE | --ldif FILE | -H URI] [options]\n"
	"       imaddr check-address [-q] [--json] [--fail-on LEVEL] [ADDRESS...]\n"
	"       imaddr report --db FILE [--label NAME] [--run N] [--html OUT.html]\n"
	"                     [--json OUT.json [--json-findings N]]\n"
	"                     [--worklist OUT.xlsx|OUT.csv]\n"
	"       imaddr prune --db FILE --keep N [--label NAME] [--wait SECONDS]\n"
	"       imaddr -h | --help | -V | --version\n"
	"\n"
	"Audits the IM addresses of Cisco Unified CM IM and Presence end users:\n"
	"duplicate and invalid user IDs, directory URIs and IM addresses, under the\n"
	"UserID@Default_Domain or the Directory URI scheme. Writes a BAT import CSV,\n"
	"a SQLite report and a summary. 'imaddr audit --help' lists the options;\n"
	"man imaddr (docs/imaddr.1) says everything.\n";

int main(int argc, char **argv)
{
	/* One buffer for the password, outside any stack frame that could copy it. */
	static struct tool_password password;

	tool_password_take_environment(&password);
	if (argc < 2) {
		tool_error("no command: 'imaddr --help' lists them");
		return TOOL_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, stdout);
		return TOOL_EXIT_CLEAN;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("imaddr %s\n", IMADDR_VERSION);
		return TOOL_EXIT_CLEAN;
	}
	if (!strcmp(argv[1], "audit"))
		return tool_audit(argc - 1, argv + 1, &password);
	if (!strcmp(argv[1], "report"))
		return tool_report(argc - 1, argv + 1);
	if (!strcmp(argv[1], "prune"))
		return tool_prune(argc - 1, argv + 1);
	if (!strcmp(argv[1], "check-address"))
		return tool_check_address(argc - 1, argv + 1);
	if (argv[1][0] == '-')
		tool_error("unknown option '%.*s': 'imaddr --help' lists the commands",
			   (int)strcspn(argv[1], "="), argv[1]);
	else
		tool_error("'%s' is not a command: 'imaddr --help' lists them", argv[1]);
	return TOOL_EXIT_USAGE;
}
