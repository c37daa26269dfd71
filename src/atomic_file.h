/*
 * Output files that appear whole or not at all: written to a temporary file
 * beside the target and renamed over it only when complete.
 */
#ifndef IMADDR_ATOMIC_FILE_H
#define IMADDR_ATOMIC_FILE_H

#include <stdio.h>
#include <sys/types.h>

#include "imaddr.h"

struct imaddr_atomic_file {
	FILE *stream;        /* write here */
	char *stream_buffer; /* its stdio buffer */
	char *path;          /* the final name */
	char *temp_path;     /* NULL once committed or aborted */
	int write_errno;     /* the first failed write's (note_errors), 0 while none */
};

/**
 * `mode` less the process's umask: what open() would give a new file, for
 * one made private first (mkstemp, mkdtemp). Reads the umask without
 * setting it, which would race with other threads creating files.
 */
mode_t imaddr_output_mode(mode_t mode);

/** Creates path's temporary sibling (mode 0644 less the umask); then the step
 *  "output-opened" (imaddr_step). */
enum imaddr_status imaddr_atomic_file_open(struct imaddr_atomic_file *file, const char *path,
					   struct imaddr_error *err);
/**
 * After a burst of writes that began with errno set to 0: when one of them
 * failed (the stream's error flag), keeps the errno it left, which a later
 * call would overwrite, for the commit's message.
 */
void imaddr_atomic_file_note_errors(struct imaddr_atomic_file *file);
/**
 * Flushes, syncs and closes the temporary file, and checks that nothing (a
 * directory) stands in the way of the rename; aborts it on failure, with
 * "cannot write 'path': why", the why the first failed write's (note_errors)
 * or the call's that failed, EIO when neither is known. Several
 * files that must appear together are all synced before any is committed.
 */
enum imaddr_status imaddr_atomic_file_sync(struct imaddr_atomic_file *file,
					   struct imaddr_error *err);
/**
 * Syncs (when not done yet) and renames the file into place; aborts it on
 * failure, and on a stop requested by then (IMADDR_ERR_INTERRUPTED).
 */
enum imaddr_status imaddr_atomic_file_commit(struct imaddr_atomic_file *file,
					     struct imaddr_error *err);
/** Removes the temporary file; harmless after commit or on a closed file. */
void imaddr_atomic_file_abort(struct imaddr_atomic_file *file);

/**
 * Checks that the directory `path` would be created in exists and takes new
 * files, so that a typo in an output's path fails before a long run rather
 * than after it. Fails with `failure` and "cannot <action> '<path>': why".
 */
enum imaddr_status imaddr_atomic_file_check_directory(const char *path,
						      enum imaddr_status failure,
						      const char *action,
						      struct imaddr_error *err);

#endif /* IMADDR_ATOMIC_FILE_H */
