"""Postfix as the peer of the submission benchmark (bench_submission.py).

One private Postfix instance: its own config_directory, queue_directory
and data_directory under the bench's temporary directory, started with
`postfix -c DIR start-fg` as a child of the bench, listening on 127.0.0.1
only, and stopped (its whole process tree) at the end.  The machine's own
Postfix configuration in /etc/postfix is neither read nor changed.

Configured as sendgated is: one submission listener where STARTTLS is
required before anything else (smtpd_tls_security_level = encrypt) and
AUTH PLAIN after it (Cyrus SASL, sasldb), the same self-signed RSA-2048
certificate, TLS 1.3 (OpenSSL's default), one message per connection as
the load generator sends.  Accepted mail is not relayed: the acceptance is
compared, not delivery (see AFTER below).

Pitfalls met (see also the README):
- `postfix start` fails silently when stderr is not a terminal: fatals go
  to syslog.  Here Postfix logs to a file through postlogd
  (maillog_file), whose directory must be listed in
  maillog_file_prefixes; the bench prints that log when Postfix fails.
- data_directory must belong to the postfix user (master.lock).
- Debian's Postfix reads the Cyrus SASL configuration from
  $config_directory/sasl/smtpd.conf whatever cyrus_sasl_config_path says;
  the users live in a sasldb next to it, in the realm
  smtpd_sasl_local_domain.
"""
import os
import pwd
import shutil
import signal
import subprocess
import time

REALM = "bench.localdomain"

# What happens to accepted mail.
#   discard: the queue manager hands every message to discard(8) at once;
#            nothing piles up (the default).
#   hold:    the message is put on the hold queue at the end of DATA
#            (check_client_access static:HOLD); the queue manager never
#            sees it, as sendgated's queue keeps it before delivery exists.
#   defer:   defer_transports: the queue manager tries, defers, and
#            moves the message to the deferred queue.
#   relay:   relayed by smtp(8) to relayhost [127.0.0.1]:relay_port, plain
#            SMTP, Postfix's default concurrency (bench_delivery.py).
AFTER = ("discard", "hold", "defer", "relay")

MAIN_CF = """\
# main.cf of the bench's private Postfix instance (bench_submission.py)
compatibility_level = 3.6
config_directory = {etc}
queue_directory = {spool}
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
myhostname = {realm}
mydomain = localdomain
myorigin = $myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
relay_domains =
local_recipient_maps =
local_transport = error:no local delivery in the bench
alias_maps =
alias_database =
smtp_dns_support_level = disabled
biff = no
append_dot_mydomain = no
# One line per event into a file of our own (no syslog in the namespace).
maillog_file_prefixes = /var, /dev/stdout, {base}
maillog_file = {log}
# Room for the idle-session step: one smtpd process per session.
default_process_limit = {procs}
# TLS: the bench's certificate; no session cache on disk.
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_tls_session_cache_database =
smtpd_tls_session_cache_timeout = 0
smtpd_tls_loglevel = 0
# No TLS 1.3 session tickets (the generator never resumes): Postfix 3.7
# has no setting for their number, OpenSSL's configuration has.
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C
    OPENSSL_CONF={openssl_conf}
# SASL through Cyrus, users in {etc}/sasl/sasldb2.
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_sasl_local_domain = {realm}
{after}
"""

AFTER_CF = {
    "discard": "default_transport = discard:bench\n"
               "relay_transport = discard:bench",
    "hold": "default_transport = discard:bench\n"
            "relay_transport = discard:bench\n"
            "# (the submission listener holds every message, see master.cf)",
    "defer": "default_transport = smtp\n"
             "relay_transport = smtp\n"
             "defer_transports = smtp\n"
             "relayhost = [127.0.0.1]:9",
    "relay": "default_transport = smtp\n"
             "relay_transport = smtp\n"
             "relayhost = [127.0.0.1]:{relay_port}",
}

