#include "csv_field.h"

#include <stdbool.h>

#include <csv.h>

/*
 * libcsv's csv_fwrite puts each byte with its own fputc, a lock and an
 * unlock of the stream apiece: for the DNs and messages of a worklist (a
 * DN always has commas) that was most of the worklist's time. csv_write
 * quotes into memory, and the field goes out in one fwrite.
 */
static bool needs_quotes(const char *value, size_t length)
{
	for (size_t i = 0; i < length; i++) {
		if (value[i] == ',' || value[i] == '"' || value[i] == '\r' || value[i] == '\n')
			return true;
	}
	return false;
}

void imaddr_csv_field_write(FILE *stream, const char *value, size_t length,
			    struct imaddr_buf *scratch)
{
	if (!needs_quotes(value, length)) {
		fwrite(value, 1, length, stream);
		return;
	}
	size_t quoted = csv_write(NULL, 0, value, length);
	imaddr_buf_reset(scratch);
	if (!imaddr_buf_reserve(scratch, quoted)) {
		/* Past the scratch's cap: libcsv's own way, a byte at a time. */
		csv_fwrite(stream, value, length);
		return;
	}
	csv_write(scratch->data, quoted, value, length);
	fwrite(scratch->data, 1, quoted, stream);
}

const char *imaddr_csv_formula_start(const char *value)
{
	if (!value)
		return NULL;
	switch (value[0]) {
	case '=': return "'='";
	case '+': return "'+'";
	case '-': return "'-'";
	case '@': return "'@'";
	case '\t': return "a tab";
	case '\r': return "a carriage return";
	default: return NULL;
	}
}
