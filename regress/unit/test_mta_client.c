/*
 * mta/mta_client.c: the outbound SMTP client protocol, as scripts.  Each
 * row is a conversation: server replies fed through the real reply
 * parser, the exact command bytes the client writes (one step per
 * write, so a pipelined group is one step), and the events the caller
 * sees, with the per-recipient results.  Whatever the row, nothing
 * but EHLO/HELO/STARTTLS/QUIT is written in clear under REQUIRE, and
 * AUTH never is (SECURITY.md O2).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "mta_client.h"
#include "smtp_parse.h"

enum op {
	OP_END, OP_C, OP_S, OP_TLS, OP_BODY, OP_MSG, OP_QUIT, OP_DONE,
	OP_RES, OP_READY, OP_CLOSED, OP_FATAL, OP_ABORT
};

struct step {
	enum op		 op;
	const char	*s;
	int		 arg;
};

#define CL(s)		{ OP_C, (s), 0 }	/* client writes exactly s */
#define SV(s)		{ OP_S, (s), 0 }	/* server sends s */
#define TLS(ok)		{ OP_TLS, NULL, (ok) }	/* handshake result */
#define BODY		{ OP_BODY, NULL, 0 }	/* body streamed */
#define MSG(i)		{ OP_MSG, NULL, (i) }	/* start message i */
#define QUIT		{ OP_QUIT, NULL, 0 }
#define DONE(s)		{ OP_DONE, (s), 0 }	/* MESSAGE_DONE, results */
#define RES(s)		{ OP_RES, (s), 0 }	/* results, any event */
#define READY		{ OP_READY, NULL, 0 }
#define CLOSED		{ OP_CLOSED, NULL, 0 }
#define FATAL(s)	{ OP_FATAL, (s), 0 }	/* FATAL, its failure */
#define ABORT		{ OP_ABORT, NULL, 0 }	/* connection lost */

#define STEPS_MAX	48

struct trcpt {
	const char	*addr;
	int		 notify;
	const char	*otype;
	const char	*orcpt;
};

struct tmsg {
	const char	*sender;
	uint64_t	 size;
	int		 body;
	int		 utf8;
	int		 ret;
	const char	*envid;
	size_t		 n;
	struct trcpt	 r[4];
};

static const struct tmsg m_two = {
	"a@example.org", 100, 0, 0, 0, NULL, 2,
	{ { "b@example.net", 0, NULL, NULL },
	  { "c@example.net", 0, NULL, NULL } }
};
static const struct tmsg m_one = {
	"", 100, 0, 0, 0, NULL, 1,
	{ { "d@example.net", 0, NULL, NULL } }
};
static const struct tmsg m_three = {
	"a@example.org", 100, 0, 0, 0, NULL, 3,
	{ { "b@example.net", 0, NULL, NULL },
	  { "c@example.net", 0, NULL, NULL },
	  { "d@example.net", 0, NULL, NULL } }
};
static const struct tmsg m_dsn = {
	"a@example.org", 100, SMTP_BODY_7BIT, 0, SMTP_RET_HDRS,
	"id+1=x y", 2,
	{ { "b@example.net", SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_FAILURE,
	    "rfc822", "B+b@example.net" },
	  { "c@example.net", SMTP_NOTIFY_NEVER, "utf-8", "c@example.net" } }
};
static const struct tmsg m_big = {
	"a@example.org", 5000, 0, 0, 0, NULL, 1,
	{ { "b@example.net", 0, NULL, NULL } }
};
static const struct tmsg m_utf8 = {
	"\xc3\xbc@example.org", 100, SMTP_BODY_8BITMIME, 1, 0, NULL, 1,
	{ { "b@example.net", 0, NULL, NULL } }
};
static const struct tmsg m_8bit = {
	"a@example.org", 100, SMTP_BODY_8BITMIME, 0, 0, NULL, 1,
	{ { "b@example.net", 0, NULL, NULL } }
};
static const struct tmsg m_crlf = {
	"a@example.org", 100, 0, 0, 0, NULL, 2,
	{ { "b@example.net", 0, NULL, NULL },
	  { "c@example.net\r\nDATA", 0, NULL, NULL } }
};
static const struct tmsg m_8bit_addr = {
	"a@example.org", 100, 0, 0, 0, NULL, 1,
	{ { "\xc3\xbc@example.net", 0, NULL, NULL } }
};
static const struct tmsg m_envid_crlf = {
	"a@example.org", 100, 0, 0, SMTP_RET_FULL, "x\r\nRSET", 1,
	{ { "b@example.net", 0, NULL, NULL } }
};

enum { PLAIN, CREDS };

struct row {
	const char		*name;
	enum mta_client_tls	 tls;
	int			 creds;
	const struct tmsg	*msg[2];
	struct step		 steps[STEPS_MAX];
};

#define GREET		SV("220 mx.example.net ESMTP\r\n")
#define EHLO		CL("EHLO mail.example.org\r\n")
#define HELO		CL("HELO mail.example.org\r\n")
#define EXT_PIPE	SV("250-mx.example.net\r\n250-PIPELINING\r\n" \
			    "250 8BITMIME\r\n")
#define EXT_NONE	SV("250 mx.example.net\r\n")
#define EXT_TLS		SV("250-mx.example.net\r\n250-PIPELINING\r\n" \
			    "250 STARTTLS\r\n")
#define MAIL_A		"MAIL FROM:<a@example.org>\r\n"
#define RCPT_B		"RCPT TO:<b@example.net>\r\n"
#define RCPT_C		"RCPT TO:<c@example.net>\r\n"
#define RCPT_D		"RCPT TO:<d@example.net>\r\n"
#define OK		"250 2.0.0 ok\r\n"
#define GO		"354 go ahead\r\n"
#define QUIT_OK		CL("QUIT\r\n"), SV("221 bye\r\n")
#define BYE		QUIT, QUIT_OK		/* the caller ends */
/* "\0user\0secret" */
#define AUTH_PLAIN	CL("AUTH PLAIN AHVzZXIAc2VjcmV0\r\n")

