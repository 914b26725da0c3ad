"""The msf profile, run for real: the PyFlink mini-cluster with the dependency jar (Iceberg Flink runtime,
GlueCatalog, S3FileIO) against Glue and S3 on a local moto server (``tests/local_aws``).

The job is pointed at moto by the optional catalog settings only (endpoints, path-style access, region;
dummy credentials from the environment). Transactions land in ``transactions`` as Iceberg commits written by
pyiceberg (one data file per region partition per commit); the sinks are read back with pyiceberg and
compared with the local profile's output on the same records.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from flink_test_support import Row
from msf_support import (
    RECORDS,
    MsfLake,
    assert_every_record_accounted_for,
    assert_same_as_local,
    commits_by_minute,
    comparable_rows,
    run_msf_batch,
)


@pytest.fixture(scope="module")
def batch_lake(new_msf_lake: Any, dependency_jar: Path) -> MsfLake:
    """The records landed as one commit per minute of event time, then one bounded msf run over them."""
    lake: MsfLake = new_msf_lake("e2e_batch")
    commits = lake.lake.append(commits_by_minute(RECORDS))
    assert len(commits) >= 3, commits
    assert all(c["data_files"] > 1 for c in commits), commits
    run_msf_batch(lake, dependency_jar)
    return lake


def test_batch_run_on_iceberg_equals_the_local_profile(
    batch_lake: MsfLake, local_expected: dict[str, list[Row]]
) -> None:
    result = batch_lake.sinks()
    assert result["sales_per_minute"]
    assert result["fraud_alerts"]
    assert result["quarantine"]
    assert {r["rule"] for r in result["fraud_alerts"]} == {"VELOCITY", "MULTI_STORE", "HIGH_VALUE"}
    assert Counter(r["reason"] for r in result["quarantine"]).keys() == {"BAD_QUANTITY", "BAD_PRICE"}
    assert_same_as_local(result, local_expected)
    assert_every_record_accounted_for(result, RECORDS)


def test_batch_run_commits_each_sink_once(batch_lake: MsfLake) -> None:
    """A bounded run commits once per sink at its end (Iceberg's committer on end of input), tagged with the
    job id and the max committed checkpoint id Flink's exactly-once restore relies on."""
    for table, snapshots in batch_lake.snapshots().items():
        assert len(snapshots) == 1, table
        summary = snapshots[0]["summary"]
        assert summary["operation"] == "append"
        assert summary["flink.job-id"]
        assert summary["flink.max-committed-checkpoint-id"] == str(2**63 - 1)


def test_parallelism_two_gives_the_same_sinks(new_msf_lake: Any, dependency_jar: Path, batch_lake: MsfLake) -> None:
    """The same commits read by two source readers, every stage on two tasks: the same sinks as one task."""
    lake: MsfLake = new_msf_lake("e2e_batch_p2")
    lake.lake.append(commits_by_minute(RECORDS))
    run_msf_batch(lake, dependency_jar, parallelism="2")

    def rows(result: dict[str, list[Row]]) -> dict[str, Any]:
        return {table: comparable_rows(found, drop=("ingest_time",)) for table, found in result.items()}

    assert rows(lake.sinks()) == rows(batch_lake.sinks())


# --- refusals: one line naming what is missing, non-zero exit, nothing written ------------------------------


def run_main(lake: MsfLake, jar: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], **extra: str) -> int:
    """``main.py --properties FILE --jar JAR`` in this process (the JVM is shared), batch mode."""
    from flink_app import main as entry

    properties = tmp_path / "application_properties.json"
    property_map = lake.property_map(mode="batch", **extra)
    properties.write_text(json.dumps([{"PropertyGroupId": "unilake.job", "PropertyMap": property_map}]))
    capsys.readouterr()
    return entry.main(["--properties", str(properties), "--jar", str(jar)])


def assert_refused(code: int, capsys: pytest.CaptureFixture[str], *names: str) -> None:
    captured = capsys.readouterr()
    assert code == 1
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: ")
    for name in names:
        assert name in lines[0]


def assert_nothing_written(lake: MsfLake, sinks: tuple[str, ...]) -> None:
    assert {table: snapshots for table, snapshots in lake.snapshots(sinks).items() if snapshots} == {}


def test_refuses_a_missing_table(
    new_msf_lake: Any, dependency_jar: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lake: MsfLake = new_msf_lake("e2e_no_quarantine", tables=("transactions", "sales_per_minute", "fraud_alerts"))
    lake.lake.append(commits_by_minute(RECORDS[:50]))
    code = run_main(lake, dependency_jar, tmp_path, capsys)
    assert_refused(code, capsys, "e2e_no_quarantine.quarantine")
    assert_nothing_written(lake, ("sales_per_minute", "fraud_alerts"))


def test_refuses_a_missing_database(
    new_msf_lake: Any, dependency_jar: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lake: MsfLake = new_msf_lake("e2e_some_database")
    lake.lake.append(commits_by_minute(RECORDS[:50]))
    code = run_main(lake, dependency_jar, tmp_path, capsys, database="e2e_nowhere")
    assert_refused(code, capsys, "e2e_nowhere")
    assert_nothing_written(lake, ("sales_per_minute", "fraud_alerts", "quarantine"))


def test_refuses_a_table_lacking_a_column_the_job_reads(
    new_msf_lake: Any, dependency_jar: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lake: MsfLake = new_msf_lake("e2e_no_sku", without_columns=("transactions.sku",))
    lake.lake.append(commits_by_minute([{k: v for k, v in r.items() if k != "sku"} for r in RECORDS[:50]]))
    code = run_main(lake, dependency_jar, tmp_path, capsys)
    assert_refused(code, capsys, "transactions", "sku")
    assert_nothing_written(lake, ("sales_per_minute", "fraud_alerts", "quarantine"))
