"""The msf profile streaming on the real Iceberg connector while commits land (moto Glue + S3, the jar).

The job starts on an empty ``transactions`` table and polls it every second; the test lands commits of 30 s
of event time each, in event-time order, and reads the sinks back with pyiceberg. Every run here is compared
with the local profile on the same records, and the interrupted runs (savepoint; cancel after a checkpoint)
with the uninterrupted one. One JVM, one moto server for all of them.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from flink_test_support import Row
from msf_support import (
    RECORDS,
    MsfLake,
    StreamingRun,
    assert_every_record_accounted_for,
    assert_same_as_local,
    closed_windows_complete,
    closing_minute,
    commits_by_minute,
    comparable_rows,
    in_event_time_order,
    local_profile_outputs,
    start_streaming,
    wait_until,
)

#: One region, so each commit is one data file in event-time order (the reader's watermark then never passes
#: a record of a later file; see test_commits_of_several_region_files for the shape real writers produce).
ONE_REGION: list[Row] = [{**row, "region": "eu"} for row in RECORDS]
COMMITS = in_event_time_order(commits_by_minute(ONE_REGION, seconds=30))
HALF = len(COMMITS) // 2
FIRST_HALF = [row for commit in COMMITS[:HALF] for row in commit]
#: Checkpoint (= Iceberg commit) interval and monitor interval of the streaming runs (msf_support).
CHECKPOINT_S, MONITOR_S = 2.0, 1.0


@pytest.fixture(scope="module")
def one_region_local(pyflink: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Row]]:
    return local_profile_outputs(tmp_path_factory.mktemp("local_one_region"), ONE_REGION)


def land(lake: MsfLake, commits: list[list[Row]]) -> list[float]:
    """Each commit landed by pyiceberg (one process each); the time each one became visible."""
    landed = []
    for commit in commits:
        (done,) = lake.lake.append([commit])
        assert done["data_files"] == 1, done
        landed.append(time.monotonic())
    return landed


def finish(run: StreamingRun, lake: MsfLake, expected: dict[str, list[Row]], rows: list[Row]) -> None:
    """Wait until every window the landed records close is in the sinks, then stop with drain (end of event
    time: the last window fires, everything is committed)."""
    complete = closed_windows_complete(lake, expected["sales_per_minute"], before=closing_minute(rows))
    wait_until(complete, timeout_s=90, what="the closed windows in sales_per_minute", explain=complete.__str__)
    time.sleep(MONITOR_S + 1)  # the last commit's file is read by now; drain fires the last window
    run.stop_with_savepoint(drain=True)


def assert_no_duplicate_commits(lake: MsfLake, rows_per_sink: dict[str, int]) -> None:
    """Every sink snapshot is one Flink checkpoint of one job, committed once: no (job id, checkpoint id) pair
    appears twice, and the records the snapshots added sum to the rows the sink holds."""
    for table, snapshots in lake.snapshots().items():
        pairs = [(s["summary"]["flink.job-id"], s["summary"]["flink.max-committed-checkpoint-id"]) for s in snapshots]
        assert len(pairs) == len(set(pairs)), (table, Counter(pairs).most_common(3))
        assert all(s["summary"]["operation"] == "append" for s in snapshots), table
        assert sum(int(s["summary"].get("added-records", 0)) for s in snapshots) == rows_per_sink[table], table


def sink_rows(result: dict[str, list[Row]]) -> dict[str, Any]:
    return {table: comparable_rows(rows, drop=("ingest_time",)) for table, rows in result.items()}


@pytest.fixture(scope="module")
def uninterrupted(
    new_msf_lake: Any, dependency_jar: Path, one_region_local: dict[str, list[Row]], tmp_path_factory: Any
) -> tuple[MsfLake, list[float]]:
    """One streaming run from an empty table to the end of the commits; per window, how long after the commit
    that closed it its sales rows were readable."""
    lake: MsfLake = new_msf_lake("e2e_stream")
    run = start_streaming(lake, dependency_jar, tmp_path_factory.mktemp("chk_stream"))
    run.wait_for_checkpoint()
    latencies = []
    expected_sales = one_region_local["sales_per_minute"]
    closed = ""
    for commit in COMMITS:
        (landed_at,) = land(lake, [commit])
        closes = closing_minute(commit)
        if closes > closed and any(str(r["window_start"]) < closes for r in expected_sales):
            # This commit closes windows: their rows must become readable within about a checkpoint interval.
            closed = closes
            wait_until(
                closed_windows_complete(lake, expected_sales, before=closes),
                timeout_s=60,
                what=f"windows before {closes}",
                poll_s=0.2,
            )
            latencies.append(time.monotonic() - landed_at)
    finish(run, lake, one_region_local, ONE_REGION)
    return lake, latencies


def test_streaming_on_iceberg_equals_the_local_profile(
    uninterrupted: tuple[MsfLake, list[float]], one_region_local: dict[str, list[Row]]
) -> None:
    lake, _ = uninterrupted
    result = lake.sinks()
    assert_same_as_local(result, one_region_local)
    assert_every_record_accounted_for(result, ONE_REGION)
    assert "LATE" not in {r["reason"] for r in result["quarantine"]}


def test_results_appear_within_about_one_checkpoint_interval(uninterrupted: tuple[MsfLake, list[float]]) -> None:
    """From the commit that closes a window to its rows being readable: the next poll (1 s), the next
    checkpoint (2 s), the commit to Glue; 5 s of slack for a loaded 2-core machine."""
    _, latencies = uninterrupted
    assert latencies
    assert max(latencies) <= MONITOR_S + CHECKPOINT_S + 5.0, latencies


def test_streaming_commits_once_per_checkpoint(uninterrupted: tuple[MsfLake, list[float]]) -> None:
    lake, _ = uninterrupted
    result = lake.sinks()
    assert_no_duplicate_commits(lake, {table: len(rows) for table, rows in result.items()})
    assert len(lake.snapshots()["sales_per_minute"]) > 1  # committed while running, not only at the end


def run_first_half(lake: MsfLake, jar: Path, checkpoints: Path, reference: dict[str, list[Row]]) -> StreamingRun:
    """Start the streaming job, land the first half of the commits and wait until the windows it closes are
    in the sinks: the point at which the restore tests interrupt the job."""
    run = start_streaming(lake, jar, checkpoints)
    run.wait_for_checkpoint()
    land(lake, COMMITS[:HALF])
    complete = closed_windows_complete(lake, reference["sales_per_minute"], before=closing_minute(FIRST_HALF))
    wait_until(complete, timeout_s=60, what="the first half's closed windows", explain=complete.__str__)
    return run


def assert_equal_to_uninterrupted(lake: MsfLake, reference: dict[str, list[Row]]) -> None:
    """The sinks hold what the uninterrupted run wrote, each checkpoint's rows committed once."""
    result = lake.sinks()
    assert sink_rows(result) == sink_rows(reference)
    assert_no_duplicate_commits(lake, {table: len(rows) for table, rows in result.items()})


