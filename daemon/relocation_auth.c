/* Shared-key challenge/response for migration (see relocation_auth.h). */
#include "daemon/relocation_auth.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "lib/log.h"

static void to_hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

int reloc_key_load(struct reloc_key *k, const char *path, char *err,
		   size_t errlen)
{
	FILE *f = fopen(path, "re");
	struct stat st;

	if (!f) {
		snprintf(err, errlen, "relocation key '%s': %s", path,
			 strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & 0077))
		log_warn("relocation key '%s' is readable by others (mode %o)",
			 path, (unsigned)(st.st_mode & 0777));
	k->len = fread(k->bytes, 1, sizeof(k->bytes), f);
	fclose(f);
	while (k->len && (k->bytes[k->len - 1] == '\n' ||
			  k->bytes[k->len - 1] == '\r'))
		k->len--;
	if (k->len < RELOC_KEY_MIN) {
		snprintf(err, errlen, "relocation key '%s': %zu bytes; at least "
			 "%d are needed", path, k->len, RELOC_KEY_MIN);
		return -1;
	}
	return 0;
}

int reloc_challenge(char out[RELOC_CHALLENGE_HEX + 1])
{
	unsigned char b[RELOC_CHALLENGE_HEX / 2];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return -1;
	to_hex(b, sizeof(b), out);
	return 0;
}

void reloc_mac(const struct reloc_key *k, const char *challenge,
	       const char *purpose, char out[RELOC_MAC_HEX + 1])
{
	unsigned char msg[RELOC_CHALLENGE_HEX + 64], mac[EVP_MAX_MD_SIZE];
	size_t clen = strnlen(challenge, RELOC_CHALLENGE_HEX);
	size_t plen = strnlen(purpose, 63);
	unsigned int maclen = 0;

	memcpy(msg, challenge, clen);
	memcpy(msg + clen, purpose, plen);
	HMAC(EVP_sha256(), k->bytes, (int)k->len, msg, clen + plen, mac,
	     &maclen);
	to_hex(mac, 32, out);
}

bool reloc_mac_ok(const struct reloc_key *k, const char *challenge,
		  const char *purpose, const char *mac)
{
	char want[RELOC_MAC_HEX + 1];

	if (!mac || strlen(mac) != RELOC_MAC_HEX)
		return false;
	reloc_mac(k, challenge, purpose, want);
	return CRYPTO_memcmp(want, mac, RELOC_MAC_HEX) == 0;
}
