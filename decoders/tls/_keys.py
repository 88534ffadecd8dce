"""Key material: NSS key logs, RSA private keys, and the session cache for resumption.

Nothing here reads files: callers hand in bytes (a key log's text, a key file's contents)
and get records back.  :class:`KeyStore` is what a :class:`~decoders.tls.TlsConnection`
asks for secrets; a caller whose material can grow while decoding (a key log written during
a live capture, Decryption Secrets Blocks further on in a pcapng) subclasses it and fetches
the new material in :meth:`KeyStore.refresh`.

The NSS key log format (one line per secret, ``LABEL <hex> <hex>``, ``#`` comments)::

    CLIENT_RANDOM <client random, 32 bytes> <TLS <= 1.2 master secret, 48 bytes>
    RSA <first 8 bytes of the encrypted premaster> <premaster secret, 48 bytes>
    CLIENT_HANDSHAKE_TRAFFIC_SECRET / SERVER_HANDSHAKE_TRAFFIC_SECRET /
    CLIENT_TRAFFIC_SECRET_0 / SERVER_TRAFFIC_SECRET_0 / CLIENT_EARLY_TRAFFIC_SECRET
        <client random> <TLS 1.3 secret, 32 or 48 bytes>

Other labels (EXPORTER_SECRET ...) are accepted and ignored.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = [
    "KEYLOG_LABELS",
    "KeyLoadError",
    "KeyLogEntry",
    "KeyLogParse",
    "KeyStore",
    "RsaKey",
    "SessionCache",
    "load_rsa_key",
    "parse_keylog",
]

#: label -> the secret lengths it may have (the first field is always the 32-byte client
#: random, except for RSA where it is 8 bytes of encrypted premaster).
KEYLOG_LABELS: Final[dict[str, tuple[int, ...]]] = {
    "CLIENT_RANDOM": (48,),
    "RSA": (48,),
    "CLIENT_EARLY_TRAFFIC_SECRET": (32, 48),
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET": (32, 48),
    "SERVER_HANDSHAKE_TRAFFIC_SECRET": (32, 48),
    "CLIENT_TRAFFIC_SECRET_0": (32, 48),
    "SERVER_TRAFFIC_SECRET_0": (32, 48),
    "EXPORTER_SECRET": (32, 48),
    "EARLY_EXPORTER_SECRET": (32, 48),
}
_USED_LABELS: Final = frozenset(KEYLOG_LABELS) - {"EXPORTER_SECRET", "EARLY_EXPORTER_SECRET"}
_HEX: Final = re.compile(rb"[0-9A-Fa-f]*")


@dataclass(frozen=True, slots=True)
class KeyLogEntry:
    label: str
    key: bytes  #: the client random (RSA: the first 8 bytes of the encrypted premaster)
    secret: bytes
    source: str  #: where the line came from, e.g. a file name
    line: int

    @property
    def where(self) -> str:
        return f"key log {self.source} line {self.line}" if self.source else f"key log line {self.line}"

    def nss_line(self) -> str:
        return f"{self.label} {self.key.hex()} {self.secret.hex()}"


@dataclass(frozen=True, slots=True)
class KeyLogParse:
    entries: tuple[KeyLogEntry, ...]
    problems: tuple[str, ...]  #: "line 7: ..." for every line that was not used
    ignored: int  #: well-formed lines with labels this decoder has no use for


def parse_keylog(data: bytes, source: str = "") -> KeyLogParse:
    """Read an NSS key log; a bad line costs that line (a problem naming its number), never the rest."""
    entries: list[KeyLogEntry] = []
    problems: list[str] = []
    ignored = 0
    if data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark (some editors write one)
        data = data[3:]
    for n, raw in enumerate(data.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(b"#"):
            continue
        fields = line.split()
        label = fields[0].decode("ascii", "replace")
        if len(fields) != 3:
            problems.append(f"line {n}: expected 'LABEL <hex> <hex>', got {len(fields)} field(s)")
            continue
        lengths = KEYLOG_LABELS.get(label)
        if lengths is None:
            if label.isupper() and label.replace("_", "").isalnum():
                ignored += 1  # a label of a newer tool: not ours to judge
            else:
                problems.append(f"line {n}: not a key log line (label {label[:40]!r})")
            continue
        if not (_HEX.fullmatch(fields[1]) and _HEX.fullmatch(fields[2])) or len(fields[1]) % 2 \
                or len(fields[2]) % 2:
            problems.append(f"line {n}: {label}: the values are not hex")
            continue
        key, secret = bytes.fromhex(fields[1].decode()), bytes.fromhex(fields[2].decode())
        want_key = 8 if label == "RSA" else 32
        if len(key) != want_key:
            what = "encrypted premaster prefix" if label == "RSA" else "client random"
            problems.append(f"line {n}: {label}: {what} is {len(key)} bytes, expected {want_key}")
            continue
        if len(secret) not in lengths:
            expected = " or ".join(str(x) for x in lengths)
            problems.append(f"line {n}: {label}: secret is {len(secret)} bytes, expected {expected} "
                            "(truncated?)")
            continue
        if label not in _USED_LABELS:
            ignored += 1
            continue
        entries.append(KeyLogEntry(label, key, secret, source, n))
    return KeyLogParse(tuple(entries), tuple(problems), ignored)


@dataclass(frozen=True, slots=True)
class RsaKey:
    """A server's RSA private key, optionally bound to one server address."""

    key: rsa.RSAPrivateKey
    source: str
    server: tuple[str, int] | None  #: (ip, port) it is bound to, or None for any server
    spki_sha256: str  #: of its public key: matched against the server certificate's

    @property
    def bits(self) -> int:
        return self.key.key_size


