"""The submission relay is no open relay and keeps its promises under
abuse, through the daemon: SECURITY.md section 2 rows T4, C4, C5, R1-R4
and D1-D3, and sending by source address (Exchange Online style)."""

import json
import os
import re
import socket
import ssl
import time

from submit import (CONNECTOR, DOMAIN, envelope_of, incoming, message,
                    queued, sending_relay, verify_domain)
from test_smtp_auth import (BAD_PASSWORD, Session, assert_serving, authed,
                            plain, ready, submit)

TIMEOUT = 10


def envelope_fields(env):
    """[(tag, value bytes)] of an envelope file: records
    "<tag> SP <length> : <bytes> LF" (queue/envelope.h)."""
    out, i = [], 0
    while i < len(env):
        sp = env.index(b" ", i)
        colon = env.index(b":", sp)
        n = int(env[sp + 1:colon])
        out.append((env[i:sp].decode(), env[colon + 1:colon + 1 + n]))
        assert env[colon + 1 + n:colon + 2 + n] == b"\n", env[i:i + 80]
        i = colon + 2 + n
    return out


def recipients(env):
    return [v for t, v in envelope_fields(env) if t == "rcpt"]


def queue_files(relay):
    d = os.path.join(relay.dirs["queue"], "queue")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def assert_queue_consistent(relay):
    """Every message in the queue has its text and its envelope (the
    text's attribute, or a file beside it), and nothing else lies
    there."""
    names = queue_files(relay)
    q = os.path.join(relay.dirs["queue"], "queue")
    ids = {n[:-4] for n in names}
    assert all(f"{i}.msg" in names for i in ids), names
    assert all(n.endswith((".msg", ".env")) for n in names), names
    assert all(envelope_of(q, i) is not None for i in ids), names


def wait_incoming_empty(relay, timeout=5):
    deadline = time.time() + timeout
    while incoming(relay):
        assert time.time() < deadline, incoming(relay)
        time.sleep(0.05)


# ---- T4 / C4 / C5: the open-relay matrix --------------------------------

RCPT_FORMS = [
    "someone@example.net",
    '"v@other"@relay.example',
    "u%other@relay.example",
    "other!u@relay.example",
    "@a.example,@b.example:u@c.example",
]


def unauthenticated_sessions(relay, user):
    """(name, session) for each way to be after EHLO without AUTH."""
    s = ready(relay)
    yield "STARTTLS port after TLS", s
    s = ready(relay, smtps=True)
    yield "implicit TLS port", s
    s = ready(relay)
    assert s.auth_plain(user, BAD_PASSWORD)[0] == 535
    yield "after a failed AUTH", s
    s = ready(relay, smtps=True)
    s.expect("RSET", "250 ")
    yield "after RSET", s
    s = Session(relay.ports[0])
    s.ehlo()
    yield "STARTTLS port before TLS", s


def test_no_mail_relayed_without_auth(relay_factory):
    relay, user, password = sending_relay(relay_factory)
    failed = []
    for name, s in unauthenticated_sessions(relay, user):
        want = "530 5.7.0"
        rows = [f"MAIL FROM:<app@{DOMAIN}>"] + \
            [f"RCPT TO:<{r}>" for r in RCPT_FORMS] + ["DATA"]
        for line in rows:
            code, text = s.cmd(line)
            if not text.startswith(want):
                failed.append(f"{name}: {line}: want {want}, got {text!r}")
        s.send("BDAT 7 LAST\r\nHello\r\n")
        code, text = s.reply()
        if not text.startswith(want):
            failed.append(f"{name}: BDAT: want {want}, got {text!r}")
        # The session is still in step: exactly one reply per command.
        if s.cmd("NOOP") != (250, "250 2.0.0 Ok"):
            failed.append(f"{name}: out of step after BDAT")
        s.close()
    assert not failed, "\n".join(failed)
    assert queued(relay) == {}
    wait_incoming_empty(relay)


