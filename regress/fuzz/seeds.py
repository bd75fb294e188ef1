#!/usr/bin/env python3
"""Write the seed corpora of the dns_parse, spf, dkim_record, config,
smtp_parse, smtp_data, smtp_auth, envelope, mta_reply, dkim_sign and rate
fuzz targets
(their input layouts are in the comments of fuzz_NAME.c).

    python3 seeds.py        from regress/fuzz: rewrites corpus/NAME/*

The files are committed; this script says how they were made.
"""
import base64
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# dns_parse: the ID's first byte picks names[] of fuzz_dns_parse.c.
N_EXAMPLE, N_A, N_PTR = 0, 1, 3
T_A, T_CNAME, T_PTR, T_MX, T_TXT, T_AAAA = 1, 5, 12, 15, 16, 28
QNAME_OFF = 12


def name(s, ptr=None):
    """Labels of s, then a pointer to ptr or the root."""
    out = b"".join(bytes([len(l)]) + l.encode()
                   for l in s.split(".") if l)
    return out + (struct.pack(">H", 0xC000 | ptr) if ptr is not None
                  else b"\0")


def txt(*strings):
    return b"".join(bytes([len(s)]) + s for s in strings)


def packet(nameidx, qname, qtype, records, rcode=0):
    """records: (owner bytes, type, rdata bytes); owner b"" = the qname."""
    out = struct.pack(">BBHHHHH", nameidx, 0x34, 0x8180 | rcode, 1,
                      len(records), 0, 0)
    out += name(qname) + struct.pack(">HH", qtype, 1)
    for owner, rtype, rdata in records:
        out += owner or name("", QNAME_OFF)
        out += struct.pack(">HHIH", rtype, 1, 3600, len(rdata)) + rdata
    return out


DNS = {
    "a_two": packet(N_EXAMPLE, "example.com", T_A, [
        (b"", T_A, bytes([192, 0, 2, 1])),
        (b"", T_A, bytes([192, 0, 2, 2]))]),
    "aaaa": packet(N_EXAMPLE, "example.com", T_AAAA, [
        (b"", T_AAAA, bytes.fromhex("20010db8000000000000000000000001"))]),
    "mx_compressed": packet(N_EXAMPLE, "example.com", T_MX, [
        (b"", T_MX, struct.pack(">H", 10) + name("mx1", QNAME_OFF)),
        (b"", T_MX, struct.pack(">H", 20) + name("mail.example.net"))]),
    "txt_strings": packet(N_EXAMPLE, "example.com", T_TXT, [
        (b"", T_TXT, txt(b"v=spf1 ", b"ip4:192.0.2.0/24", b" -all")),
        (b"", T_TXT, txt(b"sendgate-verification=0123"))]),
    "txt_4096": packet(N_EXAMPLE, "example.com", T_TXT, [
        (b"", T_TXT, txt(*[b"x" * 255] * 16, b"y" * 16))]),
    "ptr": packet(N_PTR, "1.2.0.192.in-addr.arpa", T_PTR, [
        (b"", T_PTR, name("host.example.com"))]),
    "cname_chain": packet(N_A, "a.example.com", T_A, [
        (b"", T_CNAME, name("b", QNAME_OFF + 2)),
        (name("b", QNAME_OFF + 2), T_CNAME, name("c.example.com")),
        (name("c.example.com"), T_A, bytes([192, 0, 2, 9])),
        (name("c.example.com"), T_TXT, txt(b"at c"))]),
    "every_type_mixed_case": packet(N_EXAMPLE, "example.com", T_A, [
        (name("EXAMPLE.com"), T_A, bytes([192, 0, 2, 1])),
        (name("Example.Com"), T_AAAA, bytes(16)),
        (b"", T_MX, struct.pack(">H", 0) + b"\0"),
        (b"", T_TXT, txt(b"a", b"", b"b")),
        (b"", T_PTR, name("x", QNAME_OFF))]),
    "nxdomain": packet(N_EXAMPLE, "example.com", T_A, [], rcode=3),
    "a_260": packet(N_EXAMPLE, "example.com", T_A, [
        (b"", T_A, bytes([10, 0, i >> 8, i & 255])) for i in range(260)]),
    "cname_loop": packet(N_A, "a.example.com", T_A, [
        (b"", T_CNAME, name("b.example.com")),
        (name("b.example.com"), T_CNAME, name("", QNAME_OFF))]),
}

