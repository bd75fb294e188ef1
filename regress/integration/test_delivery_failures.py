"""Delivery that does not go well: temporary failures and their retries,
permanent failures and their bounces (RFC 3464, read with Python's email
package), expiry, delay notices, Null MX, a loop back to the relay,
hostile MX replies (SECURITY.md O1, O3, I5) and no bounce loops (M4)."""
import time

from conftest import wait_for
from mxsink import (CLOSE, control_bytes, deliveries, delivery_lines,
                    dsn_of, mxnet, submit, wait_delivery)  # noqa: F401
from submit import DOMAIN

SENDER = f"app@{DOMAIN}"


def settle(relay, seconds=3):
    """A bounded look for something that must not happen: the delivery
    lines seen now, and again after seconds (the relay retries every 1 s
    in these tests, so 3 s is three chances to do it wrong)."""
    before = [d["_line"] for d in delivery_lines(relay)]
    time.sleep(seconds)
    after = [d["_line"] for d in delivery_lines(relay)]
    return before, after


def test_temporary_failure_is_retried_then_delivered(mxnet):
    sink = mxnet.sink("example.net")
    back = mxnet.sink("example.com")
    relay, user, password = mxnet.start("queue retry 1s\n")
    sink.rcpt_replies("bob@example.net", "450 4.2.0 mailbox busy")
    code, text, qid = submit(relay, user, password, "bob@example.net")
    assert code == 250, text

    wait_delivery(relay, id=qid, result="delivered", timeout=15)
    lines = deliveries(relay, id=qid)
    assert [d["result"] for d in lines] == ["deferred", "delivered"], lines
    assert lines[0]["dsn"] == "4.2.0"
    assert "mailbox busy" in lines[0]["reply"]
    assert lines[1]["dsn"].startswith("2.")
    (m,) = sink.wait_messages(1)
    assert m.rcpt_tos == ["bob@example.net"]
    tries = sink.rcpt_attempts("bob@example.net")
    assert [r[2][:3] for r in tries] == ["450", "250"], tries
    # The retry waited for its interval, and not much longer.
    gap = tries[1][3] - tries[0][3]
    assert 0.9 <= gap < 6, gap
    assert back.accepted() == []       # no delay notice, no bounce


def test_permanent_failure_bounces_to_the_sender(mxnet):
    sink = mxnet.sink("example.net")
    back = mxnet.sink("example.com")
    relay, user, password = mxnet.start("queue retry 1s\n")
    sink.rcpt_always("bob@example.net",
                     "550 5.1.1 <bob@example.net>: no such user here")
    code, text, qid = submit(relay, user, password,
                             ["bob@example.net", "carol@example.net"],
                             subject="bounce me")
    assert code == 250, text

    (f,) = wait_delivery(relay, id=qid, rcpt="bob@example.net",
                         result="failed")
    assert f["dsn"] == "5.1.1", f
    assert "no such user here" in f["reply"]
    wait_delivery(relay, id=qid, rcpt="carol@example.net",
                  result="delivered")
    (m,) = sink.wait_messages(1)
    assert m.rcpt_tos == ["carol@example.net"]
    assert len(sink.rcpt_attempts("bob@example.net")) == 1  # not retried

    (b,) = back.wait_messages(1)
    assert b.mail_from == "<>"
    assert b.rcpt_tos == [SENDER]
    msg, per_msg, rcpts = dsn_of(b)
    assert "relay.test" in per_msg["Reporting-MTA"]
    assert len(rcpts) == 1, [str(r) for r in rcpts]   # carol got hers
    (r,) = rcpts
    assert r["Final-Recipient"] == "rfc822; bob@example.net"
    assert r["Action"] == "failed"
    assert r["Status"] == "5.1.1"
    assert "mx.example.net" in str(r["Remote-MTA"])
    assert "no such user here" in str(r["Diagnostic-Code"])
    assert msg["To"].addresses[0].addr_spec == SENDER
    assert msg["Auto-Submitted"] == "auto-replied"
    assert b"Subject: bounce me" in b.data   # the original, returned
    # The bounce itself went through the same path and was logged.
    (d,) = wait_delivery(relay, rcpt=SENDER, result="delivered")
    assert d["id"] != qid
    assert len(back.accepted()) == 1


