"""The verifier addon: every credential in the capture, judged against the user's secrets.

It runs before the session builders, so each message they see already carries its
:class:`~dmsniff.verify.model.AuthResult` list (``HttpMessage.auth``, ``Datagram.auth``),
mitmproxy-style: addons annotate the flow for those after them.

What it follows through the capture, because a credential is only as checkable as its
nonce:

* HTTP Digest: every nonce a server issued (401/407 challenges, ``nextnonce`` in
  Authentication-Info), by server endpoint, with its realm, algorithm and stale flag; the
  last ``nc`` used with each nonce;
* OMA DM: the last NextNonce each side handed the other in a Chal, per server and device,
  across messages and sessions (the one a client's md5 Cred or HMAC must use is the
  server's latest, and the other way round); after a Package #0 that verifies only with
  the resynchronisation nonce 0x00000000 (DM Notification §6.2), both sides' credentials
  in the session it starts use that nonce until a Chal renews it.

The formulas are in :mod:`decoders.auth`; this module only decides which secret, which
nonce, which method and URI, and what to call the outcome.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from decoders import auth, notification, syncml, tr111
from dmsniff.dm_links import SESSION_IDLE, Notified, ends_session
from dmsniff.model import Datagram, Direction, HttpMessage, Rule, Transaction, endpoint_host
from dmsniff.pipeline.addons import Emitter
from dmsniff.protocols.auth import challenges, credentials
from dmsniff.verify import wordlist as wl
from dmsniff.verify.model import AuthResult, Crack, Cracked, secret_kind
from dmsniff.verify.secrets import Secret, Secrets

MAX_NONCES = 200_000  # issued nonces remembered (oldest forgotten first): memory stays bounded
# A client message posted to another address within this long of the server's RespURI continues that
# session.  DmSessions links it while the session is open: a session ends SESSION_IDLE after its last
# message, checked every few seconds of capture time; twice that leaves a margin.
RESP_URI_WINDOW = 2 * SESSION_IDLE

#: The one finding code the verifier makes (its verdicts are the auth records, not findings).
RULES: dict[str, Rule] = {
    "verify.password-in-wordlist": Rule(
        "warning",
        "dmsniff wordlist audit (--wordlist): a password an attacker would try first",
        "An identity's password is in the wordlist; its credentials are then judged with it "
        "(matched \"wordlist\"); the password is printed only with --show-secrets.",
    ),
}
MAX_AUDIT_TARGETS = 2  # per (scheme, identity): the first credential, and the first the server accepted

_HTTP_KINDS = ("http", "connection_request")
_CR_KINDS = ("connection_request",)
_DM_CLIENT = ("omadm_client",)
_DM_SERVER = ("omadm_server",)


@dataclass(slots=True)
class _Issued:
    frame: int
    realm: str | None
    algorithm: str | None
    stale: bool


@dataclass(slots=True)
class _Resync:
    """A Package #0 valid only with a resync nonce, and the session it starts."""

    frame: int
    label: str  # the resync nonce that verified it, as RESYNC_NONCES names it
    nonce: bytes
    session_id: str = ""  # the SessionID of the Package #1 that answered it (upper-case)


def _b64_nonce(text: str | None) -> bytes | None:
    """A NextNonce's bytes: base64-decoded (its usual Format b64), else the text itself."""
    if text is None:
        return None
    t = text.strip()
    try:
        return base64.b64decode(t, validate=True)
    except (binascii.Error, ValueError):
        return t.encode("utf-8", "surrogateescape")


