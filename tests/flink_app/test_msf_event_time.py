"""Streaming on Iceberg, for real (issue "Streaming on Iceberg that is right"): the msf profile's streaming job
on the PyFlink mini-cluster with the dependency jar, against Glue and S3 on moto (``tests/local_aws``).

Every commit holds one data file per region, all four spanning the same 20 seconds of event time, records
shuffled within each file: the case where a watermark assigned per record after the source quarantined most
valid records as LATE. With split watermarks (``watermark-column`` + ``SOURCE_WATERMARK()``) none is LATE, at
parallelism 1 and 4, live and catching up 50 commits; a record really behind the watermark is still
quarantined as LATE and counted in the job's metrics.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from msf_support import (
    PER_FILE,
    REGIONS,
    MsfLake,
    commit_rows,
    complete_windows,
    rows_before_now,
    sales_per_window,
    start_streaming,
    wait_for_windows,
    wait_until,
    window_start,
)

from flink_app.unilake_job import metric_names
from tests.local_aws.moto import free_port

#: The mini-cluster's REST API (metrics), on a free 127.0.0.1 port.
REST_PORT = free_port()


@contextmanager
def streaming_job(lake: MsfLake, jar: Path, tmp: Path, **extra: str) -> Iterator[Any]:
    """The msf streaming job running on the mini-cluster (checkpoints every second), cancelled at the end."""
    from flink_app.unilake_job import job

    settings = lake.settings(
        mode="streaming",
        **{"source.monitor-interval": "1s", "checkpoint.interval": "1s", **extra},
    )
    t_env = job.create_table_env(settings, checkpoint_dir=tmp / "chk", jars=(jar,))
    t_env.get_config().set("rest.bind-address", "127.0.0.1")
    t_env.get_config().set("rest.port", str(REST_PORT))
    result = job.prepare(t_env, settings).execute()
    client = result.get_job_client()
    try:
        wait_until(lambda: job.job_status(result) == "RUNNING", timeout_s=120, what="the job to run")
        yield result
    finally:
        client.cancel().result()


def rest_get(result: Any, port: int, path: str) -> Any:
    """JSON of the mini-cluster's REST API under this job (``/jobs/<id><path>``)."""
    url = f"http://127.0.0.1:{port}/jobs/{result.get_job_client().get_job_id()}{path}"
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def rest_counts(result: Any, port: int, name: str) -> dict[str, float]:
    """The job's metric ``name`` summed per quarantine reason (``""`` without one) over every vertex and
    subtask, from the mini-cluster's REST API (metric ids like
    ``0.PythonCalc….kinesisanalytics.QuarantineReason.LATE.quarantinedRecords``)."""

    def get(path: str) -> Any:
        return rest_get(result, port, path)

    totals: Counter[str] = Counter()
    for vertex in get("")["vertices"]:
        ids = [m["id"] for m in get(f"/vertices/{vertex['id']}/metrics") if m["id"].endswith("." + name)]
        if not ids:
            continue
        for metric in get(f"/vertices/{vertex['id']}/metrics?get=" + ",".join(ids)):
            parts = metric["id"].split(".")
            reason = (
                parts[parts.index(metric_names.REASON_DIMENSION) + 1] if metric_names.REASON_DIMENSION in parts else ""
            )
            totals[reason] += float(metric["value"])
    return dict(totals)


#: A reviewer's next case: eight region files per commit, one region ten times the size of the others.
EIGHT_REGIONS = (*REGIONS, "north-east", "north-west", "south-east", "south-west")
SKEWED = {"north": 10 * PER_FILE}


