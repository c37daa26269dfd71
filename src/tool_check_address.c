#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char usage[] =
	"usage: imaddr check-address [-q] [--json] [--fail-on error|warning|never] [ADDRESS...]\n"
	"Checks each ADDRESS (or each line of standard input) as a directory URI and\n"
	"IM address. Prints one line per address, tab-separated: the address, its\n"
	"canonical form, its U-label form ('-' when it is no valid URI), then each\n"
	"finding as 'code: message'. With --json, one JSON object per address (JSON\n"
	"Lines).\n"
	"  -q, --quiet    print nothing: the exit status alone tells\n"
	"  --json         JSON Lines instead of tab-separated lines\n"
	"  --fail-on error|warning|never   exit 1 at or above it (error)\n"
	"  -h, --help  -V, --version\n"
	"Exit: 0 clean, 1 findings at or above --fail-on, 2 usage error, 3 I/O failure.\n";

struct run {
	struct imaddr_address_checker *checker;
	enum imaddr_severity fail_on;
	bool never;
	bool failed;
	bool quiet;
	bool json;
	char *line;          /* the output lines being built */
	size_t line_len;
	size_t line_cap;
};

/*
 * Lines are handed to stdout this many bytes at a time: an fwrite a line,
 * stdout's lock and copy included, was a tenth of check-address's work.
 */
#define LINES_PER_WRITE (32 * 1024)

static void put(struct run *run, const char *text, size_t len)
{
	/* An empty address ("") adds nothing, and memcpy must not see a NULL line. */
	if (!len)
		return;
	if (run->line_len + len > run->line_cap) {
		run->line_cap = (run->line_len + len) * 2 + 256;
		run->line = realloc(run->line, run->line_cap);
		if (!run->line) {
			tool_error("out of memory");
			exit(TOOL_EXIT_FAILURE);
		}
	}
	memcpy(run->line + run->line_len, text, len);
	run->line_len += len;
}

static void put_str(struct run *run, const char *text)
{
	put(run, text, strlen(text));
}

/*
 * Whether one of the eight bytes at `text` needs escaping: below 0x20, 0x7f
 * or a backslash. Each test is the classic "has a zero byte" on the word,
 * exact as to whether one exists.
 */
static bool word_needs_escape(const char *text)
{
	const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
	uint64_t word;
	memcpy(&word, text, 8);
	uint64_t delete = word ^ (0x7f * ones);
	uint64_t backslash = word ^ ('\\' * ones);
	return ((word - 0x20 * ones) & ~word & highs) | ((delete - ones) & ~delete & highs) |
	       ((backslash - ones) & ~backslash & highs);
}

/*
 * How many bytes from the start need no escape, eight at a time: the address
 * column is most of what check-address writes, and a byte at a time this
 * test was a third of its instructions for a million addresses.
 */
static size_t plain_prefix(const char *text, size_t length)
{
	size_t i = 0;
	if (length >= 8) {
		while (i + 8 <= length && !word_needs_escape(text + i))
			i += 8;
		/* The last word may overlap the one before: no byte at a time. */
		if (i + 8 > length && (i == length || !word_needs_escape(text + length - 8)))
			return length;
	}
	for (; i < length; i++) {
		unsigned char byte = (unsigned char)text[i];
		if (byte < 0x20 || byte == 0x7f || byte == '\\')
			break;
	}
	return i;
}

/*
 * The address as given, its control characters written \xNN: a tab would
 * add a column and a NUL or line break end one, and every line must stay
 * one address's. A backslash is doubled, so that a\x09b given as such
 * reads apart from a tab.
 */
static void put_address(struct run *run, const char *address, size_t length)
{
	size_t done = 0;
	for (;;) {
		size_t plain = plain_prefix(address + done, length - done);
		put(run, address + done, plain);
		done += plain;
		if (done == length)
			return;
		unsigned char byte = (unsigned char)address[done++];
		char escaped[5];
		if (byte == '\\')
			memcpy(escaped, "\\\\", 3);
		else
			snprintf(escaped, sizeof(escaped), "\\x%02x", byte);
		put(run, escaped, strlen(escaped));
	}
}

/* A valid address's form has no control character, but may have a backslash. */
static void put_form(struct run *run, const char *form)
{
	if (!form) {
		put(run, "-", 1);
		return;
	}
	size_t length = strlen(form);
	/* memchr looks for the backslash many bytes a step. */
	if (memchr(form, '\\', length))
		put_address(run, form, length);
	else
		put(run, form, length);
}