class Verifier(Emitter):
    """Judges HTTP Basic/Digest, SyncML Cred/HMAC, Pkg#0 digests and TR-111 signatures."""

    needs_bodies = True  # HMAC and auth-int are computed over the body bytes

    def __init__(
        self,
        secrets: Secrets,
        *,
        show_secrets: bool = False,
        wordlist: list[bytes] | None = None,
        jobs: int = 0,
        cracked: Cracked | None = None,
    ) -> None:
        super().__init__()
        self.secrets = secrets
        self.show_secrets = show_secrets
        self.issued: OrderedDict[tuple[str, str], _Issued] = OrderedDict()  # (server, nonce) -> issued
        self.servers_challenging: set[str] = set()
        self.last_nc: dict[tuple[str, str], int] = {}
        self.first_cnonce: dict[tuple[str, str], str] = {}
        # (server host, device LocURI, direction of the credential's message) -> (nonce, frame it came in)
        self.dm_nonces: dict[tuple[str, str, str], tuple[bytes, int]] = {}
        # Nonce resynchronisation: every notification awaiting its Package #1 (linked as DmSessions
        # links, dmsniff.dm_links), with its resync nonce if it verified only with one; the (server,
        # device, direction) keys whose credentials use the resync nonce until a Chal renews theirs;
        # the open DM conversations, (SessionID, device, server) -> time of their last message, since a
        # notification is answered by the first client message of a session.
        self.notified: Notified[_Resync | None] = Notified()
        self.dm_open: dict[tuple[str, str, str], float] = {}
        self.dm_resync: dict[tuple[str, str, str], _Resync] = {}
        # Device address -> the DM devices (SyncHdr LocURI) seen posting from it, the latest last.
        self.dm_at: dict[str, list[str]] = {}
        # RespURI: (device, SessionID) -> the server address whose last message gave one, and when; (address,
        # device) -> the address the conversation began at, once the client posted to the RespURI elsewhere.
        self.dm_resp_from: dict[tuple[str, str], tuple[str, float]] = {}
        self.dm_moved: dict[tuple[str, str], str] = {}
        # dm_open and dm_resp_from have an entry per DM session: those of sessions long over are dropped
        # at this capture time (see _expire_dm), so that memory does not grow with the capture.
        self._dm_expiry = 0.0
        self.capture = 0
        self.counts: dict[str, int] = {}
        # For the wordlist audit: at most MAX_AUDIT_TARGETS credentials per identity, kept only
        # with a wordlist; what it found (or what an earlier pass found: ``cracked``).
        self.wordlist = wordlist
        self.jobs = jobs
        self.cracked = cracked
        self.audit_summary: tuple[int, int, int, float, int] | None = None  # words, targets, checks, s, found
        if cracked is not None:
            self.audit_summary = cracked.summary
        # Bodies cross process boundaries only when a formula needs them (HMAC, auth-int).
        self.needs_bodies = bool(secrets) or wordlist is not None
        self.targets: dict[tuple[str, str | None], list[tuple[AuthResult, wl.Target, bool]]] = {}
        self.found: list[Crack] = []

    def again(self) -> Verifier:
        """A verifier with these secrets (and what an earlier wordlist pass found) and no state: for
        another pass over the same captures.  Without the wordlist: its audit would find the same."""
        return Verifier(self.secrets, show_secrets=self.show_secrets, jobs=self.jobs, cracked=self.cracked)

    # -- Addon hooks ------------------------------------------------------------------------
    def capture_start(self, index: int, info: object) -> None:
        self.capture = index

    def transaction(self, tx: Transaction) -> None:
        req, resp = tx.request, tx.response
        first = req or resp
        if first is not None and first.time >= self._dm_expiry:
            self._expire_dm(first.time)
        if req is not None:
            out: list[AuthResult] = []
            for name, value in req.headers:
                lname = name.lower()
                if lname in ("authorization", "proxy-authorization"):
                    r = self._http(tx, req, resp, value)
                    if r is not None:
                        out.append(r)
            if isinstance(req.protocol, syncml.SyncMLMessage):
                server = self._dm_server(tx, req.protocol, Direction.TO_SERVER, req.time)
                self._dm_session(tx, req, req.protocol, server)
                out.extend(self._syncml(tx, req, req.protocol, Direction.TO_SERVER, server))
            elif isinstance(req.protocol, notification.Notification):
                out.extend(self._pkg0(tx.id, req.frame, req.protocol, endpoint_host(tx.client),
                                      endpoint_host(tx.server), req.time))
            self._attach(req, out)
        if resp is not None:
            self._learn_challenges(tx, resp)
            if isinstance(resp.protocol, syncml.SyncMLMessage):
                server = self._dm_server(tx, resp.protocol, Direction.TO_CLIENT, resp.time)
                self._attach(resp, self._syncml(tx, resp, resp.protocol, Direction.TO_CLIENT, server))
                hdr = resp.protocol.header
                if ends_session(resp.protocol):
                    self.dm_open.pop(((hdr.session_id or "").strip(), hdr.target or "", server), None)

    def datagram(self, dg: Datagram) -> None:
        rec = dg.protocol
        out: list[AuthResult] = []
        if isinstance(rec, notification.WapPush) and isinstance(rec.notification, notification.Notification):
            out = self._pkg0(dg.id, dg.frame, rec.notification, dg.src, dg.dst, dg.time)
        elif isinstance(rec, notification.Notification):
            out = self._pkg0(dg.id, dg.frame, rec, dg.src, dg.dst, dg.time)
        elif isinstance(rec, tr111.UdpConnectionRequest):
            out = [self._tr111(dg, rec)]
        self._attach(dg, out)

    def _attach(self, msg: HttpMessage | Datagram, results: list[AuthResult]) -> None:
        if not results:
            return
        msg.auth = list(results)
        for r in results:
            self.counts[r.result] = self.counts.get(r.result, 0) + 1
            self.outbox.auth(r)

    def _result(
        self,
        message: str,
        frame: int,
        scheme: str,
        identity: str | None,
        algorithm: str | None,
        direction: Direction = Direction.TO_SERVER,
    ) -> AuthResult:
        return AuthResult(
            message=message,
            frame=frame,
            scheme=scheme,
            identity=identity,
            algorithm=algorithm,
            result="no-secret",
            direction=direction,
            capture=self.capture,
        )

    def _matched(self, r: AuthResult, secret: Secret) -> None:
        r.result, r.matched, r.reason = "valid", secret.title, None
        if self.show_secrets:
            r.password = secret.password

    # -- HTTP ----------------------------------------------------------------------------------
    def _learn_challenges(self, tx: Transaction, resp: HttpMessage) -> None:
        for name, value in resp.headers:
            lname = name.lower()
            if lname in ("www-authenticate", "proxy-authenticate") and resp.status in (401, 407):
                for ch in challenges(resp, value):
                    if ch.scheme.lower() == "digest" and ch.nonce:
                        self._issue(
                            tx.server, ch.nonce, _Issued(resp.frame, ch.realm, ch.algorithm, ch.stale)
                        )
            elif lname in ("authentication-info", "proxy-authentication-info"):
                nxt = auth.parse_authentication_info(value).get("nextnonce")
                if nxt:
                    self._issue(tx.server, nxt, _Issued(resp.frame, None, None, False))

    def _issue(self, server: str, nonce: str, issued: _Issued) -> None:
        self.servers_challenging.add(server)
        key = (server, nonce)
        self.issued[key] = issued
        self.issued.move_to_end(key)
        if len(self.issued) > MAX_NONCES:
            old, _ = self.issued.popitem(last=False)
            self.last_nc.pop(old, None)
            self.first_cnonce.pop(old, None)

    def _http(
        self, tx: Transaction, req: HttpMessage, resp: HttpMessage | None, value: str
    ) -> AuthResult | None:
        creds = credentials(req, value)
        if isinstance(creds, auth.AuthParseError):
            scheme = "http-digest" if value.strip().lower().startswith("digest") else "http-basic"
            r = self._result(tx.id, req.frame, scheme, None, None)
            r.result, r.reason = "unverifiable", f"unreadable Authorization header: {creds.reason}"
            return r
        if isinstance(creds, auth.BasicCredentials):
            return self._basic(tx.id, req.frame, "http-basic", creds.username, creds.password, _HTTP_KINDS,
                               accepted=_accepted(resp))
        return self._digest(tx, req, resp, creds)

    def _basic(
        self,
        message: str,
        frame: int,
        scheme: str,
        user: str,
        password: str,
        kinds: tuple[str, ...],
        direction: Direction = Direction.TO_SERVER,
        accepted: bool = False,
    ) -> AuthResult:
        r = self._result(message, frame, scheme, user, None, direction)
        cands = self.secrets.for_name(kinds, user)
        for s in cands:
            if s.password == password:
                self._matched(r, s)
                break
        else:
            if cands:
                r.result, r.reason = "invalid", "password mismatch"
        self._remember(r, lambda: wl.PlainTarget(message, password), accepted)
        return r

    def _digest(
        self, tx: Transaction, req: HttpMessage, resp: HttpMessage | None, creds: auth.DigestCredentials
    ) -> AuthResult:
        r = self._result(tx.id, req.frame, "http-digest", creds.identity, creds.algorithm)
        r.notes.extend(creds.quirks)
        # Where the nonce came from.
        issued = self.issued.get((tx.server, creds.nonce or ""))
        if issued is not None:
            r.notes.append(f"nonce issued in frame {issued.frame}")
        elif tx.server in self.servers_challenging:
            r.notes.append("nonce never issued by this server in the capture")
        else:
            r.notes.append("nonce unknown: no challenge from this server in the capture")
        nc_note = self._check_nc(tx.server, creds)
        if nc_note:
            r.notes.append(nc_note)
        cands = self._digest_candidates(creds)
        # -sess: some clients compute HA1 once, with the first cnonce used with this nonce (RFC 2617),
        # others per request with each new cnonce (python-requests); both are tried.
        first_cnonce = None
        if creds.algorithm.endswith("-sess") and creds.nonce and creds.cnonce:
            first_cnonce = self.first_cnonce.setdefault((tx.server, creds.nonce), creds.cnonce)
            if first_cnonce == creds.cnonce:
                first_cnonce = None
        method = req.method or "GET"
        uri = req.uri or "/"
        body = req.content
        if creds.qop == "auth-int" and (not req.complete or len(body) < req.body_length):
            r.result, r.reason = "unverifiable", "auth-int over a body the capture does not hold whole"
            return r
        if creds.algorithm not in auth.DIGEST_ALGORITHMS:
            r.result, r.reason = "unverifiable", f"unsupported algorithm {creds.algorithm_raw!r}"
            return r
        reasons: list[str] = []
        for s in cands:
            v = auth.verify_digest(
                creds,
                s.password,
                method,
                uri,
                body,
                realm=s.realm,
                username=s.name,
                first_cnonce=first_cnonce,
            )
            if v.valid:
                self._matched(r, s)
                r.notes.extend(v.notes)
                self._rspauth(r, creds, s, resp, v.ha1)
                break
            reasons.append(v.reason or "password mismatch")
        else:
            if cands:
                r.result = "invalid"
                r.reason = next((x for x in reasons if x != "password mismatch"), reasons[0])
        if resp is not None and resp.status in (401, 407):
            stale = any(
                ch.stale
                for name, value in resp.headers
                if name.lower() in ("www-authenticate", "proxy-authenticate")
                for ch in challenges(resp, value)
            )
            if stale and r.result == "valid":
                r.result, r.reason = "invalid", "stale nonce"
                r.notes.append(
                    f"the password matches, but the server's 401 (frame {resp.frame}) says stale=true"
                )
            elif r.result == "valid" and issued is None:
                # The likeliest reason the server refused a right password: it never gave that nonce.
                r.result = "invalid"
                r.reason = "nonce never issued" if tx.server in self.servers_challenging else "nonce unknown"
                r.notes.append(
                    f"the password matches, but the server answered {resp.status} (frame {resp.frame})"
                )
            elif r.result == "valid":
                r.caveat = True
                r.notes.append(
                    f"the password matches, yet the server answered {resp.status} (frame {resp.frame})"
                )
        if creds.response and creds.nonce is not None and creds.identity is not None:
            self._remember(r, lambda: _digest_target(tx.id, creds, method, uri, body), _accepted(resp))
        return r

    def _digest_candidates(self, creds: auth.DigestCredentials) -> list[Secret]:
        if creds.userhash and creds.username:
            out = []
            for s in self.secrets.of_kind(_HTTP_KINDS):
                try:
                    hashed = auth.digest_userhash(creds.algorithm or "MD5", s.name, creds.realm or "")
                except (KeyError, ValueError):
                    continue
                if hashed.lower() == creds.username.lower():
                    out.append(s)
            return out
        return self.secrets.for_name(_HTTP_KINDS, creds.identity)

    def _check_nc(self, server: str, creds: auth.DigestCredentials) -> str | None:
        if not creds.nc or not creds.nonce:
            return None
        try:
            nc = int(creds.nc, 16)
        except ValueError:
            return f"nc {creds.nc!r} is not hex"
        key = (server, creds.nonce)
        if len(self.last_nc) > 2 * MAX_NONCES:  # nonces never issued in the capture are not evicted above
            self.last_nc.clear()
            self.first_cnonce.clear()
        prev = self.last_nc.get(key)
        self.last_nc[key] = max(nc, prev or 0)
        if prev is not None and nc <= prev:
            return f"nc {creds.nc} does not increase (the nonce was already used with nc {prev:08x})"
        return None

    def _rspauth(
        self,
        r: AuthResult,
        creds: auth.DigestCredentials,
        s: Secret,
        resp: HttpMessage | None,
        ha1: str | None,
    ) -> None:
        if resp is None:
            return
        for name, value in resp.headers:
            if name.lower() in ("authentication-info", "proxy-authentication-info"):
                rspauth = auth.parse_authentication_info(value).get("rspauth")
                if rspauth:
                    ok = auth.verify_rspauth(creds, s.password, rspauth, resp.content, ha1=ha1)
                    r.notes.append("server's rspauth valid" if ok else "server's rspauth does NOT match")
                    if not ok:
                        r.caveat = True

    # -- OMA DM ------------------------------------------------------------------------------------
    def _expire_dm(self, now: float) -> None:
        """Forget the DM sessions long over by ``now``.  An open conversation idle for SESSION_IDLE, or a
        RespURI older than RESP_URI_WINDOW, counts for nothing already (where they are read); they are
        dropped at twice that age, so that an exchange a little out of time order still finds them."""
        self.dm_open = {k: t for k, t in self.dm_open.items() if now - t <= 2 * SESSION_IDLE}
        self.dm_resp_from = {k: v for k, v in self.dm_resp_from.items() if now - v[1] <= 2 * RESP_URI_WINDOW}
        self._dm_expiry = now + SESSION_IDLE

    def _dm_server(self, tx: Transaction, rec: syncml.SyncMLMessage, direction: Direction, now: float) -> str:
        """The server address a DM conversation's nonces are kept under: the one it began at, also after
        the server sent the client to another address with a RespURI (the same session, SessionID and
        device, posted elsewhere within RESP_URI_WINDOW: DmSessions links it the same way)."""
        hdr = rec.header
        host = endpoint_host(tx.server)
        device = (hdr.source if direction == Direction.TO_SERVER else hdr.target) or ""
        sid = (hdr.session_id or "").strip()
        here = (host, device)
        if direction == Direction.TO_SERVER and here not in self.dm_moved and device and sid:
            sent = self.dm_resp_from.get((device, sid))
            if sent is not None and sent[0] != host and now - sent[1] <= RESP_URI_WINDOW:
                self.dm_moved[here] = sent[0]
        server = self.dm_moved.get(here, host)
        if direction == Direction.TO_CLIENT:
            # A RespURI in the message that ends the session leads nowhere (DmSessions links a message to
            # a new address only while the session is open).
            if hdr.resp_uri and not ends_session(rec):
                self.dm_resp_from[(device, sid)] = (server, now)
            else:
                self.dm_resp_from.pop((device, sid), None)
        return server

    def _syncml(
        self, tx: Transaction, msg: HttpMessage, rec: syncml.SyncMLMessage, direction: Direction, server: str
    ) -> list[AuthResult]:
        hdr = rec.header
        device = (hdr.source if direction == Direction.TO_SERVER else hdr.target) or ""
        kinds = _DM_CLIENT if direction == Direction.TO_SERVER else _DM_SERVER
        out: list[AuthResult] = []
        nonce_key = (server, device, direction)
        if direction == Direction.TO_SERVER and device:
            seen_at = self.dm_at.setdefault(endpoint_host(tx.client), [])
            if device in seen_at:
                seen_at.remove(device)
            seen_at.append(device)
        r = self.dm_resync.get(nonce_key)
        if r is not None and (hdr.session_id or "").strip().upper() != r.session_id:
            # Another session: the resynchronisation was the notified session's only.
            for d in (Direction.TO_SERVER, Direction.TO_CLIENT):
                self.dm_resync.pop((server, device, d), None)
        cred = hdr.cred
        if cred is not None:
            out.append(self._syncml_cred(tx.id, msg.frame, rec, cred, kinds, nonce_key, direction))
        hmac_header = msg.header("x-syncml-hmac")
        if hmac_header is not None:
            out.append(self._syncml_hmac(tx.id, msg, hmac_header, kinds, nonce_key, direction, rec))
        # Nonces this message hands to the peer, for the peer's next credential.
        peer = direction.reverse
        for c in rec.commands:
            if c.name == "Status" and c.chal is not None and c.chal.next_nonce is not None:
                nonce = _b64_nonce(c.chal.next_nonce)
                if nonce is not None:
                    self.dm_nonces[(server, device, peer)] = (nonce, msg.frame)
                    self.dm_resync.pop((server, device, peer), None)  # the resync is over for that side
        return out

    def _dm_session(self, tx: Transaction, req: HttpMessage, rec: syncml.SyncMLMessage, server: str) -> None:
        """A client message that opens a session (as DmSessions sees one: no open conversation with this
        SessionID, device and server) may answer a notification.  If that notification verified only
        with a resync nonce, from here on both sides' credentials use it (DM Notification §6.2 steps
        3-5) until each gets a new one in a Chal."""
        hdr = rec.header
        device = hdr.source or ""
        key = ((hdr.session_id or "").strip(), device, server)
        last = self.dm_open.get(key)
        self.dm_open[key] = req.time
        if last is not None and req.time - last <= SESSION_IDLE:
            return
        self.notified.expire(req.time)
        link = self.notified.answer(rec, endpoint_host(tx.client), req.first_time)
        if link is None or link.notification is None:
            return
        r = link.notification
        r.session_id = key[0].upper()
        for direction in (Direction.TO_SERVER, Direction.TO_CLIENT):
            self.dm_resync[(server, device, direction)] = r

    def _dm_identity(self, rec: syncml.SyncMLMessage, direction: Direction) -> str | None:
        hdr = rec.header
        return hdr.source_name or (hdr.source if direction == Direction.TO_CLIENT else None)

    def _dm_secrets(
        self, kinds: tuple[str, ...], identity: str | None, rec: syncml.SyncMLMessage
    ) -> list[Secret]:
        found = self.secrets.for_name(kinds, identity)
        if not found and kinds == _DM_SERVER:
            # A server's Cred may name it by URL rather than server id.
            found = self.secrets.for_name(kinds, rec.header.source)
        return found

    def _nonce_for(self, key: tuple[str, str, str], secret: Secret) -> tuple[bytes | None, str]:
        """The nonce a credential must use, and where it came from."""
        seen = self.dm_nonces.get(key)
        if seen is not None:
            return seen[0], f"nonce from the Chal in frame {seen[1]}"
        if secret.nonce is not None:
            return secret.nonce, "nonce from the secrets file (none in the capture)"
        return None, "nonce unknown"

    def _nonces_for(self, key: tuple[str, str, str], secret: Secret) -> list[tuple[bytes, str, str | None]]:
        """The nonces to try, the due one first: (nonce, where it came from, and, for a nonce that is
        not the due one, what to note when it verifies).

        In a resynchronisation the resync nonce is due (the form that verified the notification,
        then the other one); the stored nonce is still tried, to say it was used instead."""
        nonce, note = self._nonce_for(key, secret)
        r = self.dm_resync.get(key)
        if r is None:
            return [] if nonce is None else [(nonce, note, None)]
        why = f"the notification in frame {r.frame} verified only with it"
        forms = [(r.label, r.nonce)] + [(label, n) for label, n in auth.RESYNC_NONCES if n != r.nonce]
        tries: list[tuple[bytes, str, str | None]] = [
            (n, f"resync nonce {label}: {why}", None) for label, n in forms
        ]
        if nonce is not None:
            stale = f"not the resync nonce: {note} (the notification in frame {r.frame} verified only with "
            tries.append((nonce, note, stale + f"{r.label})"))
        return tries

    def _nonce_hint(self, key: tuple[str, str, str]) -> bytes | None:
        """The nonce the capture says a credential uses (for the wordlist audit)."""
        r = self.dm_resync.get(key)
        if r is not None:
            return r.nonce
        seen = self.dm_nonces.get(key)
        return seen[0] if seen is not None else None

    def _syncml_cred(
        self,
        message: str,
        frame: int,
        rec: syncml.SyncMLMessage,
        cred: syncml.Cred,
        kinds: tuple[str, ...],
        nonce_key: tuple[str, str, str],
        direction: Direction,
    ) -> AuthResult:
        kind = (cred.type or "syncml:auth-basic").strip().lower()
        if kind == "syncml:auth-basic":
            pair = auth.parse_syncml_basic(cred.data)
            if pair is None:
                r = self._result(
                    message, frame, "syncml-basic", self._dm_identity(rec, direction), None, direction
                )
                r.result, r.reason = "unverifiable", "Cred data is not base64 of user:password"
                return r
            return self._basic(message, frame, "syncml-basic", pair[0], pair[1], kinds, direction)
        identity = self._dm_identity(rec, direction)
        r = self._result(message, frame, "syncml-md5", identity, "MD5", direction)
        if kind != "syncml:auth-md5":
            r.scheme = "syncml-md5" if "md5" in kind else "syncml-basic"
            r.result, r.reason = "unverifiable", f"unknown credential type {cred.type!r}"
            return r
        hint = self._nonce_hint(nonce_key)
        digest = _mac_bytes(cred.data)
        if hint is not None and digest is not None and identity is not None:
            self._remember(r, lambda: wl.SyncmlMd5Target(message, identity, hint, digest))
        cands = self._dm_secrets(kinds, identity, rec)
        return self._check_dm(
            r,
            cands,
            nonce_key,
            cred.data,
            lambda sec, nonce: auth.syncml_md5(sec.name, sec.password, nonce),
            "digest",
        )

    def _syncml_hmac(
        self,
        message: str,
        msg: HttpMessage,
        value: str,
        kinds: tuple[str, ...],
        nonce_key: tuple[str, str, str],
        direction: Direction,
        rec: syncml.SyncMLMessage,
    ) -> AuthResult:
        parsed = auth.parse_syncml_hmac(value)
        if isinstance(parsed, auth.AuthParseError):
            r = self._result(message, msg.frame, "syncml-hmac", None, None, direction)
            r.result, r.reason = "unverifiable", f"unreadable x-syncml-hmac: {parsed.reason}"
            return r
        r = self._result(message, msg.frame, "syncml-hmac", parsed.username, parsed.algorithm, direction)
        hdr_name = self._dm_identity(rec, direction)
        if parsed.username and hdr_name and parsed.username != hdr_name and direction == Direction.TO_SERVER:
            r.notes.append(f"username {parsed.username!r} differs from the SyncHdr LocName {hdr_name!r}")
        if (parsed.algorithm or "MD5").upper() != "MD5":
            r.result, r.reason = "unverifiable", f"unsupported HMAC algorithm {parsed.algorithm!r}"
            return r
        cands = self._dm_secrets(kinds, parsed.username, rec)
        # Without a secret to check (nor a wordlist) the verdict is "no-secret" whatever the body:
        # so it does not depend on whether the body was kept (a run split over worker processes
        # drops the bodies nothing needs).
        if (cands or self.wordlist is not None) and (not msg.complete or len(msg.body) < msg.body_length):
            r.result, r.reason = "unverifiable", "the capture does not hold the whole body"
            return r
        hint = self._nonce_hint(nonce_key)
        mac = _mac_bytes(parsed.mac)
        user = parsed.username
        if hint is not None and mac is not None and user is not None:
            self._remember(r, lambda: wl.SyncmlHmacTarget(message, user, hint, msg.body, mac))
        body = msg.body
        return self._check_dm(
            r,
            cands,
            nonce_key,
            parsed.mac,
            lambda sec, nonce: auth.syncml_hmac(sec.name, sec.password, nonce, body),
            "mac",
        )

    def _check_dm(
        self,
        r: AuthResult,
        cands: list[Secret],
        nonce_key: tuple[str, str, str],
        sent: str,
        compute: Callable[[Secret, bytes], bytes],
        what: str,
    ) -> AuthResult:
        """Each candidate secret with the nonce its identity was last handed: md5 Cred and HMAC alike."""
        if not cands:
            return r
        reasons: list[str] = []
        notes: list[str] = []
        for s in cands:
            tries = self._nonces_for(nonce_key, s)
            if not tries:
                reasons.append("nonce unknown")
                continue
            for nonce, note, stale in tries:
                how = auth.mac_matches(sent, compute(s, nonce))
                if how is not None:
                    self._matched(r, s)
                    r.notes.append(stale or note)
                    if stale is not None:
                        r.caveat = True  # right password, but the resync (§6.2) wanted the zero nonce
                    if how != "b64-raw":
                        r.notes.append(f"{what} encoded as {how}")
                    return r
            reasons.append("password mismatch")
            for _nonce, note, _stale in tries:
                if note not in notes:
                    notes.append(note)
        r.notes.extend(notes)
        r.result = "unverifiable" if all(x == "nonce unknown" for x in reasons) else "invalid"
        r.reason = "nonce unknown" if r.result == "unverifiable" else "password mismatch (or the wrong nonce)"
        return r

    # -- Package #0 and TR-111 -------------------------------------------------------------------------
    def _pkg0(
        self,
        message: str,
        frame: int,
        n: notification.Notification,
        server_ip: str | None = None,
        device_ip: str | None = None,
        time: float = 0.0,
    ) -> list[AuthResult]:
        r, resync = self._pkg0_digest(message, frame, n, server_ip, device_ip)
        # Every notification waits for its Package #1, so that the verifier links as DmSessions does.
        self.notified.add(resync, time, n.session_id, device_ip or "")
        return [r]

    def _pkg0_digest(
        self,
        message: str,
        frame: int,
        n: notification.Notification,
        server_ip: str | None,
        device_ip: str | None,
    ) -> tuple[AuthResult, _Resync | None]:
        r = self._result(message, frame, "pkg0-digest", n.server_id, "MD5", Direction.TO_CLIENT)
        cands = self.secrets.for_name(_DM_SERVER, n.server_id)
        # The server nonce: the secrets', else the last one the notified device handed this server in a
        # Chal, else the empty nonce (a fresh account); then the resynchronisation nonces.
        tried: list[tuple[bytes, str]] = []
        for s in cands:
            if s.nonce is not None:
                tried.append((s.nonce, "the server nonce from the secrets file"))
        if server_ip is not None and device_ip is not None:
            # The server signs with the nonce it holds for the device it notifies: the one that device
            # (by the address notified: behind a NAT, each device seen there, the latest first) gave it.
            for device in reversed(self.dm_at.get(device_ip, ())):
                seen = self.dm_nonces.get((server_ip, device, Direction.TO_CLIENT))
                if seen is not None:
                    tried.append((seen[0], f"the nonce the device gave the server in frame {seen[1]}"))
        tried.append((b"", "the empty server nonce"))
        self._remember(r, lambda: wl.Pkg0Target(message, n.server_id, tried[0][0], n.trigger, n.digest))
        if not cands:
            return r, None
        for s in cands:
            for nonce, how in tried:
                if auth.pkg0_digest(n.server_id_raw, s.password, nonce, n.trigger) == n.digest:
                    self._matched(r, s)
                    r.notes.append(f"verified with {how}")
                    return r, None
            for label, resync in auth.RESYNC_NONCES:
                if auth.pkg0_digest(n.server_id_raw, s.password, resync, n.trigger) == n.digest:
                    self._matched(r, s)
                    r.notes.append(f"valid only with the resync nonce {label}")
                    r.caveat = True
                    return r, _Resync(frame, label, resync)
        r.result = "invalid"
        r.reason = "password or server nonce mismatch (the resync nonces do not verify either)"
        return r, None

    def _tr111(self, dg: Datagram, cr: tr111.UdpConnectionRequest) -> AuthResult:
        r = self._result(dg.id, dg.frame, "tr111-signature", cr.un, "HMAC-SHA1", Direction.TO_CLIENT)
        if cr.sig is None or cr.un is None:
            r.result, r.reason = "unverifiable", "no sig or un in the request"
            return r
        if cr.timestamp_unit == "ms":
            r.notes.append("ts is in milliseconds (TR-111 wants seconds)")
        cands = self.secrets.for_name(_CR_KINDS, cr.un)
        for s in cands:
            for algorithm in ("sha1", "sha256"):
                expected = auth.tr111_signature(s.password, cr.signed_text, algorithm)
                if expected.lower() == cr.sig.strip().lower():
                    self._matched(r, s)
                    if algorithm != "sha1":
                        r.algorithm = "HMAC-SHA256"
                        r.notes.append("signed with HMAC-SHA256 (TR-069 Annex G specifies HMAC-SHA1)")
                    return r
        if cands:
            r.result, r.reason = "invalid", "password mismatch"
        sig = cr.sig
        self._remember(r, lambda: wl.Tr111Target(dg.id, cr.signed_text, sig))
        return r

    # -- wordlist audit ----------------------------------------------------------------------------------
    def _remember(self, r: AuthResult, make: Callable[[], wl.Target], accepted: bool = False) -> None:
        """Keep credentials for the wordlist audit: the first of each (scheme, identity), and the
        first the server accepted when that is another (the first may be a mistyped attempt);
        memory stays at two per identity."""
        if self.wordlist is None:
            return
        key = (r.scheme, r.identity)
        kept = self.targets.get(key)
        if kept is None:
            self.targets[key] = [(r, make(), accepted)]
        elif accepted and len(kept) < MAX_AUDIT_TARGETS and not any(a for _r, _t, a in kept):
            kept.append((r, make(), accepted))

    def done(self) -> None:
        if self.cracked is not None:  # an earlier pass audited: its finds were judged as secrets
            self._report_cracked(self.cracked.found)
            return
        if self.wordlist is None or not self.targets:
            return
        items = [item for kept in self.targets.values() for item in kept]
        targets = [dataclasses.replace(t, key=str(i)) for i, (_r, t, _a) in enumerate(items)]
        res = wl.audit(targets, self.wordlist, jobs=self.jobs)
        found: dict[tuple[str, str], Crack] = {}
        for k, (password, note) in sorted(res.found.items(), key=lambda kv: int(kv[0])):
            r = items[int(k)][0]
            if r.identity is not None and (r.scheme, r.identity) not in found:
                found[(r.scheme, r.identity)] = Crack(r.scheme, r.identity, secret_kind(r), password, note,
                                                      r.frame, r.capture)
        self.found = list(found.values())
        self.audit_summary = (len(self.wordlist), len(targets), res.checks, res.seconds, len(self.found))
        self._report_cracked(self.found)

    def _report_cracked(self, found: list[Crack]) -> None:
        rule = RULES["verify.password-in-wordlist"]
        for c in found:
            shown = f": {c.password!r}" if self.show_secrets else " (--show-secrets prints it)"
            extra = f"; {c.note}" if c.note else ""
            self.outbox.finding(rule.finding(
                "verify.password-in-wordlist",
                f"{c.identity!r} uses a password from the wordlist ({c.scheme}){shown}{extra}",
                [c.frame], None, c.capture,
            ))

