/*
 * Base64 decoding and encoding (see base64.h).
 */
#include <stdint.h>

#include "base64.h"

static const char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The value of one character of the alphabet, -1 for any other. */
int
base64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Strict RFC 4648 section 4 base64: whole quanta only, "=" only as the
 * last one or two characters, pad bits zero (canonical, 3.5), nothing
 * outside the alphabet.  Empty input decodes to nothing.
 */
int
base64_decode(const char *in, size_t inlen, unsigned char *out, size_t outsz,
    size_t *outlen)
{
	size_t	i, o = 0;
	int	v[4], j, pad;

	if (inlen % 4 != 0)
		return -1;
	for (i = 0; i < inlen; i += 4) {
		pad = 0;
		for (j = 0; j < 4; j++) {
			if (in[i + j] == '=' && i + 4 == inlen && j >= 2) {
				pad++;
				v[j] = 0;
				continue;
			}
			/* nothing but more padding after a pad */
			if (pad > 0)
				return -1;
			if ((v[j] = base64_value((unsigned char)in[i + j])) == -1)
				return -1;
		}
		if (pad == 2 && (v[1] & 0x0f) != 0)
			return -1;
		if (pad == 1 && (v[2] & 0x03) != 0)
			return -1;
		if (o + 3 - pad > outsz)
			return -1;
		out[o++] = (v[0] << 2) | (v[1] >> 4);
		if (pad < 2)
			out[o++] = ((v[1] & 0x0f) << 4) | (v[2] >> 2);
		if (pad < 1)
			out[o++] = ((v[2] & 0x03) << 6) | v[3];
	}
	*outlen = o;
	return 0;
}

int
base64_encode(const unsigned char *p, size_t n, char *out, size_t outsz)
{
	size_t		o = 0;
	uint32_t	v;

	if (outsz < BASE64_ENCODED_LEN(n) + 1)
		return -1;
	for (; n > 0; p += 3, n -= n < 3 ? n : 3) {
		v = (uint32_t)p[0] << 16;
		if (n > 1)
			v |= (uint32_t)p[1] << 8;
		if (n > 2)
			v |= p[2];
		out[o++] = base64_alphabet[(v >> 18) & 63];
		out[o++] = base64_alphabet[(v >> 12) & 63];
		out[o++] = n > 1 ? base64_alphabet[(v >> 6) & 63] : '=';
		out[o++] = n > 2 ? base64_alphabet[v & 63] : '=';
	}
	out[o] = '\0';
	return (int)o;
}
