/*
 * Printing answers: rows of typed fields (IMSG_CONTROL_ROW) collected,
 * then shown as text (aligned key/value blocks, tables, DNS records ready
 * to paste) or as one JSON object.  Every string is escaped for the
 * output it goes to.
 *
 * A row of kind "parent/child" (a recipient of a queued message) belongs
 * to the row before it: JSON nests such rows as a list "childs" in that
 * row's object; the text output leaves them out (the parent row carries
 * a count).  An integer field named "age" is a duration in seconds,
 * written like "3m05s" in the text output.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define CTL_ROWS_MAX	1000000
#define CTL_FIELDS_MAX	64
#define CTL_KIND_MAX	32
#define CTL_TEXT_MAX	4096

struct ctl_field {
	char		*key;
	int		 type;		/* 's' or 'i' */
	char		*s;
	int64_t		 i;
};

struct ctl_row {
	char			*kind;
	int			 single;
	size_t			 n;
	struct ctl_field	 f[CTL_FIELDS_MAX];
};

static struct ctl_row	**ctl_rows;
static size_t		  ctl_nrows;

static void	ctl_duration(char *, size_t, int64_t);

static int
ctl_is_child(const char *kind)
{
	return strchr(kind, '/') != NULL;
}

/* A duration shown in words in the text output. */
static int
ctl_is_duration(const struct ctl_field *f)
{
	return f->type == 'i' && strcmp(f->key, "age") == 0;
}

static char *
ctl_strdup(const char *s)
{
	char	*d;

	if ((d = strdup(s)) == NULL) {
		perror("sendgatectl");
		exit(1);
	}
	return d;
}

/* Decode one IMSG_CONTROL_ROW into the store; -1 when malformed. */
int
ctl_rows_add(struct msg_in *m)
{
	struct ctl_row	*r, **n;
	char		 kind[CTL_KIND_MAX], key[PROTO_KEY_MAX];
	char		 text[CTL_TEXT_MAX];
	uint64_t	 reqid;
	uint8_t		 single, type;

	if (m_get_u64(m, &reqid) == -1 ||
	    m_get_string(m, kind, sizeof(kind)) == -1 ||
	    m_get_u8(m, &single) == -1 || ctl_nrows == CTL_ROWS_MAX)
		return -1;
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (n = reallocarray(ctl_rows, ctl_nrows + 1, sizeof(*n))) == NULL) {
		perror("sendgatectl");
		exit(1);
	}
	ctl_rows = n;
	ctl_rows[ctl_nrows++] = r;
	r->kind = ctl_strdup(kind);
	r->single = single != 0;
	for (;;) {
		if (m_get_string(m, key, sizeof(key)) == -1)
			return -1;
		if (key[0] == '\0')
			break;
		if (r->n == CTL_FIELDS_MAX || m_get_u8(m, &type) == -1)
			return -1;
		r->f[r->n].key = ctl_strdup(key);
		r->f[r->n].type = type;
		if (type == 's') {
			if (m_get_string(m, text, sizeof(text)) == -1)
				return -1;
			r->f[r->n].s = ctl_strdup(text);
		} else if (type != 'i' || m_get_i64(m, &r->f[r->n].i) == -1)
			return -1;
		r->n++;
	}
	return m_end(m);
}

/* Text output: control bytes never reach the terminal raw. */
static void
ctl_text(const char *s)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			printf("\\x%02x", *p);
		else
			putchar(*p);
	}
}

static int
ctl_field_width(const struct ctl_field *f)
{
	char	 buf[32];

	if (ctl_is_duration(f)) {
		ctl_duration(buf, sizeof(buf), f->i);
		return (int)strlen(buf);
	}
	if (f->type == 'i')
		return snprintf(buf, sizeof(buf), "%" PRId64, f->i);
	return (int)strlen(f->s);
}

