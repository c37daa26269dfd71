#include "ldap_watch.h"

#include <lber.h>
#include <string.h>
#include <sys/socket.h>

#include "error.h"

/* How often the watch looks at the clock and for a stop. */
#define TICK_NS (100 * 1000 * 1000)

static double seconds_since(const struct timespec *from)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - from->tv_sec) + (double)(now.tv_nsec - from->tv_nsec) / 1e9;
}

/* libldap: a connection is made (TCP only, before any TLS handshake). */
static int on_connection(LDAP *ld, Sockbuf *sockbuf, LDAPURLDesc *server,
			 struct sockaddr *address, struct ldap_conncb *callback)
{
	(void)ld;
	(void)server;
	(void)address;
	struct imaddr_ldap_watch *watch = callback->lc_arg;
	ber_socket_t fd = -1;
	ber_sockbuf_ctrl(sockbuf, LBER_SB_OPT_GET_FD, &fd);
	pthread_mutex_lock(&watch->lock);
	watch->fd = fd;
	pthread_mutex_unlock(&watch->lock);
	return 0;
}

/* libldap: a connection is about to close, or the handle to be freed. */
static void on_close(LDAP *ld, Sockbuf *sockbuf, struct ldap_conncb *callback)
{
	(void)ld;
	(void)sockbuf;
	struct imaddr_ldap_watch *watch = callback->lc_arg;
	pthread_mutex_lock(&watch->lock);
	watch->fd = -1;
	pthread_mutex_unlock(&watch->lock);
}

static void *watch_connection(void *context)
{
	struct imaddr_ldap_watch *watch = context;
	pthread_mutex_lock(&watch->lock);
	while (!watch->done) {
		enum imaddr_ldap_watch_outcome outcome = IMADDR_LDAP_WATCH_QUIET;
		if (imaddr_stop_requested())
			outcome = IMADDR_LDAP_WATCH_STOPPED;
		else if (watch->timeout_seconds > 0 &&
			 seconds_since(&watch->started) >= watch->timeout_seconds)
			outcome = IMADDR_LDAP_WATCH_TIMED_OUT;
		/* Before the socket exists, libldap's own timeout and EINTR serve. */
		if (outcome != IMADDR_LDAP_WATCH_QUIET && watch->fd >= 0) {
			shutdown(watch->fd, SHUT_RDWR);
			watch->outcome = outcome;
			break;
		}
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += TICK_NS;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&watch->wake, &watch->lock, &until);
	}
	pthread_mutex_unlock(&watch->lock);
	return NULL;
}

void imaddr_ldap_watch_init(struct imaddr_ldap_watch *watch, int timeout_seconds)
{
	memset(watch, 0, sizeof(*watch));
	pthread_mutex_init(&watch->lock, NULL);
	pthread_condattr_t attributes;
	pthread_condattr_init(&attributes);
	pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
	pthread_cond_init(&watch->wake, &attributes);
	pthread_condattr_destroy(&attributes);
	watch->fd = -1;
	watch->timeout_seconds = timeout_seconds;
	watch->callback = (ldap_conncb){ .lc_add = on_connection, .lc_del = on_close,
					 .lc_arg = watch };
}

bool imaddr_ldap_watch_start(struct imaddr_ldap_watch *watch, LDAP *ld)
{
	if (ldap_set_option(ld, LDAP_OPT_CONNECT_CB, &watch->callback) != LDAP_OPT_SUCCESS)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &watch->started);
	watch->done = false;
	watch->outcome = IMADDR_LDAP_WATCH_QUIET;
	watch->running = pthread_create(&watch->thread, NULL, watch_connection, watch) == 0;
	return watch->running;
}

enum imaddr_ldap_watch_outcome imaddr_ldap_watch_stop(struct imaddr_ldap_watch *watch)
{
	if (!watch->running)
		return IMADDR_LDAP_WATCH_QUIET;
	pthread_mutex_lock(&watch->lock);
	watch->done = true;
	pthread_cond_signal(&watch->wake);
	pthread_mutex_unlock(&watch->lock);
	pthread_join(watch->thread, NULL);
	watch->running = false;
	return watch->outcome;
}

void imaddr_ldap_watch_release(struct imaddr_ldap_watch *watch)
{
	imaddr_ldap_watch_stop(watch);
	pthread_cond_destroy(&watch->wake);
	pthread_mutex_destroy(&watch->lock);
}
