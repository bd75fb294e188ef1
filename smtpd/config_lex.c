/*
 * sendgated.conf: the lexer.
 *
 * Statements end at a newline; a backslash before a newline joins two
 * lines; '#' starts a comment that runs to the end of the line,
 * backslashes included.  $NAME stands for the value of a macro, as one
 * quoted word.  A word is a keyword when the table below has it.
 *
 * The lexer also remembers the first tokens of the statement being read:
 * a syntax error then says which statement it is in, or that the first
 * word is no keyword at all.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_lex.h"
#include "parse.h"

#define LEX_LINE_MAX	8192	/* bytes of a physical line, without newline */
#define LEX_TOKEN_MAX	8192	/* bytes of one token, continuations joined */

#define LEX_BAD		(-2)	/* getbyte(): bad byte, error reported */

/* What the first token of a statement was, for syntax error messages. */
enum first_kind {
	FIRST_OTHER,
	FIRST_KEYWORD,
	FIRST_WORD		/* bare word that is no keyword */
};

struct arena {
	struct arena	*next;
	max_align_t	 align[];
};

struct macro {
	struct macro	*next;
	const char	*name;
	const char	*value;
};

/* Exists only between lex_begin() and lex_end(). */
static struct {
	/* input */
	const char		*buf;
	size_t			 len;
	size_t			 pos;
	int			 lineno;	/* of the byte at pos */
	size_t			 col;		/* bytes of this line so far */
	size_t			 prevcol;	/* col before the newline */
	int			 eof;		/* the final newline was sent */

	/* output */
	const char		*name;
	FILE			*errf;
	int			 errors;
	struct token		*tok;		/* of lex_next() */

	/* the statement being read */
	int			 newstmt;	/* the next token starts one */
	int			 recovering;	/* it already has an error */
	int			 ntok;		/* tokens so far */
	enum first_kind		 first;
	int			 firstline;
	char			 firsttext[LEX_SHOW_MAX];
	int			 second;	/* its second token */
	int			 lasttok;	/* the parser's lookahead */
	int			 lastline;
	char			 lasttext[LEX_SHOW_MAX];

	char			 tokbuf[LEX_TOKEN_MAX + 1];
	struct arena		*arena;
	struct macro		*macros;
} lex;

/* Sorted by name: looked up with bsearch. */
static const struct keyword {
	const char	*name;
	int		 token;
} keywords[] = {
	{ "address",	ADDRESS },
	{ "algorithms",	ALGORITHMS },
	{ "auth",	AUTH },
	{ "auth-failures", AUTHFAILURES },
	{ "body",	BODY },
	{ "cert",	CERT },
	{ "checks",	CHECKS },
	{ "command",	COMMAND },
	{ "concurrency", CONCURRENCY },
	{ "control",	CONTROL },
	{ "data",	DATA },
	{ "day",	DAY },
	{ "delegate",	DELEGATE },
	{ "deliver",	DELIVER },
	{ "destination", DESTINATION },
	{ "dkim",	DKIM },
	{ "domain",	DOMAIN },
	{ "empty",	EMPTY },
	{ "every",	EVERY },
	{ "expire",	EXPIRE },
	{ "for",	FOR },
	{ "grace",	GRACE },
	{ "group",	GROUP },
	{ "handshake",	HANDSHAKE },
	{ "headers",	HEADERS },
	{ "host",	HOST },
	{ "hostname",	HOSTNAME },
	{ "hour",	HOUR },
	{ "include",	INCLUDE },
	{ "junk",	JUNK },
	{ "key",	KEY },
	{ "keys",	KEYS },
	{ "limit",	LIMIT },
	{ "listen",	LISTEN },
	{ "message",	MESSAGE },
	{ "messages",	MESSAGES },
	{ "minute",	MINUTE },
	{ "mta",	MTA },
	{ "on",		ON },
	{ "opportunistic", OPPORTUNISTIC },
	{ "paused",	PAUSED },
	{ "per",	PER },
	{ "pki",	PKI },
	{ "plain",	PLAIN },
	{ "port",	PORT },
	{ "prefix",	PREFIX },
	{ "queue",	QUEUE },
	{ "recipients",	RECIPIENTS },
	{ "relay",	RELAY },
	{ "require",	REQUIRE },
	{ "resolver",	RESOLVER },
	{ "retry",	RETRY },
	{ "selector",	SELECTOR },
	{ "sessions",	SESSIONS },
	{ "sessions-per-address", SESSIONSPERADDR },
	{ "signer",	SIGNER },
	{ "size",	SIZE },
	{ "smtp",	SMTP },
	{ "smtps",	SMTPS },
	{ "socket",	SOCKET },
	{ "spf",	SPF },
	{ "starttls",	STARTTLS },
	{ "state",	STATE },
	{ "timeout",	TIMEOUT },
	{ "tls",	TLS },
	{ "tls-threads", TLSTHREADS },
	{ "user",	USER },
	{ "verification", VERIFICATION },
	{ "verify",	VERIFY },
	{ "via",	VIA },
	{ "warn",	WARN },
	{ "windows",	WINDOWS },
};