static void
ctl_field_text(const struct ctl_field *f, int width)
{
	char	 buf[32];
	int	 w = ctl_field_width(f);

	if (ctl_is_duration(f)) {
		ctl_duration(buf, sizeof(buf), f->i);
		printf("%s", buf);
	} else if (f->type == 'i')
		printf("%" PRId64, f->i);
	else
		ctl_text(f->s);
	printf("%*s", width > w ? width - w : 0, "");
}

static const char *
ctl_field_get(const struct ctl_row *r, const char *key)
{
	size_t	 i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->f[i].key, key) == 0 && r->f[i].type == 's')
			return r->f[i].s;
	return "";
}

static void
ctl_text_single(const struct ctl_row *r)
{
	size_t	 i, w = 0;

	for (i = 0; i < r->n; i++)
		if (strlen(r->f[i].key) > w)
			w = strlen(r->f[i].key);
	for (i = 0; i < r->n; i++) {
		printf("%s:%*s ", r->f[i].key,
		    (int)(w - strlen(r->f[i].key)), "");
		ctl_field_text(&r->f[i], 0);
		putchar('\n');
	}
}

/* DNS records: the zone-file line to paste, then host, type and value. */
static void
ctl_text_record(const struct ctl_row *r)
{
	printf("; %s\n", ctl_field_get(r, "purpose"));
	ctl_text(ctl_field_get(r, "zone"));
	printf("\n    host:  ");
	ctl_text(ctl_field_get(r, "host"));
	printf("\n    type:  ");
	ctl_text(ctl_field_get(r, "type"));
	printf("\n    value: ");
	ctl_text(ctl_field_get(r, "value"));
	printf("\n");
}

/* A line of a tree (spf walk): indented by its depth. */
static void
ctl_text_line(const struct ctl_row *r)
{
	int64_t	 depth = 0;
	size_t	 i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->f[i].key, "depth") == 0 && r->f[i].type == 'i')
			depth = r->f[i].i;
	printf("%*s", (int)(depth > 20 ? 40 : depth * 2), "");
	ctl_text(ctl_field_get(r, "text"));
	putchar('\n');
}

#define CTL_TABLE_FIELDS_MAX	6	/* wider rows print as blocks */

/* A list: the columns of its first row, headers in capitals. */
static void
ctl_text_table(const char *kind)
{
	const struct ctl_row	*first = NULL;
	int			 w[CTL_FIELDS_MAX];
	size_t			 i, j, k;
	const char		*p;

	for (i = 0; i < ctl_nrows; i++) {
		if (strcmp(ctl_rows[i]->kind, kind) != 0 ||
		    ctl_rows[i]->single)
			continue;
		if (first == NULL) {
			first = ctl_rows[i];
			for (j = 0; j < first->n; j++)
				w[j] = (int)strlen(first->f[j].key);
		}
		for (j = 0; j < first->n && j < ctl_rows[i]->n; j++)
			if (ctl_field_width(&ctl_rows[i]->f[j]) > w[j])
				w[j] = ctl_field_width(&ctl_rows[i]->f[j]);
	}
	if (first == NULL)
		return;
	if (first->n > CTL_TABLE_FIELDS_MAX) {
		/* Too wide for a terminal: one key/value block per row. */
		for (i = 0, k = 0; i < ctl_nrows; i++) {
			if (strcmp(ctl_rows[i]->kind, kind) != 0 ||
			    ctl_rows[i]->single)
				continue;
			if (k++)
				putchar('\n');
			ctl_text_single(ctl_rows[i]);
		}
		return;
	}
	for (j = 0; j < first->n; j++) {
		for (p = first->f[j].key, k = 0; p[k] != '\0'; k++)
			putchar(p[k] >= 'a' && p[k] <= 'z' ? p[k] - 32 :
			    p[k] == '_' ? ' ' : p[k]);
		printf("%*s", j + 1 < first->n ? w[j] - (int)k + 2 : 0, "");
	}
	putchar('\n');
	for (i = 0; i < ctl_nrows; i++) {
		if (strcmp(ctl_rows[i]->kind, kind) != 0 ||
		    ctl_rows[i]->single)
			continue;
		for (j = 0; j < first->n && j < ctl_rows[i]->n; j++)
			ctl_field_text(&ctl_rows[i]->f[j],
			    j + 1 < first->n ? w[j] + 2 : 0);
		putchar('\n');
	}
}

