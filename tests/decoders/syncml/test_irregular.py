"""Synthetic messages: every command shape, the reported problems, limits and broken input."""

from __future__ import annotations

import time

import pytest
from lxml import etree

from decoders.syncml import (
    MAX_DEPTH,
    Chal,
    Command,
    Cred,
    Item,
    Meta,
    SyncHdr,
    SyncMLError,
    SyncMLMessage,
    decode,
    decode_element,
)
from decoders.syncml import _commands as commands_module

from .helpers import HEADER, error, message, syncml

MI = 'xmlns="syncml:metinf"'


def test_dm_client_package1() -> None:
    header = (
        "<SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1A2B</SessionID><MsgID>1</MsgID>"
        "<Target><LocURI>https://dm.example/omadm</LocURI><LocName>srv</LocName></Target>"
        "<Source><LocURI>IMEI:356938035643809</LocURI><LocName>user1</LocName></Source>"
        "<NoResp/>"
        f"<Cred><Meta><Type {MI}>syncml:auth-md5</Type><Format {MI}>b64</Format></Meta>"
        "<Data>\n  Zz6EivR3yeaaENcRN6lpAQ==\n</Data></Cred>"
        f"<Meta><MaxMsgSize {MI}>10000</MaxMsgSize><MaxObjSize {MI}>65536</MaxObjSize></Meta></SyncHdr>"
    )
    body = (
        "<Alert><CmdID>1</CmdID><Data>1201</Data></Alert>"
        "<Replace><CmdID>2</CmdID><NoResp/>"
        f"<Item><Source><LocURI>./DevInfo/DevId</LocURI></Source><Meta><Format {MI}>chr</Format></Meta>"
        "<Data>IMEI:356938035643809</Data></Item>"
        "<Item><Source><LocURI>./DevInfo/Man</LocURI></Source><Data/></Item>"
        "<Item><Source><LocURI>./DevInfo/Mod</LocURI></Source></Item></Replace>"
        "<Alert><CmdID>3</CmdID><Data>1226</Data><Correlator>abc</Correlator>"
        f"<Item><Source><LocURI>./FwUpdate/x</LocURI></Source><Meta><Type {MI}>org.openmobilealliance.dm"
        f".firmwareupdate.devicerequest</Type><Format {MI}>int</Format><Mark {MI}>critical</Mark></Meta>"
        "<Data>0</Data></Item></Alert>"
    )
    msg = message(body, header)
    assert msg.problems == ()
    assert msg.namespace == "SYNCML:SYNCML1.2" and msg.is_dm and msg.final
    assert msg.header == SyncHdr(
        ver_dtd="1.2",
        ver_proto="DM/1.2",
        session_id="1A2B",
        msg_id="1",
        target="https://dm.example/omadm",
        target_name="srv",
        source="IMEI:356938035643809",
        source_name="user1",
        no_resp=True,
        cred=Cred("syncml:auth-md5", "b64", "\n  Zz6EivR3yeaaENcRN6lpAQ==\n"),  # Data as sent
        meta=Meta(max_msg_size=10000, max_obj_size=65536),
    )
    alert, replace, generic = msg.commands
    assert (alert.code, alert.meaning, alert.is_header_status) == (1201, "Client-initiated management", False)
    assert replace.no_resp
    assert replace.code is None and replace.meaning is None
    assert [(i.source, i.data) for i in replace.items] == [
        ("./DevInfo/DevId", "IMEI:356938035643809"),
        ("./DevInfo/Man", ""),
        ("./DevInfo/Mod", None),
    ]
    assert replace.items[0].meta == Meta(format="chr")
    assert generic.correlator == "abc"
    assert generic.items[0].meta == Meta(
        type="org.openmobilealliance.dm.firmwareupdate.devicerequest", format="int", mark="critical"
    )


