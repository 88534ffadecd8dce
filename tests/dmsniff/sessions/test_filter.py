"""The TUI's session filter language: parsing, every field against sessions rebuilt from real
captures, the algebra of and/or/not under hypothesis, and a timing over 100,000 synthetic sessions.

Run ``python -m tests.dmsniff.tui.test_filter`` from the checkout for the benchmark alone.
"""

from __future__ import annotations

import functools
import gc
import random
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dmsniff.sessions.filter as filter_module
from decoders.cwmp import decode
from dmsniff.pipeline import Pipeline
from dmsniff.sessions import CwmpSessions, DmSessions
from dmsniff.sessions.filter import (
    FIELDS,
    HELP,
    And,
    FilterError,
    MatchAll,
    Not,
    Or,
    SessionTls,
    Term,
    clear_cache,
    compile_filter,
    parse_filter,
)
from dmsniff.sessions.labels import conversation
from dmsniff.sessions.model import Finding, Session, SessionMessage
from dmsniff.verify.secrets import Secret, Secrets
from dmsniff.verify.verifier import Verifier
from tests.conftest import CAPTURES, CORPUS
from tests.dmsniff.sessions.playbook import Collector, fault, inform, rpc

FILES = [
    CAPTURES / "cwmp_loopback.pcap",  # capture 0: S4, S55 (Reboot -> Fault 9001), S84 (UDP CR, signed)
    CAPTURES / "omadm_loopback.pcap",  # capture 1: D1-5, D1-22 (wrong password), D1-35 (rule breaker)
    CAPTURES / "digest_loopback.pcap",  # capture 2: plain HTTP digest, no sessions
    CORPUS / "pcap" / "genieacs_sim_basic_session.pcap",  # capture 3: S3-10, S3-76 (Fault 9000)
]
SECRETS = Secrets(
    [
        Secret("omadm_client", "dmuser", "dmpass"),
        Secret("omadm_server", "dmsniff-dm", "srvpass"),
        Secret("connection_request", "cruser", "crpass"),
    ]
)
CWMP_LOOP = {"S4", "S55", "S84"}
GENIEACS = {"S3-10", "S3-76"}
CWMP = CWMP_LOOP | GENIEACS
OMADM = {"D1-5", "D1-22", "D1-35"}
ALL = CWMP | OMADM


@functools.cache
def capture_sessions() -> tuple[Session, ...]:
    """The sessions of the four captures, verified with the secrets above (built once)."""
    out = Collector()
    Pipeline([Verifier(SECRETS), CwmpSessions(), DmSessions(), out]).run_files([str(p) for p in FILES])
    return tuple(out.sessions)


@pytest.fixture(scope="module")
def sessions(corpus: object) -> tuple[Session, ...]:
    got = capture_sessions()
    assert {s.id for s in got} == ALL and len(got) == len(ALL)
    return got


def select(text: str) -> set[str]:
    """The ids of the capture sessions ``text`` selects."""
    predicate = compile_filter(text)
    return {s.id for s in capture_sessions() if predicate(s)}


# ---------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("", "ALL"),
        ("   ", "ALL"),
        ("a", "a"),
        ("a b", "(a AND b)"),
        ("a and b", "(a AND b)"),
        ("a b or c", "((a AND b) OR c)"),
        ("a or b c", "(a OR (b AND c))"),
        ("a | b|c", "(a OR b OR c)"),
        ("a (b or c)", "(a AND (b OR c))"),
        ("not a b", "(NOT a AND b)"),
        ("!a or !b", "(NOT a OR NOT b)"),
        ("!!a", "NOT NOT a"),
        ("not (a or b)", "NOT (a OR b)"),
        ("NOT a OR b AND c", "(NOT a OR (b AND c))"),
        ("((a))", "a"),
        ("a!b", "a!b"),
        ("x(y)z", "(x AND y AND z)"),
        ('"two words" x', '("two words" AND x)'),
        ('"or"', "or"),
        ('"say \\"hi\\""', '"say \\"hi\\""'),
        ("proto:cwmp fault:9001", "(proto:cwmp AND fault:9001)"),
        ('event:"6 CONNECTION"', 'event:"6 CONNECTION"'),
        ("FAULT:", 'fault:""'),
        ("127.0.0.1:7547", "127.0.0.1:7547"),
        (":x", ":x"),
        ("device:a:b", "device:a:b"),
    ],
)
def test_parse_tree(text: str, tree: str) -> None:
    assert str(parse_filter(text)) == tree