static int
ctl_kind_seen(size_t upto, const char *kind)
{
	size_t	 i;

	for (i = 0; i < upto; i++)
		if (strcmp(ctl_rows[i]->kind, kind) == 0)
			return 1;
	return 0;
}

static void
ctl_print_text(void)
{
	size_t	 i, j, groups = 0;

	for (i = 0; i < ctl_nrows; i++)
		groups += !ctl_is_child(ctl_rows[i]->kind) &&
		    !ctl_kind_seen(i, ctl_rows[i]->kind);
	for (i = 0; i < ctl_nrows; i++) {
		if (ctl_is_child(ctl_rows[i]->kind))
			continue;
		if (ctl_rows[i]->single) {
			ctl_text_single(ctl_rows[i]);
			continue;
		}
		if (ctl_kind_seen(i, ctl_rows[i]->kind))
			continue;
		if (groups > 1)
			printf("\n%ss:\n", ctl_rows[i]->kind);
		if (strcmp(ctl_rows[i]->kind, "line") == 0) {
			for (j = i; j < ctl_nrows; j++)
				if (strcmp(ctl_rows[j]->kind, "line") == 0)
					ctl_text_line(ctl_rows[j]);
		} else if (strcmp(ctl_rows[i]->kind, "record") == 0) {
			for (j = i; j < ctl_nrows; j++)
				if (strcmp(ctl_rows[j]->kind, "record") == 0)
					ctl_text_record(ctl_rows[j]);
		} else
			ctl_text_table(ctl_rows[i]->kind);
	}
}

