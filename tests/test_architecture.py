"""docs/architecture.md stays true: every path it names exists, and its package map names every
module of dmsniff/ and every package of decoders/."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
_CODE = re.compile(r"`([^`\s]+)`")


def _section(title: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def _rows(section: str) -> list[list[str]]:
    """The table rows of a section, as cells (header and rule lines left out)."""
    rows = []
    for line in section.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows[1:]


def named_paths(text: str) -> set[str]:
    """The repository paths a text names in backticks (anything with a slash in it)."""
    return {m for m in _CODE.findall(text) if "/" in m and not m.startswith(("http", "-"))}


def test_every_path_named_exists() -> None:
    paths = named_paths(DOC.read_text(encoding="utf-8"))
    assert len(paths) > 40  # the page names many files: a broken pattern cannot pass for a clean page
    missing = sorted(p for p in paths if not (ROOT / p).exists())
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"


def test_where_to_add_names_a_file_and_a_test_for_each_task() -> None:
    rows = _rows(_section("Where to add"))
    tasks = {r[0] for r in rows}
    for task in ("a link type", "a CWMP RPC", "a SyncML command", "a digest algorithm", "a finding rule",
                 "a report format", "a TUI tab", "a protocol decoder"):
        assert task in tasks, f"no row for {task}"
    for task, where, test in rows:
        assert any((ROOT / p).is_file() for p in named_paths(where)), f"{task}: no file to touch named"
        assert any(p.startswith("tests/") for p in named_paths(test)), f"{task}: no test named"


def test_package_map_names_every_module() -> None:
    rows = _rows(_section("Package map"))
    by_path = {r[0].strip("`"): r[1] for r in rows}
    unnamed = []
    for path in sorted((ROOT / "dmsniff").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        package = rel.rsplit("/", 1)[0] + "/"
        if rel in by_path or (package in by_path and (path.name == "__init__.py"
                                                      or f"`{path.name}`" in by_path[package])):
            continue
        unnamed.append(rel)
    for init in sorted((ROOT / "decoders").glob("*/__init__.py")):
        if init.parent.relative_to(ROOT).as_posix() + "/" not in by_path:
            unnamed.append(init.parent.relative_to(ROOT).as_posix() + "/")
    assert not unnamed, f"the package map of docs/architecture.md does not name: {unnamed}"