# Only the services the bench needs; no chroot; loopback only.  Columns:
# service type private unpriv chroot wakeup maxproc command + args
MASTER_CF = """\
# master.cf of the bench's private Postfix instance (bench_submission.py)
{port} inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
{hold}pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""

HOLD_OPTS = "  -o smtpd_data_restrictions=check_client_access,static:HOLD\n"

# Applied by OpenSSL to every SSL_CTX Postfix creates.
OPENSSL_CNF = """\
openssl_conf = bench_init
[bench_init]
ssl_conf = bench_ssl
[bench_ssl]
system_default = bench_tls
[bench_tls]
NumTickets = 0
"""

SASL_CONF = """\
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN
sasldb_path: {sasldb}
"""

TOOLS = ("postfix", "postconf", "saslpasswd2")


def missing_tools():
    return [t for t in TOOLS if shutil.which(t) is None and
            not os.access(f"/usr/sbin/{t}", os.X_OK)]


def install():
    """apt-get postfix and sasl2-bin if missing (postfix's debconf
    question answered "No configuration": the package then sets up no
    system mail service of its own).  Postfix conflicts with other MTA
    packages (opensmtpd, exim4): apt-get would remove them, so the bench
    refuses instead."""
    if not missing_tools():
        return
    held = [p for p in ("opensmtpd", "exim4-daemon-light",
                        "exim4-daemon-heavy", "sendmail-bin")
            if subprocess.run(["dpkg-query", "-W", "-f=${Status}", p],
                              capture_output=True, text=True).stdout
            .endswith("installed")]
    if held:
        raise RuntimeError(
            f"postfix is missing and {', '.join(held)} is installed: "
            "installing postfix would remove it; install postfix by hand "
            "or run with --no-postfix")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["debconf-set-selections"], check=True, timeout=60,
                   input="postfix postfix/main_mailer_type select "
                         "No configuration\n", text=True)
    for cmd in (["apt-get", "update", "-qq"],
                ["apt-get", "install", "-y", "-qq", "postfix",
                 "sasl2-bin"]):
        r = subprocess.run(cmd, env=env, capture_output=True, text=True,
                           timeout=600)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip()}")
    if missing_tools():
        raise RuntimeError(f"still missing: {missing_tools()}")


def version():
    r = subprocess.run(["postconf", "-dh", "mail_version"],
                       capture_output=True, text=True, timeout=30)
    return r.stdout.strip() or "?"


class Postfix:
    """A private Postfix instance under base/pf-<random>."""

    def __init__(self, base, port, cert, key, user, password,
                 after="discard", procs=200, relay_port=None, milter=None):
        """milter: e.g. "inet:127.0.0.1:PORT", a milter for the mail
        received over SMTP (bench_dkim.py: OpenDKIM); tempfail if it
        fails."""
        if after not in AFTER:
            raise ValueError(f"after: one of {AFTER}")
        if (after == "relay") != (relay_port is not None):
            raise ValueError("relay_port: with after=relay, and only then")
        self.base = base
        # A random suffix: see spread_dirs() in bench_submission.py.
        self.top = os.path.join(base, "pf-" + os.urandom(4).hex())
        self.etc = os.path.join(self.top, "etc")
        self.spool = os.path.join(self.top, "spool")
        self.data = os.path.join(self.top, "data")
        self.log = os.path.join(self.top, "maillog")
        self.port = port
        self.user = user
        self.password = password
        self.proc = None
        self.startlog = None
        sasl = os.path.join(self.etc, "sasl")
        for d in (self.etc, sasl, self.spool, self.data):
            os.makedirs(d, exist_ok=True)
        pf = pwd.getpwnam("postfix")
        os.chown(self.data, pf.pw_uid, pf.pw_gid)
        openssl_conf = os.path.join(self.etc, "openssl.cnf")
        with open(openssl_conf, "w") as f:
            f.write(OPENSSL_CNF)
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write(MAIN_CF.format(etc=self.etc, spool=self.spool,
                                   data=self.data, realm=REALM,
                                   base=base, log=self.log, cert=cert,
                                   key=key, procs=procs,
                                   openssl_conf=openssl_conf,
                                   after=AFTER_CF[after].format(
                                       relay_port=relay_port)))
            if milter:
                f.write(f"smtpd_milters = {milter}\n"
                        "non_smtpd_milters =\n"
                        "milter_default_action = tempfail\n")
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(
                port=f"127.0.0.1:{port}",
                hold=HOLD_OPTS if after == "hold" else ""))
        sasldb = os.path.join(sasl, "sasldb2")
        with open(os.path.join(sasl, "smtpd.conf"), "w") as f:
            f.write(SASL_CONF.format(sasldb=sasldb))
        subprocess.run(["saslpasswd2", "-p", "-c", "-f", sasldb, "-u",
                        REALM, user], input=password + "\n", text=True,
                       check=True, capture_output=True, timeout=30)
        os.chown(sasldb, pf.pw_uid, pf.pw_gid)
        os.chmod(sasldb, 0o640)

    def start(self, timeout=30):
        """Start master in the foreground (a child of the bench); wait
        until the listener answers."""
        self.startlog = open(os.path.join(self.top, "start.log"), "ab")
        self.proc = subprocess.Popen(
            ["postfix", "-c", self.etc, "start-fg"],
            stdin=subprocess.DEVNULL, stdout=self.startlog,
            stderr=self.startlog, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("postfix exited "
                                   f"{self.proc.returncode}:\n"
                                   + self.logtext())
            if listening(self.port):
                return
            time.sleep(0.05)
        raise RuntimeError("postfix did not listen:\n" + self.logtext())

    def logtext(self):
        out = []
        for p in (os.path.join(self.top, "start.log"), self.log):
            try:
                with open(p, "rb") as f:
                    out.append(f.read()[-4000:].decode("utf-8", "replace"))
            except OSError:
                pass
        return "\n".join(out)

    def master_pid(self):
        try:
            with open(os.path.join(self.spool, "pid", "master.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def queued(self):
        """Messages in the incoming, active, deferred and hold queues."""
        n = 0
        for q in ("incoming", "active", "deferred", "hold", "maildrop"):
            for _root, _dirs, files in os.walk(os.path.join(self.spool,
                                                            q)):
                n += len(files)
        return n

    def stop(self, tree_of):
        """postfix stop, then SIGKILL whatever of its tree is left.
        tree_of(pid) lists a process and its descendants."""
        if self.proc is None:
            return
        pids = set()
        for root in (self.proc.pid, self.master_pid()):
            if root:
                pids.update(tree_of(root))
        if self.proc.poll() is None:
            subprocess.run(["postfix", "-c", self.etc, "stop"],
                           capture_output=True, timeout=30)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if self.startlog is not None:
            self.startlog.close()
            self.startlog = None


def listening(port):
    """A TCP listener on 127.0.0.1:port (from /proc/net/tcp)."""
    want = f"0100007F:{port:04X}"
    try:
        with open("/proc/net/tcp") as f:
            for line in f:
                fields = line.split()
                if len(fields) > 3 and fields[1] == want and \
                        fields[3] == "0A":
                    return True
    except OSError:
        pass
    return False
