/*
 * DKIM signing without the key (see dkim_sign.h): the header is kept,
 * the body is canonicalized and hashed as it goes (never kept),
 * and at the end each DKIM-Signature field is built without its b=
 * value and hashed after the signed header fields (RFC 6376 3.7, 5.4).
 *
 * Canonicalization runs once for all signatures: they share d=, c= and
 * h=, so the body hash and the hash of the signed header fields are the
 * same and only the DKIM-Signature field itself differs.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <openssl/err.h>
#include <openssl/evp.h>

#include "base64.h"
#include "dkim_key.h"
#include "dkim_sign.h"

#define BODY_BUF	16384	/* canonical octets per digest update */
#define SPAN_DIRECT	512	/* hashed from the input, not copied */
#define HEADER_START	4096	/* first allocation of the header */
#define FOLD_WIDTH	78	/* columns of a folded line */
#define FOLD_INDENT	8	/* a TAB, as it is displayed */
#define LABEL_MAX	63
#define NAME_MAX_LEN	DKIM_KEY_NAME_MAX
#define SIG_MIN_RSA	(DKIM_KEY_RSA_BITS_MIN / 8)
#define SIG_ED25519	64
/* bh= and b= values: base64 of a digest and of the largest signature. */
#define BH_B64_LEN	BASE64_ENCODED_LEN(DKIM_SIGN_DIGEST_LEN)
#define SIG_B64_MAX	BASE64_ENCODED_LEN(DKIM_SIGN_SIG_MAX)

/* Octet classes of the body canonicalizers; a bare LF is content. */
enum { C_TEXT = 0, C_WSP, C_CR };

struct body {
	enum dkim_canon	 canon;
	const uint8_t	*cls;		/* class of each octet */
	int		 cr;		/* a CR is held: line end or content? */
	int		 wsp;		/* relaxed: a WSP run is held */
	int		 content;	/* canonical content was written */
	uint64_t	 crlfs;		/* line ends held since the content */
	EVP_MD_CTX	*md;		/* the sink: a digest, or */
	uint8_t		*mem;		/* memory (dkim_canon_body()) */
	size_t		 memcap, memlen;
	int		 fail;
	size_t		 n;
	uint8_t		 buf[BODY_BUF];
};

enum hstate {
	H_BOL,		/* at the start of a line */
	H_BOL_CR,	/* a CR at the start of a line, not stored yet */
	H_MID,		/* inside a line */
	H_CR,		/* a CR inside a line, stored */
	H_DONE		/* the empty line was read: body */
};

struct field {
	size_t		 off, len;	/* in hdr, the CRLF included */
	int		 name;		/* index in names[], or -1 */
};

struct sig {
	enum dkim_alg	 alg;
	char		 selector[NAME_MAX_LEN + 1];
	char		*tmpl;		/* the field up to "b=", no CRLF */
	size_t		 tmpllen;
	size_t		 col;		/* column after "b=" */
	uint8_t		 digest[DKIM_SIGN_DIGEST_LEN];
	char		*field;		/* the complete field */
};

struct dkim_sign {
	enum dkim_sign_error	 error;
	int			 finished;
	char			 domain[NAME_MAX_LEN + 1];
	struct sig		 sig[DKIM_SIGN_SIGS_MAX];
	size_t			 nsig;
	enum dkim_canon		 hcanon, bcanon;
	int64_t			 time, expire;
	unsigned int		 flags;
	/* Lower-case names to sign; names[0] is "from". */
	char			 names[DKIM_SIGN_NAMES_MAX + 1]
				    [DKIM_SIGN_NAME_LEN + 1];
	size_t			 nnames;
	enum hstate		 hstate;
	uint8_t			*hdr;
	size_t			 hlen, hcap;
	struct body		 body;
};

static const char *default_names[] = {
	"from", "to", "cc", "subject", "date", "message-id", "reply-to",
	"in-reply-to", "references", "mime-version", "content-type",
	"content-transfer-encoding", "list-id", "list-unsubscribe",
	"list-unsubscribe-post", "list-post", "list-help", "list-subscribe",
	"list-owner", "list-archive",
};

static const char *reasons[] = {
	[DKIM_SIGN_E_NONE] = "no error",
	[DKIM_SIGN_E_PARAM] = "invalid signing parameters",
	[DKIM_SIGN_E_HEADER_TOO_LARGE] = "header too large",
	[DKIM_SIGN_E_NO_FROM] = "no From header field",
	[DKIM_SIGN_E_STATE] = "signing call out of order",
	[DKIM_SIGN_E_SIGNATURE] = "signature of the wrong length",
	[DKIM_SIGN_E_NOMEM] = "out of memory",
	[DKIM_SIGN_E_CRYPTO] = "digest failure",
};

static const uint8_t	cls_relaxed[256] = {
	[' '] = C_WSP, ['\t'] = C_WSP, ['\r'] = C_CR
};
static const uint8_t	cls_simple[256] = { ['\r'] = C_CR };

/* ASCII only: the locale must not widen what a name may hold. */
static int
ascii_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static int
ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

