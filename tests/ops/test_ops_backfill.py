"""``python -m ops backfill``: the Managed Flink calls against ``botocore.stub.Stubber`` (moto serves Managed Flink
only create/describe/list), the Iceberg tables in moto through pyiceberg, and the job's state from a dashboard
served on 127.0.0.1 (the REST shape of Flink's ``jobs/overview``)."""

from __future__ import annotations

import dataclasses
import http.server
import io
import itertools
import json
import threading
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from botocore.stub import Stubber

from flink_app.unilake_job import properties as job
from ops import backfill
from ops.cli import main
from ops.errors import OpsError
from tests.ops.conftest import Lake, create_lake, sample_transactions

from .test_ops_flink import StubbedAws

APP = "unilake-prod-backfill"
TODAY = date(2026, 11, 27)
_databases = itertools.count()


@pytest.fixture
def lake(prod: Any, moto_url: str) -> Lake:
    database = f"{prod.config.catalog.database_name}_b{next(_databases)}"
    config = prod.config.model_copy(
        update={"catalog": prod.config.catalog.model_copy(update={"database_name": database})}
    )
    names = ("transactions", "sales_per_minute", "fraud_alerts")
    env = dataclasses.replace(prod, config=config, tables=tuple(t for t in prod.tables if t.name in names))
    created = create_lake(env, moto_url, names)
    source = created.catalog().load_table((database, "transactions"))
    rows = sample_transactions("bf", 6, datetime(2026, 11, 25, 10, 0))
    source.append(pa.Table.from_pylist(rows, schema=source.schema().as_arrow()))
    return created


def deployed_groups(lake: Lake) -> list[dict[str, Any]]:
    """The property groups as the backfill stack deploys them (tests/stacks/test_backfill_stack.py checks it)."""
    property_map = {
        job.KEY_PROFILE: "msf",
        job.KEY_MODE: "batch",
        job.KEY_WAREHOUSE: lake.env.config.warehouse_uri,
        job.KEY_DATABASE: lake.database,
        job.KEY_BACKFILL_REQUIRED: "true",
    }
    return [job.run_options_group(), {"PropertyGroupId": job.JOB_GROUP_ID, "PropertyMap": property_map}]


def describe(status: str, groups: list[dict[str, Any]], version: int = 4) -> dict[str, Any]:
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


def sales_rows(day: int, stores: int) -> list[dict[str, Any]]:
    start = datetime(2026, 11, day, 10, 0)
    return [
        {
            "region": "eu",
            "store_id": f"S{i}",
            "window_start": start,
            "window_end": start.replace(minute=1),
            "transactions": 1,
            "units": 1,
            "revenue": Decimal("1.00"),
        }
        for i in range(stores)
    ]


def replace_partitions(table: Any, rows: pa.Table) -> None:
    """One ``overwrite`` snapshot that removes the data files of the partitions ``rows`` fall in and adds
    ``rows``: what Iceberg's ReplacePartitions commits for the Flink sink (pyiceberg's own dynamic overwrite
    refuses a day transform, and commits a delete and an append)."""
    from pyiceberg.io.pyarrow import _dataframe_to_data_files

    new_files = list(
        _dataframe_to_data_files(table_metadata=table.metadata, write_uuid=uuid.uuid4(), df=rows, io=table.io)
    )
    partitions = {data_file.partition for data_file in new_files}
    old_files = [task.file for task in table.scan().plan_files() if task.file.partition in partitions]
    with table.transaction() as transaction, transaction.update_snapshot().overwrite() as overwrite:
        for data_file in old_files:
            overwrite.delete_data_file(data_file)
        for data_file in new_files:
            overwrite.append_data_file(data_file)


class PlayedJob:
    """Plays the backfill job: not submitted, then RUNNING while a stream append lands, then one dynamic
    overwrite of the backfilled day in sales_per_minute (what Iceberg's Flink sink commits at the end of a
    bounded INSERT OVERWRITE), then ``final``."""

    def __init__(self, lake: Lake, final: str = "FINISHED") -> None:
        self.lake, self.final, self.calls = lake, final, 0

    def __call__(self) -> tuple[str, int, int] | None:
        self.calls += 1
        sales = self.lake.catalog().load_table((self.lake.database, "sales_per_minute"))
        if self.calls == 1:
            return None
        if self.calls == 2:
            sales.append(pa.Table.from_pylist(sales_rows(26, 1), schema=sales.schema().as_arrow()))  # the stream
            return "RUNNING", 1, 3
        if self.final == "FINISHED":
            replace_partitions(sales, pa.Table.from_pylist(sales_rows(25, 3), schema=sales.schema().as_arrow()))
        return self.final, 3 if self.final == "FINISHED" else 1, 3


NO_WAIT = backfill.Following(timeout=60, poll=0, sleep=lambda _: None)


