"""Wordlist audit: which of the credentials seen in a capture have a password from a wordlist.

A *target* is one observed credential (an HTTP Digest response, a SyncML MD5 or HMAC digest,
a Package #0 digest, a TR-111 signature, or a password sent in clear).  :func:`audit` tries
every word of the list against every target and reports the targets whose password it found.
One *candidate check* is one (word, target) pair decided.

Speed is the whole point, so everything that does not depend on the candidate password is
computed once per target before the loop starts:

* HTTP Digest: HA2 and the whole tail ``":nonce:nc:cnonce:qop:HA2"`` of the response input are
  precomputed; per word there is HA1 = H(user:realm:word) and one more hash.  Targets with the same
  (algorithm, user, realm) share HA1, so it is computed once per word for the whole group.
* SyncML MD5 / HMAC and Package #0: B64(MD5(user:word)) is shared by all targets of one user;
  the tail ``":nonce"`` (and ``":" B64(MD5(body))``) is precomputed per target.

The inner loops are chains of :func:`map` over the C hash constructors ended by
:func:`operator.indexOf`, so no Python bytecode runs per candidate (TR-111's :func:`hmac.digest`
aside); the interpreter only pays for a few C calls and small objects per hash.  CPython's
built-in ``_md5`` is used for MD5 when present: for these short inputs it is about 1.6x faster
than the OpenSSL one behind :func:`hashlib.md5`, whose per-object EVP set-up costs more than
hashing one or three 64-byte blocks.

With several jobs the wordlist is cut into blocks that worker processes (fork) take in turn;
each worker checks its block against all targets.  A shared array of "found" flags lets every
worker stop on a target as soon as any of them has found its password.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import importlib
import multiprocessing
import operator
import os
import time
from binascii import b2a_base64, hexlify, unhexlify
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from itertools import islice, repeat
from pathlib import Path
from typing import Any, TypeAlias

from decoders.auth import normalise_algorithm

__all__ = [
    "AuditResult",
    "DigestTarget",
    "Pkg0Target",
    "PlainTarget",
    "SyncmlHmacTarget",
    "SyncmlMd5Target",
    "Target",
    "Tr111Target",
    "audit",
    "load_wordlist",
]


def _builtin_md5() -> Callable[[bytes], Any]:
    """CPython's own MD5: much faster than OpenSSL's for short inputs (see the module docstring)."""
    try:
        ctor: Callable[[bytes], Any] = importlib.import_module("_md5").md5
    except (ImportError, AttributeError):  # pragma: no cover - builds without it (FIPS): use OpenSSL
        return hashlib.md5
    return ctor


_fast_md5 = _builtin_md5()


# -- targets ----------------------------------------------------------------------------------------------
# Strings are turned into the bytes that were hashed with UTF-8; "surrogateescape" makes a string the
# caller decoded with that error handler give back its exact original bytes.


@dataclass(frozen=True)
class DigestTarget:
    """An HTTP Digest (RFC 2617 / RFC 7616) Authorization header seen in the capture.

    ``algorithm`` is one of MD5, MD5-sess, SHA-256, SHA-256-sess, SHA-512-256, SHA-512-256-sess
    (case-insensitive; empty means MD5).  ``response`` is the hex response (any case).
    ``body_hash`` is H(entity body) in hex, needed for qop=auth-int only.
    """

    key: str
    algorithm: str
    username: str
    realm: str
    method: str
    uri: str
    nonce: str
    nc: str | None
    cnonce: str | None
    qop: str | None
    response: str
    body_hash: str | None = None


@dataclass(frozen=True)
class SyncmlMd5Target:
    """A SyncML ``syncml:auth-md5`` credential: digest = MD5(B64(MD5(user:pw)) ":" nonce), raw."""

    key: str
    username: str
    nonce: bytes
    digest: bytes


@dataclass(frozen=True)
class SyncmlHmacTarget:
    """A SyncML ``x-syncml-hmac`` MAC: MD5(B64(MD5(user:pw)) ":" nonce ":" B64(MD5(body))), raw."""

    key: str
    username: str
    nonce: bytes
    body: bytes
    mac: bytes


@dataclass(frozen=True)
class Pkg0Target:
    """An OMA DM Package #0 digest: MD5(B64(MD5(server_id:pw)) ":" nonce ":" B64(MD5(trigger))), raw.

    ``trigger`` is the notification after the 16 digest bytes.  Besides ``nonce`` the two
    resynchronisation nonces (four zero bytes and the text "0x00000000") are tried.
    """

    key: str
    server_id: str
    nonce: bytes
    trigger: bytes
    digest: bytes


@dataclass(frozen=True)
class Tr111Target:
    """A TR-111 signature: HMAC-<algorithm>(key=password, msg=text) in hex ("sha1" or "sha256")."""

    key: str
    text: str
    signature: str
    algorithm: str = "sha1"


@dataclass(frozen=True)
class PlainTarget:
    """A password seen in clear (HTTP Basic, syncml:auth-basic): the question is only whether it is listed."""

    key: str
    password: str


Target: TypeAlias = DigestTarget | SyncmlMd5Target | SyncmlHmacTarget | Pkg0Target | Tr111Target | PlainTarget


@dataclass(frozen=True)
class AuditResult:
    """What :func:`audit` found.

    ``found`` maps a target's key to (password, note); the password is the word decoded as UTF-8,
    or as Latin-1 when it is not valid UTF-8.  The note says how it matched when that is unusual
    (a resync nonce, the binary -sess variant, a Latin-1 clear password), else None.
    ``checks`` counts the (word, target) pairs decided; ``seconds`` is the wall time.
    ``skipped`` maps the key of a target that cannot be checked (unknown algorithm, malformed
    digest) to the reason; such targets cost no checks.
    """

    found: dict[str, tuple[str, str | None]]
    checks: int
    seconds: float
    skipped: dict[str, str] = field(default_factory=dict)


# -- wordlist ---------------------------------------------------------------------------------------------


def load_wordlist(path: str | Path, *, limit: int | None = None) -> list[bytes]:
    """Read a wordlist: one word per line, as bytes.

    Only the line end (``\\n`` or ``\\r\\n``) is removed, so leading and trailing spaces stay part of
    the word.  Empty lines are skipped and duplicates dropped, keeping the first occurrence.  With
    ``limit``, reading stops after that many distinct words.  Errors opening or reading the file
    are raised as :class:`OSError` for the caller to report.
    """
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, not {limit}")
    seen: dict[bytes, None] = {}  # dicts keep insertion order: dedupe without losing the list's order
    with open(path, "rb") as f:  # opened even with limit=0, so that a bad path is always reported
        if limit == 0:
            return []
        for line in f:  # binary mode splits on b"\n" only: a lone \r inside a password stays
            word = line.rstrip(b"\r\n")
            if word and word not in seen:
                seen[word] = None
                if limit is not None and len(seen) >= limit:
                    break
    return list(seen)


# -- compiled form ----------------------------------------------------------------------------------------
# A target becomes one or more _Checks (a Package #0 target has three, one per nonce); checks that
# share their first hash (same algorithm and identity) are gathered in one _Group.

Stage = Callable[[Iterable[bytes]], Iterator[bytes]]


@dataclass
class _Check:
    """One way a target can match: ``finish`` turns the group's first-stage outputs into final digests."""

    index: int  # the target's position: its found flag
    finish: Stage
    want: bytes
    note: str | None = None


