"""Helpers for the SMTP submission tests: a relay with a connector whose
domain is verified, SMTP clients on its two listeners, and a look into
the queue directory."""

import base64
import json
import os
import smtplib
import socket
import ssl
import time

DOMAIN = "example.com"
CONNECTOR = "web01"


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def client_hello():
    """The first flight of a real TLS client: its ClientHello."""
    out = ssl.MemoryBIO()
    obj = tls_context().wrap_bio(ssl.MemoryBIO(), out)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def add_connector(relay, name=CONNECTOR):
    r = relay.ctl("connector", "add", name, json_out=True, check=True)
    cred = json.loads(r.stdout)["credentials"]
    return cred["username"], cred["password"]


def verify_domain(relay, connector=CONNECTOR, domain=DOMAIN, timeout=15):
    """Authorize domain for connector, publish its token, wait until the
    relay says verified."""
    r = relay.ctl("domain", "add", connector, domain, json_out=True,
                  check=True)
    doc = json.loads(r.stdout)
    (token,) = [x["value"] for x in doc["records"]
                if x["purpose"].split()[0] == "verification"]
    relay.dns.txt(domain, token)
    deadline = time.time() + timeout
    while True:
        relay.ctl("domain", "check", domain)
        r = relay.ctl("domain", "show", domain, json_out=True, check=True)
        rows = [a for a in json.loads(r.stdout)["authorizations"]
                if a["connector"] == connector]
        if rows and rows[0]["state"] == "verified":
            return
        assert time.time() < deadline, r.stdout
        time.sleep(0.2)


def sending_relay(relay_factory, extra="", relay=None):
    """A started relay (a new one, or the one given, not started yet)
    with connector web01 allowed to send as example.com;
    (relay, user, password)."""
    if relay is None:
        relay = relay_factory()
    relay.extra = extra or relay.extra
    relay.start()
    user, password = add_connector(relay)
    verify_domain(relay)
    return relay, user, password


def starttls_client(relay, timeout=10):
    c = smtplib.SMTP("127.0.0.1", relay.ports[0], timeout=timeout)
    c.ehlo("client.test")
    c.starttls(context=tls_context())
    c.ehlo("client.test")
    return c


def smtps_client(relay, timeout=10):
    c = smtplib.SMTP_SSL("127.0.0.1", relay.ports[1], timeout=timeout,
                         context=tls_context())
    c.ehlo("client.test")
    return c


def message(frm=f"app@{DOMAIN}", to="someone@example.net",
            subject="test", body="Hello.\r\n", extra=""):
    return (f"From: {frm}\r\nTo: {to}\r\nSubject: {subject}\r\n{extra}"
            f"\r\n{body}").encode()


# A new message's envelope: an attribute of its body file (queue_store.c).
ENV_ATTR = "user.sendgate.envelope"


def envelope_of(q, qid):
    """The envelope of committed message qid in queue directory q: its
    file if it has one (updated, or too large), else the attribute of its
    body; None if neither (not committed)."""
    try:
        with open(os.path.join(q, qid + ".env"), "rb") as f:
            return f.read()
    except FileNotFoundError:
        pass
    try:
        return os.getxattr(os.path.join(q, qid + ".msg"), ENV_ATTR)
    except OSError:
        return None


def queued(relay):
    """Committed messages: {id: (envelope bytes, message bytes)}."""
    q = os.path.join(relay.dirs["queue"], "queue")
    out = {}
    if not os.path.isdir(q):
        return out
    for name in os.listdir(q):
        if name.endswith(".msg"):
            qid = name[:-4]
            env = envelope_of(q, qid)
            if env is None:
                continue
            with open(os.path.join(q, name), "rb") as f:
                msg = f.read()
            out[qid] = (env, msg)
    return out


def incoming(relay):
    d = os.path.join(relay.dirs["queue"], "incoming")
    return os.listdir(d) if os.path.isdir(d) else []


class RawSession:
    """An SMTP client that sends exactly the bytes it is given, for what
    smtplib would not send (pipelining, bare LF, NUL, over-long lines).
    Every read waits at most timeout seconds.

        s = RawSession(relay)          # 587, banner read
        s.starttls(); s.ehlo(); s.auth_plain(user, password)
        s.send(b"NOOP\\r\\nNOOP\\r\\n"); s.replies(2)
    """

    def __init__(self, relay, smtps=False, timeout=10, banner=True,
                 port=None):
        self.timeout = timeout
        self.buf = b""
        if port is None:
            port = relay.ports[1] if smtps else relay.ports[0]
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=timeout)
        if smtps:
            self.sock = tls_context().wrap_socket(self.sock)
        self.banner = self.reply() if banner else None

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        try:
            chunk = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError, ssl.SSLEOFError):
            chunk = b""
        if not chunk:
            raise EOFError(f"connection closed; unread {self.buf!r}")
        self.buf += chunk

    def line(self):
        """One reply line, without its CRLF."""
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        """One complete reply: (code, text), the text of a multi-line
        reply joined with newlines, without the codes."""
        texts = []
        while True:
            line = self.line()
            assert len(line) >= 3 and line[:3].isdigit(), line
            texts.append(line[4:].decode("latin-1"))
            if line[3:4] != b"-":
                return int(line[:3]), "\n".join(texts)

    def replies(self, n):
        return [self.reply() for _ in range(n)]

    def cmd(self, line):
        if isinstance(line, str):
            line = line.encode()
        self.send(line + b"\r\n")
        return self.reply()

    def ehlo(self, name="client.test"):
        return self.cmd(f"EHLO {name}")

    def starttls(self):
        code, text = self.ehlo()
        assert code == 250, text
        code, text = self.cmd("STARTTLS")
        assert code == 220, text
        assert self.buf == b""
        self.sock = tls_context().wrap_socket(self.sock)

    def auth_plain(self, user, password):
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        return self.cmd(f"AUTH PLAIN {token}")

    def drain_until_close(self, timeout=10):
        """Everything the server still sends until it closes the
        connection; fails if it does not close within timeout."""
        self.sock.settimeout(timeout)
        deadline = time.time() + timeout
        data, self.buf = self.buf, b""
        while True:
            assert time.time() < deadline, f"not closed; got {data!r}"
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
                return data
            except socket.timeout:
                raise AssertionError(f"not closed; got {data!r}")
            if not chunk:
                return data
            data += chunk

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def submission(relay, user, password, smtps=False, timeout=10):
    """A RawSession on 587 after STARTTLS, or on 465, with EHLO done and
    authenticated: ready for MAIL."""
    s = RawSession(relay, smtps=smtps, timeout=timeout)
    assert s.banner[0] == 220, s.banner
    if not smtps:
        s.starttls()
    code, text = s.ehlo()
    assert code == 250, text
    code, text = s.auth_plain(user, password)
    assert code == 235, text
    return s
