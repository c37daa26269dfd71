#include "buffer.h"

#include <stdarg.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static char empty_string[1];

/* The one place the library prints and stops: see the policy in imaddr.h. */
void imaddr_fatal(const char *message)
{
	fprintf(stderr, "imaddr: %s\n", message);
	abort();
}

static void die_out_of_memory(void)
{
	imaddr_fatal("out of memory");
}

/*
 * Blocks of this size or more ask the kernel for transparent huge pages.
 * The big arrays of a run (the duplicate index, the report's label state,
 * the user cache's notes, the spool's read-back) are filled once from end to
 * end, so each 4 KiB page costs a fault at first touch. Huge pages took a
 * million-user run from 60,000 faults to 38,000 (a second night's from
 * 77,000 to 42,000); on the virtual machines the bench ran on, a fault
 * costs several microseconds (docs/performance.md). Debian's kernels
 * default to "madvise": nothing changes unless asked.
 */
#define HUGE_PAGE_SIZE ((size_t)2 << 20)
#define HUGE_PAGE_ADVICE_MIN (2 * HUGE_PAGE_SIZE)

static void *advise_huge_pages(void *pointer, size_t size)
{
#ifdef MADV_HUGEPAGE
	if (size >= HUGE_PAGE_ADVICE_MIN) {
		uintptr_t start = ((uintptr_t)pointer + HUGE_PAGE_SIZE - 1) & ~(HUGE_PAGE_SIZE - 1);
		uintptr_t end = ((uintptr_t)pointer + size) & ~(HUGE_PAGE_SIZE - 1);
		/* Only advice: a kernel without THP says EINVAL and the run goes on. */
		if (end > start)
			(void)madvise((void *)start, end - start, MADV_HUGEPAGE);
	}
#else
	(void)size;
#endif
	return pointer;
}

void *imaddr_xmalloc(size_t size)
{
	void *pointer = malloc(size ? size : 1);
	if (!pointer)
		die_out_of_memory();
	return advise_huge_pages(pointer, size);
}

void *imaddr_xcalloc(size_t count, size_t size)
{
	void *pointer = calloc(count ? count : 1, size ? size : 1);
	if (!pointer)
		die_out_of_memory();
	/* calloc checked that the product does not overflow. */
	return advise_huge_pages(pointer, count * size);
}

void *imaddr_xrealloc(void *pointer, size_t size)
{
#ifdef __GLIBC__
	/*
	 * glibc's realloc copies a block that cannot grow in place into new
	 * memory before the advice above could be given, so the copy would fault
	 * in every 4 KiB page of it: a big array grows into advised memory here.
	 */
	if (pointer && size >= HUGE_PAGE_ADVICE_MIN) {
		size_t old_size = malloc_usable_size(pointer);
		if (old_size < size) {
			void *grown = imaddr_xmalloc(size);
			memcpy(grown, pointer, old_size);
			free(pointer);
			return grown;
		}
	}
#endif
	void *grown = realloc(pointer, size ? size : 1);
	if (!grown)
		die_out_of_memory();
	return advise_huge_pages(grown, size);
}

char *imaddr_xstrndup(const char *string, size_t length)
{
	char *copy = imaddr_xmalloc(length + 1);
	memcpy(copy, string, length);
	copy[length] = '\0';
	return copy;
}

char *imaddr_stream_buffer(FILE *stream, size_t size)
{
	char *buffer = imaddr_xmalloc(size);
	if (setvbuf(stream, buffer, _IOFBF, size) != 0) {
		free(buffer);   /* the stream keeps its own */
		return NULL;
	}
	return buffer;
}

char *imaddr_xstrdup(const char *string)
{
	return imaddr_xstrndup(string, strlen(string));
}

void imaddr_buf_init(struct imaddr_buf *buf, size_t limit)
{
	buf->data = empty_string;
	buf->len = 0;
	buf->cap = 0;
	buf->limit = limit;
}

void imaddr_buf_release(struct imaddr_buf *buf)
{
	if (buf->cap)
		free(buf->data);
	imaddr_buf_init(buf, buf->limit);
}

void imaddr_buf_reset(struct imaddr_buf *buf)
{
	buf->len = 0;
	if (buf->cap)
		buf->data[0] = '\0';
}

bool imaddr_buf_reserve(struct imaddr_buf *buf, size_t extra)
{
	if (extra > SIZE_MAX / 2 - buf->len)
		return false;
	size_t wanted = buf->len + extra;
	if (buf->limit && wanted > buf->limit)
		return false;
	if (wanted + 1 <= buf->cap)
		return true;
	size_t cap = buf->cap ? buf->cap : 64;
	while (cap < wanted + 1)
		cap *= 2;
	if (buf->cap) {
		buf->data = imaddr_xrealloc(buf->data, cap);
	} else {
		buf->data = imaddr_xmalloc(cap);
		buf->data[0] = '\0';
	}
	buf->cap = cap;
	return true;
}

bool imaddr_buf_append_growing(struct imaddr_buf *buf, const void *bytes, size_t length)
{
	if (!imaddr_buf_reserve(buf, length))
		return false;
	if (length)
		memcpy(buf->data + buf->len, bytes, length);
	buf->len += length;
	buf->data[buf->len] = '\0';
	return true;
}

bool imaddr_buf_append_str(struct imaddr_buf *buf, const char *string)
{
	return imaddr_buf_append(buf, string, strlen(string));
}

bool imaddr_buf_appendf(struct imaddr_buf *buf, const char *format, ...)
{
	va_list args;
	char small[256];

	va_start(args, format);
	int length = vsnprintf(small, sizeof(small), format, args);
	va_end(args);
	if (length < 0)
		return false;
	if ((size_t)length < sizeof(small))
		return imaddr_buf_append(buf, small, (size_t)length);
	if (!imaddr_buf_reserve(buf, (size_t)length))
		return false;
	va_start(args, format);
	vsnprintf(buf->data + buf->len, (size_t)length + 1, format, args);
	va_end(args);
	buf->len += (size_t)length;
	return true;
}

void imaddr_buf_truncate(struct imaddr_buf *buf, size_t length)
{
	if (length >= buf->len)
		return;
	buf->len = length;
	buf->data[length] = '\0';
}

char *imaddr_buf_detach(struct imaddr_buf *buf)
{
	char *data = buf->cap ? buf->data : imaddr_xstrdup("");
	imaddr_buf_init(buf, buf->limit);
	return data;
}
