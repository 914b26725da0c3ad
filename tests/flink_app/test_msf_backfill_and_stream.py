"""Backfills and the stream together, on the real connector (msf profile, dependency jar, Glue and S3 on moto).

- The range contract (flink_app/README.md, "after snapshot A, up to and including snapshot B"): a day backfill
  up to snapshot E, then a stream started after E without state, counts every record exactly once, whether E
  has a child when the stream starts (Iceberg's start at the child, inclusive) or is the current snapshot
  (Iceberg's start exclusive of the latest). The window that straddles E is two partial rows, one per run.
- A backfill while the stream runs: both commit, the backfilled day equals the reference, the stream's day is
  untouched and the stream keeps committing after the backfill.

Every commit holds one data file per region spanning the same 20 s of event time (``commit_rows``), all
records valid, so nothing is quarantined and the windows close as the split watermarks pass them.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from msf_support import (
    MsfLake,
    StreamingRun,
    commit_rows,
    comparable_rows,
    complete_windows,
    expected_per_window,
    run_msf_batch,
    sales_per_window,
    start_streaming,
    wait_for_windows,
    wait_until,
)

AFTER_E = "INCREMENTAL_AFTER_SNAPSHOT_ID"
#: The commits of a test: k = 0..11 cover 10:00:00 to 10:04:00 of 2026-11-25 (20 s each).
COMMITS = 12
#: E is commit 3 (10:01:00 to 10:01:20): window 10:01 holds records on both sides of E.
E_COMMIT = 3


def next_checkpoint(run: StreamingRun) -> None:
    """Wait for a checkpoint after the newest one (Flink retains only the newest: compare their numbers)."""
    newest = max((int(p.parent.name[4:]) for p in run.checkpoints()), default=0)
    wait_until(
        lambda: max((int(p.parent.name[4:]) for p in run.checkpoints()), default=0) > newest,
        timeout_s=60,
        what=f"a checkpoint after chk-{newest}",
    )


@pytest.mark.parametrize(
    ("landed_before_start", "mapping"),
    [
        (6, "start after snapshot {e}: from its child {child} (inclusive)"),
        (
            E_COMMIT + 1,
            "start after snapshot {e}, the current one: Iceberg's INCREMENTAL_FROM_LATEST_SNAPSHOT_EXCLUSIVE",
        ),
    ],
    ids=["E-has-a-child", "E-is-current"],
)
def test_a_backfill_up_to_e_then_a_stream_after_e_counts_every_record_once(
    new_msf_lake: Any,
    dependency_jar: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    landed_before_start: int,
    mapping: str,
) -> None:
    lake: MsfLake = new_msf_lake(f"after_e_{landed_before_start}")
    landed = lake.lake.append([commit_rows(k) for k in range(landed_before_start)])
    e = landed[E_COMMIT]["snapshot_id"]
    day = "2026-11-25"
    run_msf_batch(
        lake, dependency_jar, **{"backfill.from-day": day, "backfill.to-day": day, "source.end-snapshot-id": str(e)}
    )
    backfilled = sales_per_window(lake)
    # Up to and including E: windows 10:00 (commits 0-2) and the part of 10:01 in commit 3.
    assert backfilled == expected_per_window(range(E_COMMIT + 1))

    run = start_streaming(
        lake,
        dependency_jar,
        tmp_path / "chk",
        **{"source.starting-strategy": AFTER_E, "source.start-snapshot-id": str(e)},
    )
    try:
        wait_until(lambda: run.status() == "RUNNING", timeout_s=120, what="the stream to run")
        run.wait_for_checkpoint()  # every task is up
        time.sleep(3)  # the enumerator has planned its start position (E current: the window the README names)
        lake.lake.append([commit_rows(k) for k in range(landed_before_start, COMMITS)], gap_s=1.0)
        closed = complete_windows(range(COMMITS))
        assert list(closed) == ["2026-11-25T10:00:00", "2026-11-25T10:01:00", "2026-11-25T10:02:00"]
        wait_for_windows(lake, closed, timeout_s=180, what="the closed windows of both runs")
        next_checkpoint(run)  # one more commit: whatever else these windows got is in the sink
    finally:
        run.cancel()
    got = sales_per_window(lake)
    # Every record once over both runs: the backfill's rows plus the stream's, per window.
    assert {w: got[w] for w in closed} == closed
    # The window straddling E is two partial rows per store: the backfill's (commit 3) and the stream's (4, 5).
    straddling = "2026-11-25T10:01:00"
    streamed = Counter(got) - Counter(backfilled)
    assert (backfilled[straddling], streamed[straddling]) == (100, 200)
    assert streamed["2026-11-25T10:00:00"] == 0  # the stream read nothing up to E
    sinks = lake.sinks()
    rows_per_store = Counter(
        (r["region"], r["store_id"]) for r in sinks["sales_per_minute"] if str(r["window_start"])[:19] == straddling
    )
    assert set(rows_per_store.values()) == {2}
    assert sinks["quarantine"] == []
    child = landed[E_COMMIT + 1]["snapshot_id"] if landed_before_start > E_COMMIT + 1 else None
    assert mapping.format(e=e, child=child) in capsys.readouterr().out


def test_a_stream_after_a_snapshot_the_table_does_not_have_is_refused(
    new_msf_lake: Any, dependency_jar: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One line naming the setting, the snapshot and the table, before any statement reads the source."""
    from flink_app.unilake_job import job

    lake: MsfLake = new_msf_lake("after_unknown")
    lake.lake.append([commit_rows(0)])
    settings = lake.settings(mode="streaming", **{"source.starting-strategy": AFTER_E, "source.start-snapshot-id": "7"})
    with pytest.raises(job.JobFailedError) as caught:
        job.prepare(job.create_table_env(settings, jars=(dependency_jar,)), settings)
    assert str(caught.value).startswith(
        f"source.start-snapshot-id = 7 (source.starting-strategy {AFTER_E}): no snapshot 7 in the history of table "
        "after_unknown.transactions"
    )


