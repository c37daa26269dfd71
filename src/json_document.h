/*
 * The run as one JSON document (docs/json.md), from the two sources of a
 * run: the audit in progress (sink_json.c, --json) and a run read back from
 * the SQLite report (report_json.c, imaddr report --json). The builder only
 * formats; its callers decide what goes in.
 */
#ifndef IMADDR_JSON_DOCUMENT_H
#define IMADDR_JSON_DOCUMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "buffer.h"
#include "imaddr.h"
#include "run_description.h"


/** A finding as the document lists it, with its duplicate group (0: none). */
json_t *imaddr_json_finding(struct imaddr_buf *scratch, const struct imaddr_finding *finding,
			    uint64_t duplicate_group);

/**
 * The document: `findings` (an array, whose reference it takes) holds the
 * first `per_code` findings of each code, listed[code] of them; the changes
 * and the history come from totals->changes, the outputs' lines from
 * totals->outputs. `scratch` is reused.
 */
json_t *imaddr_json_document(const struct imaddr_run_description *run,
			     const struct imaddr_run_totals *totals,
			     const uint64_t listed[IMADDR_CODE_COUNT], size_t per_code,
			     json_t *findings, struct imaddr_buf *scratch);

/**
 * Writes the document, indented, and a newline to `out`, flushed when
 * `flush`: 0, or the errno of the write that failed (EIO when none is left).
 */
int imaddr_json_document_write(json_t *document, FILE *out, bool flush);

#endif /* IMADDR_JSON_DOCUMENT_H */
