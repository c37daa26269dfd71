/*
 * The reader interface. A reader turns its input (CSV, LDIF, LDAP) into
 * records and pushes them, one at a time and in input order, to the audit.
 * Adding an input format means writing one file with one ops table.
 */
#ifndef IMADDR_READER_H
#define IMADDR_READER_H

#include <stdio.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imaddr.h"
/* A reader resolves the request's mapping against its input. */
#include "mapping.h"

/** One role's value in a record: a view, valid only during the callback. */
struct imaddr_value {
	const char *data;        /* not NUL-terminated; may hold NUL bytes */
	size_t len;
	/* The input attribute the role is read from; NULL when the input has no
	 * such attribute at all (a CSV without that column), so that a missing
	 * last name is reported only where the input could have carried one.
	 * Unlike the data, valid as long as the reader: the audit names it in
	 * the duplicate findings it makes after the read. */
	const char *attribute;
	bool present;            /* the record has a non-empty value */
	bool terminated;         /* data[len] is a NUL the audit may rely on */
};

#define IMADDR_RECORD_MAX_PROBLEMS 8

/** A problem a reader found in one record that does not stop the run. */
struct imaddr_record_problem {
	enum imaddr_code code;   /* record-malformed or value-multiple */
	const char *field;
	char message[200];
};

struct imaddr_record {
	uint64_t line;           /* first line in the file; 0 when not from a file */
	const char *dn;          /* NUL-terminated, or NULL */
	struct imaddr_value values[IMADDR_ROLE_COUNT];
	size_t problem_count;
	struct imaddr_record_problem problems[IMADDR_RECORD_MAX_PROBLEMS];
};

/** Clears a record and records the line it starts at. */
void imaddr_record_reset(struct imaddr_record *record, uint64_t line);
/** Adds a problem; past IMADDR_RECORD_MAX_PROBLEMS the rest are dropped. */
void imaddr_record_add_problem(struct imaddr_record *record, enum imaddr_code code,
			       const char *field, const char *format, ...)
	__attribute__((format(printf, 4, 5)));

/** What the audit asks of a reader. */
struct imaddr_reader_request {
	const struct imaddr_mapping *mapping;
	unsigned required_roles;             /* bit (1u << role) per required role */
	/* Called once per record; a status other than IMADDR_OK stops the run. */
	enum imaddr_status (*record)(void *context, const struct imaddr_record *record,
				     struct imaddr_error *err);
	/* A problem that belongs to no user (a skipped row, a referral). */
	enum imaddr_status (*notice)(void *context, enum imaddr_code code, uint64_t line,
				     const char *dn, const char *field, const char *value,
				     const char *message, struct imaddr_error *err);
	void *context;
};

struct imaddr_reader_ops {
	const char *name;
	/* Reads the whole input; IMADDR_ERR_INPUT when it cannot be read as a
	 * whole, IMADDR_ERR_IO or IMADDR_ERR_LDAP when reading fails. */
	enum imaddr_status (*run)(struct imaddr_reader *reader,
				  const struct imaddr_reader_request *request,
				  struct imaddr_error *err);
	/* Called after a run that succeeded but gave the audit no record: fills
	 * `err` with what was read or searched, so that the user can tell an
	 * empty input from a wrong one, and returns IMADDR_ERR_INPUT. NULL: a
	 * generic message. */
	enum imaddr_status (*no_users)(struct imaddr_reader *reader, struct imaddr_error *err);
	void (*free)(struct imaddr_reader *reader);
};

/** The common head of every reader; implementations embed it first. */
struct imaddr_reader {
	const struct imaddr_reader_ops *ops;
	/* Set by a reader of a regular file: the audit may then parse it on a
	 * worker thread (see reader_thread.h). */
	bool regular_file;
	/* Set by imaddr_reader_run: a reader reads its input once. */
	bool ran;
	/* How the input was read, filled by the reader as it runs (the audit
	 * adds the roles) and read by the audit once the run is over. */
	struct imaddr_input_description input;
};


/**
 * Opens the input file `path` for reading ("-": standard input); NULL with
 * IMADDR_ERR_INPUT naming it when it cannot be opened or is a directory.
 * *regular says whether it is a regular file (standard input, a pipe: no).
 */
FILE *imaddr_reader_open_file(const char *path, bool *regular, struct imaddr_error *err);

/** Runs the reader; IMADDR_ERR_USAGE when it has run before. */
enum imaddr_status imaddr_reader_run(struct imaddr_reader *reader,
				     const struct imaddr_reader_request *request,
				     struct imaddr_error *err);

/** The error of a run that found no user: IMADDR_ERR_INPUT, saying what was searched. */
enum imaddr_status imaddr_reader_no_users(struct imaddr_reader *reader, struct imaddr_error *err);

#endif /* IMADDR_READER_H */