# spf: control bytes, the client address, records separated by NUL.
V4, V6 = 0, 1
A_OTHER, A_NODATA, A_TEMPFAIL = 2, 4, 6
MX_MANY, MX_NXDOMAIN = 8, 24
PTR, TWICE, BARE = 32, 64, 128
S_EMPTY, S_ODD = 1, 2


def spf(ctl, who, ip, *records):
    if ":" in ip:
        addr = bytes.fromhex(ip.replace(":", ""))
    else:
        addr = bytes(int(x) for x in ip.split(".")) + bytes(12)
    return bytes([ctl, who]) + addr + b"\0".join(records)


IP6 = "2001:0db8:0000:0000:0000:0000:0000:0001"
SPF = {
    "ip4_pass": spf(V4, 0, "192.0.2.1", b"v=spf1 ip4:192.0.2.0/24 -all"),
    "a_mx": spf(V4 | MX_MANY, 0, "192.0.2.1", b"v=spf1 a mx/24 -all"),
    "include_ip6": spf(V6, 0, IP6,
                       b"v=spf1 include:r1.example.com ~all",
                       b"v=spf1 ip6:2001:db8::/32 a//64 -all"),
    "exists_macros": spf(V4 | A_OTHER, S_ODD, "192.0.2.1",
                         b"v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} "
                         b"-exists:%{s}.%{o}.%{h}.%{v}.%{i} ?all"),
    "redirect_ptr": spf(V4 | PTR, 0, "192.0.2.1",
                        b"v=spf1 redirect=r1.example.com",
                        b"v=spf1 ptr ptr:example.com -all"),
    "exp": spf(V4 | A_OTHER, S_EMPTY, "192.0.2.1",
               b"v=spf1 a -all exp=r1.%{d}",
               b"%{c} may not send for %{s} to %{r} at %{t} (%{p})"),
    "void_lookups": spf(V4 | MX_NXDOMAIN, 0, "192.0.2.1",
                        b"v=spf1 a:nx1.example.com mx:nx2.example.com "
                        b"a:nd3.example.com a:tf4.example.com -all"),
    "eleven_includes": spf(V4, 0, "192.0.2.1",
                           b"v=spf1 " + b" ".join(
                               b"include:r1%c.example.com" % c
                               for c in b"abcdefghijk") + b" -all",
                           b"v=spf1 -ip4:10.0.0.1"),
    "suite_macro_escapes": spf(V4 | BARE, 0, "1.2.3.4",
                               b"v=spf1 a:macro%%percent%_%_space%-"
                               b"url-space.example.com -all"),
    "suite_modifiers": spf(V4 | A_TEMPFAIL, 0, "1.2.3.4",
                           b"v=spf1 moo.cow-far_out=man:dog/cat "
                           b"ip4:1.2.3.4 -all"),
    "suite_ip6_cidr": spf(V6 | A_NODATA, 0, IP6,
                          b"v=spf1 -ip4:1.2.3.4 ip6:Cafe:Babe:8000::/33 "
                          b"a//33 mx/0 ?all"),
    "expansion_over_buffer": spf(V4, 0, "192.0.2.1",
                                 b"v=spf1 exists:" + b"%{s}." * 300 +
                                 b"%{d} -all"),
    "macro_string_over_buffer": spf(V4, 0, "192.0.2.1",
                                    b"%{o}.%{l}." * 400 + b"x"),
    "suite_bad_macro_twice": spf(V4 | TWICE, 0, "1.2.3.4",
                                 b"v=spf1 -exists:%(ir).sbl.example.com "
                                 b"?all"),
}

