"""Record captures/digest_loopback.pcap: HTTP Digest authentication (RFC 2617) between real peers.

The server is a private Apache httpd (prefork, in the foreground, from a config generated in a
temporary directory) with mod_auth_digest, realm ``dmsniff-test``, ``AuthDigestAlgorithm MD5``,
``AuthDigestQop auth`` and an ``AuthUserFile`` in htdigest format, protecting two locations:
``/secret/`` (serving ``/secret/file.txt``) and ``/private/`` (``AuthDigestDomain /private/``,
serving ``/private/data.txt``).  This Apache refuses ``AuthDigestAlgorithm MD5-sess`` ("Unsupported
algorithm") and any ``AuthDigestQop`` other than ``auth`` ("only 'auth' is supported"), so every
challenge is ``algorithm=MD5, qop="auth"``.  The clients are curl (``--digest``) and python-requests
(``HTTPDigestAuth``).  tcpdump records it all on ``lo``.  The capture holds, in order:

1. curl, alice/alice-pass, ``GET /secret/file.txt`` twice in one run (``--next``), one keep-alive
   connection: curl does the 401 dance for each transfer (fresh nonce, nc=00000001 both times);
2. curl, alice/WRONG, ``GET /secret/file.txt``: 401, then 401 again for the Authorization;
3. curl, bob/bob-pass, ``GET /secret/file.txt?x=1&y=2`` (the Digest uri carries the query): 200;
4. requests, one Session, bob/bob-pass, ``GET /secret/file.txt`` three times on one connection:
   the 401 dance once, then the same nonce with nc=00000002 and 00000003 (new cnonce each time);
5. requests, a NEW Session (a new connection) with the SAME ``HTTPDigestAuth`` object,
   ``GET /secret/file.txt?x=1&y=2``: Authorization sent up front, with the nonce of step 4 and
   nc=00000004 -- a nonce reused across TCP connections -- and Apache accepts it: 200;
6. requests, alice/nope, ``GET /secret/file.txt``: 401, then 401 again for the Authorization;
7. curl, alice/alice-pass, ``POST /private/data.txt`` with a form body (method POST in A2): 200.

Secrets: realm ``dmsniff-test``; users alice (password ``alice-pass``) and bob (``bob-pass``);
the wrong passwords tried are ``WRONG`` (curl) and ``nope`` (requests), both as alice.

Ground truth, one entry per request that carried ``Authorization: Digest``, in capture order
(``record()`` returns it; ``main()`` writes it next to the pcap as ``<name>.truth.json``)::

    client    user   password    correct status method uri
    curl      alice  alice-pass  yes     200    GET    /secret/file.txt
    curl      alice  alice-pass  yes     200    GET    /secret/file.txt
    curl      alice  WRONG       no      401    GET    /secret/file.txt
    curl      bob    bob-pass    yes     200    GET    /secret/file.txt?x=1&y=2
    requests  bob    bob-pass    yes     200    GET    /secret/file.txt
    requests  bob    bob-pass    yes     200    GET    /secret/file.txt
    requests  bob    bob-pass    yes     200    GET    /secret/file.txt
    requests  bob    bob-pass    yes     200    GET    /secret/file.txt?x=1&y=2
    requests  alice  nope        no      401    GET    /secret/file.txt
    curl      alice  alice-pass  yes     200    POST   /private/data.txt

The statuses are what the clients saw, and are checked against Apache's own access log (which
also shows which requests shared a TCP connection).  The port is picked at run time.  Run as
root (tcpdump; Apache then runs its children as nobody)::

    python captures/record_digest.py [OUT.pcap]

``record(out_path)`` does the same from Python and returns the ground truth list.  Re-running
gives the same exchanges with new ports, nonces, cnonces, sequence numbers and times.
"""

from __future__ import annotations

import grp
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # captures/ holds loopback.py
from loopback import Tcpdump, packets_captured

