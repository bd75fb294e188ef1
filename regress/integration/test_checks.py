"""Domain checks through the daemon, against a real DNS server on loopback
whose zone the tests change while the relay runs (issue 4): the ownership
TXT and its lifecycle (pending, verified, failing, revoked), temporary DNS
failures, token matching, SPF, DKIM and DMARC results, `domain check`,
`spf walk`, and the resolver the daemon talks to.

The relays check every 2 s (`checks every 2s`); every wait is a bounded
poll.  The fixture answers with a TTL of 1 s; answers without records may
stay in libunbound's cache a few seconds more, which the polls absorb.
"""
import json
import re
import signal
import subprocess
import time

from conftest import wait_for
from dnsfixture import Strings, dns  # noqa: F401

DOMAIN = "example.com"
CONNECTOR = "web01"
INCLUDE = "_spf.relay.test"
RELAY_IP = "192.0.2.10"
SPF_OK = f"v=spf1 ip4:192.0.2.0/24 include:{INCLUDE} ~all"

EVERY = "checks every 2s\n"
SPF_CONF = f"relay address {RELAY_IP}\nspf include {INCLUDE}\n"
SELECTORS = ("sendgate-rsa", "sendgate-ed25519")

STATE_TIMEOUT = 15      # a state change seen within, at checks every 2s


# ---------------------------------------------------------------- helpers

def start(relay_factory, dns, extra=EVERY):
    relay = relay_factory()
    relay.extra = dns.config() + extra
    return relay.start()


def add(relay, connector=CONNECTOR, domain=DOMAIN):
    """Authorize domain for connector (made if needed); the answer of
    `domain add -j`."""
    if relay.ctl("connector", "show", connector).returncode != 0:
        relay.ctl("connector", "add", connector, check=True)
    r = relay.ctl("domain", "add", connector, domain, json_out=True,
                  check=True)
    return json.loads(r.stdout)


def record(doc, purpose):
    """The value of the one record of a purpose in a `domain add` answer."""
    (rec,) = [r["value"] for r in doc["records"]
              if r["purpose"].split()[0] == purpose]
    return rec


def dkim_records(doc):
    """(host, value) of every DKIM record `domain add` printed."""
    return [(r["host"], r["value"]) for r in doc["records"]
            if r["purpose"] == "dkim"]


def authorization(relay, connector=CONNECTOR, domain=DOMAIN):
    """The authorization row of `domain show -j` for connector."""
    r = relay.ctl("domain", "show", domain, json_out=True, check=True)
    rows = [a for a in json.loads(r.stdout)["authorizations"]
            if a["connector"] == connector]
    assert len(rows) == 1, r.stdout
    return rows[0]


def poll_state(relay, want, connector=CONNECTOR, domain=DOMAIN,
               timeout=STATE_TIMEOUT):
    """Poll `domain show` until the authorization is in state want.
    Returns the states seen on the way (each once, in order) and the
    last row."""
    seen = []
    deadline = time.time() + timeout
    while True:
        a = authorization(relay, connector, domain)
        if not seen or seen[-1] != a["state"]:
            seen.append(a["state"])
        if a["state"] == want:
            return seen, a
        assert time.time() < deadline, (
            f"{domain} for {connector}: not {want} after {timeout} s; "
            f"states seen {seen}, last {a!r}")
        time.sleep(0.1)


def authorization_records(relay, domain=DOMAIN):
    """The records `domain show -j` says to publish."""
    r = relay.ctl("domain", "show", domain, json_out=True, check=True)
    return json.loads(r.stdout)["records"]


def check(relay, domain=DOMAIN, bound=15):
    """`sendgatectl domain check -j`: exit 0 within bound seconds; the
    answer and the time it took."""
    t0 = time.time()
    r = relay.ctl("domain", "check", domain, json_out=True)
    took = time.time() - t0
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert took < bound, f"domain check took {took:.1f} s"
    return json.loads(r.stdout), took


def check_row(doc, connector=CONNECTOR):
    rows = [c for c in doc["checks"] if c["connector"] == connector]
    assert len(rows) == 1, doc
    return rows[0]


