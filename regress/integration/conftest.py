"""Fixtures for the integration suite: a real sendgated started as root on
loopback with a test configuration in a temporary directory.

SENDGATE_BUILD points at the build directory (default ../../build).
SENDGATE_STRACE=1 runs every daemon under strace (seccomp in log mode) and
prints, at the end of the session, the system calls each process made after
its filter was loaded: that is how the allow-lists in */*_sandbox.c are
measured.
"""
import collections
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time

import pytest

from dnsfixture import DNSFixture

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("SENDGATE_BUILD", os.path.join(TOP, "build"))
SENDGATED = os.path.join(BUILD, "sendgated")
SENDGATECTL = os.path.join(BUILD, "sendgatectl")
STRACE = os.environ.get("SENDGATE_STRACE") == "1"
# SENDGATE_SANITIZED=1: the daemon is the ASan/UBSan build.  Its runtime
# makes calls the allow-lists do not have, so seccomp logs instead of
# killing, and every relay's log is searched for sanitizer reports.
SANITIZED = os.environ.get("SENDGATE_SANITIZED") == "1"
# Under strace everything is several times slower (RSA key generation
# makes thousands of calls): stretch every deadline.
SLOW = 6 if STRACE else 1

CHILDREN = ["smtp", "lka", "queue", "mta", "signer", "control"]
PROCESSES = ["parent"] + CHILDREN

# A member of the control group that is not root: may read, not change.
GROUP_MEMBER = ["--reuid=nobody", "--regid=_sendgatectl", "--clear-groups"]

_syscalls = collections.defaultdict(set)


def wait_for(predicate, timeout=10):
    """Poll until predicate() is true, for what a process does after it
    answered (the signer removing key files)."""
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


def free_port():
    return free_ports(1)[0]


def free_ports(n):
    """n distinct free ports: all n sockets stay bound until each has its
    port.  Two free_port() calls in a row can get the same port back (the
    first socket is closed by then), and a relay with both listeners on
    one port refuses its configuration ("duplicate listener")."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.bind(("127.0.0.1", 0))
        return tuple(s.getsockname()[1] for s in socks)
    finally:
        for s in socks:
            s.close()


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-days", "2", "-subj", "/CN=localhost",
         "-keyout", str(d / "relay.key"), "-out", str(d / "relay.crt")],
        check=True, capture_output=True)
    os.chmod(d / "relay.key", 0o600)
    return d


class Relay:
    """One sendgated instance with its own directories and ports."""

    def __init__(self, base, pki):
        self.base = base
        self.pki = pki
        self.socket = str(base / "sendgated.sock")
        self.conf = str(base / "sendgated.conf")
        self.log = str(base / "sendgated.log")
        self.ports = free_ports(2)
        self.proc = None
        self.dirs = {
            "queue": str(base / "spool"),
            "state": str(base / "state"),
            "keys": str(base / "keys"),
            "empty": str(base / "empty"),
        }
        self.extra = ""
        self.dns = None
        self.start_cmd = []     # a wrapper, e.g. strace, before sendgated
        # Tests that look at the queue keep their messages there: the
        # relay starts with delivery paused unless a test wants it.
        self.deliver = False

    def write_conf(self):
        hold = "" if self.deliver else "mta paused\n"
        with open(self.conf, "w") as f:
            f.write(f"""# integration test relay