HOST = "127.0.0.1"
REALM = "dmsniff-test"
USERS = {"alice": "alice-pass", "bob": "bob-pass"}
FILE_TXT = b"dmsniff digest test: /secret/file.txt\n"
DATA_TXT = b"dmsniff digest test: /private/data.txt\n"
POST_BODY = "cmd=reboot&delay=0"
QUERY = "?x=1&y=2"
MODULE_DIRS = ("/usr/lib/apache2/modules", "/usr/lib64/httpd/modules", "/usr/lib/httpd/modules")
MODULES = ("mpm_prefork", "authz_core", "authn_core", "authn_file", "authz_user", "auth_digest", "mime")
ACCESS_FORMAT = r"%{remote}p\t%>s\t%r\t%{Authorization}i"
TIMEOUT = 10.0  # seconds, for any one step

# --- Apache -------------------------------------------------------------------------------------


def htdigest_line(user: str, password: str, realm: str = REALM) -> str:
    return f"{user}:{realm}:{hashlib.md5(f'{user}:{realm}:{password}'.encode()).hexdigest()}\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def find_apache(modules: Sequence[str] = ("auth_digest",)) -> tuple[str, Path]:
    """The httpd binary and the folder of its modules, one that holds mod_<m>.so for each of modules."""
    binary = shutil.which("apache2") or shutil.which("httpd")
    if binary is None and os.access("/usr/sbin/apache2", os.X_OK):
        binary = "/usr/sbin/apache2"
    if binary is None:
        raise RuntimeError("apache2 (Apache httpd) is needed")
    names = [f"mod_{m}.so" for m in modules]
    for d in map(Path, MODULE_DIRS):
        if all((d / name).is_file() for name in names):
            return binary, d
    raise RuntimeError(f"apache2: {', '.join(names)} not all found in any of {', '.join(MODULE_DIRS)}")


def server_conf(
    root: Path, moddir: Path, ports: Sequence[int], modules: Sequence[str], log_format: str
) -> list[str]:
    """The server-wide lines of a private httpd config: modules, files under root, listeners, prefork."""
    loads = [f"LoadModule {m}_module {moddir / f'mod_{m}.so'}" for m in modules]
    if (moddir / "mod_log_config.so").is_file():  # Debian builds it in
        loads.append(
            f"<IfModule !log_config_module>\nLoadModule log_config_module {moddir}/mod_log_config.so"
            "\n</IfModule>"
        )
    user = ""
    if os.geteuid() == 0:  # Apache will not serve as root
        try:
            group = grp.getgrnam("nogroup").gr_name
        except KeyError:
            group = "nobody"
        user = f"User nobody\nGroup {group}\n"
    return [
        *loads,
        f"ServerRoot {root}",
        f"DefaultRuntimeDir {root}",
        f"PidFile {root / 'httpd.pid'}",
        f"ErrorLog {root / 'error.log'}",
        "LogLevel warn",
        f'LogFormat "{log_format}" dmsniff',
        f"CustomLog {root / 'access.log'} dmsniff",
        *[f"Listen {HOST}:{port}" for port in ports],
        f"ServerName {HOST}:{ports[0]}",
        user + "StartServers 2\nMinSpareServers 2\nMaxSpareServers 4\nMaxRequestWorkers 8",
        "KeepAlive On\nMaxKeepAliveRequests 100\nKeepAliveTimeout 5",
    ]


def digest_auth(user_file: Path, realm: str = REALM) -> str:
    """mod_auth_digest's lines for a <Location>: MD5, qop auth, users from an htdigest file."""
    return (
        f'AuthType Digest\n    AuthName "{realm}"\n    AuthDigestProvider file\n'
        f"    AuthUserFile {user_file}\n    AuthDigestAlgorithm MD5\n    AuthDigestQop auth\n"
        "    Require valid-user"
    )


