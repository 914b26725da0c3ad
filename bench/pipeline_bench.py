"""Benchmark: the unified pipeline in batch mode against a bare copy job over the same source.

    make bench      # or: .venv-flink/bin/python bench/pipeline_bench.py [--rows 1000000] [--repeat 5]

Generates ``--rows`` realistic transactions (flink_app/datagen.py) as JSON-lines files, then in one process
(one JVM) runs a small warm-up job and two pairs, each a copy job (same source table, one sink, no logic)
beside the pipeline (validation, deduplication, sales, fraud, quarantine) on that source:

- ``local`` profile: the JSON lines read into string columns, as the laptop runs it (the pipeline also reads
  the files a second time as raw lines, to quarantine the lines that are not JSON objects);
- ``msf`` statements: the source with the typed columns an Iceberg table gives (the Iceberg connector
  swapped for JSON files of typed rows, as ``sql.msf_plan_on_local_files`` does), as Managed Flink runs it.

Each figure is input rows divided by the wall time of its job, submission included. After a warm-up run of
both on 1,000 rows, copy and pipeline run alternately ``--repeat`` times (5) and the medians are compared
(on 2 cores one run varies by up to a third).
Target: the pipeline at >= 50 % of the copy's throughput. Prints figures only; nothing is asserted.

``--breakdown`` also runs the msf statements with cumulative subsets of the pipeline's own INSERTs (the SQL
unchanged): quarantine alone (read + classify), + sales_per_minute (+ the deduplication and one
aggregation), + fraud_alerts (the whole pipeline: + the card windows and HIGH_VALUE), to show where the
time goes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from pyflink.table import TableEnvironment  # noqa: E402

from flink_app.datagen import Generator, land, typed_line  # noqa: E402
from flink_app.unilake_job import job, sql  # noqa: E402
from flink_app.unilake_job.properties import DEPENDENCY_JAR_NAME, JobSettings, parse_settings  # noqa: E402
from tests.local_aws.moto import DUMMY_AWS_ENV  # noqa: E402


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
    """The local source table (the fields of each JSON line), all its fields to one sink, no logic."""
    t_env = job.create_table_env(settings)
    t_env.execute_sql(sql.local_source_ddl(settings))
    return _copy(t_env, out)


def _copy(t_env: TableEnvironment, out: Path) -> float:
    """Copy the fields of the source table to a JSON sink. Returns seconds."""
    t_env.execute_sql(
        f"CREATE TEMPORARY TABLE `copy_sink` WITH ('connector' = 'filesystem', "
        f"'path' = {sql.sql_string(out.resolve().as_uri())}, 'format' = 'json') "
        f"LIKE `{sql.SOURCE_TABLE}` (EXCLUDING ALL)"
    )
    started = time.perf_counter()
    t_env.execute_sql(f"INSERT INTO `copy_sink` SELECT {sql.RECEIVED_COLUMNS} FROM `{sql.SOURCE_TABLE}`").wait()  # noqa: S608
    return time.perf_counter() - started


def pipeline_job(settings: JobSettings, plan: sql.PipelinePlan | None = None, *, jars: tuple[Path, ...] = ()) -> float:
    statements = job.prepare(job.create_table_env(settings, jars=jars), settings, plan)
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
    return _copy(t_env, out)


def pair(name: str, rows: int, repeat: int, copy: Callable[[int], float], pipeline: Callable[[int], float]) -> None:
    """Run copy and pipeline alternately ``repeat`` times; print the medians and their ratio."""
    copies, pipelines = [], []
    for run in range(repeat):
        copies.append(copy(run))
        pipelines.append(pipeline(run))
    copy_rate, pipeline_rate = rows / statistics.median(copies), rows / statistics.median(pipelines)
    verdict = "meets" if pipeline_rate >= 0.5 * copy_rate else "misses"
    print(f"{name}, {rows} rows, median of {repeat}")
    for label, runs, rate in (("copy job", copies, copy_rate), ("pipeline", pipelines, pipeline_rate)):
        spread = ", ".join(f"{s:.1f}" for s in runs)
        print(f"  {label}:  {statistics.median(runs):7.1f} s  {rate:10,.0f} rows/s   (runs: {spread} s)")
    print(f"  ratio:     {pipeline_rate / copy_rate:7.1%}  (target >= 50 %: {verdict})", flush=True)


#: Cumulative subsets of the pipeline's INSERTs for ``--breakdown`` (names of sql.OUTPUT_TABLES).
BREAKDOWN: tuple[tuple[str, ...], ...] = (
    ("quarantine",),
    ("quarantine", "sales_per_minute"),
    ("quarantine", "sales_per_minute", "fraud_alerts"),
)


def breakdown(
    rows: int, repeat: int, plan: Callable[[int], sql.PipelinePlan], run: Callable[[sql.PipelinePlan], float]
) -> None:
    """Median wall time of the msf statements with each subset of BREAKDOWN's INSERTs (runs alternate)."""
    times: dict[tuple[str, ...], list[float]] = {subset: [] for subset in BREAKDOWN}
    for n in range(repeat):
        for index, subset in enumerate(BREAKDOWN):
            full = plan(repeat + n * len(BREAKDOWN) + index)  # its own output folder
            inserts = tuple(full.inserts[sql.OUTPUT_TABLES.index(table)] for table in subset)
            times[subset].append(run(replace(full, inserts=inserts)))
    print(f"msf statements by INSERTs (cumulative), {rows} rows, median of {repeat}")
    for subset, runs in times.items():
        seconds = statistics.median(runs)
        print(f"  {' + '.join(subset):45s} {seconds:6.1f} s  {rows / seconds:10,.0f} rows/s", flush=True)


