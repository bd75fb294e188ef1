"""A malformed message between two processes stops the daemon in order.

The test takes a copy of mta's end of its channel to lka with
pidfd_getfd(2) (root may) and writes into it what a compromised mta could
write.  lka must log what was wrong and exit; the parent must then stop
every process and exit non-zero.
"""
import ctypes
import os
import struct

import pytest

SYS_pidfd_open = 434
SYS_pidfd_getfd = 438
PROC_FD_BASE = 3
PROC_LKA = 2
libc = ctypes.CDLL(None, use_errno=True)


def steal_fd(pid, fd):
    pidfd = libc.syscall(SYS_pidfd_open, pid, 0)
    if pidfd < 0:
        pytest.skip("pidfd_open unavailable: errno %d" % ctypes.get_errno())
    try:
        dup = libc.syscall(SYS_pidfd_getfd, pidfd, fd, 0)
        if dup < 0:
            pytest.skip("pidfd_getfd unavailable: errno %d"
                        % ctypes.get_errno())
        return dup
    finally:
        os.close(pidfd)


def header(type_, length, flags=0):
    return struct.pack("=IHHII", type_, length, flags, 0, 0)


CASES = {
    "short": (header(1, 8), "length shorter than header"),
    "long": (header(1, 40000 & 0xffff), "length above maximum"),
    "unknown-type": (header(9999, 16), "unknown message type"),
    "wrong-peer": (header(1, 16), "message type not allowed from that peer"),
    "fd-flag-without-fd": (header(1, 16, 1), "fd flag without fd"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_message_from_a_peer_stops_the_daemon(relay, case):
    data, reason = CASES[case]
    pids = relay.pids()
    fd = steal_fd(pids["mta"], PROC_FD_BASE + PROC_LKA)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    rc = relay.wait_exit()
    assert rc == 1
    log = relay.logtext()
    assert "lka: channel to mta:" in log
    assert reason in log
    assert "parent: lost child: lka (exit 1)" in log
    for name, pid in pids.items():
        assert not os.path.exists(f"/proc/{pid}"), name
