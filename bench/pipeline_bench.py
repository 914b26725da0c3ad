"""Benchmark: the unified pipeline in batch mode against a bare copy job over the same source.

    make bench      # or: .venv-flink/bin/python bench/pipeline_bench.py [--rows 1000000] [--parallelism 1]

Generates ``--rows`` realistic transactions (flink_app/datagen.py) as JSON-lines files, then in one process
(one JVM) runs: a small warm-up job, the copy job (the local profile's source table, one raw sink, no logic)
and the pipeline (validation, deduplication, sales, fraud, quarantine). Each figure is input rows divided by the
wall time of its job, submission included. Target: the pipeline at >= 50 % of the copy's throughput.
Prints figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from flink_app.datagen import Generator, land  # noqa: E402
from flink_app.unilake_job import job, sql  # noqa: E402
from flink_app.unilake_job.properties import JobSettings, parse_settings  # noqa: E402


def settings_for(inbox: Path, out: Path, parallelism: int) -> JobSettings:
    property_map = {
        "profile": "local",
        "mode": "batch",
        "source.path": str(inbox),
        "sink.path": str(out),
        "parallelism": str(parallelism),
    }
    return parse_settings([{"PropertyGroupId": "unilake.job", "PropertyMap": property_map}])


def copy_job(settings: JobSettings, out: Path) -> float:
    """Same source table as the pipeline, one sink, no logic. Returns seconds."""
    t_env = job.create_table_env(settings)
    t_env.execute_sql(sql.local_source_ddl(settings))
    t_env.execute_sql(
        "CREATE TEMPORARY TABLE `copy_sink` (`line` STRING) WITH ("
        f"'connector' = 'filesystem', 'path' = {sql.sql_string(out.resolve().as_uri())}, 'format' = 'raw')"
    )
    started = time.perf_counter()
    copy = f"INSERT INTO `copy_sink` SELECT `line` FROM `{sql.SOURCE_TABLE}`"  # noqa: S608 - constant names
    t_env.execute_sql(copy).wait()
    return time.perf_counter() - started


def pipeline_job(settings: JobSettings) -> float:
    statements = job.prepare(job.create_table_env(settings), settings)
    started = time.perf_counter()
    statements.execute().wait()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description="pipeline vs copy throughput (batch mode)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--parallelism", type=int, default=1)
    parser.add_argument("--workdir", type=Path, help="default: a temporary folder, removed afterwards")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="unilake-bench-"))
    try:
        inbox = workdir / "in"
        started = time.perf_counter()
        generator = Generator(per_second=200)
        per_file = -(-args.rows // args.files)
        rows = 0
        for n in range(args.files):
            count = min(per_file, args.rows - n * per_file)
            rows += land(inbox, f"part-{n:03d}.jsonl", generator.lines(count, first_id=n * per_file))
        print(f"generated {rows} input lines ({args.rows} transactions + their anomalies) "
              f"in {time.perf_counter() - started:.1f} s")  # fmt: skip

        warmup_in = workdir / "warmup-in"
        land(warmup_in, "w.jsonl", Generator().lines(1000))
        copy_job(settings_for(warmup_in, workdir / "warmup-out", 1), workdir / "warmup-out" / "copy")

        settings = settings_for(inbox, workdir / "out", args.parallelism)
        copy_s = copy_job(settings, workdir / "copy-out")
        pipeline_s = pipeline_job(settings)
        copy_rate, pipeline_rate = rows / copy_s, rows / pipeline_s
        print(f"parallelism {args.parallelism}, batch mode, {rows} rows, job submission included")
        print(f"copy job:  {copy_s:7.1f} s  {copy_rate:10,.0f} rows/s")
        print(f"pipeline:  {pipeline_s:7.1f} s  {pipeline_rate:10,.0f} rows/s")
        verdict = "meets" if pipeline_rate >= 0.5 * copy_rate else "misses"
        print(f"ratio:     {pipeline_rate / copy_rate:7.1%}  (target >= 50 %: {verdict})")
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
