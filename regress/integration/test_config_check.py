"""sendgated -n: configuration check with file:line errors."""
import subprocess

from conftest import SENDGATED


def run_n(path):
    return subprocess.run([SENDGATED, "-n", "-f", str(path)],
                          capture_output=True, text=True, timeout=10)


def test_good_config_is_ok(relay_factory):
    r = relay_factory()
    r.write_conf()
    res = run_n(r.conf)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "configuration OK"


def test_every_error_is_reported_with_its_line(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text('hostname relay.test\n'
                    'frobnicate yes\n'
                    'queue "relative/path"\n'
                    'listen on 127.0.0.1 port 70000 tls pki nope\n')
    res = run_n(conf)
    assert res.returncode == 1
    assert res.stderr.splitlines() == [
        f"{conf}:2: unknown keyword 'frobnicate'",
        f"{conf}:3: queue: 'relative/path' is not an absolute path",
        f"{conf}:4: listen: invalid port '70000' (must be 1-65535)",
    ]
    assert res.stdout == ""


def test_undefined_pki_is_reported_at_the_listen_line(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text('pki relay cert "/etc/c.pem" key "/etc/k.pem"\n'
                    '\n'
                    'listen on ::1 port 587 tls pki other\n')
    res = run_n(conf)
    assert res.returncode == 1
    assert res.stderr == f"{conf}:3: listen: pki 'other' is not defined\n"


def test_shipped_sample_config_is_valid():
    import os
    from conftest import TOP
    res = run_n(os.path.join(TOP, "smtpd", "sendgated.conf"))
    assert res.returncode == 0, res.stderr


def test_missing_config_file(tmp_path):
    res = run_n(tmp_path / "nope.conf")
    assert res.returncode == 1
    assert "No such file" in res.stderr
