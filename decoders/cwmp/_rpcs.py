"""RPC argument parsers and the RPC table.

To add a CWMP RPC: write a record in ``_records.py``, a ``_parse_<name>(el, ctx)`` here,
and one entry in :data:`RPC_PARSERS`.  Names in :data:`GENERIC_RPCS` are known CWMP RPCs
decoded as :class:`GenericRpc` without a problem; any other name gets "unknown RPC X".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from .._strings import share
from . import codes
from ._records import (
    AddObject,
    AddObjectResponse,
    DeleteObject,
    DeleteObjectResponse,
    DeviceId,
    Download,
    DownloadResponse,
    Event,
    FactoryReset,
    FactoryResetResponse,
    GenericRpc,
    GetParameterAttributes,
    GetParameterAttributesResponse,
    GetParameterNames,
    GetParameterNamesResponse,
    GetParameterValues,
    GetParameterValuesResponse,
    GetRPCMethods,
    GetRPCMethodsResponse,
    Inform,
    InformResponse,
    ParameterAttribute,
    ParameterInfo,
    ParameterValues,
    Reboot,
    RebootResponse,
    Rpc,
    ScheduleInform,
    ScheduleInformResponse,
    SetParameterAttribute,
    SetParameterAttributes,
    SetParameterAttributesResponse,
    SetParameterValues,
    SetParameterValuesResponse,
    TransferComplete,
    TransferCompleteResponse,
    Upload,
    UploadResponse,
)
from ._xml import (
    Ctx,
    Element,
    attr_local,
    check_time,
    child,
    child_text,
    children,
    local,
    opt_text,
    strip_prefix,
    text_of,
    to_bool,
    to_int,
)

__all__ = ["GENERIC_RPCS", "RPC_PARSERS", "generic_rpc"]

RpcParser = Callable[[Element, Ctx], Rpc]

# ---------------------------------------------------------------- arrays

_COUNT_RE = re.compile(r"\[\s*(\d+)\s*\]\s*$")


def _array(el: Element | None, item: str | None, what: str, ctx: Ctx) -> list[Element]:
    """Items of a SOAP-ENC array; checks ``arrayType="...[N]"`` against the item count.

    ``item`` is the expected item local name, or None to accept any element child.
    """
    if el is None:
        return []
    if item is None:
        items = list(children(el))
        others = 0
    else:
        items = list(el.iterchildren("{*}" + item))  # "{*}": this local name in any namespace
        others = sum(1 for _ in children(el)) - len(items) if len(items) != len(el) else 0
    if others:
        ctx.warning(f"{what}: {others} unexpected element(s) besides {item}")
    array_type = attr_local(el, "arrayType")
    if array_type is not None:
        m = _COUNT_RE.search(array_type)
        if m is None:
            ctx.info(f"{what}: arrayType without a count: {array_type[:60]!r}")
        elif int(m.group(1)) != len(items):
            ctx.warning(f"{what}: arrayType declares {int(m.group(1))} items, found {len(items)}")
    return items


def _strings(el: Element | None, what: str, ctx: Ctx) -> tuple[str, ...]:
    # Parameter names (GetParameterValues, ...): the same few hundred in every session, one str each.
    return tuple(share(text_of(c)) for c in _array(el, None, what, ctx))


def _parameter_values(el: Element | None, ctx: Ctx) -> ParameterValues:
    names: list[str] = []
    values: list[str] = []
    types: list[str | None] = []
    # The hot loop of Informs and big GetParameterValuesResponses: columns, no record per value.
    for s in _array(el, "ParameterValueStruct", "ParameterList", ctx):
        if len(s) == 2:
            # What nearly every CPE sends: <Name>text</Name><Value xsi:type=..>text</Value>,
            # unqualified, without comments or child elements.  Same result as the loop
            # below, at half the cost.
            n, v = s
            if n.tag == "Name" and v.tag == "Value" and not len(n) and not len(v):
                raw = v.get(_XSI_TYPE)
                if raw is None:
                    xsi_type = strip_prefix(attr_local(v, "type"))
                elif (xsi_type := _XSI_TYPES.get(raw)) is None:
                    xsi_type = strip_prefix(raw)
                    if len(_XSI_TYPES) < 1024:  # a handful in practice; bounded against hostile input
                        _XSI_TYPES[raw] = xsi_type
                names.append(share(n.text or ""))
                values.append(v.text or "")
                types.append(xsi_type)
                continue
        name = value = None
        for c in children(s):
            ln = local(c.tag)
            if ln == "Name":
                if name is None:
                    name = c
            elif ln == "Value" and value is None:
                value = c
        xsi_type = None
        if value is not None:
            raw = value.get(_XSI_TYPE)
            xsi_type = strip_prefix(raw if raw is not None else attr_local(value, "type"))
        names.append(share(text_of(name)))
        values.append(text_of(value))
        types.append(xsi_type)
    return ParameterValues(tuple(names), tuple(values), tuple(types))


_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
_XSI_TYPES: dict[str, str | None] = {}  # raw xsi:type -> without its prefix


def _status(el: Element, ctx: Ctx) -> int | None:
    status = to_int(opt_text(el, "Status"), "Status", ctx)
    if status is not None and status not in (0, 1):
        ctx.warning(f"Status {status} is neither 0 nor 1")
    return status


def _time(el: Element, name: str, ctx: Ctx) -> str | None:
    raw = opt_text(el, name)
    check_time(raw, name, ctx)
    return raw


# ---------------------------------------------------------------- CPE -> ACS


def _parse_inform(el: Element, ctx: Ctx) -> Inform:
    dev = child(el, "DeviceId")
    if dev is None:
        ctx.warning("Inform without DeviceId")
        device_id = DeviceId("", "", "", "")
    else:
        device_id = DeviceId(
            child_text(dev, "Manufacturer"),
            child_text(dev, "OUI"),
            child_text(dev, "ProductClass"),
            child_text(dev, "SerialNumber"),
        )
    events = []
    for s in _array(child(el, "Event"), "EventStruct", "Event", ctx):
        code = child_text(s, "EventCode")
        meaning = codes.event_meaning(code)
        if meaning is None:
            ctx.warning(f"unknown event code {code[:64]!r}")
        events.append(Event(code, child_text(s, "CommandKey"), meaning))
    current_time = opt_text(el, "CurrentTime")
    return Inform(
        device_id=device_id,
        events=tuple(events),
        max_envelopes=to_int(opt_text(el, "MaxEnvelopes"), "MaxEnvelopes", ctx),
        current_time=current_time,
        current_datetime=check_time(current_time, "CurrentTime", ctx),
        retry_count=to_int(opt_text(el, "RetryCount"), "RetryCount", ctx),
        parameters=_parameter_values(child(el, "ParameterList"), ctx),
    )


def _parse_transfer_complete(el: Element, ctx: Ctx) -> TransferComplete:
    fault = child(el, "FaultStruct")
    code = None if fault is None else to_int(opt_text(fault, "FaultCode"), "FaultCode", ctx)
    return TransferComplete(
        command_key=child_text(el, "CommandKey"),
        fault_code=code,
        fault_string="" if fault is None else child_text(fault, "FaultString"),
        start_time=_time(el, "StartTime", ctx),
        complete_time=_time(el, "CompleteTime", ctx),
    )


# ---------------------------------------------------------------- ACS -> CPE and responses


def _parse_get_parameter_names_response(el: Element, ctx: Ctx) -> GetParameterNamesResponse:
    entries = tuple(
        ParameterInfo(child_text(s, "Name"), to_bool(opt_text(s, "Writable"), "Writable", ctx))
        for s in _array(child(el, "ParameterList"), "ParameterInfoStruct", "ParameterList", ctx)
    )
    return GetParameterNamesResponse(entries)


def _parse_get_parameter_attributes_response(el: Element, ctx: Ctx) -> GetParameterAttributesResponse:
    out = []
    for s in _array(child(el, "ParameterList"), "ParameterAttributeStruct", "ParameterList", ctx):
        out.append(
            ParameterAttribute(
                child_text(s, "Name"),
                to_int(opt_text(s, "Notification"), "Notification", ctx),
                _strings(child(s, "AccessList"), "AccessList", ctx),
            )
        )
    return GetParameterAttributesResponse(tuple(out))


def _parse_set_parameter_attributes(el: Element, ctx: Ctx) -> SetParameterAttributes:
    out = []
    for s in _array(child(el, "ParameterList"), "SetParameterAttributesStruct", "ParameterList", ctx):
        out.append(
            SetParameterAttribute(
                name=child_text(s, "Name"),
                notification_change=to_bool(opt_text(s, "NotificationChange"), "NotificationChange", ctx),
                notification=to_int(opt_text(s, "Notification"), "Notification", ctx),
                access_list_change=to_bool(opt_text(s, "AccessListChange"), "AccessListChange", ctx),
                access_list=_strings(child(s, "AccessList"), "AccessList", ctx),
            )
        )
    return SetParameterAttributes(tuple(out))


def _parse_download(el: Element, ctx: Ctx) -> Download:
    return Download(
        command_key=child_text(el, "CommandKey"),
        file_type=child_text(el, "FileType"),
        url=child_text(el, "URL"),
        username=child_text(el, "Username"),
        password=child_text(el, "Password"),
        file_size=to_int(opt_text(el, "FileSize"), "FileSize", ctx),
        target_file_name=child_text(el, "TargetFileName"),
        delay_seconds=to_int(opt_text(el, "DelaySeconds"), "DelaySeconds", ctx),
        success_url=child_text(el, "SuccessURL"),
        failure_url=child_text(el, "FailureURL"),
    )


def _parse_upload(el: Element, ctx: Ctx) -> Upload:
    return Upload(
        command_key=child_text(el, "CommandKey"),
        file_type=child_text(el, "FileType"),
        url=child_text(el, "URL"),
        username=child_text(el, "Username"),
        password=child_text(el, "Password"),
        delay_seconds=to_int(opt_text(el, "DelaySeconds"), "DelaySeconds", ctx),
    )


#: RPC local name -> parser of its element.  The one place to add a typed RPC.
RPC_PARSERS: Final[dict[str, RpcParser]] = {
    "Inform": _parse_inform,
    "InformResponse": lambda el, ctx: InformResponse(
        to_int(opt_text(el, "MaxEnvelopes"), "MaxEnvelopes", ctx)
    ),
    "GetRPCMethods": lambda el, ctx: GetRPCMethods(),
    "GetRPCMethodsResponse": lambda el, ctx: GetRPCMethodsResponse(
        _strings(child(el, "MethodList"), "MethodList", ctx)
    ),
    "GetParameterValues": lambda el, ctx: GetParameterValues(
        _strings(child(el, "ParameterNames"), "ParameterNames", ctx)
    ),
    "GetParameterValuesResponse": lambda el, ctx: GetParameterValuesResponse(
        _parameter_values(child(el, "ParameterList"), ctx)
    ),
    "SetParameterValues": lambda el, ctx: SetParameterValues(
        _parameter_values(child(el, "ParameterList"), ctx), child_text(el, "ParameterKey")
    ),
    "SetParameterValuesResponse": lambda el, ctx: SetParameterValuesResponse(_status(el, ctx)),
    "GetParameterNames": lambda el, ctx: GetParameterNames(
        child_text(el, "ParameterPath"), to_bool(opt_text(el, "NextLevel"), "NextLevel", ctx)
    ),
    "GetParameterNamesResponse": _parse_get_parameter_names_response,
    "GetParameterAttributes": lambda el, ctx: GetParameterAttributes(
        _strings(child(el, "ParameterNames"), "ParameterNames", ctx)
    ),
    "GetParameterAttributesResponse": _parse_get_parameter_attributes_response,
    "SetParameterAttributes": _parse_set_parameter_attributes,
    "SetParameterAttributesResponse": lambda el, ctx: SetParameterAttributesResponse(),
    "AddObject": lambda el, ctx: AddObject(child_text(el, "ObjectName"), child_text(el, "ParameterKey")),
    "AddObjectResponse": lambda el, ctx: AddObjectResponse(
        to_int(opt_text(el, "InstanceNumber"), "InstanceNumber", ctx), _status(el, ctx)
    ),
    "DeleteObject": lambda el, ctx: DeleteObject(
        child_text(el, "ObjectName"), child_text(el, "ParameterKey")
    ),
    "DeleteObjectResponse": lambda el, ctx: DeleteObjectResponse(_status(el, ctx)),
    "Reboot": lambda el, ctx: Reboot(child_text(el, "CommandKey")),
    "RebootResponse": lambda el, ctx: RebootResponse(),
    "Download": _parse_download,
    "DownloadResponse": lambda el, ctx: DownloadResponse(
        _status(el, ctx), _time(el, "StartTime", ctx), _time(el, "CompleteTime", ctx)
    ),
    "Upload": _parse_upload,
    "UploadResponse": lambda el, ctx: UploadResponse(
        _status(el, ctx), _time(el, "StartTime", ctx), _time(el, "CompleteTime", ctx)
    ),
    "FactoryReset": lambda el, ctx: FactoryReset(),
    "FactoryResetResponse": lambda el, ctx: FactoryResetResponse(),
    "ScheduleInform": lambda el, ctx: ScheduleInform(
        to_int(opt_text(el, "DelaySeconds"), "DelaySeconds", ctx), child_text(el, "CommandKey")
    ),
    "ScheduleInformResponse": lambda el, ctx: ScheduleInformResponse(),
    "TransferComplete": _parse_transfer_complete,
    "TransferCompleteResponse": lambda el, ctx: TransferCompleteResponse(),
}

_GENERIC_BASE = (
    "AutonomousTransferComplete",
    "DUStateChangeComplete",
    "AutonomousDUStateChangeComplete",
    "Kicked",
    "RequestDownload",
    "GetQueuedTransfers",
    "GetAllQueuedTransfers",
    "ScheduleDownload",
    "CancelTransfer",
    "ChangeDUState",
    "SetVouchers",
    "GetOptions",
)

#: Known CWMP RPCs (cwmp-1-0..1-4.xsd) decoded as GenericRpc, without a problem.
GENERIC_RPCS: Final[frozenset[str]] = frozenset(
    name + suffix for name in _GENERIC_BASE for suffix in ("", "Response")
)

_MAX_FIELDS = 10_000


def generic_rpc(el: Element, ctx: Ctx) -> GenericRpc:
    """Flatten every leaf element below ``el`` into ("A/B/C", text) pairs."""
    fields: list[tuple[str, str]] = []

    def walk(node: Element, path: str, depth: int) -> None:
        kids = list(children(node))
        if not kids:
            if path:
                fields.append((path, text_of(node)))
            return
        if depth > 64:
            ctx.warning(f"{local(el.tag)}: nesting deeper than 64 levels not flattened")
            return
        for k in kids:
            if len(fields) >= _MAX_FIELDS:
                return
            walk(k, f"{path}/{local(k.tag)}" if path else local(k.tag), depth + 1)

    walk(el, "", 0)
    if len(fields) >= _MAX_FIELDS:
        ctx.warning(f"{local(el.tag)}: only the first {_MAX_FIELDS} fields kept")
    return GenericRpc(local(el.tag), tuple(fields))
