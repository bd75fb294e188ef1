"""Delivery and TLS: STARTTLS when the MX offers it, the `tls require`
policy (globally and per domain), STARTTLS response injection
(CVE-2011-0411, SECURITY.md O2) and the smarthost's credentials, which
never travel in plain text."""
from conftest import wait_for
from mxsink import (MXSink, ScriptedSink, control_bytes,  # noqa: F401
                    deliveries, mxnet, submit, wait_delivery)
from submit import DOMAIN

SENDER = f"app@{DOMAIN}"


def test_starttls_is_used_when_the_mx_offers_it(mxnet):
    sink = mxnet.sink("example.net", tls=True)
    relay, user, password = mxnet.start()
    code, text, qid = submit(relay, user, password, "bob@example.net")
    assert code == 250, text
    (line,) = wait_delivery(relay, id=qid, result="delivered")
    (m,) = sink.wait_messages(1)
    assert m.tls in ("TLSv1.2", "TLSv1.3"), m.tls
    assert line["tls"] == m.tls, line
    assert m.rcpt_tos == ["bob@example.net"]


def test_plain_text_when_the_mx_offers_no_starttls(mxnet):
    sink = mxnet.sink("example.net", tls=False)
    relay, user, password = mxnet.start()     # tls opportunistic: default
    code, text, qid = submit(relay, user, password, "bob@example.net")
    assert code == 250, text
    (line,) = wait_delivery(relay, id=qid, result="delivered")
    (m,) = sink.wait_messages(1)
    assert m.tls is None
    assert line["tls"] == "none", line


def test_tls_require_defers_rather_than_send_in_clear(mxnet):
    # A raw sink: it records every command, so "nothing in clear" means
    # not even MAIL FROM.
    plain = mxnet.scripted("example.net")
    relay, user, password = mxnet.start("tls require\nqueue retry 1s\n")
    code, text, qid = submit(relay, user, password, "bob@example.net")
    assert code == 250, text
    lines = wait_delivery(relay, count=2, id=qid, result="deferred")
    for d in lines:
        assert d["dsn"].startswith("4.7."), d
        assert d["tls"] == "none", d
        assert d["rcpt"] == "bob@example.net"
    assert plain.connections >= 2      # retried, per queue retry 1s
    cmds = [c.split(b" ")[0].split(b":")[0].upper()
            for c in plain.commands()]
    assert not {b"MAIL", b"RCPT", b"DATA"} & set(cmds), cmds
    assert plain.messages == []
    assert deliveries(relay, id=qid, result="delivered") == []


def test_tls_require_for_one_domain_only(mxnet):
    strict = mxnet.scripted("strict.example")
    loose = mxnet.sink("example.net")
    relay, user, password = mxnet.start("tls require for strict.example\n")
    code, text, qid = submit(relay, user, password,
                             ["bob@example.net", "eve@strict.example"])
    assert code == 250, text
    (ok,) = wait_delivery(relay, id=qid, rcpt="bob@example.net",
                          result="delivered")
    assert ok["tls"] == "none"
    (m,) = loose.wait_messages(1)
    assert m.rcpt_tos == ["bob@example.net"]
    (d,) = wait_delivery(relay, id=qid, rcpt="eve@strict.example",
                         result="deferred")
    assert d["dsn"].startswith("4.7."), d
    assert strict.messages == []
    assert not any(c.upper().startswith((b"MAIL", b"RCPT"))
                   for c in strict.commands())


def test_tls_require_delivers_over_tls(mxnet):
    sink = mxnet.sink("example.net", tls=True)
    relay, user, password = mxnet.start("tls require\n")
    code, text, qid = submit(relay, user, password, "bob@example.net")
    assert code == 250, text
    (line,) = wait_delivery(relay, id=qid, result="delivered")
    (m,) = sink.wait_messages(1)
    assert m.tls in ("TLSv1.2", "TLSv1.3")
    assert line["tls"] == m.tls


