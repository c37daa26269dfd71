/*
 * Growable byte buffers with a size cap, and the allocation wrappers every
 * module uses (an allocation failure aborts: see include/imaddr.h).
 */
#ifndef IMADDR_BUFFER_H
#define IMADDR_BUFFER_H

#include <stdbool.h>
#include <stddef.h>

void *imaddr_xmalloc(size_t size);
void *imaddr_xcalloc(size_t count, size_t size);
void *imaddr_xrealloc(void *pointer, size_t size);
char *imaddr_xstrdup(const char *string);
char *imaddr_xstrndup(const char *string, size_t length);

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
/** Appends bytes; false (and nothing appended) when past the cap. */
bool imaddr_buf_append(struct imaddr_buf *buf, const void *bytes, size_t length);
bool imaddr_buf_append_str(struct imaddr_buf *buf, const char *string);
bool imaddr_buf_append_char(struct imaddr_buf *buf, char c);
/** printf-style append; false when past the cap. */
bool imaddr_buf_appendf(struct imaddr_buf *buf, const char *format, ...)
	__attribute__((format(printf, 2, 3)));
/** Cuts the buffer to `length` bytes (length <= len). */
void imaddr_buf_truncate(struct imaddr_buf *buf, size_t length);
/** Hands the contents to the caller (free() them) and resets the buffer. */
char *imaddr_buf_detach(struct imaddr_buf *buf);

#endif /* IMADDR_BUFFER_H */
