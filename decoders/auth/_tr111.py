"""TR-069 Annex G (TR-111 part 2) UDP Connection Request signature.

sig = hex HMAC-SHA1(key = ConnectionRequestPassword, msg = ts || id || un || cn), plain
concatenation (Annex G.2.2.3; GenieACS ``lib/connection-request.ts``).  Some ACS code uses
HMAC-SHA256; the analyser flags that rather than rejecting it.
"""

from __future__ import annotations

import hmac

__all__ = ["tr111_signature"]


def tr111_signature(password: bytes | str, text: str, algorithm: str = "sha1") -> str:
    """Lowercase hex HMAC of ``text`` (ts+id+un+cn) keyed with the CR password (UTF-8).

    ``algorithm`` is "sha1" (Annex G) or "sha256"; "SHA-256"/"HMAC-SHA256" spellings are read
    the same.  An unknown name raises :class:`ValueError` (it comes from code, not the wire).
    """
    name = algorithm.lower().replace("-", "").replace("_", "").removeprefix("hmac")
    key = password.encode("utf-8") if isinstance(password, str) else password
    return hmac.new(key, text.encode("utf-8"), name).hexdigest()
