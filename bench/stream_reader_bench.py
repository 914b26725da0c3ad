"""Benchmark: is the msf streaming job's one Iceberg reader its bottleneck?

    make bench      # or: .venv-flink/bin/python bench/stream_reader_bench.py [--rows 1000000] [--repeat 3]

The msf streaming source has exactly one reader (flink_app/unilake_job/iceberg_stream.py: one reader keeps
the split watermarks right; several lost records, flink_app/README.md "Idle readers"), so one core decodes
every Parquet file. This measures what that costs, on the real connector (the dependency jar, the Glue and S3
of a local moto server): ``--rows`` generated transactions are committed to ``transactions`` before the job
starts, then each job catches up on all of them from the earliest snapshot, in streaming mode, as after a
downtime:

- one reader into a blackhole sink: the reader's own capacity;
- two readers into a blackhole sink (``iceberg_stream.READERS`` set to 2 for this run only): what a second
  reader would add on this machine;
- the whole pipeline (validation, deduplication, windows, fraud rules, quarantine, the Iceberg sinks) with
  its one reader, at ``--parallelism`` (2, staging and prod's smallest).

Each figure is the rows divided by the time from the reader's first record to its last (the task's
``numRecordsOut``, polled on the mini-cluster's REST API every 0.2 s), median of ``--repeat`` runs; the
pipeline's share of the one reader's rate says how far the reader is from limiting it. Prints figures only;
nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from flink_app.unilake_job import iceberg_stream, job, sql  # noqa: E402
from flink_app.unilake_job.properties import DEPENDENCY_JAR_NAME, JobSettings, parse_settings  # noqa: E402
from tests.local_aws.client import Lake, msf_property_map  # noqa: E402
from tests.local_aws.moto import DUMMY_AWS_ENV, MotoServer, free_port  # noqa: E402

JAR = REPO_ROOT / "flink_app" / "lib" / DEPENDENCY_JAR_NAME
DATABASE = "bench_stream"
#: Records out of the reader's task (chained operators included): ``<subtask>.numRecordsOut``.
RECORDS_OUT = "numRecordsOut"
POLL_S = 0.2


def rest(port: int, path: str) -> Any:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return json.loads(response.read())


def reader_records_out(port: int, job_id: str) -> int:
    """Records the reader's task has emitted so far, over its subtasks."""
    vertices = rest(port, f"/jobs/{job_id}")["vertices"]
    (reader,) = [v for v in vertices if v["name"].startswith("Source: IcebergSource")]
    base = f"/jobs/{job_id}/vertices/{reader['id']}/metrics"
    ids = [m["id"] for m in rest(port, base) if m["id"].split(".", 1)[-1] == RECORDS_OUT]
    if not ids:
        return 0
    return int(sum(float(m["value"]) for m in rest(port, f"{base}?get={','.join(ids)}")))


def catch_up(settings: JobSettings, plan: sql.PipelinePlan, rows: int, checkpoints: Path) -> float:
    """Run ``plan`` in streaming mode until its reader has emitted ``rows`` records; the seconds from its
    first record to its last."""
    port = free_port()
    t_env = job.create_table_env(settings, checkpoint_dir=checkpoints, jars=(JAR,))
    config = t_env.get_config()
    config.set("rest.bind-address", "127.0.0.1")
    config.set("rest.port", str(port))
    config.set("metrics.fetcher.update-interval", str(int(POLL_S * 1000)))
    result = job.prepare(t_env, settings, plan, log=lambda _: None).execute()
    client = result.get_job_client()
    job_id = str(client.get_job_id())
    first: float | None = None
    deadline = time.monotonic() + 900
    try:
        while time.monotonic() < deadline:
            try:
                emitted = reader_records_out(port, job_id)
            except (OSError, ValueError):  # REST not up yet, or the vertex has no metrics yet
                emitted = 0
            now = time.monotonic()
            if emitted and first is None:
                first = now
            if emitted >= rows and first is not None:
                return now - first
            time.sleep(POLL_S)
        raise RuntimeError(f"the reader emitted fewer than {rows} records in 900 s")
    finally:
        client.cancel().result()


