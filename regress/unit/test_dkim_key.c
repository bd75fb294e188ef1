/*
 * dkim_key: key generation, the public key as published in DNS, and the
 * private key files: their names, atomic writes, and the files a load
 * must refuse.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "unit.h"

#include "dkim_key.h"

#define NROWS(a)	(sizeof(a) / sizeof((a)[0]))

#define A9	"aaaaaaaaa"
#define L40	A9 A9 A9 A9 "aaaa"
#define L61	A9 A9 A9 A9 A9 A9 "aaaaaaa"
#define L63	A9 A9 A9 A9 A9 A9 A9
#define L64	L63 "a"

static char	 top[64];
static int	 dfd = -1;

/* Made once: RSA key generation is slow. */
static EVP_PKEY	*rsa, *ed, *rsa1024;

static int
group_setup(void **state)
{
	if (dkim_key_generate(DKIM_ALG_RSA_SHA256, &rsa) == -1 ||
	    dkim_key_generate(DKIM_ALG_ED25519_SHA256, &ed) == -1 ||
	    (rsa1024 = EVP_RSA_gen(1024)) == NULL)
		return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(rsa1024);
	return 0;
}

static int
setup(void **state)
{
	snprintf(top, sizeof(top), "/tmp/sendgate-dkim-XXXXXX");
	if (mkdtemp(top) == NULL)
		return -1;
	if ((dfd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char	 cmd[PATH_MAX + 16];

	close(dfd);
	dfd = -1;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	return system(cmd) == 0 ? 0 : -1;
}

static size_t
pem_of(EVP_PKEY *key, int encrypt, char *buf, size_t size)
{
	BIO	*bio;
	char	*data;
	long	 len;

	assert_non_null(bio = BIO_new(BIO_s_mem()));
	if (encrypt)
		assert_int_equal(PEM_write_bio_PrivateKey(bio, key,
		    EVP_aes_256_cbc(), (unsigned char *)"secret", 6, NULL,
		    NULL), 1);
	else
		assert_int_equal(PEM_write_bio_PrivateKey(bio, key, NULL,
		    NULL, 0, NULL, NULL), 1);
	len = BIO_get_mem_data(bio, &data);
	assert_true(len > 0 && (size_t)len <= size);
	memcpy(buf, data, len);
	BIO_free(bio);
	return len;
}

static void
put(const char *name, const char *buf, size_t len, mode_t mode)
{
	int	 fd;

	assert_true((fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL,
	    0600)) != -1);
	assert_int_equal(write(fd, buf, len), len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static size_t
slurp(const char *name, char *buf, size_t size)
{
	ssize_t	 n;
	int	 fd;

	assert_true((fd = openat(dfd, name, O_RDONLY)) != -1);
	assert_true((n = read(fd, buf, size)) >= 0);
	close(fd);
	return n;
}

/* Nothing hidden in the directory: no temporary file left behind. */
static void
assert_no_tmp(void)
{
	DIR		*d;
	struct dirent	*de;

	assert_non_null(d = opendir(top));
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_name[0] == '.')
			fail_msg("left behind: %s", de->d_name);
	}
	closedir(d);
}

static void
test_alg_names(void **state)
{
	static const struct {
		enum dkim_alg	 alg;
		const char	*name, *keytype;
	} rows[] = {
		{ DKIM_ALG_RSA_SHA256, "rsa-sha256", "rsa" },
		{ DKIM_ALG_ED25519_SHA256, "ed25519-sha256", "ed25519" },
	};
	static const char *const bad[] = {
		"", "rsa-sha1", "RSA-SHA256", "rsa", "ed25519", "rsa-sha256 ",
	};
	enum dkim_alg	 alg;
	size_t		 i;

	for (i = 0; i < NROWS(rows); i++) {
		assert_string_equal(dkim_alg_name(rows[i].alg), rows[i].name);
		assert_string_equal(dkim_alg_keytype(rows[i].alg),
		    rows[i].keytype);
		assert_int_equal(dkim_alg_lookup(rows[i].name, &alg), 0);
		assert_int_equal(alg, rows[i].alg);
	}
	for (i = 0; i < NROWS(bad); i++)
		if (dkim_alg_lookup(bad[i], &alg) != -1)
			fail_msg("\"%s\" accepted", bad[i]);
	assert_null(dkim_alg_name((enum dkim_alg)7));
	assert_null(dkim_alg_keytype((enum dkim_alg)7));
}

/*
 * A fresh key of each algorithm, and its p= value, which must decode to
 * the public half of that very key.
 */
static void
test_generate_and_publish(void **state)
{
	static const struct {
		enum dkim_alg	 alg, other;
		int		 pkey_id;
		size_t		 b64len;
	} rows[] = {
		/* A 2048-bit SubjectPublicKeyInfo is 294 bytes. */
		{ DKIM_ALG_RSA_SHA256, DKIM_ALG_ED25519_SHA256, EVP_PKEY_RSA,
		    392 },
		{ DKIM_ALG_ED25519_SHA256, DKIM_ALG_RSA_SHA256,
		    EVP_PKEY_ED25519, 44 },
	};
	char			 b64[DKIM_KEY_B64_MAX];
	char			 rec[DKIM_KEY_RECORD_MAX];
	char			 want[DKIM_KEY_RECORD_MAX];
	unsigned char		 raw[DKIM_KEY_B64_MAX], mine[64];
	const unsigned char	*p;
	EVP_PKEY		*key, *pub;
	BIGNUM			*e = NULL;
	size_t			 i, len, minelen;
	int			 n;

	for (i = 0; i < NROWS(rows); i++) {
		assert_int_equal(dkim_key_generate(rows[i].alg, &key), 0);
		assert_int_equal(EVP_PKEY_get_base_id(key), rows[i].pkey_id);
		if (rows[i].alg == DKIM_ALG_RSA_SHA256) {
			assert_int_equal(EVP_PKEY_get_bits(key), 2048);
			assert_int_equal(EVP_PKEY_get_bn_param(key,
			    OSSL_PKEY_PARAM_RSA_E, &e), 1);
			assert_int_equal(BN_get_word(e), 65537);
			BN_free(e);
			e = NULL;
		}

		assert_int_equal(dkim_key_public_b64(key, rows[i].alg, b64,
		    sizeof(b64)), 0);
		len = strlen(b64);
		if (len != rows[i].b64len)
			fail_msg("row %zu: p= is %zu long, want %zu", i, len,
			    rows[i].b64len);
		assert_null(strpbrk(b64, "\r\n "));

		/* EVP_DecodeBlock counts the padding as zero bytes. */
		assert_true((n = EVP_DecodeBlock(raw, (unsigned char *)b64,
		    len)) > 0);
		n -= (b64[len - 1] == '=') + (b64[len - 2] == '=');
		if (rows[i].alg == DKIM_ALG_RSA_SHA256) {
			p = raw;
			assert_non_null(pub = d2i_PUBKEY(NULL, &p, n));
			assert_int_equal(p - raw, n);
			assert_int_equal(EVP_PKEY_eq(pub, key), 1);
			EVP_PKEY_free(pub);
		} else {
			minelen = sizeof(mine);
			assert_int_equal(EVP_PKEY_get_raw_public_key(key, mine,
			    &minelen), 1);
			assert_int_equal(n, 32);
			assert_int_equal(minelen, 32);
			assert_memory_equal(raw, mine, 32);
		}

		assert_int_equal(dkim_key_record(rows[i].alg, b64, rec,
		    sizeof(rec)), 0);
		snprintf(want, sizeof(want), "v=DKIM1; k=%s; p=%s",
		    dkim_alg_keytype(rows[i].alg), b64);
		assert_string_equal(rec, want);

		/* Exactly big enough, one byte short, the wrong algorithm. */
		assert_int_equal(dkim_key_public_b64(key, rows[i].alg, b64,
		    len + 1), 0);
		assert_int_equal(dkim_key_public_b64(key, rows[i].alg, b64,
		    len), -1);
		assert_int_equal(errno, ENOSPC);
		assert_int_equal(dkim_key_public_b64(key, rows[i].other, b64,
		    sizeof(b64)), -1);
		assert_int_equal(errno, EKEYREJECTED);
		EVP_PKEY_free(key);
	}
	assert_int_equal(dkim_key_public_b64(rsa1024, DKIM_ALG_RSA_SHA256,
	    b64, sizeof(b64)), -1);
	assert_int_equal(errno, EKEYREJECTED);
	assert_int_equal(dkim_key_generate((enum dkim_alg)7, &key), -1);
	assert_null(key);
}

static void
test_record(void **state)
{
	static const struct {
		enum dkim_alg	 alg;
		const char	*p, *want;	/* want NULL: refused */
	} rows[] = {
		{ DKIM_ALG_RSA_SHA256, "QUJD", "v=DKIM1; k=rsa; p=QUJD" },
		{ DKIM_ALG_ED25519_SHA256, "MCow+/==",
		    "v=DKIM1; k=ed25519; p=MCow+/==" },
		{ DKIM_ALG_RSA_SHA256, "", NULL },
		{ DKIM_ALG_RSA_SHA256, "QUJD; t=y", NULL },
		{ DKIM_ALG_RSA_SHA256, "QU\"JD", NULL },
		{ DKIM_ALG_RSA_SHA256, "QUJD\n", NULL },
		{ (enum dkim_alg)7, "QUJD", NULL },
	};
	char	 out[128];
	size_t	 i, len;
	int	 rc;

	for (i = 0; i < NROWS(rows); i++) {
		rc = dkim_key_record(rows[i].alg, rows[i].p, out, sizeof(out));
		if (rows[i].want == NULL) {	/* refused */
			if (rc != -1 || errno != EINVAL)
				fail_msg("row %zu: \"%s\" accepted", i,
				    rows[i].p);
			continue;
		}
		if (rows[i].want[0] == '\0') {
			if (rc != 0 || strncmp(out, "sha256-", 7) != 0)
				fail_msg("row %zu: got \"%s\", want a hashed "
				    "name", i, out);
		} else if (rc != 0 || strcmp(out, rows[i].want) != 0)
			fail_msg("row %zu: got \"%s\", want \"%s\"", i, out,
			    rows[i].want);
		len = strlen(rows[i].want);
		assert_int_equal(dkim_key_record(rows[i].alg, rows[i].p, out,
		    len), -1);
		assert_int_equal(errno, ENOSPC);
		assert_string_equal(out, "");
	}
}

static void
test_filename(void **state)
{
	static const struct {
		const char	*domain, *selector;
		enum dkim_alg	 alg;
		const char	*want;		/* NULL: refused with err */
		int		 err;
	} rows[] = {
		{ "example.com", "sendgate-rsa", DKIM_ALG_RSA_SHA256,
		    "example.com.sendgate-rsa.rsa-sha256.pem", 0 },
		{ "example.com", "sendgate-ed", DKIM_ALG_ED25519_SHA256,
		    "example.com.sendgate-ed.ed25519-sha256.pem", 0 },
		{ "xn--bcher-kva.example", "s202405", DKIM_ALG_RSA_SHA256,
		    "xn--bcher-kva.example.s202405.rsa-sha256.pem", 0 },
		{ "a", "b", DKIM_ALG_ED25519_SHA256,
		    "a.b.ed25519-sha256.pem", 0 },
		{ "mail.example.org", "2024.sel", DKIM_ALG_RSA_SHA256,
		    "mail.example.org.2024.sel.rsa-sha256.pem", 0 },
		{ "123.example", "0", DKIM_ALG_RSA_SHA256,
		    "123.example.0.rsa-sha256.pem", 0 },
		{ L63 ".com", L63, DKIM_ALG_RSA_SHA256,
		    L63 ".com." L63 ".rsa-sha256.pem", 0 },
		/* The longest whose temporary name still fits NAME_MAX. */
		{ L63 "." L63 "." L63 "." L40, "s1", DKIM_ALG_RSA_SHA256,
		    L63 "." L63 "." L63 "." L40 ".s1.rsa-sha256.pem", 0 },
		/* Longer: named by the SHA-256 of the domain instead. */
		{ L63 "." L63 "." L63 "." L40, "s12", DKIM_ALG_RSA_SHA256,
		    "sha256-f845026f47dc5abb667bae83ad3c51a9"
		    "61586db0dea551efcfafe08100877fee.s12.rsa-sha256.pem", 0 },
		{ L63 "." L63 "." L63 "." L61, "s", DKIM_ALG_ED25519_SHA256,
		    "", 0 },

		{ "", "s", DKIM_ALG_RSA_SHA256, NULL, EINVAL },
		{ ".", "s", DKIM_ALG_RSA_SHA256, NULL, EINVAL },
		{ "..", "s", DKIM_ALG_RSA_SHA256, NULL, EINVAL },
		{ "../x", "s", DKIM_ALG_RSA_SHA256, NULL, EINVAL },
		{ "a/b", "s", DKIM_ALG_RSA_SHA256, NULL, EINVAL },
		{ "/etc", "s", DKIM_ALG_RSA_SHA256, NULL, EINVAL },
		{ ".hidden", "s", DKIM_ALG_RSA_SHA256, NULL, EINVAL },
		{ "Example.com", "s", DKIM_ALG_RSA_SHA256, NULL, EINVAL },
		{ "under_score.com", "s", DKIM_ALG_RSA_SHA256, NULL, EINVAL },
		{ "-lead.com", "s", DKIM_ALG_RSA_SHA256, NULL, EINVAL },
		{ "trail-.com", "s", DKIM_ALG_RSA_SHA256, NULL, EINVAL },
		{ "a..b", "s", DKIM_ALG_RSA_SHA256, NULL, EINVAL },
		{ "example.com.", "s", DKIM_ALG_RSA_SHA256, NULL, EINVAL },
		{ "ex ample.com", "s", DKIM_ALG_RSA_SHA256, NULL, EINVAL },
		{ "a\nb", "s", DKIM_ALG_RSA_SHA256, NULL, EINVAL },
		{ "b\xc3\xbc" "cher.example", "s", DKIM_ALG_RSA_SHA256, NULL,
		    EINVAL },
		{ L64 ".com", "s", DKIM_ALG_RSA_SHA256, NULL, EINVAL },
		{ L63 "." L63 "." L63 "." L61 "b", "s", DKIM_ALG_RSA_SHA256,
		    NULL, EINVAL },

		{ "example.com", "", DKIM_ALG_RSA_SHA256, NULL, EINVAL },
		{ "example.com", ".", DKIM_ALG_RSA_SHA256, NULL, EINVAL },
		{ "example.com", "..", DKIM_ALG_RSA_SHA256, NULL, EINVAL },
		{ "example.com", "../x", DKIM_ALG_RSA_SHA256, NULL, EINVAL },
		{ "example.com", "a/b", DKIM_ALG_RSA_SHA256, NULL, EINVAL },
		{ "example.com", ".hidden", DKIM_ALG_RSA_SHA256, NULL,
		    EINVAL },
		{ "example.com", "Sel", DKIM_ALG_RSA_SHA256, NULL, EINVAL },
		{ "example.com", "s_1", DKIM_ALG_RSA_SHA256, NULL, EINVAL },
		{ "example.com", "-s", DKIM_ALG_RSA_SHA256, NULL, EINVAL },
		{ "example.com", "s-", DKIM_ALG_RSA_SHA256, NULL, EINVAL },
		{ "example.com", "s-.x", DKIM_ALG_RSA_SHA256, NULL, EINVAL },
		{ "example.com", "a..b", DKIM_ALG_RSA_SHA256, NULL, EINVAL },
		{ "example.com", "s.", DKIM_ALG_RSA_SHA256, NULL, EINVAL },
		{ "example.com", L64, DKIM_ALG_RSA_SHA256, NULL, EINVAL },
		{ "example.com", "s", (enum dkim_alg)7, NULL, EINVAL },
	};
	char	 out[NAME_MAX + 64];
	size_t	 i;
	int	 rc;

	for (i = 0; i < NROWS(rows); i++) {
		errno = 0;
		rc = dkim_key_filename(rows[i].domain, rows[i].selector,
		    rows[i].alg, out, sizeof(out));
		if (rows[i].want == NULL) {	/* refused */
			if (rc != -1 || errno != rows[i].err ||
			    out[0] != '\0')
				fail_msg("row %zu: \"%s\" \"%s\": rc %d, "
				    "errno %d, out \"%s\"", i, rows[i].domain,
				    rows[i].selector, rc, errno, out);
			continue;
		}
		if (rows[i].want[0] == '\0') {
			if (rc != 0 || strncmp(out, "sha256-", 7) != 0)
				fail_msg("row %zu: got \"%s\", want a hashed "
				    "name", i, out);
		} else if (rc != 0 || strcmp(out, rows[i].want) != 0)
			fail_msg("row %zu: got \"%s\", want \"%s\"", i, out,
			    rows[i].want);
		assert_null(strchr(out, '/'));
		/* One byte short of the terminating NUL. */
		assert_int_equal(dkim_key_filename(rows[i].domain,
		    rows[i].selector, rows[i].alg, out, strlen(rows[i].want)),
		    -1);
		assert_int_equal(errno, ENOSPC);
	}
}

static void
test_write_then_load(void **state)
{
	static const struct {
		enum dkim_alg	 alg;
	} rows[] = {
		{ DKIM_ALG_RSA_SHA256 },
		{ DKIM_ALG_ED25519_SHA256 },
	};
	static const char	 pkcs8[] = "-----BEGIN PRIVATE KEY-----\n";
	char			 name[NAME_MAX + 1], buf[DKIM_KEY_FILE_MAX];
	struct stat		 st;
	EVP_PKEY		*key, *back;
	size_t			 i;

	for (i = 0; i < NROWS(rows); i++) {
		key = rows[i].alg == DKIM_ALG_RSA_SHA256 ? rsa : ed;
		assert_int_equal(dkim_key_filename("example.com", "sel",
		    rows[i].alg, name, sizeof(name)), 0);
		assert_int_equal(dkim_key_write(dfd, name, key), 0);
		assert_int_equal(fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW),
		    0);
		assert_true(S_ISREG(st.st_mode));
		assert_int_equal(st.st_mode & 07777, 0600);
		assert_true(slurp(name, buf, sizeof(buf)) > sizeof(pkcs8));
		assert_memory_equal(buf, pkcs8, sizeof(pkcs8) - 1);
		assert_no_tmp();

		assert_int_equal(dkim_key_load(dfd, name, rows[i].alg, &back),
		    0);
		assert_int_equal(EVP_PKEY_eq(back, key), 1);
		EVP_PKEY_free(back);
	}
}