def test_stop_with_savepoint_and_restore_equals_an_uninterrupted_run(
    new_msf_lake: Any, dependency_jar: Path, uninterrupted: tuple[MsfLake, list[float]], tmp_path: Path
) -> None:
    lake: MsfLake = new_msf_lake("e2e_savepoint")
    reference = uninterrupted[0].sinks()
    run = run_first_half(lake, dependency_jar, tmp_path / "chk", reference)
    savepoint = run.stop_with_savepoint(drain=False)
    restored = start_streaming(lake, dependency_jar, tmp_path / "chk", restore_from=savepoint)
    restored.wait_for_checkpoint()
    land(lake, COMMITS[HALF:])
    finish(restored, lake, reference, ONE_REGION)
    assert_equal_to_uninterrupted(lake, reference)


def test_cancel_after_a_checkpoint_and_restore_equals_an_uninterrupted_run(
    new_msf_lake: Any, dependency_jar: Path, uninterrupted: tuple[MsfLake, list[float]], tmp_path: Path
) -> None:
    """Cancelled with records read but not yet committed: the restored job commits what the checkpoint holds
    once, and reads the rest from the checkpointed position."""
    from flink_app.unilake_job import job

    lake: MsfLake = new_msf_lake("e2e_cancel")
    reference = uninterrupted[0].sinks()
    run = run_first_half(lake, dependency_jar, tmp_path / "chk", reference)
    land(lake, COMMITS[HALF : HALF + 1])
    run.cancel()
    latest = job.latest_checkpoint(tmp_path / "chk")
    assert latest is not None
    restored = start_streaming(lake, dependency_jar, tmp_path / "chk", restore_from=latest)
    restored.wait_for_checkpoint()
    land(lake, COMMITS[HALF + 1 :])
    finish(restored, lake, reference, ONE_REGION)
    assert_equal_to_uninterrupted(lake, reference)


def test_commits_of_several_region_files(
    new_msf_lake: Any, dependency_jar: Path, tmp_path: Path, local_expected: dict[str, list[Row]]
) -> None:
    """The shape a real writer produces: each commit one data file per region, all spanning the same minute.
    The sinks must equal the local profile's output on the same records: nothing is LATE, every record is
    within the out-of-orderness of the records before it in event time."""
    lake: MsfLake = new_msf_lake("e2e_stream_regions")
    commits = in_event_time_order(commits_by_minute(RECORDS))
    run = start_streaming(lake, dependency_jar, tmp_path / "chk")
    run.wait_for_checkpoint()
    for commit in commits:
        (done,) = lake.lake.append([commit])
        assert done["data_files"] > 1, done
    complete = closed_windows_complete(lake, local_expected["sales_per_minute"], before=closing_minute(RECORDS))

    def late() -> list[str]:
        return [r["transaction_id"] for r in lake.sinks()["quarantine"] if r["reason"] == "LATE"]

    wait_until(lambda: complete() or bool(late()), timeout_s=90, what="the closed windows or a LATE record")
    time.sleep(MONITOR_S + 1)
    run.stop_with_savepoint(drain=True)
    assert late() == []
    result = lake.sinks()
    assert_same_as_local(result, local_expected)
