"""Starts a Managed Service for Apache Flink application after CloudFormation creates or updates it,
and stops it gracefully when the custom resource is deleted.

Runs in AWS Lambda (Python 3.14) behind the CDK Provider framework's asynchronous pattern: ``on_event``
acts once, ``is_complete`` is polled until the application is RUNNING and the operation that got it there
is SUCCESSFUL (create/update; see ``_operation_succeeded``) or READY (delete).
Returning reports success; raising reports failure with the exception's message, which becomes the
CloudFormation error (aws-cdk-lib custom-resources README, "Asynchronous Providers: isComplete").

Only boto3 from the Lambda runtime; no aws-cdk import. ``client`` is injectable for tests.

Facts relied on (service model of botocore 1.44 for kinesisanalyticsv2; API reference):
- CloudFormation creates the application in READY and never starts it; StartApplication is the only way.
- A non-forced StopApplication is accepted only in RUNNING and takes a snapshot first when snapshots are
  enabled; ``Force`` stops without one (API reference StopApplication).
- ``ApplicationDetail`` (DescribeApplication) has no field that carries a failure reason: the reason of a
  failed start or update is in DescribeApplicationOperation's
  ``ApplicationOperationInfoDetails.OperationFailureDetails.ErrorInfo.ErrorString`` (and in the
  application's CloudWatch log stream). The error raised here quotes that string: for our own start by its
  operation id, otherwise from the most recent FAILED operation (ListApplicationOperations). When the
  lookup itself fails, the error still names the status, the command to run and the log stream.
"""

from __future__ import annotations

import logging
from typing import Any

import boto3
from botocore.exceptions import ClientError

LOGGER = logging.getLogger()
LOGGER.setLevel(logging.INFO)

RUNNING = "RUNNING"
READY = "READY"
# Transient statuses on the way to RUNNING: wait. MAINTENANCE returns to RUNNING by itself.
STARTING_UP = frozenset({"STARTING", "UPDATING", "AUTOSCALING", "MAINTENANCE"})
# Transient statuses on the way to READY (or gone): wait while deleting the custom resource.
STOPPING = frozenset({"STOPPING", "FORCE_STOPPING"})

RESTORE_FROM_LATEST_SNAPSHOT = "RESTORE_FROM_LATEST_SNAPSHOT"
SKIP_RESTORE_FROM_SNAPSHOT = "SKIP_RESTORE_FROM_SNAPSHOT"
LEGACY_SNAPSHOTS = "APPLICATION_SNAPSHOTS_LEGACY"
# Errors StartApplication returns for a request the service will not accept as such.
_REJECTED_START = frozenset(
    {"InvalidArgumentException", "InvalidApplicationConfigurationException", "InvalidRequestException"}
)

# Fields returned by on_event beside PhysicalResourceId are passed through to is_complete by the
# Provider framework (custom-resources README, onEvent return value: "any other field").
START_REQUESTED = "StartRequested"
STOP_REQUESTED = "StopRequested"
OPERATION_ID = "OperationId"
RESTORE_TYPE = "RestoreType"

KinesisAnalyticsV2Client = Any  # botocore's generated client; no stubs are shipped to Lambda


class ApplicationFailedError(RuntimeError):
    """The application did not reach the state the deployment asked for."""


def _new_client() -> KinesisAnalyticsV2Client:
    return boto3.client("kinesisanalyticsv2")


# --------------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------------


def on_event(event: dict[str, Any], context: Any = None, client: KinesisAnalyticsV2Client = None) -> dict[str, Any]:
    client = client or _new_client()
    request_type = event["RequestType"]
    props = _properties(event)
    name = props.application_name
    LOGGER.info("%s for application %s", request_type, name)
    if request_type in ("Create", "Update"):
        response = _start_if_stopped(client, name, props.allow_non_restored_state)
        # The application's name is its identity: a new name means a new application (replacement).
        response["PhysicalResourceId"] = name
        return response
    if request_type == "Delete":
        response = _stop_if_running(client, name) if props.stop_on_delete else {STOP_REQUESTED: False}
        response["PhysicalResourceId"] = event["PhysicalResourceId"]
        return response
    raise ValueError(f"unknown RequestType {request_type!r}")


