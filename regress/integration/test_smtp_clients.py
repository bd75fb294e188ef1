"""Real SMTP clients against the submission listeners: an Exchange-like
smart-host session (STARTTLS, AUTH LOGIN, DSN parameters, pipelined BDAT
chunks), the EHLO and HELO answers, RFC 2920 reply order, swaks, smtplib
with SMTPUTF8, sendgatectl show queue, and the Date:/Message-ID: fields
added to a message that lacks them (RFC 6409 8).  Each test checks the
exact replies and the bytes stored in the queue."""

import base64
import json
import re
import socket
import subprocess
import time

import pytest  # noqa: F401

from submit import (CONNECTOR, DOMAIN, message, queued, sending_relay,
                    starttls_client, tls_context)

HOSTNAME = "relay.test"
GREETING = f"220 {HOSTNAME} ESMTP sendgate"
SIZE_DEFAULT = 35 * 1024 * 1024
SWAKS = "/usr/bin/swaks"

RECEIVED = re.compile(
    rb"Received: from (?P<helo>[^ \r\n]+) \(\[127\.0\.0\.1\]\)\r\n"
    rb"\tby relay\.test \(sendgate\) with (?P<proto>[A-Z]+) "
    rb"id (?P<id>[0-9a-f]{16})"
    rb"(?:\r\n\t\(using (?P<version>[^ ]+) with cipher (?P<cipher>[^ )]+)\))?"
    rb"\r\n\t\(connector (?P<connector>[^)]+)\);\r\n"
    rb"\t(?P<date>[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} "
    rb"\d\d:\d\d:\d\d \+0000)\r\n")
ADDED_DATE = rb"Date: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} " \
    rb"\d\d:\d\d:\d\d \+0000\r\n"


def added_message_id(qid):
    return rb"Message-ID: <[0-9a-f]{16}\." + qid.encode() + \
        rb"@relay\.test>\r\n"


# The stored envelope (queue/envelope.h): records "<tag> SP <length> ':'
# <bytes> LF" in a fixed order, "version" first, "end" last; each
# recipient is "rcpt" followed by its "notify", "orcpt-type", "orcpt"
# and its delivery state, which for a message just queued (delivery is
# paused in these tests) is the initial one.
RCPT_TAGS = ("notify", "orcpt-type", "orcpt", "state", "attempts",
             "next-try", "last-mta", "last")
FRESH_RCPT = {"state": b"0", "attempts": b"0", "next-try": b"0",
              "last-mta": b"", "last": b""}


def parse_envelope(data):
    """(fields {tag: bytes}, recipients [{tag: bytes}]) of an envelope."""
    records = []
    i = 0
    while i < len(data):
        sp = data.index(b" ", i)
        colon = data.index(b":", sp)
        tag = data[i:sp].decode("ascii")
        n = int(data[sp + 1:colon])
        value = data[colon + 1:colon + 1 + n]
        assert len(value) == n, f"record {tag} runs past the end"
        assert data[colon + 1 + n:colon + 2 + n] == b"\n", \
            f"record {tag} not ended by LF"
        records.append((tag, value))
        i = colon + 2 + n
    assert records[0] == ("version", b"2"), records[:1]
    assert records[-1] == ("end", b""), records[-1:]
    fields, rcpts = {}, []
    for tag, value in records[1:-1]:
        if tag == "rcpt":
            rcpts.append({"rcpt": value})
        elif tag in RCPT_TAGS:
            assert rcpts and tag not in rcpts[-1], (tag, records)
            rcpts[-1][tag] = value
        else:
            assert tag not in fields, f"duplicate {tag}"
            fields[tag] = value
    assert int(fields["nrcpt"]) == len(rcpts)
    assert fields.pop("warned") == b"0"
    for r in rcpts:
        assert {k: r.pop(k) for k in FRESH_RCPT} == FRESH_RCPT, r
    return fields, rcpts


def split_received(qid, stored):
    """Our Received: field at the top of a stored message, and the rest."""
    m = RECEIVED.match(stored)
    assert m, stored[:400]
    assert m.group("id") == qid.encode()
    assert m.group("connector") == CONNECTOR.encode()
    return m, stored[m.end():]