def blackhole_plan(settings: JobSettings) -> sql.PipelinePlan:
    """The msf streaming plan's source (catalog, checks, the one-reader view) into a blackhole sink."""
    plan = sql.build_plan(settings)
    sink = "CREATE TEMPORARY TABLE `bench_blackhole` (`transaction_id` STRING) WITH ('connector' = 'blackhole')"
    insert = f"INSERT INTO `bench_blackhole` SELECT `transaction_id` FROM `{sql.SOURCE_TABLE}`"  # noqa: S608
    return replace(plan, setup=(*plan.setup, sink), inserts=(insert,))


def with_readers(readers: int, run: Callable[[], float]) -> float:
    saved = iceberg_stream.READERS
    iceberg_stream.READERS = readers
    try:
        return run()
    finally:
        iceberg_stream.READERS = saved


def main() -> int:
    parser = argparse.ArgumentParser(description="the msf streaming job's one Iceberg reader vs the pipeline")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--parallelism", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each job; medians are compared")
    args = parser.parse_args()
    if not JAR.is_file():
        print(f"error: {JAR.relative_to(REPO_ROOT)} is missing: run `make jar`", file=sys.stderr)
        return 2
    os.environ.update(DUMMY_AWS_ENV)  # before the JVM starts: the AWS SDK reads them (dummy keys only)
    with MotoServer() as moto, tempfile.TemporaryDirectory(prefix="unilake-bench-stream-") as tmp:
        lake = Lake(moto.url, database=DATABASE)
        info = lake.create()
        started = time.perf_counter()
        generated = lake.generate(args.rows)
        rows = int(generated["rows"])
        print(
            f"{rows} rows in {generated['commits']} commits to moto in {time.perf_counter() - started:.1f} s; "
            f"streaming catch-up from the earliest snapshot, job parallelism {args.parallelism}",
            flush=True,
        )
        property_map = msf_property_map(
            moto.url,
            warehouse=info["warehouse"],
            database=DATABASE,
            mode="streaming",
            **{
                "parallelism": str(args.parallelism),
                "source.starting-strategy": "INCREMENTAL_FROM_EARLIEST_SNAPSHOT",
                "source.monitor-interval": "1s",
                "checkpoint.interval": "10s",
            },
        )
        settings = parse_settings([{"PropertyGroupId": "unilake.job", "PropertyMap": property_map}])
        runs: dict[str, Callable[[int], float]] = {
            "one reader -> blackhole": lambda n: with_readers(
                1, lambda: catch_up(settings, blackhole_plan(settings), rows, Path(tmp) / f"r1-{n}")
            ),
            "two readers -> blackhole": lambda n: with_readers(
                2, lambda: catch_up(settings, blackhole_plan(settings), rows, Path(tmp) / f"r2-{n}")
            ),
            "whole pipeline, one reader": lambda n: catch_up(
                settings, sql.build_plan(settings), rows, Path(tmp) / f"p-{n}"
            ),
        }
        runs["one reader -> blackhole"](-1)  # warm-up: class loading and JIT of the reader
        seconds: dict[str, list[float]] = {name: [] for name in runs}
        for n in range(args.repeat):  # alternately, so a slow spell of the machine hits every job alike
            for name, run in runs.items():
                seconds[name].append(run(n))
        one = rows / statistics.median(seconds["one reader -> blackhole"])
        for name, times in seconds.items():
            rate = rows / statistics.median(times)
            spread = ", ".join(f"{t:.1f}" for t in times)
            print(f"  {name:28s} {rate:10,.0f} rows/s  ({rate / one:6.1%} of one reader)  runs: {spread} s")
        pipeline = rows / statistics.median(seconds["whole pipeline, one reader"])
        print(
            f"  the pipeline uses {pipeline / one:.0%} of the one reader's capacity: "
            + ("the reader is not what limits it" if pipeline < 0.8 * one else "the reader limits it"),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
