"""Delivery (issue 6): the queue hands messages to the mta, which delivers
them to the MX hosts of the recipient domains.  The MX hosts are sinks on
loopback (mxsink.py) named by the test's DNS server; what arrives there,
the daemon's one log line per recipient and attempt, and sendgatectl are
checked."""
import json
import re
import time

from conftest import wait_for
from mxsink import (control_bytes, deliveries, dsn_of, mxnet,  # noqa: F401
                    submit, wait_delivery)
from submit import DOMAIN

SENDER = f"app@{DOMAIN}"


def queue_ids(relay):
    r = relay.ctl("show", "queue", json_out=True, check=True)
    return {m["id"] for m in json.loads(r.stdout)["messages"]}


def test_message_arrives_at_the_mx_with_one_log_line(mxnet):
    sink = mxnet.sink("example.net")
    relay, user, password = mxnet.start()
    t0 = time.time()
    code, text, qid = submit(relay, user, password, "bob@example.net",
                             subject="first delivery")
    assert code == 250 and qid, text

    (m,) = sink.wait_messages(1)
    assert m.mail_from == SENDER
    assert m.rcpt_tos == ["bob@example.net"]
    assert b"Subject: first delivery\r\n" in m.data
    assert m.data.endswith(b"\r\n\r\nHello.\r\n")
    assert m.tls is None          # the sink offers no STARTTLS

    (line,) = wait_delivery(relay, id=qid, result="delivered")
    assert line["connector"] == "web01"
    assert line["rcpt"] == "bob@example.net"
    assert line["relay"] == f"mx.example.net[{sink.host}]:{mxnet.port}"
    assert line["tls"] == "none"
    assert re.fullmatch(r"2\.\d{1,3}\.\d{1,3}", line["dsn"]), line
    assert re.fullmatch(r"\d+s", line["delay"]), line
    assert int(line["delay"][:-1]) <= time.time() - t0 + 1
    assert "delivered" in line["reply"], line     # the sink's 250 text
    assert not control_bytes(line["_line"])
    # Delivered: out of the queue, once.
    wait_for(lambda: qid not in queue_ids(relay), 10)
    assert len(deliveries(relay, id=qid)) == 1
    assert sink.connections == 1


def test_each_domain_gets_one_copy_with_its_own_recipients(mxnet):
    net = mxnet.sink("example.net")
    org = mxnet.sink("example.org")
    other = mxnet.sink("mail.example")
    relay, user, password = mxnet.start()
    rcpts = ["a@example.net", "c@example.org", "b@example.net",
             "d@mail.example", "e@example.org"]
    code, text, qid = submit(relay, user, password, rcpts,
                             subject="three domains")
    assert code == 250, text

    lines = wait_delivery(relay, count=5, id=qid, result="delivered")
    assert sorted(d["rcpt"] for d in lines) == sorted(rcpts)
    for sink, want in ((net, ["a@example.net", "b@example.net"]),
                       (org, ["c@example.org", "e@example.org"]),
                       (other, ["d@mail.example"])):
        (m,) = sink.wait_messages(1)
        assert sorted(m.rcpt_tos) == want, (sink.host, m.rcpt_tos)
        assert b"Subject: three domains\r\n" in m.data
        for d in lines:
            if d["rcpt"] in want:
                assert f"[{sink.host}]:" in d["relay"], d
    # One copy per domain, the same text to each.
    bodies = {m.data.split(b"\r\n\r\n", 1)[1]
              for s in (net, org, other) for m in s.accepted()}
    assert len(bodies) == 1
    assert [len(s.accepted()) for s in (net, org, other)] == [1, 1, 1]


def test_messages_to_one_host_share_a_connection(mxnet):
    sink = mxnet.sink("example.net")
    # Held until all five are queued, then let go at once.
    mxnet.relay.deliver = False
    relay, user, password = mxnet.start("mta concurrency 1 per host\n")
    qids = []
    for i in range(5):
        code, text, qid = submit(relay, user, password,
                                 f"user{i}@example.net", subject=f"m{i}")
        assert code == 250, text
        qids.append(qid)
    assert set(qids) <= queue_ids(relay)
    assert sink.connections == 0
    r = relay.ctl("resume", "mta")
    assert r.returncode == 0, r.stderr

    msgs = sink.wait_messages(5, timeout=20)
    assert sorted(m.rcpt_tos[0] for m in msgs) == \
        [f"user{i}@example.net" for i in range(5)]
    for q in qids:
        wait_delivery(relay, id=q, result="delivered")
    assert sink.connections < 5, \
        f"{sink.connections} connections for 5 messages"
    assert sink.max_active == 1, "more than 1 connection at once"


