/*
 * A reader for the YAML subset the conformance suites are written in,
 * not for YAML at large: documents separated by "---", block mappings
 * and sequences by indentation ("- key: value" items included), plain,
 * single- and double-quoted scalars (with \x, \u, \0 escapes), block
 * scalars (| and >, with - and + chomping), flow sequences of scalars
 * ([a, "b"]) and whole-line comments.  Anything else is an error with
 * its line number.  Header-only: each unit test is one .c file.
 *
 * Scalars are NUL-ended and may hold NUL bytes (len counts them).
 */
#ifndef SENDGATE_YAML_MINI_H
#define SENDGATE_YAML_MINI_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ynode_kind {
	Y_SCALAR,
	Y_LIST,
	Y_MAP
};

struct ynode {
	enum ynode_kind	  kind;
	char		 *key;		/* entry of a map: its key */
	char		 *s;		/* Y_SCALAR */
	size_t		  len;
	struct ynode	**kid;		/* Y_LIST, Y_MAP */
	size_t		  n;
	int		  line;
};

struct yreader {
	char		**line;		/* lines, '\n' cut */
	size_t		  nline;
	size_t		  at;		/* next line */
	char		 *text;
	char		  err[256];
};

/* A growing byte string. */
struct ybuf {
	char	*b;
	size_t	 len;
	size_t	 cap;
};

static void
ybuf_add(struct ybuf *y, const char *s, size_t n)
{
	if (y->len + n + 1 > y->cap) {
		y->cap = (y->len + n + 1) * 2;
		if ((y->b = realloc(y->b, y->cap)) == NULL)
			abort();
	}
	memcpy(y->b + y->len, s, n);
	y->len += n;
	y->b[y->len] = '\0';
}

static void
ybuf_addc(struct ybuf *y, char c)
{
	ybuf_add(y, &c, 1);
}

static struct ynode *
ynode_new(enum ynode_kind kind, int line)
{
	struct ynode	*n;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		abort();
	n->kind = kind;
	n->line = line;
	return n;
}

static void
ynode_add(struct ynode *parent, struct ynode *kid)
{
	parent->kid = realloc(parent->kid, (parent->n + 1) *
	    sizeof(*parent->kid));
	if (parent->kid == NULL)
		abort();
	parent->kid[parent->n++] = kid;
}

static struct ynode *
yscalar(struct ybuf *y, int line)
{
	struct ynode	*n = ynode_new(Y_SCALAR, line);

	if (y->b == NULL)
		ybuf_add(y, "", 0);
	n->s = y->b;
	n->len = y->len;
	y->b = NULL;
	y->len = y->cap = 0;
	return n;
}

static void
ynode_free(struct ynode *n)
{
	size_t	 i;

	if (n == NULL)
		return;
	for (i = 0; i < n->n; i++)
		ynode_free(n->kid[i]);
	free(n->kid);
	free(n->key);
	free(n->s);
	free(n);
}

/* The value of key in a map, or NULL. */
static const struct ynode *
ymap_get(const struct ynode *map, const char *key)
{
	size_t	 i;

	if (map == NULL || map->kind != Y_MAP)
		return NULL;
	for (i = 0; i < map->n; i++)
		if (strcmp(map->kid[i]->key, key) == 0)
			return map->kid[i];
	return NULL;
}

