/* The CSV reader (libcsv): AD-style exports and CUCM/BAT user exports. */
#ifndef IMADDR_READER_CSV_H
#define IMADDR_READER_CSV_H

#include "reader.h"

/*
 * What one value, one record and one header may cost. A field longer than
 * IMADDR_CSV_FIELD_MAX is never held: libcsv's buffer stops growing there
 * and the rest of the field streams past; the field is ignored, and when
 * the audit reads its column the user has a record-malformed finding. A row
 * longer than IMADDR_CSV_RECORD_MAX (a quoted field running over many
 * lines, millions of fields) is skipped from there to its end and reported
 * as record-malformed; a header over it is refused. A physical line has no
 * cap of its own: it is fed to libcsv in pieces, never held whole, and it
 * is part of one record, whose cap bounds it.
 */
#define IMADDR_CSV_FIELD_MAX (64 * 1024)
#define IMADDR_CSV_RECORD_MAX (16 * 1024 * 1024)
/*
 * A header with more columns than this is refused: a Unified CM export has
 * about a hundred, and checking a header for duplicate names costs the
 * square of its columns.
 */
#define IMADDR_CSV_HEADER_MAX_COLUMNS 10000

#endif /* IMADDR_READER_CSV_H */
