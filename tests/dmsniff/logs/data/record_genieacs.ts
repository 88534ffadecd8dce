// Records genieacs-debug.yaml (and .jsonl) with GenieACS's own debug writer.
//
// GenieACS itself needs MongoDB, which this project's machines do not have, so the ACS here is a
// small script that answers like genieacs-cwmp does (Digest challenge on plain HTTP with
// qop="auth,auth-int", InformResponse with Set-Cookie session=..., GetParameterValues, 204, a
// connection request with Digest), and every message goes through GenieACS's real lib/debug.ts
// and lib/common/yaml.ts (AGPL, not copied here: taken from a GenieACS checkout at run time), on
// real Node.js http objects.  Two CPEs (127.0.0.2 and 127.0.0.3) talk to it over keep-alive
// connections; the first is then woken by a connection request and opens a second session.
//
// Run (Node.js 20, esbuild from npm; GENIEACS = a checkout of github.com/genieacs/genieacs):
//   mkdir -p /tmp/gacs/lib/common && cp $GENIEACS/lib/debug.ts /tmp/gacs/lib/ &&
//   cp $GENIEACS/lib/common/yaml.ts /tmp/gacs/lib/common/ && cp record_genieacs.ts /tmp/gacs/ &&
//   (stubs lib/config.ts and lib/server.ts: see the end of this file) &&
//   cd /tmp/gacs && npx esbuild record_genieacs.ts --bundle --platform=node --outfile=rec.js &&
//   GENIEACS_DEBUG_FILE=genieacs-debug.yaml node rec.js &&
//   GENIEACS_DEBUG_FORMAT=json GENIEACS_DEBUG_FILE=genieacs-debug.jsonl node rec.js
import * as http from "node:http";
import * as crypto from "node:crypto";
import { AddressInfo } from "node:net";
import * as debug from "./lib/debug.ts";

const SOAP = 'xmlns:soap-enc="http://schemas.xmlsoap.org/soap/encoding/" ' +
  'xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" ' +
  'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:cwmp="urn:dslforum-org:cwmp-1-0"';
const md5 = (s: string) => crypto.createHash("md5").update(s).digest("hex");
const USERS: Record<string, string> = { "202BC1-BM632w-000007": "cpe-pass-7", "00259E-HG8245-000042": "cpe-pass-42" };

