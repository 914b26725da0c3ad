"""``python -m ops start --after-snapshot A``: the Managed Flink calls against ``botocore.stub.Stubber``, the
source table in moto through pyiceberg. The same contract as the job's ``INCREMENTAL_AFTER_SNAPSHOT_ID``
(flink_app/README.md, "Start position"): A must be the current snapshot or the parent of one of its
ancestors, checked before anything is changed."""

from __future__ import annotations

import dataclasses
import io
import itertools
from datetime import datetime
from typing import Any

import pyarrow as pa
import pytest

from flink_app.unilake_job import properties as job
from ops import start_after
from ops.cli import main
from ops.errors import OpsError
from tests.ops.conftest import Lake, create_lake, sample_transactions

from .test_ops_flink import StubbedAws

APP = "unilake-prod"
_databases = itertools.count()


@pytest.fixture
def lake(prod: Any, moto_url: str) -> Lake:
    """The streaming environment's source table with three appends."""
    database = f"{prod.config.catalog.database_name}_s{next(_databases)}"
    config = prod.config.model_copy(
        update={"catalog": prod.config.catalog.model_copy(update={"database_name": database})}
    )
    env = dataclasses.replace(prod, config=config, tables=tuple(t for t in prod.tables if t.name == "transactions"))
    created = create_lake(env, moto_url, ("transactions",))
    source = created.catalog().load_table((database, "transactions"))
    for minute in range(3):
        rows = sample_transactions(f"s{minute}", 4, datetime(2026, 11, 25, 10, minute))
        source.append(pa.Table.from_pylist(rows, schema=source.schema().as_arrow()))
    return created


def streaming_groups(lake: Lake) -> list[dict[str, Any]]:
    property_map = {
        job.KEY_PROFILE: "msf",
        job.KEY_MODE: "streaming",
        job.KEY_WAREHOUSE: lake.env.config.warehouse_uri,
        job.KEY_DATABASE: lake.database,
    }
    return [job.run_options_group(), {"PropertyGroupId": job.JOB_GROUP_ID, "PropertyMap": property_map}]


def describe(status: str, groups: list[dict[str, Any]], version: int = 7) -> dict[str, Any]:
    return {
        "ApplicationDetail": {
            "ApplicationARN": f"arn:aws:kinesisanalytics:us-east-1:333333333333:application/{APP}",
            "ApplicationName": APP,
            "RuntimeEnvironment": "FLINK-1_20",
            "ApplicationStatus": status,
            "ApplicationVersionId": version,
            "ApplicationConfigurationDescription": {
                "EnvironmentPropertyDescriptions": {"PropertyGroupDescriptions": groups}
            },
        }
    }


def snapshot_ids(lake: Lake) -> list[int]:
    """The source's snapshots, oldest first."""
    table = lake.catalog().load_table((lake.database, "transactions"))
    return [s.snapshot_id for s in sorted(table.snapshots(), key=lambda s: s.sequence_number)]


def cli(lake: Lake, client: Any, argv: list[str]) -> tuple[int, str, str]:
    class Aws(StubbedAws):
        def catalog(self, config: Any) -> Any:
            return lake.catalog()

    from ops import cli as ops_cli

    out, err = io.StringIO(), io.StringIO()
    original = ops_cli.load_environments
    ops_cli.load_environments = lambda *a, **k: (lake.env,)  # type: ignore[assignment]
    try:
        code = main(argv, out=out, err=err, aws_factory=lambda env, args: Aws({"kinesisanalyticsv2": client}))
    finally:
        ops_cli.load_environments = original  # type: ignore[assignment]
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("which", ["with a child", "current"])
def test_sets_the_start_after_the_snapshot_and_starts_without_state(lake: Lake, kda: Any, which: str) -> None:
    client, stub = kda
    first, second, third = snapshot_ids(lake)
    after = first if which == "with a child" else third
    expected = streaming_groups(lake)
    expected[1]["PropertyMap"] |= {
        "source.starting-strategy": "INCREMENTAL_AFTER_SNAPSHOT_ID",
        "source.start-snapshot-id": str(after),
    }
    stub.add_response("describe_application", describe("READY", streaming_groups(lake)), {"ApplicationName": APP})
    stub.add_response(
        "update_application",
        {"ApplicationDetail": describe("READY", expected, 8)["ApplicationDetail"]},
        {
            "ApplicationName": APP,
            "CurrentApplicationVersionId": 7,
            "ApplicationConfigurationUpdate": {"EnvironmentPropertyUpdates": {"PropertyGroups": expected}},
        },
    )
    stub.add_response(
        "start_application",
        {},
        {
            "ApplicationName": APP,
            "RunConfiguration": {
                "ApplicationRestoreConfiguration": {"ApplicationRestoreType": "SKIP_RESTORE_FROM_SNAPSHOT"}
            },
        },
    )

    code, out, err = cli(lake, client, ["start", "--env", "prod", "--after-snapshot", str(after)])

    assert (code, err) == (0, "")
    assert f"source.start-snapshot-id={after} on {APP}" in out
    if which == "with a child":
        assert f"first snapshot read: {second}" in out
    else:
        assert f"snapshot {after} is {lake.database}.transactions's current one" in out
    assert f"starting {APP} without state, after snapshot {after}" in out


@pytest.mark.parametrize(("status", "message"), [("RUNNING", "is RUNNING: a start after a snapshot starts without")])
def test_refuses_a_running_application(lake: Lake, kda: Any, status: str, message: str) -> None:
    client, stub = kda
    stub.add_response("describe_application", describe(status, streaming_groups(lake)), {"ApplicationName": APP})
    code, _, err = cli(lake, client, ["start", "--env", "prod", "--after-snapshot", "1"])
    assert code == 1
    assert message in err


def test_refuses_a_snapshot_the_job_would_refuse_before_changing_anything(lake: Lake, kda: Any) -> None:
    client, stub = kda
    stub.add_response("describe_application", describe("READY", streaming_groups(lake)), {"ApplicationName": APP})
    code, out, err = cli(lake, client, ["start", "--env", "prod", "--after-snapshot", "12345"])
    assert (code, out) == (1, "")
    assert err == (
        f"error: --after-snapshot 12345: snapshot 12345 is not in its history in {lake.database}.transactions; "
        "the job would refuse to start (`python -m ops tables --env ENV` lists the snapshots)\n"
    )


def test_refuses_an_application_that_is_not_the_streaming_one(lake: Lake) -> None:
    groups = streaming_groups(lake)
    groups[1]["PropertyMap"][job.KEY_MODE] = "batch"
    with pytest.raises(OpsError, match="is not the streaming job's"):
        start_after.with_start_after(groups, 1)


def test_after_snapshot_and_allow_non_restored_state_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["start", "--env", "prod", "--after-snapshot", "1", "--allow-non-restored-state"])
    assert caught.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
