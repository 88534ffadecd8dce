"""Snapshot tests (pytest-textual-snapshot) of the main screens over our captures.

Update the SVGs after a deliberate change to the UI with ``pytest tests/dmsniff/tui --snapshot-update``
and look at them (they are the README's screenshots too) before committing.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from dmsniff.net.tls_keys import TlsKeySpec
from dmsniff.tui.app import SHOW_DELAY, DmsniffApp
from dmsniff.verify.secrets import Secret, Secrets
from tests.conftest import CAPTURES

SIZE = (160, 44)
SECRETS = Secrets(
    [
        Secret("omadm_client", "dmuser", "dmpass"),
        Secret("omadm_server", "dmsniff-dm", "srvpass"),
        Secret("connection_request", "cruser", "crpass"),
    ]
)


def _app() -> DmsniffApp:
    return DmsniffApp(
        [str(CAPTURES / "cwmp_loopback.pcap"), str(CAPTURES / "omadm_loopback.pcap")], secrets=SECRETS
    )


def _after(*keys: str) -> Any:
    async def run_before(pilot: Any) -> None:
        app = pilot.app
        deadline = time.monotonic() + 30
        while not app.progress.done and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await pilot.pause()
        app._show_progress()
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
        await pilot.pause(SHOW_DELAY + 0.05)  # the detail follows the cursor within SHOW_DELAY
        await pilot.pause()

    return run_before


def test_cwmp_session_timeline(snap_compare: Any) -> None:
    """The second CWMP session: connection request, Inform, TransferComplete, Reboot refused."""
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_after("j"))


def test_omadm_session_auth_tab(snap_compare: Any) -> None:
    """The first OMA DM session (WBXML, 401 + Chal, md5 retry) with its credentials."""
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_after("G", "k", "k", "6"))


def test_omadm_findings_tab(snap_compare: Any) -> None:
    """The third OMA DM session's findings (Windows rules, Pkg#1 SessionID mismatch)."""
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_after("G", "7"))


def test_help_screen(snap_compare: Any) -> None:
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_after("question_mark"))


def test_tls_session_http_tab(snap_compare: Any) -> None:
    """A CWMP session over TLS 1.3 decrypted with its key log: locks in the list and on the arrows,
    the connection's TLS above the timeline, and the HTTP tab saying how it was decrypted."""
    keys = CAPTURES / "tls13_loopback.keys"
    tls = TlsKeySpec(((keys.name, keys.read_bytes()),))
    app = DmsniffApp([str(CAPTURES / "tls13_loopback.pcap")], tls=tls)
    assert snap_compare(app, terminal_size=SIZE, run_before=_after("3"))


def test_device_view(snap_compare: Any) -> None:
    """The device view (D) on the OMA DM device: its management tree and the changes it accepted."""
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_after("D", "down", "4"))
