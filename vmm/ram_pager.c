/*
 * userfaultfd pager for guest RAM (see ram_pager.h).
 *
 * One thread owns the fault side: it reads fault messages and calls the
 * owner's callbacks.  Placing pages (UFFDIO_COPY / UFFDIO_ZEROPAGE) may be
 * done from any thread — post-copy places pages from its receive thread —
 * and wakes the threads waiting on them.  A page placed twice is not an
 * error (EEXIST): faults and background work race by design.
 */
#include "vmm/ram_pager.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/log.h"
#include "vmm/guest_memory.h"
#include "vmm/vm.h"

#define PAGE 4096ULL
#define MSG_BATCH 16

struct ram_pager {
	struct guest_memory *mem;
	const struct ram_pager_ops *ops;
	void *opaque;
	int uffd, wake_fd;
	pthread_t thread;
	bool thread_started;
	atomic_bool finish, stop;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int result;            /* 1 running, 0 finished, -1 failed */
	_Atomic uint64_t faults, placed, first_fault_ns, done_ns;
};

/* userfaultfd(2) where allowed, else the /dev/userfaultfd device (hosts
 * with vm.unprivileged_userfaultfd = 0 and no CAP_SYS_PTRACE). */
static int open_uffd(void)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	int dev;

	if (fd >= 0)
		return fd;
	dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -1;
	fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
	close(dev);
	return fd;
}

/* The API handshake; guest RAM is shmem, which needs MISSING_SHMEM. */
static int uffd_handshake(int fd)
{
	struct uffdio_api api = { .api = UFFD_API, .features = 0 };

	if (ioctl(fd, UFFDIO_API, &api) < 0)
		return -1;
	if (!(api.features & UFFD_FEATURE_MISSING_SHMEM)) {
		errno = ENOTSUP;
		return -1;
	}
	return 0;
}

