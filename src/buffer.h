/*
 * Growable byte buffers with a size cap, and the allocation wrappers every
 * module uses (an allocation failure aborts: see include/imaddr.h).
 */
#ifndef IMADDR_BUFFER_H
#define IMADDR_BUFFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/**
 * Prints "imaddr: <message>" and aborts: for an allocation failure and for
 * what the library treats alike (ICU's linked data missing), never for bad
 * input. The only place the library writes to standard error.
 */
void imaddr_fatal(const char *message) __attribute__((noreturn));

void *imaddr_xmalloc(size_t size);
void *imaddr_xcalloc(size_t count, size_t size);
void *imaddr_xrealloc(void *pointer, size_t size);
char *imaddr_xstrdup(const char *string);
char *imaddr_xstrndup(const char *string, size_t length);

/* Two texts alike, NULL only as NULL: a cluster, a key, an address that may be absent. */
static inline bool imaddr_same_text(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

/**
 * Gives `stream` a buffer of `size` bytes and returns it, to be freed after
 * the stream is closed. glibc's setvbuf ignores the size unless it is given
 * the buffer too, and keeps its 4 KiB: a million users would cost tens of
 * thousands of write calls.
 */
char *imaddr_stream_buffer(FILE *stream, size_t size);

/*
 * A NUL-terminated byte buffer. `data` is never NULL after init and always
 * has a NUL at data[len], so it can be handed to C string functions. `limit`
 * caps len so that hostile input cannot grow memory without bound; 0 means
 * no cap.
 */
struct imaddr_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t limit;
};

/** Sets up an empty buffer without allocating. */
void imaddr_buf_init(struct imaddr_buf *buf, size_t limit);
/** Frees the contents; the buffer is unusable until init. */
void imaddr_buf_release(struct imaddr_buf *buf);
/** Empties the buffer, keeping its memory. */
void imaddr_buf_reset(struct imaddr_buf *buf);
/** Makes room for `extra` more bytes; false when that would pass the cap. */
bool imaddr_buf_reserve(struct imaddr_buf *buf, size_t extra);
/** The out-of-line part of imaddr_buf_append(): grows the buffer first. */
bool imaddr_buf_append_growing(struct imaddr_buf *buf, const void *bytes, size_t length);

/*
 * Appends bytes; false (and nothing appended) when past the cap. Inline, as
 * the readers, the spool and the report's queue call it for every value of
 * every user (tens of millions of calls a run); only growing is out of line.
 */
static inline bool imaddr_buf_append(struct imaddr_buf *buf, const void *bytes, size_t length)
{
	if (length >= buf->cap - buf->len || (buf->limit && length > buf->limit - buf->len))
		return imaddr_buf_append_growing(buf, bytes, length);
	if (length)
		memcpy(buf->data + buf->len, bytes, length);
	buf->len += length;
	buf->data[buf->len] = '\0';
	return true;
}

static inline bool imaddr_buf_append_char(struct imaddr_buf *buf, char c)
{
	return imaddr_buf_append(buf, &c, 1);
}

bool imaddr_buf_append_str(struct imaddr_buf *buf, const char *string);
/** printf-style append; false when past the cap. */
bool imaddr_buf_appendf(struct imaddr_buf *buf, const char *format, ...)
	__attribute__((format(printf, 2, 3)));
/** Cuts the buffer to `length` bytes (length <= len). */
void imaddr_buf_truncate(struct imaddr_buf *buf, size_t length);
/** Hands the contents to the caller (free() them) and resets the buffer. */
char *imaddr_buf_detach(struct imaddr_buf *buf);

#endif /* IMADDR_BUFFER_H */
