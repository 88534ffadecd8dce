"""decoders/wbxml/_render.py's own quoteattr is the standard library's."""

from __future__ import annotations

import subprocess
import sys
from xml.sax.saxutils import quoteattr as sax_quoteattr

from hypothesis import given
from hypothesis import strategies as st

from decoders.wbxml._render import quoteattr
from tests.conftest import CAPTURES


@given(st.text(alphabet=st.sampled_from("ab&<>\"'\n\r\t é")))
def test_quoteattr_is_saxutils(value: str) -> None:
    assert quoteattr(value) == sax_quoteattr(value)


def test_a_report_does_not_load_ssl() -> None:
    """A report (decoding WBXML too) must not pull in urllib, http.client and ssl, as importing
    saxutils did: 5 MB more in every process, for nothing."""
    code = (
        "import contextlib, io, sys\n"
        "from dmsniff.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['report', '-j', '1', '--format', 'jsonl', {str(CAPTURES / 'omadm_loopback.pcap')!r}])\n"
        "print(sorted({'ssl', 'http.client', 'urllib.request'} & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
