/*
 * The configuration file, read with libinih: every setting with its section
 * and line, kept for tool_audit.c to apply under the command line's.
 */
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

/* What the handler and the line reader share while libinih parses. */
struct parse_state {
	struct tool_config_file *file;
	FILE *stream;
	int line;              /* of the line libinih was last given */
	int long_line;         /* the first line that did not fit, or 0 */
	int line_max;          /* libinih's longest line, its newline included */
	size_t bytes;          /* read so far */
	bool too_big;          /* TOOL_CONFIG_MAX_BYTES read: the read stopped there */
	bool out_of_memory;
};

static char *copy(const char *text, struct parse_state *state)
{
	char *result = strdup(text);
	if (!result)
		state->out_of_memory = true;
	return result;
}

static int on_setting(void *context, const char *section, const char *key, const char *value)
{
	struct parse_state *state = context;
	struct tool_config_file *file = state->file;
	if (file->count == file->cap) {
		size_t cap = file->cap ? file->cap * 2 : 16;
		struct tool_config_entry *entries = realloc(file->entries, cap * sizeof(*entries));
		if (!entries) {
			state->out_of_memory = true;
			return 0;
		}
		file->entries = entries;
		file->cap = cap;
	}
	struct tool_config_entry *entry = &file->entries[file->count];
	entry->section = copy(section, state);
	entry->key = copy(key, state);
	entry->value = copy(value ? value : "", state);
	entry->line = state->line;
	file->count++;
	return !state->out_of_memory;
}

/*
 * fgets, counting lines and noting one that libinih would cut short; the
 * end of the file once TOOL_CONFIG_MAX_BYTES are read. Reads a byte at a
 * time, as fgets would not say how many NUL bytes it read.
 */
static char *read_line(char *text, int size, void *context)
{
	struct parse_state *state = context;
	int length = 0, c = EOF;
	while (!state->too_big && length < size - 1 && (c = getc(state->stream)) != EOF) {
		text[length++] = (char)c;
		if (c == '\n')
			break;
	}
	if (!length)
		return NULL;
	text[length] = '\0';
	state->line++;
	state->line_max = size - 1;
	state->bytes += (size_t)length;
	if (text[length - 1] != '\n' && c != EOF) {
		c = getc(state->stream);
		if (c != EOF && c != '\n' && !state->long_line)
			state->long_line = state->line;
		while (c != EOF && c != '\n' && state->bytes <= TOOL_CONFIG_MAX_BYTES) {
			state->bytes++;
			c = getc(state->stream);
		}
	}
	if (state->bytes > TOOL_CONFIG_MAX_BYTES) {
		state->too_big = true;
		return NULL;
	}
	return text;
}

int tool_config_read(struct tool_config_file *file, const char *path)
{
	memset(file, 0, sizeof(*file));
	file->path = path;
	struct parse_state state = { .file = file };
	state.stream = fopen(path, "r");
	if (!state.stream) {
		tool_error("cannot open configuration file '%s': %s", path, strerror(errno));
		return TOOL_EXIT_USAGE;
	}
	int error_line = ini_parse_stream(read_line, &state, on_setting, &state);
	fclose(state.stream);
	if (state.out_of_memory) {
		tool_error("out of memory");
		return TOOL_EXIT_FAILURE;
	}
	if (state.too_big) {
		tool_error("%s: longer than %d bytes: not a configuration file?", path,
			   TOOL_CONFIG_MAX_BYTES);
		return TOOL_EXIT_USAGE;
	}
	if (state.long_line && (!error_line || state.long_line < error_line)) {
		tool_error("%s:%d: the line is longer than %d characters", path, state.long_line,
			   state.line_max);
		return TOOL_EXIT_USAGE;
	}
	if (error_line) {
		tool_error("%s:%d: not a 'name = value' setting nor a [profile] line", path,
			   error_line);
		return TOOL_EXIT_USAGE;
	}
	return TOOL_EXIT_CLEAN;
}

bool tool_config_has_section(const struct tool_config_file *file, const char *section)
{
	for (size_t i = 0; i < file->count; i++) {
		if (!strcmp(file->entries[i].section, section))
			return true;
	}
	return false;
}

void tool_config_release(struct tool_config_file *file)
{
	for (size_t i = 0; i < file->count; i++) {
		free(file->entries[i].section);
		free(file->entries[i].key);
		free(file->entries[i].value);
	}
	free(file->entries);
	memset(file, 0, sizeof(*file));
}

const char *tool_config_default_path(void)
{
	const char *path = getenv(TOOL_CONFIG_ENV);
	return path ? path : TOOL_CONFIG_DEFAULT;
}