def _accepted(resp: HttpMessage | None) -> bool:
    """The server let the request through (no 401/403/407): its credential is likelier right."""
    return resp is not None and resp.status is not None and resp.status not in (401, 403, 407)


def _digest_target(key: str, creds: auth.DigestCredentials, method: str, uri: str, body: bytes) -> wl.Target:
    body_hash = None
    if creds.qop == "auth-int":
        ctor = auth.DIGEST_ALGORITHMS[creds.algorithm or "MD5"][0]
        body_hash = ctor(body).hexdigest()
    return wl.DigestTarget(
        key=key,
        algorithm=creds.algorithm or "MD5",
        username=creds.identity or "",
        realm=creds.realm or "",
        method=method,
        uri=creds.uri or uri,  # the client hashed the uri field it sent
        nonce=creds.nonce or "",
        nc=creds.nc,
        cnonce=creds.cnonce,
        qop=creds.qop,
        response=creds.response or "",
        body_hash=body_hash,
    )


def _mac_bytes(text: str | None) -> bytes | None:
    """The 16 raw digest bytes of a base64 Cred/mac value (of raw bytes or of 32 hex digits)."""
    if text is None:
        return None
    t = text.strip()
    try:
        raw = base64.b64decode(t + "=" * (-len(t) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) == 16:
        return raw
    if len(raw) == 32:
        try:
            return bytes.fromhex(raw.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            return None
    return None
