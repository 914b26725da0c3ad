"""Benchmark: the unified pipeline in batch mode against a bare copy job over the same source.

    make bench      # or: .venv-flink/bin/python bench/pipeline_bench.py [--rows 1000000] [--parallelism 1]

Generates ``--rows`` realistic transactions (flink_app/datagen.py) as JSON-lines files, then in one process
(one JVM) runs a small warm-up job and two pairs, each a copy job (same source table, one sink, no logic)
beside the pipeline (validation, deduplication, sales, fraud, quarantine) on that source:

- ``local`` profile: raw JSON lines, every field extracted in SQL (``JSON_VALUE``), as the laptop runs it;
- ``msf`` statements: the source with the typed columns an Iceberg table gives (the Iceberg connector
  swapped for JSON files of typed rows, as ``sql.msf_plan_on_local_files`` does), as Managed Flink runs it.

Each figure is input rows divided by the wall time of its job, submission included. Target: the pipeline
at >= 50 % of the copy's throughput. Prints figures only; nothing is asserted.
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

from flink_app.datagen import Generator, land, typed_line  # noqa: E402
from flink_app.unilake_job import job, schemas, sql  # noqa: E402
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


def pipeline_job(settings: JobSettings, plan: sql.PipelinePlan | None = None) -> float:
    statements = job.prepare(job.create_table_env(settings), settings, plan)
    started = time.perf_counter()
    statements.execute().wait()
    return time.perf_counter() - started


def msf_settings(parallelism: int) -> JobSettings:
    property_map = {
        "profile": "msf",
        "mode": "batch",
        "warehouse": "s3://bench/warehouse",
        "database": "bench",
        "parallelism": str(parallelism),
    }
    return parse_settings([{"PropertyGroupId": "unilake.job", "PropertyMap": property_map}])


def typed_copy_job(local: JobSettings, plan: sql.PipelinePlan, out: Path) -> float:
    """The msf source table (typed columns, rowtime, watermark), all its columns to one sink, no logic."""
    t_env = job.create_table_env(local)
    t_env.execute_sql(plan.setup[0])  # the source table
    t_env.execute_sql(
        f"CREATE TEMPORARY TABLE `copy_sink` WITH ('connector' = 'filesystem', "
        f"'path' = {sql.sql_string(out.resolve().as_uri())}, 'format' = 'json') "
        f"LIKE `{sql.SOURCE_TABLE}` (EXCLUDING ALL)"
    )
    columns = ", ".join(f"`{name}`" for name, _ in schemas.TRANSACTIONS)
    started = time.perf_counter()
    t_env.execute_sql(f"INSERT INTO `copy_sink` SELECT {columns} FROM `{sql.SOURCE_TABLE}`").wait()  # noqa: S608
    return time.perf_counter() - started


def report(name: str, rows: int, copy_s: float, pipeline_s: float) -> None:
    copy_rate, pipeline_rate = rows / copy_s, rows / pipeline_s
    verdict = "meets" if pipeline_rate >= 0.5 * copy_rate else "misses"
    print(f"{name}, {rows} rows")
    print(f"  copy job:  {copy_s:7.1f} s  {copy_rate:10,.0f} rows/s")
    print(f"  pipeline:  {pipeline_s:7.1f} s  {pipeline_rate:10,.0f} rows/s")
    print(f"  ratio:     {pipeline_rate / copy_rate:7.1%}  (target >= 50 %: {verdict})", flush=True)


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

        print(f"parallelism {args.parallelism}, batch mode, job submission included", flush=True)
        settings = settings_for(inbox, workdir / "out", args.parallelism)
        copy_s = copy_job(settings, workdir / "copy-out")
        report("local profile (raw JSON lines parsed in SQL)", rows, copy_s, pipeline_job(settings))

        typed_in = workdir / "typed-in"
        typed_rows = 0
        for part in sorted(inbox.glob("*.jsonl")):
            with part.open(encoding="utf-8") as lines:
                typed_rows += land(typed_in, part.stem + ".json", (t for line in lines if (t := typed_line(line))))
        plan = sql.msf_plan_on_local_files(
            msf_settings(args.parallelism), typed_folder=typed_in, sink_path=workdir / "typed-out"
        )
        local = settings_for(typed_in, workdir / "typed-out", args.parallelism)
        copy_s = typed_copy_job(local, plan, workdir / "typed-copy-out")
        report("msf statements (typed columns, as from Iceberg)", typed_rows, copy_s, pipeline_job(local, plan))
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
