"""TLS handshakes on smtp's worker threads (smtp tls-threads): the threads
exist and are confined like the process, many sessions handshaking at once
on both listeners all get their mail queued, clients that break off in the
middle of a handshake harm nobody, and with no threads the loop does the
handshakes itself; a ClientHello in pieces; TLS records in pieces and
several records in one segment; and no session tickets nobody could
use."""

import base64
import os
import pwd
import socket
import ssl
import threading
import time

from submit import (DOMAIN, client_hello, message, queued, sending_relay,
                    smtps_client, starttls_client, tls_context)


def smtp_tasks(relay):
    """{tid: /proc status} of every thread of the smtp process."""
    pid = relay.pids()["smtp"]
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            out[tid] = dict(line.rstrip("\n").split(":\t", 1) for line in f
                            if ":\t" in line)
    return out


def send_one(relay, user, password, n, implicit):
    c = smtps_client(relay) if implicit else starttls_client(relay)
    try:
        c.login(user, password)
        c.sendmail("app@example.com", ["someone@example.net"],
                   message(subject=f"parallel {n}"))
    finally:
        c.quit()


def subjects(relay):
    return sorted(m.split(b"Subject: ", 1)[1].split(b"\r\n", 1)[0]
                  for _, m in queued(relay).values())


def run_parallel(relay, user, password, first, count):
    """count clients at once, STARTTLS and implicit TLS in turn."""
    errors = []

    def client(n):
        try:
            send_one(relay, user, password, n, implicit=n % 2 == 1)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(f"{n}: {e!r}")

    threads = [threading.Thread(target=client, args=(n,))
               for n in range(first, first + count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors


def test_threads_exist_and_are_confined(relay_factory):
    relay, _, _ = sending_relay(relay_factory, "smtp tls-threads 3\n")
    tasks = smtp_tasks(relay)
    assert len(tasks) == 4
    uid = str(pwd.getpwnam("_sendgate").pw_uid)
    for st in tasks.values():
        # The filter was synchronised onto every thread (TSYNC).
        assert st["Seccomp"] == "2"
        assert st["NoNewPrivs"] == "1"
        assert st["Uid"].split() == [uid] * 4
        assert int(st["CapEff"], 16) == 0
    assert "TLS handshakes on 3 threads" in relay.logtext()


def test_default_is_one_thread_per_cpu(relay_factory):
    relay, user, password = sending_relay(relay_factory)
    ncpu = os.cpu_count()
    want = 0 if ncpu <= 1 else min(ncpu, 16)
    assert len(smtp_tasks(relay)) == 1 + want
    send_one(relay, user, password, 0, implicit=False)
    assert subjects(relay) == [b"parallel 0"]


def test_parallel_handshakes_on_both_listeners(relay_factory):
    relay, user, password = sending_relay(relay_factory,
                                          "smtp tls-threads 2\n")
    run_parallel(relay, user, password, 0, 40)
    assert subjects(relay) == sorted(f"parallel {n}".encode()
                                     for n in range(40))


def test_no_threads_handshakes_on_the_loop(relay_factory):
    relay, user, password = sending_relay(relay_factory,
                                          "smtp tls-threads 0\n")
    assert len(smtp_tasks(relay)) == 1
    run_parallel(relay, user, password, 0, 10)
    assert len(subjects(relay)) == 10
    assert "TLS handshakes on" not in relay.logtext()


def test_clients_breaking_off_mid_handshake(relay_factory):
    """Garbage instead of a ClientHello, a ClientHello and gone, a
    ClientHello and gone after the server's flight, and silence until the
    handshake deadline: those sessions end, the others go on, smtp
    lives."""
    relay, user, password = sending_relay(
        relay_factory, "smtp tls-threads 2\nsmtp timeout handshake 2s\n")
    pid = relay.pids()["smtp"]
    silent = socket.create_connection(("127.0.0.1", relay.ports[1]))
    for i in range(30):
        s = socket.create_connection(("127.0.0.1", relay.ports[1]))
        if i % 3 == 0:
            s.sendall(b"\x16\x03\x01\x02\x00garbage" * 20)
        else:
            s.sendall(client_hello())
            if i % 3 == 2:
                # The server's flight arrives; no Finished follows.
                s.settimeout(10)
                assert s.recv(1)[0] == 0x16
        s.close()
    run_parallel(relay, user, password, 0, 6)
    # The silent one is closed at the deadline.
    silent.settimeout(10)
    assert silent.recv(100) == b""
    silent.close()
    assert relay.pids()["smtp"] == pid
    send_one(relay, user, password, 6, implicit=True)
    assert len(subjects(relay)) == 7


class RawTLS:
    """A TLS client on implicit TLS that decides how its records go onto
    the wire: its ClientHello in `pieces` writes with pauses between
    (each one a handshake step of the server that ends wanting more);
    after the handshake each write() is one TLS record, send() puts what
    was written so far on the socket in one piece or octet by octet."""

    def __init__(self, port, pieces=1, tls12=False):
        ctx = tls_context()
        if tls12:
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.inc, self.out)
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=10)
        try:
            self.obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        hello = self.out.read()
        step = -(-len(hello) // pieces)
        for i in range(0, len(hello), step):
            self.sock.sendall(hello[i:i + step])
            if pieces > 1:
                time.sleep(0.2)
        while True:
            try:
                self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.send()
                self._recv()
        self.send()
        self.buf = b""

    def _recv(self):
        data = self.sock.recv(65536)
        assert data, "connection closed"
        self.inc.write(data)

    def write(self, data):
        self.obj.write(data)

    def send(self, octets=False, pause=0.002):
        wire = self.out.read()
        if not octets:
            self.sock.sendall(wire)
            return
        for i in range(len(wire)):
            self.sock.sendall(wire[i:i + 1])
            time.sleep(pause)

    def reply(self):
        """One reply's lines (multi-line replies joined by LF)."""
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                try:
                    self.buf += self.obj.read(65536)
                except ssl.SSLWantReadError:
                    self._recv()
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line.decode())
            if line[3:4] != b"-":
                return "\n".join(lines)

    def close(self):
        self.sock.close()


