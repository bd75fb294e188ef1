#!/usr/bin/python3
"""Benchmark of SMTP submission: N parallel STARTTLS + AUTH sessions, each
sending M messages of S bytes, against sendgated and, in the same run,
against Postfix configured the same way.

    /usr/bin/python3 regress/bench/bench_submission.py build [options]

Goals (2-core machine, ratios in one run with the same load generator):
accepted messages/s >= 2x Postfix's; sendgated's memory per idle session
<= 32 KiB (RSS growth of all its processes for 1,000 idle connections);
p99 accept latency <= 50 ms at 20 sessions.

How:
1. Outside any namespace: postfix and sasl2-bin are installed with
   apt-get if missing (the only step that may use the network).  Then the
   script re-executes itself in a private network namespace that has only
   `lo`, and a private mount namespace in which /etc/resolv.conf and
   /etc/hosts are the bench's own (nameserver 127.0.0.1): Postfix resolves
   names by itself; nothing can leave the machine.
2. One self-signed certificate for both servers: RSA-2048, or ECDSA P-256
   with --cert ecdsa.
3. sendgated from the build directory on a temporary directory, its
   resolver the loopback DNS fixture of the integration tests; `connector
   add bench` gives the SMTP user and password, `domain add bench
   bench.example` the records, which are published in the fixture;
   `domain check` until `domain show` says verified.  Session limits and
   the connector's rate limits are raised so that they do not count.
4. sendgated: idle sessions first (on a fresh daemon): the RSS of all its
   processes before and while smtpload holds K connections after banner
   and EHLO (and, informational, K sessions after STARTTLS + AUTH); then a
   probe message, a warm-up, and the measured runs.
5. Postfix (its own config, queue and data directories, `postfix -c DIR
   start-fg`, see postfix_peer.py): probe, warm-up, measured runs, and
   optionally the PSS of a few idle sessions.
6. The load generator is smtpload (C, one thread per session, built by
   `make bench-tools`; TLS through its own TLS 1.3 client tlsmini.c,
   --tls gnutls|openssl for a library); its
   CPU time is reported against the run's wall time and the machine's
   busy time.

Every wait is bounded, the whole run too (--max-seconds); sendgated,
Postfix (its whole process tree), the generator and the temporary
directory are removed even on failure.  Exit status 1 if a run failed or
a goal is missed.
"""
import argparse
import fcntl
import json
import os
import resource
import secrets
import select
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(TOP, "regress", "integration"))

import postfix_peer  # noqa: E402

CONNECTOR = "bench"
DOMAIN = "bench.example"
SENDER = f"load@{DOMAIN}"
RECIPIENT = "sink@example.net"
HELO = f"load.{DOMAIN}"

GOAL_RATIO = 2.0
GOAL_IDLE_KIB = 32.0
GOAL_P99_MS = 50.0

READY_TIMEOUT = 30
CTL_TIMEOUT = 60
STOP_TIMEOUT = 20
VERIFY_TIMEOUT = 60
NS_ENV = "SENDGATE_BENCH_NETNS"


class Deadline(Exception):
    pass


