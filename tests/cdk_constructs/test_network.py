"""The Network construct's secure defaults: endpoint policies that keep traffic to this account's
resources, a flow-log key usable by CloudWatch Logs for that one log group, and the public
attributes the Flink stack builds on."""

from __future__ import annotations

from typing import Any

import pytest

from cdk_constructs.log_group_key import LOGS_STATEMENT_SID
from cdk_constructs.network import INTERFACE_ENDPOINTS, cdk_asset_bucket_name
from tests.conftest import Synthesis

ACCOUNT, REGION = "111111111111", "eu-west-1"


def service_name(value: object, region: str) -> str:
    """An endpoint's ServiceName; CDK writes the S3 gateway's as Fn::Join with AWS::Region."""
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(region if part == {"Ref": "AWS::Region"} else str(part) for part in parts)
    return str(value)


def endpoint_policy(synthesis: Synthesis, service: str) -> list[dict[str, Any]]:
    template = synthesis.template_json("dev", "network")
    (endpoint,) = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::EC2::VPCEndpoint"
        and service_name(r["Properties"]["ServiceName"], REGION) == f"com.amazonaws.{REGION}.{service}"
    ]
    statements: list[dict[str, Any]] = endpoint["PolicyDocument"]["Statement"]
    return statements


def test_s3_endpoint_admits_only_the_lake_and_the_cdk_asset_bucket(synthesis: Synthesis) -> None:
    statements = endpoint_policy(synthesis, "s3")
    lake = f"arn:aws:s3:::unilake-dev-lake-{ACCOUNT}-{REGION}"
    assets = f"arn:aws:s3:::cdk-hnb659fds-assets-{ACCOUNT}-{REGION}"
    resources = sorted(str(resource) for s in statements for resource in s["Resource"])
    assert resources == sorted([lake, f"{lake}/*", assets, f"{assets}/*"])
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert statement["Condition"] == {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}
        assert "*" not in statement["Action"]
        assert "s3:*" not in statement["Action"]
    actions = {a for s in statements for a in s["Action"]}
    assert {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"} <= actions
    assert cdk_asset_bucket_name(ACCOUNT, REGION) == f"cdk-hnb659fds-assets-{ACCOUNT}-{REGION}"


@pytest.mark.parametrize(
    ("service", "resource"),
    [
        ("glue", f"arn:aws:glue:{REGION}:{ACCOUNT}:*"),
        ("kms", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/*"),
        ("logs", f"arn:aws:logs:{REGION}:{ACCOUNT}:*"),
    ],
)
def test_interface_endpoints_admit_this_accounts_resources_only(
    synthesis: Synthesis, service: str, resource: str
) -> None:
    (statement,) = endpoint_policy(synthesis, service)
    assert statement["Resource"] == resource
    assert statement["Action"] == f"{service}:*"
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}


def test_resourceless_actions_are_the_only_star_resources(synthesis: Synthesis) -> None:
    """CloudWatch PutMetricData and sts:GetCallerIdentity take no resource ARN; nothing else gets "*"."""
    (metrics,) = endpoint_policy(synthesis, "monitoring")
    assert (metrics["Action"], metrics["Resource"]) == ("cloudwatch:PutMetricData", "*")
    sts = {s["Sid"]: s for s in endpoint_policy(synthesis, "sts")}
    assert sts["ThisAccountsRoles"]["Resource"] == f"arn:aws:iam::{ACCOUNT}:role/*"
    assert (sts["GetCallerIdentityTakesNoResource"]["Action"], sts["GetCallerIdentityTakesNoResource"]["Resource"]) == (
        "sts:GetCallerIdentity",
        "*",
    )
    for service in ("glue", "kms", "logs", "monitoring", "sts", "s3"):
        for statement in endpoint_policy(synthesis, service):
            assert statement["Condition"] == {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}


def test_flow_log_key_serves_cloudwatch_logs_for_the_flow_log_group_only(synthesis: Synthesis) -> None:
    template = synthesis.template_json("dev", "network")
    (key,) = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::KMS::Key"]
    assert key["EnableKeyRotation"] is True
    (logs,) = [s for s in key["KeyPolicy"]["Statement"] if s.get("Sid") == LOGS_STATEMENT_SID]
    assert logs["Principal"] == {"Service": f"logs.{REGION}.amazonaws.com"}
    assert logs["Condition"] == {
        "ArnEquals": {
            "kms:EncryptionContext:aws:logs:arn": (
                f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/unilake/dev/vpc-flow-logs"
            )
        }
    }
    assert not [a for a in logs["Action"] if "*" in a]


def test_flow_log_role_is_trusted_for_this_accounts_flow_logs_only(synthesis: Synthesis) -> None:
    from aws_cdk.assertions import Match

    synthesis.template("dev", "network").has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": Match.object_like(
                {
                    "Statement": [
                        {
                            "Action": "sts:AssumeRole",
                            "Effect": "Allow",
                            "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                            "Condition": {
                                "StringEquals": {"aws:SourceAccount": ACCOUNT},
                                "ArnLike": {"aws:SourceArn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc-flow-log/*"},
                            },
                        }
                    ]
                }
            )
        },
    )


def test_public_attributes_for_the_flink_stack(synthesis: Synthesis) -> None:
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_logs as logs

    network = synthesis.stages["dev"].network.network
    assert isinstance(network.vpc, ec2.Vpc)
    assert len(network.vpc.isolated_subnets) == 2
    assert network.vpc.public_subnets == []
    assert network.vpc.private_subnets == []
    assert len(network.vpc.select_subnets(subnet_type=network.isolated_subnets.subnet_type).subnet_ids) == 2
    assert isinstance(network.endpoint_security_group, ec2.SecurityGroup)
    assert set(network.interface_endpoints) == set(INTERFACE_ENDPOINTS)
    assert isinstance(network.s3_endpoint, ec2.GatewayVpcEndpoint)
    assert isinstance(network.flow_log_group, logs.LogGroup)
    assert isinstance(network.flow_log, ec2.FlowLog)
