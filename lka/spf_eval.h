/*
 * What check_host() (spf.c) and the walk (spf_walk.c) share: the state
 * of one evaluation and the evaluation of single mechanisms.  Only the
 * lka/spf*.c files include this.
 */
#ifndef SENDGATE_SPF_EVAL_H
#define SENDGATE_SPF_EVAL_H

#include "spf.h"

#define SPF_STACK_MAX	(SPF_WALK_DEPTH_MAX + SPF_DNS_TERMS_MAX + 2)
#define SPF_IPDOT_MAX	(32 * 2 + 1)	/* 32 nibbles and dots */
#define SPF_REVNAME_MAX	(SPF_IPDOT_MAX + sizeof(".in-addr.arpa"))

struct spf_eval {
	const struct dns_source	*src;
	struct spf_outcome	*out;		/* check_host() only */
	int			 family;	/* 0: no client address */
	uint8_t			 ip[16];
	char			 domain[DNS_NAME_MAX + 2];	/* <domain> */
	struct spf_macro_ctx	 mc;
	char			 s[SPF_VALUE_MAX + 2];
	char			 l[SPF_VALUE_MAX + 2];
	char			 i[SPF_IPDOT_MAX];
	char			 c[48];
	char			 t[24];
	char			 rev[SPF_REVNAME_MAX];	/* PTR question */
	char			 p[DNS_NAME_MAX + 1];	/* %{p} ... */
	char			 p_for[DNS_NAME_MAX + 2];	/* ... for d */
	int			 p_known;
	int			 terms;
	int			 voids;
	int			 terms_max;
	int			 voids_max;
	const char		*none_why;	/* why a record was none */
	const char		*stack[SPF_STACK_MAX];	/* domains entered */
	int			 depth;
	char			 diag[256];	/* first problem */
	char			 scratch[SPF_EXPAND_MAX];
};

/* Character classes spelled out: no locale widens them. */
static inline int
spf_is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline int
spf_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* spf_eval_mech() and the mechanisms say */
enum spf_m {
	SPF_M_NOMATCH,
	SPF_M_MATCH,
	SPF_M_DONE,		/* *res is the result of the evaluation */
	SPF_M_SKIPPED		/* walk without an address: not evaluated */
};

/* spf_eval_expand() says */
enum spf_x {
	SPF_X_NAME,		/* a name to ask about */
	SPF_X_INVALID,		/* not a name: no match */
	SPF_X_NEED,		/* %{p} needs DNS */
	SPF_X_NOVALUE		/* walk without an address */
};

void		spf_eval_init(struct spf_eval *, const struct spf_request *,
		    const char *, const struct dns_source *);
void		spf_eval_diag(struct spf_eval *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
int		spf_eval_lookup(struct spf_eval *, const char *, enum dns_type,
		    const struct dns_answer **);
int		spf_eval_record(struct spf_eval *, const char *,
		    struct spf_record *, enum spf_result *, char *, size_t);
enum spf_x	spf_eval_expand(struct spf_eval *, const char *, const char *,
		    size_t, char *);
int		spf_eval_count(struct spf_eval *, const char *,
		    const struct spf_term *, enum spf_result *);
enum spf_m	spf_eval_mech(struct spf_eval *, const char *,
		    const struct spf_term *, enum spf_result *);
int		spf_eval_loop(struct spf_eval *, const char *,
		    const struct spf_term *, enum spf_result *);
int		spf_eval_push(struct spf_eval *, const char *,
		    enum spf_result *);

#endif
