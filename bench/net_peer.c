/*
 * The host end of the test guest's net-stream scenario (format in
 * guest/net_stream.h), for bench/net.sh: fast enough that the host side
 * is not what gets measured.
 *
 *   net_peer sink PORT [TIMEOUT_S]
 *       receive the guest's stream, verify order, CRC and pattern of every
 *       datagram, stop at its END marker; print one line of counters
 *   net_peer source PORT COUNT SIZE [gso]
 *       wait for the guest's READY, send COUNT datagrams of SIZE bytes
 *       (64 at a time with sendmmsg, or with "gso" as UDP_SEGMENT
 *       super-datagrams of up to 63000 bytes), then END markers
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define DATA  0x584e5331u
#define END   0x584e5345u
#define READY 0x584e5352u
#define BATCH 64
#define MAXDG 2048
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

static uint8_t pattern[MAXDG + 256];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void put32(uint8_t *p, uint32_t v)
{
	uint32_t be = htonl(v);

	memcpy(p, &be, 4);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t be;

	memcpy(&be, p, 4);
	return ntohl(be);
}

static int udp_socket(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int s = socket(AF_INET, SOCK_DGRAM, 0), big = 512 << 20;

	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("net_peer: socket");
		exit(1);
	}
	setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	return s;
}

static void set_timeout(int s, double secs)
{
	struct timeval tv = { (time_t)secs, (long)((secs - (time_t)secs) * 1e6) };

	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

struct sink {
	uint64_t got, bad, reordered, lost, bytes, expect;
	double first, last;
	int64_t sent;
};

static void sink_one(struct sink *k, const uint8_t *p, size_t len, double t)
{
	uint32_t seq;

	if (len < 12 || get32(p) != DATA) {
		k->bad++;
		return;
	}
	seq = get32(p + 4);
	if (len > MAXDG || get32(p + 8) != crc32(0, p + 12, (uInt)(len - 12)) ||
	    memcmp(p + 12, pattern + (seq & 255), len - 12)) {
		k->bad++;
		return;
	}
	if (seq < k->expect) {
		k->reordered++;
	} else {
		k->lost += seq - k->expect;
		k->expect = seq + 1;
	}
	if (!k->got)
		k->first = t;
	k->last = t;
	k->got++;
	k->bytes += len;
}

static int sink(int port, double timeout)
{
	static uint8_t bufs[BATCH][MAXDG];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	struct sink k = { .sent = -1 };
	int s = udp_socket(port);

	set_timeout(s, timeout);
	printf("net_peer: sink ready\n");
	fflush(stdout);
	while (k.sent < 0) {
		int n;
		double t;

		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){ bufs[i], MAXDG };
			m[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
		}
		n = recvmmsg(s, m, BATCH, MSG_WAITFORONE, NULL);
		if (n < 0) {
			fprintf(stderr, "net_peer: sink: %s\n", strerror(errno));
			break;
		}
		t = now();
		for (int i = 0; i < n; i++) {
			if (m[i].msg_len >= 8 && get32(bufs[i]) == END)
				k.sent = get32(bufs[i] + 4);
			else
				sink_one(&k, bufs[i], m[i].msg_len, t);
		}
	}
	printf("sink got=%llu sent=%lld bad=%llu reordered=%llu lost=%llu "
	       "bytes=%llu secs=%.6f mbs=%.2f\n", (unsigned long long)k.got,
	       (long long)k.sent, (unsigned long long)k.bad,
	       (unsigned long long)k.reordered, (unsigned long long)k.lost,
	       (unsigned long long)k.bytes, k.last - k.first,
	       k.last > k.first ? k.bytes / (k.last - k.first) / 1e6 : 0.0);
	return k.sent >= 0 && !k.bad ? 0 : 1;
}

/* Datagram seq into p (size bytes); crc[] per seq & 255. */
static void fill(uint8_t *p, uint32_t size, uint32_t seq, const uint32_t *crc)
{
	put32(p, DATA);
	put32(p + 4, seq);
	put32(p + 8, crc[seq & 255]);
	memcpy(p + 12, pattern + (seq & 255), size - 12);
}

static struct sockaddr_in wait_ready(int s)
{
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	uint8_t b[64];
	ssize_t n;

