"""The msf profile, run for real: the PyFlink mini-cluster with the dependency jar (Iceberg Flink runtime,
GlueCatalog, S3FileIO) against Glue and S3 on a local moto server (``tests/local_aws``).

The job is pointed at moto by the optional catalog settings only (endpoints, path-style access, region;
dummy credentials from the environment). Transactions land in ``transactions`` as Iceberg commits written by
pyiceberg (one data file per region partition per commit); the sinks are read back with pyiceberg and
compared with the local profile's output on the same records.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from flink_test_support import CRAFTED_FILES, Row, outputs
from msf_support import (
    MsfLake,
    as_json_lines,
    commits_by_minute,
    comparable_rows,
    typed_rows,
)

from flink_app.datagen import Generator

#: The crafted input's records an Iceberg table can hold, and three minutes of generated transactions.
RECORDS: list[Row] = typed_rows(line for _, lines in CRAFTED_FILES for line in lines) + typed_rows(
    Generator(seed=11, stores=12, cards=300, per_second=8).lines(1_400)
)
#: What a quarantine row keeps of its record, compared between the profiles (the msf profile renders typed
#: values as text, the local one keeps the text it received).
QUARANTINE_KEY = ("reason", "transaction_id", "store_id", "region", "sku", "card_id")


def local_profile_outputs(tmp: Path, rows: list[Row]) -> dict[str, list[Row]]:
    """The local profile's batch output on the same records (as the JSON lines a producer sends)."""
    from flink_app.unilake_job import job
    from flink_app.unilake_job.properties import parse_settings

    (tmp / "in").mkdir(parents=True)
    (tmp / "in" / "records.jsonl").write_text("\n".join(as_json_lines(rows)) + "\n", encoding="utf-8")
    property_map = {"profile": "local", "mode": "batch", "source.path": str(tmp / "in"), "sink.path": str(tmp / "out")}
    job.run_local(parse_settings([{"PropertyGroupId": "unilake.job", "PropertyMap": property_map}]), log=lambda _: None)
    return outputs(tmp / "out")


@pytest.fixture(scope="module")
def local_expected(pyflink: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Row]]:
    return local_profile_outputs(tmp_path_factory.mktemp("local"), RECORDS)


def run_msf_batch(lake: MsfLake, jar: Path, **extra: str) -> None:
    from flink_app.unilake_job import job

    job.submit(lake.settings(mode="batch", **extra), run=job.LocalRun(jars=(jar,))).wait()


def assert_same_as_local(result: dict[str, list[Row]], expected: dict[str, list[Row]]) -> None:
    for table in ("sales_per_minute", "fraud_alerts"):
        assert comparable_rows(result[table]) == comparable_rows(expected[table]), table
    assert comparable_rows([{k: r[k] for k in QUARANTINE_KEY} for r in result["quarantine"]]) == comparable_rows(
        [{k: r[k] for k in QUARANTINE_KEY} for r in expected["quarantine"]]
    )


def assert_every_record_accounted_for(result: dict[str, list[Row]], rows: list[Row]) -> None:
    """Aggregated + deduplicated (replays of a transaction in its minute) + quarantined = every record."""
    valid = [r for r in rows if int(r["quantity"]) > 0 and not str(r["unit_price"]).startswith("-")]
    distinct = {(r["transaction_id"], str(r["event_time"])[:16]) for r in valid}
    counted = sum(int(r["transactions"]) for r in result["sales_per_minute"])
    assert counted == len(distinct)
    assert len(result["quarantine"]) == len(rows) - len(valid)
    assert counted + (len(valid) - len(distinct)) + len(result["quarantine"]) == len(rows)


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