def test_source_route_is_stripped_after_auth(relay_factory):
    relay, user, password = sending_relay(relay_factory)
    s = authed(relay, user, password)
    qid = submit(s, rcpts=["@a.example,@b.example:u@c.example"])
    s.close()
    env, msg = queued(relay)[qid]
    assert recipients(env) == [b"u@c.example"]
    assert b"a.example" not in env and b"b.example" not in env


# ---- R1: envelope sender ------------------------------------------------

def test_mail_from_outside_the_connectors_domains_is_refused(relay_factory):
    relay, user, password = sending_relay(relay_factory)
    relay.ctl("domain", "add", CONNECTOR, "pending.example", check=True)
    s = authed(relay, user, password)
    s.expect("MAIL FROM:<ceo@other-customer.example>",
             "550 5.7.1 Sender address rejected: domain "
             "other-customer.example is not authorized for connector web01")
    s.expect("MAIL FROM:<ceo@pending.example>",
             "550 5.7.1 Sender address rejected: domain pending.example "
             "is not verified")
    s.expect("MAIL FROM:<ceo@[127.0.0.1]>", "550 5.7.1")
    # Departs from SECURITY.md R1 on purpose (the issue): Exchange sends
    # its non-delivery reports with the null sender.
    s.expect("MAIL FROM:<>", "250 2.1.0")
    s.expect("RCPT TO:<someone@example.net>", "250 2.1.5")
    s.expect("RSET", "250 ")
    # Refused senders left no transaction behind.
    s.expect("RCPT TO:<someone@example.net>", "503 5.5.1")
    s.close()
    assert queued(relay) == {}
    assert_serving(relay, user, password)


def test_mail_from_a_revoked_domain_is_refused(relay_factory):
    relay, user, password = sending_relay(
        relay_factory, "verification grace 0\nchecks every 2s\n")
    s = authed(relay, user, password)
    s.expect(f"MAIL FROM:<app@{DOMAIN}>", "250 2.1.0")
    s.expect("RSET", "250 ")
    relay.dns.remove(DOMAIN, "TXT")
    deadline = time.time() + 15
    while True:
        r = relay.ctl("domain", "show", DOMAIN, json_out=True, check=True)
        (a,) = [a for a in json.loads(r.stdout)["authorizations"]
                if a["connector"] == CONNECTOR]
        if a["state"] == "revoked":
            break
        assert time.time() < deadline, a
        time.sleep(0.1)
    code, text = s.cmd(f"MAIL FROM:<app@{DOMAIN}>")
    assert text.startswith("550 5.7.1 Sender address rejected: ") and \
        "revoked" in text, text
    s.close()
    assert queued(relay) == {}


# ---- R2: header From: and Sender: ---------------------------------------

def test_header_from_and_sender_must_be_the_connectors(relay_factory):
    relay, user, password = sending_relay(relay_factory)
    d = DOMAIN
    rows = [
        ("From: outside", "From: x@evil.example\r\n", "550 5.7.1"),
        ("two From:", f"From: a@{d}\r\nFrom: b@{d}\r\n", "550 5.6.0"),
        ("two mailboxes, no Sender:", f"From: a@{d}, b@{d}\r\n",
         "550 5.6.0"),
        ("two mailboxes, Sender: ours",
         f"From: a@{d}, b@{d}\r\nSender: s@{d}\r\n", "250 2.0.0"),
        ("display name looks ours",
         'From: "boss@example.com" <x@evil.example>\r\n', "550 5.7.1"),
        ("encoded-word display name",
         f"From: =?utf-8?q?Caf=C3=A9_Bot?= <app@{d}>\r\n", "250 2.0.0"),
        ("no From:", "", "550 5.6.0"),
        ("Sender: outside", f"From: app@{d}\r\nSender: x@evil.example\r\n",
         "550 5.7.1"),
        ("From: ours and outside, Sender: ours",
         f"From: a@{d}, x@evil.example\r\nSender: s@{d}\r\n", "550 5.7.1"),
    ]
    s = authed(relay, user, password)
    failed, accepted = [], 0
    for what, fields, want in rows:
        s.expect(f"MAIL FROM:<app@{d}>", "250 2.1.0")
        s.expect("RCPT TO:<someone@example.net>", "250 2.1.5")
        s.expect("DATA", "354 ")
        s.send(f"{fields}To: someone@example.net\r\nSubject: {what}\r\n"
               "\r\nHello.\r\n.\r\n")
        code, text = s.reply()
        if not text.startswith(want):
            failed.append(f"{what}: want {want}, got {text!r}")
        accepted += code == 250
    s.close()
    assert not failed, "\n".join(failed)
    q = queued(relay)
    assert len(q) == accepted == 2
    for env, msg in q.values():
        assert b"evil.example" not in msg
    wait_incoming_empty(relay)