def test_parse_nodes() -> None:
    node = parse_filter('not Proto:DM "a b"')
    assert node == And((Not(Term("proto", "DM", 4, 10)), Term(None, "a b", 13, 13)))
    assert parse_filter('event:"x"') == Term("event", "x", 0, 6)
    assert isinstance(parse_filter("a or b"), Or)
    assert parse_filter("") == MatchAll()


def test_quotes_unescape() -> None:
    (term,) = [parse_filter(r'"a \"b\" c\\d \x"')]
    assert isinstance(term, Term) and term.value == 'a "b" c\\d \\x'
    assert isinstance(t := parse_filter('""'), Term) and t.value == ""


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        ("(a", 0, "unclosed '('"),
        ("a (b (c) d", 2, "unclosed '('"),
        ("a)", 1, "unmatched ')'"),
        ("a) b", 1, "unmatched ')'"),
        (")", 0, "unmatched ')'"),
        ("()", 1, "empty parentheses"),
        ("or a", 0, "expected a term"),
        ("a or", 2, "needs a term after"),
        ("a or or b", 5, "expected a term after 'or'"),
        ("a | ) b", 4, "expected a term after 'or'"),
        ("not", 0, "needs a term after"),
        ("x !", 2, "needs a term after"),
        ("a and", 2, "needs a term after"),
        ('x "abc', 2, "unterminated"),
        ('event:"abc', 6, "unterminated"),
        ('"ab\\"', 0, "unterminated"),
        ("x IMEI:49300", 2, "unknown field 'IMEI'"),
        ("proto:cwmp Foo:bar", 11, "unknown field 'Foo'"),
        ("proto:", 6, "needs a value"),
        ("proto:xyz", 6, "unknown protocol"),
        ("a device:", 9, "needs a value"),
        ("status:4x", 7, "status"),
        ("status:", 7, "needs a value"),
        ("status:xx", 7, "status"),
        ("fault:abc", 6, "fault"),
        ("fault:9*1", 6, "fault"),
        ("auth:maybe", 5, "auth"),
        ("pkg:", 4, "pkg"),
        ("pkg:one", 4, "pkg"),
        ("pkg:²", 4, "pkg"),  # a digit to str.isdigit, not to int()
        ("session:", 8, "needs a value"),
        ("end:", 4, "needs a value"),
        ("rpc:", 4, "needs a value"),
        ("server:", 7, "needs a value"),
    ],
)
def test_errors_have_positions(text: str, position: int, words: str) -> None:
    with pytest.raises(FilterError) as info:
        compile_filter(text)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.position == position, (err.message, err.position)
    assert words in err.message and str(err) == err.message


def test_unknown_field_lists_the_known_ones() -> None:
    with pytest.raises(FilterError) as info:
        compile_filter("colour:red")
    assert all(name in info.value.message for name in FIELDS)


def test_fields_and_help() -> None:
    expected = {"proto", "protocol", "device", "server", "rpc", "cmd", "kind", "status", "fault", "auth"}
    expected |= {"finding", "session", "id", "end", "event", "pkg", "tls"}
    assert set(FIELDS) == expected and len(FIELDS) == len(expected)
    lines = HELP.splitlines()
    assert 10 <= len(lines) <= 18 and max(map(len, lines)) <= 100
    for name in ("proto", "device", "server", "rpc", "status", "fault", "auth", "finding", "session"):
        assert f"{name}:" in HELP
    for name in ("end", "event", "pkg", "tls"):
        assert f"{name}:" in HELP
    assert all(name in (filter_module.__doc__ or "") for name in FIELDS)
    # The help's own example compiles.
    compile_filter(lines[-1].split(":", 1)[1].strip())


# ---------------------------------------------------------------- fields, against the captures


