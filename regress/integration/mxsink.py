"""MX hosts on loopback for the delivery tests, and helpers to drive them.

MXSink: an SMTP server (python3-aiosmtpd) that records what the relay
delivers.  Optional STARTTLS (the session's pki certificate), extensions
taken out of or added to the EHLO reply (DSN, PIPELINING, 8BITMIME),
and a programmable reply per RCPT and per end of data:

    sink.rcpt_replies("x@example.net", "450 4.2.0 later")  # 1st attempt
    sink.rcpt_always("y@example.net", "550 5.1.1 no such user")
    sink.rcpt_default = "451 4.3.0 busy"                   # everyone else

Every message: mail_from, rcpt_tos, data (the bytes after un-dot-stuffing,
as they came), tls (the protocol version or None), conn (its connection's
number), the MAIL and RCPT parameters.  sink.connections counts the
connections, sink.rcpts every RCPT with its answer.

ScriptedSink: a raw socket server that answers each command with exactly
the bytes the test gives, for what no real server would send (over-long
lines, NUL, bare LF, broken multi-line replies, plaintext after the 220
to STARTTLS).

MXNet: every sink of a test on one port (`deliver port` is one number for
all MX hosts), each on its own loopback address 127.0.0.N, with the MX
and A records of its domain in the test's DNS server.  The `mxnet`
fixture makes one around a relay that delivers (relay.deliver = True).
"""
import email
import email.policy
import errno
import re
import smtplib
import socket
import ssl
import threading
import time

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from conftest import free_port, wait_for
from dnsfixture import DNSFixture
from submit import DOMAIN, message, sending_relay, starttls_client

DSN_PARAMS = ("NOTIFY=", "ORCPT=", "RET=", "ENVID=")


class SinkMessage:
    def __init__(self, **kw):
        self.__dict__.update(kw)

    def __repr__(self):
        return (f"<SinkMessage from={self.mail_from!r} to={self.rcpt_tos!r}"
                f" conn={self.conn} tls={self.tls} {len(self.data)} octets>")

    def parsed(self):
        return email.message_from_bytes(self.data,
                                        policy=email.policy.default)


class _SinkSMTP(SMTP):
    """aiosmtpd's server, with the DSN parameters taken off MAIL and RCPT
    (aiosmtpd refuses every parameter it does not know) and kept."""

    def __init__(self, sink, *args, **kw):
        super().__init__(sink, *args, **kw)
        self.sink = sink
        self.conn_no = None
        self.implicit_tls = None
        self._lost = False
        self.dsn_mail = []
        self.dsn_rcpt = {}

    def connection_made(self, transport):
        upgrade = self._original_transport is not None
        super().connection_made(transport)
        if not upgrade:
            self.conn_no = self.sink._new_connection()
            obj = transport.get_extra_info("ssl_object")
            self.implicit_tls = obj.version() if obj is not None else None
        self.session.conn_no = self.conn_no
        self.session.implicit_tls = self.implicit_tls
        self.session.dsn_mail = self.dsn_mail
        self.session.dsn_rcpt = self.dsn_rcpt

    def _split(self, arg):
        if not arg:
            return arg, []
        words = arg.split(" ")
        keep = [w for w in words if not w.upper().startswith(DSN_PARAMS)]
        dsn = [w for w in words if w.upper().startswith(DSN_PARAMS)]
        return " ".join(keep), dsn

    def connection_lost(self, error):
        if self.conn_no is not None and not self._lost:
            self._lost = True
            self.sink._end_connection()
        super().connection_lost(error)

    async def smtp_MAIL(self, arg):
        if self.sink.dsn:
            arg, dsn = self._split(arg)
            self.dsn_mail[:] = dsn
        return await super().smtp_MAIL(arg)

    async def smtp_RCPT(self, arg):
        if self.sink.dsn:
            arg, dsn = self._split(arg)
            self._pending_dsn = dsn
        return await super().smtp_RCPT(arg)

    async def smtp_RSET(self, arg):
        self.dsn_mail[:] = []
        self.dsn_rcpt.clear()
        return await super().smtp_RSET(arg)