def log(msg=""):
    print(msg, flush=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ----------------------------------------------------------------- /proc

def all_ppids():
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
            out[int(name)] = int(rest[1])
        except (OSError, IndexError, ValueError):
            pass
    return out


def tree_of(root):
    """root and its descendants (pids)."""
    ppids = all_ppids()
    pids, todo = [], [root]
    while todo:
        p = todo.pop()
        if p in ppids or p == root:
            pids.append(p)
        todo += [c for c, pp in ppids.items() if pp == p and c not in pids]
    return pids


def proc_name(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
        s = b" ".join(a for a in argv if a).decode("utf-8", "replace")
        return s or "?"
    except OSError:
        return "?"


def mem_kib(pid):
    """(RSS, PSS) in KiB; (0, 0) if it is gone."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return rss, pss


def tree_mem(root):
    """{pid: (name, rss, pss)} of a process tree."""
    return {p: (proc_name(p),) + mem_kib(p) for p in tree_of(root)}


def proc_cpu(pid, children=True):
    """CPU seconds of a process (and of its reaped children)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # utime stime cutime cstime: fields 14-17 of stat(5); [0] is field 3.
    t = int(rest[11]) + int(rest[12])
    if children:
        t += int(rest[13]) + int(rest[14])
    return t / os.sysconf("SC_CLK_TCK")


def tree_cpu(root):
    return sum(proc_cpu(p) for p in tree_of(root))


def machine_busy():
    """Busy CPU seconds of the whole machine (all CPUs), from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return (sum(v[:8]) - idle) / os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------ generator

class Load:
    """The smtpload binary and the options common to both peers."""

    def __init__(self, path, args):
        self.path = path
        self.args = args

    def common(self, port, user, password, sender=SENDER):
        return [self.path, "-H", "127.0.0.1", "-p", str(port),
                "-u", user, "-w", password, "-f", sender, "-r", RECIPIENT,
                "-e", HELO, "-T", str(self.args.read_timeout * 1000)] + (
                    GEN_TLS_FLAG[getattr(self.args, "gen_tls", "openssl")])

    def send_cmd(self, port, user, password, sessions, total,
                 per_conn=None, deadline=None, sender=SENDER):
        deadline = deadline or self.args.run_timeout
        return self.common(port, user, password, sender) + [
            "-n", str(sessions), "-m", str(per_conn or self.args.per_conn),
            "-t", str(total), "-s", str(self.args.size),
            "-D", str(deadline), "send"]

    def send(self, port, user, password, sessions, total, per_conn=None,
             deadline=None):
        deadline = deadline or self.args.run_timeout
        cmd = self.send_cmd(port, user, password, sessions, total,
                            per_conn, deadline)
        # SMTPLOAD_WRAP="strace -f -tt -o FILE" and the like, to debug.
        cmd = os.environ.get("SMTPLOAD_WRAP", "").split() + cmd
        r = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=deadline + 30)
        try:
            return json.loads(r.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise RuntimeError(f"smtpload: exit {r.returncode}: "
                               f"{r.stdout} {r.stderr}")

    def idle(self, port, user, password, count, tls):
        cmd = self.common(port, user, password) + [
            "-k", str(count), "-h", str(self.args.run_timeout),
            "-D", str(self.args.run_timeout)]
        if tls:
            cmd.append("-I")
        return IdleSessions(subprocess.Popen(
            cmd + ["idle"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True), self.args.run_timeout)


class IdleSessions:
    """smtpload idle: wait for "ready", then close stdin to end it."""

    def __init__(self, proc, timeout):
        self.proc = proc
        self.timeout = timeout

    def wait_ready(self):
        r, _, _ = select.select([self.proc.stdout], [], [],
                                self.timeout + 10)
        line = self.proc.stdout.readline() if r else ""
        if not line.startswith("ready "):
            self.kill()
            raise RuntimeError(f"smtpload idle: no ready line: {line!r}")
        _, ok, failed = line.split()
        return int(ok), int(failed)

    def finish(self):
        try:
            out, err = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.kill()
            raise RuntimeError("smtpload idle did not end")
        try:
            return json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise RuntimeError(f"smtpload idle: {out} {err}")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


# --------------------------------------------------------------- sendgated

class Daemon:
    """sendgated from the build directory on base/NAME-<random> (sg)."""

    pause_mta = True
    # The connector rate limits (`limit messages|recipients N per
    # minute|hour|day`): 0, none (bench_rate.py sets them).
    rate_limit = 0
    # False: if this build refuses the raised limits, run without them
    # (noted); True: fail instead.
    strict_conf = False

    def __init__(self, build, base, cert, key, port, dns_port, name="sg",
                 extra=()):
        self.sendgated = os.path.join(build, "sendgated")
        self.extra = list(extra)    # more configuration lines
        self.sendgatectl = os.path.join(build, "sendgatectl")
        self.name = name
        self.top = os.path.join(base, unique_name(name))
        os.makedirs(self.top)
        os.chmod(self.top, 0o755)
        self.conf = os.path.join(self.top, "sendgated.conf")
        self.log = os.path.join(self.top, "sendgated.log")
        self.socket = os.path.join(self.top, "sendgated.sock")
        self.dirs = {d: os.path.join(self.top, d)
                     for d in ("queue", "state", "keys", "empty")}
        self.cert, self.key = cert, key
        self.port, self.dns_port = port, dns_port
        self.proc = None
        self.logf = None
        self.notes = []

    def conf_text(self, limits):
        d = self.dirs
        text = f"""# bench_submission.py
hostname relay.{DOMAIN}
queue "{d['queue']}"
state "{d['state']}"
keys "{d['keys']}"
empty "{d['empty']}"
socket "{self.socket}"
pki bench cert "{self.cert}" key "{self.key}"
listen on 127.0.0.1 port {self.port} tls pki bench
resolver 127.0.0.1 port {self.dns_port}
verification prefix sendgate
"""
        if limits:
            # The bench opens up to 1,000 idle sessions from 127.0.0.1 and
            # sends thousands of messages a minute from one connector.
            text += ("smtp limit sessions 3000\n"
                     "smtp limit sessions-per-address 3000\n")
            for kind in ("messages", "recipients"):
                for window in ("minute", "hour", "day"):
                    text += (f"limit {kind} {self.rate_limit} per "
                             f"{window}\n")
            if self.pause_mta:
                # Accepted mail stays queued, as Postfix discards it: the
                # acceptance is compared, not delivery (bench_delivery.py
                # measures that); otherwise the mta would try the MX of
                # example.net and bounce every message.
                text += "mta paused\n"
        for line in self.extra:
            text += line + "\n"
        return text

    def write_conf(self):
        """The configuration with raised limits, or without the limit
        statements this build does not know (noted)."""
        for limits in (True, False):
            with open(self.conf, "w") as f:
                f.write(self.conf_text(limits))
            r = subprocess.run([self.sendgated, "-n", "-f", self.conf],
                               capture_output=True, text=True,
                               timeout=CTL_TIMEOUT)
            if r.returncode == 0:
                if not limits:
                    self.notes.append(
                        "this sendgated refuses the raised limits; ran "
                        f"with the defaults ({first_line(err)})")
                return
            err = r.stderr.strip() or r.stdout.strip()
            if self.strict_conf:
                break
        raise RuntimeError(f"sendgated -n: {err}")

    def start(self):
        self.write_conf()
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [self.sendgated, "-d", "-f", self.conf],
            stdin=subprocess.DEVNULL, stdout=self.logf, stderr=self.logf)
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sendgated exited {self.proc.returncode}"
                                   f":\n{self.logtext()}")
            if "ready," in self.logtext():
                return
            time.sleep(0.02)
        raise RuntimeError("sendgated not ready:\n" + self.logtext())

    def logtext(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def ctl(self, *args):
        r = subprocess.run([self.sendgatectl, "-s", self.socket, "-j"] +
                           list(args), capture_output=True, text=True,
                           timeout=CTL_TIMEOUT)
        if r.returncode != 0:
            raise RuntimeError(f"sendgatectl {' '.join(args)}: "
                               f"{r.stderr.strip()}")
        return json.loads(r.stdout)

    def queued(self):
        n = 0
        for _root, _dirs, files in os.walk(self.dirs["queue"]):
            n += len(files)
        return n

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            pids = tree_of(self.proc.pid)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            for p in pids:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self.logf is not None:
            self.logf.close()
            self.logf = None


def first_line(s):
    return (s or "").strip().splitlines()[0] if (s or "").strip() else ""


def sendgated_sender(daemon, dns):
    """connector add + domain add + records published + verified: the
    SMTP user and password."""
    creds = daemon.ctl("connector", "add", CONNECTOR)["credentials"]
    doc = daemon.ctl("domain", "add", CONNECTOR, DOMAIN)
    for rec in doc["records"]:
        if rec["type"] == "TXT":
            dns.txt(rec["host"], rec["value"])
    deadline = time.monotonic() + VERIFY_TIMEOUT
    state = "?"
    while time.monotonic() < deadline:
        daemon.ctl("domain", "check", DOMAIN)
        show = daemon.ctl("domain", "show", DOMAIN)
        rows = [a for a in show["authorizations"]
                if a["connector"] == CONNECTOR]
        state = rows[0]["state"] if rows else "?"
        if state == "verified":
            return creds["username"], creds["password"]
        time.sleep(0.5)
    raise RuntimeError(f"{DOMAIN} not verified after {VERIFY_TIMEOUT} s "
                       f"(state {state})")


# ----------------------------------------------------------------- runs

def measured_run(load, port, user, password, root_of, args):
    """One run of the generator; MTA CPU from its process tree (reaped
    children included) and the machine's busy time."""
    root = root_of()
    cpu0, busy0 = tree_cpu(root), machine_busy()
    r = load.send(port, user, password, args.sessions, args.messages)
    r["mta_cpu_s"] = tree_cpu(root) - cpu0
    r["busy_s"] = machine_busy() - busy0
    return r


def prepare_peer(name, load, port, user, password, root_of, result,
                 args):
    """Probe and warm-up of one peer; a peer for measure(), or None (and
    result["error"]) if it cannot take mail."""
    probe = load.send(port, user, password, 1, 1, per_conn=1, deadline=60)
    result["probe"] = probe
    if probe["ok"] != 1:
        result["error"] = probe["first_error"] or "probe message failed"
        log(f"  {name}: the probe message failed: {result['error']}")
        return None
    warm = min(args.messages, max(args.sessions * args.per_conn, 100))
    w = load.send(port, user, password, args.sessions, warm)
    log(f"  {name}: warm-up {w['ok']}/{warm} messages, "
        f"{w['msgs_per_s']:.0f}/s")
    return {"name": name, "port": port, "user": user,
            "password": password, "root_of": root_of, "result": result}


def settle(seconds, ncpu, quiet_pct=15):
    """Before a measured run: wait (at most seconds) for a second in which
    the machine is at most quiet_pct busy, so that the previous run's tail
    (Postfix discarding what it accepted) or other work on a shared
    machine is not measured.  The busy share of the last second.
    First, sync: a Postfix run leaves up to ~2 MB of dirty metadata (its
    queue files come and go), and sendgated's queue syncs the whole file
    system (syncfs) where Postfix syncs its own files only, so the next
    sendgated run would write Postfix's leftovers."""
    end = time.monotonic() + seconds
    os.sync()
    while True:
        b0 = machine_busy()
        time.sleep(1.0)
        pct = 100 * (machine_busy() - b0) / ncpu
        if pct <= quiet_pct or time.monotonic() >= end:
            if pct > quiet_pct:
                log(f"  (the machine stayed {pct:.0f} % busy for "
                    f"{seconds} s before this run: other load)")
            return pct


def measure(peers, load, args):
    """The measured runs, interleaved: run 1 of each peer, then run 2 in
    the other order, and so on (ABBA...).  This machine's speed drifts by
    a quarter within minutes; measured one peer after the other, a slow
    phase fell on one of them alone and moved the ratio by as much."""
    ncpu = os.cpu_count() or 1
    for i in range(args.reps):
        for peer in (peers if i % 2 == 0 else peers[::-1]):
            settle(args.settle, ncpu)
            r = measured_run(load, peer["port"], peer["user"],
                             peer["password"], peer["root_of"], args)
            peer["result"]["runs"].append(r)
            log(f"  {peer['name']}: run {i + 1}: {r['ok']}/{r['messages']}"
                f" accepted in {r['wall_s']:.2f} s = "
                f"{r['msgs_per_s']:.1f}/s, p50 {r['lat_ms']['p50']:.1f} ms,"
                f" p99 {r['lat_ms']['p99']:.1f} ms, MTA CPU "
                f"{r['mta_cpu_s']:.2f} s, generator CPU {r['cpu_s']:.2f} s"
                f" (user {r['cpu_user_s']:.2f}, sys {r['cpu_sys_s']:.2f})"
                + (f", FAILED {r['failed']}: {r['first_error']}"
                   if r["failed"] else ""))


def idle_step(load, port, user, password, count, tls, root):
    """RSS and PSS of a process tree before and while `count` sessions
    sit idle (banner + EHLO, or also STARTTLS + AUTH)."""
    time.sleep(0.5)
    before = tree_mem(root)
    sess = load.idle(port, user, password, count, tls)
    try:
        ok, failed = sess.wait_ready()
        time.sleep(1.0)          # let the server finish its side
        during = tree_mem(root)
    finally:
        # Closes stdin: the generator closes every connection and prints.
        res = sess.finish() if sess.proc.poll() is None else {}
    rss0 = sum(v[1] for v in before.values())
    pss0 = sum(v[2] for v in before.values())
    rss1 = sum(v[1] for v in during.values())
    pss1 = sum(v[2] for v in during.values())
    grew = []
    for p, (name, rss, pss) in during.items():
        b = before.get(p, (name, 0, 0))
        if rss - b[1] > 256 or p not in before:
            grew.append((name[:60], b[1], rss))
    return {"sessions": count, "tls": tls, "opened": ok, "failed": failed,
            "closed_by_server": res.get("closed_by_server"),
            "first_error": res.get("first_error"),
            "procs_before": len(before), "procs_during": len(during),
            "rss_before": rss0, "rss_during": rss1,
            "pss_before": pss0, "pss_during": pss1,
            "rss_per_session": (rss1 - rss0) / max(ok, 1),
            "pss_per_session": (pss1 - pss0) / max(ok, 1),
            "grew": grew[:8]}


def report_idle(name, m):
    kind = "after STARTTLS + AUTH" if m["tls"] else "banner + EHLO"
    log(f"  {name}: {m['opened']} idle sessions ({kind}; "
        f"{m['failed']} failed"
        + (f": {m['first_error']}" if m["failed"] else "")
        + f"): RSS {m['rss_before']} -> {m['rss_during']} KiB, PSS "
        f"{m['pss_before']} -> {m['pss_during']} KiB, processes "
        f"{m['procs_before']} -> {m['procs_during']}: "
        f"{m['rss_per_session']:.1f} KiB RSS, {m['pss_per_session']:.1f} "
        "KiB PSS per session")
    for pname, b, a in m["grew"][:4]:
        log(f"    {pname[:40]}: RSS {b} -> {a} KiB")


def median_run(runs):
    """The run with the median rate (the lower middle one)."""
    good = sorted(runs, key=lambda r: r["msgs_per_s"])
    return good[(len(good) - 1) // 2] if good else None


def summarize(name, res, args, ncpu):
    """Lines about a peer's runs; the summary dict."""
    runs = res["runs"]
    if not runs:
        return None
    m = median_run(runs)
    rates = [r["msgs_per_s"] for r in runs]
    gen = statistics.median(r["cpu_s"] for r in runs)
    wall = m["wall_s"]
    s = {
        "msgs_per_s": statistics.median(rates),
        "rates": rates,
        "p50_ms": m["lat_ms"]["p50"], "p99_ms": m["lat_ms"]["p99"],
        "max_ms": m["lat_ms"]["max"],
        "failed": sum(r["failed"] for r in runs),
        "first_error": next((r["first_error"] for r in runs
                             if r["first_error"]), ""),
        "mta_cpu_ms_per_msg": 1000 * m["mta_cpu_s"] / max(m["ok"], 1),
        "gen_cpu_s": m["cpu_s"],
        "gen_core_pct": 100 * m["cpu_s"] / wall if wall else 0,
        "gen_busy_pct": 100 * m["cpu_s"] / m["busy_s"] if m["busy_s"]
        else 0,
        "busy_pct": 100 * m["busy_s"] / (wall * ncpu) if wall else 0,
        "mta_cpu_s": m["mta_cpu_s"],
        "tls": m["tls"],
        # CPU of neither the server nor the generator: other load on the
        # machine (the bench's own Python is a few %).
        "other_pct": 100 * max(0.0, m["busy_s"] - m["mta_cpu_s"] -
                               m["cpu_s"]) / (wall * ncpu) if wall else 0,
    }
    log(f"-- {name}: {statistics.median(rates):.1f} msgs/s (median of "
        f"{len(runs)}: {', '.join(f'{x:.0f}' for x in rates)}); accept "
        f"latency p50 {s['p50_ms']:.1f} ms, p99 {s['p99_ms']:.1f} ms, max "
        f"{s['max_ms']:.1f} ms; MTA CPU {s['mta_cpu_s']:.2f} s = "
        f"{s['mta_cpu_ms_per_msg']:.2f} ms/msg; machine busy "
        f"{s['busy_pct']:.0f} % of {ncpu} CPUs; generator CPU "
        f"{gen:.2f} s = {s['gen_core_pct']:.0f} % of one core, "
        f"{s['gen_busy_pct']:.0f} % of the CPU time used; other "
        f"processes {s['other_pct']:.0f} % of the machine; {m['tls']}"
        + (f"; FAILURES {s['failed']}: {s['first_error']}"
           if s["failed"] else ""))
    return s


# ----------------------------------------------------------------- main

def quiet_dns_fixture():
    """The DNS fixture of the integration tests on loopback (its own
    threads), without its log lines."""
    from dnsfixture import DNSFixture
    from dnslib.server import DNSLogger
    dns = DNSFixture()
    quiet = DNSLogger(logf=lambda *_: None)
    for srv in (dns.udp, dns.tcp):
        srv.server.logger = quiet
    return dns


def sendgated_side(build, base, cert, key, load, args, out, notes):
    """sendgated: start, a sender that may send, idle sessions, probe and
    warm-up.  The daemon and the DNS fixture are left in out for the
    caller to stop.  The peer for measure(), or None."""
    dns = quiet_dns_fixture()
    out["_dns"] = dns
    port = free_port()
    daemon = Daemon(build, base, cert, key, port, dns.port,
                    extra=args.sg_conf)
    out["_daemon"] = daemon
    daemon.start()
    notes.extend(daemon.notes)
    for n in daemon.notes:
        log(f"  note: {n}")
    user, password = sendgated_sender(daemon, dns)
    log(f"sendgated: listening on 127.0.0.1:{port}, connector "
        f"{user}, {DOMAIN} verified")
    res = out["sendgated"]
    root = daemon.proc.pid
    if args.idle:
        m = idle_step(load, port, user, password, args.idle, False,
                      root)
        res["idle"] = m
        report_idle("sendgated", m)
        if args.idle_tls:
            m = idle_step(load, port, user, password, args.idle,
                          True, root)
            res["idle_tls"] = m
            report_idle("sendgated", m)
    return prepare_peer("sendgated", load, port, user, password,
                        lambda: root, res, args)


def sendgated_after(daemon, res):
    """After the runs: what sendgated's queue holds; it must still run."""
    res["queued_files"] = daemon.queued()
    log(f"  sendgated: {res['queued_files']} files in its queue "
        "directory")
    if daemon.proc.poll() is not None:
        raise RuntimeError("sendgated exited:\n" + daemon.logtext())


def unique_name(name):
    """name with a random suffix: the name of a peer's tree under the
    bench directory (see spread_dirs)."""
    return f"{name}-{secrets.token_hex(4)}"


# ioctl(2) numbers of the ext2/3/4 inode flags (linux/fs.h).
FS_IOC_GETFLAGS = 0x80086601
FS_IOC_SETFLAGS = 0x40086602
FS_TOPDIR_FL = 0x00020000


def spread_dirs(path):
    """Mark path the top of directory hierarchies (chattr +T): ext4's
    Orlov allocator then gives each of its subdirectories, each peer's
    tree, block groups of their own instead of those /tmp's files use.
    Why: on a file system without a journal (this machine's root), ext4
    passes over every inode deleted in the last minutes, one by one,
    before it reuses one, and a file created where an earlier run had
    deleted tens of thousands cost 250-570 us of CPU instead of 10-20
    (measured here): the queues of both peers paid for whatever ran
    before.  Orlov starts its search for a top directory at the hash of
    the directory's name, so the peers' trees get unique_name()s: with
    fixed names every invocation landed in the block groups the previous
    one had just emptied, and paid the full price.  Both peers get the
    same; a file system without these flags (tmpfs, xfs) is left as it
    is.  Returns whether the flag is set."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        buf = bytearray(4)
        fcntl.ioctl(fd, FS_IOC_GETFLAGS, buf, True)
        flags = struct.unpack("I", buf)[0] | FS_TOPDIR_FL
        fcntl.ioctl(fd, FS_IOC_SETFLAGS, struct.pack("I", flags))
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def namespace_etc(base):
    """Inside the namespaces: lo up; /etc/resolv.conf (nameserver
    127.0.0.1) and /etc/hosts replaced by the bench's own (bind mounts in
    the private mount namespace), so name resolution stays on loopback."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True,
                   timeout=30)
    with open(os.path.join(base, "resolv.conf"), "w") as f:
        f.write("nameserver 127.0.0.1\n")
    with open(os.path.join(base, "hosts"), "w") as f:
        f.write(f"127.0.0.1 localhost {postfix_peer.REALM} "
                f"{socket.gethostname()}\n::1 localhost\n")
    for name in ("resolv.conf", "hosts"):
        subprocess.run(["mount", "--bind", os.path.join(base, name),
                        f"/etc/{name}"], check=True, timeout=30)


def make_cert(base, kind="rsa"):
    """A self-signed certificate for localhost: (cert, key); RSA-2048 or
    (--cert ecdsa) ECDSA P-256."""
    cert = os.path.join(base, "bench.crt")
    key = os.path.join(base, "bench.key")
    newkey = ["-newkey", "rsa:2048"] if kind == "rsa" else \
        ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    subprocess.run(
        ["openssl", "req", "-x509"] + newkey + ["-nodes",
         "-days", "2", "-subj", "/CN=localhost", "-addext",
         "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", key, "-out", cert],
        check=True, capture_output=True, timeout=60)
    os.chmod(key, 0o600)
    return cert, key


def run_in_namespace(script, argv, max_seconds, name):
    """Re-execute `script argv` in a network namespace with only lo and a
    private mount namespace (NS_ENV set in its environment); bounded:
    everything in it is killed if it overruns max_seconds + 90.  Its exit
    status."""
    env = dict(os.environ, **{NS_ENV: "1"})
    proc = subprocess.Popen(
        ["unshare", "--net", "--mount", "--propagation", "private",
         sys.executable, os.path.abspath(script)] + argv, env=env)
    # The inner run cleans up after itself: a ^C reaches it directly
    # (same process group), a SIGTERM is passed on; only if it overruns
    # is everything in it killed.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM,
                  lambda *_: proc.poll() is None and
                  proc.send_signal(signal.SIGTERM))
    try:
        return proc.wait(timeout=max_seconds + 90)
    except subprocess.TimeoutExpired:
        log(f"{name}: overran; killing the namespace")
    finally:
        if proc.poll() is None:
            for p in tree_of(proc.pid):
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            proc.wait()
    return 1