def test_empty_filter_matches_everything(sessions: tuple[Session, ...]) -> None:
    assert select("") == select(" \t ") == ALL


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("proto:cwmp", CWMP),
        ("PROTOCOL:TR069", CWMP),
        ("proto:tr-069", CWMP),
        ("proto:omadm", OMADM),
        ("proto:dm", OMADM),
        ("proto:OMA-DM", OMADM),
        ("device:SN0042", CWMP_LOOP),
        ("device:00d09e-hgw", CWMP_LOOP),
        ("device:huawei", GENIEACS),  # manufacturer, from the device identity
        ("device:loopback-phone", OMADM),  # the DM DevInfo Mod
        ("device:493005100592800", OMADM),
        ("device:nobody", set()),
        ("server:7547", GENIEACS),
        ("server:127.0.0.1:41727", CWMP_LOOP),
        ("server:DMSNIFF-DM", OMADM),  # server_name
        ("rpc:Reboot", {"S55", "S3-10", "S3-76"}),
        ("rpc:reboot", {"S55", "S3-10", "S3-76"}),
        ("kind:Fault", {"S55", "S3-10", "S3-76"}),
        ("rpc:Download", {"S4", "S3-10", "S3-76"}),
        ("rpc:TransferComplete", {"S55", "S3-76"}),
        ("rpc:GetParameterNames", GENIEACS),
        ("rpc:GetParameterValues", {"S4", "S84", *GENIEACS}),
        ("rpc:Get", {"D1-5", "D1-35"}),  # exact: the OMA DM Get command
        ("rpc:Get*", {"S4", "S84", *GENIEACS, "D1-5", "D1-35"}),
        ("rpc:getparameterN*", GENIEACS),
        ("cmd:Exec", {"D1-35"}),
        ("cmd:atomic", {"D1-35"}),
        ("cmd:Results", {"D1-5"}),
        ("cmd:Alert", OMADM),
        ("rpc:Notification", OMADM),
        ("rpc:Inform", CWMP),
        ("rpc:Informs", set()),
        ("rpc:*", ALL),
        ("status:204", CWMP),
        ("status:2xx", ALL),
        ("status:401", {"D1-5", "D1-22"}),  # the OMA DM Status 401 of the challenges
        ("status:212", {"D1-5"}),
        ("status:4XX", {"D1-5", "D1-22", "D1-35"}),
        ("status:404", {"D1-35"}),
        ("status:5xx", {"D1-35"}),
        ("status:3xx", set()),
        ("fault:9001", {"S55"}),
        ("fault:9000", GENIEACS),
        ("fault:90*", {"S55", *GENIEACS}),
        ("fault:900*", {"S55", *GENIEACS}),
        ("fault:9002", set()),
        ("fault:8*", set()),
        ("fault:", {"S55", *GENIEACS}),
        ('fault:""', {"S55", *GENIEACS}),
        ("fault:*", {"S55", *GENIEACS}),
        ("auth:invalid", OMADM),  # D1-5 tried basic first; D1-22 wrong password twice; D1-35 Pkg#0
        ("auth:valid", {"S84", *OMADM}),  # S84: the signed UDP connection request
        ("auth:no-secret", GENIEACS),  # HTTP Basic, no http secret given
        ("auth:UNVERIFIABLE", {"D1-35"}),
        ("auth:none", {"S4", "S55"}),
        ("auth:any", {"S84", *GENIEACS, *OMADM}),
        ("finding:", {"S55", "D1-22", "D1-35", *GENIEACS}),
        ("finding:error", {"D1-35", "S3-76"}),
        ("finding:WARNING", {"S55", "D1-35", *GENIEACS}),
        ("finding:info", {"D1-22"}),
        ("finding:omadm.status", {"D1-35"}),  # omadm.status-missing, a code prefix
        ("finding:cpe-fault", {"S55", *GENIEACS}),  # a substring
        ("finding:omadm.", {"D1-22", "D1-35"}),
        ("finding:nothing-like-it", set()),
        ("session:S55", {"S55"}),
        ("id:s55", {"S55"}),
        ("id:S5", set()),  # exact, not a substring
        ("session:2c", {"D1-22"}),  # the OMA DM SessionID
        ("id:1A2B", {"D1-5"}),
        ("end:204", CWMP),
        ("end:completed", {"D1-5", "D1-35"}),
        ("end:AUTH-FAILED", {"D1-22"}),
        ("end:timeout", set()),
        ("event:boot", {"S4"}),
        ('event:"6 CONNECTION"', {"S55", "S84", "S3-76"}),
        ("event:periodic", {"S3-10"}),
        ('event:"m download"', {"S55"}),
        ("event:", CWMP),
        ("pkg:0", OMADM),
        ("pkg:4", {"D1-5", "D1-35"}),
        ("pkg:7", set()),
    ],
)
def test_field(sessions: tuple[Session, ...], text: str, expected: set[str]) -> None:
    assert select(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("IMEI", OMADM),  # the device id
        ('"imei:493005100592800"', OMADM),  # quoted, the colon is text
        ("example networks", CWMP_LOOP),  # two words, ANDed, both in the manufacturer
        ("example huawei", set()),  # ... in two different sessions
        ('"example networks"', CWMP_LOOP),  # the manufacturer, as a phrase
        ('"Fault 9001"', {"S55"}),  # the conversation line
        ("reboot", {"S55", *GENIEACS}),  # conversation, and finding messages
        ("status-missing", {"D1-35"}),  # a finding code
        ('"nested"', {"D1-35"}),  # omadm.nested-atomic
        ('"inside another atomic"', {"D1-35"}),  # a finding message
        ("S3-", GENIEACS),  # session id
        ("127.0.0.1:7547", GENIEACS),  # server, unquoted: not a field name before the colon
        ("127.0.0.1:42698", {"D1-5"}),  # client
        ("dmsniff-dm", OMADM),  # server name
        ("Notification", OMADM),
        ('"401 chal"', {"D1-5", "D1-22"}),
        ("xyzzy", set()),
    ],
)
def test_free_text(sessions: tuple[Session, ...], text: str, expected: set[str]) -> None:
    assert select(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("proto:cwmp fault:9001", {"S55"}),
        ("proto:omadm pkg:0", OMADM),
        ("proto:cwmp pkg:0", set()),
        ("rpc:Reboot !fault:9001", GENIEACS),
        ("rpc:Reboot not fault:9001", GENIEACS),
        ("(end:completed or end:auth-failed) not finding:", {"D1-5"}),
        ("end:completed or end:auth-failed not finding:", {"D1-5", "D1-35"}),
        ("device:SN0042 | device:000007", CWMP),
        ("proto:cwmp auth:valid", {"S84"}),
        ("!auth:any", {"S4", "S55"}),
        ("not (proto:cwmp or IMEI)", set()),
        ("proto:omadm !auth:invalid", set()),
        ("auth:invalid !finding:", {"D1-5"}),
        ("finding:error or fault:9001 or status:401", {"D1-35", "S3-76", "S55", "D1-5", "D1-22"}),
        ("proto:cwmp (fault:9001 or rpc:Reboot) !auth:valid", {"S55", *GENIEACS}),
    ],
)
def test_combinations(sessions: tuple[Session, ...], text: str, expected: set[str]) -> None:
    assert select(text) == expected


