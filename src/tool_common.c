/* What every command of the program shares: exit statuses, messages, option checks. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/*
 * The first message, for the run's syslog line (audit --syslog): a later one
 * is a hint that follows it ("'imaddr audit --help' lists the options").
 */
static char first_error[2 * IMADDR_ERROR_MAX];

void tool_error(const char *format, ...)
{
	char message[sizeof(first_error)];
	va_list args;
	va_start(args, format);
	vsnprintf(message, sizeof(message), format, args);
	va_end(args);
	fprintf(stderr, "imaddr: %s\n", message);
	if (!first_error[0])
		memcpy(first_error, message, sizeof(first_error));
}

const char *tool_first_error(void)
{
	return first_error[0] ? first_error : NULL;
}

static void on_signal(int signal_number)
{
	(void)signal_number;
	imaddr_audit_request_stop();
}

void tool_catch_signals(void)
{
	struct sigaction action;
	memset(&action, 0, sizeof(action));
	action.sa_handler = on_signal;
	sigemptyset(&action.sa_mask);
	sigaction(SIGINT, &action, NULL);
	sigaction(SIGTERM, &action, NULL);
}

static const char *kill_step;

static void kill_at_step(const char *step)
{
	size_t len = strcspn(kill_step, ":");
	if (strncmp(step, kill_step, len) || step[len])
		return;
	if (!strcmp(kill_step + len, ":TERM"))
		raise(SIGTERM);
	else if (!strcmp(kill_step + len, ":INT"))
		raise(SIGINT);
	else
		raise(SIGKILL);
}

static char *where_file_goes(const char *path);

/* PATH.tmp-: the temporary siblings of IMADDR_TEST_FULL_DISK's file. */
static char *full_disk_prefix;

/* Every descriptor open on one of them writes to /dev/full from now on. */
static void fill_disk(void)
{
	DIR *fds = opendir("/proc/self/fd");
	int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
	struct dirent *entry;
	while (fds && full >= 0 && (entry = readdir(fds))) {
		char link[4096];
		ssize_t length = readlinkat(dirfd(fds), entry->d_name, link, sizeof(link) - 1);
		if (length <= 0)
			continue;
		link[length] = '\0';
		if (!strncmp(link, full_disk_prefix, strlen(full_disk_prefix)))
			dup2(full, atoi(entry->d_name));
	}
	if (full >= 0)
		close(full);
	if (fds)
		closedir(fds);
}

static void at_step(const char *step)
{
	if (full_disk_prefix)
		fill_disk();
	if (kill_step)
		kill_at_step(step);
}

void tool_set_test_hooks(void)
{
	const char *full_disk = getenv("IMADDR_TEST_FULL_DISK");
	kill_step = getenv("IMADDR_TEST_KILL_AT");
	if (kill_step && !*kill_step)
		kill_step = NULL;
	if (full_disk && *full_disk) {
		char *where = where_file_goes(full_disk);
		size_t size = where ? strlen(where) + sizeof(".tmp-") : 0;
		free(full_disk_prefix);
		full_disk_prefix = where ? malloc(size) : NULL;
		if (full_disk_prefix)
			snprintf(full_disk_prefix, size, "%s.tmp-", where);
		free(where);
	}
	if (kill_step || full_disk_prefix)
		imaddr_set_step_hook(at_step);
}

bool tool_parse_number(const char *option, const char *text, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long value = strtol(text, &end, 10);
	if (errno || end == text || *end || value < min || value > max) {
		tool_error("%s takes a whole number from %ld to %ld, not '%s'", option, min, max,
			   text);
		return false;
	}
	*out = value;
	return true;
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
	const char *current = argv[optind];   /* argv ends with NULL */
	bool letter = optopt > 0 && optopt < 128 && isgraph(optopt);
	char name[64];
	/*
	 * A letter of a group ("-Zq") is refused while getopt is still on the
	 * group, so the word before is another option's. Else a long option
	 * first: for one that lacks its value, optopt holds the option table's
	 * code, not a letter.
	 */
	if (letter && current && current[0] == '-' && current[1] != '-' &&
	    strchr(current + 1, optopt))
		snprintf(name, sizeof(name), "-%c", optopt);
	else if (!strncmp(typed, "--", 2) && typed[2])
		/* The name only: "--passwd=S3cr3t" shows "--passwd". */
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(typed, "="), typed);
	else if (letter)
		snprintf(name, sizeof(name), "-%c", optopt);
	else
		snprintf(name, sizeof(name), "?");
	if (result == ':')
		tool_error("option '%s' needs a value", name);
	else
		tool_error("unknown option '%s'%s", name,
			   /* ldapsearch's -w: the habit the hint is for. */
			   !strncmp(name, "--pass", 6) || !strncmp(name, "--pw", 4) ||
			   !strcmp(name, "-w")
				   ? ": passwords never go on the command line (use -y FILE, "
				     TOOL_PASSWORD_ENV " or -W)" : "");
	tool_error("'imaddr %s --help' lists the options (never abbreviated)", command);
}