bool ram_pager_available(void)
{
	int fd = open_uffd();
	bool ok = fd >= 0 && uffd_handshake(fd) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

static void set_result(struct ram_pager *pg, int result)
{
	pthread_mutex_lock(&pg->lock);
	if (pg->result == 1)
		pg->result = result;
	pthread_cond_broadcast(&pg->cond);
	pthread_mutex_unlock(&pg->lock);
}

/* One UFFDIO_COPY / UFFDIO_ZEROPAGE: bytes placed (possibly fewer than
 * len: the kernel stops at the first page already there), or -errno for
 * the first page. */
static int64_t fill(struct ram_pager *pg, uint64_t off, const void *data,
		    uint64_t len)
{
	uintptr_t dst = (uintptr_t)(pg->mem->host + off);
	int64_t r;

	if (data) {
		struct uffdio_copy c = { .dst = dst, .src = (uintptr_t)data,
					 .len = len };

		r = ioctl(pg->uffd, UFFDIO_COPY, &c) == 0 || c.copy < 0
			? c.copy : -errno;
	} else {
		struct uffdio_zeropage z = { .range = { dst, len } };

		r = ioctl(pg->uffd, UFFDIO_ZEROPAGE, &z) == 0 || z.zeropage < 0
			? z.zeropage : -errno;
	}
	return r;
}

int ram_pager_place(struct ram_pager *pg, uint64_t offset, const void *data,
		    uint64_t len)
{
	uint64_t done = 0;

	while (done < len) {
		int64_t n = fill(pg, offset + done,
				 data ? (const uint8_t *)data + done : NULL,
				 len - done);

		if (n > 0) {
			done += (uint64_t)n;
			atomic_fetch_add(&pg->placed, (uint64_t)n);
		} else if (n == -EEXIST) {
			done += PAGE;   /* that page is there already */
		} else if (n != -EAGAIN) {
			log_error("guest RAM pager: placing %llu bytes at RAM "
				  "offset %llu: %s",
				  (unsigned long long)(len - done),
				  (unsigned long long)(offset + done),
				  strerror(n ? (int)-n : EIO));
			return -1;
		}
	}
	return 0;
}

/* Wake whoever waits on a page that is already there (a fault message
 * read after the page was placed by someone else). */
static void wake_page(struct ram_pager *pg, uint64_t off)
{
	struct uffdio_range r = { (uintptr_t)(pg->mem->host + off), PAGE };

	ioctl(pg->uffd, UFFDIO_WAKE, &r);
}

static int handle_faults(struct ram_pager *pg, bool *got)
{
	struct uffd_msg msg[MSG_BATCH];
	ssize_t n = read(pg->uffd, msg, sizeof(msg));

	*got = false;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	for (size_t i = 0; i < (size_t)n / sizeof(msg[0]); i++) {
		uint64_t off;

		if (msg[i].event != UFFD_EVENT_PAGEFAULT)
			continue;
		off = (msg[i].arg.pagefault.address - (uintptr_t)pg->mem->host) &
		      ~(PAGE - 1);
		if (off >= pg->mem->size)
			continue;
		*got = true;
		atomic_fetch_add(&pg->faults, 1);
		if (!atomic_load(&pg->first_fault_ns))
			atomic_store(&pg->first_fault_ns, monotonic_ns());
		switch (pg->ops->fault(pg, pg->opaque, off)) {
		case 0: wake_page(pg, off); break;
		case 1: break;   /* placed later; placing wakes the thread */
		default: return -1;
		}
	}
	return 0;
}

static void unregister(struct ram_pager *pg)
{
	struct uffdio_range r = { (uintptr_t)pg->mem->host, pg->mem->size };

	if (ioctl(pg->uffd, UFFDIO_UNREGISTER, &r) < 0)
		log_errno("guest RAM pager: unregister");
}

static void *pager_main(void *arg)
{
	struct ram_pager *pg = arg;
	bool more = true;

	while (!atomic_load(&pg->stop)) {
		struct pollfd p[2] = { { pg->uffd, POLLIN, 0 },
				       { pg->wake_fd, POLLIN, 0 } };
		bool got = false;
		uint64_t v;

		if (atomic_load(&pg->finish))
			break;
		if (poll(p, 2, more ? 0 : -1) < 0 && errno != EINTR)
			goto failed;
		if (p[1].revents && read(pg->wake_fd, &v, sizeof(v)) < 0)
			(void)0;   /* nonblocking; a lost count is harmless */
		if ((p[0].revents & POLLIN) && handle_faults(pg, &got) < 0)
			goto failed;
		if (got || !more)
			continue;
		switch (pg->ops->background(pg, pg->opaque)) {
		case 1: break;
		case 0: more = false; break;
		default: goto failed;
		}
	}
	if (atomic_load(&pg->finish)) {
		unregister(pg);
		atomic_store(&pg->done_ns, monotonic_ns());
	}
	set_result(pg, 0);
	return NULL;
failed:
	/* Faulting threads stay blocked: the guest must not see pages that
	 * were never placed (they would read as zeros). */
	set_result(pg, -1);
	if (pg->ops->failed)
		pg->ops->failed(pg->opaque, "guest RAM could not be paged in "
				"(see above)");
	return NULL;
}

static void kick(struct ram_pager *pg)
{
	uint64_t one = 1;

	if (write(pg->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_errno("guest RAM pager: wake");
}

void ram_pager_finish(struct ram_pager *pg)
{
	atomic_store(&pg->finish, true);
	kick(pg);
}

static int register_ram(struct ram_pager *pg)
{
	struct uffdio_register reg = {
		.range = { (uintptr_t)pg->mem->host, pg->mem->size },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};

	if (ioctl(pg->uffd, UFFDIO_REGISTER, &reg) < 0) {
		log_errno("guest RAM pager: userfaultfd register of %llu MiB",
			  (unsigned long long)(pg->mem->size >> 20));
		return -1;
	}
	if (!(reg.ioctls & (1ULL << _UFFDIO_COPY)) ||
	    !(reg.ioctls & (1ULL << _UFFDIO_ZEROPAGE))) {
		log_error("guest RAM pager: userfaultfd cannot fill this memory");
		return -1;
	}
	return 0;
}

int ram_pager_start(struct ram_pager **out, struct guest_memory *mem,
		    const struct ram_pager_ops *ops, void *opaque)
{
	struct ram_pager *pg = calloc(1, sizeof(*pg));

	if (!pg)
		return -1;
	pg->mem = mem;
	pg->ops = ops;
	pg->opaque = opaque;
	pg->result = 1;
	pthread_mutex_init(&pg->lock, NULL);
	pthread_cond_init(&pg->cond, NULL);
	pg->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pg->uffd = open_uffd();
	if (pg->uffd < 0 || uffd_handshake(pg->uffd) < 0) {
		log_errno("guest RAM pager: userfaultfd");
		goto fail;
	}
	if (pg->wake_fd < 0 || register_ram(pg) < 0)
		goto fail;
	/* Before the thread runs: its callbacks may use the owner's pointer
	 * at once. */
	*out = pg;
	if (pthread_create(&pg->thread, NULL, pager_main, pg) != 0) {
		log_error("guest RAM pager: cannot start its thread");
		*out = NULL;
		goto fail;
	}
	pg->thread_started = true;
	return 0;
fail:
	ram_pager_destroy(pg);
	return -1;
}

int ram_pager_wait(struct ram_pager *pg)
{
	int r;

	pthread_mutex_lock(&pg->lock);
	while (pg->result == 1)
		pthread_cond_wait(&pg->cond, &pg->lock);
	r = pg->result;
	pthread_mutex_unlock(&pg->lock);
	return r;
}

void ram_pager_stats(const struct ram_pager *pg, struct ram_pager_stats *st)
{
	st->faults = atomic_load(&pg->faults);
	st->placed_bytes = atomic_load(&pg->placed);
	st->first_fault_ns = atomic_load(&pg->first_fault_ns);
	st->done_ns = atomic_load(&pg->done_ns);
}

void ram_pager_destroy(struct ram_pager *pg)
{
	if (!pg)
		return;
	if (pg->thread_started) {
		atomic_store(&pg->stop, true);
		kick(pg);
		pthread_join(pg->thread, NULL);
	}
	if (pg->uffd >= 0)
		close(pg->uffd);   /* wakes any thread still waiting */
	if (pg->wake_fd >= 0)
		close(pg->wake_fd);
	pthread_mutex_destroy(&pg->lock);
	pthread_cond_destroy(&pg->cond);
	free(pg);
}
