"""Sans-IO TLS observer: record layer, handshake and decryption of SSL 3.0 - TLS 1.3 connections.

Feed each direction of a reassembled TCP connection to a :class:`TlsConnection`; it hands back
events (decrypted application data, opaque data, handshake messages, alerts) and, at the end,
a :class:`TlsSummary` that says what the connection was and, when it stayed encrypted, why::

    keys = KeyStore()
    keys.add_keylog(parse_keylog(keylog_text, source="keys.txt"))
    tls = TlsConnection(keys, SessionCache(), server=("192.0.2.1", 443))
    for event in tls.receive_data(0, client_bytes):
        if isinstance(event, ApplicationData):
            http.feed(event.data)
    summary = tls.summary()

Nothing here does I/O: key logs and key files are handed in as bytes (:func:`parse_keylog`,
:func:`load_rsa_key`).  Every primitive (HMAC, HKDF, AES, ChaCha20-Poly1305, RSA, X.509) is
``cryptography``'s.  No input raises: oddities become problem strings (``"error: "``,
``"warning: "``, ``"info: "``) and undecryptable data is counted with its reason.

The tables, the records and :func:`looks_like_tls` load at once; the parts that need
``cryptography`` (the connection, key derivation, key loading) load on first use, so a program
that only meets plaintext never pays for importing it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ._records import *  # noqa: F403
from ._records import __all__ as _record_names
from ._sniff import looks_like_tls
from ._tables import *  # noqa: F403
from ._tables import __all__ as _table_names

if TYPE_CHECKING:
    from ._connection import REASONS, TRANSITIONS, Input, Phase, TlsConnection
    from ._crypto import (
        hkdf_expand_label,
        master_secret,
        next_traffic_secret,
        prf,
        protection_13,
        protections_12,
    )
    from ._keys import (
        KEYLOG_LABELS,
        KeyLoadError,
        KeyLogEntry,
        KeyLogParse,
        KeyStore,
        RsaKey,
        SessionCache,
        load_rsa_key,
        parse_keylog,
    )

#: name -> the module that defines it, imported when the name is first used.
_LAZY = {
    **dict.fromkeys(("REASONS", "TRANSITIONS", "Input", "Phase", "TlsConnection"), "._connection"),
    **dict.fromkeys(("hkdf_expand_label", "master_secret", "next_traffic_secret", "prf", "protection_13",
                     "protections_12"), "._crypto"),
    **dict.fromkeys(("KEYLOG_LABELS", "KeyLoadError", "KeyLogEntry", "KeyLogParse", "KeyStore", "RsaKey",
                     "SessionCache", "load_rsa_key", "parse_keylog"), "._keys"),
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "KEYLOG_LABELS",
    "REASONS",
    "TRANSITIONS",
    "Input",
    "KeyLoadError",
    "KeyLogEntry",
    "KeyLogParse",
    "KeyStore",
    "Phase",
    "RsaKey",
    "SessionCache",
    "TlsConnection",
    "hkdf_expand_label",
    "load_rsa_key",
    "looks_like_tls",
    "master_secret",
    "next_traffic_secret",
    "parse_keylog",
    "prf",
    "protection_13",
    "protections_12",
    *_record_names,
    *_table_names,
]