def inner(args):
    """Inside the private network and mount namespaces."""
    ncpu = os.cpu_count() or 1
    build = os.path.abspath(args.build)
    smtpload = os.path.join(build, "smtpload")
    base = tempfile.mkdtemp(prefix="sendgate-subbench-", dir="/tmp")
    os.chmod(base, 0o755)
    spread = spread_dirs(base)
    postfix = None
    out = {"sendgated": {"runs": []}, "postfix": {"runs": []},
           "params": {"sessions": args.sessions, "per_conn": args.per_conn,
                      "messages": args.messages, "size": args.size,
                      "reps": args.reps, "idle": args.idle,
                      "postfix_after": args.postfix_after,
                      "generator_tls": args.gen_tls,
                      "cert": args.cert, "spread_dirs": spread}}
    notes = []
    try:
        # Name resolution stays in the namespace.
        namespace_etc(base)
        cert, key = make_cert(base, args.cert)
        load = Load(smtpload, args)
        log(f"bench_submission: {args.sessions} sessions, {args.per_conn} "
            f"message(s) per connection, {args.size}-byte bodies, "
            f"{args.messages} messages per run, {args.reps} run(s) per "
            f"peer; STARTTLS + AUTH PLAIN; {ncpu} CPUs; network namespace "
            "with only lo")

        peers = []
        sg_errors = (RuntimeError, subprocess.SubprocessError, OSError,
                     KeyError, ValueError)
        if not args.no_sendgated:
            try:
                peer = sendgated_side(build, base, cert, key, load, args,
                                      out, notes)
                if peer is not None:
                    peers.append(peer)
            except sg_errors as e:
                # Postfix is still measured: its numbers alone.
                out["sendgated"]["error"] = str(e)
                log(f"sendgated: FAILED: {e}")

        if not args.no_postfix:
            ver = postfix_peer.version()
            port = free_port()
            user, password = "bench", secrets.token_hex(12)
            postfix = postfix_peer.Postfix(
                base, port, cert, key, user, password,
                after=args.postfix_after,
                procs=max(200, args.postfix_idle + 50))
            postfix.start()
            out["postfix"]["version"] = ver
            log(f"postfix {ver}: listening on 127.0.0.1:{port}, accepted "
                f"mail goes to the {args.postfix_after} "
                + ("transport" if args.postfix_after == "discard" else
                   "queue"))
            res = out["postfix"]
            if args.postfix_idle:
                # Before any load: later, idle smtpd processes left by
                # the runs would serve these sessions.
                m = idle_step(load, port, user, password,
                              args.postfix_idle, False,
                              postfix.master_pid())
                res["idle"] = m
                report_idle("postfix", m)
            peer = prepare_peer("postfix", load, port, user, password,
                                postfix.master_pid, res, args)
            if peer is not None:
                peers.append(peer)

        # Both servers run side by side; the one not measured is idle.
        measure(peers, load, args)
        if out.get("_daemon") is not None and \
                "error" not in out["sendgated"]:
            try:
                sendgated_after(out["_daemon"], out["sendgated"])
            except sg_errors as e:
                out["sendgated"]["error"] = str(e)
                log(f"sendgated: FAILED: {e}")
        if postfix is not None:
            out["postfix"]["queued_files"] = postfix.queued()
            log(f"  postfix: {out['postfix']['queued_files']} messages in "
                "its queues")
    finally:
        for obj in (out.pop("_daemon", None), out.pop("_dns", None)):
            if obj is not None:
                if isinstance(obj, Daemon) and obj.logf and \
                        out["sendgated"].get("error"):
                    log("sendgated log (tail):\n" + obj.logtext()[-3000:])
                obj.stop()
        if postfix is not None:
            if not out["postfix"]["runs"]:
                log("postfix log (tail):\n" + postfix.logtext())
            postfix.stop(tree_of)
        shutil.rmtree(base, ignore_errors=True)
    return report(out, notes, args, ncpu)