def test_server_package2_with_chal_results_and_sequence() -> None:
    body = (
        "<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd>"
        "<TargetRef>https://dm.example/</TargetRef><SourceRef>IMEI:1</SourceRef>"
        f"<Chal><Meta><Format {MI}>b64</Format><Type {MI}>syncml:auth-md5</Type>"
        f"<NextNonce {MI}>bm9uY2U=</NextNonce></Meta></Chal><Data>401</Data></Status>"
        "<Sequence><CmdID>2</CmdID>"
        "<Get><CmdID>3</CmdID><Item><Target><LocURI>./DevDetail/SwV</LocURI></Target></Item></Get>"
        "<Exec><CmdID>4</CmdID><Correlator>c-1</Correlator>"
        "<Item><Target><LocURI>./FUMO/Update</LocURI></Target></Item></Exec>"
        "</Sequence>"
        "<Results><CmdID>5</CmdID><MsgRef>1</MsgRef><CmdRef>3</CmdRef>"
        f"<Item><Source><LocURI>./DevDetail/SwV</LocURI></Source><Meta><Format {MI}>chr</Format>"
        f"<Type {MI}>text/plain</Type><Size {MI}>3</Size><EMI {MI}>a</EMI><EMI {MI}>b</EMI>"
        f"<Version {MI}>1.0</Version><Mem {MI}><FreeMem>10</FreeMem><FreeID>2</FreeID></Mem></Meta>"
        "<Data>1.0</Data></Item></Results>"
    )
    msg = message(body)
    assert msg.problems == ()
    status, sequence, results = msg.commands
    assert status.is_header_status and status.code == 401 and status.meaning == "Invalid credentials"
    assert status.chal == Chal(Meta(type="syncml:auth-md5", format="b64", next_nonce="bm9uY2U="))
    assert [c.name for c in sequence.children] == ["Get", "Exec"]
    assert sequence.children[1].correlator == "c-1"
    assert (results.msg_ref, results.cmd_ref) == ("1", "3")
    assert results.items[0].meta == Meta(
        type="text/plain",
        format="chr",
        size=3,
        version="1.0",
        emi=("a", "b"),
        fields=(("Mem/FreeMem", "10"), ("Mem/FreeID", "2")),
    )
    assert [c.cmd_id for c in msg.all_commands] == ["1", "2", "3", "4", "5"]


