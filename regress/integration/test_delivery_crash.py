"""Crash safety of delivery (SECURITY.md section 5, test 2): the whole
daemon killed with SIGKILL while clients submit and the mta delivers;
after a restart the queue drains, and every message that got its 250
reached the MX at least once.  Duplicates are allowed (a message
delivered but not yet removed when the kill came goes out again), but
must be rare."""
import collections
import json
import os
import re
import signal
import smtplib
import threading
import time

from conftest import wait_for
from mxsink import delivery_lines, mxnet  # noqa: F401 (fixture)
from submit import DOMAIN, incoming, message, queued, starttls_client

NO_RATES = ("limit messages 0 per minute\nlimit messages 0 per hour\n"
            "limit messages 0 per day\nlimit recipients 0 per minute\n"
            "limit recipients 0 per hour\nlimit recipients 0 per day\n")
TOTAL = 300
CLIENTS = 6
SUBJECT = re.compile(rb"^Subject: (crash-\d+)\r$", re.M)


def test_kill_9_during_delivery_loses_no_acknowledged_message(mxnet):
    sink = mxnet.sink("example.net")
    relay, user, password = mxnet.start(NO_RATES + "queue retry 1s\n")
    acked = {}
    lock = threading.Lock()
    up = threading.Event()
    up.set()
    indices = iter(range(TOTAL))
    failures = collections.Counter()

    def next_index():
        with lock:
            return next(indices, None)

    def client():
        while True:
            i = next_index()
            if i is None:
                return
            up.wait(60)
            subject = f"crash-{i}"
            data = message(to=f"rcpt{i % 7}@example.net", subject=subject,
                           extra=f"Message-ID: <{subject}@{DOMAIN}>\r\n")
            try:
                c = starttls_client(relay, timeout=10)
                c.login(user, password)
                c.mail(f"app@{DOMAIN}")
                c.rcpt(f"rcpt{i % 7}@example.net")
                code, text = c.data(data)
                try:
                    c.quit()
                except (OSError, smtplib.SMTPException):
                    pass
            except (OSError, smtplib.SMTPException) as e:
                with lock:
                    failures[type(e).__name__] += 1
                continue
            if code == 250 and b"queued as" in text:
                with lock:
                    acked[subject] = time.time()

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    # Mid-load: some delivered already, many still coming.
    wait_for(lambda: len(acked) >= TOTAL // 3 and sink.accepted(), 60)
    up.clear()
    for pid in relay.pids().values():
        os.kill(pid, signal.SIGKILL)
    relay.proc.wait(10)
    delivered_before = len(sink.accepted())
    relay.logf.close()
    os.replace(relay.log, relay.log + ".1")
    relay.start()
    up.set()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)

    with lock:
        acked = dict(acked)
    assert len(acked) >= TOTAL // 2, (len(acked), failures)

    def received():
        got = collections.Counter()
        for m in sink.accepted():
            hit = SUBJECT.search(m.data)
            if hit:
                got[hit.group(1).decode()] += 1
        return got

    try:
        wait_for(lambda: set(acked) <= set(received()), 90)
    except AssertionError:
        missing = sorted(set(acked) - set(received()))
        raise AssertionError(
            f"{len(missing)} acknowledged messages never arrived, e.g. "
            f"{missing[:10]}\n" + mxnet.diag())
    got = received()
    dups = {s: n for s, n in got.items() if n > 1}
    print(f"\nacked {len(acked)}, received {len(got)} distinct, "
          f"{sum(got.values())} in all, {len(dups)} duplicated; "
          f"{delivered_before} delivered before the kill; "
          f"client failures {dict(failures)}")
    assert len(dups) < 0.05 * len(acked), dups
    # Only messages that were submitted (acked or cut off) arrived.
    assert set(got) <= {f"crash-{i}" for i in range(TOTAL)}
    for m in sink.accepted():
        assert m.data.endswith(b"\r\n\r\nHello.\r\n"), m.data[-100:]

    # The queue drains and nothing was set aside as corrupt.
    wait_for(lambda: json.loads(relay.ctl(
        "show", "queue", json_out=True, check=True).stdout)["messages"]
        == [], 30)
    corrupt = os.path.join(relay.dirs["queue"], "corrupt")
    assert not os.path.isdir(corrupt) or os.listdir(corrupt) == []
    assert incoming(relay) == [] and queued(relay) == {}
    assert relay.proc.poll() is None
    # The restarted relay logged its deliveries in the usual form.
    assert [d for d in delivery_lines(relay)
            if d.get("result") == "delivered"]