def httpd_conf(root: Path, moddir: Path, port: int) -> str:
    auth = digest_auth(root / "htdigest")
    return "\n".join(
        [
            *server_conf(root, moddir, [port], MODULES, ACCESS_FORMAT),
            "TypesConfig /dev/null\nAddType text/plain .txt",
            f"DocumentRoot {root / 'htdocs'}",
            f'<Directory "{root / "htdocs"}">\n    Require all granted\n</Directory>',
            f"<Location /secret/>\n    {auth}\n</Location>",
            f"<Location /private/>\n    {auth}\n    AuthDigestDomain /private/\n</Location>",
            "",
        ]
    )


def digest_site(root: Path, moddir: Path, port: int) -> str:
    """Writes this scenario's files under root; returns its httpd config."""
    (root / "htdocs" / "secret").mkdir(parents=True)
    (root / "htdocs" / "private").mkdir()
    (root / "htdocs" / "secret" / "file.txt").write_bytes(FILE_TXT)
    (root / "htdocs" / "private" / "data.txt").write_bytes(DATA_TXT)
    (root / "htdigest").write_text("".join(htdigest_line(u, p) for u, p in USERS.items()))
    return httpd_conf(root, moddir, port)


class Apache:
    """A private httpd in the foreground, in its own process group; the constructor returns once it serves."""

    def __init__(
        self, binary: str, root: Path, port: int, conf: str, env: dict[str, str] | None = None
    ) -> None:
        """Runs the config conf (its files already under root) in the environment env (None: ours);
        port is a plain-HTTP listener of it."""
        self.root, self.port = root, port
        (root / "httpd.conf").write_text(conf)
        for path in [root, *root.rglob("*")]:  # the children run as nobody
            path.chmod(0o755 if path.is_dir() else 0o644)
        self.stderr = (root / "stderr.log").open("wb")
        try:
            self.proc = subprocess.Popen(
                [binary, "-d", str(root), "-f", str(root / "httpd.conf"), "-DFOREGROUND"],
                stdin=subprocess.DEVNULL,
                stdout=self.stderr,
                stderr=self.stderr,
                start_new_session=True,
                env=env,
            )
        except OSError as exc:
            self.stderr.close()
            raise RuntimeError(f"cannot run {binary}: {exc}") from exc
        deadline = time.monotonic() + TIMEOUT
        while True:
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"apache2 did not start: {self.said()}")
            if self._ready():
                return
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"apache2 did not listen on {HOST}:{port}: {self.said()}")
            time.sleep(0.05)

    def _ready(self) -> bool:
        """Apache writes its PidFile once its listener is bound (so the port is its, not another's)."""
        pidfile = self.root / "httpd.pid"
        if not pidfile.exists() or pidfile.read_text().strip() != str(self.proc.pid):
            return False
        try:
            socket.create_connection((HOST, self.port), timeout=0.2).close()
        except OSError:
            return False
        return True

    def said(self) -> str:
        """The last thing Apache wrote to stderr or its error log, on one line."""
        lines = []
        for name in ("stderr.log", "error.log"):
            path = self.root / name
            if path.exists():
                lines += [ln.strip() for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
        return " | ".join(lines[-3:]) or "no output"

    def stop(self) -> None:
        """SIGTERM to the parent (it stops its children); then SIGKILL whatever is left of the group."""
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=TIMEOUT)
            deadline = time.monotonic() + TIMEOUT / 2
            while _group_alive(self.proc.pid):
                if time.monotonic() > deadline:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                    break
                time.sleep(0.05)
        finally:
            self.stderr.close()

    def access_log(self) -> list[tuple[int, int, str, str, bool]]:
        """(client port, status, method, request-target, has Authorization) per request Apache logged."""
        out = []
        for line in (self.root / "access.log").read_text().splitlines():
            port, status, request, auth = line.split("\t")
            method, target, _ = request.split(" ")
            out.append((int(port), int(status), method, target, auth != "-"))
        return out


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- the clients --------------------------------------------------------------------------------


