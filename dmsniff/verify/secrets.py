"""The secrets a user supplies: a TOML file, ``--secret user:password`` options, a wordlist.

The file (``--secrets FILE``) has one array of tables per kind of credential::

    [[http]]                      # HTTP Basic/Digest users: CPEs towards the ACS, any web login
    username = "cpe-0001"
    password = "s3cret"
    realm = "acs.example.net"     # optional: only credentials for this realm are checked
    label = "lab CPE"             # optional: how results name this entry (default: the username)

    [[connection_request]]        # ACS -> CPE connection requests (HTTP digest, TR-111 UDP signature)
    username = "cruser"
    password = "crpass"

    [[omadm_client]]              # OMA DM client credentials (syncml:auth-basic/-md5, HMAC)
    username = "dmuser"
    password = "dmpass"
    nonce_b64 = "XUFAKrxLKna5cZ2REBfFkg=="   # optional: the nonce the server gave, when the
                                              # capture does not hold it (or nonce_hex, nonce)

    [[omadm_server]]              # OMA DM server credentials (its Cred, HMAC, Package #0 digest)
    server_id = "dm.example.net"
    password = "srvpass"
    nonce_b64 = ""                # optional: the server nonce the device holds

    keylog = ["sslkeys.log"]      # TLS: NSS key logs (SSLKEYLOGFILE), like --keylog

    [[tls]]                       # TLS: a server's RSA private key, like --tls-key
    rsa_key = "acs.key"           # PEM, DER or PKCS#12
    password = "..."              # optional: the key file's password
    server = "192.0.2.10:443"     # optional: use it for this server only

Relative paths in ``keylog`` and ``rsa_key`` are read from the secrets file's folder.

``--secret user:password`` adds an entry that applies to every kind, for that name.
Passwords never reach the output unless the user asks (``--show-secrets``): results name
the entry by its label, or its username.
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["KINDS", "Secret", "SecretError", "Secrets", "load_secrets", "parse_secret_option"]

KINDS = ("http", "connection_request", "omadm_client", "omadm_server")
_NAME_KEY = {"http": "username", "connection_request": "username", "omadm_client": "username",
             "omadm_server": "server_id"}
_KEYS = {"username", "server_id", "password", "realm", "label", "nonce", "nonce_b64", "nonce_hex"}


TlsKeyEntry = tuple[str, str | None, tuple[str, int] | None]  # (key file, password, server it is bound to)


class SecretError(Exception):
    """The secrets cannot be used; the text is a one-line message for the user."""


@dataclass(frozen=True, slots=True)
class Secret:
    kind: str  # one of KINDS, or "any" for --secret
    name: str  # username or server id
    password: str
    realm: str | None = None
    label: str | None = None
    nonce: bytes | None = None  # OMA DM: the nonce to use when the capture does not show it

    @property
    def title(self) -> str:
        """How results name this entry: never the password."""
        return self.label or self.name


@dataclass(slots=True)
class Secrets:
    entries: list[Secret] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    keylogs: list[str] = field(default_factory=list)  # TLS key log paths
    tls_keys: list[TlsKeyEntry] = field(default_factory=list)  # RSA keys: (file, password, server)

    def for_name(self, kinds: tuple[str, ...], name: str | None) -> list[Secret]:
        """Entries of these kinds (and ``--secret`` ones) for this user or server id."""
        if name is None:
            return []
        return [s for s in self.entries if (s.kind in kinds or s.kind == "any") and s.name == name]

    def of_kind(self, kinds: tuple[str, ...]) -> list[Secret]:
        return [s for s in self.entries if s.kind in kinds or s.kind == "any"]

    def __bool__(self) -> bool:
        return bool(self.entries)


def _nonce(table: dict[str, object], where: str) -> bytes | None:
    if "nonce_b64" in table:
        try:
            return base64.b64decode(str(table["nonce_b64"]), validate=True)
        except (binascii.Error, ValueError):
            raise SecretError(f"{where}: nonce_b64 is not base64") from None
    if "nonce_hex" in table:
        try:
            return bytes.fromhex(str(table["nonce_hex"]))
        except ValueError:
            raise SecretError(f"{where}: nonce_hex is not hex") from None
    if "nonce" in table:
        return str(table["nonce"]).encode("utf-8")
    return None


def load_secrets(path: str | Path, into: Secrets | None = None) -> Secrets:
    """Read a secrets file; warns (in ``Secrets.warnings``) when others may read it."""
    out = into if into is not None else Secrets()
    p = Path(path)
    try:
        mode = p.stat().st_mode
        data = p.read_bytes()
    except OSError as exc:
        raise SecretError(f"cannot read secrets file {path}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO) and os.name == "posix":
        out.warnings.append(f"secrets file {path} is readable by others (mode {stat.S_IMODE(mode):04o}); "
                            f"chmod 600 {path}")
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SecretError(f"secrets file {path}: {exc}") from None
    folder = p.parent
    for key, value in doc.items():
        if key == "keylog":
            paths = value if isinstance(value, list) else [value]
            if not all(isinstance(v, str) for v in paths):
                raise SecretError(f"secrets file {path}: keylog must be a path or a list of paths")
            out.keylogs.extend(str(folder / v) for v in paths)
            continue
        if key == "tls":
            out.tls_keys.extend(_tls_tables(value, folder, f"secrets file {path}"))
            continue
        if key not in KINDS:
            raise SecretError(f"secrets file {path}: unknown section [[{key}]] (expected one of "
                              f"{', '.join(KINDS)})")
        if not isinstance(value, list):
            raise SecretError(f"secrets file {path}: {key} must be an array of tables ([[{key}]])")
        for n, table in enumerate(value, 1):
            where = f"secrets file {path}: [[{key}]] #{n}"
            if not isinstance(table, dict):
                raise SecretError(f"{where}: not a table")
            unknown = set(table) - _KEYS
            if unknown:
                raise SecretError(f"{where}: unknown key {sorted(unknown)[0]!r}")
            name_key = _NAME_KEY[key]
            if name_key not in table or "password" not in table:
                raise SecretError(f"{where}: needs {name_key} and password")
            out.entries.append(
                Secret(
                    kind=key,
                    name=str(table[name_key]),
                    password=str(table["password"]),
                    realm=str(table["realm"]) if "realm" in table else None,
                    label=str(table["label"]) if "label" in table else None,
                    nonce=_nonce(table, where),
                )
            )
    return out


def _tls_tables(value: object, folder: Path, where: str) -> list[TlsKeyEntry]:
    if not isinstance(value, list):
        raise SecretError(f"{where}: tls must be an array of tables ([[tls]])")
    out = []
    for n, table in enumerate(value, 1):
        here = f"{where}: [[tls]] #{n}"
        if not isinstance(table, dict) or "rsa_key" not in table:
            raise SecretError(f"{here}: needs rsa_key (the server's private key file)")
        unknown = set(table) - {"rsa_key", "password", "server"}
        if unknown:
            raise SecretError(f"{here}: unknown key {sorted(unknown)[0]!r}")
        server = None
        if "server" in table:
            host, _, port = str(table["server"]).rpartition(":")
            if not host or not port.isdigit():
                raise SecretError(f"{here}: server must be IP:PORT")
            server = (host.strip("[]"), int(port))
        password = str(table["password"]) if "password" in table else None
        out.append((str(folder / str(table["rsa_key"])), password, server))
    return out


def parse_secret_option(text: str) -> Secret:
    """``user:password`` from the command line (the password may contain ':')."""
    name, sep, password = text.partition(":")
    if not sep or not name:
        raise SecretError("--secret wants user:password (a name, a colon, then the password)")
    return Secret(kind="any", name=name, password=password)
