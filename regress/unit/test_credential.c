/*
 * lka/credential.c: generated passwords, their salted HMAC-SHA-256 and
 * its verification, and the verification tokens of domains.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "credential.h"

#define NROWS(a)	(sizeof(a) / sizeof((a)[0]))
#define DRAWS		1000
#define TOKEN_LEN	40
#define B64URL		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
			"0123456789-_"

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* n strings of size bytes each, sorted: are any two the same? */
static void
assert_all_distinct(char *s, size_t n, size_t size)
{
	size_t	 i;

	qsort(s, n, size, cmp_str);
	for (i = 1; i < n; i++)
		if (strcmp(s + (i - 1) * size, s + i * size) == 0)
			fail_msg("drawn twice: %s", s + i * size);
}

static void
test_password_is_32_base64url_characters_never_repeated(void **state)
{
	static char	 pw[DRAWS][CREDENTIAL_PASSWORD_LEN + 1];
	int		 seen[256] = { 0 };
	const char	*c;
	size_t		 i, j;

	for (i = 0; i < DRAWS; i++) {
		memset(pw[i], '#', sizeof(pw[i]));
		assert_int_equal(credential_generate(pw[i], sizeof(pw[i])), 0);
		if (strlen(pw[i]) != CREDENTIAL_PASSWORD_LEN ||
		    strspn(pw[i], B64URL) != CREDENTIAL_PASSWORD_LEN)
			fail_msg("draw %zu: \"%s\"", i, pw[i]);
		for (j = 0; j < CREDENTIAL_PASSWORD_LEN; j++)
			seen[(unsigned char)pw[i][j]]++;
	}
	/* 32,000 characters: every one of the 64 shows up. */
	for (c = B64URL; *c != '\0'; c++)
		if (seen[(unsigned char)*c] == 0)
			fail_msg("'%c' never drawn", *c);
	assert_all_distinct(pw[0], DRAWS, sizeof(pw[0]));
}

/*
 * Never a '-' first (swaks and getopt tools would take the password for
 * an option: a failure one run in 64 of the swaks test).  Without the
 * rule, 6,400 draws start with '-' about 100 times; every other first
 * character still shows up.
 */
static void
test_password_never_starts_with_a_dash(void **state)
{
	char		 pw[CREDENTIAL_PASSWORD_LEN + 1];
	int		 first[256] = { 0 };
	const char	*c;
	size_t		 i;

	for (i = 0; i < 6400; i++) {
		assert_int_equal(credential_generate(pw, sizeof(pw)), 0);
		assert_int_equal(strlen(pw), CREDENTIAL_PASSWORD_LEN);
		if (pw[0] == '-')
			fail_msg("draw %zu: \"%s\"", i, pw);
		first[(unsigned char)pw[0]]++;
	}
	for (c = B64URL; *c != '\0'; c++)
		if (*c != '-' && first[(unsigned char)*c] == 0)
			fail_msg("'%c' never drawn first", *c);
}

static void
test_password_needs_room_for_its_nul(void **state)
{
	char	 pw[CREDENTIAL_PASSWORD_LEN + 1];

	assert_int_equal(credential_generate(pw, CREDENTIAL_PASSWORD_LEN), -1);
	assert_int_equal(credential_generate(pw, 0), -1);
	assert_int_equal(credential_generate(pw, sizeof(pw)), 0);
}

/* HMAC-SHA-256 with key 00 01 .. 0f (computed with Python's hmac). */
static const struct {
	const char	*pw;
	const char	*hex;
} hash_rows[] = {
	{ "", "07eff8b326b7798c9ccfcbdbe579489ac785a7995a04618b1a2813c2674477"
	    "7d" },
	{ "password", "e32af353fd89581b387ec6e30b6cfa7d87d82a1260e0ad62082288"
	    "7da5a3d12a" },
	{ "Rh4kHYPaw-fU8ODpbtWlWAHhQPmNLjmN", "1dddc0f8785f99d2619e9867b0119"
	    "368fcc94ad9fff12d3a4b7f82c600f92b81" },
};

static void
test_hash_is_hmac_sha256_keyed_by_the_salt(void **state)
{
	uint8_t		 salt[CREDENTIAL_SALT_LEN], hash[CREDENTIAL_HASH_LEN];
	char		 hex[2 * CREDENTIAL_HASH_LEN + 1];
	size_t		 i, j;

	for (i = 0; i < sizeof(salt); i++)
		salt[i] = (uint8_t)i;
	for (i = 0; i < NROWS(hash_rows); i++) {
		assert_int_equal(credential_hash(hash_rows[i].pw,
		    strlen(hash_rows[i].pw), salt, hash), 0);
		for (j = 0; j < sizeof(hash); j++)
			snprintf(hex + 2 * j, 3, "%02x", hash[j]);
		if (strcmp(hex, hash_rows[i].hex) != 0)
			fail_msg("row %zu \"%s\": got %s", i, hash_rows[i].pw,
			    hex);
		assert_int_equal(credential_verify(hash_rows[i].pw,
		    strlen(hash_rows[i].pw), salt, hash), 0);
	}
}

/*
 * What a client may send for a stored password: each row builds the
 * candidate from the real password and says whether it matches.
 */
enum variant {
	SAME,
	LAST_CHANGED,
	FIRST_CHANGED,
	EMPTY,
	LONGER,
	PREFIX,
	TRAILING_NUL,
	UPPER,
	OVERLONG
};

