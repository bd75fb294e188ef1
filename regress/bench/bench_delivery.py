#!/usr/bin/python3
"""Benchmark of delivery, end to end: N STARTTLS + AUTH sessions submit M
messages to sendgated, which relays them to a loopback SMTP sink; the same
run does the same through Postfix (relayhost to the same sink).

    /usr/bin/python3 regress/bench/bench_delivery.py build [options]

Goals (2-core machine, fsync on, ratios in one run with the same load
generator and sink): delivered messages/s >= 2x Postfix's; median time from
the 250 to the end of data to the message's arrival at the sink < 100 ms
at moderate load (a fixed offered rate well under capacity).

How:
1. As bench_submission.py: postfix and sasl2-bin installed if missing, then
   the script re-executes itself in a network namespace with only lo and a
   private mount namespace with the bench's own resolv.conf and hosts.
2. smtpsink (regress/bench/smtpsink.c, `make bench-tools`) listens on a
   random loopback port and records, for every message, its X-Bench-Seq
   header and its arrival time (CLOCK_REALTIME).  smtpload (-L) writes the
   header and logs the time each 250 arrived.
3. sendgated: its domain verified as in bench_submission.py, and
   `relay via 127.0.0.1 port SINK plain` (a smarthost, the same thing as
   Postfix's relayhost: the main measurement); --sendgated-route mx instead
   delivers with `deliver port SINK` to the MX of the recipient domain,
   which the bench's DNS fixture points at 127.0.0.1.
4. Postfix (postfix_peer.py, after=relay): relayhost = [127.0.0.1]:SINK,
   its default concurrency (20 per destination).
5. Per peer: a probe message (delivered, or the peer's error and no
   ratio), a warm-up, --reps runs at full load (N sessions, as fast as
   they go) and one run at a fixed offered rate (--moderate-rate).
   Delivered msgs/s = accepted messages / (last arrival at the sink -
   generator start); the 250 -> sink latency by matching each message's
   250 time with its arrival; CPU of the MTA's process tree (reaped
   children included) from the generator's start until the sink had
   everything; the sink's and the generator's CPU.

Every wait is bounded, the whole run too (--max-seconds); the MTAs, the
sink, the generator and the temporary directory are removed even on
failure.  Exit status 1 if a run failed or a goal is missed.
"""
import argparse
import json
import os
import secrets
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(TOP, "regress", "integration"))

import bench_submission as bs  # noqa: E402
import postfix_peer  # noqa: E402
from bench_submission import log, tree_cpu, proc_cpu, machine_busy  # noqa

GOAL_RATIO = 2.0
GOAL_MEDIAN_MS = 100.0
SINK_RCPT_DOMAIN = "example.net"      # bs.RECIPIENT is sink@example.net
NAME = "bench_delivery"


# ----------------------------------------------------------------- sink

