"""The SMTP server against bad input (SECURITY.md section 2, rows F, C, B
and M): exact bytes on raw sockets, the exact reply and enhanced code,
nothing queued when nothing must be, and the daemon still serving.

Two relays serve the whole module: "main" with the default limits (junk
50, size 35M) and "small" with limit size 64K and smtp limit junk 20.
C4/C5 (routing in addresses) are in the open-relay tests.
"""
import os
import pathlib
import re
import select
import shutil
import ssl
import tempfile
import threading
import uuid

import pytest

from conftest import SANITIZED, Relay, wait_for
from submit import (DOMAIN, RawSession, client_hello, incoming, queued,
                    sending_relay, submission)

NO_RATES = ("limit messages 0 per minute\nlimit messages 0 per hour\n"
            "limit messages 0 per day\n")
SMALL_SIZE = 64 * 1024
SMALL_JUNK = 20
MAIN_JUNK = 50          # the default
SENDER = f"app@{DOMAIN}"
RCPT = "someone@example.net"
EVIL = b"evil@example.com"


class Sender:
    def __init__(self, relay, user, password):
        self.relay, self.user, self.password = relay, user, password

    def session(self, smtps=False):
        return submission(self.relay, self.user, self.password,
                          smtps=smtps)


def sanitizer_reports(relays):
    return [ln for r in relays if getattr(r, "logf", None)
            for ln in r.logtext().splitlines()
            if "Sanitizer" in ln or "runtime error" in ln]


@pytest.fixture(scope="module")
def module_factory(pki):
    """relay_factory for the module: the relays live for all its tests
    (same directories and clean-up as conftest's relay_factory)."""
    top = pathlib.Path(tempfile.mkdtemp(prefix="sendgate-test-", dir="/tmp"))
    os.chmod(top, 0o755)
    made = []

    def make(name="relay"):
        base = top / f"{name}{len(made)}"
        base.mkdir()
        os.chmod(base, 0o755)
        r = Relay(base, pki)
        made.append(r)
        return r

    make.made = made
    yield make
    for r in made:
        r.stop()
    reports = sanitizer_reports(made) if SANITIZED else []
    for r in made:
        if getattr(r, "logf", None):
            r.logf.close()
        if r.dns is not None:
            r.dns.stop()
    if not os.environ.get("SENDGATE_KEEP"):
        shutil.rmtree(top, ignore_errors=True)
    assert not reports, "sanitizer reports:\n" + "\n".join(reports)


@pytest.fixture(autouse=True)
def daemon_survives(module_factory):
    """After each test: no relay of the module died or reported a
    sanitizer error (blamed on the test that was running)."""
    yield
    for r in module_factory.made:
        if r.proc is not None:
            assert r.proc.poll() is None, "sendgated exited:\n" + \
                r.logtext()[-4000:]
    if SANITIZED:
        reports = sanitizer_reports(module_factory.made)
        assert not reports, "sanitizer reports:\n" + "\n".join(reports)


@pytest.fixture(scope="module")
def main(module_factory):
    return Sender(*sending_relay(module_factory, extra=NO_RATES))


@pytest.fixture(scope="module")
def small(module_factory):
    return Sender(*sending_relay(
        module_factory, extra=NO_RATES + "limit size 64K\n"
        f"smtp limit junk {SMALL_JUNK}\n"))


# Helpers.

def mark():
    return "mark-" + uuid.uuid4().hex


def text(marker, body=b"Hello.\r\n", extra=b"", frm=SENDER.encode()):
    """A message (bytes, not dot-stuffed) carrying marker in Subject:."""
    return (b"From: " + frm + b"\r\nTo: " + RCPT.encode() +
            b"\r\nSubject: " + marker.encode() + b"\r\n" + extra +
            b"\r\n" + body)


def mail_rcpt(s, sender=SENDER, rcpt=RCPT):
    code, t = s.cmd(f"MAIL FROM:<{sender}>")
    assert (code, t[:5]) == (250, "2.1.0"), t
    code, t = s.cmd(f"RCPT TO:<{rcpt}>")
    assert (code, t[:5]) == (250, "2.1.5"), t


def data(s, raw):
    """DATA then raw bytes as they are (the caller writes the end)."""
    code, t = s.cmd("DATA")
    assert code == 354, t
    s.send(raw)
    return s.reply()


def enh(reply):
    code, t = reply
    return code, t.split(" ", 1)[0]


def queued_with(relay, needle):
    """Ids of committed messages whose envelope or text holds needle."""
    if isinstance(needle, str):
        needle = needle.encode()
    return [qid for qid, (env, msg) in queued(relay).items()
            if needle in env or needle in msg]


def assert_nothing_queued(relay, *needles):
    for n in needles:
        assert queued_with(relay, n) == [], n
    wait_for(lambda: incoming(relay) == [], timeout=5)


