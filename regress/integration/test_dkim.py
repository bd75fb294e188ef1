"""DKIM signing of relayed mail (issue 7): the mta puts one
DKIM-Signature per key of the header From: domain in front of the stored
message as it sends it.  Every signature is checked at the MX sink by
two independent verifiers: python3-dkim (RSA, and Ed25519 through
python3-nacl) with the key records `domain add -j` printed, and
OpenDKIM's opendkim-testmsg, which asks DNS: it runs in a mount
namespace whose /etc/resolv.conf names a second listener of the test's
DNS zone on port 53 of a loopback address (glibc's resolver has no
port setting)."""
import base64
import contextlib
import errno
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time

import dkim
from dnslib.server import DNSLogger, DNSServer

from conftest import wait_for
from mxsink import (deliveries, dsn_of, mxnet, submit,  # noqa: F401
                    wait_delivery)
from submit import (CONNECTOR, DOMAIN, add_connector, queued, submission)

SENDER = f"app@{DOMAIN}"
RSA, ED = "rsa-sha256", "ed25519-sha256"
SELECTOR = {RSA: "sendgate-rsa", ED: "sendgate-ed25519"}
# RFC 6376 5.4.1 and the issue: signed whenever present.
STANDARD = ["from", "to", "cc", "subject", "date", "message-id", "reply-to",
            "in-reply-to", "references", "mime-version", "content-type",
            "content-transfer-encoding"]
DATE = "Date: Thu, 26 Nov 2026 10:00:00 +0000\r\n"

OPENDKIM_TESTMSG = "/usr/sbin/opendkim-testmsg"

try:
    import nacl.signing
    HAVE_NACL = True
except ImportError:
    HAVE_NACL = False


# ---- the relay, its connectors and their published records -------------

class Published:
    """The DKIM key records `domain add -j` printed, by host name: what
    the python verifier is served (and what the DNS fixture publishes)."""

    def __init__(self):
        self.records = {}

    def add(self, doc):
        for rec in doc["records"]:
            if rec["purpose"].split()[0] == "dkim":
                assert rec["type"] == "TXT", rec
                self.records[rec["host"].lower().rstrip(".")] = rec["value"]

    def selectors(self, domain):
        """{algorithm: selector} of domain's published keys."""
        out = {}
        suffix = f"._domainkey.{domain.lower()}"
        for host, value in self.records.items():
            if host.endswith(suffix):
                k = re.search(r"(?:^|;)\s*k=(\w+)", value).group(1)
                alg = {"rsa": RSA, "ed25519": ED}[k]
                assert alg not in out, (domain, self.records)
                out[alg] = host[:-len(suffix)]
        return out

    def dnsfunc(self, name, timeout=5):
        v = self.records.get(name.decode().lower().rstrip("."))
        return v.encode() if v is not None else None


def authorize(relay, published, connector, domain, timeout=15):
    """domain add; every record it printed but SPF published in the test
    DNS (verification TXT at the domain, the key TXT records at their
    selectors); wait until the authorization is verified and the relay's
    own DKIM check says ok.  The answer of domain add."""
    r = relay.ctl("domain", "add", connector, domain, json_out=True,
                  check=True)
    doc = json.loads(r.stdout)
    hosts = []
    for rec in doc["records"]:
        kind = rec["purpose"].split()[0]
        if kind == "verification":
            relay.dns.txt(rec["host"], rec["value"])
        elif kind == "dkim":
            relay.dns.set(rec["host"], "TXT", [rec["value"]])
            hosts.append(rec["host"])
    published.add(doc)
    deadline = time.time() + timeout
    while True:
        relay.ctl("domain", "check", domain)
        r = relay.ctl("domain", "show", domain, json_out=True, check=True)
        rows = [a for a in json.loads(r.stdout)["authorizations"]
                if a["connector"] == connector]
        if rows and rows[0]["state"] == "verified" and \
                rows[0].get("dkim") == "ok":
            return doc
        assert time.time() < deadline, r.stdout
        time.sleep(0.2)


def start(mxnet, extra="", deliver=True):
    """The relay delivering to the sinks, connector web01 with
    example.com verified and its keys published:
    (relay, user, password, published)."""
    relay = mxnet.relay
    relay.deliver = deliver
    relay.extra = mxnet.config() + extra
    relay.start()
    user, password = add_connector(relay)
    published = Published()
    authorize(relay, published, CONNECTOR, DOMAIN)
    return relay, user, password, published


# ---- reading a message and its signatures -------------------------------

