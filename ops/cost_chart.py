"""``python -m ops cost --chart FILE.svg``: the monitor-interval trade-off as a picture.

One line per table count: the monthly Glue cost of polling (y) against the monitor interval (x, log scale),
with the worst-case freshness under each interval. Written as SVG by hand (a few dozen elements): no plotting
library to install, and any browser or the GitHub file view shows it. PNG is not offered, as it would need
one (matplotlib, or cairo for a conversion).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from html import escape
from pathlib import Path

from .cost import PollingRow

WIDTH, HEIGHT = 760, 440
LEFT, RIGHT, TOP, BOTTOM = 90, 170, 50, 80
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def _x(interval: int, low: float, high: float) -> float:
    span = math.log10(high) - math.log10(low) or 1.0
    return LEFT + (math.log10(interval) - math.log10(low)) / span * (WIDTH - LEFT - RIGHT)


def _y(amount: Decimal, top: Decimal) -> float:
    return HEIGHT - BOTTOM - float(amount / top) * (HEIGHT - TOP - BOTTOM) if top else HEIGHT - BOTTOM


def tradeoff_svg(rows: Sequence[PollingRow], *, title: str) -> str:
    """An SVG line chart of ``rows`` (from :func:`ops.cost.polling_tradeoff`)."""
    if not rows:
        raise ValueError("no intervals to chart")
    intervals = [row.monitor_interval for row in rows]
    low, high = min(intervals), max(intervals)
    if low == high:
        low, high = max(1, low // 2), high * 2
    counts = [count for count, _ in rows[0].cost_by_table_count]
    top = max((amount for row in rows for _, amount in row.cost_by_table_count), default=Decimal(0))
    top = Decimal(math.ceil(float(top) * 1.1)) or Decimal(1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" '
        'font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{WIDTH / 2}" y="24" text-anchor="middle" font-size="14">{escape(title)}</text>',
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" stroke="black"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="black"/>',
        f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 20}" text-anchor="middle">monitor interval, s '
        "(log scale); below it: worst-case freshness, s</text>",
        f'<text x="20" y="{(TOP + HEIGHT - BOTTOM) / 2}" text-anchor="middle" '
        f'transform="rotate(-90 20 {(TOP + HEIGHT - BOTTOM) / 2})">USD per month (Glue GetTable)</text>',
    ]
    for step in range(5):
        amount = top * step / 4
        y = _y(amount, top)
        parts.append(f'<line x1="{LEFT - 4}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">${amount:,.0f}</text>')
    for row in rows:
        x = _x(row.monitor_interval, low, high)
        parts.append(
            f'<line x1="{x:.1f}" y1="{HEIGHT - BOTTOM}" x2="{x:.1f}" y2="{HEIGHT - BOTTOM + 4}" stroke="black"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">{row.monitor_interval:,}</text>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 34}" text-anchor="middle" fill="#666">'
            f"{row.worst_case_staleness:,}</text>"
        )
    for index, count in enumerate(counts):
        colour = COLOURS[index % len(COLOURS)]
        points = [(_x(row.monitor_interval, low, high), _y(dict(row.cost_by_table_count)[count], top)) for row in rows]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in points)
        label_y = TOP + 20 * index
        parts.append(
            f'<line x1="{WIDTH - RIGHT + 15}" y1="{label_y}" x2="{WIDTH - RIGHT + 35}" y2="{label_y}" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
        tables = f"{count:,} table{'s' if count != 1 else ''}"
        parts.append(f'<text x="{WIDTH - RIGHT + 40}" y="{label_y + 4}">{tables}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write_chart(path: Path, rows: Sequence[PollingRow], *, title: str) -> None:
    path.write_text(tradeoff_svg(rows, title=title), encoding="utf-8")
