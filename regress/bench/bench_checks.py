#!/usr/bin/python3
"""Benchmark of the domain checks (issue 4): 10,000 authorized domains
checked once against a DNS server on loopback.

    /usr/bin/python3 regress/bench/bench_checks.py build [options]

Goal: the whole set well inside one 60-minute interval (`checks every 60m`)
with at most 50 DNS questions in flight (`checks concurrency 50`), and lka
under 64 MiB.

How:
1. A first sendgated on temporary directories creates and migrates the
   state database; `sendgatectl connector add` and `domain add -j` give one
   real authorization with its two DKIM keys.  The daemon is stopped.
2. sqlite3 adds the other authorizations (dN.bench.example, verified, due
   at once) with copies of the two dkim_key rows: the same public keys, so
   no 10,000 RSA keys are generated.
3. A DNS responder on 127.0.0.1 (a child process of this script: a table
   of precomputed answer sections keyed by question, the query's id and
   question copied in; optionally every answer held back a fixed latency)
   serves each domain's verification TXT and SPF record, the relay's SPF
   include, both DKIM records and a DMARC record.
4. For each latency: a fresh copy of the database, sendgated started,
   lka's progress polled in the database (read-only) until every
   authorization has been checked once.  Measured: time from "ready" to the
   last check, domains/s, DNS questions, the most questions the responder
   held unanswered at once (= lka's questions in flight when answers are
   delayed), lka's VmHWM/VmRSS, CPU of lka and of the responder, and the
   results (verified, spf pass with the include, dkim ok).
5. The peer, run in the same invocation: a minimal client asking the same
   questions of the same responder with the same 50 in flight: the DNS
   capacity lka could use, which the ratio compares with.

Loopback only: the daemon's resolver is always the responder (during setup
a socket that never answers); nothing reads resolv.conf.  Every wait is
bounded; the daemon, the responder and the temporary directory are removed
even on failure.  Exit status 1 if a run timed out, a result is wrong or a
goal is missed.
"""
import argparse
import collections
import json
import os
import secrets
import select
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time

CONNECTOR = "bench"
ZONE = "bench.example"          # not a special-use name: libunbound asks
INCLUDE = "_spf.relay.bench"
RELAY_IP = "192.0.2.10"
INCLUDE_TXT = "v=spf1 ip4:192.0.2.0/24 -all"
SPF_TXT = f"v=spf1 include:{INCLUDE} ~all"
DMARC_TXT = "v=DMARC1; p=none"
PREFIX = "sendgate"             # verification prefix (the default)
SELECTORS = ("sendgate-rsa", "sendgate-ed25519")
TTL = 300
GOAL_INTERVAL_S = 3600
GOAL_INFLIGHT = 50
GOAL_MEM_KIB = 64 * 1024
EXPECTED_SCHEMA = 2

READY_TIMEOUT = 30
CTL_TIMEOUT = 60
STOP_TIMEOUT = 20
T_TXT, T_OPT = 16, 41


def log(msg):
    print(msg, flush=True)


def domain_name(i):
    return f"d{i}.{ZONE}"


# ------------------------------------------------------------ DNS responder

def wire_name(name):
    out = b""
    for label in name.rstrip(".").lower().split("."):
        b = label.encode()
        assert 0 < len(b) < 64, name
        out += bytes([len(b)]) + b
    return out + b"\0"


def wire_text(wname):
    out, i = [], 0
    while wname[i]:
        out.append(wname[i + 1:i + 1 + wname[i]].decode())
        i += wname[i] + 1
    return ".".join(out)


def txt_rdata(value):
    b = value.encode()
    chunks = [b[i:i + 255] for i in range(0, len(b), 255)] or [b""]
    return b"".join(bytes([len(c)]) + c for c in chunks)


def zone_records(spec):
    """(name, TXT value) of everything the responder serves."""
    yield INCLUDE, INCLUDE_TXT
    for name, token in spec["domains"]:
        yield name, f"{PREFIX}-verification={token}"
        yield name, SPF_TXT
        for selector, value in spec["dkim"]:
            yield f"{selector}._domainkey.{name}", value
        yield f"_dmarc.{name}", DMARC_TXT


