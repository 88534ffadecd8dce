"""Throughput of HttpStreamParser on keep-alive POSTs (not collected by pytest).

    python tests/decoders/http/bench_http_parser.py [--mb 30] [--piece 1400] [--body 5000]
"""

from __future__ import annotations

import argparse
import random
import time

from decoders.http import NEED_DATA, HttpStreamParser, Role


def make_stream(total: int, body_size: int, seed: int = 1) -> bytes:
    rnd = random.Random(seed)
    parts = []
    size = 0
    while size < total:
        n = body_size + rnd.randrange(-500, 500)
        body = rnd.randbytes(n)
        head = (
            "POST /cwmp HTTP/1.1\r\nHost: acs.example.net:7547\r\nUser-Agent: cwmp-client/1.0\r\n"
            "Content-Type: text/xml; charset=utf-8\r\nSOAPAction: \"\"\r\n"
            "Cookie: session=abcdef0123456789\r\n"
            f"Content-Length: {n}\r\n\r\n"
        ).encode()
        parts.append(head)
        parts.append(body)
        size += len(head) + n
    return b"".join(parts)


def run(stream: bytes, piece: int) -> tuple[float, int]:
    pieces = [stream[i : i + piece] for i in range(0, len(stream), piece)]
    t0 = time.perf_counter()
    parser = HttpStreamParser(Role.CLIENT)
    count = 0
    for p in pieces:
        parser.feed(p)
        while parser.next_event() is not NEED_DATA:
            count += 1
    parser.feed_eof()
    while parser.next_event() is not NEED_DATA:
        count += 1
    return time.perf_counter() - t0, count


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=30)
    ap.add_argument("--piece", type=int, default=1400)
    ap.add_argument("--body", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    stream = make_stream(int(args.mb * 1e6), args.body)
    best = min(run(stream, args.piece)[0] for _ in range(args.repeat))
    _, events = run(stream, args.piece)
    print(f"{len(stream) / 1e6:.1f} MB in {args.piece}-byte pieces, {events} events: "
          f"best {best * 1000:.0f} ms = {len(stream) / best / 1e6:.0f} MB/s")


if __name__ == "__main__":
    main()
