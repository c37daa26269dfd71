/*
 * The parse-only floor for `imaddr audit --csv`: libcsv over a whole file,
 * with callbacks that only count fields and rows, read in 64 KiB blocks, and
 * the parser options imaddr's CSV reader uses (CSV_STRICT, CSV_STRICT_FINI).
 *
 *     csvparse FILE      prints "ROWS rows, FIELDS fields, BYTES bytes"
 *
 * Built by bench/run: cc -O2 -o csvparse bench/csvparse.c -lcsv
 */
#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct counts {
	unsigned long long fields, rows, bytes;
};

static void on_field(void *data, size_t length, void *context)
{
	struct counts *counts = context;
	(void)data;
	counts->fields++;
	counts->bytes += length;
}

static void on_row(int terminator, void *context)
{
	struct counts *counts = context;
	(void)terminator;
	counts->rows++;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fputs("usage: csvparse FILE\n", stderr);
		return 2;
	}
	FILE *file = fopen(argv[1], "rb");
	if (!file) {
		perror(argv[1]);
		return 2;
	}
	struct csv_parser parser;
	if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI) != 0) {
		fputs("csvparse: csv_init failed\n", stderr);
		return 2;
	}
	struct counts counts = { 0, 0, 0 };
	static char block[65536];
	size_t length;
	while ((length = fread(block, 1, sizeof(block), file)) > 0) {
		if (csv_parse(&parser, block, length, on_field, on_row, &counts) != length) {
			fprintf(stderr, "csvparse: %s: %s\n", argv[1],
				csv_strerror(csv_error(&parser)));
			return 1;
		}
	}
	if (ferror(file)) {
		perror(argv[1]);
		return 2;
	}
	csv_fini(&parser, on_field, on_row, &counts);
	csv_free(&parser);
	fclose(file);
	printf("%llu rows, %llu fields, %llu bytes\n", counts.rows, counts.fields, counts.bytes);
	return 0;
}
