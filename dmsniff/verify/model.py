"""What verification says about one credential seen in the capture."""

from __future__ import annotations

from dataclasses import dataclass, field

from dmsniff.model import Direction

RESULTS = ("valid", "invalid", "no-secret", "unverifiable")
SCHEMES = ("http-basic", "http-digest", "syncml-basic", "syncml-md5", "syncml-hmac", "pkg0-digest",
           "tr111-signature")


@dataclass(slots=True)
class AuthResult:
    message: str  # the transaction (C7.2) or datagram (U12) that carried the credential
    frame: int
    scheme: str  # one of SCHEMES
    identity: str | None  # username, DM userid, server id
    algorithm: str | None  # MD5, MD5-sess, SHA-256, ... (None where the scheme has one formula)
    result: str  # one of RESULTS
    direction: Direction = Direction.TO_SERVER  # who presented it: the device (client) or the server
    matched: str | None = None  # label (or name) of the secret entry that verified it
    reason: str | None = None  # why not valid: "password mismatch", "uri mismatch", "nonce unknown", ...
    notes: list[str] = field(default_factory=list)  # where the nonce came from, tolerated quirks, ...
    #: Valid, but with a catch worth reading (the notes say which): only with a resync
    #: nonce, refused by the server anyway, or the server's rspauth does not match.
    caveat: bool = False
    capture: int = 0
    password: str | None = None  # only kept with --show-secrets


def badge(results: list[AuthResult]) -> str | None:
    """A session's auth badge: ✗ when any credential is invalid, ✓ when all checked ones are valid,
    ? when none could be checked; None without credentials."""
    if not results:
        return None
    kinds = {r.result for r in results}
    if "invalid" in kinds:
        return "✗"
    if "valid" in kinds:
        return "✓"
    return "?"


#: Where a password found for a credential of each scheme is used again, as a secret of this kind
#: (dmsniff.verify.secrets.KINDS): SyncML credentials by their direction.
_SECRET_KIND = {"http-basic": "http", "http-digest": "http", "pkg0-digest": "omadm_server",
                "tr111-signature": "connection_request"}


def secret_kind(r: AuthResult) -> str:
    """The kind of secret a password found for this credential is (whose password it is)."""
    if r.scheme.startswith("syncml-"):
        return "omadm_client" if r.direction == Direction.TO_SERVER else "omadm_server"
    return _SECRET_KIND[r.scheme]


@dataclass(frozen=True, slots=True)
class Crack:
    """A password the wordlist audit found, and the credential it was found with."""

    scheme: str
    identity: str
    kind: str  # the secret kind it is used as (secret_kind)
    password: str
    note: str | None  # how it matched, when that is unusual
    frame: int
    capture: int


@dataclass(frozen=True, slots=True)
class Cracked:
    """What a first pass's wordlist audit found, for the pass that judges every credential with it."""

    found: list[Crack]
    summary: tuple[int, int, int, float, int]  # words, targets, checks, seconds, passwords found
