#include "reader_file.h"

#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "error.h"
#include "reader.h"

enum imaddr_status imaddr_file_reader_open(const char *function, const char *path,
					   const struct imaddr_file_options *options,
					   struct imaddr_file_opened *opened,
					   struct imaddr_reader **out, struct imaddr_error *err)
{
	struct imaddr_file_options defaults;
	memset(opened, 0, sizeof(*opened));
	if (!out)
		return imaddr_error_null(err, function, "out");
	*out = NULL;
	if (!path)
		return imaddr_error_null(err, function, "path");
	if (!options) {
		imaddr_file_options_init(&defaults);
		options = &defaults;
	}
	enum imaddr_status status = imaddr_decoder_init(&opened->decoder, NULL, NULL,
							options->encoding, err);
	if (status != IMADDR_OK)
		return status;
	status = imaddr_entry_select_configure(&opened->select, options, err);
	if (status != IMADDR_OK)
		return status;
	opened->file = imaddr_reader_open_file(path, &opened->regular, err);
	if (!opened->file) {
		imaddr_entry_select_release(&opened->select);
		return IMADDR_ERR_INPUT;
	}
	opened->path = imaddr_xstrdup(strcmp(path, "-") ? path : "<stdin>");
	opened->decoder.file = opened->file;
	opened->decoder.path = opened->path;
	return IMADDR_OK;
}

void imaddr_file_opened_release(struct imaddr_file_opened *opened)
{
	if (opened->file && opened->file != stdin)
		fclose(opened->file);
	imaddr_decoder_release(&opened->decoder);
	imaddr_entry_select_release(&opened->select);
	free(opened->path);
	memset(opened, 0, sizeof(*opened));
}
