/*
 * The measurement behind devices/block_aio.h's choice of I/O engine: the
 * same requests against the same (page-cached) file, 32 in flight, issued
 * from one thread either through io_uring (submit and reap on the issuing
 * thread, as the device does on the main loop) or handed to a pool of 2
 * or 4 threads doing preadv/pwritev and reporting back through an eventfd
 * (a worker-pool device).
 *
 *   cc -O2 -o build/blk_engine bench/blk_engine.c -luring -lpthread
 *   build/blk_engine FILE          (FILE: a few hundred MiB, not sparse)
 *
 * bench/blk.sh --engine builds and runs it.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define QD 32
#define SECONDS 1.5

struct job {
	int fd;
	uint64_t file_size;
	size_t bs;
	bool seq, write;
	uint64_t pos, rng;
	char *bufs[QD];
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t next_off(struct job *j)
{
	uint64_t off;

	if (j->seq) {
		off = j->pos;
		j->pos = j->pos + j->bs >= j->file_size ? 0 : j->pos + j->bs;
		return off;
	}
	j->rng ^= j->rng << 13;
	j->rng ^= j->rng >> 7;
	j->rng ^= j->rng << 17;
	return j->rng % (j->file_size / j->bs) * j->bs;
}

static double run_uring(struct job *j)
{
	struct io_uring ring;
	uint64_t n = 0;
	double t0 = now(), t;

	if (io_uring_queue_init(64, &ring, 0) < 0)
		return 0;
	while ((t = now()) - t0 < SECONDS) {
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;

		for (int i = 0; i < QD; i++) {
			struct io_uring_sqe *s = io_uring_get_sqe(&ring);

			if (j->write)
				io_uring_prep_write(s, j->fd, j->bufs[i], j->bs, next_off(j));
			else
				io_uring_prep_read(s, j->fd, j->bufs[i], j->bs, next_off(j));
		}
		io_uring_submit_and_wait(&ring, QD);
		io_uring_for_each_cqe(&ring, head, cqe) {
			if (cqe->res != (int)j->bs) {
				fprintf(stderr, "short transfer: %d\n", cqe->res);
				exit(1);
			}
			seen++;
		}
		io_uring_cq_advance(&ring, seen);
		n += seen;
	}
	io_uring_queue_exit(&ring);
	return (double)n / (t - t0);
}

/* ---- worker pool ---- */

struct pool {
	struct job *j;
	pthread_mutex_t m;
	pthread_cond_t cv;
	uint64_t off[QD];
	int idx[QD];
	int queued, done;
	int efd;
	bool stop;
};

static void *worker(void *arg)
{
	struct pool *p = arg;

	pthread_mutex_lock(&p->m);
	for (;;) {
		struct iovec v;
		uint64_t off;
		ssize_t r;
		int i;

		while (!p->queued && !p->stop)
			pthread_cond_wait(&p->cv, &p->m);
		if (p->stop)
			break;
		p->queued--;
		i = p->idx[p->queued];
		off = p->off[p->queued];
		pthread_mutex_unlock(&p->m);
		v = (struct iovec){ p->j->bufs[i], p->j->bs };
		r = p->j->write ? pwritev(p->j->fd, &v, 1, (off_t)off)
				: preadv(p->j->fd, &v, 1, (off_t)off);
		if (r != (ssize_t)p->j->bs) {
			fprintf(stderr, "short transfer\n");
			exit(1);
		}
		pthread_mutex_lock(&p->m);
		if (++p->done == QD) {
			uint64_t one = 1;

			if (write(p->efd, &one, 8) != 8)
				exit(1);
		}
	}
	pthread_mutex_unlock(&p->m);
	return NULL;
}

static double run_pool(struct job *j, int threads)
{
	struct pool p = { .j = j, .m = PTHREAD_MUTEX_INITIALIZER,
			  .cv = PTHREAD_COND_INITIALIZER };
	pthread_t th[8];
	uint64_t n = 0, v;
	double t0, t;

	p.efd = eventfd(0, 0);
	for (int i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, worker, &p);
	t0 = now();
	while ((t = now()) - t0 < SECONDS) {
		pthread_mutex_lock(&p.m);
		p.done = 0;
		for (int i = 0; i < QD; i++) {
			p.off[p.queued] = next_off(j);
			p.idx[p.queued++] = i;
		}
		pthread_cond_broadcast(&p.cv);
		pthread_mutex_unlock(&p.m);
		if (read(p.efd, &v, 8) != 8)
			exit(1);
		n += QD;
	}
	pthread_mutex_lock(&p.m);
	p.stop = true;
	pthread_cond_broadcast(&p.cv);
	pthread_mutex_unlock(&p.m);
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	close(p.efd);
	return (double)n / (t - t0);
}

int main(int argc, char **argv)
{
	struct job j = { .rng = 0x2545f4914f6cdd1dULL };

	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
		return 2;
	}
	j.fd = open(argv[1], O_RDWR);
	if (j.fd < 0) {
		perror(argv[1]);
		return 1;
	}
	j.file_size = (uint64_t)lseek(j.fd, 0, SEEK_END);
	for (int i = 0; i < QD; i++) {
		j.bufs[i] = aligned_alloc(4096, 1 << 20);
		memset(j.bufs[i], i, 1 << 20);
	}
	printf("%-16s %14s %14s %14s\n", "ops/s", "io_uring", "2 threads",
	       "4 threads");
	for (int k = 0; k < 4; k++) {
		double u, p2, p4;

		j.seq = k >= 2;
		j.write = k % 2;
		j.bs = j.seq ? 1 << 20 : 4096;
		j.pos = 0;
		u = run_uring(&j);
		p2 = run_pool(&j, 2);
		p4 = run_pool(&j, 4);
		printf("%-16s %14.0f %14.0f %14.0f\n",
		       j.seq ? (j.write ? "seq write 1M" : "seq read 1M") :
		       (j.write ? "rand write 4K" : "rand read 4K"), u, p2, p4);
	}
	return 0;
}
