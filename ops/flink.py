"""Managed Service for Apache Flink operations: status, start, stop, snapshots (boto3 ``kinesisanalyticsv2``).

Each function takes ready clients (``Any``: boto3 has no stubs here) and a writer, so tests drive them
with ``botocore.stub.Stubber`` on real clients.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from botocore.exceptions import ClientError

from unilake_config import flink_metrics as metric_names

from .errors import OpsError

METRICS_NAMESPACE = metric_names.NAMESPACE
METRICS_DIMENSION = metric_names.APPLICATION_DIMENSION
CHECKPOINT_METRICS = (metric_names.LAST_CHECKPOINT_DURATION, metric_names.LAST_CHECKPOINT_SIZE)
METRIC_LOOKBACK = timedelta(hours=3)
RESTORE_FROM_LATEST = "RESTORE_FROM_LATEST_SNAPSHOT"
SKIP_RESTORE = "SKIP_RESTORE_FROM_SNAPSHOT"

Sleep = Callable[[float], None]
Clock = Callable[[], float]


@dataclass(frozen=True)
class Waiting:
    """How ``--wait`` polls DescribeApplication; injectable so tests do not sleep."""

    timeout: float = 600.0
    poll: float = 10.0
    sleep: Sleep = time.sleep
    clock: Clock = time.monotonic


def _not_found(error: ClientError, name: str, region: str) -> OpsError | None:
    if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
        message = error.response["Error"].get("Message", "")
        return OpsError(
            f"Managed Flink application {name!r} does not exist in {region} - is the environment deployed? "
            f"(AWS: {message})"
        )
    return None


def _call(client: Any, operation: str, name: str, region: str, **kwargs: Any) -> Any:
    try:
        return getattr(client, operation)(**kwargs)
    except ClientError as error:
        raise (_not_found(error, name, region) or error) from None


def describe(kda: Any, name: str, region: str) -> dict[str, Any]:
    response = _call(kda, "describe_application", name, region, ApplicationName=name)
    detail: dict[str, Any] = response["ApplicationDetail"]
    return detail


def update_properties(kda: Any, name: str, region: str, *, version: int, groups: list[dict[str, Any]]) -> None:
    """Replace the application's property groups, locked on the application ``version`` read before: of two
    operators who both read it, only one gets through (the other's call fails on the version)."""
    _call(
        kda,
        "update_application",
        name,
        region,
        ApplicationName=name,
        CurrentApplicationVersionId=version,
        ApplicationConfigurationUpdate={"EnvironmentPropertyUpdates": {"PropertyGroups": groups}},
    )


def start_without_state(kda: Any, name: str, region: str) -> None:
    """StartApplication without restoring a snapshot (a backfill, or a stream from a set position)."""
    run_configuration = {"ApplicationRestoreConfiguration": {"ApplicationRestoreType": SKIP_RESTORE}}
    _call(kda, "start_application", name, region, ApplicationName=name, RunConfiguration=run_configuration)


def list_snapshots(kda: Any, name: str, region: str) -> list[dict[str, Any]]:
    """Every snapshot of the application, newest first."""
    snapshots: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"ApplicationName": name, "Limit": 50}
    while True:
        response = _call(kda, "list_application_snapshots", name, region, **kwargs)
        snapshots.extend(response.get("SnapshotSummaries", []))
        token = response.get("NextToken")
        if not token:
            break
        kwargs["NextToken"] = token
    epoch = datetime.min.replace(tzinfo=UTC)
    snapshots.sort(key=lambda snap: snap.get("SnapshotCreationTimestamp") or epoch, reverse=True)
    return snapshots


@dataclass(frozen=True)
class Datapoint:
    metric: str
    timestamp: datetime
    value: float


def latest_checkpoint_metrics(cloudwatch: Any, name: str, now: datetime) -> dict[str, Datapoint | None]:
    """The most recent ``lastCheckpointDuration`` / ``lastCheckpointSize`` datapoints (Maximum per minute)."""
    queries = [
        {
            "Id": f"m{index}",
            "MetricStat": {
                "Metric": {
                    "Namespace": METRICS_NAMESPACE,
                    "MetricName": metric,
                    "Dimensions": [{"Name": METRICS_DIMENSION, "Value": name}],
                },
                "Period": 60,
                "Stat": "Maximum",
            },
            "ReturnData": True,
        }
        for index, metric in enumerate(CHECKPOINT_METRICS)
    ]
    response = cloudwatch.get_metric_data(
        MetricDataQueries=queries,
        StartTime=now - METRIC_LOOKBACK,
        EndTime=now,
        ScanBy="TimestampDescending",
    )
    found: dict[str, Datapoint | None] = dict.fromkeys(CHECKPOINT_METRICS)
    for result in response.get("MetricDataResults", []):
        metric = CHECKPOINT_METRICS[int(result["Id"][1:])]
        pairs = sorted(zip(result.get("Timestamps", []), result.get("Values", []), strict=False), reverse=True)
        if pairs:
            found[metric] = Datapoint(metric=metric, timestamp=pairs[0][0], value=float(pairs[0][1]))
    return found


def _when(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _size(num_bytes: float) -> str:
    size = num_bytes
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.1f} {unit}" if unit != "B" else f"{size:,.0f} B"
        size /= 1024
    return f"{size:,.1f} GB"  # pragma: no cover - the loop always returns