static const char *plural(uint64_t count, const char *one, const char *many)
{
	return count == 1 ? one : many;
}

void tool_print_pruned(FILE *out, const struct imaddr_prune_result *result, unsigned keep,
		       const char *label)
{
	if (!result->runs) {
		if (label)
			fprintf(out, "nothing to remove: label '%s' has no more than %u %s\n", label,
				keep, plural(keep, "run", "runs"));
		else
			fprintf(out, "nothing to remove: no label has more than %u %s\n", keep,
				plural(keep, "run", "runs"));
		return;
	}
	fprintf(out, "removed %llu %s of ", (unsigned long long)result->runs,
		plural(result->runs, "run", "runs"));
	if (label)
		fprintf(out, "label '%s'", label);
	else
		fprintf(out, "%llu %s", (unsigned long long)result->labels,
			plural(result->labels, "label", "labels"));
	fprintf(out, ", keeping the newest %u%s: %llu user %s, %llu finding %s and %llu other %s\n",
		keep, label ? "" : " of each", (unsigned long long)result->user_versions,
		plural(result->user_versions, "version", "versions"),
		(unsigned long long)result->finding_versions,
		plural(result->finding_versions, "version", "versions"),
		(unsigned long long)result->other_rows, plural(result->other_rows, "row", "rows"));
	if (result->vacuumed)
		fprintf(out, "freed %llu bytes: the report went from %llu to %llu bytes (VACUUM)\n",
			(unsigned long long)result->bytes_freed,
			(unsigned long long)result->bytes_before,
			(unsigned long long)result->bytes_after);
	else
		fprintf(out, "freed %llu bytes inside the report (%llu bytes), which its next runs "
			"fill: too few for a VACUUM\n", (unsigned long long)result->bytes_freed,
			(unsigned long long)result->bytes_after);
}

/*
 * Where `path` is or would be: its directory's real path and its name, so
 * that "out.json" and "./dir/../out.json" compare equal before either exists.
 * NULL when its directory cannot be resolved (the run's own check names it).
 */
static char *where_file_goes(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	char *directory = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : NULL;
	char *real = realpath(directory ? directory : ".", NULL);
	free(directory);
	if (!real)
		return NULL;
	size_t size = strlen(real) + strlen(name) + 2;
	char *where = malloc(size);
	if (where)
		snprintf(where, size, "%s/%s", real, name);
	free(real);
	return where;
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
		return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
	char *wa = where_file_goes(a), *wb = where_file_goes(b);
	bool same = wa && wb && !strcmp(wa, wb);
	free(wa);
	free(wb);
	return same;
}

bool tool_paths_apart(const struct tool_path *paths, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (!paths[i].written || !paths[i].path || !strcmp(paths[i].path, "-"))
			continue;
		for (size_t j = 0; j < count; j++) {
			if (j == i || !paths[j].path || !strcmp(paths[j].path, "-") ||
			    (paths[j].written && j > i) || !same_file(paths[i].path, paths[j].path))
				continue;
			if (paths[j].written)
				tool_error("%s and %s both name '%s': give each output a file of its own",
					   paths[j].option, paths[i].option, paths[i].path);
			else
				tool_error("%s '%s' is the file %s names: the run would replace it; "
					   "write the output elsewhere", paths[i].option, paths[i].path,
					   paths[j].option);
			return false;
		}
	}
	return true;
}
