#!/usr/bin/python3
"""Benchmark of the per-connector rate limits (issue 8): what the rate
check costs in the SMTP submission benchmark with 1,000 connectors.

    /usr/bin/python3 regress/bench/bench_rate.py build [options]

Goal: the rate check adds at most 2 % to accepted msgs/s (1 - A/B of the
medians), with 1,000 connectors configured.

  A (rate limits on):  `limit messages|recipients 100000000 per
                       minute|hour|day`: nothing is refused, every MAIL and
                       every RCPT is checked and counted in all windows.
  B (rate limits off): the same limits 0 (none).  smtp asks lka at every
                       RCPT in both modes (a limit set while a session is
                       open must apply to it), so A - B is the evaluation
                       of the limits; the round trip itself was measured
                       before it became unconditional (README.md).

How:
1. As bench_submission.py (whose helpers this imports): a private network
   and mount namespace with only lo and the bench's own resolv.conf, one
   RSA-2048 certificate, smtpload as the generator, the DNS fixture of
   the integration tests as sendgated's resolver.
2. A setup sendgated creates the state database: `connector add bench`,
   `domain add bench bench.example`, verified through the fixture.  It is
   stopped; sqlite3 adds 999 more connectors r1..r999, each with a
   credential (bench's salt and hash: the same password), a verified
   domain rN.bench.example (a copy of bench.example's row) and copies of
   its DKIM key rows.  Every domain's next check is put 30 days ahead: no
   DNS during the runs (the questions the fixture gets are counted).
3. Two sendgated side by side, each on its own copy of that database and
   keys: A and B.  Each: a probe message; one message through every other
   connector (999 smtpload runs, a few at once), so that A's lka holds
   1,000 live counters; a warm-up through bench.
4. Measured runs alternate A1 B1 A2 B2 ...; before each, a wait (at most
   --settle s) for a quiet second.  Per run: accepted msgs/s, and the CPU
   per accepted message of lka, smtp, the whole daemon and the generator.
   CPU per message is also given relative to the generator's in the same
   run (same work in A and B: the ratio cancels the contention of a
   shared machine), with the overhead it implies if the two cores, or
   the smtp process, are the limit.
5. After the runs: bench's use per window (`connector show`), one run of
   --strace-messages per mode with `strace -c` on lka and smtp (syscalls
   per message), and a check that A enforces at all: `connector limit
   bench messages/minute 1` on A (bench sent thousands in the last
   minute), one message must be refused; the limit is then reset.

Every wait is bounded, the whole run too (--max-seconds); both daemons,
the generator and the temporary directory are removed even on failure.
Exit status 1 if the overhead exceeds 2 % (median rates), a run failed,
or A does not enforce limits.
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
sys.path.insert(0, HERE)

import bench_submission as bs  # noqa: E402
from bench_submission import (CONNECTOR, DOMAIN, NS_ENV, Daemon,  # noqa
                              Load, free_port, log, machine_busy, tree_cpu)

GOAL_OVERHEAD_PCT = 2.0
HIGH_LIMIT = 100000000
OTHER = "r"                 # connectors r1..r999, domains rN.bench.example
QUIET_PCT = 15              # a quiet second: machine at most this busy
NEXT_CHECK_S = 30 * 86400


def other_name(i):
    return f"{OTHER}{i}"


def other_domain(i):
    return f"{OTHER}{i}.{DOMAIN}"


class RateDaemon(Daemon):
    """bench_submission's sendgated (raised session limits, mta paused)
    with the rate limits of a mode; a refused configuration is an error."""

    strict_conf = True

    def __init__(self, build, base, cert, key, port, dns_port, name,
                 rate_limit):
        super().__init__(build, base, cert, key, port, dns_port, name=name)
        self.rate_limit = rate_limit
        self.pids = {}

    def conf_text(self, limits):
        return super().conf_text(limits).replace(
            "# bench_submission.py", f"# bench_rate.py, mode {self.name}")

    def seed(self, pristine):
        """The state database and keys of the setup daemon, copied."""
        for d in ("state", "keys"):
            subprocess.run(["cp", "-a", pristine[d], self.dirs[d]],
                           check=True, timeout=60)

    def start(self):
        super().start()
        doc = self.ctl("show", "status")
        self.pids = {p["name"]: p["pid"] for p in doc["processes"]}
        for p in ("lka", "smtp"):
            if p not in self.pids:
                raise RuntimeError(f"{self.name}: no {p} process in "
                                   f"`show status`: {doc}")


# ----------------------------------------------------------------- set up

def populate(build, base, cert, key, dns, nconn):
    """The state database with nconn connectors (bench and r1..): its
    directories (state, keys) and bench's user and password."""
    setup = RateDaemon(build, base, cert, key, free_port(), dns.port,
                       "setup", 0)
    try:
        setup.start()
        user, password = bs.sendgated_sender(setup, dns)
    finally:
        setup.stop()
    state = setup.dirs["state"]
    db = os.path.join(state, "sendgate.db")
    st = os.stat(state)
    now = int(time.time())
    con = sqlite3.connect(db)
    try:
        (cid,) = con.execute("SELECT id FROM connector WHERE name = ?",
                             (CONNECTOR,)).fetchone()
        (did,) = con.execute("SELECT id FROM domain WHERE name = ?",
                             (DOMAIN,)).fetchone()
        cred = con.execute("SELECT salt, hash FROM credential WHERE "
                           "connector = ?", (cid,)).fetchall()
        if len(cred) != 1:
            raise RuntimeError(f"{len(cred)} credentials for {CONNECTOR}")
        salt, hsh = cred[0]
        dcols = [r[1] for r in con.execute("PRAGMA table_info(domain)")
                 if r[1] not in ("id", "connector", "name", "token")]
        kcols = [r[1] for r in con.execute("PRAGMA table_info(dkim_key)")
                 if r[1] not in ("id", "domain")]
        nkeys = con.execute("SELECT count(*) FROM dkim_key WHERE domain = "
                            "?", (DOMAIN,)).fetchone()[0]
        with con:
            for i in range(1, nconn):
                cur = con.execute("INSERT INTO connector (name, created) "
                                  "VALUES (?, ?)", (other_name(i), now))
                c = cur.lastrowid
                con.execute("INSERT INTO credential (connector, username, "
                            "salt, hash, created) VALUES (?, ?, ?, ?, ?)",
                            (c, other_name(i), salt, hsh, now))
                con.execute(
                    f"INSERT INTO domain (connector, name, token, "
                    f"{', '.join(dcols)}) SELECT ?, ?, ?, "
                    f"{', '.join(dcols)} FROM domain WHERE id = ?",
                    (c, other_domain(i), secrets.token_hex(20), did))
                con.execute(
                    f"INSERT INTO dkim_key (domain, {', '.join(kcols)}) "
                    f"SELECT ?, {', '.join(kcols)} FROM dkim_key WHERE "
                    f"domain = ?", (other_domain(i), DOMAIN))
            # No domain check (hence no DNS) during the runs.
            con.execute("UPDATE domain SET last_check = ?, next_check = ?",
                        (now, now + NEXT_CHECK_S))
        counts = [con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("connector", "credential", "domain",
                            "dkim_key")]
        if counts[:3] != [nconn] * 3 or counts[3] != nconn * nkeys:
            raise RuntimeError(f"rows connector, credential, domain, "
                               f"dkim_key: {counts}, want {nconn} each "
                               f"({nkeys} keys per domain)")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    for name in os.listdir(state):
        os.chown(os.path.join(state, name), st.st_uid, st.st_gid)
    return {"state": state, "keys": setup.dirs["keys"]}, user, password


