"""DKIM key rotation (issue 7): `sendgatectl domain rotate DOMAIN` makes a
new key pair per algorithm under a new selector, pending; the relay signs
with the old keys until the checks find the new records, then switches
and keeps the old keys retired until their records are gone, no sooner
than a week after.  With `dkim delegate ZONE` the customer publishes
CNAMEs once and a rotation only changes the provider's zone.

Signatures are verified with python3-dkim through the helpers of
test_dkim.py, fed with the records the relay printed."""
import calendar
import json
import os
import sqlite3
import time

from mxsink import mxnet, wait_delivery  # noqa: F401
from submit import CONNECTOR, DOMAIN
from test_dkim import ED, RSA, SELECTOR, SENDER, Published, authorize, \
    check_signed, one_from, start, submit_raw

WEEK = 7 * 24 * 3600


def utc(text):
    """A time sendgatectl printed (2026-11-26T12:00:00Z) in seconds."""
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def month():
    return time.strftime("%Y%m", time.gmtime())


def show(relay, domain=DOMAIN):
    r = relay.ctl("domain", "show", domain, json_out=True, check=True)
    return json.loads(r.stdout)


def keys(relay, domain=DOMAIN):
    """selector -> key row of domain show."""
    return {k["selector"]: k for k in show(relay, domain)["keys"]}


def dkim_records(doc):
    return [rec for rec in doc["records"]
            if rec["purpose"].split()[0] == "dkim"]


def send(relay, user, password, sink, rcpt, subject):
    data = (f"From: App <{SENDER}>\r\nTo: <{rcpt}>\r\n"
            f"Subject: {subject}\r\n\r\nHello.\r\n").encode()
    code, text, qid = submit_raw(relay, user, password, rcpt, data)
    assert code == 250 and qid, text
    m = one_from(sink, rcpt)
    wait_delivery(relay, id=qid, result="delivered")
    return m.data


def check_until(relay, pred, timeout=15):
    deadline = time.time() + timeout
    while True:
        relay.ctl("domain", "check", DOMAIN)
        ks = keys(relay)
        if pred(ks):
            return ks
        assert time.time() < deadline, ks
        time.sleep(0.2)


def age_retired(relay, seconds):
    """Move the retirement of the retired keys back in time: a week does
    not pass in a test."""
    con = sqlite3.connect(relay.state_db(), timeout=5)
    try:
        con.execute("UPDATE dkim_key SET status_since = status_since - ? "
                    "WHERE status = 'retired'", (seconds,))
        con.commit()
    finally:
        con.close()


def key_files(relay, selector):
    return [f for f in os.listdir(relay.dirs["keys"])
            if f".{selector}." in f]


def test_rotation_signs_with_the_old_key_until_the_new_record_is_seen(
        mxnet):
    sink = mxnet.sink("example.net")
    relay, user, password, published = start(mxnet)
    new = {RSA: f"sendgate-{month()}-rsa", ED: f"sendgate-{month()}-ed25519"}

    r = relay.ctl("domain", "rotate", DOMAIN, json_out=True, check=True)
    doc = json.loads(r.stdout)
    recs = dkim_records(doc)
    assert sorted(rec["host"] for rec in recs) == sorted(
        f"{s}._domainkey.{DOMAIN}" for s in new.values()), doc
    for rec in recs:
        assert rec["type"] == "TXT" and rec["value"].startswith(
            "v=DKIM1; k="), rec
        assert rec["zone"].startswith(rec["host"] + ". IN TXT "), rec
    assert "keeps signing with the current key" in r.stderr + r.stdout \
        or "keeps signing" in json.dumps(doc), (r.stdout, r.stderr)
    ks = keys(relay)
    assert {s: k["status"] for s, k in ks.items()} == {
        SELECTOR[RSA]: "active", SELECTOR[ED]: "active",
        new[RSA]: "pending", new[ED]: "pending"}, ks

    # Not published yet: the checks change nothing, the old keys sign.
    relay.ctl("domain", "check", DOMAIN, check=True)
    assert keys(relay)[new[RSA]]["status"] == "pending"
    auth = show(relay)["authorizations"][0]
    assert auth["dkim"] == "ok", auth
    assert "(pending)" in auth["dkim_diagnosis"], auth
    data = send(relay, user, password, sink, "before@example.net", "old")
    assert check_signed(data, published) == []

    # A second rotation while this one waits is refused, nothing changes.
    relay.assert_refused([(
        ("domain", "rotate", DOMAIN),
        f"domain {DOMAIN}: a rotation is already pending: publish the "
        f"record of {new[RSA]} (domain show {DOMAIN} prints it) and run "
        f"domain check {DOMAIN}, or drop it with domain rotate {DOMAIN} "
        f"--cancel")])

    # Published: the next check makes them active, the old ones retired.
    for rec in recs:
        relay.dns.set(rec["host"], "TXT", [rec["value"]])
    published.add(doc)
    t0 = time.time()
    ks = check_until(relay, lambda ks: ks[new[RSA]]["status"] == "active"
                     and ks[new[ED]]["status"] == "active")
    for alg in (RSA, ED):
        old = ks[SELECTOR[alg]]
        assert old["status"] == "retired", old
        assert t0 - 2 <= utc(old["since"]) <= time.time() + 1, old
        assert old["note"] == "safe to remove the DNS record after " + \
            time.strftime("%Y-%m-%dT%H:%M:%SZ",
                          time.gmtime(utc(old["since"]) + WEEK)), old
    for alg in (RSA, ED):
        assert f"domain {DOMAIN}: DKIM key {new[alg]} active, " \
            f"{SELECTOR[alg]} retired" in relay.logtext()
    text = relay.ctl("domain", "show", DOMAIN, check=True).stdout
    assert "retired" in text and "safe to remove the DNS record" in text

    data = send(relay, user, password, sink, "after@example.net", "new")
    assert check_signed(data, published, selectors=new) == []

    # The retired records removed too early: only noted.
    for alg in (RSA, ED):
        relay.dns.remove(f"{SELECTOR[alg]}._domainkey.{DOMAIN}", "TXT")
    ks = check_until(relay, lambda ks: ks[SELECTOR[RSA]]["record"] ==
                     "missing" and ks[SELECTOR[ED]]["record"] == "missing")
    assert ks[SELECTOR[RSA]]["status"] == "retired"
    assert ks[SELECTOR[RSA]]["note"].startswith("record removed early"), ks
    assert key_files(relay, SELECTOR[RSA]), os.listdir(relay.dirs["keys"])

    # A week later the checks delete the keys and their private files.
    age_retired(relay, WEEK + 60)
    ks = check_until(relay, lambda ks: SELECTOR[RSA] not in ks and
                     SELECTOR[ED] not in ks)
    assert sorted(ks) == sorted(new.values()), ks
    for alg in (RSA, ED):
        assert f"domain {DOMAIN}: retired DKIM key {SELECTOR[alg]} " \
            "deleted: its record is gone" in relay.logtext()
        deadline = time.time() + 5
        while key_files(relay, SELECTOR[alg]):
            assert time.time() < deadline, os.listdir(relay.dirs["keys"])
            time.sleep(0.1)
    data = send(relay, user, password, sink, "later@example.net", "later")
    assert check_signed(data, published, selectors=new) == []