static const struct row rows[] = {
	{ "TLS NONE: STARTTLS offered and not used (the plaintext retry)",
	    MTA_CLIENT_TLS_NONE, PLAIN, { &m_one, NULL }, {
	    GREET, EHLO, EXT_TLS, READY, MSG(0),
	    CL("MAIL FROM:<>\r\n" RCPT_D "DATA\r\n"), SV(OK OK GO), BODY,
	    SV(OK), DONE("D250"), BYE, CLOSED } },
	{ "TLS NONE with credentials: no AUTH in clear",
	    MTA_CLIENT_TLS_NONE, CREDS, { NULL, NULL }, {
	    GREET, EHLO, SV("250-mx\r\n250-AUTH PLAIN\r\n250 STARTTLS\r\n"),
	    QUIT_OK, FATAL("T421/4.7.4 \"AUTH credentials configured and "
	    "no TLS\"") } },
	{ "implicit TLS: no STARTTLS even when offered, AUTH at once",
	    MTA_CLIENT_TLS_IMPLICIT, CREDS, { NULL, NULL }, {
	    GREET, EHLO,
	    SV("250-mx\r\n250-AUTH PLAIN\r\n250 STARTTLS\r\n"),
	    AUTH_PLAIN, SV("235 2.7.0 ok\r\n"), READY, BYE, CLOSED } },
	{ "plain delivery with PIPELINING: one write", 0, PLAIN,
	    { &m_two, NULL }, {
	    GREET, EHLO, EXT_PIPE, READY, MSG(0),
	    CL(MAIL_A RCPT_B RCPT_C "DATA\r\n"),
	    SV(OK OK "250 ok\r\n" GO), BODY,
	    SV("250 2.0.0 queued as X\r\n"),
	    DONE("D250/2.0.0 \"2.0.0 queued as X\","
	    "D250/2.0.0 \"2.0.0 queued as X\""),
	    BYE, CLOSED } },
	{ "without PIPELINING: one command per reply", 0, PLAIN,
	    { &m_two, NULL }, {
	    GREET, EHLO, EXT_NONE, MSG(0),
	    CL(MAIL_A), SV(OK), CL(RCPT_B), SV(OK), CL(RCPT_C), SV(OK),
	    CL("DATA\r\n"), SV(GO), BODY, SV(OK), DONE("D250,D250"),
	    BYE, CLOSED } },
	{ "HELO fallback on 502: no extensions", 0, PLAIN,
	    { &m_two, NULL }, {
	    GREET, EHLO, SV("502 5.5.1 what\r\n"), HELO,
	    SV("250 mx.example.net\r\n"), READY, MSG(0),
	    CL(MAIL_A), SV(OK), CL(RCPT_B), SV(OK), CL(RCPT_C),
	    SV("550 5.1.1 no\r\n"), CL("DATA\r\n"), SV(GO), BODY, SV(OK),
	    DONE("D250,P550/5.1.1 \"5.1.1 no\""), BYE, CLOSED } },
	{ "HELO fallback on 500", 0, PLAIN, { NULL, NULL }, {
	    GREET, EHLO, SV("500 unknown\r\n"), HELO, SV(OK), READY,
	    BYE, CLOSED } },
	{ "HELO refused", 0, PLAIN, { NULL, NULL }, {
	    GREET, EHLO, SV("500 unknown\r\n"), HELO,
	    SV("550 5.7.1 go away\r\n"), QUIT_OK,
	    FATAL("P550/5.7.1 \"HELO refused: 550 5.7.1 go away\"") } },
	{ "EHLO 4xx: temporary, QUIT", 0, PLAIN, { NULL, NULL }, {
	    GREET, EHLO, SV("451 later\r\n"), QUIT_OK,
	    FATAL("T451 \"EHLO refused: 451 later\"") } },
	{ "STARTTLS opportunistic offered: EHLO again, keywords "
	    "forgotten", MTA_CLIENT_TLS_OPPORTUNISTIC, PLAIN,
	    { &m_two, NULL }, {
	    GREET, EHLO, EXT_TLS, CL("STARTTLS\r\n"),
	    SV("220 2.0.0 go\r\n"), TLS(1), EHLO, EXT_NONE, READY, MSG(0),
	    CL(MAIL_A), SV(OK), CL(RCPT_B), SV(OK), CL(RCPT_C), SV(OK),
	    CL("DATA\r\n"), SV(GO), BODY, SV(OK), DONE("D250,D250"),
	    BYE, CLOSED } },
	{ "STARTTLS opportunistic not offered: plain",
	    MTA_CLIENT_TLS_OPPORTUNISTIC, PLAIN, { &m_one, NULL }, {
	    GREET, EHLO, EXT_PIPE, MSG(0),
	    CL("MAIL FROM:<>\r\n" RCPT_D "DATA\r\n"), SV(OK OK GO), BODY,
	    SV(OK), DONE("D250"), BYE, CLOSED } },
	{ "REQUIRE without STARTTLS: temporary, nothing in clear",
	    MTA_CLIENT_TLS_REQUIRE, PLAIN, { &m_two, NULL }, {
	    GREET, EHLO, EXT_PIPE, QUIT_OK,
	    FATAL("T421/4.7.4 \"TLS required and STARTTLS not "
	    "offered\"") } },
	{ "REQUIRE after HELO fallback: temporary",
	    MTA_CLIENT_TLS_REQUIRE, PLAIN, { NULL, NULL }, {
	    GREET, EHLO, SV("502 no\r\n"), HELO, SV(OK), QUIT_OK,
	    FATAL("T421/4.7.4 \"TLS required and STARTTLS not "
	    "offered\"") } },
	{ "STARTTLS 454 with REQUIRE: temporary",
	    MTA_CLIENT_TLS_REQUIRE, PLAIN, { NULL, NULL }, {
	    GREET, EHLO, EXT_TLS, CL("STARTTLS\r\n"),
	    SV("454 4.7.0 TLS not available\r\n"), QUIT_OK,
	    FATAL("T421/4.7.4 \"TLS required and STARTTLS refused: 454 "
	    "4.7.0 TLS not available\"") } },
	{ "STARTTLS 454 with OPPORTUNISTIC: plain",
	    MTA_CLIENT_TLS_OPPORTUNISTIC, PLAIN, { &m_one, NULL }, {
	    GREET, EHLO, EXT_TLS, CL("STARTTLS\r\n"),
	    SV("454 4.7.0 TLS not available\r\n"), READY, MSG(0),
	    CL("MAIL FROM:<>\r\n" RCPT_D "DATA\r\n"), SV(OK OK GO), BODY,
	    SV(OK), DONE("D250"), BYE, CLOSED } },
	{ "TLS handshake failed: temporary, no QUIT",
	    MTA_CLIENT_TLS_OPPORTUNISTIC, PLAIN, { NULL, NULL }, {
	    GREET, EHLO, EXT_TLS, CL("STARTTLS\r\n"), SV("220 go\r\n"),
	    TLS(0), FATAL("T421/4.7.5 \"TLS handshake failed\"") } },
	{ "STARTTLS response injection refused (O2)",
	    MTA_CLIENT_TLS_OPPORTUNISTIC, PLAIN, { NULL, NULL }, {
	    GREET, EHLO, EXT_TLS, CL("STARTTLS\r\n"),
	    SV("220 go\r\n250 fake\r\n"),
	    FATAL("T421/4.4.2 \"Protocol error: data when no reply was awaited\"") } },
	{ "AUTH after TLS only, PLAIN with initial response",
	    MTA_CLIENT_TLS_REQUIRE, CREDS, { &m_one, NULL }, {
	    GREET, EHLO,
	    SV("250-mx\r\n250-AUTH PLAIN LOGIN\r\n250 STARTTLS\r\n"),
	    CL("STARTTLS\r\n"), SV("220 go\r\n"), TLS(1), EHLO,
	    SV("250-mx\r\n250-PIPELINING\r\n250 AUTH LOGIN PLAIN\r\n"),
	    AUTH_PLAIN, SV("235 2.7.0 ok\r\n"), READY, MSG(0),
	    CL("MAIL FROM:<>\r\n" RCPT_D "DATA\r\n"), SV(OK OK GO), BODY,
	    SV(OK), DONE("D250"), BYE, CLOSED } },
	{ "AUTH=PLAIN old syntax", MTA_CLIENT_TLS_REQUIRE, CREDS,
	    { NULL, NULL }, {
	    GREET, EHLO, EXT_TLS, CL("STARTTLS\r\n"), SV("220 go\r\n"),
	    TLS(1), EHLO, SV("250-mx\r\n250 AUTH=LOGIN PLAIN\r\n"),
	    AUTH_PLAIN, SV("235 ok\r\n"), READY, BYE, CLOSED } },
	{ "credentials and no STARTTLS: no AUTH in clear, temporary",
	    MTA_CLIENT_TLS_OPPORTUNISTIC, CREDS, { NULL, NULL }, {
	    GREET, EHLO, SV("250-mx\r\n250 AUTH PLAIN\r\n"), QUIT_OK,
	    FATAL("T421/4.7.4 \"AUTH credentials configured and no "
	    "TLS\"") } },
	{ "credentials and STARTTLS refused: no AUTH in clear",
	    MTA_CLIENT_TLS_OPPORTUNISTIC, CREDS, { NULL, NULL }, {
	    GREET, EHLO, SV("250-mx\r\n250-AUTH PLAIN\r\n250 STARTTLS\r\n"),
	    CL("STARTTLS\r\n"), SV("454 no\r\n"), QUIT_OK,
	    FATAL("T421/4.7.4 \"AUTH credentials configured and no "
	    "TLS\"") } },
	{ "AUTH PLAIN not offered inside TLS", MTA_CLIENT_TLS_REQUIRE,
	    CREDS, { NULL, NULL }, {
	    GREET, EHLO, EXT_TLS, CL("STARTTLS\r\n"), SV("220 go\r\n"),
	    TLS(1), EHLO, SV("250-mx\r\n250 AUTH LOGIN\r\n"), QUIT_OK,
	    FATAL("T421/4.7.4 \"AUTH PLAIN not offered\"") } },
	{ "AUTH 535: temporary", MTA_CLIENT_TLS_REQUIRE, CREDS,
	    { NULL, NULL }, {
	    GREET, EHLO, EXT_TLS, CL("STARTTLS\r\n"), SV("220 go\r\n"),
	    TLS(1), EHLO, SV("250-mx\r\n250 AUTH PLAIN\r\n"), AUTH_PLAIN,
	    SV("535 5.7.8 bad credentials\r\n"), QUIT_OK,
	    FATAL("T421/4.7.0 \"AUTH failed: 535 5.7.8 bad "
	    "credentials\"") } },
	{ "AUTH 334: cancelled with *", MTA_CLIENT_TLS_REQUIRE, CREDS,
	    { NULL, NULL }, {
	    GREET, EHLO, EXT_TLS, CL("STARTTLS\r\n"), SV("220 go\r\n"),
	    TLS(1), EHLO, SV("250-mx\r\n250 AUTH PLAIN\r\n"), AUTH_PLAIN,
	    SV("334 \r\n"), CL("*\r\n"), SV("501 cancelled\r\n"), QUIT_OK,
	    FATAL("T421/4.7.0 \"AUTH failed: 501 cancelled\"") } },
	{ "SIZE too big: permanent, nothing sent", 0, PLAIN,
	    { &m_big, &m_one }, {
	    GREET, EHLO, SV("250-mx\r\n250-PIPELINING\r\n250 SIZE 1000\r\n"),
	    MSG(0), DONE("P552/5.3.4 \"Message larger than the server's "
	    "SIZE limit\""), MSG(1),
	    CL("MAIL FROM:<> SIZE=100\r\n" RCPT_D "DATA\r\n"),
	    SV(OK OK GO), BODY, SV(OK), DONE("D250"), BYE, CLOSED } },
	{ "SIZE without a limit: no refusal", 0, PLAIN, { &m_big, NULL }, {
	    GREET, EHLO, SV("250-mx\r\n250 SIZE\r\n"), MSG(0),
	    CL("MAIL FROM:<a@example.org> SIZE=5000\r\n"), SV(OK),
	    CL(RCPT_B), SV(OK), CL("DATA\r\n"), SV(GO), BODY, SV(OK),
	    DONE("D250"), BYE, CLOSED } },
	{ "SMTPUTF8 to a server without it: 5.6.7", 0, PLAIN,
	    { &m_utf8, NULL }, {
	    GREET, EHLO, EXT_PIPE, MSG(0),
	    DONE("P550/5.6.7 \"SMTPUTF8 message and the server does not "
	    "offer SMTPUTF8\""), BYE, CLOSED } },
	{ "SMTPUTF8 offered: parameters", 0, PLAIN, { &m_utf8, NULL }, {
	    GREET, EHLO, SV("250-mx\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"),
	    MSG(0),
	    CL("MAIL FROM:<\xc3\xbc@example.org> BODY=8BITMIME "
	    "SMTPUTF8\r\n"), SV(OK), CL(RCPT_B), SV(OK), CL("DATA\r\n"),
	    SV(GO), BODY, SV(OK), DONE("D250"), BYE, CLOSED } },
	{ "8BITMIME to a server without it: 5.6.3", 0, PLAIN,
	    { &m_8bit, NULL }, {
	    GREET, EHLO, EXT_NONE, MSG(0),
	    DONE("P554/5.6.3 \"8-bit message and the server does not "
	    "offer 8BITMIME\""), BYE, CLOSED } },
	{ "DSN parameters with DSN, xtext", 0, PLAIN, { &m_dsn, NULL }, {
	    GREET, EHLO,
	    SV("250-mx\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 DSN\r\n"),
	    MSG(0),
	    CL("MAIL FROM:<a@example.org> BODY=7BIT RET=HDRS "
	    "ENVID=id+2B1+3Dx+20y\r\n"
	    "RCPT TO:<b@example.net> NOTIFY=SUCCESS,FAILURE "
	    "ORCPT=rfc822;B+2Bb@example.net\r\n"
	    "RCPT TO:<c@example.net> NOTIFY=NEVER\r\n"
	    "DATA\r\n"),
	    SV(OK OK OK GO), BODY, SV(OK), DONE("D250,D250"), BYE,
	    CLOSED } },
	{ "DSN parameters left out without DSN", 0, PLAIN,
	    { &m_dsn, NULL }, {
	    GREET, EHLO, EXT_PIPE, MSG(0),
	    CL("MAIL FROM:<a@example.org> BODY=7BIT\r\n" RCPT_B RCPT_C
	    "DATA\r\n"),
	    SV(OK OK OK GO), BODY, SV(OK), DONE("D250,D250"), BYE,
	    CLOSED } },
	{ "mixed RCPT results", 0, PLAIN, { &m_three, NULL }, {
	    GREET, EHLO, EXT_PIPE, MSG(0),
	    CL(MAIL_A RCPT_B RCPT_C RCPT_D "DATA\r\n"),
	    SV(OK "550 5.1.1 unknown\r\n" "450 4.2.0 greylisted\r\n" OK
	    GO), BODY, SV("250 2.0.0 ok id\r\n"),
	    DONE("P550/5.1.1 \"5.1.1 unknown\",T450/4.2.0 \"4.2.0 "
	    "greylisted\",D250/2.0.0 \"2.0.0 ok id\""), BYE, CLOSED } },
	{ "all RCPT refused without PIPELINING: no DATA, RSET next", 0,
	    PLAIN, { &m_two, &m_one }, {
	    GREET, EHLO, EXT_NONE, MSG(0),
	    CL(MAIL_A), SV(OK), CL(RCPT_B), SV("550 no\r\n"), CL(RCPT_C),
	    SV("450 later\r\n"), DONE("P550,T450"), MSG(1),
	    CL("RSET\r\n"), SV(OK), CL("MAIL FROM:<>\r\n"), SV(OK),
	    CL(RCPT_D), SV(OK), CL("DATA\r\n"), SV(GO), BODY, SV(OK),
	    DONE("D250"), BYE, CLOSED } },
	{ "all RCPT refused with PIPELINING: DATA 554, RSET pipelined", 0,
	    PLAIN, { &m_two, &m_one }, {
	    GREET, EHLO, EXT_PIPE, MSG(0),
	    CL(MAIL_A RCPT_B RCPT_C "DATA\r\n"),
	    SV(OK "550 no\r\n" "550 no\r\n" "554 no valid recipients\r\n"),
	    DONE("P550,P550"), MSG(1),
	    CL("RSET\r\nMAIL FROM:<>\r\n" RCPT_D "DATA\r\n"),
	    SV(OK OK OK GO), BODY, SV(OK), DONE("D250"), BYE, CLOSED } },
	{ "all RCPT refused and QUIT: no RSET", 0, PLAIN,
	    { &m_one, NULL }, {
	    GREET, EHLO, EXT_NONE, MSG(0), CL("MAIL FROM:<>\r\n"), SV(OK),
	    CL(RCPT_D), SV("550 no\r\n"), DONE("P550"), BYE,
	    CLOSED } },
	{ "354 with no recipient accepted: lone dot", 0, PLAIN,
	    { &m_one, &m_one }, {
	    GREET, EHLO, EXT_PIPE, MSG(0),
	    CL("MAIL FROM:<>\r\n" RCPT_D "DATA\r\n"),
	    SV(OK "550 no\r\n" GO), CL(".\r\n"), SV("554 no data\r\n"),
	    DONE("P550"), MSG(1),
	    CL("MAIL FROM:<>\r\n" RCPT_D "DATA\r\n"), SV(OK OK GO), BODY,
	    SV(OK), DONE("D250"), BYE, CLOSED } },
	{ "MAIL refused with PIPELINING: its reply for all", 0, PLAIN,
	    { &m_two, NULL }, {
	    GREET, EHLO, EXT_PIPE, MSG(0),
	    CL(MAIL_A RCPT_B RCPT_C "DATA\r\n"),
	    SV("553 5.1.8 bad sender\r\n" "503 5.5.1 no MAIL\r\n"
	    "503 5.5.1 no MAIL\r\n" "503 5.5.1 no MAIL\r\n"),
	    DONE("P553/5.1.8,P553/5.1.8"), BYE, CLOSED } },
	{ "MAIL 4xx without PIPELINING: all temporary", 0, PLAIN,
	    { &m_two, NULL }, {
	    GREET, EHLO, EXT_NONE, MSG(0), CL(MAIL_A),
	    SV("452 4.3.1 full\r\n"), DONE("T452/4.3.1,T452/4.3.1"),
	    BYE, CLOSED } },
	{ "DATA refused: accepted recipients get it", 0, PLAIN,
	    { &m_two, NULL }, {
	    GREET, EHLO, EXT_NONE, MSG(0), CL(MAIL_A), SV(OK), CL(RCPT_B),
	    SV("550 no\r\n"), CL(RCPT_C), SV(OK), CL("DATA\r\n"),
	    SV("451 4.3.0 later\r\n"), DONE("P550,T451/4.3.0"), BYE,
	    CLOSED } },
	{ "4xx after the body: temporary, no RSET", 0, PLAIN,
	    { &m_two, &m_one }, {
	    GREET, EHLO, EXT_PIPE, MSG(0),
	    CL(MAIL_A RCPT_B RCPT_C "DATA\r\n"), SV(OK OK OK GO), BODY,
	    SV("451 4.7.1 try later\r\n"),
	    DONE("T451/4.7.1,T451/4.7.1"), MSG(1),
	    CL("MAIL FROM:<>\r\n" RCPT_D "DATA\r\n"), SV(OK OK GO), BODY,
	    SV(OK), DONE("D250"), BYE, CLOSED } },
	{ "5xx after the body: permanent", 0, PLAIN, { &m_two, NULL }, {
	    GREET, EHLO, EXT_PIPE, MSG(0),
	    CL(MAIL_A RCPT_B RCPT_C "DATA\r\n"),
	    SV(OK "550 5.1.1 no\r\n" OK GO), BODY,
	    SV("554 5.7.1 spam\r\n"),
	    DONE("P550/5.1.1,P554/5.7.1 \"5.7.1 spam\""), BYE,
	    CLOSED } },
	{ "second message on the same connection: no RSET", 0, PLAIN,
	    { &m_two, &m_one }, {
	    GREET, EHLO, EXT_PIPE, MSG(0),
	    CL(MAIL_A RCPT_B RCPT_C "DATA\r\n"), SV(OK OK OK GO), BODY,
	    SV(OK), DONE("D250,D250"), MSG(1),
	    CL("MAIL FROM:<>\r\n" RCPT_D "DATA\r\n"), SV(OK OK GO), BODY,
	    SV(OK), DONE("D250"), BYE, CLOSED } },
	{ "RSET refused: next message temporary, QUIT", 0, PLAIN,
	    { &m_one, &m_two }, {
	    GREET, EHLO, EXT_NONE, MSG(0), CL("MAIL FROM:<>\r\n"),
	    SV("550 no\r\n"), DONE("P550"), MSG(1), CL("RSET\r\n"),
	    SV("500 what\r\n"), QUIT_OK,
	    FATAL("T421/4.5.0 \"RSET refused: 500 what\""),
	    RES("T421/4.5.0,T421/4.5.0") } },
	{ "greeting 554: whole destination, QUIT", 0, PLAIN,
	    { NULL, NULL }, {
	    SV("554 5.7.1 no service\r\n"), QUIT_OK,
	    FATAL("P554/5.7.1 \"5.7.1 no service\"") } },
	{ "greeting 450: temporary, QUIT", 0, PLAIN, { NULL, NULL }, {
	    SV("450 busy\r\n"), CL("QUIT\r\n"), ABORT,
	    FATAL("T450 \"busy\"") } },
	{ "greeting 421: no QUIT", 0, PLAIN, { NULL, NULL }, {
	    SV("421 4.3.2 shutting down\r\n"),
	    FATAL("T421/4.3.2 \"4.3.2 shutting down\"") } },
	{ "greeting 250: protocol error", 0, PLAIN, { NULL, NULL }, {
	    SV("250 hi\r\n"),
	    FATAL("T421/4.4.2 \"unexpected greeting: 250 hi\"") } },
	{ "protocol error mid-transaction (CVE-2020-8794)", 0, PLAIN,
	    { &m_three, NULL }, {
	    GREET, EHLO, EXT_PIPE, MSG(0),
	    CL(MAIL_A RCPT_B RCPT_C RCPT_D "DATA\r\n"),
	    SV(OK "550 no\r\n" "25\r\n"),
	    FATAL("T421/4.4.2 \"Protocol error: reply line ends inside the "
	    "code\""),
	    RES("P550,T421/4.4.2,T421/4.4.2") } },
	{ "421 mid-transaction: everything pending, no QUIT", 0, PLAIN,
	    { &m_three, NULL }, {
	    GREET, EHLO, EXT_NONE, MSG(0), CL(MAIL_A), SV(OK), CL(RCPT_B),
	    SV(OK), CL(RCPT_C), SV("421 4.4.5 bye\r\n"),
	    FATAL("T421/4.4.5 \"4.4.5 bye\""),
	    RES("T421/4.4.5,T421/4.4.5,T421/4.4.5") } },
	{ "connection lost after the body: temporary", 0, PLAIN,
	    { &m_two, NULL }, {
	    GREET, EHLO, EXT_PIPE, MSG(0),
	    CL(MAIL_A RCPT_B RCPT_C "DATA\r\n"), SV(OK OK OK GO), BODY,
	    ABORT, FATAL("T421/4.4.2 \"connection lost\""),
	    RES("T421/4.4.2,T421/4.4.2") } },
	{ "250 to DATA: protocol error", 0, PLAIN, { &m_one, NULL }, {
	    GREET, EHLO, EXT_NONE, MSG(0), CL("MAIL FROM:<>\r\n"), SV(OK),
	    CL(RCPT_D), SV(OK), CL("DATA\r\n"), SV(OK),
	    FATAL("T421/4.4.2 \"unexpected reply to DATA: 250 2.0.0 "
	    "ok\""), RES("T421/4.4.2") } },
	{ "354 to MAIL: protocol error", 0, PLAIN, { &m_one, NULL }, {
	    GREET, EHLO, EXT_NONE, MSG(0), CL("MAIL FROM:<>\r\n"), SV(GO),
	    FATAL("T421/4.4.2 \"unexpected reply to MAIL: 354 go "
	    "ahead\""), RES("T421/4.4.2") } },
	{ "CR LF in a recipient: refused, nothing sent", 0, PLAIN,
	    { &m_crlf, &m_one }, {
	    GREET, EHLO, EXT_PIPE, MSG(0),
	    DONE("P554/5.3.0,P554/5.3.0"), MSG(1),
	    CL("MAIL FROM:<>\r\n" RCPT_D "DATA\r\n"), SV(OK OK GO), BODY,
	    SV(OK), DONE("D250"), BYE, CLOSED } },
	{ "CR LF in ENVID: refused even without DSN", 0, PLAIN,
	    { &m_envid_crlf, NULL }, {
	    GREET, EHLO, EXT_PIPE, MSG(0), DONE("P554/5.3.0"), BYE,
	    CLOSED } },
	{ "8-bit address outside SMTPUTF8: refused", 0, PLAIN,
	    { &m_8bit_addr, NULL }, {
	    GREET, EHLO, SV("250-mx\r\n250 SMTPUTF8\r\n"), MSG(0),
	    DONE("P554/5.3.0"), BYE, CLOSED } },
};

