"""Per-connector rate limits (issue 8): sliding windows of messages and
recipients, checked in lka at MAIL FROM and RCPT TO, answered with 451
4.7.1 and the time to come back, shown by sendgatectl, counted in the
stats, logged as events, kept across restarts.

The windows are shortened with "limit windows" so that "minute", "hour"
and "day" pass in seconds."""

import datetime
import json
import os
import re
import signal
import smtplib
import threading
import time

from conftest import wait_for
from test_config_check import run_n
from submit import (CONNECTOR, DOMAIN, message, queued, sending_relay,
                    starttls_client, verify_domain, add_connector)
from test_smtp_auth import authed, submit
from test_smtp_relay import recipients

SENDER = f"app@{DOMAIN}"
WINDOWS = ("minute", "hour", "day")


# ---- helpers -------------------------------------------------------------

def retry_time(hh, mm, ss, now):
    """The epoch time of an HH:MM:SS UTC said at now (the nearest such
    time: a reply near midnight may name the next day)."""
    d = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
    t = d.replace(hour=hh, minute=mm, second=ss, microsecond=0).timestamp()
    if t < now - 43200:
        t += 86400
    elif t > now + 43200:
        t -= 86400
    return t


def refusal(text, n, kind, window, length, connector=CONNECTOR, now=None):
    """text is exactly the rate refusal of n kind per window; its retry
    time lies within length seconds (the window's) from now, give or take
    one bucket (length / 59: a count stays in the window at least length,
    at most a bucket more) and the rounding to whole seconds.  Returns
    the retry time (epoch seconds, whole)."""
    now = time.time() if now is None else now
    m = re.fullmatch(
        r"451 4\.7\.1 Rate limit exceeded for connector "
        + re.escape(connector) + f": {n} {kind} per {window}; "
        r"retry after (\d\d):(\d\d):(\d\d) UTC", text)
    assert m, f"want the 451 for {n} {kind} per {window}, got {text!r}"
    hh, mm, ss = (int(x) for x in m.groups())
    assert hh < 24 and mm < 60 and ss < 60, text
    t = retry_time(hh, mm, ss, now)
    assert now - 1 <= t <= now + length + length / 59 + 1, \
        f"retry {t - now:+.2f} s from now, window {length} s: {text!r}"
    return t


def mail(s, frm=SENDER):
    """MAIL FROM, then RSET if it was taken: (code, text)."""
    code, text = s.cmd(f"MAIL FROM:<{frm}>")
    if code == 250:
        assert s.cmd("RSET")[0] == 250
    return code, text


def poll_mail(s, timeout, frm=SENDER):
    """MAIL FROM every 100 ms until one gets 250 (RSET after it); the
    time it did.  Every other reply must be a 451 (a few dozen at most: a
    session's junk limit is 50, should refusals count there)."""
    deadline = time.time() + timeout
    while True:
        code, text = s.cmd(f"MAIL FROM:<{frm}>")
        if code == 250:
            t = time.time()
            assert s.cmd("RSET")[0] == 250
            return t
        assert code == 451, text
        assert time.time() < deadline, f"still refused: {text!r}"
        time.sleep(0.1)


def rates(relay, connector=CONNECTOR):
    """{window: (messages, messages_limit, recipients, recipients_limit)}
    from sendgatectl -j connector show; the list must name the three
    windows in order."""
    r = relay.ctl("connector", "show", connector, json_out=True,
                  check=True)
    doc = json.loads(r.stdout)
    assert "rates" in doc, f"no rates in {doc!r}"
    rows = doc["rates"]
    assert [row["window"] for row in rows] == list(WINDOWS), rows
    for row in rows:
        assert sorted(row) == sorted(["window", "messages",
                                      "messages_limit", "recipients",
                                      "recipients_limit"]), row
    return {row["window"]: (row["messages"], row["messages_limit"],
                            row["recipients"], row["recipients_limit"])
            for row in rows}