def report(out, notes, args, ncpu):
    log()
    sg = summarize("sendgated", out["sendgated"], args, ncpu) \
        if not args.no_sendgated else None
    pf = summarize("postfix", out["postfix"], args, ncpu) \
        if not args.no_postfix else None
    good = True
    verdicts = {}

    def verdict(ok):
        return "met" if ok else "NOT met"

    if not args.no_sendgated and sg is None:
        log("=> sendgated took no mail: " +
            out["sendgated"].get("error", "no run"))
        good = False
    if not args.no_postfix and pf is None:
        log("=> postfix took no mail: " +
            out["postfix"].get("error", "no run"))
        good = False
    for name, s in (("sendgated", sg), ("postfix", pf)):
        if s is not None and s["failed"]:
            log(f"=> {name}: {s['failed']} messages failed: "
                f"{s['first_error']}")
            good = False
    if sg is not None and pf is not None:
        ratio = sg["msgs_per_s"] / pf["msgs_per_s"] if pf["msgs_per_s"] \
            else 0.0
        ok = ratio >= GOAL_RATIO
        verdicts["ratio"] = ok
        log(f"=> accepted msgs/s: sendgated {sg['msgs_per_s']:.1f}, postfix "
            f"{pf['msgs_per_s']:.1f}, ratio {ratio:.2f} (goal >= "
            f"{GOAL_RATIO:.1f}): {verdict(ok)}")
        out["ratio"] = ratio
    elif pf is not None:
        log(f"=> accepted msgs/s: postfix {pf['msgs_per_s']:.1f} "
            "(no sendgated number: no ratio)")
    if sg is not None:
        ok = sg["p99_ms"] <= GOAL_P99_MS
        verdicts["p99"] = ok
        log(f"=> p99 accept latency at {args.sessions} sessions: sendgated "
            f"{sg['p99_ms']:.1f} ms (p50 {sg['p50_ms']:.1f})"
            + (f", postfix {pf['p99_ms']:.1f} ms (p50 {pf['p50_ms']:.1f})"
               if pf else "")
            + f" (goal <= {GOAL_P99_MS:.0f} ms"
            + ("" if args.sessions == 20 else ", set at 20 sessions")
            + f"): {verdict(ok)}")
    elif pf is not None:
        log(f"=> p99 accept latency at {args.sessions} sessions: postfix "
            f"{pf['p99_ms']:.1f} ms (p50 {pf['p50_ms']:.1f})")
    idle = out["sendgated"].get("idle")
    if idle is not None:
        ok = (idle["failed"] == 0 and
              idle["rss_per_session"] <= GOAL_IDLE_KIB)
        verdicts["idle"] = ok
        log(f"=> memory per idle session: sendgated "
            f"{idle['rss_per_session']:.1f} KiB RSS "
            f"({idle['pss_per_session']:.1f} KiB PSS; "
            f"+{(idle['rss_during'] - idle['rss_before']) / 1024:.1f} MiB "
            f"for {idle['opened']} sessions"
            + (f", {idle['failed']} FAILED" if idle["failed"] else "")
            + f") (goal <= {GOAL_IDLE_KIB:.0f} KiB): {verdict(ok)}")
        t = out["sendgated"].get("idle_tls")
        if t is not None:
            log(f"   after STARTTLS + AUTH (not a goal): "
                f"{t['rss_per_session']:.1f} KiB RSS, "
                f"{t['pss_per_session']:.1f} KiB PSS per session")
    pidle = out["postfix"].get("idle")
    if pidle is not None:
        log(f"   postfix (process per session): "
            f"{pidle['pss_per_session']:.0f} KiB PSS, "
            f"{pidle['rss_per_session']:.0f} KiB RSS per session "
            f"({pidle['opened']} sessions)")
    for name, s in (("sendgated", sg), ("postfix", pf)):
        if s is None:
            continue
        log(f"=> load generator against {name}: {s['gen_cpu_s']:.2f} s CPU"
            f" = {s['gen_core_pct']:.0f} % of one core, "
            f"{s['gen_busy_pct']:.0f} % of all CPU time used in the run "
            f"(machine busy {s['busy_pct']:.0f} %)")
        if s["other_pct"] > 10:
            log(f"   !! other processes used {s['other_pct']:.0f} % of the "
                f"machine during the {name} run: its numbers are not "
                "reliable")
        if s["gen_busy_pct"] > 40:
            log(f"   !! the generator used {s['gen_busy_pct']:.0f} % of "
                "the CPU time: it may limit the run")
    for n in notes:
        log(f"note: {n}")
    if not all(verdicts.values()):
        good = False
    summary = {"bench": "submission", "ok": good, "params": out["params"],
               "sendgated": sg, "postfix": pf, "ratio": out.get("ratio"),
               "idle": idle, "idle_tls": out["sendgated"].get("idle_tls"),
               "postfix_idle": pidle,
               "postfix_version": out["postfix"].get("version"),
               "goals": {k: v for k, v in verdicts.items()},
               "errors": {k: out[k].get("error") for k in
                          ("sendgated", "postfix") if out[k].get("error")},
               "notes": notes}
    log("\nbench_submission: " + ("all goals met" if good else
                                  "a goal is NOT met or a run failed"))
    log(json.dumps(summary))
    return 0 if good else 1


