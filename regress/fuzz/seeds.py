#!/usr/bin/env python3
"""Write the seed corpora of the dns_parse, spf, dkim_record and config
fuzz targets (their input layouts are in the comments of fuzz_NAME.c).

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


if __name__ == "__main__":
    main()