# ---------------------------------------------------------------- the conversation cache


def test_conversation_is_cached(monkeypatch: pytest.MonkeyPatch, sessions: tuple[Session, ...]) -> None:
    calls: list[str] = []
    real = conversation

    def counting(s: Session) -> str:
        calls.append(s.id)
        return real(s)

    monkeypatch.setattr(filter_module, "conversation", counting)
    clear_cache()
    predicate = compile_filter("zzz-not-there")
    assert not any(predicate(s) for s in sessions)
    assert sorted(calls) == sorted(s.id for s in sessions)
    assert not any(compile_filter("another-miss")(s) for s in sessions)
    assert len(calls) == len(sessions)  # the second filter reuses the lines

    # A session that gains a message gets a new line; a free-text hit on the id needs none.
    s = _synthetic_session(0, with_fault=False)
    assert not compile_filter('"Fault 9001"')(s)
    s.messages.append(
        SessionMessage(9, 1.0, "to_server", "Fault", "C1.9", "POST /acs", None, 10, "1", _FAULT)
    )
    assert compile_filter('"Fault 9001"')(s)
    assert compile_filter("fault:9001")(s)
    before = len(calls)
    assert compile_filter("S0")(s) and len(calls) == before
    clear_cache()
    assert not filter_module._CONVERSATIONS


