"""Section results and their Markdown and JSON forms."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Target:
    """One target of issue 6: what it asks, what was measured, and whether it holds."""

    name: str
    goal: str
    value: str
    met: bool | None  # None: not measured in this run


@dataclass
class Section:
    """One benchmark section: a table, its raw numbers, notes and targets."""

    key: str
    title: str
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    seconds: float = 0.0


def fmt(value: float | None, digits: int = 1, unit: str = "") -> str:
    if value is None or value != value:  # None or NaN
        return "-"
    return f"{value:,.{digits}f}{unit}"


def ratio(value: float | None) -> str:
    return fmt(value, 2, "x")


def _table(columns: list[str], rows: list[list[str]]) -> list[str]:
    if not rows:
        return []
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _verdict(met: bool | None) -> str:
    return {True: "met", False: "**not met**", None: "-"}[met]


def markdown(meta: dict[str, Any], sections: list[Section]) -> str:
    out = [f"# Benchmark results ({meta['mode']})", ""]
    out += [f"- {key}: {value}" for key, value in meta["machine"].items()]
    out.append("")
    targets = [t for s in sections for t in s.targets]
    if targets:
        out += ["## Targets (issue 6)", ""]
        out += _table(
            ["target", "goal", "measured", "verdict"],
            [[t.name, t.goal, t.value, _verdict(t.met)] for t in targets],
        )
        out.append("")
    for section in sections:
        out += [f"## {section.title}", ""]
        table = _table(section.columns, section.rows)
        if table:
            out += [*table, ""]
        out += [f"- {note}" for note in section.notes]
        out += ["", f"_section time: {section.seconds:.1f} s_", ""]
    return "\n".join(out).rstrip() + "\n"


def write(out: Path, meta: dict[str, Any], sections: list[Section]) -> tuple[Path, Path]:
    """Write ``out.md`` and ``out.json``; return their paths."""
    out.parent.mkdir(parents=True, exist_ok=True)
    md_path = out.with_suffix(".md")
    json_path = out.with_suffix(".json")
    md_path.write_text(markdown(meta, sections))
    payload = {"meta": meta, "sections": [asdict(s) for s in sections]}
    json_path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return md_path, json_path