# ---- R3: recipients -----------------------------------------------------

def test_hundred_recipients_accepted_then_452(relay_factory):
    relay, user, password = sending_relay(relay_factory)
    s = authed(relay, user, password)
    rcpts = [f"r{i:03d}@example.net" for i in range(100)]
    s.expect(f"MAIL FROM:<app@{DOMAIN}>", "250 2.1.0")
    s.send("".join(f"RCPT TO:<{r}>\r\n" for r in rcpts))
    replies = [s.reply() for _ in rcpts]
    assert set(replies) == {(250, "250 2.1.5 Ok")}
    s.expect("RCPT TO:<r100@example.net>", "452 4.5.3")
    s.expect("DATA", "354 ")
    s.send(message() + b".\r\n")
    text = s.reply()[1]
    assert text.startswith("250 2.0.0 Ok: queued as "), text
    s.close()
    (env, msg), = queued(relay).values()
    assert recipients(env) == [r.encode() for r in rcpts]


def test_recipient_cap_follows_the_config(relay_factory):
    relay, user, password = sending_relay(
        relay_factory, "limit recipients 5 per message\n")
    s = authed(relay, user, password)
    s.expect(f"MAIL FROM:<app@{DOMAIN}>", "250 2.1.0")
    for i in range(5):
        s.expect(f"RCPT TO:<r{i}@example.net>", "250 2.1.5")
    s.expect("RCPT TO:<r5@example.net>", "452 4.5.3")
    s.expect("RCPT TO:<r6@example.net>", "452 4.5.3")
    s.expect("DATA", "354 ")
    s.send(message() + b".\r\n")
    assert s.reply()[0] == 250
    s.close()
    (env, msg), = queued(relay).values()
    assert len(recipients(env)) == 5


# ---- R4: what reaches our Received: -------------------------------------

def test_control_characters_never_reach_received(relay_factory):
    relay, user, password = sending_relay(relay_factory)
    s = ready(relay)
    for name in ("bad\x01name", "esc\x1b[31m.example", "del\x7f.example",
                 "tab\tname", "a.example\x0bX-Injected: 1"):
        s.expect("EHLO " + name, "501 5.5.4")
    s.expect("EHLO nul\0name", "500 5.5.2")
    s.expect("AUTH PLAIN " + plain("web\x0101", password), "501 5.5.2")
    s.expect("AUTH PLAIN " + plain("web01\x1b", password), "501 5.5.2")
    # The refused EHLOs did not reset the one that was accepted.
    assert s.auth_plain(user, password)[0] == 235
    qid = submit(s)
    version, cipher = s.sock.version(), s.sock.cipher()[0]
    s.close()
    env, msg = queued(relay)[qid]
    head = msg.split(b"\r\n\r\n", 1)[0].decode()
    received = head.split("\r\nFrom: ", 1)[0]
    assert received.startswith("Received: from client.test ([127.0.0.1])"), \
        received
    assert f"with ESMTPSA id {qid}" in received
    assert "(connector web01)" in received
    assert f"(using {version} with cipher {cipher})" in received
    # Tabs of folded lines and CRLFs only: no other control byte.
    assert not re.search(r"[\x00-\x08\x0a-\x1f\x7f]",
                         head.replace("\r\n", "")), head
    assert "X-Injected" not in head
    assert password not in msg.decode() and password not in env.decode()
    assert plain(user, password) not in msg.decode()


