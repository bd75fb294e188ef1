/*
 * SPF macros (RFC 7208 §7): the macro-string syntax, the letters, the
 * transformers and delimiters, URL escaping for upper-case letters, and
 * the cut of an expanded name to 253 bytes by dropping labels from the
 * left.  No I/O: the values come in a struct spf_macro_ctx.
 *
 * Bounds: a value longer than SPF_VALUE_MAX is refused (TOOLONG), never
 * cut.  In domain mode only the tail that can survive the final cut is
 * kept, so a record of %{s}%{s}%{s}... costs no more than the buffer.
 */
#include <string.h>

#include "spf_eval.h"

#define DELIMS		".-+,/_="

/* One piece of a macro-string. */
struct mtok {
	enum { M_LIT, M_ESC, M_MACRO } kind;
	size_t	 len;		/* input bytes */
	char	 lit;		/* M_LIT, M_ESC: the byte it stands for */
	char	 esc[4];	/* M_ESC "%-": "%20" */
	char	 letter;	/* M_MACRO: lower case */
	int	 upper;		/* URL-escape the value */
	int	 digits;	/* right-hand parts kept, 0: all */
	int	 reverse;
	unsigned delims;	/* bit i: DELIMS[i]; 0: "." */
};

/* Output buffer; in domain mode it keeps the labels that can survive. */
struct obuf {
	char	*b;
	size_t	 len;
	size_t	 cap;		/* bytes, the NUL not counted */
	int	 domain;
	int	 skipping;	/* inside a label too long to ever fit */
	int	 full;
};

static int
letter_allowed(char l, int flags)
{
	if (strchr("slodiphv", l) != NULL)
		return 1;
	return strchr("crt", l) != NULL &&
	    (flags & (SPF_MACRO_EXPLAIN | SPF_MACRO_ANY)) != 0;
}

/*
 * Reads the piece at in[0..len); -1 if it is not valid syntax.
 * macro-expand = "%{" letter *DIGIT ["r"] *delimiter "}" / "%%" / "%_" / "%-"
 */
static int
mtok_read(const char *in, size_t len, int flags, struct mtok *t)
{
	const char	*d;
	size_t		 i;
	unsigned char	 c = in[0];
	char		 l;

	memset(t, 0, sizeof(*t));
	if (c != '%') {
		if (c < 0x20 || c > 0x7e ||
		    (c == ' ' && !(flags & SPF_MACRO_EXPLAIN)))
			return -1;
		t->kind = M_LIT;
		t->lit = c;
		t->len = 1;
		return 0;
	}
	if (len < 2)
		return -1;
	t->len = 2;
	t->kind = M_ESC;
	switch (in[1]) {
	case '%':
		t->lit = '%';
		return 0;
	case '_':
		t->lit = ' ';
		return 0;
	case '-':
		strlcpy(t->esc, "%20", sizeof(t->esc));
		return 0;
	case '{':
		break;
	default:
		return -1;
	}
	t->kind = M_MACRO;
	if (len < 4)
		return -1;
	l = in[2];
	if (!spf_is_alpha(l))
		return -1;
	t->upper = l >= 'A' && l <= 'Z';
	t->letter = t->upper ? l - 'A' + 'a' : l;
	if (!letter_allowed(t->letter, flags))
		return -1;
	for (i = 3; i < len && spf_is_digit(in[i]); i++)
		if (t->digits <= SPF_VALUE_MAX)	/* saturate: all parts */
			t->digits = t->digits * 10 + (in[i] - '0');
	if (i > 3 && t->digits == 0)
		return -1;			/* "MUST be nonzero" */
	if (i < len && (in[i] == 'r' || in[i] == 'R')) {
		t->reverse = 1;
		i++;
	}
	for (; i < len && in[i] != '\0' &&
	    (d = strchr(DELIMS, in[i])) != NULL; i++)
		t->delims |= 1u << (d - DELIMS);
	if (i >= len || in[i] != '}')
		return -1;
	t->len = i + 1;
	return 0;
}

/* Drops left labels the final cut would drop anyway; see spf.h. */
static void
ob_make_room(struct obuf *ob)
{
	size_t	 keep = ob->cap / 2, from = ob->len - keep;
	char	*dot = memchr(ob->b + from, '.', keep);

	if (dot == NULL) {
		ob->len = 0;
		ob->skipping = 1;
		return;
	}
	ob->len -= dot + 1 - ob->b;
	memmove(ob->b, dot + 1, ob->len);
}

static void
ob_putc(struct obuf *ob, char c)
{
	if (ob->full)
		return;
	if (ob->skipping) {
		if (c == '.')
			ob->skipping = 0;
		return;
	}
	if (ob->len == ob->cap) {
		if (!ob->domain) {
			ob->full = 1;
			return;
		}
		ob_make_room(ob);
		if (ob->skipping) {
			ob_putc(ob, c);
			return;
		}
	}
	ob->b[ob->len++] = c;
}

static void
ob_puts(struct obuf *ob, const char *s)
{
	while (*s != '\0')
		ob_putc(ob, *s++);
}

/* unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~" (RFC 3986) */
static void
ob_put_value_char(struct obuf *ob, char c, int upper)
{
	static const char	 hex[] = "0123456789ABCDEF";
	unsigned char		 u = c;

	if (!upper || spf_is_alpha(u) || spf_is_digit(u) || strchr("-._~", u) != NULL) {
		ob_putc(ob, c);
		return;
	}
	ob_putc(ob, '%');
	ob_putc(ob, hex[u >> 4]);
	ob_putc(ob, hex[u & 0xf]);
}

