"""Connectors and their credentials through sendgatectl: the lifecycle,
passwords, limits, source networks, bad input, concurrent clients, the
event log, restarts and a full disk."""
import base64
import errno
import hmac
import json
import os
import re
import subprocess
import threading
import time

from conftest import GROUP_MEMBER, wait_for

PASSWORD = re.compile(r"[A-Za-z0-9_-]{32}")
CONNECTOR_RULE = "it must be 1-64 characters of a-z 0-9 . _ -"
NOT_ROOT = "permission denied: only root may change the relay"
LIMIT_NAMES = ["messages/minute", "messages/hour", "messages/day",
               "recipients/minute", "recipients/hour", "recipients/day",
               "size", "recipients/message"]


def fields(text):
    """The "key: value" lines of sendgatectl's text output."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"(\w+):\s+(.*)$", line)
        if m:
            out.setdefault(m.group(1), m.group(2))
    return out


def add(relay, name, *args):
    """Add a connector; its password."""
    r = relay.ctl("connector", "add", name, *args, json_out=True, check=True)
    return json.loads(r.stdout)["credentials"]["password"]


def matches(relay, connector, password):
    """For each stored credential of the connector, oldest first, whether
    the password matches it: HMAC-SHA-256 keyed by the salt, the check
    SMTP AUTH will make."""
    rows = relay.state_query(
        "SELECT cr.salt, cr.hash FROM credential cr JOIN connector c "
        "ON c.id = cr.connector WHERE c.name = ? ORDER BY cr.id",
        (connector,))
    return [hmac.compare_digest(
        hmac.new(salt, password.encode(), "sha256").digest(), stored)
        for salt, stored in rows]


def show(relay, name, **kw):
    r = relay.ctl("connector", "show", name, json_out=True, check=True,
                  **kw)
    return json.loads(r.stdout)


def limits(relay, name):
    return {row["limit"]: (row["value"], row["source"])
            for row in show(relay, name)["limits"]}



def test_add_prints_the_credentials_once(relay):
    r = relay.ctl("connector", "add", "acme")
    assert r.returncode == 0 and r.stderr == ""
    shown = fields(r.stdout)
    assert {k: shown[k] for k in ("connector", "host", "port_starttls",
                                  "port_tls", "username")} == {
        "connector": "acme", "host": "relay.test",
        "port_starttls": str(relay.ports[0]),
        "port_tls": str(relay.ports[1]), "username": "acme"}
    assert PASSWORD.fullmatch(shown["password"])
    assert r.stdout.endswith("\nconnector acme created; the password is "
                             "shown only once\n")
    assert matches(relay, "acme", shown["password"]) == [True]

    r = relay.ctl("connector", "add", "beta", json_out=True, check=True)
    doc = json.loads(r.stdout)
    assert doc["message"] == ("connector beta created; the password is "
                              "shown only once")
    creds = doc["credentials"]
    assert sorted(creds) == ["connector", "host", "password",
                             "port_starttls", "port_tls", "username"]
    assert (creds["port_starttls"], creds["port_tls"]) == relay.ports
    assert PASSWORD.fullmatch(creds["password"])
    assert creds["password"] != shown["password"]
    assert matches(relay, "beta", creds["password"]) == [True]
    assert matches(relay, "beta", shown["password"]) == [False]


def test_list_and_show_never_print_a_password_or_hash(relay):
    pw = add(relay, "acme")
    (salt, stored), = relay.state_query("SELECT salt, hash FROM credential")
    secrets = [pw, stored.hex(), salt.hex(),
               base64.b64encode(stored).decode(),
               base64.b64encode(salt).decode()]
    for args in (["connector", "list"], ["-j", "connector", "list"],
                 ["connector", "show", "acme"],
                 ["-j", "connector", "show", "acme"]):
        r = relay.ctl(*args, check=True)
        for s in secrets:
            assert s.lower() not in r.stdout.lower(), args

    r = relay.ctl("connector", "list", check=True)
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["NAME", "ENABLED", "DOMAINS", "CREATED"]
    assert lines[1].split()[:3] == ["acme", "yes", "0"]
    doc = json.loads(relay.ctl("connector", "list", json_out=True,
                               check=True).stdout)
    assert list(doc) == ["connectors"]
    assert sorted(doc["connectors"][0]) == ["created", "domains", "enabled",
                                            "name"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",
                        doc["connectors"][0]["created"])

    doc = show(relay, "acme")
    assert doc["connector"]["name"] == "acme"
    assert doc["connector"]["enabled"] == "yes"
    assert "networks" not in doc        # password only
    assert [row["limit"] for row in doc["limits"]] == LIMIT_NAMES
    assert [sorted(c) for c in doc["credentials"]] == [["created",
                                                         "username"]]
    assert doc["credentials"][0]["username"] == "acme"
    r = relay.ctl("connector", "show", "acme", check=True)
    assert fields(r.stdout)["name"] == "acme"
    assert "\ncredentials:\nUSERNAME  CREATED\nacme " in r.stdout


def test_group_member_may_list_and_show(relay):
    add(relay, "acme")
    for args in (["connector", "list"], ["connector", "show", "acme"]):
        r = relay.ctl(*args, user=GROUP_MEMBER)
        assert r.returncode == 0 and "acme" in r.stdout, r.stderr


def test_passwd_replaces_the_password(relay):
    old = add(relay, "acme")
    r = relay.ctl("connector", "passwd", "acme", check=True)
    new = fields(r.stdout)["password"]
    assert PASSWORD.fullmatch(new) and new != old
    assert r.stdout.endswith("\nconnector acme: new password (the previous "
                             "ones no longer work); it is shown only once\n")
    assert matches(relay, "acme", new) == [True]
    assert matches(relay, "acme", old) == [False]


def test_passwd_keep_old_keeps_exactly_one_previous_password(relay):
    first = add(relay, "acme")
    r = relay.ctl("connector", "passwd", "acme", "--keep-old",
                  json_out=True, check=True)
    doc = json.loads(r.stdout)
    second = doc["credentials"]["password"]
    assert doc["message"] == ("connector acme: new password (the previous "
                              "one stays valid until the next change); it "
                              "is shown only once")
    assert matches(relay, "acme", first) == [True, False]
    assert matches(relay, "acme", second) == [False, True]
    assert len(show(relay, "acme")["credentials"]) == 2

    r = relay.ctl("connector", "passwd", "acme", "--keep-old",
                  json_out=True, check=True)
    third = json.loads(r.stdout)["credentials"]["password"]
    assert matches(relay, "acme", first) == [False, False]
    assert matches(relay, "acme", second) == [True, False]
    assert matches(relay, "acme", third) == [False, True]

    r = relay.ctl("connector", "passwd", "acme", json_out=True, check=True)
    fourth = json.loads(r.stdout)["credentials"]["password"]
    assert matches(relay, "acme", third) == [False]
    assert matches(relay, "acme", fourth) == [True]


def test_limit_overrides_the_config_default_until_reset(relay_factory):
    relay = relay_factory()
    relay.extra = "limit messages 300 per hour\nlimit size 20M\n"
    relay.start()
    add(relay, "acme")
    assert limits(relay, "acme")["messages/hour"] == (300, "default")
    assert limits(relay, "acme")["size"] == (20 * 1024 * 1024, "default")

    for key, value, said, shown in (
            ("messages/hour", "500", "500", (500, "connector")),
            ("size", "10M", "10485760", (10 * 1024 * 1024, "connector")),
            ("recipients/message", "1", "1", (1, "connector")),
            ("messages/day", "0", "0", (0, "connector")),
            ("messages/hour", "default", "the default",
             (300, "default"))):
        r = relay.ctl("connector", "limit", "acme", key, value, check=True)
        assert r.stdout == f"connector acme: {key} set to {said}\n"
        assert limits(relay, "acme")[key] == shown, key
    assert relay.state_query(
        "SELECT lim_msg_hour, lim_size, lim_msg_day FROM connector") == \
        [(None, 10 * 1024 * 1024, 0)]


def test_disabled_connector_shows_disabled_until_enabled(relay):
    add(relay, "acme")
    r = relay.ctl("connector", "disable", "acme", check=True)
    assert r.stdout == "connector acme disabled\n"
    assert show(relay, "acme")["connector"]["enabled"] == "no"
    assert relay.state_query("SELECT enabled FROM connector") == [(0,)]
    r = relay.ctl("connector", "enable", "acme", check=True)
    assert r.stdout == "connector acme enabled\n"
    assert show(relay, "acme")["connector"]["enabled"] == "yes"
    assert relay.state_query("SELECT enabled FROM connector") == [(1,)]



def test_del_is_refused_with_domains_unless_forced(relay):
    add(relay, "acme")
    add(relay, "beta")
    add(relay, "empty")
    relay.ctl("domain", "add", "acme", "example.com", check=True)
    relay.ctl("domain", "add", "acme", "example.org", check=True)
    relay.ctl("domain", "add", "beta", "example.org", check=True)
    assert len(os.listdir(relay.dirs["keys"])) == 4
    relay.assert_refused([(("connector", "del", "acme"),
                           "connector acme has 2 domains; remove them first "
                           "or use --force")])

    r = relay.ctl("connector", "del", "empty", check=True)
    assert r.stdout == "connector empty deleted\n"
    r = relay.ctl("connector", "del", "acme", "--force", check=True)
    assert r.stdout == "connector acme deleted\n"
    # example.org is beta's too: its keys stay.
    assert relay.state_query("SELECT DISTINCT domain FROM dkim_key") == \
        [("example.org",)]
    wait_for(lambda: all(f.startswith("example.org.")
                         for f in os.listdir(relay.dirs["keys"])))
    assert len(os.listdir(relay.dirs["keys"])) == 2
    r = relay.ctl("connector", "del", "beta", "--force", check=True)
    for table in ("connector", "connector_network", "credential", "domain",
                  "dkim_key"):
        assert relay.state_query(f"SELECT * FROM {table}") == [], table
    wait_for(lambda: os.listdir(relay.dirs["keys"]) == [])
    doc = json.loads(relay.ctl("connector", "list", json_out=True,
                               check=True).stdout)
    assert doc == {"connectors": []}


def networks(relay, name):
    return [n["network"] for n in show(relay, name).get("networks", [])]


def test_from_networks_are_stored_canonical(relay):
    add(relay, "exo", "--from", "192.0.2.7", "--from", "2001:DB8:0::/32",
        "--from", "10.1.0.0/16", "--from", "192.0.2.7/32")
    assert networks(relay, "exo") == \
        ["10.1.0.0/16", "192.0.2.7/32", "2001:db8::/32"]
    assert sorted(relay.state_query("SELECT cidr FROM connector_network")) \
        == [("10.1.0.0/16",), ("192.0.2.7/32",), ("2001:db8::/32",)]
    relay.assert_refused([
        (("connector", "add", "bad", "--from", cidr),
         f"invalid --from network: {message}") for cidr, message in (
            ("192.0.2.1/24", "192.0.2.1/24 has host bits set; did you mean "
             "192.0.2.0/24?"),
            ("300.1.1.1", "'300.1.1.1' is not an IPv4 or IPv6 network"),
            ("10.0.0.0/33", "prefix length 33 is out of range 0-32 for "
             "IPv4"),
            ("2001:db8::/129", "prefix length 129 is out of range 0-128 "
             "for IPv6"),
            ("10.0.0.0/08", "prefix length '08' has a leading zero"),
            ("10.0.0.0/", "prefix length is missing after '/'"),
            ("/24", "network '/24' has no address before '/'"),
            ("example.com", "'example.com' is not an IPv4 or IPv6 network"),
            ("", "network is empty"),
            ("10.0.0.0/8;--", "prefix length '8;--' is not a decimal "
             "number"))])


def test_show_lists_every_network(relay):
    # 31 networks of 43 characters: more than one protocol value holds.
    nets = [f"2001:db8:ffff:ffff:ffff:ffff:ffff:{i:x}00/120"
            for i in range(0x10, 0x10 + 31)]
    add(relay, "exo", *[a for n in nets for a in ("--from", n)])
    assert sorted(relay.state_query("SELECT cidr FROM connector_network")) \
        == [(n,) for n in nets]
    assert networks(relay, "exo") == nets


def test_limit_value_must_be_a_plain_number(relay):
    add(relay, "acme")
    relay.assert_refused([
        (("connector", "limit", "acme", "messages/hour", value),
         'invalid messages/hour: value must be a whole number, 0 for no '
         'limit, or "default"') for value in (" 500", "\n7", "\t5", "+9")])


# Rows of (sendgatectl arguments, the error); run against a relay with
# the connector acme and its domain example.com.
BAD_CONNECTOR_INPUT = [
    (("connector", "add", ""),
     f"invalid connector name: connector name is empty; {CONNECTOR_RULE}"),
    (("connector", "add", "a" * 65),
     "invalid connector name: connector name is longer than 64 "
     f"characters; {CONNECTOR_RULE}"),
    (("connector", "add", "acme"), "connector acme already exists"),
    (("connector", "limit", "acme", "messages/week", "5"),
     "unknown limit; use one of messages/minute, messages/hour, "
     "messages/day, recipients/minute, recipients/hour, recipients/day, "
     "recipients/message, size"),
] + [
    (("connector", command, name), "invalid connector name: connector name "
     f"has invalid character '{char}' at position {at}; {CONNECTOR_RULE}")
    for command, name, char, at in (
        ("add", "Acme", "A", 1),
        ("add", "acme'; DROP TABLE connector; --", "\\x27", 5),
        ("add", "ac\x1b[31mme", "\\x1b", 3),
        ("add", "acme\n", "\\x0a", 5),
        ("add", "b\u00fccher", "\\xc3", 2),
        ("show", "ACME", "A", 1),
        ("passwd", "acme;", ";", 5))
] + [
    (("connector", "limit", "acme", key, value),
     f"invalid {key}: value must be a whole number, 0 for no limit, or "
     '"default"') for key, value in (
        ("messages/hour", "lots"),
        ("messages/hour", "-1"),
        ("messages/hour", "5; DROP TABLE event"))
] + [
    (("connector", "limit", "acme", key, value),
     f"invalid {key}: value is {why} (a whole number, 0 for no limit, or "
     '"default")') for key, value, why in (
        ("messages/hour", "1000000000001", "too large"),
        ("recipients/message", "0", "too small"))
] + [
    (("connector", "limit", "acme", "size", value),
     "invalid size: size must be 1K to 2G")
    for value in ("1", "1023", "3G", "10X", " 10M", "10M;")
] + [
    (("connector",) + cmd, "no connector named nosuch") for cmd in (
        ("show", "nosuch"), ("del", "nosuch"), ("del", "nosuch", "--force"),
        ("passwd", "nosuch"), ("enable", "nosuch"), ("disable", "nosuch"),
        ("limit", "nosuch", "size", "10M"))
] + [
    (("domain",) + cmd, "no connector named nosuch") for cmd in (
        ("add", "nosuch", "example.net"), ("list", "nosuch"),
        ("del", "nosuch", "example.com"))
]

# Every command that changes something, for a non-root caller.
CHANGES = [
    ("connector", "add", "newco"), ("connector", "add", "newco", "--from",
                                    "192.0.2.0/24"),
    ("connector", "del", "acme"), ("connector", "del", "acme", "--force"),
    ("connector", "passwd", "acme"),
    ("connector", "passwd", "acme", "--keep-old"),
    ("connector", "limit", "acme", "size", "10M"),
    ("connector", "enable", "acme"), ("connector", "disable", "acme"),
    ("domain", "add", "acme", "example.net"),
    ("domain", "del", "acme", "example.com"),
    ("domain", "check", "example.com"),
]


def test_bad_input_is_refused_and_changes_nothing(relay):
    add(relay, "acme")
    relay.ctl("domain", "add", "acme", "example.com", check=True)
    relay.assert_refused(BAD_CONNECTOR_INPUT)


def test_non_root_changes_are_refused_and_change_nothing(relay):
    add(relay, "acme")
    relay.ctl("domain", "add", "acme", "example.com", check=True)
    relay.assert_refused([(args, NOT_ROOT) for args in CHANGES],
                         user=GROUP_MEMBER)


def test_state_survives_a_restart(relay):
    pw = add(relay, "acme", "--from", "192.0.2.0/24")
    add(relay, "beta")
    relay.ctl("connector", "limit", "acme", "size", "10M", check=True)
    relay.ctl("connector", "disable", "beta", check=True)
    relay.ctl("domain", "add", "acme", "example.com", check=True)
    before = relay.state_dump()
    shown = {name: show(relay, name) for name in ("acme", "beta")}
    old_pids = relay.pids()

    relay.restart()
    assert relay.pids()["lka"] != old_pids["lka"]
    assert relay.state_dump() == before
    assert {name: show(relay, name) for name in ("acme", "beta")} == shown
    assert matches(relay, "acme", pw) == [True]
    add(relay, "gamma")
    assert [c for (c,) in relay.state_query(
        "SELECT name FROM connector ORDER BY name")] == ["acme", "beta",
                                                         "gamma"]


def test_concurrent_adds_leave_a_consistent_database(relay):
    results = {}

    def run(name):
        results[name] = relay.ctl("connector", "add", name, json_out=True)

    names = [f"client-{i:02d}" for i in range(20)]
    threads = [threading.Thread(target=run, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for name in names:
        r = results[name]
        assert (r.returncode, r.stderr) == (0, ""), name
        pw = json.loads(r.stdout)["credentials"]["password"]
        assert matches(relay, name, pw) == [True], name
    assert relay.state_query(
        "SELECT c.name, count(cr.id) FROM connector c LEFT JOIN credential "
        "cr ON cr.connector = c.id GROUP BY c.id ORDER BY c.name") == \
        [(n, 1) for n in names]
    assert len(relay.state_query("SELECT * FROM event")) == 20
    assert relay.state_query("PRAGMA integrity_check") == [("ok",)]


def test_concurrent_password_changes_keep_at_most_two(relay):
    add(relay, "acme")
    results = []

    def run():
        results.append(relay.ctl("connector", "passwd", "acme", "--keep-old",
                                 json_out=True))

    threads = [threading.Thread(target=run) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [(r.returncode, r.stderr) for r in results] == [(0, "")] * 10
    assert len(relay.state_query("SELECT * FROM credential")) == 2
    valid = [json.loads(r.stdout)["credentials"]["password"] for r in results
             if any(matches(relay, "acme",
                            json.loads(r.stdout)["credentials"]["password"]))]
    assert len(valid) == 2


def test_every_change_is_an_event_with_the_actor_and_logged(relay):
    t0 = int(time.time())
    for args in (("connector", "add", "acme", "--from", "192.0.2.0/24"),
                 ("connector", "passwd", "acme"),
                 ("connector", "passwd", "acme", "--keep-old"),
                 ("connector", "limit", "acme", "messages/hour", "500"),
                 ("connector", "limit", "acme", "size", "default"),
                 ("connector", "disable", "acme"),
                 ("connector", "enable", "acme"),
                 ("domain", "add", "acme", "example.com"),
                 ("domain", "del", "acme", "example.com"),
                 ("connector", "del", "acme"),
                 ("connector", "add", "beta"),
                 ("domain", "add", "beta", "example.org"),
                 ("connector", "del", "beta", "--force")):
        relay.ctl(*args, check=True)
    t1 = int(time.time())
    events = [
        "connector acme created",
        "connector acme: new password",
        "connector acme: new password, previous one kept",
        "connector acme: limit messages/hour set to 500",
        "connector acme: limit size set to the default",
        "connector acme disabled",
        "connector acme enabled",
        "domain example.com added to connector acme",
        "domain example.com removed from connector acme",
        "connector acme deleted",
        "connector beta created",
        "domain example.org added to connector beta",
        "connector beta deleted with its domains",
    ]
    rows = relay.state_query("SELECT what, actor, time FROM event "
                             "ORDER BY id")
    assert [(what, actor) for what, actor, _ in rows] == \
        [(e, 0) for e in events]
    # lka's time(2) is the coarse clock: a tick behind ours at most.
    assert all(t0 - 1 <= t <= t1 for _, _, t in rows)
    log = relay.logtext()
    for e in events:
        assert f"lka: {e} (uid 0)\n" in log, e


def fill(path):
    """Write zeros to path until the file system is full."""
    block = b"\0" * 4096
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(block)
        except OSError as e:
            assert e.errno == errno.ENOSPC
    # Whatever did not fit a whole block.
    with open(path, "ab", buffering=0) as f:
        try:
            while True:
                f.write(b"\0")
        except OSError as e:
            assert e.errno == errno.ENOSPC


def test_full_disk_fails_the_write_and_keeps_the_state(relay_factory):
    relay = relay_factory()
    mnt = relay.base / "statefs"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0755",
                    "tmpfs", str(mnt)], check=True)
    try:
        relay.dirs["state"] = str(mnt / "state")
        relay.start()
        kept = [f"kept-{i}" for i in range(3)]
        passwords = {name: add(relay, name) for name in kept}
        fill(mnt / "fill")

        failed = None
        for i in range(50):
            before = relay.state_dump()
            r = relay.ctl("connector", "add", f"late-{i}")
            if r.returncode != 0:
                failed = r
                break
            kept.append(f"late-{i}")
        assert failed is not None, "the full disk never failed a write"
        assert failed.stdout == ""
        assert re.fullmatch(r"sendgatectl: state database error: \w+: "
                            r"database or disk is full; nothing was "
                            r"changed\n", failed.stderr), failed.stderr
        assert relay.state_dump() == before
        assert relay.proc.poll() is None
        r = relay.ctl("connector", "list", json_out=True, check=True)
        assert [c["name"] for c in json.loads(r.stdout)["connectors"]] == \
            sorted(kept)
        for name, pw in passwords.items():
            assert matches(relay, name, pw) == [True]
        assert "state database: " in relay.logtext()

        # Space again: the relay takes changes again.
        os.unlink(mnt / "fill")
        add(relay, "after")
        assert relay.state_query("PRAGMA integrity_check") == [("ok",)]
    finally:
        relay.stop()
        subprocess.run(["umount", str(mnt)], check=True)
