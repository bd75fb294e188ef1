/*
 * sendgated.conf: the grammar and its lexer.
 *
 * config_grammar() reads bytes already in memory (config.c reads the file,
 * sets the defaults before and runs the cross-statement checks after) and
 * fills the configuration it is given.  Statements end at a newline; a
 * backslash before a newline joins two lines; '#' starts a comment that
 * runs to the end of the line, backslashes included.  Every error is
 * written as "name:line: message" and the parser resumes at the next
 * newline, so one run reports every bad line.
 *
 * The parser state below exists only during config_grammar(): every string
 * the lexer makes comes from one arena freed when the parse ends, so error
 * recovery, which drops tokens on the floor, cannot leak them.
 */

%{
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <netdb.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define YY_NO_LEAKS	1	/* byacc: free its stack when yyparse returns */

#define PARSE_LINE_MAX	8192	/* bytes of a physical line, without newline */
#define PARSE_TOKEN_MAX	8192	/* bytes of one token, continuations joined */
#define PARSE_PKI_MAX	63	/* pki name */
#define PARSE_USER_MAX	32	/* user and group names */
#define PARSE_SHOW_MAX	64	/* bytes of a value quoted in a message */

#define LEX_BAD		(-2)	/* getbyte(): bad byte, error reported */

struct token {
	char	*string;	/* STRING and NUMBER (its digits) */
	int64_t	 number;	/* NUMBER */
	int	 lineno;	/* where the token starts */
};

/* Statements that set one value each; a second one is an error. */
enum setting {
	SET_HOSTNAME,
	SET_QUEUE,
	SET_STATE,
	SET_KEYS,
	SET_EMPTY,
	SET_SOCKET,
	SET_USER,
	SET_QUEUE_USER,
	SET_SIGNER_USER,
	SET_CTL_GROUP,
	SET_COUNT
};

/* How the value of a statement is checked. */
enum value_kind {
	VALUE_HOSTNAME,
	VALUE_PATH,		/* absolute, shorter than PATH_MAX */
	VALUE_SOCKET,		/* absolute, fits sun_path */
	VALUE_USER,
	VALUE_GROUP
};

#define CONF_FIELD(f)	offsetof(struct sendgated_conf, f), \
			sizeof(((struct sendgated_conf *)0)->f)

static const struct {
	const char	*what;		/* statement, for messages */
	enum value_kind	 kind;
	size_t		 off;		/* field of struct sendgated_conf */
	size_t		 size;
} settings[SET_COUNT] = {
	[SET_HOSTNAME] =	{ "hostname", VALUE_HOSTNAME,
				    CONF_FIELD(hostname) },
	[SET_QUEUE] =		{ "queue", VALUE_PATH, CONF_FIELD(queue_dir) },
	[SET_STATE] =		{ "state", VALUE_PATH, CONF_FIELD(state_dir) },
	[SET_KEYS] =		{ "keys", VALUE_PATH, CONF_FIELD(keys_dir) },
	[SET_EMPTY] =		{ "empty", VALUE_PATH, CONF_FIELD(empty_dir) },
	[SET_SOCKET] =		{ "socket", VALUE_SOCKET,
				    CONF_FIELD(socket_path) },
	[SET_USER] =		{ "user", VALUE_USER, CONF_FIELD(user) },
	[SET_QUEUE_USER] =	{ "user queue", VALUE_USER,
				    CONF_FIELD(queue_user) },
	[SET_SIGNER_USER] =	{ "user signer", VALUE_USER,
				    CONF_FIELD(signer_user) },
	[SET_CTL_GROUP] =	{ "group control", VALUE_GROUP,
				    CONF_FIELD(ctl_group) },
};

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
	struct sendgated_conf	*conf;
	int			 errors;

	/* the statement being read */
	int			 newstmt;	/* the next token starts one */
	int			 recovering;	/* it already has an error */
	int			 ntok;		/* tokens so far */
	enum first_kind		 first;
	int			 firstline;
	char			 firsttext[PARSE_SHOW_MAX];
	int			 second;	/* its second token */
	int			 lasttok;	/* the parser's lookahead */
	int			 lastline;
	char			 lasttext[PARSE_SHOW_MAX];

	char			 tokbuf[PARSE_TOKEN_MAX + 1];
	struct arena		*arena;
	struct macro		*macros;
	int			 setline[SET_COUNT];	/* 0: not given */

	/* options of the pki or listen statement being read */
	struct {
		struct token	 name;
		struct token	 cert, key;
	} pki;
	struct {
		int		 port, mode, pki;	/* lines where given */
		uint16_t	 portnum;
		enum listen_mode mode_value;
		struct token	 pkiname;
	} listen;
} ps;