def check_until(relay, predicate, connector=CONNECTOR, domain=DOMAIN,
                timeout=STATE_TIMEOUT):
    """Run `domain check` until its row for connector satisfies
    predicate (a changed record may be cached for a few seconds); the
    row."""
    deadline = time.time() + timeout
    while True:
        row = check_row(check(relay, domain)[0], connector)
        if predicate(row):
            return row
        assert time.time() < deadline, (
            f"{domain}: no check result as expected within {timeout} s; "
            f"last {row!r}")
        time.sleep(0.2)


def events(relay):
    return [w for (w,) in relay.state_query(
        "SELECT what FROM event ORDER BY id")]


def db_domain(relay, connector=CONNECTOR, domain=DOMAIN):
    """state, state_since, failing_since of an authorization."""
    (row,) = relay.state_query(
        "SELECT d.state, d.state_since, d.failing_since FROM domain d "
        "JOIN connector c ON c.id = d.connector "
        "WHERE d.name = ? AND c.name = ?", (domain, connector))
    return row


def verify(relay, dns, connector=CONNECTOR, domain=DOMAIN):
    """Authorize, publish the token, wait until verified; the add answer."""
    doc = add(relay, connector, domain)
    dns.txt(domain, record(doc, "verification"))
    poll_state(relay, "verified", connector, domain)
    return doc


# ------------------------------------------------------ ownership lifecycle

def test_published_txt_verifies_domain(relay_factory, dns):
    relay = start(relay_factory, dns)
    doc = add(relay)
    assert doc["domain"]["state"] == "pending"
    # Checked at once on add: no record yet, still pending.
    wait_for(lambda: authorization(relay)["last_check"] != "never", 10)
    a = authorization(relay)
    assert a["state"] == "pending"
    assert a["diagnosis"] == "no TXT record at the domain (NXDOMAIN)"

    dns.txt(DOMAIN, record(doc, "verification"))
    seen, a = poll_state(relay, "verified")
    assert seen == ["pending", "verified"]
    assert a["diagnosis"] == "verification TXT found"
    line = f"domain {DOMAIN} verified for connector {CONNECTOR}"
    assert line in events(relay)
    assert line in relay.logtext()


def test_removed_txt_fails_then_revokes_after_grace(relay_factory, dns):
    relay = start(relay_factory, dns, EVERY + "verification grace 5s\n")
    verify(relay, dns)
    dns.remove(DOMAIN, "TXT")
    seen, a = poll_state(relay, "revoked", timeout=25)
    assert seen == ["verified", "failing", "revoked"]
    state, since, failing_since = db_domain(relay)
    assert since - failing_since >= 5, (since, failing_since)
    failing = (f"domain {DOMAIN} failing for connector {CONNECTOR}: "
               "verification TXT missing")
    revoked = (f"domain {DOMAIN} revoked for connector {CONNECTOR}: "
               "verification TXT missing past the grace time")
    ev = events(relay)
    assert ev.index(failing) < ev.index(revoked)
    assert failing in relay.logtext() and revoked in relay.logtext()


def test_grace_zero_revokes_at_once_and_restored_txt_verifies_again(
        relay_factory, dns):
    relay = start(relay_factory, dns, EVERY + "verification grace 0\n")
    doc = verify(relay, dns)
    dns.remove(DOMAIN, "TXT")
    seen, _ = poll_state(relay, "revoked")
    assert seen == ["verified", "revoked"]
    state, since, failing_since = db_domain(relay)
    assert since == failing_since

    dns.txt(DOMAIN, record(doc, "verification"))
    seen, a = poll_state(relay, "verified")
    assert seen == ["revoked", "verified"]
    assert a["diagnosis"] == "verification TXT found"
    line = f"domain {DOMAIN} verified for connector {CONNECTOR}"
    assert events(relay).count(line) == 2