# ---------------------------------------------------------------- hypothesis

_PIECES = [
    *(f"{name}:" for name in FIELDS),
    *(f"{name.upper()}:" for name in ("proto", "fault", "auth")),
    "cwmp", "omadm", "dm", "9001", "90*", "*", "4xx", "401", "0", "valid", "invalid", "none", "any",
    "error", "boot", "Get*", "IMEI", "S55", "x", "é", "²", "٣",
    "(", ")", "|", "!", "not", "or", "and", "OR", '"', '\\"', "\\", "\\\\", ":", " ", "  ", "\t", "\n",
]  # fmt: skip
_filter_text = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(_PIECES), max_size=12).map("".join),
    st.lists(st.sampled_from(_PIECES), max_size=12).map(" ".join),
)


def _odd_sessions() -> list[Session]:
    """Sessions with every optional part missing or unusual."""
    bare = Session("X1", "cwmp", 0, "10.0.0.1:1", "10.0.0.2:2", 0.0, 0.0)
    odd = _synthetic_session(1, with_fault=True)
    odd.device = {}
    odd.findings = [Finding("error", "x.y", "", [], "")]
    odd.messages.append(SessionMessage(3, 0.0, "to_server", "SyncML", "C1.3", "POST /", None, 0, package=0))
    return [bare, odd]


@settings(max_examples=400, deadline=None)
@given(text=_filter_text)
def test_any_text_compiles_or_raises_filter_error(sessions: tuple[Session, ...], text: str) -> None:
    try:
        predicate = compile_filter(text)
    except FilterError as err:
        assert err.message and 0 <= err.position <= len(text)
        return
    for s in [*sessions, *_odd_sessions()]:
        assert predicate(s) in (True, False)


_ATOMS = [
    "proto:cwmp", "fault:", "auth:invalid", "finding:error", "status:4xx", "event:boot", "IMEI",
    "pkg:4", "rpc:Get*", "end:204", '"Fault 9001"', "device:huawei",
]  # fmt: skip

_Tree = Any  # an atom (str), ("not", tree), ("and" | "or", [trees])
_trees: st.SearchStrategy[_Tree] = st.recursive(
    st.sampled_from(_ATOMS),
    lambda children: st.one_of(
        st.tuples(st.just("not"), children),
        st.tuples(st.sampled_from(["and", "or"]), st.lists(children, min_size=2, max_size=3)),
    ),
    max_leaves=10,
)
_PRECEDENCE = {"or": 1, "and": 2, "not": 3}


def _truth(tree: _Tree) -> set[str]:
    if isinstance(tree, str):
        return select(tree)  # each atom's own selection is checked by test_field and test_free_text
    op, arg = tree
    if op == "not":
        return ALL - _truth(arg)
    parts = [_truth(t) for t in arg]
    return set.intersection(*parts) if op == "and" else set.union(*parts)


def _render(tree: _Tree, rnd: random.Random, outer: int = 0, minimal: bool = True) -> str:
    """``tree`` as filter text, with parentheses only where precedence needs them (or everywhere)."""
    if isinstance(tree, str):
        return tree
    op, arg = tree
    prec = _PRECEDENCE[op]
    if op == "not":
        text = rnd.choice(["not ", "NOT ", "!", "! "]) + _render(arg, rnd, prec, minimal)
    else:
        joiner = rnd.choice([" ", " and ", " AND "] if op == "and" else [" or ", " | ", "|", " OR "])
        # A child of the same operator needs no parentheses either way round.
        text = joiner.join(_render(t, rnd, prec, minimal) for t in arg)
    return f"({text})" if not minimal or prec < outer else text