static const char *ev_name[] = {
	"WRITE", "READ", "NEED_TLS", "SEND_BODY", "MESSAGE_DONE", "READY",
	"CLOSED", "FATAL"
};

/* Escaped copy for failure messages (one at a time). */
static const char *
printable(const char *s, size_t n)
{
	static char	buf[1024];
	size_t		i, o = 0;

	for (i = 0; i < n && o + 8 < sizeof(buf); i++) {
		unsigned char	c = s[i];

		if (c < 0x20 || c >= 0x7f || c == '\\')
			o += snprintf(buf + o, sizeof(buf) - o, "\\x%02x", c);
		else
			buf[o++] = c;
	}
	buf[o] = '\0';
	return buf;
}

/*
 * A result as "D250/2.0.0 \"text\"".  The expected form may stop after
 * the code or the enhanced code: only that much is compared.
 */
static int
result_match(const struct mta_client_result *r, const char *want,
    size_t wlen)
{
	char	got[MTA_CLIENT_TEXT_MAX + 64];
	char	st;

	switch (r->status) {
	case MTA_CLIENT_DELIVERED:	st = 'D'; break;
	case MTA_CLIENT_TEMPFAIL:	st = 'T'; break;
	case MTA_CLIENT_PERMFAIL:	st = 'P'; break;
	case MTA_CLIENT_ACCEPTED:	st = 'A'; break;
	default:			st = '-'; break;
	}
	if (wlen > 0 && want[wlen - 1] == '"')
		snprintf(got, sizeof(got), "%c%d%s%s \"%s\"", st, r->code,
		    r->enhanced[0] ? "/" : "", r->enhanced, r->text);
	else if (memchr(want, '/', wlen) != NULL)
		snprintf(got, sizeof(got), "%c%d/%s", st, r->code,
		    r->enhanced);
	else
		snprintf(got, sizeof(got), "%c%d", st, r->code);
	return strlen(got) == wlen && memcmp(got, want, wlen) == 0;
}

