"""The wordlist audit finds exactly the listed passwords, for every kind of credential.

Expected digests come from published vectors (RFC 2617, RFC 7616, OMA DM, a Package #0 capture)
or from the formulas written out plainly below with hashlib, independent of the audit's
precomputed, grouped map chains.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import pytest

from dmsniff.verify.wordlist import (
    AuditResult,
    DigestTarget,
    Pkg0Target,
    PlainTarget,
    SyncmlHmacTarget,
    SyncmlMd5Target,
    Target,
    Tr111Target,
    audit,
    load_wordlist,
)

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT.parent / "shared" / "corpus"
PKG0 = CORPUS / "omadm" / "pkg0" / "buteo_SAN01.bin"

FILLER = [f"filler{i:04d}".encode() for i in range(40)]

# RFC 2617 section 3.5
RFC2617 = DigestTarget(
    key="rfc2617",
    algorithm="MD5",
    username="Mufasa",
    realm="testrealm@host.com",
    method="GET",
    uri="/dir/index.html",
    nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
    nc="00000001",
    cnonce="0a4f113b",
    qop="auth",
    response="6629fae49393a05397450978507c4ef1",
)


def _rfc7616(key: str, algorithm: str, response: str) -> DigestTarget:
    """RFC 7616 section 3.9.1: the same request answered with MD5 and with SHA-256."""
    return DigestTarget(
        key=key,
        algorithm=algorithm,
        username="Mufasa",
        realm="http-auth@example.org",
        method="GET",
        uri="/dir/index.html",
        nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        nc="00000001",
        cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        qop="auth",
        response=response,
    )


def _h(name: str, data: str) -> str:
    return hashlib.new(name, data.encode()).hexdigest()


def _digest(
    key: str,
    password: str,
    *,
    algorithm: str = "MD5",
    user: str = "cpe-1",
    realm: str = "acs",
    nonce: str = "n0nce",
    qop: str | None = "auth",
    body: bytes | None = None,
    binary_sess: bool = False,
) -> DigestTarget:
    """A Digest target computed with the RFC formulas written out plainly."""
    sess = algorithm.lower().endswith("-sess")
    name = {"md5": "md5", "sha-256": "sha256"}[algorithm.lower().removesuffix("-sess")]
    nc, cnonce = "00000001", "c0ffee"
    ha1 = _h(name, f"{user}:{realm}:{password}")
    if sess:
        inner = bytes.fromhex(ha1) if binary_sess else ha1.encode()
        ha1 = hashlib.new(name, inner + f":{nonce}:{cnonce}".encode()).hexdigest()
    body_hash = None
    if qop == "auth-int":
        assert body is not None
        body_hash = hashlib.new(name, body).hexdigest()
        ha2 = _h(name, f"POST:/acs:{body_hash}")
    else:
        ha2 = _h(name, "POST:/acs")
    response = _h(name, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}" if qop else f"{ha1}:{nonce}:{ha2}")
    return DigestTarget(
        key, algorithm, user, realm, "POST", "/acs", nonce, nc, cnonce, qop, response, body_hash
    )


def _b64md5(data: bytes) -> bytes:
    return base64.b64encode(hashlib.md5(data).digest())


def _find(targets: list[Target], words: list[bytes], jobs: int = 1) -> dict[str, tuple[str, str | None]]:
    return audit(targets, words, jobs=jobs).found


# -- vectors ----------------------------------------------------------------------------------------------


def test_rfc2617_vector() -> None:
    res = audit([RFC2617], [*FILLER, b"Circle Of Life", b"circle of life"], jobs=1)
    assert res.found == {"rfc2617": ("Circle Of Life", None)}
    assert res.checks == len(FILLER) + 1  # it stops at the hit
    assert res.skipped == {}


def test_rfc7616_md5_and_sha256_vectors() -> None:
    md5 = _rfc7616("md5", "MD5", "8ca523f5e9506fed4657c9700eebdbec")
    sha = _rfc7616("sha", "SHA-256", "753927FA0E85D155564E2E272A28D1802CA10DAF4496794697CF8DB5856CB6C1")
    found = _find([md5, sha], [*FILLER, b"Circle of Life"])
    assert found == {"md5": ("Circle of Life", None), "sha": ("Circle of Life", None)}


def test_rfc7616_sha512_256_vector_non_ascii_user() -> None:
    # RFC 7616 section 3.9.2: the example response was computed with SHA-512 cut to 256 bits (not
    # SHA-512/256); the audit tries both and says which one matched.
    t = DigestTarget(
        "j",
        "SHA-512-256",
        "J\u00e4s\u00f8n Doe",
        "api@example.org",
        "GET",
        "/doe.json",
        "5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK",
        "00000001",
        "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v",
        "auth",
        "ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd",
    )
    password, note = _find([t], [*FILLER, b"Secret, or not?"])["j"]
    assert password == "Secret, or not?"
    assert note is not None and "SHA-512 cut to 256 bits" in note


def test_syncml_md5_vector() -> None:
    digest = base64.b64decode("Zz6EivR3yeaaENcRN6lpAQ==")  # OMA DM: Bruce2 / OhBehave / nonce "Nonce"
    found = _find([SyncmlMd5Target("oma", "Bruce2", b"Nonce", digest)], [*FILLER, b"OhBehave"])
    assert found == {"oma": ("OhBehave", None)}


def test_pkg0_vector_from_corpus() -> None:
    data = PKG0.read_bytes()
    t = Pkg0Target("pkg0", "PC Suite Data Sync", b"", data[16:], data[:16])
    assert _find([t], [*FILLER, b""]) == {"pkg0": ("", None)}


# -- every kind, every variant ----------------------------------------------------------------------------


def test_digest_without_qop_and_auth_int() -> None:
    plain = _digest("rfc2069", "s3cret", qop=None)
    integrity = _digest("int", "s3cret", qop="auth-int", body=b"<soap:Envelope/>")
    found = _find([plain, integrity], [*FILLER, b"s3cret"])
    assert found == {"rfc2069": ("s3cret", None), "int": ("s3cret", None)}


@pytest.mark.parametrize("algorithm", ["MD5-sess", "SHA-256", "SHA-256-sess", "md5-SESS"])
def test_digest_algorithms(algorithm: str) -> None:
    t = _digest("k", "hunter2", algorithm=algorithm)
    assert _find([t], [*FILLER, b"hunter2"]) == {"k": ("hunter2", None)}


def test_md5_sess_over_binary_ha1_is_noted() -> None:
    t = _digest("k", "hunter2", algorithm="MD5-sess", binary_sess=True)
    password, note = _find([t], [*FILLER, b"hunter2"])["k"]
    assert password == "hunter2"
    assert note is not None and "binary HA1" in note


def test_digest_targets_sharing_ha1_are_all_found() -> None:
    # Same (algorithm, user, realm): one HA1 per word for the group; one member is not in the list.
    targets: list[Target] = [_digest(f"n{i}", "pw-shared", nonce=f"nonce{i}") for i in range(3)]
    targets.append(_digest("other", "not-listed", nonce="nonce9"))
    res = audit(targets, [*FILLER, b"pw-shared"], jobs=1)
    assert res.found == {f"n{i}": ("pw-shared", None) for i in range(3)}
    assert res.checks == 3 * (len(FILLER) + 1) + (len(FILLER) + 1)


def test_syncml_hmac() -> None:
    body = b"<SyncML><SyncHdr/></SyncML>"
    nonce = b"\x01\x02binary nonce"
    mac = hashlib.md5(_b64md5(b"dev:pa55") + b":" + nonce + b":" + _b64md5(body)).digest()
    assert _find([SyncmlHmacTarget("h", "dev", nonce, body, mac)], [*FILLER, b"pa55"]) == {
        "h": ("pa55", None)
    }


@pytest.mark.parametrize(
    ("nonce", "note"),
    [(b"\0\0\0\0", "resync nonce 4 zero bytes"), (b"0x00000000", 'resync nonce "0x00000000"')],
)
def test_pkg0_resync_nonces(nonce: bytes, note: str) -> None:
    trigger = b"\x03\x18\x00\x00\x00\x00\x00\x12server"
    digest = hashlib.md5(_b64md5(b"srv:key") + b":" + nonce + b":" + _b64md5(trigger)).digest()
    # The target carries the nonce the capture suggested (wrong here): the resync one must match.
    t = Pkg0Target("p", "srv", b"last-nonce", trigger, digest)
    assert _find([t], [*FILLER, b"key"]) == {"p": ("key", note)}


@pytest.mark.parametrize("algorithm", ["sha1", "sha256"])
def test_tr111(algorithm: str) -> None:
    text = "1700000000" + "12345" + "user" + "cn-0001"
    sig = hmac.new(b"udp-secret", text.encode(), algorithm).hexdigest().upper()
    found = _find([Tr111Target("t", text, sig, algorithm)], [*FILLER, b"udp-secret"])
    assert found == {"t": ("udp-secret", None)}


def test_plain_targets() -> None:
    targets: list[Target] = [
        PlainTarget("a", "admin"),
        PlainTarget("b", "caf\u00e9"),  # listed in Latin-1 only
        PlainTarget("c", "nope"),
    ]
    res = audit(targets, [*FILLER, b"admin", b"caf\xe9"], jobs=1)
    assert res.found == {"a": ("admin", None), "b": ("caf\u00e9", "the wordlist has it in Latin-1")}
    n = len(FILLER) + 2
    assert res.checks == (len(FILLER) + 1) + n + n


def test_non_ascii_words() -> None:
    utf8, latin1 = "p\u00e4ss\u20ac".encode(), "m\u00fcnchen".encode("latin-1")
    targets: list[Target] = [
        _digest("u", "p\u00e4ss\u20ac"),
        SyncmlMd5Target("l", "dev", b"n", hashlib.md5(_b64md5(b"dev:" + latin1) + b":n").digest()),
    ]
    found = _find(targets, [*FILLER, utf8, latin1])
    assert found == {"u": ("p\u00e4ss\u20ac", None), "l": ("m\u00fcnchen", None)}  # Latin-1 when not UTF-8


# -- the audit itself ---------------------------------------------------------------------------------------


def _mixed_targets() -> list[Target]:
    data = PKG0.read_bytes()
    return [
        RFC2617,
        _digest("d1", "w0500"),
        _digest("d2", "w1999", algorithm="SHA-256-sess", user="u2"),
        _digest("d3", "absent", user="u3"),
        SyncmlMd5Target("s1", "dev", b"n1", hashlib.md5(_b64md5(b"dev:w1234") + b":n1").digest()),
        Pkg0Target("p0", "PC Suite Data Sync", b"", data[16:], data[:16]),
        Tr111Target("t1", "abc", hmac.new(b"w0007", b"abc", "sha1").hexdigest()),
        PlainTarget("pl", "w1500"),
    ]


def test_jobs_1_and_2_find_the_same() -> None:
    words = [f"w{i:04d}".encode() for i in range(2000)] + [b"Circle Of Life", b""]
    one = audit(_mixed_targets(), words, jobs=1)
    two = audit(_mixed_targets(), words, jobs=2)
    assert one.found == two.found
    assert set(one.found) == {"rfc2617", "d1", "d2", "s1", "p0", "t1", "pl"}
    assert one.found["d2"] == ("w1999", None)
    # d3 is never found: every word is checked for it, in both runs
    assert one.checks >= len(words) and two.checks >= len(words)
    assert one.checks <= len(words) * len(_mixed_targets())


def test_generator_of_words_and_progress() -> None:
    seen: list[int] = []
    words = [f"w{i:04d}".encode() for i in range(300)]
    res = audit([_digest("d", "w0299")], iter(words), jobs=1, progress=seen.append)
    assert res.found == {"d": ("w0299", None)}
    assert seen and seen[-1] == len(words) and seen == sorted(seen)


def test_progress_with_processes() -> None:
    seen: list[int] = []
    words = [f"w{i:04d}".encode() for i in range(400)]
    res = audit([_digest("d", "absent")], words, jobs=2, progress=seen.append)
    assert res.found == {}
    assert res.checks == len(words)
    assert seen[-1] == len(words)


def test_empty_wordlist() -> None:
    for jobs in (1, 2):
        res = audit(_mixed_targets(), [], jobs=jobs)
        assert res == AuditResult({}, 0, res.seconds, {})


def test_no_targets() -> None:
    res = audit([], [b"a", b"b"], jobs=2)
    assert (res.found, res.checks) == ({}, 0)


def test_not_found_checks_every_word() -> None:
    res = audit([RFC2617, _digest("x", "zzz")], FILLER, jobs=1)
    assert res.found == {}
    assert res.checks == 2 * len(FILLER)


def test_unusable_targets_are_skipped() -> None:
    targets: list[Target] = [
        DigestTarget("alg", "SHA-1", "u", "r", "GET", "/", "n", None, None, None, "00" * 20),
        # names are read with decoders.auth's table of Digest algorithms: an unknown one is skipped
        DigestTarget("alg2", "SHA-3-256", "u", "r", "GET", "/", "n", None, None, None, "00" * 32),
        DigestTarget("hex", "MD5", "u", "r", "GET", "/", "n", None, None, None, "xyz"),
        DigestTarget("int", "MD5", "u", "r", "GET", "/", "n", "1", "c", "auth-int", "00" * 16),
        SyncmlMd5Target("short", "u", b"n", b"\0" * 8),
        Tr111Target("tr", "text", "00" * 20, "md5"),
        RFC2617,
    ]
    res = audit(targets, [b"Circle Of Life"], jobs=1)
    assert res.found == {"rfc2617": ("Circle Of Life", None)}
    assert set(res.skipped) == {"alg", "alg2", "hex", "int", "short", "tr"}
    assert res.skipped["alg2"] == "unsupported digest algorithm 'SHA-3-256'"
    assert res.checks == 1


def test_bad_jobs() -> None:
    with pytest.raises(ValueError):
        audit([RFC2617], [b"x"], jobs=-1)


# -- load_wordlist ------------------------------------------------------------------------------------------


def test_load_wordlist(tmp_path: Path) -> None:
    path = tmp_path / "words.txt"
    path.write_bytes(b"alpha\r\nbeta\n\n  spaced  \r\nalpha\r\n\r\nbeta\ncaf\xe9\ntail\rx\nlast")
    assert load_wordlist(path) == [b"alpha", b"beta", b"  spaced  ", b"caf\xe9", b"tail\rx", b"last"]
    assert load_wordlist(str(path), limit=3) == [b"alpha", b"beta", b"  spaced  "]
    assert load_wordlist(path, limit=0) == []


def test_load_wordlist_missing_file(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        load_wordlist(tmp_path / "nope.txt")
