"""Sans-IO SyncML decoder: OMA DM 1.1/1.2 messages (and SyncML DS ones) from XML or WBXML.

:func:`decode` takes one HTTP body (and optionally its Content-Type) and returns an
immutable :class:`SyncMLMessage`, or a :class:`SyncMLError` when the body is no document at
all; it never raises::

    msg = decode(body, "application/vnd.syncml.dm+xml")
    if isinstance(msg, SyncMLMessage):
        for cmd in msg.all_commands:
            if cmd.name == "Status":
                print(cmd.cmd_ref, cmd.cmd, cmd.code, cmd.meaning)

Problems are one-line strings prefixed "error: ", "warning: " or "info: ".  Their texts
are stable (sessions may look for them):

* ``error: root element is <X>, not <SyncML>``, ``error: SyncML without SyncHdr|SyncBody``,
  ``error: SyncML has N SyncHdr|SyncBody elements; only the first is used``
* ``error: SyncHdr without VerDTD|VerProto|SessionID|MsgID|Target|Source``
* ``error: Status (CmdID n) without MsgRef|CmdRef|Cmd|Data``,
  ``error: Status|Alert (CmdID n): code is not an integer: '...'``
* ``warning: <Command> without CmdID`` (Windows answers such a command with 400)
* ``warning: Atomic nested inside Atomic``, ``warning: Get inside Atomic``,
  ``warning: unknown command <X> in SyncBody|Atomic|...``, ``warning: duplicate CmdID '4' (Add)``
* ``info: XML not well-formed, recovered: <parser error>``
* ``info: LocURI starts with '/': '/x'`` (Windows rejects such URIs)
* ``error: more than 100000 commands|items; the rest are ignored``,
  ``error: commands nested deeper than 16 levels; deeper ones are ignored``

A kind of problem that repeats is listed ten times, then summarised as
``<severity>: N more <kind> problems not listed``.  For WBXML bodies the codec's own problems
come first, marked ``<severity>: WBXML: ...``; :attr:`SyncMLMessage.wbxml_public_id` is the
numeric public id (0 when the FPI is in the string table).

Layout: ``_records`` (the frozen records), ``_commands`` (the ``COMMANDS`` table of RepPro's
DTD and the command/item/Meta parsers), ``_decode`` (entry points, SyncHdr, sniffing, the WBXML
path), ``_xml`` (safe parsing with the bare-``&`` repair) and :mod:`~decoders.syncml.codes`.
"""

from . import codes
from ._commands import COMMANDS, MAX_COMMANDS, MAX_DEPTH, MAX_ITEMS, CommandSpec
from ._decode import SYNCML_CONTENT_TYPES, SYNCML_WBXML_PUBLIC_IDS, decode, decode_element, looks_like_syncml
from ._records import Chal, Command, Cred, Item, Meta, SyncHdr, SyncMLError, SyncMLMessage
from .codes import ALERT_CODES, STATUS_CODES, alert_meaning, status_meaning

__all__ = [
    "ALERT_CODES",
    "COMMANDS",
    "MAX_COMMANDS",
    "MAX_DEPTH",
    "MAX_ITEMS",
    "STATUS_CODES",
    "SYNCML_CONTENT_TYPES",
    "SYNCML_WBXML_PUBLIC_IDS",
    "Chal",
    "Command",
    "CommandSpec",
    "Cred",
    "Item",
    "Meta",
    "SyncHdr",
    "SyncMLError",
    "SyncMLMessage",
    "alert_meaning",
    "codes",
    "decode",
    "decode_element",
    "looks_like_syncml",
    "status_meaning",
]