function acsEnvelope(id: string, body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<soap-env:Envelope ${SOAP}><soap-env:Header>` +
    `<cwmp:ID soap-env:mustUnderstand="1">${id}</cwmp:ID></soap-env:Header><soap-env:Body>${body}` +
    `</soap-env:Body></soap-env:Envelope>`;
}

// -- the ACS ------------------------------------------------------------------------------------
const nonces = new WeakMap<object, string>();
const sessions = new Map<string, { device: string; step: number }>();
let sessionNo = 0;

function respond(req: http.IncomingMessage, res: http.ServerResponse, device: string | null, code: number,
                 headers: Record<string, string>, body: string): void {
  res.setHeader("Content-Length", Buffer.byteLength(body));
  res.writeHead(code, headers);
  debug.outgoingHttpResponse(res, device, body);
  res.end(body);
}

function checkDigest(req: http.IncomingMessage, body: string, device: string): boolean {
  const auth = req.headers.authorization ?? "";
  const f: Record<string, string> = {};
  for (const m of auth.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) f[m[1]] = m[2] ?? m[3];
  const nonce = nonces.get(req.socket);
  if (!auth.startsWith("Digest ") || f.nonce !== nonce || !USERS[device]) return false;
  const ha1 = md5(`${device}:GenieACS:${USERS[device]}`);
  const ha2 = md5(`${req.method}:${f.uri}`);
  return f.response === md5(`${ha1}:${nonce}:${f.nc}:${f.cnonce}:${f.qop}:${ha2}`) && body.length >= 0;
}

const acs = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    const cookie = /session=(\w+)/.exec(req.headers.cookie ?? "")?.[1];
    const inform = /<SerialNumber>([^<]*)<\/SerialNumber>/.exec(body);
    if (inform) {
      const oui = /<OUI>([^<]*)</.exec(body)![1];
      const pc = /<ProductClass>([^<]*)</.exec(body)![1];
      const device = `${oui}-${pc}-${inform[1]}`;
      debug.incomingHttpRequest(req, device, body);
      if (!checkDigest(req, body, device)) {
        const nonce = crypto.randomBytes(16).toString("hex");
        nonces.set(req.socket, nonce);
        respond(req, res, device, 401, {
          "WWW-Authenticate": `Digest realm="GenieACS",qop="auth,auth-int",nonce="${nonce}"`,
        }, "Unauthorized");
        return;
      }
      const sid = (++sessionNo).toString(16).padStart(16, "0");
      sessions.set(sid, { device, step: 0 });
      const id = /<cwmp:ID[^>]*>([^<]*)</.exec(body)?.[1] ?? "1";
      respond(req, res, device, 200, {
        "Content-Type": 'text/xml; charset="utf-8"', SOAPServer: "GenieACS/1.2.13", "Set-Cookie": `session=${sid}`,
      }, acsEnvelope(id, "<cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse>"));
      return;
    }
    const s = cookie ? sessions.get(cookie) : undefined;
    debug.incomingHttpRequest(req, s?.device ?? null, body);
    if (s && s.step === 0 && !body) {
      s.step = 1;
      respond(req, res, s.device, 200, { "Content-Type": 'text/xml; charset="utf-8"', SOAPServer: "GenieACS/1.2.13" },
        acsEnvelope(crypto.randomBytes(4).toString("hex"), "<cwmp:GetParameterValues><ParameterNames " +
          'soap-enc:arrayType="xsd:string[1]"><string>InternetGatewayDevice.DeviceInfo.UpTime</string>' +
          "</ParameterNames></cwmp:GetParameterValues>"));
      return;
    }
    respond(req, res, s?.device ?? null, 204, {}, "");
  });
});

// -- the CPEs -----------------------------------------------------------------------------------
function post(agent: http.Agent, port: number, body: string, headers: Record<string, string> = {}):
    Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const r = http.request({ host: "127.0.0.1", port, path: "/", method: "POST", agent,
      headers: { "Content-Type": "text/xml; charset=utf-8", SOAPAction: "", "Content-Length": Buffer.byteLength(body),
        ...headers } }, (res) => {
      const c: Buffer[] = [];
      res.on("data", (d: Buffer) => c.push(d));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(c).toString() }));
    });
    r.on("error", reject);
    r.end(body);
  });
}

function informBody(oui: string, pc: string, sn: string, event: string, crUrl: string, id: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<soap-env:Envelope ${SOAP}><soap-env:Header>` +
    `<cwmp:ID soap-env:mustUnderstand="1">${id}</cwmp:ID></soap-env:Header><soap-env:Body><cwmp:Inform>` +
    `<DeviceId><Manufacturer>Acme</Manufacturer><OUI>${oui}</OUI><ProductClass>${pc}</ProductClass>` +
    `<SerialNumber>${sn}</SerialNumber></DeviceId><Event soap-enc:arrayType="cwmp:EventStruct[1]"><EventStruct>` +
    `<EventCode>${event}</EventCode><CommandKey></CommandKey></EventStruct></Event><MaxEnvelopes>1</MaxEnvelopes>` +
    `<CurrentTime>2026-12-04T12:00:00Z</CurrentTime><RetryCount>0</RetryCount><ParameterList ` +
    `soap-enc:arrayType="cwmp:ParameterValueStruct[2]"><ParameterValueStruct><Name>InternetGatewayDevice.` +
    `ManagementServer.ConnectionRequestURL</Name><Value xsi:type="xsd:string">${crUrl}</Value>` +
    `</ParameterValueStruct><ParameterValueStruct><Name>InternetGatewayDevice.DeviceInfo.SoftwareVersion</Name>` +
    `<Value xsi:type="xsd:string">V3R017C10S115</Value></ParameterValueStruct></ParameterList></cwmp:Inform>` +
    `</soap-env:Body></soap-env:Envelope>`;
}

function digest(challenge: string, user: string, password: string, method: string, uri: string): string {
  const nonce = /nonce="([^"]*)"/.exec(challenge)![1];
  const realm = /realm="([^"]*)"/.exec(challenge)![1];
  const cnonce = crypto.randomBytes(8).toString("hex");
  const ha1 = md5(`${user}:${realm}:${password}`);
  const response = md5(`${ha1}:${nonce}:00000001:${cnonce}:auth:${md5(`${method}:${uri}`)}`);
  return `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", qop=auth, ` +
    `nc=00000001, cnonce="${cnonce}", response="${response}"`;
}