@pytest.mark.parametrize(
    ("parallelism", "catch_up", "regions", "sizes"),
    [
        (1, False, REGIONS, None),
        (4, False, REGIONS, None),
        (4, True, REGIONS, None),
        (4, False, EIGHT_REGIONS, SKEWED),
    ],
    ids=["p1-live", "p4-live", "p4-catching-up-50-commits", "p4-live-8-regions-skewed"],
)
def test_no_valid_record_is_late_with_overlapping_partitions(
    new_msf_lake: Any,
    dependency_jar: Path,
    tmp_path: Path,
    parallelism: int,
    catch_up: bool,
    regions: tuple[str, ...],
    sizes: dict[str, int] | None,
) -> None:
    """Zero LATE among valid records whose commits hold four (or eight, one region ten times the others)
    region files over the same seconds; the windows count every record. Before the fix (a watermark assigned
    per record after the source, FIFO splits) a run of this test at parallelism 1 quarantined 285 of 371
    records as LATE (flink_app/README.md)."""
    lake: MsfLake = new_msf_lake(
        f"late_p{parallelism}_{'catchup' if catch_up else 'live'}_{len(regions)}{'_skewed' if sizes else ''}"
    )
    commits = 50 if catch_up else 8
    rows = [commit_rows(k, regions=regions, sizes=sizes) for k in range(commits)]
    if catch_up:  # downtime: 50 commits landed before the job starts, read from the earliest
        lake.lake.append(rows)
        extra = {"source.starting-strategy": "INCREMENTAL_FROM_EARLIEST_SNAPSHOT"}
    else:
        extra = {}
    extra["parallelism"] = str(parallelism)
    complete = complete_windows(range(commits), regions=regions, sizes=sizes)
    assert len(complete) >= 2
    with streaming_job(lake, dependency_jar, tmp_path, **extra):
        if not catch_up:
            lake.lake.append(rows, gap_s=1.0)
        wait_for_windows(lake, complete, timeout_s=180, what="the complete windows in sales_per_minute")
        quarantined = lake.sinks()["quarantine"]
    assert quarantined == []
    got = sales_per_window(lake)
    assert {w: got[w] for w in complete} == complete


def test_a_record_behind_the_watermark_is_quarantined_late_and_counted(
    new_msf_lake: Any, dependency_jar: Path, tmp_path: Path
) -> None:
    """A commit whose file is older than what the reader already emitted: its records are LATE in quarantine
    (never dropped), and the job's metrics count them per reason beside the aggregated records."""
    lake: MsfLake = new_msf_lake("late_really")
    with streaming_job(lake, dependency_jar, tmp_path) as job_result:
        lake.lake.append([commit_rows(k) for k in range(6)], gap_s=1.0)
        wait_until(lambda: sum(sales_per_window(lake).values()) > 0, timeout_s=120, what="a first window")
        old = [{**row, "transaction_id": "late-" + row["transaction_id"]} for row in commit_rows(0, regions=("north",))]
        lake.lake.append([old])
        wait_until(lambda: len(lake.sinks()["quarantine"]) == PER_FILE, timeout_s=120, what="the late records")

        def counts() -> tuple[dict[str, float], dict[str, float]]:
            return (
                rest_counts(job_result, REST_PORT, metric_names.QUARANTINED_RECORDS),
                rest_counts(job_result, REST_PORT, metric_names.AGGREGATED_RECORDS),
            )

        # The REST API serves metrics as its fetcher last collected them (metrics.fetcher.update-interval,
        # 10 s by default): wait for a collection after the late commit, then assert on one reading.
        wait_until(
            lambda: counts()[0].get("LATE") == PER_FILE,
            timeout_s=60,
            what="the LATE count in the job's metrics",
            explain=lambda: str(counts()),
        )
        quarantined, aggregated = counts()
    reasons = Counter(row["reason"] for row in lake.sinks()["quarantine"])
    assert reasons == {"LATE": PER_FILE}
    assert {row["transaction_id"] for row in lake.sinks()["quarantine"]} == {row["transaction_id"] for row in old}
    assert quarantined.get("LATE") == PER_FILE
    assert sum(v for k, v in quarantined.items() if k != "LATE") == 0
    assert aggregated.get("", 0) == sum(sales_per_window(lake).values()) > 0


