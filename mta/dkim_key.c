/*
 * DKIM key pairs for the signer process, which runs chrooted into the key
 * directory and is the only process that ever holds a private key.
 *
 * The names given to us come from other processes, so they are checked
 * again here: a key file name is built only from a validated domain and
 * selector, and every file function refuses a name that could leave the
 * directory or collide with our temporary files.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "dkim_key.h"

#define RSA_EXPONENT	65537
#define NAME_CHARS	"abcdefghijklmnopqrstuvwxyz0123456789.-"
#define B64_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
			"0123456789+/="
/* The temporary file of "x" is ".x.tmp": hidden, and never a key name. */
#define TMP_FMT		".%s.tmp"
#define TMP_EXTRA	(sizeof(".") - 1 + sizeof(".tmp") - 1)

static const struct {
	const char	*name;		/* a= tag */
	const char	*keytype;	/* k= tag */
	int		 pkey_id;
} algs[] = {
	[DKIM_ALG_RSA_SHA256] = { "rsa-sha256", "rsa", EVP_PKEY_RSA },
	[DKIM_ALG_ED25519_SHA256] = { "ed25519-sha256", "ed25519",
	    EVP_PKEY_ED25519 },
};

static int
alg_valid(enum dkim_alg alg)
{
	return (unsigned int)alg < sizeof(algs) / sizeof(algs[0]);
}

/*
 * errno is how a failure is reported; a libcrypto error left queued would
 * be blamed on the next, unrelated libcrypto call in the process.
 */
static int
crypto_fail(int err)
{
	ERR_clear_error();
	errno = err;
	return -1;
}

static int
bprintf(char *out, size_t outlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
bprintf(char *out, size_t outlen, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(out, outlen, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= outlen) {
		if (outlen > 0)
			out[0] = '\0';
		errno = ENOSPC;
		return -1;
	}
	return 0;
}

const char *
dkim_alg_name(enum dkim_alg alg)
{
	return alg_valid(alg) ? algs[alg].name : NULL;
}

const char *
dkim_alg_keytype(enum dkim_alg alg)
{
	return alg_valid(alg) ? algs[alg].keytype : NULL;
}

int
dkim_alg_lookup(const char *name, enum dkim_alg *algp)
{
	size_t	 i;

	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		if (strcmp(name, algs[i].name) == 0) {
			*algp = i;
			return 0;
		}
	}
	errno = EINVAL;
	return -1;
}

/*
 * The key must be of the algorithm's type; an RSA key must also be of a
 * size verifiers accept (RFC 8301 requires at least 1024 bits; we keep
 * to 2048 and up) and that does not make every signature slow.
 */
static int
key_check(EVP_PKEY *key, enum dkim_alg alg)
{
	int	 bits;

	if (EVP_PKEY_get_base_id(key) != algs[alg].pkey_id) {
		errno = EKEYREJECTED;
		return -1;
	}
	if (alg == DKIM_ALG_RSA_SHA256) {
		bits = EVP_PKEY_get_bits(key);
		if (bits < DKIM_KEY_RSA_BITS_MIN ||
		    bits > DKIM_KEY_RSA_BITS_MAX) {
			errno = EKEYREJECTED;
			return -1;
		}
	}
	return 0;
}

int
dkim_key_generate(enum dkim_alg alg, EVP_PKEY **keyp)
{
	EVP_PKEY_CTX	*ctx;
	EVP_PKEY	*key = NULL;
	OSSL_PARAM	 params[3];
	unsigned int	 bits = DKIM_KEY_RSA_BITS, e = RSA_EXPONENT;
	int		 ok;

	*keyp = NULL;
	if (!alg_valid(alg)) {
		errno = EINVAL;
		return -1;
	}
	if ((ctx = EVP_PKEY_CTX_new_id(algs[alg].pkey_id, NULL)) == NULL)
		return crypto_fail(ENOMEM);
	ok = EVP_PKEY_keygen_init(ctx) > 0;
	if (ok && alg == DKIM_ALG_RSA_SHA256) {
		params[0] = OSSL_PARAM_construct_uint(OSSL_PKEY_PARAM_RSA_BITS,
		    &bits);
		params[1] = OSSL_PARAM_construct_uint(OSSL_PKEY_PARAM_RSA_E,
		    &e);
		params[2] = OSSL_PARAM_construct_end();
		ok = EVP_PKEY_CTX_set_params(ctx, params) > 0;
	}
	ok = ok && EVP_PKEY_keygen(ctx, &key) > 0;
	EVP_PKEY_CTX_free(ctx);
	if (!ok) {
		EVP_PKEY_free(key);
		return crypto_fail(EIO);
	}
	*keyp = key;
	return 0;
}

/*
 * p= is the base64 of the DER SubjectPublicKeyInfo for RSA (RFC 6376
 * 3.6.1) but of the bare 32-byte public key for Ed25519 (RFC 8463 4).
 */
