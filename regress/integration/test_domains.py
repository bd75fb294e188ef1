"""Domain authorizations and their DKIM keys through sendgatectl: the DNS
records to publish, IDN, the key files the signer keeps, keys shared by
connectors and removed with the last authorization, and bad domains."""
import base64
import json
import os
import pwd
import re
import stat
import subprocess
import time

import pytest

from conftest import GROUP_MEMBER, SENDGATECTL, wait_for


TOKEN = re.compile(r"[0-9a-f]{40}")
SELECTORS = {"rsa": ("sendgate-rsa", "rsa-sha256"),
             "ed25519": ("sendgate-ed25519", "ed25519-sha256")}
NOT_ROOT = "permission denied: only root may change the relay"


def add_connectors(relay, *names):
    for name in names:
        relay.ctl("connector", "add", name, check=True)


def add_domain(relay, connector, domain):
    r = relay.ctl("domain", "add", connector, domain, json_out=True,
                  check=True)
    return json.loads(r.stdout)


def records(doc):
    """The records of an answer by purpose; dkim ones by key type."""
    out = {}
    for rec in doc["records"]:
        purpose = rec["purpose"].split()[0]
        if purpose == "dkim":
            purpose = re.search(r"k=(\w+);", rec["value"]).group(1)
        out.setdefault(purpose, []).append(rec)
    return out


def dkim_p(value):
    return base64.b64decode(re.fullmatch(r"v=DKIM1; k=\w+; p=([A-Za-z0-9+/=]+)",
                                         value).group(1))


def key_file(relay, domain, keytype):
    selector, alg = SELECTORS[keytype]
    return os.path.join(relay.dirs["keys"], f"{domain}.{selector}.{alg}.pem")


def public_key(path, keytype):
    """What p= must decode to for the private key in path: the DER
    SubjectPublicKeyInfo for RSA, the raw 32 bytes for Ed25519."""
    try:
        from cryptography.hazmat.primitives import serialization as ser
    except ImportError:
        der = subprocess.run(["openssl", "pkey", "-in", path, "-pubout",
                              "-outform", "DER"], check=True,
                             capture_output=True).stdout
        return der[-32:] if keytype == "ed25519" else der
    with open(path, "rb") as f:
        key = ser.load_pem_private_key(f.read(), password=None)
    if keytype == "ed25519":
        return key.public_key().public_bytes(ser.Encoding.Raw,
                                             ser.PublicFormat.Raw)
    assert key.key_size == 2048
    return key.public_key().public_bytes(
        ser.Encoding.DER, ser.PublicFormat.SubjectPublicKeyInfo)




def test_add_prints_the_three_kinds_of_records(relay):
    add_connectors(relay, "acme")
    doc = add_domain(relay, "acme", "example.com")
    token = doc["domain"]["token"]
    assert TOKEN.fullmatch(token)
    assert doc["domain"] == {"domain": "example.com", "connector": "acme",
                             "state": "pending", "token": token}
    assert doc["message"] == ("domain example.com added to connector acme; "
                              "publish the records above, then the checks "
                              "verify it")
    recs = records(doc)
    assert sorted(recs) == ["ed25519", "rsa", "spf", "verification"]
    assert [(r["host"], r["type"], r["value"]) for r in
            recs["verification"] + recs["spf"]] == [
        ("example.com", "TXT", f"sendgate-verification={token}"),
        ("example.com", "TXT", "v=spf1 include:_spf.relay.test ~all")]
    for keytype, (selector, _) in SELECTORS.items():
        (rec,) = recs[keytype]
        assert rec["host"] == f"{selector}._domainkey.example.com"
        assert rec["type"] == "TXT"
        assert rec["value"].startswith(f"v=DKIM1; k={keytype}; p=")
    assert relay.state_query("SELECT token FROM domain") == [(token,)]

    # The text form: zone-file lines to paste, then host, type, value.
    add_connectors(relay, "beta")
    r = relay.ctl("domain", "add", "beta", "example.com", check=True)
    token = re.search(r"^token:\s+(\w+)$", r.stdout, re.M).group(1)
    assert (f'\nexample.com. IN TXT "sendgate-verification={token}"\n'
            f"    host:  example.com\n    type:  TXT\n"
            f"    value: sendgate-verification={token}\n") in r.stdout
    assert ('\nexample.com. IN TXT "v=spf1 include:_spf.relay.test ~all"\n'
            in r.stdout)
    for selector, _ in SELECTORS.values():
        assert f"\n{selector}._domainkey.example.com. IN TXT \"v=DKIM1; " \
            in r.stdout