static const char *
result_str(const struct mta_client_result *r)
{
	static char	buf[MTA_CLIENT_TEXT_MAX + 64];

	snprintf(buf, sizeof(buf), "%d/%d/%s \"%s\"", r->status, r->code,
	    r->enhanced, r->text);
	return buf;
}

/* want: results separated by ",", outside the quotes. */
static void
check_results(const char *name, int i, const struct mta_client_msg *m,
    const char *want)
{
	const char	*p = want, *e;
	size_t		 k;
	int		 q;

	for (k = 0; k < m->nrcpt; k++) {
		for (e = p, q = 0; *e != '\0' && (q || *e != ','); e++)
			if (*e == '"')
				q = !q;
		if (e == p)
			fail_msg("%s step %d: %zu results, want fewer", name,
			    i, m->nrcpt);
		if (!result_match(&m->rcpt[k].result, p, e - p))
			fail_msg("%s step %d: recipient %zu is %s, want %.*s",
			    name, i, k, result_str(&m->rcpt[k].result),
			    (int)(e - p), p);
		p = *e == ',' ? e + 1 : e;
	}
	if (*p != '\0')
		fail_msg("%s step %d: only %zu recipients", name, i,
		    m->nrcpt);
}

static void
make_msg(const struct tmsg *t, struct mta_client_msg *m,
    struct mta_client_rcpt *r)
{
	size_t	i;

