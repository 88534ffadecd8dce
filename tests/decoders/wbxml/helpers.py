"""Builders for hand-made WBXML, and the corpus files the WBXML tests read."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import CORPUS

OMADM = CORPUS / "omadm"

#: Every WBXML file of the corpus (DM 1.1 messages and the DevInf derived with xml2wbxml).
CORPUS_WBXML: list[Path] = sorted(OMADM.glob("**/*.wbxml"))
#: Every XML document of omadm/ds, dm11 and ddf (the DDF files end in .ddf or .ddf.xml).
CORPUS_XML: list[Path] = sorted(
    p
    for sub in ("ds", "dm11", "ddf")
    for p in (OMADM / sub).iterdir()
    if p.is_file() and p.suffix in {".xml", ".ddf"}
)


def ident(path: Path) -> str:
    """Readable parametrize id: path below omadm/."""
    return str(path.relative_to(OMADM))


def mb(value: int) -> bytes:
    """WBXML mb_u_int32."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def header(
    version: int = 3,
    public_id: int | None = 0x1201,
    strtbl: bytes = b"",
    fpi_index: int = 0,
    charset: int = 106,
) -> bytes:
    """version, public id (None: 0 + string table index), charset (not in 1.0), string table."""
    out = bytes([version])
    out += mb(public_id) if public_id is not None else b"\x00" + mb(fpi_index)
    if version != 0:
        out += mb(charset)
    return out + mb(len(strtbl)) + strtbl


def str_i(text: str) -> bytes:
    return b"\x03" + text.encode("utf-8") + b"\x00"


def opaque(data: bytes) -> bytes:
    return b"\xc3" + mb(len(data)) + data


def tag(token: int, *content: bytes, attrs: bytes = b"") -> bytes:
    """A token element: ``token`` with the content/attribute bits set as needed, then END."""
    flags = (0x40 if content else 0) | (0x80 if attrs else 0)
    out = bytes([token | flags]) + (attrs + b"\x01" if attrs else b"")
    return out + b"".join(content) + (b"\x01" if content else b"")


def switch(page: int) -> bytes:
    return bytes([0x00, page])


# SyncML code page 0 / 1 tokens used by the tests
SYNCML, SYNCHDR, SYNCBODY, VERDTD, DATA, ITEM, META, CRED, CHAL, STATUS, REPLACE, ALERT = (
    0x2D,
    0x2C,
    0x2B,
    0x31,
    0x0F,
    0x14,
    0x1A,
    0x0E,
    0x09,
    0x29,
    0x20,
    0x06,
)
TYPE, FORMAT, NEXTNONCE = 0x13, 0x07, 0x10  # MetInf, code page 1
DEVINF, DEVINF_MAN, DEVINF_VERDTD = 0x0A, 0x11, 0x25  # DevInf, code page 0