def test_records_follow_the_configuration(relay_factory):
    relay = relay_factory()
    relay.extra = ("verification prefix acme-relay\n"
                   "spf include _spf.mail.example.net\n"
                   "dkim selector sg2026\n")
    relay.start()
    add_connectors(relay, "acme")
    recs = records(add_domain(relay, "acme", "example.com"))
    assert recs["verification"][0]["value"].startswith(
        "acme-relay-verification=")
    assert recs["spf"][0]["value"] == \
        "v=spf1 include:_spf.mail.example.net ~all"
    assert recs["rsa"][0]["host"] == "sg2026-rsa._domainkey.example.com"
    assert recs["ed25519"][0]["host"] == \
        "sg2026-ed25519._domainkey.example.com"
    assert sorted(os.listdir(relay.dirs["keys"])) == [
        "example.com.sg2026-ed25519.ed25519-sha256.pem",
        "example.com.sg2026-rsa.rsa-sha256.pem"]


def test_zone_form_splits_long_values_into_255_byte_strings(relay):
    add_connectors(relay, "acme")
    doc = add_domain(relay, "acme", "example.com")
    for rec in doc["records"]:
        m = re.fullmatch(r"(\S+)\. IN TXT((?: \"[^\"]*\")+)", rec["zone"])
        assert m, rec["zone"]
        assert m.group(1) == rec["host"]
        strings = re.findall(r"\"([^\"]*)\"", m.group(2))
        assert all(len(s) <= 255 for s in strings), rec["zone"]
        assert all(len(s) == 255 for s in strings[:-1]), rec["zone"]
        assert "".join(strings) == rec["value"]
    (rsa,) = records(doc)["rsa"]
    assert len(rsa["value"]) > 255
    assert rsa["zone"].count('" "') == 1


def test_unicode_domain_is_stored_as_its_a_label(relay):
    add_connectors(relay, "acme")
    doc = add_domain(relay, "acme", "b\u00fccher.example")
    assert doc["domain"]["domain"] == "xn--bcher-kva.example"
    assert doc["domain"]["unicode"] == "b\u00fccher.example"
    assert {r["host"] for r in doc["records"]} == {
        "xn--bcher-kva.example",
        "sendgate-rsa._domainkey.xn--bcher-kva.example",
        "sendgate-ed25519._domainkey.xn--bcher-kva.example"}
    assert relay.state_query("SELECT name FROM domain") == \
        [("xn--bcher-kva.example",)]
    assert {d for (d,) in relay.state_query("SELECT domain FROM dkim_key")} \
        == {"xn--bcher-kva.example"}
    assert os.path.exists(key_file(relay, "xn--bcher-kva.example", "rsa"))

    for name in ("b\u00fccher.example", "xn--bcher-kva.example",
                 "B\u00dcCHER.Example."):
        r = relay.ctl("domain", "show", name, check=True)
        assert r.stdout.startswith("domain:  xn--bcher-kva.example\n"
                                   "unicode: b\u00fccher.example\n"), name
    relay.assert_refused([
        (("domain", "add", "acme", "B\u00dcCHER.example"),
         "domain xn--bcher-kva.example is already authorized for connector "
         "acme")])


def test_dkim_record_matches_the_private_key_file(relay):
    add_connectors(relay, "acme")
    recs = records(add_domain(relay, "acme", "example.com"))
    for keytype in SELECTORS:
        (rec,) = recs[keytype]
        assert dkim_p(rec["value"]) == public_key(
            key_file(relay, "example.com", keytype), keytype), keytype
    stored = dict(relay.state_query("SELECT algorithm, public_key FROM "
                                    "dkim_key"))
    assert {alg: base64.b64decode(p) for alg, p in stored.items()} == {
        "rsa-sha256": dkim_p(recs["rsa"][0]["value"]),
        "ed25519-sha256": dkim_p(recs["ed25519"][0]["value"])}


