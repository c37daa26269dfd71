#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char usage[] =
	"usage: imaddr prune --db FILE --keep N [--label NAME] [--wait SECONDS]\n"
	"Removes from the SQLite report FILE (imaddr audit --db) every run but the\n"
	"newest N of each label, or of the label NAME alone, in one transaction; then\n"
	"gives the space back (VACUUM) when a tenth of the report or more is free.\n"
	"Every kept run reads as it did.\n"
	"  --wait SECONDS  wait for a run that holds the report (30)\n"
	"  -h, --help  -V, --version\n"
	"Exit: 0 done, 2 usage error or no such label, 3 not an imaddr report, locked\n"
	"past --wait, or I/O failure.\n";

int tool_prune(int argc, char **argv)
{
	static const struct option options[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "keep", required_argument, NULL, 'k' },
		{ "label", required_argument, NULL, 'l' },
		{ "wait", required_argument, NULL, 'w' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = NULL, *label = NULL;
	long keep = 0, wait_seconds = -1;
	struct imaddr_prune_result result;
	struct imaddr_error err = { "" };
	int option, index;

	opterr = 0;
	while (index = -1, (option = getopt_long(argc, argv, ":hV", options, &index)) != -1) {
		if (index >= 0 && !tool_option_typed_in_full(argv, options[index].name)) {
			optopt = 0;
			optind -= options[index].has_arg && optarg == argv[optind - 1] ? 1 : 0;
			option = '?';
		}
		switch (option) {
		case 'd': db = optarg; break;
		case 'k':
			if (!tool_parse_number("--keep", optarg, 1, INT_MAX, &keep))
				return TOOL_EXIT_USAGE;
			break;
		case 'l':
			if (!*optarg) {
				tool_error("--label takes a name, not ''");
				return TOOL_EXIT_USAGE;
			}
			label = optarg;
			break;
		case 'w':
			if (!tool_parse_number("--wait", optarg, 0, 86400, &wait_seconds))
				return TOOL_EXIT_USAGE;
			break;
		case 'h':
			fputs(usage, stdout);
			return TOOL_EXIT_CLEAN;
		case 'V':
			printf("imaddr %s\n", IMADDR_VERSION);
			return TOOL_EXIT_CLEAN;
		default:
			tool_option_refused(option, argv, "prune");
			return TOOL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		tool_error("unexpected argument '%s'", argv[optind]);
		return TOOL_EXIT_USAGE;
	}
	if (!db || !keep) {
		tool_error("prune needs --db FILE and --keep N");
		fputs(usage, stderr);
		return TOOL_EXIT_USAGE;
	}
	enum imaddr_status status = imaddr_report_prune(db, label, (unsigned)keep,
							wait_seconds < 0 ? -1
									 : (int)wait_seconds * 1000,
							&result, &err);
	if (status != IMADDR_OK) {
		tool_error("%s", err.message[0] ? err.message : imaddr_strerror(status));
		return tool_exit_for(status);
	}
	tool_print_pruned(stdout, &result, (unsigned)keep, label);
	if (fflush(stdout) != 0) {
		tool_error("cannot write what was removed");
		return TOOL_EXIT_FAILURE;
	}
	return TOOL_EXIT_CLEAN;
}
