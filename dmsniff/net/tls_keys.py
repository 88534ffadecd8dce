"""The TLS key material a user gives: options, files, and how to say what a missing key means.

Kept apart from :mod:`dmsniff.net.tls` so that reading a plaintext capture never imports
``cryptography``: only a run with keys, or a capture with TLS in it, loads it.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dmsniff.model import format_endpoint

if TYPE_CHECKING:
    from decoders.tls import Undecrypted

#: How to fix what kept a connection encrypted, in the command line's terms.
HINTS: dict[str, str] = {
    "no-keylog-entry": "give its key log with --keylog, or a pcapng with the keys inside",
    "rsa-key-needed": "give the server's private key with --tls-key, or a key log with --keylog",
    "rsa-key-mismatch": "the --tls-key given belongs to another server",
    "rsa-decrypt-failed": "the --tls-key given is probably not this server's",
    "rsa-key-not-rsa-kex": "the --tls-key given cannot open it: give a key log with --keylog",
    # (The decoder's text says why the master secret is unknown.)
    "resumed-unknown": "give a key log with --keylog",
    "bad-record-mac": "the key log is probably from another capture or another run",
}


def explain(reason: Undecrypted) -> str:
    """The decoder's reason with the option that would help, for people.

    After a dash, not in parentheses: the decoder's texts end in a parenthesised client random or
    cause of their own."""
    hint = HINTS.get(reason.code)
    return f"{reason.text} \N{EM DASH} {hint}" if hint else reason.text


class KeyMaterialError(Exception):
    """A key file cannot be used; the text is one line for the user (never the password)."""


@dataclass(frozen=True, slots=True)
class TlsKeySpec:
    """The key material a user gave, as read from the files: picklable for worker processes."""

    keylogs: tuple[tuple[str, bytes], ...] = ()  # (file name, contents)
    # (file name, contents, password, the server it is bound to)
    rsa_keys: tuple[tuple[str, bytes, bytes | None, tuple[str, int] | None], ...] = ()
    watch: tuple[str, ...] = ()  # key log paths to re-read while capturing live

    def __bool__(self) -> bool:
        return bool(self.keylogs or self.rsa_keys or self.watch)


@dataclass(slots=True)
class KeyReport:
    """What loading the key material found, for the user."""

    entries: int = 0
    rsa_keys: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def parse_tls_key_option(text: str) -> tuple[str, str | None, tuple[str, int] | None]:
    """``FILE[:PASSWORD][@IP:PORT]`` -> (file, password, server)."""
    server = None
    head, at, tail = text.rpartition("@")
    if at:
        host, colon, port = tail.rpartition(":")
        host = host.strip("[]")
        if colon and port.isdigit() and host:
            server = (host, int(port))
            text = head
    if os.path.exists(text):
        return text, None, server
    path, colon, password = text.partition(":")
    if colon and os.path.exists(path):
        return path, password, server
    return text, None, server


def _readable_by_others(path: str) -> bool:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return os.name == "posix" and bool(mode & (stat.S_IRWXG | stat.S_IRWXO))


def load_key_material(keylogs: list[str], tls_keys: list[tuple[str, str | None, tuple[str, int] | None]],
                      *, live: bool = False) -> tuple[TlsKeySpec, KeyReport]:
    """Read key logs and RSA key files into a :class:`TlsKeySpec`, checking each once.

    A key log with bad lines is used for its good ones (each bad line is a warning); a key
    file that cannot be read or is not an RSA private key is a :class:`KeyMaterialError`.
    """
    from decoders.tls import KeyLoadError, load_rsa_key, parse_keylog  # cryptography: only with keys

    report = KeyReport()
    logs: list[tuple[str, bytes]] = []
    for path in keylogs:
        try:
            data = _read(path)
        except OSError as exc:
            if live and isinstance(exc, FileNotFoundError):
                report.warnings.append(f"key log {path} does not exist yet: it is read when it appears")
                continue
            raise KeyMaterialError(f"cannot read key log {path}: {exc.strerror}") from None
        parsed = parse_keylog(data, os.path.basename(path))
        report.entries += len(parsed.entries)
        for p in parsed.problems[:20]:
            report.warnings.append(f"key log {path}: {p}")
        if len(parsed.problems) > 20:
            report.warnings.append(f"key log {path}: {len(parsed.problems) - 20} more bad lines")
        if not parsed.entries and not parsed.problems and not live:
            report.warnings.append(f"key log {path} holds no secrets")
        logs.append((os.path.basename(path), data))
    rsa: list[tuple[str, bytes, bytes | None, tuple[str, int] | None]] = []
    for path, password, server in tls_keys:
        try:
            data = _read(path)
        except OSError as exc:
            raise KeyMaterialError(f"cannot read TLS key {path}: {exc.strerror}") from None
        if _readable_by_others(path):
            mode = stat.S_IMODE(os.stat(path).st_mode)
            report.warnings.append(f"TLS key {path} is readable by others (mode {mode:04o}); "
                                   f"chmod 600 {path}")
        pw = password.encode() if password is not None else None
        key = load_rsa_key(data, pw, os.path.basename(path), server)
        if isinstance(key, KeyLoadError):
            raise KeyMaterialError(f"TLS key {path}: {key.message}")
        bound = f" for {format_endpoint(*server)}" if server else ""
        report.rsa_keys.append(f"{path} (RSA {key.bits}{bound})")
        rsa.append((os.path.basename(path), data, pw, server))
    spec = TlsKeySpec(tuple(logs), tuple(rsa), tuple(keylogs) if live else ())
    return spec, report


MAX_KEY_FILE = 256 << 20  # a key log of a busy ACS can be large; a key file is never this big


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        data = f.read(MAX_KEY_FILE + 1)
    if len(data) > MAX_KEY_FILE:
        raise OSError(0, f"larger than {MAX_KEY_FILE >> 20} MiB")
    return data