def test_private_keys_are_readable_only_by_the_signer_user(relay):
    add_connectors(relay, "acme")
    add_domain(relay, "acme", "example.com")
    uid = pwd.getpwnam("_sendgatek").pw_uid
    st = os.stat(relay.dirs["keys"])
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (uid, 0o700)
    files = sorted(os.listdir(relay.dirs["keys"]))
    assert files == ["example.com.sendgate-ed25519.ed25519-sha256.pem",
                     "example.com.sendgate-rsa.rsa-sha256.pem"]
    for name in files:
        st = os.lstat(os.path.join(relay.dirs["keys"], name))
        assert stat.S_ISREG(st.st_mode)
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (uid, 0o600), name


def test_same_domain_on_two_connectors_shares_one_key_set(relay):
    add_connectors(relay, "acme", "beta")
    a = add_domain(relay, "acme", "example.com")
    b = add_domain(relay, "beta", "example.com")
    assert a["domain"]["token"] != b["domain"]["token"]
    assert records(a)["rsa"] == records(b)["rsa"]
    assert records(a)["ed25519"] == records(b)["ed25519"]
    assert len(os.listdir(relay.dirs["keys"])) == 2
    assert len(relay.state_query("SELECT * FROM dkim_key")) == 2
    assert relay.logtext().count("signer: DKIM key example.com.") == 2

    doc = json.loads(relay.ctl("domain", "show", "example.com",
                               json_out=True, check=True).stdout)
    assert sorted((x["connector"], x["token"]) for x in
                  doc["authorizations"]) == [("acme", a["domain"]["token"]),
                                             ("beta", b["domain"]["token"])]
    assert sorted(r["value"] for r in records(doc)["verification"]) == \
        sorted(f"sendgate-verification={d['domain']['token']}"
               for d in (a, b))


def test_del_of_the_last_authorization_removes_the_keys(relay):
    add_connectors(relay, "acme", "beta")
    first = add_domain(relay, "acme", "example.com")
    add_domain(relay, "beta", "example.com")
    keys = relay.state_query("SELECT * FROM dkim_key")

    r = relay.ctl("domain", "del", "acme", "example.com", check=True)
    assert r.stdout == "domain example.com removed from connector acme\n"
    assert relay.state_query("SELECT * FROM dkim_key") == keys
    time.sleep(0.2)
    assert len(os.listdir(relay.dirs["keys"])) == 2

    r = relay.ctl("domain", "del", "beta", "example.com", check=True)
    assert r.stdout == ("domain example.com removed from connector beta; "
                        "its DKIM keys were deleted\n")
    assert relay.state_query("SELECT * FROM dkim_key") == []
    assert relay.state_query("SELECT * FROM domain") == []
    wait_for(lambda: os.listdir(relay.dirs["keys"]) == [])
    for keytype in SELECTORS:
        # The signer logs right after the unlink: wait for the line too.
        line = ("signer: DKIM key " + os.path.basename(
            key_file(relay, "example.com", keytype)) + " removed")
        wait_for(lambda: line in relay.logtext())

    # Added again, the domain gets new keys.
    again = add_domain(relay, "acme", "example.com")
    assert records(again)["rsa"][0]["value"] != \
        records(first)["rsa"][0]["value"]


