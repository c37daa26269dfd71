#include "tempdir.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *tempdir_create(void)
{
	const char *base = getenv("TMPDIR");
	char *dir = tempdir_path(base && *base ? base : "/tmp", "imaddr-unit-XXXXXX");
	cr_assert_not_null(mkdtemp(dir), "mkdtemp '%s' failed", dir);
	return dir;
}

void tempdir_remove(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *entry;
	while ((entry = readdir(d))) {
		if (!strcmp(entry->d_name, ".") || !strcmp(entry->d_name, ".."))
			continue;
		char *path = tempdir_path(dir, entry->d_name);
		if (unlink(path) != 0)
			tempdir_remove(path);   /* a directory of BAT chunks */
		free(path);
	}
	closedir(d);
	rmdir(dir);
}

char *tempdir_path(const char *dir, const char *name)
{
	size_t len = strlen(dir) + 1 + strlen(name) + 1;
	char *path = malloc(len);
	cr_assert_not_null(path);
	snprintf(path, len, "%s/%s", dir, name);
	return path;
}

char *tempdir_write(const char *dir, const char *name, const char *bytes, size_t len)
{
	char *path = tempdir_path(dir, name);
	FILE *file = fopen(path, "wb");
	cr_assert_not_null(file, "cannot create '%s'", path);
	cr_assert_eq(fwrite(bytes, 1, len, file), len, "cannot write '%s'", path);
	cr_assert_eq(fclose(file), 0, "cannot write '%s'", path);
	return path;
}

char *tempdir_write_str(const char *dir, const char *name, const char *text)
{
	return tempdir_write(dir, name, text, strlen(text));
}

char *tempdir_read(const char *path, size_t *len)
{
	FILE *file = fopen(path, "rb");
	if (!file)
		return NULL;
	size_t used = 0, cap = 4096;
	char *data = malloc(cap);
	cr_assert_not_null(data);
	for (;;) {
		if (cap - used < 2) {
			cap *= 2;
			data = realloc(data, cap);
			cr_assert_not_null(data);
		}
		size_t got = fread(data + used, 1, cap - used - 1, file);
		used += got;
		if (got == 0)
			break;
	}
	cr_assert_not(ferror(file), "cannot read '%s'", path);
	fclose(file);
	data[used] = '\0';
	if (len)
		*len = used;
	return data;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *tempdir_list(const char *dir)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "cannot list '%s'", dir);
	char **names = NULL;
	size_t count = 0, total = 1;
	struct dirent *entry;
	while ((entry = readdir(d))) {
		if (!strcmp(entry->d_name, ".") || !strcmp(entry->d_name, ".."))
			continue;
		names = realloc(names, (count + 1) * sizeof(*names));
		cr_assert_not_null(names);
		names[count++] = strdup(entry->d_name);
		total += strlen(entry->d_name) + 1;
	}
	closedir(d);
	if (count)
		qsort(names, count, sizeof(*names), by_name);
	char *list = malloc(total);
	cr_assert_not_null(list);
	size_t used = 0;
	for (size_t i = 0; i < count; i++) {
		if (i)
			list[used++] = ',';
		size_t len = strlen(names[i]);
		memcpy(list + used, names[i], len);
		used += len;
		free(names[i]);
	}
	list[used] = '\0';
	free(names);
	return list;
}

void tempdir_expect_listing(const char *dir, const char *expected)
{
	char *list = tempdir_list(dir);
	cr_assert_str_eq(list, expected, "the directory holds '%s', expected '%s'", list,
			 expected);
	free(list);
}