def test_a_start_without_state_counts_no_record_twice(new_msf_lake: Any, dependency_jar: Path, tmp_path: Path) -> None:
    """The table has snapshots (3 commits); a job started without state reads after the latest (the default):
    the windows count only the commits made after the start, never the latest snapshot again."""
    lake: MsfLake = new_msf_lake("fresh_start")
    lake.lake.append([commit_rows(k) for k in range(3)])
    with streaming_job(lake, dependency_jar, tmp_path):
        time.sleep(3)  # the enumerator has planned its start position
        lake.lake.append([commit_rows(k) for k in range(3, 10)], gap_s=1.0)
        complete = complete_windows(range(3, 10))
        assert list(complete) == ["2026-11-25T10:01:00"]
        wait_for_windows(lake, complete, timeout_s=180, what="the windows of the commits after the start")
    got = sales_per_window(lake)
    assert {w: got[w] for w in complete} == complete
    # Commit 2, the latest snapshot at the start (event time 10:00:40-10:01:00), is not read again: an
    # inclusive start (Iceberg's default INCREMENTAL_FROM_LATEST_SNAPSHOT) would fill window 10:00.
    assert got["2026-11-25T10:00:00"] == 0
    assert lake.sinks()["quarantine"] == []


def test_schema_evolution_of_the_source_does_not_break_the_job(
    new_msf_lake: Any, dependency_jar: Path, tmp_path: Path
) -> None:
    """A new optional column and quantity int -> long on ``transactions``, then a start (a restart after a
    schema change): the source takes the catalog table's schema at start, so the job reads the evolved one."""
    lake: MsfLake = new_msf_lake("evolved")
    lake.lake.append([commit_rows(k) for k in range(2)])
    lake.lake.evolve()
    lake.lake.append([[{**row, "channel": "web"} for row in commit_rows(k)] for k in range(2, 4)])
    with streaming_job(
        lake, dependency_jar, tmp_path, **{"source.starting-strategy": "INCREMENTAL_FROM_EARLIEST_SNAPSHOT"}
    ):
        lake.lake.append([commit_rows(k) for k in range(4, 8)], gap_s=1.0)
        complete = complete_windows(range(8))
        assert len(complete) == 2
        wait_for_windows(lake, complete, timeout_s=180, what="the windows over both schemas")
    got = sales_per_window(lake)
    assert {w: got[w] for w in complete} == complete


def test_a_restore_from_a_savepoint_after_a_schema_change_continues(
    new_msf_lake: Any, dependency_jar: Path, tmp_path: Path
) -> None:
    """Stopped with a savepoint while windows are open, ``transactions`` evolved (a new optional column,
    quantity int -> long), then restored from the savepoint: the job takes its state back (its types do not
    follow the source's) and reads the evolved table; every window holds every record once."""
    lake: MsfLake = new_msf_lake("evolved_restore")
    run = start_streaming(
        lake, dependency_jar, tmp_path / "chk", **{"source.starting-strategy": "INCREMENTAL_FROM_EARLIEST_SNAPSHOT"}
    )
    run.wait_for_checkpoint()
    lake.lake.append([commit_rows(k) for k in range(4)], gap_s=1.0)
    before = complete_windows(range(4))
    wait_for_windows(lake, before, timeout_s=120, what="the windows before the savepoint")
    savepoint = run.stop_with_savepoint(drain=False)
    lake.lake.evolve()
    lake.lake.append([[{**row, "channel": "web"} for row in commit_rows(k)] for k in range(4, 6)])
    restored = start_streaming(lake, dependency_jar, tmp_path / "chk", restore_from=savepoint)
    try:
        restored.wait_for_checkpoint()
        lake.lake.append([commit_rows(k) for k in range(6, 10)], gap_s=1.0)
        complete = complete_windows(range(10))
        wait_for_windows(lake, complete, timeout_s=180, what="the windows over both schemas after the restore")
    finally:
        restored.cancel()
    got = sales_per_window(lake)
    assert {w: got[w] for w in complete} == complete
    assert lake.sinks()["quarantine"] == []