def with_added_fields(qid, expected, rest):
    """rest is expected with exactly one Date: and one Message-ID: added
    before the empty line that ends the header."""
    head, sep, body = expected.partition(b"\r\n\r\n")
    assert sep, "expected message has no empty line"
    pattern = re.escape(head + b"\r\n") + ADDED_DATE + \
        added_message_id(qid) + re.escape(b"\r\n" + body)
    assert re.fullmatch(pattern, rest, re.S), rest


class Client:
    """An SMTP client on a raw socket: what is written is exactly what
    the test says, and every reply line is read back in order."""

    def __init__(self, port, implicit_tls=False, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=timeout)
        if implicit_tls:
            self.sock = tls_context().wrap_socket(self.sock)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"connection closed; pending {self.buf!r}")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def reply(self):
        """One reply, as its list of lines."""
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if line[3:4] != "-":
                return lines

    def one(self):
        """One single-line reply."""
        lines = self.reply()
        assert len(lines) == 1, lines
        return lines[0]

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.one()

    def ehlo(self, name):
        self.send(f"EHLO {name}\r\n")
        return self.reply()

    def starttls(self):
        assert self.cmd("STARTTLS") == "220 2.0.0 Ready to start TLS"
        assert self.buf == b""
        self.sock = tls_context().wrap_socket(self.sock)

    def tls_facts(self):
        return f"{self.sock.version()} {self.sock.cipher()[0]}"

    def auth_login(self, user, password):
        assert self.cmd("AUTH LOGIN") == "334 VXNlcm5hbWU6"
        assert self.cmd(base64.b64encode(user.encode()).decode()) == \
            "334 UGFzc3dvcmQ6"
        assert self.cmd(base64.b64encode(password.encode()).decode()) == \
            "235 2.7.0 Authentication successful"

    def auth_plain(self, user, password):
        ir = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        assert self.cmd(f"AUTH PLAIN {ir}") == \
            "235 2.7.0 Authentication successful"


def ready_client(relay, user, password, name="client.test"):
    """STARTTLS listener, EHLO, STARTTLS, EHLO, AUTH PLAIN."""
    c = Client(relay.ports[0])
    assert c.one() == GREETING
    c.ehlo(name)
    c.starttls()
    c.ehlo(name)
    c.auth_plain(user, password)
    return c


def queued_as(line):
    m = re.fullmatch(r"250 2\.0\.0 Ok: queued as ([0-9a-f]{16})", line)
    assert m, line
    return m.group(1)


def ehlo_keywords(lines):
    """The keywords of an EHLO reply, after checking its framing."""
    assert lines[0] == f"250-{HOSTNAME} Hello [127.0.0.1]", lines
    assert all(x.startswith("250-") for x in lines[:-1]), lines
    assert lines[-1].startswith("250 "), lines
    return [x[4:] for x in lines[1:]]


# 1. Exchange 2016/2019 as a smart-host client.