def test_dns_temporary_failures_never_advance_toward_revoked(relay_factory,
                                                             dns):
    # Grace 0: had a temporary failure counted as "missing", the domain
    # would be revoked at the first one.
    relay = start(relay_factory, dns, EVERY + "verification grace 0\n")
    failing = {"example.com": dns.servfail, "example.net": dns.timeout}
    for domain in failing:
        verify(relay, dns, domain=domain)
    for domain, how in failing.items():
        how(domain)

    # 20 s of SERVFAIL and of silence (lka gives up on a question after
    # 10 s): never anything but verified, and the diagnosis says why.
    states, diags = {}, {d: set() for d in failing}
    t0 = time.time()
    while time.time() - t0 < 20 or not all(
            any("temporary failure" in x for x in diags[d])
            for d in failing):
        assert time.time() - t0 < 40, f"no temporary failure shown: {diags}"
        for domain in failing:
            state, diag = relay.state_query(
                "SELECT state, diag FROM domain WHERE name = ?",
                (domain,))[0]
            states.setdefault(domain, set()).add(state)
            diags[domain].add(diag)
        time.sleep(0.2)
    assert states == {d: {"verified"} for d in failing}, states
    for domain in failing:
        a = authorization(relay, domain=domain)
        assert a["state"] == "verified"
        assert "temporary failure" in a["diagnosis"], a
        assert a["diagnosis"].endswith("(state unchanged)"), a
    assert "SERVFAIL" in authorization(relay, domain="example.com")[
        "diagnosis"]

    for domain in failing:
        dns.heal(domain)
    for domain in failing:
        a = check_until(relay, lambda r: r["ownership"] ==
                        "verification TXT found", domain=domain, timeout=30)
        assert a["state"] == "verified"
    assert not [e for e in events(relay) if "failing" in e or
                "revoked" in e]


# ---------------------------------------------------------- token matching

def test_each_connector_follows_its_own_token(relay_factory, dns):
    relay = start(relay_factory, dns, EVERY + "verification grace 0\n")
    web01 = add(relay, "web01")
    web02 = add(relay, "web02")
    tok1, tok2 = web01["domain"]["token"], web02["domain"]["token"]
    assert tok1 != tok2

    # Only web02's token: web02 verified, web01 told it sees another one.
    dns.txt(DOMAIN, record(web02, "verification"))
    poll_state(relay, "verified", "web02")
    a = check_until(relay, lambda r: "different token" in r["ownership"],
                    "web01")
    assert a["state"] == "pending"
    assert a["ownership"] == ("a TXT record has a different token "
                              f"(sendgate-verification={tok2[:12]}...)")

    # Both: both verified.
    dns.txt(DOMAIN, record(web01, "verification"))
    poll_state(relay, "verified", "web01")
    assert authorization(relay, "web02")["state"] == "verified"

    # web02's withdrawn: web02 revoked (grace 0), web01 stays verified.
    dns.set(DOMAIN, "TXT", [record(web01, "verification")])
    poll_state(relay, "revoked", "web02")
    assert authorization(relay, "web01")["state"] == "verified"


def test_token_split_into_two_strings_verifies(relay_factory, dns):
    relay = start(relay_factory, dns)
    doc = add(relay)
    value = record(doc, "verification")
    # One record of two character-strings, next to unrelated records.
    dns.set(DOMAIN, "TXT", ["v=spf1 -all", Strings([value[:30], value[30:]]),
                            "google-site-verification=abc"])
    _, a = poll_state(relay, "verified")
    assert a["diagnosis"] == "verification TXT found"


def test_large_txt_answer_is_fetched_over_tcp(relay_factory, dns):
    relay = start(relay_factory, dns)
    doc = add(relay)
    value = record(doc, "verification")
    # 2 KiB of other TXT records: the UDP answer comes back truncated.
    others = [f"site-verification-{i}=" + "x" * 180 for i in range(11)]
    dns.set(DOMAIN, "TXT", others + [value])
    _, a = poll_state(relay, "verified")
    assert a["diagnosis"] == "verification TXT found"


def test_token_prefix_suffix_or_other_text_is_not_accepted(relay_factory,
                                                           dns):
    relay = start(relay_factory, dns)
    cases = {
        # subdomain: (records from the right value, expected diagnosis)
        "prefix.example.com": (lambda v: [v[:-1]], "different token"),
        "suffix.example.com": (lambda v: [v + "0"], "with other text"),
        "before.example.com": (lambda v: ["x" + v], "with other text"),
        "after.example.com": (lambda v: [v + " "], "with other text"),
        "case.example.com": (lambda v: [v.upper()], "other letter case"),
        "tworecords.example.com": (lambda v: [v[:20], v[20:]],
                                   "2 TXT records, none is"),
    }
    values = {}
    for domain, (make, _) in cases.items():
        values[domain] = record(add(relay, domain=domain), "verification")
        dns.set(domain, "TXT", make(values[domain]))
    for domain, (_, diag) in cases.items():
        a = check_until(relay, lambda r: "NXDOMAIN" not in r["ownership"],
                        domain=domain)
        assert diag in a["ownership"], (domain, a)
        assert a["state"] == "pending", (domain, a)
    # Nothing was verified on the way.
    assert not [e for e in events(relay) if "verified" in e]