def limit_hits(relay, connector=CONNECTOR):
    """(overall, of the connector) "limit hits" of show stats."""
    r = relay.ctl("show", "stats", json_out=True, check=True)
    doc = json.loads(r.stdout)
    assert "limit hits" in doc["stats"], doc
    mine = [c for c in doc.get("connectors", [])
            if c.get("connector") == connector]
    assert len(mine) == 1, doc
    assert "limit hits" in mine[0], doc
    return doc["stats"]["limit hits"], mine[0]["limit hits"]


def rate_events(relay):
    return [w for (w,) in relay.state_query(
        "SELECT what FROM event ORDER BY id") if "rate limit" in w]


def config(windows, messages=(0, 0, 0), recipients=(0, 0, 0)):
    """Config lines: the window lengths and the limits (0: none) per
    minute, hour, day."""
    lines = [f"limit windows {windows}"]
    for kind, values in (("messages", messages),
                         ("recipients", recipients)):
        lines += [f"limit {kind} {n} per {w}"
                  for n, w in zip(values, WINDOWS)]
    return "\n".join(lines) + "\n"


# ---- configuration ----------------------------------------------------------

def test_limit_windows_is_checked_by_sendgated_n(tmp_path):
    conf = tmp_path / "w.conf"
    for windows in ("1m 1h 1d", "2s 6s 20s", "1s 1s 1s", "90s 2h 30d"):
        conf.write_text(f"hostname relay.test\nlimit windows {windows}\n")
        res = run_n(conf)
        assert (res.returncode, res.stdout.strip()) == \
            (0, "configuration OK"), (windows, res.stderr)
    for windows in ("0s 6s 20s", "2s 1s 20s", "1m 1h 30m", "1h 1h 0",
                    "1s 2s 3x", "-1s 2s 3s"):
        conf.write_text(f"hostname relay.test\nlimit windows {windows}\n")
        res = run_n(conf)
        assert res.returncode == 1, windows
        lines = res.stderr.splitlines()
        assert len(lines) == 1 and \
            lines[0].startswith(f"{conf}:2: limit windows"), \
            (windows, res.stderr)
    conf.write_text("limit windows 1s 2s\n")
    res = run_n(conf)
    assert res.returncode == 1 and res.stderr.startswith(f"{conf}:1: "), \
        res.stderr


# ---- message limits -------------------------------------------------------

def test_message_limit_refuses_mail_from_with_451_and_retry_time(
        relay_factory):
    relay, user, password = sending_relay(
        relay_factory, config("20s 1h 1d", messages=(3, 0, 0)))
    s = authed(relay, user, password)
    qids = [submit(s)]                       # a whole message
    assert mail(s)[0] == 250                 # MAIL alone counts
    assert mail(s, "")[0] == 250             # so does the null sender
    for frm in (SENDER, "", SENDER):
        code, text = s.cmd(f"MAIL FROM:<{frm}>")
        refusal(text, 3, "messages", "minute", 20)
    # Refused: no transaction open.
    s.expect("RCPT TO:<someone@example.net>", "503 5.5.1")
    # A sender refused for another reason is not a rate refusal (and the
    # rate check does not hide it behind a 451 either way).
    code, text = s.cmd("MAIL FROM:<ceo@other-customer.example>")
    assert code in (451, 550), text
    s.close()
    assert set(queued(relay)) == set(qids)
    assert rates(relay)["minute"][:2] == (3, 3)


def test_refused_and_rejected_commands_count_nothing(relay_factory):
    relay, user, password = sending_relay(
        relay_factory, config("20s 1h 1d", messages=(3, 0, 0),
                              recipients=(3, 0, 0)))
    s = authed(relay, user, password)
    # Senders and recipients refused for other reasons are not counted.
    s.expect("MAIL FROM:<ceo@other-customer.example>", "550 5.7.1")
    s.expect(f"MAIL FROM:<{SENDER}>", "250 2.1.0")
    s.expect("RCPT TO:<not an address>", "5")
    s.expect("RCPT TO:<a@example.net>", "250 2.1.5")
    s.expect("RSET", "250")
    assert rates(relay)["minute"] == (1, 3, 1, 3)
    # Nor a recipient over the per-message limit.
    relay.ctl("connector", "limit", CONNECTOR, "recipients/message", "1",
              check=True)
    s.close()
    s = authed(relay, user, password)
    s.expect(f"MAIL FROM:<{SENDER}>", "250 2.1.0")
    s.expect("RCPT TO:<b@example.net>", "250 2.1.5")
    code, text = s.cmd("RCPT TO:<c@example.net>")
    assert code == 452, text
    s.expect("RSET", "250")
    assert rates(relay)["minute"] == (2, 3, 2, 3)
    s.expect(f"MAIL FROM:<{SENDER}>", "250 2.1.0")
    s.expect("RSET", "250")
    for _ in range(3):                       # refused: counted nowhere
        code, text = s.cmd(f"MAIL FROM:<{SENDER}>")
        refusal(text, 3, "messages", "minute", 20)
    got = rates(relay)
    assert got["minute"] == (3, 3, 2, 3), got
    assert got["hour"][::2] == (3, 2) and got["day"][::2] == (3, 2), got
    s.close()