# smtpload's flag for each TLS implementation of the generator.
GEN_TLS_FLAG = {"openssl": [], "gnutls": ["-G"], "mini": ["-M"]}


def add_tls_option(p):
    """The generator's TLS, for the scripts that use Load too: tlsmini
    (smtpload -M, regress/bench/tlsmini.c) by default, a TLS 1.3 client
    on libcrypto's primitives that costs the generator 0.35-0.45 ms of
    CPU per message against GnuTLS's 0.6-0.8 and OpenSSL 3.0's 1.0-1.4
    (whose decoding of the server's certificate is slow): CPU the server
    under test is short of on a 2-core machine.  The servers do the same
    work for all three: a full TLS 1.3 handshake with X25519."""
    p.add_argument("--tls", dest="gen_tls", choices=sorted(GEN_TLS_FLAG),
                   default="mini",
                   help="the generator's TLS: mini (tlsmini.c, the "
                   "default), gnutls or openssl")
    p.add_argument("--gnutls", dest="gen_tls", action="store_const",
                   const="gnutls", help="--tls gnutls")
    p.add_argument("--openssl", dest="gen_tls", action="store_const",
                   const="openssl", help="--tls openssl")
    p.add_argument("--cert", choices=("rsa", "ecdsa"), default="rsa",
                   help="the servers' certificate: RSA-2048 (the default) "
                   "or ECDSA P-256")