def test_refusals_name_the_database_the_table_or_the_skipped_snapshot(
    new_msf_lake: Any, dependency_jar: Path, tmp_path: Path
) -> None:
    """Checked before any statement reads the catalog: one message naming what is wrong, nothing created."""
    from flink_app.unilake_job import job

    lake: MsfLake = new_msf_lake("refusals")
    missing_db = lake.settings(mode="streaming", database="no_such_db")
    with pytest.raises(job.JobFailedError, match="database 'no_such_db' not found in catalog 'glue'"):
        job.prepare(job.create_table_env(missing_db, jars=(dependency_jar,)), missing_db)
    missing_table = lake.settings(mode="streaming", **{"source.table": "no_such_table"})
    with pytest.raises(job.JobFailedError, match=r"tables missing in catalog 'glue': refusals\.no_such_table"):
        job.prepare(job.create_table_env(missing_table, jars=(dependency_jar,)), missing_table)
    lake.lake.append([commit_rows(0)])
    deleted = lake.lake.delete(region="north")
    settings = lake.settings(mode="streaming")
    with pytest.raises(job.JobFailedError, match=f"would skip silently.*{deleted['snapshot_id']} \\(") as refused:
        job.prepare(job.create_table_env(settings, jars=(dependency_jar,)), settings)
    assert deleted["operation"] in str(refused.value)


@pytest.mark.parametrize("files_per_commit", [1, 2], ids=["1-file-per-commit", "2-files-per-commit"])
def test_windows_close_at_parallelism_four_without_drain(
    new_msf_lake: Any, dependency_jar: Path, tmp_path: Path, files_per_commit: int
) -> None:
    """Job parallelism 4, no drain (Managed Flink has none), eight commits of one or two files one second
    apart. With a reader per subtask, the readers without a split held the watermark at its minimum and no
    window closed in 90 s; with the one reader of iceberg_stream.py, which starts the files in event-time
    order, every window its split watermark has passed is committed within (monitor interval + checkpoint
    interval) of the last commit, plus the mini-cluster's slack, while the job keeps running; no record is
    LATE."""
    from flink_app.unilake_job import job

    lake: MsfLake = new_msf_lake(f"close_p4_{files_per_commit}")
    regions = REGIONS[:files_per_commit]
    commits = range(8)
    expected = complete_windows(commits, regions=regions)
    assert len(expected) >= 2
    monitor_s, checkpoint_s = 1.0, 1.0
    # From the earliest snapshot: the table is empty at the start, and no commit can land before the
    # enumerator's first plan and be taken for the latest snapshot to start after.
    extra = {"parallelism": "4", "source.starting-strategy": "INCREMENTAL_FROM_EARLIEST_SNAPSHOT"}
    with streaming_job(lake, dependency_jar, tmp_path, **extra) as job_result:
        lake.lake.append([commit_rows(k, regions=regions) for k in commits], gap_s=1.0)
        last_commit = time.monotonic()
        wait_for_windows(lake, expected, timeout_s=90, what="the windows the split watermark passed, without drain")
        elapsed = time.monotonic() - last_commit
        assert job.job_status(job_result) == "RUNNING"
    got = sales_per_window(lake)
    assert {w: got[w] for w in expected} == expected
    assert lake.sinks()["quarantine"] == []
    # Generous slack for a 2-core machine: the bound the README states is monitor + checkpoint.
    assert elapsed <= monitor_s + checkpoint_s + 30, elapsed


#: The quiet-period tests: 10 s windows, a 12 s idle timeout (a commit through the lake CLI takes a few seconds
#: from its rows' event times to its read: far inside it), 1 s monitor interval and checkpoints.
QUIET_WINDOW_S, QUIET_IDLE_S = 10, 12