hostname relay.test
queue "{self.dirs['queue']}"
state "{self.dirs['state']}"
keys "{self.dirs['keys']}"
empty "{self.dirs['empty']}"
socket "{self.socket}"
pki relay cert "{self.pki}/relay.crt" key "{self.pki}/relay.key"
listen on 127.0.0.1 port {self.ports[0]} tls pki relay
listen on 127.0.0.1 port {self.ports[1]} smtps pki relay
{hold}{self.resolver()}{self.extra}""")

    def resolver(self):
        """Never the machine's resolver: the test's own DNS server."""
        if "resolver " in self.extra:
            return ""
        if self.dns is None:
            self.dns = DNSFixture()
        return self.dns.config()

    def start(self, wait=True, args=()):
        """Start sendgated; when a port free_port() picked was taken by
        someone else before sendgated bound it, again on other ports."""
        for attempt in range(5):
            logsize = os.path.getsize(self.log) \
                if os.path.exists(self.log) else 0
            self.start_once(wait, args)
            if not wait or not self.port_was_taken(logsize):
                break
            self.ports = free_ports(2)
        if wait:
            self.wait_ready()
        return self

    def port_was_taken(self, logsize):
        """The start failed on a listener's bind (EADDRINUSE); waits until
        sendgated is ready or has exited (wait_ready tells which)."""
        deadline = time.time() + 20 * SLOW
        while time.time() < deadline:
            with open(self.log, "rb") as f:
                f.seek(logsize)
                text = f.read()
            if b"ready," in text:
                return False
            if self.proc.poll() is not None:
                return b": bind: Address already in use" in text
            time.sleep(0.02)
        return False

    def start_once(self, wait, args):
        self.write_conf()
        cmd = [SENDGATED, "-d", "-v", "-f", self.conf] + list(args)
        if SANITIZED:
            cmd.append("-L")
        if self.start_cmd:
            cmd = self.start_cmd + cmd
        elif STRACE:
            self.trace = str(self.base / "trace")
            cmd = ["strace", "-f", "-ff", "-qq", "-o", self.trace] + \
                cmd + ["-L"]
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=self.logf)

    def wait_ready(self, timeout=20):
        deadline = time.time() + timeout * SLOW
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"sendgated exited {self.proc.returncode}:\n"
                    + self.logtext())
            if "ready," in self.logtext():
                return
            time.sleep(0.05)
        raise AssertionError("sendgated not ready:\n" + self.logtext())

    def logtext(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def ctl(self, *args, json_out=False, user=None, check=False):
        cmd = [SENDGATECTL, "-s", self.socket]
        if json_out:
            cmd.append("-j")
        cmd += list(args)
        if user is not None:
            cmd = ["setpriv"] + user + ["--"] + cmd
        r = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=30 * SLOW)
        if check:
            assert r.returncode == 0, r.stderr
        return r

    def status(self):
        r = self.ctl("show", "status", json_out=True, check=True)
        return {p["name"]: p for p in json.loads(r.stdout)["processes"]}

    def pids(self):
        return {name: p["pid"] for name, p in self.status().items()}

    def wait_exit(self, timeout=20):
        try:
            return self.proc.wait(timeout=timeout * SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("sendgated did not exit:\n"
                                 + self.logtext())

    def daemon_pid(self):
        """The sendgated parent: under strace, strace's child."""
        if not STRACE and not self.start_cmd:
            return self.proc.pid
        with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") \
                as f:
            return int(f.read().split()[0])

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        os.kill(self.daemon_pid(), signal.SIGTERM)
        return self.wait_exit()

    def restart(self):
        """A new sendgated on the same configuration and directories; the
        log of the previous one moves to sendgated.log.1."""
        assert self.stop() == 0, self.logtext()
        self.logf.close()
        os.replace(self.log, self.log + ".1")
        return self.start()

    def state_db(self):
        return os.path.join(self.dirs["state"], "sendgate.db")

    def state_query(self, sql, args=()):
        """Rows of a query on the state database, read-only."""
        con = sqlite3.connect(f"file:{self.state_db()}?mode=ro", uri=True)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def state_dump(self):
        """Every row of every table of the state database, and the names
        of the private key files: what "nothing changed" compares."""
        tables = [t for (t,) in self.state_query(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
        dump = {t: sorted(self.state_query(f'SELECT * FROM "{t}"'),
                          key=repr) for t in sorted(tables)
                if t not in ("domain", "event")}
        # The domain checks run on their own while a test goes on: their
        # results and events are not what a refused command changes.
        dump["domain"] = sorted(self.state_query(
            "SELECT id, connector, name, token, state, created "
            "FROM domain"), key=repr)
        dump["event"] = sorted(self.state_query(
            "SELECT * FROM event WHERE actor != -1"), key=repr)
        dump["key files"] = sorted(os.listdir(self.dirs["keys"]))
        return dump

    def assert_refused(self, rows, user=None):
        """Each row (sendgatectl arguments, message) is refused: exit 1,
        the one line "sendgatectl: message" on stderr, nothing on stdout,
        and nothing changed.  Every row runs; the failures are listed."""
        failed = []
        for args, message in rows:
            before = self.state_dump()
            r = self.ctl(*args, user=user)
            got = (r.returncode, r.stdout, r.stderr)
            want = (1, "", f"sendgatectl: {message}\n")
            if got != want:
                failed.append(f"{args!r}: want {want!r}, got {got!r}")
            elif self.state_dump() != before:
                failed.append(f"{args!r}: the state changed")
        assert not failed, "\n".join(failed)

    def collect_trace(self):
        """Syscalls each child made after loading its seccomp filter."""
        if not STRACE:
            return
        for name in os.listdir(self.base):
            if not name.startswith("trace."):
                continue
            proc, after = None, False
            with open(self.base / name, errors="replace") as f:
                for line in f:
                    m = re.match(r'execve\("[^"]*", \["sendgated", "-x", '
                                 r'"(\w+)"', line)
                    if m:
                        proc = m.group(1)
                    if line.startswith("seccomp("):
                        after = True
                        continue
                    if after and proc:
                        m = re.match(r"(\w+)\(", line)
                        if m:
                            _syscalls[proc].add(m.group(1))


@pytest.fixture
def relay_factory(pki):
    # Not pytest's tmp_path: its parent is mode 0700, and the tests run
    # sendgatectl as an unprivileged member of _sendgatectl, who must be
    # able to reach the socket.
    top = pathlib.Path(tempfile.mkdtemp(prefix="sendgate-test-", dir="/tmp"))
    os.chmod(top, 0o755)
    made = []

    def make(name="relay"):
        base = top / name
        base.mkdir()
        os.chmod(base, 0o755)
        r = Relay(base, pki)
        made.append(r)
        return r

    yield make
    reports = []
    for r in made:
        r.stop()
        if getattr(r, "logf", None):
            r.logf.close()
            if SANITIZED:
                reports += [ln for ln in r.logtext().splitlines()
                            if "Sanitizer" in ln or "runtime error" in ln]
        if r.dns is not None:
            r.dns.stop()
        r.collect_trace()
    # SENDGATE_KEEP=1 keeps the directories (logs, queue) for a look.
    if not os.environ.get("SENDGATE_KEEP"):
        shutil.rmtree(top, ignore_errors=True)
    assert not reports, "sanitizer reports:\n" + "\n".join(reports)


@pytest.fixture
def relay(relay_factory):
    return relay_factory().start()


def pytest_sessionfinish(session, exitstatus):
    if not STRACE:
        return
    out = os.path.join(HERE, "sandbox-syscalls.txt")
    with open(out, "w") as f:
        for proc in sorted(_syscalls):
            f.write(f"{proc}: {' '.join(sorted(_syscalls[proc]))}\n")
    print(f"\nsyscalls per process written to {out}")