def good_message(s, relay):
    """A proper message in session s is accepted and queued."""
    m = mark()
    mail_rcpt(s)
    code, t = data(s, text(m) + b".\r\n")
    assert (code, t[:5]) == (250, "2.0.0"), t
    assert len(queued_with(relay, m)) == 1


def assert_serving(who):
    """The daemon still takes a new session and a message."""
    assert who.relay.proc.poll() is None
    s = who.session()
    good_message(s, who.relay)
    assert s.cmd("QUIT")[0] == 221
    s.close()


def noop_then_quit(s):
    """Exactly one 250 for a NOOP, then 221: nothing left in the stream
    (no chunk bytes or smuggled command was run as a command)."""
    s.send(b"NOOP\r\nQUIT\r\n")
    got = []
    while True:
        try:
            got.append(enh(s.reply()))
        except EOFError:
            break
    assert got == [(250, "2.0.0"), (221, "2.0.0")], got


def all_replies(s):
    """Every reply until the server closes."""
    got = []
    while True:
        try:
            got.append(s.reply())
        except EOFError:
            return got


def flood(s, payload, chunk=16384):
    """Send payload on a TLS session until the server answers or closes.
    One thread: an SSL socket must not be read and written at once (a
    write failing on the reset leaves the reply unreadable)."""
    off = 0
    while off < len(payload):
        readable, _, _ = select.select([s.sock], [], [], 0)
        if readable or s.sock.pending():
            break
        try:
            off += s.sock.send(payload[off:off + chunk])
        except (OSError, ssl.SSLError):
            break
    return off


def send_in_background(s, payload):
    """sendall in a thread, on a plaintext socket only (see flood()):
    the server may close while we write."""
    assert not isinstance(s.sock, ssl.SSLSocket)
    def run():
        try:
            s.sock.sendall(payload)
        except OSError:
            pass
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def smtp_rss(relay):
    pid = relay.pids()["smtp"]
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


# F1: smuggling.  Each sequence is followed by a smuggled transaction and
# then the real end: one message, refused, nothing of it queued.

SMUGGLE = [b"\n.\n", b"\n.\r\n", b"\r\n.\n", b"\r.\r\n", b"\r\n.\r",
           b"\r.\r", b"\r.\n", b"\n.\r", b"\r\n\0.\r\n"]


@pytest.mark.parametrize("seq", SMUGGLE, ids=[repr(x)[2:-1] for x in
                                              SMUGGLE])
def test_smuggled_end_of_data_never_ends_data(main, seq):
    s = main.session()
    m = mark()
    mail_rcpt(s)
    smuggled = (b"MAIL FROM:<" + EVIL + b">\r\nRCPT TO:<victim@example.net>"
                b"\r\nDATA\r\nFrom: " + EVIL + b"\r\nSubject: smuggled-" +
                m.encode() + b"\r\n\r\nSmuggled.\r\n")
    got = data(s, text(m, body=b"Hello." + seq + smuggled) + b".\r\n")
    if b"\0" in seq:
        # No bare CR or LF here: the NUL is the fault (F6).
        assert enh(got) == (554, "5.6.0"), got
    else:
        assert enh(got) == (550, "5.5.2"), got
    noop_then_quit(s)       # the smuggled commands got no reply of theirs
    assert_nothing_queued(main.relay, m, EVIL)
    assert_serving(main)


# F3: bare LF ends no command.

def test_bare_lf_command_is_refused_and_not_run(main):
    s = main.session()
    s.send(b"EHLO x\nMAIL FROM:<" + SENDER.encode() + b">\n")
    assert [enh(r) for r in s.replies(2)] == [(500, "5.5.2")] * 2
    # MAIL was not run: RCPT still wants it.
    assert enh(s.cmd(f"RCPT TO:<{RCPT}>")) == (503, "5.5.1")
    good_message(s, main.relay)


# F4: long command lines.

def test_command_line_of_513_octets_is_refused_session_goes_on(main):
    s = main.session()
    ok = b"NOOP " + b"x" * (512 - 7)            # 512 with CRLF
    assert len(ok) + 2 == 512
    assert enh(s.cmd(ok)) == (250, "2.0.0")
    long = b"NOOP " + b"x" * (513 - 7)          # 513 with CRLF
    assert len(long) + 2 == 513
    code, t = s.cmd(long)
    assert (code, t) == (500, "5.5.2 Line too long")
    good_message(s, main.relay)


@pytest.mark.parametrize("size,tls", [(64 * 1024, True),
                                      (10 * 1024 * 1024, False)],
                         ids=["64KiB-tls", "10MiB-plaintext"])