	memset(m, 0, sizeof(*m));
	m->sender = t->sender;
	m->size = t->size;
	m->body = t->body;
	m->smtputf8 = t->utf8;
	m->ret = t->ret;
	m->envid = t->envid;
	m->rcpt = r;
	m->nrcpt = t->n;
	for (i = 0; i < t->n; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].addr = t->r[i].addr;
		r[i].notify = t->r[i].notify;
		r[i].orcpt_type = t->r[i].otype;
		r[i].orcpt = t->r[i].orcpt;
	}
}

static const struct mta_client_params *
params(enum mta_client_tls tls, int creds)
{
	static struct mta_client_params	pa;

	pa.helo = "mail.example.org";
	pa.tls = tls;
	pa.auth_user = creds ? "user" : NULL;
	pa.auth_pass = creds ? "secret" : NULL;
	return &pa;
}

static size_t
count_crlf(const uint8_t *p, size_t n)
{
	size_t	i, k = 0;

	for (i = 0; i + 1 < n; i++)
		if (p[i] == '\r' && p[i + 1] == '\n')
			k++;
	return k;
}

static void
want_event(const char *name, int i, struct mta_client *c,
    enum mta_client_event want)
{
	enum mta_client_event	ev = mta_client_event(c);

	if (ev != want)
		fail_msg("%s step %d: event %s, want %s", name, i,
		    ev_name[ev], ev_name[want]);
}

