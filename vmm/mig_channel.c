/* The authenticated migration connection (see mig_channel.h). */
#include "vmm/mig_channel.h"

#include "vmm/crypto_dl.h"

#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAGIC "XENONMIG"
#define PROTO_VERSION 1
#define NONCE 32
#define MAC 32
#define TAG 16

struct mig_channel {
	int fd;
	bool source;
	EVP_CIPHER_CTX *enc, *dec;
	uint64_t send_seq, recv_seq, sent;
	/* outgoing plaintext, sealed when full or flushed */
	uint8_t *out;
	size_t out_len;
	/* current incoming frame, decrypted */
	uint8_t *in;
	size_t in_len, in_pos;
	/* ciphertext frame buffers, one per direction: one thread may read
	 * while another writes (post-copy) */
	uint8_t *wire, *wire_in;
	char error[200];
};

static int fail(struct mig_channel *ch, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct mig_channel *ch, const char *fmt, ...)
{
	va_list ap;

	if (ch->error[0])
		return -1;
	va_start(ap, fmt);
	vsnprintf(ch->error, sizeof(ch->error), fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- raw socket I/O ----------------------------------------------------- */

static int send_all(struct mig_channel *ch, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(ch->fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fail(ch, "connection: %s", n < 0 && (errno == EAGAIN ||
				    errno == EWOULDBLOCK) ? "timed out" :
				    n < 0 ? strerror(errno) : "closed");
		p += n;
		len -= (size_t)n;
		ch->sent += (uint64_t)n;
	}
	return 0;
}

/* Header and body in one go: two sends would let Nagle's algorithm hold
 * the second back for a delayed ACK (40 ms) on small messages. */
static int send_frame(struct mig_channel *ch, const uint8_t hdr[4], size_t len)
{
	struct iovec iov[2] = { { (void *)hdr, 4 }, { ch->wire, len } };
	size_t total = 4 + len;

	while (total) {
		struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
		ssize_t n = sendmsg(ch->fd, &msg, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fail(ch, "connection: %s", n < 0 && (errno == EAGAIN ||
				    errno == EWOULDBLOCK) ? "timed out" :
				    n < 0 ? strerror(errno) : "closed");
		ch->sent += (uint64_t)n;
		total -= (size_t)n;
		for (int i = 0; i < 2 && n > 0; i++) {
			size_t used = (size_t)n < iov[i].iov_len ? (size_t)n :
				      iov[i].iov_len;

			iov[i].iov_base = (uint8_t *)iov[i].iov_base + used;
			iov[i].iov_len -= used;
			n -= (ssize_t)used;
		}
	}
	return 0;
}

static int recv_all(struct mig_channel *ch, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = recv(ch->fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(ch, "connection: %s", errno == EAGAIN ||
				    errno == EWOULDBLOCK ? "timed out" : strerror(errno));
		if (n == 0)
			return fail(ch, "connection closed by the other side");
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- handshake ------------------------------------------------------------- */

static void hmac(const void *key, size_t keylen, const char *label,
		 const uint8_t *a, const uint8_t *b, uint8_t out[MAC])
{
	uint8_t msg[64 + 2 * NONCE];
	size_t l = strlen(label);
	unsigned outlen = MAC;

	memcpy(msg, label, l);
	memcpy(msg + l, a, NONCE);
	memcpy(msg + l + NONCE, b, NONCE);
	crypto->HMAC(crypto->EVP_sha256(), key, (int)keylen, msg, l + 2 * NONCE,
		     out, &outlen);
}

static int setup_ciphers(struct mig_channel *ch, const void *key, size_t keylen,
			 const uint8_t *ns, const uint8_t *nd)
{
	uint8_t s2d[MAC], d2s[MAC];
	int ok;

	hmac(key, keylen, "xenon-mig s2d", ns, nd, s2d);
	hmac(key, keylen, "xenon-mig d2s", ns, nd, d2s);
	ch->enc = crypto->EVP_CIPHER_CTX_new();
	ch->dec = crypto->EVP_CIPHER_CTX_new();
	ok = ch->enc && ch->dec &&
	     crypto->EVP_EncryptInit_ex(ch->enc, crypto->EVP_aes_256_gcm(), NULL,
				ch->source ? s2d : d2s, NULL) == 1 &&
	     crypto->EVP_DecryptInit_ex(ch->dec, crypto->EVP_aes_256_gcm(), NULL,
				ch->source ? d2s : s2d, NULL) == 1;
	crypto->OPENSSL_cleanse(s2d, sizeof(s2d));
	crypto->OPENSSL_cleanse(d2s, sizeof(d2s));
	return ok ? 0 : fail(ch, "cannot set up AES-256-GCM");
}

static int hello_check(struct mig_channel *ch, const uint8_t *h)
{
	uint32_t v = (uint32_t)h[8] | (uint32_t)h[9] << 8 |
		     (uint32_t)h[10] << 16 | (uint32_t)h[11] << 24;

	if (memcmp(h, MAGIC, 8))
		return fail(ch, "the other side is not a xenon-vmm migration "
			    "endpoint");
	if (v != PROTO_VERSION)
		return fail(ch, "migration protocol version %u, this side "
			    "speaks %u", v, PROTO_VERSION);
	return 0;
}

static void hello(uint8_t *h)
{
	memcpy(h, MAGIC, 8);
	h[8] = PROTO_VERSION;
	h[9] = h[10] = h[11] = 0;
}

static int nonce(struct mig_channel *ch, uint8_t *n)
{
	if (getrandom(n, NONCE, 0) != NONCE)
		return fail(ch, "getrandom: %s", strerror(errno));
	return 0;
}

static int handshake_dst(struct mig_channel *ch, const void *key, size_t keylen)
{
	uint8_t mine[12 + NONCE], theirs[12 + NONCE + MAC], mac[MAC];
	uint8_t reply[1 + MAC];

	hello(mine);
	if (nonce(ch, mine + 12) < 0 || send_all(ch, mine, sizeof(mine)) < 0 ||
	    recv_all(ch, theirs, sizeof(theirs)) < 0 || hello_check(ch, theirs) < 0)
		return -1;
	hmac(key, keylen, "xenon-mig src", mine + 12, theirs + 12, mac);
	if (crypto->CRYPTO_memcmp(mac, theirs + 12 + NONCE, MAC)) {
		memset(reply, 0, sizeof(reply));
		send_all(ch, reply, sizeof(reply));
		return fail(ch, "authentication failed: the source does not "
			    "have the right key");
	}
	reply[0] = 1;
	hmac(key, keylen, "xenon-mig dst", theirs + 12, mine + 12, reply + 1);
	if (send_all(ch, reply, sizeof(reply)) < 0)
		return -1;
	return setup_ciphers(ch, key, keylen, theirs + 12, mine + 12);
}

static int handshake_src(struct mig_channel *ch, const void *key, size_t keylen)
{
	uint8_t theirs[12 + NONCE], mine[12 + NONCE + MAC], reply[1 + MAC];
	uint8_t mac[MAC];

	if (recv_all(ch, theirs, sizeof(theirs)) < 0 || hello_check(ch, theirs) < 0)
		return -1;
	hello(mine);
	if (nonce(ch, mine + 12) < 0)
		return -1;
	hmac(key, keylen, "xenon-mig src", theirs + 12, mine + 12, mine + 12 + NONCE);
	if (send_all(ch, mine, sizeof(mine)) < 0 ||
	    recv_all(ch, reply, sizeof(reply)) < 0)
		return -1;
	if (!reply[0])
		return fail(ch, "authentication failed: the destination refused "
			    "our key");
	hmac(key, keylen, "xenon-mig dst", mine + 12, theirs + 12, mac);
	if (crypto->CRYPTO_memcmp(mac, reply + 1, MAC))
		return fail(ch, "authentication failed: the destination does "
			    "not have the right key");
	return setup_ciphers(ch, key, keylen, mine + 12, theirs + 12);
}

static void set_timeouts(int fd, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	int one = 1;

	/* Frames go out whole; small hand-shake messages must not wait. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

struct mig_channel *mig_channel_open(int fd, const void *key, size_t keylen,
				     bool source, int timeout_ms, char *err,
				     size_t errlen)
{
	struct mig_channel *ch;
	int r;

	if (crypto_dl_load(err, errlen) < 0)
		return NULL;
	ch = calloc(1, sizeof(*ch));
	if (!ch || !(ch->out = malloc(MIG_FRAME_MAX)) ||
	    !(ch->in = malloc(MIG_FRAME_MAX)) ||
	    !(ch->wire = malloc(MIG_FRAME_MAX + TAG)) ||
	    !(ch->wire_in = malloc(MIG_FRAME_MAX + TAG))) {
		snprintf(err, errlen, "out of memory");
		mig_channel_free(ch);
		return NULL;
	}
	ch->fd = fd;
	ch->source = source;
	if (!keylen) {
		snprintf(err, errlen, "migration needs a shared key");
		mig_channel_free(ch);
		return NULL;
	}
	set_timeouts(fd, timeout_ms);
	r = source ? handshake_src(ch, key, keylen) : handshake_dst(ch, key, keylen);
	if (r < 0) {
		snprintf(err, errlen, "%s", ch->error);
		mig_channel_free(ch);
		return NULL;
	}
	return ch;
}

void mig_channel_free(struct mig_channel *ch)
{
	if (!ch)
		return;
	if (crypto) {
		crypto->EVP_CIPHER_CTX_free(ch->enc);
		crypto->EVP_CIPHER_CTX_free(ch->dec);
	}
	free(ch->out);
	free(ch->in);
	free(ch->wire);
	free(ch->wire_in);
	free(ch);
}

/* ---- frames --------------------------------------------------------------- */

static void iv_for(uint64_t seq, uint8_t iv[12])
{
	memset(iv, 0, 12);
	for (int i = 0; i < 8; i++)
		iv[4 + i] = (uint8_t)(seq >> (8 * i));
}

int mig_channel_flush(struct mig_channel *ch)
{
	uint8_t hdr[4], iv[12];
	int len = 0, fin = 0;

	if (ch->error[0])
		return -1;
	if (!ch->out_len)
		return 0;
	for (int i = 0; i < 4; i++)
		hdr[i] = (uint8_t)(ch->out_len >> (8 * i));
	iv_for(ch->send_seq++, iv);
	if (crypto->EVP_EncryptInit_ex(ch->enc, NULL, NULL, NULL, iv) != 1 ||
	    crypto->EVP_EncryptUpdate(ch->enc, NULL, &len, hdr, 4) != 1 ||
	    crypto->EVP_EncryptUpdate(ch->enc, ch->wire, &len, ch->out,
			      (int)ch->out_len) != 1 ||
	    crypto->EVP_EncryptFinal_ex(ch->enc, ch->wire + len, &fin) != 1 ||
	    crypto->EVP_CIPHER_CTX_ctrl(ch->enc, EVP_CTRL_GCM_GET_TAG, TAG,
				ch->wire + ch->out_len) != 1)
		return fail(ch, "encryption failed");
	if (send_frame(ch, hdr, ch->out_len + TAG) < 0)
		return -1;
	ch->out_len = 0;
	return 0;
}

static int next_frame(struct mig_channel *ch)
{
	uint8_t hdr[4], iv[12];
	uint32_t len;
	int n = 0, fin = 0;

	if (recv_all(ch, hdr, 4) < 0)
		return -1;
	len = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16 |
	      (uint32_t)hdr[3] << 24;
	if (!len || len > MIG_FRAME_MAX)
		return fail(ch, "bad frame length %u (corrupted stream)", len);
	if (recv_all(ch, ch->wire_in, len + TAG) < 0)
		return -1;
	iv_for(ch->recv_seq++, iv);
	if (crypto->EVP_DecryptInit_ex(ch->dec, NULL, NULL, NULL, iv) != 1 ||
	    crypto->EVP_DecryptUpdate(ch->dec, NULL, &n, hdr, 4) != 1 ||
	    crypto->EVP_DecryptUpdate(ch->dec, ch->in, &n, ch->wire_in, (int)len) != 1 ||
	    crypto->EVP_CIPHER_CTX_ctrl(ch->dec, EVP_CTRL_GCM_SET_TAG, TAG,
				ch->wire_in + len) != 1 ||
	    crypto->EVP_DecryptFinal_ex(ch->dec, ch->in + n, &fin) != 1)
		return fail(ch, "frame %llu failed authentication (tampered "
			    "with, or not from the peer)",
			    (unsigned long long)(ch->recv_seq - 1));
	ch->in_len = len;
	ch->in_pos = 0;
	return 0;
}

void mig_channel_shutdown(struct mig_channel *ch)
{
	shutdown(ch->fd, SHUT_RDWR);
}

bool mig_channel_readable(const struct mig_channel *ch, int timeout_ms)
{
	struct pollfd p = { .fd = ch->fd, .events = POLLIN };

	if (ch->in_pos < ch->in_len)
		return true;
	return poll(&p, 1, timeout_ms) > 0;
}

static ssize_t ch_write(void *ctx, const void *buf, size_t len)
{
	struct mig_channel *ch = ctx;
	size_t n = MIG_FRAME_MAX - ch->out_len;

	if (ch->error[0]) {
		errno = EPIPE;
		return -1;
	}
	if (n > len)
		n = len;
	memcpy(ch->out + ch->out_len, buf, n);
	ch->out_len += n;
	if (ch->out_len == MIG_FRAME_MAX && mig_channel_flush(ch) < 0) {
		errno = EPIPE;
		return -1;
	}
	return (ssize_t)n;
}

static ssize_t ch_read(void *ctx, void *buf, size_t len)
{
	struct mig_channel *ch = ctx;
	size_t n;

	if (ch->in_pos == ch->in_len && next_frame(ch) < 0) {
		errno = EPROTO;
		return -1;
	}
	n = ch->in_len - ch->in_pos;
	if (n > len)
		n = len;
	memcpy(buf, ch->in + ch->in_pos, n);
	ch->in_pos += n;
	return (ssize_t)n;
}

struct ss_io mig_channel_io(struct mig_channel *ch)
{
	return (struct ss_io){ ch_read, ch_write, NULL, ch };
}

const char *mig_channel_error(const struct mig_channel *ch)
{
	return ch->error[0] ? ch->error : "no error";
}

uint64_t mig_channel_sent(const struct mig_channel *ch)
{
	return ch->sent;
}

int mig_read_key_file(const char *path, uint8_t *key, size_t *len, char *err,
		      size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		snprintf(err, errlen, "key file '%s': %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, key, MIG_KEY_MAX);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "key file '%s': %s", path, strerror(errno));
		return -1;
	}
	while (n > 0 && (key[n - 1] == '\n' || key[n - 1] == '\r'))
		n--;
	if (n == 0) {
		snprintf(err, errlen, "key file '%s' is empty", path);
		return -1;
	}
	*len = (size_t)n;
	return 0;
}
