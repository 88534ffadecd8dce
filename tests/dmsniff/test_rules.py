"""The catalogue of finding codes: docs/rules.md in step with the RULES tables, and no code made
anywhere that the tables do not define, none defined that no test fires."""

from __future__ import annotations

import re
import subprocess
import sys

from dmsniff import rules
from tests.conftest import ROOT

CODE = re.compile(r"""["'](cwmp|omadm|tls|verify|dmsniff)\.([a-z0-9]+(?:-[a-z0-9]+)+)["']""")
# Codes the tests name by their constant rather than spelled out.
ALIASES = {"dmsniff.internal-error": "INTERNAL_ERROR"}


def test_docs_rules_md_has_the_generated_table() -> None:
    doc = (ROOT / "docs" / "rules.md").read_text()
    start, end = doc.index(rules.BEGIN), doc.index(rules.END) + len(rules.END)
    assert doc[start:end] == rules.markdown(), (
        "docs/rules.md is out of step with the RULES tables: paste `dmsniff rules --format markdown` "
        "between its BEGIN and END lines")


def test_every_rule_is_complete() -> None:
    for code, rule in rules.catalogue().items():
        assert rule.severity in rules.SEVERITIES, code
        assert rule.reference.strip() and rule.meaning.strip(), code
        assert rule.meaning[0].isupper() and rule.meaning.endswith("."), f"{code}: one sentence, please"
        assert "\n" not in rule.meaning and len(rule.meaning) <= 200, f"{code}: one line of meaning"


def test_every_code_the_code_makes_is_in_a_table() -> None:
    """A finding code written in dmsniff/ but missing from every RULES table would raise at run time."""
    known = set(rules.catalogue())
    made = set()
    for path in (ROOT / "dmsniff").rglob("*.py"):
        for m in CODE.finditer(path.read_text()):
            made.add(f"{m.group(1)}.{m.group(2)}")
    assert made - known == set()


def test_every_rule_is_exercised_by_a_test() -> None:
    """Each rule has a test that fires it (and, beside it, one that does not): its code is named in
    the tests other than this one."""
    text = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("*.py") if p.name != "test_rules.py")
    missing = [code for code in rules.catalogue() if code not in text and ALIASES.get(code, code) not in text]
    assert missing == []


def test_cli_lists_them() -> None:
    res = subprocess.run([sys.executable, "-m", "dmsniff", "rules", "--format", "json"], capture_output=True,
                         cwd=ROOT, timeout=60)
    assert res.returncode == 0, res.stderr
    import json

    listed = json.loads(res.stdout)
    assert [r["code"] for r in listed] == list(rules.catalogue())
    text = subprocess.run([sys.executable, "-m", "dmsniff", "rules"], capture_output=True, text=True,
                          cwd=ROOT, timeout=60).stdout
    assert "omadm.auth-loop  [warning]" in text and "ref: " in text
