"""Immutable records produced by :func:`decoders.cwmp.decode`.

One :class:`CwmpMessage` per SOAP body.  The RPC argument is a typed record from this
module, or :class:`GenericRpc` for RPCs without a dedicated record.  Times are kept as the
raw strings sent on the wire (``Inform`` also carries a parsed ``datetime``); problems are
one-line strings starting with a severity: ``"error: "``, ``"warning: "`` or ``"info: "``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias

from .._columns import Columns
from .._frozen import quick_init

__all__ = [
    "AddObject",
    "AddObjectResponse",
    "CwmpHeader",
    "CwmpMessage",
    "DeleteObject",
    "DeleteObjectResponse",
    "DeviceId",
    "Download",
    "DownloadResponse",
    "Event",
    "FactoryReset",
    "FactoryResetResponse",
    "FaultRecord",
    "GenericRpc",
    "GetParameterAttributes",
    "GetParameterAttributesResponse",
    "GetParameterNames",
    "GetParameterNamesResponse",
    "GetParameterValues",
    "GetParameterValuesResponse",
    "GetRPCMethods",
    "GetRPCMethodsResponse",
    "Inform",
    "InformResponse",
    "ParameterAttribute",
    "ParameterFault",
    "ParameterInfo",
    "ParameterValue",
    "ParameterValues",
    "Reboot",
    "RebootResponse",
    "Rpc",
    "ScheduleInform",
    "ScheduleInformResponse",
    "SetParameterAttribute",
    "SetParameterAttributes",
    "SetParameterAttributesResponse",
    "SetParameterValues",
    "SetParameterValuesResponse",
    "TransferComplete",
    "TransferCompleteResponse",
    "Upload",
    "UploadResponse",
]


# ---------------------------------------------------------------- shared structures


@quick_init
@dataclass(frozen=True, slots=True)
class CwmpHeader:
    """SOAP Header fields; None when absent (or malformed, with a problem)."""

    id: str | None = None
    hold_requests: bool | None = None
    no_more_requests: bool | None = None  #: deprecated, in no XSD, still sent
    session_timeout: int | None = None
    supported_cwmp_versions: str | None = None
    use_cwmp_version: str | None = None
    other: tuple[tuple[str, str], ...] = ()  #: unrecognised header elements (local name, text)


@quick_init
@dataclass(frozen=True, slots=True)
class DeviceId:
    manufacturer: str
    oui: str
    product_class: str
    serial_number: str


@quick_init
@dataclass(frozen=True, slots=True)
class Event:
    code: str  #: as sent, e.g. "0 BOOTSTRAP"
    command_key: str
    meaning: str | None  #: from :mod:`decoders.cwmp.codes`; None if the code fits no pattern


@quick_init
@dataclass(frozen=True, slots=True)
class ParameterValue:
    name: str
    value: str
    type: str | None  #: xsi:type local name ("string", "unsignedInt", ...), None if absent


class ParameterValues(Columns[ParameterValue]):
    """A ParameterList of ParameterValueStructs, as columns (see :mod:`decoders._columns`).

    Informs and GetParameterValuesResponses carry hundreds of values: on the 200k-packet CWMP
    benchmark capture, 420,000 of them.
    """

    RECORD = ParameterValue
    COLUMNS = ("names", "values", "types")
    __slots__ = ("names", "types", "values")
    names: tuple[str, ...]
    values: tuple[str, ...]
    types: tuple[str | None, ...]  #: xsi:type local names, None where absent

    def __init__(self, names: tuple[str, ...] = (), values: tuple[str, ...] = (),
                 types: tuple[str | None, ...] = ()) -> None:
        self._set(names, values, types)


@quick_init
@dataclass(frozen=True, slots=True)
class ParameterInfo:
    name: str
    writable: bool | None


@quick_init
@dataclass(frozen=True, slots=True)
class ParameterAttribute:
    name: str
    notification: int | None
    access_list: tuple[str, ...]


@quick_init
@dataclass(frozen=True, slots=True)
class SetParameterAttribute:
    name: str
    notification_change: bool | None
    notification: int | None
    access_list_change: bool | None
    access_list: tuple[str, ...]


@quick_init
@dataclass(frozen=True, slots=True)
class ParameterFault:
    name: str
    code: int | None
    string: str
    meaning: str


@quick_init
@dataclass(frozen=True, slots=True)
class FaultRecord:
    """A SOAP Fault, with its ``detail/cwmp:Fault`` when present."""

    faultcode: str  #: local part of the SOAP faultcode ("Client", "Server")
    faultstring: str
    code: int | None
    string: str
    meaning: str
    parameter_faults: tuple[ParameterFault, ...] = ()


# ---------------------------------------------------------------- RPC records


@quick_init
@dataclass(frozen=True, slots=True)
class Inform:
    device_id: DeviceId
    events: tuple[Event, ...]
    max_envelopes: int | None
    current_time: str | None  #: raw text
    current_datetime: datetime | None  #: parsed; naive when the CPE sent no zone
    retry_count: int | None
    parameters: ParameterValues


@quick_init
@dataclass(frozen=True, slots=True)
class InformResponse:
    max_envelopes: int | None


@quick_init
@dataclass(frozen=True, slots=True)
class GetRPCMethods:
    pass


@quick_init
@dataclass(frozen=True, slots=True)
class GetRPCMethodsResponse:
    methods: tuple[str, ...]


@quick_init
@dataclass(frozen=True, slots=True)
class GetParameterValues:
    names: tuple[str, ...]


@quick_init
@dataclass(frozen=True, slots=True)
class GetParameterValuesResponse:
    parameters: ParameterValues


@quick_init
@dataclass(frozen=True, slots=True)
class SetParameterValues:
    parameters: ParameterValues
    parameter_key: str


@quick_init
@dataclass(frozen=True, slots=True)
class SetParameterValuesResponse:
    status: int | None


@quick_init
@dataclass(frozen=True, slots=True)
class GetParameterNames:
    path: str
    next_level: bool | None


@quick_init
@dataclass(frozen=True, slots=True)
class GetParameterNamesResponse:
    entries: tuple[ParameterInfo, ...]


@quick_init
@dataclass(frozen=True, slots=True)
class GetParameterAttributes:
    names: tuple[str, ...]


@quick_init
@dataclass(frozen=True, slots=True)
class GetParameterAttributesResponse:
    parameters: tuple[ParameterAttribute, ...]


@quick_init
@dataclass(frozen=True, slots=True)
class SetParameterAttributes:
    parameters: tuple[SetParameterAttribute, ...]


@quick_init
@dataclass(frozen=True, slots=True)
class SetParameterAttributesResponse:
    pass


@quick_init
@dataclass(frozen=True, slots=True)
class AddObject:
    object_name: str
    parameter_key: str


@quick_init
@dataclass(frozen=True, slots=True)
class AddObjectResponse:
    instance_number: int | None
    status: int | None


@quick_init
@dataclass(frozen=True, slots=True)
class DeleteObject:
    object_name: str
    parameter_key: str


@quick_init
@dataclass(frozen=True, slots=True)
class DeleteObjectResponse:
    status: int | None


@quick_init
@dataclass(frozen=True, slots=True)
class Reboot:
    command_key: str


@quick_init
@dataclass(frozen=True, slots=True)
class RebootResponse:
    pass


@quick_init
@dataclass(frozen=True, slots=True)
class Download:
    command_key: str
    file_type: str
    url: str
    username: str
    password: str
    file_size: int | None
    target_file_name: str
    delay_seconds: int | None
    success_url: str
    failure_url: str


@quick_init
@dataclass(frozen=True, slots=True)
class DownloadResponse:
    status: int | None
    start_time: str | None
    complete_time: str | None


@quick_init
@dataclass(frozen=True, slots=True)
class Upload:
    command_key: str
    file_type: str
    url: str
    username: str
    password: str
    delay_seconds: int | None


@quick_init
@dataclass(frozen=True, slots=True)
class UploadResponse:
    status: int | None
    start_time: str | None
    complete_time: str | None


@quick_init
@dataclass(frozen=True, slots=True)
class FactoryReset:
    pass


@quick_init
@dataclass(frozen=True, slots=True)
class FactoryResetResponse:
    pass


@quick_init
@dataclass(frozen=True, slots=True)
class ScheduleInform:
    delay_seconds: int | None
    command_key: str


@quick_init
@dataclass(frozen=True, slots=True)
class ScheduleInformResponse:
    pass


@quick_init
@dataclass(frozen=True, slots=True)
class TransferComplete:
    command_key: str
    fault_code: int | None
    fault_string: str
    start_time: str | None
    complete_time: str | None


@quick_init
@dataclass(frozen=True, slots=True)
class TransferCompleteResponse:
    pass


@quick_init
@dataclass(frozen=True, slots=True)
class GenericRpc:
    """Any RPC without a dedicated record: every leaf element as ("A/B/C", text)."""

    name: str
    fields: tuple[tuple[str, str], ...]


Rpc: TypeAlias = (
    Inform
    | InformResponse
    | GetRPCMethods
    | GetRPCMethodsResponse
    | GetParameterValues
    | GetParameterValuesResponse
    | SetParameterValues
    | SetParameterValuesResponse
    | GetParameterNames
    | GetParameterNamesResponse
    | GetParameterAttributes
    | GetParameterAttributesResponse
    | SetParameterAttributes
    | SetParameterAttributesResponse
    | AddObject
    | AddObjectResponse
    | DeleteObject
    | DeleteObjectResponse
    | Reboot
    | RebootResponse
    | Download
    | DownloadResponse
    | Upload
    | UploadResponse
    | FactoryReset
    | FactoryResetResponse
    | ScheduleInform
    | ScheduleInformResponse
    | TransferComplete
    | TransferCompleteResponse
    | GenericRpc
)


# ---------------------------------------------------------------- the message


@quick_init
@dataclass(frozen=True, slots=True)
class CwmpMessage:
    """One decoded CWMP body.

    ``kind`` is the RPC's local name ("Inform", "GetParameterValuesResponse", also for
    generic and unknown RPCs), "Fault", "empty" (no body, or an envelope with an empty
    Body) or "unknown" (not a SOAP envelope, or not decodable).
    """

    kind: str
    cwmp_version: str | None = None  #: "1.0".."1.4" from the namespace; "1-2" also covers 1.3/1.4
    namespace: str | None = None
    header: CwmpHeader = CwmpHeader()
    rpc: Rpc | None = None
    fault: FaultRecord | None = None
    problems: tuple[str, ...] = ()

    @property
    def errors(self) -> tuple[str, ...]:
        """Problems of severity "error"."""
        return tuple(p for p in self.problems if p.startswith("error: "))
