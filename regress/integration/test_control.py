"""sendgatectl and the control socket: status, privileges, hostile clients."""
import grp
import json
import os
import random
import re
import socket
import stat
import struct
import time

from conftest import PROCESSES, SENDGATECTL

# A member of the control group that is not root, and a user that is neither.
GROUP_MEMBER = ["--reuid=nobody", "--regid=_sendgatectl", "--clear-groups"]
OUTSIDER = ["--reuid=nobody", "--regid=nogroup", "--clear-groups"]


def test_socket_is_group_readable_only(relay):
    st = os.stat(relay.socket)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o660
    assert st.st_uid == 0
    assert st.st_gid == grp.getgrnam("_sendgatectl").gr_gid


def test_show_status_text(relay):
    r = relay.ctl("show", "status", check=True)
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["PROCESS", "PID", "UPTIME"]
    rows = [line.split() for line in lines[1:]]
    assert [row[0] for row in rows] == PROCESSES
    for row in rows:
        assert int(row[1]) > 1
        assert re.fullmatch(r"(\d+d)?(\d+h)?(\d+m)?(\d+s)?", row[2])


def test_show_status_json(relay):
    r = relay.ctl("show", "status", json_out=True, check=True)
    doc = json.loads(r.stdout)
    assert [p["name"] for p in doc["processes"]] == PROCESSES
    for p in doc["processes"]:
        assert isinstance(p["pid"], int) and p["pid"] > 1
        assert isinstance(p["uptime"], int) and p["uptime"] >= 0
    assert doc["processes"][0]["pid"] == relay.daemon_pid()


def test_group_member_may_read_status(relay):
    r = relay.ctl("show", "status", user=GROUP_MEMBER)
    assert r.returncode == 0, r.stderr
    assert "control" in r.stdout


def test_stop_by_group_member_is_refused(relay):
    r = relay.ctl("stop", user=GROUP_MEMBER)
    assert r.returncode == 1
    assert "permission denied" in r.stderr
    assert relay.proc.poll() is None
    r = relay.ctl("log", "verbose", user=GROUP_MEMBER)
    assert r.returncode == 1
    assert "permission denied" in r.stderr


def test_outsider_cannot_connect(relay):
    r = relay.ctl("show", "status", user=OUTSIDER)
    assert r.returncode == 1
    assert "permission denied" in r.stderr


def test_stop_as_root_stops_the_daemon(relay):
    r = relay.ctl("stop", check=True)
    assert r.stdout.strip() == "sendgated stopping"
    assert relay.wait_exit() == 0
    assert "stopping on request from sendgatectl" in relay.logtext()


def test_log_verbose_and_brief(relay):
    r = relay.ctl("log", "brief", check=True)
    assert r.stdout.strip() == "logging brief"
    r = relay.ctl("log", "verbose", json_out=True, check=True)
    assert json.loads(r.stdout) == {"ok": True}
    assert "parent: verbose logging on" in relay.logtext()


def test_repeated_requests_reach_every_process(relay):
    for _ in range(3):
        relay.ctl("log", "brief", check=True)
        relay.ctl("log", "verbose", check=True)
    # The answer comes from control; the parent tells the others after.
    deadline = time.time() + 5
    while time.time() < deadline:
        log = relay.logtext()
        if all(log.count(f"{n}: verbose logging on") == 3
               for n in PROCESSES):
            break
        time.sleep(0.05)
    for name in PROCESSES:
        assert log.count(f"{name}: verbose logging on") == 3, name
    assert log.count("parent: verbose logging off") == 3
    assert relay.status().keys() == set(PROCESSES)


def test_unknown_command_is_a_usage_error(relay):
    r = relay.ctl("frobnicate")
    assert r.returncode == 2
    assert r.stderr.startswith("sendgatectl: unknown command\n"
                               "usage: sendgatectl")
    r = relay.ctl("show", "status", "extra")
    assert r.returncode == 2


def test_daemon_not_running(tmp_path):
    import subprocess
    r = subprocess.run([SENDGATECTL, "-s", str(tmp_path / "none.sock"),
                        "show", "status"], capture_output=True, text=True)
    assert r.returncode == 1
    assert "cannot connect" in r.stderr
    assert "is sendgated running?" in r.stderr


def connect(relay):
    # A full accept backlog answers EAGAIN on AF_UNIX: wait, do not fail.
    for _ in range(200):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        try:
            s.connect(relay.socket)
            return s
        except BlockingIOError:
            s.close()
            time.sleep(0.01)
    raise AssertionError("control socket backlog stayed full")


def test_malformed_request_closes_only_that_client(relay):
    good = connect(relay)
    bad = connect(relay)
    # A header that claims 8 bytes, shorter than the header itself.
    bad.sendall(struct.pack("=IHHII", 9, 8, 0, 0, 0))
    assert bad.recv(100) == b""
    # A known type from the wrong sender.
    bad = connect(relay)
    bad.sendall(struct.pack("=IHHII", 1, 16, 0, 0, 0))
    assert bad.recv(100) == b""
    assert "control client" in relay.logtext()
    good.close()
    assert sorted(relay.status()) == sorted(PROCESSES)


def test_random_bytes_on_the_control_socket_leave_the_daemon_running(relay):
    before = relay.pids()
    rnd = random.Random(7)
    socks = []
    for i in range(1000):
        if not socks or rnd.random() < 0.3:
            socks.append(connect(relay))
        s = rnd.choice(socks)
        data = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 64)))
        try:
            s.sendall(data)
        except OSError:
            socks.remove(s)
            s.close()
        if len(socks) > 20:
            socks.pop(0).close()
    for s in socks:
        s.close()
    assert relay.proc.poll() is None
    assert relay.pids() == before
