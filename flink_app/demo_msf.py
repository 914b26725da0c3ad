"""The msf demo: the profile Managed Flink runs, on a local AWS (``make demo-msf``; not shipped).

Starts a moto server (Glue, S3) on 127.0.0.1, creates the database and the four tables from
``config/tables.yaml`` as the catalog stack declares them, starts the streaming job (PyFlink mini-cluster +
``flink_app/lib/unilake-flink-deps.jar``) on the empty ``transactions`` table, lands realistic transactions
as Iceberg commits (one per 30 s of event time, one data file per region), stops the job with a savepoint
and drain, and prints what the Iceberg sinks hold: snapshots and rows per table, alerts by rule, quarantined
records by reason. Uses the test harness ``tests/local_aws`` (pyiceberg runs in ``.venv``).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flink_app.datagen import Generator, typed_line  # noqa: E402
from flink_app.unilake_job.properties import DEPENDENCY_JAR_NAME, parse_settings  # noqa: E402
from tests.local_aws.client import Lake, msf_property_map  # noqa: E402
from tests.local_aws.moto import DUMMY_AWS_ENV, MotoServer  # noqa: E402

JAR = ROOT / "flink_app" / "lib" / DEPENDENCY_JAR_NAME
DATABASE = "unilake_demo"


def commits(count: int) -> list[list[dict[str, object]]]:
    rows = [json.loads(t) for line in Generator(per_second=10).lines(count) if (t := typed_line(line))]
    slots: dict[str, list[dict[str, object]]] = defaultdict(list)
    for row in rows:
        text = str(row["event_time"])
        slots[f"{text[:17]}{int(text[17:19]) // 30 * 30:02d}"].append(row)
    return [sorted(slots[k], key=lambda r: str(r["event_time"])) for k in sorted(slots)]


def main() -> int:
    if not JAR.is_file():
        print(f"error: {JAR.relative_to(ROOT)} is missing: run `make jar`", file=sys.stderr)
        return 2
    os.environ.update(DUMMY_AWS_ENV)  # before the JVM starts: the AWS SDK reads them (dummy keys only)
    from flink_app.unilake_job import job

    with MotoServer() as moto, tempfile.TemporaryDirectory(prefix="unilake-demo-msf-") as tmp:
        lake = Lake(moto.url, database=DATABASE)
        info = lake.create()
        print(f"moto on {moto.url}: database {DATABASE}, tables {', '.join(info['created'])}")
        property_map = msf_property_map(
            moto.url,
            warehouse=info["warehouse"],
            database=DATABASE,
            mode="streaming",
            **{"source.monitor-interval": "1s", "checkpoint.interval": "2s"},
        )
        settings = parse_settings([{"PropertyGroupId": "unilake.job", "PropertyMap": property_map}])
        checkpoints = Path(tmp) / "checkpoints"
        result = job.submit(settings, run=job.LocalRun(checkpoint_dir=checkpoints, jars=(JAR,)))
        client = result.get_job_client()
        while not any(checkpoints.glob("*/chk-*/_metadata")):
            time.sleep(0.5)
        print(f"job {client.get_job_id()} running; landing commits")
        batches = commits(3_000)
        for landed in lake.append(batches, gap_s=1.0):
            print(f"  commit {landed['snapshot_id']}: {landed['records']} records, {landed['data_files']} data files")
        time.sleep(5)  # the last commit is discovered (1 s poll) and read
        client.stop_with_savepoint(True, (checkpoints / "savepoints").resolve().as_uri()).result()
        client.get_job_execution_result().result()
        print("stopped with a savepoint and drain (every window fired and committed)\n")
        sinks = lake.read(("transactions", "sales_per_minute", "fraud_alerts", "quarantine"))
        for table, content in sinks.items():
            print(f"{table:18} {len(content['snapshots']):3} snapshots {len(content['rows']):6} rows")
        counted = sum(int(r["transactions"]) for r in sinks["sales_per_minute"]["rows"])
        print(f"\ntransactions counted in sales_per_minute: {counted}")
        print(f"alerts by rule: {dict(Counter(r['rule'] for r in sinks['fraud_alerts']['rows']))}")
        print(f"quarantined by reason: {dict(Counter(r['reason'] for r in sinks['quarantine']['rows']))}")
        backfill_twice(lake, property_map, sinks)
    return 0


Tables = dict[str, dict[str, list[dict[str, object]]]]


def sales_summary(sinks: Tables) -> str:
    """Rows and counted transactions of sales_per_minute, rows of fraud_alerts."""
    sales = sinks["sales_per_minute"]["rows"]
    counted = sum(int(str(r["transactions"])) for r in sales)
    return f"{len(sales)} sales rows, {counted} transactions counted, {len(sinks['fraud_alerts']['rows'])} alerts"


def backfill_twice(lake: Lake, streaming_properties: dict[str, str], streamed: Tables) -> None:
    """A day backfill (flink_app/README.md, "Backfills") of every day the commits cover, up to the last
    snapshot, run twice over what the stream wrote: each run replaces those days, so the sinks end as after
    one run, and as the stream left them (it counted every record once)."""
    from flink_app.unilake_job import job as job_module

    snapshots = streamed["transactions"]["snapshots"]
    days = sorted({str(r["event_time"])[:10] for r in streamed["transactions"]["rows"]})
    properties = {
        **streaming_properties,
        "mode": "batch",
        "backfill.from-day": days[0],
        "backfill.to-day": days[-1],
        "source.end-snapshot-id": str(snapshots[-1]["snapshot_id"]),
    }
    properties.pop("source.monitor-interval")
    properties.pop("checkpoint.interval")
    settings = parse_settings([{"PropertyGroupId": "unilake.job", "PropertyMap": properties}])
    print(f"\nbackfill of {days[0]}..{days[-1]} up to snapshot {properties['source.end-snapshot-id']}, twice:")
    print(f"  after the stream:  {sales_summary(streamed)}")
    for run in (1, 2):
        job_module.submit(settings, run=job_module.LocalRun(jars=(JAR,))).wait()
        sinks = lake.read(("sales_per_minute", "fraud_alerts"))
        operations = [s["summary"]["operation"] for s in sinks["sales_per_minute"]["snapshots"]]
        print(f"  after backfill {run}: {sales_summary(sinks)} (sales_per_minute: {', '.join(operations[-3:])})")


if __name__ == "__main__":
    sys.exit(main())