/* Only the parser calls them; byacc's later declarations keep this. */
static int	 yylex(void);
static void	 yyerror(const char *);

static void	 parse_verror(int, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));
static void	 parse_error(int, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	 lex_error(int, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static const char *show(char *, size_t, const char *);
static void	 setting(enum setting, int, const struct token *);
static void	 macro_define(const struct token *, const struct token *);
static void	 pki_option(struct token *, const char *, const struct token *);
static void	 pki_define(int, const struct token *);
static void	 listen_port(const struct token *);
static void	 listen_mode(const struct token *, enum listen_mode);
static void	 listen_pki(const struct token *);
static void	 listen_define(int, const struct token *);
%}

%union {
	struct token	tok;
}

%token	<tok>	CERT CONTROL EMPTY GROUP HOSTNAME KEY KEYS LISTEN ON PKI PORT
%token	<tok>	QUEUE SIGNER SMTPS SOCKET STATE TLS USER
%token	<tok>	ERROR STRING NUMBER
%type	<tok>	string

%%

grammar		: /* empty */
		| grammar '\n'
		| grammar statement '\n'
		| grammar error '\n'		{ yyerrok; }
		;

statement	: macro
		| setting
		| pki
		| listen
		;

/* A value: quoted or bare; a bare number keeps its digits. */
string		: STRING
		| NUMBER
		;

macro		: STRING '=' string		{ macro_define(&$1, &$3); }
		;

setting		: HOSTNAME string	{
			setting(SET_HOSTNAME, $1.lineno, &$2);
		}
		| QUEUE string		{ setting(SET_QUEUE, $1.lineno, &$2); }
		| STATE string		{ setting(SET_STATE, $1.lineno, &$2); }
		| KEYS string		{ setting(SET_KEYS, $1.lineno, &$2); }
		| EMPTY string		{ setting(SET_EMPTY, $1.lineno, &$2); }
		| SOCKET string		{ setting(SET_SOCKET, $1.lineno, &$2); }
		| USER string		{ setting(SET_USER, $1.lineno, &$2); }
		| USER QUEUE string	{
			setting(SET_QUEUE_USER, $1.lineno, &$3);
		}
		| USER SIGNER string	{
			setting(SET_SIGNER_USER, $1.lineno, &$3);
		}
		| GROUP CONTROL string	{
			setting(SET_CTL_GROUP, $1.lineno, &$3);
		}
		;

/* pki NAME cert "file" key "file", or one of the two per statement. */
pki		: PKI string		{
			memset(&ps.pki, 0, sizeof(ps.pki));
			ps.pki.name = $2;
		} pkiopts		{ pki_define($1.lineno, &$2); }
		;

pkiopts		: pkiopt
		| pkiopts pkiopt
		;

pkiopt		: CERT string	{ pki_option(&ps.pki.cert, "cert", &$2); }
		| KEY string	{ pki_option(&ps.pki.key, "key", &$2); }
		;

/* listen on ADDR port N tls|smtps pki NAME, options in any order. */
listen		: LISTEN ON string	{
			memset(&ps.listen, 0, sizeof(ps.listen));
		} listenopts		{ listen_define($1.lineno, &$3); }
		;

listenopts	: /* empty */
		| listenopts listenopt
		;

listenopt	: PORT string		{ listen_port(&$2); }
		| TLS			{ listen_mode(&$1, LISTEN_STARTTLS); }
		| SMTPS			{ listen_mode(&$1, LISTEN_SMTPS); }
		| PKI string		{ listen_pki(&$2); }
		;

%%

/* Sorted by name: looked up with bsearch. */
static const struct keyword {
	const char	*name;
	int		 token;
} keywords[] = {
	{ "cert",	CERT },
	{ "control",	CONTROL },
	{ "empty",	EMPTY },
	{ "group",	GROUP },
	{ "hostname",	HOSTNAME },
	{ "key",	KEY },
	{ "keys",	KEYS },
	{ "listen",	LISTEN },
	{ "on",		ON },
	{ "pki",	PKI },
	{ "port",	PORT },
	{ "queue",	QUEUE },
	{ "signer",	SIGNER },
	{ "smtps",	SMTPS },
	{ "socket",	SOCKET },
	{ "state",	STATE },
	{ "tls",	TLS },
	{ "user",	USER },
};

/* Characters that are tokens of their own, kept for later statements. */
static const char specials[] = "(){}<>!=,";

static void
parse_verror(int line, const char *fmt, va_list ap)
{
	ps.errors++;
	fprintf(ps.errf, "%s:%d: ", ps.name, line);
	vfprintf(ps.errf, fmt, ap);
	fputc('\n', ps.errf);
}

static void
parse_error(int line, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	parse_verror(line, fmt, ap);
	va_end(ap);
}

/*
 * A value for a message: control bytes, quote, backslash and bytes >= 0x80
 * as \xNN, cut with "..." when it does not fit.
 */
static const char *
show(char *dst, size_t size, const char *s)
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
	a->next = ps.arena;
	ps.arena = a;
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
lex_error(int line, const char *fmt, ...)
{
	va_list	ap;

	if (ps.recovering)
		return;
	ps.recovering = 1;
	va_start(ap, fmt);
	parse_verror(line, fmt, ap);
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

	if (ps.pos >= ps.len)
		return EOF;
	c = ps.buf[ps.pos++];
	if (c == '\n') {
		ps.lineno++;
		ps.prevcol = ps.col;
		ps.col = 0;
		return c;
	}
	if (c == '\0') {
		lex_error(ps.lineno, "NUL byte in file");
		return LEX_BAD;
	}
	if (++ps.col == PARSE_LINE_MAX + 1) {
		lex_error(ps.lineno, "line too long (max %d bytes)",
		    PARSE_LINE_MAX);
		return LEX_BAD;
	}
	return c;
}

static void
ungetbyte(int c)
{
	if (c == EOF || c == LEX_BAD)
		return;
	ps.pos--;
	if (c == '\n') {
		ps.lineno--;
		ps.col = ps.prevcol;
	} else
		ps.col--;
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

/* NUMBER for digits that fit in int64_t, STRING for anything else. */
static int
classify(const char *s, int64_t *number)
{
	int64_t	n = 0;

	if (*s == '\0')
		return STRING;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || n > (INT64_MAX - (*s - '0')) / 10)
			return STRING;
		n = n * 10 + (*s - '0');
	}
	*number = n;
	return NUMBER;
}