# ------------------------------------------------------------------ runs

def warm_connectors(daemon, load, password, nconn, parallel, bound_s):
    """One message through each of r1..r(nconn-1), `parallel` smtpload
    runs at once: lka then holds a counter for every connector.
    (accepted, failed, first error, seconds)."""
    todo = list(range(1, nconn))
    running, ok, failed, first = [], 0, 0, ""
    t0 = time.monotonic()
    try:
        while todo or running:
            if time.monotonic() - t0 > bound_s:
                raise RuntimeError(f"{daemon.name}: warming the connectors "
                                   f"took over {bound_s} s ({ok} done)")
            while todo and len(running) < parallel:
                i = todo.pop(0)
                cmd = load.send_cmd(daemon.port, other_name(i), password, 1, 1,
                                    per_conn=1, deadline=60,
                                    sender=f"warm@{other_domain(i)}")
                running.append((i, subprocess.Popen(
                    cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                    stdin=subprocess.DEVNULL, text=True)))
            still = []
            for i, p in running:
                if p.poll() is None:
                    still.append((i, p))
                    continue
                out = p.stdout.read()
                p.stdout.close()
                try:
                    r = json.loads(out.strip().splitlines()[-1])
                    good, err = r["ok"] == 1, r.get("first_error") or ""
                except (ValueError, IndexError, KeyError):
                    good, err = False, f"smtpload exit {p.returncode}: {out}"
                if good:
                    ok += 1
                else:
                    failed += 1
                    first = first or f"{other_name(i)}: {err}"
            running = still
            time.sleep(0.003)
    finally:
        # Also on a deadline or a signal: no generator is left behind.
        for _i, p in running:
            if p.poll() is None:
                p.kill()
            p.wait()
    return ok, failed, first, time.monotonic() - t0