# -------------------------------------------------------------------- SPF

def spf_relay(relay_factory, dns, records):
    """A relay with the SPF settings; records (name -> TXT values) are
    published before the domain is added.  The first complete check."""
    dns.set(INCLUDE, "TXT", ["v=spf1 ip4:192.0.2.0/24 -all"])
    for name, values in records.items():
        dns.set(name, "TXT", values)
    relay = start(relay_factory, dns, EVERY + SPF_CONF)
    add(relay)
    return relay, check_row(check(relay)[0])


def test_spf_record_with_relay_address_and_include_passes(relay_factory,
                                                          dns):
    _, c = spf_relay(relay_factory, dns, {DOMAIN: [SPF_OK]})
    assert c["spf"] == "pass", c
    assert "missing" not in c["spf_diagnosis"], c


def test_spf_record_printed_by_domain_add_passes(relay_factory, dns):
    # "v=spf1 include:_spf.relay.test ~all": the relay's address is
    # authorized through the include alone.
    relay, _ = spf_relay(relay_factory, dns, {})
    (printed,) = [r["value"] for r in authorization_records(relay)
                  if r["purpose"].startswith("spf")]
    assert printed == f"v=spf1 include:{INCLUDE} ~all"
    dns.set(DOMAIN, "TXT", [printed])
    c = check_until(relay, lambda r: r["spf"] != "none")
    assert c["spf"] == "pass", c
    assert "missing" not in c["spf_diagnosis"], c


def test_spf_dash_all_fails_and_says_include_missing(relay_factory, dns):
    _, c = spf_relay(relay_factory, dns, {DOMAIN: ["v=spf1 -all"]})
    assert c["spf"] == "fail", c
    assert f"include:{INCLUDE} missing" in c["spf_diagnosis"], c


def test_spf_without_relay_include_says_include_missing(relay_factory, dns):
    _, c = spf_relay(relay_factory, dns,
                     {DOMAIN: ["v=spf1 ip4:192.0.2.0/24 ~all"]})
    assert c["spf"] == "pass", c
    assert c["spf_diagnosis"].startswith(f"include:{INCLUDE} missing"), c


def test_spf_over_ten_lookups_is_permerror(relay_factory, dns):
    # example.com includes l1, l1 includes l2, ... l10 includes l11: 11
    # DNS-querying terms before any match.
    chain = {DOMAIN: ["v=spf1 include:l1.example.com ~all"]}
    for i in range(1, 11):
        chain[f"l{i}.example.com"] = [
            f"v=spf1 include:l{i + 1}.example.com ~all"]
    chain["l11.example.com"] = ["v=spf1 ip4:192.0.2.0/24 ~all"]
    _, c = spf_relay(relay_factory, dns, chain)
    assert c["spf"] == "permerror", c
    assert "11 DNS-querying terms (limit 10)" in c["spf_diagnosis"], c


def test_two_spf_records_are_permerror(relay_factory, dns):
    _, c = spf_relay(relay_factory, dns,
                     {DOMAIN: [SPF_OK, "v=spf1 include:other.example -all"]})
    assert c["spf"] == "permerror", c
    assert f"2 SPF records at {DOMAIN}" in c["spf_diagnosis"], c


# ------------------------------------------------------------------- DKIM

def dkim_relay(relay_factory, dns):
    relay = start(relay_factory, dns)
    doc = add(relay)
    recs = dkim_records(doc)
    assert sorted(h for h, _ in recs) == sorted(
        f"{s}._domainkey.{DOMAIN}" for s in SELECTORS)
    return relay, recs


