#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "buffer.h"
#include "tool.h"

/* The facilities a NOC would pick: the default, a daemon's, the local ones. */
static const struct {
	const char *name;
	int facility;
} facilities[] = {
	{ "user", LOG_USER },     { "daemon", LOG_DAEMON }, { "local0", LOG_LOCAL0 },
	{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
	{ "local7", LOG_LOCAL7 },
};

bool tool_syslog_facility(const char *name, int *facility)
{
	for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++) {
		if (!strcmp(name, facilities[i].name)) {
			*facility = facilities[i].facility;
			return true;
		}
	}
	return false;
}

/*
 * A value in double quotes, so that a label with spaces stays one field: a
 * quote or backslash escaped, a control character (a newline would split
 * the line) as \xNN; UTF-8 as it is.
 */
static void append_quoted(struct imaddr_buf *out, const char *text)
{
	imaddr_buf_append_str(out, "\"");
	for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
		if (*c == '"' || *c == '\\')
			imaddr_buf_appendf(out, "\\%c", *c);
		else if (*c < 0x20 || *c == 0x7f)
			imaddr_buf_appendf(out, "\\x%02x", *c);
		else
			imaddr_buf_append(out, c, 1);
	}
	imaddr_buf_append_str(out, "\"");
}

static void append_count(struct imaddr_buf *out, const char *key, bool known, uint64_t value)
{
	if (known)
		imaddr_buf_appendf(out, " %s=%llu", key, (unsigned long long)value);
	else
		imaddr_buf_appendf(out, " %s=-", key);
}

void tool_syslog_format(const struct tool_syslog_run *run, struct imaddr_buf *out)
{
	imaddr_buf_append_str(out, "label=");
	if (run->label)
		append_quoted(out, run->label);
	else
		imaddr_buf_append_str(out, "-");
	append_count(out, "run", run->run_id > 0, (uint64_t)run->run_id);
	append_count(out, "previous", run->previous_run_id > 0, (uint64_t)run->previous_run_id);
	append_count(out, "users", run->completed, run->users);
	append_count(out, "errors", run->completed, run->errors);
	append_count(out, "warnings", run->completed, run->warnings);
	append_count(out, "new", run->completed && run->previous_run_id > 0, run->new_findings);
	append_count(out, "resolved", run->completed && run->previous_run_id > 0,
		     run->resolved_findings);
	imaddr_buf_appendf(out, " exit=%d", run->exit_status);
	if (run->error) {
		imaddr_buf_append_str(out, " error=");
		append_quoted(out, run->error);
	}
}

int tool_syslog_priority(int exit_status)
{
	return exit_status == TOOL_EXIT_CLEAN ? LOG_INFO
	       : exit_status == TOOL_EXIT_FINDINGS ? LOG_WARNING : LOG_ERR;
}

void tool_syslog_send(int facility, const struct tool_syslog_run *run)
{
	struct imaddr_buf line;
	imaddr_buf_init(&line, 0);
	tool_syslog_format(run, &line);
	openlog("imaddr", LOG_PID, facility ? facility : LOG_USER);
	syslog(tool_syslog_priority(run->exit_status), "%s", line.data);
	closelog();
	imaddr_buf_release(&line);
}