/* Characters that are tokens of their own, kept for later statements. */
static const char specials[] = "(){}<>!=,";

static void	 lex_verror(int, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));
static void	 token_error(int, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
lex_verror(int line, const char *fmt, va_list ap)
{
	lex.errors++;
	fprintf(lex.errf, "%s:%d: ", lex.name, line);
	vfprintf(lex.errf, fmt, ap);
	fputc('\n', lex.errf);
}

void
lex_error(int line, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	lex_verror(line, fmt, ap);
	va_end(ap);
}

/*
 * A value for a message: control bytes, quote, backslash and bytes >= 0x80
 * as \xNN, cut with "..." when it does not fit.
 */
const char *
lex_show(char *dst, size_t size, const char *s)
{
	size_t	o = 0;

	for (; *s != '\0'; s++) {
		unsigned char	c = *s;

		if (o + 8 >= size) {
			memcpy(dst + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c >= 0x7f || c == '\'' || c == '\\')
			o += snprintf(dst + o, size - o, "\\x%02x", c);
		else
			dst[o++] = c;
	}
	dst[o] = '\0';
	return dst;
}

/* Memory that lives until the end of the parse. */
static void *
palloc(size_t size)
{
	struct arena	*a;

	if ((a = calloc(1, sizeof(*a) + size)) == NULL)
		return NULL;
	a->next = lex.arena;
	lex.arena = a;
	return a->align;
}

static char *
pstrndup(const char *s, size_t len)
{
	char	*p;

	if ((p = palloc(len + 1)) == NULL)
		return NULL;
	memcpy(p, s, len);
	return p;
}

/*
 * A lexical error.  The lexer then returns ERROR, which no rule takes, and
 * the parser drops the statement up to its newline; as the statement has
 * its error already, yyerror() and further lexical errors stay silent.
 */
static void
token_error(int line, const char *fmt, ...)
{
	va_list	ap;

	if (lex.recovering)
		return;
	lex.recovering = 1;
	va_start(ap, fmt);
	lex_verror(line, fmt, ap);
	va_end(ap);
}

/*
 * Input bytes, with lines counted.  A NUL, or the first byte past the line
 * cap, is reported and comes back as LEX_BAD; the bytes after it are read
 * as usual, so that a continuation still ends where it should.
 */
static int
getbyte(void)
{
	unsigned char	c;

	if (lex.pos >= lex.len)
		return EOF;
	c = lex.buf[lex.pos++];
	if (c == '\n') {
		lex.lineno++;
		lex.prevcol = lex.col;
		lex.col = 0;
		return c;
	}
	if (c == '\0') {
		token_error(lex.lineno, "NUL byte in file");
		return LEX_BAD;
	}
	if (++lex.col == LEX_LINE_MAX + 1) {
		token_error(lex.lineno, "line too long (max %d bytes)",
		    LEX_LINE_MAX);
		return LEX_BAD;
	}
	return c;
}

static void
ungetbyte(int c)
{
	if (c == EOF || c == LEX_BAD)
		return;
	lex.pos--;
	if (c == '\n') {
		lex.lineno--;
		lex.col = lex.prevcol;
	} else
		lex.col--;
}

/* getbyte() with backslash-newline removed. */
static int
lgetc(void)
{
	int	c, next;

	while ((c = getbyte()) == '\\') {
		if ((next = getbyte()) != '\n') {
			if (next == LEX_BAD)
				return LEX_BAD;
			ungetbyte(next);
			break;
		}
	}
	return c;
}

static int
is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static int
is_word(int c)
{
	return c > ' ' && c != 0x7f && c != '"' && c != '#' &&
	    strchr(specials, c) == NULL;
}

static int
is_macro_name(const char *s)
{
	if (*s != '_' && !(*s >= 'A' && *s <= 'Z') && !(*s >= 'a' && *s <= 'z'))
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_") == strlen(s);
}

static int
keyword_cmp(const void *k, const void *e)
{
	return strcmp(k, ((const struct keyword *)e)->name);
}

int
lex_number(const char *s, int64_t *number)
{
	int64_t	n = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || n > (INT64_MAX - (*s - '0')) / 10)
			return -1;
		n = n * 10 + (*s - '0');
	}
	*number = n;
	return 0;
}

