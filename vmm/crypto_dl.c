/* libcrypto on demand (see crypto_dl.h). */
#include "vmm/crypto_dl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

const struct crypto_dl *crypto;

static struct crypto_dl table;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_error[256];

/* The soname of Debian 12's libssl3; the unversioned name if a -dev
 * package provides it. */
static const char *const names[] = { "libcrypto.so.3", "libcrypto.so" };

#define RESOLVE(h, sym)                                                     \
	(*(void **)&table.sym = dlsym(h, #sym)) != NULL

static void load(void)
{
	void *h = NULL;

	for (size_t i = 0; !h && i < sizeof(names) / sizeof(names[0]); i++)
		h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(load_error, sizeof(load_error), "cannot load libcrypto "
			 "(migration encryption): %s", dlerror());
		return;
	}
	if (!(RESOLVE(h, EVP_CIPHER_CTX_new) && RESOLVE(h, EVP_CIPHER_CTX_free) &&
	      RESOLVE(h, EVP_CIPHER_CTX_ctrl) && RESOLVE(h, EVP_EncryptInit_ex) &&
	      RESOLVE(h, EVP_EncryptUpdate) && RESOLVE(h, EVP_EncryptFinal_ex) &&
	      RESOLVE(h, EVP_DecryptInit_ex) && RESOLVE(h, EVP_DecryptUpdate) &&
	      RESOLVE(h, EVP_DecryptFinal_ex) && RESOLVE(h, EVP_aes_256_gcm) &&
	      RESOLVE(h, EVP_sha256) && RESOLVE(h, HMAC) &&
	      RESOLVE(h, CRYPTO_memcmp) && RESOLVE(h, OPENSSL_cleanse))) {
		snprintf(load_error, sizeof(load_error), "libcrypto lacks a "
			 "function migration needs: %s", dlerror());
		dlclose(h);
		return;
	}
	crypto = &table;   /* kept loaded for the life of the process */
}

int crypto_dl_load(char *err, size_t errlen)
{
	pthread_once(&once, load);
	if (crypto)
		return 0;
	snprintf(err, errlen, "%s", load_error);
	return -1;
}
