/*
 * libFuzzer target: one input file through a whole audit and its summary.
 * Built twice by `make fuzz`, as fuzz_csv (FUZZ_READER_CSV) and fuzz_ldif;
 * samples/ and tests/ldap/ seed the corpora. The outputs are left out, the
 * summary aside: fuzz_audit.c runs them all, at a fraction of the speed.
 * tests/unit/test_fuzz_regress.c
 * includes this file (with FUZZ_NO_ENTRY) to replay tests/fuzz/regress/.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "imaddr.h"

/* In $TMPDIR, which make fuzz removes after the target, crash or not. */
static char *write_input(const uint8_t *data, size_t size)
{
	static char path[4096];
	const char *tmp = getenv("TMPDIR");
	snprintf(path, sizeof(path), "%s/imaddr-fuzz-%ld.in", tmp && *tmp ? tmp : "/tmp",
		 (long)getpid());
	FILE *file = fopen(path, "wb");
	if (!file)
		abort();
	fwrite(data, 1, size, file);
	fclose(file);
	return path;
}

/* Audits the blob as a CSV or an LDIF file; a failing run is fine, a crash is not. */
static void fuzz_audit_blob(const uint8_t *data, size_t size, bool csv)
{
	struct imaddr_audit_options options;
	struct imaddr_audit *audit;
	struct imaddr_sink *summary;
	struct imaddr_reader *reader;
	struct imaddr_error err;
	char *path = write_input(data, size);

	imaddr_audit_options_init(&options);
	/* The input's first byte picks the scheme, so both are explored. */
	options.scheme = size && (data[0] & 1) ? IMADDR_SCHEME_DIRECTORY_URI : IMADDR_SCHEME_USERID;
	options.default_domain = "example.com";
	options.im_domains = "example.com,münchen.example";
	if (imaddr_audit_new(&options, &audit, &err) != IMADDR_OK)
		abort();
	/* Its second bit selects with a filter of the samples' columns (or of none). */
	struct imaddr_file_options file;
	imaddr_file_options_init(&file);
	if (size && (data[0] & 2))
		file.filter = "(|(sn=S*)(!(mail=*@example.com))"
			      "(userAccountControl:1.2.840.113556.1.4.803:=2))";
	enum imaddr_status status = csv ? imaddr_csv_reader_open_with(path, &file, &reader, &err)
					: imaddr_ldif_reader_open_with(path, &file, &reader, &err);
	if (status != IMADDR_OK)
		abort();
	FILE *devnull = fopen("/dev/null", "w");
	if (!devnull || imaddr_sink_summary_open(devnull, &summary, &err) != IMADDR_OK)
		abort();
	imaddr_audit_add_sink(audit, summary);
	imaddr_audit_run(audit, reader, NULL, &err);
	imaddr_reader_free(reader);
	imaddr_audit_free(audit);
	fclose(devnull);
	unlink(path);
}

#ifndef FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
#ifdef FUZZ_READER_CSV
	fuzz_audit_blob(data, size, true);
#else
	fuzz_audit_blob(data, size, false);
#endif
	return 0;
}
#endif