def test_lines_beginning_with_a_dot_arrive_byte_identical(mxnet):
    sink = mxnet.sink("example.net")
    relay, user, password = mxnet.start()
    body = ("first\r\n.\r\n..\r\n.dot\r\n...three dots\r\n. space\r\n"
            ".\tTAB\r\nlast .\r\n.\r\n")
    code, text, qid = submit(relay, user, password, "bob@example.net",
                             body=body)
    assert code == 250, text
    (m,) = sink.wait_messages(1)
    assert m.data.endswith(b"\r\n\r\n" + body.encode()), m.data[-200:]
    # CRLF only: no bare CR or LF went out.
    assert m.data.count(b"\n") == m.data.count(b"\r\n")
    assert m.data.count(b"\r") == m.data.count(b"\r\n")
    wait_delivery(relay, id=qid, result="delivered")


def test_pause_mta_holds_delivery_and_resume_releases_it(mxnet):
    sink = mxnet.sink("example.net")
    relay, user, password = mxnet.start()
    r = relay.ctl("pause", "mta")
    assert r.returncode == 0, r.stderr
    code, text, qid = submit(relay, user, password, "bob@example.net")
    assert code == 250, text
    # Held: the message stays queued and nothing is tried (a negative,
    # so a bounded look: 2 s is 20 scheduler ticks of a 1 s retry).
    deadline = time.time() + 2
    while time.time() < deadline:
        assert sink.connections == 0
        assert deliveries(relay, id=qid) == []
        time.sleep(0.1)
    assert qid in queue_ids(relay)

    r = relay.ctl("resume", "mta")
    assert r.returncode == 0, r.stderr
    (m,) = sink.wait_messages(1)
    assert m.rcpt_tos == ["bob@example.net"]
    wait_delivery(relay, id=qid, result="delivered")
    wait_for(lambda: qid not in queue_ids(relay), 10)


def test_schedule_id_tries_a_deferred_message_now(mxnet):
    sink = mxnet.sink("example.net")
    relay, user, password = mxnet.start("queue retry 1h\n")
    sink.rcpt_replies("bob@example.net", "451 4.3.0 come back later")
    sink.rcpt_replies("carol@example.net", "451 4.3.0 come back later")
    code, text, qid = submit(relay, user, password, "bob@example.net")
    assert code == 250, text
    code, text, qid2 = submit(relay, user, password, "carol@example.net")
    assert code == 250, text
    (d,) = wait_delivery(relay, id=qid, result="deferred")
    assert d["dsn"] == "4.3.0", d
    assert "come back later" in d["reply"]
    wait_delivery(relay, id=qid2, result="deferred")
    assert {qid, qid2} <= queue_ids(relay)

    r = relay.ctl("schedule", qid)
    assert r.returncode == 0, r.stderr
    wait_delivery(relay, id=qid, result="delivered", timeout=10)
    assert [m.rcpt_tos for m in sink.accepted()] == [["bob@example.net"]]
    # Only that one: the other waits for its hour.
    assert qid2 in queue_ids(relay)
    assert deliveries(relay, id=qid2, result="delivered") == []

    r = relay.ctl("schedule", "all")
    assert r.returncode == 0, r.stderr
    wait_delivery(relay, id=qid2, result="delivered", timeout=10)
    wait_for(lambda: not queue_ids(relay) & {qid, qid2}, 10)
    assert len(sink.to("carol@example.net")) == 1


