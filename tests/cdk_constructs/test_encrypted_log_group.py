"""encrypted_log_group: a named log group with a key of its own that CloudWatch Logs may use for it only;
retention: the config's retention periods as CDK's enum, checked value by value against what CDK writes."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template

from cdk_constructs.encrypted_log_group import encrypted_log_group, retention
from cdk_constructs.log_group_key import LOGS_STATEMENT_SID
from unilake_config.environment import LOG_RETENTION_DAYS

ENV = cdk.Environment(account="111111111111", region="eu-west-1")
# The app's own flags (cdk.json), among them enablePartitionLiterals: ARNs read "arn:aws:...".
CONTEXT = {"@aws-cdk/core:enablePartitionLiterals": True}


def test_every_retention_period_the_config_admits_is_written_as_that_many_days() -> None:
    stack = cdk.Stack(cdk.App(), "Test", env=ENV)
    for days in LOG_RETENTION_DAYS:
        group = logs.LogGroup(stack, f"Group{days}", retention=retention(days))
        resource = group.node.default_child
        assert isinstance(resource, logs.CfnLogGroup)
        assert stack.resolve(resource.retention_in_days) == days
    # Every finite period CDK knows is admitted, and nothing else.
    assert {member.name for member in logs.RetentionDays} - set(LOG_RETENTION_DAYS.values()) == {"INFINITE"}


def test_a_period_cloudwatch_logs_does_not_accept_is_refused() -> None:
    with pytest.raises(ValueError, match="10 is not a CloudWatch Logs retention period"):
        retention(10)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    stack = cdk.Stack(cdk.App(context=CONTEXT), "Test", env=ENV)
    made = encrypted_log_group(
        stack,
        "Audit",
        log_group_name="/unilake/test/audit",
        retention_days=30,
        key_description="Encrypts the audit log group",
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    assert made.arn == "arn:aws:logs:eu-west-1:111111111111:log-group:/unilake/test/audit"
    resources: dict[str, Any] = Template.from_stack(stack).to_json()["Resources"]
    return resources


def test_the_key_and_the_group_keep_the_callers_ids(template: dict[str, Any]) -> None:
    """``<prefix>Key`` and ``<prefix>Group`` in the caller's scope: deployed logical ids do not move."""
    by_type = {resource["Type"]: logical_id for logical_id, resource in template.items()}
    assert by_type["AWS::KMS::Key"].startswith("AuditKey")
    assert by_type["AWS::Logs::LogGroup"].startswith("AuditGroup")


def test_the_group_is_encrypted_retained_and_kept_its_retention(template: dict[str, Any]) -> None:
    (group,) = [r for r in template.values() if r["Type"] == "AWS::Logs::LogGroup"]
    (key_id,) = [k for k, r in template.items() if r["Type"] == "AWS::KMS::Key"]
    assert group["Properties"] == {
        "LogGroupName": "/unilake/test/audit",
        "RetentionInDays": 30,
        "KmsKeyId": {"Fn::GetAtt": [key_id, "Arn"]},
    }
    assert group["DeletionPolicy"] == "Retain"


def test_only_cloudwatch_logs_for_this_log_group_may_use_the_key(template: dict[str, Any]) -> None:
    (key,) = [r for r in template.values() if r["Type"] == "AWS::KMS::Key"]
    assert key["Properties"]["EnableKeyRotation"] is True
    (statement,) = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == LOGS_STATEMENT_SID]
    assert statement["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert statement["Condition"] == {
        "ArnEquals": {
            "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-1:111111111111:log-group:/unilake/test/audit"
        }
    }