def test_endless_command_line_is_refused_and_closed(main, size, tls):
    """In TLS the client stops writing when the reply comes (flood());
    in plaintext all 10 MiB are pushed from a thread while the server
    answers and closes."""
    before = smtp_rss(main.relay)
    payload = b"MAIL FROM:<" + b"a" * size
    if tls:
        s = main.session()
        flood(s, payload)
    else:
        s = RawSession(main.relay)
        assert s.ehlo()[0] == 250
        t = send_in_background(s, payload)
    code, txt = s.reply()
    assert (code, txt) == (500, "5.5.2 Line too long")
    s.drain_until_close()
    if not tls:
        t.join(10)
        assert not t.is_alive()
    grown = smtp_rss(main.relay) - before
    assert grown < 4 * 1024 * 1024, grown
    assert_serving(main)


# F5: long lines in the message text.

@pytest.mark.parametrize("line", [999, 1024 * 1024],
                         ids=["1001-octets", "1MiB"])
def test_long_data_line_is_refused_after_end(main, line):
    s = main.session()
    m = mark()
    mail_rcpt(s)
    body = b"a" * 998 + b"\r\n" + b"b" * line + b"\r\n"
    got = data(s, text(m, body=body) + b".\r\n")
    assert enh(got) == (550, "5.6.0"), got
    assert_nothing_queued(main.relay, m)
    good_message(s, main.relay)


def test_line_of_998_octets_is_accepted(main):
    s = main.session()
    m = mark()
    mail_rcpt(s)
    got = data(s, text(m, body=b"a" * 998 + b"\r\n") + b".\r\n")
    assert enh(got) == (250, "2.0.0"), got
    (qid,) = queued_with(main.relay, m)
    assert queued(main.relay)[qid][1].endswith(b"\r\n\r\n" + b"a" * 998 +
                                               b"\r\n")


# F6: NUL.

def test_nul_in_command_is_refused(main):
    s = main.session()
    code, t = s.cmd(f"MAIL FROM:<{SENDER}>")
    assert code == 250, t
    code, t = s.cmd(b"RCPT TO:<a@example.net>\0<c@example.net>")
    assert (code, t[:5]) == (500, "5.5.2"), t
    # Nothing of it was taken: no recipient.
    assert enh(s.cmd("DATA")) == (503, "5.5.1")
    assert enh(s.cmd("RSET")) == (250, "2.0.0")
    good_message(s, main.relay)


def test_nul_in_data_is_refused(main):
    s = main.session()
    m = mark()
    mail_rcpt(s)
    got = data(s, text(m, body=b"Hel\0lo.\r\n") + b".\r\n")
    assert enh(got) == (554, "5.6.0"), got
    assert_nothing_queued(main.relay, m)
    good_message(s, main.relay)


# F7: 8-bit without SMTPUTF8.

def test_8bit_sender_without_smtputf8_is_refused(main):
    s = main.session()
    code, t = s.cmd("MAIL FROM:<jösé@example.com>".encode())
    assert (code, t[:5]) == (553, "5.6.7"), t
    good_message(s, main.relay)


def test_8bit_recipient_without_smtputf8_is_refused(main):
    s = main.session()
    assert s.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250
    code, t = s.cmd("RCPT TO:<jösé@example.net>".encode())
    assert (code, t[:5]) == (553, "5.6.7"), t
    assert enh(s.cmd("RSET")) == (250, "2.0.0")
    good_message(s, main.relay)


def test_8bit_ehlo_is_refused(main):
    s = main.session()
    code, t = s.cmd("EHLO hôte.example".encode())
    assert (code, t[:5]) == (501, "5.5.2"), t
    good_message(s, main.relay)


# F8: invalid UTF-8 under SMTPUTF8.

BAD_UTF8 = {"overlong": b"\xc0\x80", "surrogate": b"\xed\xa0\x80",
            "f5": b"\xf5\x80\x80\x80", "ff": b"\xff",
            "truncated": b"\xe2\x82"}


@pytest.mark.parametrize("seq", BAD_UTF8.values(), ids=BAD_UTF8.keys())
def test_invalid_utf8_address_is_refused(main, seq):
    s = main.session()
    code, t = s.cmd(b"MAIL FROM:<a" + seq + b"b@example.com> SMTPUTF8")
    assert (code, t) == (553, "5.6.7 Invalid UTF-8 in address")
    code, t = s.cmd(f"MAIL FROM:<{SENDER}> SMTPUTF8")
    assert code == 250, t
    code, t = s.cmd(b"RCPT TO:<a" + seq + b"b@example.net>")
    assert (code, t) == (553, "5.6.7 Invalid UTF-8 in address")
    assert enh(s.cmd("RSET")) == (250, "2.0.0")
    good_message(s, main.relay)


def test_valid_utf8_address_with_smtputf8_is_accepted(main):
    s = main.session()
    assert s.cmd(f"MAIL FROM:<{SENDER}> SMTPUTF8")[0] == 250
    code, t = s.cmd("RCPT TO:<jösé@example.net>".encode())
    assert (code, t[:5]) == (250, "2.1.5"), t


# F9: protocol confusion.