/* Feeds server bytes through the parser, replies to the client. */
static void
server(struct mta_client *c, struct mta_reply_parser *p, const char *s)
{
	const uint8_t		*in = (const uint8_t *)s;
	size_t			 len = strlen(s), used;
	enum mta_reply_status	 st;

	while (len > 0) {
		st = mta_reply_feed(p, in, len, &used);
		in += used;
		len -= used;
		if (st == MTA_REPLY_ERROR) {
			mta_client_protocol_error(c, mta_reply_error(p));
			return;
		}
		if (st == MTA_REPLY_MORE)
			return;
		mta_client_input(c, mta_reply_get(p));
		/* What the mta does after each reply (O2). */
		if (mta_reply_drained(p, len) == -1) {
			mta_client_protocol_error(c, mta_reply_error(p));
			return;
		}
	}
}

static void
run_row(const struct row *t)
{
	struct mta_client		 c;
	struct mta_reply_parser		*p;
	struct mta_client_msg		 m[2];
	struct mta_client_rcpt		 r[2][4];
	uint8_t				 out[8192];
	size_t				 len;
	unsigned int			 n;
	int				 i, k, cur = -1, tls = 0;
	enum mta_client_event		 ev;
	const struct step		*st;

	if ((p = malloc(sizeof(*p))) == NULL)
		fail_msg("malloc");
	for (k = 0; k < 2; k++)
		if (t->msg[k] != NULL)
			make_msg(t->msg[k], &m[k], r[k]);
	if (mta_client_init(&c, params(t->tls, t->creds)) == -1)
		fail_msg("%s: init", t->name);
	mta_reply_init(p);
	mta_reply_expect(p, 1);
	/* Implicit TLS: the caller's handshake came before the greeting. */
	tls = t->tls == MTA_CLIENT_TLS_IMPLICIT;
	for (i = 0; t->steps[i].op != OP_END; i++) {
		st = &t->steps[i];
		switch (st->op) {
		case OP_C:
			want_event(t->name, i, &c, MTA_CLIENT_WRITE);
			if (mta_client_output(&c, out, sizeof(out), &len,
			    &n) == -1)
				fail_msg("%s step %d: output", t->name, i);
			if (len != strlen(st->s) ||
			    memcmp(out, st->s, len) != 0)
				fail_msg("%s step %d: wrote \"%s\"", t->name, i,
				    printable((char *)out, len));
			if (n != count_crlf(out, len))
				fail_msg("%s step %d: %u replies awaited",
				    t->name, i, n);
			if (!tls && (memmem(out, len, "AUTH", 4) != NULL ||
			    (t->tls == MTA_CLIENT_TLS_REQUIRE &&
			    memmem(out, len, "MAIL", 4) != NULL)))
				fail_msg("%s step %d: sent in clear", t->name,
				    i);
			if (mta_reply_expect(p, n) == -1)
				fail_msg("%s step %d: expect", t->name, i);
			break;
		case OP_S:
			want_event(t->name, i, &c, MTA_CLIENT_READ);
			server(&c, p, st->s);
			break;
		case OP_TLS:
			want_event(t->name, i, &c, MTA_CLIENT_NEED_TLS);
			mta_reply_init(p);
			tls = st->arg;
			mta_client_tls_done(&c, st->arg);
			break;
		case OP_BODY:
			want_event(t->name, i, &c, MTA_CLIENT_SEND_BODY);
			if (mta_client_body_done(&c) != MTA_CLIENT_READ)
				fail_msg("%s step %d: not reading", t->name, i);
			mta_reply_expect(p, 1);
			break;
		case OP_MSG:
			ev = mta_client_event(&c);
			if (ev != MTA_CLIENT_READY &&
			    ev != MTA_CLIENT_MESSAGE_DONE)
				fail_msg("%s step %d: event %s", t->name, i,
				    ev_name[ev]);
			cur = st->arg;
			mta_client_message(&c, &m[cur]);
			break;
		case OP_QUIT:
			mta_client_quit(&c);
			break;
		case OP_DONE:
			want_event(t->name, i, &c, MTA_CLIENT_MESSAGE_DONE);
			/* FALLTHROUGH */
		case OP_RES:
			if (cur < 0)
				fail_msg("%s step %d: no message", t->name, i);
			check_results(t->name, i, &m[cur], st->s);
			break;
		case OP_READY:
			want_event(t->name, i, &c, MTA_CLIENT_READY);
			break;
		case OP_CLOSED:
			want_event(t->name, i, &c, MTA_CLIENT_CLOSED);
			break;
		case OP_FATAL:
			want_event(t->name, i, &c, MTA_CLIENT_FATAL);
			if (!result_match(mta_client_failure(&c), st->s,
			    strlen(st->s)))
				fail_msg("%s step %d: failure %s", t->name, i,
				    result_str(mta_client_failure(&c)));
			break;
		case OP_ABORT:
			mta_client_abort(&c, 421, "4.4.2", "connection lost");
			break;
		default:
			fail_msg("%s step %d: bad op", t->name, i);
		}
	}
	/* Every script ends with the connection over. */
	ev = mta_client_event(&c);
	if (ev != MTA_CLIENT_CLOSED && ev != MTA_CLIENT_FATAL)
		fail_msg("%s: ends in %s", t->name, ev_name[ev]);
	free(p);
}

