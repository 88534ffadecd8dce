"""The TLS observer: ``decoders.tls.TlsConnection`` (record layer, handshake parser, key schedule,
decryption of TLS 1.0-1.3) with a ``KeyStore`` holding the key logs of the seed transcripts and of
``captures/`` and the captures' server RSA keys, so decryption paths are reached.

Ops (:class:`fuzz._common.Ops`): 0 ``receive_data(direction, chunk)``, 1 ``receive_gap(direction,
u16)``, 2 ``receive_eof(direction)``, 3 the connection ends (``summary()``) and a new one starts,
sharing the session cache (resumption).  Direction is a byte (even: 0, odd: 1).  Nothing here is
documented to raise: every exception is a crash.
"""

from __future__ import annotations

from fuzz._common import Ops, instrumented, main

with instrumented(__name__ == "__main__"):
    from decoders.tls import (  # noqa: F401  (lazy: instrument now)
        KeyLoadError,
        KeyStore,
        SessionCache,
        TlsConnection,
        _connection,
        _crypto,
        _handshake,
        _keys,
        load_rsa_key,
        parse_keylog,
    )

from fuzz import _keys as fuzz_keys

SERVER = ("127.0.0.1", 443)


def _keystore() -> KeyStore:
    keys = KeyStore()
    for name, data in fuzz_keys.keylogs():
        keys.add_keylog(parse_keylog(data, name))
    for name, data, _pw, _server in fuzz_keys.rsa_keys():
        key = load_rsa_key(data, None, name)
        if not isinstance(key, KeyLoadError):
            keys.add_rsa_key(key)
    return keys


KEYS = _keystore()


def _end(conn: TlsConnection) -> None:
    conn.summary()
    _ = conn.info


def TestOneInput(data: bytes) -> None:
    cache = SessionCache()
    conn = TlsConnection(KEYS, cache, server=SERVER, name="C1")
    ops = Ops(data)
    n = 1
    while ops:
        op = ops.op(4)
        if op == 3:
            _end(conn)
            n += 1
            conn = TlsConnection(KEYS, cache, server=SERVER, name=f"C{n}")
            continue
        direction = ops.u8() & 1
        if op == 0:
            conn.receive_data(direction, ops.chunk())
        elif op == 1:
            conn.receive_gap(direction, ops.u16())
        else:
            conn.receive_eof(direction)
    _end(conn)


if __name__ == "__main__":
    main(TestOneInput)