def test_expired_message_bounces_with_the_last_temporary_error(mxnet):
    sink = mxnet.sink("example.net")
    back = mxnet.sink("example.com")
    relay, user, password = mxnet.start("queue retry 1s 2s\n"
                                        "queue expire 10s\n")
    sink.rcpt_default = "451 4.3.2 try again later"
    t0 = time.time()
    code, text, qid = submit(relay, user, password, "bob@example.net")
    assert code == 250, text

    (b,) = back.wait_messages(1, timeout=30)
    # The queue keeps whole seconds: up to one early.
    assert b.time - t0 >= 10 - 1.1, "bounced before queue expire"
    assert b.mail_from == "<>"
    msg, per_msg, (r,) = dsn_of(b)
    assert r["Action"] == "failed", str(r)
    assert r["Status"].startswith("4."), str(r)
    assert r["Final-Recipient"] == "rfc822; bob@example.net"
    assert "try again later" in str(r["Diagnostic-Code"])
    tried = deliveries(relay, id=qid, result="deferred")
    assert len(tried) >= 3, tried       # 1s, 2s, 2s, ... within 10 s
    assert all(d["dsn"] == "4.3.2" for d in tried)
    assert sink.accepted() == []
    wait_for(lambda: qid not in relay.ctl("show", "queue").stdout, 10)


def test_delay_notice_after_queue_warn(mxnet):
    sink = mxnet.sink("example.net")
    back = mxnet.sink("example.com")
    relay, user, password = mxnet.start("queue retry 1s\nqueue warn 2s\n"
                                        "queue expire 1h\n")
    sink.rcpt_default = "451 4.3.2 try again later"
    t0 = time.time()
    code, text, qid = submit(relay, user, password, "bob@example.net")
    assert code == 250, text
    (n,) = back.wait_messages(1, timeout=15)
    assert n.time - t0 >= 2 - 1.1, "warned before queue warn"
    assert n.mail_from == "<>"
    msg, per_msg, (r,) = dsn_of(n)
    assert r["Action"] == "delayed", str(r)
    assert r["Status"].startswith("4."), str(r)
    assert r["Final-Recipient"] == "rfc822; bob@example.net"
    # Still queued and still tried; one notice only.
    wait_delivery(relay, count=len(deliveries(relay, id=qid)) + 2, id=qid,
                  result="deferred", timeout=10)
    assert len(back.accepted()) == 1
    assert qid in relay.ctl("show", "queue").stdout
    assert relay.ctl("remove", qid).returncode == 0


def test_null_mx_bounces_with_5_1_10(mxnet):
    back = mxnet.sink("example.com")
    relay, user, password = mxnet.start("queue retry 1s\n")
    relay.dns.set("nullmx.example", "MX", [(0, ".")])
    relay.dns.set("nullmx.example", "A", ["127.0.0.99"])  # never used
    code, text, qid = submit(relay, user, password, "u@nullmx.example")
    assert code == 250, text
    (d,) = wait_delivery(relay, id=qid, result="failed")
    assert d["dsn"] == "5.1.10", d
    (b,) = back.wait_messages(1)
    msg, per_msg, (r,) = dsn_of(b)
    assert r["Action"] == "failed"
    assert r["Status"] == "5.1.10"
    assert r["Final-Recipient"] == "rfc822; u@nullmx.example"
    assert len(deliveries(relay, id=qid)) == 1     # not retried


def test_mx_pointing_at_the_relay_itself_is_a_loop(mxnet):
    # The MX hosts' port is the relay's own listener; the sender's sink
    # listens on the same port at another loopback address.
    mxnet.port = mxnet.relay.ports[0]
    back = mxnet.sink("example.com")
    relay, user, password = mxnet.start("queue retry 1s\n")
    relay.dns.set("loop.example", "MX", [(10, "mx.loop.example")])
    relay.dns.set("mx.loop.example", "A", ["127.0.0.1"])
    code, text, qid = submit(relay, user, password, "u@loop.example")
    assert code == 250, text
    (d,) = wait_delivery(relay, id=qid, result="failed")
    assert d["dsn"] == "5.4.6", d
    (b,) = back.wait_messages(1)
    msg, per_msg, (r,) = dsn_of(b)
    assert r["Action"] == "failed"
    assert r["Status"] == "5.4.6"
    assert r["Final-Recipient"] == "rfc822; u@loop.example"
    assert len(deliveries(relay, id=qid)) == 1     # not retried


