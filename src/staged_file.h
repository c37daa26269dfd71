/*
 * A single output file replaced in step with the report (staging.h), written
 * through a stdio stream: the runbook and the LDIF fixes. A kill at any
 * moment leaves the previous file, or the next run finishes the switch.
 */
#ifndef IMADDR_STAGED_FILE_H
#define IMADDR_STAGED_FILE_H

#include <stdio.h>

#include "imaddr.h"
#include "staging.h"

/* How long a run waits for another holding the same file. */
#define IMADDR_STAGED_FILE_WAIT_MS 30000

struct imaddr_staged_file {
	struct imaddr_staging staging;
	FILE *stream;          /* write here between begin and prepare */
	char *token;           /* the run's, for the journal */
	char *report_path;     /* the report that decides the run, or NULL */
	int write_errno;       /* the first failed write's (note_errors), 0 while none */
};

/** Sets up for `target` (borrowed until release); nothing is touched yet. */
void imaddr_staged_file_init(struct imaddr_staged_file *file, const char *target, int wait_ms);
/** Refuses a target that is not a regular file or missing (staging.h). */
enum imaddr_status imaddr_staged_file_check(const char *target, struct imaddr_error *err);
/** Locks the target, recovers a killed run's switch, opens the stream. */
enum imaddr_status imaddr_staged_file_begin(struct imaddr_staged_file *file,
					    const struct imaddr_run_info *info,
					    struct imaddr_error *err);
/**
 * After a burst of writes that began with errno set to 0: when one of them
 * failed (the stream's error flag), keeps the errno it left, which a later
 * call would overwrite, for prepare's message.
 */
void imaddr_staged_file_note_errors(struct imaddr_staged_file *file);
/**
 * Flushes, syncs and closes the stream and writes the journal. A write that
 * failed fails it with "cannot write 'target': why", the why the first
 * failure's (note_errors, else the flush's), EIO when neither is known.
 */
enum imaddr_status imaddr_staged_file_prepare(struct imaddr_staged_file *file,
					      struct imaddr_error *err);
/** Puts the file in place, after the report committed. */
enum imaddr_status imaddr_staged_file_commit(struct imaddr_staged_file *file,
					     struct imaddr_error *err);
/** Throws the staged file away and releases the lock. */
void imaddr_staged_file_abort(struct imaddr_staged_file *file);
void imaddr_staged_file_release(struct imaddr_staged_file *file);

#endif /* IMADDR_STAGED_FILE_H */