int
dkim_key_public_b64(EVP_PKEY *key, enum dkim_alg alg, char *out,
    size_t outlen)
{
	unsigned char	 der[DKIM_KEY_B64_MAX / 4 * 3], *p = der;
	size_t		 len;
	int		 n;

	if (key == NULL || !alg_valid(alg)) {
		errno = EINVAL;
		return -1;
	}
	if (key_check(key, alg) == -1)
		return -1;
	if (alg == DKIM_ALG_ED25519_SHA256) {
		len = sizeof(der);
		if (EVP_PKEY_get_raw_public_key(key, der, &len) != 1)
			return crypto_fail(EINVAL);
	} else {
		if ((n = i2d_PUBKEY(key, NULL)) <= 0 ||
		    (size_t)n > sizeof(der) || i2d_PUBKEY(key, &p) != n)
			return crypto_fail(EINVAL);
		len = n;
	}
	if (outlen < (len + 2) / 3 * 4 + 1) {
		if (outlen > 0)
			out[0] = '\0';
		errno = ENOSPC;
		return -1;
	}
	EVP_EncodeBlock((unsigned char *)out, der, len);
	return 0;
}

int
dkim_key_record(enum dkim_alg alg, const char *p_b64, char *out,
    size_t outlen)
{
	size_t	 len;

	if (p_b64 == NULL || !alg_valid(alg)) {
		errno = EINVAL;
		return -1;
	}
	/* Only base64: a ';' or a quote would add to or break the record. */
	len = strlen(p_b64);
	if (len == 0 || strspn(p_b64, B64_CHARS) != len) {
		errno = EINVAL;
		return -1;
	}
	return bprintf(out, outlen, "v=DKIM1; k=%s; p=%s", algs[alg].keytype,
	    p_b64);
}

/*
 * A host name as A-labels, or a selector: labels of [a-z0-9-] joined by
 * single dots, each 1 to 63 long and neither starting nor ending with
 * '-', 253 in all.  Upper case is refused rather than folded: lka stores
 * names lower-case, so anything else comes from a confused peer.
 */
static int
name_valid(const char *s)
{
	size_t	 len, i, label = 0;

	len = strnlen(s, DKIM_KEY_NAME_MAX + 1);
	if (len == 0 || len > DKIM_KEY_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
		} else if ((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    (s[i] == '-' && label > 0)) {
			if (++label > DKIM_KEY_LABEL_MAX)
				return 0;
		} else
			return 0;
	}
	return label > 0 && s[len - 1] != '-';
}

/*
 * What every file function accepts: a bare name of the characters
 * dkim_key_filename() produces, never starting with '.' (so never "." or
 * ".." nor a temporary file), short enough that its temporary name fits.
 */
