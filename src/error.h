/* Status messages and the caller-owned error buffer. */
#ifndef IMADDR_ERROR_H
#define IMADDR_ERROR_H

#include "imaddr.h"

/**
 * Formats a message into err (when err is not NULL) and returns status, so
 * that a failing path reads `return imaddr_error_set(err, IMADDR_ERR_IO, ...)`.
 */
enum imaddr_status imaddr_error_set(struct imaddr_error *err, enum imaddr_status status,
				    const char *format, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* IMADDR_ERROR_H */
