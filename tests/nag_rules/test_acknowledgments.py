"""Acknowledging findings where they are made, and the stale check, on small apps run through cdk-nag."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from cdk_nag import AwsSolutionsChecks

from nag_rules.acknowledgments import (
    StaleAcknowledgmentError,
    acknowledge,
    acknowledge_wildcard_resources,
    check_acknowledgments,
    flatten_cfn_reference,
    qualified_id,
    recorded_acknowledgments,
    stale_acknowledgments,
    used_acknowledgments,
)

ENV = cdk.Environment(account="111111111111", region="eu-west-1")


def _policy_app(tmp_path: Path) -> tuple[cdk.App, cdk.Stack, iam.ManagedPolicy, str, str]:
    """A policy with two wildcards: a literal ARN and a token (``<ARN attribute>:*``, as grantInvoke writes it)."""
    app = cdk.App(outdir=str(tmp_path), builtin_cloud_formation_validation=False)
    stack = cdk.Stack(app, "Test", env=ENV)
    thing = cdk.CfnResource(stack, "Thing", type="Custom::Thing", properties={"ServiceToken": "arn:aws:sns:x"})
    objects = "arn:aws:s3:::bucket/prefix/*"
    versions = f"{cdk.Token.as_string(thing.get_att('Arn'))}:*"
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("glue.amazonaws.com"))
    policy = iam.ManagedPolicy(
        stack,
        "Policy",
        roles=[role],
        statements=[
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[objects]),
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[versions]),
        ],
    )
    return app, stack, policy, objects, versions


def _synth(app: cdk.App) -> str | None:
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    try:
        app.synth()
    except RuntimeError as error:
        return str(error)
    return None


def _violations(outdir: Path) -> list[str]:
    report = json.loads((outdir / "validation-report.json").read_text())
    return [
        f"{violation['ruleName']} on {construct['constructPath']}"
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    ]


def test_flatten_matches_cdk_nag_for_joins_attributes_and_refs() -> None:
    joined = {"Fn::Join": ["", [{"Fn::GetAtt": ["Fn9270CBC0", "Arn"]}, ":*"]]}
    assert flatten_cfn_reference(joined) == "<Fn9270CBC0.Arn>:*"
    assert flatten_cfn_reference({"Ref": "AWS::Partition"}) == "<AWS::Partition>"
    assert flatten_cfn_reference({"Fn::Sub": "arn:${AWS::Partition}:s3:::b/*"}) == "arn:<AWS::Partition>:s3:::b/*"
    assert flatten_cfn_reference("*") == "*"


def test_qualified_id_names_the_pack_and_refuses_unknown_rules() -> None:
    assert qualified_id("AwsSolutions-IAM5[Resource::*]") == "AwsSolutions::AwsSolutions-IAM5[Resource::*]"
    assert qualified_id("NIST.800.53.R5-LambdaDLQ") == "NIST.800.53.R5::NIST.800.53.R5-LambdaDLQ"
    with pytest.raises(ValueError, match="not a rule of the packs"):
        qualified_id("Serverless-LambdaTracing")


def test_a_reason_is_required() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    with pytest.raises(ValueError, match="needs a reason"):
        acknowledge(stack, "AwsSolutions-IAM4", reason=" ")


def test_a_resource_without_wildcard_cannot_be_acknowledged() -> None:
    stack = cdk.Stack(cdk.App(), "Test", env=ENV)
    with pytest.raises(ValueError, match="no wildcard"):
        acknowledge_wildcard_resources(stack, ["arn:aws:s3:::bucket"], reason="r")


def test_wildcards_acknowledged_from_their_arns_suppress_exactly_those_findings(tmp_path: Path) -> None:
    app, _, policy, objects, versions = _policy_app(tmp_path)
    acknowledge_wildcard_resources(policy, [objects, versions], reason="both are imposed")
    assert _synth(app) is None
    assert stale_acknowledgments(tmp_path) == []
    used = used_acknowledgments(tmp_path)
    assert {rule for rule, _ in used} == {
        "AwsSolutions::AwsSolutions-IAM5[Resource::arn:aws:s3:::bucket/prefix/*]",
        "AwsSolutions::AwsSolutions-IAM5[Resource::<Thing.Arn>:*]",
    }
    assert {path for _, path in used} == {"Test/Policy"}
    check_acknowledgments(tmp_path)


def test_an_unacknowledged_wildcard_still_fails_the_synth(tmp_path: Path) -> None:
    app, _, policy, objects, _ = _policy_app(tmp_path)
    acknowledge_wildcard_resources(policy, [objects], reason="only this one")
    error = _synth(app)
    assert error is not None
    assert "ValidationFailed" in error
    assert _violations(tmp_path) == ["AwsSolutions-IAM5[Resource::<Thing.Arn>:*] on Test/Policy/Resource"]


def test_an_acknowledgment_that_suppresses_nothing_is_stale(tmp_path: Path) -> None:
    app, stack, policy, objects, versions = _policy_app(tmp_path)
    acknowledge_wildcard_resources(policy, [objects, versions], reason="both are imposed")
    acknowledge_wildcard_resources(policy, ["arn:aws:s3:::bucket/other/*"], reason="no such grant")
    acknowledge(stack, "AwsSolutions-S1", reason="no bucket in this stack")
    assert _synth(app) is None
    assert ("AwsSolutions::AwsSolutions-S1", "Test") in recorded_acknowledgments(tmp_path)
    assert stale_acknowledgments(tmp_path) == [
        ("AwsSolutions::AwsSolutions-S1", "Test"),
        ("AwsSolutions::AwsSolutions-IAM5[Resource::arn:aws:s3:::bucket/other/*]", "Test/Policy"),
    ]
    with pytest.raises(StaleAcknowledgmentError, match=r"2 nag acknowledgment\(s\) suppress no finding"):
        check_acknowledgments(tmp_path)