/* NUMBER for digits that fit in int64_t, STRING for anything else. */
static int
classify(const char *s, int64_t *number)
{
	return lex_number(s, number) == 0 ? NUMBER : STRING;
}

/* Record the token for syntax error messages and hand it to the parser. */
static int
token(int t, const char *text, enum first_kind kind)
{
	lex.lasttok = t;
	lex.lastline = lex.tok->lineno;
	if (t == '\n') {
		lex.newstmt = 1;
		return t;
	}
	lex_show(lex.lasttext, sizeof(lex.lasttext), text);
	if (++lex.ntok == 1) {
		strlcpy(lex.firsttext, lex.lasttext, sizeof(lex.firsttext));
		lex.first = kind;
		lex.firstline = lex.lastline;
	} else if (lex.ntok == 2)
		lex.second = t;
	return t;
}

/* After '$': a macro name; its value comes back as a STRING or NUMBER. */
static int
lex_macro(const char *name, int line)
{
	struct macro	*m;
	char		 buf[LEX_SHOW_MAX];

	if (!is_macro_name(name)) {
		token_error(line, "'$%s' is not a valid macro reference",
		    lex_show(buf, sizeof(buf), name));
		return ERROR;
	}
	for (m = lex.macros; m != NULL; m = m->next)
		if (strcmp(m->name, name) == 0)
			break;
	if (m == NULL) {
		token_error(line, "undefined macro '%s'",
		    lex_show(buf, sizeof(buf), name));
		return ERROR;
	}
	lex.tok->string = (char *)m->value;
	return classify(m->value, &lex.tok->number);
}

/* After '"': the string up to the closing quote, \" and \\ unescaped. */
static int
lex_quoted(char *buf, int line)
{
	size_t	n = 0;
	int	c, next;

	for (;;) {
		if ((c = getbyte()) == LEX_BAD)
			return ERROR;
		if (c == EOF || c == '\n') {
			ungetbyte(c);
			token_error(line, "unterminated quoted string");
			return ERROR;
		}
		if (c == '"')
			break;
		if (c == '\\') {
			if ((next = getbyte()) == '\n')
				continue;
			if (next == LEX_BAD)
				return ERROR;
			if (next == '"' || next == '\\')
				c = next;
			else
				ungetbyte(next);
		}
		if (n == LEX_TOKEN_MAX) {
			token_error(lex.lineno, "token too long (max %d bytes)",
			    LEX_TOKEN_MAX);
			return ERROR;
		}
		buf[n++] = c;
	}
	buf[n] = '\0';
	return STRING;
}

/* A bare word that starts with c. */
static int
lex_word(char *buf, int c)
{
	size_t	n = 0;

	do {
		if (n == LEX_TOKEN_MAX) {
			token_error(lex.lineno, "token too long (max %d bytes)",
			    LEX_TOKEN_MAX);
			return ERROR;
		}
		buf[n++] = c;
	} while (is_word(c = lgetc()));
	if (c == LEX_BAD)
		return ERROR;
	ungetbyte(c);
	buf[n] = '\0';
	return STRING;
}

/* The token that starts with c; its text is left in buf. */
static int
lex_token(char *buf, int c, int line, enum first_kind *kind)
{
	const struct keyword	*kw;

	buf[0] = '\0';
	*kind = FIRST_OTHER;
	if (c == '"')
		return lex_quoted(buf, line);
	if (c == '$') {
		if (is_word(c = lgetc())) {
			if (lex_word(buf, c) == ERROR)
				return ERROR;
		} else if (c == LEX_BAD)
			return ERROR;
		else
			ungetbyte(c);
		return lex_macro(buf, line);
	}
	if (strchr(specials, c) != NULL) {
		buf[0] = c;
		buf[1] = '\0';
		return c;
	}
	if (!is_word(c)) {
		token_error(line, "invalid character '\\x%02x'", c);
		return ERROR;
	}
	if (lex_word(buf, c) == ERROR)
		return ERROR;
	if ((kw = bsearch(buf, keywords, sizeof(keywords) /
	    sizeof(keywords[0]), sizeof(keywords[0]), keyword_cmp)) != NULL) {
		*kind = FIRST_KEYWORD;
		lex.tok->string = (char *)kw->name;
		return kw->token;
	}
	*kind = FIRST_WORD;
	return classify(buf, &lex.tok->number);
}

