"""What a local run tells its user at the end: records read, rows per output, quarantine by reason, elapsed.

Pure Python over the local profile's output folders (JSON-lines part files, one folder per table), so it is
tested without a JVM and costs nothing on Managed Flink, where it is never used.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

#: The output tables of the local profile, in the order the summary lists them.
OUTPUTS = ("sales_per_minute", "fraud_alerts", "quarantine")


def committed_parts(output: Path) -> frozenset[Path]:
    """Every committed part file under ``output`` (hidden and ``_``-prefixed files are in progress or state)."""
    parts: set[Path] = set()
    for table in OUTPUTS:
        folder = output / table
        if folder.is_dir():
            parts |= {p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "_"))}
    return frozenset(parts)


@dataclass(frozen=True)
class RunSummary:
    mode: str
    elapsed_s: float
    files_read: int
    records_read: int
    rows: Mapping[str, int]
    quarantine_reasons: Mapping[str, int] = field(default_factory=dict)
    output: Path = Path()

    def lines(self) -> list[str]:
        width = max(len(name) for name in OUTPUTS)
        text = [
            f"done in {self.elapsed_s:.1f} s ({self.mode}): read {self.records_read} input lines (records and "
            f"malformed lines) from {self.files_read} file(s); rows written by this run:"
        ]
        for table in OUTPUTS:
            line = f"  {table:<{width}}  {self.rows.get(table, 0):>8}"
            if table == "quarantine" and self.quarantine_reasons:
                line += "  " + ", ".join(f"{reason} {count}" for reason, count in self.quarantine_reasons.items())
            text.append(line)
        text.append(f"output: {self.output}/{{{','.join(OUTPUTS)}}}/ (JSON lines, part-* files)")
        return text


def summarize(
    *,
    mode: str,
    elapsed_s: float,
    files_read: int,
    records_read: int,
    output: Path,
    before: Iterable[Path] = (),
) -> RunSummary:
    """Count the rows of the part files committed since ``before`` (the parts that existed at the start)."""
    old = frozenset(before)
    rows: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for part in sorted(committed_parts(output) - old):
        table = part.parent.name
        for line in part.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            rows[table] += 1
            if table == "quarantine":
                reasons[str(json.loads(line).get("reason"))] += 1
    return RunSummary(
        mode=mode,
        elapsed_s=elapsed_s,
        files_read=files_read,
        records_read=records_read,
        rows=dict(rows),
        quarantine_reasons=dict(sorted(reasons.items(), key=lambda item: (-item[1], item[0]))),
        output=output,
    )