def test_tls_hello_on_starttls_port_is_refused_then_closed(main):
    s = RawSession(main.relay)
    assert s.banner[0] == 220
    hello = client_hello()
    assert hello[:1] == b"\x16" and b"\n" in hello
    s.send(hello)
    assert enh(s.reply()) == (500, "5.5.2")
    # A client that goes on sending its hello hits the junk limit.
    t = send_in_background(s, hello * 200)
    got = all_replies(s)
    t.join(10)
    assert got and enh(got[-1]) == (421, "4.7.0"), got
    assert all(c == 500 for c, _ in got[:-1]), got
    # The first error above, MAIN_JUNK more (the last one over the
    # limit), then the 421.
    assert len(got) == MAIN_JUNK + 1, got
    assert_serving(main)


def test_plaintext_on_smtps_port_gets_no_smtp_text(main):
    # Port 465 without TLS: the bytes go to the handshake.
    s = RawSession(main.relay, port=main.relay.ports[1], banner=False)
    s.send(b"EHLO x\r\n")
    got = s.drain_until_close()
    assert not re.match(rb"\d{3}[ -]", got), got
    assert b"ESMTP" not in got and b"250" not in got, got
    assert_serving(main)


def test_http_request_on_starttls_port_is_refused(main):
    s = RawSession(main.relay)
    s.send(b"GET / HTTP/1.1\r\nHost: relay.test\r\n\r\n")
    assert [enh(r) for r in s.replies(3)] == [
        (500, "5.5.1"), (500, "5.5.1"), (500, "5.5.2")]
    noop_then_quit(s)


# C1: commands out of order.

def test_mail_before_ehlo_is_refused(main):
    s = RawSession(main.relay, smtps=True)
    assert s.banner[0] == 220
    assert enh(s.cmd(f"MAIL FROM:<{SENDER}>")) == (503, "5.5.1")
    noop_then_quit(s)


def test_rcpt_before_mail_is_refused(main):
    s = main.session()
    assert enh(s.cmd(f"RCPT TO:<{RCPT}>")) == (503, "5.5.1")
    good_message(s, main.relay)


def test_data_without_rcpt_is_refused(main):
    s = main.session()
    assert s.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250
    assert enh(s.cmd("DATA")) == (503, "5.5.1")
    # No 354 was given: a message text sent now is commands, not text.
    assert enh(s.cmd("RSET")) == (250, "2.0.0")
    good_message(s, main.relay)


def test_data_after_all_rcpt_refused_is_554(main):
    s = main.session()
    assert s.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250
    assert enh(s.cmd("RCPT TO:<a..b@example.net>")) == (501, "5.1.3")
    assert enh(s.cmd("DATA")) == (554, "5.5.1")
    assert enh(s.cmd("RSET")) == (250, "2.0.0")
    good_message(s, main.relay)


def test_second_mail_is_refused(main):
    s = main.session()
    assert s.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250
    assert enh(s.cmd(f"MAIL FROM:<{SENDER}>")) == (503, "5.5.1")
    # The first transaction goes on.
    assert s.cmd(f"RCPT TO:<{RCPT}>")[0] == 250
    m = mark()
    assert enh(data(s, text(m) + b".\r\n")) == (250, "2.0.0")
    assert len(queued_with(main.relay, m)) == 1


# C2, C3: addresses.  Each row: the path as sent, the reply to MAIL FROM:
# and the reply to RCPT TO: (after a good MAIL).

LOCAL65 = "a" * 65
LABEL64 = "b" * 64
DOMAIN256 = ".".join(["c" * 62] * 4) + ".exam"    # 256 octets
assert len(DOMAIN256) == 256
LONGPATH = "<" + "d" * 64 + "@" + ".".join(["e" * 60] * 3) + ".example>"
assert len(LONGPATH) > 256 and len(LONGPATH) < 300

ADDRESSES = [
    # C2: length and form (RFC 5321 4.5.3.1).
    ("local-65", f"<{LOCAL65}@example.com>", "5.1.7", "5.1.3"),
    ("domain-256", f"<a@{DOMAIN256}>", "5.1.7", "5.1.3"),
    ("path-over-256", LONGPATH, "5.1.7", "5.1.3"),
    ("label-64", f"<a@{LABEL64}.example.com>", "5.1.7", "5.1.3"),
    ("double-dot", "<a..b@example.com>", "5.1.7", "5.1.3"),
    ("bad-literal", "<a@[999.1.1.1]>", "5.1.7", "5.1.3"),
    ("dot-bang", "<.!>", "5.1.7", "5.1.3"),
    ("domain-double-dot", "<a@example..com>", "5.1.7", "5.1.3"),
    # C3: syntax tricks.
    ("no-brackets", "a@example.com", "5.5.4", "5.5.4"),
    ("double-brackets", "<<a@example.com>>", "5.1.7", "5.1.3"),
    ("open-quote", '<"a@example.com>', "5.1.7", "5.1.3"),
    ("comment-before", "<(x)a@example.com>", "5.1.7", "5.1.3"),
    ("comment-in-domain", "<a@example.com(x)>", "5.1.7", "5.1.3"),
    ("comment-after", "<a@example.com> (x)", "5.5.4", "5.5.4"),
    ("junk-after", "<a@example.com> junk", "5.5.4", "5.5.4"),
    ("glued-junk", "<a@example.com>junk", "5.5.4", "5.5.4"),
    ("backslash-unquoted", "<a\\@b@example.com>", "5.1.7", "5.1.3"),
    ("two-at", "<a@b@example.com>", "5.1.7", "5.1.3"),
    ("two-spaces", "  <a@example.com>", "5.5.4", "5.5.4"),
]