def test_handshake_steps_after_a_split_client_hello(relay_factory):
    """A ClientHello in pieces: the steps that only read a piece are
    cheap and the next one goes to a thread again (smtp_io.c does the
    steps after a costly one on the loop); TLS 1.3 and 1.2 both end in
    the banner, and mail still flows."""
    relay, user, password = sending_relay(relay_factory,
                                          "smtp tls-threads 2\n")
    for tls12 in (False, True):
        for pieces in (1, 3):
            c = RawTLS(relay.ports[1], pieces, tls12)
            try:
                assert c.obj.version() == ("TLSv1.2" if tls12 else
                                           "TLSv1.3")
                assert c.reply().startswith("220 ")
            finally:
                c.close()
    send_one(relay, user, password, 0, implicit=True)
    assert subjects(relay) == [b"parallel 0"]


def test_no_session_tickets(relay_factory):
    """No TLS 1.3 session tickets after the handshake: without a session
    cache or ticket keys no client could resume with them (the banner
    comes after where they would)."""
    relay, _, _ = sending_relay(relay_factory)
    ctx = tls_context()
    with socket.create_connection(("127.0.0.1", relay.ports[1])) as raw:
        with ctx.wrap_socket(raw) as s:
            assert s.version() == "TLSv1.3"
            # The server's order: AES-128-GCM-SHA256 first.
            assert s.cipher()[0] == "TLS_AES_128_GCM_SHA256"
            assert s.recv(100).startswith(b"220 ")
            assert s.session is not None
            assert not s.session.has_ticket


def test_stop_while_handshakes_are_running(relay_factory):
    """SIGTERM while clients keep starting handshakes: an orderly stop
    (exit 0), no step left inside OpenSSL while it is torn down."""
    relay, _, _ = sending_relay(relay_factory, "smtp tls-threads 2\n")
    stop = threading.Event()
    hello = client_hello()

    def hammer():
        while not stop.is_set():
            try:
                with socket.create_connection(
                        ("127.0.0.1", relay.ports[1]), timeout=2) as s:
                    s.sendall(hello)
                    s.recv(1)
            except OSError:
                pass

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    try:
        time.sleep(1)
        assert relay.stop() == 0
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    log = relay.logtext()
    assert "lost child" not in log and "fatal" not in log.lower(), log


def test_stop_after_handshakes_many_times(relay_factory):
    """Threads that did handshakes hold OpenSSL's per-thread state: at
    exit they stay parked while the main thread tears OpenSSL down (a
    thread that returned then ran OpenSSL's per-thread destructors at the
    same time: a double free ASan caught about once in 12 stops)."""
    for n in range(12):
        relay, _, _ = sending_relay(relay_factory, "smtp tls-threads 2\n",
                                    relay_factory(f"relay{n}"))
        for _ in range(3):
            starttls_client(relay).quit()
        assert relay.stop() == 0
        log = relay.logtext()
        assert "Sanitizer" not in log and "lost child" not in log, log


def test_records_in_pieces_and_records_together(relay_factory):
    """smtp reads ahead of libtls (smtp_io.c, io_tls_recv): a record whose
    octets come one by one, and several records in one segment (what is
    read past the record libtls asked for is kept for its next read), give
    the same session as one record per segment."""
    relay, user, password = sending_relay(relay_factory,
                                          "smtp tls-threads 2\n")
    c = RawTLS(relay.ports[1])
    try:
        assert c.reply().startswith("220 ")
        c.write(b"EHLO client.test\r\n")
        c.send(octets=True)
        assert c.reply().endswith("250 ENHANCEDSTATUSCODES")
        plain = base64.b64encode(f"\0{user}\0{password}".encode())
        c.write(b"AUTH PLAIN " + plain + b"\r\n")
        c.send()
        assert c.reply().startswith("235 ")
        # Three records, one segment: the replies in order.
        c.write(f"MAIL FROM:<app@{DOMAIN}>\r\n".encode())
        c.write(b"RCPT TO:<someone@example.net>\r\n")
        c.write(b"DATA\r\n")
        c.send()
        assert c.reply().startswith("250 2.1.0")
        assert c.reply().startswith("250 2.1.5")
        assert c.reply().startswith("354 ")
        # The body in 40 records (the last a large one), octet by octet
        # for the first ten, then all the rest in one segment.
        lines = [f"line {i}\r\n".encode() for i in range(39)]
        body = message(subject="records", body="".join(
            x.decode() for x in lines) + "x" * 900 + "\r\n")
        cut = [body[i:i + 7] for i in range(0, 70, 7)]
        for piece in cut:
            c.write(piece)
        c.send(octets=True, pause=0.001)
        rest = body[70:]
        for i in range(0, len(rest), 40):
            c.write(rest[i:i + 40])
        c.write(b".\r\n")
        c.send()
        r = c.reply()
        assert r.startswith("250 2.0.0 Ok: queued as "), r
        qid = r.rsplit(" ", 1)[1]
        c.write(b"QUIT\r\n")
        c.send()
        assert c.reply().startswith("221 ")
    finally:
        c.close()
    msgs = queued(relay)
    assert qid in msgs
    stored = msgs[qid][1]
    assert stored.startswith(b"Received: from client.test ")
    assert stored.endswith(body.split(b"\r\n\r\n", 1)[1])
    assert b"Subject: records\r\n" in stored
