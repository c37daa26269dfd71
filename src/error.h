/* Status messages and the caller-owned error buffer. */
#ifndef IMADDR_ERROR_H
#define IMADDR_ERROR_H

#include <stdbool.h>

#include "imaddr.h"

/**
 * Formats a message into err (when err is not NULL) and returns status, so
 * that a failing path reads `return imaddr_error_set(err, IMADDR_ERR_IO, ...)`.
 */
enum imaddr_status imaddr_error_set(struct imaddr_error *err, enum imaddr_status status,
				    const char *format, ...)
	__attribute__((format(printf, 3, 4)));

/**
 * A public function's required argument given as NULL, a mistake of the
 * caller's: IMADDR_ERR_USAGE, with a message naming `function` (pass
 * __func__) and `argument`, e.g. "imaddr_audit_new: 'options' is NULL".
 */
enum imaddr_status imaddr_error_null(struct imaddr_error *err, const char *function,
				     const char *argument);

/*
 * A stop asked for by imaddr_audit_request_stop() (a SIGINT or SIGTERM
 * handler): the audit, the output driver and the waits for locks poll it.
 */
bool imaddr_stop_requested(void);
void imaddr_stop_request(void);

/**
 * A named step of the output protocol ("prepared", "bat-switched"...): calls
 * the hook set with imaddr_set_step_hook(), which tests use to kill a run
 * at that very moment. Nothing when no hook is set.
 */
void imaddr_step(const char *name);

#endif /* IMADDR_ERROR_H */