def build_table(spec):
    """question (wire name + qtype) -> (ancount, answer section); names."""
    rrs = collections.defaultdict(list)
    for name, value in zone_records(spec):
        rrs[wire_name(name)].append(txt_rdata(value))
    table, names = {}, set(rrs)
    for wname, rdatas in rrs.items():
        body = b"".join(b"\xc0\x0c" + struct.pack("!HHIH", T_TXT, 1, TTL,
                                                  len(rd)) + rd
                        for rd in rdatas)
        # Fits in 512 bytes with the longest question: never truncated.
        assert 12 + len(wname) + 4 + len(body) + 11 <= 512, wname
        table[wname + struct.pack("!H", T_TXT)] = (len(rdatas), body)
    return table, names


OPT_RR = b"\x00" + struct.pack("!HHIH", T_OPT, 1232, 0, 0)


def dns_answer(q, table, names, counts):
    """(question, response) for one query, or None if it is not one."""
    if len(q) < 17:
        return None
    qid, flags, qd, _an, _ns, ar = struct.unpack_from("!HHHHHH", q)
    if flags & 0x8000 or (flags >> 11) & 0xF or qd != 1:
        return None
    i = 12
    while q[i] != 0:
        if q[i] & 0xC0:
            return None
        i += q[i] + 1
        if i >= len(q):
            return None
    end = i + 1
    if end + 4 > len(q):
        return None
    wname = q[12:end].lower()
    key = wname + q[end:end + 2]
    hit = table.get(key)
    if hit is not None:
        rcode, (an, body) = 0, hit
        counts["answer"] += 1
    elif wname in names:
        rcode, an, body = 0, 0, b""
        counts["nodata"] += 1
    else:
        rcode, an, body = 3, 0, b""
        counts["nxdomain"] += 1
    opt = OPT_RR if ar else b""
    rflags = 0x8480 | (flags & 0x0100) | rcode     # QR AA RA, RD copied
    return key, struct.pack("!HHHHHH", qid, rflags, 1, an, 0,
                            1 if opt else 0) + q[12:end + 4] + body + opt


def cpu_self():
    t = os.times()
    return t.user + t.system


def serve_dns(spec_path):
    """Child process: answer on 127.0.0.1 until stdin closes (or the
    bound); then print statistics as JSON."""
    with open(spec_path) as f:
        spec = json.load(f)
    latency = spec["latency_ms"] / 1000.0
    table, names = build_table(spec)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    print(f"port {sock.getsockname()[1]}", flush=True)
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    poller.register(0, select.POLLIN)
    counts = collections.Counter()
    # Answers held back: (due, question, response, addr), in due order.
    # lka's questions in flight are the distinct questions held: a
    # retransmission by libunbound (its timer is shorter than the delay)
    # is the same question again.
    held = collections.deque()
    held_q = collections.Counter()
    seen = set()
    again = collections.Counter()
    max_held = max_held_dgrams = max_batch = 0
    first = last = None
    cpu0 = cpu_self()
    bound = time.monotonic() + spec["max_seconds"]
    stop = False
    while not stop and time.monotonic() < bound:
        wait = 500
        if held:
            wait = max(0, int((held[0][0] - time.monotonic()) * 1000) + 1)
        for fd, _ev in poller.poll(wait):
            if fd == 0:
                stop = True
        now = time.monotonic()
        batch = []
        while len(batch) < 4096:
            try:
                q, addr = sock.recvfrom(4096)
            except BlockingIOError:
                break
            counts["queries"] += 1
            a = dns_answer(q, table, names, counts)
            if a is None:
                counts["bad"] += 1
                continue
            if a[0] in seen:
                counts["repeated"] += 1
                again[a[0]] += 1
            seen.add(a[0])
            held_q[a[0]] += 1
            batch.append((now + latency, a[0], a[1], addr))
        if batch:
            if first is None:
                first = now
            last = now
            max_batch = max(max_batch, len({b[1] for b in batch}))
        held.extend(batch)
        max_held = max(max_held, len(held_q))
        max_held_dgrams = max(max_held_dgrams, len(held))
        now = time.monotonic()
        while held and held[0][0] <= now:
            _due, key, r, addr = held.popleft()
            held_q[key] -= 1
            if held_q[key] == 0:
                del held_q[key]
            try:
                sock.sendto(r, addr)
                counts["sent"] += 1
            except OSError:
                counts["send_failed"] += 1
    stats = dict(counts)
    stats.update(max_held=max_held, max_held_dgrams=max_held_dgrams,
                 max_batch=max_batch, distinct=len(seen), first=first,
                 again=[[wire_text(k[:-2]), n]
                        for k, n in again.most_common(3)],
                 last=last, cpu=cpu_self() - cpu0)
    print(json.dumps(stats), flush=True)