def test_whitespace_around_identifiers_is_removed() -> None:
    body = (
        "<Status>\n <CmdID> 1 </CmdID>\n <MsgRef>1\n</MsgRef><CmdRef> 0</CmdRef><Cmd> SyncHdr </Cmd>"
        "<Data>\n 200\n</Data></Status>"
        f"<Add><CmdID>2</CmdID><Meta><Type {MI}>\n  text/plain\n  </Type></Meta><Item><Target><LocURI>"
        "  ./a </LocURI></Target><Data>  keep  </Data></Item></Add>"
    )
    msg = message(body)
    status, add = msg.commands
    assert (status.cmd_id, status.msg_ref, status.cmd_ref, status.cmd, status.data) == (
        "1",
        "1",
        "0",
        "SyncHdr",
        "200",
    )
    assert add.meta == Meta(type="text/plain")
    assert add.items == (Item(target="./a", data="  keep  "),)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            "<Replace><Item><Target><LocURI>./a</LocURI></Target></Item></Replace>",
            "warning: Replace without CmdID",
        ),
        (
            "<Status><CmdID>1</CmdID><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>200</Data></Status>",
            "error: Status (CmdID 1) without MsgRef",
        ),
        (
            "<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><Cmd>SyncHdr</Cmd><Data>200</Data></Status>",
            "error: Status (CmdID 1) without CmdRef",
        ),
        (
            "<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Data>200</Data></Status>",
            "error: Status (CmdID 1) without Cmd",
        ),
        (
            "<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd></Status>",
            "error: Status (CmdID 1) without Data",
        ),
        (
            "<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>OK</Data></Status>",
            "error: Status (CmdID 1): code is not an integer: 'OK'",
        ),
        (
            "<Alert><CmdID>7</CmdID><Data>12O1</Data></Alert>",
            "error: Alert (CmdID 7): code is not an integer: '12O1'",
        ),
        ("<Alert><CmdID>7</CmdID></Alert>", "warning: Alert (CmdID 7) without Data (the alert code)"),
        ("<Get><CmdID>2</CmdID></Get>", "warning: Get (CmdID 2) without Item"),
        (
            "<Map><CmdID>2</CmdID><Target><LocURI>a</LocURI></Target><Source><LocURI>b</LocURI></Source></Map>",
            "warning: Map (CmdID 2) without MapItem",
        ),
        (
            "<Add><CmdID>2</CmdID><Item><Target><LocURI>/Vendor/x</LocURI></Target></Item></Add>",
            "info: LocURI starts with '/': '/Vendor/x'",
        ),
        ("<Frobnicate><CmdID>2</CmdID></Frobnicate>", "warning: unknown command <Frobnicate> in SyncBody"),
        (
            "<Atomic><CmdID>1</CmdID><Atomic><CmdID>2</CmdID><Alert><CmdID>3</CmdID><Data>1100</Data>"
            "</Alert></Atomic></Atomic>",
            "warning: Atomic nested inside Atomic",
        ),
        (
            "<Atomic><CmdID>1</CmdID><Get><CmdID>2</CmdID><Item><Target><LocURI>./a</LocURI></Target></Item>"
            "</Get></Atomic>",
            "warning: Get inside Atomic",
        ),
        (
            "<Atomic><CmdID>1</CmdID><Status><CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef>"
            "<Cmd>SyncHdr</Cmd><Data>200</Data></Status></Atomic>",
            "warning: Status is not allowed inside Atomic",
        ),
        (
            "<Atomic><CmdID>1</CmdID><Foo/><Alert><CmdID>2</CmdID><Data>1100</Data></Alert></Atomic>",
            "warning: unknown command <Foo> in Atomic",
        ),
        (
            "<Replace><CmdID>1</CmdID><Add><CmdID>2</CmdID></Add><Item><Data>x</Data></Item></Replace>",
            "warning: command <Add> inside Replace ignored",
        ),
        (
            "<Replace><CmdID>1</CmdID><Data>x</Data><Item><Data>x</Data></Item></Replace>",
            "info: <Data> is not expected in Replace",
        ),
        (
            "<Replace><CmdID>1</CmdID><Bogus/><Item><Data>x</Data></Item></Replace>",
            "warning: unknown element <Bogus> in Replace",
        ),
        (
            "<Replace><CmdID>1</CmdID><Item><Data>x</Data><Bogus/></Item></Replace>",
            "warning: unknown element <Bogus> in Item",
        ),
        (
            "<Replace><CmdID>1</CmdID><CmdID>2</CmdID><Item><Data>x</Data></Item></Replace>",
            "warning: repeated <CmdID> in Replace; the first counts",
        ),
        (
            f"<Replace><CmdID>1</CmdID><Meta><Size {MI}>big</Size></Meta>"
            "<Item><Data>x</Data></Item></Replace>",
            "warning: Meta/Size is not an integer: 'big'",
        ),
        (
            "<Alert><CmdID>1</CmdID><Data>1201</Data></Alert><Alert><CmdID>1</CmdID><Data>1226</Data></Alert>",
            "warning: duplicate CmdID '1' (Alert)",
        ),
    ],
)
def test_reported_problems(body: str, problem: str) -> None:
    msg = message(body)
    assert msg.problems == (problem,)


def test_unknown_and_nested_commands_are_kept() -> None:
    msg = message(
        "<Frobnicate><CmdID>2</CmdID></Frobnicate>"
        "<Atomic><CmdID>3</CmdID><Atomic><CmdID>4</CmdID><Alert><CmdID>5</CmdID><Data>1101</Data></Alert>"
        "</Atomic></Atomic>"
    )
    assert [(c.name, c.cmd_id) for c in msg.all_commands] == [
        ("Frobnicate", "2"),
        ("Atomic", "3"),
        ("Atomic", "4"),
        ("Alert", "5"),
    ]