	set_timeout(s, 30);
	do {
		n = recvfrom(s, b, sizeof(b), 0, (struct sockaddr *)&peer, &plen);
		if (n < 0) {
			fprintf(stderr, "net_peer: no READY from the guest\n");
			exit(1);
		}
	} while (n < 4 || get32(b) != READY);
	return peer;
}

static void send_batch(int s, struct sockaddr_in *peer, uint8_t *mem,
		       uint32_t size, uint32_t n)
{
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	uint32_t done = 0;

	for (uint32_t i = 0; i < n; i++) {
		iov[i] = (struct iovec){ mem + i * size, size };
		m[i].msg_hdr = (struct msghdr){ .msg_name = peer,
			.msg_namelen = sizeof(*peer), .msg_iov = &iov[i],
			.msg_iovlen = 1 };
	}
	while (done < n) {
		int r = sendmmsg(s, m + done, n - done, 0);

		if (r < 0 && errno != ENOBUFS && errno != EAGAIN) {
			perror("net_peer: sendmmsg");
			exit(1);
		}
		done += r > 0 ? (uint32_t)r : 0;
	}
}

static void send_gso(int s, struct sockaddr_in *peer, uint8_t *mem,
		     uint32_t size, uint32_t n)
{
	char ctl[CMSG_SPACE(sizeof(uint16_t))] = { 0 };
	struct iovec iov = { mem, (size_t)size * n };
	struct msghdr h = { .msg_name = peer, .msg_namelen = sizeof(*peer),
			    .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	uint16_t gso = (uint16_t)size;

	if (n > 1) {
		h.msg_control = ctl;
		h.msg_controllen = sizeof(ctl);
		c = CMSG_FIRSTHDR(&h);
		c->cmsg_level = SOL_UDP;
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof(gso));
		memcpy(CMSG_DATA(c), &gso, sizeof(gso));
	}
	while (sendmsg(s, &h, 0) < 0) {
		if (errno != ENOBUFS && errno != EAGAIN) {
			perror("net_peer: sendmsg UDP_SEGMENT");
			exit(1);
		}
	}
}

static int source(int port, uint32_t count, uint32_t size, int gso)
{
	static uint8_t mem[65536];
	uint32_t crc[256], per = gso ? 63000 / size : BATCH, seq = 0;
	struct sockaddr_in peer;
	int s = udp_socket(port);
	double t0, t1;
	uint8_t end[12];

	if (size < 12 || size > MAXDG || per == 0) {
		fprintf(stderr, "net_peer: bad size %u\n", size);
		return 2;
	}
	if (per > BATCH && !gso)
		per = BATCH;
	for (int i = 0; i < 256; i++)
		crc[i] = crc32(0, pattern + i, size - 12);
	peer = wait_ready(s);
	t0 = now();
	while (seq < count) {
		uint32_t n = count - seq < per ? count - seq : per;

		for (uint32_t i = 0; i < n; i++)
			fill(mem + i * size, size, seq + i, crc);
		if (gso)
			send_gso(s, &peer, mem, size, n);
		else
			send_batch(s, &peer, mem, size, n);
		seq += n;
	}
	t1 = now();
	put32(end, END);
	put32(end + 4, count);
	put32(end + 8, 0);
	/* Until the guest has it: it powers off then, and the route goes. */
	for (int i = 0; i < 200; i++) {
		if (sendto(s, end, sizeof(end), 0, (struct sockaddr *)&peer,
			   sizeof(peer)) < 0)
			break;
		usleep(20000);
	}
	printf("source sent=%u size=%u secs=%.6f mbs=%.2f\n", count, size,
	       t1 - t0, (double)count * size / (t1 - t0) / 1e6);
	return 0;
}

int main(int argc, char **argv)
{
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 13 + 7);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 3 && !strcmp(argv[1], "sink"))
		return sink(atoi(argv[2]), argc > 3 ? atof(argv[3]) : 60);
	if (argc >= 5 && !strcmp(argv[1], "source"))
		return source(atoi(argv[2]), (uint32_t)strtoul(argv[3], NULL, 10),
			      (uint32_t)strtoul(argv[4], NULL, 10),
			      argc > 5 && !strcmp(argv[5], "gso"));
	fprintf(stderr, "usage: net_peer sink PORT [TIMEOUT_S]\n"
		"       net_peer source PORT COUNT SIZE [gso]\n");
	return 2;
}