# ---- D1: slow clients ---------------------------------------------------

def drip(s, data, until):
    """Send one byte a second until a reply arrives; (reply, seconds)."""
    t0 = time.monotonic()
    for b in data:
        s.send(bytes([b]))
        got = s.pending(wait=1.0)
        if got:
            s.buf = got if got != b"<EOF>" else b""
            return s.reply(timeout=2), time.monotonic() - t0
        assert time.monotonic() - t0 < until, "no reply"
    raise AssertionError("data ran out")


def test_command_deadline_is_per_line_not_per_read(relay_factory):
    relay, user, password = sending_relay(
        relay_factory, "smtp timeout command 3s\n")
    s = ready(relay)
    (code, text), took = drip(s, b"EHLO " + b"a" * 100, until=8)
    assert text == "421 4.4.2 Timeout, closing connection"
    assert 2.5 <= took < 5.5, took
    assert s.closed()
    assert_serving(relay, user, password)


def test_data_deadline_is_per_message_not_per_read(relay_factory):
    relay, user, password = sending_relay(
        relay_factory, "smtp timeout data 3s\n")
    s = authed(relay, user, password)
    s.expect(f"MAIL FROM:<app@{DOMAIN}>", "250 2.1.0")
    s.expect("RCPT TO:<someone@example.net>", "250 2.1.5")
    s.expect("DATA", "354 ")
    (code, text), took = drip(s, message() * 10, until=8)
    assert text == "421 4.4.2 Timeout, closing connection"
    assert 2.5 <= took < 5.5, took
    assert s.closed()
    wait_incoming_empty(relay)
    assert queued(relay) == {}
    assert_serving(relay, user, password)


# ---- D2: connection limits ----------------------------------------------

def refused_at_banner(relay, src):
    s = Session(relay.ports[0], src, banner=False)
    code, text = s.reply()
    assert s.closed(), "not closed after 421"
    s.close()
    return code, text


def connect_when_free(relay, src, timeout=5):
    """A session once a slot is free again (freed asynchronously)."""
    deadline = time.time() + timeout
    while True:
        s = Session(relay.ports[0], src, banner=False)
        code, text = s.reply()
        if code == 220:
            return s
        s.close()
        assert time.time() < deadline, text
        time.sleep(0.1)


def test_sessions_per_address_limit(relay_factory):
    relay, user, password = sending_relay(
        relay_factory, "smtp limit sessions-per-address 3\n")
    held = [Session(relay.ports[0]) for _ in range(3)]
    assert refused_at_banner(relay, "127.0.0.1") == \
        (421, "421 4.7.0 Too many connections")
    other = Session(relay.ports[1], "127.0.0.2", tls=True)   # not counted
    held.pop().close()
    held.append(connect_when_free(relay, "127.0.0.1"))
    assert refused_at_banner(relay, "127.0.0.1")[0] == 421
    for s in held + [other]:
        s.close()
    time.sleep(0.3)
    assert_serving(relay, user, password)


def test_global_sessions_limit(relay_factory):
    relay, user, password = sending_relay(relay_factory,
                                          "smtp limit sessions 4\n")
    held = [Session(relay.ports[0], f"127.0.0.{i + 2}") for i in range(4)]
    assert refused_at_banner(relay, "127.0.0.9") == \
        (421, "421 4.7.0 Too many connections")
    # On the implicit TLS port: closed at once, no plain text.
    s = Session(relay.ports[1], "127.0.0.10", banner=False)
    assert s.pending(wait=2) == b"<EOF>"
    s.close()
    held.pop(0).close()
    held.append(connect_when_free(relay, "127.0.0.9"))
    assert refused_at_banner(relay, "127.0.0.11")[0] == 421
    for s in held:
        s.close()
    time.sleep(0.3)
    assert_serving(relay, user, password)