# Three messages as Exchange sends them: 8-bit UTF-8 text, a line that
# starts with ".", a CRLF.CRLF inside a chunk; BDAT is byte-exact, so
# none of it is stuffed or ends anything.  Each is split into chunks at
# the given offsets (one split inside a header line, one inside a UTF-8
# character).
EXCHANGE_MESSAGES = [
    {
        "text": (
            "From: User <user@example.com>\r\n"
            "To: bob@example.net, carol@example.net\r\n"
            "Subject: Quarterly report\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=\"utf-8\"\r\n"
            "Content-Transfer-Encoding: 8bit\r\n"
            "\r\n"
            "Zażółć gęślą jaźń — Grüße, 東京.\r\n"
            ".leading dot stays as sent\r\n"
            "..two dots stay two\r\n"
            "\r\n.\r\n"
            "after the lone dot\r\n").encode(),
        "splits": [60, 200],
        "envid": ("Q+2B1+3Dexchange@corp.local", "Q+1=exchange@corp.local"),
    },
    {
        "text": (
            "From: user@example.com\r\n"
            "To: bob@example.net\r\n"
            "Subject: =?utf-8?Q?R=C3=A9union?=\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n"
            "\r\n"
            "Réunion à 14h.\r\n"
            "\r\n.\r\n"
            ".\r\n"
            "fin\r\n").encode(),
        "splits": [],   # filled below: inside "é" of the body
        "envid": ("0123456789ABCDEF", "0123456789ABCDEF"),
    },
    {
        "text": (
            "From: user@example.com\r\n"
            "To: carol@example.net\r\n"
            "Subject: has its own Date and Message-ID\r\n"
            "Date: Tue, 04 Jun 2024 10:11:12 +0200\r\n"
            "Message-ID: <a1b2c3.exchange@corp.local>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "\r\n"
            "Ünïcödé.\r\n"
            ".\r\n"
            "end\r\n").encode(),
        "splits": [100],
        "envid": ("id+3Cthree+3E", "id<three>"),
    },
]
_t = EXCHANGE_MESSAGES[1]["text"]
EXCHANGE_MESSAGES[1]["splits"] = [_t.index("é".encode()) + 1]
EXCHANGE_RCPTS = [
    ("bob@example.net", "bob+2Btag@example.net", "bob+tag@example.net"),
    ("carol@example.net", "carol@example.net", "carol@example.net"),
]


def chunks(text, splits):
    cuts = [0] + splits + [len(text)]
    return [text[a:b] for a, b in zip(cuts, cuts[1:])]


def test_exchange_smart_host_session_is_stored_byte_exact(relay_factory):
    relay, user, password = sending_relay(relay_factory)
    c = Client(relay.ports[0])
    assert c.one() == GREETING
    ehlo_keywords(c.ehlo("exchange.corp.local"))
    c.starttls()
    tls = c.tls_facts()
    ehlo_keywords(c.ehlo("exchange.corp.local"))
    c.auth_login(user, password)
    before = time.time()

    qids = []
    for msg in EXCHANGE_MESSAGES:
        text, parts = msg["text"], chunks(msg["text"], msg["splits"])
        assert len(parts) in (2, 3)
        mail = (f"MAIL FROM:<user@{DOMAIN}> SIZE={len(text)} "
                f"BODY=8BITMIME RET=HDRS ENVID={msg['envid'][0]}\r\n")
        rcpts = "".join(
            f"RCPT TO:<{a}> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;{x}\r\n"
            for a, x, _ in EXCHANGE_RCPTS)
        # MAIL, RCPT, RCPT and the first chunk in one write.
        c.send(mail.encode() + rcpts.encode()
               + f"BDAT {len(parts[0])}\r\n".encode() + parts[0])
        assert [c.one() for _ in range(3)] == [
            "250 2.1.0 Ok", "250 2.1.5 Ok", "250 2.1.5 Ok"]
        sent = len(parts[0])
        assert c.one() == f"250 2.0.0 {sent} octets received"
        for i, part in enumerate(parts[1:], 1):
            last = i == len(parts) - 1
            c.send(f"BDAT {len(part)}{' LAST' if last else ''}\r\n"
                   .encode() + part)
            sent += len(part)
            if last:
                qids.append(queued_as(c.one()))
            else:
                assert c.one() == f"250 2.0.0 {len(part)} octets received"
    assert c.cmd("RSET") == "250 2.0.0 Ok"
    assert c.cmd("NOOP") == "250 2.0.0 Ok"
    assert c.cmd("QUIT") == "221 2.0.0 Bye"
    c.close()
    after = time.time()

    q = queued(relay)
    assert sorted(q) == sorted(qids) and len(set(qids)) == 3
    for qid, msg in zip(qids, EXCHANGE_MESSAGES):
        env, stored = q[qid]
        fields, rcpts = parse_envelope(env)
        assert {k: v for k, v in fields.items()
                if k not in ("connector-id", "time")} == {
            "id": qid.encode(),
            "sender": f"user@{DOMAIN}".encode(),
            "body": b"2",           # BODY=8BITMIME
            "smtputf8": b"0",
            "ret": b"2",            # RET=HDRS
            "envid": msg["envid"][1].encode(),
            "connector": CONNECTOR.encode(),
            "auth-user": user.encode(),
            "client-addr": b"127.0.0.1",
            "client-name": b"exchange.corp.local",
            "tls": tls.encode(),
            "size": str(len(stored)).encode(),
            "nrcpt": b"2",
        }, qid
        assert int(fields["connector-id"]) > 0
        assert int(before) <= int(fields["time"]) <= after + 1
        assert rcpts == [
            {"rcpt": a.encode(), "notify": b"6",    # SUCCESS|FAILURE
             "orcpt-type": b"rfc822", "orcpt": decoded.encode()}
            for a, _, decoded in EXCHANGE_RCPTS]

        m, rest = split_received(qid, stored)
        assert m.group("helo") == b"exchange.corp.local"
        assert m.group("proto") == b"ESMTPSA"
        assert f"{m.group('version').decode()} " \
            f"{m.group('cipher').decode()}" == tls
        if b"\r\nMessage-ID: " in msg["text"]:
            assert rest == msg["text"]
        else:
            with_added_fields(qid, msg["text"], rest)
        assert password.encode() not in stored + env


