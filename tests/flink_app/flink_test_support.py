"""Helpers of the flink_app tests: the crafted input, landing files, reading outputs, local settings."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

Row = dict[str, Any]


def tx(
    tid: str | None,
    *,
    store: str | None = "S1",
    region: str | None = "eu",
    sku: str | None = "K1",
    card: str | None = "C0",
    qty: object = 1,
    price: object = "1.00",
    at: str | None = "10:00:00",
    drop: Sequence[str] = (),
    event_time: str | None = None,
) -> str:
    """One JSON line; ``at`` is a time of 2026-11-25 in UTC unless ``event_time`` gives the raw value."""
    record: dict[str, object] = {
        "transaction_id": tid,
        "store_id": store,
        "region": region,
        "sku": sku,
        "card_id": card,
        "quantity": qty,
        "unit_price": price,
        "event_time": event_time if event_time is not None else f"2026-11-25T{at}Z",
    }
    for key in drop:
        del record[key]
    return json.dumps(record)


# The crafted input, one file per minute window, each in event-time order (streaming lands them in order).
W0 = [
    *(tx(f"v{i}", card="V", store="S1", qty=1, price="10.00", at=f"10:00:0{i}") for i in range(1, 6)),
    tx("m1", card="M", store="S1", qty=2, price="5.00", at="10:00:10"),
    tx("m2", card="M", store="S2", qty=2, price=5, at="10:00:11"),
    tx("m3", card="M", store="S3", qty="2", price="5.00", at="10:00:12"),
    "this is not json",
    tx("x-missing", at="10:00:13", drop=("sku",)),
    tx("x-null-card", card=None, qty="0", at="10:00:14"),
    tx("x-no-zone", event_time="2026-11-25 10:00:15"),
    tx("x-offset", event_time="2026-11-25T10:00:15+01:00"),
    tx("x-impossible", event_time="2026-02-30T10:00:15Z"),
    tx("x-time-and-qty", event_time="yesterday", qty="x"),
    tx("x-qty-zero", qty="0", at="10:00:16"),
    tx("x-qty-frac", qty="2.5", at="10:00:16"),
    tx("x-qty-neg", qty=-1, at="10:00:16"),
    tx("x-price-neg", price="-1.00", at="10:00:17"),
    tx("x-price-3dp", price="1.234", at="10:00:17"),
    tx("x-price-text", price="abc", at="10:00:17"),
    "[1, 2, 3]",
    # Where the JSON format (records) and IS JSON OBJECT (malformed lines) must agree, line by line:
    "null",
    "42",
    '"a JSON string"',
    "\ufeff" + tx("x-bom", qty="0", at="10:00:17"),  # a byte order mark before the object: a record
    '{"transaction_id": "x-trailing"} and more',  # an object followed by text: a record, as far as it goes
    "{}",  # an object without fields: MISSING_FIELD, no transaction_id
    "   ",  # spaces only: no record
    tx("d1", card="D", store="S2", qty=3, price="12.50", at="10:00:20.500"),
    tx("d1", card="D", store="S2", qty=3, price="12.50", at="10:00:20.500"),
    tx("h1", card="H", store="S3", qty="4", price="2500.00", at="10:00:30"),
    tx("h2", card="H2", store="S3", qty=1, price="9999.99", at="10:00:31"),
    tx("z1", card="Z", store="S4", region="us", qty=1, price="0.00", at="10:00:50"),
]
W1 = [
    tx("b1", card="B", store="S1", region="ap", at="10:01:01"),
    tx("b2", card="B", store="S2", region="ap", at="10:01:02"),
    tx("b3", card="B", store="S3", region="ap", at="10:01:03"),
    tx("b1", card="B", store="S1", region="ap", at="10:01:01"),  # exact replay, within out-of-orderness
    tx("b4", card="B", store="S1", region="ap", at="10:01:04"),
    tx("b5", card="B", store="S2", region="ap", at="10:01:05"),
    tx("b6", card="B", store="S3", region="ap", at="10:01:06"),
]
W2 = [
    tx("c1", card="C", store="S1", qty=2, price="3.33", at="10:02:10"),
    tx("c2", card="C", store="S1", qty=2, price="3.33", at="10:02:20"),
]
CRAFTED_FILES: list[tuple[str, list[str]]] = [("w0.jsonl", W0), ("w1.jsonl", W1), ("w2.jsonl", W2)]
#: Input records that are exact replays of a record already counted.
CRAFTED_REPLAYS = 2
#: Lines that are no record (blank).
CRAFTED_BLANK_LINES = 1


def land(folder: Path, name: str, lines: Sequence[str]) -> None:
    """Land a file atomically as producers do: a hidden temporary name, then a rename."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name}.tmp"
    tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    os.replace(tmp, folder / name)


def read_table(output: Path, table: str) -> list[Row]:
    """Committed rows of one output table (hidden in-progress files are not output)."""
    rows: list[Row] = []
    folder = output / table
    if not folder.is_dir():
        return rows
    for path in sorted(folder.iterdir()):
        if path.name.startswith((".", "_")) or not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append(json.loads(line, parse_float=Decimal))
    return rows


def in_progress_files(output: Path) -> list[Path]:
    return [p for p in output.rglob(".*") if p.is_file() and "_checkpoints" not in p.parts]


def canonical(rows: Sequence[Row], *, drop: Sequence[str] = ()) -> list[tuple[tuple[str, str], ...]]:
    """Rows as sorted, hashable tuples; decimals compared by value (10000 == 10000.00)."""

    def norm(value: object) -> str:
        if isinstance(value, Decimal | int) and not isinstance(value, bool):
            return str(Decimal(value).normalize())
        return json.dumps(value)

    return sorted(tuple(sorted((k, norm(v)) for k, v in row.items() if k not in drop)) for row in rows)


def outputs(output: Path) -> dict[str, list[Row]]:
    return {table: read_table(output, table) for table in ("sales_per_minute", "fraud_alerts", "quarantine")}


def comparable(result: dict[str, list[Row]]) -> dict[str, list[tuple[tuple[str, str], ...]]]:
    return {table: canonical(rows, drop=("ingest_time",)) for table, rows in result.items()}


def lander(folder: Path, files: Sequence[tuple[str, Sequence[str]]], *, gap_s: float) -> Callable[[], None]:
    """A callback that lands ``files`` one by one, ``gap_s`` apart (longer than the discovery interval)."""

    def land_all() -> None:
        for index, (name, lines) in enumerate(files):
            if index:
                time.sleep(gap_s)
            land(folder, name, lines)
        time.sleep(gap_s)

    return land_all


def local_settings(tmp: Path, *, mode: str, **extra: str) -> Any:
    from flink_app.unilake_job.properties import parse_settings

    property_map = {
        "profile": "local",
        "mode": mode,
        "source.path": str(tmp / "in"),
        "sink.path": str(tmp / "out"),
        "source.monitor-interval": "500ms",
        "checkpoint.interval": "1s",
        **extra,
    }
    return parse_settings([{"PropertyGroupId": "unilake.job", "PropertyMap": property_map}])


def run_crafted_batch(tmp: Path, **extra: str) -> dict[str, list[Row]]:
    """The crafted input landed under ``tmp/in`` and run in batch mode; the outputs under ``tmp/out``."""
    from flink_app.unilake_job import job

    for name, lines in CRAFTED_FILES:
        land(tmp / "in", name, lines)
    job.run_local(local_settings(tmp, mode="batch", **extra), log=lambda _: None)
    return outputs(tmp / "out")
