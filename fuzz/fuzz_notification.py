"""OMA DM Package #0 and the WSP/WAP Push that carries it: ``decoders.notification.decode`` (a raw
Package #0) and ``decode_wap_push`` (a UDP payload for port 2948), both on every input, with the
cheap ``looks_like_*`` tests.  An "internal decoder error" value is raised again for real."""

from __future__ import annotations

from fuzz._common import instrumented, main, reraise

with instrumented(__name__ == "__main__"):
    from decoders import notification
    from decoders.notification import _decode as notification_decode


def TestOneInput(data: bytes) -> None:
    for entry, inner in ((notification.decode, notification_decode._decode),
                         (notification.decode_wap_push, notification_decode._decode_wap_push)):
        out = entry(data)
        if isinstance(out, notification.NotificationError) and "internal decoder error" in out.reason:
            reraise(out.reason, inner, data)
    notification.looks_like_notification(data)
    notification.looks_like_wap_push(data)


if __name__ == "__main__":
    main(TestOneInput)
