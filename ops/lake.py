"""Iceberg operations through pyiceberg on the Glue catalog: ``tables`` and ``smoke``.

``tables`` shows each table's current snapshot and, for source tables, the snapshots a streaming
reader still has to read. ``smoke`` appends a marked batch to the source table and waits for the
job's per-window aggregates of exactly that batch in the sink.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TextIO

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.expressions import And, EqualTo
from pyiceberg.table import Table
from pyiceberg.table.snapshots import Snapshot

from unilake_config import Environment

from .errors import OpsError

SOURCE_TABLE = "transactions"
SINK_TABLE = "sales_per_minute"
QUARANTINE_TABLE = "quarantine"
APPEND = "append"
SUMMARY_KEYS = ("added-records", "added-data-files", "total-records", "total-data-files")
DEFAULT_RECENT_MINUTES = 60
DEFAULT_RECENT_LIMIT = 10
CENT = Decimal("0.01")


def _load(catalog: Catalog, database: str, name: str) -> Table:
    from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

    try:
        return catalog.load_table((database, name))
    except (NoSuchTableError, NoSuchNamespaceError):
        raise OpsError(
            f"table {database}.{name} not found in the Glue Data Catalog - is the environment deployed?"
        ) from None


def _when_ms(timestamp_ms: int) -> str:
    return datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _operation(snapshot: Snapshot) -> str:
    return snapshot.summary.operation.value if snapshot.summary is not None else "unknown"


def _counts(snapshot: Snapshot) -> str:
    if snapshot.summary is None:
        return ""
    props = snapshot.summary.additional_properties
    return ", ".join(f"{key} {props[key]}" for key in SUMMARY_KEYS if key in props)


def describe_snapshot(snapshot: Snapshot) -> str:
    when = _when_ms(snapshot.timestamp_ms)
    return f"{snapshot.snapshot_id} at {when} {_operation(snapshot)} ({_counts(snapshot)})"


def ancestry(table: Table) -> list[Snapshot]:
    """The current snapshot and its ancestors, newest first (what an incremental reader walks)."""
    chain: list[Snapshot] = []
    snapshot = table.current_snapshot()
    while snapshot is not None:
        chain.append(snapshot)
        parent = snapshot.parent_snapshot_id
        snapshot = table.snapshot_by_id(parent) if parent is not None else None
    return chain


@dataclass(frozen=True)
class Pending:
    snapshots: tuple[Snapshot, ...]
    """Newest first."""
    heading: str

    @property
    def appended_records(self) -> int:
        return sum(
            int(snap.summary.additional_properties.get("added-records", 0))
            for snap in self.snapshots
            if snap.summary is not None and _operation(snap) == APPEND
        )


def pending_snapshots(table: Table, *, since_snapshot: int | None, now: datetime, minutes: int, limit: int) -> Pending:
    """The snapshots a reader still has to read.

    With ``since_snapshot`` (the reader's last consumed snapshot): every descendant of it up to the
    current snapshot. Without a reader position: the snapshots of the last ``minutes`` minutes, at most
    ``limit``, newest first.
    """
    chain = ancestry(table)
    if since_snapshot is not None:
        newer: list[Snapshot] = []
        for snapshot in chain:
            if snapshot.snapshot_id == since_snapshot:
                return Pending(tuple(newer), f"after snapshot {since_snapshot}: {len(newer)} to read")
            newer.append(snapshot)
        raise OpsError(
            f"snapshot {since_snapshot} is not an ancestor of {table.name()[-1]}'s current snapshot: it was "
            "expired or belongs to another table; a reader positioned there cannot resume"
        )
    cutoff_ms = int((now - timedelta(minutes=minutes)).timestamp() * 1000)
    recent = [snapshot for snapshot in chain if snapshot.timestamp_ms >= cutoff_ms]
    shown = tuple(recent[:limit])
    more = f" (newest {limit} of {len(recent)})" if len(recent) > limit else ""
    return Pending(shown, f"no reader position given: snapshots of the last {minutes} min{more}")


def tables(
    catalog: Catalog,
    env: Environment,
    *,
    out: TextIO,
    now: datetime,
    only: str | None = None,
    since_snapshot: int | None = None,
    minutes: int = DEFAULT_RECENT_MINUTES,
    limit: int = DEFAULT_RECENT_LIMIT,
) -> int:
    database = env.config.catalog.database_name
    specs = [spec for spec in env.tables if only is None or spec.name == only]
    if not specs:
        raise OpsError(f"environment {env.name!r} has no table {only!r}")
    if since_snapshot is not None and sum(spec.role == "source" for spec in specs) != 1:
        raise OpsError("--since-snapshot needs exactly one source table: name it with --table")
    for spec in specs:
        table = _load(catalog, database, spec.name)
        current = table.current_snapshot()
        out.write(f"{database}.{spec.name} ({spec.role})\n")
        out.write(f"  current  {describe_snapshot(current) if current else 'no snapshot yet (empty table)'}\n")
        if spec.role != "source":
            continue
        pending = pending_snapshots(table, since_snapshot=since_snapshot, now=now, minutes=minutes, limit=limit)
        out.write(f"  pending  {pending.heading}; {pending.appended_records} appended records\n")
        for snapshot in pending.snapshots:
            skipped = "" if _operation(snapshot) == APPEND else "  [not read: the reader streams appends only]"
            out.write(f"    {describe_snapshot(snapshot)}{skipped}\n")
    return 0


# --- smoke -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WindowAggregate:
    transactions: int
    units: int
    revenue: Decimal


def window_start(event_time: datetime, window_seconds: int) -> datetime:
    epoch = datetime(1970, 1, 1)
    seconds = int((event_time - epoch).total_seconds())
    return epoch + timedelta(seconds=seconds - seconds % window_seconds)


def expected_aggregates(rows: Iterable[dict[str, Any]], window_seconds: int) -> dict[datetime, WindowAggregate]:
    """What the job must write for ``rows``: per tumbling window, distinct transactions, units, revenue."""
    ids: dict[datetime, set[str]] = {}
    units: dict[datetime, int] = {}
    revenue: dict[datetime, Decimal] = {}
    for row in rows:
        start = window_start(row["event_time"], window_seconds)
        ids.setdefault(start, set()).add(row["transaction_id"])
        units[start] = units.get(start, 0) + row["quantity"]
        revenue[start] = revenue.get(start, Decimal(0)) + row["quantity"] * row["unit_price"]
    return {
        start: WindowAggregate(len(ids[start]), units[start], revenue[start].quantize(CENT)) for start in sorted(ids)
    }


def synthetic_transactions(run_id: str, count: int, now: datetime, *, store_suffix: str = "") -> list[dict[str, Any]]:
    """``count`` transactions marked ``smoke-<run_id>`` in region and store_id, one card each (so no fraud rule
    fires), event times 10 ms apart ending at ``now`` (UTC, no zone): well inside the job's out-of-orderness,
    so a busy stream does not turn them LATE."""
    marker = f"smoke-{run_id}"
    rows = []
    for index in range(count):
        rows.append(
            {
                "transaction_id": f"{marker}{store_suffix}-{index:04d}",
                "store_id": f"{marker}{store_suffix}",
                "region": marker,
                "sku": f"SMOKE-SKU-{index % 3}",
                "card_id": f"{marker}{store_suffix}-card-{index:04d}",
                "quantity": 1 + index % 5,
                "unit_price": Decimal(index % 7 + 1) + Decimal(index * 13 % 100) / 100,
                "event_time": (now - timedelta(milliseconds=10 * (count - 1 - index))).replace(tzinfo=None),
            }
        )
    return rows


def sink_rows(table: Table, marker: str) -> list[dict[str, Any]]:
    table = table.refresh()
    rows: list[dict[str, Any]] = (
        table.scan(row_filter=And(EqualTo(term="region", value=marker), EqualTo(term="store_id", value=marker)))
        .to_arrow()
        .to_pylist()
    )
    return rows


def seen_aggregates(rows: Sequence[dict[str, Any]]) -> dict[datetime, WindowAggregate]:
    return {
        row["window_start"]: WindowAggregate(int(row["transactions"]), int(row["units"]), Decimal(row["revenue"]))
        for row in rows
    }


def quarantined(catalog: Catalog, database: str, marker: str) -> dict[str, int]:
    """Reasons the job rejected this run's rows for, from the quarantine table (empty if it cannot be read)."""
    from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

    try:
        table = catalog.load_table((database, QUARANTINE_TABLE))
    except (NoSuchTableError, NoSuchNamespaceError):
        return {}
    reasons: dict[str, int] = {}
    for row in table.scan(row_filter=EqualTo(term="region", value=marker)).to_arrow().to_pylist():
        reasons[row["reason"]] = reasons.get(row["reason"], 0) + 1
    return reasons


class Progress:
    """One progress line: rewritten in place on a terminal, one line per change otherwise."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._tty = out.isatty()
        self._last = ""

    def update(self, elapsed: float, text: str) -> None:
        if self._tty:
            self._out.write(f"\r  {elapsed:6.1f}s  {text}")
            self._out.flush()
        elif text != self._last:
            self._out.write(f"  {elapsed:6.1f}s  {text}\n")
        self._last = text

    def done(self) -> None:
        if self._tty:
            self._out.write("\n")


def smoke(
    catalog: Catalog,
    env: Environment,
    *,
    out: TextIO,
    count: int,
    timeout: float,
    poll: float,
    advance_watermark: bool = False,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    run_id: str | None = None,
) -> int:
    """Append ``count`` marked transactions and wait until ``sales_per_minute`` holds exactly their aggregates.

    The job closes a window when its watermark passes the window's end (plus the out-of-orderness), which
    needs later events. ``advance_watermark`` appends one marked row (its own store, ignored by the check)
    every poll, for environments with no other traffic.
    """
    database = env.config.catalog.database_name
    window = env.config.flink.window_size
    source = _load(catalog, database, SOURCE_TABLE)
    sink = _load(catalog, database, SINK_TABLE)
    run_id = run_id or uuid.uuid4().hex[:10]
    marker = f"smoke-{run_id}"
    schema = source.schema().as_arrow()
    rows = synthetic_transactions(run_id, count, now())
    expected = expected_aggregates(rows, window)
    source.append(pa.Table.from_pylist(rows, schema=schema))
    snapshot = source.current_snapshot()
    out.write(
        f"appended {count} transactions to {database}.{SOURCE_TABLE} (snapshot "
        f"{snapshot.snapshot_id if snapshot else '?'}), marker {marker!r}\n"
    )
    total = sum(agg.transactions for agg in expected.values())
    out.write(
        f"waiting up to {timeout:.0f}s for {len(expected)} window(s) of {window}s in {database}.{SINK_TABLE} "
        f"({total} transactions, {sum(a.units for a in expected.values())} units, "
        f"revenue {sum((a.revenue for a in expected.values()), Decimal(0))})\n"
    )
    progress = Progress(out)
    started = clock()
    ticks = 0
    while True:
        seen = seen_aggregates(sink_rows(sink, marker))
        elapsed = clock() - started
        seen_transactions = sum(agg.transactions for agg in seen.values())
        progress.update(elapsed, f"windows {len(seen)}/{len(expected)}  transactions {seen_transactions}/{total}")
        if seen == expected:
            progress.done()
            out.write(f"OK: {SINK_TABLE} has exactly the expected aggregates for {marker}\n")
            return 0
        unexpected = {start: agg for start, agg in seen.items() if expected.get(start) != agg}
        if set(seen) >= set(expected) and unexpected:
            progress.done()
            raise OpsError(f"{SINK_TABLE} has wrong aggregates for {marker}: {_diff(expected, seen)}")
        if elapsed >= timeout:
            progress.done()
            rejected = quarantined(catalog, database, marker)
            why = (
                f"the job quarantined them ({', '.join(f'{n} {reason}' for reason, n in sorted(rejected.items()))})"
                if rejected
                else "is the application RUNNING (python -m ops status) and is later data advancing the watermark "
                "(--advance-watermark)?"
            )
            raise OpsError(
                f"timed out after {timeout:.0f}s: {len(seen)}/{len(expected)} window(s) for {marker} in "
                f"{SINK_TABLE}: {why}"
            )
        if advance_watermark:
            ticks += 1
            tick = synthetic_transactions(run_id, 1, now(), store_suffix=f"-tick{ticks}")
            source.append(pa.Table.from_pylist(tick, schema=schema))
        sleep(poll)


def _diff(expected: dict[datetime, WindowAggregate], seen: dict[datetime, WindowAggregate]) -> str:
    parts = []
    for start in sorted(set(expected) | set(seen)):
        if expected.get(start) != seen.get(start):
            parts.append(f"window {start:%H:%M:%S}: expected {expected.get(start)}, got {seen.get(start)}")
    return "; ".join(parts)
