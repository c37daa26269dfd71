/* The CSV reader (libcsv): AD-style exports and CUCM/BAT user exports. */
#ifndef IMADDR_READER_CSV_H
#define IMADDR_READER_CSV_H

#include "reader.h"

/* A field longer than this is dropped and reported with its row. */
#define IMADDR_CSV_FIELD_MAX (64 * 1024)
/*
 * libcsv buffers a field until it ends; an unbalanced quote would make it
 * buffer the rest of the file. Past this the file is refused as a whole.
 */
#define IMADDR_CSV_PARSER_MAX (16 * 1024 * 1024)
/*
 * A header with more columns than this is refused: a Unified CM export has
 * about a hundred, and checking a header for duplicate names costs the
 * square of its columns.
 */
#define IMADDR_CSV_HEADER_MAX_COLUMNS 10000

#endif /* IMADDR_READER_CSV_H */
