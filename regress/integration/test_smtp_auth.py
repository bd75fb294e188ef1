"""SMTP AUTH and TLS on the submission listeners, through the daemon:
the SECURITY.md section 2 rows T1-T3 and T5-T8 with their exact replies,
the failure delays and the three AUTH lockouts (session, address, user).

The helpers at the top speak SMTP over raw sockets: smtplib hides the
replies these tests are about (pipelined bytes, a reply split over
reads, a connection closed after a reply)."""

import base64
import concurrent.futures
import hashlib
import json
import re
import socket
import ssl
import subprocess
import time
import warnings

import pytest

from submit import (CONNECTOR, DOMAIN, add_connector, message, queued,
                    sending_relay, tls_context, verify_domain)

TIMEOUT = 10            # every wait for a reply is bounded by this
BAD_PASSWORD = "not-the-password-0123456789"


# ---- helpers (test_smtp_relay.py imports them) -------------------------

class Session:
    """One SMTP client connection on a raw socket.  reply() reads one
    complete (possibly multi-line) reply; the socket may be bound to
    another loopback address (127.0.0.2 ...) to look like a new client."""

    def __init__(self, port, src="127.0.0.1", tls=False, timeout=TIMEOUT,
                 ctx=None, banner=True):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=timeout,
                                             source_address=(src, 0))
        self.buf = b""
        self.timeout = timeout
        if tls:
            self.sock = (ctx or tls_context()).wrap_socket(self.sock)
        if banner:
            code, text = self.reply()
            assert code == 220, text

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no complete reply; have {self.buf!r}")
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError(f"no complete reply; have {self.buf!r}")
        if not data:
            raise EOFError(f"connection closed; have {self.buf!r}")
        self.buf += data

    def reply(self, timeout=None):
        """(code, text): text is the reply's lines without CRLF, joined
        with LF, codes included ("250-a\\n250 b")."""
        deadline = time.monotonic() + (timeout or self.timeout)
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                self._fill(deadline)
            line, self.buf = self.buf.split(b"\r\n", 1)
            line = line.decode("utf-8", "replace")
            assert re.match(r"[2-5]\d\d[ -]", line + " "), line
            lines.append(line)
            if len(line) == 3 or line[3] == " ":
                return int(line[:3]), "\n".join(lines)

    def cmd(self, line, timeout=None):
        self.send(line + "\r\n")
        return self.reply(timeout)

    def expect(self, line, want, timeout=None):
        """Send line; the reply must start with want ("530 5.7.0")."""
        code, text = self.cmd(line, timeout)
        assert text.startswith(want), f"{line!r}: want {want!r}, got {text!r}"
        return text

    def ehlo(self, name="client.test"):
        code, text = self.cmd("EHLO " + name)
        assert code == 250, text
        return [x[4:] for x in text.split("\n")]

    def starttls(self, ctx=None):
        assert self.cmd("STARTTLS") == (220, "220 2.0.0 Ready to start TLS")
        assert self.buf == b""
        self.sock = (ctx or tls_context()).wrap_socket(self.sock)

    def auth_plain(self, user, password):
        return self.cmd("AUTH PLAIN " + plain(user, password))

    def pending(self, wait=0.3):
        """Bytes that arrive within wait seconds, b"" if none; EOF is
        b"<EOF>"."""
        if self.buf:
            return self.buf
        self.sock.settimeout(wait)
        try:
            data = self.sock.recv(65536)
        except (socket.timeout, ssl.SSLWantReadError):
            return b""
        except (ConnectionResetError, ssl.SSLError):
            return b"<EOF>"
        return data if data else b"<EOF>"

    def closed(self, timeout=None):
        """True once the server closed the connection (all data read
        and dropped), within the timeout."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < deadline:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                if not self.sock.recv(65536):
                    return True
            except socket.timeout:
                return False
            except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
                return True
        return False


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def plain(user, password, authzid=""):
    return b64(f"{authzid}\0{user}\0{password}")


def ready(relay, src="127.0.0.1", smtps=False):
    """A session after TLS (STARTTLS or implicit) and EHLO."""
    if smtps:
        s = Session(relay.ports[1], src, tls=True)
    else:
        s = Session(relay.ports[0], src)
        s.ehlo()
        s.starttls()
    s.ehlo()
    return s


def authed(relay, user, password, src="127.0.0.1"):
    s = ready(relay, src)
    assert s.auth_plain(user, password) == \
        (235, "235 2.7.0 Authentication successful")
    return s


def submit(s, frm=f"app@{DOMAIN}", rcpts=("someone@example.net",),
           msg=None):
    """A whole transaction on an authenticated session; the queue id."""
    s.expect(f"MAIL FROM:<{frm}>", "250 2.1.0")
    for r in rcpts:
        s.expect(f"RCPT TO:<{r}>", "250 2.1.5")
    s.expect("DATA", "354 ")
    s.send((msg or message()) + b".\r\n")
    code, text = s.reply()
    m = re.match(r"250 2\.0\.0 Ok: queued as ([0-9a-f]{16})$", text)
    assert m, text
    return m.group(1)


def assert_serving(relay, user, password, src="127.0.0.1"):
    """The daemon still takes a whole message: 250 and it is queued."""
    s = authed(relay, user, password, src)
    qid = submit(s)
    s.cmd("QUIT")
    s.close()
    assert qid in queued(relay)
    return qid


def add_connector_from(relay, cidr, name=CONNECTOR):
    r = relay.ctl("connector", "add", name, "--from", cidr, json_out=True,
                  check=True)
    cred = json.loads(r.stdout)["credentials"]
    return cred["username"], cred["password"]


def timed(fn):
    t = time.monotonic()
    r = fn()
    return r, time.monotonic() - t


# ---- T3: AUTH before TLS ------------------------------------------------

def test_auth_before_starttls_is_refused_unchecked_and_unlogged(
        relay_factory):
    relay, user, password = sending_relay(relay_factory)
    s = Session(relay.ports[0])
    caps = s.ehlo()
    assert "STARTTLS" in caps
    assert not [c for c in caps if c.upper().startswith("AUTH")], caps
    ir = plain(user, password)
    s.expect("AUTH PLAIN " + ir,
             "530 5.7.0 Must issue a STARTTLS command first")
    s.expect("AUTH LOGIN", "530 5.7.0 Must issue a STARTTLS command first")
    # Not authenticated: MAIL is still refused.
    s.expect(f"MAIL FROM:<app@{DOMAIN}>", "530 5.7.0")
    s.expect("NOOP", "250 ")
    s.close()
    log = relay.logtext()
    assert password not in log and ir not in log
    assert "authenticated as" not in log
    assert queued(relay) == {}
    assert_serving(relay, user, password)


# ---- T5: AUTH PLAIN syntax ----------------------------------------------

def test_auth_plain_malformed_responses_get_exact_replies(relay_factory):
    relay, user, password = sending_relay(relay_factory)
    s = ready(relay)
    rows = [
        ("bad base64", "AUTH PLAIN !!!!", "501 5.5.2"),
        ("base64 without padding", "AUTH PLAIN " +
         plain(user, password).rstrip("="), None),
        ("one NUL only", "AUTH PLAIN " + b64(f"{user}\0{password}"),
         "501 5.5.2"),
        ("no NUL", "AUTH PLAIN " + b64(user + password), "501 5.5.2"),
        ("three NULs", "AUTH PLAIN " + b64(f"\0{user}\0{password}\0"),
         "501 5.5.2"),
        ("empty user", "AUTH PLAIN " + plain("", password), "501 5.5.2"),
        ("empty password", "AUTH PLAIN " + plain(user, ""), "501 5.5.2"),
        ("CR LF inside user", "AUTH PLAIN " +
         plain(user[:2] + "\r\n" + user[2:], password), "501 5.5.2"),
        ("LF inside password", "AUTH PLAIN " +
         plain(user, password + "\nMAIL FROM:<a@b>"), "501 5.5.2"),
        ("initial response over 12288", "AUTH PLAIN " + "A" * 12292,
         "500 5.5.6"),
        ("* as initial response", "AUTH PLAIN *", "501 5.7.0"),
        ("unknown mechanism", "AUTH CRAM-MD5", "504 5.5.4"),
        ("no mechanism", "AUTH", "501 5.5.4"),
    ]
    failed = []
    for what, line, want in rows:
        if want is None:
            # Unpadded base64: 501 5.5.2 only if padding was needed.
            if not plain(user, password).endswith("="):
                continue
            want = "501 5.5.2"
        code, text = s.cmd(line)
        if not text.startswith(want):
            failed.append(f"{what}: want {want}, got {text!r}")
    # Responses to the 334 challenge go through the same checks.
    for what, resp, want in [
            ("bad base64 response", "%%%%", "501 5.5.2"),
            ("one NUL response", b64(f"{user}\0{password}"), "501 5.5.2"),
            ("response over 12288", "A" * 12300, "500 5.5.6"),
            ("* response", "*", "501 5.7.0")]:
        code, text = s.cmd("AUTH PLAIN")
        if (code, text) != (334, "334 "):
            failed.append(f"{what}: AUTH PLAIN got {text!r}")
            continue
        code, text = s.cmd(resp)
        if not text.startswith(want):
            failed.append(f"{what}: want {want}, got {text!r}")
    assert not failed, "\n".join(failed)
    # None of it counted as a failure or authenticated.
    s.expect(f"MAIL FROM:<app@{DOMAIN}>", "530 5.7.0 Authentication required")
    assert s.auth_plain(user, password)[0] == 235
    s.close()
    assert password not in relay.logtext()


def test_auth_plain_authzid_other_than_user_is_a_failure(relay_factory):
    relay, user, password = sending_relay(relay_factory)
    s = ready(relay)
    (code, text), took = timed(lambda: s.cmd(
        "AUTH PLAIN " + plain(user, password, authzid="postmaster")))
    assert text == "535 5.7.8 Authentication credentials invalid"
    assert took >= 0.5
    s.expect(f"MAIL FROM:<app@{DOMAIN}>", "530 5.7.0 Authentication required")
    # authzid equal to the user is the same as none.
    assert s.cmd("AUTH PLAIN " + plain(user, password, authzid=user))[0] \
        == 235
    s.close()


def test_auth_plain_with_and_without_initial_response_and_login(
        relay_factory):
    relay, user, password = sending_relay(relay_factory)
    s = ready(relay)
    assert s.cmd("AUTH PLAIN " + plain(user, password)) == \
        (235, "235 2.7.0 Authentication successful")
    submit(s)
    s.close()

    s = ready(relay)
    assert s.cmd("AUTH PLAIN") == (334, "334 ")
    assert s.cmd(plain(user, password))[0] == 235
    s.close()

    s = ready(relay, smtps=True)
    assert s.cmd("auth login") == (334, "334 VXNlcm5hbWU6")
    assert s.cmd(b64(user)) == (334, "334 UGFzc3dvcmQ6")
    assert s.cmd(b64(password)) == \
        (235, "235 2.7.0 Authentication successful")
    submit(s)
    s.close()

    s = ready(relay)
    assert s.cmd("AUTH LOGIN " + b64(user)) == (334, "334 UGFzc3dvcmQ6")
    assert s.cmd(b64(password))[0] == 235
    s.close()
    assert len(queued(relay)) == 2


def test_second_auth_after_success_is_503(relay_factory):
    relay, user, password = sending_relay(relay_factory)
    s = authed(relay, user, password)
    s.expect("AUTH PLAIN " + plain(user, password), "503 5.5.1")
    s.expect("AUTH LOGIN", "503 5.5.1")
    # Still authenticated as before.
    submit(s)
    s.close()


def test_auth_inside_a_transaction_is_503(relay_factory):
    # Only reachable for a connector that authenticates by address: a
    # password session has no transaction before AUTH.
    relay = relay_factory()
    relay.start()
    user, password = add_connector_from(relay, "127.0.0.0/8")
    verify_domain(relay)
    s = ready(relay)
    s.expect(f"MAIL FROM:<app@{DOMAIN}>", "250 2.1.0")
    s.expect("AUTH PLAIN " + plain(user, password), "503 5.5.1")
    s.expect("RCPT TO:<someone@example.net>", "250 2.1.5")
    s.expect("AUTH LOGIN", "503 5.5.1")
    s.expect("RSET", "250 ")
    # Out of the transaction AUTH is allowed again.
    assert s.auth_plain(user, password)[0] == 235
    s.close()


# ---- T6: failures, delays and lockouts ----------------------------------

def test_wrong_password_and_unknown_user_look_the_same(relay_factory):
    relay, user, password = sending_relay(relay_factory)
    s = ready(relay)
    wrong, t_wrong = timed(lambda: s.auth_plain(user, BAD_PASSWORD))
    s.close()
    s = ready(relay)
    unknown, t_unknown = timed(lambda: s.auth_plain("nosuchuser", password))
    s.close()
    s = ready(relay)
    s.cmd("AUTH LOGIN")
    s.cmd(b64("nosuchuser2"))
    login, t_login = timed(lambda: s.cmd(b64(BAD_PASSWORD)))
    s.close()
    want = (535, "535 5.7.8 Authentication credentials invalid")
    assert wrong == unknown == login == want
    for t in (t_wrong, t_unknown, t_login):
        assert 0.5 <= t < 1.5, (t_wrong, t_unknown, t_login)
    assert password not in relay.logtext()
    assert BAD_PASSWORD not in relay.logtext()
    assert_serving(relay, user, password)


def test_session_closed_at_auth_failure_limit(relay_factory):
    relay, user, password = sending_relay(
        relay_factory, "smtp limit auth-failures 2\n")
    s = ready(relay)
    assert s.auth_plain(user, BAD_PASSWORD)[0] == 535
    s.send("AUTH PLAIN " + plain(user, BAD_PASSWORD) + "\r\n")
    assert s.reply() == (535, "535 5.7.8 Authentication credentials invalid")
    code, text = s.reply()
    assert code == 421 and text.startswith("421 4.7.0 "), text
    assert s.closed()
    # Two failures from this address: below the address lockout.
    assert_serving(relay, user, password)


def test_address_locked_after_ten_failures_even_for_right_password(
        relay_factory):
    relay, user, password = sending_relay(relay_factory)
    # Ten failures for made-up users: it is the address that is locked.
    def one(k):
        s = ready(relay)
        out = [s.auth_plain(f"guess{k}x{i}", BAD_PASSWORD)
               for i in range(min(3, 10 - 3 * k))]
        s.close()
        return out

    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        results = [r for rs in ex.map(one, range(4)) for r in rs]
    assert len(results) == 10
    assert set(results) == \
        {(535, "535 5.7.8 Authentication credentials invalid")}
    s = ready(relay)
    reply, took = timed(lambda: s.auth_plain(user, password))
    assert reply == (454, "454 4.7.0 Temporary authentication failure")
    assert took < 0.4
    s.expect(f"MAIL FROM:<app@{DOMAIN}>", "530 5.7.0")
    s.close()
    # Another address is not locked, and the user is not either.
    assert_serving(relay, user, password, src="127.0.0.2")


def test_user_locked_after_ten_failures_from_any_address(relay_factory):
    relay, user, password = sending_relay(relay_factory)
    other, other_pw = add_connector(relay, "web02")
    # 3 + 3 + 3 + 1 failures for one user from four addresses: none of
    # them reaches the address lockout.
    def one(k):
        s = ready(relay, f"127.0.0.{k + 2}")
        out = [s.auth_plain(user, BAD_PASSWORD)
               for _ in range(min(3, 10 - 3 * k))]
        s.close()
        return out

    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        results = [r for rs in ex.map(one, range(4)) for r in rs]
    assert len(results) == 10
    assert set(results) == \
        {(535, "535 5.7.8 Authentication credentials invalid")}
    s = ready(relay, "127.0.0.9")
    assert s.auth_plain(user, password) == \
        (454, "454 4.7.0 Temporary authentication failure")
    s.expect(f"MAIL FROM:<app@{DOMAIN}>", "530 5.7.0")
    # Another user from the same address is not locked.
    assert s.auth_plain(other, other_pw)[0] == 235
    s.close()
    s = ready(relay, "127.0.0.2")
    assert s.auth_plain(user, password)[0] == 454
    s.close()
    assert queued(relay) == {}


# ---- T7: mechanism switch, cancelled and abandoned exchanges ------------

def test_cancelled_login_then_plain_succeeds(relay_factory):
    relay, user, password = sending_relay(relay_factory)
    s = ready(relay)
    assert s.cmd("AUTH LOGIN") == (334, "334 VXNlcm5hbWU6")
    assert s.cmd("*")[1].startswith("501 5.7.0")
    # After the user name, cancel at the password.
    assert s.cmd("AUTH LOGIN") == (334, "334 VXNlcm5hbWU6")
    assert s.cmd(b64("someone-else"))[0] == 334
    assert s.cmd("*")[1].startswith("501 5.7.0")
    s.expect(f"MAIL FROM:<app@{DOMAIN}>", "530 5.7.0 Authentication required")
    assert s.cmd("AUTH PLAIN " + plain(user, password)) == \
        (235, "235 2.7.0 Authentication successful")
    submit(s)
    s.close()
    # A LOGIN user name never carries over into a PLAIN exchange.
    s = ready(relay)
    assert s.cmd("AUTH LOGIN " + b64(user))[0] == 334
    assert s.cmd("*")[0] == 501
    assert s.cmd("AUTH PLAIN") == (334, "334 ")
    assert s.cmd(b64(f"\0\0{password}"))[1].startswith("501 5.5.2")
    s.close()


def test_disconnect_mid_auth_exchange_leaves_daemon_serving(relay_factory):
    relay, user, password = sending_relay(relay_factory)
    for steps in ([], [b64(user)]):
        s = ready(relay)
        assert s.cmd("AUTH LOGIN")[0] == 334
        for line in steps:
            assert s.cmd(line)[0] == 334
        s.close()
    s = ready(relay)
    s.send("AUTH LOGIN\r\n" + b64(user) + "\r\n" + b64(password) + "\r\n")
    s.close()      # answer from lka pending
    s = ready(relay)
    assert s.cmd("AUTH PLAIN")[0] == 334
    s.send(plain(user, password)[:5])
    s.close()
    time.sleep(0.2)
    assert_serving(relay, user, password)


# ---- T1: STARTTLS command injection -------------------------------------

def test_commands_pipelined_behind_starttls_are_discarded(relay_factory):
    relay, user, password = sending_relay(relay_factory)
    s = Session(relay.ports[0])
    s.ehlo()
    s.send(f"STARTTLS\r\nMAIL FROM:<a@{DOMAIN}>\r\n")
    assert s.reply() == (220, "220 2.0.0 Ready to start TLS")
    assert s.buf == b""
    s.sock = tls_context().wrap_socket(s.sock)
    assert s.cmd("NOOP") == (250, "250 2.0.0 Ok")
    assert s.pending() == b""
    s.close()

    s = Session(relay.ports[0])
    s.ehlo()
    s.send("STARTTLS\r\nAUTH PLAIN " + plain(user, password) + "\r\n")
    assert s.reply() == (220, "220 2.0.0 Ready to start TLS")
    s.sock = tls_context().wrap_socket(s.sock)
    s.expect(f"MAIL FROM:<app@{DOMAIN}>", "503 5.5.1")
    s.ehlo()
    s.expect(f"MAIL FROM:<app@{DOMAIN}>", "530 5.7.0 Authentication required")
    assert s.pending() == b""
    s.close()
    assert "authenticated as" not in relay.logtext()
    assert queued(relay) == {}


# ---- T2: the session after STARTTLS -------------------------------------

def test_session_after_starttls_starts_over(relay_factory):
    relay, user, password = sending_relay(relay_factory)
    s = Session(relay.ports[0])
    s.ehlo()
    s.expect("STARTTLS x", "501 5.5.4")
    s.starttls()
    s.expect(f"MAIL FROM:<app@{DOMAIN}>", "503 5.5.1")
    s.expect("STARTTLS", "554 5.5.1")
    caps = s.ehlo()
    assert "AUTH PLAIN LOGIN" in caps
    assert "STARTTLS" not in caps
    assert not [c for c in caps if "XEXCH50" in c.upper()], caps
    s.expect("STARTTLS", "554 5.5.1")
    assert s.auth_plain(user, password)[0] == 235
    s.close()

    s = Session(relay.ports[1], tls=True)
    s.expect("STARTTLS", "554 5.5.1")
    caps = s.ehlo()
    assert "AUTH PLAIN LOGIN" in caps and "STARTTLS" not in caps
    assert not [c for c in caps if "XEXCH50" in c.upper()], caps
    s.expect("STARTTLS", "554 5.5.1")
    s.close()


# ---- T8: TLS versions, ciphers, handshake deadline ---------------------

def test_tls_1_1_client_fails_the_handshake(relay_factory):
    relay, user, password = sending_relay(relay_factory)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    except (ValueError, ssl.SSLError) as e:
        pytest.skip(f"local OpenSSL cannot offer TLS 1.1: {e}")
    for port, starttls in ((relay.ports[1], False), (relay.ports[0], True)):
        s = Session(port, banner=starttls)
        if starttls:
            s.ehlo()
            assert s.cmd("STARTTLS")[0] == 220
        sock = s.sock
        with pytest.raises(ssl.SSLError) as e:
            ctx.wrap_socket(sock)
        sock.close()
        msg = str(e.value)
        if "NO_PROTOCOLS_AVAILABLE" in msg.upper() or \
                "no protocols available" in msg:
            pytest.skip(f"local OpenSSL refuses TLS 1.1: {msg}")
        assert "PROTOCOL_VERSION" in msg.upper() or \
            "UNSUPPORTED_PROTOCOL" in msg.upper() or \
            "WRONG_VERSION" in msg.upper(), msg
    assert queued(relay) == {}
    assert_serving(relay, user, password)


def test_idle_tls_handshake_closed_at_deadline(relay_factory):
    relay, user, password = sending_relay(
        relay_factory, "smtp timeout handshake 2s\n")
    s = Session(relay.ports[1], banner=False)
    closed, took = timed(lambda: s.closed(timeout=8))
    assert closed and 1.5 <= took < 5, took
    s.close()
    # Same after STARTTLS: the 220, then nothing.
    s = Session(relay.ports[0])
    s.ehlo()
    assert s.cmd("STARTTLS")[0] == 220
    closed, took = timed(lambda: s.closed(timeout=8))
    assert closed and 1.5 <= took < 5, took
    s.close()
    assert "TLS handshake timeout" in relay.logtext()
    assert_serving(relay, user, password)


@pytest.mark.parametrize("version, cipher", [
    ("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384"),     # Exchange 2016
    ("TLSv1.3", None),
])
def test_tls_versions_work_and_are_named_in_received(relay_factory, version,
                                                     cipher):
    relay, user, password = sending_relay(relay_factory)
    ctx = tls_context()
    if version == "TLSv1.2":
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers(cipher)
    else:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    qids = []
    for smtps in (False, True):
        if smtps:
            s = Session(relay.ports[1], tls=True, ctx=ctx)
        else:
            s = Session(relay.ports[0])
            s.ehlo()
            s.starttls(ctx)
        got = s.sock.version(), s.sock.cipher()[0]
        assert got[0] == version
        if cipher:
            assert got[1] == cipher
        s.ehlo()
        assert s.auth_plain(user, password)[0] == 235
        qids.append((submit(s), got))
        s.close()
    q = queued(relay)
    for qid, (ver, ciph) in qids:
        env, msg = q[qid]
        head = msg.split(b"\r\n\r\n", 1)[0]
        assert f"(using {ver} with cipher {ciph})".encode() in head, head
        assert password.encode() not in msg + env


def test_client_certificate_is_accepted_and_logged(relay_factory, tmp_path):
    relay, user, password = sending_relay(relay_factory)
    key, crt = tmp_path / "client.key", tmp_path / "client.crt"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-days", "2", "-subj", "/CN=client.test",
         "-keyout", str(key), "-out", str(crt)],
        check=True, capture_output=True, timeout=60)
    ctx = tls_context()
    ctx.load_cert_chain(str(crt), str(key))
    der = ssl.PEM_cert_to_DER_cert(crt.read_text())
    fingerprint = hashlib.sha256(der).hexdigest()
    for smtps in (True, False):
        if smtps:
            s = Session(relay.ports[1], tls=True, ctx=ctx)
        else:
            s = Session(relay.ports[0])
            s.ehlo()
            s.starttls(ctx)
        s.ehlo()
        assert s.auth_plain(user, password)[0] == 235
        submit(s)
        s.close()
    log = relay.logtext()
    lines = [x for x in log.splitlines() if "client certificate SHA256:" in x]
    assert len(lines) == 2, log
    assert all(fingerprint in x.lower() for x in lines), (fingerprint, lines)
    assert len(queued(relay)) == 2