def test_window_slides_instead_of_resetting(relay_factory):
    """3 per "minute" of 2 s.  One at t0, two at t0+1: at ~t0+2 only the
    first has left, so one more is taken and the next refused (a window
    reset at a fixed boundary would take three); at ~t0+3 the other two
    leave."""
    relay, user, password = sending_relay(
        relay_factory, config("2s 6s 20s", messages=(3, 0, 0)))
    s = authed(relay, user, password)
    t0 = time.time()
    assert mail(s)[0] == 250
    time.sleep(1.0 - (time.time() - t0))
    t1 = time.time()
    assert mail(s)[0] == 250
    assert mail(s)[0] == 250
    code, text = s.cmd(f"MAIL FROM:<{SENDER}>")
    retry = refusal(text, 3, "messages", "minute", 2)
    # One more is accepted from when the first left, within 2 s of it
    # (plus a bucket and the poll), and the reply said about when (whole
    # seconds, rounded either way).
    back = poll_mail(s, timeout=3)
    assert t0 + 1.8 <= back <= t0 + 2.5, (back - t0)
    assert abs(back - retry) <= 1.2, (back, retry)
    # The two sent at t1 are still inside: refused again at once.
    code, text = s.cmd(f"MAIL FROM:<{SENDER}>")
    assert time.time() < t1 + 1.9, "too slow to tell a slide from a reset"
    refusal(text, 3, "messages", "minute", 2)
    back2 = poll_mail(s, timeout=3)
    assert t1 + 1.8 <= back2 <= t1 + 2.5, (back2 - t1)
    poll_mail(s, timeout=0.5)                # both left at about t1+2
    code, text = s.cmd(f"MAIL FROM:<{SENDER}>")
    refusal(text, 3, "messages", "minute", 2)
    s.close()


def test_limit_holds_over_any_span_of_the_window_length(relay_factory):
    """1 per "minute" of 6 s (buckets of about 100 ms): the second message
    is not taken less than 6 s after the first, wherever in its bucket
    the first fell; and it is taken soon after."""
    relay, user, password = sending_relay(
        relay_factory, config("6s 6s 6s", messages=(1, 0, 0)))
    s = authed(relay, user, password)
    sent = time.time()
    assert mail(s)[0] == 250
    time.sleep(max(0, sent + 5.7 - time.time()))
    while True:
        code, text = s.cmd(f"MAIL FROM:<{SENDER}>")
        got = time.time()
        if code == 250:
            break
        refusal(text, 1, "messages", "minute", 6)
        assert got < sent + 7, "not taken again"
        time.sleep(0.02)
    assert got >= sent + 6, f"taken again {got - sent:.3f} s after"
    assert got <= sent + 6.4, f"taken again {got - sent:.3f} s after"
    s.close()


