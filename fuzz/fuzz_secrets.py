"""The secrets file (TOML) and ``--secret``: ``dmsniff.verify.secrets.load_secrets`` over a file
holding the input, and ``parse_secret_option`` on it as text.  ``SecretError`` is what both raise,
by design, for input they cannot use: it is caught; anything else is a crash."""

from __future__ import annotations

import contextlib
import os
import tempfile

from fuzz._common import instrumented, main

with instrumented(__name__ == "__main__"):
    from dmsniff.verify.secrets import SecretError, load_secrets, parse_secret_option

_DIR = tempfile.mkdtemp(prefix="dmsniff-fuzz-secrets-")
_PATH = os.path.join(_DIR, "secrets.toml")


def TestOneInput(data: bytes) -> None:
    with open(_PATH, "wb") as f:
        f.write(data)
    os.chmod(_PATH, 0o600 if data[:1] != b"#" else 0o644)
    try:
        secrets = load_secrets(_PATH)
    except SecretError:
        pass
    else:
        for s in secrets.entries:
            _ = s.title
            secrets.for_name((s.kind,), s.name)
    with contextlib.suppress(SecretError):  # raised by design for a text without user:password
        parse_secret_option(data.decode("utf-8", "surrogateescape"))


if __name__ == "__main__":
    main(TestOneInput)