class Sink:
    """smtpsink on a random loopback port; follows its records file."""

    def __init__(self, path, base, limit_s, port=0):
        self.records = os.path.join(base, "sink.records")
        self.proc = subprocess.Popen(
            [path, "-b", "127.0.0.1", "-p", str(port), "-o", self.records,
             "-F", "20", "-D", str(limit_s)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("ready "):
            self.stop()
            raise RuntimeError(f"smtpsink: no ready line: {line!r} "
                               f"{self.proc.stderr.read()}")
        self.port = int(line.split()[1])
        self.pid = self.proc.pid
        self.off = 0
        self.partial = b""
        self.seen = {}          # token -> arrival ns (the first)
        self.dups = 0
        self.untagged = 0

    def poll(self):
        """Read the records written since the last call."""
        try:
            with open(self.records, "rb") as f:
                f.seek(self.off)
                data = f.read()
        except OSError:
            return
        self.off += len(data)
        data = self.partial + data
        lines = data.split(b"\n")
        self.partial = lines.pop()
        for ln in lines:
            parts = ln.split()
            if len(parts) < 2:
                continue
            tok = parts[0].decode()
            if tok == "-":
                self.untagged += 1
            elif tok in self.seen:
                self.dups += 1
            else:
                self.seen[tok] = int(parts[1])

    def wait_for(self, tokens, timeout):
        """Until every token arrived or timeout s; the missing ones."""
        end = time.monotonic() + timeout
        while True:
            self.poll()
            missing = [t for t in tokens if t not in self.seen]
            if not missing or time.monotonic() >= end:
                return missing
            if self.proc.poll() is not None:
                raise RuntimeError(f"smtpsink exited {self.proc.returncode}"
                                   f": {self.proc.stderr.read()}")
            time.sleep(0.01)

    def cpu(self):
        return proc_cpu(self.pid, children=False)

    def stop(self):
        """SIGTERM; its summary JSON (or {})."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            out, _ = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        try:
            return json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return {}


# ------------------------------------------------------------ generator

class Load(bs.Load):
    """smtpload with the per-message log (-L), a tag (-q) and pacing."""

    def deliver(self, port, user, password, sessions, total, tag, base,
                rate=0, deadline=None):
        deadline = deadline or self.args.run_timeout
        acclog = os.path.join(base, f"accepted.{tag}")
        cmd = self.common(port, user, password) + [
            "-n", str(sessions), "-m", str(self.args.per_conn),
            "-t", str(total), "-s", str(self.args.size),
            "-D", str(deadline), "-L", acclog, "-q", tag]
        if rate:
            cmd += ["-R", str(rate)]
        cmd = os.environ.get("SMTPLOAD_WRAP", "").split() + cmd + ["send"]
        r = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=deadline + 30)
        try:
            res = json.loads(r.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise RuntimeError(f"smtpload: exit {r.returncode}: "
                               f"{r.stdout} {r.stderr}")
        acc = {}
        try:
            with open(acclog) as f:
                for ln in f:
                    tok, ns = ln.split()
                    acc[tok] = int(ns)
            os.unlink(acclog)
        except (OSError, ValueError) as e:
            raise RuntimeError(f"smtpload accept log: {e}")
        res["accepted"] = acc
        return res


# --------------------------------------------------------------- sendgated

class Daemon(bs.Daemon):
    """bench_submission's sendgated plus a delivery route to the sink."""

    pause_mta = False

    def __init__(self, *a, route, sink_port, **kw):
        super().__init__(*a, **kw)
        self.route = route
        self.sink_port = sink_port

    def conf_text(self, limits):
        text = super().conf_text(limits).replace(
            "# bench_submission.py", "# bench_delivery.py")
        if self.route == "relay":
            text += f"relay via 127.0.0.1 port {self.sink_port} plain\n"
        else:
            text += f"deliver port {self.sink_port}\n"
        return text


def unsign(daemon):
    """Without --dkim: delete the domain's DKIM keys from the state
    database (lka reads them for every message), so that sendgated relays
    unsigned like its Postfix peer: the same work on both sides (signing
    is compared by bench_dkim.py, against Postfix + OpenDKIM)."""
    db = os.path.join(daemon.dirs["state"], "sendgate.db")
    con = sqlite3.connect(db, timeout=10)
    try:
        with con:
            n = con.execute("DELETE FROM dkim_key WHERE domain = ?",
                            (bs.DOMAIN,)).rowcount
    finally:
        con.close()
    if n == 0:
        raise RuntimeError(f"no DKIM keys of {bs.DOMAIN} to remove")


def pct(sorted_v, p):
    """Nearest-rank percentile of a sorted list."""
    if not sorted_v:
        return 0.0
    k = max(0, min(len(sorted_v) - 1, int(p * len(sorted_v) + 0.999999) - 1))
    return sorted_v[k]


def run_delay(pid):
    """Seconds the process's threads waited for a CPU while runnable
    (/proc/PID/task/*/schedstat, second field)."""
    t = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                t += int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return t / 1e9


def cpu_by_process(root):
    """{pid: (name, CPU s incl. reaped children, run-queue wait s)} of a
    process tree."""
    return {p: (bs.proc_name(p), proc_cpu(p), run_delay(p))
            for p in bs.tree_of(root)}


def cpu_split(before, after, root):
    """(name, CPU s, run-queue wait s) per program between two
    cpu_by_process() snapshots, most CPU first.  A process gone since the
    first was reaped by its parent, whose children's CPU now holds all its
    CPU: what it had used before is taken off the root's (Postfix's
    master reaps its children; sendgated's processes live on)."""
    by = {}

    def key(name):
        # One name per program: "sendgated: queue", "smtpd -n ...".
        return name.split(" -")[0][:40]

    for p, (name, c, w) in after.items():
        _, c0, w0 = before.get(p, (name, 0.0, 0.0))
        k = key(name)
        a, b = by.get(k, (0.0, 0.0))
        by[k] = (a + c - c0, b + w - w0)
    rootname = key(after.get(root, before.get(root, ("?",)))[0])
    for p, (name, c0, _w0) in before.items():
        if p not in after:
            a, b = by.get(rootname, (0.0, 0.0))
            by[rootname] = (a - c0, b)
    if rootname in by and rootname.endswith("master"):
        # Postfix: its exited smtpd, cleanup... are reaped by master.
        by[rootname + " (+ reaped children)"] = by.pop(rootname)
    return sorted(((k, c, w) for k, (c, w) in by.items()),
                  key=lambda x: -x[1])


def stat_parts():
    """(irq + softirq, steal) CPU seconds of the machine (/proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    return (v[5] + v[6]) / hz, (v[7] if len(v) > 7 else 0) / hz


def all_cpu():
    """{pid: (comm, CPU s without children)} of every process (kernel
    threads included)."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                st = f.read()
            comm = st[st.index("(") + 1:st.rindex(")")]
            rest = st.rsplit(")", 1)[1].split()
            out[int(name)] = (comm, (int(rest[11]) + int(rest[12])) /
                              os.sysconf("SC_CLK_TCK"))
        except (OSError, ValueError, IndexError):
            pass
    return out


def top_others(before, after, exclude, n=4):
    """The processes outside `exclude` (pids) that used the most CPU
    between two all_cpu() snapshots: [(comm, s)], by comm."""
    by = {}
    for p, (comm, c) in after.items():
        if p in exclude:
            continue
        d = c - before.get(p, (comm, 0.0))[1]
        if d > 0:
            k = comm.split("/")[0] if comm.startswith("kworker") else comm
            by[k] = by.get(k, 0.0) + d
    return sorted(by.items(), key=lambda kv: -kv[1])[:n]


def attach_tools(root, args):
    """--perf / --strace: profilers attached to the MTA's process tree
    for one run; a list of Popen."""
    pids = bs.tree_of(root)
    procs = []
    if args.perf:
        procs.append(subprocess.Popen(
            ["perf", "record", "-q", "-F", "999", "-g", "-o", args.perf,
             "-p", ",".join(map(str, pids))],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    if args.strace:
        # One summary per process (wall-clock time in each call, -w):
        # FILE.<pid>-<name>.
        for p in pids:
            tag = bs.proc_name(p).replace(" ", "").replace(":", "-")[:30]
            procs.append(subprocess.Popen(
                ["strace", "-c", "-w", "-o", f"{args.strace}.{p}-{tag}",
                 "-p", str(p)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    if procs:
        time.sleep(1.0)          # attached before the load starts
    return procs


def detach_tools(procs):
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
    for p in procs:
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def delivery_run(name, kind, load, sink, port, user, password, root_of,
                 args, base, tag, total, rate=0, profile=False):
    """One generator run and the wait until the sink has every accepted
    message; the measurements.  root_of() gives the MTA's root pid, or a
    list of them (Postfix and a milter): the CPU is the sum of the trees."""
    roots = root_of()
    roots = list(roots) if isinstance(roots, (list, tuple)) else [roots]
    root = roots[0]

    def cpu_now():
        return sum(tree_cpu(p) for p in roots)

    def split_now():
        out = {}
        for p in roots:
            out.update(cpu_by_process(p))
        return out

    tools = attach_tools(root, args) if profile else []
    try:
        split0 = split_now()
        all0 = all_cpu()
        parts0 = stat_parts()
        cpu0, busy0, sink0 = cpu_now(), machine_busy(), sink.cpu()
        self0 = sum(os.times()[:2])
        r = load.deliver(port, user, password, args.sessions, total, tag,
                         base, rate=rate)
        acc = r.pop("accepted")
        missing = sink.wait_for(list(acc), args.drain_timeout)
        r["mta_cpu_s"] = cpu_now() - cpu0
        r["busy_s"] = machine_busy() - busy0
        r["sink_cpu_s"] = sink.cpu() - sink0
        r["bench_cpu_s"] = sum(os.times()[:2]) - self0
        split1 = split_now()
        r["cpu_split"] = cpu_split(split0, split1, root)
        mine = set(split0) | set(split1) | {os.getpid(), sink.pid}
        r["others"] = [(c, round(t, 3)) for c, t in
                       top_others(all0, all_cpu(), mine)]
        parts1 = stat_parts()
        r["softirq_s"] = parts1[0] - parts0[0]
        r["steal_s"] = parts1[1] - parts0[1]
    finally:
        detach_tools(tools)
    r["kind"] = kind
    r["undelivered"] = len(missing)
    arrivals = [sink.seen[t] for t in acc if t in sink.seen]
    lat = sorted((sink.seen[t] - ns) / 1e6 for t, ns in acc.items()
                 if t in sink.seen)
    start = r["start_ns"]
    last = max(arrivals) if arrivals else start
    r["deliver_s"] = (last - start) / 1e9
    # Wall time of the measurement window (CPU shares): generator start
    # to the drain being seen (within ~30 ms of the last arrival).
    r["window_s"] = max(r["deliver_s"], r["wall_s"]) + 0.0
    r["delivered"] = len(arrivals)
    r["delivered_per_s"] = (len(arrivals) / r["deliver_s"]
                            if r["deliver_s"] > 0 else 0.0)
    r["e2e_ms"] = {"p50": pct(lat, 0.5), "p90": pct(lat, 0.9),
                   "p99": pct(lat, 0.99), "max": lat[-1] if lat else 0.0,
                   "min": lat[0] if lat else 0.0}
    r["drain_after_gen_s"] = (last - r["end_ns"]) / 1e9
    return r


def fmt_run(name, r):
    e = r["e2e_ms"]
    ok = r["ok"]
    return (f"  {name}: {r['kind']}: {ok}/{r['messages']} accepted at "
            f"{r['msgs_per_s']:.1f}/s"
            + (f" (offered {r['offered_rate']:.0f}/s)"
               if r["offered_rate"] else "")
            + f" (250 after end of data p50 {r['lat_ms']['p50']:.1f} ms, "
            f"p99 {r['lat_ms']['p99']:.1f})"
            + f", {r['delivered']} delivered in {r['deliver_s']:.2f} s = "
            f"{r['delivered_per_s']:.1f}/s (last arrival "
            f"{r['drain_after_gen_s'] * 1000:.0f} ms after the generator "
            f"ended); 250->sink p50 {e['p50']:.1f} ms, p90 {e['p90']:.1f},"
            f" p99 {e['p99']:.1f}, max {e['max']:.1f}; MTA CPU "
            f"{r['mta_cpu_s']:.2f} s = "
            f"{1000 * r['mta_cpu_s'] / max(ok, 1):.2f} ms/msg; sink CPU "
            f"{r['sink_cpu_s']:.2f} s; generator CPU {r['cpu_s']:.2f} s"
            + (f"; FAILED {r['failed']}: {r['first_error']}"
               if r["failed"] else "")
            + (f"; UNDELIVERED {r['undelivered']}" if r["undelivered"]
               else "")
            + (f"; {r['unstamped']} 250s without a kernel time stamp"
               if r.get("unstamped") else ""))


class Peer:
    """One MTA under test: where to submit, its process tree, its log."""

    def __init__(self, name, port, user, password, root_of, logtail,
                 result):
        self.name, self.port = name, port
        self.user, self.password = user, password
        self.root_of, self.logtail = root_of, logtail
        self.result = result

    def run(self, kind, load, sink, args, base, tag, total, rate=0,
            profile=False):
        return delivery_run(self.name, kind, load, sink, self.port,
                            self.user, self.password, self.root_of, args,
                            base, tag, total, rate=rate, profile=profile)


def prepare_peer(peer, load, sink, args, base):
    """Probe and warm-up; False (and result["error"]) if the peer does
    not deliver."""
    name, result = peer.name, peer.result
    probe = load.deliver(peer.port, peer.user, peer.password, 1, 1,
                         f"{name}-probe", base, deadline=60)
    acc = probe.pop("accepted")
    result["probe"] = probe
    if probe["ok"] != 1:
        result["error"] = probe["first_error"] or "probe message failed"
        log(f"  {name}: the probe message was not accepted: "
            f"{result['error']}")
        return False
    missing = sink.wait_for(list(acc), args.probe_timeout)
    if missing:
        result["error"] = (f"the probe message was accepted but not "
                           f"delivered to the sink in {args.probe_timeout} s")
        log(f"  {name}: {result['error']}\n{peer.logtail()}")
        return False
    tok = next(iter(acc))
    log(f"  {name}: probe delivered {(sink.seen[tok] - acc[tok]) / 1e6:.1f}"
        " ms after its 250")
    warm = min(args.messages, max(args.sessions * args.per_conn, 100))
    w = peer.run("warm-up", load, sink, args, base, f"{name}-warm", warm)
    log(fmt_run(name, w))
    if w["undelivered"] or w["failed"]:
        result["error"] = (f"warm-up: {w['failed']} failed, "
                           f"{w['undelivered']} undelivered")
        log(peer.logtail())
        return False
    return True


def measure(peers, load, sink, args, base):
    """The full-load runs, interleaved between the peers (run 1 of each,
    then run 2 of each...: a change of the machine's other load hits both
    alike), then the moderate run of each."""
    ncpu = os.cpu_count() or 1
    for i in range(args.reps):
        for peer in peers:
            bs.settle(args.settle, ncpu)
            profile = i == 0 and peer.name == "sendgated" and \
                bool(args.perf or args.strace)
            r = peer.run(f"full load run {i + 1}", load, sink, args, base,
                         f"{peer.name}-full{i + 1}", args.messages,
                         profile=profile)
            if profile:
                log(f"  {peer.name}: run 1 was profiled ("
                    + ", ".join(x for x in (args.perf, args.strace) if x)
                    + "): its numbers are not comparable")
            peer.result["runs"].append(r)
            log(fmt_run(peer.name, r))
    if args.moderate_rate:
        total = max(1, int(args.moderate_rate * args.moderate_seconds))
        for peer in peers:
            bs.settle(args.settle, ncpu)
            r = peer.run("moderate load", load, sink, args, base,
                         f"{peer.name}-moderate", total,
                         rate=args.moderate_rate)
            peer.result["moderate"] = r
            log(fmt_run(peer.name, r))


def summarize(name, res, ncpu):
    runs = res["runs"]
    if not runs:
        return None
    good = sorted(runs, key=lambda r: r["delivered_per_s"])
    m = good[(len(good) - 1) // 2]
    win = m["window_s"] or 1
    s = {
        "delivered_per_s": statistics.median(r["delivered_per_s"]
                                             for r in runs),
        "delivered_rates": [r["delivered_per_s"] for r in runs],
        "accepted_per_s": statistics.median(r["msgs_per_s"] for r in runs),
        "accept_lat_ms": m["lat_ms"],
        "e2e_ms_full": m["e2e_ms"],
        "mta_cpu_ms_per_msg": 1000 * m["mta_cpu_s"] / max(m["ok"], 1),
        "sink_cpu_pct_core": 100 * m["sink_cpu_s"] / win,
        "sink_cpu_pct_busy": 100 * m["sink_cpu_s"] / m["busy_s"]
        if m["busy_s"] else 0,
        "gen_cpu_pct_busy": 100 * m["cpu_s"] / m["busy_s"]
        if m["busy_s"] else 0,
        "busy_pct": 100 * m["busy_s"] / (win * ncpu),
        "other_pct": 100 * max(0.0, m["busy_s"] - m["mta_cpu_s"] -
                               m["cpu_s"] - m["sink_cpu_s"] -
                               m["bench_cpu_s"]) / (win * ncpu),
        "failed": sum(r["failed"] for r in runs),
        "undelivered": sum(r["undelivered"] for r in runs),
        "first_error": next((r["first_error"] for r in runs
                             if r["first_error"]), ""),
    }
    mod = res.get("moderate")
    if mod:
        s["moderate"] = {"offered": mod["offered_rate"],
                         "accepted_per_s": mod["msgs_per_s"],
                         "delivered_per_s": mod["delivered_per_s"],
                         "e2e_ms": mod["e2e_ms"],
                         "mta_cpu_ms_per_msg": 1000 * mod["mta_cpu_s"] /
                         max(mod["ok"], 1),
                         "failed": mod["failed"],
                         "undelivered": mod["undelivered"]}
        s["failed"] += mod["failed"]
        s["undelivered"] += mod["undelivered"]
    s["cpu_split"] = [(n, round(c, 3), round(w, 3))
                      for n, c, w in m["cpu_split"][:8]]
    s["others"] = m["others"]
    s["softirq_pct"] = 100 * m["softirq_s"] / (win * ncpu)
    s["steal_pct"] = 100 * m["steal_s"] / (win * ncpu)
    e = s["e2e_ms_full"]
    log(f"-- {name}: delivered {s['delivered_per_s']:.1f} msgs/s (median "
        f"of {len(runs)}: "
        + ", ".join(f"{x:.0f}" for x in s["delivered_rates"])
        + f"), accepted {s['accepted_per_s']:.1f}/s; full load 250->sink "
        f"p50 {e['p50']:.1f} ms, p90 {e['p90']:.1f}, p99 {e['p99']:.1f}; "
        f"MTA CPU {s['mta_cpu_ms_per_msg']:.2f} ms/msg; machine busy "
        f"{s['busy_pct']:.0f} % of {ncpu} CPUs; sink "
        f"{s['sink_cpu_pct_core']:.1f} % of one core = "
        f"{s['sink_cpu_pct_busy']:.1f} % of the CPU time used; generator "
        f"{s['gen_cpu_pct_busy']:.0f} % of it; other processes "
        f"{s['other_pct']:.0f} % of the machine")
    log(f"   {name} CPU by program in the median run ({win:.2f} s; "
        "CPU s, share of one core, and s runnable but waiting for a CPU): "
        + ", ".join(f"{n} {c:.2f} s ({100 * c / win:.0f} %, wait "
                    f"{w:.2f} s)" for n, c, w in s["cpu_split"]
                    if c >= 0.01))
    log(f"   other: irq+softirq {s['softirq_pct']:.0f} %, steal (the "
        f"hypervisor) {s['steal_pct']:.0f} % of the machine; most CPU of "
        "live processes outside the MTA, sink and bench: "
        + ", ".join(f"{c} {t:.2f} s" for c, t in s["others"]))
    if mod:
        e = mod["e2e_ms"]
        log(f"   {name} at {mod['offered_rate']:.0f} msgs/s offered: "
            f"250->sink p50 {e['p50']:.1f} ms, p90 {e['p90']:.1f}, p99 "
            f"{e['p99']:.1f}, max {e['max']:.1f}; MTA CPU "
            f"{s['moderate']['mta_cpu_ms_per_msg']:.2f} ms/msg")
    return s


def sendgated_side(build, base, cert, key, load, sink, args, out, notes):
    from dnsfixture import DNSFixture
    from dnslib.server import DNSLogger
    dns = DNSFixture()
    out["_dns"] = dns
    quiet = DNSLogger(logf=lambda *_: None)
    for srv in (dns.udp, dns.tcp):
        srv.server.logger = quiet
    if args.sendgated_route == "mx":
        dns.set(SINK_RCPT_DOMAIN, "MX", [(10, f"mx.{SINK_RCPT_DOMAIN}")])
        dns.set(f"mx.{SINK_RCPT_DOMAIN}", "A", ["127.0.0.1"])
    port = bs.free_port()
    daemon = Daemon(build, base, cert, key, port, dns.port,
                    route=args.sendgated_route, sink_port=sink.port,
                    extra=args.sg_conf)
    out["_daemon"] = daemon
    daemon.start()
    notes.extend(daemon.notes)
    user, password = bs.sendgated_sender(daemon, dns)
    if not args.dkim:
        unsign(daemon)
    route = (f"relay via 127.0.0.1 port {sink.port} plain"
             if args.sendgated_route == "relay" else
             f"MX of {SINK_RCPT_DOMAIN} -> 127.0.0.1, deliver port "
             f"{sink.port}")
    log(f"sendgated: listening on 127.0.0.1:{port}, {bs.DOMAIN} verified; "
        f"delivery: {route}"
        + (f"; extra: {'; '.join(args.sg_conf)}" if args.sg_conf else "")
        + ("; DKIM keys removed: nothing signed, as by Postfix here "
           "(--dkim signs)" if not args.dkim else "; every message "
           "DKIM-signed (rsa + ed25519; Postfix does not sign: --dkim)"))
    root = daemon.proc.pid
    if args.renice:
        # An experiment: does the smtp process's share of the 2 CPUs
        # against the generator's threads limit the rate?
        for pid in bs.tree_of(root):
            if bs.proc_name(pid).startswith("sendgated: smtp"):
                os.setpriority(os.PRIO_PROCESS, pid, args.renice)
                log(f"  sendgated: smtp process (pid {pid}) at nice "
                    f"{args.renice} (--renice-smtp)")
    peer = Peer("sendgated", port, user, password, lambda: root,
                lambda: "sendgated log (tail):\n" + daemon.logtext()[-3000:],
                out["sendgated"])
    return peer if prepare_peer(peer, load, sink, args, base) else None


def sendgated_done(daemon, out):
    out["sendgated"]["queued_files"] = daemon.queued()
    log(f"  sendgated: {out['sendgated']['queued_files']} files left in "
        "its queue directory")
    if daemon.proc.poll() is not None:
        out["sendgated"]["error"] = ("sendgated exited:\n" +
                                     daemon.logtext()[-3000:])
        log(out["sendgated"]["error"])


def inner(args):
    ncpu = os.cpu_count() or 1
    build = os.path.abspath(args.build)
    base = tempfile.mkdtemp(prefix="sendgate-delbench-", dir="/tmp")
    os.chmod(base, 0o755)
    postfix = None
    sink = None
    out = {"sendgated": {"runs": []}, "postfix": {"runs": []},
           "params": {"sessions": args.sessions, "per_conn": args.per_conn,
                      "messages": args.messages, "size": args.size,
                      "reps": args.reps,
                      "moderate_rate": args.moderate_rate,
                      "moderate_seconds": args.moderate_seconds,
                      "sendgated_route": args.sendgated_route}}
    notes = []
    sink_summary = {}
    try:
        bs.namespace_etc(base)
        cert, key = bs.make_cert(base, args.cert)
        load = Load(os.path.join(build, "smtpload"), args)
        sink = Sink(os.path.join(build, "smtpsink"), base,
                    args.max_seconds + 60)
        log(f"{NAME}: {args.sessions} sessions, {args.per_conn} message(s)"
            f" per connection, {args.size}-byte bodies, {args.messages} "
            f"messages per run, {args.reps} full-load run(s) and one at "
            f"{args.moderate_rate} msgs/s offered per peer; STARTTLS + "
            f"AUTH PLAIN submission, plain SMTP to the sink on 127.0.0.1:"
            f"{sink.port}; {ncpu} CPUs; network namespace with only lo")
        peers = []
        if not args.no_sendgated:
            try:
                peer = sendgated_side(build, base, cert, key, load, sink,
                                      args, out, notes)
                if peer is not None:
                    peers.append(peer)
            except (RuntimeError, subprocess.SubprocessError, OSError,
                    KeyError, ValueError) as e:
                out["sendgated"]["error"] = str(e)
                log(f"sendgated: FAILED: {e}")
        if not args.no_postfix:
            ver = postfix_peer.version()
            port = bs.free_port()
            user, password = "bench", secrets.token_hex(12)
            postfix = postfix_peer.Postfix(base, port, cert, key, user,
                                           password, after="relay",
                                           relay_port=sink.port)
            postfix.start()
            out["postfix"]["version"] = ver
            log(f"postfix {ver}: listening on 127.0.0.1:{port}, relayhost "
                f"[127.0.0.1]:{sink.port}")
            peer = Peer("postfix", port, user, password, postfix.master_pid,
                        lambda: "postfix log (tail):\n" + postfix.logtext(),
                        out["postfix"])
            if prepare_peer(peer, load, sink, args, base):
                peers.append(peer)
        if peers:
            log("measured runs, the peers taking turns: "
                + ", ".join(p.name for p in peers))
            measure(peers, load, sink, args, base)
        if out.get("_daemon") is not None:
            sendgated_done(out["_daemon"], out)
        if postfix is not None:
            out["postfix"]["queued_files"] = postfix.queued()
            log(f"  postfix: {out['postfix']['queued_files']} messages left"
                " in its queues")
    finally:
        for obj in (out.pop("_daemon", None), out.pop("_dns", None)):
            if obj is not None:
                obj.stop()
        if postfix is not None:
            postfix.stop(bs.tree_of)
        if sink is not None:
            sink.poll()
            sink_summary = sink.stop()
            sink_summary["duplicates"] = sink.dups
            sink_summary["untagged"] = sink.untagged
        shutil.rmtree(base, ignore_errors=True)
    return report(out, notes, args, ncpu, sink_summary)


def report(out, notes, args, ncpu, sink_summary):
    log()
    sg = summarize("sendgated", out["sendgated"], ncpu) \
        if not args.no_sendgated else None
    pf = summarize("postfix", out["postfix"], ncpu) \
        if not args.no_postfix else None
    good = True
    verdicts = {}

    def verdict(ok):
        return "met" if ok else "NOT met"

    for name, s, skip in (("sendgated", sg, args.no_sendgated),
                          ("postfix", pf, args.no_postfix)):
        if skip:
            continue
        if s is None:
            log(f"=> {name} delivered no measured run: "
                + out[name].get("error", "no run"))
            good = False
        elif s["failed"] or s["undelivered"]:
            log(f"=> {name}: {s['failed']} messages failed, "
                f"{s['undelivered']} accepted but not delivered: "
                f"{s['first_error']}")
            good = False
    if sg is not None and pf is not None:
        ratio = (sg["delivered_per_s"] / pf["delivered_per_s"]
                 if pf["delivered_per_s"] else 0.0)
        ok = ratio >= GOAL_RATIO
        verdicts["ratio"] = ok
        out["ratio"] = ratio
        log(f"=> delivered msgs/s (end to end, full load): sendgated "
            f"{sg['delivered_per_s']:.1f}, postfix "
            f"{pf['delivered_per_s']:.1f}, ratio {ratio:.2f} (goal >= "
            f"{GOAL_RATIO:.1f}): {verdict(ok)}")
        out["accepted_ratio"] = (sg["accepted_per_s"] / pf["accepted_per_s"]
                                 if pf["accepted_per_s"] else 0.0)
        log(f"   accepted msgs/s: sendgated {sg['accepted_per_s']:.1f}, "
            f"postfix {pf['accepted_per_s']:.1f}, ratio "
            f"{out['accepted_ratio']:.2f}; MTA CPU per message: sendgated "
            f"{sg['mta_cpu_ms_per_msg']:.2f} ms, postfix "
            f"{pf['mta_cpu_ms_per_msg']:.2f} ms")
    elif pf is not None:
        log(f"=> delivered msgs/s: postfix {pf['delivered_per_s']:.1f} (no "
            "sendgated number: no ratio)")
    elif sg is not None:
        log(f"=> delivered msgs/s: sendgated {sg['delivered_per_s']:.1f}")
    for name, s in (("sendgated", sg), ("postfix", pf)):
        if s is None or "moderate" not in s:
            continue
        m = s["moderate"]
        line = (f"=> {name}: median 250->sink at {m['offered']:.0f} msgs/s "
                f"offered: {m['e2e_ms']['p50']:.1f} ms (p90 "
                f"{m['e2e_ms']['p90']:.1f}, p99 {m['e2e_ms']['p99']:.1f})")
        if name == "sendgated":
            ok = m["e2e_ms"]["p50"] < GOAL_MEDIAN_MS and \
                m["undelivered"] == 0
            verdicts["median_latency"] = ok
            line += f" (goal < {GOAL_MEDIAN_MS:.0f} ms): {verdict(ok)}"
        log(line)
    if sink_summary:
        log(f"=> sink: {sink_summary.get('messages')} messages, "
            f"{sink_summary.get('connections')} connections (at most "
            f"{sink_summary.get('max_open')} at once), "
            f"{sink_summary.get('cpu_s', 0):.2f} s CPU in all, "
            f"{sink_summary['duplicates']} duplicates, "
            f"{sink_summary['untagged']} without X-Bench-Seq")
        for name, s in (("sendgated", sg), ("postfix", pf)):
            if s is not None and s["sink_cpu_pct_busy"] > 15:
                log(f"   !! the sink used {s['sink_cpu_pct_busy']:.0f} % of "
                    f"the CPU time in the {name} runs: it may limit them")
    for name, s in (("sendgated", sg), ("postfix", pf)):
        if s is not None and s["other_pct"] > 10:
            log(f"   !! other processes used {s['other_pct']:.0f} % of the "
                f"machine during the {name} runs: not reliable")
    if sink_summary.get("duplicates"):
        log("=> duplicate deliveries seen at the sink")
        good = False
    for n in notes:
        log(f"note: {n}")
    if not all(verdicts.values()):
        good = False
    if args.no_postfix or args.no_sendgated:
        notes.append("a peer was skipped: no ratio")
    summary = {"bench": "delivery", "ok": good, "params": out["params"],
               "sendgated": sg, "postfix": pf, "ratio": out.get("ratio"),
               "accepted_ratio": out.get("accepted_ratio"),
               "postfix_version": out["postfix"].get("version"),
               "sink": sink_summary,
               "goals": verdicts,
               "errors": {k: out[k].get("error") for k in
                          ("sendgated", "postfix") if out[k].get("error")},
               "notes": notes}
    log(f"\n{NAME}: " + ("all goals met" if good else
                         "a goal is NOT met or a run failed"))
    log(json.dumps(summary))
    return 0 if good else 1


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("build", nargs="?", default="build")
    bs.add_load_options(p, run="full-load run")
    p.add_argument("--moderate-rate", type=int, default=100,
                   help="offered msgs/s of the moderate-load run (100; 0:"
                        " skip)")
    p.add_argument("--moderate-seconds", type=float, default=10,
                   help="length of the moderate-load run, s (10)")
    p.add_argument("--sendgated-route", choices=("relay", "mx"),
                   default="relay",
                   help="relay: `relay via` the sink (like Postfix's "
                        "relayhost, the default); mx: `deliver port` to "
                        "the MX, which the test DNS points at 127.0.0.1")
    p.add_argument("--dkim", action="store_true",
                   help="keep the domain's DKIM keys: sendgated signs every "
                   "message, Postfix does not (by default the keys are "
                   "removed: both relay unsigned; bench_dkim.py compares "
                   "signing)")
    p.add_argument("--settle", type=int, default=20,
                   help="before each measured run, wait at most this long"
                        " for a second with the machine <= 15 %% busy (20)")
    p.add_argument("--drain-timeout", type=int, default=120,
                   help="bound of the wait for the sink to have every "
                        "accepted message, s (120)")
    p.add_argument("--probe-timeout", type=int, default=30,
                   help="bound of the wait for the probe message, s (30)")
    p.add_argument("--max-seconds", type=int, default=900,
                   help="bound of the whole benchmark, s (900)")
    p.add_argument("--perf", metavar="FILE",
                   help="perf record -g sendgated's processes during its "
                        "first full-load run into FILE")
    p.add_argument("--strace", metavar="FILE",
                   help="strace -c -w each of sendgated's processes "
                        "during its first full-load run, summaries into "
                        "FILE.<pid>-<name>")
    p.add_argument("--renice-smtp", dest="renice", type=int, default=0,
                   help="an experiment: run sendgated's smtp process at "
                        "this nice value (e.g. -10)")
    bs.add_peer_options(p)
    args = p.parse_args()
    args.perf = args.perf and os.path.abspath(args.perf)
    args.strace = args.strace and os.path.abspath(args.strace)
    return args


def main():
    args = parse_args()
    if os.geteuid() != 0:
        log(f"{NAME}: sendgated and Postfix must be started as root; "
            "skipped")
        return 0
    build = os.path.abspath(args.build)
    need = ["smtpload", "smtpsink"] + ([] if args.no_sendgated else
                                       ["sendgated", "sendgatectl"])
    for exe in need:
        if not os.access(os.path.join(build, exe), os.X_OK):
            log(f"{NAME}: {build}/{exe} missing: run make all bench-tools "
                "first")
            return 1
    for tool in ("unshare", "ip", "openssl", "mount"):
        if shutil.which(tool) is None:
            log(f"{NAME}: {tool} missing")
            return 1
    bs.raise_nofile()
    if os.environ.get(bs.NS_ENV) != "1":
        if not args.no_postfix:
            try:
                postfix_peer.install()
            except (RuntimeError, subprocess.SubprocessError) as e:
                log(f"{NAME}: cannot install postfix: {e}")
                return 1
        return bs.run_in_namespace(__file__, sys.argv[1:], args.max_seconds,
                                   NAME)

    return bs.run_bounded(inner, args, NAME, "delivery")


if __name__ == "__main__":
    sys.exit(main())