def test_several_full_windows_name_minute_then_hour_then_day(
        relay_factory):
    """2 per minute, 2 per hour, 3 per day with windows of 1 s, 4 s, 20 s:
    first minute and hour are full (the reply names the minute, and the
    time the hour has room again), then only the hour, then only the
    day."""
    relay, user, password = sending_relay(
        relay_factory, config("1s 4s 20s", messages=(2, 2, 3)))
    s = authed(relay, user, password)
    t0 = time.time()
    assert mail(s)[0] == 250
    assert mail(s)[0] == 250
    code, text = s.cmd(f"MAIL FROM:<{SENDER}>")
    retry = refusal(text, 2, "messages", "minute", 4)
    # One more is taken only once the hour has room: about t0+4, not
    # t0+1 (whole seconds, rounded either way).
    assert retry >= t0 + 2.9, f"retry at t0{retry - t0:+.2f}: {text}"
    time.sleep(max(0, t0 + 1.4 - time.time()))
    code, text = s.cmd(f"MAIL FROM:<{SENDER}>")
    retry = refusal(text, 2, "messages", "hour", 4)
    assert t0 + 2.9 <= retry <= t0 + 5.1, f"t0{retry - t0:+.2f}: {text}"
    back = poll_mail(s, timeout=4)           # day: 3 of 3 now
    assert t0 + 3.5 <= back <= t0 + 5, back - t0
    # The first two may have fallen in two buckets of the hour: let the
    # second leave too, the hour has room then (1 of 2).
    time.sleep(0.3)
    code, text = s.cmd(f"MAIL FROM:<{SENDER}>")
    retry = refusal(text, 3, "messages", "day", 20)
    assert retry >= t0 + 18.9, f"t0{retry - t0:+.2f}: {text}"
    time.sleep(1.2)                          # minute empty, hour has room
    code, text = s.cmd(f"MAIL FROM:<{SENDER}>")
    refusal(text, 3, "messages", "day", 20)
    s.close()
    assert rates(relay) == {"minute": (0, 2, 0, 0), "hour": (1, 2, 0, 0),
                            "day": (3, 3, 0, 0)}


# ---- recipient limits -----------------------------------------------------

def test_recipient_limit_refuses_rcpt_and_keeps_the_others(relay_factory):
    relay, user, password = sending_relay(
        relay_factory, config("30s 1h 1d", recipients=(5, 0, 0)))
    s = authed(relay, user, password)
    first = submit(s, rcpts=["a@example.net", "b@example.net",
                             "c@example.net"])
    s.expect(f"MAIL FROM:<{SENDER}>", "250 2.1.0")
    s.expect("RCPT TO:<d@example.net>", "250 2.1.5")
    s.expect("RCPT TO:<e@example.net>", "250 2.1.5")
    for r in ("f@example.net", "g@example.net"):
        code, text = s.cmd(f"RCPT TO:<{r}>")
        refusal(text, 5, "recipients", "minute", 30)
    s.expect("DATA", "354 ")
    s.send(message(to="d@example.net") + b".\r\n")
    code, text = s.reply()
    m = re.fullmatch(r"250 2\.0\.0 Ok: queued as ([0-9a-f]{16})", text)
    assert m, text
    second = m.group(1)
    # A message without any recipient left: MAIL is fine (messages are
    # not limited), every RCPT is refused, DATA has nothing to send.
    s.expect(f"MAIL FROM:<{SENDER}>", "250 2.1.0")
    code, text = s.cmd("RCPT TO:<h@example.net>")
    refusal(text, 5, "recipients", "minute", 30)
    code, text = s.cmd("DATA")
    assert code in (503, 554), text
    s.expect("RSET", "250")
    s.close()

    q = queued(relay)
    assert sorted(q) == sorted([first, second])
    assert recipients(q[first][0]) == [b"a@example.net", b"b@example.net",
                                       b"c@example.net"]
    assert recipients(q[second][0]) == [b"d@example.net", b"e@example.net"]
    got = rates(relay)
    assert got["minute"][0] == 3 and got["minute"][2:] == (5, 5), got
    assert got["hour"][2] == 5 and got["day"][2] == 5, got
    assert limit_hits(relay) == (3, 3)
    assert rate_events(relay) == [
        "connector web01: rate limit reached: 5 recipients per minute"]


