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
"""

from ._connection import REASONS, TRANSITIONS, Input, Phase, TlsConnection, looks_like_tls
from ._crypto import hkdf_expand_label, master_secret, next_traffic_secret, prf, protection_13, protections_12
from ._keys import *  # noqa: F403
from ._keys import __all__ as _key_names
from ._records import *  # noqa: F403
from ._records import __all__ as _record_names
from ._tables import *  # noqa: F403
from ._tables import __all__ as _table_names

__all__ = [
    "REASONS",
    "TRANSITIONS",
    "Input",
    "Phase",
    "TlsConnection",
    "hkdf_expand_label",
    "looks_like_tls",
    "master_secret",
    "next_traffic_secret",
    "prf",
    "protection_13",
    "protections_12",
    *_key_names,
    *_record_names,
    *_table_names,
]
