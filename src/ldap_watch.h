/*
 * A watch over an LDAP connection while it is made. libldap's network
 * timeout covers the TCP connect and the reads of a search, but a TLS
 * handshake (ldaps:// or StartTLS) with a server that stopped answering
 * waits for ever, or spins at full CPU once a timeout is set, and a caught
 * SIGINT or SIGTERM does not end it. The watch learns the connection's
 * socket from libldap (LDAP_OPT_CONNECT_CB) and, from a thread of its own,
 * shuts it down when the timeout has passed or a stop was asked for
 * (imaddr_audit_request_stop): the handshake or bind then fails at once.
 */
#ifndef IMADDR_LDAP_WATCH_H
#define IMADDR_LDAP_WATCH_H

#include <ldap.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

enum imaddr_ldap_watch_outcome {
	IMADDR_LDAP_WATCH_QUIET,      /* the connection was made or failed on its own */
	IMADDR_LDAP_WATCH_TIMED_OUT,  /* shut down: the timeout passed */
	IMADDR_LDAP_WATCH_STOPPED     /* shut down: a stop was asked for */
};

struct imaddr_ldap_watch {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool running;
	bool done;                 /* the caller stopped watching */
	int fd;                    /* the connection's socket, -1 while it has none */
	int timeout_seconds;       /* 0: no timeout, only stops */
	struct timespec started;
	enum imaddr_ldap_watch_outcome outcome;
	ldap_conncb callback;      /* libldap keeps a pointer to it */
};

/** A watch that gives a connection `timeout_seconds` (0: for ever). */
void imaddr_ldap_watch_init(struct imaddr_ldap_watch *watch, int timeout_seconds);

/**
 * Tells `ld`'s connections to the watch and starts watching; false when
 * libldap or the thread refused, and the connection is then made unwatched.
 */
bool imaddr_ldap_watch_start(struct imaddr_ldap_watch *watch, LDAP *ld);

/** Stops watching (the connection is made, or failed); what the watch did. */
enum imaddr_ldap_watch_outcome imaddr_ldap_watch_stop(struct imaddr_ldap_watch *watch);

/** Releases it, once the handle it watched is unbound. */
void imaddr_ldap_watch_release(struct imaddr_ldap_watch *watch);

#endif /* IMADDR_LDAP_WATCH_H */
