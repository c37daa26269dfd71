/*
 * The run's syslog line (src/tool_syslog.c): its format, and the line the
 * program sends through syslog(3) as a syslog daemon receives it.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "buffer.h"
#include "tempdir.h"
#include "tool.h"

TEMPDIR_TEST_SUITE(tool_syslog);

static char *line_of(const struct tool_syslog_run *run)
{
	struct imaddr_buf line;
	imaddr_buf_init(&line, 0);
	tool_syslog_format(run, &line);
	return imaddr_buf_detach(&line);
}

static void expect_line(const struct tool_syslog_run *run, const char *expected)
{
	char *line = line_of(run);
	cr_expect_str_eq(line, expected);
	free(line);
}

Test(tool_syslog, a_night_compared_with_the_one_before)
{
	struct tool_syslog_run run = {
		.label = "users.csv", .run_id = 42, .previous_run_id = 41, .completed = true,
		.users = 48210, .errors = 3, .warnings = 10, .new_findings = 1,
		.resolved_findings = 2, .exit_status = 1,
	};
	expect_line(&run, "label=\"users.csv\" run=42 previous=41 users=48210 errors=3 "
			  "warnings=10 new=1 resolved=2 exit=1");
}

Test(tool_syslog, the_first_run_of_a_label_has_nothing_new_or_resolved)
{
	struct tool_syslog_run run = {
		.label = "users.csv", .run_id = 1, .completed = true, .users = 5, .errors = 1,
		.exit_status = 1,
	};
	expect_line(&run, "label=\"users.csv\" run=1 previous=- users=5 errors=1 warnings=0 "
			  "new=- resolved=- exit=1");
}

Test(tool_syslog, a_run_without_a_report)
{
	struct tool_syslog_run run = { .label = "users.csv", .completed = true, .users = 5 };
	expect_line(&run, "label=\"users.csv\" run=- previous=- users=5 errors=0 warnings=0 "
			  "new=- resolved=- exit=0");
}

/* A failed run says why; its label may hold anything a filter does. */
Test(tool_syslog, a_failed_run_says_why_in_one_line)
{
	struct tool_syslog_run run = {
		.label = "ldap://dc1/dc=example??sub?(cn=\"a\\b\")",
		.exit_status = 3,
		.error = "ldap://dc1: can't contact LDAP server\nretry 'later'\t\x7f",
	};
	expect_line(&run, "label=\"ldap://dc1/dc=example??sub?(cn=\\\"a\\\\b\\\")\" run=- "
			  "previous=- users=- errors=- warnings=- new=- resolved=- exit=3 "
			  "error=\"ldap://dc1: can't contact LDAP server\\x0aretry 'later'\\x09"
			  "\\x7f\"");
}

Test(tool_syslog, before_the_options_were_read)
{
	struct tool_syslog_run run = { .exit_status = 2, .error = "--wait takes a number" };
	expect_line(&run, "label=- run=- previous=- users=- errors=- warnings=- new=- "
			  "resolved=- exit=2 error=\"--wait takes a number\"");
}

Test(tool_syslog, utf8_labels_stay_as_they_are)
{
	struct tool_syslog_run run = { .label = "m\xc3\xbcnchen.csv", .completed = true };
	expect_line(&run, "label=\"m\xc3\xbcnchen.csv\" run=- previous=- users=0 errors=0 "
			  "warnings=0 new=- resolved=- exit=0");
}

Test(tool_syslog, priorities_follow_the_exit_status)
{
	cr_expect_eq(tool_syslog_priority(0), LOG_INFO);
	cr_expect_eq(tool_syslog_priority(1), LOG_WARNING);
	cr_expect_eq(tool_syslog_priority(2), LOG_ERR);
	cr_expect_eq(tool_syslog_priority(3), LOG_ERR);
	cr_expect_eq(tool_syslog_priority(130), LOG_ERR);
}

Test(tool_syslog, facilities_by_name)
{
	int facility = -1;
	cr_expect(tool_syslog_facility("user", &facility));
	cr_expect_eq(facility, LOG_USER);
	cr_expect(tool_syslog_facility("daemon", &facility));
	cr_expect_eq(facility, LOG_DAEMON);
	cr_expect(tool_syslog_facility("local7", &facility));
	cr_expect_eq(facility, LOG_LOCAL7);
	cr_expect(!tool_syslog_facility("local8", &facility));
	cr_expect(!tool_syslog_facility("kern", &facility));
	cr_expect(!tool_syslog_facility("", &facility));
}

/* ------------------------------------------------------------------------ */
/*
 * The program's line as a syslog daemon gets it. glibc's syslog(3) writes
 * to /dev/log, a path fixed when glibc was built, which a test cannot point
 * elsewhere nor bind without root. So the program runs in a user and mount
 * namespace of its own (no root needed where unprivileged user namespaces
 * are allowed, as on Debian 12), with a tmpfs on /dev and there a datagram
 * socket at /dev/log that this test reads: what journald or rsyslogd would
 * read. The test is skipped, saying why, where namespaces are refused.
 */

static bool write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	bool written = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	if (fd >= 0)
		close(fd);
	return written;
}