class Responder:
    """The DNS responder as a child process of this script."""

    def __init__(self, base, spec, latency_ms, max_seconds):
        spec = dict(spec, latency_ms=latency_ms, max_seconds=max_seconds)
        path = os.path.join(base, f"zone-{latency_ms}.json")
        with open(path, "w") as f:
            json.dump(spec, f)
        self.latency_ms = latency_ms
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--serve-dns", path],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        r, _, _ = select.select([self.proc.stdout], [], [], 60)
        line = self.proc.stdout.readline() if r else ""
        if not line.startswith("port "):
            self.stop()
            raise RuntimeError(f"DNS responder did not start: {line!r}")
        self.port = int(line.split()[1])
        self.pid = self.proc.pid

    def stop(self):
        """Statistics of the responder (None if it failed)."""
        if self.proc.poll() is not None:
            return None
        try:
            out, _ = self.proc.communicate(timeout=10)   # closes stdin
            return json.loads(out.strip().splitlines()[-1])
        except (subprocess.TimeoutExpired, ValueError, IndexError):
            self.proc.kill()
            self.proc.wait()
            return None


# ------------------------------------------------- the peer: a bare client

def raw_client(port, questions, inflight, bound_s):
    """Ask every question of the responder with at most `inflight`
    outstanding (one UDP socket, ids in the header); no caching, no
    evaluation.  (answers, questions, seconds, CPU seconds): the DNS
    capacity the checks could use at that concurrency."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    todo = collections.deque(enumerate(questions))
    out = {}
    answers = 0
    cpu0 = cpu_self()
    t0 = time.monotonic()
    deadline = t0 + bound_s
    while (todo or out) and time.monotonic() < deadline:
        while todo and len(out) < inflight:
            i, (name, qtype) = todo.popleft()
            qid = i & 0xFFFF
            sock.send(struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
                      + wire_name(name) + struct.pack("!HH", qtype, 1))
            out[qid] = time.monotonic()
        r, _, _ = select.select([sock], [], [], 1.0)
        if not r:
            # Lost on loopback: count as unanswered, move on.
            out.clear()
            continue
        while True:
            try:
                resp = sock.recv(4096)
            except BlockingIOError:
                break
            if out.pop(struct.unpack_from("!H", resp)[0], None) is not None:
                answers += 1
    secs = time.monotonic() - t0
    sock.close()
    return answers, len(questions), secs, cpu_self() - cpu0


# --------------------------------------------------------------- sendgated

class Daemon:
    def __init__(self, build, base, name):
        self.sendgated = os.path.join(build, "sendgated")
        self.sendgatectl = os.path.join(build, "sendgatectl")
        self.base = base
        self.conf = os.path.join(base, f"{name}.conf")
        self.log = os.path.join(base, f"{name}.log")
        self.socket = os.path.join(base, "sendgated.sock")
        self.dirs = {d: os.path.join(base, d)
                     for d in ("queue", "state", "keys", "empty")}
        self.proc = None
        self.logf = None

    def write_conf(self, dns_port, concurrency):
        d = self.dirs
        with open(self.conf, "w") as f:
            f.write(f"""# bench_checks.py
