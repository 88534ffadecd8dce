"""Corpus locations and a small SyncML message builder for the SyncML decoder tests."""

from __future__ import annotations

from pathlib import Path

from decoders.syncml import SyncMLError, SyncMLMessage, decode

# The public corpus sits beside the checkout (tests/conftest.py: ROOT.parent / "shared" / "corpus").
CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus"
OMADM = CORPUS / "omadm"


def corpus_files(pattern: str = "*.xml") -> list[Path]:
    return sorted(OMADM.rglob(pattern)) if OMADM.is_dir() else []


def rel(path: Path) -> str:
    return path.relative_to(OMADM).as_posix()


def load(name: str) -> SyncMLMessage:
    """Decode a corpus file that must be a SyncML message."""
    msg = decode((OMADM / name).read_bytes())
    assert isinstance(msg, SyncMLMessage), msg
    return msg


HEADER = (
    "<SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID>"
    "<Target><LocURI>https://dm.example/</LocURI></Target><Source><LocURI>IMEI:1</LocURI></Source></SyncHdr>"
)


def syncml(body: str, header: str = HEADER, ns: str = "SYNCML:SYNCML1.2") -> bytes:
    """A DM 1.2 message with ``body`` as SyncBody content."""
    return f'<SyncML xmlns="{ns}">{header}<SyncBody>{body}<Final/></SyncBody></SyncML>'.encode()


def message(body: str, header: str = HEADER) -> SyncMLMessage:
    msg = decode(syncml(body, header))
    assert isinstance(msg, SyncMLMessage), msg
    return msg


def error(data: bytes, content_type: str | None = None) -> SyncMLError:
    res = decode(data, content_type)
    assert isinstance(res, SyncMLError), res
    return res