static const struct {
	enum variant	 v;
	const char	*what;
	int		 want;
} verify_rows[] = {
	{ SAME,		"the password",			0 },
	{ LAST_CHANGED,	"last character changed",	-1 },
	{ FIRST_CHANGED, "first character changed",	-1 },
	{ EMPTY,	"empty",			-1 },
	{ LONGER,	"one character more",		-1 },
	{ PREFIX,	"all but the last character",	-1 },
	{ TRAILING_NUL,	"followed by a NUL byte",	-1 },
	{ UPPER,	"in upper case",		-1 },
	{ OVERLONG,	"followed by 300 more bytes",	-1 },
};

static size_t
variant(enum variant v, const char *pw, char *out)
{
	size_t	 len = strlen(pw), i;

	memcpy(out, pw, len + 1);
	switch (v) {
	case SAME:
		return len;
	case LAST_CHANGED:
		out[len - 1] = out[len - 1] == 'A' ? 'B' : 'A';
		return len;
	case FIRST_CHANGED:
		out[0] = out[0] == 'A' ? 'B' : 'A';
		return len;
	case EMPTY:
		return 0;
	case LONGER:
		out[len] = 'A';
		return len + 1;
	case PREFIX:
		return len - 1;
	case TRAILING_NUL:
		out[len] = '\0';
		return len + 1;
	case UPPER:
		for (i = 0; i < len; i++)
			if (out[i] >= 'a' && out[i] <= 'z')
				out[i] -= 'a' - 'A';
		return len;
	case OVERLONG:
		memset(out + len, 'A', 300);
		return len + 300;
	}
	return 0;
}

static void
test_only_the_exact_password_verifies(void **state)
{
	char		 pw[CREDENTIAL_PASSWORD_LEN + 1];
	char		 cand[CREDENTIAL_PASSWORD_LEN + 400];
	uint8_t		 salt[CREDENTIAL_SALT_LEN], hash[CREDENTIAL_HASH_LEN];
	size_t		 i, len;
	int		 rc;

	assert_int_equal(credential_generate(pw, sizeof(pw)), 0);
	/* Make sure UPPER changes something. */
	pw[0] = 'a';
	assert_int_equal(credential_new(pw, salt, hash), 0);
	for (i = 0; i < NROWS(verify_rows); i++) {
		len = variant(verify_rows[i].v, pw, cand);
		rc = credential_verify(cand, len, salt, hash);
		if (rc != verify_rows[i].want)
			fail_msg("row %zu (%s): got %d", i, verify_rows[i].what,
			    rc);
	}
}

static void
test_same_password_gets_different_salts(void **state)
{
	const char	*pw = "Rh4kHYPaw-fU8ODpbtWlWAHhQPmNLjmN";
	uint8_t		 salt[2][CREDENTIAL_SALT_LEN];
	uint8_t		 hash[2][CREDENTIAL_HASH_LEN];
	size_t		 len = strlen(pw);

	assert_int_equal(credential_new(pw, salt[0], hash[0]), 0);
	assert_int_equal(credential_new(pw, salt[1], hash[1]), 0);
	assert_memory_not_equal(salt[0], salt[1], sizeof(salt[0]));
	assert_memory_not_equal(hash[0], hash[1], sizeof(hash[0]));
	assert_int_equal(credential_verify(pw, len, salt[0], hash[0]), 0);
	assert_int_equal(credential_verify(pw, len, salt[1], hash[1]), 0);
	/* A hash is only good with its own salt. */
	assert_int_equal(credential_verify(pw, len, salt[1], hash[0]), -1);
	assert_int_equal(credential_verify(pw, len, salt[0], hash[1]), -1);
}

/* Input past CREDENTIAL_INPUT_MAX never matches, even when its start does. */
static void
test_input_past_the_cap_never_verifies(void **state)
{
	char	 pw[CREDENTIAL_INPUT_MAX + 2];
	uint8_t	 salt[CREDENTIAL_SALT_LEN], hash[CREDENTIAL_HASH_LEN];

	memset(pw, 'p', sizeof(pw) - 1);
	pw[CREDENTIAL_INPUT_MAX] = '\0';
	assert_int_equal(credential_new(pw, salt, hash), 0);
	assert_int_equal(credential_verify(pw, CREDENTIAL_INPUT_MAX, salt,
	    hash), 0);
	pw[CREDENTIAL_INPUT_MAX] = 'p';
	assert_int_equal(credential_verify(pw, CREDENTIAL_INPUT_MAX + 1, salt,
	    hash), -1);
}

static void
test_token_is_40_lowercase_hex_never_repeated(void **state)
{
	static char	 tok[DRAWS][TOKEN_LEN + 1];
	size_t		 i;

	for (i = 0; i < DRAWS; i++) {
		memset(tok[i], '#', sizeof(tok[i]));
		assert_int_equal(credential_token(tok[i], sizeof(tok[i])), 0);
		if (strlen(tok[i]) != TOKEN_LEN ||
		    strspn(tok[i], "0123456789abcdef") != TOKEN_LEN)
			fail_msg("draw %zu: \"%s\"", i, tok[i]);
	}
	assert_all_distinct(tok[0], DRAWS, sizeof(tok[0]));
	assert_int_equal(credential_token(tok[0], TOKEN_LEN), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_password_is_32_base64url_characters_never_repeated),
		cmocka_unit_test(test_password_never_starts_with_a_dash),
		cmocka_unit_test(test_password_needs_room_for_its_nul),
		cmocka_unit_test(test_hash_is_hmac_sha256_keyed_by_the_salt),
		cmocka_unit_test(test_only_the_exact_password_verifies),
		cmocka_unit_test(test_same_password_gets_different_salts),
		cmocka_unit_test(test_input_past_the_cap_never_verifies),
		cmocka_unit_test(
		    test_token_is_40_lowercase_hex_never_repeated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
