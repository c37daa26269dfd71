/*
 * Working files of a run: the users' spool and the findings the worklist
 * and the HTML page hold until the final pass. They go to TMPDIR when it is
 * set, as sort(1)'s do, so that an administrator whose /tmp is small, or who
 * would rather keep them in memory on a tmpfs, can put them elsewhere; the C
 * library's tmpfile() always uses /tmp. They have no name (or lose it at
 * once), so nothing is left behind, even by a killed run.
 */
#ifndef IMADDR_TEMP_FILE_H
#define IMADDR_TEMP_FILE_H

#include <stdio.h>

/** TMPDIR when set and not empty, else /tmp. */
const char *imaddr_temp_dir(void);

/**
 * A new, empty read-write file in imaddr_temp_dir() that nothing else can
 * open and that disappears when closed; NULL with errno set when it cannot
 * be made.
 */
FILE *imaddr_temp_file(void);

#endif