/* Record the token for syntax error messages and hand it to the parser. */
static int
token(int t, const char *text, enum first_kind kind)
{
	ps.lasttok = t;
	ps.lastline = yylval.tok.lineno;
	if (t == '\n') {
		ps.newstmt = 1;
		return t;
	}
	show(ps.lasttext, sizeof(ps.lasttext), text);
	if (++ps.ntok == 1) {
		strlcpy(ps.firsttext, ps.lasttext, sizeof(ps.firsttext));
		ps.first = kind;
		ps.firstline = ps.lastline;
	} else if (ps.ntok == 2)
		ps.second = t;
	return t;
}

/* After '$': a macro name; its value comes back as a STRING or NUMBER. */
static int
lex_macro(const char *name, int line)
{
	struct macro	*m;
	char		 buf[PARSE_SHOW_MAX];

	if (!is_macro_name(name)) {
		lex_error(line, "'$%s' is not a valid macro reference",
		    show(buf, sizeof(buf), name));
		return ERROR;
	}
	for (m = ps.macros; m != NULL; m = m->next)
		if (strcmp(m->name, name) == 0)
			break;
	if (m == NULL) {
		lex_error(line, "undefined macro '%s'",
		    show(buf, sizeof(buf), name));
		return ERROR;
	}
	yylval.tok.string = (char *)m->value;
	return classify(m->value, &yylval.tok.number);
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
			lex_error(line, "unterminated quoted string");
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
		if (n == PARSE_TOKEN_MAX) {
			lex_error(ps.lineno, "token too long (max %d bytes)",
			    PARSE_TOKEN_MAX);
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
		if (n == PARSE_TOKEN_MAX) {
			lex_error(ps.lineno, "token too long (max %d bytes)",
			    PARSE_TOKEN_MAX);
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
		lex_error(line, "invalid character '\\x%02x'", c);
		return ERROR;
	}
	if (lex_word(buf, c) == ERROR)
		return ERROR;
	if ((kw = bsearch(buf, keywords, sizeof(keywords) /
	    sizeof(keywords[0]), sizeof(keywords[0]), keyword_cmp)) != NULL) {
		*kind = FIRST_KEYWORD;
		return kw->token;
	}
	*kind = FIRST_WORD;
	return classify(buf, &yylval.tok.number);
}

static int
yylex(void)
{
	char		*buf = ps.tokbuf;
	enum first_kind	 kind;
	int		 c, t;

	if (ps.newstmt) {
		ps.newstmt = 0;
		ps.recovering = 0;
		ps.ntok = 0;
	}
	memset(&yylval, 0, sizeof(yylval));

	while (is_blank(c = lgetc()))
		;
	if (c == '#')
		while ((c = getbyte()) != '\n' && c != EOF)
			;
	yylval.tok.lineno = ps.lineno;
	if (c == EOF && !ps.eof) {
		/* A last line without its newline still ends a statement. */
		ps.eof = 1;
		return token('\n', "", FIRST_OTHER);
	}
	if (c == EOF)
		return token(0, "", FIRST_OTHER);
	if (c == '\n') {
		yylval.tok.lineno--;		/* getbyte() counted it */
		return token('\n', "", FIRST_OTHER);
	}
	if (c == LEX_BAD)
		return token(ERROR, "", FIRST_OTHER);

	t = lex_token(buf, c, yylval.tok.lineno, &kind);
	if ((t == STRING || t == NUMBER) && yylval.tok.string == NULL &&
	    (yylval.tok.string = pstrndup(buf, strlen(buf))) == NULL) {
		lex_error(yylval.tok.lineno, "out of memory");
		t = ERROR;
	}
	return token(t, t == ERROR ? "" : yylval.tok.string != NULL ?
	    yylval.tok.string : buf, kind);
}

/*
 * byacc calls this with "syntax error" for a token that does not fit; the
 * message says which statement and which token where it can.
 */
static void
yyerror(const char *msg)
{
	const char	*what;
	char		 tok[PARSE_SHOW_MAX + 4];

	if (ps.recovering)
		return;
	ps.recovering = 1;
	if (strcmp(msg, "syntax error") != 0) {
		parse_error(ps.lastline, "%s", msg);
		return;
	}
	if (ps.lasttok == '\n')
		what = "end of line";
	else if (ps.lasttok == 0)
		what = "end of file";
	else {
		snprintf(tok, sizeof(tok), "'%s'", ps.lasttext);
		what = tok;
	}
	if (ps.first == FIRST_WORD && !(ps.ntok >= 2 && ps.second == '='))
		parse_error(ps.firstline, "unknown keyword '%s'", ps.firsttext);
	else if (ps.first == FIRST_KEYWORD && ps.ntok >= 2 && ps.second == '=')
		parse_error(ps.firstline, "'%s' is a keyword, not a macro name",
		    ps.firsttext);
	else if (ps.first == FIRST_KEYWORD &&
	    (ps.ntok > 1 || ps.lasttok == '\n'))
		parse_error(ps.lastline, "syntax error in '%s' statement: "
		    "unexpected %s", ps.firsttext, what);
	else
		parse_error(ps.lastline, "syntax error: unexpected %s", what);
}

/* 1..max bytes of [A-Za-z0-9._-], a leading '-' only if dash_first. */
static int
valid_name(const char *s, size_t max, int dash_first)
{
	size_t	len = strlen(s);

	if (len == 0 || len > max || (s[0] == '-' && !dash_first))
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") == len;
}

/* Reports what is wrong with the value of statement what; -1 if anything. */
static int
check_value(enum value_kind kind, const char *what, const struct token *v)
{
	struct sockaddr_un	 sun;
	char			 buf[PARSE_SHOW_MAX];
	size_t			 max = PATH_MAX - 1;

	switch (kind) {
	case VALUE_HOSTNAME:
		if (config_valid_hostname(v->string))
			return 0;
		parse_error(v->lineno, "%s: '%s' is not a valid host name",
		    what, show(buf, sizeof(buf), v->string));
		return -1;
	case VALUE_USER:
	case VALUE_GROUP:
		if (valid_name(v->string, PARSE_USER_MAX, 0))
			return 0;
		parse_error(v->lineno, "%s: '%s' is not a valid %s name", what,
		    show(buf, sizeof(buf), v->string),
		    kind == VALUE_USER ? "user" : "group");
		return -1;
	case VALUE_SOCKET:
		max = sizeof(sun.sun_path) - 1;
		/* FALLTHROUGH */
	case VALUE_PATH:
		if (v->string[0] != '/') {
			parse_error(v->lineno, "%s: '%s' is not an absolute "
			    "path", what, show(buf, sizeof(buf), v->string));
			return -1;
		}
		if (strlen(v->string) > max) {
			parse_error(v->lineno, "%s: path too long (max %zu "
			    "bytes)", what, max);
			return -1;
		}
		return 0;
	}
	return -1;
}

static void
setting(enum setting which, int line, const struct token *v)
{
	const char	*what = settings[which].what;

	if (ps.setline[which] != 0)
		parse_error(line, "duplicate '%s' statement (first at line %d)",
		    what, ps.setline[which]);
	else
		ps.setline[which] = line;
	if (check_value(settings[which].kind, what, v) == 0)
		strlcpy((char *)ps.conf + settings[which].off, v->string,
		    settings[which].size);
}

static void
macro_define(const struct token *name, const struct token *value)
{
	struct macro	*m;
	char		 buf[PARSE_SHOW_MAX];

	if (!is_macro_name(name->string)) {
		parse_error(name->lineno, "'%s' is not a valid macro name",
		    show(buf, sizeof(buf), name->string));
		return;
	}
	/* A later definition hides the earlier one from then on. */
	if ((m = palloc(sizeof(*m))) == NULL) {
		parse_error(name->lineno, "out of memory");
		return;
	}
	m->name = name->string;
	m->value = value->string;
	m->next = ps.macros;
	ps.macros = m;
}

static void
pki_option(struct token *opt, const char *what, const struct token *v)
{
	char	buf[PARSE_SHOW_MAX];

	if (opt->string != NULL)
		parse_error(v->lineno, "pki '%s': %s given twice",
		    show(buf, sizeof(buf), ps.pki.name.string), what);
	else if (check_value(VALUE_PATH, what, v) == 0)
		*opt = *v;
}

/*
 * The two-line form (cert on one line, key on the next) adds to the entry
 * the first line made; giving a file the entry already has is a duplicate.
 */
static void
pki_define(int line, const struct token *name)
{
	struct config_pki	*pki;
	char			 buf[PARSE_SHOW_MAX];

	if (!valid_name(name->string, PARSE_PKI_MAX, 1)) {
		parse_error(name->lineno, "pki: '%s' is not a valid pki name",
		    show(buf, sizeof(buf), name->string));
		return;
	}
	if ((pki = config_pki_find(ps.conf, name->string)) != NULL) {
		if ((ps.pki.cert.string != NULL && pki->cert[0] != '\0') ||
		    (ps.pki.key.string != NULL && pki->key[0] != '\0')) {
			parse_error(line, "duplicate pki '%s' (first at line "
			    "%d)", name->string, pki->line);
			return;
		}
	} else {
		if ((pki = calloc(1, sizeof(*pki))) == NULL) {
			parse_error(line, "out of memory");
			return;
		}
		strlcpy(pki->name, name->string, sizeof(pki->name));
		pki->line = line;
		TAILQ_INSERT_TAIL(&ps.conf->pkis, pki, entry);
	}
	if (ps.pki.cert.string != NULL)
		strlcpy(pki->cert, ps.pki.cert.string, sizeof(pki->cert));
	if (ps.pki.key.string != NULL)
		strlcpy(pki->key, ps.pki.key.string, sizeof(pki->key));
}

static int
listen_twice(int *given, const char *what, int line)
{
	if (*given != 0) {
		parse_error(line, "listen: %s given twice", what);
		return 1;
	}
	*given = line;
	return 0;
}

static void
listen_port(const struct token *v)
{
	char	buf[PARSE_SHOW_MAX];
	int64_t	n;

	if (listen_twice(&ps.listen.port, "port", v->lineno))
		return;
	if (classify(v->string, &n) != NUMBER || n < 1 || n > 65535) {
		parse_error(v->lineno, "listen: invalid port '%s' (must be "
		    "1-65535)", show(buf, sizeof(buf), v->string));
		return;
	}
	ps.listen.portnum = n;
}

static void
listen_mode(const struct token *t, enum listen_mode mode)
{
	if (!listen_twice(&ps.listen.mode, "tls or smtps", t->lineno))
		ps.listen.mode_value = mode;
}

static void
listen_pki(const struct token *v)
{
	char	buf[PARSE_SHOW_MAX];

	if (listen_twice(&ps.listen.pki, "pki", v->lineno))
		return;
	if (!valid_name(v->string, PARSE_PKI_MAX, 1))
		parse_error(v->lineno, "listen: '%s' is not a valid pki name",
		    show(buf, sizeof(buf), v->string));
	else
		ps.listen.pkiname = *v;
}

/*
 * ADDR is a numeric IPv4 or IPv6 address; "localhost" is taken as
 * 127.0.0.1 without asking the resolver.  IPv4 must be the dotted quad
 * inet_pton() accepts, not one of the short forms inet_aton() also takes.
 */
static int
listen_address(struct config_listen *l, const struct token *v)
{
	struct addrinfo	 hints, *res;
	const char	*host = v->string;
	char		 port[8];
	struct in_addr	 in;

	if (strlen(host) >= sizeof(l->addr))
		return -1;
	if (strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", l->port);
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	if ((res->ai_family != AF_INET && res->ai_family != AF_INET6) ||
	    res->ai_addrlen > sizeof(l->ss) ||
	    (res->ai_family == AF_INET && inet_pton(AF_INET, host, &in) != 1)) {
		freeaddrinfo(res);
		return -1;
	}
	memcpy(&l->ss, res->ai_addr, res->ai_addrlen);
	l->sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static void
listen_define(int line, const struct token *addr)
{
	struct config_listen	*l;
	char			 buf[PARSE_SHOW_MAX];

	if (!ps.listen.port)
		parse_error(line, "listen: missing port");
	if (!ps.listen.mode)
		parse_error(line, "listen: missing tls or smtps");
	if (!ps.listen.pki)
		parse_error(line, "listen: missing pki");
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		parse_error(line, "out of memory");
		return;
	}
	l->port = ps.listen.portnum;
	l->mode = ps.listen.mode_value;
	l->line = line;
	if (ps.listen.pkiname.string != NULL)
		strlcpy(l->pki, ps.listen.pkiname.string, sizeof(l->pki));
	if (listen_address(l, addr) == -1)
		parse_error(addr->lineno, "listen: '%s' is not an IP address",
		    show(buf, sizeof(buf), addr->string));
	strlcpy(l->addr, addr->string, sizeof(l->addr));
	TAILQ_INSERT_TAIL(&ps.conf->listeners, l, entry);
}

int
config_grammar(const char *buf, size_t len, const char *name, FILE *errf,
    struct sendgated_conf *conf)
{
	struct arena	*a;
	int		 errors;

	memset(&ps, 0, sizeof(ps));
	ps.buf = buf;
	ps.len = len;
	ps.lineno = 1;
	ps.name = name;
	ps.errf = errf;
	ps.conf = conf;
	ps.newstmt = 1;

	if (yyparse() != 0 && ps.errors == 0)
		parse_error(ps.lineno, "cannot recover from earlier errors");
	errors = ps.errors;

	while ((a = ps.arena) != NULL) {
		ps.arena = a->next;
		free(a);
	}
	memset(&ps, 0, sizeof(ps));
	return errors;
}
