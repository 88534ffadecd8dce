"""Playbooks that state what a session builder must say, in the manner of mitmproxy's
(``Playbook(layer) >> event << command``)::

    assert (
        Book()
        >> cpe("Inform") << acs("InformResponse")
        >> cpe() << acs("GetParameterValues")
        >> cpe("TransferComplete") << acs("TransferCompleteResponse")
        << finding("cwmp.unanswered-request", "did not answer GetParameterValues")
        >> cpe() << acs(status=204)
    )

``>> cpe(...)`` is the CPE's POST and ``<< acs(...)`` the ACS's HTTP response to it: one
transaction, fed to the builder when the response is given (a POST followed by anything else
got no response).  OMA DM playbooks (:func:`tests.dmsniff.sessions.dm.dm_book`) read the same
way, ``>> client(...) << server(...)``, with ``>> push(...)`` for a Package #0 datagram.
``<< finding(code[, words])`` states a finding the step just before raised;
``>> close()``, ``>> wait(seconds)`` and ``>> end()`` (the capture's end) are steps too.
``assert book`` ends the capture if no ``end()`` did, and holds only if the findings raised are
exactly the ones stated, in order, each stated right after the step that raised it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from decoders import cwmp
from dmsniff.model import Direction, Finding
from dmsniff.pipeline import Addon
from tests.dmsniff.sessions.playbook import Collector, Playbook, inform, rpc

HOLD = '<cwmp:HoldRequests soap:mustUnderstand="1">1</cwmp:HoldRequests>'


@dataclass(frozen=True)
class Message:
    """One side's HTTP message in a CWMP exchange."""

    direction: Direction
    body: bytes
    label: str
    status: int = 200
    conn: str = "C1"
    cookie: str | None = None
    set_cookie: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


def _body(what: bytes | str, cwmp_id: str, header_extra: str = "") -> tuple[bytes, str]:
    """An RPC by name (``"Inform"`` a whole Inform), or the bytes as given."""
    if isinstance(what, bytes):
        return what, cwmp.decode(what).kind if what else "empty"
    if what == "Inform":
        return inform(cwmp_id=cwmp_id), what
    return rpc(what, cwmp_id, header_extra=header_extra), what


