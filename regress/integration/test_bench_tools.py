"""The benchmarks' load generator (regress/bench/smtpload.c) against the
real relay: each of its TLS implementations gets every message queued, and
its own TLS 1.3 client (regress/bench/tlsmini.c, smtpload -M) fails
clearly, within its timeout, when the server speaks something else.  The
benchmarks trust its counts: they are checked here against the queue."""

import json
import os
import socket
import subprocess
import threading

import pytest

from conftest import BUILD
from submit import DOMAIN, queued, sending_relay

SMTPLOAD = os.path.join(BUILD, "smtpload")


def smtpload(args, timeout=60):
    p = subprocess.run([SMTPLOAD] + args, capture_output=True, text=True,
                       timeout=timeout)
    lines = p.stdout.splitlines()
    assert lines, p.stderr
    return p.returncode, lines, json.loads(lines[-1])


def common(port, user, password):
    return ["-H", "127.0.0.1", "-p", str(port), "-u", user, "-w", password,
            "-f", f"load@{DOMAIN}", "-r", "sink@example.net", "-e",
            "load.test", "-T", "10000", "-D", "50"]


@pytest.mark.parametrize("flag,tls", [
    ([], "OpenSSL TLSv1.3 TLS_AES_128_GCM_SHA256 X25519"),
    (["-G"], "GnuTLS (TLS1.3)-(ECDHE-X25519)-(RSA-PSS-RSAE-SHA256)-"
     "(AES-128-GCM)"),
    (["-M"], "tlsmini TLS1.3 TLS_AES_128_GCM_SHA256 X25519 "
     "rsa_pss_rsae_sha256"),
])
def test_every_message_counted_is_queued(relay_factory, flag, tls):
    relay, user, password = sending_relay(relay_factory)
    rc, _, out = smtpload(common(relay.ports[0], user, password) + flag + [
        "-n", "4", "-m", "3", "-t", "30", "-s", "20000", "send"])
    assert (rc, out["ok"], out["failed"], out["first_error"]) == \
        (0, 30, 0, "")
    assert out["connections_ok"] == 10
    assert out["tls"] == tls
    msgs = [m for _, m in queued(relay).values()]
    assert len(msgs) == 30
    # Each body whole: 20,000 octets of 76-character lines and the
    # headers, through records of up to 16 KiB.
    for m in msgs:
        assert b"Subject: bench message " in m
        body = m.split(b"\r\n\r\n", 1)[1]
        assert len(body) >= 20000 and body.endswith(b"\r\n")
    assert "TLSv1.3" in relay.logtext()


def test_tlsmini_idle_sessions(relay_factory):
    """Idle mode with STARTTLS and AUTH (the bench's idle TLS sessions)."""
    relay, user, password = sending_relay(relay_factory)
    rc, lines, out = smtpload(common(relay.ports[0], user, password) + [
        "-M", "-I", "-k", "12", "-h", "1", "idle"])
    assert lines[0] == "ready 12 0"
    assert (rc, out["opened"], out["failed"]) == (0, 12, 0)


class FakeServer:
    """SMTP up to STARTTLS's 220, then the given bytes instead of a
    ServerHello, then silence until the client gives up."""

    def __init__(self, after):
        self.after = after
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        try:
            c, _ = self.sock.accept()
        except OSError:
            return
        with c:
            f = c.makefile("rb")
            c.sendall(b"220 fake ESMTP\r\n")
            f.readline()
            c.sendall(b"250-fake\r\n250 STARTTLS\r\n")
            f.readline()
            c.sendall(b"220 go ahead\r\n")
            c.recv(4096)            # the ClientHello
            c.sendall(self.after)
            c.recv(4096)            # until the client closes

    def close(self):
        self.sock.close()


def record(ctype, body):
    return bytes([ctype, 3, 3]) + len(body).to_bytes(2, "big") + body


def handshake(htype, body):
    return bytes([htype]) + len(body).to_bytes(3, "big") + body


# A TLS 1.2 ServerHello: ECDHE-RSA-AES128-GCM-SHA256, renegotiation_info.
TLS12_HELLO = record(22, handshake(2, bytes.fromhex("0303") + bytes(32) +
                                   bytes.fromhex("00c02f000005ff01000100")))
# A TLS 1.3 ServerHello whose key share is P-256's (not offered).
P256_HELLO = record(22, handshake(2, bytes.fromhex("0303") + bytes(32) +
                                  bytes.fromhex("001301000006" "0033000200"
                                                "17")))


@pytest.mark.parametrize("after,error", [
    (TLS12_HELLO, "did not choose TLS 1.3"),
    (P256_HELLO, "key share not X25519"),
    # A fatal alert (handshake_failure).
    (record(21, b"\x02\x28"), "TLS alert 40 from the server"),
    # Plain text where records belong.
    (b"500 what?\r\n", "not a TLS record (octet 0x35)"),
    # The server's "Finished" before any key: a protected record.
    (record(23, bytes(40)), "protected record too early"),
])
def test_tlsmini_fails_clearly(after, error):
    srv = FakeServer(after)
    try:
        rc, _, out = smtpload(common(srv.port, "u", "p") + [
            "-M", "-n", "1", "-t", "1", "-T", "3000", "send"], timeout=30)
    finally:
        srv.close()
    assert (rc, out["ok"], out["failed"]) == (1, 0, 1)
    assert error in out["first_error"], out["first_error"]
