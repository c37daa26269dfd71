/*
 * Reading scattered records of a file through two windows, each a span of
 * the file read at once: the spool's users (spool.c) and a user cache's
 * entries (user_cache.c). Users an earlier run wrote to a user cache follow
 * each other where it wrote them, those this run checked follow each other
 * at its end; a run where 1% of the users changed goes back and forth
 * between the two places some 20,000 times at a million users, and one
 * window read a megabyte at each turn (a second of copying). With two, the
 * older is replaced.
 */
#ifndef IMADDR_FILE_WINDOWS_H
#define IMADDR_FILE_WINDOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buffer.h"

struct imaddr_file_windows {
	struct imaddr_file_window {
		struct imaddr_buf data;
		uint64_t at;
		size_t length;
		uint64_t used;     /* when last used */
	} window[2];
	uint64_t clock;
	uint64_t jumps;    /* misses that went on from no window */
};

#define IMADDR_FILE_WINDOW_JUMP (16 * 1024)

void imaddr_file_windows_init(struct imaddr_file_windows *windows);
void imaddr_file_windows_release(struct imaddr_file_windows *windows);

/**
 * The `size` bytes at `begin` of the file `fd` (`file_size` bytes long):
 * from a window, or read into one (at least `size` bytes; less at the
 * file's end). Valid until the next call. NULL, errno set (0 for a short
 * read), when they cannot be read.
 *
 * Reads that go on past a window's end (within a quarter of `span`) replace
 * that window with the next `span` bytes: a sequential pass reads big. A
 * jump elsewhere replaces the older window with IMADDR_FILE_WINDOW_JUMP
 * bytes only: a user cache after many nights holds each night's new users
 * in a place of its own, and a megabyte read for each of 40,000 such jumps
 * was 40 GB of copying in a night. A jump into a stretch read on from there
 * turns into a sequential pass at its first miss.
 */
const char *imaddr_file_windows_read(struct imaddr_file_windows *windows, int fd,
				     uint64_t file_size, uint64_t begin, size_t size, size_t span);

/** pread until `size` bytes are read; false (errno 0 for the file's end) when they cannot be. */
bool imaddr_pread_all(int fd, void *buffer, size_t size, uint64_t at);

#endif /* IMADDR_FILE_WINDOWS_H */
