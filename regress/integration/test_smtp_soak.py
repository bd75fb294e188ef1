"""Per-session leaks (SECURITY.md section 3, CVE-2020-35679 class): after
a warm-up, hundreds more full sessions leave the memory of the smtp,
lka and queue processes where it was."""

import threading

import pytest

from conftest import SANITIZED
from submit import DOMAIN, message, sending_relay, starttls_client


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def sessions(relay, user, password, n, threads=4):
    errors = []

    def run(count):
        for _ in range(count):
            try:
                c = starttls_client(relay)
                c.login(user, password)
                c.mail(f"app@{DOMAIN}")
                c.rcpt("someone@example.net")
                code, _ = c.data(message())
                c.quit()
                if code != 250:
                    errors.append(code)
            except Exception as e:      # noqa: BLE001 (counted below)
                errors.append(repr(e))

    ts = [threading.Thread(target=run, args=(n // threads,))
          for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    assert not errors, errors[:3]


@pytest.mark.skipif(SANITIZED, reason="ASan's quarantine holds freed memory")
def test_memory_stays_flat_over_hundreds_of_sessions(relay_factory):
    # 500 messages in well under a minute: over the default rate limits.
    relay, user, password = sending_relay(
        relay_factory, extra="".join(
            f"limit {k} 0 per {w}\n" for k in ("messages", "recipients")
            for w in ("minute", "hour", "day")))
    pids = relay.pids()
    sessions(relay, user, password, 100)          # warm-up
    before = {p: rss_kib(pids[p]) for p in ("smtp", "lka", "queue")}
    sessions(relay, user, password, 400)
    after = {p: rss_kib(pids[p]) for p in ("smtp", "lka", "queue")}
    grown = {p: after[p] - before[p] for p in before}
    # A leak of even 1 KiB per session would be 400 KiB here.
    print("rss KiB before", before, "after", after)
    assert all(g < 300 for g in grown.values()), (before, after)
