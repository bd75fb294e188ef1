/*
 * DKIM key records (RFC 6376 3.6.1, RFC 8463, RFC 8301): the TXT at
 * <selector>._domainkey.<domain> parsed as a tag list and classified
 * against the relay's own public key.  Pure: no DNS, no I/O.
 *
 * The tag-list syntax (RFC 6376 3.2) is exported as well because DMARC
 * records borrow it (RFC 7489 6.3).
 *
 * Caps (SECURITY.md N1, N4): a record longer than DNS_TXT_MAX is invalid,
 * never cut; p= is decoded into at most DKIM_RECORD_KEY_MAX bytes; an
 * RSA key whose DER is longer than DKIM_RECORD_SPKI_MAX is refused before
 * OpenSSL parses it, and one over DKIM_RECORD_RSA_BITS_MAX bits after.
 */
#ifndef SENDGATE_DKIM_RECORD_H
#define SENDGATE_DKIM_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "dns.h"

#define DKIM_TAGS_MAX		32	/* tags in one tag list */
#define DKIM_RECORD_KEY_MAX	8192	/* bytes of a decoded p= */
#define DKIM_RECORD_RSA_BITS_MAX 8192
#define DKIM_RECORD_RSA_BITS_MIN 2048	/* RFC 8301: below is "weak" */
#define DKIM_RECORD_RSA_BITS_VALID 1024	/* RFC 8301: verifiers' minimum */
/* The DER SubjectPublicKeyInfo of an 8192-bit key is 1062 bytes. */
#define DKIM_RECORD_SPKI_MAX	1100
#define DKIM_ED25519_KEY_LEN	32	/* RFC 8463 4: the bare key */

/*
 * One tag of a tag list.  Name and value point into the record; the
 * value has the FWS around it removed (FWS inside stays).
 */
struct dkim_tag {
	const char	*name;
	size_t		 namelen;
	const char	*value;
	size_t		 valuelen;
};

struct dkim_tags {
	struct dkim_tag	 tag[DKIM_TAGS_MAX];
	size_t		 n;
	int		 icase;		/* tag names compare without case */
};

/*
 * Split a tag list.  Empty tag-specs (";;", a trailing ";") are skipped.
 * Returns 0, or -1 with the reason in err: a record over DNS_TXT_MAX,
 * a bad tag name or character (a NUL byte included), a missing '=',
 * a duplicate tag (which makes the whole list invalid, RFC 6376 3.2),
 * more than DKIM_TAGS_MAX tags.  icase: DMARC's tag names, unlike
 * DKIM's, are case-insensitive.
 */
int			 dkim_tags_parse(const char *, size_t, int,
			    struct dkim_tags *, char *, size_t);
/* The tag of that name, or NULL. */
const struct dkim_tag	*dkim_tags_get(const struct dkim_tags *,
			    const char *);
/*
 * A value for a message: its first bytes, FWS as spaces, "..." when
 * longer; buf holds at least DKIM_TAG_SHOWN_SIZE bytes.
 */
#define DKIM_TAG_SHOWN_MAX	40
#define DKIM_TAG_SHOWN_SIZE	(DKIM_TAG_SHOWN_MAX + 4)
const char		*dkim_tag_shown(const struct dkim_tag *, char *,
			    size_t);

struct dkim_record {
	int		 has_v;		/* v=DKIM1 was given (first) */
	char		 k[16];		/* "rsa" (the default) or "ed25519" */
	int		 has_h;		/* h= was given */
	int		 h_sha256;	/* sha256 allowed (h= absent: all) */
	int		 h_sha1;	/* h= lists sha1 */
	int		 revoked;	/* p= empty; key is NULL */
	int		 testing;	/* t=y */
	int		 strict;	/* t=s: i= must equal d= */
	int		 bits;		/* RSA modulus bits; 256 for ed25519 */
	uint8_t		*key;		/* decoded p=: DER SPKI or 32 bytes */
	size_t		 keylen;
};

/*
 * Parse one record (the character-strings of one TXT joined).  Returns 0
 * for a record a verifier can use or that revokes its key (revoked set),
 * -1 with the reason in err for an invalid one: tag-list errors, v= not
 * first or not DKIM1, k= unknown, h= without sha256 or sha1, s= without
 * email or *, p= missing, p= bad base64 or over the caps, an RSA p= that
 * is not a DER SubjectPublicKeyInfo, an ed25519 p= not 32 bytes long.
 * A weak key (h=sha1 only, RSA under 2048 bits) parses: the caller
 * judges it.  Free with dkim_record_free() after 0.
 */
int	dkim_record_parse(const char *, size_t, struct dkim_record *, char *,
	    size_t);
void	dkim_record_free(struct dkim_record *);

enum dkim_check {
	DKIM_OK,		/* the relay's key, usable */
	DKIM_MISSING,		/* NXDOMAIN, NODATA, or no DKIM record */
	DKIM_MISMATCH,		/* a valid key, not the relay's */
	DKIM_REVOKED,		/* p= empty */
	DKIM_INVALID,		/* unusable record, or two DKIM records */
	DKIM_WEAK,		/* RSA under 2048 bits, or h=sha1 only */
	DKIM_TEMPFAIL		/* ask again later */
};

const char	*dkim_check_name(enum dkim_check);

/*
 * Classify the TXT answer at a selector against the relay's key (key
 * type "rsa" or "ed25519", p= as base64).  Keys compare as decoded
 * bytes, never as strings.  TXT records whose first tag is a v= of
 * another protocol (v=spf1) or that hold no '=' are ignored; two or
 * more remaining records are invalid.  The first that applies wins:
 * invalid, revoked, weak by RSA size (whoever's key it is), mismatch,
 * weak by h=, ok.  diag gets one line a customer can act on.
 */
enum dkim_check	 dkim_record_check(const struct dns_answer *, const char *,
		    const char *, char *, size_t);

#endif