@pytest.mark.parametrize("path,mail_enh,rcpt_enh",
                         [a[1:] for a in ADDRESSES],
                         ids=[a[0] for a in ADDRESSES])
def test_bad_address_is_refused(main, path, mail_enh, rcpt_enh):
    s = main.session()
    assert enh(s.cmd(f"MAIL FROM:{path}")) == (501, mail_enh)
    assert s.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250
    assert enh(s.cmd(f"RCPT TO:{path}")) == (501, rcpt_enh)
    assert enh(s.cmd("DATA")) == (554, "5.5.1")
    assert enh(s.cmd("RSET")) == (250, "2.0.0")
    good_message(s, main.relay)


def test_good_address_forms_are_accepted(main):
    """The other side of the table: one space after the colon, a quoted
    local part with an escape, an address literal recipient domain is a
    policy refusal (550 5.1.2), not a syntax error."""
    s = main.session()
    assert enh(s.cmd(f"MAIL FROM: <{SENDER}>")) == (250, "2.1.0")
    assert enh(s.cmd('RCPT TO:<"a\\"b"@example.net>')) == (250, "2.1.5")
    assert enh(s.cmd("RCPT TO:<a@[192.0.2.1]>")) == (550, "5.1.2")
    m = mark()
    assert enh(data(s, text(m) + b".\r\n")) == (250, "2.0.0")
    (qid,) = queued_with(main.relay, m)
    assert b'"a\\"b"@example.net' in queued(main.relay)[qid][0]


# C6: MAIL parameters.

def ehlo_size(s):
    code, t = s.ehlo()
    assert code == 250
    (size,) = re.findall(r"^SIZE (\d+)$", t, re.M)
    return int(size)


MAIL_PARAMS = [
    ("unknown", "FOO=1", 555, "5.5.4"),
    ("unknown-bare", "FOO", 501, "5.5.4"),
    ("duplicate-size", "SIZE=10 SIZE=10", 501, "5.5.4"),
    ("huge-size", "SIZE=99999999999999999999", 552, "5.3.4"),
    ("bad-size", "SIZE=1e3", 501, "5.5.4"),
    ("body-9bit", "BODY=9BIT", 501, "5.5.4"),
    ("duplicate-body", "BODY=7BIT BODY=7BIT", 501, "5.5.4"),
]


@pytest.mark.parametrize("param,code,enhanced",
                         [p[1:] for p in MAIL_PARAMS],
                         ids=[p[0] for p in MAIL_PARAMS])
def test_bad_mail_parameter_is_refused(main, param, code, enhanced):
    s = main.session()
    assert enh(s.cmd(f"MAIL FROM:<{SENDER}> {param}")) == (code, enhanced)
    good_message(s, main.relay)


def test_size_over_limit_is_refused_at_mail(main):
    s = main.session()
    limit = ehlo_size(s)
    assert limit == 35 * 1024 * 1024
    code, t = s.cmd(f"MAIL FROM:<{SENDER}> SIZE={limit + 1}")
    assert (code, t[:5]) == (552, "5.3.4"), t
    code, t = s.cmd(f"MAIL FROM:<{SENDER}> SIZE={limit} BODY=8BITMIME")
    assert (code, t[:5]) == (250, "2.1.0"), t
    assert s.cmd(f"RCPT TO:<{RCPT}>")[0] == 250
    m = mark()
    assert enh(data(s, text(m) + b".\r\n")) == (250, "2.0.0")


# C7: DSN parameters.

DSN_BAD = [
    ("envid-crlf", "MAIL", "ENVID=a+0D+0AX:y"),
    ("envid-nul", "MAIL", "ENVID=a+00"),
    ("envid-101", "MAIL", "ENVID=" + "e" * 101),
    ("envid-lowercase-hex", "MAIL", "ENVID=a+0d"),
    ("ret-foo", "MAIL", "RET=FOO"),
    ("ret-twice", "MAIL", "RET=FULL RET=HDRS"),
    ("orcpt-lf", "RCPT", "ORCPT=rfc822;x+0Ay@example.net"),
    ("orcpt-type", "RCPT", "ORCPT=x400;x@example.net"),
    ("orcpt-empty", "RCPT", "ORCPT=rfc822;"),
    ("notify-never-success", "RCPT", "NOTIFY=NEVER,SUCCESS"),
    ("notify-foo", "RCPT", "NOTIFY=FOO"),
    ("notify-twice", "RCPT", "NOTIFY=SUCCESS,SUCCESS"),
]


