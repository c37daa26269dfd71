#include "staging.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomic_file.h"
#include "buffer.h"
#include "error.h"

#define JOURNAL_MAGIC "imaddr-pending 1\n"
#define JOURNAL_MAX 8192
#define LOCK_POLL_NS 20000000L

static char *with_suffix(const char *path, const char *suffix)
{
	struct imaddr_buf name;
	imaddr_buf_init(&name, 0);
	imaddr_buf_appendf(&name, "%s%s", path, suffix);
	return imaddr_buf_detach(&name);
}

/* The directory T is in, and T's name in it. */
static char *parent_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return imaddr_xstrdup(".");
	if (slash == path)
		return imaddr_xstrdup("/");
	return imaddr_xstrndup(path, (size_t)(slash - path));
}

static const char *base_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* A rename is durable once the directory holding both names is synced. */
static int sync_directory(const char *directory)
{
	int fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

static void sync_parent(const struct imaddr_staging *staging)
{
	char *parent = parent_of(staging->target);
	sync_directory(parent);
	free(parent);
}

/* A staged file, or a staged directory of files (never deeper: chunks). */
static void remove_tree(const char *path)
{
	if (unlink(path) == 0 || (errno != EISDIR && errno != EPERM))
		return;
	DIR *dir = opendir(path);
	if (dir) {
		struct dirent *entry;
		while ((entry = readdir(dir))) {
			if (strcmp(entry->d_name, ".") && strcmp(entry->d_name, ".."))
				unlinkat(dirfd(dir), entry->d_name, 0);
		}
		closedir(dir);
	}
	rmdir(path);
}

/* T.old-XXXXXX for T.tmp-XXXXXX: where a replaced directory goes. */
static char *old_name(const struct imaddr_staging *staging, const char *staged)
{
	const char *suffix = strrchr(staged, '-');
	struct imaddr_buf name;
	imaddr_buf_init(&name, 0);
	imaddr_buf_appendf(&name, "%s.old%s", staging->target, suffix ? suffix : "-");
	return imaddr_buf_detach(&name);
}

void imaddr_staging_init(struct imaddr_staging *staging, const char *target, bool directory,
			 int wait_ms)
{
	memset(staging, 0, sizeof(*staging));
	staging->target = imaddr_xstrdup(target);
	staging->directory = directory;
	staging->wait_ms = wait_ms;
	staging->lock_fd = -1;
	staging->lock_path = with_suffix(target, ".lock");
	staging->journal = with_suffix(target, ".pending");
}

enum imaddr_status imaddr_staging_check_target(const char *target, bool directory,
					       struct imaddr_error *err)
{
	struct stat st;
	const char *what = NULL;

	if (lstat(target, &st) != 0)
		return IMADDR_OK;
	if (S_ISLNK(st.st_mode))
		what = "a symbolic link";
	else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
		what = "a device";
	else if (S_ISFIFO(st.st_mode))
		what = "a FIFO";
	else if (S_ISSOCK(st.st_mode))
		what = "a socket";
	else if (S_ISDIR(st.st_mode) && !directory)
		what = "a directory";
	else if (!S_ISDIR(st.st_mode) && directory)
		what = "a file, not a directory of chunks";
	if (!what)
		return IMADDR_OK;
	return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write '%s': it is %s, and imaddr "
				"replaces only %s", target, what,
				directory ? "a directory of chunks there"
					  : "regular files (the BAT file and the JSON document "
					    "write to standard output as '-')");
}

static void unlock(struct imaddr_staging *staging)
{
	if (staging->lock_fd < 0)
		return;
	/* Unlinked while held: a waiter then finds its file gone and retries. */
	unlink(staging->lock_path);
	close(staging->lock_fd);
	staging->lock_fd = -1;
}

