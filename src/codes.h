/* The table of finding codes: names, severities and one-line summaries. */
#ifndef IMADDR_CODES_H
#define IMADDR_CODES_H

#include <stdint.h>

#include "imaddr.h"
#include "buffer.h"

/**
 * Appends "code N, code N" for the error codes `by_code` counts (a run's
 * waived findings, for the verdict); returns how many errors that is.
 */
uint64_t imaddr_codes_describe_errors(const uint64_t by_code[IMADDR_CODE_COUNT],
				      struct imaddr_buf *out);

/**
 * For a GO verdict: "N waived errors (code N, ...): IM and Presence knows no
 * waivers; make sure the change can live with each", appended to `out`
 * when the run waived errors; returns how many (0: nothing appended).
 */
uint64_t imaddr_codes_describe_waived_errors(const uint64_t waived_by_code[IMADDR_CODE_COUNT],
					     struct imaddr_buf *out);

#endif /* IMADDR_CODES_H */