static const char *
macro_value(const struct spf_macro_ctx *ctx, char letter)
{
	switch (letter) {
	case 's':	return ctx->s;
	case 'l':	return ctx->l;
	case 'o':	return ctx->o;
	case 'd':	return ctx->d;
	case 'i':	return ctx->i;
	case 'p':	return ctx->p;
	case 'v':	return ctx->v;
	case 'h':	return ctx->h;
	case 'c':	return ctx->c;
	case 'r':	return ctx->r;
	case 't':	return ctx->t;
	}
	return NULL;
}

static int
is_delim(const struct mtok *t, char c)
{
	const char	*d;

	if (t->delims == 0)
		return c == '.';
	if (c == '\0' || (d = strchr(DELIMS, c)) == NULL)
		return 0;
	return (t->delims & (1u << (d - DELIMS))) != 0;
}

/*
 * Splits the value on the delimiters, reverses if asked, keeps the
 * right-most parts and joins them with dots (RFC 7208 §7.3).
 */
static enum spf_macro_status
expand_macro(const struct mtok *t, const char *v, struct obuf *ob)
{
	uint16_t	 start[SPF_VALUE_MAX + 1], plen[SPF_VALUE_MAX + 1];
	size_t		 vlen = strlen(v), i, n = 0, first, k, idx;

	if (vlen > SPF_VALUE_MAX)
		return SPF_MACRO_TOOLONG;
	start[0] = 0;
	for (i = 0; i <= vlen; i++) {
		if (i < vlen && !is_delim(t, v[i]))
			continue;
		plen[n] = i - start[n];
		n++;
		if (i < vlen)
			start[n] = i + 1;
	}
	first = (t->digits > 0 && (size_t)t->digits < n) ?
	    n - t->digits : 0;
	for (k = first; k < n; k++) {
		/* Reversed, the kept parts are the first ones, last first. */
		idx = t->reverse ? n - 1 - k : k;
		if (k > first)
			ob_putc(ob, '.');
		for (i = 0; i < plen[idx]; i++)
			ob_put_value_char(ob, v[start[idx] + i], t->upper);
	}
	return SPF_MACRO_OK;
}

/*
 * Checks the syntax of a macro-string; *ends_macro (if not NULL) says
 * whether its last piece is a macro-expand (domain-end, RFC 7208 §7.1).
 */
int
spf_macro_check(const char *in, size_t len, int flags, int *ends_macro)
{
	struct mtok	 t;
	size_t		 pos = 0;

	if (ends_macro != NULL)
		*ends_macro = 0;
	while (pos < len) {
		if (mtok_read(in + pos, len - pos, flags, &t) == -1)
			return -1;
		pos += t.len;
		if (ends_macro != NULL)
			*ends_macro = t.kind != M_LIT;
	}
	return 0;
}

/* Cuts a name to SPF_DOMAIN_MAX by dropping left labels (§7.3). */
static enum spf_macro_status
cut_name(struct obuf *ob)
{
	char	*dot;

	if (ob->len > 0 && ob->b[ob->len - 1] == '.')
		ob->len--;
	while (ob->len > SPF_DOMAIN_MAX) {
		if ((dot = memchr(ob->b, '.', ob->len)) == NULL)
			return SPF_MACRO_TOOLONG;
		ob->len -= dot + 1 - ob->b;
		memmove(ob->b, dot + 1, ob->len);
	}
	return SPF_MACRO_OK;
}

/*
 * Expands in[0..len) into out (outsz bytes, NUL-ended).  On NOVALUE the
 * letter is written to *missing (if not NULL).  Domain mode needs outsz
 * over 2 * (SPF_DOMAIN_MAX + 1); SPF_EXPAND_MAX is right.
 */
enum spf_macro_status
spf_macro_expand(const struct spf_macro_ctx *ctx, const char *in,
    size_t len, int flags, char *out, size_t outsz, char *missing)
{
	struct obuf		 ob;
	struct mtok		 t;
	enum spf_macro_status	 st;
	const char		*v;
	size_t			 pos = 0;

	memset(&ob, 0, sizeof(ob));
	ob.b = out;
	ob.cap = outsz - 1;
	ob.domain = (flags & SPF_MACRO_DOMAIN) != 0;
	out[0] = '\0';
	while (pos < len) {
		if (mtok_read(in + pos, len - pos, flags, &t) == -1)
			return SPF_MACRO_SYNTAX;
		pos += t.len;
		if (t.kind == M_LIT) {
			ob_putc(&ob, t.lit);
			continue;
		}
		if (t.kind == M_ESC) {
			if (t.esc[0] != '\0')
				ob_puts(&ob, t.esc);
			else
				ob_putc(&ob, t.lit);
			continue;
		}
		if ((v = macro_value(ctx, t.letter)) == NULL) {
			if (missing != NULL)
				*missing = t.letter;
			return SPF_MACRO_NOVALUE;
		}
		if ((st = expand_macro(&t, v, &ob)) != SPF_MACRO_OK)
			return st;
	}
	if (ob.full || ob.skipping)
		return SPF_MACRO_TOOLONG;
	if (ob.domain && (st = cut_name(&ob)) != SPF_MACRO_OK)
		return st;
	out[ob.len] = '\0';
	return SPF_MACRO_OK;
}