def test_header_problems() -> None:
    header = "<SyncHdr><VerDTD>1.1</VerDTD><VerProto>HTTP/1.1</VerProto><Bogus/></SyncHdr>"
    msg = message("<Alert><CmdID>1</CmdID><Data>1201</Data></Alert>", header)
    assert msg.problems == (
        "warning: unknown element <Bogus> in SyncHdr",
        "error: SyncHdr without SessionID",
        "error: SyncHdr without MsgID",
        "error: SyncHdr without Target",
        "error: SyncHdr without Source",
        "warning: unknown VerProto 'HTTP/1.1'",
        "info: VerDTD 1.1 but namespace SYNCML:SYNCML1.2",
    )
    assert msg.header.ver_proto == "HTTP/1.1" and not msg.is_dm


def test_root_problems() -> None:
    other_root = decode(b"<syncml><SyncHdr/><SyncBody><Final/></SyncBody></syncml>")
    assert isinstance(other_root, SyncMLMessage)
    assert other_root.problems[0] == "error: root element is <syncml>, not <SyncML>"
    assert other_root.final

    html = decode(b"<html><body>hello</body></html>")
    assert isinstance(html, SyncMLMessage)
    assert html.problems == ("error: root element is <html>, not <SyncML>",)

    wrong_ns = decode(syncml("<Alert><CmdID>1</CmdID><Data>1201</Data></Alert>", ns="urn:x"))
    assert isinstance(wrong_ns, SyncMLMessage)
    assert wrong_ns.problems == ("warning: SyncML namespace is 'urn:x', not SYNCML:SYNCML1.x",)

    extra = decode(
        syncml("<Alert><CmdID>1</CmdID><Data>1201</Data></Alert>").replace(b"</SyncML>", b"<X/></SyncML>")
    )
    assert isinstance(extra, SyncMLMessage)
    assert extra.problems == ("warning: unexpected element <X> in SyncML",)


def test_final_and_empty_body() -> None:
    no_final = decode(syncml("<Alert><CmdID>1</CmdID><Data>1222</Data></Alert>").replace(b"<Final/>", b""))
    assert isinstance(no_final, SyncMLMessage) and not no_final.final and no_final.problems == ()
    only_final = message("")
    assert only_final.final and only_final.commands == () and only_final.problems == ()
    after = message("<Final/><Alert><CmdID>1</CmdID><Data>1222</Data></Alert>")
    assert after.problems == ("warning: Alert after Final", "warning: more than one Final in SyncBody")


def test_meta_in_metinf_wrapper() -> None:
    msg = message(
        "<Add><CmdID>1</CmdID><Meta><MetInf xmlns='syncml:metinf'><Type>text/plain</Type>"
        "<Format>chr</Format></MetInf></Meta><Item><Data>x</Data></Item></Add>"
    )
    assert msg.commands[0].meta == Meta(type="text/plain", format="chr")


def test_meta_repeats_comments_and_a_metinf_among_others() -> None:
    # Of a repeated Meta field the first counts; the repeat is kept in Meta.fields like any other element.
    repeated = message(
        "<Add><CmdID>1</CmdID><Item><Target><LocURI>./a</LocURI></Target><Meta><Format>chr</Format>"
        "<Size>3</Size><Format>b64</Format><Size>x</Size></Meta><Data>abc</Data></Item></Add>"
    )
    assert repeated.commands[0].items[0].meta == Meta(
        format="chr", size=3, fields=(("Format", "b64"), ("Size", "x"))
    )
    assert repeated.problems == ()
    # A comment before the only MetInf does not hide the wrapper; comments elsewhere are skipped.
    commented = message(
        "<Add><CmdID>1</CmdID><Meta><!-- c --><MetInf><Type>text/plain</Type></MetInf></Meta>"
        "<Item><!-- c --><Source><!-- c --><LocURI>./b</LocURI></Source><Data>x</Data></Item></Add>"
    )
    assert commented.commands[0].meta == Meta(type="text/plain")
    assert commented.commands[0].items[0].source == "./b" and commented.problems == ()
    # A MetInf beside another element is no wrapper: one level flattened, as any nested element.
    beside = message(
        "<Add><CmdID>1</CmdID><Meta><Format>chr</Format><MetInf><Type>t</Type></MetInf></Meta>"
        "<Item><Data>x</Data></Item></Add>"
    )
    assert beside.commands[0].meta == Meta(format="chr", fields=(("MetInf/Type", "t"),))
    # Items with the same Type/Format have equal Metas (shared records, immutable).
    twice = message(
        "<Replace><CmdID>1</CmdID><Item><Target><LocURI>./c</LocURI></Target><Meta><Format>int</Format>"
        "</Meta><Data>1</Data></Item><Item><Target><LocURI>./d</LocURI></Target><Meta><Format>int</Format>"
        "</Meta><Data>2</Data></Item></Replace>"
    )
    first, second = twice.commands[0].items
    assert first.meta == second.meta == Meta(format="int")
    assert (first.target, first.data, second.target, second.data) == ("./c", "1", "./d", "2")