static void check_one(const char *address, size_t length, struct run *run)
{
	const struct imaddr_address_result *result =
		imaddr_address_checker_check(run->checker, address, length);
	for (size_t i = 0; i < result->finding_count; i++) {
		if (!run->never && imaddr_code_severity(result->findings[i].code) >= run->fail_on)
			run->failed = true;
	}
	/* -q: the exit status alone, in either form. */
	if (run->quiet)
		return;
	if (run->json) {
		struct imaddr_error err;
		/* A failed write shows in the final fflush's status. */
		imaddr_address_result_write_json(address, length, result, stdout, &err);
		return;
	}
	put_address(run, address, length);
	put(run, "\t", 1);
	put_form(run, result->canonical);
	put(run, "\t", 1);
	put_form(run, result->unicode);
	for (size_t i = 0; i < result->finding_count; i++) {
		const struct imaddr_address_result_finding *finding = &result->findings[i];
		put(run, "\t", 1);
		put_str(run, imaddr_code_name(finding->code));
		put(run, ": ", 2);
		put_str(run, finding->message);
		if (finding->suggestion) {
			put(run, " (use '", 7);
			put_str(run, finding->suggestion);
			put(run, "')", 2);
		}
	}
	put(run, "\n", 1);
	if (run->line_len >= LINES_PER_WRITE) {
		fwrite(run->line, 1, run->line_len, stdout);
		run->line_len = 0;
	}
}

int tool_check_address(int argc, char **argv)
{
	static const struct option options[] = {
		{ "fail-on", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "version", no_argument, NULL, 'V' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct run run = { .fail_on = IMADDR_SEVERITY_ERROR };
	struct imaddr_error err;
	int option, index;

	opterr = 0;
	while (index = -1, (option = getopt_long(argc, argv, ":hqV", options, &index)) != -1) {
		if (index >= 0 && !tool_option_typed_in_full(argv, options[index].name)) {
			optopt = 0;
			optind -= options[index].has_arg && optarg == argv[optind - 1] ? 1 : 0;
			option = '?';
		}
		switch (option) {
		case 'f':
			if (!strcmp(optarg, "never"))
				run.never = true;
			else if (!imaddr_severity_parse(optarg, &run.fail_on) ||
				 run.fail_on == IMADDR_SEVERITY_INFO) {
				tool_error("--fail-on takes error, warning or never, not '%s'", optarg);
				return TOOL_EXIT_USAGE;
			}
			break;
		case 'j':
			run.json = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return TOOL_EXIT_CLEAN;
		case 'q':
			run.quiet = true;
			break;
		case 'V':
			printf("imaddr %s\n", IMADDR_VERSION);
			return TOOL_EXIT_CLEAN;
		default:
			tool_option_refused(option, argv, "check-address");
			return TOOL_EXIT_USAGE;
		}
	}
	enum imaddr_status status = imaddr_address_checker_new(&run.checker, &err);
	if (status != IMADDR_OK) {
		tool_error("%s", err.message);
		return tool_exit_for(status);
	}
	if (optind < argc) {
		for (int i = optind; i < argc; i++)
			check_one(argv[i], strlen(argv[i]), &run);
	} else {
		char *line = NULL;
		size_t size = 0;
		ssize_t length;
		/* Large batches: a block-buffered stdout costs one write per 64 KiB. */
		static char out_buffer[1 << 16];
		setvbuf(stdout, out_buffer, _IOFBF, sizeof(out_buffer));
		bool first = true;
		while ((length = getline(&line, &size, stdin)) >= 0) {
			while (length && (line[length - 1] == '\n' || line[length - 1] == '\r'))
				length--;
			/* A list saved by Notepad or Excel starts with a byte order mark. */
			char *address = line;
			if (first && length >= 3 && !memcmp(line, "\xef\xbb\xbf", 3)) {
				address += 3;
				length -= 3;
			}
			first = false;
			/* Every line gets a line back, an empty one too, so that they pair up. */
			check_one(address, (size_t)length, &run);
		}
		free(line);
	}
	imaddr_address_checker_free(run.checker);
	/* With --json or -q nothing was put, and fwrite must not see a NULL line. */
	if (run.line_len)
		fwrite(run.line, 1, run.line_len, stdout);
	free(run.line);
	if (fflush(stdout) != 0) {
		tool_error("cannot write the results");
		return TOOL_EXIT_FAILURE;
	}
	return run.failed ? TOOL_EXIT_FINDINGS : TOOL_EXIT_CLEAN;
}