def test_dkim_records_as_printed_are_ok(relay_factory, dns):
    relay, recs = dkim_relay(relay_factory, dns)
    for host, value in recs:
        dns.set(host, "TXT", [value])
    c = check_until(relay, lambda r: r["dkim"] != "missing")
    assert c["dkim"] == "ok", c
    for s in SELECTORS:
        assert f"{s}: the relay's key is published" in c["dkim_diagnosis"]


def test_dkim_other_key_is_mismatch(relay_factory, dns):
    relay, recs = dkim_relay(relay_factory, dns)
    # Another domain's keys: valid keys of the right types, not ours.
    other = dict(dkim_records(add(relay, domain="other.example")))
    for host, value in recs:
        selector = host.split(".")[0]
        dns.set(host, "TXT",
                [other[f"{selector}._domainkey.other.example"]])
    c = check_until(relay, lambda r: r["dkim"] != "missing")
    assert c["dkim"] == "mismatch", c
    assert "published key differs from the relay's key" in \
        c["dkim_diagnosis"], c


def test_dkim_empty_p_is_revoked(relay_factory, dns):
    relay, recs = dkim_relay(relay_factory, dns)
    for host, value in recs:
        dns.set(host, "TXT", [re.sub(r"p=.*", "p=", value)])
    c = check_until(relay, lambda r: r["dkim"] != "missing")
    assert c["dkim"] == "revoked", c
    assert "p= is empty: the key is revoked" in c["dkim_diagnosis"], c


def test_dkim_selector_cname_to_provider_is_followed(relay_factory, dns):
    relay, recs = dkim_relay(relay_factory, dns)
    for host, value in recs:
        target = host.split(".")[0] + ".example-com.keys.provider.test"
        dns.set(target, "TXT", [value])
        dns.set(host, "CNAME", [target])
    c = check_until(relay, lambda r: r["dkim"] != "missing")
    assert c["dkim"] == "ok", c
    asked = {q for q, _ in dns.queries}
    assert f"{SELECTORS[0]}._domainkey.{DOMAIN}" in asked


# ------------------------------------------------------------------ DMARC

def test_dmarc_policy_and_alignment_are_shown(relay_factory, dns):
    dns.set(f"_dmarc.{DOMAIN}", "TXT", ["v=DMARC1; p=reject"])
    relay = start(relay_factory, dns)
    add(relay)
    c = check_row(check(relay)[0])
    assert "p=reject" in c["dmarc"], c
    assert c["dmarc"].startswith(f"aligned (DKIM d={DOMAIN}, adkim=r)"), c
    assert authorization(relay)["dmarc"] == c["dmarc"]


# ------------------------------------------------ domain check, spf walk

def test_domain_check_answers_with_the_fresh_result(relay_factory, dns):
    # Hourly checks: only `domain add` and `domain check` look.
    relay = start(relay_factory, dns, "checks every 1h\n" + SPF_CONF)
    doc = add(relay)
    wait_for(lambda: authorization(relay)["last_check"] != "never", 10)
    assert authorization(relay)["state"] == "pending"
    dns.txt(DOMAIN, record(doc, "verification"))
    dns.txt(DOMAIN, SPF_OK)

    # Each domain check answers after a check it started (exit 0, rows);
    # the new record shows once the negative answer left the cache.
    deadline = time.time() + STATE_TIMEOUT
    while True:
        t0 = int(time.time())
        out, took = check(relay)
        c = check_row(out)
        assert out["message"] == f"domain {DOMAIN} checked"
        assert set(c) >= {"connector", "state", "ownership", "spf",
                          "spf_diagnosis", "dkim", "dkim_diagnosis",
                          "dmarc", "next_check"}
        last = relay.state_query("SELECT last_check FROM domain")[0][0]
        # lka's time(2) is the coarse clock: up to a tick behind ours at
        # a second boundary.
        assert last >= t0 - 1, "domain check answered before checking"
        if c["state"] == "verified":
            break
        assert time.time() < deadline, c
        time.sleep(0.2)
    assert c["ownership"] == "verification TXT found"
    assert c["spf"] == "pass"
    assert authorization(relay)["state"] == "verified"

    # The text form prints the same.
    r = relay.ctl("domain", "check", DOMAIN)
    assert r.returncode == 0, r.stderr
    assert "verified" in r.stdout and f"domain {DOMAIN} checked" in r.stdout