def test_pipelined_recipients_get_one_reply_each_in_order(relay_factory):
    relay, user, password = sending_relay(
        relay_factory, config("30s 1h 1d", recipients=(3, 0, 0)))
    s = authed(relay, user, password)
    rcpts = [f"r{i}@example.net" for i in range(6)]
    s.send(f"MAIL FROM:<{SENDER}>\r\n"
           + "".join(f"RCPT TO:<{r}>\r\n" for r in rcpts) + "DATA\r\n")
    got = [s.reply() for _ in range(8)]
    assert got[0] == (250, "250 2.1.0 Ok"), got
    assert [code for code, text in got[1:7]] == [250] * 3 + [451] * 3, got
    for code, text in got[4:7]:
        refusal(text, 3, "recipients", "minute", 30)
    assert got[7][0] == 354, got
    s.send(message() + b".\r\n")
    code, text = s.reply()
    assert code == 250, text
    s.close()
    (env, msg), = queued(relay).values()
    assert recipients(env) == [r.encode() for r in rcpts[:3]]
    assert rates(relay)["minute"][2:] == (3, 3)


def test_recipients_are_counted_without_a_recipient_limit(relay_factory):
    """No recipient limit: recipients are counted all the same (connector
    show says what was sent, and a limit set later counts them)."""
    relay, user, password = sending_relay(
        relay_factory, config("30s 1h 1d", recipients=(0, 0, 0)))
    s = authed(relay, user, password)
    submit(s, rcpts=["a@example.net", "b@example.net"])
    s.close()
    got = rates(relay)
    assert got == {w: (1, 0, 2, 0) for w in WINDOWS}, got
    relay.ctl("connector", "limit", CONNECTOR, "recipients/minute", "3",
              check=True)
    s = authed(relay, user, password)
    s.expect(f"MAIL FROM:<{SENDER}>", "250 2.1.0")
    s.expect("RCPT TO:<c@example.net>", "250 2.1.5")
    code, text = s.cmd("RCPT TO:<d@example.net>")
    refusal(text, 3, "recipients", "minute", 30)
    s.close()


def test_a_recipient_limit_set_during_a_session_applies_to_it(
        relay_factory):
    """A session that authenticated while the connector had no recipient
    limit: the limit set meanwhile holds for its next RCPTs (a sending
    server keeps its connection open for long)."""
    relay, user, password = sending_relay(
        relay_factory, config("30s 1h 1d", recipients=(0, 0, 0)))
    s = authed(relay, user, password)
    relay.ctl("connector", "limit", CONNECTOR, "recipients/minute", "2",
              check=True)
    s.expect(f"MAIL FROM:<{SENDER}>", "250 2.1.0")
    s.expect("RCPT TO:<a@example.net>", "250 2.1.5")
    s.expect("RCPT TO:<b@example.net>", "250 2.1.5")
    codes = []
    for r in ("c@example.net", "d@example.net", "e@example.net"):
        codes.append(s.cmd(f"RCPT TO:<{r}>"))
    s.close()
    for code, text in codes:
        refusal(text, 2, "recipients", "minute", 30)


def test_recipient_window_slides_back(relay_factory):
    relay, user, password = sending_relay(
        relay_factory, config("2s 6s 20s", recipients=(2, 0, 0)))
    s = authed(relay, user, password)
    s.expect(f"MAIL FROM:<{SENDER}>", "250 2.1.0")
    s.expect("RCPT TO:<a@example.net>", "250 2.1.5")
    t0 = time.time()
    s.expect("RCPT TO:<b@example.net>", "250 2.1.5")
    code, text = s.cmd("RCPT TO:<c@example.net>")
    refusal(text, 2, "recipients", "minute", 2)
    deadline = t0 + 3
    while True:
        code, text = s.cmd("RCPT TO:<c@example.net>")
        if code == 250:
            break
        refusal(text, 2, "recipients", "minute", 2)
        assert time.time() < deadline, text
        time.sleep(0.1)
    s.expect("DATA", "354 ")
    s.send(message() + b".\r\n")
    code, text = s.reply()
    assert code == 250, text
    s.close()
    (env, msg), = queued(relay).values()
    assert recipients(env) == [b"a@example.net", b"b@example.net",
                               b"c@example.net"]


# ---- per connector, sendgatectl, stats, events ----------------------------

