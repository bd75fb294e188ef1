/*
 * DNS answers as lka's modules see them, and the resolver interface the
 * pure evaluators (SPF, DKIM and DMARC records, ownership tokens) take.
 *
 * lka/dns.c fills these from libunbound; the unit tests fill them from
 * tables.  Every answer is bounded (SECURITY.md N1-N2): at most
 * DNS_RR_MAX records, TXT data at most DNS_TXT_MAX bytes after the
 * character-strings of one record are joined; a larger answer is a
 * temporary failure, never silently cut.
 */
#ifndef SENDGATE_DNS_H
#define SENDGATE_DNS_H

#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAX	255	/* presentation form, without the root dot */
#define DNS_RR_MAX	256	/* records in one answer */
#define DNS_TXT_MAX	4096	/* bytes of one TXT record, strings joined */
#define DNS_TXT_STRINGS_MAX 64	/* character-strings in one TXT record */
#define DNS_CNAME_MAX	8	/* CNAME links followed */

enum dns_type {
	DNS_T_A = 1,
	DNS_T_PTR = 12,
	DNS_T_MX = 15,
	DNS_T_TXT = 16,
	DNS_T_AAAA = 28
};

enum dns_status {
	DNS_ANSWER,		/* records of the type asked */
	DNS_NODATA,		/* the name exists, no record of that type */
	DNS_NXDOMAIN,		/* the name does not exist */
	DNS_TEMPFAIL		/* timeout, SERVFAIL, over a cap: ask later */
};

struct dns_rr {
	enum dns_type	 type;
	union {
		uint8_t	 addr[16];	/* A: 4 bytes, AAAA: 16 */
		struct {
			uint16_t pref;
			char	 host[DNS_NAME_MAX + 1];
		}	 mx;
		char	 ptr[DNS_NAME_MAX + 1];
		struct {
			char	*data;		/* strings joined, NUL-ended */
			size_t	 len;		/* may hold NUL bytes */
			int	 nstrings;
		}	 txt;
	}		 u;
};

struct dns_answer {
	enum dns_status	 status;
	int		 nrr;
	struct dns_rr	*rr;
	char		 why[128];	/* for DNS_TEMPFAIL: what happened */
};

void	dns_answer_free(struct dns_answer *);
int	dns_name_eq(const char *, const char *);
/* dns_parse.c: a wire-format answer to the question (qname, qtype). */
struct dns_answer	*dns_parse(const uint8_t *, size_t, const char *,
			    enum dns_type);
struct dns_answer	*dns_answer_tempfail(const char *);
const char		*dns_type_name(enum dns_type);

/*
 * The answers one evaluation has collected, by question; the production
 * dns_source is a store plus the list of questions still open.
 */
struct dns_store;

struct dns_store	*dns_store_new(void);
void			 dns_store_free(struct dns_store *);
int			 dns_store_put(struct dns_store *, const char *,
			    enum dns_type, struct dns_answer *);
const struct dns_answer	*dns_store_get(struct dns_store *, const char *,
			    enum dns_type);
int			 dns_store_want(struct dns_store *, const char *,
			    enum dns_type);
int			 dns_store_wants(struct dns_store *,
			    int (*)(void *, const char *, enum dns_type),
			    void *);
size_t			 dns_store_count(const struct dns_store *);
struct dns_source	 dns_store_source(struct dns_store *);

/*
 * The resolver an evaluator asks.  lookup() returns 1 and points *ans at
 * an answer it keeps owning (valid until the evaluation ends), or 0 when
 * the answer is not known yet: the caller then stops with "need DNS",
 * the driver resolves the question asynchronously, stores the answer
 * and runs the evaluation again from the start (every earlier question
 * is answered from the store on the rerun).
 */
struct dns_source {
	int	(*lookup)(void *, const char *, enum dns_type,
		    const struct dns_answer **);
	void	*arg;
};

#endif