def _flatten(doc, path=()):
    """(path, value) for every number in a JSON document; list items with
    a name are addressed by it."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _flatten(v, path + (str(k),))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            key = str(i)
            if isinstance(v, dict):
                key = str(v.get("name", v.get("connector", i)))
            yield from _flatten(v, path + (key,))
    elif isinstance(doc, (int, float)) and not isinstance(doc, bool):
        yield path, doc


def stat(doc, name, connector=None):
    """The count called name, overall (no connector in its path) or of
    one connector."""
    hits = [(p, v) for p, v in _flatten(doc)
            if (p[-1] == name or p[-1].startswith(name + " "))
            and ((connector in p) if connector else
                 not any("connector" in x or x == "web01" for x in p))]
    assert len(hits) == 1, f"{name} {connector}: {hits} in " + \
        json.dumps(doc)
    return hits[0][1]


def test_show_stats_counts_accepted_delivered_deferred_queued(mxnet):
    sink = mxnet.sink("example.net")
    relay, user, password = mxnet.start("queue retry 1h\n")
    sink.rcpt_always("slow@example.net", "451 4.3.0 not now")
    qids = []
    for rcpt in ("a@example.net", "b@example.net", "slow@example.net"):
        code, text, qid = submit(relay, user, password, rcpt)
        assert code == 250, text
        qids.append(qid)
    wait_delivery(relay, count=2, result="delivered")
    wait_delivery(relay, id=qids[2], result="deferred")

    r = relay.ctl("show", "stats", json_out=True)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    got = {n: stat(doc, n) for n in
           ("accepted", "delivered", "deferred", "bounced", "queued")}
    assert got == {"accepted": 3, "delivered": 2, "deferred": 1,
                   "bounced": 0, "queued": 1}, (got, doc)
    assert stat(doc, "accepted", "web01") == 3, doc
    assert stat(doc, "delivered", "web01") == 2, doc

    text = relay.ctl("show", "stats", check=True).stdout
    for word in ("accepted", "delivered", "deferred", "bounced", "queued"):
        assert word in text.lower(), text
    assert "web01" in text


def test_notify_success_to_a_host_without_dsn_sends_relayed_notice(mxnet):
    sink = mxnet.sink("example.net")          # no DSN in its EHLO
    back = mxnet.sink("example.com")          # the sender's MX
    relay, user, password = mxnet.start()
    code, text, qid = submit(relay, user, password, "bob@example.net",
                             rcpt_options=["NOTIFY=SUCCESS"],
                             mail_options=["ENVID=env-42", "RET=HDRS"])
    assert code == 250, text
    sink.wait_messages(1)
    wait_delivery(relay, id=qid, rcpt="bob@example.net", result="delivered")

    (n,) = back.wait_messages(1)
    assert n.mail_from == "<>"
    assert n.rcpt_tos == [SENDER]
    m, per_msg, (rcpt,) = dsn_of(n)
    assert per_msg["Original-Envelope-Id"] == "env-42"
    assert rcpt["Action"] == "relayed", str(rcpt)
    assert rcpt["Status"].startswith("2."), str(rcpt)
    assert rcpt["Final-Recipient"] == "rfc822; bob@example.net"


def test_dsn_parameters_pass_on_to_a_host_with_dsn(mxnet):
    sink = mxnet.sink("example.net", dsn=True)
    back = mxnet.sink("example.com")
    relay, user, password = mxnet.start()
    code, text, qid = submit(
        relay, user, password, "bob@example.net",
        rcpt_options=["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;Bob@example.net"],
        mail_options=["ENVID=env-43", "RET=HDRS"])
    assert code == 250, text
    (m,) = sink.wait_messages(1)
    assert "ENVID=env-43" in m.mail_params and "RET=HDRS" in m.mail_params
    params = [p.upper() for p in m.rcpt_params["bob@example.net"]]
    assert "NOTIFY=SUCCESS,FAILURE" in params, params
    assert "ORCPT=RFC822;BOB@EXAMPLE.NET" in params, params
    wait_delivery(relay, id=qid, result="delivered")
    # The next hop reports success itself: no notice from this relay.
    time.sleep(2)
    assert back.accepted() == [], back.accepted()


def test_mx_preference_order_fallback_and_implicit_mx(mxnet):
    """The lowest preference first; the next one when it does not answer;
    the domain's own address when it has no MX (RFC 5321 5.1)."""
    low = mxnet.sink("pref.example")           # publishes MX 10 -> low
    high = mxnet.sink("other.example")
    mxnet.dns.set("pref.example", "MX", [(20, "mx2.pref.example"),
                                         (10, "mx.pref.example")])
    mxnet.dns.set("mx2.pref.example", "A", [high.host])
    # Down: the first MX's address has nothing listening.
    backup = mxnet.sink("unused.example")
    mxnet.dns.set("down.example", "MX", [(10, "mx.down.example"),
                                         (20, "mx2.down.example")])
    mxnet.dns.set("mx.down.example", "A", ["127.0.0.250"])
    mxnet.dns.set("mx2.down.example", "A", [backup.host])
    # No MX at all: the domain's A record.
    bare = mxnet.sink("unused2.example")
    mxnet.dns.remove("unused2.example", "MX")
    mxnet.dns.set("bare.example", "A", [bare.host])
    relay, user, password = mxnet.start()
    code, text, qid = submit(relay, user, password,
                             ["a@pref.example", "b@down.example",
                              "c@bare.example"])
    assert code == 250, text
    lines = wait_delivery(relay, count=3, id=qid, result="delivered")
    by = {d["rcpt"]: d for d in lines}
    assert [m.rcpt_tos for m in low.wait_messages(1)] == [["a@pref.example"]]
    assert high.accepted() == []
    assert by["a@pref.example"]["relay"].startswith("mx.pref.example[")
    assert [m.rcpt_tos for m in backup.wait_messages(1)] == \
        [["b@down.example"]]
    assert by["b@down.example"]["relay"].startswith("mx2.down.example[")
    assert [m.rcpt_tos for m in bare.wait_messages(1)] == [["c@bare.example"]]
    assert by["c@bare.example"]["relay"] == \
        f"bare.example[{bare.host}]:{mxnet.port}"
