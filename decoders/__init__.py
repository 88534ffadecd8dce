"""Sans-IO decoders for device-management traffic.

Bytes in, typed immutable records out.  Nothing in this package does I/O or imports
scapy or textual, so every decoder can be fed from a capture, a socket, a file or a
fuzzer alike.
"""

from decoders._columns import Columns

__all__ = ["Columns"]
