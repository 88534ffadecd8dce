"""Record captures/http_loopback.pcap: real curl talking to a local HTTP server on loopback.

The server plays a toy ACS on port 7547 and a CPE connection-request listener on
port 30005 (ports tshark does not associate with HTTP).  curl exercises keep-alive,
several requests per connection, a chunked upload, ``Expect: 100-continue``, a
gzip-encoded response, HEAD, 204 and 401.  Run as root (tcpdump on ``lo``):

    python captures/record_http.py [OUT.pcap]

The committed file was made by this script; re-running it gives the same exchanges
with new ports, sequence numbers and times.
"""

from __future__ import annotations

import gzip
import http.server
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

INFORM = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:cwmp="urn:dslforum-org:cwmp-1-0"><soap-env:Header><cwmp:ID soap-env:mustUnderstand="1">1</cwmp:ID>'
    "</soap-env:Header><soap-env:Body><cwmp:Inform><DeviceId><Manufacturer>Example</Manufacturer>"
    "<OUI>001122</OUI><ProductClass>Router</ProductClass><SerialNumber>SN0001</SerialNumber></DeviceId>"
    "<Event><EventStruct><EventCode>1 BOOT</EventCode><CommandKey></CommandKey></EventStruct></Event>"
    "<MaxEnvelopes>1</MaxEnvelopes><CurrentTime>2026-11-25T00:00:00Z</CurrentTime><RetryCount>0</RetryCount>"
    "<ParameterList></ParameterList></cwmp:Inform></soap-env:Body></soap-env:Envelope>\n"
)
INFORM_RESPONSE = (
    '<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:cwmp="urn:dslforum-org:cwmp-1-0"><soap-env:Header><cwmp:ID soap-env:mustUnderstand="1">1</cwmp:ID>'
    "</soap-env:Header><soap-env:Body><cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes>"
    "</cwmp:InformResponse></soap-env:Body></soap-env:Envelope>\n"
)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, and 100-continue handling

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send(self, status: int, body: bytes = b"", extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        if status not in (204, 304):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_POST(self) -> None:
        body = self._body()
        if self.path == "/protected" and "Authorization" not in self.headers:
            self._send(401, b"", {"WWW-Authenticate": 'Basic realm="acs"'})
        elif not body:
            self._send(204)
        elif "gzip" in self.headers.get("Accept-Encoding", ""):
            self._send(200, gzip.compress(INFORM_RESPONSE.encode(), mtime=0),
                       {"Content-Type": "text/xml; charset=utf-8", "Content-Encoding": "gzip"})
        else:
            self._send(200, INFORM_RESPONSE.encode(), {"Content-Type": "text/xml; charset=utf-8",
                                                       "Set-Cookie": "session=0123456789abcdef"})

    def do_GET(self) -> None:
        # A connection request: answered with an empty 200.
        self._send(200, b"")

    def do_HEAD(self) -> None:
        self._send(200, b"x" * 42)


def serve(port: int) -> http.server.ThreadingHTTPServer:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).with_name("http_loopback.pcap"))
    for tool in ("tcpdump", "curl"):
        if shutil.which(tool) is None:
            print(f"record_http: {tool} is needed", file=sys.stderr)
            return 2
    acs, cr = serve(7547), serve(30005)
    dump = subprocess.Popen(["tcpdump", "-i", "lo", "-U", "-s", "0", "-w", str(out),
                             "tcp port 7547 or tcp port 30005"], stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            inform = Path(tmp, "inform.xml")
            inform.write_text(INFORM)
            base = "http://127.0.0.1:7547"
            curl = ["curl", "-s", "-o", "/dev/null"]
            # 1. A CWMP-like exchange on one keep-alive connection: Inform, then an empty POST (204).
            subprocess.run([*curl, "-H", "Content-Type: text/xml", "--data-binary", f"@{inform}", f"{base}/",
                            "--next", *curl[1:], "-X", "POST", "-H", "Content-Length: 0", f"{base}/"],
                           check=True)
            # 2. A chunked upload.
            subprocess.run([*curl, "-H", "Transfer-Encoding: chunked", "--data-binary", f"@{inform}",
                            f"{base}/chunked"], check=True)
            # 3. Expect: 100-continue.
            subprocess.run([*curl, "-H", "Expect: 100-continue", "--data-binary", f"@{inform}",
                            f"{base}/expect"], check=True)
            # 4. A gzip-encoded response.
            subprocess.run([*curl, "--compressed", "--data-binary", f"@{inform}", f"{base}/gzip"], check=True)
            # 5. 401 then a retry with credentials, HEAD, on one connection.
            subprocess.run([*curl, "--data-binary", f"@{inform}", f"{base}/protected", "--next", *curl[1:],
                            "-u", "cpe:secret", "--data-binary", f"@{inform}", f"{base}/protected",
                            "--next", *curl[1:], "-I", f"{base}/status"], check=True)
            # 6. A connection request to the "CPE" on an odd port.
            subprocess.run([*curl, "http://127.0.0.1:30005/cr"], check=True)
            time.sleep(1.0)
    finally:
        dump.terminate()
        dump.wait()
        acs.shutdown()
        cr.shutdown()
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