@pytest.mark.parametrize("verb,param", [d[1:] for d in DSN_BAD],
                         ids=[d[0] for d in DSN_BAD])
def test_dsn_injection_is_refused(main, verb, param):
    s = main.session()
    if verb == "MAIL":
        got = s.cmd(f"MAIL FROM:<{SENDER}> {param}")
    else:
        assert s.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250
        got = s.cmd(f"RCPT TO:<{RCPT}> {param}")
    assert enh(got) == (501, "5.5.4"), got
    assert enh(s.cmd("RSET")) == (250, "2.0.0")
    good_message(s, main.relay)
    assert b"\nX:y" not in open(main.relay.log, "rb").read()
    assert queued_with(main.relay, b"\nX:y") == []


def test_orcpt_over_500_octets_cannot_fit_a_command_line(main):
    """An ORCPT over 500 octets makes the line longer than 512: the line
    limit refuses it first (500 5.5.2), not the ORCPT check (501 5.5.4)."""
    s = main.session()
    assert s.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250
    got = s.cmd(f"RCPT TO:<{RCPT}> ORCPT=rfc822;" + "x" * 501)
    assert got == (500, "5.5.2 Line too long")
    assert enh(s.cmd("RSET")) == (250, "2.0.0")
    good_message(s, main.relay)


def record(tag, value):
    return tag + b" " + str(len(value)).encode() + b":" + value + b"\n"


def test_dsn_parameters_round_trip_to_envelope(main):
    s = main.session()
    code, t = s.cmd(f"MAIL FROM:<{SENDER}> RET=HDRS ENVID=QQ+2Bid-1")
    assert code == 250, t
    code, t = s.cmd(f"RCPT TO:<{RCPT}> NOTIFY=SUCCESS,FAILURE "
                    "ORCPT=rfc822;someone+2Bx@example.net")
    assert code == 250, t
    code, t = s.cmd("RCPT TO:<other@example.net> NOTIFY=NEVER")
    assert code == 250, t
    m = mark()
    assert enh(data(s, text(m) + b".\r\n")) == (250, "2.0.0")
    (qid,) = queued_with(main.relay, m)
    env = queued(main.relay)[qid][0]
    assert record(b"envid", b"QQ+id-1") in env, env
    assert record(b"ret", b"2") in env, env
    fresh = (record(b"state", b"0") + record(b"attempts", b"0") +
             record(b"next-try", b"0") + record(b"last-mta", b"") +
             record(b"last", b""))
    first = (record(b"rcpt", RCPT.encode()) + record(b"notify", b"6") +
             record(b"orcpt-type", b"rfc822") +
             record(b"orcpt", b"someone+x@example.net") + fresh)
    second = (record(b"rcpt", b"other@example.net") +
              record(b"notify", b"1") + record(b"orcpt-type", b"") +
              record(b"orcpt", b"") + fresh)
    assert first + second in env, env


# C8: AUTH= on MAIL.

def test_mail_auth_param_bad_xtext_is_refused(main):
    s = main.session()
    got = s.cmd(f"MAIL FROM:<{SENDER}> AUTH=x+0D+0Ay")
    assert enh(got) == (501, "5.5.4"), got
    good_message(s, main.relay)


def test_mail_auth_param_is_ignored(main):
    s = main.session()
    assert enh(s.cmd(f"MAIL FROM:<{SENDER}> AUTH=<>")) == (250, "2.1.0")
    assert s.cmd(f"RCPT TO:<{RCPT}>")[0] == 250
    m = mark()
    assert enh(data(s, text(m) + b".\r\n")) == (250, "2.0.0")
    (qid,) = queued_with(main.relay, m)
    env = queued(main.relay)[qid][0]
    assert record(b"auth-user", main.user.encode()) in env, env
    # Another client's name is not taken either.
    assert enh(s.cmd(f"MAIL FROM:<{SENDER}> AUTH=boss+40example.com")) == \
        (250, "2.1.0")
    assert s.cmd(f"RCPT TO:<{RCPT}>")[0] == 250
    m = mark()
    assert enh(data(s, text(m) + b".\r\n")) == (250, "2.0.0")
    (qid,) = queued_with(main.relay, m)
    env = queued(main.relay)[qid][0]
    assert record(b"auth-user", main.user.encode()) in env, env
    assert b"boss" not in env


# C9: junk.