class Exchange:
    """One HTTP request a client sent and the status it got back."""

    def __init__(  # a plain class: loading the module needs no sys.modules entry
        self,
        client: str,
        conn: str,
        user: str,
        password: str,
        method: str,
        uri: str,
        status: int,
        authorization: str | None,
    ) -> None:
        self.client = client
        self.conn = conn  # the TCP connection it should go on (a label)
        self.user = user
        self.password = password
        self.method = method
        self.uri = uri  # the request-target
        self.status = status
        self.authorization = authorization  # the Authorization header, if any


USERNAME_RE = re.compile(r'username="([^"]*)"')


def curl(
    conn: str,
    base: str,
    user: str,
    password: str,
    paths: list[str],
    data: str | None = None,
) -> list[Exchange]:
    """One curl run, one keep-alive connection, one transfer per path; -v tells each request's fate."""
    args = ["curl"]
    for i, path in enumerate(paths):
        if i:
            args.append("--next")
        args += [
            "-sS",
            "-v",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{num_connects}\\n",
            "--max-time",
            "5",
            "--connect-timeout",
            "2",
            "--digest",
            "-u",
            f"{user}:{password}",
            "-H",
            "Expect:",
        ]
        if data is not None:
            args += ["--data-binary", data]
        args.append(base + path)
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"curl timed out ({conn})") from exc
    if done.returncode:
        raise RuntimeError(
            f"curl failed ({conn}, {done.returncode}): {(done.stderr.strip().splitlines() or [''])[-1]}"
        )
    out: list[Exchange] = []
    current: Exchange | None = None
    for line in done.stderr.splitlines():
        line = line.rstrip("\r")
        if m := re.match(r"> ([A-Z]+) (\S+) HTTP/[\d.]+$", line):
            current = Exchange("curl", conn, user, password, m[1], m[2], 0, None)
        elif current is not None and (m := re.match(r"> Authorization: (Digest .*)$", line, re.I)):
            current.authorization = m[1]
        elif current is not None and (m := re.match(r"< HTTP/[\d.]+ (\d{3})", line)):
            current.status = int(m[1])
            out.append(current)
            current = None
    got = [line.split() for line in done.stdout.splitlines()]
    finals = [int(code) for code, _ in got]
    connects = sum(int(n) for _, n in got)
    # the last response of each transfer is the one -w reports
    ends = [ex.status for i, ex in enumerate(out) if i + 1 == len(out) or out[i + 1].authorization is None]
    if len(got) != len(paths) or connects != 1 or finals != ends:
        raise RuntimeError(f"curl ({conn}): -w says {got}, -v shows {[(e.uri, e.status) for e in out]}")
    return out


