"""A real DNS server on loopback for the integration tests (python3-dnslib).

The test changes the zone while the daemon runs:

    dns.txt("example.com", "sendgate-verification=...")   # add a TXT record
    dns.set("example.com", "TXT", [...])                  # replace records
    dns.set("example.com", "TXT", [Strings(["a", "b"])])  # one record, 2 strings
    dns.remove("example.com", "TXT")
    dns.servfail("example.com")                           # answer SERVFAIL
    dns.timeout("example.com")                            # never answer

Names that are not in the zone answer NXDOMAIN; names that exist with other
types answer NOERROR and no data.  UDP answers over 512 bytes are truncated
so the client retries over TCP, which is served too.
"""
import threading

import pytest
from dnslib import AAAA, CNAME, MX, QTYPE, RCODE, RR, TXT, A, DNSRecord
from dnslib.server import BaseResolver, DNSHandler, DNSServer

TYPES = {"A": A, "AAAA": AAAA, "MX": MX, "TXT": TXT, "CNAME": CNAME}


class Strings(tuple):
    """A TXT value given as its character-strings, sent as they are:
    dns.set(name, "TXT", [Strings(["sendgate-verif", "ication=..."])])."""


def split255(value):
    if isinstance(value, Strings):
        return [s.encode() if isinstance(s, str) else s for s in value]
    b = value.encode() if isinstance(value, str) else value
    return [b[i:i + 255] for i in range(0, len(b), 255)] or [b""]


class Zone(BaseResolver):
    def __init__(self):
        self.lock = threading.Lock()
        self.records = {}        # (name, type) -> [rdata]
        self.failing = {}        # name -> "servfail" | "timeout"
        self.queries = []

    @staticmethod
    def key(name):
        return str(name).rstrip(".").lower()

    def set(self, name, rtype, values):
        with self.lock:
            self.records[(self.key(name), rtype)] = list(values)

    def add(self, name, rtype, value):
        with self.lock:
            self.records.setdefault((self.key(name), rtype), []).append(
                value)

    def remove(self, name, rtype=None):
        with self.lock:
            for k in list(self.records):
                if k[0] == self.key(name) and rtype in (None, k[1]):
                    del self.records[k]

    def txt(self, name, value):
        self.add(name, "TXT", value)

    def servfail(self, name):
        self.failing[self.key(name)] = "servfail"

    def timeout(self, name):
        self.failing[self.key(name)] = "timeout"

    def heal(self, name):
        self.failing.pop(self.key(name), None)

    def rdata(self, rtype, value):
        if rtype == "TXT":
            return TXT(split255(value))
        if rtype == "MX":
            pref, host = value
            return MX(host, pref)
        return TYPES[rtype](value)

    def resolve(self, request, handler):
        reply = request.reply()
        qname = self.key(request.q.qname)
        qtype = QTYPE[request.q.qtype]
        self.queries.append((qname, qtype))
        mode = self.failing.get(qname)
        if mode == "timeout":
            return None
        if mode == "servfail":
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        with self.lock:
            name = qname
            for _ in range(10):
                cname = self.records.get((name, "CNAME"))
                if not cname or qtype == "CNAME":
                    break
                reply.add_answer(RR(name, QTYPE.CNAME, ttl=1,
                                    rdata=CNAME(cname[0])))
                name = self.key(cname[0])
            for v in self.records.get((name, qtype), []):
                reply.add_answer(RR(name, getattr(QTYPE, qtype), ttl=1,
                                    rdata=self.rdata(qtype, v)))
            exists = any(k[0] == name for k in self.records)
        if not reply.rr and not exists:
            reply.header.rcode = RCODE.NXDOMAIN
        return reply


class Handler512(DNSHandler):
    """UDP answers over 512 bytes go out truncated (TC): the client must
    ask again over TCP, as with a classic DNS server."""
    udplen = 512


class DNSFixture:
    def __init__(self):
        self.zone = Zone()
        # UDP and TCP on the same port: the UDP port the kernel picks may
        # be taken for TCP (a sink's listener, a connection's local
        # port); pick again then.
        for attempt in range(20):
            self.udp = DNSServer(self.zone, port=0, address="127.0.0.1",
                                 handler=Handler512)
            self.port = self.udp.server.server_address[1]
            try:
                self.tcp = DNSServer(self.zone, port=self.port,
                                     address="127.0.0.1", tcp=True)
                break
            except OSError:
                self.udp.server.server_close()
                if attempt == 19:
                    raise
        # A short poll interval: stopping is then quick, not 0.5 s each.
        for srv in (self.udp, self.tcp):
            threading.Thread(target=srv.server.serve_forever,
                             kwargs={"poll_interval": 0.02},
                             daemon=True).start()

    def __getattr__(self, name):
        return getattr(self.zone, name)

    def config(self):
        return f"resolver 127.0.0.1 port {self.port}\n"

    def stop(self):
        for srv in (self.udp, self.tcp):
            srv.server.shutdown()
            srv.server.server_close()


@pytest.fixture
def dns():
    d = DNSFixture()
    yield d
    d.stop()


def _selftest():
    d = DNSFixture()
    d.txt("example.com", "hello")
    q = DNSRecord.question("example.com", "TXT")
    print(DNSRecord.parse(q.send("127.0.0.1", d.port, timeout=2)))
    d.stop()


if __name__ == "__main__":
    _selftest()
