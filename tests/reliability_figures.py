"""Figures for docs/reliability.md, recorded by the security, fuzz and hostile-client tests.

With RELIABILITY_FIGURES=<file> set, each measuring test appends one JSON line
to that file (safe with pytest-xdist: small appends); without it, record() does
nothing. `python -m tests.reliability_figures <file>` prints the lines, merged
per check, as the table docs/reliability.md shows.
"""

import json
import os
import sys


def record(check: str, **figures) -> None:
    """Append one measurement (a name and its numbers) when figures are being collected."""
    path = os.environ.get("RELIABILITY_FIGURES")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"check": check, **figures}, sort_keys=True) + "\n")


def _cell(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def merged(lines: list[dict]) -> list[dict]:
    """One line per check: counts summed, measured times and sizes (floats) at their worst."""
    by_check: dict[str, dict] = {}
    for line in lines:
        into = by_check.setdefault(line["check"], {"check": line["check"]})
        for key, value in line.items():
            if key == "check":
                continue
            if isinstance(value, float):
                into[key] = max(into.get(key, value), value)
            else:
                into[key] = into.get(key, 0) + value
    return [by_check[name] for name in sorted(by_check)]


def table(lines: list[dict]) -> str:
    """A Markdown table: one row per check, its figures as `name=value` pairs."""
    rows = ["| check | figures |", "|---|---|"]
    for line in merged(lines):
        figures = ", ".join(f"{k}={_cell(v)}" for k, v in line.items() if k != "check")
        rows.append(f"| {line['check']} | {figures} |")
    return "\n".join(rows)


def totals(lines: list[dict]) -> str:
    """Sums over every check of the counters the issue asks for."""
    keys = (
        "inputs",
        "refused",
        "accepted",
        "server_errors",
        "leaked_events",
        "neighbours_disconnected",
    )
    sums = {key: sum(line.get(key, 0) for line in lines) for key in keys}
    return ", ".join(f"{key}={value}" for key, value in sums.items())


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as source:
        recorded = [json.loads(line) for line in source if line.strip()]
    print(table(recorded))
    print()
    print("Totals:", totals(recorded))