def test_list_and_show_give_text_and_json(relay):
    add_connectors(relay, "acme", "beta", "idle")
    a = add_domain(relay, "acme", "example.com")
    add_domain(relay, "acme", "example.org")
    add_domain(relay, "beta", "example.com")

    r = relay.ctl("domain", "list", check=True)
    rows = [line.split() for line in r.stdout.splitlines()]
    assert rows[0] == ["DOMAIN", "CONNECTOR", "STATE", "SINCE"]
    assert [row[:3] for row in rows[1:]] == [
        ["example.com", "acme", "pending"], ["example.com", "beta", "pending"],
        ["example.org", "acme", "pending"]]
    doc = json.loads(relay.ctl("domain", "list", "acme", json_out=True,
                               check=True).stdout)
    assert [(d["domain"], d["connector"], d["state"]) for d in
            doc["domains"]] == [("example.com", "acme", "pending"),
                                ("example.org", "acme", "pending")]
    assert sorted(doc["domains"][0]) == ["connector", "domain", "since",
                                         "state"]
    r = relay.ctl("domain", "list", "idle", check=True)
    assert r.stdout == ""
    assert [d["domain"] for d in json.loads(relay.ctl(
        "connector", "show", "acme", json_out=True,
        check=True).stdout)["domains"]] == ["example.com", "example.org"]

    doc = json.loads(relay.ctl("domain", "show", "example.com",
                               json_out=True, check=True).stdout)
    assert sorted(doc) == ["authorizations", "domain", "keys", "records"]
    assert doc["domain"] == {"domain": "example.com"}
    acme = doc["authorizations"][0]
    # The first check runs at once; its results are there or not yet.
    assert {k: acme[k] for k in ("connector", "state", "token")} == {
        "connector": "acme", "state": "pending",
        "token": a["domain"]["token"]}
    assert sorted(acme) == ["connector", "diagnosis", "dkim",
                            "dkim_diagnosis", "dmarc", "last_check",
                            "next_check", "since", "spf", "spf_diagnosis",
                            "state", "token"]
    assert [(k["selector"], k["algorithm"]) for k in doc["keys"]] == [
        ("sendgate-ed25519", "ed25519-sha256"),
        ("sendgate-rsa", "rsa-sha256")]
    assert sorted(records(doc)) == ["ed25519", "rsa", "spf", "verification"]

    r = relay.ctl("domain", "show", "example.com", check=True)
    assert r.stdout.startswith("domain: example.com\n\nauthorizations:\n")
    assert "\nkeys:\nSELECTOR          ALGORITHM       STATUS  SINCE" \
        in r.stdout
    assert f"\ntoken:          {a['domain']['token']}\n" in r.stdout

    for args in (["domain", "list"], ["domain", "show", "example.com"]):
        r = relay.ctl(*args, user=GROUP_MEMBER)
        assert r.returncode == 0 and "example.com" in r.stdout, r.stderr


def test_check_runs_now_and_answers_with_the_result(relay):
    add_connectors(relay, "acme")
    add_domain(relay, "acme", "example.com")
    r = relay.ctl("domain", "check", "example.com", json_out=True,
                  check=True)
    doc = json.loads(r.stdout)
    # The conftest DNS server knows no such domain: not verified.
    assert [(x["connector"], x["state"], x["ownership"])
            for x in doc["checks"]] == [
        ("acme", "pending", "no TXT record at the domain (NXDOMAIN)")]
    assert doc["message"] == "domain example.com checked"
    assert relay.state_query("SELECT last_check > 0 FROM domain") == [(1,)]


L63 = "a" * 63

# Rows of (domain as typed, the reason sendgatectl prints).
BAD_DOMAINS = [
    ("", "domain is empty"),
    ("example..com", "domain has an empty label at position 9"),
    (".example.com", "domain starts with a dot (empty label)"),
    ("a" * 64 + ".com", f"label '{'a' * 64}' is 64 bytes long; the limit "
     "is 63"),
    (f"{L63}.{'b' * 63}.{'c' * 63}.{'d' * 63}.com",
     "domain is 259 bytes long in A-label form; the limit is 253"),
    ("under_score.example.com", "domain contains '_' at position 6; "
     "underscores are not allowed in a mail domain"),
    ("example.com/x", "domain contains invalid character '/' at position "
     "12"),
    ("example.com x", "domain contains a space at position 12"),
    ("ex'ample.com", "domain contains invalid character '\\x27' at "
     "position 3"),
    ("example.com;--", "domain contains invalid character ';' at position "
     "12"),
    ("ex\x01ample.com", "domain contains control byte \\x01 at position 3"),
    ("localhost", "domain 'localhost' has a single label; a sending domain "
     "has at least two, like example.com"),
    ("1.2.3.4", "top-level label '4' is all digits; an IP address is not a "
     "domain"),
    ("-lead.example.com", "label '-lead' starts with a hyphen"),
]