HOSTILE = {
    # CVE-2020-8794: a continuation line of 3 octets or less.
    "h-short": {"EHLO": b"250-\r\n25\r\n"},
    "h-code999": {"MAIL": b"999 5.0.0 what\r\n"},
    "h-code2x0": {"RCPT": b"2x0 2.1.5 ok\r\n"},
    "h-mixed": {"RCPT": b"250-2.1.5 ok\r\n550-5.1.1 no\r\n250 2.1.5 ok\r\n"},
    "h-long": {"MAIL": b"250 2.1.0 " + b"A" * 4096 + b"\r\n"},
    "h-lines": {"EHLO": b"250-x\r\n" * 200 + b"250 ok\r\n"},
    "h-nul": {"RCPT": b"250 2.1.5 ok\x00X-Evil: yes\r\n"},
    "h-barelf": {"MAIL": b"250 2.1.0 ok\nX-Evil: yes\r\n"},
    "h-ctrl": {"RCPT": b"451 4.3.0 \x1b[31mred\x07\x7f\x01 later\r\n"},
    "h-barecr": {"RCPT": b"451 4.3.0 first\rX-Evil: yes\r\n"},
    "h-banner": {"BANNER": b"\x16\x03\x01\x00\xa5\xff\xfe garbage\r\n"},
    "h-close": {"RCPT": CLOSE},
    "h-8bit": {"RCPT": b"451 4.3.0 caf\xc3\xa9 \xff\xfe later\r\n"},
}


def test_hostile_replies_defer_and_are_logged_escaped(mxnet):
    """One message to thirteen MX hosts that each answer in a way no
    honest server does, one more that answers 550 with control bytes,
    and one honest one: each hostile recipient deferred (no message
    went out), the 550 bounced with its text escaped, the honest one
    delivered, the daemon alive, and no raw control byte in its log."""
    scripted = {f"{name}.example": mxnet.scripted(f"{name}.example", r)
                for name, r in HOSTILE.items()}
    evil5 = mxnet.scripted("h-fail.example", {
        "RCPT": b"550 5.1.1 \x1b]0;owned\x07 no\r\nX-Evil: injected\r\n"})
    good = mxnet.sink("good.example")
    back = mxnet.sink("example.com")
    relay, user, password = mxnet.start()          # retry: 5 minutes
    rcpts = [f"u@{d}" for d in scripted] + ["u@h-fail.example",
                                            "u@good.example"]
    code, text, qid = submit(relay, user, password, rcpts)
    assert code == 250, text

    wait_delivery(relay, id=qid, rcpt="u@good.example", result="delivered")
    wait_delivery(relay, id=qid, rcpt="u@h-fail.example", result="failed")
    wait_for(lambda: {d["rcpt"] for d in deliveries(relay, id=qid)}
             >= set(rcpts), 30)
    problems = []
    for dom, sink in scripted.items():
        lines = deliveries(relay, id=qid, rcpt=f"u@{dom}")
        if [d["result"] for d in lines] != ["deferred"]:
            problems.append(f"{dom}: {[d['_line'] for d in lines]}")
        elif not lines[0]["dsn"].startswith("4."):
            problems.append(f"{dom}: dsn {lines[0]['dsn']}")
        if sink.messages:
            problems.append(f"{dom}: a message went out: {sink.messages}")
    assert not problems, "\n".join(problems)
    # Alive, every process.
    assert relay.proc.poll() is None
    assert set(relay.status()) >= {"parent", "smtp", "queue", "mta"}
    # The log: no raw control byte; the injected "headers" never at the
    # start of a line of their own.
    log = relay.logtext()
    bad = [ln for ln in log.splitlines() if control_bytes(ln)]
    assert not bad, bad[:5]
    assert not [ln for ln in log.splitlines()
                if ln.lstrip().startswith("X-Evil")]
    # The bounce for the 550: its text escaped, inside its field.
    (b,) = back.wait_messages(1)
    assert b"\x1b" not in b.data and b"\x07" not in b.data
    msg, per_msg, rcpt_blocks = dsn_of(b)
    (r,) = [x for x in rcpt_blocks if "h-fail" in x["Final-Recipient"]]
    assert r["Status"] == "5.1.1"
    assert r["X-Evil"] is None
    assert [m.rcpt_tos for m in good.accepted()] == [["u@good.example"]]
    assert evil5.messages == []


