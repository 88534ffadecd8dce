"""The wordlist audit as a first pass: what it finds judges every credential of the identity."""

from __future__ import annotations

import asyncio

from dmsniff.net.http import DEFAULT_MAX_BODY
from dmsniff.tui.app import DmsniffApp
from dmsniff.verify.audit import WORDLIST_LABEL, first_pass, rereadable, with_cracked
from dmsniff.verify.secrets import Secret, Secrets
from tests.conftest import CAPTURES

DIGEST = str(CAPTURES / "digest_loopback.pcap")
WORDS = [b"123456", b"password", b"bob-pass"]


def test_first_pass_finds_the_identity_and_its_kind() -> None:
    cracked = first_pass([DIGEST], Secrets(), WORDS, jobs=1, max_body=DEFAULT_MAX_BODY, tls=None,
                         input_format=None)
    assert [(c.scheme, c.identity, c.kind, c.password) for c in cracked.found] == [
        ("http-digest", "bob", "http", "bob-pass")]
    words, targets, checks, _seconds, found = cracked.summary
    assert (words, found) == (3, 1) and targets >= 2 and checks > 0


def test_user_secrets_come_first() -> None:
    mine = Secrets(entries=[Secret("http", "bob", "bob-pass", label="lab")])
    cracked = first_pass([DIGEST], mine, WORDS, jobs=1, max_body=DEFAULT_MAX_BODY, tls=None,
                         input_format=None)
    merged = with_cracked(mine, cracked)
    assert [(s.name, s.title) for s in merged.entries] == [("bob", "lab"), ("bob", WORDLIST_LABEL)]
    assert mine.entries == [Secret("http", "bob", "bob-pass", label="lab")]  # not changed in place


def test_rereadable() -> None:
    assert rereadable(["a.pcap", ("b.pcap", "c.pcap")])
    assert not rereadable(["a.pcap", "-"])


def test_the_tui_judges_with_what_the_audit_found() -> None:
    cracked = first_pass([DIGEST], Secrets(), WORDS, jobs=1, max_body=DEFAULT_MAX_BODY, tls=None,
                         input_format=None)
    app = DmsniffApp([DIGEST], secrets=with_cracked(Secrets(), cracked), cracked=cracked)

    async def main() -> None:
        async with app.run_test(size=(160, 48)) as pilot:
            for _ in range(600):
                if app.progress.done:
                    break
                await asyncio.sleep(0.05)
            await pilot.pause()

    asyncio.run(main())
    assert app.progress.done
    bob = [r for r in app.feed.auth_results if r.identity == "bob"]
    assert len(bob) == 5 and {(r.result, r.matched) for r in bob} == {("valid", WORDLIST_LABEL)}
    assert not any(r.password for r in bob)  # masked unless --show-secrets
    codes = [f.code for f in app.feed.findings]
    assert codes.count("verify.password-in-wordlist") == 1
