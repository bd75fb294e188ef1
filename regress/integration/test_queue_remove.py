"""sendgatectl remove ID|all: the operator takes committed messages out
of the queue (envelope, then body, then a sync of queue/), one log line
each; root only, and a message still being received is never touched."""
import json
import os
import time

from submit import (incoming, message, queued, sending_relay,
                    starttls_client)
from test_control import GROUP_MEMBER
from test_queue_show import submit


def queue_files(relay):
    return sorted(os.listdir(os.path.join(relay.dirs["queue"], "queue")))


def listed(relay, user=None):
    r = relay.ctl("show", "queue", json_out=True, user=user)
    assert r.returncode == 0, r.stderr
    return sorted(m["id"] for m in json.loads(r.stdout)["messages"])


def test_remove_id_removes_exactly_that_message_then_all(relay_factory):
    relay, user, password = sending_relay(relay_factory)
    first = submit(relay, user, password)
    second = submit(relay, user, password,
                    mail_options=["RET=HDRS", "ENVID=abc"],
                    rcpt_options=["NOTIFY=SUCCESS,FAILURE",
                                  "ORCPT=rfc822;x@example.net"])
    third = submit(relay, user, password)

    r = relay.ctl("remove", first)
    assert (r.returncode, r.stdout, r.stderr) == \
        (0, "1 message removed\n", "")
    # Their bodies (each with its envelope as an attribute, or a file
    # beside it), nothing of the first.
    assert sorted({n[:-4] for n in queue_files(relay)}) == \
        sorted([second, third])
    assert listed(relay) == sorted([second, third])
    assert f"removed {first} by uid 0" in relay.logtext()
    assert f"removed {second}" not in relay.logtext()

    # Gone: neither shown nor removable again.
    r = relay.ctl("show", "queue", first)
    assert (r.returncode, r.stderr) == (1, "sendgatectl: no such message\n")
    r = relay.ctl("remove", first)
    assert (r.returncode, r.stdout, r.stderr) == \
        (1, "", "sendgatectl: no such message\n")

    r = relay.ctl("remove", "all", json_out=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"message": "2 messages removed"}
    assert queue_files(relay) == []
    assert queued(relay) == {}
    assert listed(relay) == []
    log = relay.logtext()
    assert f"removed {second} by uid 0" in log
    assert f"removed {third} by uid 0" in log

    r = relay.ctl("remove", "all", check=True)
    assert r.stdout == "0 messages removed\n"

    # Removed stays removed across a restart.
    relay.restart()
    assert queue_files(relay) == []
    assert listed(relay) == []


def test_group_member_may_show_a_message_but_not_remove(relay_factory):
    relay, user, password = sending_relay(relay_factory)
    qid = submit(relay, user, password)
    r = relay.ctl("show", "queue", qid, json_out=True, user=GROUP_MEMBER)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["message"]["id"] == qid
    before = queue_files(relay)
    relay.assert_refused([
        (("remove", qid),
         "permission denied: only root may change the relay"),
        (("remove", "all"),
         "permission denied: only root may change the relay"),
        (("remove", "0123456789abcdef"),
         "permission denied: only root may change the relay")],
        user=GROUP_MEMBER)
    assert queue_files(relay) == before
    assert listed(relay, user=GROUP_MEMBER) == [qid]
    assert "removed " + qid not in relay.logtext()


def test_remove_unknown_or_malformed_id_is_an_error(relay):
    relay.assert_refused([
        (("remove", "0123456789abcdef"), "no such message"),
        (("remove", "0123456789ABCDEF"), "invalid message id"),
        (("remove", "0123456789abcde"), "invalid message id"),
        (("remove", "../incoming/0123"), "invalid message id"),
        (("remove", "ALL"), "invalid message id")])
    r = relay.ctl("remove")
    assert r.returncode == 2 and "missing arguments" in r.stderr


def test_remove_does_not_touch_a_message_being_received(relay_factory):
    """A body in incoming/ is not a message yet: remove all leaves it,
    and removing it by its id is "no such message"."""
    relay, user, password = sending_relay(relay_factory)
    c = starttls_client(relay)
    c.login(user, password)
    assert c.mail("app@example.com")[0] == 250
    assert c.rcpt("someone@example.net")[0] == 250
    assert c.docmd("DATA")[0] == 354
    body = message()
    c.send(body[:20])
    files = []
    for _ in range(100):
        files = incoming(relay)
        if files:
            break
        time.sleep(0.05)
    assert len(files) == 1, files
    (busy,) = files
    r = relay.ctl("remove", busy)
    assert (r.returncode, r.stderr) == (1, "sendgatectl: no such message\n")
    r = relay.ctl("remove", "all", check=True)
    assert r.stdout == "0 messages removed\n"
    assert incoming(relay) == [busy]
    # The message still goes through.
    c.send(body[20:] + b".\r\n")
    code, text = c.getreply()
    assert code == 250, text
    c.quit()
    assert busy in queued(relay)