hostname relay.{ZONE}
queue "{d['queue']}"
state "{d['state']}"
keys "{d['keys']}"
empty "{d['empty']}"
socket "{self.socket}"
resolver 127.0.0.1 port {dns_port}
relay address {RELAY_IP}
spf include {INCLUDE}
checks every 60m
checks concurrency {concurrency}
""")

    def start(self):
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen([self.sendgated, "-d", "-f", self.conf],
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=self.logf)
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sendgated exited {self.proc.returncode}"
                                   f":\n{self.logtext()}")
            if "ready," in self.logtext():
                return time.monotonic()
            time.sleep(0.02)
        raise RuntimeError("sendgated not ready:\n" + self.logtext())

    def logtext(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def ctl(self, *args, json_out=False):
        cmd = [self.sendgatectl, "-s", self.socket]
        if json_out:
            cmd.append("-j")
        r = subprocess.run(cmd + list(args), capture_output=True, text=True,
                           timeout=CTL_TIMEOUT)
        if r.returncode != 0:
            raise RuntimeError(f"sendgatectl {' '.join(args)}: {r.stderr}")
        return json.loads(r.stdout) if json_out else r.stdout

    def pids(self):
        doc = self.ctl("show", "status", json_out=True)
        return {p["name"]: p["pid"] for p in doc["processes"]}

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.logf is not None:
            self.logf.close()
            self.logf = None


# ----------------------------------------------------------------- /proc

def proc_mem_kib(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmHWM", "VmRSS"):
                out[k] = int(v.split()[0])
    return out


def proc_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime, stime: fields 14 and 15 of stat(5); [0] here is field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ----------------------------------------------------------------- set up

def populate(base, build, ndomains):
    """The state database with ndomains verified authorizations due now,
    in base/pristine; the zone spec for the responder."""
    setup = Daemon(build, base, "setup")
    # A resolver that never answers: nothing leaves the machine.
    mute = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    mute.bind(("127.0.0.1", 0))
    try:
        setup.write_conf(mute.getsockname()[1], GOAL_INFLIGHT)
        setup.start()
        setup.ctl("connector", "add", CONNECTOR)
        doc = setup.ctl("domain", "add", CONNECTOR, domain_name(0),
                        json_out=True)
    finally:
        setup.stop()
        mute.close()
    token0 = doc["domain"]["token"]
    dkim = {r["host"].split(".", 1)[0]: r["value"] for r in doc["records"]
            if r["purpose"] == "dkim"}
    if sorted(dkim) != sorted(SELECTORS):
        raise RuntimeError(f"domain add printed DKIM records {sorted(dkim)}")

    state = setup.dirs["state"]
    db = os.path.join(state, "sendgate.db")
    st = os.stat(state)
    now = int(time.time())
    tokens = [token0] + [secrets.token_hex(20) for _ in range(1, ndomains)]
    con = sqlite3.connect(db)
    try:
        (version,) = con.execute("PRAGMA user_version").fetchone()
        if version != EXPECTED_SCHEMA:
            raise RuntimeError(f"schema version {version}, the bench "
                               f"knows {EXPECTED_SCHEMA}")
        (cid,) = con.execute("SELECT id FROM connector WHERE name = ?",
                             (CONNECTOR,)).fetchone()
        keys = con.execute("SELECT selector, algorithm, public_key "
                           "FROM dkim_key WHERE domain = ?",
                           (domain_name(0),)).fetchall()
        if sorted(k[0] for k in keys) != sorted(SELECTORS):
            raise RuntimeError(f"dkim_key rows: {keys!r}")
        with con:
            con.executemany(
                "INSERT INTO domain (connector, name, token, state, created,"
                " state_since) VALUES (?, ?, ?, 'verified', ?, ?)",
                ((cid, domain_name(i), tokens[i], now, now)
                 for i in range(1, ndomains)))
            con.executemany(
                "INSERT INTO dkim_key (domain, selector, algorithm,"
                " public_key, created) VALUES (?, ?, ?, ?, ?)",
                ((domain_name(i), sel, alg, pub, now)
                 for i in range(1, ndomains) for sel, alg, pub in keys))
            # Every authorization verified, never checked, due at once
            # (d0's check at `domain add` met the mute resolver).
            con.execute("UPDATE domain SET state = 'verified', "
                        "state_since = ?, last_check = 0, next_check = 0, "
                        "failing_since = 0, diag = '', spf = '', "
                        "spf_diag = '', spf_include = 0, dkim = '', "
                        "dkim_diag = '', dmarc_diag = ''", (now,))
        (n,) = con.execute("SELECT count(*) FROM domain").fetchone()
        if n != ndomains:
            raise RuntimeError(f"{n} domain rows, want {ndomains}")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    for name in os.listdir(state):
        os.chown(os.path.join(state, name), st.st_uid, st.st_gid)
    pristine = os.path.join(base, "pristine")
    subprocess.run(["cp", "-a", state, pristine], check=True)
    spec = {"domains": [[domain_name(i), tokens[i]]
                        for i in range(ndomains)],
            "dkim": [[s, dkim[s]] for s in SELECTORS]}
    return spec, pristine


def questions_of(spec):
    """What the checks of every domain ask, uncached: the peer's load."""
    q = [(INCLUDE, T_TXT)]
    for name, _token in spec["domains"]:
        q.append((name, T_TXT))
        q += [(f"{s}._domainkey.{name}", T_TXT) for s, _v in spec["dkim"]]
        q.append((f"_dmarc.{name}", T_TXT))
    return q


