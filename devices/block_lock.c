/*
 * Image locks.  Two writers (or a writer and readers) on one image corrupt
 * it, so every image is flock()ed when opened (exclusive for writing,
 * shared for reading), as xend's block scripts refuse a device in use.
 *
 * A migration between hosts that share storage has both monitors open the
 * same images for a while.  The incoming side opens them without locking
 * (block_locks_defer()) and takes the locks when it starts to run the
 * guest; the sending side gives its locks up just before it hands the
 * guest over ("go"), when its vCPUs are paused and its I/O finished, and
 * takes them back if the hand-over fails.  The images are remembered by
 * descriptor; one closed since (its inode no longer behind the number)
 * is forgotten.
 */
#include "devices/block_backend.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "lib/log.h"

#define LOCKS_MAX 64

struct image_lock {
	int fd;
	bool exclusive;
	bool held;
	dev_t dev;
	ino_t ino;
	char what[128];
};

static struct image_lock locks[LOCKS_MAX];
static unsigned n_locks;
static bool deferred;
static pthread_mutex_t locks_mu = PTHREAD_MUTEX_INITIALIZER;

void block_locks_defer(void)
{
	deferred = true;
}

static bool still_open(const struct image_lock *l)
{
	struct stat st;

	return fstat(l->fd, &st) == 0 && st.st_dev == l->dev &&
	       st.st_ino == l->ino;
}

static void remember(const char *what, int fd, bool exclusive, bool held,
		     const struct stat *st)
{
	unsigned i;

	pthread_mutex_lock(&locks_mu);
	for (i = 0; i < n_locks && still_open(&locks[i]); i++)
		;
	if (i == n_locks && n_locks < LOCKS_MAX)
		n_locks++;
	if (i < n_locks) {
		locks[i] = (struct image_lock){ fd, exclusive, held, st->st_dev,
						st->st_ino, "" };
		snprintf(locks[i].what, sizeof(locks[i].what), "%s", what);
	} else {
		log_warn("%s: more than %d images; this one cannot move its "
			 "lock in a migration", what, LOCKS_MAX);
	}
	pthread_mutex_unlock(&locks_mu);
}

int block_lock_image(const char *what, int fd, bool readonly)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		log_error("%s: cannot lock: %s", what, strerror(errno));
		return -1;
	}
	if (deferred) {
		remember(what, fd, !readonly, false, &st);
		return 0;
	}
	if (flock(fd, (readonly ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			log_error("%s: in use by another disk or domain (it is "
				  "locked)", what);
		else
			log_error("%s: cannot lock: %s", what, strerror(errno));
		return -1;
	}
	remember(what, fd, !readonly, true, &st);
	return 0;
}

void block_locks_release(void)
{
	pthread_mutex_lock(&locks_mu);
	for (unsigned i = 0; i < n_locks; i++)
		if (locks[i].held && still_open(&locks[i])) {
			flock(locks[i].fd, LOCK_UN);
			locks[i].held = false;
		}
	pthread_mutex_unlock(&locks_mu);
}

int block_locks_take(void)
{
	int busy = 0;

	pthread_mutex_lock(&locks_mu);
	deferred = false;
	for (unsigned i = 0; i < n_locks; i++) {
		struct image_lock *l = &locks[i];

		if (l->held || !still_open(l))
			continue;
		if (flock(l->fd, (l->exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0) {
			l->held = true;
			continue;
		}
		busy++;
		log_warn("%s: still locked by another process (%s); running "
			 "without the lock", l->what, strerror(errno));
	}
	pthread_mutex_unlock(&locks_mu);
	return busy ? -1 : 0;
}