def split(data):
    """(header fields [(name, raw field bytes incl. CRLF)], body)."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:                 # a header and no body, not even CRLF
        assert data.endswith(b"\r\n"), data[-300:]
        head = data[:-2]
    fields = []
    for line in (head + b"\r\n").split(b"\r\n")[:-1]:
        if line[:1] in (b" ", b"\t") and fields:
            name, raw = fields[-1]
            fields[-1] = (name, raw + line + b"\r\n")
        else:
            fields.append((line.split(b":", 1)[0].decode("latin-1"),
                           line + b"\r\n"))
    return fields, body


def tags(raw_field):
    """The tag=value list of a DKIM-Signature field, whitespace (FWS)
    taken out of every value."""
    value = raw_field.split(b":", 1)[1].decode("ascii")
    out = {}
    for part in value.split(";"):
        if not part.strip():
            continue
        k, _, v = part.partition("=")
        k = k.strip()
        assert k not in out, f"tag {k} twice in {raw_field!r}"
        out[k] = re.sub(r"[ \t\r\n]", "", v)
    return out


def signatures(data):
    return [tags(raw) for name, raw in split(data)[0]
            if name.lower() == "dkim-signature"]


def py_verify(data, published, idx):
    """python3-dkim's verdict on the idx-th DKIM-Signature (from the
    top): True, False, or the text of the exception it raised."""
    try:
        return dkim.DKIM(data, minkey=1024).verify(
            idx=idx, dnsfunc=published.dnsfunc)
    except dkim.DKIMException as e:
        return f"{type(e).__name__}: {e}"


def only_signature(data, idx):
    """data with every DKIM-Signature but the idx-th taken out."""
    fields, body = split(data)
    out, n = [], 0
    for name, raw in fields:
        if name.lower() == "dkim-signature":
            n += 1
            if n - 1 != idx:
                continue
        out.append(raw)
    return b"".join(out) + b"\r\n" + body


def check_signed(data, published, domain=DOMAIN, algs=(RSA, ED),
                 since=None, selectors=None, opendkim_dns=None):
    """Everything the issue says of a signed message; a list of what is
    wrong (empty: all good)."""
    bad = []
    if selectors is None:
        selectors = published.selectors(domain)
    fields, _ = split(data)
    sigs = signatures(data)
    n = len(algs)
    if sorted(s.get("a") for s in sigs) != sorted(algs):
        return [f"signatures {[s.get('a') for s in sigs]}, want "
                f"{sorted(algs)}; the header starts "
                f"{[nm for nm, _ in fields[:n + 2]]}"]
    # Prepended: the signatures are the first fields, our Received: next.
    names = [name.lower() for name, _ in fields]
    if names[:n] != ["dkim-signature"] * n or names[n] != "received":
        bad.append(f"field order {names[:n + 2]}")
    if names.count("dkim-signature") != n:
        bad.append(f"{names.count('dkim-signature')} DKIM-Signature fields")
    present = {nm for nm in names if nm != "dkim-signature"}
    for nm, raw in fields[:n]:
        longest = max(len(ln) for ln in raw.split(b"\r\n"))
        if longest > 998:
            bad.append(f"a DKIM-Signature line of {longest} octets")
    for i, s in enumerate(sigs):
        a = s["a"]
        want = {"v": "1", "d": domain.lower(), "s": selectors[a],
                "c": "relaxed/relaxed"}
        got = {k: s.get(k) for k in want}
        got["d"] = (got["d"] or "").lower()
        if got != want:
            bad.append(f"{a}: {got} != {want}")
        if not re.fullmatch(r"\d+", s.get("t", "")):
            bad.append(f"{a}: t= {s.get('t')!r}")
        elif since is not None and not \
                since - 1 <= int(s["t"]) <= time.time() + 1:
            bad.append(f"{a}: t={s['t']} not between {since:.0f} and now")
        for k in ("bh", "b"):
            if not s.get(k):
                bad.append(f"{a}: no {k}=")
        if "l" in s:
            bad.append(f"{a}: l= (body length) present")
        h = [x.lower() for x in s.get("h", "").split(":")]
        if h.count("from") != 2:
            bad.append(f"{a}: From: {h.count('from')} times in h={s.get('h')}")
        for std in STANDARD + [nm for nm in present
                               if nm.startswith("list-")]:
            if std in present and std not in h:
                bad.append(f"{a}: {std} present but not in h={s.get('h')}")
        for nope in ("received", "dkim-signature", "return-path"):
            if nope in h:
                bad.append(f"{a}: h= lists {nope}")
        v = py_verify(data, published, i)
        if v is not True:
            bad.append(f"{a}: python3-dkim says {v!r}")
        if opendkim_dns is not None:
            rc, err = opendkim_dns.testmsg(only_signature(data, i))
            if rc != 0:
                bad.append(f"{a}: opendkim-testmsg exit {rc}: {err!r}")
    return bad


def assert_unsigned(data):
    names = [name.lower() for name, _ in split(data)[0]]
    assert "dkim-signature" not in names, data[:2000]
    assert b"dkim-signature" not in data.lower(), data[:2000]


# ---- OpenDKIM -----------------------------------------------------------

class OpenDKIM:
    """opendkim-testmsg in verifying mode: exit 0 when a signature of
    the message verifies.  It reads /etc/resolv.conf only, so it runs in
    its own mount namespace with one naming a listener of the test's
    zone on port 53."""

    def __init__(self, zone):
        self.tmp = tempfile.mkdtemp(prefix="sendgate-opendkim-")
        self.servers = []
        for last in range(153, 173):
            addr = f"127.0.0.{last}"
            try:
                for tcp in (False, True):
                    srv = DNSServer(zone, port=53, address=addr, tcp=tcp,
                                    logger=DNSLogger("-request,-reply,"
                                                     "-truncated,-error,"
                                                     "-recv,-send,-data",
                                                     False))
                    self.servers.append(srv)
            except OSError as e:
                if e.errno != errno.EADDRINUSE:
                    raise
                self.stop()
                continue
            break
        else:
            raise AssertionError("no loopback address with port 53 free")
        for srv in self.servers:
            threading.Thread(target=srv.server.serve_forever,
                             kwargs={"poll_interval": 0.02},
                             daemon=True).start()
        self.resolv = f"{self.tmp}/resolv.conf"
        with open(self.resolv, "w") as f:
            f.write(f"nameserver {addr}\noptions timeout:2 attempts:1\n")

    def testmsg(self, data):
        """(exit status, stderr) of opendkim-testmsg on data."""
        r = subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c",
             'mount --bind "$1" /etc/resolv.conf && '
             'exec "$3" -t "$2"', "sh", self.resolv, self.tmp,
             OPENDKIM_TESTMSG],
            input=data, capture_output=True, timeout=30)
        return r.returncode, r.stderr.decode("utf-8", "replace")

    def stop(self):
        for srv in self.servers:
            try:
                srv.server.shutdown()
                srv.server.server_close()
            except OSError:
                pass
        self.servers = []

    def close(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def opendkim_problem():
    """Why opendkim-testmsg cannot run here, or None."""
    if not os.path.exists(OPENDKIM_TESTMSG):
        return "opendkim-testmsg missing: install Debian's opendkim-tools"
    if shutil.which("unshare") is None:
        return "unshare missing (util-linux)"
    return None


@contextlib.contextmanager
def opendkim_on(relay):
    problem = opendkim_problem()
    assert problem is None, problem
    o = OpenDKIM(relay.dns.zone)
    try:
        yield o
    finally:
        o.close()


def test_verifiers_are_installed():
    """Not a skip: the suite needs both verifiers, and Ed25519 needs
    python3-nacl (Debian package python3-nacl; mk/packages-test.txt)."""
    assert HAVE_NACL, "python3-nacl is not installed: Ed25519 signatures " \
        "cannot be verified (apt-get install python3-nacl)"
    assert opendkim_problem() is None, opendkim_problem()


# ---- raw submission ---------------------------------------------------

def stuff(data):
    """Dot-stuffing for DATA (RFC 5321 4.5.2)."""
    return re.sub(rb"(?m)^\.", b"..", data)


def submit_raw(relay, user, password, rcpt, data, mail_from=SENDER,
               params="", bdat=False):
    """One message sent exactly as given, over DATA (dot-stuffed, ending
    with CRLF . CRLF; data must end with CRLF) or in one BDAT LAST chunk
    (byte for byte).  (code, text, queue id or None)."""
    s = submission(relay, user, password)
    try:
        code, text = s.cmd(f"MAIL FROM:<{mail_from}>{params}")
        if code != 250:
            return code, text, None
        code, text = s.cmd(f"RCPT TO:<{rcpt}>")
        assert code == 250, text
        if bdat:
            s.send(f"BDAT {len(data)} LAST\r\n".encode() + data)
        else:
            assert data.endswith(b"\r\n"), data[-20:]
            code, text = s.cmd("DATA")
            assert code == 354, text
            s.send(stuff(data) + b".\r\n")
        code, text = s.reply()
        m = re.search(r"queued as ([0-9a-f]{16})", text)
        return code, text, m.group(1) if m else None
    finally:
        s.close()


def one_from(sink, rcpt, timeout=15):
    wait_for(lambda: sink.to(rcpt), timeout)
    (m,) = sink.to(rcpt)
    return m


# ---- the tests --------------------------------------------------------

def test_relayed_message_carries_rsa_and_ed25519_signatures(mxnet):
    """The stored message is unsigned; what arrives is the stored bytes
    with exactly two DKIM-Signature fields in front, each of which
    verifies with python3-dkim and with OpenDKIM."""
    sink = mxnet.sink("example.net")
    relay, user, password, published = start(mxnet, deliver=False)
    # The names of sendgated.conf(5) for the default `dkim selector`.
    assert published.selectors(DOMAIN) == SELECTOR
    t0 = time.time()
    data = (f"From: App <{SENDER}>\r\nTo: Bob <bob@example.net>\r\n"
            "Cc: carol@example.net\r\nReply-To: help@example.com\r\n"
            "Subject: signed\r\nIn-Reply-To: <a@example.com>\r\n"
            "References: <a@example.com>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n"
            "Content-Transfer-Encoding: 7bit\r\n"
            "List-Id: News <news.example.com>\r\n"
            "List-Unsubscribe: <mailto:leave@example.com>\r\n"
            "X-Mailer: test\r\n\r\nHello.\r\n").encode()
    code, text, qid = submit_raw(relay, user, password, "bob@example.net",
                                 data)
    assert code == 250 and qid, text
    ((_, stored),) = queued(relay).values()
    assert b"dkim-signature" not in stored.lower()
    assert stored.startswith(b"Received: "), stored[:100]
    r = relay.ctl("resume", "mta")
    assert r.returncode == 0, r.stderr

    (m,) = sink.wait_messages(1)
    wait_delivery(relay, id=qid, result="delivered")
    assert m.data.endswith(stored), (m.data[:3000], stored[:500])
    prefix = m.data[:-len(stored)]
    names = [n for n, _ in split(prefix + b"\r\n")[0]] if prefix else []
    assert names == ["DKIM-Signature"] * 2, \
        f"in front of the stored message: {prefix!r}; it starts " \
        f"{m.data[:300]!r}"
    with opendkim_on(relay) as od:
        assert check_signed(m.data, published, since=t0,
                            opendkim_dns=od) == []
    # Date: and Message-ID: the relay added at submission are signed.
    for s in signatures(m.data):
        h = s["h"].lower().split(":")
        assert {"date", "message-id", "list-id", "list-unsubscribe",
                "cc", "reply-to"} <= set(h), s["h"]


def big_message(head):
    """About 1 MB: lines of every length from 0 to 997 octets, some with
    trailing white space, so that lines and CRLFs straddle whatever
    buffers the signer reads the message in."""
    lines = []
    for i in range(2000):
        n = (i * 37) % 998
        line = "".join(chr(0x21 + (i + k) % 94) for k in range(n))
        if i % 7 == 0 and n > 2:
            line = line[:-2] + " \t"
        lines.append(line)
    return (head + "To: x@example.net\r\nSubject: big\r\n\r\n" +
            "\r\n".join(lines) + "\r\n").encode()


def _corpus():
    d = DATE
    frm = f"From: {SENDER}\r\n"
    long_line = "x" * 996             # 996 + CRLF = 998, the limit
    # A name ending in "*": a message RFC 5322 forbids (To: and Subject:
    # twice), which OpenDKIM refuses to look at ("dkim_chunk(): Syntax
    # error"): python3-dkim alone checks it.
    return [
        # name, message bytes, MAIL parameters, bdat
        ("folded", (
            f"{d}From: \"A very long display name\"\r\n <{SENDER}>\r\n"
            "To: first@example.net,\r\n\tsecond@example.net,\r\n"
            "   third@example.net\r\n"
            "Subject: a subject\r\n that goes on\r\n\tand on\r\n"
            "References: <1@example.com>\r\n <2@example.com>\r\n"
            "\r\nFolded header, plain body.\r\n").encode(), "", False),
        ("trailing-whitespace", (
            f"{d}{frm}To: x@example.net  \r\nSubject:   spaced \t out  \r\n"
            "\r\nline with trailing spaces   \r\n"
            "tab in\tthe  middle \t\r\n  leading spaces\r\n").encode(),
         "", False),
        ("empty-body", f"{d}{frm}To: x@example.net\r\nSubject: empty\r\n"
         "\r\n".encode(), "", False),
        ("header-only-no-empty-line",
         f"{d}{frm}To: x@example.net\r\nSubject: no body at all\r\n"
         .encode(), "", False),
        ("no-final-crlf-bdat", f"{d}{frm}To: x@example.net\r\n"
         "Subject: last line has no CRLF\r\n\r\nfirst\r\nlast".encode(),
         "", True),
        ("whitespace-lines-at-end", (
            f"{d}{frm}To: x@example.net\r\nSubject: ws at end\r\n\r\n"
            "text\r\n\r\n   \r\n\t\r\n \t \r\n\r\n").encode(), "", False),
        ("empty-lines-at-end", (
            f"{d}{frm}To: x@example.net\r\nSubject: empties\r\n\r\n"
            "text\r\n\r\n\r\n\r\n").encode(), "", False),
        ("long-lines", (
            f"{d}{frm}To: x@example.net\r\nSubject: long\r\n"
            f"X-Long: {'y' * 980}\r\n\r\n"
            f"{long_line}\r\n{long_line[:-1]} \r\n{long_line}\r\n").encode(),
         "", False),
        ("8bit", (
            f"{d}{frm}To: x@example.net\r\nSubject: 8bit\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n").encode()
         + "Grüße, Zażółć gęślą jaźń, 東京\r\n".encode()
         + b"latin-1 \xe9t\xe9 \xff\x80\r\n", " BODY=8BITMIME", False),
        ("duplicate-to-subject*", (
            f"{d}{frm}To: one@example.net\r\nSubject: first\r\n"
            "To: two@example.net\r\nSubject: second\r\n"
            "\r\nTwo of each.\r\n").encode(), "", False),
        ("dots", (
            f"{d}{frm}To: x@example.net\r\nSubject: dots\r\n\r\n"
            ".\r\n..\r\n.leading\r\n...three\r\n. space\r\nend .\r\n.\r\n")
         .encode(), "", False),
        ("mixed-case-names", (
            f"date: Thu, 26 Nov 2026 10:00:00 +0000\r\nFROM: {SENDER}\r\n"
            "tO: x@example.net\r\nsUbJeCt: case\r\nMime-Version: 1.0\r\n"
            "\r\nbody\r\n").encode(), "", False),
        ("crlf-only-body", f"{d}{frm}To: x@example.net\r\nSubject: crlf\r\n"
         "\r\n\r\n".encode(), "", False),
        ("from-domain-in-capitals", (
            f"{d}From: App <App@Example.COM>\r\nTo: x@example.net\r\n"
            "Subject: capitals\r\n\r\nbody\r\n").encode(), "", False),
        ("big", big_message(d + frm), "", False),
        ("relay-adds-date-and-message-id", (
            f"{frm}To: x@example.net\r\nSubject: no date, no id\r\n\r\n"
            "The relay adds Date: and Message-ID:.\r\n").encode(), "",
         False),
    ]


def test_corpus_every_signature_verifies(mxnet):
    sink = mxnet.sink("example.net")
    relay, user, password, published = start(mxnet)
    t0 = time.time()
    corpus = _corpus()
    failed = []
    sent = {}
    for name, data, params, bdat in corpus:
        rcpt = f"{name.rstrip('*')}@example.net"
        code, text, qid = submit_raw(relay, user, password, rcpt, data,
                                     params=params, bdat=bdat)
        if code != 250:
            failed.append(f"{name}: refused {code} {text}")
            continue
        sent[name] = (rcpt, qid, data)
    with opendkim_on(relay) as od:
        for name, (rcpt, qid, data) in sent.items():
            try:
                m = one_from(sink, rcpt)
            except AssertionError:
                failed.append(f"{name}: not delivered; " + "; ".join(
                    d["_line"] for d in deliveries(relay, id=qid)))
                continue
            bad = check_signed(m.data, published, since=t0,
                               opendkim_dns=None if name.endswith("*")
                               else od)
            failed += [f"{name}: {b}" for b in bad]
    assert not failed, "\n".join(failed)


def test_every_copy_and_every_attempt_is_signed(mxnet):
    """One message to two domains goes out as two copies, each signed;
    a recipient deferred at the first attempt gets a copy signed on the
    retry that verifies too."""
    net = mxnet.sink("example.net")
    org = mxnet.sink("example.org")
    relay, user, password, published = start(mxnet, "queue retry 1h\n")
    net.rcpt_replies("bob@example.net", "451 4.3.0 come back later")
    code, text, qid = submit(relay, user, password,
                             ["bob@example.net", "carol@example.org"],
                             subject="two domains, two attempts")
    assert code == 250, text
    (c,) = org.wait_messages(1)
    wait_delivery(relay, id=qid, rcpt="bob@example.net", result="deferred")
    assert net.accepted() == []
    r = relay.ctl("schedule", qid)
    assert r.returncode == 0, r.stderr
    (b,) = net.wait_messages(1)
    wait_delivery(relay, id=qid, rcpt="bob@example.net", result="delivered")
    with opendkim_on(relay) as od:
        for m in (b, c):
            assert check_signed(m.data, published, opendkim_dns=od) == [], \
                m.rcpt_tos
    # The same stored message under both: only the signatures differ
    # (t= may, b= with it).
    assert split(b.data)[1] == split(c.data)[1]
    strip = lambda d: b"".join(raw for nm, raw in split(d)[0]  # noqa: E731
                               if nm.lower() != "dkim-signature")
    assert strip(b.data) == strip(c.data)


def _signed_sample(mxnet, extra_fields=""):
    sink = mxnet.sink("example.net")
    relay, user, password, published = start(mxnet)
    data = (f"{DATE}From: {SENDER}\r\nTo: bob@example.net\r\n"
            f"Subject: tamper with me\r\n{extra_fields}\r\n"
            "The body.\r\nSecond line.\r\n").encode()
    code, text, qid = submit_raw(relay, user, password, "bob@example.net",
                                 data)
    assert code == 250, text
    (m,) = sink.wait_messages(1)
    assert check_signed(m.data, published) == []
    return relay, published, m.data


def verdicts(data, published, od):
    """{algorithm: (python3-dkim, opendkim-testmsg exit)} per signature."""
    out = {}
    for i, s in enumerate(signatures(data)):
        out[s["a"]] = (py_verify(data, published, i),
                       od.testmsg(only_signature(data, i))[0])
    return out


def test_modified_after_signing_fails_verification(mxnet):
    relay, published, data = _signed_sample(mxnet)
    fields, body = split(data)
    head = b"".join(raw for _, raw in fields)
    with opendkim_on(relay) as od:
        assert verdicts(data, published, od) == {RSA: (True, 0),
                                                 ED: (True, 0)}
        # What relaxed/relaxed forgives still verifies: whitespace.
        relaxed = data.replace(b"Subject: tamper with me\r\n",
                               b"Subject:   tamper  with\r\n\tme \r\n") \
            .replace(b"The body.\r\n", b"The   body. \t\r\n") + b"\r\n\r\n"
        assert verdicts(relaxed, published, od) == \
            {RSA: (True, 0), ED: (True, 0)}

        tampered = {
            "body byte": head + b"\r\n" + body.replace(b"The body.",
                                                       b"The bodY."),
            "body line added": data + b"P.S.\r\n",
            "subject changed": data.replace(b"Subject: tamper with me",
                                            b"Subject: tampered with me"),
            "to changed": data.replace(b"To: bob@", b"To: eve@"),
        }
        failed = []
        for what, t in tampered.items():
            assert t != data, what
            for alg, (py, od_rc) in verdicts(t, published, od).items():
                if py is True or od_rc == 0:
                    failed.append(f"{what}: {alg} still verifies "
                                  f"(python3-dkim {py!r}, opendkim "
                                  f"exit {od_rc})")
        assert not failed, "\n".join(failed)


class StrictDKIM(dkim.DKIM):
    """python3-dkim taking h= literally: its verify appends one more
    "from" to every h= that has one (its bug 644046 workaround), which
    would fail a message with an added From: whether the signer
    over-signed or not."""

    class _Fixed(list):
        def append(self, item):
            pass

    def verify_headerprep(self, idx=0):
        prep = super().verify_headerprep(idx)
        if not prep:
            return prep
        sig, include, sigheaders = prep
        return sig, self._Fixed(include), sigheaders


def strict_verify(data, published, idx):
    try:
        return StrictDKIM(data, minkey=1024).verify(
            idx=idx, dnsfunc=published.dnsfunc)
    except dkim.DKIMException as e:
        return f"{type(e).__name__}: {e}"


def test_strict_verifier_tells_oversigned_from_not():
    """The check below is worth something: a signature with From: once
    in h= survives a From: added above the real one under StrictDKIM,
    one with From: twice does not."""
    key = nacl.signing.SigningKey.generate()
    published = Published()
    published.records["s._domainkey.example.com"] = (
        "v=DKIM1; k=ed25519; p=" +
        base64.b64encode(bytes(key.verify_key)).decode())
    msg = (f"{DATE}From: {SENDER}\r\nTo: x@example.net\r\n"
           "Subject: s\r\n\r\nbody\r\n").encode()
    for h, survives in (([b"from", b"to", b"subject"], True),
                        ([b"from", b"from", b"to", b"subject"], False)):
        sig = dkim.sign(msg, b"s", b"example.com",
                        base64.b64encode(bytes(key)),
                        signature_algorithm=b"ed25519-sha256",
                        canonicalize=(b"relaxed", b"relaxed"),
                        include_headers=h)
        assert strict_verify(sig + msg, published, 0) is True
        added = sig + b"From: ceo@example.com\r\n" + msg
        assert (strict_verify(added, published, 0) is True) == survives, h
        assert py_verify(added, published, 0) is not True


def test_second_from_breaks_the_oversigned_signature(mxnet):
    """h= lists From: twice, so a From: added above or below the real
    one (RFC 6376 8.15) makes every signature fail: under StrictDKIM,
    python3-dkim, and OpenDKIM (which refuses two From: outright)."""
    relay, published, data = _signed_sample(mxnet)
    for i, s in enumerate(signatures(data)):
        assert [x.lower() for x in s["h"].split(":")].count("from") == 2
        assert strict_verify(data, published, i) is True, s["a"]
    fields, body = split(data)
    n = sum(1 for nm, _ in fields if nm.lower() == "dkim-signature")
    added = b"From: ceo@example.com\r\n"
    below = b"".join(raw for _, raw in fields) + added + b"\r\n" + body
    above = b"".join(raw for _, raw in fields[:n]) + added + \
        b"".join(raw for _, raw in fields[n:]) + b"\r\n" + body
    failed = []
    with opendkim_on(relay) as od:
        for what, t in (("below", below), ("above", above)):
            for i, s in enumerate(signatures(t)):
                got = (strict_verify(t, published, i),
                       py_verify(t, published, i),
                       od.testmsg(only_signature(t, i))[0])
                if got[0] is True or got[1] is True or got[2] == 0:
                    failed.append(f"From: added {what}: {s['a']} verifies:"
                                  f" strict {got[0]!r}, python3-dkim "
                                  f"{got[1]!r}, opendkim exit {got[2]}")
    assert not failed, "\n".join(failed)


def test_signed_only_with_the_keys_of_the_from_domain(mxnet):
    """web01 owns example.com and example.info, web02 example.org; each
    domain has its own keys.  A message is signed with the keys of its
    header From: domain (not the envelope's, which may be another or
    null), never another's; a From: the connector does not own is
    refused (550 5.7.1 at MAIL for the envelope, at the end of DATA for
    the header)."""
    sink = mxnet.sink("example.net")
    relay, user, password, published = start(mxnet)
    authorize(relay, published, CONNECTOR, "example.info")
    user2, password2 = add_connector(relay, "web02")
    authorize(relay, published, "web02", "example.org")
    assert len(published.records) == 6
    assert len(set(published.records.values())) == 6   # keys of their own

    def send(u, p, rcpt, frm, mail_from):
        data = (f"{DATE}From: {frm}\r\nTo: {rcpt}\r\nSubject: {rcpt}\r\n"
                "\r\nbody\r\n").encode()
        return submit_raw(relay, u, p, rcpt, data, mail_from=mail_from)

    code, text, _ = send(user, password, "a@example.net",
                         "app@example.com", SENDER)
    assert code == 250, text
    code, text, _ = send(user, password, "b@example.net",
                         "news@example.info", "bounces@example.com")
    assert code == 250, text
    code, text, _ = send(user2, password2, "c@example.net",
                         "shop@example.org", "shop@example.org")
    assert code == 250, text
    # The null envelope sender: the header From: alone decides.
    code, text, _ = send(user, password, "e@example.net",
                         "app@example.com", "")
    assert code == 250, text
    # web01 cannot send as example.org: header or envelope.
    refused = ("domain example.org is not authorized for connector web01")
    code, text, _ = send(user, password, "d@example.net",
                         "shop@example.org", SENDER)
    assert (code, text) == (
        550, f"5.7.1 From: header rejected: {refused}"), (code, text)
    code, text, _ = send(user, password, "d@example.net",
                         "shop@example.org", "shop@example.org")
    assert (code, text) == (
        550, f"5.7.1 Sender address rejected: {refused}"), (code, text)

    with opendkim_on(relay) as od:
        for rcpt, domain in (("a@example.net", "example.com"),
                             ("b@example.net", "example.info"),
                             ("c@example.net", "example.org"),
                             ("e@example.net", "example.com")):
            m = one_from(sink, rcpt)
            assert check_signed(m.data, published, domain=domain,
                                opendkim_dns=od) == [], rcpt
            assert {s["d"] for s in signatures(m.data)} == {domain}
    time.sleep(1)
    assert sink.to("d@example.net") == []
    assert len(sink.accepted()) == 4


def _wait_state(relay, domain, state, connector=CONNECTOR, timeout=15):
    deadline = time.time() + timeout
    while True:
        relay.ctl("domain", "check", domain)
        r = relay.ctl("domain", "show", domain, json_out=True, check=True)
        (a,) = [a for a in json.loads(r.stdout)["authorizations"]
                if a["connector"] == connector]
        if a["state"] == state:
            return
        assert time.time() < deadline, a
        time.sleep(0.2)


def test_domain_revoked_while_queued_is_delivered_unsigned(mxnet):
    sink = mxnet.sink("example.net")
    relay, user, password, published = start(
        mxnet, "verification grace 0\n", deliver=False)
    code, text, qid = submit(relay, user, password, "bob@example.net",
                             subject="queued, then revoked")
    assert code == 250 and qid, text
    assert qid in queued(relay)
    relay.dns.remove(DOMAIN, "TXT")          # the verification record
    _wait_state(relay, DOMAIN, "revoked")
    # The keys are still there, and still published: not used.
    r = relay.ctl("domain", "show", DOMAIN, json_out=True, check=True)
    assert relay.state_query("SELECT count(*) FROM dkim_key") == [(2,)], \
        r.stdout
    r = relay.ctl("resume", "mta")
    assert r.returncode == 0, r.stderr
    (m,) = sink.wait_messages(1)
    wait_delivery(relay, id=qid, result="delivered")
    assert b"Subject: queued, then revoked\r\n" in m.data
    assert_unsigned(m.data)


def test_algorithms_and_selector_follow_the_configuration(mxnet):
    """dkim algorithms rsa-sha256 alone: one signature; dkim selector
    sg2026: s=sg2026-rsa."""
    sink = mxnet.sink("example.net")
    relay, user, password, published = start(
        mxnet, "dkim selector sg2026\ndkim algorithms rsa-sha256\n")
    assert list(published.records) == [f"sg2026-rsa._domainkey.{DOMAIN}"]
    code, text, qid = submit(relay, user, password, "bob@example.net")
    assert code == 250, text
    (m,) = sink.wait_messages(1)
    assert check_signed(m.data, published, algs=(RSA,),
                        selectors={RSA: "sg2026-rsa"}) == []


def test_body_canonicalization_expiry_and_fields_follow_the_config(mxnet):
    """dkim body simple: c=relaxed/simple; dkim expire 2d: x = t + 2d;
    dkim headers: exactly those present, and From once more;
    every signature still verifies with python3-dkim."""
    sink = mxnet.sink("example.net")
    relay, user, password, published = start(
        mxnet, "dkim body simple\ndkim expire 2d\n"
        "dkim headers From Subject X-Ticket Cc\n")
    data = (f"From: App <{SENDER}>\r\nTo: bob@example.net\r\n"
            "Subject: configured\r\nX-Ticket: 42\r\n"
            "Date: Thu, 26 Nov 2026 12:00:00 +0000\r\n"
            "Message-ID: <cfg@example.com>\r\n\r\n"
            "trailing blanks kept by simple   \r\n\r\n").encode()
    code, text = submit_raw(relay, user, password, "bob@example.net",
                            data)[:2]
    assert code == 250, text
    (m,) = sink.wait_messages(1)
    sigs = signatures(m.data)
    assert len(sigs) == 2, sigs
    for i, t in enumerate(sigs):
        assert t["c"] == "relaxed/simple", t
        assert int(t["x"]) == int(t["t"]) + 2 * 86400, t
        assert sorted(t["h"].lower().split(":")) == \
            ["from", "from", "subject", "x-ticket"], t
        assert py_verify(m.data, published, i) is True, i


def test_bounce_from_the_relay_is_not_signed(mxnet):
    """Without `dkim domain` the relay's own DSNs go out unsigned (their
    From: is MAILER-DAEMON@ the relay's host name); the message that
    failed is still signed where it was tried."""
    sink = mxnet.sink("example.net")
    back = mxnet.sink(DOMAIN)
    sink.rcpt_always("gone@example.net", "550 5.1.1 no such user")
    relay, user, password, published = start(mxnet)
    code, text, qid = submit(relay, user, password,
                             ["gone@example.net", "bob@example.net"],
                             subject="half bounces")
    assert code == 250, text
    wait_delivery(relay, id=qid, rcpt="gone@example.net", result="failed")
    (ok,) = sink.wait_messages(1)
    assert check_signed(ok.data, published) == []
    (b,) = back.wait_messages(1)
    assert b.mail_from in ("<>", "")
    m, _, _ = dsn_of(b)
    assert m["From"].addresses[0].domain == "relay.test", m["From"]
    # The bounce itself is unsigned; the returned original inside keeps
    # whatever it had (the stored, unsigned copy or the header).
    top, _ = split(b.data)
    assert "dkim-signature" not in [n.lower() for n, _ in top], b.data[:2000]


def test_bounce_is_signed_with_the_relays_own_domain(mxnet):
    """dkim domain relay-own.example: the relay's notices come from
    MAILER-DAEMON@relay-own.example and are signed with the keys of that
    domain (an authorized domain of the operator's own connector), which
    verify; no other message gets those keys."""
    own = "relay-own.example"
    sink = mxnet.sink("example.net")
    back = mxnet.sink(DOMAIN)
    sink.rcpt_always("gone@example.net", "550 5.1.1 no such user")
    relay, user, password, published = start(
        mxnet, f"dkim domain {own}\n")
    add_connector(relay, "operator")
    authorize(relay, published, "operator", own)
    code, text, qid = submit(relay, user, password,
                             ["gone@example.net", "bob@example.net"],
                             subject="signed bounce")
    assert code == 250, text
    (ok,) = sink.wait_messages(1)
    assert check_signed(ok.data, published) == []      # d=example.com
    (b,) = back.wait_messages(1)
    m, _, _ = dsn_of(b)
    assert m["From"].addresses[0].domain == own, m["From"]
    sigs = signatures(b.data)
    assert [s["d"] for s in sigs] == [own, own], sigs
    for i in range(len(sigs)):
        assert py_verify(b.data, published, i) is True, i