def via_requests(
    conn: str, session: Any, base: str, path: str, auth: Any, user: str, password: str
) -> list[Exchange]:
    """One GET on a requests Session; response.history holds the 401 the auth handler retried."""
    import requests

    try:
        r = session.get(base + path, auth=auth, timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise RuntimeError(f"requests ({conn}): {exc}") from exc
    return [
        Exchange(
            "requests",
            conn,
            user,
            password,
            x.request.method,
            x.request.path_url,
            x.status_code,
            x.request.headers.get("Authorization"),
        )
        for x in [*r.history, r]
    ]


def scenario(base: str) -> list[Exchange]:
    """The exchanges of the module docstring, in order."""
    try:
        import requests
        from requests.auth import HTTPDigestAuth
    except ImportError as exc:
        raise RuntimeError("record_digest: python-requests is needed (pip install -e '.[test]')") from exc
    secret, private = "/secret/file.txt", "/private/data.txt"
    alice, bob = USERS["alice"], USERS["bob"]
    ex = curl("curl-1", base, "alice", alice, [secret, secret])
    ex += curl("curl-2", base, "alice", "WRONG", [secret])
    ex += curl("curl-3", base, "bob", bob, [secret + QUERY])
    bob_auth = HTTPDigestAuth("bob", bob)
    with requests.Session() as s:
        for _ in range(3):
            ex += via_requests("requests-1", s, base, secret, bob_auth, "bob", bob)
    with requests.Session() as s:  # a new connection, the old auth state: nonce reused, nc=00000004
        ex += via_requests("requests-2", s, base, secret + QUERY, bob_auth, "bob", bob)
    with requests.Session() as s:
        ex += via_requests("requests-3", s, base, secret, HTTPDigestAuth("alice", "nope"), "alice", "nope")
    ex += curl("curl-4", base, "alice", alice, [private], data=POST_BODY)
    return ex


def check(exchanges: list[Exchange], logged: list[tuple[int, int, str, str, bool]]) -> None:
    """The clients' view against Apache's: same requests, statuses and connections; verdicts right."""
    mine = [(e.status, e.method, e.uri, e.authorization is not None) for e in exchanges]
    theirs = [entry[1:] for entry in logged]
    if mine != theirs:
        raise RuntimeError(f"the clients saw {mine} but Apache logged {theirs}")
    ports: dict[str, set[int]] = {}
    for e, entry in zip(exchanges, logged, strict=True):
        ports.setdefault(e.conn, set()).add(entry[0])
    if any(len(p) != 1 for p in ports.values()) or len(set().union(*ports.values())) != len(ports):
        raise RuntimeError(f"connections are not as planned: {ports}")
    for e in exchanges:
        if e.authorization is None:
            continue
        m = USERNAME_RE.search(e.authorization)
        if not e.authorization.startswith("Digest ") or not m or m[1] != e.user:
            raise RuntimeError(f"{e.client} sent {e.authorization!r} for {e.user}")
        if e.status != (200 if USERS[e.user] == e.password else 401):
            raise RuntimeError(f"Apache answered {e.status} to {e.user}/{e.password} on {e.method} {e.uri}")


# --- the recording ------------------------------------------------------------------------------


def record(out_path: str | Path) -> list[dict[str, Any]]:
    """Records the exchanges of the module docstring into the pcap file out_path.

    Returns the ground truth: per request that carried Authorization: Digest, in capture order,
    {"client", "user", "password_used", "correct", "status", "uri", "method"}.
    """
    return record_counted(out_path)[0]


def record_counted(out_path: str | Path) -> tuple[list[dict[str, Any]], int]:
    """record(), and the number of packets tcpdump captured."""
    out = Path(out_path)
    for tool in ("tcpdump", "curl"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"record_digest: {tool} is needed")
    binary, moddir = find_apache()
    out.parent.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://{HOST}:{port}"
    with tempfile.TemporaryDirectory(prefix="record_digest-") as tmp:
        apache = Apache(binary, Path(tmp), port, digest_site(Path(tmp), moddir, port))
        try:
            dump = Tcpdump(out, [port])
            try:
                exchanges = scenario(base)
            except RuntimeError as exc:  # say what Apache said too
                raise RuntimeError(f"{exc}; apache2: {apache.said()}") from exc
            else:
                time.sleep(0.5)  # let the last FIN/ACKs reach tcpdump
            finally:
                said = dump.stop()
        finally:
            apache.stop()
        check(exchanges, apache.access_log())
    captured = packets_captured(said)
    truth = [
        {
            "client": e.client,
            "user": e.user,
            "password_used": e.password,
            "correct": USERS[e.user] == e.password,
            "status": e.status,
            "uri": e.uri,
            "method": e.method,
        }
        for e in exchanges
        if e.authorization is not None
    ]
    return truth, captured


def truth_path(pcap: Path) -> Path:
    return pcap.with_suffix(".truth.json")


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else Path(__file__).with_name("digest_loopback.pcap"))
    try:
        truth, packets = record_counted(out)
        truth_path(out).write_text(json.dumps(truth, indent=1) + "\n")
    except (RuntimeError, OSError) as exc:
        print(f"record_digest: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {out}: {packets} packets, {len(truth)} authenticated requests in {truth_path(out).name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
