"""WBXML global tokens and the SyncML-family code page tables, as plain dicts.

Tag tables are ``{code_page: {token: "TagName"}}``; the token is the tag byte without the
attribute (0x80) and content (0x40) bits.  They follow libwbxml 0.11.8 ``src/wbxml_tables.c``
(checked against ``wbxml2xml``/``xml2wbxml`` output), which also fixes the choices where the
specifications leave room:

* SyncML 1.0 uses the SyncML 1.1 table and DevInf 1.0 the DevInf 1.1 table (libwbxml does
  the same; the 1.0 tables are a subset).
* SyncML 1.1 keeps Nokia's ``SourceParent`` (0x39), officially SyncML 1.2 only.
* DevInf 0x1C is ``Size`` in 1.0/1.1 and ``MaxSize`` in 1.2; 0x2F is unassigned.
* The DM DDF tags live on code page 2 even in a standalone ``MgmtTree`` document.
* SyncML defines no attribute, attribute-value or extension tables.

``LANGUAGES`` is ordered like libwbxml's main table, because ``xml2wbxml`` picks the *first*
language whose root element (or first namespace) matches: a bare ``<SyncML>`` is SyncML 1.2
and ``<DevInf xmlns="syncml:devinf">`` is DevInf 1.2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = [
    "DEVINF11_TAGS",
    "DEVINF12_TAGS",
    "DMDDF12_TAGS",
    "END",
    "ENTITY",
    "EXT_0",
    "EXT_1",
    "EXT_2",
    "EXT_I_0",
    "EXT_I_1",
    "EXT_I_2",
    "EXT_T_0",
    "EXT_T_1",
    "EXT_T_2",
    "GLOBAL_TOKEN_NAMES",
    "LANGUAGES",
    "LITERAL",
    "LITERAL_A",
    "LITERAL_AC",
    "LITERAL_C",
    "METINF11_TAGS",
    "METINF12_TAGS",
    "MIBENUM_CODECS",
    "OPAQUE",
    "PI",
    "PUBLIC_IDS",
    "PUBLIC_ID_UNKNOWN",
    "STR_I",
    "STR_T",
    "SWITCH_PAGE",
    "SYNCML11_TAGS",
    "SYNCML12_TAGS",
    "SYNCML_LANGUAGES",
    "TAG_HAS_ATTRIBUTES",
    "TAG_HAS_CONTENT",
    "TAG_TOKEN_MASK",
    "Language",
    "PublicId",
    "language_for_fpi",
    "language_for_namespace",
    "language_for_root",
]

# ---------------------------------------------------------------- global tokens (WBXML 1.3 §7.1)

SWITCH_PAGE: Final = 0x00
END: Final = 0x01
ENTITY: Final = 0x02
STR_I: Final = 0x03
LITERAL: Final = 0x04
EXT_I_0: Final = 0x40
EXT_I_1: Final = 0x41
EXT_I_2: Final = 0x42
PI: Final = 0x43
LITERAL_C: Final = 0x44
EXT_T_0: Final = 0x80
EXT_T_1: Final = 0x81
EXT_T_2: Final = 0x82
STR_T: Final = 0x83
LITERAL_A: Final = 0x84
EXT_0: Final = 0xC0
EXT_1: Final = 0xC1
EXT_2: Final = 0xC2
OPAQUE: Final = 0xC3
LITERAL_AC: Final = 0xC4

TAG_TOKEN_MASK: Final = 0x3F
TAG_HAS_CONTENT: Final = 0x40
TAG_HAS_ATTRIBUTES: Final = 0x80

#: Public id 0x01: "unknown or missing public identifier" (WBXML 1.3 §7.2.1).
PUBLIC_ID_UNKNOWN: Final = 0x01

GLOBAL_TOKEN_NAMES: Final[dict[int, str]] = {
    SWITCH_PAGE: "SWITCH_PAGE",
    END: "END",
    ENTITY: "ENTITY",
    STR_I: "STR_I",
    LITERAL: "LITERAL",
    EXT_I_0: "EXT_I_0",
    EXT_I_1: "EXT_I_1",
    EXT_I_2: "EXT_I_2",
    PI: "PI",
    LITERAL_C: "LITERAL_C",
    EXT_T_0: "EXT_T_0",
    EXT_T_1: "EXT_T_1",
    EXT_T_2: "EXT_T_2",
    STR_T: "STR_T",
    LITERAL_A: "LITERAL_A",
    EXT_0: "EXT_0",
    EXT_1: "EXT_1",
    EXT_2: "EXT_2",
    OPAQUE: "OPAQUE",
    LITERAL_AC: "LITERAL_AC",
}

# ---------------------------------------------------------------- tag tables

_SYNCML_CP0_COMMON: Final[dict[int, str]] = {
    0x05: "Add",
    0x06: "Alert",
    0x07: "Archive",
    0x08: "Atomic",
    0x09: "Chal",
    0x0A: "Cmd",
    0x0B: "CmdID",
    0x0C: "CmdRef",
    0x0D: "Copy",
    0x0E: "Cred",
    0x0F: "Data",
    0x10: "Delete",
    0x11: "Exec",
    0x12: "Final",
    0x13: "Get",
    0x14: "Item",
    0x15: "Lang",
    0x16: "LocName",
    0x17: "LocURI",
    0x18: "Map",
    0x19: "MapItem",
    0x1A: "Meta",
    0x1B: "MsgID",
    0x1C: "MsgRef",
    0x1D: "NoResp",
    0x1E: "NoResults",
    0x1F: "Put",
    0x20: "Replace",
    0x21: "RespURI",
    0x22: "Results",
    0x23: "Search",
    0x24: "Sequence",
    0x25: "SessionID",
    0x26: "SftDel",
    0x27: "Source",
    0x28: "SourceRef",
    0x29: "Status",
    0x2A: "Sync",
    0x2B: "SyncBody",
    0x2C: "SyncHdr",
    0x2D: "SyncML",
    0x2E: "Target",
    0x2F: "TargetRef",
    # libwbxml really names this token so; it never occurs in real messages.
    0x30: "Reserved for future use",
    0x31: "VerDTD",
    0x32: "VerProto",
    0x33: "NumberOfChanges",
    0x34: "MoreData",
}

_METINF11_CP1: Final[dict[int, str]] = {
    0x05: "Anchor",
    0x06: "EMI",
    0x07: "Format",
    0x08: "FreeID",
    0x09: "FreeMem",
    0x0A: "Last",
    0x0B: "Mark",
    0x0C: "MaxMsgSize",
    0x0D: "Mem",
    0x0E: "MetInf",
    0x0F: "Next",
    0x10: "NextNonce",
    0x11: "SharedMem",
    0x12: "Size",
    0x13: "Type",
    0x14: "Version",
    0x15: "MaxObjSize",
}

_METINF12_CP1: Final[dict[int, str]] = {**_METINF11_CP1, 0x16: "FieldLevel"}

SYNCML11_TAGS: Final[dict[int, dict[int, str]]] = {
    0: {**_SYNCML_CP0_COMMON, 0x39: "SourceParent"},  # 0x39: Nokia extension, kept by libwbxml
    1: _METINF11_CP1,
}

SYNCML12_TAGS: Final[dict[int, dict[int, str]]] = {
    0: {
        **_SYNCML_CP0_COMMON,
        0x35: "Field",
        0x36: "Filter",
        0x37: "Record",
        0x38: "FilterType",
        0x39: "SourceParent",
        0x3A: "TargetParent",
        0x3B: "Move",
        0x3C: "Correlator",
    },
    1: _METINF12_CP1,
}

_DEVINF_CP0_COMMON: Final[dict[int, str]] = {
    0x05: "CTCap",
    0x06: "CTType",
    0x07: "DataStore",
    0x08: "DataType",
    0x09: "DevID",
    0x0A: "DevInf",
    0x0B: "DevTyp",
    0x0C: "DisplayName",
    0x0D: "DSMem",
    0x0E: "Ext",
    0x0F: "FwV",
    0x10: "HwV",
    0x11: "Man",
    0x12: "MaxGUIDSize",
    0x13: "MaxID",
    0x14: "MaxMem",
    0x15: "Mod",
    0x16: "OEM",
    0x17: "ParamName",
    0x18: "PropName",
    0x19: "Rx",
    0x1A: "Rx-Pref",
    0x1B: "SharedMem",
    0x1D: "SourceRef",
    0x1E: "SwV",
    0x1F: "SyncCap",
    0x20: "SyncType",
    0x21: "Tx",
    0x22: "Tx-Pref",
    0x23: "ValEnum",
    0x24: "VerCT",
    0x25: "VerDTD",
    0x26: "XNam",
    0x27: "XVal",
    0x28: "UTC",
    0x29: "SupportNumberOfChanges",
    0x2A: "SupportLargeObjs",
}

DEVINF11_TAGS: Final[dict[int, dict[int, str]]] = {
    0: dict(sorted({**_DEVINF_CP0_COMMON, 0x1C: "Size"}.items())),
}

DEVINF12_TAGS: Final[dict[int, dict[int, str]]] = {
    0: dict(
        sorted(
            {
                **_DEVINF_CP0_COMMON,
                0x1C: "MaxSize",
                0x2B: "Property",
                0x2C: "PropParam",
                0x2D: "MaxOccur",
                0x2E: "NoTruncate",
                # 0x2F is unassigned in DevInf 1.2
                0x30: "Filter-Rx",
                0x31: "FilterCap",
                0x32: "FilterKeyword",
                0x33: "FieldLevel",
                0x34: "SupportHierarchicalSync",
            }.items()
        )
    ),
}

METINF11_TAGS: Final[dict[int, dict[int, str]]] = {1: _METINF11_CP1}
METINF12_TAGS: Final[dict[int, dict[int, str]]] = {1: _METINF12_CP1}

DMDDF12_TAGS: Final[dict[int, dict[int, str]]] = {
    2: {
        0x05: "AccessType",
        0x06: "ACL",
        0x07: "Add",
        0x08: "b64",
        0x09: "bin",
        0x0A: "bool",
        0x0B: "chr",
        0x0C: "CaseSense",
        0x0D: "CIS",
        0x0E: "Copy",
        0x0F: "CS",
        0x10: "date",
        0x11: "DDFName",
        0x12: "DefaultValue",
        0x13: "Delete",
        0x14: "Description",
        0x15: "DFFormat",
        0x16: "DFProperties",
        0x17: "DFTitle",
        0x18: "DFType",
        0x19: "Dynamic",
        0x1A: "Exec",
        0x1B: "float",
        0x1C: "Format",
        0x1D: "Get",
        0x1E: "int",
        0x1F: "Man",
        0x20: "MgmtTree",
        0x21: "MIME",
        0x22: "Mod",
        0x23: "Name",
        0x24: "Node",
        0x25: "node",
        0x26: "NodeName",
        0x27: "null",
        0x28: "Occurrence",
        0x29: "One",
        0x2A: "OneOrMore",
        0x2B: "OneOrN",
        0x2C: "Path",
        0x2D: "Permanent",
        0x2E: "Replace",
        0x2F: "RTProperties",
        0x30: "Scope",
        0x31: "Size",
        0x32: "time",
        0x33: "Title",
        0x34: "TStamp",
        0x35: "Type",
        0x36: "Value",
        0x37: "VerDTD",
        0x38: "VerNo",
        0x39: "xml",
        0x3A: "ZeroOrMore",
        0x3B: "ZeroOrN",
        0x3C: "ZeroOrOne",
    },
}

# ---------------------------------------------------------------- languages


@dataclass(frozen=True, slots=True)
class Language:
    """One WBXML language: header identity, tag tables and code page namespaces."""

    name: str  #: libwbxml's name, as ``wbxml2xml -l`` spells it
    public_id: int | None  #: numeric WBXML public id; None when only the FPI exists
    fpi: str
    root: str  #: root element name (also the DOCTYPE name)
    system_id: str  #: DTD URL written into the DOCTYPE by wbxml2xml
    tags: dict[int, dict[int, str]]
    #: code page -> xmlns written by wbxml2xml; MetInf languages have none
    namespaces: dict[int, str]


def _syncml_ns(version: str) -> dict[int, str]:
    return {0: f"SYNCML:SYNCML{version}", 1: "syncml:metinf"}


_DEVINF_NS: Final[dict[int, str]] = {0: "syncml:devinf"}
_DMDDF_NS: Final[dict[int, str]] = {2: "syncml:dmddf1.2"}
_OMA_DTD: Final = "http://www.openmobilealliance.org/tech/DTD/"

#: All known languages, in libwbxml's main-table order (which decides xml2wbxml's choice).
LANGUAGES: Final[dict[str, Language]] = {
    lang.name: lang
    for lang in (
        Language(
            "SYNCML12",
            0x1201,
            "-//SYNCML//DTD SyncML 1.2//EN",
            "SyncML",
            _OMA_DTD + "OMA-TS-SyncML_RepPro_DTD-V1_2.dtd",
            SYNCML12_TAGS,
            _syncml_ns("1.2"),
        ),
        Language(
            "DEVINF12",
            0x1203,
            "-//SYNCML//DTD DevInf 1.2//EN",
            "DevInf",
            _OMA_DTD + "OMA-SyncML-Device_Information-DTD-1.2.dtd",
            DEVINF12_TAGS,
            _DEVINF_NS,
        ),
        Language(
            "METINF12",
            0x1202,
            "-//SYNCML//DTD MetInf 1.2//EN",
            "MetInf",
            _OMA_DTD + "OMA-TS-SyncML_MetaInfo_DTD-V1_2.dtd",
            METINF12_TAGS,
            {},
        ),
        Language(
            "DMDDF12",
            None,
            "-//OMA//DTD-DM-DDF 1.2//EN",
            "MgmtTree",
            _OMA_DTD + "dm_ddf-v1_2.dtd",
            DMDDF12_TAGS,
            _DMDDF_NS,
        ),
        Language(
            "SYNCML11",
            0x0FD3,
            "-//SYNCML//DTD SyncML 1.1//EN",
            "SyncML",
            "http://www.syncml.org/docs/syncml_represent_v11_20020213.dtd",
            SYNCML11_TAGS,
            _syncml_ns("1.1"),
        ),
        Language(
            "DEVINF11",
            0x0FD4,
            "-//SYNCML//DTD DevInf 1.1//EN",
            "DevInf",
            "http://www.syncml.org/docs/devinf_v11_20020215.dtd",
            DEVINF11_TAGS,
            _DEVINF_NS,
        ),
        Language(
            "METINF11",
            None,
            "-//SYNCML//DTD MetInf 1.1//EN",
            "MetInf",
            "http://www.syncml.org/docs/syncml_metinf_v11_20020215.dtd",
            METINF11_TAGS,
            {},
        ),
        Language(
            "SYNCML10",
            0x0FD1,
            "-//SYNCML//DTD SyncML 1.0//EN",
            "SyncML",
            "http://www.syncml.org/docs/syncml_represent_v10_20001207.dtd",
            SYNCML11_TAGS,
            _syncml_ns("1.0"),
        ),
        Language(
            "DEVINF10",
            0x0FD2,
            "-//SYNCML//DTD DevInf 1.0//EN",
            "DevInf",
            "http://www.syncml.org/docs/syncml_devinf_v10_20001207.dtd",
            DEVINF11_TAGS,
            _DEVINF_NS,
        ),
        # Not in libwbxml's main table (it declares the public id only); last, so that it
        # never wins a root-name match.
        Language(
            "METINF10",
            None,
            "-//SYNCML//DTD MetInf 1.0//EN",
            "MetInf",
            "http://www.syncml.org/docs/syncml_metinf_v10_20001207.dtd",
            METINF11_TAGS,
            {},
        ),
    )
}

#: Languages whose messages libwbxml treats specially (NextNonce, Meta/Type rewriting).
SYNCML_LANGUAGES: Final = frozenset({"SYNCML10", "SYNCML11", "SYNCML12"})


@dataclass(frozen=True, slots=True)
class PublicId:
    """What a numeric WBXML public id stands for."""

    fpi: str
    language: str | None  #: key of ``LANGUAGES``; None when we have no tables for it
    root: str
    system_id: str | None


#: Numeric public ids of the SyncML family (WBXML public id registry / OMNA).
PUBLIC_IDS: Final[dict[int, PublicId]] = {
    **{
        lang.public_id: PublicId(lang.fpi, lang.name, lang.root, lang.system_id)
        for lang in LANGUAGES.values()
        if lang.public_id is not None
    },
    # OMNA registry only (DS 2.0 schemas); neither libwbxml nor anyone we know has tables.
    0x1205: PublicId("-//SyncML//Schema SyncML 2.0//EN", None, "SyncML", None),
    0x1206: PublicId("-//SyncML//Schema DevInf 2.0//EN", None, "DevInf", None),
}

_FPI_LANGUAGES: Final[dict[str, str]] = {
    **{lang.fpi.upper(): lang.name for lang in LANGUAGES.values()},
    # The OMNA registry spells the MetInf 1.2 identifier "MetaInf".
    "-//SYNCML//DTD METAINF 1.2//EN": "METINF12",
}

# Looser fallback for FPIs seen with odd spacing or owner ("-//OMA//DTD SyncML 1.2//EN"
# does not exist, but a lenient reader should still know what is meant).
_FPI_PATTERN: Final = re.compile(
    r"//DTD[ -]*(SYNCML|DEVINF|METINF|METAINF|DM-DDF)\s*(1\.[012])\s*//", re.IGNORECASE
)
_FPI_FAMILY: Final[dict[str, str]] = {
    "SYNCML": "SYNCML",
    "DEVINF": "DEVINF",
    "METINF": "METINF",
    "METAINF": "METINF",
    "DM-DDF": "DMDDF",
}


def language_for_fpi(fpi: str) -> tuple[str | None, bool]:
    """Language named by a formal public identifier: (name or None, exact match?)."""
    key = " ".join(fpi.split()).upper()
    exact = _FPI_LANGUAGES.get(key)
    if exact is not None:
        return exact, True
    m = _FPI_PATTERN.search(key)
    if m:
        name = _FPI_FAMILY[m.group(1).upper()] + m.group(2).replace(".", "")
        if name in LANGUAGES:
            return name, False
    return None, False


def language_for_namespace(namespace: str) -> str | None:
    """First language (libwbxml order) whose first code page namespace is ``namespace``."""
    for lang in LANGUAGES.values():
        if lang.namespaces:
            first = next(iter(lang.namespaces.values()))
            if first.lower() == namespace.lower():
                return lang.name
    return None


def language_for_root(root: str) -> str | None:
    """First language (libwbxml order) whose root element is ``root``."""
    for lang in LANGUAGES.values():
        if lang.root == root:
            return lang.name
    return None


#: WBXML charset MIBenum -> (Python codec, bytes per code unit, used to find the terminator).
#: 0 ("use the transport's charset") is read as UTF-8, as libwbxml does without meta data.
MIBENUM_CODECS: Final[dict[int, tuple[str, int]]] = {
    0: ("utf-8", 1),
    3: ("ascii", 1),
    4: ("latin-1", 1),
    5: ("iso8859-2", 1),
    6: ("iso8859-3", 1),
    7: ("iso8859-4", 1),
    8: ("iso8859-5", 1),
    9: ("iso8859-6", 1),
    10: ("iso8859-7", 1),
    11: ("iso8859-8", 1),
    12: ("iso8859-9", 1),
    13: ("iso8859-10", 1),
    17: ("shift_jis", 1),
    18: ("euc_jp", 1),
    38: ("euc_kr", 1),
    106: ("utf-8", 1),
    109: ("iso8859-13", 1),
    111: ("iso8859-15", 1),
    113: ("gbk", 1),
    1000: ("utf-16-be", 2),  # ISO-10646-UCS-2
    1013: ("utf-16-be", 2),
    1014: ("utf-16-le", 2),
    1015: ("utf-16", 2),
    1017: ("utf-32", 4),
    1018: ("utf-32-be", 4),
    1019: ("utf-32-le", 4),
    2025: ("gb2312", 1),
    2026: ("big5", 1),
    2084: ("koi8-r", 1),
    2250: ("cp1250", 1),
    2251: ("cp1251", 1),
    2252: ("cp1252", 1),
    2253: ("cp1253", 1),
    2254: ("cp1254", 1),
    2255: ("cp1255", 1),
    2256: ("cp1256", 1),
    2257: ("cp1257", 1),
    2258: ("cp1258", 1),
}