# 2. What EHLO and HELO announce and allow.

def test_ehlo_lists_auth_only_after_starttls_and_no_vendor_verbs(
        relay_factory):
    relay, user, password = sending_relay(relay_factory)
    c = Client(relay.ports[0])
    assert c.one() == GREETING
    before = ehlo_keywords(c.ehlo("client.test"))
    assert sorted(before) == sorted([
        "PIPELINING", f"SIZE {SIZE_DEFAULT}", "8BITMIME", "SMTPUTF8",
        "ENHANCEDSTATUSCODES", "CHUNKING", "DSN", "STARTTLS"])
    c.starttls()
    after = ehlo_keywords(c.ehlo("client.test"))
    assert sorted(after) == sorted([
        "PIPELINING", f"SIZE {SIZE_DEFAULT}", "8BITMIME", "SMTPUTF8",
        "ENHANCEDSTATUSCODES", "CHUNKING", "DSN", "AUTH PLAIN LOGIN"])
    assert not [k for k in before + after
                if k.upper().startswith(("X", "AUTH="))]
    c.close()

    # Implicit TLS: AUTH from the first EHLO, never STARTTLS.
    c = Client(relay.ports[1], implicit_tls=True)
    assert c.one() == GREETING
    assert sorted(ehlo_keywords(c.ehlo("client.test"))) == sorted(after)
    c.close()


def test_helo_session_parses_mail_parameters_but_refuses_bdat(
        relay_factory):
    relay, user, password = sending_relay(relay_factory)
    c = Client(relay.ports[1], implicit_tls=True)
    assert c.one() == GREETING
    assert c.cmd("HELO legacy.client.test") == \
        f"250 {HOSTNAME} Hello [127.0.0.1]"
    c.auth_plain(user, password)
    assert c.cmd(f"MAIL FROM:<app@{DOMAIN}> BODY=8BITMIME") == "250 2.1.0 Ok"
    assert c.cmd("RCPT TO:<someone@example.net>") == "250 2.1.5 Ok"
    body = message()
    c.send(f"BDAT {len(body)} LAST\r\n".encode() + body)
    assert c.one() == "502 5.5.1 CHUNKING not offered after HELO"
    # The transaction survives the refused chunk: DATA finishes it.
    assert c.cmd("DATA") == "354 End data with <CR><LF>.<CR><LF>"
    c.send(body + b".\r\n")
    qid = queued_as(c.one())
    assert c.cmd("QUIT") == "221 2.0.0 Bye"
    c.close()
    env, stored = queued(relay)[qid]
    fields, rcpts = parse_envelope(env)
    assert fields["body"] == b"2"
    assert fields["client-name"] == b"legacy.client.test"
    assert [r["rcpt"] for r in rcpts] == [b"someone@example.net"]
    m, rest = split_received(qid, stored)
    assert m.group("proto") == b"SMTP"
    with_added_fields(qid, body, rest)


# 3. RFC 2920: one reply per pipelined command, in order.