def test_second_rotation_in_a_month_gets_a_letter_and_cancel_drops_it(
        mxnet):
    relay, user, password, published = start(mxnet)
    m = month()
    doc = json.loads(relay.ctl("domain", "rotate", DOMAIN, json_out=True,
                               check=True).stdout)
    for rec in dkim_records(doc):
        relay.dns.set(rec["host"], "TXT", [rec["value"]])
    check_until(relay, lambda ks: ks[f"sendgate-{m}-rsa"]["status"] ==
                "active")
    doc = json.loads(relay.ctl("domain", "rotate", DOMAIN, json_out=True,
                               check=True).stdout)
    assert sorted(rec["host"].split(".")[0] for rec in
                  dkim_records(doc)) == [f"sendgate-{m}b-ed25519",
                                         f"sendgate-{m}b-rsa"], doc
    r = relay.ctl("domain", "rotate", DOMAIN, "--cancel")
    assert r.returncode == 0, r.stderr
    ks = keys(relay)
    assert f"sendgate-{m}b-rsa" not in ks and ks[f"sendgate-{m}-rsa"][
        "status"] == "active", ks
    deadline = time.time() + 5
    while key_files(relay, f"sendgate-{m}b-rsa"):
        assert time.time() < deadline, os.listdir(relay.dirs["keys"])
        time.sleep(0.1)
    relay.assert_refused([(("domain", "rotate", DOMAIN, "--cancel"),
                           f"domain {DOMAIN}: no rotation is pending")])


def test_rotation_is_for_root_and_authorized_domains(mxnet):
    relay, user, password, published = start(mxnet)
    r = relay.ctl("domain", "rotate", DOMAIN, user=["--reuid=nobody",
                  "--regid=_sendgatectl", "--clear-groups"])
    assert r.returncode != 0 and "sendgatectl:" in r.stderr, r
    relay.assert_refused([(("domain", "rotate", "example.org"),
                           "domain example.org is not authorized for any "
                           "connector")])


# ---- delegation ---------------------------------------------------------

ZONE = "dkim.provider.test"