def sched_s(pid):
    """CPU seconds of a process, all its threads, from
    /proc/PID/task/*/schedstat (ns: finer than the 10 ms ticks of
    /proc/PID/stat, which at 0.1 ms of lka per message would be a 3 %
    step over 3,000 messages)."""
    t = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0.0
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                t += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return t / 1e9


def measured_run(daemon, load, user, password, dns, args):
    """One generator run against daemon: rate, and CPU per accepted
    message of each of its processes (schedstat), of the whole daemon,
    of the generator and of the machine."""
    pids = daemon.pids
    cpu0 = {k: sched_s(pids[k]) for k in pids}
    tree0, busy0 = tree_cpu(daemon.proc.pid), machine_busy()
    q0 = len(dns.queries)
    r = load.send(daemon.port, user, password, args.sessions,
                  args.messages)
    busy = machine_busy() - busy0
    tree = tree_cpu(daemon.proc.pid) - tree0
    n = max(r["ok"], 1)
    per = {k: 1000 * (sched_s(pids[k]) - cpu0[k]) / n for k in pids}
    wall = r["wall_s"] or 1e-9
    ncpu = os.cpu_count() or 1
    return {"rate": r["msgs_per_s"], "ok": r["ok"], "failed": r["failed"],
            "first_error": r["first_error"], "wall_s": r["wall_s"],
            "p50_ms": r["lat_ms"]["p50"], "p99_ms": r["lat_ms"]["p99"],
            "ms_per_msg": per, "lka_ms": per["lka"], "smtp_ms": per["smtp"],
            "daemon_ms": sum(per.values()),
            "daemon_tick_ms": 1000 * tree / n, "gen_ms": 1000 * r["cpu_s"] / n,
            "busy_ms": 1000 * busy / n,
            "busy_pct": 100 * busy / (wall * ncpu),
            "other_pct": 100 * max(0.0, busy - tree - r["cpu_s"]) /
            (wall * ncpu),
            "dns_queries": len(dns.queries) - q0}


def saved_counters(daemon):
    """Rows of the `rate` table in the daemon's state database (read
    only): the connectors whose counters lka has written; None if this
    build has no such table."""
    db = os.path.join(daemon.dirs["state"], "sendgate.db")
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute("SELECT count(*) FROM rate").fetchone()[0]
    except sqlite3.OperationalError:
        return None
    finally:
        con.close()


def counted(daemon):
    """bench's use per window from `connector show` (what lka counted):
    {window: (messages, recipients)}; {} if this build shows none."""
    doc = daemon.ctl("connector", "show", CONNECTOR)
    return {r["window"]: (r.get("messages"), r.get("recipients"))
            for r in doc.get("rates", [])}


