"""Start-up creates the directories with their owners and modes and refuses
unsafe paths."""
import os
import pwd
import stat

import pytest

OWNERS = {
    "queue": ("_sendgateq", 0o700),
    "state": ("_sendgate", 0o700),
    "keys": ("_sendgatek", 0o700),
    "empty": ("root", 0o755),
}


def test_directories_are_created_with_owner_and_mode(relay):
    for key, (user, mode) in OWNERS.items():
        st = os.stat(relay.dirs[key])
        assert stat.S_ISDIR(st.st_mode)
        assert st.st_uid == pwd.getpwnam(user).pw_uid, key
        assert stat.S_IMODE(st.st_mode) == mode, key


def test_wrong_owner_and_mode_are_fixed(relay_factory):
    r = relay_factory()
    os.makedirs(r.dirs["state"], mode=0o777)
    os.chmod(r.dirs["state"], 0o777)
    r.start()
    st = os.stat(r.dirs["state"])
    assert stat.S_IMODE(st.st_mode) == 0o700
    assert st.st_uid == pwd.getpwnam("_sendgate").pw_uid


def expect_refusal(r, text, socket_left=False):
    r.start(wait=False)
    rc = r.wait_exit()
    assert rc == 1
    assert text in r.logtext()
    assert os.path.exists(r.socket) == socket_left


def test_world_writable_parent_is_refused(relay_factory):
    r = relay_factory()
    unsafe = r.base / "shared"
    unsafe.mkdir()
    os.chmod(unsafe, 0o777)
    r.dirs["state"] = str(unsafe / "state")
    expect_refusal(r, f"unsafe path {unsafe}/state: {unsafe} is writable "
                      "by others")


def test_parent_owned_by_a_user_is_refused(relay_factory):
    r = relay_factory()
    owned = r.base / "owned"
    owned.mkdir()
    os.chown(owned, pwd.getpwnam("nobody").pw_uid, -1)
    r.dirs["queue"] = str(owned / "q")
    expect_refusal(r, "is owned by uid")


def test_sticky_world_writable_parent_is_accepted(relay_factory):
    r = relay_factory()
    sticky = r.base / "sticky"
    sticky.mkdir()
    os.chmod(sticky, 0o1777)
    r.dirs["keys"] = str(sticky / "keys")
    r.start()
    assert os.path.isdir(r.dirs["keys"])


def test_symlinked_directory_is_refused(relay_factory):
    r = relay_factory()
    real = r.base / "real"
    real.mkdir()
    os.symlink(real, r.base / "state")
    expect_refusal(r, "is a symbolic link")


def test_non_empty_chroot_is_refused(relay_factory):
    r = relay_factory()
    os.makedirs(r.dirs["empty"])
    open(os.path.join(r.dirs["empty"], "stray"), "w").close()
    expect_refusal(r, "must be empty (found stray)")


def test_unknown_user_is_refused(relay_factory):
    r = relay_factory()
    r.extra = "user queue nosuchuser\n"
    expect_refusal(r, "unknown user nosuchuser")


def test_second_daemon_on_the_same_socket_is_refused(relay, relay_factory):
    r = relay_factory("second")
    r.socket = relay.socket
    expect_refusal(r, "another sendgated is running", socket_left=True)
    assert relay.proc.poll() is None
