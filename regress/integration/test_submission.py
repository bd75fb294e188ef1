"""SMTP submission on 587 (STARTTLS) and 465 (implicit TLS): real
clients, AUTH PLAIN and LOGIN, messages stored in the queue."""

import re

import pytest  # noqa: F401

from submit import (DOMAIN, message, queued, sending_relay, smtps_client,
                    starttls_client)


def test_starttls_auth_plain_message_is_queued(relay_factory):
    relay, user, password = sending_relay(relay_factory)
    c = starttls_client(relay)
    c.login(user, password)
    code, text = c.mail(f"app@{DOMAIN}")
    assert code == 250, text
    assert c.rcpt("someone@example.net")[0] == 250
    code, text = c.data(message())
    assert code == 250, text
    m = re.match(rb"2\.0\.0 Ok: queued as ([0-9a-f]{16})$", text)
    assert m, text
    c.quit()
    q = queued(relay)
    qid = m.group(1).decode()
    assert qid in q
    env, msg = q[qid]
    assert msg.startswith(b"Received: from client.test ([127.0.0.1])\r\n")
    assert b"with ESMTPSA id " + qid.encode() in msg
    assert b"(connector web01)" in msg
    assert b"\r\nDate: " in msg and b"\r\nMessage-ID: <" in msg
    assert msg.endswith(b"\r\n\r\nHello.\r\n")
    assert password.encode() not in msg and password.encode() not in env


def test_large_message_is_stored_octet_for_octet(relay_factory):
    """smtp gathers what it writes to the message file (smtp_message.c,
    file_write): 3 MB in pieces smaller and larger than its 16 KiB
    buffer, lines with leading dots; the stored body must be the sent
    one, and Received: first."""
    relay, user, password = sending_relay(relay_factory)
    lines = []
    for i in range(6000):
        n = (i * 37) % 990
        lines.append((("." if i % 7 == 0 else "") + f"{i:05d} " +
                      "abcdefghij" * (n // 10)).encode())
    body = b"\r\n".join(lines) + b"\r\n"
    c = starttls_client(relay)
    c.login(user, password)
    assert len(body) > 1024 * 1024
    assert c.sendmail(f"app@{DOMAIN}", ["someone@example.net"],
                      message(body=body.decode())) == {}
    c.quit()
    (qid,) = queued(relay)
    msg = queued(relay)[qid][1]
    assert msg.startswith(b"Received: from client.test ")
    assert msg.endswith(b"\r\n\r\n" + body)


def test_smtps_auth_login_message_is_queued(relay_factory):
    relay, user, password = sending_relay(relay_factory)
    c = smtps_client(relay)
    c.user, c.password = user, password
    code, text = c.auth("LOGIN", c.auth_login)
    assert code == 235, text
    assert c.mail(f"app@{DOMAIN}")[0] == 250
    assert c.rcpt("someone@example.net")[0] == 250
    code, text = c.data(message())
    assert code == 250, text
    c.quit()
    assert len(queued(relay)) == 1
