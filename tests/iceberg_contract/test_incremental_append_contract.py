"""The snapshot contract the streaming source relies on, checked with pyiceberg on a local SQL catalog.

Iceberg's Flink source (streaming=true) polls the table every monitor-interval and plans an incremental
APPEND scan from the last snapshot it consumed (exclusive) to the current one (inclusive). The job's
exactly-once input rests on that scan: appends between two snapshots come back exactly once, consecutive
ranges neither overlap nor leave gaps, and overwrite/delete snapshots are skipped (not replayed).

Runs in the main virtualenv (pyiceberg 0.12 with sqlite and pyarrow); PyFlink's pins conflict with it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.expressions import EqualTo
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table import Table
from pyiceberg.transforms import DayTransform, IdentityTransform
from pyiceberg.types import DecimalType, IntegerType, NestedField, StringType, TimestampType

# The `transactions` table of the catalog stacks: same columns, day(event_time) + identity(region).
SCHEMA = Schema(
    NestedField(1, "transaction_id", StringType(), required=False),
    NestedField(2, "store_id", StringType(), required=False),
    NestedField(3, "region", StringType(), required=False),
    NestedField(4, "sku", StringType(), required=False),
    NestedField(5, "card_id", StringType(), required=False),
    NestedField(6, "quantity", IntegerType(), required=False),
    NestedField(7, "unit_price", DecimalType(10, 2), required=False),
    NestedField(8, "event_time", TimestampType(), required=False),
)
SPEC = PartitionSpec(
    PartitionField(source_id=8, field_id=1000, transform=DayTransform(), name="event_time_day"),
    PartitionField(source_id=3, field_id=1001, transform=IdentityTransform(), name="region"),
)
ARROW = pa.schema(
    [
        ("transaction_id", pa.string()),
        ("store_id", pa.string()),
        ("region", pa.string()),
        ("sku", pa.string()),
        ("card_id", pa.string()),
        ("quantity", pa.int32()),
        ("unit_price", pa.decimal128(10, 2)),
        ("event_time", pa.timestamp("us")),
    ]
)


def batch(*ids: str, region: str = "eu") -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "transaction_id": tid,
                "store_id": "S1",
                "region": region,
                "sku": "K1",
                "card_id": "C1",
                "quantity": 1,
                "unit_price": Decimal("9.99"),
                "event_time": datetime(2026, 11, 25, 10, 0, n),
            }
            for n, tid in enumerate(ids)
        ],
        schema=ARROW,
    )


@pytest.fixture
def table(tmp_path: Path) -> Table:
    catalog = SqlCatalog(
        "contract",
        uri=f"sqlite:///{tmp_path / 'catalog.db'}",
        warehouse=(tmp_path / "warehouse").as_uri(),
    )
    catalog.create_namespace("unilake")
    return catalog.create_table("unilake.transactions", schema=SCHEMA, partition_spec=SPEC)


def ids(table: Table, start: int | None, end: int | None) -> list[str]:
    scan = table.incremental_append_scan(from_snapshot_id_exclusive=start, to_snapshot_id_inclusive=end)
    return sorted(scan.to_arrow().column("transaction_id").to_pylist())


def current(table: Table) -> int:
    snapshot = table.refresh().current_snapshot()
    assert snapshot is not None
    return snapshot.snapshot_id


def test_appends_between_two_snapshots_are_returned_exactly_once(table: Table) -> None:
    table.append(batch("a1", "a2"))
    s1 = current(table)
    table.append(batch("b1", "b2", region="us"))
    s2 = current(table)
    table.append(batch("c1"))
    s3 = current(table)
    assert ids(table, s1, s3) == ["b1", "b2", "c1"]
    # A poller reading consecutive ranges sees every appended row once: no overlap, no gap.
    polled = ids(table, None, s1) + ids(table, s1, s2) + ids(table, s2, s3)
    assert sorted(polled) == ["a1", "a2", "b1", "b2", "c1"]
    assert len(polled) == len(set(polled))


def test_overwrite_and_delete_snapshots_are_skipped(table: Table) -> None:
    table.append(batch("a1", "a2"))
    s1 = current(table)
    # pyiceberg commits an overwrite as an OVERWRITE snapshot (the data file of a1/a2 rewritten without a1,
    # so it re-adds a2) followed by an APPEND snapshot of the new rows (o1).
    table.overwrite(batch("o1"), overwrite_filter=EqualTo("transaction_id", "a1"))
    table.delete(EqualTo("transaction_id", "a2"))
    table.append(batch("d1"))
    s_end = current(table)
    snapshots = [s for s in table.snapshots() if s.summary is not None]
    operations = [s.summary.operation.value for s in snapshots if s.summary is not None]
    assert operations == ["append", "overwrite", "append", "delete", "append"]
    rewrite = snapshots[1].summary
    assert rewrite is not None
    assert int(rewrite["added-records"]) == 1  # a2, rewritten
    # Only rows of APPEND snapshots after s1: a2 rewritten by the overwrite is not streamed a second time,
    # and the delete streams nothing (a deleted row is not retracted downstream either).
    assert ids(table, s1, s_end) == ["d1", "o1"]
    assert sorted(table.scan().to_arrow().column("transaction_id").to_pylist()) == ["d1", "o1"]


def test_a_range_ends_at_the_given_snapshot(table: Table) -> None:
    table.append(batch("a1"))
    s1 = current(table)
    table.append(batch("b1"))
    s2 = current(table)
    table.append(batch("c1"))
    assert ids(table, s1, s2) == ["b1"]  # the bounded batch read between two snapshot ids