def test_pipelined_replies_come_one_per_command_in_order(relay_factory):
    relay, user, password = sending_relay(relay_factory)
    c = ready_client(relay, user, password)
    c.send("MAIL FROM:<a@example.com>\r\n"
           "RCPT TO:<x@example.net>\r\n"
           "RCPT TO:<bad address>\r\n"
           "RCPT TO:<y@example.net>\r\n"
           "DATA\r\n")
    got = [c.one() for _ in range(5)]
    assert got == ["250 2.1.0 Ok",
                   "250 2.1.5 Ok",
                   "501 5.1.3 Bad recipient address syntax",
                   "250 2.1.5 Ok",
                   "354 End data with <CR><LF>.<CR><LF>"], got
    body = message(frm="a@example.com", to="x@example.net, y@example.net")
    c.send(body + b".\r\n")
    qid = queued_as(c.one())

    c.send("MAIL FROM:<other@not-ours.example>\r\n"
           "RCPT TO:<x@example.net>\r\n"
           "DATA\r\n")
    got = [c.one() for _ in range(3)]
    assert got == ["550 5.7.1 Sender address rejected: domain "
                   "not-ours.example is not authorized for connector web01",
                   "503 5.5.1 Need MAIL command",
                   "503 5.5.1 Need RCPT command"], got
    assert c.cmd("QUIT") == "221 2.0.0 Bye"
    c.close()

    q = queued(relay)
    assert list(q) == [qid]
    fields, rcpts = parse_envelope(q[qid][0])
    assert fields["sender"] == b"a@example.com"
    assert [r["rcpt"] for r in rcpts] == [b"x@example.net", b"y@example.net"]
    assert [r["notify"] for r in rcpts] == [b"0", b"0"]
    _, rest = split_received(qid, q[qid][1])
    with_added_fields(qid, body, rest)


# 4. swaks, on both listeners.

def swaks(relay, port, user, password, *args):
    cmd = [SWAKS, "--server", f"127.0.0.1:{port}",
           "--auth-user", user, "--auth-password", password,
           "--from", f"app@{DOMAIN}", "--to", "someone@example.net",
           "--h-From", f"app@{DOMAIN}"] + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def test_swaks_submits_on_both_listeners(relay_factory):
    relay, user, password = sending_relay(relay_factory)
    r = swaks(relay, relay.ports[0], user, password, "--tls",
              "--auth", "PLAIN")
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(queued(relay)) == 1
    r2 = swaks(relay, relay.ports[1], user, password, "--tls-on-connect",
               "--auth", "LOGIN")
    assert r2.returncode == 0, r2.stdout + r2.stderr
    q = queued(relay)
    assert len(q) == 2
    qids = re.findall(r"<~  250 2\.0\.0 Ok: queued as ([0-9a-f]{16})",
                      r.stdout + r2.stdout)
    assert sorted(qids) == sorted(q), r.stdout + r2.stdout
    for qid, (env, stored) in q.items():
        fields, rcpts = parse_envelope(env)
        assert fields["sender"] == f"app@{DOMAIN}".encode()
        assert [x["rcpt"] for x in rcpts] == [b"someone@example.net"]
        m, rest = split_received(qid, stored)
        assert m.group("proto") == b"ESMTPSA"
        assert b"\r\nFrom: app@example.com\r\n" in b"\r\n" + rest
        # swaks writes its own Date: and Message-Id:; field names are
        # case-insensitive, so the relay adds neither.
        header = (b"\r\n" + rest).partition(b"\r\n\r\n")[0].lower()
        assert header.count(b"\r\ndate: ") == 1, rest
        assert header.count(b"\r\nmessage-id: ") == 1, rest


# 5. smtplib with SMTPUTF8.