def test_connector_override_show_stats_and_one_event(relay_factory):
    relay, user, password = sending_relay(
        relay_factory, config("30s 1h 1d", messages=(100, 200, 300),
                              recipients=(400, 500, 600)))
    user2, password2 = add_connector(relay, "web02")
    verify_domain(relay, "web02", "example.org")
    r = relay.ctl("connector", "limit", CONNECTOR, "messages/minute", "3",
                  check=True)
    assert r.stdout == "connector web01: messages/minute set to 3\n"

    s = authed(relay, user, password)
    submit(s, rcpts=["a@example.net", "b@example.net"])
    submit(s)
    assert mail(s)[0] == 250
    for _ in range(3):
        code, text = s.cmd(f"MAIL FROM:<{SENDER}>")
        refusal(text, 3, "messages", "minute", 30)
    # Another connector has its own counters.
    s2 = authed(relay, user2, password2)
    for _ in range(4):
        submit(s2, frm="app@example.org",
               msg=message(frm="app@example.org"))
    s2.close()

    assert rates(relay) == {"minute": (3, 3, 3, 400),
                            "hour": (3, 200, 3, 500),
                            "day": (3, 300, 3, 600)}
    assert rates(relay, "web02") == {"minute": (4, 100, 4, 400),
                                     "hour": (4, 200, 4, 500),
                                     "day": (4, 300, 4, 600)}
    # The text output: a table, a row per window (used, limit, used,
    # limit).
    text = relay.ctl("connector", "show", CONNECTOR, check=True).stdout
    lines = text.splitlines()
    (head,) = [i for i, ln in enumerate(lines) if ln.startswith("WINDOW")]
    assert [ln.split() for ln in lines[head + 1:head + 4]] == [
        ["minute", "3", "3", "3", "400"], ["hour", "3", "200", "3", "500"],
        ["day", "3", "300", "3", "600"]], text

    r = relay.ctl("show", "stats", json_out=True, check=True)
    doc = json.loads(r.stdout)
    assert doc["stats"].get("limit hits") == 3, doc
    per = {c["connector"]: c.get("limit hits") for c in doc["connectors"]}
    assert per == {"web01": 3, "web02": 0}, doc
    assert "limit hits" in relay.ctl("show", "stats", check=True).stdout
    assert rate_events(relay) == [
        "connector web01: rate limit reached: 3 messages per minute"]

    # Back to the default of 100: taken at once, same session.
    relay.ctl("connector", "limit", CONNECTOR, "messages/minute",
              "default", check=True)
    assert mail(s) == (250, "250 2.1.0 Ok")
    s.close()
    assert rates(relay)["minute"][:2] == (4, 100)


def test_event_once_per_window_length(relay_factory):
    relay, user, password = sending_relay(
        relay_factory, config("2s 6s 20s", messages=(1, 0, 0)))
    s = authed(relay, user, password)
    assert mail(s)[0] == 250
    t0 = time.time()
    n = 0
    while time.time() < t0 + 1.0:            # refused all along
        code, text = s.cmd(f"MAIL FROM:<{SENDER}>")
        refusal(text, 1, "messages", "minute", 2)
        n += 1
        time.sleep(0.1)
    assert n >= 5
    ev = "connector web01: rate limit reached: 1 messages per minute"
    assert rate_events(relay) == [ev]
    assert limit_hits(relay) == (n, n)
    # The next window: taken again, filled, refused: a second event.
    poll_mail(s, timeout=3)
    time.sleep(max(0, t0 + 2.2 - time.time()))
    code, text = s.cmd(f"MAIL FROM:<{SENDER}>")
    refusal(text, 1, "messages", "minute", 2)
    s.close()
    assert rate_events(relay) == [ev, ev]


# ---- concurrency ------------------------------------------------------------