@dataclass
class _Group:
    """Checks whose per-word work starts with the same hash of the same prefix."""

    first: Stage  # words -> first-stage values (HA1 hex, or B64(MD5(user:word)))
    checks: list[_Check]


@dataclass
class _Plan:
    """Everything the workers need, built once before the loop."""

    groups: list[_Group]
    keys: list[str]  # by target index
    skipped: dict[str, str]
    plain: list[tuple[int, list[tuple[bytes, str | None]]]]  # (index, [(encoded password, note)])
    hashed: int  # how many hash targets there are (plain ones excluded)


def _enc(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


@dataclass(frozen=True)
class _Hash:
    """A hash function in the shape the map chains need: constructor, unbound ``digest``, output size.

    ``size`` below the constructor's digest size means "truncate to size bytes": RFC 7616's
    SHA-512-256 example is, by mistake, SHA-512 cut to 256 bits, and code tested against it does
    the same.
    """

    ctor: Callable[[bytes], Any]
    digest: Callable[[Any], bytes]
    size: int
    truncate: bool
    note: str | None = None  # said with a password found this way

    def raw(self, data: Iterable[bytes]) -> Iterator[bytes]:
        """data -> H(data), raw."""
        out = map(self.digest, map(self.ctor, data))
        return map(operator.itemgetter(slice(0, self.size)), out) if self.truncate else out

    def hex(self, data: bytes) -> bytes:
        """H(data) in lower-case hex, for the parts computed once."""
        return hexlify(next(self.raw((data,))))


def _hash(ctor: Callable[[bytes], Any], size: int | None = None, note: str | None = None) -> _Hash:
    probe = ctor(b"")
    size = size or probe.digest_size
    return _Hash(ctor, type(probe).digest, size, size < probe.digest_size, note)


_MD5 = _hash(_fast_md5)


def _digest_hashes(base: str) -> list[_Hash] | None:
    """The ways to compute H of a Digest algorithm (its registry name without -sess), the standard
    one first (when this Python has it); None for one the audit has no fast path for."""
    if base == "MD5":
        return [_MD5]
    if base == "SHA-256":
        return [_hash(hashlib.sha256)]
    if base != "SHA-512-256":
        return None
    out = [_hash(hashlib.sha512, 32, "SHA-512 cut to 256 bits, as in RFC 7616's example")]
    with contextlib.suppress(ValueError):  # OpenSSL builds without SHA-512/256 exist
        hashlib.new("sha512_256")
        out.insert(0, _hash(partial(hashlib.new, "sha512_256")))
    return out



_RESYNC_NONCES: tuple[tuple[bytes, str], ...] = (
    (b"\0\0\0\0", "resync nonce 4 zero bytes"),
    (b"0x00000000", 'resync nonce "0x00000000"'),
)


def _first_hex(h: _Hash, prefix: bytes, words: Iterable[bytes]) -> Iterator[bytes]:
    """words -> hex(H(prefix + word)), as bytes: HA1."""
    return map(hexlify, h.raw(map(prefix.__add__, words)))


def _final_chain(h: _Hash, tail: bytes, values: Iterable[bytes]) -> Iterator[bytes]:
    """values -> H(value + tail), raw: compared with the observed digest as bytes."""
    return h.raw(map(operator.add, values, repeat(tail)))


def _sess_chain(
    h: _Hash, sess_tail: bytes, tail: bytes, binary: bool, values: Iterable[bytes]
) -> Iterator[bytes]:
    """Inner HA1 hex -> session HA1 = H(HA1 ":" nonce ":" cnonce) in hex -> response, raw."""
    inner = map(unhexlify, values) if binary else values
    return _final_chain(h, tail, map(hexlify, h.raw(map(operator.add, inner, repeat(sess_tail)))))


DigestGroup = tuple[tuple[object, ...], Stage, list[_Check]]


def _digest_checks(t: DigestTarget, index: int) -> list[DigestGroup] | str:
    """The (group key, first stage, checks) of an HTTP Digest target, or why it cannot be checked."""
    # The algorithm's name is decoders.auth's to read (one table of Digest algorithms).
    name = normalise_algorithm(t.algorithm.strip() or "MD5")
    hashes = _digest_hashes(name.removesuffix("-sess")) if name is not None else None
    if name is None or hashes is None:
        return f"unsupported digest algorithm {t.algorithm!r}"
    sess = name.endswith("-sess")
    size = hashes[0].size
    try:
        want = bytes.fromhex(t.response.strip())
    except ValueError:
        want = b""
    if len(want) != size:
        return f"the response is not {2 * size} hex digits"
    qop = (t.qop or "").strip()
    if qop.lower() == "auth-int" and t.body_hash is None:
        return "qop=auth-int without the body hash"
    out: list[DigestGroup] = []
    for h in hashes:
        if qop.lower() == "auth-int":
            assert t.body_hash is not None
            ha2 = h.hex(_enc(f"{t.method}:{t.uri}:{t.body_hash.lower()}"))
        else:
            ha2 = h.hex(_enc(f"{t.method}:{t.uri}"))
        # The tail of the response input: everything after HA1, the same for every word.
        with_qop = _enc(f":{t.nonce}:{t.nc or ''}:{t.cnonce or ''}:{qop}:") + ha2
        tail = with_qop if qop else _enc(f":{t.nonce}:") + ha2
        prefix = _enc(f"{t.username}:{t.realm}:")
        # The first stage, HA1 in hex, is what every target of this (algorithm, user, realm) shares.
        first: Stage = partial(_first_hex, h, prefix)
        key = (name, h.note, prefix)
        if not sess:
            out.append((key, first, [_Check(index, partial(_final_chain, h, tail), want, h.note)]))
            continue
        sess_tail = _enc(f":{t.nonce}:{t.cnonce or ''}")
        # RFC 2617's sample code (section 5) feeds the *binary* inner HA1 to the -sess hash, where
        # its text, RFC 7616 and most servers use hex: try both, the binary one second.
        binary_note = "; ".join(filter(None, (h.note, "-sess over the binary HA1 (RFC 2617 sample code)")))
        checks = [
            _Check(index, partial(_sess_chain, h, sess_tail, tail, False), want, h.note),
            _Check(index, partial(_sess_chain, h, sess_tail, tail, True), want, binary_note),
        ]
        out.append((key, first, checks))
    return out


def _first_b64(prefix: bytes, words: Iterable[bytes]) -> Iterator[bytes]:
    """words -> B64(MD5(prefix + word)), without the newline b2a_base64 adds by default."""
    return map(_b64, _MD5.raw(map(prefix.__add__, words)))


_b64 = partial(b2a_base64, newline=False)


def _b64md5(data: bytes) -> bytes:
    return b2a_base64(hashlib.md5(data).digest(), newline=False)


def _syncml_checks(
    t: SyncmlMd5Target | SyncmlHmacTarget | Pkg0Target, index: int
) -> tuple[bytes, list[_Check]] | str:
    """The user prefix and checks of a SyncML MD5/HMAC or Package #0 target, or why it cannot be checked."""
    tails: list[tuple[bytes, str | None]]
    if isinstance(t, SyncmlMd5Target):
        user, want, tails = t.username, t.digest, [(b":" + t.nonce, None)]
    elif isinstance(t, SyncmlHmacTarget):
        user, want, tails = t.username, t.mac, [(b":" + t.nonce + b":" + _b64md5(t.body), None)]
    else:
        user, want = t.server_id, t.digest
        body = b":" + _b64md5(t.trigger)
        nonces: list[tuple[bytes, str | None]] = [(t.nonce, None)]
        nonces += [(n, note) for n, note in _RESYNC_NONCES if n != t.nonce]
        tails = [(b":" + n + body, note) for n, note in nonces]
    if len(want) != 16:
        return "the digest is not 16 bytes"
    return _enc(user) + b":", [
        _Check(index, partial(_final_chain, _MD5, tail), want, note) for tail, note in tails
    ]


def _tr111_stage(text: bytes, algorithm: str) -> Stage:
    """words -> HMAC(key=word, msg=text), raw (hmac.digest runs the whole HMAC in C)."""
    return lambda words: map(hmac.digest, words, repeat(text), repeat(algorithm))


def _plan(targets: Sequence[Target]) -> _Plan:
    """Precompute everything that does not depend on the candidate, and group what can be shared."""
    groups: dict[tuple[object, ...], _Group] = {}
    solo: list[_Group] = []
    skipped: dict[str, str] = {}
    plain: list[tuple[int, list[tuple[bytes, str | None]]]] = []
    keys = [t.key for t in targets]
    hashed = 0
    for i, t in enumerate(targets):
        if isinstance(t, PlainTarget):
            forms: list[tuple[bytes, str | None]] = [(_enc(t.password), None)]
            try:  # the list may be in Latin-1 where the capture's text came to us as UTF-8
                latin = t.password.encode("latin-1")
            except UnicodeEncodeError:
                latin = forms[0][0]
            if latin != forms[0][0]:
                forms.append((latin, "the wordlist has it in Latin-1"))
            plain.append((i, forms))
            continue
        if isinstance(t, DigestTarget):
            made = _digest_checks(t, i)
            if isinstance(made, str):
                skipped[t.key] = made
                continue
            for gkey, first, checks in made:
                groups.setdefault(("digest", *gkey), _Group(first, [])).checks.extend(checks)
        elif isinstance(t, SyncmlMd5Target | SyncmlHmacTarget | Pkg0Target):
            made2 = _syncml_checks(t, i)
            if isinstance(made2, str):
                skipped[t.key] = made2
                continue
            prefix, checks = made2
            groups.setdefault(("syncml", prefix), _Group(partial(_first_b64, prefix), [])).checks.extend(
                checks
            )
        elif isinstance(t, Tr111Target):
            algo = t.algorithm.strip().lower().replace("-", "")
            if algo not in ("sha1", "sha256"):
                skipped[t.key] = f"unsupported TR-111 algorithm {t.algorithm!r}"
                continue
            try:
                want = bytes.fromhex(t.signature.strip())
            except ValueError:
                want = b""
            size = hashlib.new(algo).digest_size
            if len(want) != size:
                skipped[t.key] = f"the signature is not {2 * size} hex digits"
                continue
            solo.append(_Group(_tr111_stage(_enc(t.text), algo), [_Check(i, _identity, want)]))
        else:
            raise TypeError(f"not a wordlist target: {t!r}")
        hashed += 1
    return _Plan([*groups.values(), *solo], keys, skipped, plain, hashed)


def _identity(values: Iterable[bytes]) -> Iterator[bytes]:
    return iter(values)


# -- the loop ---------------------------------------------------------------------------------------------

Hit = tuple[int, int, str | None]  # (target index, word index, note)


def _run_block(groups: list[_Group], words: Sequence[bytes], start: int, done: Any) -> tuple[list[Hit], int]:
    """Check words[start:start+n] (``words`` is the block) against every group; returns (hits, checks).

    ``done`` is indexable by target index (a shared array with several processes); a target whose
    flag is set is not tried, and a hit sets it.
    """
    hits: list[Hit] = []
    n = len(words)
    # Target index -> words of this block decided for it.  A target with several checks (variants)
    # counts once: the most words any of its checks went through.
    decided: dict[int, int] = {}
    for group in groups:
        active = [c for c in group.checks if not done[c.index]]
        if not active:
            continue
        # One check: let the first stage run lazily so that a hit stops it too.  Several: compute the
        # shared first stage once for the block, every check then reads the list.
        values: Iterable[bytes] = group.first(words) if len(active) == 1 else list(group.first(words))
        for c in active:
            if done[c.index]:  # another variant of the same target already hit in this block
                continue
            try:
                pos = operator.indexOf(c.finish(values), c.want)
            except ValueError:
                decided[c.index] = n
                continue
            done[c.index] = 1
            hits.append((c.index, start + pos, c.note))
            decided[c.index] = max(decided.get(c.index, 0), pos + 1)
    checks = sum(decided.values())
    return hits, checks


# Per worker process: set by the pool initializer (inherited through fork, never pickled).
_worker_state: tuple[list[_Group], Any] | None = None


def _worker_init(groups: list[_Group], done: Any) -> None:
    global _worker_state
    _worker_state = (groups, done)


def _worker_block(task: tuple[int, Sequence[bytes]]) -> tuple[list[Hit], int, int]:
    """Check one block of the list in a worker; returns (hits, checks, words in the block)."""
    assert _worker_state is not None
    groups, done = _worker_state
    start, words = task
    hits, checks = _run_block(groups, words, start, done)
    return hits, checks, len(words)


def _block_size(nwords: int, nchecks: int, jobs: int) -> int:
    """Words per block: about 2 million checks, so that progress and early stops come every second or so.

    The fixed cost of a block is a few map objects per check (microseconds), nothing next to 2 million
    hashes.  With several jobs every worker gets at least a few blocks, so that none idles at the end.
    """
    size = max(256, min(65536, 2_000_000 // max(1, nchecks)))
    if jobs > 1:
        size = min(size, max(1, -(-nwords // (4 * jobs))))
    return size


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may use, not all the machine has
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def audit(
    targets: Sequence[Target],
    words: Sequence[bytes] | Iterable[bytes],
    *,
    jobs: int = 0,
    progress: Callable[[int], None] | None = None,
) -> AuditResult:
    """Try every word against every target; return the targets whose password is in ``words``.

    ``jobs`` is the number of processes: 0 means one per usable core, 1 means this process only.
    With more than one, the list is cut into blocks that forked workers check against all targets;
    a target found by one worker is no longer tried by the others.  With ``jobs=0`` and little work
    (under about a million checks) the audit runs in this process, where forking would cost more than
    it saves.  ``progress``, if given, is called in this process with the number of words done so far
    (every target tried on them) after each block, and a last time with ``len(words)``.
    """
    t0 = time.perf_counter()
    if jobs < 0:
        raise ValueError(f"jobs must be >= 0, not {jobs}")
    wordlist: Sequence[bytes] = words if isinstance(words, list | tuple) else list(words)
    plan = _plan(targets)
    nwords = len(wordlist)
    found: dict[int, tuple[int, str | None]] = {}  # target index -> (word index, note)
    checks = 0

    # Clear passwords: a dictionary lookup decides all the words at once.
    if plan.plain:
        position: dict[bytes, int] = {}
        for i, w in enumerate(wordlist):
            position.setdefault(w, i)
        for index, forms in plan.plain:
            first = min(
                ((position[f], note) for f, note in forms if f in position),
                default=None,
                key=operator.itemgetter(0),
            )
            if first is not None:
                found[index] = first
                checks += first[0] + 1
            else:
                checks += nwords

    nchecks = sum(len(g.checks) for g in plan.groups)
    if jobs == 0:
        jobs = 1 if nwords * plan.hashed < 1_000_000 else _cpu_count()
    if "fork" not in multiprocessing.get_all_start_methods():  # pragma: no cover - not POSIX
        jobs = 1
    block = _block_size(nwords, nchecks, jobs)
    spans = [(s, min(s + block, nwords)) for s in range(0, nwords, block)] if plan.groups else []
    jobs = min(jobs, len(spans))

    hits: list[Hit] = []
    hit_targets: set[int] = set()
    done_words = 0
    if jobs <= 1:
        flags = bytearray(len(plan.keys))
        for start, stop in spans:
            h, c = _run_block(plan.groups, wordlist[start:stop], start, flags)
            hits += h
            hit_targets.update(hit[0] for hit in h)
            checks += c
            done_words = stop
            if len(hit_targets) >= plan.hashed:  # every hash target found: the rest of the list is moot
                break
            if progress is not None:
                progress(done_words)
    else:
        ctx = multiprocessing.get_context("fork")
        shared = ctx.RawArray("b", len(plan.keys))  # found flags, read by every worker between groups
        # ProcessPoolExecutor rather than Pool: a worker that dies (OOM killer) raises BrokenProcessPool
        # here instead of leaving the audit waiting forever.
        with ProcessPoolExecutor(jobs, ctx, initializer=_worker_init, initargs=(plan.groups, shared)) as pool:
            todo = iter(spans)
            pending: set[Future[tuple[list[Hit], int, int]]] = set()
            while True:
                # Two blocks in flight per worker keep them all busy.  The blocks travel pickled (about
                # 45 ns a word each way, while the workers hash) instead of being inherited: a worker
                # touching the parent's word objects (refcounts) would copy their pages, up to the list.
                for start, stop in islice(todo, 2 * jobs - len(pending)):
                    pending.add(pool.submit(_worker_block, (start, wordlist[start:stop])))
                if not pending:
                    break
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    h, c, n = future.result()
                    for hit in h:
                        shared[hit[0]] = 1
                    hits += h
                    hit_targets.update(hit[0] for hit in h)
                    checks += c
                    done_words += n
                if len(hit_targets) >= plan.hashed:
                    # Nothing is left to find.  The blocks still running skip every group (all flags
                    # are set), so leaving the pool does not wait long.
                    for future in pending:
                        future.cancel()
                    break
                if progress is not None:
                    progress(done_words)
    if progress is not None:
        progress(nwords)  # the last call always says "all done", early stop or not

    # Two workers may both hit the same target (the same word twice in the list): keep the earliest.
    for index, pos, note in sorted(hits, key=operator.itemgetter(1)):
        found.setdefault(index, (pos, note))
    result: dict[str, tuple[str, str | None]] = {}
    for index, (pos, note) in sorted(found.items()):
        result.setdefault(plan.keys[index], (_decode(wordlist[pos]), note))
    return AuditResult(result, checks, time.perf_counter() - t0, plan.skipped)


def _decode(word: bytes) -> str:
    """A found password as text: UTF-8 when it is, else Latin-1 (which maps every byte)."""
    try:
        return word.decode("utf-8")
    except UnicodeDecodeError:
        return word.decode("latin-1")
