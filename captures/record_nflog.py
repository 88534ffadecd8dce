"""Record captures/nflog_loopback.pcap: a CWMP session logged by netfilter, captured as NFLOG.

How an engineer captures just a CPE's TR-069 traffic on a Linux box: an iptables rule sends the
packets of the ACS port to a netfilter log group, and tcpdump reads that group (``-i nflog:N``);
the file's link type is NFLOG (239), each packet wrapped in the kernel's TLVs.  Here real curl
(the CPE) posts an Inform and an empty POST to a toy ACS on loopback, which answers with an
InformResponse and 204.  Run as root, with iptables (the rules are removed at the end):

    python captures/record_nflog.py [OUT.pcap]

The committed file was made by this script; re-running it gives the same exchanges with new
ports, sequence numbers and times.
"""

from __future__ import annotations

import http.server
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from loopback import HOST, TIMEOUT, Tcpdump, packets_captured
from record_http import INFORM, INFORM_RESPONSE

GROUP = 27  # the netfilter log group: any free one


class _Acs(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if body:
            self.send_response(200)
            self.send_header("Content-Type", "text/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(INFORM_RESPONSE)))
            self.end_headers()
            self.wfile.write(INFORM_RESPONSE.encode())
        else:  # the empty POST: nothing more to ask, the session ends
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()


def _iptables(action: str, port: int) -> None:
    for where in ("--dport", "--sport"):
        rule = ["OUTPUT", "-o", "lo", "-p", "tcp", where, str(port),
                "-j", "NFLOG", "--nflog-group", str(GROUP)]
        subprocess.run(["iptables", action, *rule], check=True, capture_output=True, timeout=TIMEOUT)


def record(out: Path) -> int:
    """Record the session into ``out``; the number of packets captured."""
    if shutil.which("iptables") is None or shutil.which("curl") is None:
        raise RuntimeError("needs iptables and curl (and root)")
    server = http.server.ThreadingHTTPServer((HOST, 0), _Acs)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _iptables("-I", port)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            inform = Path(tmp) / "inform.xml"
            inform.write_text(INFORM)
            dump = Tcpdump(out, [port], interface=f"nflog:{GROUP}")
            try:
                url = f"http://{HOST}:{port}/acs"
                # One connection: the Inform, then the empty POST (curl keeps it alive between them).
                xml = "Content-Type: text/xml; charset=utf-8"
                first = ["-sS", "-o", "/dev/null", "-H", xml, "--data-binary", f"@{inform}", url]
                empty = ["-sS", "-o", "/dev/null", "-X", "POST", "-H", "Content-Length: 0", url]
                subprocess.run(["curl", *first, "--next", *empty], check=True, timeout=TIMEOUT)
                # The kernel hands a log group's packets over in batches, after at most a second
                # (nfnetlink_log's flush timeout): wait for the last one.
                time.sleep(2.5)
            finally:
                said = dump.stop()
    finally:
        _iptables("-D", port)
        server.shutdown()
    return packets_captured(said)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("nflog_loopback.pcap")
    print(f"{target}: {record(target)} packets")
