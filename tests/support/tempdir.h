/*
 * Test support: a private temporary directory per test, and whole-file
 * reads and writes in it. Every helper asserts (through Criterion) rather
 * than returning an error, so a test reads as its steps.
 */
#ifndef IMADDR_TEMPDIR_H
#define IMADDR_TEMPDIR_H

#include <stddef.h>

/** Creates a new empty directory under $TMPDIR (or /tmp); free() the name. */
char *tempdir_create(void);
/** Removes `dir` and the files and directories in it. */
void tempdir_remove(const char *dir);
/** "dir/name" in a new string the caller frees. */
char *tempdir_path(const char *dir, const char *name);
/** Writes `len` bytes to dir/name, replacing it; returns the path (free it). */
char *tempdir_write(const char *dir, const char *name, const char *bytes, size_t len);
/** Same, for a C string. */
char *tempdir_write_str(const char *dir, const char *name, const char *text);
/** The contents of `path` with a NUL added, or NULL when it cannot be read. */
char *tempdir_read(const char *path, size_t *len);
/**
 * The names in `dir` (without "." and ".."), sorted, comma-separated, e.g.
 * "bat-001.csv,users.csv"; "" for an empty directory. The caller frees it.
 */
char *tempdir_list(const char *dir);
/** Asserts that tempdir_list(dir) is `expected`. */
void tempdir_expect_listing(const char *dir, const char *expected);

/*
 * Declares a Criterion suite whose every test gets a fresh temporary
 * directory in `dir`, removed after the test.
 */
#define TEMPDIR_TEST_SUITE(suite) \
	static char *dir; \
	static void suite##_make_dir(void) \
	{ \
		dir = tempdir_create(); \
	} \
	static void suite##_remove_dir(void) \
	{ \
		tempdir_remove(dir); \
		free(dir); \
	} \
	TestSuite(suite, .init = suite##_make_dir, .fini = suite##_remove_dir)

#endif /* IMADDR_TEMPDIR_H */
