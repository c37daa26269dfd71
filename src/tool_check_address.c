#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char usage[] =
	"usage: imaddr check-address [--fail-on error|warning|never] [ADDRESS...]\n"
	"Checks each ADDRESS (or each line of standard input) as a directory URI and\n"
	"IM address. Prints one line per address, tab-separated: the address, its\n"
	"canonical form, its U-label form ('-' when invalid), then each finding as\n"
	"'code: message'.\n";

struct counts {
	enum imaddr_severity fail_on;
	bool never;
	bool failed;
};

static int check_one(const char *address, size_t length, struct counts *counts)
{
	struct imaddr_address_report report;
	struct imaddr_error err;
	enum imaddr_status status = imaddr_check_address(address, length, &report, &err);
	if (status != IMADDR_OK) {
		tool_error("%s", err.message);
		return tool_exit_for(status);
	}
	fwrite(address, 1, length, stdout);
	printf("\t%s\t%s", report.canonical ? report.canonical : "-",
	       report.unicode ? report.unicode : "-");
	for (size_t i = 0; i < report.finding_count; i++) {
		enum imaddr_code code = report.findings[i].code;
		printf("\t%s: %s", imaddr_code_name(code), report.findings[i].message);
		if (!counts->never && imaddr_code_severity(code) >= counts->fail_on)
			counts->failed = true;
	}
	putchar('\n');
	imaddr_address_report_release(&report);
	return TOOL_EXIT_CLEAN;
}

int tool_check_address(int argc, char **argv)
{
	static const struct option options[] = {
		{ "fail-on", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct counts counts = { .fail_on = IMADDR_SEVERITY_ERROR };
	int option, exit_status = TOOL_EXIT_CLEAN;

	while ((option = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (option) {
		case 'f':
			if (!strcmp(optarg, "never"))
				counts.never = true;
			else if (!imaddr_severity_parse(optarg, &counts.fail_on) ||
				 counts.fail_on == IMADDR_SEVERITY_INFO) {
				tool_error("--fail-on takes error, warning or never, not '%s'", optarg);
				return TOOL_EXIT_USAGE;
			}
			break;
		case 'h':
			fputs(usage, stdout);
			return TOOL_EXIT_CLEAN;
		default:
			fputs(usage, stderr);
			return TOOL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		for (int i = optind; i < argc && exit_status == TOOL_EXIT_CLEAN; i++)
			exit_status = check_one(argv[i], strlen(argv[i]), &counts);
	} else {
		char *line = NULL;
		size_t size = 0;
		ssize_t length;
		/* Large batches: a block-buffered stdout costs one write per 4 KiB. */
		setvbuf(stdout, NULL, _IOFBF, 1 << 16);
		while (exit_status == TOOL_EXIT_CLEAN &&
		       (length = getline(&line, &size, stdin)) >= 0) {
			while (length && (line[length - 1] == '\n' || line[length - 1] == '\r'))
				length--;
			if (length)
				exit_status = check_one(line, (size_t)length, &counts);
		}
		free(line);
	}
	if (fflush(stdout) != 0) {
		tool_error("cannot write the results");
		return TOOL_EXIT_FAILURE;
	}
	if (exit_status != TOOL_EXIT_CLEAN)
		return exit_status;
	return counts.failed ? TOOL_EXIT_FINDINGS : TOOL_EXIT_CLEAN;
}