def test_null_sender_message_that_fails_is_not_bounced(mxnet):
    sink = mxnet.sink("example.net")
    back = mxnet.sink("example.com")
    relay, user, password = mxnet.start("queue retry 1s\n")
    sink.rcpt_always("bob@example.net", "550 5.1.1 no such user")
    code, text, qid = submit(relay, user, password, "bob@example.net",
                             frm="<>")
    assert code == 250, text
    (d,) = wait_delivery(relay, id=qid, result="failed")
    assert d["dsn"] == "5.1.1"
    before, after = settle(relay)
    assert after == before, after
    assert back.accepted() == [] and back.connections == 0
    assert [x["rcpt"] for x in delivery_lines(relay)] == ["bob@example.net"]


def test_failed_bounce_is_not_bounced_again(mxnet):
    sink = mxnet.sink("example.net")
    back = mxnet.sink("example.com")
    relay, user, password = mxnet.start("queue retry 1s\n")
    sink.rcpt_always("bob@example.net", "550 5.1.1 no such user")
    back.rcpt_always(SENDER, "550 5.1.1 no such sender either")
    code, text, qid = submit(relay, user, password, "bob@example.net")
    assert code == 250, text
    wait_delivery(relay, id=qid, result="failed")
    (d,) = wait_delivery(relay, rcpt=SENDER, result="failed")
    assert d["id"] != qid
    assert d["dsn"] == "5.1.1"
    before, after = settle(relay)
    assert after == before, after
    assert len(back.rcpt_attempts(SENDER)) == 1
    assert back.accepted() == []
    assert [x["rcpt"] for x in delivery_lines(relay)] == \
        ["bob@example.net", SENDER]


def test_notify_never_means_no_bounce(mxnet):
    sink = mxnet.sink("example.net")
    back = mxnet.sink("example.com")
    relay, user, password = mxnet.start("queue retry 1s\n")
    sink.rcpt_always("bob@example.net", "550 5.1.1 no such user")
    code, text, qid = submit(relay, user, password, "bob@example.net",
                             rcpt_options=["NOTIFY=NEVER"])
    assert code == 250, text
    wait_delivery(relay, id=qid, result="failed")
    before, after = settle(relay)
    assert after == before, after
    assert back.connections == 0


def test_log_names_the_host_when_its_greeting_is_garbage(mxnet):
    """relay= names the host the relay was talking to, whatever stage the
    session broke at (the reply text is no place to look for it)."""
    bad = mxnet.scripted("example.net", {"BANNER": b"2\r\n"})
    relay, user, password = mxnet.start()
    code, text, qid = submit(relay, user, password, "bob@example.net")
    assert code == 250, text
    (d,) = wait_delivery(relay, id=qid, result="deferred")
    assert bad.connections >= 1
    assert d["relay"] == f"mx.example.net[{bad.host}]:{mxnet.port}", d
    assert d["dsn"].startswith("4."), d


def test_ret_hdrs_envid_orcpt_in_the_bounce(mxnet):
    sink = mxnet.sink("example.net")
    back = mxnet.sink("example.com")
    relay, user, password = mxnet.start()
    sink.rcpt_always("bob@example.net", "550 5.1.1 no such user")
    code, text, qid = submit(relay, user, password, "bob@example.net",
                             subject="headers only",
                             body="SECRET BODY LINE\r\n",
                             mail_options=["RET=HDRS", "ENVID=QQ314159"],
                             rcpt_options=["NOTIFY=FAILURE",
                                           "ORCPT=rfc822;Bob@Example.NET"])
    assert code == 250, text
    (b,) = back.wait_messages(1)
    msg, per_msg, (r,) = dsn_of(b)
    assert per_msg["Original-Envelope-Id"] == "QQ314159"
    assert r["Original-Recipient"] == "rfc822; Bob@Example.NET"
    assert r["Final-Recipient"] == "rfc822; bob@example.net"
    assert r["Action"] == "failed" and r["Status"] == "5.1.1"
    types = [p.get_content_type() for p in msg.get_payload()]
    assert types[-1] == "text/rfc822-headers", types
    assert b"Subject: headers only" in b.data
    assert b"SECRET BODY LINE" not in b.data
