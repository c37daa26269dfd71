/*
 * Test support: an audit sink that keeps every user and finding in memory,
 * and a helper that audits CSV text given as a string.
 */
#ifndef IMADDR_CAPTURE_H
#define IMADDR_CAPTURE_H

#include <stddef.h>

#include "imaddr.h"
#include "sink.h"

struct captured_finding {
	enum imaddr_code code;
	uint64_t ordinal;
	uint64_t line;
	uint64_t related_ordinal;
	char *field;
	char *value;
	char *message;
	char *suggestion;
	char *waiver_reason;
};

struct captured_user {
	uint64_t ordinal;
	char *user_id;
	char *directory_uri;
	char *im_address;
};

struct capture {
	struct imaddr_sink base;
	struct captured_finding *findings;
	size_t finding_count, finding_capacity;
	struct captured_user *users;
	size_t user_count, user_capacity;
	struct imaddr_run_totals totals;
	enum imaddr_status status;
	struct imaddr_error err;
};

/** Audits `csv` (the text of a CSV file) with `options`; never NULL. */
struct capture *capture_audit_csv(const char *csv, const struct imaddr_audit_options *options);
/**
 * The same, read as a file that is not regular (a pipe) would be: on the
 * audit's thread, where a regular file is read on one of its own.
 */
struct capture *capture_audit_csv_unthreaded(const char *csv,
					     const struct imaddr_audit_options *options);
/** The number of findings with `code`, and the first one (or NULL). */
size_t capture_count(const struct capture *capture, enum imaddr_code code);
const struct captured_finding *capture_first(const struct capture *capture,
					     enum imaddr_code code);
/** The IM address of user `ordinal`, or NULL. */
const char *capture_im_address(const struct capture *capture, uint64_t ordinal);
void capture_free(struct capture *capture);

#endif /* IMADDR_CAPTURE_H */
