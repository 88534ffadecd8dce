"""The capture file reader: ``dmsniff.capture.open_capture`` over the input as a stream (pcap in
both byte orders and resolutions, pcapng, either gzip-compressed), every frame read.

``CaptureError`` is raised by design for an input that is no usable capture at all: caught.
Faults inside a capture are recorded in ``CaptureInfo.errors``, never raised.
"""

from __future__ import annotations

import io

from fuzz._common import instrumented, main

with instrumented(__name__ == "__main__"):
    from dmsniff.capture import CaptureError, link_type_name, open_capture

MAX_FRAMES = 1_000_000


def TestOneInput(data: bytes) -> None:
    try:
        cap = open_capture(io.BytesIO(data), "fuzz.pcap")
    except CaptureError:
        return
    with cap:
        for n, (number, ts, linktype, frame) in enumerate(cap):
            if n >= MAX_FRAMES:
                raise AssertionError("more frames than a capture of this size can hold")
            assert number == n + 1 and isinstance(ts, float) and isinstance(frame, bytes)
            link_type_name(linktype)
        _ = cap.position, cap.size, list(cap.info.errors), list(cap.info.tls_keylogs)


if __name__ == "__main__":
    main(TestOneInput)