def status(
    kda: Any,
    cloudwatch: Any,
    *,
    name: str,
    region: str,
    out: TextIO,
    now: datetime,
    checkpoint_interval: int | None = None,
) -> int:
    """``checkpoint_interval`` (seconds, from the config) puts the last checkpoint's duration in proportion:
    above half the interval the application is under-provisioned."""
    detail = describe(kda, name, region)
    config = detail.get("ApplicationConfigurationDescription", {})
    flink = config.get("FlinkApplicationConfigurationDescription", {})
    parallelism = flink.get("ParallelismConfigurationDescription", {})
    snapshots_on = config.get("ApplicationSnapshotConfigurationDescription", {}).get("SnapshotsEnabled")
    out.write(f"application   {detail['ApplicationName']} ({region})\n")
    out.write(f"status        {detail['ApplicationStatus']}\n")
    out.write(f"version       {detail['ApplicationVersionId']}\n")
    out.write(f"runtime       {detail['RuntimeEnvironment']}\n")
    if parallelism:
        out.write(
            f"parallelism   {parallelism.get('CurrentParallelism', '?')} now (configured "
            f"{parallelism.get('Parallelism', '?')}, {parallelism.get('ParallelismPerKPU', '?')} per KPU, "
            f"autoscaling {'on' if parallelism.get('AutoScalingEnabled') else 'off'})\n"
        )
    if snapshots_on is not None:
        out.write(f"snapshots     {'enabled' if snapshots_on else 'DISABLED: state is lost on stop/update'}\n")

    metrics = latest_checkpoint_metrics(cloudwatch, name, now)
    duration, size = metrics[metric_names.LAST_CHECKPOINT_DURATION], metrics[metric_names.LAST_CHECKPOINT_SIZE]
    if duration is None and size is None:
        hours = int(METRIC_LOOKBACK.total_seconds() // 3600)
        out.write(f"checkpoint    no lastCheckpointDuration/lastCheckpointSize datapoint in the last {hours} h\n")
    else:
        parts = []
        if duration is not None:
            share = ""
            if checkpoint_interval:
                percent = duration.value / (checkpoint_interval * 1000) * 100
                share = (
                    f" ({percent:.0f}% of the {checkpoint_interval}s interval{'; over 50%' if percent > 50 else ''})"
                )
            parts.append(f"took {duration.value:,.0f} ms{share} at {_when(duration.timestamp)}")
        if size is not None:
            parts.append(f"size {_size(size.value)} at {_when(size.timestamp)}")
        out.write(f"checkpoint    last {'; '.join(parts)}\n")

    snapshots = list_snapshots(kda, name, region)
    if snapshots:
        last = snapshots[0]
        out.write(
            f"snapshot      {last['SnapshotName']} {last['SnapshotStatus']} at "
            f"{_when(last.get('SnapshotCreationTimestamp'))} "
            f"(application version {last['ApplicationVersionId']})"
            f"; {len(snapshots)} in total\n"
        )
    else:
        out.write("snapshot      none\n")
    return 0


def _wait_for(kda: Any, name: str, region: str, target: str, waiting: Waiting, out: TextIO) -> int:
    started = waiting.clock()
    deadline = started + waiting.timeout
    seen_transition = False
    while True:
        current = describe(kda, name, region)["ApplicationStatus"]
        out.write(f"  {waiting.clock() - started:5.0f}s  {current}\n")
        if current == target:
            return 0
        if target == "RUNNING" and current == "READY" and seen_transition:
            raise OpsError(f"{name} went back to READY instead of RUNNING: check its CloudWatch logs")
        seen_transition = seen_transition or current != "READY"
        if waiting.clock() >= deadline:
            raise OpsError(f"timed out after {waiting.timeout:.0f}s waiting for {name} to be {target} (now {current})")
        waiting.sleep(waiting.poll)


def start(
    kda: Any,
    *,
    name: str,
    region: str,
    allow_non_restored_state: bool,
    out: TextIO,
    wait: Waiting | None = None,
) -> int:
    run_configuration = {
        "ApplicationRestoreConfiguration": {"ApplicationRestoreType": RESTORE_FROM_LATEST},
        "FlinkRunConfiguration": {"AllowNonRestoredState": allow_non_restored_state},
    }
    _call(kda, "start_application", name, region, ApplicationName=name, RunConfiguration=run_configuration)
    out.write(
        f"starting {name} from its latest snapshot"
        f"{' (allowing non-restored state)' if allow_non_restored_state else ''}\n"
    )
    if wait is None:
        return 0
    return _wait_for(kda, name, region, "RUNNING", wait, out)


def stop(
    kda: Any, *, name: str, region: str, force: bool, out: TextIO, err: TextIO, wait: Waiting | None = None
) -> int:
    if force:
        err.write(
            f"warning: force-stopping {name}: the service takes NO snapshot; "
            "the next start restores from the "
            "last snapshot taken before this one\n"
        )
    _call(kda, "stop_application", name, region, ApplicationName=name, Force=force)
    out.write(f"stopping {name}{' (forced)' if force else ' (the service takes a snapshot if snapshots are on)'}\n")
    if wait is None:
        return 0
    return _wait_for(kda, name, region, "READY", wait, out)


def snapshots(kda: Any, *, name: str, region: str, out: TextIO) -> int:
    items = list_snapshots(kda, name, region)
    if not items:
        out.write(f"{name} has no snapshots\n")
        return 0
    out.write(f"{'name':<48}{'status':<10}{'created':<25}{'app version':>11}\n")
    for snap in items:
        out.write(
            f"{snap['SnapshotName']:<48}{snap['SnapshotStatus']:<10}"
            f"{_when(snap.get('SnapshotCreationTimestamp')):<25}{snap['ApplicationVersionId']:>11}\n"
        )
    return 0