static enum imaddr_status lock(struct imaddr_staging *staging, struct imaddr_error *err)
{
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);

	for (;;) {
		int fd = open(staging->lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (fd < 0)
			return imaddr_error_set(err, IMADDR_ERR_IO, "cannot lock '%s': %s",
						staging->lock_path, strerror(errno));
		while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
			if (errno != EWOULDBLOCK && errno != EINTR) {
				enum imaddr_status status = imaddr_error_set(err, IMADDR_ERR_IO,
					"cannot lock '%s': %s", staging->lock_path,
					strerror(errno));
				close(fd);
				return status;
			}
			if (imaddr_stop_requested()) {
				close(fd);
				return imaddr_error_set(err, IMADDR_ERR_INTERRUPTED, "interrupted");
			}
			clock_gettime(CLOCK_MONOTONIC, &now);
			long waited_ms = (now.tv_sec - start.tv_sec) * 1000 +
					 (now.tv_nsec - start.tv_nsec) / 1000000;
			if (waited_ms >= staging->wait_ms) {
				close(fd);
				return imaddr_error_set(err, IMADDR_ERR_IO,
					"cannot write '%s': another imaddr run holds '%s' "
					"(waited %d s: see --wait)", staging->target,
					staging->lock_path, staging->wait_ms / 1000);
			}
			struct timespec pause = { 0, LOCK_POLL_NS };
			nanosleep(&pause, NULL);
		}
		struct stat held, named;
		if (fstat(fd, &held) == 0 && stat(staging->lock_path, &named) == 0 &&
		    held.st_dev == named.st_dev && held.st_ino == named.st_ino) {
			staging->lock_fd = fd;
			return IMADDR_OK;
		}
		close(fd);
	}
}

struct journal {
	char *staged;         /* the staged name, in T's directory */
	char *token;
	char *report;         /* NULL: no report, the run was decided */
};

static void journal_release(struct journal *journal)
{
	free(journal->staged);
	free(journal->token);
	free(journal->report);
}

/* "key value\n" lines after the magic; the report's path comes last. */
static bool parse_journal(char *text, struct journal *journal)
{
	if (strncmp(text, JOURNAL_MAGIC, strlen(JOURNAL_MAGIC)))
		return false;
	char *line = text + strlen(JOURNAL_MAGIC);
	while (*line) {
		char *end = strchr(line, '\n');
		if (!end)
			return false;
		*end = '\0';
		if (!strncmp(line, "staged ", 7) && !strchr(line + 7, '/'))
			journal->staged = imaddr_xstrdup(line + 7);
		else if (!strncmp(line, "token ", 6))
			journal->token = imaddr_xstrdup(line + 6);
		else if (!strncmp(line, "report ", 7))
			journal->report = imaddr_xstrdup(line + 7);
		line = end + 1;
	}
	return journal->staged && journal->token;
}

static enum imaddr_status read_journal(const struct imaddr_staging *staging,
				       struct journal *journal, struct imaddr_error *err)
{
	char text[JOURNAL_MAX + 1];
	int fd = open(staging->journal, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t got = fd < 0 ? -1 : read(fd, text, JOURNAL_MAX);
	if (fd >= 0)
		close(fd);
	if (got < 0)
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot read '%s': %s",
					staging->journal, strerror(errno));
	text[got] = '\0';
	if (!parse_journal(text, journal))
		return imaddr_error_set(err, IMADDR_ERR_IO,
					"cannot read '%s': not an imaddr journal; remove it "
					"if no imaddr run is writing '%s'",
					staging->journal, staging->target);
	return IMADDR_OK;
}