/* In the child: a namespace whose /dev/log is `*listener`. NULL, or why not. */
static const char *own_dev_log(int *listener)
{
	char map[64];
	uid_t uid = getuid();
	gid_t gid = getgid();
	struct sockaddr_un address = { .sun_family = AF_UNIX, .sun_path = "/dev/log" };

	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
		return "unshare(CLONE_NEWUSER | CLONE_NEWNS) refused";
	/* setgroups is absent before Linux 3.19; the gid map then needs no denial. */
	write_text("/proc/self/setgroups", "deny");
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	if (!write_text("/proc/self/uid_map", map))
		return "no uid map in the user namespace";
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
	if (!write_text("/proc/self/gid_map", map))
		return "no gid map in the user namespace";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		return "mounts cannot be made private";
	if (mount("tmpfs", "/dev", "tmpfs", 0, "mode=0755") != 0)
		return "no tmpfs on /dev in the namespace";
	*listener = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (*listener < 0 || bind(*listener, (struct sockaddr *)&address, sizeof(address)) != 0)
		return "no socket at /dev/log";
	return NULL;
}

/*
 * Runs `imaddr audit ARGS... --syslog ...` with a /dev/log of its own; the
 * datagram it sent, or "skip: why", or "fail: what". Free it.
 */
static char *syslog_datagram_of(char *const audit_args[])
{
	const char *imaddr = getenv("IMADDR");
	char *output = tempdir_path(dir, "imaddr-output");
	int result[2];
	struct imaddr_buf reply;
	char chunk[4096];
	ssize_t got;
	int status;

	cr_assert_not_null(imaddr, "IMADDR names the program under test (tests/run-unit)");
	cr_assert_eq(pipe(result), 0);
	pid_t child = fork();
	cr_assert_neq(child, -1);
	if (child == 0) {
		int listener = -1;
		char message[4096];
		close(result[0]);
		const char *why_not = own_dev_log(&listener);
		if (why_not) {
			dprintf(result[1], "skip: %s (%s)", why_not, strerror(errno));
			_exit(0);
		}
		pid_t audit = fork();
		if (audit == 0) {
			int fd = open(output, O_WRONLY | O_CREAT | O_TRUNC, 0600);
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			execv(imaddr, audit_args);
			_exit(127);
		}
		/* The datagram waits in the socket once sent, before the program ends. */
		waitpid(audit, &status, 0);
		struct pollfd ready = { .fd = listener, .events = POLLIN };
		ssize_t length = poll(&ready, 1, 1000) == 1
					 ? recv(listener, message, sizeof(message) - 1, 0) : -1;
		if (length < 0)
			dprintf(result[1], "fail: no datagram at /dev/log (exit %d, output in %s)",
				WIFEXITED(status) ? WEXITSTATUS(status) : -1, output);
		else
			dprintf(result[1], "%.*s", (int)length, message);
		_exit(0);
	}
	close(result[1]);
	imaddr_buf_init(&reply, 0);
	while ((got = read(result[0], chunk, sizeof(chunk))) > 0)
		imaddr_buf_append(&reply, chunk, (size_t)got);
	close(result[0]);
	waitpid(child, &status, 0);
	free(output);
	return reply.len ? imaddr_buf_detach(&reply) : imaddr_xstrdup("fail: no reply");
}

static const char users_csv[] =
	"sAMAccountName,mail,sn\n"
	"ann,ann@example.com,Lee\n"
	"bad,not-an-address,Bad\n";

Test(tool_syslog, the_program_sends_its_line_through_syslog)
{
	char *input = tempdir_write_str(dir, "users-2026-12-01.csv", users_csv);
	char *args[] = { "imaddr", "audit", "--csv", input, "--scheme", "directory-uri",
			 "--syslog", "--syslog-facility", "local3", NULL };
	char *datagram = syslog_datagram_of(args);
	char expected_head[32];
	int pid = 0;

	if (!strncmp(datagram, "skip: ", 6))
		cr_skip_test("%s", datagram + 6);
	cr_assert(strncmp(datagram, "fail: ", 6), "%s", datagram);
	/* <PRI>, RFC 3164's timestamp, the ident and PID, the line. */
	snprintf(expected_head, sizeof(expected_head), "<%d>", LOG_LOCAL3 | LOG_WARNING);
	cr_expect(!strncmp(datagram, expected_head, strlen(expected_head)), "%s", datagram);
	const char *ident = strstr(datagram, " imaddr[");
	cr_assert_not_null(ident, "%s", datagram);
	cr_expect_eq(sscanf(ident, " imaddr[%d]: ", &pid), 1, "%s", datagram);
	cr_expect_gt(pid, 0);
	cr_expect_str_eq(strstr(ident, "]: ") + 3,
			 "label=\"users.csv\" run=- previous=- users=2 errors=1 warnings=0 new=- "
			 "resolved=- exit=1");
	free(datagram);
	free(input);
}

Test(tool_syslog, a_failed_run_sends_its_message)
{
	char *missing = tempdir_path(dir, "missing.csv");
	char *args[] = { "imaddr", "audit", "--csv", missing, "--scheme", "directory-uri",
			 "--syslog", NULL };
	char *datagram = syslog_datagram_of(args);
	char expected_head[32];

	if (!strncmp(datagram, "skip: ", 6))
		cr_skip_test("%s", datagram + 6);
	cr_assert(strncmp(datagram, "fail: ", 6), "%s", datagram);
	snprintf(expected_head, sizeof(expected_head), "<%d>", LOG_USER | LOG_ERR);
	cr_expect(!strncmp(datagram, expected_head, strlen(expected_head)), "%s", datagram);
	cr_expect(strstr(datagram, "]: label=\"missing.csv\" run=- previous=- users=- errors=- "
				   "warnings=- new=- resolved=- exit=2 error=\""), "%s", datagram);
	cr_expect(strstr(datagram, "missing.csv"), "%s", datagram);
	free(datagram);
	free(missing);
}