def test_parallel_sessions_cannot_overshoot(relay_factory):
    relay, user, password = sending_relay(
        relay_factory, config("10m 1h 1d", messages=(10, 0, 0)))
    sessions = [None] * 20
    ready = threading.Barrier(20, timeout=30)
    replies = [[] for _ in range(20)]
    errors = []

    def client(i):
        try:
            sessions[i] = s = authed(relay, user, password)
            ready.wait()
            for _ in range(2):
                replies[i].append(mail(s))
        except Exception as e:          # reported below
            errors.append(f"{i}: {e!r}")
            ready.abort()

    threads = [threading.Thread(target=client, args=(i,))
               for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(40)
    for s in sessions:
        if s is not None:
            s.close()
    assert not errors, errors
    flat = [r for rs in replies for r in rs]
    assert len(flat) == 40
    taken = [r for r in flat if r[0] == 250]
    refused = [text for code, text in flat if code != 250]
    assert len(taken) == 10, flat
    assert len(refused) == 30, flat
    for text in refused:
        refusal(text, 10, "messages", "minute", 600)
    assert rates(relay)["minute"][:2] == (10, 10)
    assert limit_hits(relay) == (30, 30)


# ---- restarts ---------------------------------------------------------------

def test_counters_survive_a_restart(relay_factory):
    relay, user, password = sending_relay(
        relay_factory, config("10m 1h 1d", messages=(3, 0, 0),
                              recipients=(0, 0, 50)))
    s = authed(relay, user, password)
    submit(s, rcpts=["a@example.net", "b@example.net"])
    assert mail(s)[0] == 250
    s.close()
    relay.restart()
    got = rates(relay)
    assert got["minute"] == (2, 3, 2, 0), got
    assert got["day"] == (2, 0, 2, 50), got
    s = authed(relay, user, password)
    assert mail(s)[0] == 250
    # Stopped right after refusals (each tells queue for "limit hits"):
    # the count made less than 2 s ago is written at the stop all the
    # same, every time.
    for _ in range(5):
        s.send(f"MAIL FROM:<{SENDER}>\r\n" * 5)
        for code, text in [s.reply() for _ in range(5)]:
            refusal(text, 3, "messages", "minute", 600)
        s.close()
        relay.restart()
        s = authed(relay, user, password)
    code, text = s.cmd(f"MAIL FROM:<{SENDER}>")
    refusal(text, 3, "messages", "minute", 600)
    s.close()
    assert rates(relay)["minute"][:2] == (3, 3)


def test_counts_older_than_two_seconds_survive_kill_9(relay_factory):
    relay, user, password = sending_relay(
        relay_factory, config("10m 1h 1d", messages=(2, 0, 0)))
    s = authed(relay, user, password)
    assert mail(s)[0] == 250
    assert mail(s)[0] == 250
    s.close()
    time.sleep(3)                            # persisted every 2 s
    pids = list(relay.pids().values())
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    relay.proc.wait(10)

    def gone():
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                        return False
            except FileNotFoundError:
                pass
        return True
    wait_for(gone, 10)
    relay.logf.close()
    os.replace(relay.log, relay.log + ".1")
    relay.start()
    assert rates(relay)["minute"][:2] == (2, 2)
    s = authed(relay, user, password)
    code, text = s.cmd(f"MAIL FROM:<{SENDER}>")
    refusal(text, 2, "messages", "minute", 600)
    s.close()


# ---- a client that waits and comes back ---------------------------------------

def test_exchange_like_client_retries_after_the_time_given(relay_factory):
    """smtplib as a sending server would use it: a 451 at MAIL means
    come back later; at the time the reply names, the message goes
    through."""
    relay, user, password = sending_relay(
        relay_factory, config("3s 6s 20s", messages=(1, 0, 0)))
    c = starttls_client(relay)
    c.login(user, password)
    assert c.sendmail(SENDER, ["x@example.net"], message()) == {}
    try:
        c.sendmail(SENDER, ["y@example.net"], message(subject="second"))
        raise AssertionError("the second message was taken")
    except smtplib.SMTPSenderRefused as e:
        assert e.smtp_code == 451, e
        text = f"451 {e.smtp_error.decode()}"
    retry = refusal(text, 1, "messages", "minute", 3)
    c.rset()
    # Wait until the time given (it is whole seconds), then once more.
    time.sleep(max(0, retry - time.time()) + 0.05)
    assert c.sendmail(SENDER, ["y@example.net"],
                      message(subject="second")) == {}
    c.quit()
    q = queued(relay)
    assert len(q) == 2
    assert sorted(rcpt for env, msg in q.values()
                  for rcpt in recipients(env)) == [b"x@example.net",
                                                   b"y@example.net"]
