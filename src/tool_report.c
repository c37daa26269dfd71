#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char usage[] =
	"usage: imaddr report --db FILE [--label NAME] [--run N] [--html OUT.html]\n"
	"                     [--json OUT.json [--json-findings N]]\n"
	"                     [--worklist OUT.xlsx|OUT.csv]\n"
	"Prints the summary of a run stored in the SQLite report FILE (imaddr audit\n"
	"--db) as the audit printed it, with what changed since the previous run; or\n"
	"writes its HTML report to OUT.html, its JSON document to OUT.json ('-':\n"
	"standard output) with the first N findings of each code (20), its worklist\n"
	"(a row per finding, for the people who fix them), or several of these. The\n"
	"run: the newest, the newest of the label NAME, or run N (runs.id). The\n"
	"report is only read.\n"
	"  -h, --help  -V, --version\n"
	"Exit: 0 done, 2 usage error or no such run, 3 not an imaddr report or I/O failure,\n"
	"130 stopped by SIGINT or SIGTERM (no output left half-written).\n";

int tool_report(int argc, char **argv)
{
	static const struct option options[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "html", required_argument, NULL, 'o' },
		{ "json", required_argument, NULL, 'j' },
		{ "json-findings", required_argument, NULL, 'n' },
		{ "label", required_argument, NULL, 'l' },
		{ "run", required_argument, NULL, 'r' },
		{ "worklist", required_argument, NULL, 'w' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = NULL, *html = NULL, *json = NULL, *worklist = NULL, *label = NULL;
	long long run = 0;
	long json_findings = IMADDR_JSON_FINDINGS_PER_CODE;
	bool json_findings_given = false;
	int64_t found = 0;
	struct imaddr_error err = { "" };
	int option, index;

	opterr = 0;
	while (index = -1, (option = getopt_long(argc, argv, ":hV", options, &index)) != -1) {
		/* Never abbreviated, as everywhere (tool_option_typed_in_full). */
		if (index >= 0 && !tool_option_typed_in_full(argv, options[index].name)) {
			optopt = 0;
			optind -= options[index].has_arg && optarg == argv[optind - 1] ? 1 : 0;
			option = '?';
		}
		switch (option) {
		case 'd': db = optarg; break;
		case 'o': html = optarg; break;
		case 'j': json = optarg; break;
		case 'w': worklist = optarg; break;
		case 'n':
			if (!tool_parse_number("--json-findings", optarg, 0, 1000000, &json_findings))
				return TOOL_EXIT_USAGE;
			json_findings_given = true;
			break;
		case 'l':
			if (!*optarg) {
				tool_error("--label takes a name, not ''");
				return TOOL_EXIT_USAGE;
			}
			label = optarg;
			break;
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
		case 'V':
			printf("imaddr %s\n", IMADDR_VERSION);
			return TOOL_EXIT_CLEAN;
		default:
			tool_option_refused(option, argv, "report");
			return TOOL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		tool_error("unexpected argument '%s'", argv[optind]);
		return TOOL_EXIT_USAGE;
	}
	if (!db) {
		tool_error("report needs --db FILE");
		fputs(usage, stderr);
		return TOOL_EXIT_USAGE;
	}
	const struct tool_path paths[] = {
		{ "--db", db, false }, { "--html", html, true },
		{ "--json", json, true }, { "--worklist", worklist, true },
	};
	if (!tool_paths_apart(paths, sizeof(paths) / sizeof(paths[0])))
		return TOOL_EXIT_USAGE;
	if (json_findings_given && !json) {
		tool_error("--json-findings needs --json");
		return TOOL_EXIT_USAGE;
	}
	/* As the audit: a stop removes what is not in place yet, and exits 130. */
	tool_set_test_hooks();
	tool_catch_signals();
	enum imaddr_status status = imaddr_report_find_run(db, label, run, &found, &err);
	if (status == IMADDR_OK && html)
		status = imaddr_report_write_html(db, found, html, &err);
	if (status == IMADDR_OK && json)
		status = imaddr_report_write_json(db, found, json, (size_t)json_findings, &err);
	if (status == IMADDR_OK && worklist)
		status = imaddr_report_write_worklist(db, found, worklist, &err);
	if (status == IMADDR_OK && !html && !json && !worklist)
		status = imaddr_report_write_summary(db, found, stdout, &err);
	if (status != IMADDR_OK) {
		tool_error("%s", err.message[0] ? err.message : imaddr_strerror(status));
		return tool_exit_for(status);
	}
	return TOOL_EXIT_CLEAN;
}