def test_bad_domains_are_refused_and_change_nothing(relay):
    add_connectors(relay, "acme")
    add_domain(relay, "acme", "example.com")
    rows = []
    for domain, message in BAD_DOMAINS:
        for cmd in (("add", "acme"), ("del", "acme"), ("show",),
                    ("check",)):
            rows.append((("domain",) + cmd + (domain,),
                         f"invalid domain: {message}"))
    rows += [
        (("domain", "add", "acme", "example.com"),
         "domain example.com is already authorized for connector acme"),
        (("domain", "add", "acme", "EXAMPLE.COM."),
         "domain example.com is already authorized for connector acme"),
        (("domain", "del", "acme", "example.org"),
         "domain example.org is not authorized for connector acme"),
        (("domain", "del", "acme", "sub.example.com"),
         "domain sub.example.com is not authorized for connector acme"),
        (("domain", "show", "example.org"),
         "domain example.org is not authorized for any connector"),
        (("domain", "check", "example.org"),
         "domain example.org is not authorized for any connector"),
    ]
    relay.assert_refused(rows)


def test_non_root_cannot_change_domains(relay):
    add_connectors(relay, "acme")
    add_domain(relay, "acme", "example.com")
    relay.assert_refused([
        (args, NOT_ROOT) for args in (
            ("domain", "add", "acme", "example.org"),
            ("domain", "del", "acme", "example.com"),
            ("domain", "check", "example.com"))], user=GROUP_MEMBER)


def test_longest_valid_domain_gets_its_keys(relay):
    # 253 bytes: the longest domain the validation accepts.
    domain = f"{L63}.{L63}.{L63}.{'b' * 61}"
    assert len(domain) == 253
    add_connectors(relay, "acme")
    r = relay.ctl("domain", "add", "acme", domain, json_out=True)
    assert (r.returncode, r.stderr) == (0, ""), r.stderr
    assert sorted(records(json.loads(r.stdout))) == [
        "ed25519", "rsa", "spf", "verification"]


def test_leftover_key_file_does_not_block_the_domain(relay):
    # A key file without a database row, as a crash between the signer's
    # write and lka's commit leaves it.
    add_connectors(relay, "acme")
    path = key_file(relay, "example.com", "ed25519")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out",
                    path], check=True, capture_output=True)
    kid = pwd.getpwnam("_sendgatek")
    os.chown(path, kid.pw_uid, kid.pw_gid)
    os.chmod(path, 0o600)
    r = relay.ctl("domain", "add", "acme", "example.com", json_out=True)
    assert (r.returncode, r.stderr) == (0, ""), r.stderr
    (rec,) = records(json.loads(r.stdout))["ed25519"]
    assert dkim_p(rec["value"]) == public_key(path, "ed25519")


def test_connector_deleted_while_its_keys_are_generated(relay):
    # The connector goes while the signer makes the keys of its new
    # domain: the add fails naming the problem and leaves nothing behind.
    for attempt in range(10):
        add_connectors(relay, "acme")
        adding = subprocess.Popen(
            [SENDGATECTL, "-s", relay.socket, "domain", "add", "acme",
             f"example{attempt}.com"], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        time.sleep(0.03)
        deleted = relay.ctl("connector", "del", "acme")
        out, err = adding.communicate(timeout=30)
        if deleted.returncode == 0 and "no connector named" not in err:
            break
        relay.ctl("connector", "del", "acme", "--force")
    else:
        pytest.skip("the delete never came while the keys were made")
    assert (adding.returncode, out) == (1, "")
    assert re.fullmatch(r"sendgatectl: [^\n]*acme[^\n]*\n", err), err
    assert relay.state_query("SELECT * FROM domain") == []
    assert relay.state_query("SELECT * FROM dkim_key") == []
    wait_for(lambda: os.listdir(relay.dirs["keys"]) == [])