@pytest.mark.parametrize("idle_timeout", [f"{QUIET_IDLE_S}s", "0ms"], ids=["idle-timeout", "no-idle-timeout"])
def test_the_newest_windows_close_in_a_quiet_period(
    new_msf_lake: Any, dependency_jar: Path, tmp_path: Path, idle_timeout: str
) -> None:
    """Job parallelism 4, no drain, three commits of four region files whose event times are the seconds
    before each commit, then nothing. The split watermark stops at the newest file's minimum: without an idle
    timeout the window holding the newest records is still open well past (idle timeout + window + checkpoint)
    after the last commit. With one, the quiet reader's watermark follows the clock (now - idle timeout) and
    every window is committed within that bound (plus this machine's slack), no record LATE; then a file
    committed more than the idle timeout after its event time is LATE, in quarantine, not dropped."""
    from flink_app.unilake_job import job

    lake: MsfLake = new_msf_lake(f"quiet_{'on' if idle_timeout != '0ms' else 'off'}")
    extra = {
        "parallelism": "4",
        "source.starting-strategy": "INCREMENTAL_FROM_EARLIEST_SNAPSHOT",
        "window.size": f"{QUIET_WINDOW_S}s",
        "source.idle-timeout": idle_timeout,
    }
    bound_s = QUIET_IDLE_S + QUIET_WINDOW_S + 1  # idle timeout + window size + one checkpoint
    with streaming_job(lake, dependency_jar, tmp_path, **extra) as job_result:
        # The setting reaches the runtime: the operator chained to the reader, named by its timeout, or none.
        vertices = " | ".join(vertex["name"] for vertex in rest_get(job_result, REST_PORT, "")["vertices"])
        assert ("QuietWatermark-" in vertices) == (idle_timeout != "0ms"), vertices
        if idle_timeout != "0ms":
            assert f"QuietWatermark-{QUIET_IDLE_S}s" in vertices, vertices
        assert "SkippedSnapshots" in vertices, vertices
        commits = []
        for k in range(3):
            rows = rows_before_now(f"q{k}", span_s=1.0)
            lake.lake.append([rows])
            commits.append(rows)
        last_commit = time.monotonic()
        expected = Counter(window_start(row["event_time"], QUIET_WINDOW_S) for rows in commits for row in rows)
        newest = max(expected)
        if idle_timeout == "0ms":
            time.sleep(bound_s + 15)
            assert sales_per_window(lake)[newest] == 0, "the newest window closed without a later commit"
            assert job.job_status(job_result) == "RUNNING"
            return
        wait_for_windows(
            lake, expected, timeout_s=bound_s + 60, what="every window, the newest included, in a quiet period"
        )
        elapsed = time.monotonic() - last_commit
        assert job.job_status(job_result) == "RUNNING"
        assert lake.sinks()["quarantine"] == []
        # The contract: a file committed after the quiet watermark passed its records is LATE, not dropped.
        north = [row for row in commits[0] if row["region"] == "north"]
        old = [{**row, "transaction_id": "old-" + row["transaction_id"]} for row in north]
        lake.lake.append([old])
        wait_until(lambda: len(lake.sinks()["quarantine"]) == len(old), timeout_s=60, what="the late file")
    got = sales_per_window(lake)
    assert {w: got[w] for w in expected} == dict(expected)
    assert Counter(row["reason"] for row in lake.sinks()["quarantine"]) == {"LATE": len(old)}
    # Generous slack for a 2-core machine (the monitor interval and the mini-cluster's own delays).
    assert elapsed <= bound_s + 30, elapsed


def test_a_delete_committed_while_the_job_runs_is_counted_in_its_metrics(
    new_msf_lake: Any, dependency_jar: Path, tmp_path: Path
) -> None:
    """The streaming source skips a DELETE snapshot without a trace; the job's gauge of skipped snapshots (the
    one its CloudWatch alarm watches) goes from 0 to 1 once one is committed while it runs, and the job keeps
    streaming the appends."""
    lake: MsfLake = new_msf_lake("skipped_live")

    def skipped() -> float | None:
        return rest_counts(job_result, REST_PORT, metric_names.SKIPPED_SNAPSHOTS).get("")

    with streaming_job(lake, dependency_jar, tmp_path) as job_result:
        lake.lake.append([commit_rows(k) for k in range(2)], gap_s=1.0)
        wait_until(lambda: skipped() == 0, timeout_s=60, what="the gauge at 0", explain=lambda: str(skipped()))
        lake.lake.delete(region="north")
        # The REST API serves what its fetcher last collected (every 10 s by default).
        wait_until(lambda: skipped() == 1, timeout_s=60, what="the gauge at 1", explain=lambda: str(skipped()))
        lake.lake.append([commit_rows(k) for k in range(2, 8)], gap_s=1.0)
        complete = complete_windows(range(8))
        wait_for_windows(lake, complete, timeout_s=120, what="the windows after the delete")
        assert skipped() == 1