@settings(max_examples=300, deadline=None)
@given(tree=_trees, rnd=st.randoms(use_true_random=False), minimal=st.booleans())
def test_and_or_not_algebra(
    sessions: tuple[Session, ...], tree: _Tree, rnd: random.Random, minimal: bool
) -> None:
    text = _render(tree, rnd, minimal=minimal)
    assert select(text) == _truth(tree), text


# ---------------------------------------------------------------- speed

_FAULT = decode(fault(9001))
_RECORDS = {
    "Inform": decode(inform(("1 BOOT",))),
    "InformResponse": decode(rpc("InformResponse", inner="<MaxEnvelopes>1</MaxEnvelopes>")),
    "GetParameterValues": decode(rpc("GetParameterValues", inner="<ParameterNames></ParameterNames>")),
}


def _messages(i: int, with_fault: bool) -> list[SessionMessage]:
    """The five or six messages of a CWMP session (decoded records shared between sessions)."""
    kinds = ["Inform", "InformResponse", "empty", "GetParameterValues"]
    messages = [
        SessionMessage(i * 10 + n, float(i), "to_server" if n % 2 == 0 else "to_client", kind, f"C{i}.{n}",
                       "POST /acs", 200 if n % 2 else None, 100, "1", _RECORDS.get(kind))
        for n, kind in enumerate(kinds)
    ]  # fmt: skip
    if with_fault:
        messages.append(SessionMessage(i * 10 + 4, float(i), "to_server", "Fault", f"C{i}.4", "POST /acs",
                                       None, 100, "1", _FAULT))  # fmt: skip
    messages.append(SessionMessage(i * 10 + 5, float(i), "to_client", "empty", f"C{i}.5", "204 No Content",
                                   204, 0))  # fmt: skip
    return messages


def _synthetic_session(i: int, with_fault: bool, messages: list[SessionMessage] | None = None) -> Session:
    """CWMP session ``S{i}``, with its own messages unless given a list (which it then shares)."""
    return Session(
        f"S{i}", "cwmp", 0, f"10.0.{i // 250 % 250}.{i % 250}:40000", "10.1.0.1:7547", float(i), float(i) + 1,
        device={"manufacturer": "Acme", "oui": "00AA11", "product_class": "Box", "serial": f"SN{i}"},
        device_id=f"00AA11-Box-SN{i}", end_reason="204", events=["1 BOOT"],
        messages=messages if messages is not None else _messages(i, with_fault),
    )  # fmt: skip


def synthetic_sessions(n: int) -> list[Session]:
    """``n`` sessions, a third of them OMA DM, one CWMP session in 50 with Fault 9001.

    Sessions share two message lists (the filters only read them), which keeps building 100,000
    of them quick.
    """
    plain, faulty = _messages(0, with_fault=False), _messages(0, with_fault=True)
    out = []
    gc.disable()  # the collector, run over and over as the list grows, costs more than the building
    try:
        for i in range(n):
            s = _synthetic_session(i, i % 50 == 0, faulty if i % 50 == 0 else plain)
            if i % 3 == 2:
                s.protocol = "omadm"
            out.append(s)
    finally:
        gc.enable()
    return out


def _time(predicate: Callable[[Session], bool], sessions: Sequence[Session]) -> tuple[float, int]:
    start = time.perf_counter()
    hits = sum(1 for s in sessions if predicate(s))
    return time.perf_counter() - start, hits


def bench(n: int = 100_000) -> Iterator[str]:
    """Time some typical filters over ``n`` synthetic sessions; one line per filter."""
    sessions = synthetic_sessions(n)
    clear_cache()
    for text in [
        "proto:cwmp fault:9001",
        "fault:9001",
        "rpc:Get* !status:4xx",
        "device:SN777",
        "boot",
        "boot",
    ]:
        elapsed, hits = _time(compile_filter(text), sessions)
        yield f"{text!r:26} {n} sessions: {elapsed * 1000:7.1f} ms, {hits} match"
    clear_cache()


