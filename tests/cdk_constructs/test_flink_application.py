"""FlinkApplication: the application, its role scoped to what Managed Flink needs, its encrypted logs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3_assets as s3_assets

from cdk_constructs.flink_application import FlinkApplication
from tests.cdk_constructs.construct_support import new_stack, resources
from unilake_config import flink_metrics


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[FlinkApplication, dict[str, dict[str, Any]]]:
    code_dir = tmp_path_factory.mktemp("code")
    (code_dir / "main.py").write_text("# job\n")
    stack = new_stack()
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[ec2.SubnetConfiguration(name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
    )
    app = FlinkApplication(
        stack,
        "Job",
        application_name="app",
        runtime="FLINK-1_20",
        code=s3_assets.Asset(stack, "Code", path=str(Path(code_dir))),
        property_groups=[{"PropertyGroupId": "g", "PropertyMap": {"k": "v"}}],
        vpc=vpc,
        subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        checkpoint_interval=cdk.Duration.seconds(30),
        min_pause_between_checkpoints=cdk.Duration.seconds(5),
        log_retention_days=14,
        encryption_key=kms.Key(stack, "LakeKey"),
    )
    return app, resources(stack)


def test_the_application_checkpoints_in_the_vpc_encrypted_with_the_lake_key(
    built: tuple[FlinkApplication, dict[str, dict[str, Any]]],
) -> None:
    _, template = built
    (application,) = [r for r in template.values() if r["Type"] == "AWS::KinesisAnalyticsV2::Application"]
    configuration = application["Properties"]["ApplicationConfiguration"]
    checkpoints = configuration["FlinkApplicationConfiguration"]["CheckpointConfiguration"]
    assert (checkpoints["CheckpointingEnabled"], checkpoints["CheckpointInterval"]) == (True, 30_000)
    assert configuration["ApplicationEncryptionConfiguration"]["KeyType"] == "CUSTOMER_MANAGED_KEY"
    assert len(configuration["VpcConfigurations"][0]["SubnetIds"]) == 2
    assert configuration["EnvironmentProperties"]["PropertyGroups"] == [
        {"PropertyGroupId": "g", "PropertyMap": {"k": "v"}}
    ]


def test_the_log_group_is_named_for_the_application_encrypted_and_kept_as_asked(
    built: tuple[FlinkApplication, dict[str, dict[str, Any]]],
) -> None:
    _, template = built
    (group,) = [r for r in template.values() if r["Type"] == "AWS::Logs::LogGroup"]
    assert group["Properties"]["LogGroupName"] == "/aws/kinesis-analytics/app"
    assert group["Properties"]["RetentionInDays"] == 14
    assert group["Properties"]["KmsKeyId"]["Fn::GetAtt"][0].startswith("JobLogKey")


def test_only_aws_imposed_statements_use_star_and_metrics_stay_in_the_flink_namespace(
    built: tuple[FlinkApplication, dict[str, dict[str, Any]]],
) -> None:
    _, template = built
    (policy,) = [r for r in template.values() if r["Type"] == "AWS::IAM::ManagedPolicy"]
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    star = {sid for sid, s in statements.items() if s["Resource"] == "*"}
    # logs:DescribeLogGroups has no resource type in the Service Authorization Reference: "*" only.
    assert star == {"PublishMetricsToTheFlinkNamespaceOnly", "DescribeVpcForEnis", "DescribeLogGroups"}
    assert statements["PublishMetricsToTheFlinkNamespaceOnly"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": flink_metrics.NAMESPACE}
    }
    assert "Condition" in statements["ManageEnisInThisVpcOnly"]


def test_the_policy_acknowledges_exactly_its_wildcards(
    built: tuple[FlinkApplication, dict[str, dict[str, Any]]],
) -> None:
    app, _ = built
    acknowledged = {
        rule
        for entry in app.policy.node.metadata
        if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for rule in entry.data
    }
    assert acknowledged == {
        "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
        "AwsSolutions::AwsSolutions-IAM5[Resource::arn:aws:logs:eu-west-1:111111111111:log-group:"
        "/aws/kinesis-analytics/app:log-stream:*]",
        "AwsSolutions::AwsSolutions-IAM5[Resource::arn:aws:ec2:eu-west-1:111111111111:network-interface/*]",
    }
