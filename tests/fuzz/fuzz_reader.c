/*
 * libFuzzer target: one input file through a whole audit and its summary.
 * Built twice by `make fuzz`, as fuzz_csv (FUZZ_READER_CSV) and fuzz_ldif;
 * samples/ and tests/ldap/ seed the corpora. The BAT writer is left out: its
 * fsync would make each run a hundred times slower.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "imaddr.h"

static char *write_input(const uint8_t *data, size_t size)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/imaddr-fuzz-%ld.in", (long)getpid());
	FILE *file = fopen(path, "wb");
	if (!file)
		abort();
	fwrite(data, 1, size, file);
	fclose(file);
	return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imaddr_audit_options options;
	struct imaddr_audit *audit;
	struct imaddr_error err;
	char *path = write_input(data, size);

	imaddr_audit_options_init(&options);
	/* The input's first byte picks the scheme, so both are explored. */
	options.scheme = size && (data[0] & 1) ? IMADDR_SCHEME_DIRECTORY_URI : IMADDR_SCHEME_USERID;
	options.default_domain = "example.com";
	options.im_domains = "example.com,münchen.example";
	if (imaddr_audit_new(&options, &audit, &err) != IMADDR_OK)
		abort();
	struct imaddr_reader *reader;
#ifdef FUZZ_READER_CSV
	enum imaddr_status status = imaddr_csv_reader_open(path, &reader, &err);
#else
	enum imaddr_status status = imaddr_ldif_reader_open(path, &reader, &err);
#endif
	if (status != IMADDR_OK)
		abort();
	FILE *devnull = fopen("/dev/null", "w");
	imaddr_audit_add_sink(audit, imaddr_summary_open(devnull));
	imaddr_audit_run(audit, reader, NULL, &err);
	imaddr_reader_free(reader);
	imaddr_audit_free(audit);
	fclose(devnull);
	return 0;
}
