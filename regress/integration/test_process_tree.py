"""The privilege-separated process tree: titles, confinement, supervision."""
import os
import pwd
import re
import signal

import pytest

from conftest import CHILDREN, PROCESSES

# Who each child runs as and which directory is its root (DESIGN.md).
EXPECTED = {
    "smtp": ("_sendgate", "empty"),
    "lka": ("_sendgate", "state"),
    "queue": ("_sendgateq", "queue"),
    "mta": ("_sendgate", "empty"),
    "signer": ("_sendgatek", "keys"),
    "control": ("_sendgate", "empty"),
}


def proc_status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f
                    if ":\t" in line)


def cmdline(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().split(b"\0")[0].decode().strip()


def test_all_seven_processes_run_with_their_titles(relay):
    pids = relay.pids()
    assert sorted(pids) == sorted(PROCESSES)
    assert pids["parent"] == relay.daemon_pid()
    for name, pid in pids.items():
        assert cmdline(pid) == f"sendgated: {name}"
        if name != "parent":
            assert int(proc_status(pid)["PPid"]) == relay.daemon_pid()


@pytest.mark.parametrize("name", CHILDREN)
def test_child_is_confined(relay, name):
    pid = relay.pids()[name]
    st = proc_status(pid)
    user, rootkey = EXPECTED[name]
    uid = pwd.getpwnam(user).pw_uid
    gid = pwd.getpwnam(user).pw_gid
    assert uid != 0
    assert st["Seccomp"] == "2"
    assert st["NoNewPrivs"] == "1"
    assert st["Uid"].split() == [str(uid)] * 4
    assert st["Gid"].split() == [str(gid)] * 4
    assert st["Groups"].split() == [str(gid)]
    assert int(st["CapEff"], 16) == 0
    assert int(st["CapPrm"], 16) == 0
    assert os.readlink(f"/proc/{pid}/root") == relay.dirs[rootkey]
    # Not dumpable: /proc/PID files of a non-dumpable process belong to root.
    assert os.stat(f"/proc/{pid}/mem").st_uid == 0


def test_parent_is_not_sandboxed_but_children_are_distinct(relay):
    pids = relay.pids()
    assert proc_status(pids["parent"])["Uid"].split()[0] == "0"
    assert len(set(pids.values())) == len(PROCESSES)


def test_sigterm_stops_everything_with_exit_zero(relay):
    pids = relay.pids()
    assert relay.stop() == 0
    for pid in pids.values():
        assert not os.path.exists(f"/proc/{pid}") or \
            proc_status(pid).get("State", "").startswith("Z")
    assert not os.path.exists(relay.socket)


def test_sigterm_to_every_process_is_an_orderly_stop(relay):
    # What `pkill sendgated` or a signal to the process group does: the
    # children ignore it and the parent stops them; nothing looks lost.
    pids = relay.pids()
    for pid in pids.values():
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass    # the parent, signalled first, already stopped it
    assert relay.wait_exit() == 0
    log = relay.logtext()
    assert "lost child" not in log
    assert "parent: received signal 15, stopping" in log


def test_sigterm_to_a_child_alone_is_ignored(relay):
    pids = relay.pids()
    os.kill(pids["lka"], signal.SIGTERM)
    import time
    time.sleep(0.5)
    assert relay.pids() == pids


@pytest.mark.parametrize("name", CHILDREN)
def test_killed_child_stops_the_daemon(relay, name):
    pids = relay.pids()
    os.kill(pids[name], signal.SIGKILL)
    rc = relay.wait_exit()
    assert rc != 0
    log = relay.logtext()
    assert f"lost child: {name} (signal 9)" in log
    for other, pid in pids.items():
        assert not os.path.exists(f"/proc/{pid}"), other


def test_children_exit_when_the_parent_is_killed(relay):
    pids = relay.pids()
    os.kill(pids["parent"], signal.SIGKILL)
    relay.wait_exit()
    import time
    deadline = time.time() + 10
    alive = []
    while time.time() < deadline:
        alive = [n for n, p in pids.items() if os.path.exists(f"/proc/{p}")]
        if not alive:
            break
        time.sleep(0.1)
    assert alive == []


def test_log_lines_carry_the_process_name(relay):
    log = relay.logtext()
    assert re.search(r"^parent: sendgated \S+ ready, 2 listeners$", log,
                     re.M)
    assert re.search(r"^smtp: listener 127\.0\.0\.1 port \d+ \(tls\) ready$",
                     log, re.M)


def test_every_listener_reaches_smtp(relay):
    log = relay.logtext()
    assert f"smtp: listener 127.0.0.1 port {relay.ports[0]} (tls) ready" \
        in log
    assert f"smtp: listener 127.0.0.1 port {relay.ports[1]} (smtps) ready" \
        in log
