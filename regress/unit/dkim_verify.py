#!/usr/bin/env python3
"""Verify the DKIM signatures of messages with python3-dkim, an
implementation independent of mta/dkim_sign.c (test_dkim.c runs this).

    dkim_verify.py RECORDS MESSAGE...

RECORDS has one key record a line: the DNS name, a TAB, the TXT text.
For each message one line goes to stdout: its path, a space, and "pass"
when it has signatures and all of them verify, else "fail" (the reasons
go to stderr).  Exit 0, or 2 on a usage or input error.
"""
import sys

import dkim


def verify(path, dnsfunc):
    with open(path, "rb") as f:
        message = f.read()
    try:
        d = dkim.DKIM(message)
    except dkim.DKIMException as e:
        print("%s: %s" % (path, e), file=sys.stderr)
        return False
    n = sum(1 for k, _ in d.headers if k.lower() == b"dkim-signature")
    if n == 0:
        print("%s: no DKIM-Signature" % path, file=sys.stderr)
        return False
    for i in range(n):
        try:
            res = d.verify(idx=i, dnsfunc=dnsfunc)
        except dkim.DKIMException as e:
            print("%s: signature %d: %s" % (path, i, e), file=sys.stderr)
            res = False
        if not res:
            print("%s: signature %d fails" % (path, i), file=sys.stderr)
            return False
    return True


def main():
    if len(sys.argv) < 3:
        print("usage: dkim_verify.py RECORDS MESSAGE...", file=sys.stderr)
        return 2
    records = {}
    with open(sys.argv[1], "rb") as f:
        for line in f.read().splitlines():
            name, _, txt = line.partition(b"\t")
            records[name.rstrip(b".").lower()] = txt

    def dnsfunc(name, timeout=5):
        return records.get(name.rstrip(b".").lower())

    for path in sys.argv[2:]:
        print(path, "pass" if verify(path, dnsfunc) else "fail")
    return 0


if __name__ == "__main__":
    sys.exit(main())
