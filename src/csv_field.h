/*
 * A CSV field written to a stream (RFC 4180), quoted through libcsv only when
 * it needs it: the BAT file and the CSV worklist; and the values a
 * spreadsheet would take for a formula.
 */
#ifndef IMADDR_CSV_FIELD_H
#define IMADDR_CSV_FIELD_H

#include <stdio.h>

#include "buffer.h"

/**
 * Writes `length` bytes of `value` as one field: as they are, or quoted
 * with its quotes doubled when it holds a comma, a quote or a line break.
 * `scratch` holds the quoted form; the caller keeps it between fields, so
 * that a run allocates once. Errors are the stream's (ferror).
 */
void imaddr_csv_field_write(FILE *stream, const char *value, size_t length,
			    struct imaddr_buf *scratch);

/**
 * What makes `value` (NULL: none) start like a formula to a spreadsheet, as
 * the OWASP CSV injection list has it ("'='", "a tab"...), or NULL: an
 * administrator opens a BAT file or worklist in Excel, which would run
 * "=HYPERLINK(...)" or "+cmd|...".
 */
const char *imaddr_csv_formula_start(const char *value);

#endif /* IMADDR_CSV_FIELD_H */