def test_smtplib_smtputf8_recipient_is_stored_in_utf8(relay_factory):
    relay, user, password = sending_relay(relay_factory)
    c = starttls_client(relay)
    c.login(user, password)
    rcpt = "użytkownik@example.net"
    body = message(to=rcpt, body="Cześć.\r\n")
    assert c.sendmail(f"app@{DOMAIN}", [rcpt], body,
                      mail_options=["SMTPUTF8"]) == {}
    c.quit()
    q = queued(relay)
    assert len(q) == 1
    ((qid, (env, stored)),) = q.items()
    fields, rcpts = parse_envelope(env)
    assert fields["sender"] == f"app@{DOMAIN}".encode()
    assert fields["smtputf8"] == b"1"
    assert rcpts == [{"rcpt": rcpt.encode(), "notify": b"0",
                      "orcpt-type": b"", "orcpt": b""}]
    _, rest = split_received(qid, stored)
    with_added_fields(qid, body, rest)


# 6. sendgatectl show queue.

def test_show_queue_lists_each_stored_message(relay_factory):
    relay, user, password = sending_relay(relay_factory)
    r = relay.ctl("show", "queue", check=True)
    assert (r.stdout, r.stderr) == ("", "")
    r = relay.ctl("show", "queue", json_out=True, check=True)
    assert json.loads(r.stdout) == {"messages": []}

    c = starttls_client(relay)
    c.login(user, password)
    c.sendmail(f"app@{DOMAIN}", ["one@example.net"], message())
    c.sendmail(f"app@{DOMAIN}", ["two@example.net", "three@example.org"],
               message(subject="second"))
    c.quit()
    q = queued(relay)
    assert len(q) == 2
    want = {}
    for qid, (env, stored) in q.items():
        fields, rcpts = parse_envelope(env)
        want[qid] = {"id": qid, "connector": CONNECTOR,
                     "sender": f"app@{DOMAIN}", "nrcpt": len(rcpts),
                     "size": len(stored),
                     "recipients": [{"address": x["rcpt"].decode()}
                                    for x in rcpts]}

    r = relay.ctl("show", "queue", json_out=True, check=True)
    got = json.loads(r.stdout)["messages"]
    assert len(got) == 2
    for m in got:
        age = m.pop("age")
        assert isinstance(age, int) and 0 <= age < 60, age
    assert sorted(got, key=lambda m: m["id"]) == \
        [want[k] for k in sorted(want)]

    r = relay.ctl("show", "queue", check=True)
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["ID", "CONNECTOR", "SENDER", "NRCPT",
                                "SIZE", "AGE"], r.stdout
    rows = sorted(x.split() for x in lines[1:])
    assert len(rows) == 2, r.stdout
    for row, qid in zip(rows, sorted(want)):
        w = want[qid]
        assert row[:5] == [qid, CONNECTOR, w["sender"], str(w["nrcpt"]),
                           str(w["size"])], r.stdout
        assert re.fullmatch(r"(\d+[dhms])+", row[5]), r.stdout


# 7. Date: and Message-ID: when missing (RFC 6409 8).

def test_missing_date_and_message_id_are_added_at_end_of_header(
        relay_factory):
    relay, user, password = sending_relay(relay_factory)
    c = starttls_client(relay)
    c.login(user, password)
    without = message(body="First paragraph.\r\n\r\n"
                      "Date: in the body is not a header\r\n"
                      "Message-ID: <neither@example.com>\r\n")
    with_both = message(extra="Date: Mon, 03 Jun 2024 09:00:00 +0000\r\n"
                        "Message-Id: <own.1@example.com>\r\n")
    header_only = (f"From: app@{DOMAIN}\r\nTo: someone@example.net\r\n"
                   "Subject: header only\r\n").encode()
    qids = []
    for body in (without, with_both, header_only):
        assert c.mail(f"app@{DOMAIN}") == (250, b"2.1.0 Ok")
        assert c.rcpt("someone@example.net") == (250, b"2.1.5 Ok")
        code, text = c.data(body)
        assert code == 250, text
        qids.append(queued_as(f"250 {text.decode()}"))
    c.quit()
    q = queued(relay)

    _, rest = split_received(qids[0], q[qids[0]][1])
    with_added_fields(qids[0], without, rest)

    _, rest = split_received(qids[1], q[qids[1]][1])
    assert rest == with_both

    _, rest = split_received(qids[2], q[qids[2]][1])
    assert re.fullmatch(re.escape(header_only) + ADDED_DATE
                        + added_message_id(qids[2]), rest), rest