# dkim_record: a control byte, then the record.
ED25519 = b"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
RSA2048 = (b"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtHZKs3mDnfIzD55F"
           b"9PDE9QywdjVemsehjdHE5QhyFmMetZBMS/oOQsfP6z90M1k4BHo6RNugwJA5"
           b"t05+0dNWhebmaZAOR4SmXxe97RWj34G3yZrU7d3pp7Cx2SkmpdYomNpjbQAs"
           b"R8Lb2PhhiuV3STxTEfj5UYfU+xINsznARFlEVVV960BQKPfQBpwtAphP5fjz"
           b"g3642MWOuYPBVFv06OYnoUvgejJOBNejpcG+ZfGwcwTvqjw3SiQaUhuzXFv+"
           b"gDVkHAcfWAQ30L5iZ1Y/jEwCRLjQ8ctYnJ+1WDJmsic3pSH4s7rv5NY90EcU"
           b"VCtDlxNb9jaBsSZEaReDExveswIDAQAB")
RSA1024 = (b"MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDJOTBUp3Hovb0QbSRs8H5kk"
           b"cfi0ARGhgFMlTE6dHjMaHa9idbAUXzn1sB4G3g10xrnLvIKdxk0JpKbjAhET"
           b"r6r1ZrZaDMW4iS4/CAqo5dIwjfcQYoyVH9SHqqy3EG0RP/wBl00zBCN4eEAw"
           b"2/Cnc0jzT3+nrvntxQNZo/T0/gSqQIDAQAB")
KEY_ED25519, ORG, ICASE, TWICE_REC = 8, 16, 32, 4


def der(tag, body):
    n = len(body)
    if n < 128:
        return bytes([tag, n]) + body
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + body


