"""The network stack per environment: no route to the internet, the endpoint set, flow logs."""

from __future__ import annotations

import pytest

from tests.conftest import Synthesis

ENVIRONMENTS = ("dev", "staging", "prod")
CIDRS = {"dev": "10.10.0.0/16", "staging": "10.20.0.0/16", "prod": "10.30.0.0/16"}
REGIONS = {"dev": "eu-west-1", "staging": "eu-west-1", "prod": "us-east-1"}
MAX_AZS = {"dev": 2, "staging": 2, "prod": 3}
FLOW_LOG_RETENTION = {"dev": 14, "staging": 30, "prod": 365}
INTERFACE_SERVICES = ("glue", "kms", "logs", "monitoring", "sts")


def service_name(value: object, region: str) -> str:
    """An endpoint's ServiceName; CDK writes the S3 gateway's as Fn::Join with AWS::Region."""
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(region if part == {"Ref": "AWS::Region"} else str(part) for part in parts)
    return str(value)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_vpc_from_config_without_any_internet_route(synthesis: Synthesis, env: str) -> None:
    template = synthesis.template(env, "network")
    template.resource_count_is("AWS::EC2::VPC", 1)
    template.has_resource_properties(
        "AWS::EC2::VPC", {"CidrBlock": CIDRS[env], "EnableDnsHostnames": True, "EnableDnsSupport": True}
    )
    for absent in (
        "AWS::EC2::NatGateway",
        "AWS::EC2::InternetGateway",
        "AWS::EC2::VPCGatewayAttachment",
        "AWS::EC2::EgressOnlyInternetGateway",
        "AWS::EC2::EIP",
        "AWS::EC2::TransitGatewayAttachment",
    ):
        template.resource_count_is(absent, 0)
    routes = template.find_resources("AWS::EC2::Route")
    assert routes == {}, "isolated subnets have no routes besides the local one and the S3 endpoint's"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_only_isolated_subnets_one_per_availability_zone(synthesis: Synthesis, env: str) -> None:
    from aws_cdk.assertions import Match

    template = synthesis.template(env, "network")
    subnets = template.find_resources("AWS::EC2::Subnet")
    assert len(subnets) == MAX_AZS[env]
    template.all_resources_properties("AWS::EC2::Subnet", {"MapPublicIpOnLaunch": False})
    template.all_resources_properties(
        "AWS::EC2::Subnet",
        {"Tags": Match.array_with([{"Key": "aws-cdk:subnet-type", "Value": "Isolated"}])},
    )
    # zones are chosen by Fn::GetAZs at deploy time, never hard-coded names (cfn-lint W3010)
    zones = [subnet["Properties"]["AvailabilityZone"] for subnet in subnets.values()]
    assert zones == [{"Fn::Select": [index, {"Fn::GetAZs": ""}]} for index in range(MAX_AZS[env])]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_endpoint_set(synthesis: Synthesis, env: str) -> None:
    template = synthesis.template_json(env, "network")
    endpoints = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::EC2::VPCEndpoint"]
    region = REGIONS[env]
    by_service = {service_name(e["ServiceName"], region): e for e in endpoints}
    assert set(by_service) == {f"com.amazonaws.{region}.s3"} | {
        f"com.amazonaws.{region}.{service}" for service in INTERFACE_SERVICES
    }
    assert by_service[f"com.amazonaws.{region}.s3"]["VpcEndpointType"] == "Gateway"
    for service in INTERFACE_SERVICES:
        endpoint = by_service[f"com.amazonaws.{region}.{service}"]
        assert endpoint["VpcEndpointType"] == "Interface"
        assert endpoint["PrivateDnsEnabled"] is True
        assert len(endpoint["SubnetIds"]) == MAX_AZS[env]
        assert len(endpoint["SecurityGroupIds"]) == 1


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_one_endpoint_security_group_https_from_the_literal_vpc_cidr(synthesis: Synthesis, env: str) -> None:
    template = synthesis.template_json(env, "network")
    groups = {k: r for k, r in template["Resources"].items() if r["Type"] == "AWS::EC2::SecurityGroup"}
    assert len(groups) == 1
    (logical_id, group) = next(iter(groups.items()))
    assert group["Properties"]["SecurityGroupIngress"] == [
        {
            "CidrIp": CIDRS[env],  # a literal, not {"Fn::GetAtt": [VPC, CidrBlock]}: cdk-nag EC23 reads it
            "Description": "HTTPS from inside the VPC",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]
    # no egress: CDK's "disallow all" placeholder rule
    assert group["Properties"]["SecurityGroupEgress"] == [
        {
            "CidrIp": "255.255.255.255/32",
            "Description": "Disallow all traffic",
            "FromPort": 252,
            "IpProtocol": "icmp",
            "ToPort": 86,
        }
    ]
    assert not [r for r in template["Resources"].values() if r["Type"] == "AWS::EC2::SecurityGroupIngress"]
    interface = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::EC2::VPCEndpoint" and r["Properties"]["VpcEndpointType"] == "Interface"
    ]
    assert all(e["SecurityGroupIds"] == [{"Fn::GetAtt": [logical_id, "GroupId"]}] for e in interface)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_flow_logs_of_all_traffic_to_an_encrypted_log_group(synthesis: Synthesis, env: str) -> None:
    from aws_cdk.assertions import Match

    template = synthesis.template(env, "network")
    template.has_resource_properties(
        "AWS::EC2::FlowLog",
        {"ResourceType": "VPC", "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"},
    )
    template.has_resource_properties(
        "AWS::Logs::LogGroup",
        {
            "LogGroupName": f"/unilake/{env}/vpc-flow-logs",
            "RetentionInDays": FLOW_LOG_RETENTION[env],
            "KmsKeyId": {"Fn::GetAtt": [Match.string_like_regexp("FlowLogKey"), "Arn"]},
        },
    )
    policy = "Delete" if env == "dev" else "RetainExceptOnCreate"  # a failed first create leaves no fixed name
    log_groups = template.find_resources("AWS::Logs::LogGroup")
    assert {group["DeletionPolicy"] for group in log_groups.values()} == {policy}
    template.resource_count_is("AWS::IAM::Policy", 0)  # the flow log role has a managed policy only


def test_the_network_stack_does_not_depend_on_the_lake(synthesis: Synthesis) -> None:
    stage = synthesis.stages["prod"]
    assert stage.lake not in stage.network.dependencies
    assert stage.network.termination_protection is True