def test_unknown_commands_hit_the_junk_limit(small):
    s = RawSession(small.relay)
    assert s.ehlo()[0] == 250
    t = send_in_background(s, b"XYZZY\r\n" * 100)
    got = all_replies(s)
    t.join(10)
    want = [(500, "5.5.1 Command unrecognized")] * (SMALL_JUNK + 1) + \
        [(421, "4.7.0 Too many errors, closing connection")]
    assert got == want
    assert_serving(small)


def test_pipelined_noops_hit_the_junk_limit(main):
    s = main.session()
    sent = flood(s, b"NOOP\r\n" * 10000)
    assert sent >= len(b"NOOP\r\n") * (MAIN_JUNK + 2)
    got = all_replies(s)
    assert [enh(r) for r in got] == [(250, "2.0.0")] * (MAIN_JUNK + 1) + \
        [(421, "4.7.0")]
    assert_serving(main)


@pytest.mark.parametrize("verb", ["VRFY", "EXPN"])
def test_vrfy_expn_not_implemented(main, verb):
    s = main.session()
    assert enh(s.cmd(f"{verb} postmaster")) == (502, "5.5.1")
    good_message(s, main.relay)


def test_junk_counter_resets_after_a_message(small):
    """The limit counts commands between two accepted messages."""
    s = small.session()
    for _ in range(SMALL_JUNK):
        assert enh(s.cmd("NOOP")) == (250, "2.0.0")
    good_message(s, small.relay)
    for _ in range(SMALL_JUNK):
        assert enh(s.cmd("NOOP")) == (250, "2.0.0")
    s.send(b"NOOP\r\n")
    assert [enh(r) for r in all_replies(s)] == [(250, "2.0.0"),
                                                (421, "4.7.0")]


# B1: BDAT not offered or malformed.

def test_bdat_after_helo_is_not_offered(main):
    s = RawSession(main.relay, smtps=True)
    assert s.cmd("HELO client.test")[0] == 250
    assert s.auth_plain(main.user, main.password)[0] == 235
    assert s.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250
    assert s.cmd(f"RCPT TO:<{RCPT}>")[0] == 250
    s.send(b"BDAT 12 LAST\r\nNOOP\r\nNOOP\r\n")
    assert enh(s.reply()) == (502, "5.5.1")
    noop_then_quit(s)
    assert_serving(main)


BDAT_BAD = ["BDAT", "BDAT -1", "BDAT 1e3", "BDAT 99999999999999999999",
            "BDAT 10 LASTX", "BDAT  10", "BDAT 10 LAST x"]


@pytest.mark.parametrize("line", BDAT_BAD)
def test_malformed_bdat_closes(main, line):
    s = main.session()
    mail_rcpt(s)
    s.send(line.encode() + b"\r\n" + b"x" * 10)
    assert s.reply() == (521, "5.5.4 Syntax: BDAT count [LAST]")
    assert s.drain_until_close() == b""
    assert_serving(main)


# B2: null chunks.

def bdat(s, chunk, last=False):
    s.send(b"BDAT %d%s\r\n" % (len(chunk), b" LAST" if last else b"") +
           chunk)
    return s.reply()


def test_null_bdat_chunk_without_last_is_refused(main):
    s = main.session()
    mail_rcpt(s)
    assert enh(bdat(s, b"")) == (551, "5.7.1")
    m = mark()
    msg = text(m)
    assert enh(bdat(s, msg, last=True)) == (250, "2.0.0")
    (qid,) = queued_with(main.relay, m)
    assert queued(main.relay)[qid][1].endswith(b"\r\n\r\nHello.\r\n")


def test_repeated_null_bdat_chunks_hit_the_junk_limit(small):
    s = small.session()
    mail_rcpt(s)
    flood(s, b"BDAT 0\r\n" * 100)
    got = all_replies(s)
    assert [enh(r) for r in got] == [(551, "5.7.1")] * (SMALL_JUNK + 1) + \
        [(421, "4.7.0")]
    assert_serving(small)


def test_null_last_chunk_after_chunks_ends_message(main):
    s = main.session()
    mail_rcpt(s)
    m = mark()
    msg = text(m)
    half = len(msg) // 2
    assert bdat(s, msg[:half]) == (250, f"2.0.0 {half} octets received")
    assert enh(bdat(s, msg[half:])) == (250, "2.0.0")
    assert enh(bdat(s, b"", last=True)) == (250, "2.0.0")
    (qid,) = queued_with(main.relay, m)
    assert queued(main.relay)[qid][1].endswith(b"\r\n\r\nHello.\r\n")


def test_null_last_chunk_alone_is_an_empty_message(main):
    s = main.session()
    before = set(queued(main.relay))
    mail_rcpt(s)
    got = bdat(s, b"", last=True)
    assert got == (550, "5.6.0 Message has no From: field")
    assert set(queued(main.relay)) - before == set()
    good_message(s, main.relay)


# B3: BDAT out of order.