# -------------------------------------------------------------------- run

def run_checks(base, build, spec, pristine, latency_ms, args):
    """One run: every authorization checked once.  A dict of results."""
    n = len(spec["domains"])
    daemon = Daemon(build, base, f"run-{latency_ms}ms")
    state = daemon.dirs["state"]
    if os.path.exists(state):
        shutil.rmtree(state)
    subprocess.run(["cp", "-a", pristine, state], check=True)
    db = os.path.join(state, "sendgate.db")
    res = {"latency_ms": latency_ms, "domains": n, "ok": False}
    dns = Responder(base, spec, latency_ms, args.timeout + 120)
    ro = None
    try:
        daemon.write_conf(dns.port, args.concurrency)
        t_ready = daemon.start()
        lka = daemon.pids()["lka"]
        mem0 = proc_mem_kib(lka)
        cpu_lka0, cpu_dns0 = proc_cpu(lka), proc_cpu(dns.pid)
        ro = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        peak_rss = mem0["VmRSS"]
        count, t_done, next_poll = 0, None, 0.0
        deadline = t_ready + args.timeout
        while True:
            now = time.monotonic()
            m = proc_mem_kib(lka)
            peak_rss = max(peak_rss, m["VmRSS"])
            if now >= next_poll:
                (count,) = ro.execute("SELECT count(*) FROM domain "
                                      "WHERE last_check > 0").fetchone()
                next_poll = now + 0.25
                if count >= n:
                    t_done = now
                    break
            if not daemon.alive():
                raise RuntimeError("sendgated exited:\n" + daemon.logtext())
            if now > deadline:
                break
            time.sleep(0.05)
        res["checked"] = count
        res["seconds"] = (t_done or time.monotonic()) - t_ready
        res["timed_out"] = t_done is None
        res["cpu_lka"] = proc_cpu(lka) - cpu_lka0
        res["cpu_dns"] = proc_cpu(dns.pid) - cpu_dns0
        m = proc_mem_kib(lka)
        res.update(hwm=m["VmHWM"], rss_end=m["VmRSS"], rss_ready=mem0["VmRSS"],
                   hwm_ready=mem0["VmHWM"], peak_rss=max(peak_rss, m["VmRSS"]))
        res["results"] = ro.execute(
            "SELECT state, spf, spf_include, dkim, count(*) FROM domain "
            "GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC").fetchall()
        res["bad_rows"] = ro.execute(
            "SELECT name, state, diag, spf, spf_diag, dkim, dkim_diag, "
            "dmarc_diag FROM domain WHERE NOT (state = 'verified' AND "
            "spf = 'pass' AND spf_include = 1 AND dkim = 'ok') "
            "ORDER BY id LIMIT 5").fetchall()
        res["sample"] = ro.execute(
            "SELECT name, diag, spf_diag, dkim_diag, dmarc_diag FROM domain "
            "ORDER BY id DESC LIMIT 1").fetchone()
        # Checks finished per second (last_check has 1 s resolution).
        per_s = [c for (c,) in ro.execute(
            "SELECT count(*) FROM domain WHERE last_check > 0 "
            "GROUP BY last_check ORDER BY last_check")]
        res["per_second"] = per_s
        row = ro.execute(
            "SELECT min(next_check - last_check), max(next_check - "
            "last_check), min(next_check), max(next_check) FROM domain "
            "WHERE last_check > 0").fetchone()
        res["next"] = row
        res["warnings"] = [ln for ln in daemon.logtext().splitlines()
                           if "checks:" in ln][:5]
    finally:
        if ro is not None:
            ro.close()
        daemon.stop()
        res["dns"] = dns.stop()
    return res


