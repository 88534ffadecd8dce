"""Corpus location and a tiny SOAP envelope builder for the CWMP decoder tests."""

from __future__ import annotations

from pathlib import Path

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus"
CWMP = CORPUS / "cwmp"
MESSAGES = CWMP / "messages"
DISCOVER = CWMP / "sessions" / "freeacs-discover"


def corpus_files() -> list[Path]:
    return sorted(p for d in (MESSAGES, DISCOVER) for p in d.iterdir() if p.is_file())


def envelope(
    body: str,
    header: str = '<cwmp:ID soap:mustUnderstand="1">42</cwmp:ID>',
    ns: str = "urn:dslforum-org:cwmp-1-0",
) -> bytes:
    return (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"'
        ' xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/"'
        ' xmlns:xsd="http://www.w3.org/2001/XMLSchema"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        f' xmlns:cwmp="{ns}">'
        f"<soap:Header>{header}</soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>"
    ).encode()