def test_bdat_before_rcpt_consumes_chunk_and_is_refused(main):
    s = main.session()
    assert s.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250
    got = bdat(s, b"NOOP\r\nNOOP\r\n", last=True)
    assert enh(got) == (503, "5.5.1"), got
    noop_then_quit(s)
    assert_serving(main)


def test_data_after_bdat_is_refused(main):
    s = main.session()
    mail_rcpt(s)
    m = mark()
    msg = text(m)
    assert enh(bdat(s, msg)) == (250, "2.0.0")
    assert enh(s.cmd("DATA")) == (503, "5.5.1")
    assert enh(bdat(s, b"More.\r\n", last=True)) == (250, "2.0.0")
    (qid,) = queued_with(main.relay, m)
    assert queued(main.relay)[qid][1].endswith(b"\r\n\r\nHello.\r\nMore.\r\n")


# B4: BDAT is byte-exact.

def test_bdat_payload_with_end_of_data_is_stored_exactly(main):
    s = main.session()
    mail_rcpt(s)
    m = mark()
    body = b"one\r\n.\r\ntwo\r\n..three\r\n.\r\n"
    assert enh(bdat(s, text(m, body=body), last=True)) == (250, "2.0.0")
    (qid,) = queued_with(main.relay, m)
    assert queued(main.relay)[qid][1].endswith(b"\r\n\r\n" + body)
    noop_then_quit(s)


@pytest.mark.parametrize("seq", [b"\n", b"\n.\n", b"\r"],
                         ids=["LF", "LF.LF", "CR"])
def test_bare_newline_in_bdat_is_refused(main, seq):
    s = main.session()
    mail_rcpt(s)
    m = mark()
    got = bdat(s, text(m, body=b"one" + seq + b"two\r\n"), last=True)
    assert enh(got) == (550, "5.5.2"), got
    assert_nothing_queued(main.relay, m)
    good_message(s, main.relay)


# M1: size limit after the end.

def test_message_over_size_limit_by_data(small):
    s = small.session()
    assert ehlo_size(s) == SMALL_SIZE
    m = mark()
    mail_rcpt(s)
    body = (b"x" * 70 + b"\r\n") * (SMALL_SIZE // 72 + 100)
    got = data(s, text(m, body=body) + b".\r\n")
    assert enh(got) == (552, "5.3.4"), got
    assert_nothing_queued(small.relay, m)
    good_message(s, small.relay)


def test_message_over_size_limit_by_bdat(small):
    s = small.session()
    m = mark()
    mail_rcpt(s)
    body = (b"x" * 70 + b"\r\n") * (SMALL_SIZE // 72 + 100)
    msg = text(m, body=body)
    half = len(msg) // 2
    assert enh(bdat(s, msg[:half])) == (250, "2.0.0")
    got = bdat(s, msg[half:], last=True)
    assert enh(got) == (552, "5.3.4"), got
    assert_nothing_queued(small.relay, m)
    good_message(s, small.relay)


# M2: the header.

def test_header_over_1mib_by_continuation_lines(main):
    s = main.session()
    m = mark()
    mail_rcpt(s)
    cont = b"X-Long: a\r\n" + (b" " + b"b" * 900 + b"\r\n") * 1200
    got = data(s, text(m, extra=cont) + b".\r\n")
    assert got == (552, "5.3.4 Message header too big")
    assert_nothing_queued(main.relay, m)
    good_message(s, main.relay)


def test_first_header_line_starting_with_space(main):
    s = main.session()
    m = mark()
    mail_rcpt(s)
    got = data(s, b" X-Hidden: y\r\n" + text(m) + b".\r\n")
    assert got == (554, "5.6.0 Malformed message header")
    assert_nothing_queued(main.relay, m)
    good_message(s, main.relay)


def test_header_line_without_colon(main):
    s = main.session()
    m = mark()
    mail_rcpt(s)
    got = data(s, text(m, extra=b"NoColonHere\r\n") + b".\r\n")
    assert got == (554, "5.6.0 Malformed message header")
    assert_nothing_queued(main.relay, m)
    good_message(s, main.relay)


def test_100000_header_fields(main):
    s = main.session()
    m = mark()
    mail_rcpt(s)
    got = data(s, text(m, extra=b"X-A: b\r\n" * 100000) + b".\r\n")
    assert got == (554, "5.6.0 Malformed message header")
    assert_nothing_queued(main.relay, m)
    good_message(s, main.relay)


# M3: hops.

def test_101_received_fields_is_a_loop(main):
    s = main.session()
    m = mark()
    mail_rcpt(s)
    hops = b"".join(b"Received: from h%d.example by relay.example; "
                    b"Mon, 1 Jan 2024 00:00:00 +0000\r\n" % i
                    for i in range(101))
    got = data(s, hops + text(m) + b".\r\n")
    assert enh(got) == (554, "5.4.6"), got
    assert_nothing_queued(main.relay, m)
    good_message(s, main.relay)
