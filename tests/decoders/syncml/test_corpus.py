"""Public corpus: every file decodes without raising, with the values the files hold."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from decoders.syncml import Chal, Command, Cred, Item, Meta, SyncHdr, SyncMLError, SyncMLMessage, decode

from .helpers import OMADM, corpus_files, load, rel

RECOVERED = "info: XML not well-formed, recovered: EntityRef: expecting ';'"

# Files that are no SyncML message or genuinely break a rule, with exactly what is reported.
NOT_SYNCML = ("error: root element is <DevInf>, not <SyncML>",)
EXPECTED_PROBLEMS: dict[str, tuple[str, ...]] = {
    "ddf/ddf-001.ddf.xml": ("error: root element is <MgmtTree>, not <SyncML>",),
    "ds/devinf01.xml": NOT_SYNCML,  # a standalone DevInf document, not a message
    "ds/devinf02.xml": NOT_SYNCML,
    "ds/syncml-011.xml": NOT_SYNCML,
    # libwbxml's spec excerpts without a header; the Sync has no CmdID either.
    "ds/syncml-013.xml": ("error: SyncML without SyncHdr", "warning: Sync without CmdID"),
    "ds/syncml-014.xml": ("error: SyncML without SyncHdr", "warning: Sync without CmdID"),
    # buteo's Results has neither CmdID nor CmdRef.
    "ds/resp.xml": ("warning: Results without CmdID", "warning: Results without CmdRef"),
    "ds/syncml-008.xml": ("warning: duplicate CmdID '1' (Status)",),
    # The TNDS example copied into a Sync: its Add reuses CmdID 4 and its URI starts with "/".
    "ddf/syncml_with_ddf-001.xml": (
        "info: LocURI starts with '/': '/OperatorX'",
        "warning: duplicate CmdID '4' (Add)",
    ),
    "invalid/respinvalid2.xml": ("error: SyncML without SyncHdr", "error: SyncML without SyncBody"),
    "invalid/respinvalid3.xml": (
        "error: SyncML without SyncBody",
        "error: SyncHdr without VerDTD",
        "error: SyncHdr without VerProto",
        "error: SyncHdr without SessionID",
        "error: SyncHdr without MsgID",
        "error: SyncHdr without Target",
        "error: SyncHdr without Source",
    ),
    "invalid/respinvalid4.xml": ("error: SyncML without SyncHdr", "warning: SyncBody is empty"),
    "invalid/respinvalid5.xml": (
        "error: SyncML has 2 SyncHdr elements; only the first is used",
        "error: SyncHdr without VerDTD",
        "error: SyncHdr without VerProto",
        "error: SyncHdr without SessionID",
        "error: SyncHdr without MsgID",
        "error: SyncHdr without Target",
        "error: SyncHdr without Source",
        "warning: SyncBody is empty",
    ),
    "invalid/respinvalid6.xml": (
        "error: SyncML has 2 SyncBody elements; only the first is used",
        "error: SyncHdr without VerDTD",
        "error: SyncHdr without VerProto",
        "error: SyncHdr without SessionID",
        "error: SyncHdr without MsgID",
        "error: SyncHdr without Target",
        "error: SyncHdr without Source",
        "warning: SyncBody is empty",
    ),
}
RAW_AMPERSAND = {
    "dm11/testalertconfirm.xml",
    "dm11/testalertmultiplechoice.xml",
    "dm11/testalertsinglechoice.xml",
    "dm11/testalerttextinput.xml",
}


def test_corpus_present(corpus: Path) -> None:
    # Guards the parametrised tests below against silently collecting nothing.
    assert len(corpus_files()) >= 45
    assert len(corpus_files("*.wbxml")) >= 5


@pytest.mark.parametrize("path", corpus_files(), ids=rel)
def test_every_xml_file_decodes_with_the_expected_problems(path: Path) -> None:
    name = rel(path)
    res = decode(path.read_bytes())
    if name == "invalid/respinvalid1.xml":  # an XML declaration and nothing else
        assert isinstance(res, SyncMLError)
        assert res.reason.startswith("XML not parseable: Start tag expected")
        return
    assert isinstance(res, SyncMLMessage)
    assert res.encoding == "xml"
    if name in RAW_AMPERSAND:
        assert len(res.problems) == 1
        assert res.problems[0].startswith(RECOVERED)
        assert res.problems[0].endswith("bare '&' read as '&amp;')")
    else:
        assert res.problems == EXPECTED_PROBLEMS.get(name, ())
    if not name.startswith("invalid/") and name not in EXPECTED_PROBLEMS:
        assert res.header.session_id and res.header.msg_id and res.commands


def test_funambol_md5_init() -> None:
    msg = load("ds/syncml_init.xml")
    assert msg.namespace is None
    assert msg.header == SyncHdr(
        ver_dtd="1.1",
        ver_proto="SyncML/1.1",
        session_id="1230717495",
        msg_id="1",
        target="http://localhost:8080/funambol/ds",
        source="sc-pim-166b90db-53a4-4877-a5bd-285e533c4cb0",
        source_name="guest",
        cred=Cred(type="syncml:auth-md5", format="b64", data="pi7qlvm20/3ssN2yQm2xAg=="),
        meta=Meta(max_msg_size=8192, max_obj_size=500000),
    )
    assert not msg.is_dm and msg.final
    assert [(c.name, c.cmd_id, c.code, c.meaning) for c in msg.commands] == [
        ("Alert", "1", 200, "Two-way sync"),
        ("Alert", "2", 200, "Two-way sync"),
    ]
    assert msg.commands[1].items == (
        Item(
            target="note",
            source="memo",
            meta=Meta(
                max_obj_size=500000, fields=(("Anchor/Last", "1230717403"), ("Anchor/Next", "1230717495"))
            ),
        ),
    )


@pytest.mark.parametrize(
    ("name", "code", "meaning", "options", "texts"),
    [
        ("testalertdisplay", 1100, "Display", "MINDT=15", ["Testing Display Alert"]),
        ("testalertconfirm", 1101, "Confirm or reject", "MAXDT=15&DR=1", ["Testing Confirmation Alert"]),
        (
            "testalerttextinput",
            1102,
            "Text input",
            "MAXDT=20&DR=hello+andy!&MAXLEN=30&IT=I&ET=P",
            ["Testing Text Input Alert"],
        ),
        (
            "testalertsinglechoice",
            1103,
            "Single choice",
            "MAXDT=20&DR=2",
            [
                "Testing Single Choice Alert",
                *(f"choice {n}" for n in ("one", "two", "three", "four", "five", "six")),
            ],
        ),
        (
            "testalertmultiplechoice",
            1104,
            "Multiple choice",
            "MAXDT=20&DR=1-3,6",
            [
                "Testing Multiple Choice Alert",
                *(f"choice {n}" for n in ("one", "two", "three", "four", "five", "six")),
            ],
        ),
    ],
)
def test_dm11_ui_alerts(name: str, code: int, meaning: str, options: str, texts: list[str]) -> None:
    msg = load(f"dm11/{name}.xml")
    assert msg.namespace == "SYNCML:SYNCML1.1"
    assert msg.is_dm and msg.final
    assert msg.header == SyncHdr(
        ver_dtd="1.1",
        ver_proto="DM/1.1",
        session_id="11",
        msg_id="1",
        target="SampleClient",
        source="mot.manage",
        resp_uri="http://199.1.88.66/Scts?4Eq5AA==",
        meta=Meta(max_msg_size=20000),
    )
    (alert,) = msg.commands
    assert (alert.name, alert.code, alert.meaning) == ("Alert", code, meaning)
    assert [i.data for i in alert.items] == [options, *texts]


def test_dm11_alert_inside_atomic() -> None:
    msg = load("dm11/testalertconfirmatomic.xml")
    assert msg.problems == ()
    (atomic,) = msg.commands
    assert (atomic.name, atomic.cmd_id) == ("Atomic", "1")
    alert, replace = atomic.children
    assert (alert.cmd_id, alert.data, alert.items[0].data) == ("2", "1101", "MAXDT=15DR=1")
    assert replace == Command(
        name="Replace",
        cmd_id="3",
        meta=Meta(type="text/plain", format="chr"),
        items=(Item(target="./DevDetail/Bearer/GSM", data="test"),),
    )
    assert [c.name for c in msg.all_commands] == ["Atomic", "Alert", "Replace"]


def test_dm11_exec_and_get() -> None:
    (exec_,) = load("dm11/testexecscript.xml").commands
    assert (exec_.name, exec_.cmd_id, exec_.items) == ("Exec", "1", (Item(target=".", data="uname"),))
    (get,) = load("dm11/testgetscript.xml").commands
    assert (get.name, get.items) == ("Get", (Item(target="./DevInfo/DevId"),))


def test_large_object_chunks() -> None:
    first = load("ds/testLargeObject2_syncML3.xml")
    (sync,) = [c for c in first.commands if c.name == "Sync"]
    assert (sync.cmd_id, sync.target, sync.source, sync.number_of_changes) == ("3", "contact", "card", 2)
    (replace,) = sync.children
    assert replace.meta == Meta(type="text/x-vcard", size=5614)
    (item,) = replace.items
    assert item.more_data
    assert item.target == "000000004A618EC57CB7CC48861B0D41D5048FB3A41B2000"
    assert item.data is not None and item.data.startswith("BEGIN:VCARD\n\nVERSION:2.1\n")
    assert item.data.endswith("ciao ola=0Ahola=0Ahola=0Ahola=0Aar")
    assert not first.final  # more messages follow in this package

    last = load("ds/testLargeObject2_syncML4.xml")
    (sync,) = [c for c in last.commands if c.name == "Sync"]
    chunk, other = sync.children
    assert (chunk.cmd_id, chunk.meta) == ("4", Meta(type="text/x-vcard"))  # Size only in the first chunk
    assert chunk.items[0].target == item.target
    assert not chunk.items[0].more_data
    assert other.cmd_id == "5"


def test_status_list() -> None:
    msg = load("ddf/syncml_with_ddf-001.xml")
    statuses = [c for c in msg.commands if c.name == "Status"]
    assert [
        (
            s.cmd_id,
            s.msg_ref,
            s.cmd_ref,
            s.cmd,
            s.target_refs,
            s.source_refs,
            s.code,
            s.meaning,
            s.is_header_status,
        )
        for s in statuses
    ] == [
        (
            "1",
            "2",
            "0",
            "SyncHdr",
            ("http://www.syncml.org/sync-server",),
            ("IMEI:493005100592800",),
            200,
            "OK",
            True,
        ),
        ("2", "2", "3", "Sync", ("./contacts/james_bond",), ("./dev-contacts",), 200, "OK", False),
        ("3", "2", "4", "Replace", (), ("1012",), 200, "OK", False),
    ]
    auth = load("ds/testLargeObject2_syncML1.xml").commands[0]
    assert (auth.cmd, auth.code, auth.meaning) == ("SyncHdr", 212, "Authentication accepted")


def test_chal_with_next_nonce() -> None:
    msg = load("ds/resp.xml")
    status = msg.commands[0]
    assert status.is_header_status
    assert status.chal == Chal(Meta(type="syncml:auth-md5", format="b64", next_nonce="ZG9iZWhhdmUNCg=="))
    assert status.chal is not None
    assert (status.chal.type, status.chal.format, status.chal.next_nonce) == (
        "syncml:auth-md5",
        "b64",
        "ZG9iZWhhdmUNCg==",
    )
    assert msg.header.resp_uri == "http://82.77.123.71:8080/services/syncml?s=RYHmRQAA&srv_id=002"


def test_ds_sync_map_and_results() -> None:
    msg = load("ds/resp.xml")
    assert [c.name for c in msg.all_commands] == [
        "Status",
        "Alert",
        "Sync",
        "Add",
        "Replace",
        "Delete",
        "Results",
        "Map",
    ]
    sync = msg.commands[2]
    add, replace, _delete = sync.children
    assert add.items[0].source == "0" and add.items[0].source_parent == "1"
    assert replace.items[0].target_parent == "245"
    assert replace.meta == Meta(type="x-type/x-subtype", fields=(("FieldLevel", ""),))
    results = msg.commands[3]
    assert results.items[0].embedded == "DevInf"
    map_ = msg.commands[4]
    assert (map_.target, map_.source) == ("http://www.datasync.org/servlet/syncit", "IMEI:001004FF1234567")
    assert [(i.target, i.source) for i in map_.items] == [
        ("./0123456789ABCDEF", "./01"),
        ("./0123456789ABCDF0", "./02"),
        ("./0123456789ABCDF1", "./03"),
    ]


def test_embedded_ddf_mgmt_tree() -> None:
    msg = load("ddf/syncml_with_ddf-001.xml")
    (add,) = [c for c in msg.all_commands if c.name == "Add" and c.items[0].embedded]
    (item,) = add.items
    assert item.embedded == "MgmtTree"
    assert item.target == "/OperatorX"
    assert item.meta == Meta(type="application/vnd.syncml.dmtnds+xml", format="xml")
    assert item.data is not None
    tree = etree.fromstring(item.data)
    assert tree.tag == "{syncml:dmddf1.2}MgmtTree"
    names = [n.text for n in tree.iter("{syncml:dmddf1.2}NodeName")]
    assert names == ["E-Mail", "POP3", "POPServer", "UserID", "PWD"]


def test_embedded_devinf() -> None:
    msg = load("ds/syncml-003.xml")
    put = next(c for c in msg.commands if c.name == "Put")
    (item,) = put.items
    assert (item.source, item.embedded) == ("./devinf11", "DevInf")
    assert put.meta == Meta(type="application/vnd.syncml-devinf+xml")
    assert item.data is not None and item.data.startswith('<DevInf xmlns="syncml:devinf">')
    assert "<Man>Big Factory, Ltd.</Man>" in item.data
    assert msg.header.cred == Cred(type="syncml:auth-basic", data="QnJ1Y2UyOk9oQmVoYXZl")


def test_standalone_devinf_is_not_a_message() -> None:
    msg = decode((OMADM / "ds/devinf01.xml").read_bytes())
    assert isinstance(msg, SyncMLMessage)
    assert msg.problems == NOT_SYNCML
    assert msg.header == SyncHdr() and msg.commands == ()
