"""decoders/syncml/_commands.py: the records it builds positionally hold each value in its own field.

The walker builds Items and Commands with positional arguments (cheaper than keywords, see
``Walker.item``), so a field reordered in ``_records.py`` would move values silently: mypy cannot
tell two ``str | None`` fields apart.  These tests give every field a value of its own.
"""

from __future__ import annotations

import dataclasses

from decoders.syncml import Chal, Command, Item, Meta

from .helpers import message

MI = 'xmlns="syncml:metinf"'


def test_the_field_order_the_walker_builds_in() -> None:
    assert [f.name for f in dataclasses.fields(Item)] == [
        "target", "target_name", "source", "source_name", "source_parent", "target_parent", "meta", "data",
        "embedded", "more_data",
    ]
    assert [f.name for f in dataclasses.fields(Command)] == [
        "name", "cmd_id", "no_resp", "meta", "cred", "items", "children", "data", "correlator", "msg_ref",
        "cmd_ref", "cmd", "target_refs", "source_refs", "chal", "target", "source", "number_of_changes",
    ]


def test_every_item_field_lands_in_its_own_place() -> None:
    body = (
        "<Replace><CmdID>2</CmdID><Item>"
        "<Target><LocURI>./t</LocURI><LocName>tn</LocName></Target>"
        "<Source><LocURI>./s</LocURI><LocName>sn</LocName></Source>"
        "<SourceParent><LocURI>./sp</LocURI></SourceParent>"
        "<TargetParent><LocURI>./tp</LocURI></TargetParent>"
        f"<Meta><Format {MI}>chr</Format><Type {MI}>text/plain</Type></Meta>"
        "<Data>value</Data><MoreData/></Item></Replace>"
    )
    (cmd,) = message(body).commands
    assert cmd.items == (
        Item(target="./t", target_name="tn", source="./s", source_name="sn", source_parent="./sp",
             target_parent="./tp", meta=Meta(type="text/plain", format="chr"), data="value", embedded=None,
             more_data=True),
    )
    embedded = message(
        "<Results><CmdID>3</CmdID><MsgRef>1</MsgRef><CmdRef>2</CmdRef><Item><Source><LocURI>./DevInfo</LocURI>"
        "</Source><Data><DevInf xmlns='syncml:devinf'><DevID>1</DevID></DevInf></Data></Item></Results>"
    ).commands[0].items[0]
    assert embedded.embedded == "DevInf" and embedded.data is not None and "<DevID>1</DevID>" in embedded.data
    assert embedded.target is None and embedded.source == "./DevInfo" and not embedded.more_data


def test_every_command_field_lands_in_its_own_place() -> None:
    status = message(
        "<Status><CmdID>4</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd>"
        "<TargetRef>./tr</TargetRef><SourceRef>./sr</SourceRef>"
        f"<Chal><Meta><Type {MI}>syncml:auth-md5</Type><Format {MI}>b64</Format>"
        f"<NextNonce {MI}>bm9uY2U=</NextNonce></Meta></Chal><Data>401</Data></Status>"
    ).commands[0]
    assert (status.name, status.cmd_id, status.msg_ref, status.cmd_ref, status.cmd, status.data) == (
        "Status", "4", "1", "0", "SyncHdr", "401")
    assert (status.target_refs, status.source_refs) == (("./tr",), ("./sr",))
    assert status.chal == Chal(Meta(type="syncml:auth-md5", format="b64", next_nonce="bm9uY2U="))
    assert (status.no_resp, status.meta, status.cred, status.items, status.children) == (
        False, None, None, (), ())
    assert (status.correlator, status.target, status.source, status.number_of_changes) == (None,) * 4

    alert = message(
        "<Alert><CmdID>5</CmdID><NoResp/><Correlator>c-1</Correlator><Data>1226</Data>"
        f"<Item><Meta><Type {MI}>x</Type></Meta><Data>d</Data></Item></Alert>"
    ).commands[0]
    assert (alert.cmd_id, alert.no_resp, alert.correlator, alert.data) == ("5", True, "c-1", "1226")
    assert len(alert.items) == 1 and alert.items[0].data == "d"

    sync = message(
        "<Sync><CmdID>6</CmdID><Target><LocURI>./db</LocURI></Target><Source><LocURI>./src</LocURI></Source>"
        f"<Meta><MaxObjSize {MI}>4096</MaxObjSize></Meta><NumberOfChanges>7</NumberOfChanges>"
        "<Add><CmdID>7</CmdID><Item><Target><LocURI>./db/1</LocURI></Target><Data>x</Data></Item></Add></Sync>"
    ).commands[0]
    assert (sync.name, sync.cmd_id, sync.target, sync.source, sync.number_of_changes) == (
        "Sync", "6", "./db", "./src", 7)
    assert sync.meta == Meta(max_obj_size=4096)
    assert [(c.name, c.cmd_id, c.items[0].target) for c in sync.children] == [("Add", "7", "./db/1")]

    get = message(
        "<Get><CmdID>8</CmdID><Cred><Meta><Type xmlns='syncml:metinf'>syncml:auth-basic</Type></Meta>"
        "<Data>dTpw</Data></Cred><Item><Target><LocURI>./x</LocURI></Target></Item></Get>"
    ).commands[0]
    assert get.cred is not None and (get.cred.type, get.cred.data) == ("syncml:auth-basic", "dTpw")
