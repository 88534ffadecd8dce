"""Records chromium.har: headless Chromium, driven by Playwright, saving a HAR of a page that talks
CWMP to a local scripted ACS.

The page (served by the ACS itself) posts a CPE's Inform with ``fetch``, is challenged with HTTP
Basic, posts it again with the credentials, gets the InformResponse and a session cookie, posts
the empty message, answers the GetParameterValues and gets the 204: one CWMP session as a browser
sees it.  Playwright writes the HAR (``record_har_path``, bodies embedded); the browser is the
system's ``/usr/bin/chromium`` (Debian's package), never a downloaded one.

    .venv/bin/python tests/dmsniff/logs/data/record_har.py tests/dmsniff/logs/data/chromium.har
"""

from __future__ import annotations

import http.server
import sys
import threading
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
USER, PASSWORD = "cpe-0001", "s3cret"  # the Basic credentials the page sends

SOAP = ('xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:cwmp="urn:dslforum-org:cwmp-1-0" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"')


def envelope(cwmp_id: str, body: str) -> str:
    return (f'<soap:Envelope {SOAP}><soap:Header><cwmp:ID soap:mustUnderstand="1">{cwmp_id}</cwmp:ID>'
            f"</soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>")


INFORM = envelope("br-1", (
    "<cwmp:Inform><DeviceId><Manufacturer>Browserville</Manufacturer><OUI>00AA11</OUI>"
    "<ProductClass>WebCPE</ProductClass><SerialNumber>HAR0001</SerialNumber></DeviceId>"
    "<Event><EventStruct><EventCode>1 BOOT</EventCode><CommandKey></CommandKey></EventStruct></Event>"
    "<MaxEnvelopes>1</MaxEnvelopes><CurrentTime>2026-12-04T12:00:00Z</CurrentTime><RetryCount>0</RetryCount>"
    "<ParameterList><ParameterValueStruct><Name>Device.DeviceInfo.SoftwareVersion</Name>"
    '<Value xsi:type="xsd:string">1.2.3</Value></ParameterValueStruct></ParameterList></cwmp:Inform>'))
GPV = envelope("acs-7", "<cwmp:GetParameterValues><ParameterNames><string>Device.DeviceInfo.UpTime</string>"
               "</ParameterNames></cwmp:GetParameterValues>")
GPV_RESPONSE = envelope("acs-7", (
    "<cwmp:GetParameterValuesResponse><ParameterList><ParameterValueStruct><Name>Device.DeviceInfo.UpTime</Name>"
    '<Value xsi:type="xsd:unsignedInt">4242</Value></ParameterValueStruct></ParameterList>'
    "</cwmp:GetParameterValuesResponse>"))
INFORM_RESPONSE = envelope("br-1",
                           "<cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse>")

PAGE = f"""<!doctype html><title>CWMP from a browser</title><script>
const INFORM = {INFORM!r}, GPV_RESPONSE = {GPV_RESPONSE!r};
async function post(body, auth) {{
  const headers = {{"Content-Type": "text/xml; charset=utf-8", "SOAPAction": ""}};
  if (auth) headers["Authorization"] = "Basic " + btoa({f"{USER}:{PASSWORD}"!r});
  // "omit" on the first post: Chromium then hands the 401 to the page instead of asking for a login.
  const credentials = auth ? "same-origin" : "omit";
  const r = await fetch("/acs", {{method: "POST", body, headers, credentials}});
  return [r.status, await r.text()];
}}
(async () => {{
  await post(INFORM, false);          // 401 Basic
  await post(INFORM, true);           // InformResponse + Set-Cookie
  await post("", true);               // GetParameterValues
  await post(GPV_RESPONSE, true);     // 204
  document.title = "done";
}})();
</script>"""


class Acs(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: str = "", headers: dict[str, str] | None = None) -> None:
        data = body.encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if status != 204:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._send(200, PAGE, {"Content-Type": "text/html; charset=utf-8"})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        xml = {"Content-Type": "text/xml; charset=utf-8"}
        if "cwmp:Inform>" in body and "Authorization" not in self.headers:
            self._send(401, "", {"WWW-Authenticate": 'Basic realm="acs"'})
        elif "cwmp:Inform>" in body:
            self._send(200, INFORM_RESPONSE, {**xml, "Set-Cookie": "acs-session=b7e1; Path=/acs"})
        elif not body:
            self._send(200, GPV, xml)
        else:
            self._send(204)


def record(out: Path) -> None:
    from playwright.sync_api import sync_playwright

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Acs)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            context = browser.new_context(record_har_path=str(out), record_har_content="embed")
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
            page.wait_for_function("document.title === 'done'", timeout=30_000)
            context.close()  # writes the HAR
            browser.close()
    finally:
        server.shutdown()


if __name__ == "__main__":
    record(Path(sys.argv[1] if len(sys.argv) > 1 else "chromium.har"))
