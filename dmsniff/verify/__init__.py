"""Verification of every credential and digest in a capture against the user's secrets.

``secrets.py`` loads what the user knows (a TOML file, ``--secret user:password``);
``verifier.py`` is the addon that follows challenges and nonces through the capture and
judges each HTTP Basic/Digest header, SyncML credential and HMAC, Package #0 digest and
TR-111 signature with the pure formulas of :mod:`decoders.auth`; ``wordlist.py`` tries a
wordlist against every identity seen.  Results are :class:`~dmsniff.verify.model.AuthResult`
records, attached to the message they judge and emitted for the report's ``auth`` list.
"""