def test_speed_is_measured(capsys: pytest.CaptureFixture[str]) -> None:
    """The typical filter over 100,000 sessions; the time is printed, not asserted (machines are noisy)."""
    sessions = synthetic_sessions(100_000)
    elapsed, hits = _time(compile_filter("proto:cwmp fault:9001"), sessions)
    assert hits == sum(1 for i in range(100_000) if i % 50 == 0 and i % 3 != 2)
    with capsys.disabled():
        print(f"\n  filter 'proto:cwmp fault:9001' over 100,000 sessions: {elapsed * 1000:.0f} ms")


if __name__ == "__main__":
    for line in bench():
        print(line)


# ---------------------------------------------------------------- tls: (the lookup the app gives)

TLS_OF = {
    "S4": SessionTls(frozenset({"TLS 1.3"}), encrypted=False, resumed=False),
    "S55": SessionTls(frozenset({"TLS 1.2", "TLS 1.3"}), encrypted=True, resumed=True),
    "D1-5": SessionTls(frozenset({"TLS 1.0"}), encrypted=False, resumed=True),
}


def select_tls(text: str) -> set[str]:
    predicate = compile_filter(text, tls=lambda s: TLS_OF.get(s.id))
    return {s.id for s in capture_sessions() if predicate(s)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tls:", {"S4", "S55", "D1-5"}),
        ("tls:yes", {"S4", "S55", "D1-5"}),
        ("TLS:ANY", {"S4", "S55", "D1-5"}),
        ("tls:no", ALL - {"S4", "S55", "D1-5"}),
        ("!tls:", ALL - {"S4", "S55", "D1-5"}),
        ("tls:1.3", {"S4", "S55"}),
        ("tls:TLS1.2", {"S55"}),
        ("tls:1.0", {"D1-5"}),
        ("tls:1.1", set()),
        ("tls:encrypted", {"S55"}),
        ("tls:decrypted", {"S4", "D1-5"}),
        ("tls:resumed", {"S55", "D1-5"}),
        ("tls:1.3 proto:cwmp !tls:encrypted", {"S4"}),
        ("tls:no proto:omadm", OMADM - {"D1-5"}),
    ],
)
def test_tls_field(sessions: tuple[Session, ...], text: str, expected: set[str]) -> None:
    assert select_tls(text) == expected


def test_tls_field_without_a_lookup_sees_plaintext(sessions: tuple[Session, ...]) -> None:
    assert select("tls:") == set() and select("tls:no") == ALL


@pytest.mark.parametrize("text", ["tls:maybe", "tls:2.0", "proto:cwmp tls:1.4"])
def test_tls_field_errors(text: str) -> None:
    with pytest.raises(FilterError) as info:
        compile_filter(text)
    assert info.value.position == text.index("tls:") + 4
    assert "tls: needs one of yes, any, no" in info.value.message and "1.0 ... 1.3" in info.value.message


def test_fields_used_lists_the_terms_fields() -> None:
    from dmsniff.sessions.filter import MAX_NESTING, fields_used, parse_filter

    assert fields_used(parse_filter("proto:cwmp (tls:1.3 or not fault:) free")) == {
        "proto", "tls", "fault", None}
    assert fields_used(parse_filter("")) == set()
    deep = "(" * MAX_NESTING + "tls:yes" + ")" * MAX_NESTING
    assert fields_used(parse_filter(deep)) == {"tls"}


@pytest.mark.parametrize("text", ["(" * 65 + "x" + ")" * 65, "!" * 65 + "x", "not " * 65 + "x",
                                  "(" * 100_000, "(not " * 40 + "x" + ")" * 40])
def test_a_filter_nested_too_deep_is_an_error_not_a_crash(text: str) -> None:
    with pytest.raises(FilterError, match="nested too deep") as err:
        compile_filter(text)
    assert 0 < err.value.position < len(text)


@pytest.mark.parametrize("field", ["status", "fault", "pkg"])
def test_a_number_longer_than_any_code_is_an_error(field: str) -> None:
    with pytest.raises(FilterError, match="9 digits at most"):
        compile_filter(f"{field}:{'9' * 4301}")  # (int() refuses over 4,300 digits)
    compile_filter(f"{field}:{'9' * 9}")