def is_complete(event: dict[str, Any], context: Any = None, client: KinesisAnalyticsV2Client = None) -> dict[str, Any]:
    client = client or _new_client()
    props = _properties(event)
    name = props.application_name
    if event["RequestType"] == "Delete":
        if not props.stop_on_delete:
            return {"IsComplete": True}
        return {"IsComplete": _stopped(client, name, stop_requested=bool(event.get(STOP_REQUESTED)))}
    detail = _describe(client, name)
    if detail is None:
        raise ApplicationFailedError(f"Managed Flink application {name} does not exist.")
    status = detail["ApplicationStatus"]
    LOGGER.info("application %s is %s", name, status)
    if status == RUNNING:
        return {"IsComplete": _operation_succeeded(client, name, event.get(OPERATION_ID) or None)}
    if status in STARTING_UP:
        return {"IsComplete": False}
    # READY or STOPPING after a start, FORCE_STOPPING, DELETING, ROLLING_BACK, ROLLED_BACK, or a status
    # this code does not know: the application is not going to run. Fail the deployment with what the
    # service says about it.
    raise ApplicationFailedError(_failure_message(detail, operation_id=event.get(OPERATION_ID), client=client))


def _operation_succeeded(client: KinesisAnalyticsV2Client, name: str, operation_id: str | None) -> bool:
    """Whether the operation that brought the application to RUNNING succeeded.

    RUNNING is the application's status, not its job's: Managed Flink shows RUNNING while the job it was asked
    to start has yet to run, or failed to (a Python job whose main() raised). The service records each
    StartApplication/UpdateApplication as an operation whose status is IN_PROGRESS until it is done, then
    SUCCESSFUL, FAILED (with OperationFailureDetails.ErrorInfo) or CANCELLED (API reference
    DescribeApplicationOperation, ApplicationOperationInfo; developer guide "Run a Managed Service for
    Apache Flink application": application status and job status are distinct). "Started" is therefore: the
    application is RUNNING and our StartApplication operation (or, when we started nothing, the application's
    latest operation, e.g. CloudFormation's UpdateApplication) is SUCCESSFUL. IN_PROGRESS: wait.
    """
    if operation_id is None:
        latest = _latest_operation(client, name)
        if latest is None:
            return True  # no operation recorded: nothing else to wait for
        operation_id = str(latest["OperationId"])
    details = client.describe_application_operation(ApplicationName=name, OperationId=operation_id)[
        "ApplicationOperationInfoDetails"
    ]
    state = details.get("OperationStatus")
    LOGGER.info("operation %s (%s) of %s is %s", operation_id, details.get("Operation"), name, state)
    if state == "SUCCESSFUL":
        return True
    if state == "IN_PROGRESS":
        return False
    error = details.get("OperationFailureDetails", {}).get("ErrorInfo", {}).get("ErrorString") or "no error string"
    raise ApplicationFailedError(
        f"Managed Flink application {name} is RUNNING but its {details.get('Operation', 'operation')} {operation_id} "
        f"is {state}: {error}. The job did not start; see `aws kinesisanalyticsv2 describe-application-operation "
        f"--application-name {name} --operation-id {operation_id}` and the application's log stream."
    )


def _latest_operation(client: KinesisAnalyticsV2Client, name: str) -> dict[str, Any] | None:
    operations = client.list_application_operations(ApplicationName=name, Limit=50).get(
        "ApplicationOperationInfoList", []
    )
    if not operations:
        return None
    latest: dict[str, Any] = max(operations, key=lambda o: o.get("StartTime") or o.get("EndTime") or 0)
    return latest


# --------------------------------------------------------------------------------------------------
# Create and Update
# --------------------------------------------------------------------------------------------------


def _start_if_stopped(client: KinesisAnalyticsV2Client, name: str, allow_non_restored_state: bool) -> dict[str, Any]:
    detail = _describe(client, name)
    if detail is None:
        raise ApplicationFailedError(f"Managed Flink application {name} does not exist; nothing to start.")
    status = detail["ApplicationStatus"]
    if status == READY:
        operation_id, restore_type = _start(client, detail, allow_non_restored_state)
        LOGGER.info("started %s with %s (operation %s)", name, restore_type, operation_id)
        return {START_REQUESTED: True, OPERATION_ID: operation_id, RESTORE_TYPE: restore_type}
    if status == RUNNING or status in STARTING_UP:
        # Already running, or on its way: an update of a running application is applied by the service,
        # which snapshots and restarts it itself. Nothing to start; is_complete waits for RUNNING.
        LOGGER.info("application %s is %s; not starting it", name, status)
        return {START_REQUESTED: False}
    raise ApplicationFailedError(_failure_message(detail, operation_id=None, client=client))


