#include "worker.h"

#include <signal.h>

bool imaddr_worker_start(pthread_t *thread, void *(*work)(void *), void *context)
{
	sigset_t all, saved;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	int failed = pthread_create(thread, NULL, work, context);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	return !failed;
}
