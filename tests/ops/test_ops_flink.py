"""status / start / stop / snapshots and the CLI's error handling, with ``botocore.stub.Stubber`` on real
boto3 clients (moto lacks StartApplication, StopApplication and ListApplicationSnapshots)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import NoRegionError
from botocore.stub import ANY, Stubber

from ops import flink
from ops.aws import AwsFactory
from ops.cli import main
from ops.errors import OpsError

APP = "unilake-prod"  # config/environments/prod.yaml flink.application_name
ARN = f"arn:aws:kinesisanalytics:us-east-1:333333333333:application/{APP}"
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


class StubbedAws(AwsFactory):
    """The CLI's factory, handing out stubbed clients."""

    def __init__(self, clients: dict[str, Any]) -> None:
        super().__init__(region="us-east-1")
        self.stubbed = clients

    def client(self, service: str) -> Any:
        return self.stubbed[service]


@pytest.fixture
def clients() -> Iterator[tuple[dict[str, Any], Stubber, Stubber]]:
    kwargs = {"region_name": "us-east-1", "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    kda = boto3.client("kinesisanalyticsv2", **kwargs)
    cloudwatch = boto3.client("cloudwatch", **kwargs)
    with Stubber(kda) as kda_stub, Stubber(cloudwatch) as cw_stub:
        yield {"kinesisanalyticsv2": kda, "cloudwatch": cloudwatch}, kda_stub, cw_stub
        kda_stub.assert_no_pending_responses()
        cw_stub.assert_no_pending_responses()


def run(argv: list[str], stubbed: dict[str, Any]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, out=out, err=err, aws_factory=lambda env, args: StubbedAws(stubbed))
    return code, out.getvalue(), err.getvalue()


def application(status: str = "RUNNING", version: int = 3) -> dict[str, Any]:
    return {
        "ApplicationDetail": {
            "ApplicationARN": ARN,
            "ApplicationName": APP,
            "RuntimeEnvironment": "FLINK-1_20",
            "ApplicationStatus": status,
            "ApplicationVersionId": version,
            "ApplicationConfigurationDescription": {
                "FlinkApplicationConfigurationDescription": {
                    "ParallelismConfigurationDescription": {
                        "ConfigurationType": "CUSTOM",
                        "Parallelism": 4,
                        "ParallelismPerKPU": 1,
                        "CurrentParallelism": 8,
                        "AutoScalingEnabled": True,
                    }
                },
                "ApplicationSnapshotConfigurationDescription": {"SnapshotsEnabled": True},
            },
        }
    }


def snapshot(name: str, created: datetime, version: int = 3, status: str = "READY") -> dict[str, Any]:
    return {
        "SnapshotName": name,
        "SnapshotStatus": status,
        "ApplicationVersionId": version,
        "SnapshotCreationTimestamp": created,
    }


def metric_data(duration: list[tuple[datetime, float]], size: list[tuple[datetime, float]]) -> dict[str, Any]:
    return {
        "MetricDataResults": [
            {
                "Id": f"m{index}",
                "Label": label,
                "Timestamps": [when for when, _ in points],
                "Values": [value for _, value in points],
                "StatusCode": "Complete",
            }
            for index, (label, points) in enumerate(
                (("lastCheckpointDuration", duration), ("lastCheckpointSize", size))
            )
        ]
    }


METRIC_REQUEST = {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY, "ScanBy": "TimestampDescending"}


def test_status_shows_state_last_checkpoint_and_newest_snapshot(clients: Any) -> None:
    stubbed, kda, cloudwatch = clients
    kda.add_response("describe_application", application(), {"ApplicationName": APP})
    cloudwatch.add_response(
        "get_metric_data",
        metric_data(
            duration=[(T0, 800.0), (T0 + timedelta(minutes=1), 1234.0)],
            size=[(T0 + timedelta(minutes=1), 2 * 1024 * 1024)],
        ),
        METRIC_REQUEST,
    )
    kda.add_response(
        "list_application_snapshots",
        {"SnapshotSummaries": [snapshot("older", T0 - timedelta(days=1), 2), snapshot("newest", T0, 3)]},
        {"ApplicationName": APP, "Limit": 50},
    )

    code, out, err = run(["status", "--env", "prod"], stubbed)

    assert (code, err) == (0, "")
    assert "status        RUNNING" in out
    assert "version       3" in out
    assert "runtime       FLINK-1_20" in out
    assert "parallelism   8 now (configured 4, 1 per KPU, autoscaling on)" in out
    # 1,234 ms of prod's 20 s checkpoint interval = 6 %
    assert (
        "checkpoint    last took 1,234 ms (6% of the 20s interval) at 2026-11-25 09:01:00 UTC; "
        "size 2.0 MB at 2026-11-25 09:01:00 UTC"
    ) in out
    assert "snapshot      newest READY at 2026-11-25 09:00:00 UTC (application version 3); 2 in total" in out


def test_status_asks_cloudwatch_for_the_checkpoint_metrics_of_this_application(clients: Any) -> None:
    stubbed, kda, cloudwatch = clients
    kda.add_response("describe_application", application(), {"ApplicationName": APP})
    cloudwatch.add_response("get_metric_data", metric_data([], []), METRIC_REQUEST)
    kda.add_response("list_application_snapshots", {"SnapshotSummaries": []}, {"ApplicationName": APP, "Limit": 50})
    sent: list[dict[str, Any]] = []
    stubbed["cloudwatch"].meta.events.register(
        "provide-client-params.cloudwatch.GetMetricData", lambda params, **_: sent.append(params)
    )

    code, out, _ = run(["status", "--env", "prod"], stubbed)

    assert code == 0
    assert "checkpoint    no lastCheckpointDuration/lastCheckpointSize datapoint in the last 3 h" in out
    assert "snapshot      none" in out
    metrics = [query["MetricStat"]["Metric"] for query in sent[0]["MetricDataQueries"]]
    assert [metric["MetricName"] for metric in metrics] == ["lastCheckpointDuration", "lastCheckpointSize"]
    for metric in metrics:
        assert metric["Namespace"] == "AWS/KinesisAnalytics"
        assert metric["Dimensions"] == [{"Name": "Application", "Value": APP}]


@pytest.mark.parametrize(("flag", "allowed"), [([], False), (["--allow-non-restored-state"], True)])
def test_start_restores_from_the_latest_snapshot(clients: Any, flag: list[str], allowed: bool) -> None:
    stubbed, kda, _ = clients
    kda.add_response(
        "start_application",
        {},
        {
            "ApplicationName": APP,
            "RunConfiguration": {
                "ApplicationRestoreConfiguration": {"ApplicationRestoreType": "RESTORE_FROM_LATEST_SNAPSHOT"},
                "FlinkRunConfiguration": {"AllowNonRestoredState": allowed},
            },
        },
    )

    code, out, err = run(["start", "--env", "prod", *flag], stubbed)

    assert (code, err) == (0, "")
    assert f"starting {APP} from its latest snapshot" in out


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def clock(self) -> float:
        return self.now


def test_start_wait_polls_until_running(clients: Any) -> None:
    stubbed, kda, _ = clients
    kda.add_response("start_application", {}, {"ApplicationName": APP, "RunConfiguration": ANY})
    for status in ("STARTING", "STARTING", "RUNNING"):
        kda.add_response("describe_application", application(status), {"ApplicationName": APP})
    fake = FakeTime()
    out = io.StringIO()

    code = flink.start(
        stubbed["kinesisanalyticsv2"],
        name=APP,
        region="us-east-1",
        allow_non_restored_state=False,
        out=out,
        wait=flink.Waiting(timeout=60, poll=5, sleep=fake.sleep, clock=fake.clock),
    )

    assert code == 0
    assert out.getvalue().splitlines()[-3:] == ["      0s  STARTING", "      5s  STARTING", "     10s  RUNNING"]


def test_start_wait_fails_when_the_application_falls_back_to_ready(clients: Any) -> None:
    stubbed, kda, _ = clients
    kda.add_response("start_application", {}, {"ApplicationName": APP, "RunConfiguration": ANY})
    for status in ("STARTING", "READY"):
        kda.add_response("describe_application", application(status), {"ApplicationName": APP})
    fake = FakeTime()

    with pytest.raises(OpsError, match="went back to READY"):
        flink.start(
            stubbed["kinesisanalyticsv2"],
            name=APP,
            region="us-east-1",
            allow_non_restored_state=False,
            out=io.StringIO(),
            wait=flink.Waiting(timeout=60, poll=5, sleep=fake.sleep, clock=fake.clock),
        )


def test_start_wait_times_out(clients: Any) -> None:
    stubbed, kda, _ = clients
    kda.add_response("start_application", {}, {"ApplicationName": APP, "RunConfiguration": ANY})
    for _ in range(3):  # at 0 s, 5 s and 10 s; the deadline is 10 s
        kda.add_response("describe_application", application("STARTING"), {"ApplicationName": APP})
    fake = FakeTime()

    with pytest.raises(OpsError, match="timed out after 10s waiting for unilake-prod to be RUNNING"):
        flink.start(
            stubbed["kinesisanalyticsv2"],
            name=APP,
            region="us-east-1",
            allow_non_restored_state=False,
            out=io.StringIO(),
            wait=flink.Waiting(timeout=10, poll=5, sleep=fake.sleep, clock=fake.clock),
        )


def test_stop_takes_a_snapshot_by_default(clients: Any) -> None:
    stubbed, kda, _ = clients
    kda.add_response("stop_application", {}, {"ApplicationName": APP, "Force": False})

    code, out, err = run(["stop", "--env", "prod"], stubbed)

    assert (code, err) == (0, "")
    assert "takes a snapshot" in out


def test_stop_force_warns_that_no_snapshot_is_taken(clients: Any) -> None:
    stubbed, kda, _ = clients
    kda.add_response("stop_application", {}, {"ApplicationName": APP, "Force": True})

    code, out, err = run(["stop", "--env", "prod", "--force"], stubbed)

    assert code == 0
    assert err.startswith(f"warning: force-stopping {APP}: the service takes NO snapshot")
    assert "(forced)" in out


def test_snapshots_lists_every_page_newest_first(clients: Any) -> None:
    stubbed, kda, _ = clients
    kda.add_response(
        "list_application_snapshots",
        {"SnapshotSummaries": [snapshot("b-middle", T0, 2)], "NextToken": "page2"},
        {"ApplicationName": APP, "Limit": 50},
    )
    kda.add_response(
        "list_application_snapshots",
        {
            "SnapshotSummaries": [
                snapshot("a-oldest", T0 - timedelta(hours=1), 1),
                snapshot("c-newest", T0 + timedelta(hours=1), 3, "CREATING"),
            ]
        },
        {"ApplicationName": APP, "Limit": 50, "NextToken": "page2"},
    )

    code, out, _ = run(["snapshots", "--env", "prod"], stubbed)

    assert code == 0
    rows = out.splitlines()[1:]
    assert [row.split()[0] for row in rows] == ["c-newest", "b-middle", "a-oldest"]
    assert rows[0].split()[1:] == ["CREATING", "2026-11-25", "10:00:00", "UTC", "3"]


def test_application_not_found_is_one_clear_line(clients: Any) -> None:
    stubbed, kda, _ = clients
    kda.add_client_error(
        "describe_application",
        service_error_code="ResourceNotFoundException",
        service_message=f"Application {APP} is not found in account 333333333333.",
        http_status_code=400,
    )

    code, out, err = run(["status", "--env", "prod"], stubbed)

    assert code == 1
    assert out == ""
    assert err == (
        f"error: Managed Flink application {APP!r} does not exist in us-east-1 - is the environment deployed? "
        f"(AWS: Application {APP} is not found in account 333333333333.)\n"
    )


def test_other_client_errors_keep_the_aws_message(clients: Any) -> None:
    stubbed, kda, _ = clients
    kda.add_client_error(
        "start_application",
        service_error_code="AccessDeniedException",
        service_message="User is not authorized to perform: kinesisanalytics:StartApplication",
        http_status_code=400,
    )

    code, _, err = run(["start", "--env", "prod"], stubbed)

    assert code == 1
    assert err == (
        "error: StartApplication: AccessDeniedException: "
        "User is not authorized to perform: kinesisanalytics:StartApplication\n"
    )


@pytest.mark.usefixtures("no_credentials")
@pytest.mark.parametrize("command", ["status", "snapshots", "tables"])  # read-only commands only
def test_missing_credentials_is_one_clear_line(command: str) -> None:
    out, err = io.StringIO(), io.StringIO()

    code = main([command, "--env", "prod"], out=out, err=err)

    assert code == 1
    assert err.getvalue().startswith("error: no AWS credentials found")
    assert err.getvalue().count("\n") == 1


@pytest.mark.parametrize("command", ["status", "start", "tables", "smoke"])
def test_unknown_environment_is_one_clear_line(command: str) -> None:
    out, err = io.StringIO(), io.StringIO()

    code = main([command, "--env", "prodd"], out=out, err=err)

    assert code == 2
    assert err.getvalue().startswith("error: config/environments: unknown environment 'prodd' (known: ")
    assert "prod" in err.getvalue().split("known: ")[1]
    assert err.getvalue().count("\n") == 1


def test_missing_region_is_one_clear_line() -> None:
    def no_region(env: Any, args: Any) -> AwsFactory:
        raise NoRegionError()

    out, err = io.StringIO(), io.StringIO()

    code = main(["status", "--env", "prod"], out=out, err=err, aws_factory=no_region)

    assert code == 1
    assert err.getvalue() == "error: no AWS region configured (set AWS_REGION or the profile's region)\n"


@pytest.mark.usefixtures("no_credentials")
def test_unknown_profile_is_one_clear_line() -> None:
    out, err = io.StringIO(), io.StringIO()

    code = main(["status", "--env", "prod", "--profile", "no-such-profile"], out=out, err=err)

    assert code == 1
    assert err.getvalue() == "error: The config profile (no-such-profile) could not be found\n"