@dataclass(frozen=True, slots=True)
class KeyLoadError:
    message: str  #: one line, without the password


_PEM_KEY: Final = re.compile(rb"-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----.*?-----END \1-----", re.S)


# PKCS#5 (PBES1, PBES2) and PKCS#12 PBE algorithm OIDs as DER bytes (1.2.840.113549.1.5.x and
# 1.2.840.113549.1.12.1.x): an EncryptedPrivateKeyInfo names one of them near its start.
_PBE_OIDS: Final = (b"\x2a\x86\x48\x86\xf7\x0d\x01\x05", b"\x2a\x86\x48\x86\xf7\x0d\x01\x0c\x01")


def _encrypted(data: bytes, pem: re.Match[bytes] | None) -> bool:
    """Whether this is an encrypted private key (PKCS#8 EncryptedPrivateKeyInfo, or OpenSSL's
    encrypted PKCS#1 PEM), whatever its password."""
    if pem is not None:
        return pem.group(1) == b"ENCRYPTED PRIVATE KEY" or b"Proc-Type: 4,ENCRYPTED" in pem.group(0)
    return data[:1] == b"\x30" and any(oid in data[:40] for oid in _PBE_OIDS)


def _gist(text: str) -> str:
    """The first sentence of a cryptography error, and its "Details:" if it has some.  Its loaders
    explain every failure in the same paragraph of possible causes: left whole, two of them made a
    line that had to be cut mid-sentence, and the one fact that differs (the details) was lost."""
    text = " ".join(text.split())
    head = text.split(". ", 1)[0].rstrip(".")[:120]
    _, found, details = text.partition("Details: ")
    return f"{head} ({details.rstrip('.')[:120]})" if found and details else head


