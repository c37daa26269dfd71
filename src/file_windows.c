#include "file_windows.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

void imaddr_file_windows_init(struct imaddr_file_windows *windows)
{
	memset(windows, 0, sizeof(*windows));
	imaddr_buf_init(&windows->window[0].data, 0);
	imaddr_buf_init(&windows->window[1].data, 0);
}

void imaddr_file_windows_release(struct imaddr_file_windows *windows)
{
	imaddr_buf_release(&windows->window[0].data);
	imaddr_buf_release(&windows->window[1].data);
}

bool imaddr_pread_all(int fd, void *buffer, size_t size, uint64_t at)
{
	char *data = buffer;
	while (size) {
		ssize_t got = pread(fd, data, size, (off_t)at);
		if (got < 0 && errno == EINTR)
			continue;
		if (got == 0)
			errno = 0;
		if (got <= 0)
			return false;
		data += got;
		size -= (size_t)got;
		at += (uint64_t)got;
	}
	return true;
}

const char *imaddr_file_windows_read(struct imaddr_file_windows *windows, int fd,
				     uint64_t file_size, uint64_t begin, size_t size, size_t span)
{
	struct imaddr_file_window *older = &windows->window[0], *ended = NULL;
	windows->clock++;
	for (int i = 0; i < 2; i++) {
		struct imaddr_file_window *w = &windows->window[i];
		if (w->length && begin >= w->at && begin + size <= w->at + w->length) {
			w->used = windows->clock;
			return w->data.data + (begin - w->at);
		}
		/* A read that starts in the window, or just past it, goes on from it. */
		if (w->length && begin >= w->at && begin - w->at < w->length + span / 4)
			ended = w;
		if (w->used < older->used)
			older = w;
	}
	errno = 0;
	if (begin > file_size || size > file_size - begin)
		return NULL;
	size_t read = span;
	if (ended) {
		older = ended;
	} else if (windows->window[0].length || windows->window[1].length) {
		windows->jumps++;
		read = span < IMADDR_FILE_WINDOW_JUMP ? span : IMADDR_FILE_WINDOW_JUMP;
	}
	size_t want = size > read ? size : read;
	if (want > file_size - begin)
		want = (size_t)(file_size - begin);
	imaddr_buf_reset(&older->data);
	older->length = 0;
	if (!imaddr_buf_reserve(&older->data, want) || !imaddr_pread_all(fd, older->data.data, want, begin))
		return NULL;
	older->at = begin;
	older->length = want;
	older->used = windows->clock;
	return older->data.data;
}