def expect_run(stub: Stubber, lake: Lake, up_to: int, *, final_status: str = "READY") -> None:
    groups = deployed_groups(lake)
    stub.add_response("describe_application", describe("READY", groups), {"ApplicationName": APP})
    expected, _ = backfill.with_range(groups, first=date(2026, 11, 25), last=date(2026, 11, 25), up_to=up_to)
    stub.add_response(
        "update_application",
        {"ApplicationDetail": describe("READY", expected, 5)["ApplicationDetail"]},
        {
            "ApplicationName": APP,
            "CurrentApplicationVersionId": 4,
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
    for status in ("STARTING", "RUNNING"):
        stub.add_response("describe_application", describe(status, expected, 5), {"ApplicationName": APP})
    stub.add_response("stop_application", {}, {"ApplicationName": APP, "Force": False})
    for status in ("STOPPING", final_status):
        stub.add_response("describe_application", describe(status, expected, 5), {"ApplicationName": APP})


def current_source_snapshot(lake: Lake) -> int:
    snapshot = lake.catalog().load_table((lake.database, "transactions")).current_snapshot()
    assert snapshot is not None
    return snapshot.snapshot_id


def test_sets_the_range_starts_follows_stops_and_reports_rows(lake: Lake, kda: Any) -> None:
    client, stub = kda
    up_to = current_source_snapshot(lake)
    sales = lake.catalog().load_table((lake.database, "sales_per_minute"))
    sales.append(pa.Table.from_pylist(sales_rows(25, 2), schema=sales.schema().as_arrow()))  # what the stream wrote
    expect_run(stub, lake, up_to)
    out = io.StringIO()
    played = PlayedJob(lake)
    code = backfill.backfill(
        client, lake.catalog(), lake.env, first=date(2026, 11, 25), last=date(2026, 11, 25), up_to_snapshot=None,
        out=out, jobs=played, following=NO_WAIT, today=TODAY,
    )  # fmt: skip
    text = out.getvalue()
    assert code == 0, text
    assert f"up to and including snapshot {up_to}" in text
    assert "replaces those days in sales_per_minute, fraud_alerts (quarantine is not rewritten)" in text
    assert "job not submitted yet" in text
    assert "job RUNNING, tasks 1/3 finished" in text
    assert "sales_per_minute: overwrite committed, +3 rows, -2 rows" in text
    assert "job FINISHED: stopping unilake-prod-backfill" in text
    # The stream's append of another day is not the backfill's: only the overwrite is counted.
    assert "  sales_per_minute: 3 rows written, 2 rows replaced (1 commit(s))" in text
    assert "  fraud_alerts: no commit" in text
    rows = lake.catalog().load_table((lake.database, "sales_per_minute")).scan().to_arrow().to_pylist()
    assert sorted((r["window_start"].day, r["store_id"]) for r in rows) == [
        (25, "S0"),
        (25, "S1"),
        (25, "S2"),
        (26, "S0"),
    ]


def test_a_failed_job_stops_the_application_and_exits_non_zero(lake: Lake, kda: Any) -> None:
    client, stub = kda
    expect_run(stub, lake, current_source_snapshot(lake))
    out = io.StringIO()
    with pytest.raises(OpsError, match=r"the backfill job ended FAILED: nothing was replaced by a failed run"):
        backfill.backfill(
            client, lake.catalog(), lake.env, first=date(2026, 11, 25), last=date(2026, 11, 25), up_to_snapshot=None,
            out=out, jobs=PlayedJob(lake, final="FAILED"), following=NO_WAIT, today=TODAY,
        )  # fmt: skip
    assert "job FAILED: stopping" in out.getvalue()


@pytest.mark.parametrize("status", ["RUNNING", "STARTING", "UPDATING", "STOPPING"])
def test_refuses_while_another_backfill_runs(lake: Lake, kda: Any, status: str) -> None:
    client, stub = kda
    stub.add_response("describe_application", describe(status, deployed_groups(lake)), {"ApplicationName": APP})
    with pytest.raises(OpsError, match=rf"{APP} is {status}: another backfill is running or being set up"):
        backfill.backfill(
            client, lake.catalog(), lake.env, first=date(2026, 11, 25), last=date(2026, 11, 25), up_to_snapshot=None,
            out=io.StringIO(), jobs=PlayedJob(lake), following=NO_WAIT, today=TODAY,
        )  # fmt: skip


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        (date(2026, 11, 25), date(2026, 11, 24), "--to 2026-11-24 is before --from 2026-11-25"),
        (date(2026, 11, 25), TODAY, "--to 2026-11-27: only days before today"),
    ],
)
def test_refuses_bad_ranges_before_any_call(lake: Lake, kda: Any, first: date, last: date, message: str) -> None:
    client, _ = kda  # no response queued: any call would fail the test
    with pytest.raises(OpsError, match=message):
        backfill.backfill(
            client, lake.catalog(), lake.env, first=first, last=last, up_to_snapshot=None,
            out=io.StringIO(), jobs=PlayedJob(lake), following=NO_WAIT, today=TODAY,
        )  # fmt: skip


