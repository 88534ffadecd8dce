"""Authentication formulas and header parsers (sans-IO, stdlib only).

The verifier uses these to check every credential in a capture against the user's secrets.
Parsers never raise: they return records with ``quirks`` (tolerated interop deviations) and
``problems`` ("error: "/"warning: "/"info: "), or an :class:`AuthParseError`::

    creds = parse_authorization(value)
    if isinstance(creds, DigestCredentials):
        verdict = verify_digest(creds, password, "POST", request_target, body)

Formulas (H = the algorithm's hash in lowercase hex unless noted):

HTTP Digest (RFC 2617 §3.2.2, RFC 7616 §3.4; cwmp.md §3)
    HA1      = H(user ":" realm ":" password);  -sess: H(HA1 ":" nonce ":" cnonce)   (§3.4.2)
    HA2      = H(method ":" uri);  auth-int: H(method ":" uri ":" H(body))           (§3.4.3)
    response = H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2);
               without qop (RFC 2069): H(HA1 ":" nonce ":" HA2)                      (§3.4.1)
    rspauth  = the same with A2 = ":" uri [":" H(response body)]      (RFC 2617 §3.2.3, 7616 §3.5)
    userhash = H(user ":" realm)                                                     (§3.4.4)
    Algorithms MD5, SHA-256, SHA-512-256 (FIPS 180-4 SHA-512/256, its own IV), each with -sess.
OMA SyncML (H = MD5 raw 16 bytes, B64 = base64; omadm.md §3)
    auth-basic = B64(user ":" password)                                  (RepPro 1.2.1 §5.3)
    auth-md5   = H(B64(H(user ":" password)) ":" nonce)       (RepPro 1.2.1 §5.3, DM Security 1.2)
    HMAC (x-syncml-hmac mac) = H(B64(H(user ":" password)) ":" nonce ":" B64(H(body)))
    Pkg#0 digest = H(B64(H(server-id ":" password)) ":" nonce ":" B64(H(trigger)))
                   (DM Notification 1.2; resync nonces in :data:`RESYNC_NONCES`)
TR-069 Annex G UDP Connection Request
    sig = hex HMAC-SHA1(password, ts || id || un || cn)   (HMAC-SHA256 variant seen in ACS code)
"""

from ._digest import (
    DIGEST_ALGORITHMS,
    digest_ha1,
    digest_response,
    digest_rspauth,
    digest_userhash,
    normalise_algorithm,
    verify_digest,
    verify_rspauth,
)
from ._headers import parse_authentication_info, parse_authorization, parse_www_authenticate
from ._oma import (
    RESYNC_NONCES,
    mac_matches,
    parse_syncml_basic,
    parse_syncml_hmac,
    pkg0_digest,
    syncml_basic,
    syncml_hmac,
    syncml_md5,
)
from ._records import (
    AuthParseError,
    BasicCredentials,
    Challenge,
    DigestCredentials,
    DigestVerdict,
    SyncmlHmac,
)
from ._tr111 import tr111_signature

__all__ = [
    "DIGEST_ALGORITHMS",
    "RESYNC_NONCES",
    "AuthParseError",
    "BasicCredentials",
    "Challenge",
    "DigestCredentials",
    "DigestVerdict",
    "SyncmlHmac",
    "digest_ha1",
    "digest_response",
    "digest_rspauth",
    "digest_userhash",
    "mac_matches",
    "normalise_algorithm",
    "parse_authentication_info",
    "parse_authorization",
    "parse_syncml_basic",
    "parse_syncml_hmac",
    "parse_www_authenticate",
    "pkg0_digest",
    "syncml_basic",
    "syncml_hmac",
    "syncml_md5",
    "tr111_signature",
    "verify_digest",
    "verify_rspauth",
]