def rows_of_day(commit: list[dict[str, Any]], day: str) -> list[dict[str, Any]]:
    """A commit's rows moved to ``day`` (other transaction ids, same times of day)."""
    return [
        {**row, "transaction_id": f"{day}-{row['transaction_id']}", "event_time": day + row["event_time"][10:]}
        for row in commit
    ]


def on_day(rows: list[dict[str, Any]], day: str) -> list[dict[str, Any]]:
    return [row for row in rows if str(row["window_start"]).startswith(day)]


def test_a_backfill_while_the_stream_runs(new_msf_lake: Any, dependency_jar: Path, tmp_path: Path) -> None:
    """The stream wrote day 24 and is writing day 25 when a backfill of day 24 runs and commits. Both commit:
    the backfill's overwrite replaces exactly day 24's partition on top of the stream's appends, day 24 then
    equals the reference once (not doubled), day 25 keeps what the stream committed, and the stream goes on
    committing after the backfill."""
    backfilled_day, live_day = "2026-11-24", "2026-11-25"
    lake: MsfLake = new_msf_lake("bf_while_streaming")
    lake.lake.append([rows_of_day(commit_rows(k), backfilled_day) for k in range(6)])  # 10:00 to 10:02
    run = start_streaming(
        lake, dependency_jar, tmp_path / "chk", **{"source.starting-strategy": "INCREMENTAL_FROM_EARLIEST_SNAPSHOT"}
    )
    try:
        wait_until(lambda: run.status() == "RUNNING", timeout_s=120, what="the stream to run")
        lake.lake.append([commit_rows(k) for k in range(4)], gap_s=1.0)  # the live day: day 24's windows close
        day_24 = {f"{backfilled_day}T{w[11:]}": n for w, n in expected_per_window(range(6)).items()}
        assert len(day_24) == 2
        # Day 24's two windows and the live day's first (commits 0-2; commit 3 carries its watermark past it).
        written = {**day_24, **expected_per_window(range(3))}
        wait_until(
            lambda: {w: n for w, n in sales_per_window(lake).items() if n} == written,
            timeout_s=180,
            what="the stream's rows of day 24 and of the live day's first window",
            explain=lambda: str(sales_per_window(lake)),
        )
        before = lake.sinks()["sales_per_minute"]
        # The live day goes on landing while the backfill of day 24 runs and commits.
        producer = lake.lake.append_in_background([commit_rows(k) for k in range(4, 10)], gap_s=1.5, workdir=tmp_path)
        run_msf_batch(lake, dependency_jar, **{"backfill.from-day": backfilled_day, "backfill.to-day": backfilled_day})
        assert producer.wait(timeout=120) == 0, producer.stderr.read() if producer.stderr else ""
        assert run.status() == "RUNNING"
        backfill_done = len(lake.snapshots(("sales_per_minute",))["sales_per_minute"])
        # After the backfill: more of the live day, so that its later windows close (and commit) only now.
        lake.lake.append([commit_rows(k) for k in range(10, 15)], gap_s=1.0)
        closed = complete_windows(range(15))
        assert len(closed) == 4  # 10:00 to 10:03 of the live day
        wait_for_windows(lake, closed, timeout_s=180, what="the live day's windows after the backfill")
        next_checkpoint(run)
    finally:
        run.cancel()

    after = lake.sinks()
    got = sales_per_window(lake)
    assert {w: got[w] for w in day_24} == day_24  # day 24 once: replaced, not added to
    assert comparable_rows(on_day(after["sales_per_minute"], backfilled_day)) == comparable_rows(
        on_day(before, backfilled_day)
    )
    assert {w: got[w] for w in closed} == closed  # the live day complete, every record once
    live_before = comparable_rows(on_day(before, live_day))
    assert live_before
    assert set(live_before) <= set(comparable_rows(on_day(after["sales_per_minute"], live_day)))
    snapshots = lake.snapshots(("sales_per_minute",))["sales_per_minute"]
    operations = [s["summary"]["operation"] for s in snapshots]
    assert operations.count("overwrite") == 1
    overwrite = operations.index("overwrite")
    assert overwrite < backfill_done
    assert "append" in operations[:overwrite]
    assert "append" in operations[backfill_done:]  # the stream committed after the backfill
    # The overwrite replaced day 24's partition only: the stream's rows of that day out, the backfill's in.
    summary = snapshots[overwrite]["summary"]
    day_24_rows = len(on_day(before, backfilled_day))
    assert (summary["deleted-records"], summary["added-records"]) == (str(day_24_rows), str(day_24_rows))
    assert summary["changed-partition-count"] == "1"
    assert after["quarantine"] == []