# ------------------------------------------------------------------ report

def mib(kib):
    return kib / 1024.0


def report(r, peer, args):
    n, secs = r["domains"], r["seconds"]
    d = r["dns"] or {}
    rate = r["checked"] / secs if secs > 0 else 0.0
    full = n / rate if rate > 0 else float("inf")
    lat = r["latency_ms"]
    log(f"\n-- run: DNS answers delayed {lat} ms"
        f"{' (as fast as the responder can)' if lat == 0 else ''}")
    rows = [
        ("authorizations checked", f"{r['checked']} of {n}"
         + ("  (TIMED OUT)" if r["timed_out"] else "")),
        ("time, ready -> last check", f"{secs:.1f} s"),
        ("domains per second", f"{rate:.1f}"),
        ("checks finished per second (median / max)",
         f"{median(r['per_second'])} / {max(r['per_second'] or [0])}"),
        ("DNS questions answered", f"{d.get('sent', '?')}  "
         f"({d.get('sent', 0) / max(r['checked'], 1):.2f} per domain; "
         f"answer {d.get('answer', 0)}, no data {d.get('nodata', 0)}, "
         f"NXDOMAIN {d.get('nxdomain', 0)}; "
         f"{d.get('distinct', '?')} distinct, "
         f"{d.get('repeated', 0)} asked again"
         + (": " + ", ".join(f"{q} {n}x" for q, n in d["again"])
            if d.get("again") else "") + ")"),
        ("most distinct questions held unanswered",
         f"{d.get('max_held', '?')}" + (
             "  (= lka's questions in flight; "
             f"{d.get('max_held_dgrams', '?')} datagrams with "
             "libunbound's retransmissions)" if lat > 0 else
             "  (answers are immediate: a lower bound, the largest burst "
             "read at once)")),
        ("lka VmHWM (peak)", f"{mib(r['hwm']):.1f} MiB  (at ready "
         f"{mib(r['hwm_ready']):.1f} MiB)"),
        ("lka VmRSS ready / peak sampled / end",
         f"{mib(r['rss_ready']):.1f} / {mib(r['peak_rss']):.1f} / "
         f"{mib(r['rss_end']):.1f} MiB"),
        ("lka CPU", f"{r['cpu_lka']:.2f} s = {100 * r['cpu_lka'] / secs:.0f}"
         f" % of one core ({1000 * r['cpu_lka'] / max(r['checked'], 1):.2f}"
         " ms per domain)"),
        ("DNS responder CPU", f"{r['cpu_dns']:.2f} s = "
         f"{100 * r['cpu_dns'] / secs:.0f} % of one core"),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        log(f"  {k:<{width}}  {v}")
    log("  results (state, spf, include found, dkim: count):")
    for st, spf, inc, dkim, c in r["results"]:
        log(f"    {st}, spf {spf or '-'}, include {inc}, dkim "
            f"{dkim or '-'}: {c}")
    for b in r["bad_rows"]:
        log(f"    not as expected: {b!r}")
    if r["sample"]:
        name, diag, spf_diag, dkim_diag, dmarc_diag = r["sample"]
        log(f"  {name}: ownership '{diag}'; spf '{spf_diag}'; dkim "
            f"'{dkim_diag}'; dmarc '{dmarc_diag}'")
    for w in r["warnings"]:
        log(f"  log: {w}")
    lo, hi, nmin, nmax = r["next"]
    if lo is not None:
        log(f"  next checks: {lo / 60:.1f} to {hi / 60:.1f} min after each "
            f"check; the whole set due again within a window of "
            f"{(nmax - nmin) / 60:.1f} min of the 60-min interval")

    ok_results = (len(r["results"]) == 1 and r["results"][0][:4] ==
                  ("verified", "pass", 1, "ok") and r["checked"] == n)
    inflight = d.get("max_held")
    fraction = 100.0 * full / GOAL_INTERVAL_S
    log(f"  => {n} domains in {full:.0f} s = {rate:.0f} domains/s; "
        f"{fraction:.1f} % of the 60-minute interval"
        f" (goal: well inside: {'met' if fraction <= 50 else 'NOT met'})")
    log(f"  => peak lka memory {mib(r['hwm']):.1f} MiB = "
        f"{100.0 * r['hwm'] / GOAL_MEM_KIB:.0f} % of 64 MiB "
        f"(goal: {'met' if r['hwm'] < GOAL_MEM_KIB else 'NOT met'})")
    if inflight is not None:
        verdict = ("met" if inflight <= args.concurrency
                   else "NOT met")
        log(f"  => at most {inflight} questions in flight at the responder "
            f"(cap {args.concurrency}: {verdict})")
    if peer is not None:
        answers, len_q, psecs, pcpu = peer
        qrate = answers / psecs if psecs > 0 else 0.0
        per_domain = d.get("sent", 0) / max(r["checked"], 1) or 4
        log(f"  => peer (bare client, same questions, {args.concurrency} in "
            f"flight): {answers} of {len_q} answered, {qrate:.0f} "
            f"questions/s = "
            f"{qrate / per_domain:.0f} domains/s at lka's {per_domain:.2f} "
            f"questions per domain; lka reaches "
            f"{100.0 * rate / (qrate / per_domain):.1f} % of it"
            f" (client CPU {pcpu:.1f} s)")
    if r["cpu_dns"] > 0.5 * secs:
        log("  !! the responder used over half a core: it may limit the "
            "run")
    goals = (not r["timed_out"] and ok_results and fraction <= 50 and
             r["hwm"] < GOAL_MEM_KIB and
             (inflight is None or inflight <= args.concurrency))
    if not ok_results:
        log("  !! results not as expected (see above)")
    return goals


def median(xs):
    if not xs:
        return 0
    s = sorted(xs)
    return s[len(s) // 2]


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--serve-dns":
        serve_dns(sys.argv[2])
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("build", nargs="?", default="build")
    p.add_argument("--domains", type=int, default=10000)
    p.add_argument("--latency-ms", default="0,20",
                   help="answer delays to run, comma-separated (0,20)")
    p.add_argument("--concurrency", type=int, default=GOAL_INFLIGHT)
    p.add_argument("--timeout", type=int, default=600,
                   help="bound of one run, seconds (600)")
    p.add_argument("--no-peer", action="store_true")
    args = p.parse_args()
    build = os.path.abspath(args.build)
    latencies = [int(x) for x in args.latency_ms.split(",") if x != ""]
    if os.geteuid() != 0:
        log("bench_checks: sendgated must be started as root; skipped")
        return 0
    for exe in ("sendgated", "sendgatectl"):
        if not os.access(os.path.join(build, exe), os.X_OK):
            log(f"bench_checks: {build}/{exe} missing: run make first")
            return 1
    # SIGTERM too goes through the finally clauses below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # Not under pytest's or a 0700 parent: sendgated checks the path.
    base = tempfile.mkdtemp(prefix="sendgate-bench-", dir="/tmp")
    os.chmod(base, 0o755)
    good = True
    try:
        t0 = time.monotonic()
        spec, pristine = populate(base, build, args.domains)
        log(f"bench_checks: {args.domains} authorizations ({len(SELECTORS)}"
            f" DKIM keys each) written in {time.monotonic() - t0:.1f} s; "
            f"checks every 60m, concurrency {args.concurrency}, "
            f"relay address {RELAY_IP}, spf include {INCLUDE}")
        log("DNS: a responder on 127.0.0.1 with precomputed answers "
            "(child process of this script)")
        questions = questions_of(spec)
        for lat in latencies:
            r = run_checks(base, build, spec, pristine, lat, args)
            peer = None
            if not args.no_peer:
                dns = Responder(base, spec, lat, args.timeout + 60)
                try:
                    peer = raw_client(dns.port, questions, args.concurrency,
                                      args.timeout)
                finally:
                    dns.stop()
            good &= report(r, peer, args)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    log("\nbench_checks: " + ("all goals met" if good else
                              "a goal is NOT met or a result is wrong"))
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