/* A second key for the same name must never replace the first. */
static void
test_write_never_replaces(void **state)
{
	char		 before[DKIM_KEY_FILE_MAX], after[DKIM_KEY_FILE_MAX];
	EVP_PKEY	*other, *back;
	size_t		 n;

	assert_int_equal(dkim_key_write(dfd, "k.pem", ed), 0);
	n = slurp("k.pem", before, sizeof(before));
	assert_int_equal(dkim_key_generate(DKIM_ALG_ED25519_SHA256, &other),
	    0);
	assert_int_equal(dkim_key_write(dfd, "k.pem", other), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(slurp("k.pem", after, sizeof(after)), n);
	assert_memory_equal(before, after, n);
	assert_no_tmp();
	assert_int_equal(dkim_key_load(dfd, "k.pem", DKIM_ALG_ED25519_SHA256,
	    &back), 0);
	assert_int_equal(EVP_PKEY_eq(back, ed), 1);
	EVP_PKEY_free(back);
	EVP_PKEY_free(other);
}

/* A temporary file left by a crash does not block the next write. */
static void
test_write_replaces_stale_tmp(void **state)
{
	EVP_PKEY	*back;

	put(".k.pem.tmp", "half a key", 10, 0600);
	assert_int_equal(dkim_key_write(dfd, "k.pem", ed), 0);
	assert_no_tmp();
	assert_int_equal(dkim_key_load(dfd, "k.pem", DKIM_ALG_ED25519_SHA256,
	    &back), 0);
	assert_int_equal(EVP_PKEY_eq(back, ed), 1);
	EVP_PKEY_free(back);
}

static void
test_file_names_refused(void **state)
{
	static char		 longname[NAME_MAX];
	static const struct {
		const char	*name;
		int		 err;
	} rows[] = {
		{ "", EINVAL },
		{ ".", EINVAL },
		{ "..", EINVAL },
		{ "../x.pem", EINVAL },
		{ "a/b.pem", EINVAL },
		{ "/k.pem", EINVAL },
		{ ".k.pem.tmp", EINVAL },
		{ "K.pem", EINVAL },
		{ "k pem", EINVAL },
		{ longname, ENAMETOOLONG },
	};
	EVP_PKEY	*back;
	size_t		 i;

	/* 251 characters: its temporary name would be 256. */
	memset(longname, 'a', 251);
	for (i = 0; i < NROWS(rows); i++) {
		errno = 0;
		if (dkim_key_write(dfd, rows[i].name, ed) != -1 ||
		    errno != rows[i].err)
			fail_msg("row %zu: write \"%s\": errno %d", i,
			    rows[i].name, errno);
		errno = 0;
		if (dkim_key_load(dfd, rows[i].name, DKIM_ALG_ED25519_SHA256,
		    &back) != -1 || errno != rows[i].err || back != NULL)
			fail_msg("row %zu: load \"%s\": errno %d", i,
			    rows[i].name, errno);
		errno = 0;
		if (dkim_key_remove(dfd, rows[i].name) != -1 ||
		    errno != rows[i].err)
			fail_msg("row %zu: remove \"%s\": errno %d", i,
			    rows[i].name, errno);
	}
	assert_no_tmp();
}

enum content {
	C_RSA, C_ED, C_RSA1024, C_ENCRYPTED, C_GARBAGE, C_EMPTY,
	C_AT_CAP, C_OVER_CAP,
};

/* The bytes of a key file; the _CAP ones are an RSA key after filler. */
static size_t
content(enum content c, char *buf, size_t size)
{
	static const char	 garbage[] = "-----BEGIN PRIVATE KEY-----\n"
				    "bm90IGEga2V5\n-----END PRIVATE KEY-----\n";
	char			 pem[DKIM_KEY_FILE_MAX];
	size_t			 len, total, i;

	switch (c) {
	case C_RSA:
		return pem_of(rsa, 0, buf, size);
	case C_ED:
		return pem_of(ed, 0, buf, size);
	case C_RSA1024:
		return pem_of(rsa1024, 0, buf, size);
	case C_ENCRYPTED:
		return pem_of(rsa, 1, buf, size);
	case C_GARBAGE:
		memcpy(buf, garbage, sizeof(garbage) - 1);
		return sizeof(garbage) - 1;
	case C_EMPTY:
		return 0;
	case C_AT_CAP:
	case C_OVER_CAP:
		total = DKIM_KEY_FILE_MAX + (c == C_OVER_CAP);
		assert_true(total <= size);
		len = pem_of(rsa, 0, pem, sizeof(pem));
		for (i = 0; i < total - len; i++)
			buf[i] = i % 64 == 63 ? '\n' : 'x';
		buf[total - len - 1] = '\n';
		memcpy(buf + total - len, pem, len);
		return total;
	}
	return 0;
}

enum kind { K_FILE, K_SYMLINK, K_FIFO, K_DIR, K_NONE };

static void
test_load_refuses(void **state)
{
	static const struct {
		const char	*what;
		enum kind	 kind;
		enum content	 content;
		mode_t		 mode;
		enum dkim_alg	 alg;
		int		 err;		/* 0: loads */
	} rows[] = {
		{ "rsa 0600", K_FILE, C_RSA, 0600, DKIM_ALG_RSA_SHA256, 0 },
		{ "rsa 0400", K_FILE, C_RSA, 0400, DKIM_ALG_RSA_SHA256, 0 },
		{ "ed25519 0600", K_FILE, C_ED, 0600,
		    DKIM_ALG_ED25519_SHA256, 0 },
		{ "exactly 16 KiB", K_FILE, C_AT_CAP, 0600,
		    DKIM_ALG_RSA_SHA256, 0 },
		{ "readable by others", K_FILE, C_RSA, 0644,
		    DKIM_ALG_RSA_SHA256, EPERM },
		{ "readable by group", K_FILE, C_RSA, 0640,
		    DKIM_ALG_RSA_SHA256, EPERM },
		{ "writable by others", K_FILE, C_RSA, 0602,
		    DKIM_ALG_RSA_SHA256, EPERM },
		{ "symlink", K_SYMLINK, C_RSA, 0600, DKIM_ALG_RSA_SHA256,
		    ELOOP },
		{ "16 KiB + 1", K_FILE, C_OVER_CAP, 0600,
		    DKIM_ALG_RSA_SHA256, EFBIG },
		{ "garbage", K_FILE, C_GARBAGE, 0600, DKIM_ALG_RSA_SHA256,
		    EBADMSG },
		{ "empty", K_FILE, C_EMPTY, 0600, DKIM_ALG_RSA_SHA256,
		    EBADMSG },
		{ "encrypted", K_FILE, C_ENCRYPTED, 0600, DKIM_ALG_RSA_SHA256,
		    EBADMSG },
		{ "ed25519 as rsa", K_FILE, C_ED, 0600, DKIM_ALG_RSA_SHA256,
		    EKEYREJECTED },
		{ "rsa as ed25519", K_FILE, C_RSA, 0600,
		    DKIM_ALG_ED25519_SHA256, EKEYREJECTED },
		{ "rsa-1024", K_FILE, C_RSA1024, 0600, DKIM_ALG_RSA_SHA256,
		    EKEYREJECTED },
		{ "fifo", K_FIFO, C_EMPTY, 0600, DKIM_ALG_RSA_SHA256,
		    EINVAL },
		{ "directory", K_DIR, C_EMPTY, 0700, DKIM_ALG_RSA_SHA256,
		    EINVAL },
		{ "missing", K_NONE, C_EMPTY, 0600, DKIM_ALG_RSA_SHA256,
		    ENOENT },
	};
	char		 name[32], target[32], buf[DKIM_KEY_FILE_MAX + 1];
	EVP_PKEY	*key, *want;
	size_t		 i, len;
	int		 rc;

	for (i = 0; i < NROWS(rows); i++) {
		snprintf(name, sizeof(name), "row%zu.pem", i);
		snprintf(target, sizeof(target), "target%zu.pem", i);
		len = content(rows[i].content, buf, sizeof(buf));
		switch (rows[i].kind) {
		case K_FILE:
			put(name, buf, len, rows[i].mode);
			break;
		case K_SYMLINK:
			put(target, buf, len, rows[i].mode);
			assert_int_equal(symlinkat(target, dfd, name), 0);
			break;
		case K_FIFO:
			assert_int_equal(mkfifoat(dfd, name, rows[i].mode), 0);
			break;
		case K_DIR:
			assert_int_equal(mkdirat(dfd, name, rows[i].mode), 0);
			break;
		case K_NONE:
			break;
		}
		errno = 0;
		rc = dkim_key_load(dfd, name, rows[i].alg, &key);
		if (rows[i].err == 0) {
			if (rc != 0)
				fail_msg("row %zu (%s): refused: %s", i,
				    rows[i].what, strerror(errno));
			want = rows[i].content == C_ED ? ed : rsa;
			assert_int_equal(EVP_PKEY_eq(key, want), 1);
			EVP_PKEY_free(key);
			continue;
		}
		if (rc != -1 || errno != rows[i].err || key != NULL)
			fail_msg("row %zu (%s): rc %d, errno \"%s\", want "
			    "\"%s\"", i, rows[i].what, rc, strerror(errno),
			    strerror(rows[i].err));
	}
}

static void
test_remove_is_idempotent(void **state)
{
	assert_int_equal(dkim_key_write(dfd, "k.pem", ed), 0);
	assert_int_equal(dkim_key_remove(dfd, "k.pem"), 0);
	assert_int_equal(faccessat(dfd, "k.pem", F_OK, AT_SYMLINK_NOFOLLOW),
	    -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(dkim_key_remove(dfd, "k.pem"), 0);
	/* And the name is free again. */
	assert_int_equal(dkim_key_write(dfd, "k.pem", ed), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alg_names),
		cmocka_unit_test(test_generate_and_publish),
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_filename),
		cmocka_unit_test_setup_teardown(test_write_then_load, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_write_never_replaces,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_replaces_stale_tmp,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_names_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_refuses, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_remove_is_idempotent,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