/* A killed run's switch, finished (the run committed) or undone. */
static enum imaddr_status recover(struct imaddr_staging *staging,
				  imaddr_staging_decide_fn *decide, struct imaddr_error *err)
{
	struct journal journal = { 0 };
	bool forward = true;
	enum imaddr_status status;

	if (!exists(staging->journal))
		return IMADDR_OK;
	status = read_journal(staging, &journal, err);
	if (status == IMADDR_OK && journal.report)
		status = decide(journal.report, journal.token, staging->wait_ms, &forward, err);
	if (status != IMADDR_OK) {
		journal_release(&journal);
		return status;
	}
	char *parent = parent_of(staging->target);
	struct imaddr_buf staged_path;
	imaddr_buf_init(&staged_path, 0);
	imaddr_buf_appendf(&staged_path, "%s/%s", parent, journal.staged);
	char *staged = imaddr_buf_detach(&staged_path);
	char *old = old_name(staging, staged);

	if (forward) {
		if (exists(staged)) {
			if (staging->directory && exists(staging->target) && !exists(old))
				rename(staging->target, old);
			if (rename(staged, staging->target) != 0)
				status = imaddr_error_set(err, IMADDR_ERR_IO,
					"cannot finish an interrupted run's '%s': %s",
					staging->target, strerror(errno));
		}
	} else {
		remove_tree(staged);
		if (exists(old) && !exists(staging->target))
			rename(old, staging->target);
	}
	if (status == IMADDR_OK) {
		remove_tree(old);
		sync_directory(parent);
		unlink(staging->journal);
		sync_directory(parent);
		imaddr_step("staging-recovered");
	}
	free(old);
	free(staged);
	free(parent);
	journal_release(&journal);
	return status;
}

/* What a killed run left: staged outputs, replaced directories, journals. */
static void remove_leftovers(const struct imaddr_staging *staging)
{
	static const char *const suffixes[] = { ".tmp-", ".old-", ".pending.tmp-" };
	char *parent = parent_of(staging->target);
	const char *base = base_of(staging->target);
	size_t base_len = strlen(base);
	DIR *dir = opendir(parent);
	struct imaddr_buf path;

	imaddr_buf_init(&path, 0);
	while (dir) {
		struct dirent *entry = readdir(dir);
		if (!entry)
			break;
		if (strncmp(entry->d_name, base, base_len))
			continue;
		for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
			const char *rest = entry->d_name + base_len;
			if (!strncmp(rest, suffixes[i], strlen(suffixes[i])) &&
			    !strchr(rest + strlen(suffixes[i]), '.')) {
				imaddr_buf_reset(&path);
				imaddr_buf_appendf(&path, "%s/%s", parent, entry->d_name);
				remove_tree(path.data);
				break;
			}
		}
	}
	if (dir)
		closedir(dir);
	imaddr_buf_release(&path);
	free(parent);
}

static enum imaddr_status create_staged(struct imaddr_staging *staging, int *fd,
					struct imaddr_error *err)
{
	char *name = with_suffix(staging->target, ".tmp-XXXXXX");
	*fd = -1;
	if (staging->directory) {
		if (!mkdtemp(name) || chmod(name, imaddr_output_mode(0777)) != 0)
			goto fail;
	} else {
		*fd = mkstemp(name);
		if (*fd < 0)
			goto fail;
		/* mkstemp makes 0600; an output should read like any file the user makes. */
		fchmod(*fd, imaddr_output_mode(0666));
	}
	staging->staged = name;
	return IMADDR_OK;
fail:;
	enum imaddr_status status = imaddr_error_set(err, IMADDR_ERR_IO, "cannot create '%s': %s",
						     name, strerror(errno));
	free(name);
	return status;
}

enum imaddr_status imaddr_staging_begin(struct imaddr_staging *staging,
					imaddr_staging_decide_fn *decide, int *fd,
					struct imaddr_error *err)
{
	enum imaddr_status status = imaddr_staging_check_target(staging->target,
								staging->directory, err);
	if (status == IMADDR_OK)
		status = lock(staging, err);
	if (status == IMADDR_OK)
		status = recover(staging, decide, err);
	if (status == IMADDR_OK) {
		remove_leftovers(staging);
		/* The journal may have put a directory where a file goes, or the reverse. */
		status = imaddr_staging_check_target(staging->target, staging->directory, err);
	}
	if (status == IMADDR_OK)
		status = create_staged(staging, fd, err);
	if (status != IMADDR_OK)
		unlock(staging);
	return status;
}

