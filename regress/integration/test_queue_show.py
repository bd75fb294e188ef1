"""sendgatectl show queue: what the queue holds, for root and the control
group, as a table and as JSON; show queue ID: one message in detail."""
import json
import os
import re
import stat

from submit import DOMAIN, message, sending_relay, starttls_client
from test_control import GROUP_MEMBER


def submit(relay, user, password, to=("someone@example.net",),
           mail_options=(), rcpt_options=()):
    """One message through 587 with AUTH; its queue id."""
    c = starttls_client(relay)
    c.login(user, password)
    code, text = c.mail(f"app@{DOMAIN}", list(mail_options))
    assert code == 250, text
    for rcpt in to:
        assert c.rcpt(rcpt, list(rcpt_options))[0] == 250
    code, text = c.data(message())
    assert code == 250, text
    c.quit()
    m = re.match(rb"2\.0\.0 Ok: queued as ([0-9a-f]{16})$", text)
    assert m, text
    return m.group(1).decode()


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


def test_show_queue_takes_at_most_an_id(relay):
    r = relay.ctl("show", "queue", "0123456789abcdef", "extra")
    assert r.returncode == 2
    assert r.stdout == ""
    assert "too many arguments" in r.stderr


def test_show_queue_id_shows_every_field_of_the_envelope(relay_factory):
    relay, user, password = sending_relay(relay_factory)
    plain = submit(relay, user, password)
    dsn = submit(relay, user, password,
                 to=("x@example.net", "y@example.net"),
                 mail_options=["RET=HDRS", "ENVID=abc"],
                 rcpt_options=["NOTIFY=SUCCESS,FAILURE",
                               "ORCPT=rfc822;x@example.net"])

    r = relay.ctl("show", "queue", dsn, json_out=True, check=True)
    doc = json.loads(r.stdout)
    m = doc["message"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", m.pop("arrived"))
    assert 0 <= m.pop("age") < 60
    assert m.pop("size") > len(message())   # with the Received: line
    assert m.pop("tls").startswith("TLSv1.")
    assert m == {"id": dsn, "connector": "web01", "auth_user": user,
                 "client_address": "127.0.0.1",
                 "client_name": "client.test",
                 "sender": f"app@{DOMAIN}", "body": "", "smtputf8": "no",
                 "ret": "HDRS", "envid": "abc"}
    assert doc["recipients"] == [
        {"address": a, "notify": "SUCCESS,FAILURE",
         "orcpt": "rfc822;x@example.net", "state": "pending",
         "attempts": 0, "next_try": "now", "last_mta": "", "last": ""}
        for a in ("x@example.net", "y@example.net")]
    assert set(doc) == {"message", "recipients"}

    # The text: an aligned block, then the recipients as a table.
    r = relay.ctl("show", "queue", dsn, check=True)
    lines = r.stdout.splitlines()
    assert lines[0] == f"id:             {dsn}"
    assert "connector:      web01" in lines
    assert f"auth_user:      {user}" in lines
    assert "client_address: 127.0.0.1" in lines
    assert f"sender:         app@{DOMAIN}" in lines
    assert "ret:            HDRS" in lines
    assert "envid:          abc" in lines
    assert "recipients:" in lines
    # Recipients have more fields than a table shows: a block each.
    i = lines.index("recipients:")
    assert lines[i + 1:i + 10] == [
        "address:  x@example.net", "notify:   SUCCESS,FAILURE",
        "orcpt:    rfc822;x@example.net", "state:    pending",
        "attempts: 0", "next_try: now", "last_mta: ", "last:     ", ""]
    assert lines[i + 10] == "address:  y@example.net"
    assert r.stderr == ""

    # Without DSN parameters: empty values, never the other message's.
    r = relay.ctl("show", "queue", plain, json_out=True, check=True)
    doc = json.loads(r.stdout)
    assert doc["message"]["id"] == plain
    assert (doc["message"]["ret"], doc["message"]["envid"]) == ("", "")
    assert doc["recipients"] == [{"address": "someone@example.net",
                                  "notify": "", "orcpt": "",
                                  "state": "pending", "attempts": 0,
                                  "next_try": "now", "last_mta": "",
                                  "last": ""}]

    # The list is as it was.
    r = relay.ctl("show", "queue", json_out=True, check=True)
    assert sorted(x["id"] for x in json.loads(r.stdout)["messages"]) == \
        sorted([plain, dsn])


def test_show_queue_id_unknown_or_malformed_is_an_error(relay):
    for qid, error in (("0123456789abcdef", "no such message"),
                       ("0123456789ABCDEF", "invalid message id"),
                       ("0123456789abcde", "invalid message id"),
                       ("../queue/0123456", "invalid message id"),
                       ("all", "invalid message id")):
        for json_out in (False, True):
            r = relay.ctl("show", "queue", qid, json_out=json_out)
            assert (r.returncode, r.stdout, r.stderr) == \
                (1, "", f"sendgatectl: {error}\n"), qid


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
