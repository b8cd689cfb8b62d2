/*
 * libcrypto, loaded when a migration first needs it.
 *
 * Linked normally, libcrypto's relocations cost every xenon-vmm ~1.4 MiB of
 * resident memory and ~1 ms of start-up (docs/performance.md), though only
 * a migrating domain uses it.  So the monitor dlopen()s it on the first
 * migration and calls it through this table; the types still come from
 * OpenSSL's headers.
 */
#ifndef XENON_CRYPTO_DL_H
#define XENON_CRYPTO_DL_H

#include <stddef.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

struct crypto_dl {
	__typeof__(&EVP_CIPHER_CTX_new) EVP_CIPHER_CTX_new;
	__typeof__(&EVP_CIPHER_CTX_free) EVP_CIPHER_CTX_free;
	__typeof__(&EVP_CIPHER_CTX_ctrl) EVP_CIPHER_CTX_ctrl;
	__typeof__(&EVP_EncryptInit_ex) EVP_EncryptInit_ex;
	__typeof__(&EVP_EncryptUpdate) EVP_EncryptUpdate;
	__typeof__(&EVP_EncryptFinal_ex) EVP_EncryptFinal_ex;
	__typeof__(&EVP_DecryptInit_ex) EVP_DecryptInit_ex;
	__typeof__(&EVP_DecryptUpdate) EVP_DecryptUpdate;
	__typeof__(&EVP_DecryptFinal_ex) EVP_DecryptFinal_ex;
	__typeof__(&EVP_aes_256_gcm) EVP_aes_256_gcm;
	__typeof__(&EVP_sha256) EVP_sha256;
	__typeof__(&HMAC) HMAC;
	__typeof__(&CRYPTO_memcmp) CRYPTO_memcmp;
	__typeof__(&OPENSSL_cleanse) OPENSSL_cleanse;
};

/* The table once loaded (crypto_dl_load() succeeded), else NULL. */
extern const struct crypto_dl *crypto;

/* Load libcrypto (once; thread-safe).  -1 with a message in err. */
int crypto_dl_load(char *err, size_t errlen);

#endif
