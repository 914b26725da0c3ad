"""ApplicationStarter: its Lambda handlers against a stubbed kinesisanalyticsv2 client, and its template.

moto implements neither StartApplication nor StopApplication for kinesisanalyticsv2, so the handlers run
against a real boto3 client with botocore's Stubber: every expected call is queued with its exact
parameters, an unexpected call raises, and ``assert_no_pending_responses`` fails a test whose expected
call was not made.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import aws_cdk as cdk
import boto3
import pytest
from aws_cdk import assertions
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from cdk_constructs.application_starter import ApplicationStarter
from cdk_constructs.application_starter.construct import HANDLER_ACTIONS, RUNTIME_DIR

NAME = "unilake-dev-pipeline"
ARN = f"arn:aws:kinesisanalytics:us-east-1:111111111111:application/{NAME}"
LOG_STREAM = "arn:aws:logs:us-east-1:111111111111:log-group:/unilake/flink:log-stream:job"


def _load_handler() -> ModuleType:
    """Import runtime/handler.py the way Lambda does: as a top-level module from the asset root."""
    spec = importlib.util.spec_from_file_location("application_starter_handler", RUNTIME_DIR / "handler.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


handler = _load_handler()


@pytest.fixture
def client() -> Any:
    return boto3.client(
        "kinesisanalyticsv2",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def stub(client: Any) -> Iterator[Stubber]:
    with Stubber(client) as stubber:
        yield stubber


def _event(request_type: str, **props: Any) -> dict[str, Any]:
    # As CloudFormation sends them: every property value is a string.
    properties = {"ApplicationName": NAME, "AllowNonRestoredState": "false", "UpdateToken": "t1", **props}
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ResourceProperties": properties,
        "LogicalResourceId": "Starter",
        "RequestId": "req-1",
    }
    if request_type != "Create":
        event["PhysicalResourceId"] = NAME
    return event


def _detail(status: str) -> dict[str, Any]:
    return {
        "ApplicationDetail": {
            "ApplicationARN": ARN,
            "ApplicationName": NAME,
            "RuntimeEnvironment": "FLINK-1_20",
            "ApplicationStatus": status,
            "ApplicationVersionId": 7,
            "LastUpdateTimestamp": datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
            "CloudWatchLoggingOptionDescriptions": [{"LogStreamARN": LOG_STREAM}],
        }
    }


def _describe(stub: Stubber, status: str) -> None:
    stub.add_response("describe_application", _detail(status), {"ApplicationName": NAME})


def _not_found(stub: Stubber, method: str = "describe_application") -> None:
    stub.add_client_error(method, "ResourceNotFoundException", "Application not found", 400)


def _start_params(restore_type: str, allow_non_restored_state: bool = False) -> dict[str, Any]:
    return {
        "ApplicationName": NAME,
        "RunConfiguration": {
            "ApplicationRestoreConfiguration": {"ApplicationRestoreType": restore_type},
            "FlinkRunConfiguration": {"AllowNonRestoredState": allow_non_restored_state},
        },
    }


def _no_failed_operations(stub: Stubber) -> None:
    stub.add_response(
        "list_application_operations",
        {"ApplicationOperationInfoList": []},
        {"ApplicationName": NAME, "OperationStatus": "FAILED", "Limit": 50},
    )


def _failed_operation(stub: Stubber, operation: str, operation_id: str, error: str) -> None:
    stub.add_response(
        "describe_application_operation",
        {
            "ApplicationOperationInfoDetails": {
                "Operation": operation,
                "StartTime": datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
                "EndTime": datetime(2026, 11, 25, 10, 3, tzinfo=UTC),
                "OperationStatus": "FAILED",
                "OperationFailureDetails": {"ErrorInfo": {"ErrorString": error}},
            }
        },
        {"ApplicationName": NAME, "OperationId": operation_id},
    )


STOP_PARAMS = {"ApplicationName": NAME, "Force": False}
IN_PROGRESS = ["STARTING", "UPDATING", "AUTOSCALING", "MAINTENANCE"]
NOT_GOING_TO_RUN = ["READY", "STOPPING", "FORCE_STOPPING", "DELETING", "ROLLING_BACK", "ROLLED_BACK"]


# --------------------------------------------------------------------------------------------------
# Create and Update
# --------------------------------------------------------------------------------------------------


def test_create_starts_a_ready_application_restoring_the_latest_snapshot(client: Any, stub: Stubber) -> None:
    _describe(stub, "READY")
    stub.add_response("start_application", {"OperationId": "op-1"}, _start_params("RESTORE_FROM_LATEST_SNAPSHOT"))

    response = handler.on_event(_event("Create"), None, client)

    stub.assert_no_pending_responses()
    assert response == {
        "PhysicalResourceId": NAME,
        "StartRequested": True,
        "OperationId": "op-1",
        "RestoreType": "RESTORE_FROM_LATEST_SNAPSHOT",
    }


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("false", False), ("True", True), (True, True)])
def test_allow_non_restored_state_reaches_start_application(
    client: Any, stub: Stubber, value: object, expected: bool
) -> None:
    _describe(stub, "READY")
    stub.add_response(
        "start_application", {"OperationId": "op-1"}, _start_params("RESTORE_FROM_LATEST_SNAPSHOT", expected)
    )

    handler.on_event(_event("Create", AllowNonRestoredState=value), None, client)

    stub.assert_no_pending_responses()


def test_a_property_that_is_not_a_boolean_is_refused(client: Any, stub: Stubber) -> None:
    with pytest.raises(ValueError, match="expected a boolean"):
        handler.on_event(_event("Create", AllowNonRestoredState="yes"), None, client)


def test_update_while_stopped_starts_the_application(client: Any, stub: Stubber) -> None:
    _describe(stub, "READY")
    stub.add_response("start_application", {"OperationId": "op-2"}, _start_params("RESTORE_FROM_LATEST_SNAPSHOT"))

    response = handler.on_event(_event("Update"), None, client)

    stub.assert_no_pending_responses()
    assert response["StartRequested"] is True
    assert response["PhysicalResourceId"] == NAME


@pytest.mark.parametrize("status", ["RUNNING", *IN_PROGRESS])
def test_update_while_running_or_on_its_way_does_not_start_it(client: Any, stub: Stubber, status: str) -> None:
    _describe(stub, status)  # and nothing else: a start_application call would raise UnStubbedResponseError

    response = handler.on_event(_event("Update"), None, client)

    stub.assert_no_pending_responses()
    assert response == {"PhysicalResourceId": NAME, "StartRequested": False}


def test_create_of_a_missing_application_fails(client: Any, stub: Stubber) -> None:
    _not_found(stub)

    with pytest.raises(handler.ApplicationFailedError, match="does not exist"):
        handler.on_event(_event("Create"), None, client)
    stub.assert_no_pending_responses()


@pytest.mark.parametrize("status", ["STOPPING", "FORCE_STOPPING", "DELETING", "ROLLING_BACK"])
def test_create_while_the_application_is_going_down_fails_with_its_status(
    client: Any, stub: Stubber, status: str
) -> None:
    _describe(stub, status)
    _no_failed_operations(stub)

    with pytest.raises(handler.ApplicationFailedError, match=f"is {status}, not RUNNING"):
        handler.on_event(_event("Create"), None, client)
    stub.assert_no_pending_responses()


def test_a_rejected_latest_snapshot_restore_without_snapshots_starts_without_state(client: Any, stub: Stubber) -> None:
    _describe(stub, "READY")
    stub.add_client_error(
        "start_application",
        "InvalidArgumentException",
        "no snapshot",
        400,
        expected_params=_start_params("RESTORE_FROM_LATEST_SNAPSHOT"),
    )
    # Two pages, neither with a usable snapshot: a FAILED one does not count.
    stub.add_response(
        "list_application_snapshots",
        {
            "SnapshotSummaries": [
                {"SnapshotName": "s1", "SnapshotStatus": "FAILED", "ApplicationVersionId": 6},
            ],
            "NextToken": "page-2",
        },
        {"ApplicationName": NAME, "Limit": 50},
    )
    stub.add_response(
        "list_application_snapshots",
        {"SnapshotSummaries": []},
        {"ApplicationName": NAME, "Limit": 50, "NextToken": "page-2"},
    )
    stub.add_response("start_application", {"OperationId": "op-3"}, _start_params("SKIP_RESTORE_FROM_SNAPSHOT"))

    response = handler.on_event(_event("Create"), None, client)

    stub.assert_no_pending_responses()
    assert response["RestoreType"] == "SKIP_RESTORE_FROM_SNAPSHOT"
    assert response["OperationId"] == "op-3"


def test_a_rejected_latest_snapshot_restore_with_a_snapshot_is_not_retried_without_state(
    client: Any, stub: Stubber
) -> None:
    _describe(stub, "READY")
    stub.add_client_error("start_application", "InvalidArgumentException", "bad state", 400)
    stub.add_response(
        "list_application_snapshots",
        {"SnapshotSummaries": [{"SnapshotName": "s1", "SnapshotStatus": "READY", "ApplicationVersionId": 6}]},
        {"ApplicationName": NAME, "Limit": 50},
    )

    with pytest.raises(ClientError, match="bad state"):
        handler.on_event(_event("Create"), None, client)
    stub.assert_no_pending_responses()


def test_a_rejected_latest_snapshot_restore_in_enhanced_snapshot_mode_is_not_retried(
    client: Any, stub: Stubber
) -> None:
    # Enhanced snapshots are not listed by ListApplicationSnapshots: no evidence of "no state", no fallback.
    response = _detail("READY")
    response["ApplicationDetail"]["ApplicationConfigurationDescription"] = {
        "ApplicationSnapshotConfigurationDescription": {"SnapshotsEnabled": True, "SnapshotMode": "ENHANCED_SNAPSHOTS"}
    }
    stub.add_response("describe_application", response, {"ApplicationName": NAME})
    stub.add_client_error("start_application", "InvalidArgumentException", "no snapshot", 400)

    with pytest.raises(ClientError, match="no snapshot"):
        handler.on_event(_event("Create"), None, client)
    stub.assert_no_pending_responses()


def test_other_start_errors_are_raised_without_a_fallback(client: Any, stub: Stubber) -> None:
    _describe(stub, "READY")
    stub.add_client_error("start_application", "ResourceInUseException", "busy", 400)

    with pytest.raises(ClientError, match="busy"):
        handler.on_event(_event("Create"), None, client)
    stub.assert_no_pending_responses()


# --------------------------------------------------------------------------------------------------
# is_complete after Create / Update
# --------------------------------------------------------------------------------------------------


def _after_start(request_type: str = "Create") -> dict[str, Any]:
    # What the Provider framework passes to is_complete: the request plus on_event's response.
    return {**_event(request_type), "PhysicalResourceId": NAME, "StartRequested": True, "OperationId": "op-1"}


def _operation(stub: Stubber, operation_id: str, status: str, error: str | None = None) -> None:
    details: dict[str, Any] = {
        "Operation": "StartApplication",
        "StartTime": datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
        "EndTime": datetime(2026, 11, 25, 10, 3, tzinfo=UTC),  # a required member of the response
        "OperationStatus": status,
    }
    if error is not None:
        details["OperationFailureDetails"] = {"ErrorInfo": {"ErrorString": error}}
    stub.add_response(
        "describe_application_operation",
        {"ApplicationOperationInfoDetails": details},
        {"ApplicationName": NAME, "OperationId": operation_id},
    )


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_is_complete_when_running_and_our_start_operation_succeeded(
    client: Any, stub: Stubber, request_type: str
) -> None:
    _describe(stub, "RUNNING")
    _operation(stub, "op-1", "SUCCESSFUL")

    assert handler.is_complete(_after_start(request_type), None, client) == {"IsComplete": True}
    stub.assert_no_pending_responses()


def test_running_is_not_started_while_the_start_operation_is_in_progress(client: Any, stub: Stubber) -> None:
    _describe(stub, "RUNNING")
    _operation(stub, "op-1", "IN_PROGRESS")

    assert handler.is_complete(_after_start(), None, client) == {"IsComplete": False}
    stub.assert_no_pending_responses()


@pytest.mark.parametrize("status", ["FAILED", "CANCELLED"])
def test_running_with_a_failed_start_operation_fails_the_deployment(client: Any, stub: Stubber, status: str) -> None:
    """Managed Flink can show RUNNING while the Python job failed to start: the operation says so."""
    _describe(stub, "RUNNING")
    _operation(stub, "op-1", status, "Run python process failed")

    with pytest.raises(handler.ApplicationFailedError) as failure:
        handler.is_complete(_after_start(), None, client)

    stub.assert_no_pending_responses()
    assert f"{NAME} is RUNNING but its StartApplication op-1 is {status}: Run python process failed" in str(
        failure.value
    )


def test_without_a_start_of_ours_the_latest_operation_must_have_succeeded(client: Any, stub: Stubber) -> None:
    _describe(stub, "RUNNING")
    stub.add_response(
        "list_application_operations",
        {
            "ApplicationOperationInfoList": [
                {
                    "OperationId": "op-old",
                    "OperationStatus": "SUCCESSFUL",
                    "StartTime": datetime(2026, 11, 1, tzinfo=UTC),
                },
                {
                    "OperationId": "op-new",
                    "OperationStatus": "IN_PROGRESS",
                    "StartTime": datetime(2026, 11, 25, tzinfo=UTC),
                },
            ]
        },
        {"ApplicationName": NAME, "Limit": 50},
    )
    _operation(stub, "op-new", "IN_PROGRESS")
    event = {**_event("Update"), "StartRequested": False}

    assert handler.is_complete(event, None, client) == {"IsComplete": False}
    stub.assert_no_pending_responses()


def test_without_any_operation_running_is_started(client: Any, stub: Stubber) -> None:
    _describe(stub, "RUNNING")
    stub.add_response(
        "list_application_operations", {"ApplicationOperationInfoList": []}, {"ApplicationName": NAME, "Limit": 50}
    )
    event = {**_event("Update"), "StartRequested": False}

    assert handler.is_complete(event, None, client) == {"IsComplete": True}
    stub.assert_no_pending_responses()


@pytest.mark.parametrize("status", IN_PROGRESS)
def test_is_not_complete_while_starting_or_updating(client: Any, stub: Stubber, status: str) -> None:
    _describe(stub, status)

    assert handler.is_complete(_after_start(), None, client) == {"IsComplete": False}
    stub.assert_no_pending_responses()


@pytest.mark.parametrize("status", NOT_GOING_TO_RUN)
def test_a_failed_start_fails_the_deployment_with_what_the_service_says(
    client: Any, stub: Stubber, status: str
) -> None:
    _describe(stub, status)
    _failed_operation(stub, "StartApplication", "op-1", "java.lang.ClassNotFoundException: IcebergCatalogFactory")

    with pytest.raises(handler.ApplicationFailedError) as failure:
        handler.is_complete(_after_start(), None, client)

    stub.assert_no_pending_responses()
    message = str(failure.value)
    assert f"{NAME} is {status}, not RUNNING" in message
    assert "StartApplication op-1 FAILED: java.lang.ClassNotFoundException: IcebergCatalogFactory" in message
    assert "version 7" in message
    assert LOG_STREAM in message
    assert f"describe-application-operation --application-name {NAME} --operation-id op-1" in message


def test_a_failure_without_a_start_of_ours_points_at_the_operation_list(client: Any, stub: Stubber) -> None:
    _describe(stub, "READY")
    _no_failed_operations(stub)
    event = {**_event("Update"), "StartRequested": False}

    with pytest.raises(handler.ApplicationFailedError, match=f"list-application-operations --application-name {NAME}"):
        handler.is_complete(event, None, client)
    stub.assert_no_pending_responses()


def test_a_failed_update_of_cloudformation_s_reports_the_latest_failed_operation(client: Any, stub: Stubber) -> None:
    _describe(stub, "READY")
    stub.add_response(
        "list_application_operations",
        {
            "ApplicationOperationInfoList": [
                {
                    "Operation": "StartApplication",
                    "OperationId": "op-old",
                    "OperationStatus": "FAILED",
                    "StartTime": datetime(2026, 11, 1, tzinfo=UTC),
                },
                {
                    "Operation": "UpdateApplication",
                    "OperationId": "op-new",
                    "OperationStatus": "FAILED",
                    "StartTime": datetime(2026, 11, 25, tzinfo=UTC),
                },
            ]
        },
        {"ApplicationName": NAME, "OperationStatus": "FAILED", "Limit": 50},
    )
    _failed_operation(stub, "UpdateApplication", "op-new", "Snapshot is not compatible with the new job graph")
    event = {**_event("Update"), "StartRequested": False}

    with pytest.raises(
        handler.ApplicationFailedError,
        match="UpdateApplication op-new FAILED: Snapshot is not compatible with the new job graph",
    ):
        handler.is_complete(event, None, client)
    stub.assert_no_pending_responses()


def test_a_failure_whose_operation_cannot_be_read_still_fails_with_the_status(client: Any, stub: Stubber) -> None:
    _describe(stub, "READY")
    stub.add_client_error("describe_application_operation", "AccessDeniedException", "not allowed", 400)

    with pytest.raises(handler.ApplicationFailedError, match=f"{NAME} is READY, not RUNNING"):
        handler.is_complete(_after_start(), None, client)
    stub.assert_no_pending_responses()


def test_is_complete_fails_when_the_application_is_gone(client: Any, stub: Stubber) -> None:
    _not_found(stub)

    with pytest.raises(handler.ApplicationFailedError, match="does not exist"):
        handler.is_complete(_after_start(), None, client)
    stub.assert_no_pending_responses()


# --------------------------------------------------------------------------------------------------
# Delete
# --------------------------------------------------------------------------------------------------


def test_delete_stops_a_running_application_gracefully_then_waits_for_ready(client: Any, stub: Stubber) -> None:
    _describe(stub, "RUNNING")
    stub.add_response("stop_application", {"OperationId": "op-stop"}, STOP_PARAMS)

    response = handler.on_event(_event("Delete"), None, client)

    assert response == {"PhysicalResourceId": NAME, "StopRequested": True}
    event = {**_event("Delete"), **response}
    _describe(stub, "STOPPING")
    assert handler.is_complete(event, None, client) == {"IsComplete": False}
    _describe(stub, "READY")
    assert handler.is_complete(event, None, client) == {"IsComplete": True}
    stub.assert_no_pending_responses()


def test_delete_of_a_missing_application_succeeds(client: Any, stub: Stubber) -> None:
    _not_found(stub)
    response = handler.on_event(_event("Delete"), None, client)
    _not_found(stub)

    assert handler.is_complete({**_event("Delete"), **response}, None, client) == {"IsComplete": True}
    assert response == {"PhysicalResourceId": NAME, "StopRequested": False}
    stub.assert_no_pending_responses()


@pytest.mark.parametrize("status", ["READY", "DELETING"])
def test_delete_of_a_stopped_or_deleting_application_succeeds_without_a_stop(
    client: Any, stub: Stubber, status: str
) -> None:
    _describe(stub, status)
    response = handler.on_event(_event("Delete"), None, client)
    _describe(stub, status)

    assert handler.is_complete({**_event("Delete"), **response}, None, client) == {"IsComplete": True}
    stub.assert_no_pending_responses()


def test_delete_while_starting_stops_it_once_it_runs(client: Any, stub: Stubber) -> None:
    # A graceful stop is accepted only in RUNNING: on_event leaves a STARTING application alone.
    _describe(stub, "STARTING")
    response = handler.on_event(_event("Delete"), None, client)
    assert response["StopRequested"] is False
    event = {**_event("Delete"), **response}

    _describe(stub, "STARTING")
    assert handler.is_complete(event, None, client) == {"IsComplete": False}
    _describe(stub, "RUNNING")
    stub.add_response("stop_application", {"OperationId": "op-stop"}, STOP_PARAMS)
    assert handler.is_complete(event, None, client) == {"IsComplete": False}
    stub.assert_no_pending_responses()


def test_a_graceful_stop_that_ends_running_again_fails(client: Any, stub: Stubber) -> None:
    _describe(stub, "RUNNING")

    with pytest.raises(handler.ApplicationFailedError, match="RUNNING again after a graceful StopApplication"):
        handler.is_complete({**_event("Delete"), "StopRequested": True}, None, client)
    stub.assert_no_pending_responses()


def test_delete_with_stop_on_delete_off_leaves_the_application_alone(client: Any, stub: Stubber) -> None:
    event = _event("Delete", StopOnDelete="false")

    response = handler.on_event(event, None, client)  # no call is stubbed: any call would raise

    assert response == {"PhysicalResourceId": NAME, "StopRequested": False}
    assert handler.is_complete({**event, **response}, None, client) == {"IsComplete": True}
    stub.assert_no_pending_responses()


def test_an_unknown_request_type_is_refused(client: Any) -> None:
    with pytest.raises(ValueError, match="unknown RequestType"):
        handler.on_event(_event("Replace"), None, client)


def test_the_handler_imports_without_aws_cdk() -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import handler; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('aws_cdk', 'constructs', 'jsii')); "
        "sys.exit(f'imported {bad}' if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code, str(RUNTIME_DIR)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------------------------------
# The construct
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def starter_template() -> tuple[ApplicationStarter, assertions.Template]:
    # A dedicated small App: the construct is not wired into a stack yet.
    app = cdk.App()
    stack = cdk.Stack(app, "StarterTest", env=cdk.Environment(account="111111111111", region="us-east-1"))
    starter = ApplicationStarter(
        stack,
        "Starter",
        application_name=NAME,
        application_arn=ARN,
        allow_non_restored_state=True,
        update_token="token-1",
    )
    return starter, assertions.Template.from_stack(stack)


def test_the_handler_policy_allows_exactly_its_actions_on_the_application_and_its_own_logs(
    starter_template: tuple[ApplicationStarter, assertions.Template],
) -> None:
    starter, template = starter_template
    role_id = cdk.Stack.of(starter).get_logical_id(starter.handler_role.node.default_child)  # type: ignore[arg-type]
    attached = [
        policy["Properties"]["PolicyDocument"]["Statement"]
        for kind in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy")
        for policy in template.find_resources(kind).values()
        if {"Ref": role_id} in policy["Properties"].get("Roles", [])
    ]
    assert len(attached) == 1, "the handler role has exactly one policy"
    statements = attached[0]
    flink = [s for s in statements if any(str(a).startswith("kinesisanalytics:") for a in _as_list(s["Action"]))]
    assert flink == [{"Action": list(HANDLER_ACTIONS), "Effect": "Allow", "Resource": ARN}]
    log_group_ids = {
        cdk.Stack.of(starter).get_logical_id(group.node.default_child)  # type: ignore[arg-type]
        for group in (starter.on_event_log_group, starter.is_complete_log_group)
    }
    logs = [s for s in statements if s not in flink]
    assert all(s["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"] and s["Effect"] == "Allow" for s in logs)
    assert sorted(s["Resource"]["Fn::GetAtt"][0] for s in logs) == sorted(log_group_ids)
    assert all(s["Resource"]["Fn::GetAtt"][1] == "Arn" for s in logs)
    assert "*" not in json.dumps(statements)
    roles = template.find_resources("AWS::IAM::Role")
    assert all("ManagedPolicyArns" not in role["Properties"] for role in roles.values()), "no AWS managed policy"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_the_custom_resource_carries_the_application_and_its_trigger(
    starter_template: tuple[ApplicationStarter, assertions.Template],
) -> None:
    _, template = starter_template
    template.resource_count_is("Custom::FlinkApplicationStarter", 1)
    template.has_resource_properties(
        "Custom::FlinkApplicationStarter",
        {
            "ServiceToken": assertions.Match.any_value(),
            "ServiceTimeout": "2100",  # 30 min + 5 min margin, under CloudFormation's hour
            "ApplicationName": NAME,
            "AllowNonRestoredState": True,
            "StopOnDelete": True,
            "UpdateToken": "token-1",
        },
    )


def test_the_handlers_are_python_functions_polled_every_30_seconds_for_30_minutes(
    starter_template: tuple[ApplicationStarter, assertions.Template],
) -> None:
    _, template = starter_template
    for entry in ("handler.on_event", "handler.is_complete"):
        template.has_resource_properties(
            "AWS::Lambda::Function",
            {"Handler": entry, "Runtime": "python3.14", "LoggingConfig": {"LogGroup": assertions.Match.any_value()}},
        )
    (machine,) = template.find_resources("AWS::StepFunctions::StateMachine").values()
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    definition = "".join(p for p in parts if isinstance(p, str))
    assert '"IntervalSeconds":30' in definition
    assert '"MaxAttempts":60' in definition
    template.all_resources_properties("AWS::Logs::LogGroup", {"RetentionInDays": 365})


def test_every_created_resource_is_a_public_attribute(
    starter_template: tuple[ApplicationStarter, assertions.Template],
) -> None:
    starter, _ = starter_template
    for attribute in (
        "handler_role",
        "handler_policy",
        "on_event_log_group",
        "is_complete_log_group",
        "on_event_function",
        "is_complete_function",
        "framework_log_group",
        "framework_on_event_role",
        "framework_complete_and_timeout_role",
        "provider",
        "resource",
    ):
        assert getattr(starter, attribute).node.scope is starter, attribute


def test_a_timeout_cloudformation_would_cut_short_is_refused() -> None:
    stack = cdk.Stack(cdk.App(), "TooLong")
    with pytest.raises(ValueError, match="at most 55 minutes"):
        ApplicationStarter(
            stack,
            "Starter",
            application_name=NAME,
            application_arn=ARN,
            allow_non_restored_state=False,
            update_token="t",
            timeout=cdk.Duration.minutes(90),
        )
