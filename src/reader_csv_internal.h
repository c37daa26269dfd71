/*
 * The CSV reader's insides, shared by reader_csv.c (the file, libcsv, the
 * rows) and reader_csv_header.c (what the header row says, and what it
 * makes of a row: a disabled account, the header of a second export).
 * Not part of the library's API.
 */
#ifndef IMADDR_READER_CSV_INTERNAL_H
#define IMADDR_READER_CSV_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buffer.h"
#include "decode.h"
#include "entry_select.h"
#include "reader.h"

/* The start of the header kept for the message when a column is missing. */
#define HEADER_SHOWN 160

struct cell {
	size_t offset;
	size_t len;
	bool too_long;
};

struct csv_reader {
	struct imaddr_reader base;
	char *path;
	FILE *file;
	struct imaddr_decoder decoder;
	char delimiter;         /* given, or decided on the header line */
	bool first_line_done;   /* the "#TYPE" line is looked for on the first */
	char header_text[HEADER_SHOWN + 1];
	bool cucm_export;       /* a Unified CM export: rows may run past the header */

	/* Header: column names, the column of each role, -1 when absent. */
	char **columns;
	/* Each column's name as a filter writes it: a space is '-' (RFC 4515 has none). */
	char **filter_names;
	size_t column_count;
	int role_column[IMADDR_ROLE_COUNT];
	int dn_column;
	/* Disabled accounts, as Unified CM's LDAP sync leaves them out; -1: none. */
	int enabled_column;          /* PowerShell's Enabled: False */
	int control_column;          /* userAccountControl: bit 2 */
	int lds_disabled_column;     /* AD LDS's msDS-UserAccountDisabled: TRUE */
	const char *disabled_rule;   /* what the first of them leaves out, or NULL */
	/*
	 * An objectClass column (csvde over a whole domain: groups, computers,
	 * contacts too): rows are selected as an LDIF's entries are; -1: none,
	 * every row is a user. csvde joins the classes with ';'.
	 */
	int class_column;
	struct imaddr_entry_select select;
	struct imaddr_ldif_value *entry_values;   /* the row's, for the filter */
	size_t entry_value_cap;
	char *filter_text;           /* the filter and the disabled rule, once both apply */
	bool *kept;                  /* [column]: its cells are read */

	/* The row being read: cells point into row_data. */
	struct imaddr_buf row_data;
	struct cell *cells;
	size_t cell_count;
	size_t fields_beyond;       /* a row's fields past the header's columns: counted, not kept */
	size_t cell_cap;
	bool field_too_long;    /* libcsv's buffer filled up: the field ending next is dropped */
	uint64_t row_bytes;     /* of the row being read, as fed to libcsv */
	uint64_t row_too_long_at;  /* the line where the row passed its cap; 0: it has not */
	uint64_t physical_line;
	char line_end;          /* '\n', or '\r' in a file with classic Mac line ends */
	uint64_t row_line;
	bool row_started;       /* a field of the row has ended */
	bool row_has_text;      /* a field of the row is not empty */
	bool between_rows;      /* the next non-blank line starts a row */
	bool header_done;
	uint64_t rows_skipped;      /* not valid CSV */
	uint64_t rows_too_long;
	uint64_t rows_empty;        /* delimiters alone (Excel's ";;;;"): no row at all */
	uint64_t header_line;  /* not valid CSV: reported and skipped */

	const struct imaddr_reader_request *request;
	struct imaddr_record record;
	enum imaddr_status status;
	struct imaddr_error *err;
};

/* Whether a row's cells in `column` are read (the others are only counted). */
static inline bool imaddr_csv_column_kept(const struct csv_reader *reader, size_t column)
{
	return column < reader->column_count && reader->kept[column];
}

/*
 * Reads the header row from the reader's cells: the columns, the column of
 * each role, the DN's and the disabled-account columns, the kept columns.
 * A problem sets reader->status and reader->err.
 */
void imaddr_csv_read_header(struct csv_reader *reader);

/*
 * The delimiter that splits a header line into the most columns, as libcsv
 * parses it (quotes respected); ',' on a tie.
 */
char imaddr_csv_detect_delimiter(const char *line, size_t len);

/*
 * What a second export copied onto the end of the first (copy /b a.csv+b.csv,
 * or cat) brings: its #TYPE line and its header row, which would read as two
 * users named like the type and the columns. The reason, or NULL for a row.
 */

const char *imaddr_csv_joined_export_line(const struct csv_reader *reader);

/*
 * Whether the row is a user Unified CM's LDAP sync would read: with an
 * objectClass column, one the directory type's filter selects
 * (entry_select.h); and no disabled account. Counts the row in the input
 * description when there is a filter or a disabled rule. A failure sets
 * reader->status.
 */
bool imaddr_csv_row_selected(struct csv_reader *reader);

#endif /* IMADDR_READER_CSV_INTERNAL_H */