def _start(client: KinesisAnalyticsV2Client, detail: dict[str, Any], allow_non_restored_state: bool) -> tuple[str, str]:
    """StartApplication restoring the latest snapshot, with a guarded no-snapshot fallback.

    On a first start there is no snapshot. RESTORE_FROM_LATEST_SNAPSHOT then starts without state:
    hashicorp/terraform-provider-aws internal/service/kinesisanalyticsv2/application_test.go,
    TestAccKinesisAnalyticsV2Application_FlinkApplication_restoreFromSnapshot, step 1, creates a new
    snapshot-enabled application and starts it with RESTORE_FROM_LATEST_SNAPSHOT and reaches RUNNING.
    The API reference does not say so in words, so if the service ever rejects the request, the start is
    retried with SKIP_RESTORE_FROM_SNAPSHOT only when there is provably no state to lose: the application
    uses legacy application snapshots (ListApplicationSnapshots does not list ENHANCED_SNAPSHOTS-mode
    snapshots, which live in the account-wide ListSnapshots) and none of them is READY. Otherwise the
    rejection is raised as is.
    """
    name = detail["ApplicationName"]
    try:
        return _start_application(client, name, RESTORE_FROM_LATEST_SNAPSHOT, allow_non_restored_state)
    except ClientError as error:
        if (
            _error_code(error) not in _REJECTED_START
            or _snapshot_mode(detail) != LEGACY_SNAPSHOTS
            or _has_ready_snapshot(client, name)
        ):
            raise
        LOGGER.warning("%s rejected %s and has no snapshot: %s", name, RESTORE_FROM_LATEST_SNAPSHOT, error)
        return _start_application(client, name, SKIP_RESTORE_FROM_SNAPSHOT, allow_non_restored_state)


def _snapshot_mode(detail: dict[str, Any]) -> str:
    configuration = detail.get("ApplicationConfigurationDescription", {})
    snapshots = configuration.get("ApplicationSnapshotConfigurationDescription", {})
    return str(snapshots.get("SnapshotMode", LEGACY_SNAPSHOTS))  # absent: legacy (the API default)


def _start_application(
    client: KinesisAnalyticsV2Client, name: str, restore_type: str, allow_non_restored_state: bool
) -> tuple[str, str]:
    response = client.start_application(
        ApplicationName=name,
        RunConfiguration={
            "ApplicationRestoreConfiguration": {"ApplicationRestoreType": restore_type},
            "FlinkRunConfiguration": {"AllowNonRestoredState": allow_non_restored_state},
        },
    )
    return str(response.get("OperationId", "")), restore_type


def _has_ready_snapshot(client: KinesisAnalyticsV2Client, name: str) -> bool:
    kwargs: dict[str, Any] = {"ApplicationName": name, "Limit": 50}
    while True:
        page = client.list_application_snapshots(**kwargs)
        if any(s.get("SnapshotStatus") == READY for s in page.get("SnapshotSummaries", [])):
            return True
        if not page.get("NextToken"):
            return False
        kwargs["NextToken"] = page["NextToken"]


# --------------------------------------------------------------------------------------------------
# Delete
# --------------------------------------------------------------------------------------------------


def _stop_if_running(client: KinesisAnalyticsV2Client, name: str) -> dict[str, Any]:
    detail = _describe(client, name)
    if detail is None:
        LOGGER.info("application %s does not exist; nothing to stop", name)
        return {STOP_REQUESTED: False}
    status = detail["ApplicationStatus"]
    if status == RUNNING:
        _stop(client, name)
        return {STOP_REQUESTED: True}
    # STARTING/UPDATING/AUTOSCALING: a graceful stop is accepted only in RUNNING, so is_complete stops it
    # once it gets there. READY, STOPPING, DELETING: nothing to do but wait.
    LOGGER.info("application %s is %s; not stopping it now", name, status)
    return {STOP_REQUESTED: False}