static enum imaddr_status write_journal(struct imaddr_staging *staging, const char *token,
					const char *report_path, struct imaddr_error *err)
{
	char *temp = with_suffix(staging->journal, ".tmp-XXXXXX");
	struct imaddr_buf text;
	int fd = mkstemp(temp);
	bool ok = fd >= 0;

	imaddr_buf_init(&text, 0);
	imaddr_buf_appendf(&text, JOURNAL_MAGIC "staged %s\ntoken %s\n",
			   base_of(staging->staged), token ? token : "-");
	if (report_path)
		imaddr_buf_appendf(&text, "report %s\n", report_path);
	ok = ok && text.len <= JOURNAL_MAX && write(fd, text.data, text.len) == (ssize_t)text.len;
	ok = ok && fsync(fd) == 0;
	int saved = errno;
	if (fd >= 0)
		close(fd);
	ok = ok && rename(temp, staging->journal) == 0;
	if (!ok) {
		if (!saved)
			saved = errno;
		unlink(temp);
	}
	free(temp);
	imaddr_buf_release(&text);
	if (!ok)
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write '%s': %s",
					staging->journal, strerror(saved ? saved : EFBIG));
	staging->journal_written = true;
	sync_parent(staging);
	return IMADDR_OK;
}

enum imaddr_status imaddr_staging_prepare(struct imaddr_staging *staging, const char *token,
					  const char *report_path, struct imaddr_error *err)
{
	if (staging->directory && sync_directory(staging->staged) != 0)
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write '%s': %s",
					staging->target, strerror(errno));
	imaddr_step("staging-synced");
	enum imaddr_status status = write_journal(staging, token, report_path, err);
	if (status == IMADDR_OK)
		imaddr_step("staging-journal");
	return status;
}

enum imaddr_status imaddr_staging_commit(struct imaddr_staging *staging,
					 struct imaddr_error *err)
{
	enum imaddr_status status = IMADDR_OK;
	char *old = old_name(staging, staging->staged);
	bool aside = false;

	if (staging->directory && exists(staging->target)) {
		if (rename(staging->target, old) != 0)
			status = imaddr_error_set(err, IMADDR_ERR_IO, "cannot replace '%s': %s",
						  staging->target, strerror(errno));
		aside = status == IMADDR_OK;
		if (aside)
			imaddr_step("staging-aside");
	}
	if (status == IMADDR_OK && rename(staging->staged, staging->target) != 0) {
		status = imaddr_error_set(err, IMADDR_ERR_IO, "cannot replace '%s': %s",
					  staging->target, strerror(errno));
		if (aside)
			rename(old, staging->target);
	}
	if (status != IMADDR_OK) {
		/* The journal stays: the next run on the target finishes the switch. */
		free(staging->staged);
		staging->staged = NULL;
		staging->journal_written = false;
		unlock(staging);
		free(old);
		return status;
	}
	imaddr_step("staging-switched");
	sync_parent(staging);
	if (aside)
		remove_tree(old);
	free(old);
	free(staging->staged);
	staging->staged = NULL;
	unlink(staging->journal);
	staging->journal_written = false;
	sync_parent(staging);
	imaddr_step("staging-done");
	unlock(staging);
	return IMADDR_OK;
}

void imaddr_staging_abort(struct imaddr_staging *staging)
{
	if (staging->staged)
		remove_tree(staging->staged);
	free(staging->staged);
	staging->staged = NULL;
	if (staging->journal_written)
		unlink(staging->journal);
	staging->journal_written = false;
	unlock(staging);
}

void imaddr_staging_release(struct imaddr_staging *staging)
{
	imaddr_staging_abort(staging);
	free(staging->target);
	free(staging->lock_path);
	free(staging->journal);
	memset(staging, 0, sizeof(*staging));
	staging->lock_fd = -1;
}
