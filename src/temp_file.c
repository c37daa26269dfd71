/* O_TMPFILE is Linux's; other systems take the named file's path below. */
#define _GNU_SOURCE
#include "temp_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "buffer.h"

const char *imaddr_temp_dir(void)
{
	const char *dir = getenv("TMPDIR");
	return dir && *dir ? dir : "/tmp";
}

/* A file system without unnamed files gets a named one, unlinked at once. */
static int named_and_unlinked(const char *dir)
{
	struct imaddr_buf name;
	imaddr_buf_init(&name, 0);
	imaddr_buf_appendf(&name, "%s/imaddr-XXXXXX", dir);
	int fd = mkstemp(name.data);
	if (fd >= 0)
		unlink(name.data);
	int saved = errno;
	imaddr_buf_release(&name);
	errno = saved;
	return fd;
}

FILE *imaddr_temp_file(void)
{
	const char *dir = imaddr_temp_dir();
	int fd = -1;
#ifdef O_TMPFILE
	fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL))
		fd = named_and_unlinked(dir);
#else
	fd = named_and_unlinked(dir);
#endif
	if (fd < 0)
		return NULL;
	FILE *file = fdopen(fd, "w+");
	if (!file) {
		int saved = errno;
		close(fd);
		errno = saved;
	}
	return file;
}