static int	yerr(struct yreader *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static int
yerr(struct yreader *r, int line, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (r->err[0] != '\0')
		return -1;
	n = snprintf(r->err, sizeof(r->err), "line %d: ", line);
	va_start(ap, fmt);
	vsnprintf(r->err + n, sizeof(r->err) - n, fmt, ap);
	va_end(ap);
	return -1;
}

static int
yindent(const char *l)
{
	int	 n = 0;

	while (l[n] == ' ')
		n++;
	return n;
}

/* Blank, or a whole-line comment. */
static int
yblank(const char *l)
{
	l += yindent(l);
	return *l == '\0' || *l == '#';
}

static int
ydoc_sep(const char *l)
{
	return strncmp(l, "---", 3) == 0 && (l[3] == '\0' || l[3] == ' ');
}

/* The next line that carries something, or NULL at a document's end. */
static char *
ypeek(struct yreader *r)
{
	while (r->at < r->nline && yblank(r->line[r->at]))
		r->at++;
	if (r->at == r->nline || ydoc_sep(r->line[r->at]))
		return NULL;
	return r->line[r->at];
}

static void
yutf8(struct ybuf *y, unsigned long cp)
{
	char	 b[4];

	if (cp < 0x80) {
		ybuf_addc(y, cp);
	} else if (cp < 0x800) {
		b[0] = 0xc0 | (cp >> 6);
		b[1] = 0x80 | (cp & 0x3f);
		ybuf_add(y, b, 2);
	} else if (cp < 0x10000) {
		b[0] = 0xe0 | (cp >> 12);
		b[1] = 0x80 | ((cp >> 6) & 0x3f);
		b[2] = 0x80 | (cp & 0x3f);
		ybuf_add(y, b, 3);
	} else {
		b[0] = 0xf0 | (cp >> 18);
		b[1] = 0x80 | ((cp >> 12) & 0x3f);
		b[2] = 0x80 | ((cp >> 6) & 0x3f);
		b[3] = 0x80 | (cp & 0x3f);
		ybuf_add(y, b, 4);
	}
}

static int
yhex(const char *s, int n, unsigned long *v)
{
	int	 i;
	char	 c;

	for (*v = 0, i = 0; i < n; i++) {
		c = s[i];
		if (c >= '0' && c <= '9')
			*v = *v * 16 + (c - '0');
		else if (c >= 'a' && c <= 'f')
			*v = *v * 16 + (c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v = *v * 16 + (c - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

/* A quoted scalar at *p (on one line); *p moves past it. */
static int
yquoted(struct yreader *r, int line, const char **p, struct ybuf *y)
{
	static const char	 from[] = "0abtnvfre\"/\\ ", to[] =
	    "\0\a\b\t\n\v\f\r\x1b\"/\\ ";
	const char		*s = *p, *k;
	char			 q = *s++;
	unsigned long		 cp;
	int			 nhex;

	ybuf_add(y, "", 0);
	for (;; s++) {
		if (*s == '\0')
			return yerr(r, line, "unterminated quoted scalar");
		if (*s == q && q == '\'' && s[1] == '\'') {
			ybuf_addc(y, '\'');
			s++;
			continue;
		}
		if (*s == q)
			break;
		if (q == '\'' || *s != '\\') {
			ybuf_addc(y, *s);
			continue;
		}
		s++;
		if (*s != '\0' && (k = strchr(from, *s)) != NULL) {
			ybuf_addc(y, to[k - from]);
			continue;
		}
		nhex = *s == 'x' ? 2 : *s == 'u' ? 4 : *s == 'U' ? 8 : 0;
		if (nhex == 0 || yhex(s + 1, nhex, &cp) == -1)
			return yerr(r, line, "unknown escape \\%c", *s);
		yutf8(y, cp);
		s += nhex;
	}
	*p = s + 1;
	return 0;
}

static const char *
yskip(const char *p)
{
	while (*p == ' ')
		p++;
	return p;
}

/* [a, "b", 'c'] on one line. */
static struct ynode *
yflow(struct yreader *r, int line, const char *p)
{
	struct ynode	*list = ynode_new(Y_LIST, line);
	struct ybuf	 y = { NULL, 0, 0 };
	const char	*start;
	size_t		 n;

	p = yskip(p + 1);
	while (*p != ']') {
		if (*p == '"' || *p == '\'') {
			if (yquoted(r, line, &p, &y) == -1)
				goto fail;
		} else {
			for (start = p; *p != '\0' && *p != ',' && *p != ']';
			    p++)
				;
			for (n = p - start; n > 0 && start[n - 1] == ' '; n--)
				;
			ybuf_add(&y, start, n);
		}
		ynode_add(list, yscalar(&y, line));
		p = yskip(p);
		if (*p == ',')
			p = yskip(p + 1);
		else if (*p != ']') {
			yerr(r, line, "bad flow sequence");
			goto fail;
		}
	}
	if (*yskip(p + 1) != '\0') {
		yerr(r, line, "text after a flow sequence");
		goto fail;
	}
	return list;
fail:
	free(y.b);
	ynode_free(list);
	return NULL;
}

/*
 * A block scalar (| or >) whose lines are indented more than parent.
 * Folding: lines of the base indentation join with a space, an empty
 * line is a newline, more-indented lines keep theirs.
 */
static struct ynode *
yblock(struct yreader *r, int line, const char *ind, int parent)
{
	struct ybuf	 y = { NULL, 0, 0 };
	const char	*l;
	char		 chomp = ind[1] == '-' || ind[1] == '+' ? ind[1] : 0;
	int		 fold = ind[0] == '>', base = -1, more, prev_more = 0;
	size_t		 breaks = 0, i;

	ybuf_add(&y, "", 0);
	for (; r->at < r->nline; r->at++) {
		l = r->line[r->at];
		if (*yskip(l) == '\0') {
			breaks++;
			continue;
		}
		if (yindent(l) <= parent || ydoc_sep(l))
			break;
		if (base == -1)
			base = yindent(l);
		more = yindent(l) > base;
		if (y.len > 0) {
			if (fold && breaks == 0 && !more && !prev_more)
				ybuf_addc(&y, ' ');
			else
				for (i = 0; i < breaks + (!fold || more ||
				    prev_more || breaks == 0); i++)
					ybuf_addc(&y, '\n');
		} else
			for (i = 0; i < breaks; i++)
				ybuf_addc(&y, '\n');
		breaks = 0;
		ybuf_add(&y, l + base, strlen(l + base));
		prev_more = more;
	}
	if (chomp == '+')
		for (i = 0; i < breaks + 1; i++)
			ybuf_addc(&y, '\n');
	else if (chomp == 0 && y.len > 0)
		ybuf_addc(&y, '\n');
	return yscalar(&y, line);
}

/* A plain scalar, folded with the more-indented lines after it. */
static struct ynode *
yplain(struct yreader *r, int line, const char *p, int parent)
{
	struct ybuf	 y = { NULL, 0, 0 };
	const char	*l, *c;
	size_t		 n;

	for (;;) {
		if ((c = strstr(p, " #")) == NULL)
			c = p + strlen(p);
		for (n = c - p; n > 0 && p[n - 1] == ' '; n--)
			;
		if (y.len > 0)
			ybuf_addc(&y, ' ');
		ybuf_add(&y, p, n);
		if ((l = ypeek(r)) == NULL || yindent(l) <= parent)
			break;
		r->at++;
		p = yskip(l);
	}
	return yscalar(&y, line);
}

static struct ynode	*yparse_block(struct yreader *, int);

/* What follows "key:" or "- " on a line whose entry is at indent. */
static struct ynode *
yvalue(struct yreader *r, int line, const char *p, int indent)
{
	struct ybuf	 y = { NULL, 0, 0 };
	const char	*l;

	p = yskip(p);
	if (*p == '\0') {
		if ((l = ypeek(r)) != NULL && yindent(l) > indent)
			return yparse_block(r, yindent(l));
		return yscalar(&y, line);
	}
	if (*p == '|' || *p == '>')
		return yblock(r, line, p, indent);
	if (*p == '[')
		return yflow(r, line, p);
	if (*p == '"' || *p == '\'') {
		if (yquoted(r, line, &p, &y) == -1) {
			free(y.b);
			return NULL;
		}
		if (*yskip(p) != '\0') {
			free(y.b);
			yerr(r, line, "text after a quoted scalar");
			return NULL;
		}
		return yscalar(&y, line);
	}
	return yplain(r, line, p, indent);
}

/*
 * "key: value" at p (the line's entry starts at indent): the key is
 * quoted, or plain up to ": " or a ':' that ends the line.
 */
static struct ynode *
yentry(struct yreader *r, int line, const char *p, int indent)
{
	struct ybuf	 y = { NULL, 0, 0 };
	struct ynode	*v;
	const char	*colon;

	if (*p == '"' || *p == '\'') {
		if (yquoted(r, line, &p, &y) == -1)
			goto fail;
		if (*p != ':') {
			yerr(r, line, "no ':' after a quoted key");
			goto fail;
		}
		colon = p;
	} else {
		if ((colon = strstr(p, ": ")) == NULL) {
			colon = p + strlen(p) - 1;
			if (colon < p || *colon != ':') {
				yerr(r, line, "not a \"key: value\" line");
				goto fail;
			}
		}
		ybuf_add(&y, p, colon - p);
	}
	if ((v = yvalue(r, line, colon + 1, indent)) == NULL)
		goto fail;
	v->key = y.b;
	return v;
fail:
	free(y.b);
	return NULL;
}

/* A mapping or a sequence whose entries stand at exactly indent. */
static struct ynode *
yparse_block(struct yreader *r, int indent)
{
	struct ynode	*node = NULL, *kid, *item;
	const char	*l, *p;
	int		 line, list;

	while ((l = ypeek(r)) != NULL && yindent(l) >= indent) {
		line = r->at + 1;
		if (yindent(l) > indent) {
			yerr(r, line, "unexpected indentation");
			goto fail;
		}
		p = l + indent;
		list = p[0] == '-' && (p[1] == ' ' || p[1] == '\0');
		if (node == NULL)
			node = ynode_new(list ? Y_LIST : Y_MAP, line);
		if (list != (node->kind == Y_LIST)) {
			yerr(r, line, "mapping and sequence mixed");
			goto fail;
		}
		r->at++;
		if (!list) {
			if ((kid = yentry(r, line, p, indent)) == NULL)
				goto fail;
			ynode_add(node, kid);
			continue;
		}
		/* "- key: value" opens a mapping at indent + 2. */
		p = yskip(p + 1);
		if (*p != '\0' && *p != '"' && *p != '\'' && *p != '[' &&
		    (strstr(p, ": ") != NULL || p[strlen(p) - 1] == ':')) {
			item = ynode_new(Y_MAP, line);
			ynode_add(node, item);
			if ((kid = yentry(r, line, p, indent + 2)) == NULL)
				goto fail;
			ynode_add(item, kid);
			if ((l = ypeek(r)) != NULL &&
			    yindent(l) == indent + 2 &&
			    (kid = yparse_block(r, indent + 2)) != NULL) {
				yerr(r, line, "multi-key sequence items are "
				    "not supported");
				ynode_free(kid);
				goto fail;
			}
			continue;
		}
		if ((kid = yvalue(r, line, p, indent)) == NULL)
			goto fail;
		ynode_add(node, kid);
	}
	if (r->err[0] != '\0')
		goto fail;
	return node != NULL ? node : ynode_new(Y_MAP, r->at);
fail:
	ynode_free(node);
	return NULL;
}

/*
 * Reads every document of a file: a Y_LIST of them, or NULL with the
 * reason in err.
 */
static struct ynode *
yaml_mini_load(const char *path, char *err, size_t errlen)
{
	struct yreader	 r;
	struct ynode	*docs = NULL, *doc;
	FILE		*f;
	long		 size;
	size_t		 i, cap = 0;
	char		*p;

	memset(&r, 0, sizeof(r));
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: cannot open", path);
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == -1 || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) == -1 ||
	    (r.text = malloc(size + 1)) == NULL ||
	    fread(r.text, 1, size, f) != (size_t)size) {
		snprintf(err, errlen, "%s: cannot read", path);
		fclose(f);
		free(r.text);
		return NULL;
	}
	fclose(f);
	r.text[size] = '\0';
	for (p = r.text; *p != '\0'; ) {
		if (r.nline == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((r.line = realloc(r.line, cap *
			    sizeof(*r.line))) == NULL)
				abort();
		}
		r.line[r.nline++] = p;
		if ((p = strchr(p, '\n')) == NULL)
			break;
		*p++ = '\0';
	}
	for (i = 0; i < r.nline; i++)
		if (strchr(r.line[i], '\t') != NULL || strchr(r.line[i],
		    '\r') != NULL) {
			yerr(&r, i + 1, "tab or CR in the file");
			goto done;
		}
	docs = ynode_new(Y_LIST, 1);
	while (r.at < r.nline) {
		if (ydoc_sep(r.line[r.at])) {
			r.at++;
			continue;
		}
		if (ypeek(&r) == NULL)
			continue;
		if ((doc = yparse_block(&r, 0)) == NULL)
			break;
		ynode_add(docs, doc);
		if (ypeek(&r) != NULL) {
			yerr(&r, r.at + 1, "unexpected indentation");
			break;
		}
	}
done:
	if (r.err[0] != '\0') {
		snprintf(err, errlen, "%s: %s", path, r.err);
		ynode_free(docs);
		docs = NULL;
	}
	free(r.line);
	free(r.text);
	return docs;
}

#endif