def test_starttls_response_injection_is_discarded(mxnet):
    """A man in the middle appends a reply to the 220 of STARTTLS, in
    plain text, in the same segment.  The relay must throw it away with
    the rest of the plaintext buffer: a relay that keeps it takes the
    554 for the answer to its EHLO over TLS."""
    mitm = mxnet.scripted("example.net", tls=True, replies={
        "EHLO": b"250-mitm.test\r\n250-8BITMIME\r\n250 STARTTLS\r\n",
        "STARTTLS": b"220 2.0.0 ready\r\n554 5.7.0 injected-fake-reply\r\n",
    })
    relay, user, password = mxnet.start()
    code, text, qid = submit(relay, user, password, "bob@example.net")
    assert code == 250, text
    wait_for(lambda: deliveries(relay, id=qid), 15)
    (d,) = deliveries(relay, id=qid)
    # Never taken for a reply: not failed by it, not even logged.
    assert "injected" not in relay.logtext()
    assert d["result"] in ("delivered", "deferred"), d
    if d["result"] == "delivered":
        assert d["tls"].startswith("TLSv1."), d
        assert mitm.messages and all(tls for _, tls, _ in mitm.messages)
    else:
        assert mitm.messages == []
    # Nothing in plain text after the STARTTLS.
    assert mitm.plaintext_after_starttls() == []


def test_smarthost_gets_credentials_only_over_tls(mxnet):
    host = mxnet._bind(lambda a: MXSink(
        host=a, port=mxnet.port, tls=mxnet.pki, auth=True))
    mxnet.sinks.append(host)
    relay, user, password = mxnet.start(
        f"relay via {host.host} port {mxnet.port} starttls "
        f"auth smart-user s3cret-pass\n")
    code, text, qid = submit(relay, user, password,
                             ["bob@example.net", "x@nowhere.example"])
    assert code == 250, text
    lines = wait_delivery(relay, count=2, id=qid, result="delivered")
    assert {d["rcpt"] for d in lines} == {"bob@example.net",
                                         "x@nowhere.example"}
    for d in lines:
        assert d["relay"].endswith(f"[{host.host}]:{mxnet.port}"), d
        assert d["tls"].startswith("TLSv1."), d
    msgs = host.wait_messages(1)
    assert sorted(r for m in msgs for r in m.rcpt_tos) == \
        ["bob@example.net", "x@nowhere.example"]
    assert all(m.tls for m in msgs)
    assert host.logins, "the relay did not authenticate"
    for conn, mech, login, pw, tls in host.logins:
        assert (login, pw, tls) == ("smart-user", "s3cret-pass", True)


def test_smarthost_without_starttls_never_sees_the_credentials(mxnet):
    host = mxnet._bind(lambda a: ScriptedSink(
        host=a, port=mxnet.port, replies={
            "EHLO": b"250-smart.test\r\n250 AUTH PLAIN LOGIN\r\n",
            "AUTH": b"235 2.7.0 ok\r\n"}))
    mxnet.sinks.append(host)
    relay, user, password = mxnet.start(
        f"relay via {host.host} port {mxnet.port} starttls "
        f"auth smart-user s3cret-pass\nqueue retry 1s\n")
    code, text, qid = submit(relay, user, password, "bob@example.net")
    assert code == 250, text
    lines = wait_delivery(relay, count=2, id=qid, result="deferred")
    for d in lines:
        assert d["dsn"].startswith("4."), d
    seen = b"".join(host.commands())
    assert b"AUTH" not in seen.upper(), seen
    assert b"MAIL" not in seen.upper(), seen
    assert host.messages == []
    assert not control_bytes(relay.logtext().replace("\n", ""))
    # And the password is in no log line.
    assert "s3cret-pass" not in relay.logtext()


def test_smarthost_over_implicit_tls(mxnet):
    host = mxnet._bind(lambda a: MXSink(host=a, port=mxnet.port,
                                        tls=mxnet.pki, implicit_tls=True,
                                        auth=True))
    mxnet.sinks.append(host)
    relay, user, password = mxnet.start(
        f"relay via {host.host} port {mxnet.port} tls "
        f"auth smart-user s3cret-pass\n")
    code, text, qid = submit(relay, user, password, "bob@example.net")
    assert code == 250, text
    (d,) = wait_delivery(relay, id=qid, result="delivered")
    (m,) = host.wait_messages(1)
    assert m.tls in ("TLSv1.2", "TLSv1.3"), m.tls
    assert d["tls"] == m.tls, d
    assert [(u, p, t) for _, _, u, p, t in host.logins] == \
        [("smart-user", "s3cret-pass", True)]
