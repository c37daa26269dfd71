/*
 * libFuzzer target: `imaddr audit`'s command line and configuration file,
 * read and checked as the program does before it reads a password
 * (tool_audit_configure_only): nothing is opened but the configuration
 * file, nothing searched or run. The blob is the arguments after "audit",
 * separated by NUL bytes; what follows the first two NULs in a row is a
 * configuration file, written to a temporary file under $TMPDIR, named
 * with --config and removed after the input. Built by `make fuzz` as
 * fuzz_options, with the program's objects. tests/unit/test_tool_audit.c
 * includes this file (with FUZZ_NO_ENTRY) to replay the *.args files of
 * tests/fuzz/regress/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

/* More arguments than any command line needs; the rest of a blob is dropped. */
#define FUZZ_MAX_ARGUMENTS 256

/* Runs the option parser on the blob; returns its TOOL_EXIT_* status. */
static int fuzz_options_blob(const uint8_t *data, size_t size)
{
	char *argv[FUZZ_MAX_ARGUMENTS + 4];
	int argc = 0;
	char config_path[4096] = "";
	const uint8_t *separator = NULL;

	for (size_t i = 0; i + 1 < size && !separator; i++) {
		if (!data[i] && !data[i + 1])
			separator = data + i;
	}
	size_t arguments_size = separator ? (size_t)(separator - data) : size;
	/* A copy with a NUL at the end: every argument ends in one. */
	char *arguments = malloc(arguments_size + 1);
	if (!arguments)
		abort();
	memcpy(arguments, data, arguments_size);
	arguments[arguments_size] = '\0';
	argv[argc++] = "audit";
	for (size_t start = 0; arguments_size && start <= arguments_size &&
			       argc < FUZZ_MAX_ARGUMENTS + 1;
	     start += strlen(arguments + start) + 1)
		argv[argc++] = arguments + start;
	if (separator) {
		const char *tmp = getenv("TMPDIR");
		snprintf(config_path, sizeof(config_path), "%s/imaddr-fuzz-XXXXXX.conf",
			 tmp && *tmp ? tmp : "/tmp");
		int fd = mkstemps(config_path, 5);
		size_t config_size = size - (size_t)(separator + 2 - data);
		if (fd < 0 || write(fd, separator + 2, config_size) != (ssize_t)config_size ||
		    close(fd) != 0)
			abort();
		argv[argc++] = "--config";
		argv[argc++] = config_path;
	}
	argv[argc] = NULL;
	int status = tool_audit_configure_only(argc, argv);
	if (status != 0 && status != 1 && status != 2 && status != 3)
		abort();
	if (config_path[0])
		unlink(config_path);
	free(arguments);
	return status;
}

#ifndef FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_options_blob(data, size);
	return 0;
}
#endif
