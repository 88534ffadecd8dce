"""The parts of WSP (WAP-230-WSP) that a connectionless push carrying Package #0 needs.

A connectionless WSP push travels in one UDP datagram to WDP port 2948 (2949 when secured
with WTLS)::

    +-----+------+-------------+--------------+-----------------------+------------+
    | TID | Type | HeadersLen  | Content-Type | Headers               | Data       |
    | 1 B | 0x06 | uintvar     | (see below)  | HeadersLen bytes in   | the rest   |
    |     |      |             |              | all, Content-Type too |            |
    +-----+------+-------------+--------------+-----------------------+------------+

Encodings (WAP-230 section 8.4): a *uintvar* is big-endian 7-bit groups, the high bit set on
every octet but the last.  Every header value starts with an octet that says its shape:
0..30 a Value-length of that many data octets, 31 a Length-quote followed by a uintvar
length, 32..127 a NUL-terminated Text-string, 128..255 a Short-integer (value = octet & 0x7F).
A Content-Type is a Short-integer well-known code (0x44 -> 0xC4 on the wire), a text media
type, or Value-length + media (Short-integer, Long-integer or text) + parameters.  Header
names are Short-integers from a table (X-Wap-Application-Id is 0x2F -> 0xAF) or token text;
octet 127 + page and octets 1..31 shift the header code page.

The tables are from the WINA/OMNA registries as carried by Wireshark (packet-wsp.c) and
Android (WspTypeDecoder.java, WapPushOverSms.java): content types 0x00..0x54 plus the
registered 0x0201.. and 0x0300.. blocks, header field names of encoding versions 1.1..1.4,
typed parameters and the push application ids.

Every reader takes ``(data, pos, end)`` and returns ``(value, new_pos)``; reading past
``end`` or a broken encoding raises :class:`WspFormatError`, which the decoder turns into a
problem.  Nothing here raises anything else on any input.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeAlias

__all__ = [
    "APPLICATION_IDS",
    "CHARSETS",
    "CONTENT_TYPES",
    "HEADER_NAMES",
    "PARAMETER_NAMES",
    "PDU_TYPES",
    "PUSH",
    "X_WAP_APPLICATION_ID",
    "ContentType",
    "Headers",
    "WspFormatError",
    "content_type_name",
    "read_content_type",
    "read_headers",
    "read_uintvar",
    "render_content_type",
]

PUSH: Final = 0x06
X_WAP_APPLICATION_ID: Final = 0x2F

#: WSP PDU types (WAP-230 table 34), for naming what arrived instead of a push.
PDU_TYPES: Final[dict[int, str]] = {
    0x01: "Connect",
    0x02: "ConnectReply",
    0x03: "Redirect",
    0x04: "Reply",
    0x05: "Disconnect",
    0x06: "Push",
    0x07: "ConfirmedPush",
    0x08: "Suspend",
    0x09: "Resume",
    0x40: "Get",
    0x41: "Options",
    0x42: "Head",
    0x43: "Delete",
    0x44: "Trace",
    0x60: "Post",
    0x61: "Put",
}

#: Well-known content types (WINA wsp-content-type registry).
CONTENT_TYPES: Final[dict[int, str]] = {
    0x00: "*/*",
    0x01: "text/*",
    0x02: "text/html",
    0x03: "text/plain",
    0x04: "text/x-hdml",
    0x05: "text/x-ttml",
    0x06: "text/x-vCalendar",
    0x07: "text/x-vCard",
    0x08: "text/vnd.wap.wml",
    0x09: "text/vnd.wap.wmlscript",
    0x0A: "text/vnd.wap.wta-event",
    0x0B: "multipart/*",
    0x0C: "multipart/mixed",
    0x0D: "multipart/form-data",
    0x0E: "multipart/byterantes",  # sic: the registry's spelling
    0x0F: "multipart/alternative",
    0x10: "application/*",
    0x11: "application/java-vm",
    0x12: "application/x-www-form-urlencoded",
    0x13: "application/x-hdmlc",
    0x14: "application/vnd.wap.wmlc",
    0x15: "application/vnd.wap.wmlscriptc",
    0x16: "application/vnd.wap.wta-eventc",
    0x17: "application/vnd.wap.uaprof",
    0x18: "application/vnd.wap.wtls-ca-certificate",
    0x19: "application/vnd.wap.wtls-user-certificate",
    0x1A: "application/x-x509-ca-cert",
    0x1B: "application/x-x509-user-cert",
    0x1C: "image/*",
    0x1D: "image/gif",
    0x1E: "image/jpeg",
    0x1F: "image/tiff",
    0x20: "image/png",
    0x21: "image/vnd.wap.wbmp",
    0x22: "application/vnd.wap.multipart.*",
    0x23: "application/vnd.wap.multipart.mixed",
    0x24: "application/vnd.wap.multipart.form-data",
    0x25: "application/vnd.wap.multipart.byteranges",
    0x26: "application/vnd.wap.multipart.alternative",
    0x27: "application/xml",
    0x28: "text/xml",
    0x29: "application/vnd.wap.wbxml",
    0x2A: "application/x-x968-cross-cert",
    0x2B: "application/x-x968-ca-cert",
    0x2C: "application/x-x968-user-cert",
    0x2D: "text/vnd.wap.si",
    0x2E: "application/vnd.wap.sic",
    0x2F: "text/vnd.wap.sl",
    0x30: "application/vnd.wap.slc",
    0x31: "text/vnd.wap.co",
    0x32: "application/vnd.wap.coc",
    0x33: "application/vnd.wap.multipart.related",
    0x34: "application/vnd.wap.sia",
    0x35: "text/vnd.wap.connectivity-xml",
    0x36: "application/vnd.wap.connectivity-wbxml",
    0x37: "application/pkcs7-mime",
    0x38: "application/vnd.wap.hashed-certificate",
    0x39: "application/vnd.wap.signed-certificate",
    0x3A: "application/vnd.wap.cert-response",
    0x3B: "application/xhtml+xml",
    0x3C: "application/wml+xml",
    0x3D: "text/css",
    0x3E: "application/vnd.wap.mms-message",
    0x3F: "application/vnd.wap.rollover-certificate",
    0x40: "application/vnd.wap.locc+wbxml",
    0x41: "application/vnd.wap.loc+xml",
    0x42: "application/vnd.syncml.dm+wbxml",
    0x43: "application/vnd.syncml.dm+xml",
    0x44: "application/vnd.syncml.notification",
    0x45: "application/vnd.wap.xhtml+xml",
    0x46: "application/vnd.wv.csp.cir",
    0x47: "application/vnd.oma.dd+xml",
    0x48: "application/vnd.oma.drm.message",
    0x49: "application/vnd.oma.drm.content",
    0x4A: "application/vnd.oma.drm.rights+xml",
    0x4B: "application/vnd.oma.drm.rights+wbxml",
    0x4C: "application/vnd.wv.csp+xml",
    0x4D: "application/vnd.wv.csp+wbxml",
    0x4E: "application/vnd.syncml.ds.notification",
    0x4F: "audio/*",
    0x50: "video/*",
    0x51: "application/vnd.oma.dd2+xml",
    0x52: "application/mikey",
    0x53: "application/vnd.oma.dcd",
    0x54: "application/vnd.oma.dcdc",
    # Registered codes, sent as Long-integers (Value-length 2 + two octets).
    0x0201: "application/vnd.uplanet.cacheop-wbxml",
    0x0202: "application/vnd.uplanet.signal",
    0x0203: "application/vnd.uplanet.alert-wbxml",
    0x0204: "application/vnd.uplanet.list-wbxml",
    0x0205: "application/vnd.uplanet.listcmd-wbxml",
    0x0206: "application/vnd.uplanet.channel-wbxml",
    0x0207: "application/vnd.uplanet.provisioning-status-uri",
    0x0208: "x-wap.multipart/vnd.uplanet.header-set",
    0x0209: "application/vnd.uplanet.bearer-choice-wbxml",
    0x020A: "application/vnd.phonecom.mmc-wbxml",
    0x020B: "application/vnd.nokia.syncset+wbxml",
    0x020C: "image/x-up-wpng",
    0x0300: "application/iota.mmc-wbxml",
    0x0301: "application/iota.mmc-xml",
    0x0302: "application/vnd.syncml+xml",
    0x0303: "application/vnd.syncml+wbxml",
    0x0304: "text/vnd.wap.emn+xml",
    0x0305: "text/calendar",
    0x0306: "application/vnd.omads-email+xml",
    0x0307: "application/vnd.omads-file+xml",
    0x0308: "application/vnd.omads-folder+xml",
    0x0309: "text/directory;profile=vCard",
    0x030A: "application/vnd.wap.emn+wbxml",
}

#: Well-known header field names, code page 1 (WAP-230 table 39, encoding versions 1.1..1.4).
#: Codes re-assigned by later versions carry the version, as Wireshark names them.
HEADER_NAMES: Final[dict[int, str]] = {
    0x00: "Accept",
    0x01: "Accept-Charset",
    0x02: "Accept-Encoding",
    0x03: "Accept-Language",
    0x04: "Accept-Ranges",
    0x05: "Age",
    0x06: "Allow",
    0x07: "Authorization",
    0x08: "Cache-Control",
    0x09: "Connection",
    0x0A: "Content-Base",
    0x0B: "Content-Encoding",
    0x0C: "Content-Language",
    0x0D: "Content-Length",
    0x0E: "Content-Location",
    0x0F: "Content-MD5",
    0x10: "Content-Range",
    0x11: "Content-Type",
    0x12: "Date",
    0x13: "Etag",
    0x14: "Expires",
    0x15: "From",
    0x16: "Host",
    0x17: "If-Modified-Since",
    0x18: "If-Match",
    0x19: "If-None-Match",
    0x1A: "If-Range",
    0x1B: "If-Unmodified-Since",
    0x1C: "Location",
    0x1D: "Last-Modified",
    0x1E: "Max-Forwards",
    0x1F: "Pragma",
    0x20: "Proxy-Authenticate",
    0x21: "Proxy-Authorization",
    0x22: "Public",
    0x23: "Range",
    0x24: "Referer",
    0x25: "Retry-After",
    0x26: "Server",
    0x27: "Transfer-Encoding",
    0x28: "Upgrade",
    0x29: "User-Agent",
    0x2A: "Vary",
    0x2B: "Via",
    0x2C: "Warning",
    0x2D: "WWW-Authenticate",
    0x2E: "Content-Disposition",
    0x2F: "X-Wap-Application-Id",
    0x30: "X-Wap-Content-URI",
    0x31: "X-Wap-Initiator-URI",
    0x32: "Accept-Application",
    0x33: "Bearer-Indication",
    0x34: "Push-Flag",
    0x35: "Profile",
    0x36: "Profile-Diff",
    0x37: "Profile-Warning",
    0x38: "Expect",
    0x39: "TE",
    0x3A: "Trailer",
    0x3B: "Accept-Charset",  # 1.3
    0x3C: "Accept-Encoding",  # 1.3
    0x3D: "Cache-Control",  # 1.3
    0x3E: "Content-Range",  # 1.3
    0x3F: "X-Wap-Tod",
    0x40: "Content-ID",
    0x41: "Set-Cookie",
    0x42: "Cookie",
    0x43: "Encoding-Version",
    0x44: "Profile-Warning",  # 1.4
    0x45: "Content-Disposition",  # 1.4
    0x46: "X-WAP-Security",
    0x47: "Cache-Control",  # 1.4
}

#: Well-known parameter tokens (WAP-230 table 38).
PARAMETER_NAMES: Final[dict[int, str]] = {
    0x00: "Q",
    0x01: "Charset",
    0x02: "Level",
    0x03: "Type",
    0x05: "Name",
    0x06: "Filename",
    0x07: "Differences",
    0x08: "Padding",
    0x09: "Type",
    0x0A: "Start",
    0x0B: "Start-info",
    0x0C: "Comment",
    0x0D: "Domain",
    0x0E: "Max-Age",
    0x0F: "Path",
    0x10: "Secure",
    0x11: "SEC",
    0x12: "MAC",
    0x13: "Creation-date",
    0x14: "Modification-date",
    0x15: "Read-date",
    0x16: "Size",
    0x17: "Name",
    0x18: "Filename",
    0x19: "Start",
    0x1A: "Start-info",
    0x1B: "Comment",
    0x1C: "Domain",
    0x1D: "Path",
}

#: IANA MIBenum -> charset name, the few a push carries.
CHARSETS: Final[dict[int, str]] = {
    3: "us-ascii",
    4: "iso-8859-1",
    106: "utf-8",
    1000: "iso-10646-ucs-2",
    1015: "utf-16",
}

#: Push application ids (OMNA registry); X-Wap-Application-Id carries the code.
APPLICATION_IDS: Final[dict[int, str]] = {
    0x00: "x-wap-application:*",
    0x01: "x-wap-application:push.sia",
    0x02: "x-wap-application:wml.ua",
    0x03: "x-wap-application:wta.ua",
    0x04: "x-wap-application:mms.ua",
    0x05: "x-wap-application:push.syncml",
    0x06: "x-wap-application:loc.ua",
    0x07: "x-wap-application:syncml.dm",
    0x08: "x-wap-application:drm.ua",
    0x09: "x-wap-application:emn.ua",
    0x0A: "x-wap-application:wv.ua",
    0x10: "x-oma-application:ulp.ua",
    0x11: "x-oma-application:dlota.ua",
    0x12: "x-oma-application:java-ams",
    0x13: "x-oma-application:bcast.ua",
    0x14: "x-oma-application:dpe.ua",
    0x8000: "x-wap-microsoft:localcontent.ua",
    0x8001: "x-wap-microsoft:IMclient.ua",
    0x8002: "x-wap-docomo:imode.mail.ua",
    0x8003: "x-wap-docomo:imode.mr.ua",
    0x8004: "x-wap-docomo:imode.mf.ua",
    0x8005: "x-motorola:location.ua",
    0x8006: "x-motorola:now.ua",
    0x8007: "x-motorola:otaprov.ua",
    0x8008: "x-motorola:browser.ua",
    0x8009: "x-motorola:splash.ua",
    0x800B: "x-wap-nai:mvsw.command",
    0x8010: "x-wap-openwave:iota.ua",
    0x9000: "x-wap-docomo:imode.mail2.ua",
    0x9001: "x-oma-nec:otaprov.ua",
    0x9002: "x-oma-nokia:call.ua",
    0x9003: "x-oma-coremobility:sqa.ua",
}

#: SEC parameter values of a provisioning push (OMA ProvCont; also used by DM bootstrap).
_SEC_NAMES: Final[dict[int, str]] = {0: "NETWPIN", 1: "USERPIN", 2: "USERNETWPIN", 3: "USERPINMAC"}

_UINTVAR_MAX_OCTETS: Final = 5  # 35 bits of groups; values above 32 bits are refused
_SHORT_LENGTH_MAX: Final = 30
_LENGTH_QUOTE: Final = 31
_TEXT_QUOTE: Final = 127  # precedes a Text-string whose first character is >= 128
_SHIFT_DELIMITER: Final = 127
_LONG_INTEGER_MAX: Final = 8  # octets we turn into a number; longer ones stay hex

#: One generic field value: a Short-integer (int), a Text-string (str) or Value-length data (bytes).
Value: TypeAlias = int | str | bytes


class WspFormatError(ValueError):
    """The bytes break the WSP encoding rules; the message says where and how."""


@dataclass(frozen=True, slots=True)
class ContentType:
    media: str  #: e.g. "application/vnd.syncml.notification"
    code: int | None  #: the well-known code when it was sent as one
    parameters: tuple[tuple[str, str], ...] = ()


# ---------------------------------------------------------------- primitives


def _need(data: bytes, pos: int, count: int, end: int, what: str) -> None:
    if pos + count > min(end, len(data)):
        raise WspFormatError(f"{what} at offset {pos} runs past the end")


def read_uintvar(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """A uintvar of at most 5 octets and 32 bits."""
    start = pos
    value = 0
    for _ in range(_UINTVAR_MAX_OCTETS):
        _need(data, pos, 1, end, "uintvar")
        octet = data[pos]
        pos += 1
        value = (value << 7) | (octet & 0x7F)
        if not octet & 0x80:
            if value > 0xFFFFFFFF:
                raise WspFormatError(f"uintvar at offset {start} exceeds 32 bits")
            return value, pos
    raise WspFormatError(f"uintvar at offset {start} is longer than {_UINTVAR_MAX_OCTETS} octets")


def _read_text(data: bytes, pos: int, end: int) -> tuple[str, int]:
    """Text-string / Token-text / Extension-media: octets up to a NUL (latin-1, lossless)."""
    limit = min(end, len(data))
    nul = data.find(b"\x00", pos, limit)
    if nul < 0:
        raise WspFormatError(f"text at offset {pos} has no terminating NUL")
    raw = data[pos:nul]
    if raw[:1] == bytes([_TEXT_QUOTE]):
        raw = raw[1:]
    # WSP text is ISO-8859-1 unless a charset says otherwise; latin-1 never fails.
    return raw.decode("latin-1"), nul + 1


def _read_length(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """Value-length: a Short-length octet 0..30, or Length-quote (31) + uintvar."""
    _need(data, pos, 1, end, "value length")
    first = data[pos]
    if first <= _SHORT_LENGTH_MAX:
        return first, pos + 1
    if first == _LENGTH_QUOTE:
        return read_uintvar(data, pos + 1, end)
    raise WspFormatError(f"octet 0x{first:02X} at offset {pos} is not a value length")


def _read_value(data: bytes, pos: int, end: int) -> tuple[Value, int]:
    """The general field-value shape every WSP header value follows (WAP-230 8.4.1.2)."""
    _need(data, pos, 1, end, "header value")
    first = data[pos]
    if first & 0x80:
        return first & 0x7F, pos + 1
    if first <= _LENGTH_QUOTE:
        length, pos = _read_length(data, pos, end)
        _need(data, pos, length, end, f"{length}-octet value")
        return data[pos : pos + length], pos + length
    return _read_text(data, pos, end)


def _read_integer(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """Integer-value: a Short-integer, or a Long-integer (Short-length + big-endian octets)."""
    _need(data, pos, 1, end, "integer")
    first = data[pos]
    if first & 0x80:
        return first & 0x7F, pos + 1
    if 1 <= first <= _SHORT_LENGTH_MAX:
        _need(data, pos + 1, first, end, f"{first}-octet integer")
        return int.from_bytes(data[pos + 1 : pos + 1 + first], "big"), pos + 1 + first
    raise WspFormatError(f"octet 0x{first:02X} at offset {pos} is not an integer")


def _as_integer(value: Value) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, bytes) and 1 <= len(value) <= _LONG_INTEGER_MAX:
        return int.from_bytes(value, "big")
    return None


def _generic(value: Value) -> str:
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    # A lone 0 octet is both "Value-length 0" and "empty Text-string": show it as empty text.
    return "0x" + value.hex() if value else ""


# ---------------------------------------------------------------- content type


def content_type_name(code: int) -> str:
    return CONTENT_TYPES.get(code, f"wsp-content-type-0x{code:02X}")


def read_content_type(data: bytes, pos: int, end: int) -> tuple[ContentType, int]:
    """Content-type-value: Constrained-media, or Value-length + Media-type + parameters."""
    _need(data, pos, 1, end, "content type")
    first = data[pos]
    if first & 0x80:
        short = first & 0x7F
        return ContentType(content_type_name(short), short), pos + 1
    if first > _LENGTH_QUOTE:
        media, pos = _read_text(data, pos, end)
        return ContentType(media, None), pos
    length, pos = _read_length(data, pos, end)
    _need(data, pos, length, end, f"{length}-octet content type")
    stop = pos + length
    _need(data, pos, 1, stop, "media type")
    code: int | None
    if data[pos] & 0x80 or 1 <= data[pos] <= _SHORT_LENGTH_MAX:
        code, pos = _read_integer(data, pos, stop)
        media = content_type_name(code)
    else:
        code = None
        media, pos = _read_text(data, pos, stop)
    parameters: list[tuple[str, str]] = []
    while pos < stop:
        parameter, pos = _read_parameter(data, pos, stop)
        parameters.append(parameter)
    return ContentType(media, code, tuple(parameters)), stop


def _read_parameter(data: bytes, pos: int, end: int) -> tuple[tuple[str, str], int]:
    first = data[pos]
    if first & 0x80 or 1 <= first <= _SHORT_LENGTH_MAX:  # Typed-parameter
        token, pos = _read_integer(data, pos, end)
        name = PARAMETER_NAMES.get(token, f"0x{token:02X}")
        reader = _TYPED_PARAMETERS.get(token, _parameter_generic)
        value, pos = reader(data, pos, end)
        return (name, value), pos
    # Untyped-parameter: Token-text, then Integer-value or Text-value.
    name, pos = _read_text(data, pos, end)
    _need(data, pos, 1, end, f"value of parameter {name!r}")
    if data[pos] & 0x80 or 1 <= data[pos] <= _SHORT_LENGTH_MAX:
        number, pos = _read_integer(data, pos, end)
        return (name, str(number)), pos
    text, pos = _read_text(data, pos, end)
    return (name, text), pos


def _parameter_generic(data: bytes, pos: int, end: int) -> tuple[str, int]:
    value, pos = _read_value(data, pos, end)
    return _generic(value), pos


def _parameter_q(data: bytes, pos: int, end: int) -> tuple[str, int]:
    # Q-value: a uintvar; 1..100 are q 0.00..0.99, 101..1099 are q 0.001..0.999.
    q, pos = read_uintvar(data, pos, end)
    if 1 <= q <= 100:
        return f"{(q - 1) / 100:g}", pos
    if 101 <= q <= 1099:
        return f"{(q - 100) / 1000:g}", pos
    return f"0x{q:X}", pos


def _parameter_charset(data: bytes, pos: int, end: int) -> tuple[str, int]:
    number, pos = _read_integer(data, pos, end)
    if number == 0:  # Any-charset is octet 128, i.e. Short-integer 0
        return "*", pos
    return CHARSETS.get(number, str(number)), pos


def _parameter_sec(data: bytes, pos: int, end: int) -> tuple[str, int]:
    number, pos = _read_integer(data, pos, end)
    return _SEC_NAMES.get(number, str(number)), pos


def _parameter_no_value(data: bytes, pos: int, end: int) -> tuple[str, int]:
    # Secure takes No-value (a single 0 octet); anything else is read the generic way.
    _need(data, pos, 1, end, "parameter value")
    if data[pos] == 0:
        return "", pos + 1
    return _parameter_generic(data, pos, end)


_ParameterReader: TypeAlias = Callable[[bytes, int, int], tuple[str, int]]
_TYPED_PARAMETERS: Final[dict[int, _ParameterReader]] = {
    0x00: _parameter_q,
    0x01: _parameter_charset,
    0x10: _parameter_no_value,
    0x11: _parameter_sec,
}


def render_content_type(content_type: ContentType) -> str:
    return "; ".join([content_type.media, *(f"{n}={v}" if v else n for n, v in content_type.parameters)])


# ---------------------------------------------------------------- headers


def _render_generic(value: Value, raw: bytes) -> str:
    return _generic(value)


def _render_integer(value: Value, raw: bytes) -> str:
    number = _as_integer(value)
    return _generic(value) if number is None else str(number)


def _render_date(value: Value, raw: bytes) -> str:
    seconds = _as_integer(value)
    if seconds is None:
        return _generic(value)
    try:
        stamp = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    except (OverflowError, OSError, ValueError):
        return str(seconds)
    return stamp.isoformat().replace("+00:00", "Z")


def _render_application_id(value: Value, raw: bytes) -> str:
    number = _as_integer(value)
    if number is None:
        return _generic(value)
    return APPLICATION_IDS.get(number, f"0x{number:X}")


def _render_version(value: Value, raw: bytes) -> str:
    if not isinstance(value, int):
        return _generic(value)
    major, minor = (value >> 4) & 0x07, value & 0x0F
    return str(major) if minor == 0x0F else f"{major}.{minor}"  # minor 15 means "none given"


def _render_content_type(value: Value, raw: bytes) -> str:
    try:
        content_type, _ = read_content_type(raw, 0, len(raw))
    except WspFormatError:
        return _generic(value)
    return render_content_type(content_type)


_Renderer: TypeAlias = Callable[[Value, bytes], str]
#: Header code -> how to show its value; the rest are shown by the value's own shape.
_RENDERERS: Final[dict[int, _Renderer]] = {
    0x05: _render_integer,  # Age
    0x0D: _render_integer,  # Content-Length
    0x11: _render_content_type,
    0x12: _render_date,  # Date
    0x14: _render_date,  # Expires
    0x17: _render_date,  # If-Modified-Since
    0x1B: _render_date,  # If-Unmodified-Since
    0x1D: _render_date,  # Last-Modified
    0x1E: _render_integer,  # Max-Forwards
    X_WAP_APPLICATION_ID: _render_application_id,
    0x33: _render_integer,  # Bearer-Indication
    0x34: _render_integer,  # Push-Flag (bit flags)
    0x3F: _render_date,  # X-Wap-Tod
    0x43: _render_version,  # Encoding-Version
}


@dataclass(frozen=True, slots=True)
class Headers:
    fields: tuple[tuple[str, str], ...]
    application_id: str | None  #: the first X-Wap-Application-Id, rendered
    error: str | None  #: why the walk stopped early, None when every header was read


def read_headers(data: bytes, pos: int, end: int) -> Headers:
    """Every header in ``data[pos:end]``, stopping at the first broken one."""
    fields: list[tuple[str, str]] = []
    application_id: str | None = None
    page = 1
    end = min(end, len(data))
    try:
        while pos < end:
            first = data[pos]
            if first == _SHIFT_DELIMITER:
                _need(data, pos + 1, 1, end, "page identity")
                page = data[pos + 1]
                pos += 2
            elif 1 <= first <= 31:  # Short-cut-shift-delimiter
                page = first
                pos += 1
            elif first & 0x80:
                code = first & 0x7F
                start = pos + 1
                value, pos = _read_value(data, start, end)
                name = HEADER_NAMES.get(code) if page == 1 else None
                if name is None:
                    label = f"Header-0x{code:02X}" if page == 1 else f"Page{page}-Header-0x{code:02X}"
                    fields.append((label, "0x" + data[start:pos].hex()))
                    continue
                shown = _RENDERERS.get(code, _render_generic)(value, data[start:pos])
                fields.append((name, shown))
                if code == X_WAP_APPLICATION_ID and application_id is None:
                    application_id = shown
            elif first == 0:
                raise WspFormatError(f"NUL at offset {pos} where a header name should start")
            else:  # Application-header: Token-text name, Text-string value
                name, pos = _read_text(data, pos, end)
                value, pos = _read_text(data, pos, end)
                fields.append((name, value))
                if name.lower() == "x-wap-application-id" and application_id is None:
                    application_id = value
    except WspFormatError as exc:
        return Headers(tuple(fields), application_id, str(exc))
    return Headers(tuple(fields), application_id, None)