def iceberg_pair(rows: int, repeat: int, parallelism: int) -> None:
    """The msf pipeline on the real Iceberg connector (the jar, Glue and S3 of a local moto server) against an
    Iceberg -> Iceberg copy of the same ``transactions`` table (parquet), in this JVM."""
    from tests.local_aws.client import Lake, msf_property_map
    from tests.local_aws.moto import MotoServer

    jar = REPO_ROOT / "flink_app" / "lib" / DEPENDENCY_JAR_NAME
    if not jar.is_file():
        print(f"iceberg: skipped, {jar} is missing (make jar)")
        return
    with MotoServer() as moto:
        lake = Lake(moto.url, database="bench")
        info = lake.create(copies=("transactions_copy",))
        started = time.perf_counter()
        generated = lake.generate(rows)
        print(
            f"iceberg: {generated['rows']} rows in {generated['commits']} commits to moto "
            f"in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        property_map = msf_property_map(
            moto.url, warehouse=info["warehouse"], database="bench", mode="batch", parallelism=str(parallelism)
        )
        settings = parse_settings([{"PropertyGroupId": "unilake.job", "PropertyMap": property_map}])

        def copy(_: int) -> float:
            t_env = job.create_table_env(settings, jars=(jar,))
            t_env.execute_sql(sql.catalog_ddl(settings))
            catalog = f"`{settings.catalog_name}`.`bench`"
            started = time.perf_counter()
            t_env.execute_sql(
                f"INSERT INTO {catalog}.`transactions_copy` SELECT * FROM {catalog}.`transactions`"  # noqa: S608
            ).wait()
            return time.perf_counter() - started

        copy(0)  # warm-up of the Iceberg reader and writer
        pair(
            "msf profile on Iceberg (moto Glue + S3, the real connector)",
            generated["rows"],
            repeat,
            copy,
            lambda _: pipeline_job(settings, jars=(jar,)),
        )


def main() -> int:
    parser = argparse.ArgumentParser(description="pipeline vs copy throughput (batch mode)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--parallelism", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5, help="runs of each job; medians are compared")
    parser.add_argument("--workdir", type=Path, help="default: a temporary folder, removed afterwards")
    parser.add_argument("--breakdown", action="store_true", help="also time subsets of the msf INSERTs")
    parser.add_argument(
        "--iceberg", choices=("also", "only", "no"), default="also", help="the msf pipeline on Iceberg vs a copy"
    )
    args = parser.parse_args()
    if args.iceberg != "no":
        os.environ.update(DUMMY_AWS_ENV)  # before the JVM starts: the AWS SDK reads them (dummy keys only)
    if args.iceberg == "only":
        iceberg_pair(args.rows, args.repeat, args.parallelism)
        return 0
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

        # Warm the JVM for both kinds of job (class loading, JIT of the operators), so that neither's first
        # measured run pays for it alone.
        warmup_in = workdir / "warmup-in"
        land(warmup_in, "w.jsonl", Generator().lines(1000))
        warmup = settings_for(warmup_in, workdir / "warmup-out", args.parallelism)
        copy_job(warmup, workdir / "warmup-out" / "copy")
        pipeline_job(warmup)

        print(f"parallelism {args.parallelism}, batch mode, job submission included", flush=True)
        settings = settings_for(inbox, workdir / "out", args.parallelism)
        pair(
            "local profile (JSON lines read into string columns)",
            rows,
            args.repeat,
            lambda run: copy_job(settings, workdir / f"copy-out-{run}"),
            lambda run: pipeline_job(replace(settings, sink_path=str(workdir / f"out-{run}"))),
        )

        typed_in = workdir / "typed-in"
        typed_rows = 0
        for part in sorted(inbox.glob("*.jsonl")):
            with part.open(encoding="utf-8") as lines:
                typed_rows += land(typed_in, part.stem + ".json", (t for line in lines if (t := typed_line(line))))
        local = settings_for(typed_in, workdir / "typed-out", args.parallelism)

        def msf_plan(run: int) -> sql.PipelinePlan:
            sink = workdir / f"typed-out-{run}"
            return sql.msf_plan_on_local_files(msf_settings(args.parallelism), typed_folder=typed_in, sink_path=sink)

        pair(
            "msf statements (typed columns, as from Iceberg)",
            typed_rows,
            args.repeat,
            lambda run: typed_copy_job(local, msf_plan(run), workdir / f"typed-copy-out-{run}"),
            lambda run: pipeline_job(local, msf_plan(run)),
        )
        if args.breakdown:
            breakdown(typed_rows, args.repeat, msf_plan, lambda plan: pipeline_job(local, plan))
        if args.iceberg == "also":
            iceberg_pair(args.rows, args.repeat, args.parallelism)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