def rsa_spki(bits):
    """A SubjectPublicKeyInfo for an RSA modulus of that size: the
    modulus is a fixed pattern, not a product of primes."""
    n = (1 << (bits - 1)) | int("9e" * (bits // 8 - 1), 16) | 1
    key = der(0x30, der(0x02, b"\0" + n.to_bytes(bits // 8, "big")) +
              der(0x02, b"\x01\x00\x01"))
    alg = der(0x30, der(0x06, bytes.fromhex("2a864886f70d010101")) +
              b"\x05\x00")
    return der(0x30, alg + der(0x03, b"\0" + key))



DKIM = {
    "ed25519_ours": bytes([KEY_ED25519]) +
    b"v=DKIM1; k=ed25519; p=" + ED25519,
    "rsa_ours_folded": bytes([0]) + b"v=DKIM1; k=rsa;\r\n\th=sha256; p=" +
    RSA2048[:64] + b" " + RSA2048[64:],
    "rsa_weak_twice": bytes([TWICE_REC]) +
    b"v=DKIM1; h=sha1:sha256; t=y:s; s=email; p=" + RSA1024,
    "revoked": bytes([KEY_ED25519]) + b"v=DKIM1; k=ed25519; p=",
    "dmarc": bytes([ORG | ICASE]) +
    b"v=DMARC1; P=reject; sp=quarantine; adkim=s; aspf=r; pct=50; "
    b"rua=mailto:d@example.com",
    "dmarc_rua_only": bytes([0]) + b"v=DMARC1; rua=mailto:x@example.org;"
    b" pct=200; adkim=x",
    "token": bytes([0]) +
    b"sendgate-verification=0123456789abcdef0123456789abcdef01234567",
    "nxdomain": bytes([2]) + b"v=spf1 -all",
    "ours_sha1_only": bytes([KEY_ED25519]) +
    b"v=DKIM1; k=ed25519; h=sha1; p=" + ED25519,
    "rsa_8200_bits": bytes([0]) + b"v=DKIM1; p=" +
    base64.b64encode(rsa_spki(8200)),
    "rsa_der_over_cap": bytes([0]) + b"v=DKIM1; p=" +
    base64.b64encode(rsa_spki(9000)),
    "33_tags": bytes([ICASE]) +
    b";".join(b"t%d=%d" % (i, i) for i in range(33)),
}

CONFIG = {
    "small": b"""lo6 = "::1"
hostname relay.example.com
pki relay cert "/etc/ssl/a.crt" key "/etc/ssl/a.key"
listen on $lo6 port 587 tls pki relay
listen on 0.0.0.0 port 465 smtps \\
\tpki relay
limit messages 100 per minute
limit size 25M
verification prefix acme
verification grace 3d
spf include _spf.example.net
relay address 192.0.2.25 2001:db8::25
dkim selector s1
dkim algorithms rsa-sha256 ed25519-sha256
checks every 1h
checks concurrency 5
require spf
require dkim
resolver 127.0.0.1 port 5353
""",
    "errors": b"""hostname -bad-.example
listen on 10.1 port 99999 tls pki nowhere
limit size 1
pki x cert "/a"
"unterminated
$undefined
""",
}

# smtp_parse: a control byte (parser in bits 0-2, SMTPUTF8 in bit 3,
# xtext output size index in bits 4-7), then the line.
P_VERB, P_MAIL, P_RCPT, P_HELO, P_BDAT, P_XTEXT, P_UTF8 = range(7)
UTF8_OK = 8


def sp(parser, line, flags=0):
    return bytes([parser | flags]) + line


SMTP_PARSE = {
    "verb_mail": sp(P_VERB, b"MAIL FROM:<a@example.com> SIZE=100"),
    "verb_starttls_lower": sp(P_VERB, b"starttls"),
    "verb_nul_inside": sp(P_VERB, b"RCPT TO:<a@b>\0DATA"),
    "verb_bare_lf": sp(P_VERB, b"NOOP\nQUIT"),
    "verb_unknown": sp(P_VERB, b"XCLIENT ADDR=1.2.3.4"),
    "mail_params": sp(P_MAIL, b"FROM:<user@example.com> SIZE=12345 "
                      b"BODY=8BITMIME RET=HDRS ENVID=QQ+2B123 AUTH=<>"),
    "mail_null": sp(P_MAIL, b"FROM:<>"),
    "mail_space_route": sp(P_MAIL, b"FROM: <@relay.example,@b.example:"
                           b"\"quoted \\\" local\"@[IPv6:2001:db8::1]>"),
    "mail_utf8": sp(P_MAIL, "FROM:<j\u00f6rg@b\u00fccher.example> "
                    "SMTPUTF8".encode(), UTF8_OK),
    "mail_utf8_not_allowed": sp(P_MAIL, "FROM:<j\u00f6rg@example.com> "
                                "SMTPUTF8".encode()),
    "mail_envid_ctl": sp(P_MAIL, b"FROM:<a@b.example> ENVID=x+0D+0Ay"),
    "mail_size_overflow": sp(P_MAIL, b"FROM:<a@b.example> "
                             b"SIZE=99999999999999999999999"),
    "rcpt_dsn": sp(P_RCPT, b"TO:<bob@example.org> NOTIFY=SUCCESS,FAILURE"
                   b" ORCPT=rfc822;bob+40example.org"),
    "rcpt_postmaster": sp(P_RCPT, b"TO:<Postmaster>"),
    "rcpt_literal": sp(P_RCPT, b"TO:<x@[192.0.2.1]> NOTIFY=NEVER"),
    "rcpt_utf8": sp(P_RCPT, "TO:<\u00e9@\u00e9xample.com> NOTIFY=DELAY "
                    "ORCPT=utf-8;e+40example.com".encode(), UTF8_OK),
    "rcpt_utf8_raw_orcpt": sp(P_RCPT, "TO:<\u00e9@example.com> "
                              "ORCPT=utf-8;\u00e9+40example.com".encode(),
                              UTF8_OK),
    "rcpt_null": sp(P_RCPT, b"TO:<>"),
    "helo_domain": sp(P_HELO, b"mail_host.corp.local  "),
    "helo_literal": sp(P_HELO, b"[IPv6:::1]"),
    "bdat_last": sp(P_BDAT, b"1048576 last"),
    "bdat_overflow": sp(P_BDAT, b"18446744073709551616"),
    "xtext_small_out": sp(P_XTEXT | 4 << 4, b"ab+2Bcd+3D"),
    "xtext_envid_size": sp(P_XTEXT | 10 << 4, b"A" * 100),
    "xtext_lower_hex": sp(P_XTEXT | 15 << 4, b"x+2by+7F"),
    "utf8_mixed": sp(P_UTF8, "a\u00e9\u20ac\U0001f600".encode()),
    "utf8_surrogate_overlong": sp(P_UTF8, b"\xed\xa0\x80\xc0\xaf"
                                  b"\xf4\x90\x80\x80"),
}

# smtp_data: BDAT bit and feeding pattern (bits 1-3), size_max big-endian,
# then the text.
DATA_MODE, BDAT_MODE = 0, 1
WHOLE, BYTES, CHUNKS, SMALL_OUT, CHUNKS_SMALL_OUT = range(5)


def sd(mode, pattern, size_max, text):
    return bytes([mode | pattern << 1]) + size_max.to_bytes(2, "big") + text


MSG = (b"Received: from a by b; Thu, 26 Nov 2026 09:00:00 +0000\r\n"
       b"From: Alice <alice@example.com>\r\n"
       b"To: bob@example.org\r\n"
       b"Subject: test\r\n"
       b"\r\n"
       b"Hello\r\n"
       b"..leading dot\r\n"
       b".\r\n")
SMTP_DATA = {
    "data_whole": sd(DATA_MODE, WHOLE, 65535, MSG),
    "data_bytes": sd(DATA_MODE, BYTES, 65535, MSG + b"QUIT\r\n"),
    "data_small_out": sd(DATA_MODE, SMALL_OUT, 65535, MSG),
    "data_over_size": sd(DATA_MODE, CHUNKS, 40, MSG),
    "data_empty": sd(DATA_MODE, WHOLE, 100, b".\r\n"),
    "data_no_header": sd(DATA_MODE, CHUNKS_SMALL_OUT, 1000,
                         b"\r\nbody\r\n.\r\n"),
    # SECURITY.md F1: none of these ends the message.
    "smuggle_lf_dot_lf": sd(DATA_MODE, WHOLE, 65535,
                            b"Subject: x\r\n\r\nbody\n.\nMAIL FROM:<e@v>"
                            b"\r\n.\r\n"),
    "smuggle_lf_dot_crlf": sd(DATA_MODE, BYTES, 65535,
                              b"Subject: x\r\n\r\nbody\n.\r\nRCPT TO:<v@x>"
                              b"\r\n.\r\n"),
    "smuggle_cr_dot_cr": sd(DATA_MODE, CHUNKS, 65535,
                            b"Subject: x\r\n\r\nbody\r.\rDATA\r\n.\r\n"),
    "smuggle_crlf_dot_lf": sd(DATA_MODE, SMALL_OUT, 65535,
                              b"Subject: x\r\n\r\nbody\r\n.\nQUIT"
                              b"\r\n.\r\n"),
    "smuggle_crlf_dot_cr": sd(DATA_MODE, CHUNKS_SMALL_OUT, 65535,
                              b"Subject: x\r\n\r\nbody\r\n.\rQUIT"
                              b"\r\n.\r\n"),
    "smuggle_nul_dot": sd(DATA_MODE, WHOLE, 65535,
                          b"Subject: x\r\n\r\nbody\r\n\0.\r\n.\r\n"),
    "long_line_folded_header": sd(DATA_MODE, CHUNKS, 65535,
                                  b"From: a@b.example\r\n\tc\r\n"
                                  b"X: " + b"y" * 1000 + b"\r\n\r\n"
                                  b".\r\n"),
    "bdat_whole": sd(BDAT_MODE, WHOLE, 65535, MSG[:-3]),
    "bdat_dots_chunks": sd(BDAT_MODE, CHUNKS, 65535,
                           b"Subject: x\r\n\r\n.\r\n..\r\n.\n"),
    "bdat_over_size": sd(BDAT_MODE, SMALL_OUT, 10, MSG),
    "bdat_held_cr_at_end": sd(BDAT_MODE, BYTES, 65535,
                              b"Subject: x\r\n\r"),
}

# smtp_auth: LF-separated lines, the AUTH arguments first.
def b64(s):
    return base64.b64encode(s)


SMTP_AUTH = {
    "plain_initial": b"PLAIN " + b64(b"\0alice\0s3cret"),
    "plain_challenge": b"PLAIN\n" + b64(b"alice\0alice\0s3cret"),
    "plain_other_authzid": b"plain " + b64(b"root\0alice\0s3cret"),
    "plain_three_nuls": b"PLAIN " + b64(b"\0alice\0s3c\0ret"),
    "plain_empty_ir": b"PLAIN =\n" + b64(b"\0a\0b"),
    "login": b"LOGIN\n" + b64(b"alice") + b"\n" + b64(b"s3cret"),
    "login_initial": b"login " + b64(b"alice") + b"\n" +
    b64("p\u00e4ss".encode()) + b"\n" + b64(b"extra"),
    "login_cancel": b"LOGIN\n" + b64(b"alice") + b"\n*",
    "login_crlf_user": b"LOGIN\n" + b64(b"alice\r\nMAIL FROM:<x@y>"),
    "bad_base64": b"PLAIN\nAGFsaWNlAHMzY3JldA=\nAGFsaWNlAHMzY3JldA==",
    "unknown_mech": b"CRAM-MD5\n" + b64(b"x"),
    "stray_space": b"PLAIN ",
    "long_password": b"PLAIN " + b64(b"\0alice\0" + b"p" * 257),
}

# envelope: records as queue/envelope.h describes them, written by hand.
def rec(tag, value):
    return tag + b" " + str(len(value)).encode() + b":" + value + b"\n"


def envelope(rcpts, sender=b"alice@example.com", extra=None):
    out = rec(b"version", b"2") + rec(b"id", b"0123456789abcdef")
    fields = [(b"sender", sender), (b"body", b"2"), (b"smtputf8", b"0"),
              (b"ret", b"1"), (b"envid", b"QQ+123"),
              (b"connector-id", b"7"), (b"connector", b"submission"),
              (b"auth-user", b"alice"), (b"client-addr", b"192.0.2.1"),
              (b"client-name", b"[192.0.2.1]"),
              (b"tls", b"TLSv1.3 TLS_AES_256_GCM_SHA384"),
              (b"time", b"1795683600"), (b"size", b"1234"),
              (b"warned", b"0")]
    for tag, value in fields:
        out += rec(tag, (extra or {}).get(tag, value))
    out += rec(b"nrcpt", str(len(rcpts)).encode())
    for addr, notify, otype, orcpt in rcpts:
        out += (rec(b"rcpt", addr) + rec(b"notify", notify) +
                rec(b"orcpt-type", otype) + rec(b"orcpt", orcpt) +
                rec(b"state", b"0") + rec(b"attempts", b"2") +
                rec(b"next-try", b"1795684200") +
                rec(b"last-mta", b"mx.example.org[192.0.2.25]") +
                rec(b"last", b"451 4.7.1 try again\r\n"))
    return out + rec(b"end", b"")


ENVELOPE = {
    "one_rcpt": envelope([(b"bob@example.org", b"6", b"rfc822",
                           b"bob@example.org")]),
    "bytes_in_values": envelope([(b"a\nrcpt 3:x@y\n", b"0", b"", b""),
                                 (b"\0\r\n", b"15", b"utf-8", b"\xc3\xa9")],
                                sender=b"x\nend 0:\n",
                                extra={b"client-name": b"h\r\nelo\0"}),
    "null_sender_big_ints": envelope(
        [(b"postmaster", b"1", b"", b"")], sender=b"",
        extra={b"time": b"9223372036854775807",
               b"connector-id": b"0", b"size": b"9223372036854775807"}),
    "leading_zero_length": envelope([(b"b@c", b"0", b"", b"")]).replace(
        b"rcpt 3:", b"rcpt 03:"),
    "negative_zero": envelope([(b"b@c", b"0", b"", b"")],
                              extra={b"time": b"-0"}),
    "fewer_rcpts": envelope([(b"b@c", b"0", b"", b"")]).replace(
        b"nrcpt 1:1", b"nrcpt 1:2"),
    "trailing_bytes": envelope([(b"b@c", b"0", b"", b"")]) + b"\n",
}

# mta_reply: mode bit 0 (0 reply parser, 1 body writer), feeding pattern
# in bits 1-2, replies awaited, then the bytes (SECURITY.md O1, O2, F2).
REPLY_MODE, BODY_MODE = 0, 1
MR_BYTES, MR_CHUNKS, MR_SMALL_OUT = 1, 2, 3


def mr(mode, pattern, awaited, data):
    return bytes([mode | pattern << 1, awaited]) + data


EHLO = (b"250-mx.example.org Hello\r\n250-PIPELINING\r\n"
        b"250-SIZE 52428800\r\n250-8BITMIME\r\n250-STARTTLS\r\n"
        b"250 ENHANCEDSTATUSCODES\r\n")
MTA_REPLY = {
    "greeting": mr(REPLY_MODE, MR_BYTES, 1, b"220 mx.example.org ESMTP\r\n"),
    "ehlo": mr(REPLY_MODE, MR_CHUNKS, 1, EHLO),
    "pipelined": mr(REPLY_MODE, MR_CHUNKS, 3,
                    b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go ahead\r\n"),
    "enhanced_error": mr(REPLY_MODE, MR_BYTES, 1,
                         b"550-5.7.1 Rejected\r\n550 5.7.1 by policy\r\n"),
    "empty_continuation": mr(REPLY_MODE, MR_BYTES, 1,
                             b"250-\r\n250 ok\r\n"),
    "code_only": mr(REPLY_MODE, MR_CHUNKS, 2, b"250\r\n221\r\n"),
    # CVE-2020-8794 and SECURITY.md O1.
    "short_continuation": mr(REPLY_MODE, MR_BYTES, 1,
                             b"250-ok\r\n25\r\n"),
    "code_999": mr(REPLY_MODE, MR_BYTES, 1, b"999 x\r\n"),
    "code_2x0": mr(REPLY_MODE, MR_CHUNKS, 1, b"2x0 x\r\n"),
    "mismatch": mr(REPLY_MODE, MR_BYTES, 1, b"250-a\r\n251 b\r\n"),
    "nul": mr(REPLY_MODE, MR_BYTES, 1, b"250 a\0b\r\n"),
    "bare_lf": mr(REPLY_MODE, MR_BYTES, 1, b"250-a\n250 b\r\n"),
    "bare_cr": mr(REPLY_MODE, MR_CHUNKS, 1, b"250 a\rb\r\n"),
    "eight_bit": mr(REPLY_MODE, MR_BYTES, 1,
                    b"550 caf\xc3\xa9 \x1b[0m\x7f\t\r\n"),
    "line_513": mr(REPLY_MODE, MR_CHUNKS, 1,
                   b"250 " + b"x" * 507 + b"\r\n"),
    "lines_101": mr(REPLY_MODE, MR_CHUNKS, 1,
                    b"250-x\r\n" * 100 + b"250 end\r\n"),
    # O2: plaintext injected after the 220 to STARTTLS.
    "starttls_injection": mr(REPLY_MODE, MR_BYTES, 1,
                             b"220 2.0.0 go\r\n250 fake\r\n"),
    "body_plain": mr(BODY_MODE, MR_BYTES, 0,
                     b"Subject: x\r\n\r\n.hi\r\n.\r\n..\r\nend"),
    "body_small_out": mr(BODY_MODE, MR_SMALL_OUT, 0,
                         b".\r\n\r\n.\r\nQUIT\r\n"),
    "body_empty": mr(BODY_MODE, MR_BYTES, 0, b""),
    "body_bare_lf": mr(BODY_MODE, MR_CHUNKS, 0, b"a\r\nb\n.\nMAIL\r\n"),
    "body_bare_cr_end": mr(BODY_MODE, MR_SMALL_OUT, 0, b"a\r\nb\r"),
    # Four octets out before the error (a harness bug found by fuzzing).
    "body_bare_lf_after_four": mr(BODY_MODE, MR_BYTES, 0, b"abc.\n"),
}

# dkim_sign: a control byte (bit 0 simple header, bit 1 simple body,
# bit 2 no over-signing, bits 3-7 chunk scale, 0 byte by byte), then the
# stored message.
H_SIMPLE, B_SIMPLE, NO_OVERSIGN = 1, 2, 4


def ds(flags, scale, msg):
    return bytes([flags | scale << 3]) + msg


DKIM_SIGN = {
    "plain": ds(0, 0, MSG[:-3]),
    "simple_chunks": ds(H_SIMPLE | B_SIMPLE, 3, MSG[:-3]),
    "rfc6376_example": ds(0, 1, b"From: a@example.com\r\nA: X\r\n"
                          b"B : Y\t\r\n\tZ  \r\n\r\n C \r\n"
                          b"D \t E\r\n\r\n\r\n"),
    "duplicates": ds(B_SIMPLE, 2, b"To: 1\r\nFrom: f\r\nTo: 2\r\n"
                     b"from: g\r\nSubject: s\r\nTo: 3\r\n\r\nbody"),
    "folded_trailing_ws": ds(NO_OVERSIGN, 0, b"From: a\r\n\t<a@b.example>"
                             b"  \r\nSubject:\r\n  x \r\n\r\n"
                             b"a  b\t\r\n \t\r\n\r\n"),
    "header_only_no_crlf": ds(H_SIMPLE, 5, b"From: a@b\r\nSubject: x"),
    "empty_line_first": ds(0, 1, b"\r\nFrom: body\r\n"),
    "bare_cr_lf": ds(0, 0, b"From: a\rb\nc\r\n\r\nx\ry\nz \r\r\n\n\r"),
    "eight_bit_nul": ds(B_SIMPLE, 7, b"From: \xc3\xa9\r\nX: \0\r\n\r\n"
                        b"\xff\0  \xfe\r\n"),
    "long_line": ds(0, 31, b"From: a\r\n\r\n" + b"word \t" * 3000 +
                    b"\r\n"),
    "many_fields": ds(H_SIMPLE, 2, b"From: a\r\n" +
                      b"".join(b"To: %d\r\n" % i for i in range(400)) +
                      b"List-Id: x\r\n\r\nb\r\n"),
}


# rate: 8 octets of time and limits, then a stored counter
# (lka/rate.h: version, three window lengths, 3 x 144 buckets of slot and
# two counts, all big-endian).
def rate_counter(lens=(60000, 3600000, 86400000), slot_of=None,
                 version=1):
    out = version.to_bytes(8, "big")
    for n in lens:
        out += n.to_bytes(8, "big", signed=True)
    for w, nb in enumerate((60, 60, 144)):
        for pos in range(144):
            if pos < nb and slot_of is not None:
                out += slot_of(w, pos).to_bytes(8, "big", signed=True)
                out += (1).to_bytes(4, "big") + (2).to_bytes(4, "big")
            else:
                out += bytes(16)
    return out


T0 = (1795683600000).to_bytes(8, "big")
RATE = {
    "empty_counter": T0 + rate_counter(),
    "full_minute": T0 + rate_counter(
        slot_of=lambda w, pos: 1765000000 + pos if w == 0 else 0),
    "other_windows": T0 + rate_counter(lens=(2000, 6000, 20000)),
    "bad_version": T0 + rate_counter(version=2),
    "negative_slot": T0 + rate_counter(slot_of=lambda w, pos: -1),
    "short": T0 + rate_counter()[:100],
    "time_negative": (-5).to_bytes(8, "big", signed=True) + rate_counter(),
}


def write(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for fname, data in seeds.items():
        with open(os.path.join(d, fname), "wb") as f:
            f.write(data)


def main():
    write("dns_parse", DNS)
    write("spf", SPF)
    write("dkim_record", DKIM)
    with open(os.path.join(HERE, "../../smtpd/sendgated.conf"), "rb") as f:
        CONFIG["sample"] = f.read()
    write("config", CONFIG)
    write("smtp_parse", SMTP_PARSE)
    write("smtp_data", SMTP_DATA)
    write("smtp_auth", SMTP_AUTH)
    write("envelope", ENVELOPE)
    write("mta_reply", MTA_REPLY)
    write("dkim_sign", DKIM_SIGN)
    write("rate", RATE)


if __name__ == "__main__":
    main()
