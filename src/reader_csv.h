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

#endif /* IMADDR_READER_CSV_H */
