"""The rules a device-management connection's TLS must follow, checked on its :class:`TlsFacts`.

TR-069 Amd 6 §3.3 asks a CPE for TLS 1.2 or later, SNI with the ACS URL's host, and RFC 7525's
recommendations (no compression, no renegotiation); a server certificate must be valid at the
time and name the host it is reached by (RFC 5280, RFC 6125).  The session builders judge the
connections of their sessions (:func:`check` with the protocol and the host the device posted
to), so the findings belong to the session; :class:`TlsChecks` judges the rest (connections no
session claimed, such as those that stayed encrypted) on what TLS alone shows.

**Add a TLS rule**: a row in ``RULES`` and its test in :func:`check`.

:class:`TlsKeeper` remembers what TLS each connection ran over, for the UI and for the session
filter's ``tls:`` field (:func:`session_tls`).
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Iterable
from typing import Final

from decoders.tls import TlsInfo
from dmsniff.model import ConnectionEnd, Finding, Rule, TlsFacts, Transaction
from dmsniff.pipeline.addons import Addon, Emitter
from dmsniff.sessions.filter import SessionTls

#: code -> its severity, reference and meaning: one row per rule (docs/rules.md is made from it)
RULES: Final[dict[str, Rule]] = {
    "tls.old-version": Rule(
        "warning",
        "TR-069 Amd 6 §3.3 (TLS 1.2 or later); RFC 8996 (TLS 1.0 and 1.1 deprecated)",
        "A connection that carried a CWMP or OMA DM session negotiated SSL 3.0, TLS 1.0 or TLS 1.1.",
    ),
    "tls.sni-missing": Rule(
        "warning",
        "TR-069 Amd 6 §3.3 (SNI with the host of the ACS URL); RFC 6066 §3",
        "The client sent no SNI although it posted to a host name (not an IP address).",
    ),
    "tls.sni-mismatch": Rule(
        "warning",
        "TR-069 Amd 6 §3.3 (SNI with the host of the ACS URL)",
        "The SNI differs from the host the requests are addressed to (Host header).",
    ),
    "tls.certificate-expired": Rule(
        "error",
        "RFC 5280 §4.1.2.5 (certificate validity period)",
        "The server's certificate had expired at the time of the capture.",
    ),
    "tls.certificate-not-yet-valid": Rule(
        "error",
        "RFC 5280 §4.1.2.5 (certificate validity period)",
        "The server's certificate was not yet valid at the time of the capture.",
    ),
    "tls.certificate-name-mismatch": Rule(
        "warning",
        "RFC 6125 §6 (the certificate names the server reached)",
        "The server's certificate does not name the host the client reached (SNI or Host).",
    ),
    "tls.fatal-alert": Rule(
        "error",
        "RFC 8446 §6.2, RFC 5246 §7.2.2 (error alerts end the connection)",
        "A fatal TLS alert ended the connection (which side sent it and its name are given).",
    ),
    "tls.renegotiation": Rule(
        "warning",
        "RFC 7525 §3.5 (renegotiation), applied by TR-069 Amd 6 §3.3",
        "The connection was renegotiated after its first handshake.",
    ),
    "tls.compression": Rule(
        "error",
        "RFC 7525 §3.3 (TLS compression must be off), applied by TR-069 Amd 6 §3.3",
        "The connection negotiated TLS compression (CRIME).",
    ),
}

_PARTY: Final = {"cwmp": "CPE", "omadm": "DM client"}


def url_host(host_header: str | None) -> str | None:
    """The host part of a Host header value (no port, no IPv6 brackets), lower-case."""
    if not host_header:
        return None
    host = host_header.strip()
    if host.startswith("["):
        return host[1:host.find("]")].lower() if "]" in host else None
    return host.rsplit(":", 1)[0].lower() if host.count(":") == 1 else host.lower()


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _dns_match(pattern: str, name: str) -> bool:
    """RFC 6125 §6.4: case-insensitive; a wildcard only as the whole left-most label."""
    pattern, name = pattern.lower().rstrip("."), name.lower().rstrip(".")
    if pattern.startswith("*."):
        head, _, rest = name.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == name


def names_host(san: tuple[str, ...], subject: str, host: str) -> bool:
    """Whether a certificate (its SAN, or its CN when it has no SAN) names ``host``."""
    if _is_ip(host):
        return any(s == f"IP:{ipaddress.ip_address(host)}" for s in san)
    dns = [s[4:] for s in san if s.startswith("DNS:")]
    if not san:
        dns = [part[3:] for part in subject.split(",") if part.startswith("CN=")]
    return any(_dns_match(p, host) for p in dns)


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def check(t: TlsFacts, protocol: str | None, host: str | None) -> list[tuple[str, str, list[int]]]:
    """(code, message, frames) for every rule ``t`` breaks.  ``protocol`` ("cwmp", "omadm" or None)
    and ``host`` (the host of the URL the client posted to) enable the rules that need them."""
    out: list[tuple[str, str, list[int]]] = []
    s = t.summary
    info = s.info
    conn = t.connection
    hello = t.frames.get("ClientHello", [])[:1]
    party = _PARTY.get(protocol or "", "client")
    if protocol is not None and info.version is not None and info.version < 0x0303:
        out.append(("tls.old-version", f"{party} {t.client} used {info.version_name} on {conn}: TLS 1.2 or "
                    "later is expected", t.frames.get("ServerHello", hello)[:1]))
    if protocol is not None and host is not None and s.client_hello is not None and not _is_ip(host):
        if info.sni is None:
            out.append(("tls.sni-missing", f"{party} {t.client} sent no SNI on {conn} (it posted to "
                        f"'{host}')", hello))
        elif info.sni.lower().rstrip(".") != host.rstrip("."):
            out.append(("tls.sni-mismatch", f"SNI '{info.sni}' on {conn} is not the host the {party} posted "
                        f"to ('{host}')", hello))
    cert = s.certificate
    if cert is not None:
        frames = t.frames.get("Certificate", hello)[:1]
        at = t.first_time
        if at > cert.not_after_ts:
            out.append(("tls.certificate-expired", f"the server certificate on {conn} ({cert.subject}) "
                        f"expired {cert.not_after}, before the connection ({_when(at)})", frames))
        elif at < cert.not_before_ts:
            out.append(("tls.certificate-not-yet-valid", f"the server certificate on {conn} ({cert.subject}) "
                        f"is valid only from {cert.not_before}; the connection was at {_when(at)}", frames))
        name = info.sni or host
        if name and not names_host(cert.san, cert.subject, name):
            named = ", ".join(cert.san) or cert.subject
            out.append(("tls.certificate-name-mismatch", f"the server certificate on {conn} names {named}, "
                        f"not '{name}'", frames))
    for frame, alert in zip(t.alert_frames, s.alerts, strict=False):
        if alert.fatal:
            side = "client" if alert.direction == t.client_direction else "server"
            out.append(("tls.fatal-alert", f"fatal alert {alert.name} from the {side} on {conn}", [frame]))
    if s.renegotiations:
        again = t.frames.get("ClientHello", [])[1:]
        out.append(("tls.renegotiation", f"{conn} renegotiated {s.renegotiations} time(s)", again))
    if s.compression:
        out.append(("tls.compression", f"{conn} negotiated TLS compression (method {s.compression})",
                    t.frames.get("ServerHello", [])[:1]))
    return out


def findings(t: TlsFacts, protocol: str | None, host: str | None, session: str | None) -> list[Finding]:
    """:func:`check` as findings; marks ``t`` judged."""
    t.checked = True
    out = []
    for code, message, frames in check(t, protocol, host):
        out.append(RULES[code].finding(code, message, frames, session, t.capture))
    return out


def request_host(tx: Transaction) -> str | None:
    """The host of the URL a request was sent to (its Host header)."""
    return url_host(tx.request.header("Host")) if tx.request is not None else None


class TlsChecks(Emitter):
    """Judges the TLS connections no session builder judged, on what TLS alone shows.

    Goes after the session builders in the addon list: their ``connection_end`` hooks take
    the connections of their sessions first.
    """

    def connection_end(self, end: ConnectionEnd) -> None:
        t = end.tls
        if t is None or t.checked:
            return
        for f in findings(t, None, None, None):
            self.outbox.finding(f)


def tls_state(facts: TlsFacts) -> str:
    """``decrypted``, ``no-data`` (nothing was sent to decrypt) or ``encrypted`` (some data stayed so)."""
    summary = facts.summary
    if summary.decrypted:
        return "decrypted"
    if summary.reason is None or summary.reason.code == "no-application-data":
        return "no-data"
    return "encrypted"


class TlsKeeper(Addon):
    """What TLS each connection ran over: the newest :class:`TlsInfo` of the exchanges decrypted
    from it, and its :class:`TlsFacts` once it has ended (every TLS connection, decrypted or not).

    The UI's loader and ``report -Y`` put it *first* among the addons: a session builder hands a session on
    from inside its own hook for the record that ended it, and the app draws it at once (the
    worker waits for it), so what this keeps must already include that record.  Written by
    the loader thread, read by the UI thread: the dicts only gain entries, the counters only
    grow, and ``facts_list`` is appended to under a lock.
    """

    def __init__(self) -> None:
        self.info: dict[str, TlsInfo] = {}  # connection id -> TLS of its latest decrypted exchange
        self.facts: dict[str, TlsFacts] = {}  # connection id -> facts, once it ended
        self.facts_list: list[TlsFacts] = []  # the same, in order of ending
        self.counts: dict[str, int] = {"decrypted": 0, "no-data": 0, "encrypted": 0}
        self._lock = threading.Lock()

    def transaction(self, tx: Transaction) -> None:
        if tx.tls is not None:
            self.info[tx.connection] = tx.tls

    def connection_end(self, end: ConnectionEnd) -> None:
        facts = end.tls
        if facts is None:
            return
        with self._lock:
            self.facts[end.connection] = facts
            self.facts_list.append(facts)
            self.counts[tls_state(facts)] += 1

    def all_facts(self) -> list[TlsFacts]:
        """Every ended TLS connection so far, in order of ending (a copy)."""
        with self._lock:
            return list(self.facts_list)

    def connections(self, ids: Iterable[str]) -> list[tuple[str, TlsInfo | None, TlsFacts | None]]:
        """Those of the connections ``ids`` that ran over TLS, with what is known of each."""
        out: list[tuple[str, TlsInfo | None, TlsFacts | None]] = []
        for conn in ids:
            info, facts = self.info.get(conn), self.facts.get(conn)
            if info is not None or facts is not None:
                out.append((conn, info, facts))
        return out

    def session_tls(self, ids: Iterable[str]) -> SessionTls | None:
        """What the session filter's ``tls:`` field knows of a session that ran over the connections
        ``ids``; None when none of them was TLS."""
        conns = self.connections(ids)
        if not conns:
            return None
        infos = [facts.summary.info if facts is not None else info for _c, info, facts in conns]
        return SessionTls(
            versions=frozenset(i.version_name for i in infos if i is not None and i.version is not None),
            encrypted=any(f is not None and tls_state(f) == "encrypted" for _c, _i, f in conns),
            resumed=any(i is not None and i.resumed for i in infos),
        )
