"""The DSN that queue/bounce.c builds, read by an independent parser:
Python's email package.  regress/unit/test_bounce writes one sample
(two recipients, ENVID, ORCPT, a long and a hostile remote reply) to the
file named by BOUNCE_SAMPLE.  No daemon is started."""
import email
import email.policy
import os
import subprocess

from conftest import BUILD, TOP

TEST_BOUNCE = os.path.join(BUILD, "regress", "test_bounce")


def sample(tmp_path):
    if not os.path.exists(TEST_BOUNCE):
        san = ["SAN=1"] if os.path.basename(BUILD) == "build-asan" else []
        subprocess.run(["make", "-C", TOP] + san +
                       [os.path.relpath(TEST_BOUNCE, TOP)],
                       check=True, stdout=subprocess.DEVNULL)
    path = tmp_path / "dsn.eml"
    subprocess.run([TEST_BOUNCE], check=True, stdout=subprocess.DEVNULL,
                   env=dict(os.environ, BOUNCE_SAMPLE=str(path)))
    raw = path.read_bytes()
    return raw, email.message_from_bytes(raw, policy=email.policy.default)


def test_dsn_is_a_delivery_status_report(tmp_path):
    raw, msg = sample(tmp_path)
    assert not msg.defects
    assert msg.is_multipart()
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["To"].addresses[0].addr_spec == "alice@example.org"
    assert msg["From"].addresses[0].addr_spec == \
        "MAILER-DAEMON@relay.example.com"
    assert msg["Subject"] == "Undelivered Mail Returned to Sender"
    assert msg["Date"].datetime.timestamp() == 1700000000
    parts = msg.get_payload()
    assert [p.get_content_type() for p in parts] == [
        "text/plain", "message/delivery-status", "message/rfc822"]
    for p in msg.walk():
        assert not p.defects, (p.get_content_type(), p.defects)


def test_delivery_status_fields_parse(tmp_path):
    raw, msg = sample(tmp_path)
    blocks = msg.get_payload()[1].get_payload()
    assert len(blocks) == 3      # per-message, then one per recipient
    per_msg, bob, carol = blocks
    assert per_msg["Reporting-MTA"] == "dns; relay.example.com"
    assert per_msg["Original-Envelope-Id"] == "QQ314159"
    assert per_msg["Arrival-Date"] == "Tue, 14 Nov 2023 21:13:20 +0000"
    assert bob["Original-Recipient"] == "rfc822; Bob@Example.NET"
    assert bob["Final-Recipient"] == "rfc822; bob@example.net"
    assert bob["Action"] == "failed"
    assert bob["Status"] == "5.1.1"
    assert bob["Remote-MTA"] == "dns; mx.example.net"
    assert str(bob["Diagnostic-Code"]).startswith(
        "smtp; 550-5.1.1 no such user 550 5.1.1")
    assert carol["Action"] == "delayed"
    assert carol["Will-Retry-Until"] == "Wed, 15 Nov 2023 22:13:20 +0000"
    assert carol["Original-Recipient"] is None
    # The hostile reply stayed inside its field.
    assert carol["X-Evil"] is None
    assert b"\x1b" not in raw
    assert "\\x1B[31mtry X-Evil: later" in str(carol["Diagnostic-Code"])


def test_original_is_attached_whole(tmp_path):
    raw, msg = sample(tmp_path)
    orig = msg.get_payload()[2].get_payload()[0]
    assert orig["Subject"] == "hello"
    assert orig.get_content().startswith("Body line one.")