def test_spf_walk_prints_the_tree_and_changes_nothing(relay_factory, dns):
    dns.set(DOMAIN, "TXT", [SPF_OK])
    dns.set(INCLUDE, "TXT", ["v=spf1 ip4:192.0.2.0/24 -all"])
    relay = start(relay_factory, dns, "checks every 1h\n" + SPF_CONF)
    add(relay)
    check(relay)      # the add's check is over: the state is at rest
    before = relay.state_dump()

    r = relay.ctl("spf", "walk", DOMAIN)
    assert r.returncode == 0, r.stderr
    text = r.stdout
    assert SPF_OK in text, text
    assert f"include:{INCLUDE}" in text, text
    assert "v=spf1 ip4:192.0.2.0/24 -all" in text, text   # the included
    assert f"matches {RELAY_IP}" in text, text
    assert re.search(rf"include:{INCLUDE} \(terms 1/10, void 0/2\)", text), \
        text
    # Indented: the included record deeper than the domain's.
    lines = text.splitlines()
    depth = {l.strip(): len(l) - len(l.lstrip()) for l in lines}
    top = [l for l in lines if SPF_OK in l][0]
    inc = [l for l in lines if "v=spf1 ip4:192.0.2.0/24 -all" in l][0]
    assert depth[inc.strip()] > depth[top.strip()], text

    r = relay.ctl("spf", "walk", DOMAIN, json_out=True)
    assert r.returncode == 0, r.stderr
    walk = json.loads(r.stdout)
    assert walk["lines"] and all(set(l) == {"depth", "text"}
                                 for l in walk["lines"]), walk

    # A domain nobody authorized can be walked too.
    dns.set("unrelated.example", "TXT", ["v=spf1 -all"])
    r = relay.ctl("spf", "walk", "unrelated.example")
    assert r.returncode == 0 and "v=spf1 -all" in r.stdout, r
    assert relay.state_dump() == before


# ------------------------------------------------------------- resolver

def inet_destinations(trace):
    """Addresses lka sent to or connected to, from an strace log."""
    out = set()
    for line in trace.splitlines():
        m = re.search(r'sin6?_port=htons\((\d+)\), '
                      r'(?:sin_addr=inet_addr\("([^"]+)"\)|'
                      r'sin6_flowinfo=[^,]*, inet_pton\(AF_INET6, '
                      r'"([^"]+)")', line)
        if m:
            out.add((m.group(2) or m.group(3), int(m.group(1))))
    return out


def test_daemon_asks_only_the_configured_resolver(relay_factory, dns):
    dns.set(DOMAIN, "TXT", [SPF_OK])
    dns.set(INCLUDE, "TXT", ["v=spf1 ip4:192.0.2.0/24 -all"])
    dns.set(f"_dmarc.{DOMAIN}", "TXT", ["v=DMARC1; p=none"])
    relay = start(relay_factory, dns, EVERY + SPF_CONF)
    trace = str(relay.base / "lka.strace")
    st = subprocess.Popen(
        ["strace", "-f", "-qq", "-o", trace, "-e",
         "trace=connect,sendto,sendmsg,sendmmsg",
         "-p", str(relay.pids()["lka"])],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)     # strace attached
        doc = add(relay)
        for host, value in dkim_records(doc):
            dns.set(host, "TXT", [value])
        dns.txt(DOMAIN, record(doc, "verification"))
        poll_state(relay, "verified")
        check_until(relay, lambda r: r["dkim"] == "ok")
        relay.ctl("spf", "walk", DOMAIN, check=True)
    finally:
        st.send_signal(signal.SIGINT)
        st.wait(timeout=10)

    expected = {
        (DOMAIN, "TXT"), (INCLUDE, "TXT"), (f"_dmarc.{DOMAIN}", "TXT"),
    } | {(f"{s}._domainkey.{DOMAIN}", "TXT") for s in SELECTORS}
    asked = set(dns.queries)
    assert asked <= expected, asked - expected
    with open(trace) as f:
        dest = inet_destinations(f.read())
    assert dest, "strace saw no DNS traffic"
    assert dest == {("127.0.0.1", dns.port)}, dest
    # The relay's include too, though its name is under .test (RFC 6761):
    # with `resolver`, every question goes to the resolver named.
    assert (INCLUDE, "TXT") in asked, "the SPF include was never asked"