class MXSink:
    """An MX host that records what it gets; see the module's text."""

    def __init__(self, host="127.0.0.1", port=0, tls=None, dsn=False,
                 pipelining=False, eightbitmime=True, smtputf8=False,
                 name="mx.test", auth=False, implicit_tls=False):
        self.host = host
        self.port = port or free_port()
        self.tls = tls              # the pki directory: offer STARTTLS
        self.implicit_tls = implicit_tls    # or TLS from the first byte
        self.dsn = dsn
        self.pipelining = pipelining
        self.eightbitmime = eightbitmime
        self.name = name
        self.lock = threading.Lock()
        self.messages = []
        self.rcpts = []             # (conn, address, reply, time)
        self.auth = auth            # offer AUTH PLAIN/LOGIN (over TLS)
        self.logins = []            # (conn, mechanism, user, password, tls)
        self.connections = 0
        self.active = 0             # connections open now
        self.max_active = 0         # the most open at once
        self.rcpt_default = None    # None: accept
        self.data_default = None
        self._rcpt_script = {}      # address -> [replies, then None...]
        self._rcpt_always = {}
        self._data_script = []
        self.controller = None
        self.diag = None            # () -> text for a failure message

    # programmable replies
    def rcpt_replies(self, address, *replies):
        """The next RCPT of address get these replies, one each; then the
        address is accepted (or answered rcpt_default)."""
        with self.lock:
            self._rcpt_script.setdefault(address.lower(), []).extend(replies)

    def rcpt_always(self, address, reply):
        with self.lock:
            self._rcpt_always[address.lower()] = reply

    def data_replies(self, *replies):
        """The next ends of data get these replies instead of 250."""
        with self.lock:
            self._data_script.extend(replies)

    # server side
    def _new_connection(self):
        with self.lock:
            self.connections += 1
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            return self.connections

    def _end_connection(self):
        with self.lock:
            self.active -= 1

    async def handle_EHLO(self, server, session, envelope, hostname,
                          responses):
        session.host_name = hostname
        out = [r for r in responses[:-1]
               if self.eightbitmime or "8BITMIME" not in r]
        if self.pipelining:
            out.append("250-PIPELINING")
        if self.dsn:
            out.append("250-DSN")
        out.append("250 HELP")
        return out

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        key = address.lower()
        with self.lock:
            reply = None
            if key in self._rcpt_always:
                reply = self._rcpt_always[key]
            elif self._rcpt_script.get(key):
                reply = self._rcpt_script[key].pop(0)
            elif self.rcpt_default is not None:
                reply = self.rcpt_default
            self.rcpts.append((session.conn_no, address,
                               reply or "250 2.1.5 OK", time.time()))
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        smtp = server
        session.dsn_rcpt[address] = list(getattr(smtp, "_pending_dsn", []))
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            reply = (self._data_script.pop(0) if self._data_script
                     else self.data_default)
            tls = session.implicit_tls
            if session.ssl is not None:
                obj = session.ssl.get("ssl_object")
                tls = obj.version() if obj is not None else "TLS"
            self.messages.append(SinkMessage(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                data=bytes(envelope.original_content),
                tls=tls, conn=session.conn_no, helo=session.host_name,
                mail_params=list(session.dsn_mail)
                + list(envelope.mail_options),
                rcpt_params={a: list(p) for a, p in
                             session.dsn_rcpt.items()},
                accepted=reply is None, time=time.time()))
        return reply or "250 2.0.0 OK: delivered"

    def _authenticate(self, server, session, envelope, mechanism,
                      auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword
        if isinstance(auth_data, LoginPassword):
            user = auth_data.login.decode("utf-8", "replace")
            password = auth_data.password.decode("utf-8", "replace")
        else:
            user, password = repr(auth_data), None
        with self.lock:
            self.logins.append((session.conn_no, mechanism, user, password,
                                session.ssl is not None
                                or session.implicit_tls is not None))
        return AuthResult(success=True)

    def start(self):
        sink = self
        ctx = server_ctx = None
        if self.tls is not None:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(f"{self.tls}/relay.crt",
                                f"{self.tls}/relay.key")
        if self.implicit_tls:
            server_ctx, ctx = ctx, None

        kw = {}
        if self.auth:
            # Over implicit TLS aiosmtpd does not know it is encrypted.
            kw = {"authenticator": self._authenticate,
                  "auth_require_tls": not self.implicit_tls}

        class _Controller(Controller):
            def factory(self):
                return _SinkSMTP(sink, hostname=sink.name,
                                 tls_context=ctx, enable_SMTPUTF8=False,
                                 data_size_limit=64 * 1024 * 1024, **kw)

        self.controller = _Controller(self, hostname=self.host,
                                      port=self.port, ready_timeout=10,
                                      ssl_context=server_ctx)
        self.controller.start()
        # The controller's own probe connection is no delivery.
        wait_for(lambda: self.active == 0, 5)
        with self.lock:
            self.connections = self.max_active = 0
        return self

    def stop(self):
        if self.controller is not None:
            try:
                self.controller.stop()
            except Exception:       # already stopped, loop gone
                pass
            self.controller = None

    # test side
    def accepted(self):
        with self.lock:
            return [m for m in self.messages if m.accepted]

    def to(self, address):
        return [m for m in self.accepted() if address in m.rcpt_tos]

    def bounces(self):
        """Messages from the null sender."""
        return [m for m in self.accepted() if m.mail_from == "<>"
                or m.mail_from == ""]

    def rcpt_attempts(self, address):
        with self.lock:
            return [r for r in self.rcpts if r[1].lower() == address.lower()]

    def wait_messages(self, n, timeout=15):
        try:
            wait_for(lambda: len(self.accepted()) >= n, timeout)
        except AssertionError:
            raise AssertionError(
                f"{self.host}: {len(self.accepted())} of {n} messages in "
                f"{timeout}s; {self.connections} connections; RCPTs "
                f"{self.rcpts}\n" + (self.diag() if self.diag else ""))
        return self.accepted()


CLOSE = object()


class ScriptedSink:
    """A raw SMTP server on a thread: each command is answered with the
    bytes replies[VERB] (VERB: BANNER, EHLO, HELO, MAIL, RCPT, DATA, DOT
    for the end of data, RSET, QUIT, STARTTLS, OTHER).  A value may be
    bytes, a callable (connection number, verb) -> bytes, or CLOSE.
    With tls (the pki directory), the connection turns to TLS after the
    STARTTLS reply; whatever else that reply carried (an injection) went
    in plain text first.  Records every connection's transcript: the
    bytes received, and whether they came over TLS."""

    DEFAULTS = {
        "BANNER": b"220 scripted.test ESMTP\r\n",
        "EHLO": b"250-scripted.test\r\n250-8BITMIME\r\n250 SIZE 1000000\r\n",
        "HELO": b"250 scripted.test\r\n",
        "MAIL": b"250 2.1.0 ok\r\n",
        "RCPT": b"250 2.1.5 ok\r\n",
        "DATA": b"354 go ahead\r\n",
        "DOT": b"250 2.0.0 queued\r\n",
        "RSET": b"250 2.0.0 ok\r\n",
        "NOOP": b"250 2.0.0 ok\r\n",
        "QUIT": b"221 2.0.0 bye\r\n",
        "STARTTLS": b"220 2.0.0 go ahead\r\n",
        "OTHER": b"502 5.5.2 not here\r\n",
    }

    def __init__(self, host="127.0.0.1", port=0, replies=None, tls=None):
        self.host = host
        self.port = port or free_port()
        self.replies = dict(self.DEFAULTS)
        if not tls and "STARTTLS" not in (replies or {}):
            self.replies["STARTTLS"] = self.replies["OTHER"]
        self.replies.update(replies or {})
        self.tls = tls
        self.lock = threading.Lock()
        self.connections = 0
        self.transcripts = []       # per connection: [(tls, line bytes)]
        self.messages = []          # (conn, tls, data bytes)
        self.stopping = threading.Event()
        self.sock = None

    def start(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((self.host, self.port))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self):
        self.stopping.set()
        if self.sock is not None:
            self.sock.close()

    def _accept(self):
        while not self.stopping.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.connections += 1
                n = self.connections
                self.transcripts.append([])
            threading.Thread(target=self._serve, args=(c, n),
                             daemon=True).start()

    def _reply(self, n, verb):
        r = self.replies.get(verb, self.replies["OTHER"])
        if callable(r) and r is not CLOSE:
            r = r(n, verb)
        return r

    def _serve(self, c, n):
        c.settimeout(20)
        tls = False
        buf = b""
        log = self.transcripts[n - 1]

        def send(verb):
            r = self._reply(n, verb)
            if r is CLOSE:
                raise EOFError
            c.sendall(r)

        def line():
            nonlocal buf
            while b"\n" not in buf:
                chunk = c.recv(65536)
                if not chunk:
                    raise EOFError
                buf += chunk
            ln, buf = buf.split(b"\n", 1)
            ln += b"\n"
            with self.lock:
                log.append((tls, ln))
            return ln

        try:
            send("BANNER")
            while not self.stopping.is_set():
                ln = line()
                verb = ln.split(b" ", 1)[0].split(b":", 1)[0].strip()
                verb = verb.upper().decode("latin-1")
                if verb == "STARTTLS" and self.tls and not tls:
                    send("STARTTLS")
                    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                    ctx.load_cert_chain(f"{self.tls}/relay.crt",
                                        f"{self.tls}/relay.key")
                    c = ctx.wrap_socket(c, server_side=True)
                    tls = True
                    buf = b""
                    continue
                if verb == "DATA":
                    send("DATA")
                    data = []
                    while True:
                        ln = line()
                        if ln == b".\r\n":
                            break
                        data.append(ln)
                    with self.lock:
                        self.messages.append((n, tls, b"".join(data)))
                    send("DOT")
                    continue
                send(verb if verb in self.replies else "OTHER")
                if verb == "QUIT":
                    break
        except (EOFError, OSError, ssl.SSLError):
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass

    def plaintext_after_starttls(self):
        """Lines the client sent in plain text after its STARTTLS."""
        out = []
        with self.lock:
            for t in self.transcripts:
                seen = False
                for tls, ln in t:
                    if seen and not tls:
                        out.append(ln)
                    if ln.upper().startswith(b"STARTTLS"):
                        seen = True
        return out

    def commands(self):
        with self.lock:
            return [ln for t in self.transcripts for _, ln in t]


class MXNet:
    """The MX hosts of one test: one port, one loopback address each."""

    def __init__(self, relay, pki=None):
        self.relay = relay
        self.pki = pki
        if relay.dns is None:
            relay.dns = DNSFixture()
        self.dns = relay.dns
        self.port = free_port()
        self.next = 10
        self.sinks = []

    def address(self):
        self.next += 1
        return f"127.0.0.{self.next}"

    def _bind(self, make):
        for _ in range(20):
            srv = make(self.address())
            try:
                srv.start()
                return srv
            except OSError as e:     # the port is taken there: next one
                if getattr(e, "errno", None) != errno.EADDRINUSE \
                        and "address already in use" not in str(e).lower():
                    raise
            except RuntimeError:
                continue
        raise AssertionError(f"no loopback address free on {self.port}")

    def publish(self, domain, host, mx=None):
        """domain's MX -> mx.domain (or mx) -> host."""
        mx = mx or f"mx.{domain}"
        self.dns.set(domain, "MX", [(10, mx)])
        self.dns.set(mx, "A", [host])
        return mx

    def sink(self, domain, tls=False, **kw):
        """An MXSink for domain (or for several: a list), STARTTLS
        offered when tls."""
        s = self._bind(lambda a: MXSink(host=a, port=self.port,
                                        tls=self.pki if tls else None,
                                        **kw))
        for d in [domain] if isinstance(domain, str) else domain:
            self.publish(d, s.host)
        s.diag = self.diag
        self.sinks.append(s)
        return s

    def diag(self):
        """The relay's delivery lines and the end of its log."""
        try:
            text = self.relay.logtext()
        except OSError:
            return "(no log)"
        lines = text.splitlines()
        return ("--- delivery lines:\n" + "\n".join(
            ln for ln in lines if "delivery id=" in ln) +
            "\n--- log tail:\n" + "\n".join(lines[-25:]))

    def scripted(self, domain, replies=None, tls=False):
        s = self._bind(lambda a: ScriptedSink(host=a, port=self.port,
                                              replies=replies,
                                              tls=self.pki if tls else None))
        self.publish(domain, s.host)
        self.sinks.append(s)
        return s

    def config(self):
        return f"deliver port {self.port}\n"

    def start(self, extra=""):
        """The relay, started with delivery to these sinks, and
        connector web01 allowed to send as example.com:
        (relay, user, password)."""
        self.relay.extra = self.config() + extra
        return sending_relay(None, relay=self.relay)

    def stop(self):
        for s in self.sinks:
            s.stop()


@pytest.fixture
def mxnet(relay_factory, pki):
    relay = relay_factory()
    relay.deliver = True
    net = MXNet(relay, pki)
    yield net
    net.stop()


# --- submitting and reading the log ----------------------------------

QID = re.compile(rb"queued as ([0-9a-f]{16})")


def submit(relay, user, password, rcpts, frm=f"app@{DOMAIN}", data=None,
           subject="test", mail_options=(), rcpt_options=(), body=None):
    """One message over 587: (code, reply text, queue id or None)."""
    if isinstance(rcpts, str):
        rcpts = [rcpts]
    if data is None:
        hdr_from = frm if frm not in ("", "<>") else f"app@{DOMAIN}"
        data = message(frm=hdr_from, to=", ".join(rcpts), subject=subject,
                       body=body if body is not None else "Hello.\r\n")
    c = starttls_client(relay)
    try:
        c.login(user, password)
        code, text = c.mail(frm, list(mail_options))
        assert code == 250, (code, text)
        for r in rcpts:
            code, text = c.rcpt(r, list(rcpt_options))
            assert code == 250, (r, code, text)
        try:
            code, text = c.data(data)
        except smtplib.SMTPDataError as e:
            return e.smtp_code, e.smtp_error, None
        m = QID.search(text)
        return code, text, m.group(1).decode() if m else None
    finally:
        try:
            c.quit()
        except (smtplib.SMTPException, OSError):
            c.close()


FIELD = re.compile(r'(\w[\w-]*)=("(?:[^"\\]|\\.)*"|\S*)')


def delivery_lines(relay):
    """Every `delivery id=...` log line, parsed: [dict] with the raw line
    under "_line"."""
    out = []
    for ln in relay.logtext().splitlines():
        i = ln.find("delivery id=")
        if i < 0:
            continue
        d = {"_line": ln}
        for k, v in FIELD.findall(ln[i + len("delivery "):]):
            if v.startswith('"') and v.endswith('"') and len(v) >= 2:
                v = v[1:-1]
            d[k] = v
        out.append(d)
    return out


def deliveries(relay, **match):
    return [d for d in delivery_lines(relay)
            if all(d.get(k) == v for k, v in match.items())]


def wait_delivery(relay, timeout=15, count=1, **match):
    """Wait until count delivery lines match; return them."""
    try:
        wait_for(lambda: len(deliveries(relay, **match)) >= count, timeout)
    except AssertionError:
        raise AssertionError(
            f"no {count} delivery line(s) with {match} in {timeout}s; "
            "delivery lines:\n" + "\n".join(
                d["_line"] for d in delivery_lines(relay)) +
            "\n--- log tail:\n" + "\n".join(
                relay.logtext().splitlines()[-25:]))
    return deliveries(relay, **match)


def dsn_of(msg):
    """A bounce as the sink got it: (email message, per-message fields,
    [per-recipient fields]); asserts the RFC 3464 shape."""
    m = msg.parsed() if isinstance(msg, SinkMessage) else msg
    assert m.get_content_type() == "multipart/report", m.get_content_type()
    assert m.get_param("report-type") == "delivery-status"
    parts = m.get_payload()
    (status,) = [p for p in parts
                 if p.get_content_type() == "message/delivery-status"]
    blocks = status.get_payload()
    return m, blocks[0], blocks[1:]


def control_bytes(text):
    """Characters of text that are control characters (not TAB)."""
    return [c for c in text if (ord(c) < 0x20 and c != "\t")
            or ord(c) == 0x7f]