def test_not_a_document() -> None:
    assert error(b"").reason == "empty body"
    assert error(b"  \r\n").reason == "empty body"
    assert error(b"hello world").reason.startswith("XML not parseable")
    assert error(b'<?xml version="1.0"?>').reason.startswith("XML not parseable")


def test_recover_mode_keeps_what_it_can() -> None:
    broken = syncml("<Alert><CmdID>1</CmdID><Data>1201</Data></Alert>").replace(
        b"</Data></Alert>", b"</Alert>"
    )
    msg = decode(broken)
    assert isinstance(msg, SyncMLMessage)
    assert msg.problems[0].startswith("info: XML not well-formed, recovered: ")
    assert msg.commands[0].name == "Alert" and msg.commands[0].cmd_id == "1"


def test_bare_ampersand_inside_cdata_is_kept() -> None:
    body = (
        "<Alert><CmdID>1</CmdID><Data>1100</Data><Item><Data>MINDT=5&DR=1</Data></Item>"
        "<Item><Data><![CDATA[a & b &amp; c]]></Data></Item></Alert>"
    )
    msg = message(body)
    assert msg.problems[0].endswith("(1 bare '&' read as '&amp;')")
    assert [i.data for i in msg.commands[0].items] == ["MINDT=5&DR=1", "a & b &amp; c"]


def test_no_entity_expansion_or_external_access() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE SyncML [<!ENTITY xxe SYSTEM "file:///etc/passwd">'
        b'<!ENTITY big "xxxxxxxxxx">]>'
        + syncml("<Alert><CmdID>1</CmdID><Data>1100</Data><Item><Data>&xxe;&big;</Data></Item></Alert>")
    )
    msg = decode(body)
    assert isinstance(msg, SyncMLMessage)
    data = msg.commands[0].items[0].data or ""
    assert "root:" not in data and "xxxxxxxxxx" not in data


def test_content_type_charset_overrides_declaration() -> None:
    body = syncml("<Alert><CmdID>1</CmdID><Data>1100</Data><Item><Data>Grüße</Data></Item></Alert>")
    latin1 = body.decode().encode("latin-1")
    msg = decode(latin1, "application/vnd.syncml.dm+xml; charset=ISO-8859-1")
    assert isinstance(msg, SyncMLMessage)
    assert msg.commands[0].items[0].data == "Grüße"
    bad = decode(body, "application/vnd.syncml.dm+xml; charset=nonsense")
    assert isinstance(bad, SyncMLMessage)
    assert bad.problems == ("warning: unknown charset 'nonsense' in Content-Type, using the XML declaration",)


def test_wbxml_content_type_with_xml_body() -> None:
    msg = decode(
        syncml("<Alert><CmdID>1</CmdID><Data>1201</Data></Alert>"), "application/vnd.syncml.dm+wbxml"
    )
    assert isinstance(msg, SyncMLMessage) and msg.encoding == "xml"
    assert msg.problems == (
        "warning: Content-Type application/vnd.syncml.dm+wbxml says WBXML but the body is XML",
    )


def test_repeated_problems_are_summarised() -> None:
    body = "".join(
        f"<Replace><Item><Target><LocURI>./n{i}</LocURI></Target></Item></Replace>" for i in range(50)
    )
    msg = message(body)
    assert len(msg.commands) == 50
    assert msg.problems == (
        *["warning: Replace without CmdID"] * 10,
        "warning: 40 more missing CmdID problems not listed",
    )


