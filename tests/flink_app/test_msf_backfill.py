"""Day backfills on the real connector: the msf profile with the dependency jar against Glue and S3 on moto.

A backfill of day D reads every record of D up to and including a snapshot and writes ``sales_per_minute`` and
``fraud_alerts`` with INSERT OVERWRITE, which Iceberg's Flink sink commits as a dynamic partition overwrite
(ReplacePartitions) of the ``day(window_start)`` partitions it writes. What the tests pin down:

- twice = once: a second backfill of the same day replaces, it never adds;
- over a day the stream already wrote, the backfill replaces the stream's rows of that day and leaves the
  other days alone (the stream's output is played by a bounded append run, which writes the rows the stream
  writes for records it sees in time; ``tests/flink_app/test_msf_end_to_end.py`` compares the two);
- quarantine is never rewritten;
- a backfill up to snapshot E sees exactly the records committed up to E (a later commit of the same day is
  left for the next backfill).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flink_test_support import CRAFTED_FILES, Row
from msf_support import MsfLake, commits_by_minute, comparable_rows, typed_rows

from flink_app.datagen import Generator

DAY = "2026-11-25"
#: Day D: the crafted records and generated ones; the day before: the generated ones shifted by a day.
RECORDS_D: list[Row] = typed_rows(line for _, lines in CRAFTED_FILES for line in lines) + typed_rows(
    Generator(seed=5, stores=6, cards=120, per_second=6).lines(600)
)
RECORDS_BEFORE: list[Row] = [
    {
        **row,
        "transaction_id": f"prev-{row['transaction_id']}",
        "event_time": row["event_time"].replace(DAY, "2026-11-24"),
    }
    for row in typed_rows(Generator(seed=6, stores=6, cards=120, per_second=6).lines(300))
]


def run_msf(lake: MsfLake, jar: Path, **extra: str) -> None:
    from flink_app.unilake_job import job

    job.submit(lake.settings(mode="batch", **extra), run=job.LocalRun(jars=(jar,))).wait()


def backfill(lake: MsfLake, jar: Path, *, day: str = DAY, **extra: str) -> None:
    run_msf(lake, jar, **{"backfill.from-day": day, "backfill.to-day": day, **extra})


def by_day(rows: list[Row]) -> dict[str, list[Any]]:
    days: dict[str, list[Row]] = {}
    for row in rows:
        days.setdefault(str(row["window_start"])[:10], []).append(row)
    return {day: comparable_rows(day_rows) for day, day_rows in sorted(days.items())}


def operations(lake: MsfLake, table: str) -> list[str]:
    return [s["summary"]["operation"] for s in lake.snapshots((table,))[table]]


@pytest.fixture(scope="module")
def reference(new_msf_lake: Any, dependency_jar: Path) -> dict[str, list[Row]]:
    """One plain bounded run over both days: what the sinks hold when every record is counted once."""
    lake: MsfLake = new_msf_lake("bf_reference")
    lake.lake.append(commits_by_minute(RECORDS_BEFORE + RECORDS_D, minutes_per_commit=2))
    run_msf(lake, dependency_jar)
    return lake.sinks()


def test_a_backfill_twice_equals_once_and_replaces_only_its_day(
    new_msf_lake: Any, dependency_jar: Path, reference: dict[str, list[Row]]
) -> None:
    lake: MsfLake = new_msf_lake("bf_twice")
    lake.lake.append(commits_by_minute(RECORDS_BEFORE + RECORDS_D, minutes_per_commit=2))
    run_msf(lake, dependency_jar)  # the stream's rows of both days, as an append run writes them
    streamed = lake.sinks()
    assert by_day(streamed["sales_per_minute"]) == by_day(reference["sales_per_minute"])

    backfill(lake, dependency_jar)
    once = lake.sinks()
    backfill(lake, dependency_jar)
    twice = lake.sinks()

    for table in ("sales_per_minute", "fraud_alerts"):
        # Not doubled: day D holds the reference rows once, after one backfill and after two.
        assert by_day(once[table]) == by_day(reference[table]), table
        assert by_day(twice[table]) == by_day(reference[table]), table
        # Iceberg's dynamic overwrite: one append (the stream), then one overwrite per backfill.
        assert operations(lake, table) == ["append", "overwrite", "overwrite"], table
    assert {str(r["window_start"])[:10] for r in twice["sales_per_minute"]} == {"2026-11-24", DAY}
    # Quarantine is the stream's, untouched: no backfill commits to it.
    assert operations(lake, "quarantine") == ["append"]
    assert comparable_rows(twice["quarantine"]) == comparable_rows(streamed["quarantine"])


def test_a_backfill_replaces_what_the_stream_wrote_of_the_day(
    new_msf_lake: Any, dependency_jar: Path, reference: dict[str, list[Row]]
) -> None:
    """The stream wrote day D from only part of its records (those committed up to snapshot E); the day's
    other records were committed later. A backfill of D up to the latest snapshot replaces D's partial
    windows with complete ones, and the day before keeps the stream's rows."""
    lake: MsfLake = new_msf_lake("bf_partial")
    commits = lake.lake.append(commits_by_minute(RECORDS_BEFORE + RECORDS_D))  # one commit per minute
    assert len(commits) >= 4, commits
    middle = commits[len(commits) // 2]["snapshot_id"]  # E: day D's last minute comes after it
    run_msf(lake, dependency_jar, **{"source.end-snapshot-id": str(middle)})  # the stream, up to E
    partial = lake.sinks()
    assert by_day(partial["sales_per_minute"]) != by_day(reference["sales_per_minute"])

    backfill(lake, dependency_jar)
    result = lake.sinks()
    assert by_day(result["sales_per_minute"])[DAY] == by_day(reference["sales_per_minute"])[DAY]
    assert by_day(result["fraud_alerts"])[DAY] == by_day(reference["fraud_alerts"])[DAY]
    before = "2026-11-24"
    assert by_day(result["sales_per_minute"]).get(before) == by_day(partial["sales_per_minute"]).get(before)


def test_a_backfill_up_to_a_snapshot_reads_exactly_the_records_committed_up_to_it(
    new_msf_lake: Any, dependency_jar: Path, reference: dict[str, list[Row]]
) -> None:
    """Up to and including snapshot E: the commits after E are not read; a backfill up to the last snapshot
    then completes the day, replacing (not adding to) the first backfill's rows."""
    lake: MsfLake = new_msf_lake("bf_upto")
    commits = lake.lake.append(commits_by_minute(RECORDS_D, minutes_per_commit=2))
    first_e = commits[0]["snapshot_id"]
    backfill(lake, dependency_jar, **{"source.end-snapshot-id": str(first_e)})
    early = lake.sinks()["sales_per_minute"]
    first_minutes = {str(r["event_time"])[:16] for r in commits_by_minute(RECORDS_D, minutes_per_commit=2)[0]}
    assert {str(r["window_start"])[:16].replace("T", " ") for r in early} <= {
        m.replace("T", " ") for m in first_minutes
    }
    assert sum(int(r["transactions"]) for r in early) > 0

    backfill(lake, dependency_jar, **{"source.end-snapshot-id": str(commits[-1]["snapshot_id"])})
    full = lake.sinks()
    assert by_day(full["sales_per_minute"])[DAY] == by_day(reference["sales_per_minute"])[DAY]
    assert operations(lake, "sales_per_minute") == ["overwrite", "overwrite"]