const char *
dkim_sign_reason(enum dkim_sign_error e)
{
	if ((unsigned int)e >= sizeof(reasons) / sizeof(reasons[0]))
		return "unknown error";
	return reasons[e];
}

enum dkim_sign_error
dkim_sign_error(const struct dkim_sign *s)
{
	return s->error;
}

static int
fail(struct dkim_sign *s, enum dkim_sign_error e)
{
	if (s->error == DKIM_SIGN_E_NONE)
		s->error = e;
	ERR_clear_error();
	return -1;
}

/*
 * A d= or s= value: dot-separated labels of letters, digits, '-' and
 * '_' (selectors may hold '_'; RFC 6376 3.1 allows any sub-domain), so
 * that nothing in it can end a tag or a header line.
 */
static int
name_valid(const char *v)
{
	size_t	 len, i, label = 0;

	if (v == NULL)
		return 0;
	len = strnlen(v, NAME_MAX_LEN + 1);
	if (len == 0 || len > NAME_MAX_LEN)
		return 0;
	for (i = 0; i < len; i++) {
		if (v[i] == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if (ascii_alnum((unsigned char)v[i]) || v[i] == '-' ||
		    v[i] == '_') {
			if (++label > LABEL_MAX)
				return 0;
		} else
			return 0;
	}
	return label > 0;
}

/*
 * A header name for h=.  RFC 5322 allows any printable but ':'; we keep
 * to what real names use, so that neither ';' nor '=' reaches the tag
 * list.
 */
static int
hname_valid(const char *v)
{
	size_t	 len, i;

	if (v == NULL)
		return 0;
	len = strnlen(v, DKIM_SIGN_NAME_LEN + 1);
	if (len == 0 || len > DKIM_SIGN_NAME_LEN)
		return 0;
	for (i = 0; i < len; i++)
		if (!ascii_alnum((unsigned char)v[i]) && v[i] != '-' &&
		    v[i] != '_' && v[i] != '.')
			return 0;
	return 1;
}

static void
lower_copy(char *dst, const char *src, size_t size)
{
	size_t	 i;

	for (i = 0; src[i] != '\0' && i + 1 < size; i++)
		dst[i] = ascii_lower((unsigned char)src[i]);
	dst[i] = '\0';
}

/* Adds a name unless it is listed already; from is names[0]. */
static void
names_add(struct dkim_sign *s, const char *name)
{
	char	 low[DKIM_SIGN_NAME_LEN + 1];
	size_t	 i;

	lower_copy(low, name, sizeof(low));
	for (i = 0; i < s->nnames; i++)
		if (strcmp(s->names[i], low) == 0)
			return;
	memcpy(s->names[s->nnames++], low, sizeof(low));
}

static int
params_valid(const struct dkim_sign_params *p)
{
	size_t	 i;

	if (!name_valid(p->domain) || p->nsig < 1 ||
	    p->nsig > DKIM_SIGN_SIGS_MAX)
		return 0;
	for (i = 0; i < p->nsig; i++)
		if (dkim_alg_name(p->sig[i].alg) == NULL ||
		    !name_valid(p->sig[i].selector))
			return 0;
	if ((p->hcanon != DKIM_CANON_RELAXED &&
	    p->hcanon != DKIM_CANON_SIMPLE) ||
	    (p->bcanon != DKIM_CANON_RELAXED &&
	    p->bcanon != DKIM_CANON_SIMPLE))
		return 0;
	if (p->time < 0 || (p->expire != 0 && p->expire <= p->time))
		return 0;
	if (p->headers != NULL) {
		if (p->nheaders > DKIM_SIGN_NAMES_MAX)
			return 0;
		for (i = 0; i < p->nheaders; i++)
			if (!hname_valid(p->headers[i]))
				return 0;
	}
	return (p->flags & ~DKIM_SIGN_F_NO_OVERSIGN) == 0;
}

static void
body_init(struct body *b, enum dkim_canon canon, EVP_MD_CTX *md,
    uint8_t *mem, size_t memcap)
{
	b->canon = canon;
	b->cls = canon == DKIM_CANON_RELAXED ? cls_relaxed : cls_simple;
	b->cr = b->wsp = b->content = b->fail = 0;
	b->crlfs = 0;
	b->md = md;
	b->mem = mem;
	b->memcap = memcap;
	b->memlen = 0;
	b->n = 0;
}

static void
body_flush(struct body *b)
{
	if (b->n == 0)
		return;
	if (b->md != NULL) {
		if (!b->fail && EVP_DigestUpdate(b->md, b->buf, b->n) != 1)
			b->fail = 1;
	} else if (b->memcap - b->memlen < b->n)
		b->fail = 1;
	else {
		memcpy(b->mem + b->memlen, b->buf, b->n);
		b->memlen += b->n;
	}
	b->n = 0;
}

static inline void
body_put(struct body *b, const char *p, size_t n)
{
	size_t	 k;

	if (n <= BODY_BUF - b->n) {
		memcpy(b->buf + b->n, p, n);
		b->n += n;
		return;
	}
	while (n > 0) {
		if (b->n == BODY_BUF)
			body_flush(b);
		k = BODY_BUF - b->n < n ? BODY_BUF - b->n : n;
		memcpy(b->buf + b->n, p, k);
		b->n += k;
		p += k;
		n -= k;
	}
}

/*
 * Content follows: the line ends held so far were not trailing empty
 * lines after all, and a held WSP run was inside a line (relaxed).
 */
static inline void
body_content(struct body *b)
{
	for (; b->crlfs > 0; b->crlfs--)
		body_put(b, "\r\n", 2);
	if (b->wsp) {
		body_put(b, " ", 1);
		b->wsp = 0;
	}
	b->content = 1;
}

/*
 * Text whose canonical form is itself: copied into the buffer, or when
 * long enough hashed straight from the input (after what is buffered).
 */
static inline void
body_span(struct body *b, const uint8_t *p, size_t n)
{
	if (n >= SPAN_DIRECT && b->md != NULL) {
		body_flush(b);
		if (!b->fail && EVP_DigestUpdate(b->md, p, n) != 1)
			b->fail = 1;
	} else
		body_put(b, (const char *)p, n);
}

/*
 * SWAR over eight octets, little-endian: the high bit of each octet
 * equal to c, and of each octet above 0x20 (text for relaxed; lower
 * control octets are text too, but are left to the octet loop).
 */
#define ONES		0x0101010101010101ULL
#define HIGHS		0x8080808080808080ULL

static inline uint64_t
swar_eq(uint64_t x, uint8_t c)
{
	uint64_t	 y = x ^ (ONES * c);

	return ~(((y & ~HIGHS) + ~HIGHS) | y) & HIGHS;
}

static inline uint64_t
swar_text(uint64_t x)
{
	return (((x | HIGHS) - ONES * 0x21) | x) & HIGHS;
}

/*
 * Relaxed: skips eight octets at a time while they are text and single
 * SPs before text, and returns the position of the first octet that is
 * neither (or where fewer than nine octets are left).  p[j - 1] is text.
 */
static size_t
span_relaxed(const uint8_t *p, size_t j, size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t	 x, text, sp, next, bad;

	while (n - j > 8) {
		memcpy(&x, p + j, sizeof(x));
		text = swar_text(x);
		sp = swar_eq(x, ' ');
		next = (text >> 8) | ((uint64_t)(p[j + 8] > 0x20) << 63);
		if ((bad = ~text & ~(sp & next) & HIGHS) != 0)
			return j + ((size_t)__builtin_ctzll(bad) >> 3);
		j += 8;
	}
#endif
	return j;
}

#ifdef __SSE2__
#define FAST_ROOM	256	/* free buffer the SSE2 loop starts with */

/*
 * Relaxed with SSE2, from the text octet at i, the state clean (no CR,
 * WSP or line end held).  Sixteen octets at a time are stored into the
 * buffer as they are, and kept up to the first bad one: a TAB, an SP
 * before an octet up to 0x20 (SP, TAB, CR; a control octet is rare and
 * just goes the slow way), a CR not followed by LF, or a CRLF followed
 * by a CR.  A CRLF kept has content after it, so line ends do not stop
 * the scan.  At a bad octet, WSP runs and line ends are read as in
 * body_feed() (a CRLF just kept before it is taken back and held) and
 * written before the text after them, without leaving the loop.  Stops
 * with fewer than 18 octets left (two of lookahead), with the buffer
 * full, or at a bare CR: then the state is what body_feed() would hold
 * there.  Returns where body_feed() goes on.
 */
static size_t
body_relaxed_sse2(struct body *b, const uint8_t *p, size_t i, size_t n)
{
	const __m128i	 tab = _mm_set1_epi8('\t'), sp = _mm_set1_epi8(' ');
	const __m128i	 cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
	__m128i		 c0, c1, c2, isp, icr, bad;
	uint8_t		*out;
	size_t		 j = i, o, crlfs;
	unsigned int	 m;
	int		 wsp;

	if (BODY_BUF - b->n < FAST_ROOM)
		body_flush(b);
	out = b->buf;
	o = b->n;
	while (n - j >= 18 && BODY_BUF - o >= 16) {
		c0 = _mm_loadu_si128((const __m128i *)(p + j));
		c1 = _mm_loadu_si128((const __m128i *)(p + j + 1));
		c2 = _mm_loadu_si128((const __m128i *)(p + j + 2));
		_mm_storeu_si128((__m128i *)(out + o), c0);
		isp = _mm_cmpeq_epi8(c0, sp);
		icr = _mm_cmpeq_epi8(c0, cr);
		/* c1 <= 0x20, unsigned */
		isp = _mm_and_si128(isp,
		    _mm_cmpeq_epi8(_mm_max_epu8(c1, sp), sp));
		bad = _mm_or_si128(_mm_cmpeq_epi8(c0, tab), isp);
		bad = _mm_or_si128(bad,
		    _mm_andnot_si128(_mm_cmpeq_epi8(c1, lf), icr));
		bad = _mm_or_si128(bad,
		    _mm_and_si128(_mm_cmpeq_epi8(c2, cr), icr));
		if ((m = (unsigned int)_mm_movemask_epi8(bad)) == 0) {
			o += 16;
			j += 16;
			continue;
		}
		m = (unsigned int)__builtin_ctz(m);
		o += m;
		j += m;
		/* Held as body_feed() holds them, till text or a bare CR. */
		crlfs = 0;
		wsp = 0;
		if (j - i >= 2 && p[j - 1] == '\n' && p[j - 2] == '\r') {
			o -= 2;
			crlfs = 1;
		}
		for (;;) {
			if (j == n)
				goto hold;
			if (p[j] == ' ' || p[j] == '\t') {
				wsp = 1;
				j++;
			} else if (p[j] == '\r') {
				if (j + 1 == n || p[j + 1] != '\n')
					goto hold;
				wsp = 0;
				crlfs++;
				j += 2;
			} else
				break;
		}
		if (crlfs > (BODY_BUF - o - 1) / 2)
			goto hold;
		for (; crlfs > 0; crlfs--) {
			out[o++] = '\r';
			out[o++] = '\n';
		}
		if (wsp)
			out[o++] = ' ';
	}
	/* Not inside a CRLF, nor after one: trailing empty lines may come. */
	if (j > i && p[j - 1] == '\r') {
		j--;
		o--;
	} else if (j - i >= 2 && p[j - 1] == '\n' && p[j - 2] == '\r') {
		j -= 2;
		o -= 2;
	}
	b->n = o;
	return j;
hold:
	b->n = o;
	b->wsp = wsp;
	b->crlfs = crlfs;
	return j;
}
#endif

/*
 * Most of a body is its own canonical form: text, a single SP between
 * text (relaxed) and CRLF followed by text.  Such spans are found fast
 * (memchr() for simple, SSE2 or else SWAR for relaxed) and passed on
 * whole.  The rest goes octet by octet: WSP runs are held (relaxed), and
 * line ends are counted, not written, until content follows them, so
 * trailing empty lines never are (body_relaxed_sse2() does the same for
 * the WSP and line ends it meets).
 */
static void
body_feed(struct body *b, const uint8_t *p, size_t n)
{
	const uint8_t	*cls = b->cls, *q;
	size_t		 i = 0, j;
	int		 simple = b->canon == DKIM_CANON_SIMPLE;

	while (i < n) {
		if (b->cr) {
			b->cr = 0;
			if (p[i] == '\n') {
				/* WSP at the end of a line goes. */
				b->wsp = 0;
				b->crlfs++;
				i++;
				continue;
			}
			body_content(b);
			body_put(b, "\r", 1);
			continue;
		}
		switch (cls[p[i]]) {
		case C_WSP:
			b->wsp = 1;
			i++;
			break;
		case C_CR:
			b->cr = 1;
			i++;
			break;
		default:
			body_content(b);
#ifdef __SSE2__
			if (!simple &&
			    (j = body_relaxed_sse2(b, p, i, n)) > i) {
				i = j;
				break;
			}
#endif
			for (j = i + 1; j < n; ) {
				if (simple) {
					q = memchr(p + j, '\r', n - j);
					if ((j = q == NULL ? n : (size_t)(q - p)) ==
					    n)
						break;
				} else
					j = span_relaxed(p, j, n);
				if (j >= n)
					break;
				if (cls[p[j]] == C_TEXT)
					j++;
				else if (p[j] == ' ' && j + 1 < n &&
				    cls[p[j + 1]] == C_TEXT)
					j += 2;
				else if (p[j] == '\r' && j + 2 < n &&
				    p[j + 1] == '\n' && cls[p[j + 2]] == C_TEXT)
					j += 3;
				else
					break;
			}
			body_span(b, p + i, j - i);
			i = j;
			break;
		}
	}
}

/*
 * The end (RFC 6376 3.4.3, 3.4.4 and its erratum): trailing empty lines
 * and WSP go, the last line gets its CRLF, and an empty body is CRLF
 * for simple but stays empty for relaxed.  A held CR was a bare one.
 */
static int
body_finish(struct body *b)
{
	if (b->cr) {
		b->cr = 0;
		body_content(b);
		body_put(b, "\r", 1);
	}
	if (b->content || b->canon == DKIM_CANON_SIMPLE)
		body_put(b, "\r\n", 2);
	b->crlfs = 0;
	b->wsp = 0;
	body_flush(b);
	return b->fail ? -1 : 0;
}

int
dkim_canon_body(enum dkim_canon canon, const uint8_t *in, size_t len,
    uint8_t *out, size_t outcap, size_t *outlen)
{
	struct body	*b;
	int		 r;

	*outlen = 0;
	if ((canon != DKIM_CANON_RELAXED && canon != DKIM_CANON_SIMPLE) ||
	    (b = malloc(sizeof(*b))) == NULL)
		return -1;
	body_init(b, canon, NULL, out, outcap);
	body_feed(b, in, len);
	r = body_finish(b);
	*outlen = b->memlen;
	free(b);
	return r;
}

static int
is_wsp(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/*
 * Relaxed (RFC 6376 3.4.2): the name lower-case and without WSP before
 * the colon; in the value a CRLF before WSP is a fold and goes, WSP runs
 * become one SP, WSP at both ends goes.  The field's own CRLF stays.  A
 * field without a colon (never signed) is all value.  Any other CR or
 * LF (there is none in a field split from a header) is content.
 */
int
dkim_canon_header(enum dkim_canon canon, const uint8_t *p, size_t len,
    uint8_t *out, size_t outcap, size_t *outlen)
{
	const uint8_t	*colon;
	size_t		 end = len, i, o = 0, v = 0, nlen;
	int		 crlf, wsp = 0, started = 0, bol = 0;

	*outlen = 0;
	if (outcap < len + 2)
		return -1;
	if (canon == DKIM_CANON_SIMPLE) {
		memcpy(out, p, len);
		*outlen = len;
		return 0;
	}
	if (canon != DKIM_CANON_RELAXED)
		return -1;
	crlf = len >= 2 && p[len - 2] == '\r' && p[len - 1] == '\n';
	if (crlf)
		end -= 2;
	if ((colon = memchr(p, ':', end)) != NULL) {
		nlen = colon - p;
		while (nlen > 0 && is_wsp(p[nlen - 1]))
			nlen--;
		for (i = 0; i < nlen; i++)
			out[o++] = ascii_lower(p[i]);
		out[o++] = ':';
		v = colon - p + 1;
	}
	for (i = v; i < end; i++) {
		if (p[i] == '\r' && i + 1 < end && p[i + 1] == '\n') {
			i++;
			if (i + 1 < end && is_wsp(p[i + 1]))
				continue;	/* a fold */
			/*
			 * Content, but WSP on either side of it goes (as at
			 * a line end): a second pass must find no fold here,
			 * nor trailing WSP if it ends the field.
			 */
			out[o++] = '\r';
			out[o++] = '\n';
			wsp = 0;
			started = 1;
			bol = 1;
			continue;
		}
		if (is_wsp(p[i])) {
			wsp = 1;
			continue;
		}
		if (wsp && started && !bol)
			out[o++] = ' ';
		wsp = 0;
		started = 1;
		bol = 0;
		out[o++] = p[i];
	}
	if (crlf) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	*outlen = o;
	return 0;
}

struct dkim_sign *
dkim_sign_new(const struct dkim_sign_params *p, enum dkim_sign_error *err)
{
	struct dkim_sign	*s;
	size_t			 i;

	if (!params_valid(p)) {
		*err = DKIM_SIGN_E_PARAM;
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->body.md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(s->body.md, EVP_sha256(), NULL) != 1) {
		*err = s == NULL || s->body.md == NULL ? DKIM_SIGN_E_NOMEM :
		    DKIM_SIGN_E_CRYPTO;
		ERR_clear_error();
		dkim_sign_free(s);
		return NULL;
	}
	body_init(&s->body, p->bcanon, s->body.md, NULL, 0);
	memcpy(s->domain, p->domain, strlen(p->domain) + 1);
	for (i = 0; i < p->nsig; i++) {
		s->sig[i].alg = p->sig[i].alg;
		memcpy(s->sig[i].selector, p->sig[i].selector,
		    strlen(p->sig[i].selector) + 1);
	}
	s->nsig = p->nsig;
	s->hcanon = p->hcanon;
	s->bcanon = p->bcanon;
	s->time = p->time;
	s->expire = p->expire;
	s->flags = p->flags;
	names_add(s, "from");
	if (p->headers == NULL)
		for (i = 0; i < sizeof(default_names) /
		    sizeof(default_names[0]); i++)
			names_add(s, default_names[i]);
	else
		for (i = 0; i < p->nheaders; i++)
			names_add(s, p->headers[i]);
	s->hstate = H_BOL;
	*err = DKIM_SIGN_E_NONE;
	return s;
}

void
dkim_sign_free(struct dkim_sign *s)
{
	size_t	 i;

	if (s == NULL)
		return;
	EVP_MD_CTX_free(s->body.md);
	free(s->hdr);
	for (i = 0; i < s->nsig; i++) {
		free(s->sig[i].tmpl);
		free(s->sig[i].field);
	}
	free(s);
}

static int
hdr_put(struct dkim_sign *s, uint8_t c)
{
	uint8_t	*n;
	size_t	 cap;

	if (s->hlen == s->hcap) {
		if (s->hcap >= DKIM_SIGN_HEADER_MAX)
			return fail(s, DKIM_SIGN_E_HEADER_TOO_LARGE);
		cap = s->hcap == 0 ? HEADER_START : s->hcap * 2;
		if (cap > DKIM_SIGN_HEADER_MAX)
			cap = DKIM_SIGN_HEADER_MAX;
		if ((n = realloc(s->hdr, cap)) == NULL)
			return fail(s, DKIM_SIGN_E_NOMEM);
		s->hdr = n;
		s->hcap = cap;
	}
	s->hdr[s->hlen++] = c;
	return 0;
}

/*
 * The header up to the empty line.  The CR at the start of a line is
 * held: with its LF it is the end of the header and not stored.
 * Returns how many octets were header.
 */
static size_t
hdr_feed(struct dkim_sign *s, const uint8_t *p, size_t n)
{
	size_t	 i;
	uint8_t	 c;

	for (i = 0; i < n && s->hstate != H_DONE; i++) {
		c = p[i];
		switch (s->hstate) {
		case H_BOL_CR:
			if (c == '\n') {
				s->hstate = H_DONE;
				continue;
			}
			if (hdr_put(s, '\r') == -1)
				return n;
			/* FALLTHROUGH */
		case H_MID:
		case H_CR:
			if (s->hstate == H_CR && c == '\n')
				s->hstate = H_BOL;
			else
				s->hstate = c == '\r' ? H_CR : H_MID;
			break;
		case H_BOL:
			if (c == '\r') {
				s->hstate = H_BOL_CR;
				continue;
			}
			s->hstate = H_MID;
			break;
		default:
			break;
		}
		if (hdr_put(s, c) == -1)
			return n;
	}
	return i;
}

int
dkim_sign_feed(struct dkim_sign *s, const void *data, size_t len)
{
	const uint8_t	*p = data;
	size_t		 k;

	if (s->error != DKIM_SIGN_E_NONE)
		return -1;
	if (s->finished)
		return fail(s, DKIM_SIGN_E_STATE);
	if (s->hstate != H_DONE) {
		k = hdr_feed(s, p, len);
		if (s->error != DKIM_SIGN_E_NONE)
			return -1;
		p += k;
		len -= k;
	}
	if (len > 0)
		body_feed(&s->body, p, len);
	return 0;
}

/* The field's name before the colon, WSP before it ignored. */
static int
field_is(const uint8_t *f, size_t len, const char *name)
{
	const uint8_t	*colon;
	size_t		 nlen, i;

	if ((colon = memchr(f, ':', len)) == NULL)
		return 0;
	nlen = colon - f;
	while (nlen > 0 && is_wsp(f[nlen - 1]))
		nlen--;
	for (i = 0; i < nlen; i++)
		if (name[i] == '\0' || ascii_lower(f[i]) != name[i])
			return 0;
	return name[i] == '\0';
}

/* Fields start at 0 and after every CRLF not followed by WSP. */
static int
fields_split(struct dkim_sign *s, struct field **fp, size_t *np)
{
	struct field	*f;
	size_t		 i, n = 0, start = 0, k;

	*fp = NULL;
	*np = 0;
	if (s->hlen == 0)
		return 0;
	for (i = 0; i + 2 < s->hlen; i++)
		if (s->hdr[i] == '\r' && s->hdr[i + 1] == '\n' &&
		    !is_wsp(s->hdr[i + 2]))
			n++;
	if (++n > DKIM_SIGN_FIELDS_MAX)
		return fail(s, DKIM_SIGN_E_HEADER_TOO_LARGE);
	if ((f = calloc(n, sizeof(*f))) == NULL)
		return fail(s, DKIM_SIGN_E_NOMEM);
	n = 0;
	for (i = 0; i < s->hlen; i++) {
		if (i + 2 < s->hlen && s->hdr[i] == '\r' &&
		    s->hdr[i + 1] == '\n' && !is_wsp(s->hdr[i + 2])) {
			f[n].off = start;
			f[n++].len = i + 2 - start;
			start = i + 2;
		}
	}
	f[n].off = start;
	f[n++].len = s->hlen - start;
	for (i = 0; i < n; i++) {
		f[i].name = -1;
		for (k = 0; k < s->nnames; k++)
			if (field_is(s->hdr + f[i].off, f[i].len,
			    s->names[k])) {
				f[i].name = k;
				break;
			}
	}
	*fp = f;
	*np = n;
	return 0;
}

/* A growing string with the column of its last line, for folding. */
struct sbuf {
	char	*p;
	size_t	 len, cap, col;
	int	 fail;
};

static void
sb_put(struct sbuf *b, const char *p, size_t n)
{
	char	*q;
	size_t	 cap;

	if (b->fail)
		return;
	if (b->cap - b->len <= n) {
		cap = b->cap == 0 ? 512 : b->cap;
		while (cap - b->len <= n)
			cap *= 2;
		if ((q = realloc(b->p, cap)) == NULL) {
			b->fail = 1;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	b->col += n;
}

/*
 * A token that is not split: after a space, or straight on (sp == 0,
 * inside h=); folded onto a new line first when it would pass the
 * width and the line holds more than its indent.
 */
static void
sb_token(struct sbuf *b, const char *tok, size_t n, int sp)
{
	if (b->col + (sp ? 1 : 0) + n > FOLD_WIDTH && b->col > FOLD_INDENT) {
		sb_put(b, "\r\n\t", 3);
		b->col = FOLD_INDENT;
	} else if (sp)
		sb_put(b, " ", 1);
	sb_put(b, tok, n);
}

/* "tag=value;" */
static void
sb_tag(struct sbuf *b, const char *tag, const char *v)
{
	char	 tok[NAME_MAX_LEN + 32];
	int	 n;

	n = snprintf(tok, sizeof(tok), "%s=%s;", tag, v);
	if (n < 0 || (size_t)n >= sizeof(tok)) {
		b->fail = 1;
		return;
	}
	sb_token(b, tok, n, 1);
}

/* Base64 split wherever the line is full (FWS may go anywhere in it). */
static void
sb_b64(struct sbuf *b, const char *v, size_t n)
{
	size_t	 k;

	while (n > 0) {
		if (b->col >= FOLD_WIDTH) {
			sb_put(b, "\r\n\t", 3);
			b->col = FOLD_INDENT;
		}
		k = FOLD_WIDTH - b->col < n ? FOLD_WIDTH - b->col : n;
		sb_put(b, v, k);
		v += k;
		n -= k;
	}
}

static const char *
canon_name(enum dkim_canon c)
{
	return c == DKIM_CANON_SIMPLE ? "simple" : "relaxed";
}

/*
 * The field up to "b=" (RFC 6376 3.5): v, a, c, d, s, t, x, h, bh, b;
 * hl[] are the indexes into names[] that make h=.
 */
static int
tmpl_build(struct dkim_sign *s, struct sig *g, const int *hl, size_t nhl,
    const char *bh)
{
	struct sbuf	 b;
	char		 tok[DKIM_SIGN_NAME_LEN + 8], c[32], num[32];
	size_t		 i;
	int		 n;

	memset(&b, 0, sizeof(b));
	sb_put(&b, "DKIM-Signature: v=1;", 20);
	sb_tag(&b, "a", dkim_alg_name(g->alg));
	snprintf(c, sizeof(c), "%s/%s", canon_name(s->hcanon),
	    canon_name(s->bcanon));
	sb_tag(&b, "c", c);
	sb_tag(&b, "d", s->domain);
	sb_tag(&b, "s", g->selector);
	snprintf(num, sizeof(num), "%" PRId64, s->time);
	sb_tag(&b, "t", num);
	if (s->expire != 0) {
		snprintf(num, sizeof(num), "%" PRId64, s->expire);
		sb_tag(&b, "x", num);
	}
	for (i = 0; i < nhl; i++) {
		n = snprintf(tok, sizeof(tok), "%s%s%s", i == 0 ? "h=" : "",
		    s->names[hl[i]], i + 1 == nhl ? ";" : ":");
		sb_token(&b, tok, n, i == 0);
	}
	sb_tag(&b, "bh", bh);
	sb_token(&b, "b=", 2, 1);
	if (b.fail) {
		free(b.p);
		return fail(s, DKIM_SIGN_E_NOMEM);
	}
	g->tmpl = b.p;
	g->tmpllen = b.len;
	g->col = b.col;
	return 0;
}

/* Canonicalizes a field into scratch and hashes it. */
static int
hash_field(struct dkim_sign *s, EVP_MD_CTX *md, const uint8_t *f,
    size_t len, uint8_t *scratch, size_t cap, int add_crlf)
{
	size_t	 olen;

	if (dkim_canon_header(s->hcanon, f, len, scratch, cap, &olen) == -1)
		return fail(s, DKIM_SIGN_E_NOMEM);
	if (add_crlf) {
		scratch[olen++] = '\r';
		scratch[olen++] = '\n';
	}
	if (EVP_DigestUpdate(md, scratch, olen) != 1)
		return fail(s, DKIM_SIGN_E_CRYPTO);
	return 0;
}

/*
 * h= in names[] order, each name once per instance present and From
 * once more (over-signing); the instances are hashed from the bottom
 * up (RFC 6376 5.4.2), and the over-signed name contributes nothing.
 */
static int
hash_headers(struct dkim_sign *s, const struct field *f, size_t nf,
    EVP_MD_CTX *md, int *hl, size_t *nhl, uint8_t *scratch, size_t cap)
{
	size_t	 k, i, n = 0, count;
	int	 crlf;

	for (k = 0; k < s->nnames; k++) {
		count = 0;
		for (i = nf; i-- > 0; ) {
			if (f[i].name != (int)k)
				continue;
			count++;
			hl[n++] = k;
			/* Only the last field of a header can lack it. */
			crlf = f[i].len >= 2 &&
			    s->hdr[f[i].off + f[i].len - 2] == '\r' &&
			    s->hdr[f[i].off + f[i].len - 1] == '\n';
			if (hash_field(s, md, s->hdr + f[i].off, f[i].len,
			    scratch, cap, !crlf) == -1)
				return -1;
		}
		if (k == 0) {
			if (count == 0)
				return fail(s, DKIM_SIGN_E_NO_FROM);
			if ((s->flags & DKIM_SIGN_F_NO_OVERSIGN) == 0)
				hl[n++] = 0;
		}
	}
	*nhl = n;
	return 0;
}

int
dkim_sign_finish(struct dkim_sign *s)
{
	struct field	*f = NULL;
	EVP_MD_CTX	*hmd = NULL, *md = NULL;
	uint8_t		 bh[EVP_MAX_MD_SIZE], *scratch = NULL;
	char		 bh64[BH_B64_LEN + 1];
	int		*hl = NULL;
	size_t		 nf, nhl, i, cap;
	unsigned int	 mdlen;

	if (s->error != DKIM_SIGN_E_NONE)
		return -1;
	if (s->finished)
		return fail(s, DKIM_SIGN_E_STATE);
	s->finished = 1;
	/* No empty line: all of it was header; a held CR was bare. */
	if (s->hstate == H_BOL_CR && hdr_put(s, '\r') == -1)
		return -1;
	s->hstate = H_DONE;
	if (body_finish(&s->body) == -1 ||
	    EVP_DigestFinal_ex(s->body.md, bh, &mdlen) != 1 ||
	    mdlen != DKIM_SIGN_DIGEST_LEN)
		return fail(s, DKIM_SIGN_E_CRYPTO);
	if (base64_encode(bh, mdlen, bh64, sizeof(bh64)) == -1)
		return fail(s, DKIM_SIGN_E_CRYPTO);
	if (fields_split(s, &f, &nf) == -1)
		return -1;
	/* The largest field or the longest template, and a CRLF. */
	cap = s->hlen + 2;
	if ((hl = calloc(nf + 1, sizeof(*hl))) == NULL ||
	    (hmd = EVP_MD_CTX_new()) == NULL ||
	    (md = EVP_MD_CTX_new()) == NULL) {
		fail(s, DKIM_SIGN_E_NOMEM);
		goto done;
	}
	if (EVP_DigestInit_ex(hmd, EVP_sha256(), NULL) != 1) {
		fail(s, DKIM_SIGN_E_CRYPTO);
		goto done;
	}
	if ((scratch = malloc(cap)) == NULL) {
		fail(s, DKIM_SIGN_E_NOMEM);
		goto done;
	}
	if (hash_headers(s, f, nf, hmd, hl, &nhl, scratch, cap) == -1)
		goto done;
	for (i = 0; i < s->nsig; i++) {
		if (tmpl_build(s, &s->sig[i], hl, nhl, bh64) == -1)
			goto done;
		if (s->sig[i].tmpllen + 2 > cap) {
			free(scratch);
			cap = s->sig[i].tmpllen + 2;
			if ((scratch = malloc(cap)) == NULL) {
				fail(s, DKIM_SIGN_E_NOMEM);
				goto done;
			}
		}
		/* The field itself last, with b= empty and no CRLF. */
		if (EVP_MD_CTX_copy_ex(md, hmd) != 1) {
			fail(s, DKIM_SIGN_E_CRYPTO);
			goto done;
		}
		if (hash_field(s, md, (uint8_t *)s->sig[i].tmpl,
		    s->sig[i].tmpllen, scratch, cap, 0) == -1)
			goto done;
		if (EVP_DigestFinal_ex(md, s->sig[i].digest, &mdlen) != 1 ||
		    mdlen != DKIM_SIGN_DIGEST_LEN) {
			fail(s, DKIM_SIGN_E_CRYPTO);
			goto done;
		}
	}
 done:
	free(scratch);
	free(hl);
	free(f);
	EVP_MD_CTX_free(hmd);
	EVP_MD_CTX_free(md);
	return s->error == DKIM_SIGN_E_NONE ? 0 : -1;
}

const uint8_t *
dkim_sign_digest(const struct dkim_sign *s, size_t i)
{
	if (!s->finished || s->error != DKIM_SIGN_E_NONE || i >= s->nsig)
		return NULL;
	return s->sig[i].digest;
}

const char *
dkim_sign_field(struct dkim_sign *s, size_t i, const uint8_t *sig,
    size_t siglen, size_t *len)
{
	struct sig	*g;
	struct sbuf	 b;
	char		 b64[SIG_B64_MAX + 1];

	*len = 0;
	if (!s->finished || s->error != DKIM_SIGN_E_NONE || i >= s->nsig) {
		fail(s, DKIM_SIGN_E_STATE);
		return NULL;
	}
	g = &s->sig[i];
	if (g->alg == DKIM_ALG_ED25519_SHA256 ? siglen != SIG_ED25519 :
	    siglen < SIG_MIN_RSA || siglen > DKIM_SIGN_SIG_MAX) {
		fail(s, DKIM_SIGN_E_SIGNATURE);
		return NULL;
	}
	if (base64_encode(sig, siglen, b64, sizeof(b64)) == -1)
		return NULL;
	memset(&b, 0, sizeof(b));
	sb_put(&b, g->tmpl, g->tmpllen);
	b.col = g->col;
	sb_b64(&b, b64, strlen(b64));
	sb_put(&b, "\r\n", 2);
	if (b.fail) {
		free(b.p);
		fail(s, DKIM_SIGN_E_NOMEM);
		return NULL;
	}
	free(g->field);
	g->field = b.p;
	*len = b.len;
	return g->field;
}
