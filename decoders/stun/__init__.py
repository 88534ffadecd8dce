"""Sans-IO STUN message decoder: classic RFC 3489 and RFC 5389, with the TR-111 attributes.

:func:`decode` takes one UDP payload and returns an immutable :class:`StunMessage`, or a
:class:`StunError` when the bytes cannot be STUN; it never raises::

    msg = decode(payload)
    if isinstance(msg, StunMessage) and msg.connection_request_binding:
        print(msg.type_name, msg.username, msg.mapped_address)

:func:`looks_like_stun` is the cheap test for picking STUN out of arbitrary UDP.  The
method and attribute tables (``METHOD_NAMES``, ``ATTRIBUTE_NAMES``), the attribute type
constants and ``ATTRIBUTE_READERS`` (type -> value reader) are exported here too.  Problems
are one-line strings prefixed with their severity ("error: ", "warning: ", "info: ").
"""

from ._decode import ATTRIBUTE_READERS, attribute_name, decode, looks_like_stun, split_type
from ._records import *  # noqa: F403
from ._records import __all__ as _record_names
from ._tables import *  # noqa: F403
from ._tables import __all__ as _table_names

__all__ = [
    "ATTRIBUTE_READERS",
    "attribute_name",
    "decode",
    "looks_like_stun",
    "split_type",
    *_record_names,
    *_table_names,
]