def strace_counts(path):
    """{syscall: calls} from an `strace -c` summary."""
    out = {}
    try:
        with open(path) as f:
            for line in f:
                t = line.split()
                if len(t) < 5 or not t[3].isdigit() or t[-1] == "total":
                    continue
                out[t[-1]] = int(t[3])
    except OSError:
        pass
    return out


def strace_run(daemon, load, user, password, base, args):
    """One run of --strace-messages messages with `strace -c` attached to
    lka and smtp: {process: {syscall: calls per accepted message}}.
    Counts, not times: the machine's load changes only how many imsgs
    and events one recvmsg or epoll_wait gets."""
    procs, files = [], {}
    for name in ("lka", "smtp"):
        files[name] = os.path.join(base, f"strace-{daemon.name}-{name}")
        procs.append(subprocess.Popen(
            ["strace", "-c", "-f", "-o", files[name], "-p",
             str(daemon.pids[name])],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    try:
        time.sleep(1.0)              # attached before the load starts
        r = load.send(daemon.port, user, password, args.sessions,
                      args.strace_messages)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    n = max(r["ok"], 1)
    return {name: {k: v / n for k, v in strace_counts(f).items()}
            for name, f in files.items()}


def report_strace(st):
    """Syscalls per message of lka and smtp in A and B, and those that
    differ."""
    for proc in ("lka", "smtp"):
        a, b = st["A"].get(proc, {}), st["B"].get(proc, {})
        if not a or not b:
            log(f"   strace: no summary for {proc}")
            continue
        diff = sorted(((k, a.get(k, 0) - b.get(k, 0)) for k in
                       set(a) | set(b)), key=lambda kv: -abs(kv[1]))
        log(f"   {proc} syscalls per message: A {sum(a.values()):.2f}, B "
            f"{sum(b.values()):.2f}; differences: " + (", ".join(
                f"{k} {d:+.2f}" for k, d in diff if abs(d) >= 0.05)
                or "none"))


def enforcement_probe(daemon, load, user, password):
    """On A: bench at messages/minute 1 (it sent thousands in the last
    minute): is a message refused?  (refused, detail)."""
    daemon.ctl("connector", "limit", CONNECTOR, "messages/minute", "1")
    try:
        r = load.send(daemon.port, user, password, 1, 1, per_conn=1,
                      deadline=60)
    finally:
        daemon.ctl("connector", "limit", CONNECTOR, "messages/minute",
                   "default")
    return r["ok"] == 0, (r.get("first_error") or
                          f"{r['ok']} accepted")


# ---------------------------------------------------------------- report

def med(xs):
    return statistics.median(xs) if xs else 0.0


def summarize(name, runs):
    rates = [r["rate"] for r in runs]
    m = med(rates)
    s = {"rate": m, "rates": rates,
         "spread_pct": 100 * (max(rates) - min(rates)) / m if m else 0.0,
         "failed": sum(r["failed"] for r in runs),
         "first_error": next((r["first_error"] for r in runs
                              if r["first_error"]), "")}
    for k in ("lka_ms", "smtp_ms", "daemon_ms", "gen_ms", "busy_ms",
              "busy_pct", "other_pct", "p99_ms"):
        s[k] = med([r[k] for r in runs])
    # Per run, CPU per message relative to the generator's in the same
    # run: the generator's work is the same in A and B, its CPU time per
    # message swells with the machine's contention (other processes, the
    # sibling hyperthread) like everyone's: the ratio cancels that.
    for k in ("lka", "smtp", "daemon"):
        s[f"{k}_rel"] = med([r[f"{k}_ms"] / r["gen_ms"] for r in runs
                             if r["gen_ms"]])
    s["dns_queries"] = sum(r["dns_queries"] for r in runs)
    s["per_process_ms"] = {k: med([r["ms_per_msg"].get(k, 0.0)
                                   for r in runs])
                           for k in runs[0]["ms_per_msg"]}
    log(f"-- {name}: {m:.1f} msgs/s (median of {len(runs)}: "
        f"{', '.join(f'{x:.0f}' for x in rates)}; range "
        f"{s['spread_pct']:.1f} % of the median); CPU per message "
        f"(medians): lka {s['lka_ms']:.3f} ms, smtp {s['smtp_ms']:.3f} ms,"
        f" whole sendgated {s['daemon_ms']:.3f} ms, generator "
        f"{s['gen_ms']:.3f} ms, machine {s['busy_ms']:.3f} ms; p99 "
        f"{s['p99_ms']:.1f} ms; machine busy {s['busy_pct']:.0f} %, other "
        f"processes {s['other_pct']:.0f} %")
    log("   CPU per message by process (medians): " + ", ".join(
        f"{k} {v:.3f} ms" for k, v in s["per_process_ms"].items()))
    return s


def report(out, args):
    a = summarize("A (rate limits on) ", out["A"])
    b = summarize("B (rate limits off)", out["B"])
    good = True
    over = 100 * (1 - a["rate"] / b["rate"]) if b["rate"] else 100.0
    pairs = [100 * (1 - ra["rate"] / rb["rate"])
             for ra, rb in zip(out["A"], out["B"]) if rb["rate"]]
    spread = max(a["spread_pct"], b["spread_pct"])
    log()
    log(f"=> accepted msgs/s: A {a['rate']:.1f}, B {b['rate']:.1f}: "
        f"overhead 1 - A/B = {over:+.2f} % (goal <= "
        f"{GOAL_OVERHEAD_PCT:.0f} %): "
        + ("met" if over <= GOAL_OVERHEAD_PCT else "NOT met"))
    log(f"   per pair (A_i vs B_i): "
        f"{', '.join(f'{p:+.1f}' for p in pairs)} % (median "
        f"{med(pairs):+.2f} %)")
    if spread >= abs(over) or spread >= GOAL_OVERHEAD_PCT:
        log(f"   !! run-to-run spread (range of one mode's rates: A "
            f"{a['spread_pct']:.1f} %, B {b['spread_pct']:.1f} % of the "
            f"median) is larger than "
            + (f"the measured effect ({over:+.2f} %)"
               if spread >= abs(over) else
               f"the {GOAL_OVERHEAD_PCT:.0f} % being measured")
            + ": the throughput comparison cannot resolve it on this "
            "machine; the CPU per message below is the steadier measure")
    d_lka = a["lka_ms"] - b["lka_ms"]
    d_smtp = a["smtp_ms"] - b["smtp_ms"]
    d_all = a["daemon_ms"] - b["daemon_ms"]
    log(f"=> CPU per accepted message (medians; steadier than msgs/s on "
        f"this noisy 2-core machine): lka A {a['lka_ms']:.3f} / B "
        f"{b['lka_ms']:.3f} ms ({1000 * d_lka:+.0f} us), smtp A "
        f"{a['smtp_ms']:.3f} / B {b['smtp_ms']:.3f} ms "
        f"({1000 * d_smtp:+.0f} us), whole sendgated A "
        f"{a['daemon_ms']:.3f} / B {b['daemon_ms']:.3f} ms "
        f"({1000 * d_all:+.0f} us)")
    # Contention-adjusted differences: the ratio to the generator's CPU,
    # times B's generator CPU per message.
    g = b["gen_ms"]
    adj = {k: (a[f"{k}_rel"] - b[f"{k}_rel"]) * g
           for k in ("lka", "smtp", "daemon")}
    pair_smtp = [100 * ((ra["smtp_ms"] / ra["gen_ms"]) /
                        (rb["smtp_ms"] / rb["gen_ms"]) - 1)
                 for ra, rb in zip(out["A"], out["B"])
                 if ra["gen_ms"] and rb["gen_ms"] and rb["smtp_ms"]]
    log(f"   relative to the generator's CPU per message in the same run "
        f"(its work is the same in A and B; the ratio cancels the "
        f"contention that inflates every process's CPU time on this "
        f"shared machine): lka {1000 * adj['lka']:+.0f} us "
        f"({100 * adj['lka'] / b['lka_ms'] if b['lka_ms'] else 0:+.1f} %),"
        f" smtp {1000 * adj['smtp']:+.0f} us "
        f"({100 * adj['smtp'] / b['smtp_ms'] if b['smtp_ms'] else 0:+.1f}"
        f" %; per pair {', '.join(f'{p:+.1f}' for p in pair_smtp)} %), "
        f"whole sendgated {1000 * adj['daemon']:+.0f} us")
    # When the machine is the limit, the rate goes as 1 / (CPU per
    # message of the bench: sendgated + generator); the feature touches
    # lka and smtp only (the other processes' differences are noise).
    # When the smtp process is (near a full core on a quiet machine: see
    # bench_submission), as 1 / smtp's CPU per message.
    extra = adj["lka"] + adj["smtp"]
    base_ms = b["daemon_ms"] + b["gen_ms"]
    est = 100 * extra / (base_ms + extra) if base_ms else 0.0
    est_smtp = 100 * adj["smtp"] / (b["smtp_ms"] + adj["smtp"]) \
        if b["smtp_ms"] else 0.0
    log(f"   CPU-based estimates of the overhead (adjusted): if both "
        f"cores are the limit, extra lka + smtp CPU / (sendgated + "
        f"generator per message in B, {base_ms:.2f} ms) = {est:+.2f} %; "
        f"if the smtp process is the limit, extra smtp / smtp = "
        f"{est_smtp:+.2f} %")
    if max(est, est_smtp) > GOAL_OVERHEAD_PCT:
        log(f"   !! a CPU-based estimate exceeds {GOAL_OVERHEAD_PCT:.0f} %:"
            " on a quiet machine the rate overhead may too")
    if out.get("strace"):
        log(f"=> syscalls per accepted message (strace -c on lka and smtp,"
            f" one more run of {args.strace_messages} messages per mode; "
            "counts, not times: the machine's load changes only how many "
            "imsgs and events one recvmsg or epoll_wait gets):")
        report_strace(out["strace"])
    for n in out["notes"]:
        log(f"note: {n}")
    dnsq = a["dns_queries"] + b["dns_queries"]
    if dnsq:
        log(f"   note: {dnsq} DNS questions during the runs")
    for name, s in (("A", a), ("B", b)):
        if s["failed"]:
            log(f"=> {name}: {s['failed']} messages failed: "
                f"{s['first_error']}")
            good = False
        if s["other_pct"] > 10:
            log(f"   !! other processes used {s['other_pct']:.0f} % of "
                f"the machine during the {name} runs (median): the "
                "numbers are not reliable")
    enforced = out.get("enforced")
    if enforced is not None:
        ok, detail = enforced
        log("=> A enforces limits: " + (
            f"yes (bench at messages/minute 1: {detail})" if ok else
            f"NO: a message was accepted over messages/minute 1 ({detail})"
            ": this build has no rate check, A measured nothing more "
            "than B"))
        good &= ok
    if over > GOAL_OVERHEAD_PCT:
        good = False
    summary = {"bench": "rate", "ok": good, "params": out["params"],
               "A": a, "B": b, "overhead_pct": over, "pairs_pct": pairs,
               "cpu_estimate_pct": est, "smtp_estimate_pct": est_smtp,
               "cpu_adjusted_us": {k: 1000 * v for k, v in adj.items()},
               "pairs_smtp_rel_pct": pair_smtp,
               "enforced": enforced[0] if enforced else None,
               "warm": out.get("warm"), "saved": out.get("saved"),
               "counted": out.get("counted"), "strace": out.get("strace"),
               "notes": out["notes"]}
    log("\nbench_rate: " + ("goal met" if good else
                            "goal NOT met or a run failed"))
    log(json.dumps(summary))
    return 0 if good else 1


# ------------------------------------------------------------------ main

def inner(args):
    ncpu = os.cpu_count() or 1
    build = os.path.abspath(args.build)
    base = tempfile.mkdtemp(prefix="sendgate-ratebench-", dir="/tmp")
    os.chmod(base, 0o755)
    daemons, dns = [], None
    out = {"A": [], "B": [], "notes": [], "params": {
        "connectors": args.connectors, "sessions": args.sessions,
        "messages": args.messages, "size": args.size, "reps": args.reps,
        "per_conn": args.per_conn, "warm_connectors": args.warm_connectors,
        "strace_messages": args.strace_messages,
        "limit": HIGH_LIMIT}}
    try:
        bs.namespace_etc(base)
        cert, key = bs.make_cert(base, args.cert)
        load = Load(os.path.join(build, "smtpload"), args)
        dns = bs.quiet_dns_fixture()
        t0 = time.monotonic()
        pristine, user, password = populate(build, base, cert, key, dns,
                                            args.connectors)
        log(f"bench_rate: {args.connectors} connectors, each with a "
            f"verified domain, written in {time.monotonic() - t0:.1f} s; "
            f"{args.sessions} sessions, {args.per_conn} message(s) per "
            f"connection, {args.size}-byte bodies, {args.messages} "
            f"messages per run, {args.reps} runs per mode, alternating; "
            f"STARTTLS + AUTH PLAIN; {ncpu} CPUs; network namespace with "
            "only lo")
        modes = (("A", HIGH_LIMIT), ("B", 0))
        by = {}
        for name, limit in modes:
            d = RateDaemon(build, base, cert, key, free_port(), dns.port,
                           name.lower(), limit)
            daemons.append(d)
            d.seed(pristine)
            d.start()
            by[name] = d
            n = len(d.ctl("connector", "list").get("connectors", []))
            if n != args.connectors:
                raise RuntimeError(f"{name}: `connector list` shows {n} "
                                   f"connectors, want {args.connectors}")
            probe = load.send(d.port, user, password, 1, 1, per_conn=1,
                              deadline=60)
            if probe["ok"] != 1:
                raise RuntimeError(f"{name}: probe message failed: "
                                   f"{probe['first_error']}")
            what = (f"limit messages|recipients {limit} per minute|hour|"
                    "day" if limit else "every limit 0 (none)")
            log(f"sendgated {name}: 127.0.0.1:{d.port}, {what}; lka "
                f"{d.pids['lka']}, smtp {d.pids['smtp']}; {n} connectors")
        for name, d in by.items():
            nwarm = min(args.warm_connectors, args.connectors - 1)
            if nwarm > 0:
                ok, failed, first, secs = warm_connectors(
                    d, load, password, nwarm + 1, args.warm_parallel,
                    args.run_timeout)
                out.setdefault("warm", {})[name] = [ok, failed]
                log(f"  {name}: one message through each of {nwarm} other "
                    f"connectors: {ok} accepted, {failed} failed in "
                    f"{secs:.1f} s" + (f" ({first})" if failed else ""))
                if failed:
                    raise RuntimeError(f"{name}: warming the connectors: "
                                       f"{failed} failed: {first}")
            warm = min(args.messages, max(args.sessions * args.per_conn,
                                          200))
            w = load.send(d.port, user, password, args.sessions, warm)
            log(f"  {name}: warm-up {w['ok']}/{warm} messages through "
                f"{CONNECTOR}, {w['msgs_per_s']:.0f}/s")
        # lka writes changed counters every 2 s: by then every connector
        # that sent has its row.
        time.sleep(3)
        out["saved"] = {name: saved_counters(d) for name, d in by.items()}
        if out["saved"]["A"] is not None:
            log(f"  rate counters in the state database: A "
                f"{out['saved']['A']}, B {out['saved']['B']} connectors")
            want = 1 + min(args.warm_connectors, args.connectors - 1)
            if out["saved"]["A"] < want:
                out["notes"].append(
                    f"A's lka saved counters for {out['saved']['A']} "
                    f"connectors, {want} sent: not every one is live")
        sent = {name: 0 for name in by}
        for i in range(args.reps):
            for name, _limit in modes:
                quiet = bs.settle(args.settle, ncpu, QUIET_PCT)
                r = measured_run(by[name], load, user, password, dns, args)
                out[name].append(r)
                sent[name] += r["ok"]
                log(f"  {name}{i + 1}: {r['ok']}/{args.messages} in "
                    f"{r['wall_s']:.2f} s = {r['rate']:.1f}/s; CPU/msg lka "
                    f"{r['lka_ms']:.3f} ms, smtp {r['smtp_ms']:.3f} ms, "
                    f"sendgated {r['daemon_ms']:.3f} ms, generator "
                    f"{r['gen_ms']:.3f} ms; p99 {r['p99_ms']:.1f} ms; "
                    f"machine busy {r['busy_pct']:.0f} % (other "
                    f"{r['other_pct']:.0f} %; {quiet:.0f} % the second "
                    "before)"
                    + (f"; FAILED {r['failed']}: {r['first_error']}"
                       if r["failed"] else ""))
        for name, d in by.items():
            if d.proc.poll() is not None:
                raise RuntimeError(f"{name}: sendgated exited:\n"
                                   + d.logtext()[-3000:])
        for name, d in by.items():
            c = counted(d)
            if c:
                out.setdefault("counted", {})[name] = c
                log(f"  {name}: lka counted for {CONNECTOR} (messages, "
                    f"recipients): "
                    + ", ".join(f"{w} {m}, {r}" for w, (m, r) in c.items())
                    + f"; {sent[name]} messages in the measured runs")
        if args.strace_messages and shutil.which("strace"):
            st = {name: strace_run(d, load, user, password, base, args)
                  for name, d in by.items()}
            out["strace"] = st
        elif args.strace_messages:
            out["notes"].append("strace missing: no syscall counts")
        if not args.no_enforcement_probe:
            out["enforced"] = enforcement_probe(by["A"], load, user,
                                                password)
    except BaseException:
        for d in daemons:
            if d.logf is not None:
                log(f"sendgated {d.name} log (tail):\n"
                    + d.logtext()[-2000:])
        raise
    finally:
        for d in daemons:
            d.stop()
        if dns is not None:
            dns.stop()
        shutil.rmtree(base, ignore_errors=True)
    return report(out, args)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("build", nargs="?", default="build")
    p.add_argument("--connectors", type=int, default=1000,
                   help="connectors in the state database (1000)")
    p.add_argument("--warm-connectors", type=int, default=999,
                   help="other connectors that send one message before "
                        "the runs (999; 0: none)")
    p.add_argument("--warm-parallel", type=int, default=6,
                   help="smtpload runs at once while warming them (6)")
    bs.add_load_options(p, messages=3000, reps=5, per="mode")
    p.add_argument("--settle", type=int, default=10,
                   help="wait at most S s for a quiet second before each "
                        "run (10)")
    p.add_argument("--strace-messages", type=int, default=600,
                   help="after the measured runs, one run of N messages "
                        "per mode with strace -c on lka and smtp, for "
                        "syscalls per message (600; 0: none)")
    p.add_argument("--no-enforcement-probe", action="store_true")
    p.add_argument("--max-seconds", type=int, default=900,
                   help="bound of the whole benchmark, s (900)")
    return p.parse_args()


def main():
    args = parse_args()
    if os.geteuid() != 0:
        log("bench_rate: sendgated must be started as root; skipped")
        return 0
    if args.connectors < 1 or args.reps < 1:
        log("bench_rate: --connectors and --reps must be at least 1")
        return 1
    build = os.path.abspath(args.build)
    for exe in ("smtpload", "sendgated", "sendgatectl"):
        if not os.access(os.path.join(build, exe), os.X_OK):
            log(f"bench_rate: {build}/{exe} missing: run make all "
                "bench-tools first")
            return 1
    for tool in ("unshare", "ip", "openssl", "mount", "cp"):
        if shutil.which(tool) is None:
            log(f"bench_rate: {tool} missing")
            return 1
    bs.raise_nofile()
    if os.environ.get(NS_ENV) != "1":
        return bs.run_in_namespace(__file__, sys.argv[1:], args.max_seconds,
                                   "bench_rate")

    return bs.run_bounded(inner, args, "bench_rate", "rate",
                          (sqlite3.Error, KeyError, ValueError))


if __name__ == "__main__":
    sys.exit(main())
