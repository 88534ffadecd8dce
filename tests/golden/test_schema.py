"""Every record of every golden report matches ``docs/report.schema.json``.

The golden copies hold the report of every capture we have (TLS, CWMP with its NAT path, OMA DM
with Windows MDM facts), so this checks the schema against every kind of record and field the
report writes, without running a report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.golden.cases import DATA

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "report.schema.json").read_text())
GOLDEN = sorted(DATA.glob("*.jsonl"))


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_golden_records_match_the_schema(path: Path) -> None:
    defs = SCHEMA["$defs"]
    for rec in _records(path):
        jsonschema.validate(rec, {"$defs": defs, **defs[rec["type"]]})


def test_the_schema_is_exercised_by_the_optional_fields() -> None:
    """The fields only some captures have appear in at least one golden report, so the test above
    checks their schema: OMA DM's Windows facts and CWMP's NAT path."""
    seen: set[str] = set()
    for path in GOLDEN:
        for rec in _records(path):
            if rec["type"] == "session" and rec.get("dm", {}).get("scopes"):
                seen.add("dm.scopes")
            if rec["type"] == "session" and rec.get("dm", {}).get("login_state"):
                seen.add("dm.login_state")
            if rec["type"] == "device" and rec.get("nat_path"):
                seen.add("nat_path")
    assert seen == {"dm.scopes", "dm.login_state", "nat_path"}
