"""TLS key material: NSS key logs (``decoders.tls.parse_keylog`` into a ``KeyStore``), RSA private
keys (``load_rsa_key``: PEM, DER, PKCS#12, with or without a password) and the CLI's loader over
files (``dmsniff.net.tls_keys.load_key_material``).

The first byte picks: 0 key log, 1 RSA key without a password, 2 with one, 3 both files through
``load_key_material``.  ``KeyLoadError`` (a value) and ``KeyMaterialError`` (raised for a key
file that is not an RSA key) are the documented outcomes for bad input, not crashes.
"""

from __future__ import annotations

import contextlib
import os
import tempfile

from fuzz._common import instrumented, main

with instrumented(__name__ == "__main__"):
    from decoders.tls import (
        KeyLoadError,
        KeyStore,
        _keys,  # noqa: F401  (the lazy module, imported here to be instrumented)
        load_rsa_key,
        parse_keylog,
    )
    from dmsniff.net.tls_keys import KeyMaterialError, load_key_material

_DIR = tempfile.mkdtemp(prefix="dmsniff-fuzz-keys-")
_PATH = os.path.join(_DIR, "key.pem")


def TestOneInput(data: bytes) -> None:
    if not data:
        return
    what, body = data[0] % 4, data[1:]
    if what == 0:
        parsed = parse_keylog(body, "fuzz.keys")
        store = KeyStore()
        store.add_keylog(parsed)
        for entry in parsed.entries:
            _ = entry.where, entry.nss_line()
            store.secrets(entry.key)
            store.rsa_premaster(entry.key[:8])
    elif what in (1, 2):
        key = load_rsa_key(body, b"password" if what == 2 else None, "fuzz.key", ("192.0.2.1", 443))
        if not isinstance(key, KeyLoadError):
            _ = key.bits
    else:
        with open(_PATH, "wb") as f:
            f.write(body)
        with contextlib.suppress(KeyMaterialError):  # a file that is no RSA key: raised by design
            load_key_material([_PATH], [(_PATH, None, None)])


if __name__ == "__main__":
    main(TestOneInput)
