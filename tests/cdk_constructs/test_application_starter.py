"""ApplicationStarter (the construct; its handlers are tested in test_application_starter_handler.py): the custom
resource, its handlers' scoped role, and the Provider framework findings it acknowledges on its own resources."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from cdk_constructs.application_starter import ApplicationStarter
from cdk_constructs.application_starter.construct import HANDLER_ACTIONS, RESOURCE_TYPE
from tests.cdk_constructs.construct_support import new_stack, resources

APP_ARN = "arn:aws:kinesisanalytics:eu-west-1:111111111111:application/app"


@pytest.fixture(scope="module")
def built() -> tuple[ApplicationStarter, dict[str, dict[str, Any]]]:
    stack = new_stack()
    starter = ApplicationStarter(
        stack, "Starter", application_name="app", application_arn=APP_ARN, allow_non_restored_state=False,
        update_token="t1",
    )  # fmt: skip
    return starter, resources(stack)


def acknowledged(construct: Any) -> set[str]:
    return {
        rule
        for entry in construct.node.metadata
        if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for rule in entry.data
    }


def test_the_custom_resource_carries_the_application_and_the_token(
    built: tuple[ApplicationStarter, dict[str, dict[str, Any]]],
) -> None:
    _, template = built
    (resource,) = [r for r in template.values() if r["Type"] == RESOURCE_TYPE]
    assert resource["Properties"]["ApplicationName"] == "app"
    assert resource["Properties"]["UpdateToken"] == "t1"
    assert resource["Properties"]["StopOnDelete"] is True


def test_the_handlers_may_operate_this_one_application(
    built: tuple[ApplicationStarter, dict[str, dict[str, Any]]],
) -> None:
    _, template = built
    (policy,) = [
        r
        for k, r in template.items()
        if r["Type"] == "AWS::IAM::ManagedPolicy" and k.startswith("StarterHandlerPolicy")
    ]
    (flink,) = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Resource"] == APP_ARN]
    assert sorted(flink["Action"]) == sorted(HANDLER_ACTIONS)


def test_every_function_acknowledges_the_lambda_findings_of_a_deploy_time_handler(
    built: tuple[ApplicationStarter, dict[str, dict[str, Any]]],
) -> None:
    starter, _ = built
    functions = [c for c in starter.node.find_all() if isinstance(c, lambda_.CfnFunction)]
    assert len(functions) == 5  # two handlers, three Provider framework functions
    for function in functions:
        assert {rule.split("::")[1].split("-", 1)[1] for rule in acknowledged(function)} == {
            "LambdaConcurrency",
            "LambdaDLQ",
            "LambdaInsideVPC",
        }


def test_inline_policies_acknowledge_only_their_own_functions_versions(
    built: tuple[ApplicationStarter, dict[str, dict[str, Any]]],
) -> None:
    starter, template = built
    policies = [c for c in starter.node.find_all() if isinstance(c, iam.CfnPolicy)]
    assert len(policies) == 3
    functions = {k for k, r in template.items() if r["Type"] == "AWS::Lambda::Function"}
    for policy in policies:
        versions = {rule for rule in acknowledged(policy) if "IAM5" in rule}
        assert versions, policy.node.path
        for rule in versions:
            logical_id = rule.split("[Resource::<", 1)[1].split(".Arn>:*]", 1)[0]
            assert logical_id in functions