static void
ctl_json_string(const char *s)
{
	const unsigned char	*p;

	putchar('"');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void
ctl_json_fields(const struct ctl_row *r)
{
	size_t	 i;

	for (i = 0; i < r->n; i++) {
		if (i)
			putchar(',');
		ctl_json_string(r->f[i].key);
		putchar(':');
		if (r->f[i].type == 'i')
			printf("%" PRId64, r->f[i].i);
		else
			ctl_json_string(r->f[i].s);
	}
}

/* Is row j a child of row i: of a kind "<i's kind>/..."? */
static int
ctl_child_of(size_t i, size_t j)
{
	size_t	 len = strlen(ctl_rows[i]->kind);

	return strncmp(ctl_rows[j]->kind, ctl_rows[i]->kind, len) == 0 &&
	    ctl_rows[j]->kind[len] == '/';
}

/* Row i, with the child rows that follow it nested as lists. */
static void
ctl_json_row(size_t i)
{
	size_t	 j, k, n, end;
	char	 name[CTL_KIND_MAX + 1];

	putchar('{');
	ctl_json_fields(ctl_rows[i]);
	for (end = i + 1; end < ctl_nrows && ctl_child_of(i, end); end++)
		;
	for (j = i + 1; j < end; j++) {
		for (k = i + 1; k < j; k++)
			if (strcmp(ctl_rows[k]->kind, ctl_rows[j]->kind) == 0)
				break;
		if (k < j)
			continue;	/* this child kind is printed */
		/* The list's name: the kind with an "s", as at the top. */
		snprintf(name, sizeof(name), "%ss",
		    strchr(ctl_rows[j]->kind, '/') + 1);
		printf("%s", ctl_rows[i]->n ? "," : "");
		ctl_json_string(name);
		printf(":[");
		for (k = j, n = 0; k < end; k++) {
			if (strcmp(ctl_rows[k]->kind, ctl_rows[j]->kind) != 0)
				continue;
			if (n++)
				putchar(',');
			putchar('{');
			ctl_json_fields(ctl_rows[k]);
			putchar('}');
		}
		putchar(']');
	}
	putchar('}');
}

/*
 * {"connector": {...}, "domains": [...], ..., "message": "..."}; list,
 * when not NULL, is a kind shown as an empty list when no row has it.
 */
static void
ctl_print_json(const char *list, const char *message)
{
	size_t	 i, j, n;
	int	 first = 1;

	putchar('{');
	if (list != NULL && !ctl_kind_seen(ctl_nrows, list)) {
		printf("\"%ss\":[]", list);
		first = 0;
	}
	for (i = 0; i < ctl_nrows; i++) {
		if (ctl_is_child(ctl_rows[i]->kind) ||
		    ctl_kind_seen(i, ctl_rows[i]->kind))
			continue;
		if (!first)
			putchar(',');
		first = 0;
		if (ctl_rows[i]->single) {
			ctl_json_string(ctl_rows[i]->kind);
			putchar(':');
			ctl_json_row(i);
			continue;
		}
		printf("\"%ss\":[", ctl_rows[i]->kind);
		for (j = i, n = 0; j < ctl_nrows; j++) {
			if (strcmp(ctl_rows[j]->kind, ctl_rows[i]->kind) != 0)
				continue;
			if (n++)
				putchar(',');
			ctl_json_row(j);
		}
		putchar(']');
	}
	if (message[0] != '\0') {
		printf("%s\"message\":", first ? "" : ",");
		ctl_json_string(message);
	}
	printf("}\n");
}

/* The answer is complete: print it.  Returns the exit status. */
int
ctl_print(int json, const char *list, const char *message)
{
	if (json)
		ctl_print_json(list, message);
	else {
		ctl_print_text();
		if (message[0] != '\0')
			printf("%s%s\n", ctl_nrows ? "\n" : "", message);
	}
	return 0;
}

static void
ctl_duration(char *buf, size_t len, int64_t s)
{
	if (s >= 86400)
		snprintf(buf, len, "%" PRId64 "d%02" PRId64 "h%02" PRId64 "m",
		    s / 86400, s % 86400 / 3600, s % 3600 / 60);
	else if (s >= 3600)
		snprintf(buf, len, "%" PRId64 "h%02" PRId64 "m%02" PRId64 "s",
		    s / 3600, s % 3600 / 60, s % 60);
	else if (s >= 60)
		snprintf(buf, len, "%" PRId64 "m%02" PRId64 "s", s / 60,
		    s % 60);
	else
		snprintf(buf, len, "%" PRId64 "s", s);
}

/* show status: the parent's answer, forwarded by control. */
int
ctl_print_status(struct msg_in *m, int json)
{
	char		 name[CTL_KIND_MAX], up[32];
	uint64_t	 reqid;
	uint32_t	 n, i;
	int64_t		 uptime;
	int		 pid;

	if (m_get_u64(m, &reqid) == -1 || m_get_u32(m, &n) == -1 || n > 64)
		return -1;
	if (json)
		printf("{\"processes\":[");
	else
		printf("%-10s %8s %12s\n", "PROCESS", "PID", "UPTIME");
	for (i = 0; i < n; i++) {
		if (m_get_string(m, name, sizeof(name)) == -1 ||
		    m_get_int(m, &pid) == -1 || m_get_i64(m, &uptime) == -1)
			return -1;
		if (json) {
			printf("%s{\"name\":", i ? "," : "");
			ctl_json_string(name);
			printf(",\"pid\":%d,\"uptime\":%" PRId64 "}", pid,
			    uptime);
		} else {
			ctl_duration(up, sizeof(up), uptime);
			printf("%-10s %8d %12s\n", name, pid, up);
		}
	}
	if (json)
		printf("]}\n");
	return m_end(m);
}
