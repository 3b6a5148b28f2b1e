#!/usr/bin/env python3
"""Writes Redis protocol (RESP) for Ferry's kv workload on stdout, for `redis-cli --pipe`.

SET ferry:0 .. ferry:<keys-1> to random (incompressible) values of --value-bytes bytes each,
then, last, SET ferry:marker to a line naming the data set ("name=... keys=... value_bytes=...
nonce=..."): a marker that exists means the load completed, and its nonce tells this data set
apart from a reload.
"""
import argparse
import os
import sys


def bulk(b: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(b), b)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--keys", type=int, required=True)
    p.add_argument("--value-bytes", type=int, default=1024)
    p.add_argument("--name", default="kv")
    args = p.parse_args()
    if args.keys < 0 or args.value_bytes < 1:
        p.error("--keys must be >= 0 and --value-bytes >= 1")

    out = sys.stdout.buffer
    set_cmd = b"*3\r\n$3\r\nSET\r\n"
    chunk_keys = 1024
    for start in range(0, args.keys, chunk_keys):
        end = min(start + chunk_keys, args.keys)
        rnd = os.urandom((end - start) * args.value_bytes)
        parts = []
        for i in range(start, end):
            off = (i - start) * args.value_bytes
            parts.append(set_cmd + bulk(b"ferry:%d" % i) + bulk(rnd[off:off + args.value_bytes]))
        out.write(b"".join(parts))
    marker = "name=%s keys=%d value_bytes=%d nonce=%s" % (
        args.name, args.keys, args.value_bytes, os.urandom(8).hex())
    out.write(set_cmd + bulk(b"ferry:marker") + bulk(marker.encode()))
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