static int
filename_check(const char *name)
{
	size_t	 len;

	if (name == NULL || name[0] == '\0' || name[0] == '.') {
		errno = EINVAL;
		return -1;
	}
	len = strlen(name);
	if (strspn(name, NAME_CHARS) != len) {
		errno = EINVAL;
		return -1;
	}
	if (len + TMP_EXTRA > NAME_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int
filename_hashed(const char *domain, const char *selector, enum dkim_alg alg,
    char *out, size_t outlen)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 md[SHA256_DIGEST_LENGTH];
	char			 h[2 * SHA256_DIGEST_LENGTH + 1];
	size_t			 i;

	if (SHA256((const unsigned char *)domain, strlen(domain), md) ==
	    NULL) {
		errno = EIO;
		return -1;
	}
	for (i = 0; i < sizeof(md); i++) {
		h[2 * i] = hex[md[i] >> 4];
		h[2 * i + 1] = hex[md[i] & 15];
	}
	h[sizeof(h) - 1] = '\0';
	return bprintf(out, outlen, "sha256-%s.%s.%s.pem", h, selector,
	    algs[alg].name);
}

int
dkim_key_filename(const char *domain, const char *selector,
    enum dkim_alg alg, char *out, size_t outlen)
{
	if (outlen > 0)
		out[0] = '\0';
	if (domain == NULL || selector == NULL || !alg_valid(alg) ||
	    !name_valid(domain) || !name_valid(selector)) {
		errno = EINVAL;
		return -1;
	}
	if (bprintf(out, outlen, "%s.%s.%s.pem", domain, selector,
	    algs[alg].name) == -1)
		return -1;
	if (filename_check(out) == 0)
		return 0;
	if (errno != ENAMETOOLONG) {
		out[0] = '\0';
		return -1;
	}
	/*
	 * A domain near the 253-byte limit does not fit a file name with
	 * its selector and algorithm: name the file by a hash of the
	 * domain instead (still one file per domain, selector, algorithm).
	 */
	if (filename_hashed(domain, selector, alg, out, outlen) == -1 ||
	    filename_check(out) == -1) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

/* Read until end of file or until buf is full; returns the bytes read. */
static ssize_t
read_full(int fd, char *buf, size_t size)
{
	size_t	 off = 0;
	ssize_t	 n;

	while (off < size) {
		if ((n = read(fd, buf + off, size - off)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		off += n;
	}
	return off;
}

/*
 * Only this process writes into the key directory, so a temporary file
 * that already exists was left by a crash and is ours to replace.
 */
static int
open_tmp(int dirfd, const char *tmp)
{
	const int	 flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
			    O_CLOEXEC;
	int		 fd;

	if ((fd = openat(dirfd, tmp, flags, 0600)) == -1 && errno == EEXIST) {
		if (unlinkat(dirfd, tmp, 0) == -1)
			return -1;
		fd = openat(dirfd, tmp, flags, 0600);
	}
	return fd;
}

static void
bio_free_clean(BIO *bio)
{
	char	*data;
	long	 len;

	if (bio == NULL)
		return;
	if ((len = BIO_get_mem_data(bio, &data)) > 0)
		OPENSSL_cleanse(data, len);
	BIO_free(bio);
}

/*
 * Written whole or not at all: into a temporary file, synced, then
 * renamed to its name -- but never over an existing key, which would
 * silently invalidate the DNS record published for it.
 */
int
dkim_key_write(int dirfd, const char *filename, EVP_PKEY *key)
{
	char	 tmp[NAME_MAX + 1], *pem;
	BIO	*bio;
	long	 len;
	int	 fd = -1, tmp_exists = 0, saved, rc = -1;

	if (filename_check(filename) == -1)
		return -1;
	if (key == NULL) {
		errno = EINVAL;
		return -1;
	}
	(void)snprintf(tmp, sizeof(tmp), TMP_FMT, filename);

	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL,
	    NULL) != 1 || (len = BIO_get_mem_data(bio, &pem)) <= 0) {
		crypto_fail(ENOMEM);
		goto done;
	}
	if ((fd = open_tmp(dirfd, tmp)) == -1)
		goto done;
	tmp_exists = 1;
	if (write_all(fd, pem, len) == -1 || fsync(fd) == -1)
		goto done;
	if (close(fd) == -1) {
		fd = -1;
		goto done;
	}
	fd = -1;
	if (renameat2(dirfd, tmp, dirfd, filename, RENAME_NOREPLACE) == -1)
		goto done;
	tmp_exists = 0;
	/* Not durable, so not written: take back the name we just made. */
	if (fsync(dirfd) == -1) {
		saved = errno;
		(void)unlinkat(dirfd, filename, 0);
		errno = saved;
		goto done;
	}
	rc = 0;
 done:
	saved = errno;
	if (fd != -1)
		(void)close(fd);
	if (tmp_exists)
		(void)unlinkat(dirfd, tmp, 0);
	bio_free_clean(bio);
	errno = saved;
	return rc;
}

/* Encrypted keys are refused, never prompted for on a terminal. */
static int
no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	return -1;
}

/*
 * A key file is trusted only when it is a regular file of sane size that
 * nobody but its owner may read: a key others could read may have been
 * copied, and signing with it would vouch for their mail.
 */
int
dkim_key_load(int dirfd, const char *filename, enum dkim_alg alg,
    EVP_PKEY **keyp)
{
	char		 buf[DKIM_KEY_FILE_MAX + 1];
	struct stat	 st;
	BIO		*bio = NULL;
	EVP_PKEY	*key = NULL;
	ssize_t		 len = 0;
	int		 fd, saved, rc = -1;

	*keyp = NULL;
	if (!alg_valid(alg)) {
		errno = EINVAL;
		return -1;
	}
	if (filename_check(filename) == -1)
		return -1;
	/* O_NONBLOCK: opening a FIFO put here must not hang the signer. */
	if ((fd = openat(dirfd, filename, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK | O_NOCTTY)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto done;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto done;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		errno = EPERM;
		goto done;
	}
	if (st.st_size > DKIM_KEY_FILE_MAX) {
		errno = EFBIG;
		goto done;
	}
	/* One byte more than allowed tells a file that grew since fstat. */
	if ((len = read_full(fd, buf, sizeof(buf))) == -1) {
		len = 0;
		goto done;
	}
	if (len > DKIM_KEY_FILE_MAX) {
		errno = EFBIG;
		goto done;
	}
	if ((bio = BIO_new_mem_buf(buf, len)) == NULL) {
		crypto_fail(ENOMEM);
		goto done;
	}
	if ((key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase,
	    NULL)) == NULL) {
		crypto_fail(EBADMSG);
		goto done;
	}
	if (key_check(key, alg) == -1)
		goto done;
	*keyp = key;
	key = NULL;
	rc = 0;
 done:
	saved = errno;
	(void)close(fd);
	BIO_free(bio);
	EVP_PKEY_free(key);
	OPENSSL_cleanse(buf, len);
	errno = saved;
	return rc;
}

int
dkim_key_remove(int dirfd, const char *filename)
{
	if (filename_check(filename) == -1)
		return -1;
	if (unlinkat(dirfd, filename, 0) == -1 && errno != ENOENT)
		return -1;
	return fsync(dirfd);
}