async function session(local: string, port: number, oui: string, pc: string, sn: string, event: string,
                       crUrl: string, password: string): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1, localAddress: local } as http.AgentOptions);
  const inform = informBody(oui, pc, sn, event, crUrl, String(Math.floor(Math.random() * 1e6)));
  const first = await post(agent, port, inform);
  const auth = digest(String(first.headers["www-authenticate"]), `${oui}-${pc}-${sn}`, password, "POST", "/");
  const ir = await post(agent, port, inform, { Authorization: auth });
  const cookie = String(ir.headers["set-cookie"]).split(";")[0];
  const gpv = await post(agent, port, "", { Cookie: cookie });
  const id = /<cwmp:ID[^>]*>([^<]*)</.exec(gpv.body)![1];
  await post(agent, port, `<?xml version="1.0" encoding="UTF-8"?>\n<soap-env:Envelope ${SOAP}><soap-env:Header>` +
    `<cwmp:ID soap-env:mustUnderstand="1">${id}</cwmp:ID></soap-env:Header><soap-env:Body>` +
    `<cwmp:GetParameterValuesResponse><ParameterList soap-enc:arrayType="cwmp:ParameterValueStruct[1]">` +
    `<ParameterValueStruct><Name>InternetGatewayDevice.DeviceInfo.UpTime</Name><Value xsi:type="xsd:unsignedInt">` +
    `${3600 + port % 100}</Value></ParameterValueStruct></ParameterList></cwmp:GetParameterValuesResponse>` +
    `</soap-env:Body></soap-env:Envelope>`, { Cookie: cookie });
  agent.destroy();
}

// The connection request, as lib/connection-request.ts sends it: GET, and again with Digest after a 401.
function crGet(url: URL, device: string, auth?: string): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const options: http.RequestOptions = { hostname: url.hostname, port: url.port, path: url.pathname + url.search,
      method: "GET", agent: new http.Agent({ maxSockets: 1 }), headers: auth ? { Authorization: auth } : {} };
    const req = http.request(options, (res) => {
      debug.outgoingHttpRequest(req, device, "GET", url, null);
      debug.incomingHttpResponse(res, device, null);
      res.resume();
      res.on("end", () => resolve(res));
    });
    req.on("error", (err) => { debug.outgoingHttpRequestError(req, device, "GET", url, err); reject(err); });
    req.end();
  });
}

async function main(): Promise<void> {
  await new Promise<void>((r) => acs.listen(0, "127.0.0.1", r));
  const port = (acs.address() as AddressInfo).port;
  // CPE 1's connection request listener, Digest-protected (cruser / crpass).
  let woken: () => void = () => {};
  const cr = http.createServer((req, res) => {
    if (!(req.headers.authorization ?? "").startsWith("Digest ")) {
      res.writeHead(401, { "WWW-Authenticate": `Digest realm="cpe-7",qop="auth",nonce="${crypto.randomBytes(8).toString("hex")}"` });
      res.end();
      return;
    }
    res.writeHead(200, { "Content-Length": "0" });
    res.end();
    woken();
  });
  await new Promise<void>((r) => cr.listen(0, "127.0.0.2", r));
  const crUrl = `http://127.0.0.2:${(cr.address() as AddressInfo).port}/cr-7`;
  // Two devices at once: their connections interleave in the log.
  await Promise.all([
    session("127.0.0.2", port, "202BC1", "BM632w", "000007", "2 PERIODIC", crUrl, USERS["202BC1-BM632w-000007"]),
    session("127.0.0.3", port, "00259E", "HG8245", "000042", "1 BOOT", "http://127.0.0.3:7547/", USERS["00259E-HG8245-000042"]),
  ]);
  const wake = new Promise<void>((r) => { woken = r; });
  const url = new URL(crUrl);
  const challenged = await crGet(url, "202BC1-BM632w-000007");
  await crGet(url, "202BC1-BM632w-000007", digest(String(challenged.headers["www-authenticate"]), "cruser", "crpass",
    "GET", url.pathname));
  await wake;
  await session("127.0.0.2", port, "202BC1", "BM632w", "000007", "6 CONNECTION REQUEST", crUrl,
    USERS["202BC1-BM632w-000007"]);
  acs.close();
  cr.close();
}

main().catch((e) => { console.error(e); process.exit(1); });

// lib/config.ts stub:
//   export function get(name: string): unknown {
//     if (name === "DEBUG_FILE") return process.env.GENIEACS_DEBUG_FILE ?? "";
//     if (name === "DEBUG_FORMAT") return process.env.GENIEACS_DEBUG_FORMAT ?? "yaml";
//   }
// lib/server.ts stub:
//   export function getSocketEndpoints(socket) { return { remoteAddress: socket.remoteAddress, localPort: socket.localPort }; }
