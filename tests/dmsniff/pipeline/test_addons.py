"""The addon API: typed hooks worked out once, outboxes, failures isolated (dmsniff/pipeline/addons.py)."""

from __future__ import annotations

import pytest

from dmsniff.model import ConnectionEnd, Finding, Rule
from dmsniff.pipeline import INTERNAL_ERROR, Addon, Dispatcher, Emitter
from dmsniff.pipeline.records import MAX_INTERNAL_ERRORS

RULE = Rule("info", "a test rule", "")


def finding(n: int) -> Finding:
    return RULE.finding("test.rule", f"finding {n}", [n], None, 0)


class Log(Addon):
    """Notes every call it gets, in order, in a log shared by the addons of a test."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log

    def finding(self, f: Finding) -> None:
        self.log.append(f"{self.name}.finding {f.message}")

    def connection_end(self, end: ConnectionEnd) -> None:
        self.log.append(f"{self.name}.connection_end {end.connection}")


class Maker(Emitter):
    """Makes two findings for every connection that ends."""

    def __init__(self, log: list[str]) -> None:
        super().__init__()
        self.log = log

    def connection_end(self, end: ConnectionEnd) -> None:
        self.log.append(f"maker.connection_end {end.connection}")
        self.outbox.finding(finding(1))
        self.outbox.finding(finding(2))


class Broken(Addon):
    def connection_end(self, end: ConnectionEnd) -> None:
        raise ValueError("boom")


END = ((1, 1, 1), ConnectionEnd(0, "C1", 1.0, False))


def test_what_an_addon_makes_reaches_every_addon_before_the_next_addon_is_called() -> None:
    log: list[str] = []
    d = Dispatcher([Log("a", log), Maker(log), Log("b", log)])
    d.record(END)
    assert log == ["a.connection_end C1", "maker.connection_end C1",
                   "a.finding finding 1", "b.finding finding 1",
                   "a.finding finding 2", "b.finding finding 2",
                   "b.connection_end C1"]


def test_an_outbox_no_dispatcher_took_keeps_what_it_is_given() -> None:
    log: list[str] = []
    maker = Maker(log)
    maker.connection_end(END[1])
    assert [f.message for f in maker.outbox.made] == ["finding 1", "finding 2"]  # type: ignore[union-attr]


def test_only_addons_that_override_a_hook_are_called_for_it() -> None:
    calls: list[str] = []

    class Counting(Addon):
        def __getattribute__(self, name: str) -> object:
            calls.append(name)
            return super().__getattribute__(name)

    d = Dispatcher([Counting()])  # overrides no hook: looked at when the dispatcher is made, never after
    calls.clear()
    for _ in range(3):
        d.record(END)
        d.finding(finding(0))
        d.done()
    assert calls == []


def test_a_failing_hook_costs_that_record_and_becomes_a_finding() -> None:
    log: list[str] = []
    d = Dispatcher([Broken(), Log("a", log)])
    d.record(END)
    assert log[0].startswith("a.finding Broken.connection_end failed on the end of connection C1: "
                             "ValueError: boom")
    assert log[1] == "a.connection_end C1"


def test_failures_of_one_hook_are_reported_up_to_a_limit() -> None:
    got: list[Finding] = []

    class Keep(Addon):
        def finding(self, f: Finding) -> None:
            got.append(f)

    d = Dispatcher([Broken(), Keep()])
    for _ in range(MAX_INTERNAL_ERRORS + 5):
        d.record(END)
    assert len(got) == MAX_INTERNAL_ERRORS
    assert all(f.code == INTERNAL_ERROR for f in got)
    assert "further failures of it are not reported" in got[-1].message


def test_failing_hooks_are_summed_up_for_the_command_to_say() -> None:
    # A report writer's own failure reaches no other addon's output: the command prints these lines.
    d = Dispatcher([Broken(), Log("a", [])])
    assert d.fault_lines() == []
    for _ in range(3):
        d.record(END)
    assert d.fault_lines() == [
        "Broken.connection_end failed on 3 record(s), first on the end of connection C1: ValueError: boom"]


def test_a_broken_pipe_ends_the_run() -> None:
    # The output was piped into head(1) and is gone: no finding, no further records.
    class Gone(Addon):
        def connection_end(self, end: ConnectionEnd) -> None:
            raise BrokenPipeError(32, "Broken pipe")

        def done(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    log: list[str] = []
    d = Dispatcher([Gone(), Log("a", log)])
    with pytest.raises(BrokenPipeError):
        d.record(END)
    with pytest.raises(BrokenPipeError):
        d.done()
    assert log == [] and d.fault_lines() == []


@pytest.mark.parametrize("debug", ["", "1"])
def test_a_failure_traceback_goes_to_stderr_only_with_dmsniff_debug(
        debug: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DMSNIFF_DEBUG", debug)
    d = Dispatcher([Broken(), Log("a", [])])
    for _ in range(MAX_INTERNAL_ERRORS + 5):
        d.record(END)
    err = capsys.readouterr().err
    # One traceback per failure reported (the internal-error findings' limit bounds them too).
    assert err.count("Traceback (most recent call last)") == (MAX_INTERNAL_ERRORS if debug else 0)
    assert err.count("ValueError: boom") == (MAX_INTERNAL_ERRORS if debug else 0)
