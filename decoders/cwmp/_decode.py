"""decode(): SOAP/CWMP body bytes to a :class:`CwmpMessage`, never raising.

Elements are matched by namespace URI and local name, never by prefix.  RPC arguments are
unqualified in the schemas but some stacks qualify them, so below the RPC element only
local names are compared.
"""

from __future__ import annotations

from typing import Final

from decoders._errors import INTERNAL_ERROR_LIMIT, internal_error

from . import codes
from ._budget import MAX_MARKUP, cut_note, markup_cut
from ._records import CwmpHeader, CwmpMessage, FaultRecord, ParameterFault, Rpc
from ._rpcs import GENERIC_RPCS, RPC_PARSERS, generic_rpc
from ._xml import (
    Ctx,
    Element,
    child,
    child_text,
    children,
    local,
    namespace,
    opt_text,
    parse_xml,
    strip_prefix,
    text_of,
    to_bool,
    to_int,
)

__all__ = ["CWMP_NAMESPACES", "SOAP_ENC", "SOAP_ENV", "decode"]

SOAP_ENV: Final = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_ENC: Final = "http://schemas.xmlsoap.org/soap/encoding/"

#: cwmp namespace -> protocol version it names (cwmp-1-2 is also used by the 1.3/1.4 XSDs).
CWMP_NAMESPACES: Final[dict[str, str]] = {
    f"urn:dslforum-org:cwmp-1-{minor}": f"1.{minor}" for minor in range(5)
}

_HEADER_FIELDS: Final = {
    "id": "id",
    "holdrequests": "hold_requests",
    "nomorerequests": "no_more_requests",
    "sessiontimeout": "session_timeout",
    "supportedcwmpversions": "supported_cwmp_versions",
    "usecwmpversion": "use_cwmp_version",
}


def decode(body: bytes, content_type: str | None = None) -> CwmpMessage:
    """Decode one CWMP HTTP body.  Never raises: internal failures become kind "unknown"."""
    try:
        return _decode(body, content_type)
    except Exception as exc:  # a decoder bug must not take the analyser down
        return CwmpMessage(kind="unknown", problems=(f"error: {internal_error(exc)}"[:INTERNAL_ERROR_LIMIT],))


def _decode(body: bytes, content_type: str | None) -> CwmpMessage:
    if not body.strip():
        return CwmpMessage(kind="empty")
    ctx = Ctx()
    cut = markup_cut(body)
    if cut is not None:  # its tree would not fit in memory: decode what fits
        ctx.error(cut_note(MAX_MARKUP, cut, len(body)))
        body = body[:cut]
    root = parse_xml(body, content_type, ctx)
    if root is None:
        return CwmpMessage(kind="unknown", problems=tuple(ctx.problems))
    return decode_envelope(root, ctx)


def decode_envelope(root: Element, ctx: Ctx) -> CwmpMessage:
    """The message of a parsed SOAP Envelope (kind "unknown" when ``root`` is not one); the
    problems in ``ctx`` come first in its problems."""
    if local(root.tag) != "Envelope":
        ctx.error(f"root element is <{local(root.tag) or '?'}>, not a SOAP Envelope")
        return CwmpMessage(kind="unknown", problems=tuple(ctx.problems))
    if namespace(root.tag) != SOAP_ENV:
        ctx.warning(f"Envelope namespace is {namespace(root.tag)!r}, not SOAP 1.1")

    header_el = child(root, "Header")
    body_el = child(root, "Body")
    header = _header(header_el, ctx) if header_el is not None else CwmpHeader()
    version_ns = _header_namespace(header_el)

    if body_el is None:
        ctx.error("SOAP Envelope without Body")
        return _message("unknown", version_ns, header, None, None, ctx)
    payload = list(children(body_el))
    if not payload:
        ctx.info("SOAP Envelope with an empty Body")
        return _message("empty", version_ns, header, None, None, ctx)
    if len(payload) > 1:
        names = ", ".join(local(p.tag) for p in payload[1:4])
        ctx.warning(f"Body has {len(payload)} elements; only the first is decoded (also: {names})")
    el = payload[0]
    name = local(el.tag)
    ns = namespace(el.tag)

    if name == "Fault" and ns in (SOAP_ENV, None):
        fault, fault_ns = _fault(el, ctx)
        return _message("Fault", fault_ns or version_ns, header, None, fault, ctx)

    if ns not in CWMP_NAMESPACES:
        ctx.warning(f"RPC element <{name}> is in namespace {ns!r}, not a cwmp namespace")
        ns = version_ns
    rpc: Rpc
    parser = RPC_PARSERS.get(name)
    if parser is not None:
        rpc = parser(el, ctx)
    else:
        if name not in GENERIC_RPCS:
            ctx.warning(f"unknown RPC {name}")
        rpc = generic_rpc(el, ctx)
    return _message(name, ns, header, rpc, None, ctx)


