#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char usage[] =
	"usage: imaddr report --db FILE --html OUT.html [--run N]\n"
	"Writes the HTML report of a run stored in the SQLite report FILE (imaddr\n"
	"audit --db): the newest run, or run N (runs.id).\n";

int tool_report(int argc, char **argv)
{
	static const struct option options[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "html", required_argument, NULL, 'o' },
		{ "run", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = NULL, *html = NULL;
	long long run = 0;
	struct imaddr_error err = { "" };
	int option;

	while ((option = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (option) {
		case 'd': db = optarg; break;
		case 'o': html = optarg; break;
		case 'r': {
			char *end;
			errno = 0;
			run = strtoll(optarg, &end, 10);
			if (errno || end == optarg || *end || run < 1) {
				tool_error("--run takes a run number (runs.id) from 1, not '%s'", optarg);
				return TOOL_EXIT_USAGE;
			}
			break;
		}
		case 'h':
			fputs(usage, stdout);
			return TOOL_EXIT_CLEAN;
		default:
			fputs(usage, stderr);
			return TOOL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		tool_error("unexpected argument '%s'", argv[optind]);
		return TOOL_EXIT_USAGE;
	}
	if (!db || !html) {
		tool_error("report needs --db FILE and --html OUT.html");
		fputs(usage, stderr);
		return TOOL_EXIT_USAGE;
	}
	enum imaddr_status status = imaddr_report_write_html(db, run, html, &err);
	if (status != IMADDR_OK) {
		tool_error("%s", err.message[0] ? err.message : imaddr_strerror(status));
		return tool_exit_for(status);
	}
	return TOOL_EXIT_CLEAN;
}
