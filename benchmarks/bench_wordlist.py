"""Benchmark the wordlist audit: candidate checks per second, in one process and on every core.

Run by hand, never from the test suite (with the defaults it takes about five minutes on 2 cores):

    python benchmarks/bench_wordlist.py [--words 100000] [--targets 1000] [--planted 10] [--repeat 3]

It generates, from --seed, a wordlist and as many observed HTTP Digest MD5 identities as --targets
(distinct users, realms and nonces, qop=auth, lengths as in CWMP traffic).  The passwords of
--planted identities are put at random places in the list; the others are not in it.  It then
times ``dmsniff.verify.wordlist.audit`` with jobs=1 and jobs=all, --repeat times each, and prints
for each the candidate checks (one check = one (word, target) pair decided: words x targets, less
what the early stop on a found target saves), the median wall time and checks per second, and the
ratio of the two.  A last line does the same, on all cores, for a mixed set: half the identities
HTTP Digest MD5, half SyncML syncml:auth-md5.  Every run must find exactly the planted passwords
(exit status 1 otherwise).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import os
import platform
import random
import statistics
import string
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # time the code of this checkout, installed or not

from dmsniff.verify.wordlist import AuditResult, DigestTarget, SyncmlMd5Target, Target, audit  # noqa: E402

ALPHABET = string.ascii_letters + string.digits
REALMS = ("HuaweiHomeGateway", "tr069.example.net", "IGD", "Authenticate", "acs.isp-provider.example.com")
URIS = ("/acs", "/cwmp/ACS", "/ACS-server/ACS", "/tr069/cpe", "/service/cwmp")


@dataclass
class Case:
    """One generated audit: its targets, wordlist and the keys it must find."""

    name: str
    targets: list[Target]
    words: list[bytes]
    planted: set[str]


def _rand(rng: random.Random, n: int, alphabet: str = ALPHABET) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _digest_target(rng: random.Random, key: str, password: str) -> DigestTarget:
    """An MD5 Digest Authorization a CPE would send to its ACS (RFC 2617 qop=auth)."""
    user = f"cpe-00D09E-{_rand(rng, 12, string.hexdigits.upper()[:16])}"
    realm = rng.choice(REALMS)
    nonce = _rand(rng, rng.choice((32, 40, 52)), "0123456789abcdef")
    cnonce = _rand(rng, 16, "0123456789abcdef")
    nc = f"{rng.randint(1, 9):08x}"
    uri = rng.choice(URIS)

    def h(s: str) -> str:
        return hashlib.md5(s.encode()).hexdigest()

    response = h(f"{h(f'{user}:{realm}:{password}')}:{nonce}:{nc}:{cnonce}:auth:{h(f'POST:{uri}')}")
    return DigestTarget(key, "MD5", user, realm, "POST", uri, nonce, nc, cnonce, "auth", response)


def _syncml_target(rng: random.Random, key: str, password: str) -> SyncmlMd5Target:
    """A syncml:auth-md5 credential: MD5(B64(MD5(user:pw)) ":" nonce), raw."""
    user = f"dm-{_rand(rng, rng.randint(6, 14))}"
    nonce = rng.randbytes(16)
    inner = base64.b64encode(hashlib.md5(f"{user}:{password}".encode()).digest())
    return SyncmlMd5Target(key, user, nonce, hashlib.md5(inner + b":" + nonce).digest())


def make_case(name: str, nwords: int, ntargets: int, planted: int, seed: int, syncml_share: float) -> Case:
    """Deterministic from ``seed``: the same arguments give the same wordlist and targets."""
    rng = random.Random(seed)
    words_set: dict[bytes, None] = {}
    while len(words_set) < nwords - planted:
        words_set[_rand(rng, rng.randint(6, 12)).encode()] = None
    words = list(words_set)
    targets: list[Target] = []
    keys_planted: set[str] = set()
    n_syncml = int(ntargets * syncml_share)
    for i in range(ntargets):
        key = f"T{i}"
        if i < planted:
            # 13 to 16 characters: never one of the generated 6 to 12 character words
            password = _rand(rng, rng.randint(13, 16))
            words.insert(rng.randrange(len(words) + 1), password.encode())
            keys_planted.add(key)
        else:
            password = _rand(rng, rng.randint(13, 16))  # not in the list
        maker = _syncml_target if i >= ntargets - n_syncml else _digest_target
        targets.append(maker(rng, key, password))
    rng.shuffle(targets)  # the planted ones are not all at the front of the target list
    return Case(name, targets, words, keys_planted)


@dataclass
class Timing:
    """Median of the runs of one case at one job count."""

    checks: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.checks / self.seconds if self.seconds > 0 else 0.0


def run(case: Case, jobs: int, repeat: int) -> Timing:
    """Time ``audit`` ``repeat`` times; fail loudly if it does not find exactly the planted keys."""
    walls: list[float] = []
    checks: list[int] = []
    for i in range(repeat):
        t0 = time.perf_counter()
        res: AuditResult = audit(case.targets, case.words, jobs=jobs)
        walls.append(time.perf_counter() - t0)
        checks.append(res.checks)
        if set(res.found) != case.planted:
            missing, extra = sorted(case.planted - set(res.found)), sorted(set(res.found) - case.planted)
            raise SystemExit(f"{case.name} jobs={jobs}: wrong result, missing {missing}, unexpected {extra}")
        print(
            f"  {case.name} jobs={jobs} run {i + 1}/{repeat}: {walls[-1]:.2f} s", file=sys.stderr, flush=True
        )
    return Timing(int(statistics.median(checks)), statistics.median(walls))


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} CPUs ({cpu}), {platform.platform()}, Python {platform.python_version()}"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--words", type=int, default=100_000, help="wordlist size (default 100000)")
    ap.add_argument("--targets", type=int, default=1000, help="observed identities (default 1000)")
    ap.add_argument(
        "--planted", type=int, default=10, help="identities whose password is listed (default 10)"
    )
    ap.add_argument(
        "--repeat", type=int, default=3, help="timed runs per row; the median is shown (default 3)"
    )
    ap.add_argument("--jobs", type=int, default=0, help="processes for the 'all' rows (default: every core)")
    ap.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    args = ap.parse_args(argv)
    if args.words < args.planted or args.targets < args.planted or args.repeat < 1:
        ap.error("need --words >= --planted, --targets >= --planted, --repeat >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    cores = args.jobs or len(os.sched_getaffinity(0))
    print(f"machine: {machine()}")
    digest = make_case("digest-md5", args.words, args.targets, args.planted, args.seed, 0.0)
    mixed = make_case("mixed", args.words, args.targets, args.planted, args.seed + 1, 0.5)

    rows: list[tuple[str, Case, int, Timing]] = []
    for label, jobs in (("1", 1), (f"all ({cores})", cores)):
        rows.append((label, digest, jobs, run(digest, jobs, args.repeat)))
    rows.append((f"all ({cores})", mixed, cores, run(mixed, cores, args.repeat)))

    print(f"median of {args.repeat} runs; a check is one (word, target) pair decided")
    head = f"{'case':<40}  {'jobs':>8}  {'words':>9}  {'targets':>7}  {'checks':>13}"
    print(f"{head}  {'wall s':>8}  {'checks/s':>11}")
    for label, case, _jobs, t in rows:
        desc = case.name + (" (MD5 Digest)" if case is digest else " (1/2 MD5 Digest, 1/2 SyncML md5)")
        print(
            f"{desc:<40}  {label:>8}  {len(case.words):>9,}  {len(case.targets):>7,}  {t.checks:>13,}  "
            f"{t.seconds:>8.2f}  {t.rate:>11,.0f}"
        )
    one, many = rows[0][3], rows[1][3]
    print(f"digest-md5 speed-up all/1 (checks/s): {many.rate / one.rate:.2f}x")
    print(f"target >= 1,000,000 checks/s (digest-md5, all cores): {'PASS' if many.rate >= 1e6 else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
