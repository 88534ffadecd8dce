"""What the capture recorders share: tcpdump on loopback, started and stopped cleanly.

The recorders (``record_cwmp.py``, ``record_omadm.py``, ``record_digest.py``, ``record_tls_*.py``)
import it from this folder; they are scripts, and tests load them by path.  The TLS recorders also
share the throwaway server certificate maker.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

HOST = "127.0.0.1"
TIMEOUT = 10.0  # seconds, for any one step


class Tcpdump:
    """tcpdump -i lo writing OUT; the constructor returns once it is listening, or raises.

    ``interface="nflog:N"`` captures netfilter log group N instead, which takes no capture filter
    (libpcap cannot filter NFLOG frames): the iptables rule that logs to the group chooses.
    """

    def __init__(self, out: Path, ports: list[int], interface: str = "lo") -> None:
        flt = [] if interface.startswith("nflog") else [
            f"host {HOST} and (" + " or ".join(f"port {p}" for p in ports) + ")"]
        # -B: an 8 MiB kernel buffer, so a loaded machine (tests in parallel, fuzzers) drops nothing
        cmd = ["tcpdump", "-i", interface, "-n", "-U", "--immediate-mode", "-B", "8192", "-s", "0",
               "-w", str(out)]
        if os.geteuid() == 0:
            cmd += ["-Z", "root"]  # else tcpdump drops to its own user before opening OUT
        self.lines: list[str] = []
        self.listening = threading.Event()
        try:
            self.proc = subprocess.Popen(
                [*cmd, *flt],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
        except OSError as exc:
            raise RuntimeError(f"cannot run tcpdump: {exc}") from exc
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        deadline = time.monotonic() + TIMEOUT
        while not self.listening.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("tcpdump did not start: " + (" ".join(self.lines).strip() or "no output"))

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)
            if "listening on" in line:
                self.listening.set()

    def stop(self) -> str:
        """Stops tcpdump (it flushes OUT) and returns what it said."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=TIMEOUT)
                raise RuntimeError("tcpdump did not stop on SIGTERM") from None
        self.reader.join(timeout=TIMEOUT)
        return "".join(self.lines)



def packets_captured(said: str) -> int:
    """The packet count of tcpdump's closing summary (what :meth:`Tcpdump.stop` returns); a
    RuntimeError when tcpdump dropped any, or did not say how many it captured."""
    if not re.search(r"^0 packets dropped by kernel", said, re.M):
        raise RuntimeError(f"tcpdump dropped packets: {said.strip()}")
    m = re.search(r"^(\d+) packets? captured", said, re.M)
    if not m:
        raise RuntimeError(f"tcpdump did not say how many packets it captured: {said.strip()}")
    return int(m[1])

CERT_CONF = """[req]
distinguished_name = dn
x509_extensions = ext
prompt = no
[dn]
CN = {name}
[ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = DNS:{name}, IP:{host}
"""


def make_cert(key: Path, crt: Path, tmp: Path, name: str, days: int = 3650) -> None:
    """A throwaway self-signed RSA-2048 server certificate for ``name`` and HOST, by the openssl CLI."""
    conf = tmp / "cert.cnf"
    conf.write_text(CERT_CONF.format(name=name, host=HOST))
    cmd = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", str(days)]
    cmd += ["-config", str(conf), "-keyout", str(key), "-out", str(crt)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"openssl req failed: {exc}") from exc
    if done.returncode or not key.is_file() or not crt.is_file():
        raise RuntimeError(f"openssl req failed ({done.returncode}): {done.stderr.strip()}")