# ---- D3: never-reading clients and disconnects at every step ------------

def test_pipelined_noop_flood_is_cut_at_junk_limit(relay_factory):
    relay, user, password = sending_relay(relay_factory)
    s = ready(relay)
    s.sock.settimeout(TIMEOUT)
    try:
        s.send(b"NOOP\r\n" * 10000)
    except (BrokenPipeError, ConnectionResetError, ssl.SSLError,
            socket.timeout):
        pass
    # Served meanwhile, while the flooder has not read a byte.
    assert_serving(relay, user, password, src="127.0.0.2")
    got = b""
    deadline = time.monotonic() + TIMEOUT
    s.sock.settimeout(1)
    while time.monotonic() < deadline:
        try:
            data = s.sock.recv(65536)
        except (socket.timeout, ssl.SSLWantReadError):
            continue
        except (ConnectionResetError, ssl.SSLError):
            break
        if not data:
            break
        got += data
    else:
        raise AssertionError("flooder never disconnected")
    lines = got.split(b"\r\n")
    assert b"421 4.7.0 Too many errors, closing connection" in lines, \
        lines[-3:]
    assert lines.count(b"250 2.0.0 Ok") <= 51
    s.close()
    assert "junk limit" in relay.logtext()


def step_connect(relay, user, password):
    sock = socket.create_connection(("127.0.0.1", relay.ports[0]),
                                    timeout=TIMEOUT)
    sock.close()


def step_ehlo(relay, user, password):
    s = Session(relay.ports[0])
    s.ehlo()
    s.close()


def step_mid_starttls(relay, user, password):
    s = Session(relay.ports[0])
    s.ehlo()
    assert s.cmd("STARTTLS")[0] == 220
    # The start of a ClientHello record, then nothing.
    s.send(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 20)
    s.close()


def step_auth(relay, user, password):
    authed(relay, user, password).close()


def step_mail_pending(relay, user, password):
    s = authed(relay, user, password)
    s.send(f"MAIL FROM:<app@{DOMAIN}>\r\n")
    s.close()


def step_rcpt(relay, user, password):
    s = authed(relay, user, password)
    s.expect(f"MAIL FROM:<app@{DOMAIN}>", "250 2.1.0")
    s.expect("RCPT TO:<someone@example.net>", "250 2.1.5")
    s.close()


def step_data_pending(relay, user, password):
    s = authed(relay, user, password)
    s.send(f"MAIL FROM:<app@{DOMAIN}>\r\nRCPT TO:<someone@example.net>\r\n"
           "DATA\r\n")
    s.close()


def step_mid_data(relay, user, password):
    s = authed(relay, user, password)
    s.expect(f"MAIL FROM:<app@{DOMAIN}>", "250 2.1.0")
    s.expect("RCPT TO:<someone@example.net>", "250 2.1.5")
    s.expect("DATA", "354 ")
    s.send(message()[:30])
    time.sleep(0.1)
    s.close()


def step_mid_bdat(relay, user, password):
    s = authed(relay, user, password)
    s.expect(f"MAIL FROM:<app@{DOMAIN}>", "250 2.1.0")
    s.expect("RCPT TO:<someone@example.net>", "250 2.1.5")
    s.send(b"BDAT 1000 LAST\r\n" + message()[:40])
    time.sleep(0.1)
    s.close()


def step_bdat_chunk_then_gone(relay, user, password):
    s = authed(relay, user, password)
    s.expect(f"MAIL FROM:<app@{DOMAIN}>", "250 2.1.0")
    s.expect("RCPT TO:<someone@example.net>", "250 2.1.5")
    m = message()
    s.send(f"BDAT {len(m)}\r\n".encode() + m)
    assert s.reply()[0] == 250
    s.close()