static void
test_rows(void **state)
{
	size_t	i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run_row(&rows[i]);
}

/* Up to the first message: greeting, EHLO with PIPELINING. */
static void
start(struct mta_client *c, struct mta_reply_parser *p, const char *ext)
{
	uint8_t		out[256];
	size_t		len;
	unsigned int	n;

	assert_int_equal(mta_client_init(c,
	    params(MTA_CLIENT_TLS_OPPORTUNISTIC, PLAIN)), 0);
	mta_reply_init(p);
	mta_reply_expect(p, 1);
	server(c, p, "220 hi\r\n");
	assert_int_equal(mta_client_output(c, out, sizeof(out), &len, &n), 0);
	mta_reply_expect(p, n);
	server(c, p, ext);
	assert_int_equal(mta_client_event(c), MTA_CLIENT_READY);
}

/* A small buffer splits a pipelined group between commands only. */
static void
test_small_buffer(void **state)
{
	struct mta_client		 c;
	struct mta_reply_parser		*p;
	struct mta_client_rcpt		 r[4];
	struct mta_client_msg		 m;
	uint8_t				 out[40], all[512];
	size_t				 len, total = 0;
	unsigned int			 n, replies = 0;

	assert_non_null(p = malloc(sizeof(*p)));
	start(&c, p, "250-mx\r\n250 PIPELINING\r\n");
	make_msg(&m_three, &m, r);
	assert_int_equal(mta_client_message(&c, &m), MTA_CLIENT_WRITE);
	while (mta_client_event(&c) == MTA_CLIENT_WRITE) {
		assert_int_equal(mta_client_output(&c, out, sizeof(out), &len,
		    &n), 0);
		assert_true(len > 0 && len <= sizeof(out));
		assert_int_equal(count_crlf(out, len), n);
		assert_true(out[len - 2] == '\r' && out[len - 1] == '\n');
		memcpy(all + total, out, len);
		total += len;
		replies += n;
	}
	all[total] = '\0';
	assert_string_equal((char *)all,
	    MAIL_A RCPT_B RCPT_C RCPT_D "DATA\r\n");
	assert_int_equal(replies, 5);
	/* QUIT while busy is a caller bug: FATAL, not a stuck machine. */
	mta_client_quit(&c);
	assert_int_equal(mta_client_event(&c), MTA_CLIENT_FATAL);
	free(p);
}

static void
test_enobufs(void **state)
{
	struct mta_client		 c;
	struct mta_reply_parser		*p;
	uint8_t				 out[8];
	size_t				 len;
	unsigned int			 n;

	assert_non_null(p = malloc(sizeof(*p)));
	start(&c, p, "250 mx\r\n");
	mta_client_quit(&c);
	errno = 0;
	assert_int_equal(mta_client_output(&c, out, 4, &len, &n), -1);
	assert_int_equal(errno, ENOBUFS);
	assert_int_equal(len, 0);
	assert_int_equal(n, 0);
	assert_int_equal(mta_client_event(&c), MTA_CLIENT_WRITE);
	assert_int_equal(mta_client_output(&c, out, sizeof(out), &len, &n),
	    0);
	assert_int_equal(len, 6);
	assert_int_equal(n, 1);
	free(p);
}