int
lex_next(struct token *tok)
{
	char		*buf = lex.tokbuf;
	enum first_kind	 kind;
	int		 c, t;

	if (lex.newstmt) {
		lex.newstmt = 0;
		lex.recovering = 0;
		lex.ntok = 0;
	}
	memset(tok, 0, sizeof(*tok));
	lex.tok = tok;

	while (is_blank(c = lgetc()))
		;
	if (c == '#')
		while ((c = getbyte()) != '\n' && c != EOF)
			;
	tok->lineno = lex.lineno;
	if (c == EOF && !lex.eof) {
		/* A last line without its newline still ends a statement. */
		lex.eof = 1;
		return token('\n', "", FIRST_OTHER);
	}
	if (c == EOF)
		return token(0, "", FIRST_OTHER);
	if (c == '\n') {
		tok->lineno--;		/* getbyte() counted it */
		return token('\n', "", FIRST_OTHER);
	}
	if (c == LEX_BAD)
		return token(ERROR, "", FIRST_OTHER);

	t = lex_token(buf, c, tok->lineno, &kind);
	if ((t == STRING || t == NUMBER) && tok->string == NULL &&
	    (tok->string = pstrndup(buf, strlen(buf))) == NULL) {
		token_error(tok->lineno, "out of memory");
		t = ERROR;
	}
	return token(t, t == ERROR ? "" : tok->string != NULL ?
	    tok->string : buf, kind);
}

/*
 * byacc calls this with "syntax error" for a token that does not fit; the
 * message says which statement and which token where it can.
 */
void
lex_syntax_error(const char *msg)
{
	const char	*what;
	char		 tok[LEX_SHOW_MAX + 4];

	if (lex.recovering)
		return;
	lex.recovering = 1;
	if (strcmp(msg, "syntax error") != 0) {
		lex_error(lex.lastline, "%s", msg);
		return;
	}
	if (lex.lasttok == '\n')
		what = "end of line";
	else if (lex.lasttok == 0)
		what = "end of file";
	else {
		snprintf(tok, sizeof(tok), "'%s'", lex.lasttext);
		what = tok;
	}
	if (lex.first == FIRST_WORD && !(lex.ntok >= 2 && lex.second == '='))
		lex_error(lex.firstline, "unknown keyword '%s'", lex.firsttext);
	else if (lex.first == FIRST_KEYWORD && lex.ntok >= 2 &&
	    lex.second == '=')
		lex_error(lex.firstline, "'%s' is a keyword, not a macro name",
		    lex.firsttext);
	else if (lex.first == FIRST_KEYWORD &&
	    (lex.ntok > 1 || lex.lasttok == '\n'))
		lex_error(lex.lastline, "syntax error in '%s' statement: "
		    "unexpected %s", lex.firsttext, what);
	else
		lex_error(lex.lastline, "syntax error: unexpected %s", what);
}

void
lex_macro_define(const struct token *name, const struct token *value)
{
	struct macro	*m;
	char		 buf[LEX_SHOW_MAX];

	if (!is_macro_name(name->string)) {
		lex_error(name->lineno, "'%s' is not a valid macro name",
		    lex_show(buf, sizeof(buf), name->string));
		return;
	}
	/* A later definition hides the earlier one from then on. */
	if ((m = palloc(sizeof(*m))) == NULL) {
		lex_error(name->lineno, "out of memory");
		return;
	}
	m->name = name->string;
	m->value = value->string;
	m->next = lex.macros;
	lex.macros = m;
}

void
lex_begin(const char *buf, size_t len, const char *name, FILE *errf)
{
	memset(&lex, 0, sizeof(lex));
	lex.buf = buf;
	lex.len = len;
	lex.lineno = 1;
	lex.name = name;
	lex.errf = errf;
	lex.newstmt = 1;
}

int
lex_end(int failed)
{
	struct arena	*a;
	int		 errors;

	if (failed && lex.errors == 0)
		lex_error(lex.lineno, "cannot recover from earlier errors");
	errors = lex.errors;
	while ((a = lex.arena) != NULL) {
		lex.arena = a->next;
		free(a);
	}
	memset(&lex, 0, sizeof(lex));
	return errors;
}