def load_rsa_key(data: bytes, password: bytes | None = None, source: str = "",
                 server: tuple[str, int] | None = None) -> RsaKey | KeyLoadError:
    """An RSA private key from PEM (PKCS#1 or PKCS#8, encrypted or not), DER or PKCS#12."""
    # (cryptography's key loading costs 50 ms to import: only a run given a key pays it)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12

    key: object = None
    errors: list[str] = []
    pem = _PEM_KEY.search(data)
    attempts: list[tuple[str, object]] = []
    if pem is not None:
        attempts.append(("PEM", lambda: serialization.load_pem_private_key(pem.group(0), password)))
    elif b"PRIVATE KEY-----" in data:
        return KeyLoadError("the PEM private key is cut short (no END line)")
    elif b"-----BEGIN" in data:
        return KeyLoadError("no private key in this PEM file (only certificates or public keys?)")
    else:
        attempts.append(("DER", lambda: serialization.load_der_private_key(data, password)))
        attempts.append(("PKCS#12", lambda: pkcs12.load_key_and_certificates(data, password)[0]))
    for kind, attempt in attempts:
        try:
            key = attempt()  # type: ignore[operator]
        except TypeError as exc:  # password given for a plain key, or missing for an encrypted one
            text = str(exc).lower()
            if "not encrypted" in text:
                return KeyLoadError("the key is not encrypted, but a password was given")
            return KeyLoadError("the key is encrypted: give its password")
        except (ValueError, Exception) as exc:
            text = str(exc)
            # A wrong password decrypts to garbage, whose padding passes one time in ~256: then
            # the parse of it fails instead ("Could not deserialize key data"), a key all the same.
            garbled = password is not None and kind != "PKCS#12" and _encrypted(data, pem)
            if "password" in text.lower() or "decrypt" in text.lower() or garbled:
                if password is None:
                    return KeyLoadError("the key is encrypted: give its password")
                return KeyLoadError("cannot decrypt the key: wrong password?")
            errors.append(f"{kind}: {_gist(text) if text else type(exc).__name__}")
            continue
        if key is not None:
            break
        if kind == "PKCS#12":
            return KeyLoadError("no private key in this PKCS#12 file (only certificates?)")
    if key is None:
        if not errors:
            return KeyLoadError("no private key found")
        return KeyLoadError("not a PEM, DER or PKCS#12 private key (" + "; ".join(errors) + ")")
    if not isinstance(key, rsa.RSAPrivateKey):
        kind_name = type(key).__name__.removesuffix("PrivateKey").lstrip("_") or "non-RSA"
        article = "an" if kind_name[:1] in "AEIOUX" else "a"
        return KeyLoadError(f"{article} {kind_name} key, not RSA: a server key only opens RSA key exchange")
    spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    return RsaKey(key, source, server, hashlib.sha256(spki).hexdigest())


class KeyStore:
    """The secrets a connection may use: key log entries and RSA keys.

    ``generation`` grows whenever material is added, so a connection that found nothing can
    tell when asking again is worth it.  ``growing`` says material may still arrive (a live
    capture): connections then hold back records that wait for their keys (bounded).
    """

    def __init__(self) -> None:
        self._by_random: dict[bytes, dict[str, KeyLogEntry]] = {}
        self._rsa_premaster: dict[bytes, KeyLogEntry] = {}
        self._rsa_keys: list[RsaKey] = []
        self.generation = 0
        self.growing = False
        self.entries = 0

    def add_keylog(self, parsed: KeyLogParse) -> int:
        """Add parsed key log entries; returns how many were new (repeated lines count once)."""
        added = 0
        for e in parsed.entries:
            if e.label == "RSA":
                if e.key not in self._rsa_premaster:
                    self._rsa_premaster[e.key] = e
                    added += 1
                continue
            slot = self._by_random.setdefault(e.key, {})
            if e.label not in slot:
                slot[e.label] = e
                added += 1
        if added:
            self.entries += added
            self.generation += 1
        return added

    def add_rsa_key(self, key: RsaKey) -> None:
        self._rsa_keys.append(key)
        self.generation += 1

    def refresh(self) -> None:
        """Fetch material that arrived since (nothing here; see the class docstring)."""

    def secrets(self, client_random: bytes) -> dict[str, KeyLogEntry]:
        """The key log entries for one client random, by label (empty if none)."""
        return self._by_random.get(client_random, {})

    def rsa_premaster(self, prefix: bytes) -> KeyLogEntry | None:
        return self._rsa_premaster.get(prefix)

    @property
    def rsa_keys(self) -> tuple[RsaKey, ...]:
        return tuple(self._rsa_keys)

    def __bool__(self) -> bool:
        return bool(self._by_random or self._rsa_premaster or self._rsa_keys)

    def has_keylog(self) -> bool:
        """Whether any key log entry is known (given, or found in the capture so far)."""
        return bool(self._by_random or self._rsa_premaster)


class SessionCache:
    """TLS <= 1.2 master secrets by session id and by ticket, for resumed sessions (bounded, LRU)."""

    def __init__(self, limit: int = 16384) -> None:
        self.limit = limit
        self._entries: dict[tuple[str, bytes], tuple[bytes, str]] = {}

    def store(self, kind: str, key: bytes, master: bytes, where: str) -> None:
        if not key:
            return
        k = (kind, key)
        self._entries.pop(k, None)
        self._entries[k] = (master, where)
        if len(self._entries) > self.limit:
            self._entries.pop(next(iter(self._entries)))

    def lookup(self, kind: str, key: bytes) -> tuple[bytes, str] | None:
        if not key:
            return None
        found = self._entries.pop((kind, key), None)
        if found is not None:
            self._entries[(kind, key)] = found  # the most recently used is evicted last
        return found

    def __len__(self) -> int:
        return len(self._entries)
