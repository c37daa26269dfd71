/*
 * What the file readers (CSV, LDIF) do alike when they open: refuse a
 * caller's NULL, take the default options, set up the decoder and the
 * entry selection the options ask for, and open the file, so that each
 * reader only adds its own state.
 */
#ifndef IMADDR_READER_FILE_H
#define IMADDR_READER_FILE_H

#include <stdbool.h>
#include <stdio.h>

#include "decode.h"
#include "entry_select.h"
#include "imaddr.h"

/** A file reader's file, opened; its members become the reader's. */
struct imaddr_file_opened {
	FILE *file;                        /* standard input for "-" */
	bool regular;                      /* a regular file, not a pipe */
	char *path;                        /* as messages name it: "<stdin>" for "-" */
	struct imaddr_decoder decoder;     /* reading `file`; its path is `path` */
	struct imaddr_entry_select select;
};

/**
 * Opens `path` with `options` (NULL: the defaults) for the public opener
 * `function` (its __func__, named when `path` or `out` is NULL), and sets
 * *out to NULL. IMADDR_ERR_USAGE for a NULL, an encoding ICU does not
 * know, a filter or a directory type the selection refuses;
 * IMADDR_ERR_INPUT when the file cannot be opened. On failure nothing is
 * held.
 */
enum imaddr_status imaddr_file_reader_open(const char *function, const char *path,
					   const struct imaddr_file_options *options,
					   struct imaddr_file_opened *opened,
					   struct imaddr_reader **out, struct imaddr_error *err);

/** Closes and frees what imaddr_file_reader_open holds, for an opener that fails after it. */
void imaddr_file_opened_release(struct imaddr_file_opened *opened);

#endif /* IMADDR_READER_FILE_H */
