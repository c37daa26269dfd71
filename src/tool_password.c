/*
 * The program's one copy of the LDAP bind password. It is read straight into
 * a fixed buffer with read(2), never through stdio (whose buffer would keep a
 * second copy) nor getline (whose reallocations would leave others behind);
 * the environment's copy is wiped at start-up; the buffer is wiped as soon as
 * the LDAP reader has taken its own, which the library wipes after the bind.
 * From the moment a password is taken until the program ends, the process
 * cannot be dumped or attached to by other users' processes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "tool.h"

static void hold_secrets(struct tool_password *password)
{
	/* No core file, no ptrace by the same user, /proc/PID/mem closed. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* Kept out of swap where the limit allows; nothing breaks otherwise. */
	mlock(password, sizeof(*password));
}

void tool_password_take_environment(struct tool_password *password)
{
	char *value = getenv(TOOL_PASSWORD_ENV);
	if (!value)
		return;
	size_t length = strlen(value);
	if (length < sizeof(password->text)) {
		hold_secrets(password);
		memcpy(password->text, value, length + 1);
		password->held = length > 0;
		password->from_environment = true;
	} else {
		password->too_long = true;
	}
	/* The string lives in the process's initial environment block, which
	 * /proc/PID/environ shows: wipe it there, then drop the variable. */
	explicit_bzero(value, length);
	unsetenv(TOOL_PASSWORD_ENV);
}

/*
 * Reads the first line of fd into the buffer, its line end removed. Returns
 * 0, or -1 with errno set, or -2 when the line does not fit.
 */
static int read_line(int fd, struct tool_password *password)
{
	size_t used = 0;
	for (;;) {
		if (used == sizeof(password->text) - 1)
			return memchr(password->text, '\n', used) ? 0 : -2;
		ssize_t got = read(fd, password->text + used, sizeof(password->text) - 1 - used);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -1;
		if (got == 0)
			break;
		used += (size_t)got;
		if (memchr(password->text, '\n', used))
			break;
	}
	password->text[used] = '\0';
	size_t line = strcspn(password->text, "\r\n");
	explicit_bzero(password->text + line, used - line);
	return 0;
}

int tool_password_read_file(struct tool_password *password, const char *path)
{
	struct stat status;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int saved_errno = errno;
		char cwd[4096];
		/* A configuration file's relative path is the current directory's, not the file's. */
		if (path[0] != '/' && getcwd(cwd, sizeof(cwd)))
			tool_error("cannot open password file '%s': %s (a relative path is taken "
				   "from the current directory, '%s')", path, strerror(saved_errno),
				   cwd);
		else
			tool_error("cannot open password file '%s': %s", path,
				   strerror(saved_errno));
		return TOOL_EXIT_USAGE;
	}
	if (fstat(fd, &status) != 0 || S_ISDIR(status.st_mode)) {
		tool_error("cannot read password file '%s': %s", path,
			   S_ISDIR(status.st_mode) ? "it is a directory" : strerror(errno));
		close(fd);
		return TOOL_EXIT_USAGE;
	}
	if (status.st_mode & (S_IROTH | S_IWOTH)) {
		tool_error("password file '%s' is open to other users (mode %04o): "
			   "chmod o-rw '%s'", path, (unsigned)(status.st_mode & 07777), path);
		close(fd);
		return TOOL_EXIT_USAGE;
	}
	tool_password_clear(password);
	hold_secrets(password);
	int rc = read_line(fd, password);
	int saved_errno = errno;
	close(fd);
	if (rc == -1) {
		tool_error("cannot read password file '%s': %s", path, strerror(saved_errno));
	} else if (rc == -2) {
		tool_error("password file '%s': the first line is longer than %zu bytes", path,
			   sizeof(password->text) - 1);
	} else if (!password->text[0] && status.st_size == 0) {
		tool_error("password file '%s' is empty: no password", path);
	} else if (!password->text[0]) {
		tool_error("password file '%s': the first line is empty, and the password is "
			   "the first line", path);
	} else {
		password->held = true;
		return TOOL_EXIT_CLEAN;
	}
	tool_password_clear(password);
	return TOOL_EXIT_USAGE;
}

int tool_password_prompt(struct tool_password *password, const char *bind_dn)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		tool_error("cannot ask for the password: no terminal (%s)", strerror(errno));
		return TOOL_EXIT_USAGE;
	}
	struct termios saved, quiet;
	bool restore = tcgetattr(fd, &saved) == 0;
	if (restore) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	char prompt[1200];
	int length = snprintf(prompt, sizeof(prompt), "LDAP password for %s: ", bind_dn);
	if (length > 0 && write(fd, prompt, (size_t)length < sizeof(prompt) ? (size_t)length
									  : sizeof(prompt) - 1) < 0)
		length = -1;
	tool_password_clear(password);
	hold_secrets(password);
	int rc = read_line(fd, password);
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &saved);
	close(fd);
	if (rc == 0 && password->text[0]) {
		password->held = true;
		return TOOL_EXIT_CLEAN;
	}
	tool_password_clear(password);
	tool_error(rc == -2 ? "the password is too long" : "no password given");
	return TOOL_EXIT_USAGE;
}

void tool_password_clear(struct tool_password *password)
{
	explicit_bzero(password->text, sizeof(password->text));
	password->held = false;
}
