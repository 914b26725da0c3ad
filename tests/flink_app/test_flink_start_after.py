"""A stream started after snapshot A (``INCREMENTAL_AFTER_SNAPSHOT_ID``): how ``job.start_after`` maps it onto
Iceberg's starting strategies from the source table's history, and its refusals. Fast: the history is given
as the (snapshot id, parent id) pairs ``job._source_history`` reads from Iceberg's Java table; the mapping on
the real connector is tested in ``test_msf_backfill.py`` (a backfill up to E, then a stream after E)."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import replace
from typing import Any

import pytest

from flink_app.unilake_job import sql
from flink_app.unilake_job.properties import parse_settings

MSF = {"profile": "msf", "warehouse": "s3://lake-bucket/warehouse", "database": "unilake"}
#: Snapshots 1 <- 2 <- 3 <- 4 (current); 5 was committed on 2 and rolled back (not an ancestor of 4).
LINEAGE = ((4, 3), (3, 2), (2, 1), (1, None))
KNOWN = (1, 2, 3, 4, 5)
#: The snapshot ids the last history() handed to start_after, as far as it walked them.
WALKED: list[int] = []


def after(snapshot_id: int) -> Any:
    return parse_settings(
        [
            {
                "PropertyGroupId": "unilake.job",
                "PropertyMap": {
                    **MSF,
                    "source.starting-strategy": "INCREMENTAL_AFTER_SNAPSHOT_ID",
                    "source.start-snapshot-id": str(snapshot_id),
                },
            }
        ]
    )


def history(
    current: int | None = 4, lineage: tuple[tuple[int, int | None], ...] = LINEAGE, known: Collection[int] = KNOWN
) -> Any:
    from flink_app.unilake_job import job

    def ancestors() -> Iterator[tuple[int, int | None]]:
        for pair in lineage:
            WALKED.append(pair[0])
            yield pair

    WALKED.clear()
    return job.SourceHistory(table="unilake.transactions", current=current, ancestors=ancestors(), known=lambda: known)


def test_after_a_snapshot_with_a_child_starts_at_the_child_inclusive(pyflink: Any) -> None:
    from flink_app.unilake_job import job

    resolved = job.start_after(after(2), history())
    # Iceberg's INCREMENTAL_FROM_SNAPSHOT_ID on 3 positions the enumerator on 3's parent, 2: after 2.
    assert (resolved.source_starting_strategy, resolved.source_start_snapshot_id) == ("INCREMENTAL_FROM_SNAPSHOT_ID", 3)
    assert WALKED == [4, 3]  # the lineage is walked only as far as the child
    assert sql.msf_read_options(resolved) == {
        "streaming": "true",
        "monitor-interval": "30s",
        "starting-strategy": "INCREMENTAL_FROM_SNAPSHOT_ID",
        "start-snapshot-id": "3",
    }
    first = job.start_after(after(1), history())
    assert first.source_start_snapshot_id == 2
    # The child of an expired snapshot is still found: Iceberg's incremental scan starts exclusive of an
    # expired parent (BaseIncrementalScan.fromSnapshotExclusive).
    expired = job.start_after(after(1), history(lineage=((4, 3), (3, 2), (2, 1)), known=(2, 3, 4)))
    assert expired.source_start_snapshot_id == 2


def test_after_the_current_snapshot_starts_exclusive_of_the_latest(pyflink: Any) -> None:
    from flink_app.unilake_job import job

    resolved = job.start_after(after(4), history())
    assert resolved.source_starting_strategy == "INCREMENTAL_FROM_LATEST_SNAPSHOT_EXCLUSIVE"
    assert resolved.source_start_snapshot_id is None
    assert "start-snapshot-id" not in sql.msf_read_options(resolved)


@pytest.mark.parametrize(
    ("snapshot_id", "seen", "problem"),
    [
        (99, {}, "no snapshot 99 in the history of table unilake.transactions (expired, or of another table)"),
        (5, {}, "snapshot 5 of table unilake.transactions is not an ancestor of its current snapshot 4"),
        (1, {"current": None, "lineage": (), "known": ()}, "table unilake.transactions has no snapshot yet"),
        # Expired with its child: nothing tells where "after it" begins.
        (1, {"lineage": ((4, 3), (3, 2)), "known": (3, 4)}, "no snapshot 1 in the history of table"),
    ],
)
def test_refusals_name_the_setting_the_snapshot_and_the_table(
    pyflink: Any, snapshot_id: int, seen: dict[str, Any], problem: str
) -> None:
    from flink_app.unilake_job import job

    with pytest.raises(job.JobFailedError) as caught:
        job.start_after(after(snapshot_id), history(**seen))
    message = str(caught.value)
    assert message.startswith(
        f"source.start-snapshot-id = {snapshot_id} (source.starting-strategy INCREMENTAL_AFTER_SNAPSHOT_ID): "
    )
    assert problem in message
    assert "\n" not in message


def test_an_unresolved_start_is_no_iceberg_strategy_and_prepare_renders_the_resolved_one(pyflink: Any) -> None:
    """Before resolution the hint names the job's own strategy, which Iceberg's StreamingStartingStrategy does
    not know (the source refuses it rather than start anywhere); job._with_start swaps in the resolved hint."""
    from flink_app.unilake_job import job

    iceberg = {
        "TABLE_SCAN_THEN_INCREMENTAL",
        "INCREMENTAL_FROM_LATEST_SNAPSHOT",
        "INCREMENTAL_FROM_LATEST_SNAPSHOT_EXCLUSIVE",
        "INCREMENTAL_FROM_EARLIEST_SNAPSHOT",
        "INCREMENTAL_FROM_SNAPSHOT_ID",
        "INCREMENTAL_FROM_SNAPSHOT_TIMESTAMP",
    }
    settings = after(2)
    assert sql.msf_read_options(settings)["starting-strategy"] not in iceberg
    plan = sql.build_plan(settings)
    assert plan.stream_source is not None
    assert plan.stream_source.read_options["starting-strategy"] not in iceberg
    resolved = job.start_after(settings, history())
    setup, source = job.started(plan, plan.setup, settings, resolved)
    assert setup == plan.setup
    assert source is not None
    assert source.read_options == {
        **plan.stream_source.read_options,
        "starting-strategy": "INCREMENTAL_FROM_SNAPSHOT_ID",
        "start-snapshot-id": "3",
    }
    # A source read through a hint (the msf plan on local files) gets its received view rendered again.
    hinted = replace(plan, stream_source=None, setup=(*plan.setup, sql.msf_received_view(settings)))
    setup, source = job.started(hinted, hinted.setup, settings, resolved)
    assert source is None
    changed = [(old, new) for old, new in zip(hinted.setup, setup, strict=True) if old != new]
    assert len(changed) == 1
    assert changed[0][1] == sql.msf_received_view(resolved)
    assert re.search(r"'starting-strategy' = 'INCREMENTAL_FROM_SNAPSHOT_ID', 'start-snapshot-id' = '3'", changed[0][1])
    assert job._with_start(hinted.setup, settings, settings) == hinted.setup
