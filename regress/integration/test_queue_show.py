"""sendgatectl show queue: what the queue holds, for root and the control
group, as a table and as JSON."""
import json
import os
import stat

from test_control import GROUP_MEMBER


def test_empty_queue_shows_nothing_in_text(relay):
    r = relay.ctl("show", "queue", check=True)
    assert r.stdout == ""
    assert r.stderr == ""


def test_empty_queue_is_an_empty_list_in_json(relay):
    r = relay.ctl("show", "queue", json_out=True, check=True)
    assert json.loads(r.stdout) == {"messages": []}


def test_group_member_may_show_queue(relay):
    r = relay.ctl("show", "queue", json_out=True, user=GROUP_MEMBER)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"messages": []}


def test_show_queue_takes_no_arguments(relay):
    r = relay.ctl("show", "queue", "extra")
    assert r.returncode != 0
    assert r.stdout == ""


def test_queue_directories_are_private_to_the_queue(relay):
    """The queue creates its spool layout at start, mode 0700."""
    spool = relay.dirs["queue"]
    for d in ("incoming", "queue", "corrupt"):
        st = os.stat(os.path.join(spool, d))
        assert stat.S_ISDIR(st.st_mode)
        assert stat.S_IMODE(st.st_mode) == 0o700
        assert st.st_uid == os.stat(spool).st_uid


def test_leftovers_are_recovered_at_start(relay):
    """A body that never got its envelope is removed at start; an
    envelope that does not decode goes to corrupt/, never to delivery."""
    spool = relay.dirs["queue"]
    uid = os.stat(spool).st_uid
    files = {"incoming/0123456789abcdef": b"partial",
             "queue/1111111111111111.msg": b"body",
             "queue/2222222222222222.env": b"version 1:1\nbogus\n",
             "queue/2222222222222222.msg": b"body"}
    assert relay.stop() == 0
    for name, data in files.items():
        path = os.path.join(spool, name)
        with open(path, "wb") as f:
            f.write(data)
        os.chown(path, uid, -1)
    relay.restart()
    assert os.listdir(os.path.join(spool, "incoming")) == []
    assert os.listdir(os.path.join(spool, "queue")) == []
    assert sorted(os.listdir(os.path.join(spool, "corrupt"))) == [
        "2222222222222222.env", "2222222222222222.msg"]
    r = relay.ctl("show", "queue", json_out=True, check=True)
    assert json.loads(r.stdout) == {"messages": []}
    assert "moved to corrupt" in relay.logtext()
