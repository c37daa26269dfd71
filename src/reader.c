#include "reader.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"

void imaddr_record_reset(struct imaddr_record *record, uint64_t line)
{
	memset(record->values, 0, sizeof(record->values));
	record->line = line;
	record->dn = NULL;
	record->problem_count = 0;
}

void imaddr_record_add_problem(struct imaddr_record *record, enum imaddr_code code,
			       const char *field, const char *format, ...)
{
	if (record->problem_count == IMADDR_RECORD_MAX_PROBLEMS)
		return;
	struct imaddr_record_problem *problem = &record->problems[record->problem_count++];
	problem->code = code;
	problem->field = field;
	va_list args;
	va_start(args, format);
	vsnprintf(problem->message, sizeof(problem->message), format, args);
	va_end(args);
}

enum imaddr_status imaddr_reader_run(struct imaddr_reader *reader,
				     const struct imaddr_reader_request *request,
				     struct imaddr_error *err)
{
	if (reader->ran)
		return imaddr_error_set(err, IMADDR_ERR_USAGE, "the %s reader has run: a reader "
					"runs once", reader->ops->name);
	reader->ran = true;
	return reader->ops->run(reader, request, err);
}

void imaddr_file_options_init(struct imaddr_file_options *options)
{
	/* Nothing to set up: the opens take NULL options as the defaults. */
	if (!options)
		return;
	memset(options, 0, sizeof(*options));
	options->directory_type = IMADDR_DIRECTORY_AD;
}

enum imaddr_status imaddr_reader_no_users(struct imaddr_reader *reader, struct imaddr_error *err)
{
	if (reader->ops->no_users)
		return reader->ops->no_users(reader, err);
	return imaddr_error_set(err, IMADDR_ERR_INPUT, "no users: the %s input holds none",
				reader->ops->name);
}

void imaddr_reader_free(struct imaddr_reader *reader)
{
	if (reader)
		reader->ops->free(reader);
}

FILE *imaddr_reader_open_file(const char *path, bool *regular, struct imaddr_error *err)
{
	*regular = false;
	if (!strcmp(path, "-"))
		return stdin;
	FILE *file = fopen(path, "rb");
	struct stat st;
	if (!file) {
		imaddr_error_set(err, IMADDR_ERR_INPUT, "cannot open '%s': %s", path,
				 strerror(errno));
		return NULL;
	}
	if (fstat(fileno(file), &st) != 0)
		return file;
	/* fopen takes a directory, whose first read fails as an I/O error. */
	if (S_ISDIR(st.st_mode)) {
		fclose(file);
		imaddr_error_set(err, IMADDR_ERR_INPUT, "cannot read '%s': it is a directory",
				 path);
		return NULL;
	}
	*regular = S_ISREG(st.st_mode);
	return file;
}