def _message(
    kind: str, ns: str | None, header: CwmpHeader, rpc: Rpc | None, fault: FaultRecord | None, ctx: Ctx
) -> CwmpMessage:
    return CwmpMessage(
        kind=kind,
        cwmp_version=CWMP_NAMESPACES.get(ns) if ns is not None else None,
        namespace=ns,
        header=header,
        rpc=rpc,
        fault=fault,
        problems=tuple(ctx.problems),
    )


def _header_namespace(header_el: Element | None) -> str | None:
    if header_el is None:
        return None
    for c in children(header_el):
        ns = namespace(c.tag)
        if ns in CWMP_NAMESPACES:
            return ns
    return None


def _header(el: Element, ctx: Ctx) -> CwmpHeader:
    values: dict[str, object] = {}
    other: list[tuple[str, str]] = []
    for c in children(el):
        name = local(c.tag)
        field = _HEADER_FIELDS.get(name.lower())
        if field is None or field in values:
            other.append((name, text_of(c)))
            continue
        if name not in (
            "ID",
            "HoldRequests",
            "NoMoreRequests",
            "SessionTimeout",
            "SupportedCWMPVersions",
            "UseCWMPVersion",
        ):
            ctx.warning(f"header element <{name}> matched case-insensitively")
        raw = text_of(c)
        if field in ("hold_requests", "no_more_requests"):
            values[field] = to_bool(raw, name, ctx)
        elif field == "session_timeout":
            values[field] = to_int(raw, name, ctx)
        else:
            values[field] = raw.strip() if field != "id" else raw
    return CwmpHeader(
        id=_opt_str(values.get("id")),
        hold_requests=_opt_bool(values.get("hold_requests")),
        no_more_requests=_opt_bool(values.get("no_more_requests")),
        session_timeout=_opt_int(values.get("session_timeout")),
        supported_cwmp_versions=_opt_str(values.get("supported_cwmp_versions")),
        use_cwmp_version=_opt_str(values.get("use_cwmp_version")),
        other=tuple(other),
    )


def _opt_str(v: object) -> str | None:
    return v if isinstance(v, str) else None


def _opt_bool(v: object) -> bool | None:
    return v if isinstance(v, bool) else None


def _opt_int(v: object) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _fault(el: Element, ctx: Ctx) -> tuple[FaultRecord, str | None]:
    faultcode = strip_prefix(opt_text(el, "faultcode")) or ""
    faultstring = child_text(el, "faultstring").strip()
    detail = child(el, "detail")
    cwmp_fault = None
    if detail is not None:
        cwmp_fault = next((c for c in children(detail) if local(c.tag) == "Fault"), None)
    if cwmp_fault is None:
        ctx.warning("SOAP Fault without detail/cwmp:Fault")
        return FaultRecord(faultcode, faultstring, None, "", codes.fault_meaning(None)), None
    code = to_int(opt_text(cwmp_fault, "FaultCode"), "FaultCode", ctx)
    pfaults = []
    for s in children(cwmp_fault):
        if local(s.tag) != "SetParameterValuesFault":
            continue
        pcode = to_int(opt_text(s, "FaultCode"), "SetParameterValuesFault/FaultCode", ctx)
        pfaults.append(
            ParameterFault(
                child_text(s, "ParameterName"),
                pcode,
                child_text(s, "FaultString"),
                codes.fault_meaning(pcode),
            )
        )
    record = FaultRecord(
        faultcode=faultcode,
        faultstring=faultstring,
        code=code,
        string=child_text(cwmp_fault, "FaultString"),
        meaning=codes.fault_meaning(code),
        parameter_faults=tuple(pfaults),
    )
    ns = namespace(cwmp_fault.tag)
    return record, ns if ns in CWMP_NAMESPACES else None