def cpe(
    what: bytes | str = b"",
    *,
    cwmp_id: str = "1",
    conn: str = "C1",
    cookie: str | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> Message:
    """The CPE's POST: an RPC by name, a body, or (nothing given) the empty POST."""
    body, label = _body(what, cwmp_id)
    return Message(Direction.TO_SERVER, body, label, conn=conn, cookie=cookie, headers=headers)


def acs(
    what: bytes | str = b"",
    *,
    status: int = 200,
    cwmp_id: str = "1",
    hold: bool = False,
    set_cookie: str | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> Message:
    """The ACS's HTTP response: an RPC by name (``hold``: with HoldRequests=true), a body, or none."""
    body, label = _body(what, cwmp_id, HOLD if hold else "")
    return Message(
        Direction.TO_CLIENT, body, f"{status} {label}", status, set_cookie=set_cookie, headers=headers
    )


@dataclass(frozen=True)
class Event:
    """A step that is not a message: a connection's end, time passing, the capture's end, a datagram
    (``payload`` from ``src`` to ``dst``, each "ip:port")."""

    kind: str
    conn: str = "C1"
    seconds: float = 0.0
    payload: bytes = b""
    src: str = ""
    dst: str = ""


def close(conn: str = "C1") -> Event:
    return Event("close", conn)


def wait(seconds: float) -> Event:
    return Event("wait", seconds=seconds)


def end() -> Event:
    return Event("end")


@dataclass(frozen=True)
class Expect:
    """A finding the step before must raise: its code, and words its message contains."""

    code: str
    words: str = ""

    def matches(self, f: Finding) -> bool:
        return f.code == self.code and self.words in f.message


def finding(code: str, words: str = "") -> Expect:
    return Expect(code, words)


@dataclass
class Book:
    """A playbook over a session builder (a CWMP one unless told)."""

    builder: Addon | None = None
    post_kw: dict[str, object] = field(default_factory=dict)  # what every exchange shares (DM: uri, type)
    out: Collector | None = None
    sides: tuple[str, str] = ("cpe", "acs")  # the names of the device and the server in the step listing
    pb: Playbook = field(init=False)
    steps: list[str] = field(default_factory=list)  # what each step was, for the failure message
    raised: list[tuple[int, Finding]] = field(default_factory=list)  # (step, finding) in order
    expected: list[tuple[int, Expect]] = field(default_factory=list)
    _post: Message | None = None
    _seen: set[int] = field(default_factory=set)
    _ended: bool = False

    def __post_init__(self) -> None:
        self.pb = Playbook(self.builder, out=self.out)

    # -- the operators ---------------------------------------------------------------------------
    def __rshift__(self, step: Message | Event) -> Book:
        self._flush()
        if isinstance(step, Message):
            assert step.direction is Direction.TO_SERVER, "the ACS's message goes with <<"
            self._post = step
            return self
        if step.kind == "close":
            self.pb.close(step.conn)
        elif step.kind == "wait":
            self.pb.time += step.seconds
        elif step.kind == "datagram":
            (src, sport), (dst, dport) = (a.rsplit(":", 1) for a in (step.src, step.dst))
            self.pb.datagram(step.payload, src, int(sport), dst, int(dport))
            self._stepped(f">> datagram {step.src} -> {step.dst}")
            return self
        else:
            self.pb.end()
            self._ended = True
        self._stepped(f">> {step.kind}({step.conn if step.kind == 'close' else step.seconds or ''})")
        return self

    def __lshift__(self, step: Message | Expect) -> Book:
        if isinstance(step, Expect):
            self._flush()
            self.expected.append((len(self.steps) - 1, step))
            return self
        assert step.direction is Direction.TO_CLIENT, "the CPE's message goes with >>"
        assert self._post is not None, "an ACS response answers a CPE POST: >> cpe(...) first"
        post, self._post = self._post, None
        self._send(post, step)
        return self

    def __bool__(self) -> bool:
        self._flush()
        if not self._ended:
            self.__rshift__(end())
        got = [(i, f) for i, f in self.raised]
        if len(got) == len(self.expected) and all(
            i == j and e.matches(f) for (i, f), (j, e) in zip(got, self.expected, strict=True)
        ):
            return True
        lines = ["findings differ from the playbook (step: code, message):"]
        for n, label in enumerate(self.steps):
            lines.append(f"  {n:>2} {label}")
            lines += [f"       raised   {f.code}: {f.message}" for i, f in got if i == n]
            lines += [f"       expected {e.code}: ...{e.words}..." for j, e in self.expected if j == n]
        raise AssertionError("\n".join(lines))

    @property
    def findings(self) -> list[Finding]:
        """The findings raised so far, in order (sessions' and global)."""
        self._flush()
        return [f for _, f in self.raised]

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    # -- feeding the builder ------------------------------------------------------------------------
    def _flush(self) -> None:
        """A POST still waiting for its response got none."""
        if self._post is not None:
            post, self._post = self._post, None
            self._send(post, None)

    def _send(self, post: Message, answer: Message | None) -> None:
        self.pb.post(
            post.body,
            conn=post.conn,
            cookie=post.cookie,
            headers=list(post.headers),
            no_response=answer is None,
            status=answer.status if answer is not None else 200,
            answer=answer.body if answer is not None else b"",
            set_cookie=answer.set_cookie if answer is not None else None,
            answer_headers=list(answer.headers) if answer is not None else None,
            **self.post_kw,  # type: ignore[arg-type]
        )
        reply = f" << {self.sides[1]} {answer.label}" if answer is not None else " (no response)"
        self._stepped(f">> {self.sides[0]} {post.label}{reply}")

    def _stepped(self, label: str) -> None:
        """Note the findings the step raised: sessions still open hold theirs, emitted ones too."""
        self.steps.append(label)
        builders = getattr(self.pb.builder, "addons", (self.pb.builder,))  # a chain: each of its addons
        live = [v for b in builders for v in getattr(b, "live", {}).values()]
        sessions = [s for s in self.pb.out.sessions] + [getattr(v, "session", v) for v in live]
        for f in [f for s in sessions for f in s.findings] + self.pb.out.findings:
            if id(f) not in self._seen:
                self._seen.add(id(f))
                self.raised.append((len(self.steps) - 1, f))
