"""Rewrite the golden reports: ``python -m tests.golden.regen [NAME ...]`` (all by default).

Only for a change that means to alter the report; its commit says why.
"""

from __future__ import annotations

import sys

from tests.golden.cases import DATA, cases


def main(argv: list[str]) -> int:
    DATA.mkdir(exist_ok=True)
    for case in cases():
        if argv and case.name not in argv:
            continue
        data = case.run()
        old = case.golden.read_bytes() if case.golden.exists() else None
        case.golden.write_bytes(data)
        state = "new" if old is None else "unchanged" if old == data else "CHANGED"
        records = data.count(b"\n")
        print(f"{case.name}: {len(data):,} bytes, {records:,} records, {state}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