def _stopped(client: KinesisAnalyticsV2Client, name: str, *, stop_requested: bool) -> bool:
    detail = _describe(client, name)
    if detail is None:
        return True
    status = detail["ApplicationStatus"]
    LOGGER.info("application %s is %s", name, status)
    if status in (READY, "DELETING"):
        return True
    if status == RUNNING:
        if stop_requested:
            # A graceful stop that ends in RUNNING again failed, typically its snapshot.
            raise ApplicationFailedError(
                f"Managed Flink application {name} is RUNNING again after a graceful StopApplication "
                "(Force=false): the stop failed, most likely while taking its snapshot. "
                + _where_to_look(detail, operation_id=None)
            )
        _stop(client, name)  # it reached RUNNING after on_event saw it STARTING/UPDATING/AUTOSCALING
    return False


def _stop(client: KinesisAnalyticsV2Client, name: str) -> None:
    # Force=False: the service takes a snapshot before stopping when snapshots are enabled.
    client.stop_application(ApplicationName=name, Force=False)
    LOGGER.info("asked %s to stop gracefully", name)


# --------------------------------------------------------------------------------------------------
# Shared
# --------------------------------------------------------------------------------------------------


class _Properties:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.application_name: str = str(raw["ApplicationName"])
        self.allow_non_restored_state: bool = _as_bool(raw.get("AllowNonRestoredState", False))
        self.stop_on_delete: bool = _as_bool(raw.get("StopOnDelete", True))


def _properties(event: dict[str, Any]) -> _Properties:
    return _Properties(event["ResourceProperties"])


def _as_bool(value: object) -> bool:
    # CloudFormation hands custom resources every property value as a string: "true" / "false".
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError(f"expected a boolean or 'true'/'false', got {value!r}")


def _describe(client: KinesisAnalyticsV2Client, name: str) -> dict[str, Any] | None:
    try:
        detail: dict[str, Any] = client.describe_application(ApplicationName=name)["ApplicationDetail"]
    except ClientError as error:
        if _error_code(error) == "ResourceNotFoundException":
            return None
        raise
    return detail


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _failure_message(detail: dict[str, Any], *, operation_id: str | None, client: KinesisAnalyticsV2Client) -> str:
    name = detail.get("ApplicationName", "?")
    reason = _operation_failure(client, name, operation_id)
    return (
        f"Managed Flink application {name} is {detail.get('ApplicationStatus')}, not RUNNING "
        f"(version {detail.get('ApplicationVersionId')}, last updated {detail.get('LastUpdateTimestamp')}). "
        + (f"{reason} " if reason else "")
        + _where_to_look(detail, operation_id=operation_id)
    )


def _operation_failure(client: KinesisAnalyticsV2Client, name: str, operation_id: str | None) -> str | None:
    """The service's own error for ``operation_id``, or for the latest failed operation when there is none."""
    try:
        if not operation_id:
            failed = client.list_application_operations(ApplicationName=name, OperationStatus="FAILED", Limit=50)
            operations = failed.get("ApplicationOperationInfoList", [])
            if not operations:
                return None
            latest = max(operations, key=lambda o: o.get("StartTime") or o.get("EndTime") or 0)
            operation_id = str(latest["OperationId"])
        info = client.describe_application_operation(ApplicationName=name, OperationId=operation_id)
    except ClientError as error:
        LOGGER.warning("could not read the failure of %s's operation %s: %s", name, operation_id, error)
        return None
    details = info.get("ApplicationOperationInfoDetails", {})
    error_info = details.get("OperationFailureDetails", {}).get("ErrorInfo", {})
    if not error_info.get("ErrorString"):
        return None
    return (
        f"{details.get('Operation', 'Operation')} {operation_id} {details.get('OperationStatus', 'FAILED')}: "
        f"{error_info['ErrorString']}"
    )


def _where_to_look(detail: dict[str, Any], *, operation_id: str | None) -> str:
    name = detail.get("ApplicationName", "?")
    streams = [o.get("LogStreamARN") for o in detail.get("CloudWatchLoggingOptionDescriptions", [])]
    logs = ", ".join(s for s in streams if s) or "none configured"
    operation = (
        f"aws kinesisanalyticsv2 describe-application-operation --application-name {name} --operation-id {operation_id}"
        if operation_id
        else f"aws kinesisanalyticsv2 list-application-operations --application-name {name}"
    )
    return (
        "DescribeApplication carries no failure reason: see the application's CloudWatch log stream "
        f"({logs}) and `{operation}` (OperationFailureDetails.ErrorInfo)."
    )