def test_refuses_an_unknown_snapshot_before_changing_anything(lake: Lake, kda: Any) -> None:
    client, stub = kda
    stub.add_response("describe_application", describe("READY", deployed_groups(lake)), {"ApplicationName": APP})
    with pytest.raises(OpsError, match=r"--up-to-snapshot 12345: no such snapshot in .*\.transactions"):
        backfill.backfill(
            client, lake.catalog(), lake.env, first=date(2026, 11, 25), last=date(2026, 11, 25), up_to_snapshot=12345,
            out=io.StringIO(), jobs=PlayedJob(lake), following=NO_WAIT, today=TODAY,
        )  # fmt: skip


def test_refuses_to_reconfigure_an_application_that_is_not_a_backfill_one(lake: Lake) -> None:
    groups = deployed_groups(lake)
    del groups[1]["PropertyMap"][job.KEY_BACKFILL_REQUIRED]
    with pytest.raises(OpsError, match="is not a backfill application's"):
        backfill.with_range(groups, first=date(2026, 11, 25), last=date(2026, 11, 25), up_to=1)


def test_a_concurrent_backfill_loses_on_the_application_version(lake: Lake, kda: Any) -> None:
    """Two operators both saw READY: UpdateApplication's version check lets one through; the other gets one
    line, exit 1, and starts nothing."""
    client, stub = kda
    stub.add_response("describe_application", describe("READY", deployed_groups(lake)), {"ApplicationName": APP})
    stub.add_client_error(
        "update_application", "ConcurrentModificationException", "version 4 is not the current version 5"
    )
    out, err = io.StringIO(), io.StringIO()

    class Aws(StubbedAws):
        def catalog(self, config: Any) -> Any:
            return lake.catalog()

    # The CLI path, with the test lake's database: the environment's config is swapped for the lake's.
    from ops import cli

    original = cli.load_environments
    cli.load_environments = lambda *a, **k: (lake.env,)  # type: ignore[assignment]
    try:
        code = main(
            ["backfill", "--env", "prod", "--from", "2026-11-24", "--to", "2026-11-24"],
            out=out, err=err, aws_factory=lambda env, args: Aws({"kinesisanalyticsv2": client}),
        )  # fmt: skip
    finally:
        cli.load_environments = original  # type: ignore[assignment]
    assert code == 1
    assert err.getvalue() == (
        "error: UpdateApplication: ConcurrentModificationException: version 4 is not the current version 5\n"
    )


def test_a_bad_day_is_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["backfill", "--env", "prod", "--from", "25.11.2026", "--to", "2026-11-25"])
    assert exited.value.code == 2
    assert "argument --from: expected a UTC day as YYYY-MM-DD (got '25.11.2026')" in capsys.readouterr().err


# --- the job's state through the Flink dashboard ------------------------------------------------------------


class Dashboard(http.server.BaseHTTPRequestHandler):
    """The dashboard as the presigned URL opens it: the URL sets a session cookie and redirects to the
    dashboard; REST calls without the cookie are refused."""

    jobs: list[dict[str, Any]] = []

    def do_GET(self) -> None:
        if self.path.startswith("/signin?authToken="):
            self.send_response(302)
            self.send_header("Set-Cookie", "session=ok; Path=/")
            self.send_header("Location", "/flinkdashboard/")
            self.end_headers()
        elif self.path == "/flinkdashboard/":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<html>Apache Flink Web Dashboard</html>")
        elif self.path == "/flinkdashboard/jobs/overview" and "session=ok" in (self.headers.get("Cookie") or ""):
            body = json.dumps({"jobs": self.jobs}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_response(403)
            self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_the_job_state_comes_from_the_dashboards_rest_api(kda: Any) -> None:
    client, stub = kda
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Dashboard)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/signin?authToken=abc"
        stub.add_response(
            "create_application_presigned_url",
            {"AuthorizedUrl": url},
            {"ApplicationName": APP, "UrlType": "FLINK_DASHBOARD_URL", "SessionExpirationDurationInSeconds": 1800},
        )
        watcher = backfill.DashboardJobs(client, APP, "us-east-1")
        Dashboard.jobs = []
        assert watcher() is None
        Dashboard.jobs = [
            {
                "jid": "a",
                "name": "unilake-msf-batch",
                "state": "FINISHED",
                "start-time": 1,
                "tasks": {"total": 3, "finished": 3},
            },
            {
                "jid": "b",
                "name": "unilake-msf-batch",
                "state": "RUNNING",
                "start-time": 2,
                "tasks": {"total": 4, "finished": 1},
            },
            {"jid": "c", "name": "something-else", "state": "RUNNING", "start-time": 3, "tasks": {"total": 1}},
        ]
        assert watcher() == ("RUNNING", 1, 4)  # the newest run of this job, one session for both calls
    finally:
        server.shutdown()


def test_a_bad_range_through_the_cli_fails_before_any_aws_call() -> None:
    """Checked before a client is built: a missing profile would otherwise be the first error."""
    out, err = io.StringIO(), io.StringIO()
    argv = ["backfill", "--env", "prod", "--from", "2026-11-25", "--to", "2026-11-24", "--profile", "nonexistent"]
    assert main(argv, out=out, err=err) == 1
    assert err.getvalue() == "error: --to 2026-11-24 is before --from 2026-11-25\n"
    assert out.getvalue() == ""