def test_command_and_item_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(commands_module, "MAX_COMMANDS", 20)
    monkeypatch.setattr(commands_module, "MAX_ITEMS", 30)
    body = "".join(
        f"<Add><CmdID>{i}</CmdID><Item><Data>a</Data></Item><Item><Data>b</Data></Item></Add>"
        for i in range(40)
    )
    msg = message(body)
    assert len(msg.commands) == 20
    assert sum(len(c.items) for c in msg.commands) == 30
    assert "error: more than 30 items; the rest are ignored" in msg.problems
    assert "error: more than 20 commands; the rest are ignored" in msg.problems
    assert "warning: Add (CmdID 15) without Item" in msg.problems  # its items were dropped


def test_real_command_limit_is_fast() -> None:
    body = "<Alert><CmdID>1</CmdID><Data>1222</Data></Alert>" * (commands_module.MAX_COMMANDS + 5)
    start = time.perf_counter()
    msg = message(body)
    elapsed = time.perf_counter() - start
    assert len(msg.commands) == commands_module.MAX_COMMANDS
    assert "error: more than 100000 commands; the rest are ignored" in msg.problems
    assert elapsed < 5.0  # about 5 MB of XML


def _deep_tree(depth: int, container: str = "Atomic") -> etree._Element:
    root = etree.Element("SyncML")
    etree.SubElement(root, "SyncHdr")
    el = etree.SubElement(root, "SyncBody")
    for i in range(depth):
        el = etree.SubElement(el, container)
        etree.SubElement(el, "CmdID").text = str(i)
    return root


@pytest.mark.parametrize("container", ["Atomic", "Sequence", "Sync"])
def test_deep_nesting_is_bounded(container: str) -> None:
    msg = decode_element(_deep_tree(5000, container))
    assert isinstance(msg, SyncMLMessage)
    assert f"error: commands nested deeper than {MAX_DEPTH} levels; deeper ones are ignored" in msg.problems
    assert len(list(msg.all_commands)) == MAX_DEPTH + 1


def test_deep_nesting_in_xml_text() -> None:
    body = syncml("<Atomic><CmdID>1</CmdID>" * 5000 + "</Atomic>" * 5000)
    msg = decode(body)
    assert isinstance(msg, SyncMLMessage)  # libxml2 stops at depth 256; recover mode keeps the rest
    assert any(p.startswith("info: XML not well-formed, recovered: Excessive depth") for p in msg.problems)
    assert any(p.startswith("error: commands nested deeper than") for p in msg.problems)


def test_decode_element_from_a_parsed_tree() -> None:
    root = etree.fromstring(syncml("<Alert><CmdID>1</CmdID><Data>1201</Data></Alert>"))
    msg = decode_element(root, "wbxml")
    assert isinstance(msg, SyncMLMessage)
    assert msg.encoding == "wbxml" and msg.wbxml_public_id is None
    assert msg.commands == (Command(name="Alert", cmd_id="1", data="1201"),)
    assert decode_element(root) == decode(syncml("<Alert><CmdID>1</CmdID><Data>1201</Data></Alert>"))


def test_records_are_frozen() -> None:
    msg = message("<Alert><CmdID>1</CmdID><Data>1201</Data></Alert>")
    with pytest.raises(AttributeError):
        msg.final = False  # type: ignore[misc]
    hash(msg)
    assert not hasattr(msg, "__dict__")


def test_header_text_used_by_sessions() -> None:
    assert HEADER.count("<LocURI>") == 2
    assert isinstance(decode(b"\x00"), SyncMLError)


def test_floods_of_odd_elements_are_summarised() -> None:
    header = HEADER.replace("</SyncHdr>", "<X/>" * 5000 + "</SyncHdr>")
    body = syncml("<Final/>" * 5000, header)  # with the one syncml() adds: 5000 repeated Finals
    body = body.replace(b"</SyncML>", b"<Y/>" * 5000 + b"</SyncML>")
    msg = decode(body)
    assert isinstance(msg, SyncMLMessage)
    assert len(msg.problems) == 33
    assert msg.problems[-3:] == (
        "warning: 4990 more unexpected element problems not listed",
        "warning: 4990 more unknown element problems not listed",
        "warning: 4990 more repeated Final problems not listed",
    )