def add_load_options(p, messages=2000, reps=3, run_timeout=180,
                     run="measured run", runs=None, per="peer"):
    """The generator's load and bounds, and its TLS library, for every
    script that drives smtpload."""
    p.add_argument("--sessions", type=int, default=20)
    p.add_argument("--per-conn", type=int, default=1,
                   help="messages per connection (1)")
    p.add_argument("--messages", type=int, default=messages,
                   help=f"messages per {run} ({messages})")
    p.add_argument("--size", type=int, default=4096,
                   help="body bytes per message (4096)")
    p.add_argument("--reps", type=int, default=reps,
                   help=f"{runs or run + 's'} per {per}; the median "
                   f"counts ({reps})")
    p.add_argument("--read-timeout", type=int, default=30,
                   help="generator's bound on one reply, s (30)")
    p.add_argument("--run-timeout", type=int, default=run_timeout,
                   help=f"bound of one generator run, s ({run_timeout})")
    add_tls_option(p)


def add_peer_options(p):
    """Which peers run, and sendgated's extra configuration."""
    p.add_argument("--no-postfix", action="store_true")
    p.add_argument("--no-sendgated", action="store_true")
    p.add_argument("--sg-conf", action="append", default=[],
                   metavar="LINE",
                   help="one more line of sendgated's configuration "
                   "(repeatable), e.g. 'smtp tls-threads 0'")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("build", nargs="?", default="build")
    # Fifteen runs per peer, not three: the ratio of one interleaved
    # pair of runs scatters by about 13 % on this machine (sd of its
    # logarithm 0.13 over 140 pairs), so with a ratio of 2.2 the median
    # of three fell under 2.0 in one invocation in eight, the median of
    # fifteen about one in a hundred (README).  It costs about 100 s
    # more: a default invocation takes some 2.5 minutes.
    add_load_options(p, reps=15)
    p.add_argument("--idle", type=int, default=1000,
                   help="idle sessions for sendgated's memory (1000; 0: "
                        "skip)")
    p.add_argument("--no-idle-tls", dest="idle_tls", action="store_false",
                   help="skip the idle sessions after STARTTLS + AUTH")
    p.add_argument("--postfix-idle", type=int, default=100,
                   help="idle Postfix sessions for its PSS (100; 0: skip)")
    p.add_argument("--postfix-after", choices=postfix_peer.AFTER,
                   default="discard",
                   help="what Postfix does with accepted mail (discard)")
    p.add_argument("--max-seconds", type=int, default=570,
                   help="bound of the whole benchmark, s (570)")
    p.add_argument("--settle", type=int, default=20,
                   help="before each measured run, wait at most this "
                        "long for a quiet second (20 s)")
    add_peer_options(p)
    return p.parse_args()


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 65536)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def main():
    args = parse_args()
    if os.geteuid() != 0:
        log("bench_submission: sendgated and Postfix must be started as "
            "root; skipped")
        return 0
    build = os.path.abspath(args.build)
    need = ["smtpload"] + ([] if args.no_sendgated else
                           ["sendgated", "sendgatectl"])
    for exe in need:
        if not os.access(os.path.join(build, exe), os.X_OK):
            log(f"bench_submission: {build}/{exe} missing: run make "
                "all bench-tools first")
            return 1
    for tool in ("unshare", "ip", "openssl", "mount"):
        if shutil.which(tool) is None:
            log(f"bench_submission: {tool} missing")
            return 1
    raise_nofile()
    if os.environ.get(NS_ENV) != "1":
        if not args.no_postfix:
            try:
                postfix_peer.install()
            except (RuntimeError, subprocess.SubprocessError) as e:
                log(f"bench_submission: cannot install postfix: {e}")
                return 1
        # The run proper, in a network namespace with only lo and a
        # private mount namespace; bounded, killed (with everything in it)
        # if it overruns.
        return run_in_namespace(__file__, sys.argv[1:], args.max_seconds,
                                "bench_submission")

    return run_bounded(inner, args, "bench_submission", "submission")


def run_bounded(inner, args, name, bench, errors=()):
    """inner(args), in the namespace, bounded by --max-seconds; a SIGTERM
    exits 143.  A failure (RuntimeError, the deadline, a subprocess or OS
    error, or one of errors) is logged with the bench's JSON line and
    gives exit status 1."""
    def overrun(*_):
        raise Deadline(f"the benchmark overran {args.max_seconds} s")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGALRM, overrun)
    signal.alarm(args.max_seconds)
    try:
        return inner(args)
    except (RuntimeError, Deadline, subprocess.SubprocessError,
            OSError) + tuple(errors) as e:
        log(f"{name}: FAILED: {e}")
        log(json.dumps({"bench": bench, "ok": False, "error": str(e)}))
        return 1
    finally:
        signal.alarm(0)


if __name__ == "__main__":
    sys.exit(main())
