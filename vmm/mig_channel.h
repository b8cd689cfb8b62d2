/*
 * The migration connection: mutual authentication with a shared key and
 * an authenticated, encrypted byte stream in each direction
 * (docs/save-format.md, "Migration channel").
 *
 * Handshake (HMAC-SHA256, key = the shared secret):
 *   dst -> src  "XENONMIG" u32 version  nonce_d[32]
 *   src -> dst  "XENONMIG" u32 version  nonce_s[32]  HMAC("xenon-mig src" nonce_d nonce_s)
 *   dst -> src  u8 accepted  HMAC("xenon-mig dst" nonce_s nonce_d)
 * Each side proves it knows the key for the other's fresh nonce, so
 * neither a replay nor a destination without the key gets guest memory.
 * Session keys: HMAC(key, "xenon-mig s2d"/"xenon-mig d2s" nonce_s nonce_d).
 *
 * Frames: u32 length, AES-256-GCM ciphertext, 16-byte tag; the nonce is a
 * per-direction frame counter and the length is authenticated, so a
 * frame that is altered, dropped, replayed or reordered fails.
 *
 * One thread may read while another writes; two writers need a lock.
 */
#ifndef XENON_MIG_CHANNEL_H
#define XENON_MIG_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/save_stream.h"

#define MIG_FRAME_MAX (1u << 20)

struct mig_channel;

/* Authenticate over the connected socket fd (not taken over: the caller
 * closes it).  timeout_ms applies to every later read and write too.
 * NULL with a message in err (e.g. "wrong key"). */
struct mig_channel *mig_channel_open(int fd, const void *key, size_t keylen,
				     bool source, int timeout_ms, char *err,
				     size_t errlen);
void mig_channel_free(struct mig_channel *ch);
/* Stream I/O for ss_stream (writes are buffered into frames). */
struct ss_io mig_channel_io(struct mig_channel *ch);
/* Seal and send what is buffered. */
int mig_channel_flush(struct mig_channel *ch);
/* The last error (I/O or authentication), for messages. */
const char *mig_channel_error(const struct mig_channel *ch);
/* Unblock a thread reading or writing it (the connection ends). */
void mig_channel_shutdown(struct mig_channel *ch);
/* Input is waiting (decrypted, or on the socket within timeout_ms). */
bool mig_channel_readable(const struct mig_channel *ch, int timeout_ms);
/* Bytes sent on the wire so far. */
uint64_t mig_channel_sent(const struct mig_channel *ch);

/* Read a shared key from a file (trailing newline dropped). */
int mig_read_key_file(const char *path, uint8_t *key, size_t *len, char *err,
		      size_t errlen);
#define MIG_KEY_MAX 256

#endif