def test_delegated_selectors_rotate_without_customer_dns_changes(mxnet):
    sink = mxnet.sink("example.net")
    relay = mxnet.relay
    relay.extra = mxnet.config() + f"dkim delegate {ZONE}\n"
    relay.start()
    from submit import add_connector
    user, password = add_connector(relay)
    sel = {RSA: "sendgate-a-rsa", ED: "sendgate-a-ed25519"}
    other = {RSA: "sendgate-b-rsa", ED: "sendgate-b-ed25519"}

    r = relay.ctl("domain", "add", CONNECTOR, DOMAIN, json_out=True,
                  check=True)
    doc = json.loads(r.stdout)
    cnames = {rec["host"]: rec["value"] for rec in doc["records"]
              if rec["type"] == "CNAME"}
    assert cnames == {f"{s}._domainkey.{DOMAIN}": f"{s}.{DOMAIN}.{ZONE}"
                      for s in list(sel.values()) + list(other.values())}, \
        doc
    txt = {rec["host"]: rec["value"] for rec in dkim_records(doc)}
    assert sorted(txt) == sorted(f"{s}.{DOMAIN}.{ZONE}"
                                 for s in sel.values()), doc
    # The customer: verification TXT and the CNAMEs, once.
    for rec in doc["records"]:
        if rec["purpose"].split()[0] == "verification":
            relay.dns.txt(rec["host"], rec["value"])
    for host, target in cnames.items():
        relay.dns.set(host, "CNAME", [target])
    # The provider: the key records at the targets.
    for host, value in txt.items():
        relay.dns.set(host, "TXT", [value])

    # The verifier asks the customer's name and follows the CNAME as a
    # resolver would: the Published map holds what the CNAMEs lead to.
    published = Published()
    for host, target in cnames.items():
        if target in txt:
            published.records[host] = txt[target]
    deadline = time.time() + 15
    while True:
        relay.ctl("domain", "check", DOMAIN)
        a = show(relay)["authorizations"][0]
        if a["state"] == "verified" and a["dkim"] == "ok":
            break
        assert time.time() < deadline, a
        time.sleep(0.2)
    data = send(relay, user, password, sink, "a@example.net", "a")
    assert check_signed(data, published, selectors=sel) == []

    # Rotate: the new keys take the b selectors; no CNAME is printed.
    r = relay.ctl("domain", "rotate", DOMAIN, json_out=True, check=True)
    doc = json.loads(r.stdout)
    assert not [rec for rec in doc["records"] if rec["type"] == "CNAME"]
    new = {rec["host"]: rec["value"] for rec in dkim_records(doc)}
    assert sorted(new) == sorted(f"{s}.{DOMAIN}.{ZONE}"
                                 for s in other.values()), doc
    relay.ctl("domain", "check", DOMAIN, check=True)
    assert keys(relay)[other[RSA]]["status"] == "pending"
    for host, value in new.items():
        relay.dns.set(host, "TXT", [value])
    ks = check_until(relay, lambda ks: ks[other[RSA]]["status"] ==
                     "active" and ks[other[ED]]["status"] == "active")
    assert ks[sel[RSA]]["status"] == "retired", ks
    for s in other.values():
        published.records[f"{s}._domainkey.{DOMAIN}"] = \
            new[f"{s}.{DOMAIN}.{ZONE}"]
    data = send(relay, user, password, sink, "b@example.net", "b")
    assert check_signed(data, published, selectors=other) == []

    # The a selectors still hold the retired keys: no third rotation
    # until the checks delete them.
    r = relay.ctl("domain", "rotate", DOMAIN)
    assert r.returncode == 1 and "still holds the retired key" in \
        r.stderr, r.stderr
    for s in sel.values():
        relay.dns.remove(f"{s}.{DOMAIN}.{ZONE}", "TXT")
    age_retired(relay, WEEK + 60)
    check_until(relay, lambda ks: sel[RSA] not in ks and sel[ED] not in ks)
    doc = json.loads(relay.ctl("domain", "rotate", DOMAIN, json_out=True,
                               check=True).stdout)
    assert sorted(rec["host"] for rec in dkim_records(doc)) == sorted(
        f"{s}.{DOMAIN}.{ZONE}" for s in sel.values()), doc


def test_delegation_configured_later_moves_the_domain_to_the_pair(mxnet):
    """A domain added before `dkim delegate`: its first rotation moves it
    to the a selectors and prints the CNAMEs the customer now publishes
    once; its old keys go on signing until the new records are seen."""
    relay, user, password, published = start(mxnet)
    relay.extra += f"dkim delegate {ZONE}\n"
    relay.restart()
    r = relay.ctl("domain", "rotate", DOMAIN, json_out=True, check=True)
    doc = json.loads(r.stdout)
    cnames = {rec["host"]: rec["value"] for rec in doc["records"]
              if rec["type"] == "CNAME"}
    assert sorted(cnames) == sorted(
        f"sendgate-{w}-{a}._domainkey.{DOMAIN}" for w in "ab"
        for a in ("rsa", "ed25519")), doc
    txt = {rec["host"]: rec["value"] for rec in dkim_records(doc)}
    assert sorted(txt) == sorted(f"sendgate-a-{a}.{DOMAIN}.{ZONE}"
                                 for a in ("rsa", "ed25519")), doc
    for host, target in cnames.items():
        relay.dns.set(host, "CNAME", [target])
    for host, value in txt.items():
        relay.dns.set(host, "TXT", [value])
    ks = check_until(relay, lambda ks: ks["sendgate-a-rsa"]["status"] ==
                     "active" and ks["sendgate-a-ed25519"]["status"] ==
                     "active")
    assert ks[SELECTOR[RSA]]["status"] == "retired", ks