STEPS = [step_connect, step_ehlo, step_mid_starttls, step_auth,
         step_mail_pending, step_rcpt, step_data_pending, step_mid_data,
         step_mid_bdat, step_bdat_chunk_then_gone]


def test_disconnect_at_every_step_leaves_nothing_behind(relay_factory):
    relay, user, password = sending_relay(relay_factory)
    for step in STEPS:
        step(relay, user, password)
    time.sleep(0.3)
    wait_incoming_empty(relay)
    assert queued(relay) == {}
    assert_queue_consistent(relay)
    assert_serving(relay, user, password)
    assert len(queued(relay)) == 1
    assert relay.proc.poll() is None


def test_disconnect_right_after_final_dot_stores_all_or_nothing(
        relay_factory):
    # The client cannot know whether the message was taken: whole or
    # absent are both right, half-stored is not.
    relay, user, password = sending_relay(relay_factory)
    for _ in range(3):
        s = authed(relay, user, password)
        s.send(f"MAIL FROM:<app@{DOMAIN}>\r\nRCPT TO:<someone@example.net>"
               "\r\n")
        assert s.reply()[0] == 250 and s.reply()[0] == 250
        s.expect("DATA", "354 ")
        s.send(message() + b".\r\n")
        s.close()
    time.sleep(0.5)
    wait_incoming_empty(relay)
    assert_queue_consistent(relay)
    for env, msg in queued(relay).values():
        assert msg.endswith(b"\r\n\r\nHello.\r\n")
        assert recipients(env) == [b"someone@example.net"]
    before = len(queued(relay))
    assert_serving(relay, user, password)
    assert len(queued(relay)) == before + 1


# ---- sending by source address ------------------------------------------

def test_connector_by_source_address_sends_after_starttls(relay_factory):
    relay = relay_factory()
    relay.start()
    r = relay.ctl("connector", "add", CONNECTOR, "--from", "127.0.0.0/8",
                  json_out=True, check=True)
    password = json.loads(r.stdout)["credentials"]["password"]
    verify_domain(relay)
    # Plain text on the STARTTLS port: no.
    s = Session(relay.ports[0])
    s.ehlo()
    s.expect(f"MAIL FROM:<app@{DOMAIN}>",
             "530 5.7.0 Must issue a STARTTLS command first")
    s.expect("RCPT TO:<someone@example.net>", "530 5.7.0")
    s.expect("DATA", "530 5.7.0")
    # After STARTTLS and EHLO: yes, without AUTH, for its domains only.
    s.starttls()
    s.ehlo()
    s.expect("MAIL FROM:<ceo@other-customer.example>", "550 5.7.1")
    qid = submit(s)
    s.close()
    # And on the implicit TLS port.
    s = ready(relay, smtps=True)
    qid2 = submit(s)
    s.close()
    q = queued(relay)
    for i in (qid, qid2):
        env, msg = q[i]
        head = msg.split(b"\r\n\r\n", 1)[0]
        assert f"with ESMTPS id {i}".encode() in head, head
        assert b"(connector web01)" in head
        assert password.encode() not in msg + env
    assert "is connector web01 by address" in relay.logtext()


def test_address_outside_the_source_networks_needs_auth(relay_factory):
    relay = relay_factory()
    relay.start()
    r = relay.ctl("connector", "add", CONNECTOR, "--from", "127.0.0.2/32",
                  json_out=True, check=True)
    cred = json.loads(r.stdout)["credentials"]
    verify_domain(relay)
    s = ready(relay, src="127.0.0.3")
    s.expect(f"MAIL FROM:<app@{DOMAIN}>", "530 5.7.0 Authentication required")
    s.close()
    s = ready(relay, src="127.0.0.2")
    submit(s)
    s.close()
    assert_serving(relay, cred["username"], cred["password"],
                   src="127.0.0.3")
