#include "error.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>

static volatile sig_atomic_t stop_requested;
static void (*step_hook)(const char *name);

bool imaddr_stop_requested(void)
{
	return stop_requested != 0;
}

void imaddr_stop_request(void)
{
	stop_requested = 1;
}

void imaddr_set_step_hook(void (*hook)(const char *name))
{
	step_hook = hook;
}

void imaddr_step(const char *name)
{
	if (step_hook)
		step_hook(name);
}

const char *imaddr_strerror(enum imaddr_status status)
{
	switch (status) {
	case IMADDR_OK:
		return "success";
	case IMADDR_ERR_USAGE:
		return "usage error";
	case IMADDR_ERR_INPUT:
		return "input error";
	case IMADDR_ERR_IO:
		return "I/O error";
	case IMADDR_ERR_LDAP:
		return "LDAP error";
	case IMADDR_ERR_DB:
		return "report database error";
	case IMADDR_ERR_UNICODE:
		return "Unicode library error";
	case IMADDR_ERR_INTERRUPTED:
		return "interrupted";
	}
	return "unknown error";
}

enum imaddr_status imaddr_error_set(struct imaddr_error *err, enum imaddr_status status,
				    const char *format, ...)
{
	if (err) {
		va_list args;
		va_start(args, format);
		vsnprintf(err->message, sizeof(err->message), format, args);
		va_end(args);
	}
	return status;
}

enum imaddr_status imaddr_error_null(struct imaddr_error *err, const char *function,
				     const char *argument)
{
	return imaddr_error_set(err, IMADDR_ERR_USAGE, "%s: '%s' is NULL", function, argument);
}