/* The longest command fits MTA_CLIENT_CMD_MAX. */
static void
test_longest(void **state)
{
	struct mta_client		 c;
	struct mta_reply_parser		*p;
	struct mta_client_rcpt		 r;
	struct mta_client_msg		 m;
	static char			 addr[MTA_CLIENT_ADDR_MAX + 1];
	static char			 orcpt[SMTP_ORCPT_MAX + 1];
	static uint8_t			 out[MTA_CLIENT_CMD_MAX];
	size_t				 len;
	unsigned int			 n;

	assert_non_null(p = malloc(sizeof(*p)));
	start(&c, p, "250-mx\r\n250 DSN\r\n");
	memset(addr, 'a', MTA_CLIENT_ADDR_MAX);
	memset(orcpt, ' ', SMTP_ORCPT_MAX);
	make_msg(&m_one, &m, &r);
	r.addr = addr;
	r.notify = SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_FAILURE |
	    SMTP_NOTIFY_DELAY;
	r.orcpt_type = "rfc822";
	r.orcpt = orcpt;
	mta_client_message(&c, &m);
	assert_int_equal(mta_client_output(&c, out, sizeof(out), &len, &n),
	    0);
	mta_reply_expect(p, n);
	server(&c, p, "250 ok\r\n");
	assert_int_equal(mta_client_output(&c, out, sizeof(out), &len, &n),
	    0);
	assert_int_equal(n, 1);
	assert_true(len > 2000 && len <= MTA_CLIENT_CMD_MAX);
	free(p);
}

static void
test_init(void **state)
{
	struct mta_client		c;
	struct mta_client_params	pa = { "mx.example.org",
	    MTA_CLIENT_TLS_REQUIRE, NULL, NULL };
	static const char		*bad[] = { "", "a\r\nMAIL", "a b",
	    "a\n", "caf\xc3\xa9", NULL };
	int				i;

	assert_int_equal(mta_client_init(&c, &pa), 0);
	assert_int_equal(mta_client_event(&c), MTA_CLIENT_READ);
	for (i = 0; bad[i] != NULL; i++) {
		pa.helo = bad[i];
		errno = 0;
		assert_int_equal(mta_client_init(&c, &pa), -1);
		assert_int_equal(errno, EINVAL);
	}
	pa.helo = "mx.example.org";
	pa.auth_user = "u";
	pa.auth_pass = "p\r\n";
	assert_int_equal(mta_client_init(&c, &pa), -1);
	pa.auth_pass = NULL;
	assert_int_equal(mta_client_init(&c, &pa), -1);
	pa.auth_pass = "p";
	assert_int_equal(mta_client_init(&c, &pa), 0);
}

/* RFC 4648 10 vectors, through AUTH PLAIN ("\0" user "\0" pass). */
static void
test_base64(void **state)
{
	static const struct {
		const char	*user, *pass, *want;
	} v[] = {
		{ "u", "p", "AHUAcA==" },
		{ "us", "p", "AHVzAHA=" },
		{ "usr", "p", "AHVzcgBw" },
		{ "user", "secret", "AHVzZXIAc2VjcmV0" },
	};
	struct mta_client		 c;
	struct mta_client_params	 pa;
	struct mta_reply_parser		*p;
	uint8_t				 out[256];
	char				 want[128];
	size_t				 i, len;
	unsigned int			 n;

	assert_non_null(p = malloc(sizeof(*p)));
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		pa.helo = "h";
		pa.tls = MTA_CLIENT_TLS_REQUIRE;
		pa.auth_user = v[i].user;
		pa.auth_pass = v[i].pass;
		assert_int_equal(mta_client_init(&c, &pa), 0);
		mta_reply_init(p);
		mta_reply_expect(p, 1);
		server(&c, p, "220 hi\r\n");
		mta_client_output(&c, out, sizeof(out), &len, &n);
		mta_reply_expect(p, n);
		server(&c, p, "250-mx\r\n250 STARTTLS\r\n");
		mta_client_output(&c, out, sizeof(out), &len, &n);
		mta_reply_expect(p, n);
		server(&c, p, "220 go\r\n");
		mta_reply_init(p);
		mta_client_tls_done(&c, 1);
		mta_client_output(&c, out, sizeof(out), &len, &n);
		mta_reply_expect(p, n);
		server(&c, p, "250-mx\r\n250 AUTH PLAIN\r\n");
		assert_int_equal(mta_client_output(&c, out, sizeof(out), &len,
		    &n), 0);
		snprintf(want, sizeof(want), "AUTH PLAIN %s\r\n", v[i].want);
		assert_int_equal(len, strlen(want));
		assert_memory_equal(out, want, len);
	}
	free(p);
}

/* A long reply text is cut with "...", never overflowing. */
static void
test_long_text(void **state)
{
	struct mta_client		 c;
	struct mta_reply_parser		*p;
	struct mta_client_rcpt		 r;
	struct mta_client_msg		 m;
	char				 reply[4096];
	uint8_t				 out[512];
	size_t				 len, o = 0;
	unsigned int			 n;
	int				 i;

	assert_non_null(p = malloc(sizeof(*p)));
	start(&c, p, "250 mx\r\n");
	make_msg(&m_one, &m, &r);
	mta_client_message(&c, &m);
	mta_client_output(&c, out, sizeof(out), &len, &n);
	mta_reply_expect(p, n);
	for (i = 0; i < 5; i++)
		o += snprintf(reply + o, sizeof(reply) - o, "550-%0200d\r\n",
		    i);
	snprintf(reply + o, sizeof(reply) - o, "550 end\r\n");
	server(&c, p, reply);
	assert_int_equal(mta_client_event(&c), MTA_CLIENT_MESSAGE_DONE);
	assert_int_equal(r.result.status, MTA_CLIENT_PERMFAIL);
	assert_int_equal(strlen(r.result.text), MTA_CLIENT_TEXT_MAX);
	assert_string_equal(r.result.text + MTA_CLIENT_TEXT_MAX - 3, "...");
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_small_buffer),
		cmocka_unit_test(test_enobufs),
		cmocka_unit_test(test_longest),
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_long_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
