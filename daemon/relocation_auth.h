/*
 * Authentication between two xenonds for migration (Xen's relocation
 * server role).  A migration carries the whole memory of a guest, so the
 * hosts prove they share a secret before anything else: the receiver sends
 * a random challenge, the sender answers HMAC-SHA256(key, challenge ||
 * purpose).  The key file holds the secret (at least 16 bytes; only root
 * should read it).
 */
#ifndef XENON_RELOCATION_AUTH_H
#define XENON_RELOCATION_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define RELOC_KEY_MIN 16
#define RELOC_KEY_MAX 4096
#define RELOC_CHALLENGE_HEX 64     /* 32 random bytes, hex */
#define RELOC_MAC_HEX 64

struct reloc_key {
	unsigned char bytes[RELOC_KEY_MAX];
	size_t len;
};

/* Read the secret (trailing newline dropped).  0, or -1 with a sentence. */
int reloc_key_load(struct reloc_key *k, const char *path, char *err,
		   size_t errlen);
/* A fresh random challenge, hex, NUL-terminated. */
int reloc_challenge(char out[RELOC_CHALLENGE_HEX + 1]);
/* HMAC-SHA256(key, challenge || purpose), hex. */
void reloc_mac(const struct reloc_key *k, const char *challenge,
	       const char *purpose, char out[RELOC_MAC_HEX + 1]);
/* Constant-time check of a received MAC. */
bool reloc_mac_ok(const struct reloc_key *k, const char *challenge,
		  const char *purpose, const char *mac);

#endif
